-- Decimal32/Decimal64: toDecimal32/64 (+OrNull/OrZero) conversions (truncating) and arithmetic result types, overflow and division by zero
SELECT toDecimal32(1.5, 2) + toDecimal32(2.25, 2), toDecimal64('3.14159', 4) * 2, toDecimal32(10, 2) / 3, toTypeName(toDecimal32(1, 2) * toDecimal32(1, 3)), toDecimal64(1, 2) - 5, toTypeName(toDecimal64(1, 2) + toDecimal32(1, 4));
SELECT toTypeName(toDecimal32(1,2)+1), toTypeName(toDecimal32(1,2)+toInt64(1)), toTypeName(toDecimal32(1,2)*2), toTypeName(toDecimal32(1,2)/2), toTypeName(2/toDecimal32(1,2)), toTypeName(toDecimal32(1,2)+1.5), toTypeName(toDecimal64(1,2)*toDecimal32(1,3)), toTypeName(toDecimal32(1,2) - toDecimal32(1,5)), toTypeName(toDecimal32(1,5) / toDecimal32(1,2));
SELECT toDecimal32(1.15, 2), toDecimal32(-1.15, 2), toDecimal32(0.29, 2), toDecimal64(1.005, 3), toDecimal32(2.675, 3), toDecimal32('0.1', 1) + toDecimal32('0.2', 1), toDecimal32(7, 2) / toDecimal32(3, 2), toDecimal32(-7, 2) / 3, toDecimal32(1, 5) / toDecimal32(3, 2), 2 / toDecimal32(3, 2), toDecimal32(1.5, 2) + 1.5, toDecimal32(5,2) * toDecimal32(-3, 1), toDecimal64(10, 4) / toDecimal32(4, 1);
SELECT toDecimal32(12.5, 1), toString(toDecimal32(12.5, 1)), toDecimal64(-0.5, 3), toDecimal32(100, 2), toDecimal32('1e2', 2), toDecimal32(toDecimal64(123.456, 3), 1), toDecimal64(toInt64(-9), 4), toDecimal32('-1.999', 2), toString(toDecimal64(-0.05, 3)), toString(toDecimal32(100, 2));
SELECT toDecimal32OrNull('x', 2), toDecimal64OrZero('1.5', 3), toDecimal32OrNull('99999999999', 2), toTypeName(toDecimal32OrNull('x', 2)), toDecimal32(21474836, 2), toDecimal32(1e9, 0), toDecimal32(9999999, 2) + toDecimal32(9999999, 2);
SELECT number, toDecimal64(number, 3) / 7, toDecimal32(number, 2) * toDecimal32(1.5, 1), toDecimal64(number * 1.1, 2) - toDecimal32(0.05, 2), toDecimal32(number, 1) > 2 FROM numbers(5) ORDER BY number;
SELECT toDecimal32(99999.99, 2) * toDecimal32(99999.99, 2); -- { serverError DECIMAL_OVERFLOW }
SELECT toDecimal32(1, 2) / 0; -- { serverError ILLEGAL_DIVISION }
SELECT toDecimal32(21474836.47, 2); -- { serverError DECIMAL_OVERFLOW }
SELECT toDecimal32('abc', 2); -- { serverError CANNOT_PARSE_TEXT }
SELECT toDecimal32(1, 2) / toDecimal32(1, 5); -- { serverError ARGUMENT_OUT_OF_BOUND }
