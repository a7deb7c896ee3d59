"""CSV family: strings, dates and arrays in double quotes (a quote doubled), NULL as ``\\N``."""

from __future__ import annotations

from mergetree import types as T
from mergetree.formats.text import column_texts, is_quoted_type


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _column(col, t) -> list[str]:
    texts = column_texts(col)
    quoted = is_quoted_type(t) or isinstance(t.unwrap(), T.ArrayType)
    if quoted:
        return ["\\N" if v is None else _quote(v) for v in texts]
    return ["\\N" if v is None else v for v in texts]


def _rows(result) -> str:
    cols = [_column(c, t) for c, (_, t) in zip(result.column_data, result.schema)]
    if not cols:
        return ""
    from mergetree.exec.totals import extra_parts   # WITH TOTALS / extremes: a blank line, then the rows

    return "".join(",".join(row) + "\n" for row in zip(*cols)) + "".join("\n" + _rows(p) for p in extra_parts(result))


def write_csv(result) -> bytes:
    return _rows(result).encode("utf-8", "surrogateescape")


def write_csv_with_names(result) -> bytes:
    return (",".join(_quote(n) for n in result.names) + "\n" + _rows(result)).encode("utf-8", "surrogateescape")


def write_csv_with_names_and_types(result) -> bytes:
    return (",".join(_quote(n) for n in result.names) + "\n" +
            ",".join(_quote(t.name) for _, t in result.schema) + "\n" + _rows(result)).encode("utf-8", "surrogateescape")
