"""JSON family (ClickHouse layout: tab indentation, meta/data/rows/rows_before_limit_at_least/
statistics), JSONCompact and JSONEachRow. Numbers are bare (64-bit integers too, as chDB 26.9
writes them), NaN and Inf are ``null``, strings escape ``/`` as ``\\/`` like ClickHouse."""

from __future__ import annotations

import math
import re

import numpy as np

from mergetree import types as T
from mergetree.column import ArrayColumn, LowCardinalityColumn, NullableColumn
from mergetree.formats.text import column_texts, is_quoted_type


#: ClickHouse's JSON string escapes: " \\ / and the control characters (\b \f \n \r \t by name)
_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\", ord("/"): "\\/", ord("\b"): "\\b", ord("\f"): "\\f",
                 ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
_NEEDS_ESCAPE = re.compile(r'["\\/\x00-\x1f]')


def json_string(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:
        return '"' + text + '"'
    return '"' + text.translate(_ESCAPES) + '"'


def json_strings(texts: list) -> list[str]:
    """json_string of every text; one scan over them all when none needs escaping (the usual case)."""
    if _NEEDS_ESCAPE.search("".join(texts)) is None:
        return ['"' + t + '"' for t in texts]
    return ['"' + t.translate(_ESCAPES) + '"' for t in texts]


def json_values(col, t) -> list[str]:
    """JSON text of every value of a column."""
    if isinstance(col, LowCardinalityColumn):
        col = col.decode()
        t = col.type
    if isinstance(col, NullableColumn):
        inner = json_values(col.values, col.values.type)
        for i in np.flatnonzero(col.nulls).tolist():
            inner[i] = "null"
        return inner
    u = t.unwrap()
    if isinstance(col, ArrayColumn):
        items = json_values(col.values, col.values.type)
        off = col.offsets.tolist()
        return ["[" + ",".join(items[off[i]:off[i + 1]]) + "]" for i in range(len(off) - 1)]
    if getattr(u, "kind", None) == "tuple":    # [1,"a"]; a named tuple is an object {"a":1}
        parts = [json_values(c, c.type) for c in col.columns]
        if u.names:
            keys = [json_string(name) + ":" for name in u.names]
            return ["{" + ",".join(k + p[i] for k, p in zip(keys, parts)) + "}" for i in range(len(col))]
        return ["[" + ",".join(p[i] for p in parts) + "]" for i in range(len(col))]
    if getattr(u, "kind", None) == "map":      # {"key text":value}
        keys = [json_string(k) for k in column_texts(col.keys)]
        vals = json_values(col.values, col.values.type)
        off = col.offsets.tolist()
        return ["{" + ",".join(k + ":" + v for k, v in zip(keys[off[i]:off[i + 1]], vals[off[i]:off[i + 1]])) + "}"
                for i in range(len(off) - 1)]
    if getattr(u, "kind", None) == "nothing":
        return ["null"] * len(col)
    texts = column_texts(col)
    if is_quoted_type(u):
        return json_strings(texts)
    if isinstance(u, T.FloatType):
        finite = np.isfinite(col.values)
        return [v if f else "null" for v, f in zip(texts, finite.tolist())]
    return texts


def _meta(result) -> str:
    items = ",\n".join(f'\t\t{{\n\t\t\t"name": {json_string(n)},\n\t\t\t"type": {json_string(t.name)}\n\t\t}}'
                       for n, t in result.schema)
    return f'\t"meta":\n\t[\n{items}\n\t],\n\n'


def _tail(result) -> str:
    out = f'\t"rows": {result.num_rows},\n\n'
    if result.rows_before_limit is not None:
        out += f'\t"rows_before_limit_at_least": {result.rows_before_limit},\n\n'
    s = result.statistics
    out += (f'\t"statistics":\n\t{{\n\t\t"elapsed": {_elapsed(s.get("elapsed", 0.0))},\n'
            f'\t\t"rows_read": {s.get("rows_read", 0)},\n\t\t"bytes_read": {s.get("bytes_read", 0)}\n\t}}\n}}\n')
    return out


def _elapsed(x: float) -> str:
    text = f"{x:.9f}".rstrip("0").rstrip(".")
    return text if not math.isnan(x) else "0"


def _columns(result) -> list[list[str]]:
    return [json_values(c, t) for c, (_, t) in zip(result.column_data, result.schema)]


def _extras(result, values, compact: bool) -> str:
    """``"totals"`` (WITH TOTALS) and ``"extremes"`` (extremes = 1) after "data", as ClickHouse writes
    them; `values(columns)` gives the JSON texts of each column."""
    keys = [json_string(n) for n in result.names]

    def obj(cols, row, indent):
        texts = [values(c, t)[row] for c, (_, t) in zip(cols, result.schema)]
        if compact:
            return "[" + ", ".join(texts) + "]"
        fields = ",\n".join(f"{indent}\t{k}: {v}" for k, v in zip(keys, texts))
        return f"{{\n{fields}\n{indent}}}"

    out = ""
    totals = getattr(result, "totals", None)
    if totals:
        out += '\t"totals": ' + obj(totals, 0, "\t") + ",\n\n" if compact else \
            '\t"totals":\n\t' + obj(totals, 0, "\t") + ",\n\n"
    ext = getattr(result, "extremes", None)
    if ext:
        if compact:
            out += '\t"extremes":\n\t{\n\t\t"min": ' + obj(ext, 0, "\t\t") + ',\n\t\t"max": ' + \
                obj(ext, 1, "\t\t") + "\n\t},\n\n"
        else:
            out += '\t"extremes":\n\t{\n\t\t"min":\n\t\t' + obj(ext, 0, "\t\t") + ',\n\t\t"max":\n\t\t' + \
                obj(ext, 1, "\t\t") + "\n\t},\n\n"
    return out


def _row_template(keys: list[str], start: str, sep: str, end: str) -> str:
    """A %-template of one row: `start` key: value `sep` ... `end` (the keys' own % doubled)."""
    return start + sep.join(k.replace("%", "%%") + "%s" for k in keys) + end


def write_json(result) -> bytes:
    cols = _columns(result)
    keys = [json_string(n) + ": " for n in result.names]
    template = _row_template(keys, "\t\t{\n\t\t\t", ",\n\t\t\t", "\n\t\t}")
    rows = [template % values for values in zip(*cols)] if cols else []
    data = '\t"data":\n\t[\n' + (",\n".join(rows) + "\n" if rows else "\n") + "\t],\n\n"
    return _valid_utf8("{\n" + _meta(result) + data + _extras(result, json_values, False) + _tail(result))


def write_json_compact(result) -> bytes:
    cols = _columns(result)
    rows = ["\t\t[" + ", ".join(values) + "]" for values in (zip(*cols) if cols else [])]
    data = '\t"data":\n\t[\n' + (",\n".join(rows) + "\n" if rows else "\n") + "\t],\n\n"
    return _valid_utf8("{\n" + _meta(result) + data + _extras(result, json_values, True) + _tail(result))


def write_json_strings(result) -> bytes:
    """JSON with every value as its text in a JSON string (NULL as "ᴺᵁᴸᴸ", as chDB writes it)."""
    cols = [[json_string("ᴺᵁᴸᴸ" if v is None else v) for v in column_texts(c)] for c in result.column_data]
    keys = [json_string(n) for n in result.names]
    rows = []
    for values in zip(*cols) if cols else []:
        fields = ",\n".join(f"\t\t\t{k}: {v}" for k, v in zip(keys, values))
        rows.append(f"\t\t{{\n{fields}\n\t\t}}")
    data = '\t"data":\n\t[\n' + (",\n".join(rows) + "\n" if rows else "\n") + "\t],\n\n"
    strings = lambda c, t: [json_string("ᴺᵁᴸᴸ" if v is None else v) for v in column_texts(c)]  # noqa: E731
    return _valid_utf8("{\n" + _meta(result) + data + _extras(result, strings, False) + _tail(result))


def write_json_each_row(result) -> bytes:
    cols = _columns(result)
    keys = [json_string(n) for n in result.names]
    return "".join("{" + ",".join(f"{k}:{v}" for k, v in zip(keys, values)) + "}\n"
                   for values in (zip(*cols) if cols else [])).encode("utf-8", "surrogateescape")


def _compact_rows(result) -> str:
    cols = _columns(result)
    return "".join("[" + ", ".join(values) + "]\n" for values in (zip(*cols) if cols else []))


def write_json_compact_each_row(result) -> bytes:
    return _compact_rows(result).encode("utf-8", "surrogateescape")


def write_json_compact_each_row_with_names(result) -> bytes:
    head = "[" + ", ".join(json_string(n) for n in result.names) + "]\n"
    return (head + _compact_rows(result)).encode("utf-8", "surrogateescape")


def write_json_compact_each_row_with_names_and_types(result) -> bytes:
    head = "[" + ", ".join(json_string(n) for n in result.names) + "]\n" + \
        "[" + ", ".join(json_string(t.name) for _, t in result.schema) + "]\n"
    return (head + _compact_rows(result)).encode("utf-8", "surrogateescape")


def _valid_utf8(text: str) -> bytes:
    """The whole-document JSON formats (JSON, JSONCompact, JSONStrings) replace each invalid UTF-8
    sequence of a String with U+FFFD, as ClickHouse does; the row formats write the raw bytes."""
    try:
        return text.encode()
    except UnicodeEncodeError:      # invalid bytes arrive as surrogate escapes (column_texts)
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace").encode()
