-- result types of arithmetic and literals (toTypeName) and their values
SELECT toTypeName(1), toTypeName(256), toTypeName(65536), toTypeName(-1), toTypeName(1.5);
SELECT toTypeName(1 + 1), toTypeName(toUInt8(1) + toUInt8(1)), toTypeName(toUInt16(1) * toUInt8(2));
SELECT toTypeName(toInt8(1) - toUInt8(1)), toTypeName(toUInt32(1) + toInt32(1)), toTypeName(toUInt64(1) + toInt64(1));
SELECT toTypeName(1 / 2), 1 / 2, toTypeName(intDiv(7, 2)), intDiv(7, 2), intDiv(-7, 2);
SELECT 7 % 3, -7 % 3, 7 % -3, toTypeName(7 % 3);
SELECT toTypeName(toFloat32(1) + 1), toTypeName(toFloat32(1) + toFloat64(1)), toFloat32(1) / 3;
SELECT 255 + 1, toUInt8(255) + 1, toTypeName(toUInt8(255) + 1), toUInt8(255) + toUInt8(1);
SELECT toInt32(2147483647) + 1, toTypeName(toInt32(2147483647) + 1);
SELECT 1 - 2, toTypeName(1 - 2), toUInt8(1) - toUInt8(2), toTypeName(toUInt8(1) - toUInt8(2));
SELECT -toUInt8(5), toTypeName(-toUInt8(5)), abs(-5), toTypeName(abs(toInt8(-5)));
SELECT intDiv(1, 0); -- { serverError ILLEGAL_DIVISION }
SELECT 1 % 0; -- { serverError ILLEGAL_DIVISION }
SELECT round(2.5), round(3.5), round(-2.5), round(1.2345, 2), round(1234.5, -2);
SELECT floor(-1.5), ceil(-1.5), floor(1.5), ceil(1.5), trunc(-1.7);
SELECT toTypeName(NULL), toTypeName(toNullable(1) + 1), toNullable(1) + NULL;
SELECT toTypeName([1, 2]), toTypeName(['a']), toTypeName([1, NULL]), toTypeName((1, 'a'));
SELECT toTypeName(if(1, toUInt8(1), toInt8(-1))), if(0, toUInt8(1), toInt8(-1));
SELECT toTypeName(multiIf(1, 1, 2, 300, 70000)), multiIf(0, 1, 0, 300, 70000);
SELECT greatest(1, 2.5), least(toInt8(-1), toUInt8(1)), toTypeName(greatest(toUInt8(1), toUInt16(2)));
SELECT 0.1 + 0.2, 1e300 * 1e10, toFloat32(16777217), 9007199254740993;
SELECT toUInt64(18446744073709551615), toInt64(-9223372036854775808), toUInt64(18446744073709551615) + 1;
