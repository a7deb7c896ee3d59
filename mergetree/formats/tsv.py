"""TabSeparated family: values escaped with backslashes (\\t \\n \\\\ \\' ...), NULL as ``\\N``."""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.formats.text import column_texts

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0", "\b": "\\b",
                          "\f": "\\f", "'": "\\'"})


def escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _is_string(t) -> bool:
    return isinstance(t.unwrap(), (T.StringType, T.FixedStringType))


_SPECIAL = np.frombuffer(b"\\\t\n\r\0\b\f'", np.uint8)


def _needs_escaping(col) -> bool:
    """False when no byte of a String column's data needs a backslash escape."""
    from mergetree.column import LowCardinalityColumn, NullableColumn

    if isinstance(col, LowCardinalityColumn):
        col = col.dictionary
    if isinstance(col, NullableColumn):
        col = col.values
    data = getattr(col, "data", None)
    return data is None or bool(np.isin(data, _SPECIAL).any())


def _column(col, t) -> list[str]:
    texts = column_texts(col)
    if _is_string(t) and _needs_escaping(col):
        return ["\\N" if v is None else escape(v) for v in texts]
    return ["\\N" if v is None else v for v in texts]


def _rows(result, raw: bool = False) -> str:
    if raw:
        cols = [["\\N" if v is None else v for v in column_texts(c)] for c in result.column_data]
    else:
        cols = [_column(c, t) for c, (_, t) in zip(result.column_data, result.schema)]
    if not cols:
        return ""
    from mergetree.exec.totals import extra_parts   # WITH TOTALS / extremes: a blank line, then the rows

    return "".join("\t".join(row) + "\n" for row in zip(*cols)) + "".join("\n" + _rows(p, raw)
                                                                      for p in extra_parts(result))


def write_tsv(result) -> bytes:
    return _rows(result).encode("utf-8", "surrogateescape")


def write_tsv_raw(result) -> bytes:
    """TabSeparatedRaw: values written without escaping."""
    return _rows(result, raw=True).encode("utf-8", "surrogateescape")


def write_tsv_with_names(result) -> bytes:
    head = "\t".join(escape(n) for n in result.names) + "\n"
    return (head + _rows(result)).encode("utf-8", "surrogateescape")


def write_tsv_with_names_and_types(result) -> bytes:
    head = "\t".join(escape(n) for n in result.names) + "\n" + \
        "\t".join(escape(t.name) for _, t in result.schema) + "\n"
    return (head + _rows(result)).encode("utf-8", "surrogateescape")


def write_values(result) -> bytes:
    """Values (what INSERT ... VALUES takes): ``(1,'a',NULL),(2,'b',[1,2])``, strings and dates
    single-quoted with backslash escapes, no newline."""
    from mergetree.formats.text import is_quoted_type

    cols = []
    for c, (_, t) in zip(result.column_data, result.schema):
        texts = column_texts(c)
        if is_quoted_type(t):
            cols.append(["NULL" if v is None else "'" + escape(v) + "'" for v in texts])
        else:
            cols.append(["NULL" if v is None else v for v in texts])
    return ",".join("(" + ",".join(row) + ")" for row in zip(*cols)).encode("utf-8", "surrogateescape") if cols else b""
