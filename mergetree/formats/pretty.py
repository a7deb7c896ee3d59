"""The Pretty family (what a terminal shows), as ClickHouse 26.x writes it without colour
(``output_format_pretty_color = auto`` and stdout is not a terminal): Pretty, PrettyCompact,
PrettySpace, and their NoEscapes / MonoBlock spellings, which are the same bytes here.

Rules taken from chDB 26.x output (tests/test_formats_pretty.py compares byte for byte):
- row numbers (``1.``) in a left margin; numbers, Decimal, Date, Date32, DateTime, DateTime64
  (also Nullable / LowCardinality of them) are right-aligned, header names too; NULL is ``ᴺᵁᴸᴸ``;
- display width counts East Asian wide characters as two;
- a value with newlines continues on the next lines: ``a↴`` then ``↳b``;
- 50 rows or more repeat the column names in the footer;
- more than 1000 rows show the first and last 500 with a ``─ ─ ─`` gap and
  ``Showed 1000 out of N rows.``;
- when the last column is a number whose magnitude exceeds one million, each such row gets a
  readable tip: ``│ 12345678 │ -- 12.35 million``.

Not done: ANSI colours/bold (terminals only), tabs and control characters are written raw with
width 1, ``output_format_pretty_max_value_width`` cutting.
"""

from __future__ import annotations

import math
import unicodedata

from mergetree import types as T
from mergetree.formats.text import column_texts

NULL = "ᴺᵁᴸᴸ"
MAX_ROWS = 1000
FOOTER_MIN_ROWS = 50
TIP_THRESHOLD = 1_000_000
_QUANTITIES = ["", " thousand", " million", " billion", " trillion", " quadrillion", " quintillion",
               " sextillion", " septillion", " octillion", " nonillion", " decillion"]


def _right_aligned(t) -> bool:
    u = t.unwrap()
    while isinstance(u, T.LowCardinalityType):
        u = u.inner.unwrap()
    return isinstance(u, (T.IntType, T.FloatType, T.DecimalType, T.DateType, T.Date32Type, T.DateTimeType,
                          T.DateTime64Type))


def _is_number(t) -> bool:
    u = t.unwrap()
    while isinstance(u, T.LowCardinalityType):
        u = u.inner.unwrap()
    return isinstance(u, (T.IntType, T.FloatType, T.DecimalType))


def width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
               for c in text)


def readable_quantity(value: float) -> str:
    """ClickHouse's formatReadableQuantity: 12345678 -> '12.35 million'."""
    i = 0
    while abs(value) >= 1000 and i < len(_QUANTITIES) - 1:
        value /= 1000
        i += 1
    return f"{value:.2f}{_QUANTITIES[i]}"


def _composite(t) -> bool:
    return getattr(t.unwrap(), "kind", None) in ("tuple", "map") or isinstance(t.unwrap(), T.ArrayType)


def _json_lines(col, t, level: int) -> list[str]:
    """ClickHouse 26.x's multi-line JSON of a named tuple cell: objects and tuples open one line per
    element, indented 2 spaces at the top and 1 more per level; arrays of plain values stay ``[4,5]``."""
    from mergetree.column import LowCardinalityColumn
    from mergetree.formats.json import json_string, json_values

    if isinstance(col, LowCardinalityColumn):
        col = col.decode()
    u = t.unwrap()
    pad, close = " " * (level + 1), (" " * level if level > 1 else "")
    kind = getattr(u, "kind", None)
    if kind == "tuple" and u.elements:
        parts = [_json_lines(c, et, level + 1) for c, et in zip(col.columns, u.elements)]
        if u.names:
            keys = [json_string(name) + ": " for name in u.names]
            return ["{\n" + ",\n".join(pad + k + p[i] for k, p in zip(keys, parts)) + "\n" + close + "}"
                    for i in range(len(col))]
        return ["[\n" + ",\n".join(pad + p[i] for p in parts) + "\n" + close + "]" for i in range(len(col))]
    if kind == "map":
        keys = [json_string(k) + ": " for k in column_texts(col.keys)]
        vals = _json_lines(col.values, col.values.type, level + 1)
        off = col.offsets.tolist()
        return ["{\n" + ",\n".join(pad + k + v for k, v in zip(keys[off[i]:off[i + 1]], vals[off[i]:off[i + 1]]))
                + "\n" + close + "}" if off[i + 1] > off[i] else "{}" for i in range(len(off) - 1)]
    if isinstance(u, T.ArrayType) and _composite(u.inner):
        items = _json_lines(col.values, col.values.type, level + 1)
        off = col.offsets.tolist()
        return ["[\n" + ",\n".join(pad + v for v in items[off[i]:off[i + 1]]) + "\n" + close + "]"
                if off[i + 1] > off[i] else "[]" for i in range(len(off) - 1)]
    return json_values(col, t)


