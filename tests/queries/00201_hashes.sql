-- hash and id functions, bit-exact with ClickHouse: strings, integers of every width (the type matters), several arguments, NULLs
SELECT cityHash64('hello'), cityHash64(NULL), xxHash64(toNullable('a')), cityHash64(1.5), cityHash64(toFloat32(1.5)), xxHash64(1.5), farmFingerprint64(toInt8(-1)), farmFingerprint64(toUInt64(255));
SELECT intHash64(toInt8(-1)), intHash64(toUInt64(18446744073709551615)), intHash32(toInt8(-1)), intHash32(toUInt32(4294967295)), intHash32(toUInt64(4294967295));
SELECT murmurHash3_32('a','b'), murmurHash3_64(1, 'x'), xxh3('a', 'b'), xxHash64('a', 2), sipHash64('a','b'), cityHash64('a','b'), farmFingerprint64('a','b'), cityHash64(toDate('2024-01-01')), xxHash64(toDate('2024-01-01'));
SELECT toTypeName(MD5('a')), hex(MD5('')), hex(SHA256('abc')), toTypeName(SHA256('a')), hex(MD5(toFixedString('ab', 3)));
SELECT cityHash64(toDateTime('2024-01-01 00:00:00', 'UTC')), xxh3(toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0')), cityHash64(true), cityHash64(toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0'));
SELECT cityHash64(123, 'a', 4.5), murmurHash3_32(''), murmurHash3_32(toInt32(-5)), murmurHash3_64(toInt64(-5)), xxh3(toUInt16(7)), sipHash64(1, 2, 3), sipHash64(toInt8(-1));
SELECT toUUIDOrNull('xyz'), toUUIDOrZero('61f0c404-5cb3-11e7-907b-a6006ad3dba'), toUUID('61F0C4045CB311E7907BA6006AD3DBA0');
SELECT number, xxHash64(toString(number)), xxh3(number), murmurHash3_32(number, 'k'), farmFingerprint64(toString(number), number) FROM numbers(5) ORDER BY number;
CREATE TABLE hs (id UInt32, s String, i Int32, u UInt8, d Date, n Nullable(String)) ENGINE = MergeTree ORDER BY id;
INSERT INTO hs VALUES (1, '', -1, 255, '2024-01-01', NULL), (2, 'hello', 0, 0, '1970-01-01', 'x'), (3, 'The quick brown fox jumps over the lazy dog', 2147483647, 1, '2106-02-07', ''), (4, 'ääää', -2147483648, 128, '2000-02-29', 'ä');
SELECT id, cityHash64(s), sipHash64(s), xxHash64(s), xxh3(s), murmurHash3_32(s), murmurHash3_64(s), farmFingerprint64(s) FROM hs ORDER BY id;
SELECT id, cityHash64(i), sipHash64(i), xxHash64(i), xxh3(i), murmurHash3_32(i), murmurHash3_64(i), farmFingerprint64(i), intHash32(i), intHash64(i) FROM hs ORDER BY id;
SELECT id, cityHash64(u), xxHash64(u), murmurHash3_64(u), farmFingerprint64(u), intHash64(u), cityHash64(d), xxh3(d), intHash32(d) FROM hs ORDER BY id;
SELECT id, cityHash64(s, i, u), sipHash64(s, i), xxHash64(i, s), xxh3(s, d), murmurHash3_32(s, u), murmurHash3_64(u, s), farmFingerprint64(d, s) FROM hs ORDER BY id;
SELECT id, cityHash64(n), xxHash64(n), hex(MD5(s)), hex(SHA256(s)), hex(MD5(n)) FROM hs ORDER BY id;
SELECT length(toString(generateUUIDv4())), toString(toUUID('61F0C404-5CB3-11E7-907B-A6006AD3DBA0')), toUUIDOrZero('zz'), toUUIDOrNull('61f0c404-5cb3-11e7-907b-a6006ad3dbaX');
SELECT id, xxHash32(s), murmurHash2_32(s), murmurHash2_64(s), halfMD5(s), xxHash32(i), murmurHash2_64(u, s), halfMD5(s, i) FROM hs ORDER BY id;
SELECT toUUID('xyz'); -- { serverError CANNOT_PARSE_UUID }
SELECT MD5(1); -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
