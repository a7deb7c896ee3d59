-- Column names of tuple element access: t.b and tbl.t.b are named `t.b` (a table qualifier is dropped,
-- as for tbl.col -> col), t.b.c `t.b.c`, t.1 and (expr).b tupleElement(...); t.b.c resolves as nested access.
SELECT CAST((1,2),'Tuple(a Int8, b Int8)') AS t, t.b, t.1, tupleElement(t, 'b'), t.b + 1 FORMAT TSVWithNames;
SELECT t.number, number FROM numbers(1) AS t FORMAT TSVWithNames;
SELECT x.t.b, x.t.a FROM (SELECT CAST((1,2),'Tuple(a Int8, b Int8)') AS t) AS x FORMAT TSVWithNames;
SELECT t.b, t.b.c, t.b.1 FROM (SELECT CAST((1,(2,3)),'Tuple(a Int8, b Tuple(c Int8, d Int8))') AS t) FORMAT TSVWithNames;
SELECT x.t.b.c FROM (SELECT CAST((1,(2,3)),'Tuple(a Int8, b Tuple(c Int8, d Int8))') AS t) AS x FORMAT TSVWithNames;
SELECT t.a, sum(t.b) FROM (SELECT CAST((number % 2, number),'Tuple(a UInt64, b UInt64)') AS t FROM numbers(4)) GROUP BY t.a ORDER BY t.a FORMAT TSVWithNames;
SELECT (CAST((1,2),'Tuple(a Int8, b Int8)') AS z).a FORMAT TSVWithNames;
SELECT s.number + 1 FROM numbers(2) AS s WHERE s.number > 0 FORMAT TSVWithNames;
