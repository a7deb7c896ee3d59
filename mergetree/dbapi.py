"""PEP 249 (DB-API 2.0) interface, so that Python tools written against DB-API can use mergetree:

    import mergetree.dbapi as dbapi
    conn = dbapi.connect("path/to/data")          # no path: a temporary database
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id UInt32, name String) ENGINE = MergeTree ORDER BY id")
    cur.executemany("INSERT INTO t VALUES (%(id)s, %(name)s)", [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    cur.execute("SELECT id, name FROM t WHERE name = %(n)s", {"n": "a"})
    cur.description      # (('id', 'UInt32', None, None, None, None, False), ('name', 'String', ...))
    cur.fetchall()       # [(1, 'a')]
    cur.execute("SELECT count() FROM t WHERE id > {min:UInt32}", {"min": 0})   # ClickHouse query parameters
    conn.close()

Parameters (``paramstyle = "pyformat"``): ``%(name)s`` with a mapping or ``%s`` with a sequence are
replaced by SQL literals, quoted and escaped here (strings, numbers, None -> NULL, bool, date,
datetime, Decimal, UUID, bytes, and lists/tuples -> ``(a, b)`` for IN / arrays ``[..]`` for lists
inside lists); a query without ``%`` placeholders gets the mapping as ClickHouse ``{name:Type}``
parameters (`Database.sql(params=...)`), which are typed and never spliced into the text.
``%%`` is a literal ``%``.

Transactions: mergetree has none; ``commit()`` is a no-op (every statement is durable when it
returns) and ``rollback()`` raises NotSupportedError. ``threadsafety = 1``: threads may share the
module, each thread should use its own connection.

Errors: mergetree's errors are re-raised as the PEP 249 class that fits their ClickHouse code
(``ProgrammingError`` for syntax errors, unknown tables/columns/functions; ``DataError`` for
values that cannot be parsed or converted; ``OperationalError`` for limits, timeouts and
cancellation; ``NotSupportedError`` for statements not implemented), with ``.code`` (the error
name) and the original exception as ``__cause__``.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
import time
import uuid

apilevel = "2.0"
threadsafety = 1
paramstyle = "pyformat"


# --------------------------------------------------------------------------- exceptions


class Warning(Exception):  # noqa: A001 - the name PEP 249 requires
    pass


class Error(Exception):
    code = "UNKNOWN_EXCEPTION"


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


_PROGRAMMING = {"SYNTAX_ERROR", "UNKNOWN_TABLE", "UNKNOWN_IDENTIFIER", "UNKNOWN_FUNCTION", "NO_SUCH_COLUMN_IN_TABLE",
                "TABLE_ALREADY_EXISTS", "UNKNOWN_TYPE", "ILLEGAL_TYPE_OF_ARGUMENT", "NUMBER_OF_ARGUMENTS_DOESNT_MATCH",
                "NOT_AN_AGGREGATE", "ILLEGAL_AGGREGATION", "UNKNOWN_FORMAT", "UNKNOWN_QUERY_PARAMETER",
                "ILLEGAL_TYPE_OF_COLUMN_FOR_FILTER", "NO_COMMON_TYPE", "UNION_ALL_RESULT_STRUCTURES_MISMATCH",
                "BAD_ARGUMENTS", "UNKNOWN_SETTING", "AMBIGUOUS_IDENTIFIER", "UNKNOWN_AGGREGATE_FUNCTION"}
_DATA = {"CANNOT_PARSE_INPUT", "CANNOT_PARSE_TEXT", "CANNOT_PARSE_DATETIME", "CANNOT_PARSE_DATE", "TYPE_MISMATCH",
         "ILLEGAL_DIVISION", "INCORRECT_DATA", "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE", "CANNOT_CONVERT_TYPE",
         "ARGUMENT_OUT_OF_BOUND", "SIZES_OF_COLUMNS_DOESNT_MATCH", "INCORRECT_RESULT_OF_SCALAR_SUBQUERY"}
_OPERATIONAL = {"MEMORY_LIMIT_EXCEEDED", "TIMEOUT_EXCEEDED", "QUERY_WAS_CANCELLED", "TOO_MANY_PARTS",
                "TOO_MANY_ROWS", "TOO_MANY_BYTES"}
_INTERNAL = {"CORRUPTED_DATA", "LOGICAL_ERROR"}


def _wrap(exc: BaseException) -> Error:
    """The PEP 249 exception for one of mergetree's (or the parser's) exceptions."""
    from sqlparse_ch import ParseError

    if isinstance(exc, ParseError):
        err = ProgrammingError(f"{exc} (SYNTAX_ERROR)")
        err.code = "SYNTAX_ERROR"
        return err
    code = getattr(exc, "code", "UNKNOWN_EXCEPTION")
    cls = (ProgrammingError if code in _PROGRAMMING else DataError if code in _DATA else
           OperationalError if code in _OPERATIONAL else InternalError if code in _INTERNAL else
           NotSupportedError if code == "NOT_IMPLEMENTED" else DatabaseError)
    err = cls(f"{exc} ({code})")
    err.code = code
    return err


# --------------------------------------------------------------------------- types (PEP 249)

Date = _dt.date
Time = _dt.time
Timestamp = _dt.datetime
Binary = bytes


def DateFromTicks(ticks):  # noqa: N802
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks):  # noqa: N802
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks):  # noqa: N802
    return Timestamp(*time.localtime(ticks)[:6])


class _TypeSet(frozenset):
    """A DB-API type object: equal to every ClickHouse type name of its group."""

    def __eq__(self, other):
        if isinstance(other, str):
            base = re.sub(r"^(Nullable|LowCardinality)\((.*)\)$", r"\2", other)
            base = re.sub(r"^(Nullable|LowCardinality)\((.*)\)$", r"\2", base)
            return base.split("(")[0] in self
        return frozenset.__eq__(self, other)

    __hash__ = frozenset.__hash__


STRING = _TypeSet({"String", "FixedString", "UUID", "Enum8", "Enum16", "IPv4", "IPv6"})
BINARY = _TypeSet({"String", "FixedString"})
NUMBER = _TypeSet({"UInt8", "UInt16", "UInt32", "UInt64", "UInt128", "UInt256", "Int8", "Int16", "Int32", "Int64",
                   "Int128", "Int256", "Float32", "Float64", "Decimal", "Bool"})
DATETIME = _TypeSet({"Date", "Date32", "DateTime", "DateTime64"})
ROWID = _TypeSet()


# --------------------------------------------------------------------------- parameters

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")
#: INSERT INTO t [(cols)] VALUES (<one row of placeholders>) [;]: (prefix, row template, suffix)
_INSERT_VALUES = re.compile(r"(?is)^(\s*INSERT\s+INTO\s+.+?\s+VALUES\s*)(\(.*\))(\s*;?\s*)$")


def literal(value) -> str:
    """A Python value as a ClickHouse SQL literal (strings quoted with backslash escapes)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, decimal.Decimal)):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, _dt.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        if value.microsecond:
            return f"toDateTime64('{text}.{value.microsecond:06d}', 6)"
        return f"toDateTime('{text}')"
    if isinstance(value, _dt.date):
        return f"toDate('{value.isoformat()}')"
    if isinstance(value, uuid.UUID):
        return f"'{value}'"
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", "surrogateescape")
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\t", "\\t") \
            .replace("\r", "\\r").replace("\0", "\\0")
        return f"'{escaped}'"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = ", ".join(_array_item(v) for v in value)
        return f"[{items}]" if isinstance(value, list) else f"({items})"
    raise InterfaceError(f"cannot pass a parameter of type {type(value).__name__} ({value!r}) to a query")


