-- "other" functions: sign, roots/logs/powers, intDivOrZero, bit operations, predicates, transform, toFixedString, misc
SELECT sign(-5), sign(0), sign(2.5), sign(toUInt8(3)), toTypeName(sign(toUInt8(3))), sign(nan), sign(-0.);
SELECT sqrt(4), sqrt(-1), toTypeName(sqrt(toFloat32(4))), pow(2, 10), toTypeName(pow(2, 10)), power(2, 0.5), exp(1), log(exp(2)), ln(1), log2(8), log10(1000), log(0), log(-1), exp2(3), exp10(2);
SELECT intDivOrZero(7, 2), intDivOrZero(7, 0), intDivOrZero(-7, 2), toTypeName(intDivOrZero(toInt8(7), 2)), intDivOrZero(toInt64(-9223372036854775808), -1), intDivOrZero(7.5, 2);
SELECT number, intDivOrZero(100, number), intDivOrZero(toInt32(number) - 3, 2), sqrt(number), log2(number), sign(toInt64(number) - 2) FROM numbers(5) ORDER BY number;
SELECT toTypeName(rand()), toTypeName(rand64()), toTypeName(rand32()), toTypeName(generateUUIDv4());
SELECT transform(2, [1, 2, 3], ['a', 'b', 'c'], 'z'), transform(5, [1, 2, 3], ['a', 'b', 'c'], 'z'), transform('b', ['a', 'b'], ['x', 'y']), transform(3, [1, 2], [10, 20]), toTypeName(transform(3, [1, 2], [10, 20])), toTypeName(transform(2, [1, 2, 3], ['a', 'b', 'c'], 'z'));
SELECT number, transform(number, [0, 2, 4], ['zero', 'two', 'four'], 'other'), transform(toString(number), ['1', '3'], ['one', 'three']) FROM numbers(6) ORDER BY number;
SELECT toFixedString('ab', 3), toTypeName(toFixedString('ab', 3)), hex(toFixedString('ab', 3)), length(toFixedString('ab', 3));
SELECT bitAnd(12, 10), bitOr(12, 10), bitXor(12, 10), bitShiftLeft(1, 3), bitShiftRight(16, 2), bitNot(toUInt8(1)), toTypeName(bitAnd(toUInt8(1), toInt16(3))), bitShiftLeft(toUInt8(255), 1), toTypeName(bitShiftLeft(toUInt8(255), 1)), bitShiftLeft(1, 64);
SELECT bitAnd(-1, 255), toTypeName(bitAnd(-1, 255)), toTypeName(bitNot(1)), bitNot(-1), toTypeName(bitOr(toUInt64(1), toInt64(1))), toTypeName(bitAnd(toUInt32(1), toInt8(1))), bitShiftRight(toInt8(-8), 1), bitShiftLeft(toUInt64(1), 63), bitShiftLeft(toUInt16(1), 20);
SELECT isFinite(1.0), isFinite(inf), isNaN(nan), isNaN(1), isInfinite(-inf), toTypeName(isNaN(1)), isFinite(1);
SELECT throwIf(0), throwIf(1 = 0, 'msg'), toTypeName(throwIf(0)), ignore(1, 'a'), toTypeName(ignore(1)), currentDatabase(), version();
SELECT number, materialize(7), ignore(number) FROM numbers(2) ORDER BY number;
SELECT roundBankers(2.5), roundBankers(3.5), roundBankers(-2.5), roundBankers(2.675, 2), trunc(-1.7), trunc(1.789, 2), roundBankers(15, -1), roundBankers(25, -1);
SELECT accurateCastOrNull(300, 'UInt8'), accurateCastOrNull(-1, 'UInt32'), accurateCastOrNull('12', 'Int32'), accurateCastOrNull('x', 'Int32'), accurateCastOrNull(1.5, 'Int32'), accurateCastOrNull(255, 'UInt8'), accurateCastOrNull(nan, 'Int32'), accurateCastOrNull(1e20, 'Int64'), accurateCastOrNull('2024-01-01', 'Date'), accurateCastOrNull(1e300, 'Float32');
SELECT accurateCastOrNull(2.0, 'UInt8'), accurateCastOrNull(-0.0, 'UInt8'), accurateCastOrNull(5, 'String'), accurateCastOrNull('x', 'Date'), accurateCastOrNull(NULL, 'Int8'), toTypeName(accurateCastOrNull(NULL, 'Int8')), accurateCastOrNull('300', 'UInt8'), accurateCastOrNull(toNullable(7), 'Int8'), accurateCastOrNull(1.5, 'Float32'), toTypeName(accurateCastOrNull(300, 'UInt8'));
SELECT number, accurateCastOrNull(toInt64(number) * 100 - 100, 'UInt8'), accurateCastOrNull(number / 2, 'Int16') FROM numbers(5) ORDER BY number;
SELECT throwIf(1, 'boom'); -- { serverError FUNCTION_THROW_IF_VALUE_IS_NON_ZERO }
SELECT toFixedString('abcd', 3); -- { serverError TOO_LARGE_STRING_SIZE }
SELECT bitShiftLeft(1, -1); -- { serverError ARGUMENT_OUT_OF_BOUND }
