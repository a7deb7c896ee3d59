"""CSV family: strings, dates, arrays and maps in double quotes (a quote doubled), NULL as ``\\N``.
As in ClickHouse, a Tuple column is flattened: each element is its own CSV field (recursively), and
the *WithNames header names them ``t.1`` / ``t.name``."""

from __future__ import annotations

from mergetree import types as T
from mergetree.formats.text import column_texts, is_quoted_type


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _leaves(col, t, name: str):
    """(column, type, name) of every CSV field a result column becomes: a non-empty Tuple is
    flattened element by element (``name.1`` or ``name.element``), anything else is one field."""
    from mergetree.column import TupleColumn

    u = t.unwrap()
    if isinstance(u, T.TupleType) and u.elements and isinstance(col, TupleColumn):
        labels = u.names or [str(i + 1) for i in range(len(u.elements))]
        for c, et, label in zip(col.columns, u.elements, labels):
            yield from _leaves(c, et, f"{name}.{label}")
    else:
        yield col, t, name


def _fields(result) -> list:
    return [leaf for c, (name, t) in zip(result.column_data, result.schema) for leaf in _leaves(c, t, name)]


def _column(col, t) -> list[str]:
    u = t.unwrap()
    if isinstance(u, T.TupleType):   # only the empty tuple is left here: ClickHouse writes an empty field
        return [""] * len(col)
    texts = column_texts(col)
    quoted = is_quoted_type(t) or isinstance(u, (T.ArrayType, T.MapType))
    if quoted:
        return ["\\N" if v is None else _quote(v) for v in texts]
    return ["\\N" if v is None else v for v in texts]


def _rows(result) -> str:
    cols = [_column(c, t) for c, t, _ in _fields(result)]
    if not cols:
        return ""
    from mergetree.exec.totals import extra_parts   # WITH TOTALS / extremes: a blank line, then the rows

    return "".join(",".join(row) + "\n" for row in zip(*cols)) + "".join("\n" + _rows(p) for p in extra_parts(result))


def _names_line(result) -> str:
    return ",".join(_quote(n) for _, _, n in _fields(result)) + "\n"


def _types_line(result) -> str:
    return ",".join(_quote(t.name) for _, t, _ in _fields(result)) + "\n"


def write_csv(result) -> bytes:
    return _rows(result).encode("utf-8", "surrogateescape")


def write_csv_with_names(result) -> bytes:
    return (_names_line(result) + _rows(result)).encode("utf-8", "surrogateescape")


def write_csv_with_names_and_types(result) -> bytes:
    return (_names_line(result) + _types_line(result) + _rows(result)).encode("utf-8", "surrogateescape")
