-- Pretty formats show a named tuple as multi-line JSON (ClickHouse 26.x): one line per element,
-- nested tuples/maps/arrays of them expanded, arrays of plain values kept on one line; unnamed tuples stay (1,'a').
SELECT CAST((1,(2,(3,'x'),[4,5]), [(6,'y')], [[1]], toUInt64(7), 1e20, 'a\tb'), 'Tuple(a Int8, b Tuple(c Int8, d Tuple(e Int8, f String), g Array(Int8)), h Array(Tuple(i Int8, j String)), k Array(Array(Int8)), u UInt64, fl Float64, s String)') AS n FORMAT PrettyCompact;
SELECT CAST((1,(2,(3,'x'),[4,5]), [(6,'y')], [[1]], toUInt64(7), 1e20, 'a\tb'), 'Tuple(a Int8, b Tuple(c Int8, d Tuple(e Int8, f String), g Array(Int8)), h Array(Tuple(i Int8, j String)), k Array(Array(Int8)), u UInt64, fl Float64, s String)') AS n FORMAT Pretty;
SELECT CAST((1,(2,(3,'x'),[4,5]), [(6,'y')], [[1]], toUInt64(7), 1e20, 'a\tb'), 'Tuple(a Int8, b Tuple(c Int8, d Tuple(e Int8, f String), g Array(Int8)), h Array(Tuple(i Int8, j String)), k Array(Array(Int8)), u UInt64, fl Float64, s String)') AS n FORMAT PrettySpace;
SELECT CAST((toInt64(5), [1,2], 'q"x', (1,'u'), map('k',1), toDate('2024-01-01'), NULL, 1.5, []), 'Tuple(a Int64, b Array(UInt8), c String, d Tuple(Int8, String), e Map(String, UInt8), f Date, g Nullable(Int8), h Float64, i Array(Int8))') AS n, 'a\nb' s FORMAT PrettyCompact;
SELECT CAST((toInt64(5), [1,2], 'q"x', (1,'u'), map('k',1), toDate('2024-01-01'), NULL, 1.5, []), 'Tuple(a Int64, b Array(UInt8), c String, d Tuple(Int8, String), e Map(String, UInt8), f Date, g Nullable(Int8), h Float64, i Array(Int8))') AS n, 'a\nb' s FORMAT Pretty;
SELECT CAST((toInt64(5), [1,2], 'q"x', (1,'u'), map('k',1), toDate('2024-01-01'), NULL, 1.5, []), 'Tuple(a Int64, b Array(UInt8), c String, d Tuple(Int8, String), e Map(String, UInt8), f Date, g Nullable(Int8), h Float64, i Array(Int8))') AS n, 'a\nb' s FORMAT PrettySpace;
SELECT number, CAST((number, toString(number), map()), 'Tuple(a UInt64, b String, m Map(String, UInt8))') AS n FROM numbers(2) FORMAT PrettyCompact;
SELECT number, CAST((number, toString(number), map()), 'Tuple(a UInt64, b String, m Map(String, UInt8))') AS n FROM numbers(2) FORMAT Pretty;
SELECT number, CAST((number, toString(number), map()), 'Tuple(a UInt64, b String, m Map(String, UInt8))') AS n FROM numbers(2) FORMAT PrettySpace;
SELECT CAST((1,'a'),'Tuple(x Int32, y String)') AS n, (1,'a') AS t, map('k',1) AS m, CAST((1,(2,'z')),'Tuple(a Int8, b Tuple(c Int8, d String))') AS nn FORMAT PrettyCompact;
SELECT CAST((1,'a'),'Tuple(x Int32, y String)') AS n, (1,'a') AS t, map('k',1) AS m, CAST((1,(2,'z')),'Tuple(a Int8, b Tuple(c Int8, d String))') AS nn FORMAT Pretty;
SELECT CAST((1,'a'),'Tuple(x Int32, y String)') AS n, (1,'a') AS t, map('k',1) AS m, CAST((1,(2,'z')),'Tuple(a Int8, b Tuple(c Int8, d String))') AS nn FORMAT PrettySpace;
