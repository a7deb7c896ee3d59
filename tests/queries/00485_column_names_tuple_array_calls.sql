-- tuple(...) and array(...) calls are named (..) and [..] with their arguments as written (no Float64
-- conversion, unlike an array literal: array(1, 2.5) -> [1, 2.5] but [1, 2.5] -> [1., 2.5]).
SELECT tuple(1.5), tuple(1.), tuple(1), array(1), array(1, 2.5), array(1.5, 2), [1, 2.5] FORMAT TSVWithNames;
SELECT tuple(number), array(number, 1.5), [number, 1.5], tuple(number, 1) FROM numbers(2) FORMAT TSVWithNames;
SELECT 1.50, - 1, -(1), - 1.5, 1.5::Float32, [1, NULL], (1, 2.), 1 IN (1.5, 2), 0.5 + 1, 1e0, 1E3, 5., 0.1 + 0.2 FORMAT TSVWithNames;
SELECT [[1.5], []], [1.5, -0], [-0, 1.5], 1 BETWEEN 0.5 AND 2, if(1, 1.5, 2), greatest(1, 2.5), [inf, 1], [0.1, 1], [2.0, 3.0] FORMAT TSVWithNames;
SELECT CAST([1, 2.5], 'Array(Float32)'), [1.5, 2][1], (1.5, 2).1, 0xFF, 1e-7 + 0, 1.7976931348623157e308 FORMAT TSVWithNames;