def _array_item(v) -> str:
    return literal(list(v)) if isinstance(v, (tuple, set, frozenset)) else literal(v)


def render(operation: str, parameters) -> tuple[str, dict | None]:
    """(query text, ClickHouse params): `%(name)s` / `%s` placeholders replaced by literals, or
    the mapping passed through as `{name:Type}` parameters when the text has no placeholder."""
    if parameters is None:
        return operation, None
    if not _PLACEHOLDER.search(operation.replace("%%", "")) and isinstance(parameters, dict):
        return operation, dict(parameters)
    positional = iter(parameters) if not isinstance(parameters, dict) else None
    used = 0

    def sub(m):
        nonlocal used
        text = m.group(0)
        if text == "%%":
            return "%"
        if text == "%s":
            if positional is None:
                raise ProgrammingError("%s placeholder with a mapping of parameters; use %(name)s")
            try:
                value = next(positional)
            except StopIteration:
                raise ProgrammingError("not enough parameters for the %s placeholders in the query") from None
            used += 1
            return literal(value)
        if not isinstance(parameters, dict):
            raise ProgrammingError(f"%({m.group(1)})s placeholder needs a mapping of parameters")
        if m.group(1) not in parameters:
            raise ProgrammingError(f"no value for parameter %({m.group(1)})s")
        return literal(parameters[m.group(1)])

    text = _PLACEHOLDER.sub(sub, operation)
    if positional is not None and used != len(parameters):
        raise ProgrammingError(f"the query has {used} %s placeholders but {len(parameters)} parameters were given")
    return text, None


# --------------------------------------------------------------------------- connection / cursor


