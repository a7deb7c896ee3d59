"""PrettyCompact (what a terminal shows), as ClickHouse 26.x writes it: box-drawing borders, row
numbers, numbers right-aligned, NULL as ``ᴺᵁᴸᴸ``.

Simplifications: display width is the number of code points (ClickHouse counts East Asian wide
characters as two), no 10000-row cut-off and no ``-- 12.35 billion`` tip for a single large number.
"""

from __future__ import annotations

from mergetree import types as T
from mergetree.formats.text import column_texts

NULL = "ᴺᵁᴸᴸ"


def _right_aligned(t) -> bool:
    return isinstance(t.unwrap(), (T.IntType, T.FloatType, T.DecimalType))


def write_pretty_compact(result) -> bytes:
    names = result.names
    if not names or result.num_rows == 0:
        return b""
    cols = [[NULL if v is None else v for v in column_texts(c)] for c in result.column_data]
    right = [_right_aligned(t) for _, t in result.schema]
    widths = [max([len(n)] + [len(v) for v in col]) for n, col in zip(names, cols)]
    n = result.num_rows
    margin = " " * (len(str(n)) + 2)

    def pad(text, width, r, fill=" "):
        return text.rjust(width, fill) if r else text.ljust(width, fill)

    lines = [margin + "┌─" + "─┬─".join(pad(name, w, r, "─") for name, w, r in zip(names, widths, right)) + "─┐"]
    for i, row in enumerate(zip(*cols)):
        number = f"{i + 1}.".rjust(len(margin) - 1) + " "
        lines.append(number + "│ " + " │ ".join(pad(v, w, r) for v, w, r in zip(row, widths, right)) + " │")
    lines.append(margin + "└─" + "─┴─".join("─" * w for w in widths) + "─┘")
    return ("\n".join(lines) + "\n").encode()