def _has_named_tuple(t) -> bool:
    u = t.unwrap()
    if getattr(u, "kind", None) == "tuple":
        return bool(u.names) or any(_has_named_tuple(e) for e in u.elements)
    if getattr(u, "kind", None) == "map":
        return _has_named_tuple(u.value)
    return isinstance(u, T.ArrayType) and _has_named_tuple(u.inner)


def _nested_texts(col, t) -> list[str]:
    """Texts of values inside an array / map / tuple that holds a named tuple: the usual text
    (``'a'``, ``NULL``) except that each named tuple is multi-line JSON (``[{\\n  "x": 1\\n}]``)."""
    from mergetree.column import LowCardinalityColumn

    if isinstance(col, LowCardinalityColumn):
        col = col.decode()
    u = t.unwrap()
    if not _has_named_tuple(t):
        fmt = T.Array(t).format_value   # a value as it is written inside an array
        return [fmt([v])[1:-1] for v in col.to_pylist()]
    if getattr(u, "kind", None) == "tuple":
        if u.names:
            return _json_lines(col, t, 1)
        parts = [_nested_texts(c, et) for c, et in zip(col.columns, u.elements)]
        return ["(" + ",".join(p[i] for p in parts) + ")" for i in range(len(col))]
    off = col.offsets.tolist()
    if getattr(u, "kind", None) == "map":
        keys = _nested_texts(col.keys, col.keys.type)
        vals = _nested_texts(col.values, col.values.type)
        return ["{" + ",".join(k + ":" + v for k, v in zip(keys[off[i]:off[i + 1]], vals[off[i]:off[i + 1]])) + "}"
                for i in range(len(off) - 1)]
    items = _nested_texts(col.values, col.values.type)
    return ["[" + ",".join(items[off[i]:off[i + 1]]) + "]" for i in range(len(off) - 1)]


def _cell_texts(col, t) -> list:
    if _has_named_tuple(t):   # a named tuple (also inside arrays/maps/tuples): multi-line JSON (ClickHouse 26.x)
        return _nested_texts(col, t)
    return column_texts(col)