def connect(path=None, **options) -> "Connection":
    """Open (creating if needed) a database directory; no path = a temporary one removed on close.
    ``options`` go to `mergetree.connect` (e.g. ``background_merges=False``)."""
    import mergetree

    try:
        return Connection(mergetree.connect(path, **options), owned=True)
    except Exception as e:
        if isinstance(e, Error):
            raise
        from mergetree.errors import MergeTreeError

        if isinstance(e, MergeTreeError):
            raise _wrap(e) from e
        raise


class Connection:
    Warning = Warning
    Error = Error
    InterfaceError = InterfaceError
    DatabaseError = DatabaseError
    DataError = DataError
    OperationalError = OperationalError
    IntegrityError = IntegrityError
    InternalError = InternalError
    ProgrammingError = ProgrammingError
    NotSupportedError = NotSupportedError

    def __init__(self, database, owned: bool = False):
        self.database = database
        self._owned = owned
        self._closed = False
        #: per-connection settings passed to every statement (SET also persists per database)
        self.settings: dict = {}

    def _check(self):
        if self._closed:
            raise InterfaceError("connection is closed")

    def cursor(self) -> "Cursor":
        self._check()
        return Cursor(self)

    def commit(self) -> None:
        self._check()           # every statement is durable when it returns

    def rollback(self) -> None:
        self._check()
        raise NotSupportedError("mergetree has no transactions: rollback is not supported")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._owned:
                self.database.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Cursor:
    def __init__(self, connection: Connection):
        self.connection = connection
        self.arraysize = 1
        self._rows: list = []
        self._pos = 0
        self._description = None
        self.rowcount = -1
        self.lastrowid = None
        self.result = None          #: the mergetree Result of the last statement
        self._closed = False

    # -- PEP 249

    @property
    def description(self):
        return self._description

    def execute(self, operation: str, parameters=None, *, cancel=None):
        """Run one statement. ``cancel`` (a threading.Event) cancels it when set."""
        self._check()
        text, params = render(operation, parameters)
        from mergetree.errors import MergeTreeError
        from sqlparse_ch import ParseError

        settings = dict(self.connection.settings)
        kwargs = {"params": params, "settings": settings or None}
        if cancel is not None:
            kwargs["cancel"] = cancel
        try:
            result = self.connection.database.sql(text, **kwargs)
        except (MergeTreeError, ParseError) as e:
            self._reset()
            raise _wrap(e) from e
        self.result = result
        if result.schema:
            self._description = tuple((name, t.name, None, None, None, None, t.name.startswith("Nullable("))
                                      for name, t in result.schema)
            self._rows = result.rows
            self.rowcount = len(self._rows)
        else:
            self._reset()
        self._pos = 0
        return self

    def executemany(self, operation: str, seq_of_parameters):
        """Run `operation` once per parameter set. ``INSERT ... VALUES (%s, ...)`` is sent as one
        INSERT with every row (one part per partition, as a batch insert should be, rather than a
        part per row); rowcount is then the number of rows inserted."""
        self._check()
        seq = list(seq_of_parameters)
        m = _INSERT_VALUES.match(operation)
        if m and seq:
            rows = []
            for parameters in seq:
                text, params = render(m.group(2), parameters)
                if params is not None:          # {name:Type} parameters differ per row: no batching
                    break
                rows.append(text)
            else:
                self.execute(m.group(1) + ", ".join(rows) + m.group(3))
                self.rowcount = len(rows)
                return self
        total = 0
        for parameters in seq:
            self.execute(operation, parameters)
            total += max(self.rowcount, 0)
        self.rowcount = total if self._description is not None else -1
        return self

    def fetchone(self):
        self._check_result()
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchmany(self, size: int | None = None):
        self._check_result()
        size = self.arraysize if size is None else size
        rows = self._rows[self._pos:self._pos + size]
        self._pos += len(rows)
        return rows

    def fetchall(self):
        self._check_result()
        rows = self._rows[self._pos:]
        self._pos = len(self._rows)
        return rows

    def close(self) -> None:
        self._closed = True
        self._rows = []

    def setinputsizes(self, sizes) -> None:
        pass

    def setoutputsize(self, size, column=None) -> None:
        pass

    # -- extras

    def __iter__(self):
        while (row := self.fetchone()) is not None:
            yield row

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _reset(self):
        self._description = None
        self._rows = []
        self.rowcount = -1

    def _check(self):
        if self._closed:
            raise InterfaceError("cursor is closed")
        self.connection._check()

    def _check_result(self):
        self._check()
        if self._description is None:
            raise ProgrammingError("no result set: the last statement returned no rows (or nothing was executed)")
