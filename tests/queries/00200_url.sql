-- URL functions (byte scanners as in ClickHouse): valid, partial and invalid URLs, empty strings, NULLs
CREATE TABLE urls (id UInt32, x String) ENGINE = MergeTree ORDER BY id;
INSERT INTO urls VALUES (1, 'http://www.a.com/p/q?a=1&b=2#f=3&a=5'), (2, 'www.a.com/x'), (3, 'a#b?c=1'), (4, 'http://www.'), (5, 'ftp://www.x.y'), (6, '//www.a.b/c'), (7, 'http://a.com?x'), (8, 'http://a.com/?&a&=b&a=c#'), (9, '?a=1'), (10, ''), (11, 'https://u:p@www.x.com:80/a//b?c'), (12, 'http://a.com#?a=1'), (13, 'http://user@a.b.com/'), (14, '%41%2'), (15, '%zz%4a+b'), (16, 'http://1.2.3.4/'), (17, 'http://a.b.c.example.com.'), (18, 'http://www.com'), (19, 'ab.cd'), (20, 'http://a.b.c.d.e.f'), (21, 'x:y//a.b'), (22, 'https://a.b.c/'), (23, 'a.b'), (24, 'http'), (25, 'h://a'), (26, 'http://a_b.c/'), (27, 'https://news.example.co.uk/a?utm_source=x&q=%D1%82%D0%B5%D1%81%D1%82+1'), (28, 'svn+ssh://www.some.svn-hosting.com:80/repo/trunk'), (29, 'http://a b.com/'), (30, 'mailto:joe@x.org');
SELECT id, protocol(x), domain(x), domainWithoutWWW(x), topLevelDomain(x) FROM urls ORDER BY id;
SELECT id, path(x), pathFull(x), queryString(x), fragment(x), queryStringAndFragment(x) FROM urls ORDER BY id;
SELECT id, cutQueryString(x), cutQueryStringAndFragment(x), cutFragment(x), cutWWW(x) FROM urls ORDER BY id;
SELECT id, extractURLParameters(x), extractURLParameterNames(x), extractURLParameter(x, 'a'), extractURLParameter(x, 'q') FROM urls ORDER BY id;
SELECT id, URLHierarchy(x), URLPathHierarchy(x) FROM urls ORDER BY id;
SELECT id, decodeURLComponent(x), encodeURLComponent(x), decodeURLFormComponent(x), encodeURLFormComponent(x) FROM urls ORDER BY id;
SELECT id, firstSignificantSubdomain(x), cutToFirstSignificantSubdomain(x) FROM urls ORDER BY id;
SELECT domain(toNullable('http://a.com/')), path(NULL), domain(materialize('https://clickhouse.com/docs')), protocol('https://clickhouse.com/');
SELECT decodeURLComponent('%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82'), encodeURLComponent('привет мир/?'), decodeURLComponent('%'), decodeURLComponent('%4'), decodeURLComponent('%00a');
SELECT domain(1); -- { serverError ILLEGAL_TYPE_OF_ARGUMENT }
