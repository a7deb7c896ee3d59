"""Error classes shared by all of mergetree.

Every error carries a ``code`` named like ClickHouse's error codes (``TYPE_MISMATCH``,
``CANNOT_PARSE_DATETIME``...), so that the HTTP API and the CLI can report them the way
ClickHouse does, and a message that names what was wrong and where (column, row, value;
part and file).

Ownership: the column-model helper owns this file; other modules may *append* classes at
the end (append-only, never rename or remove).
"""

from __future__ import annotations


class MergeTreeError(Exception):
    """Base class of every error raised on purpose by mergetree."""

    code = "UNKNOWN_EXCEPTION"


class UnknownTypeError(MergeTreeError):
    """A type name that is not a known data type family (``Strng``)."""

    code = "UNKNOWN_TYPE"


class TypeDefinitionError(MergeTreeError):
    """A known type family with wrong arguments (``FixedString(0)``, ``Nullable(Array(...))``)."""

    code = "ILLEGAL_TYPE_OF_ARGUMENT"


class TypeMismatchError(MergeTreeError):
    """Columns of different types combined where one type is required."""

    code = "TYPE_MISMATCH"


class SizesMismatchError(MergeTreeError):
    """Columns of one block with different lengths, or arguments of different sizes."""

    code = "SIZES_OF_COLUMNS_DOESNT_MATCH"


class ConversionError(MergeTreeError):
    """A value that cannot be converted to its column type.

    ``column`` is the column name (or None when converting a bare value), ``row`` the
    0-based row number in the input (or None), ``value`` the offending input value and
    ``reason`` what was wrong with it. The message reads like
    ``Cannot parse 'abc' as DateTime for column 'timestamp' at row 3``.
    """

    code = "CANNOT_PARSE_INPUT"

    def __init__(self, column: str | None, row: int | None, value: object, reason: str,
                 code: str | None = None):
        self.column = column
        self.row = row
        self.value = value
        self.reason = reason
        if code is not None:
            self.code = code
        where = ""
        if column is not None:
            where += f" for column '{column}'"
        if row is not None:
            where += f" at row {row}"
        super().__init__(f"{reason}{where}")

    def __reduce__(self):  # picklable across processes despite the custom __init__
        return (type(self), (self.column, self.row, self.value, self.reason, self.code))

    def at(self, column: str | None = None, row: int | None = None) -> "ConversionError":
        """The same error with the column and/or row filled in (used when re-raising)."""
        return ConversionError(self.column if column is None else column,
                               self.row if row is None else row,
                               self.value, self.reason, self.code)


class CorruptedPartError(MergeTreeError):
    """A data part whose files are missing, truncated or fail their checksums."""

    code = "CORRUPTED_DATA"

    def __init__(self, part: str, file: str | None, reason: str):
        self.part = part
        self.file = file
        self.reason = reason
        where = f"part {part}" + (f", file {file}" if file else "")
        super().__init__(f"Corrupted data in {where}: {reason}")

    def __reduce__(self):
        return (type(self), (self.part, self.file, self.reason))


class TooManyPartsError(MergeTreeError):
    """Insert refused because a partition has more active parts than parts_to_throw_insert."""

    code = "TOO_MANY_PARTS"


class UnknownTableError(MergeTreeError):
    code = "UNKNOWN_TABLE"


class TableAlreadyExistsError(MergeTreeError):
    code = "TABLE_ALREADY_EXISTS"


class UnknownColumnError(MergeTreeError):
    code = "NO_SUCH_COLUMN_IN_TABLE"


class BadArgumentsError(MergeTreeError):
    """Wrong arguments to an API call or a function."""

    code = "BAD_ARGUMENTS"


# --- classes appended by other modules go below this line (append-only) ---


class IncorrectDataError(MergeTreeError):
    """Stored data violates an engine's contract (CollapsingMergeTree sign not +-1,
    ReplacingMergeTree is_deleted not 0/1). Appended by the merge helper."""

    code = "INCORRECT_DATA"


class InvalidPartNameError(MergeTreeError, ValueError):
    """A directory name that is not a valid active-part name (tmp_*, detached, garbage)."""

    code = "BAD_DATA_PART_NAME"


# appended by the expression helper (functions / exec.expression / key_condition)


class UnknownFunctionError(MergeTreeError):
    """``Unknown function toDat (did you mean toDate?)``."""

    code = "UNKNOWN_FUNCTION"

    def __init__(self, name: str, suggestion: str | None = None):
        self.name = name
        self.suggestion = suggestion
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        super().__init__(f"Unknown function {name}{hint}")


class UnknownIdentifierError(MergeTreeError):
    """``Unknown identifier 'usr_id' (did you mean 'user_id'?)``."""

    code = "UNKNOWN_IDENTIFIER"

    def __init__(self, name: str, suggestion: str | None = None):
        self.name = name
        self.suggestion = suggestion
        hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
        super().__init__(f"Unknown identifier '{name}'{hint}")


class IllegalTypeOfArgumentError(MergeTreeError):
    """A function called with argument types it does not accept."""

    code = "ILLEGAL_TYPE_OF_ARGUMENT"


class NumberOfArgumentsError(MergeTreeError):
    code = "NUMBER_OF_ARGUMENTS_DOESNT_MATCH"


class IllegalDivisionError(MergeTreeError):
    """Integer division by zero (``intDiv(1, 0)``, ``1 % 0``)."""

    code = "ILLEGAL_DIVISION"


