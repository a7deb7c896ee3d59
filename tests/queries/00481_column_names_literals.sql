-- Column names of literals as ClickHouse spells them: Float64 in shortest form (whole numbers end
-- with '.', exponent outside 1e-7..1e21), an array literal with a float converts its whole numbers
-- to Float64 ([1.5, 2.]), tuples keep each element's type, integers wider than UInt64/Int64 are Float64.
SELECT 1., 1.5, 1e10, -0., 0., nan, inf, -inf, -1.5, 1.0, 1.5e3, -nan FORMAT TSVWithNames;
SELECT 1e-5, 1e-6, 1e-7, 0.1, 1e100, 1e16, 1e15, 1e20, 1e21, 1.5e21, 2.5e-10, 1e308, 1e-300, 5e-324 FORMAT TSVWithNames;
SELECT 123456789012345678., 0.30000000000000004, 12345.678, 3.14159265358979, 0.0000001234, 1.2345678901234567e-7, -1e16, -1e100 FORMAT TSVWithNames;
SELECT [1.5, 2], [1., 2.], (1.5, 2), [1.5, 2.0], [-1.5, -2], [nan, inf], (1., 'a'), [[1.5]], [2, -0.], (-0., 1) FORMAT TSVWithNames;
SELECT [1, 2.5, -3], [[1], [1.5]], [NULL, 1.5, 2], [1, -2], [toUInt8(1), 2.5], [1.5, NULL], [[1, 2], [3.5]], [1e100, 1] FORMAT TSVWithNames;
SELECT 100000000000000000000, 18446744073709551616, -9223372036854775809, 18446744073709551615, -9223372036854775808, [1, 100000000000000000000] FORMAT TSVWithNames;
SELECT 1e15 + 0, map(1, 2.5, 2, 3), 0x10, 1_000, -(1.5) FORMAT TSVWithNames;