class _Table:
    """Texts, widths and alignment of the rows to show."""

    def __init__(self, result):
        self.names = result.names
        self.n = result.num_rows
        shown = list(range(self.n))
        self.cut = self.n > MAX_ROWS
        texts = [[NULL if v is None else v for v in _cell_texts(c, t)]
                 for c, (_, t) in zip(result.column_data, result.schema)]
        if self.cut:
            half = MAX_ROWS // 2
            shown = list(range(half)) + list(range(self.n - half, self.n))
            texts = [col[:half] + col[-half:] for col in texts]
        self.rows = shown
        self.cells = [[v.split("\n") for v in col] for col in texts]
        self.right = [_right_aligned(t) for _, t in result.schema]
        self.widths = [max([width(nm)] + [width(line) for cell in col for line in cell])
                       for nm, col in zip(self.names, self.cells)]
        self.margin = len(str(self.n)) + 2
        self.tips = [""] * len(shown)
        if result.schema and _is_number(result.schema[-1][1]):
            values = result.column_data[-1].to_pylist()
            for k, r in enumerate(shown):
                v = values[r]
                if v is not None and not (isinstance(v, float) and not math.isfinite(v)) \
                        and abs(v) > TIP_THRESHOLD:
                    self.tips[k] = " -- " + readable_quantity(float(v))

    def pad(self, text: str, j: int, fill: str = " ") -> str:
        gap = fill * (self.widths[j] - width(text))
        return gap + text if self.right[j] else text + gap

    def number(self, k: int) -> str:
        return f"{self.rows[k] + 1}.".rjust(self.margin - 1) + " "

    def row_lines(self, k: int, sep: str, left: str, right: str) -> list[str]:
        """Lines of row k: `left` + cells joined by `sep` + `right`, continuation lines included."""
        cells = [col[k] for col in self.cells]
        height = max(len(c) for c in cells)
        lines = []
        for h in range(height):
            parts = []
            for j, c in enumerate(cells):
                if h >= len(c):
                    parts.append(" " * (self.widths[j] + 2))
                    continue
                lead = "↳" if h > 0 else " "
                tail = "↴" if h < len(c) - 1 else " "
                parts.append(lead + self.pad(c[h], j) + tail)
            prefix = self.number(k) if h == 0 else " " * self.margin
            lines.append(prefix + left + sep.join(parts) + right + (self.tips[k] if h == 0 else ""))
        return lines

    def gap(self, total: int) -> str:
        return " " * self.margin + ("─ " * total)[:total]

    def tail(self) -> list[str]:
        return [f"Showed {MAX_ROWS} out of {self.n} rows."] if self.cut else []


def _boxed(t: _Table, top, header_line, under, between, bottom, footer) -> list[str]:
    lines = []
    half = MAX_ROWS // 2
    for k in range(len(t.rows)):
        if k and between is not None:
            lines.append(between)
        if t.cut and k == half:
            if between is not None:
                lines.append(t.gap(len(between) - t.margin))
                lines.append(between)
            else:
                lines.append(t.gap(len(bottom[0]) - t.margin))
        lines += t.row_lines(k, "│", "│", "│")
    return top + header_line + under + lines + (footer if t.n >= FOOTER_MIN_ROWS else bottom) + t.tail()


def write_pretty_compact(result) -> bytes:
    if not result.names or result.num_rows == 0:
        return b""
    t = _Table(result)
    m = " " * t.margin
    names = [t.pad(nm, j, "─") for j, nm in enumerate(t.names)]
    top = [m + "┌─" + "─┬─".join(names) + "─┐"]
    bottom = [m + "└─" + "─┴─".join("─" * w for w in t.widths) + "─┘"]
    footer = [m + "└─" + "─┴─".join(names) + "─┘"]
    lines = _boxed(t, top, [], [], None, bottom, footer)
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


def write_pretty(result) -> bytes:
    if not result.names or result.num_rows == 0:
        return b""
    t = _Table(result)
    m = " " * t.margin
    heavy = [("━" * (w + 2)) for w in t.widths]
    light = [("─" * (w + 2)) for w in t.widths]
    header = m + "┃" + "┃".join(" " + t.pad(nm, j) + " " for j, nm in enumerate(t.names)) + "┃"
    top = [m + "┏" + "┳".join(heavy) + "┓", header, m + "┡" + "╇".join(heavy) + "┩"]
    between = m + "├" + "┼".join(light) + "┤"
    bottom = [m + "└" + "┴".join(light) + "┘"]
    footer = [m + "┢" + "╈".join(heavy) + "┪", header, m + "┗" + "┻".join(heavy) + "┛"]
    lines = _boxed(t, top, [], [], between, bottom, footer)
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


def write_pretty_space(result) -> bytes:
    if not result.names or result.num_rows == 0:
        return b""
    t = _Table(result)
    m = " " * t.margin
    full = m + " ".join(" " + t.pad(nm, j) + " " for j, nm in enumerate(t.names))
    lines = [full[:-1], ""]
    half = MAX_ROWS // 2
    for k in range(len(t.rows)):
        if t.cut and k == half:
            lines.append(t.gap(sum(t.widths) + 3 * len(t.widths) - 2))
        lines += t.row_lines(k, " ", "", "")
    if t.n >= FOOTER_MIN_ROWS:
        lines += ["", full[:-1], ""]
    if t.cut:
        lines += [""] + t.tail()
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