class CannotParseTextError(MergeTreeError):
    """A String argument that cannot be converted (``toDate('abc')``, ``x = 'abc'`` on a number)."""

    code = "CANNOT_PARSE_TEXT"


class CannotParseDateError(CannotParseTextError):
    """Text that does not start with a date (``toDate('abc')``, ``CAST('' AS Date)``)."""

    code = "CANNOT_PARSE_DATE"


class CannotParseDateTimeError(CannotParseTextError):
    """Text that is not a date-time (``toDateTime('abc')``, ``parseDateTimeBestEffort('x')``)."""

    code = "CANNOT_PARSE_DATETIME"


class IllegalFinalError(MergeTreeError):
    """``SELECT ... FROM t FINAL`` on a storage without a merging rule (plain MergeTree, numbers())."""

    code = "ILLEGAL_FINAL"


class UnsupportedMethodError(MergeTreeError):
    """A table modifier the source cannot take (``FROM (SELECT ...) FINAL``)."""

    code = "UNSUPPORTED_METHOD"


class NoCommonTypeError(MergeTreeError):
    """``if``/``multiIf``/``coalesce`` branches without a common supertype (UInt64 and Int8)."""

    code = "NO_COMMON_TYPE"


# appended by the query-engine helper (planner / exec / sql)


class NotAnAggregateError(MergeTreeError):
    """``Column 'x' is not under aggregate function and not in GROUP BY keys``."""

    code = "NOT_AN_AGGREGATE"


class IllegalAggregationError(MergeTreeError):
    """An aggregate function where it cannot be (WHERE, GROUP BY, inside another aggregate)."""

    code = "ILLEGAL_AGGREGATION"


class UnknownFormatError(MergeTreeError):
    code = "UNKNOWN_FORMAT"


class NotImplementedSQLError(MergeTreeError):
    """A statement or clause this version of mergetree does not execute yet."""

    code = "NOT_IMPLEMENTED"


class UnknownQueryParameterError(MergeTreeError):
    code = "UNKNOWN_QUERY_PARAMETER"


class IllegalTypeOfColumnForFilterError(MergeTreeError):
    """``WHERE user_id`` on a String column: a filter must be a number (or Nullable number)."""

    code = "ILLEGAL_TYPE_OF_COLUMN_FOR_FILTER"


class IncorrectResultOfScalarSubqueryError(MergeTreeError):
    code = "INCORRECT_RESULT_OF_SCALAR_SUBQUERY"


class UnionStructuresMismatchError(MergeTreeError):
    """UNION elements with different numbers of columns."""

    code = "UNION_ALL_RESULT_STRUCTURES_MISMATCH"


# appended by the arrays/JSON/aggregates helper (functions/arrays.py, lambdas.py, json.py)


class SizesOfArraysDontMatchError(MergeTreeError):
    """``arrayMap((x, y) -> x + y, [1, 2], [3])``: arrays of one call must have equal sizes."""

    code = "SIZES_OF_ARRAYS_DONT_MATCH"


class ArgumentOutOfBoundError(MergeTreeError):
    code = "ARGUMENT_OUT_OF_BOUND"


# appended by the joins helper (planner/joins.py, exec/join.py, exec/array_join.py)


class AliasRequiredError(MergeTreeError):
    """A subquery or table function joined without an alias."""

    code = "ALIAS_REQUIRED"


class SetSizeLimitExceededError(MergeTreeError):
    """The right side of a JOIN exceeds max_bytes_in_join / max_rows_in_join."""

    code = "SET_SIZE_LIMIT_EXCEEDED"


class InvalidJoinOnExpressionError(MergeTreeError):
    code = "INVALID_JOIN_ON_EXPRESSION"


class MultipleExpressionsForAliasError(MergeTreeError):
    """Two joined tables with the same alias (``FROM a AS t JOIN b AS t``)."""

    code = "MULTIPLE_EXPRESSIONS_FOR_ALIAS"


class NumberOfColumnsDoesntMatchError(MergeTreeError):
    """``x IN (SELECT a, b ..)``: the IN section has a different number of columns on each side."""

    code = "NUMBER_OF_COLUMNS_DOESNT_MATCH"


class AmbiguousIdentifierError(MergeTreeError):
    """A column name found on both sides of a join in a query with several joins."""

    code = "AMBIGUOUS_IDENTIFIER"


class DuplicateColumnError(MergeTreeError):
    """ALTER TABLE ADD / RENAME COLUMN to a name the table already has."""

    code = "DUPLICATE_COLUMN"


class IllegalColumnError(MergeTreeError):
    """ALTER TABLE DROP COLUMN of a column another column's DEFAULT reads."""

    code = "ILLEGAL_COLUMN"


class NotFoundColumnInBlockError(MergeTreeError):
    """ALTER TABLE DROP / RENAME / MODIFY COLUMN of a column the table does not have."""

    code = "NOT_FOUND_COLUMN_IN_BLOCK"


class AlterOfColumnIsForbiddenError(MergeTreeError):
    """ALTER TABLE of a key column (drop, rename, type change)."""

    code = "ALTER_OF_COLUMN_IS_FORBIDDEN"


class CannotUpdateColumnError(MergeTreeError):
    """ALTER TABLE MATERIALIZE COLUMN of a sorting-key column."""

    code = "CANNOT_UPDATE_COLUMN"


class ThereIsNoColumnError(MergeTreeError):
    """CREATE MATERIALIZED VIEW whose SELECT outputs a column the target table does not have."""

    code = "THERE_IS_NO_COLUMN"
