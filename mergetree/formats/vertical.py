"""Vertical (one ``name: value`` line per column, rows headed ``Row N:``) and Markdown tables,
as ClickHouse 26.x writes them (checked against chDB in tests/test_formats_pretty.py).

Vertical writes values raw (no escaping), NULL as ``ᴺᵁᴸᴸ``, and the readable tip
(``-- 12.35 million``) after numbers above one million; Markdown escapes values like
TabSeparated (``\\N`` for NULL) and right-aligns the columns Pretty right-aligns."""

from __future__ import annotations

import math

from mergetree.formats.pretty import MAX_ROWS, NULL, TIP_THRESHOLD, _is_number, _right_aligned, readable_quantity, width
from mergetree.formats.text import column_texts
from mergetree.formats.tsv import _column as tsv_column


def write_vertical(result) -> bytes:
    names = result.names
    if not names or result.num_rows == 0:
        return b""
    name_width = max(width(n) for n in names)
    labels = [n + ":" + " " * (name_width - width(n) + 1) for n in names]
    cols = [[NULL if v is None else v for v in column_texts(c)] for c in result.column_data]
    tips = []
    for (_, t), col in zip(result.schema, result.column_data):
        if not _is_number(t):
            tips.append(None)
            continue
        values = col.to_pylist()
        tips.append([" -- " + readable_quantity(float(v)) if v is not None and not
                     (isinstance(v, float) and not math.isfinite(v)) and abs(v) > TIP_THRESHOLD else ""
                     for v in values])
    out = []
    for i, row in enumerate(zip(*cols)):
        if i == MAX_ROWS:
            out.append(f"Showed first {MAX_ROWS}.\n")
            break
        head = f"Row {i + 1}:"
        lines = [head, "─" * len(f"Row {i + 2}:")]      # sic: ClickHouse sizes the rule one row ahead
        lines += [label + v + (tip[i] if tip else "") for label, v, tip in zip(labels, row, tips)]
        out.append("\n".join(lines) + "\n")
    return "\n".join(out).encode("utf-8", "surrogateescape")


def write_markdown(result) -> bytes:
    names = result.names
    if not names:
        return b""
    lines = ["| " + " | ".join(names) + " |",
             "|" + "|".join("-:" if _right_aligned(t) else ":-" for _, t in result.schema) + "|"]
    cols = [tsv_column(c, t) for c, (_, t) in zip(result.column_data, result.schema)]
    lines += ["| " + " | ".join(row) + " |" for row in zip(*cols)]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
