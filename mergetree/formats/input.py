"""Input formats for INSERT ... FORMAT: TabSeparated (TSV), TSVWithNames,
TabSeparatedWithNamesAndTypes, CSV, CSVWithNames -> dict of column -> list of text values (None for
``\\N``), which `convert.rows_to_block` turns into typed columns with ClickHouse's text rules.
JSONEachRow goes to rows_to_block directly.

Rows are split by the C-implemented `csv` module and str.split; the values stay text until the
vectorised conversion.
"""

from __future__ import annotations

import csv
import io
import re

from mergetree.errors import BadArgumentsError

_TSV_ESCAPE = re.compile(r"\\(.)")
_TSV_CHARS = {"t": "\t", "n": "\n", "r": "\r", "0": "\0", "b": "\b", "f": "\f", "\\": "\\", "'": "'", "N": None}

TEXT_INPUTS = {"TabSeparated", "TSV", "TabSeparatedWithNames", "TSVWithNames", "TabSeparatedWithNamesAndTypes",
               "TSVWithNamesAndTypes", "CSV", "CSVWithNames"}


def _tsv_value(text: str):
    if text == "\\N":
        return None
    if "\\" not in text:
        return text
    return _TSV_ESCAPE.sub(lambda m: _TSV_CHARS.get(m.group(1)) or m.group(1), text)


def parse_text_input(fmt: str, data: bytes | str, names: list[str]) -> dict[str, list]:
    """Columns of a TSV/CSV payload; `names` are the target columns (the header replaces them in
    the *WithNames formats)."""
    text = data.decode() if isinstance(data, (bytes, bytearray)) else data
    if fmt.startswith("CSV"):
        rows = [[None if v == "\\N" else v for v in row] for row in csv.reader(io.StringIO(text)) if row]
    else:
        rows = [[_tsv_value(v) for v in line.split("\t")] for line in text.split("\n") if line]
    header = None
    if "WithNames" in fmt:
        if not rows:
            return {n: [] for n in names}
        header, rows = rows[0], rows[1:]
        if "AndTypes" in fmt:
            rows = rows[1:]
    cols = header or names
    for i, row in enumerate(rows):
        if len(row) != len(cols):
            raise BadArgumentsError(f"INSERT FORMAT {fmt}: row {i} has {len(row)} values, expected {len(cols)} "
                                    f"({', '.join(cols)})")
    return {name: [row[j] for row in rows] for j, name in enumerate(cols)}
