-- string long tail: UTF-8 case/length/substring, padding, hex/base64, search, format, regexps; checked against chDB
CREATE TABLE s (id UInt32, x String) ENGINE = MergeTree ORDER BY id;
INSERT INTO s VALUES (1, 'héllo wörld'), (2, ''), (3, 'ΟΔΟΣ straße İ'), (4, 'abc'), (5, 'Ǆ ǅ ǆ ﬁ'), (6, 'a1b22c333'), (7, 'ABCabcABC'), (8, '日本語テキスト');
CREATE TABLE b (id UInt32, x String) ENGINE = MergeTree ORDER BY id;
INSERT INTO b SELECT 1, unhex('61FF62C3A9C3');
INSERT INTO b SELECT 2, unhex('E282ACC3');
INSERT INTO b SELECT 3, unhex('FFFE41F09F9880');
SELECT id, lowerUTF8(x), upperUTF8(x), lengthUTF8(x), length(x), reverseUTF8(x), hex(reverse(x)) FROM s ORDER BY id;
SELECT id, substringUTF8(x, 2, 3), substringUTF8(x, -3), substringUTF8(x, 3, -2), substringUTF8(x, 20) FROM s ORDER BY id;
SELECT id, leftPad(x, 6), rightPad(x, 6, '*-'), leftPadUTF8(x, 8, 'é'), rightPadUTF8(x, 3), hex(leftPad(x, 2, '')) FROM s ORDER BY id;
SELECT id, hex(x), unhex(hex(x)) = x, base64Encode(x), base64Decode(base64Encode(x)) = x, base64URLEncode(x), toValidUTF8(x) FROM s ORDER BY id;
SELECT id, positionCaseInsensitive(x, 'ABC'), positionUTF8(x, 'l'), positionCaseInsensitiveUTF8(x, 'WÖR'), countSubstrings(x, 'abc'), countSubstringsCaseInsensitive(x, 'abc'), multiSearchAny(x, ['ö', '33']) FROM s ORDER BY id;
SELECT id, match(x, '\\d+'), extract(x, '\\d+'), extract(x, '([a-z])(\\d)'), extractAll(x, '[0-9]+'), replaceRegexpOne(x, '[aeiou]', '_'), replaceRegexpAll(x, '([a-c])', '<\\1>'), splitByRegexp('\\d+', x) FROM s ORDER BY id;
SELECT id, repeat(x, 2), format('[{}|{}]', x, id), format('{1}-{0}-{{}}', x, toString(id)), arrayStringConcat(splitByChar(' ', x), '+') FROM s ORDER BY id;
SELECT id, hex(lowerUTF8(x)), hex(upperUTF8(x)), lengthUTF8(x), hex(reverseUTF8(x)), hex(substringUTF8(x, 2, 2)), hex(leftPadUTF8(x, 6, 'é')), hex(toValidUTF8(x)), positionUTF8(x, 'A'), hex(base64Decode(base64Encode(x))) FROM b ORDER BY id;
SELECT hex(255), hex(256), hex(0), hex(toInt8(-1)), hex(toInt32(-2)), hex(1.0), hex(toFloat32(1.5)), hex(toDate('2024-01-01')), hex('abc'), hex(toFixedString('a', 2));
SELECT unhex('1'), hex(unhex('0a1')), hex(unhex('zz')), hex(unhex('4g')), unhex(''), hex(unhex('A1b2'));
SELECT base64Encode('abcd'), base64Decode('YWJjZA=='), tryBase64Decode('!!'), tryBase64Decode('YWJjZA='), base64Decode('YW Jj'), base64URLDecode('Pz8-'), tryBase64Decode('YWJjZA');
SELECT repeat('ab', 3), repeat('x', 0), repeat('x', -1), leftPad('abc', 6, 'xy'), rightPad('abc', 2), position('abc', ''), countSubstrings('aaaa', 'aa'), countSubstrings('abc', '');
SELECT toValidUTF8(unhex('61FF62C3A9C3')), hex(toValidUTF8(unhex('F0908080EDA080'))), hex(toValidUTF8(unhex('E2FF82'))), hex(toValidUTF8(unhex('8080C0AF')));
SELECT format('{} and {}', 'a', 'b'), format('x{}y', 1), arrayStringConcat(['a', 'b', 'c'], '-'), arrayStringConcat([1, 2, 3]), arrayStringConcat(['a', NULL, 'c'], ',');
SELECT ngrams('ClickHouse', 3), ngrams('ab', 3), ngrams('', 1), ngrams('héllo', 2), toTypeName(ngrams('a', 1)), tokens('a b,c  d-e'), tokens(''), tokens('  x  '), tokens('héllo wörld_1 a1'), tokens('abc', 'ngrams', 2);
SELECT id, ngrams(x, 2), tokens(x) FROM s ORDER BY id;
SELECT id, arrayMap(t -> hex(t), ngrams(x, 2)), arrayMap(t -> hex(t), tokens(x)) FROM b ORDER BY id;
SELECT upperUTF8(NULL), lowerUTF8(toNullable('ÀB')), hex(NULL), substringUTF8(toNullable('héllo'), 2);
SELECT base64Decode('!!'); -- { serverError INCORRECT_DATA }
SELECT format('{', 'a'); -- { serverError BAD_ARGUMENTS }
SELECT lowerUTF8(1); -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
SELECT ngrams('ab', 0); -- { serverError BAD_ARGUMENTS }
