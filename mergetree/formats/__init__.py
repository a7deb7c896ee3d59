"""Output formats, byte-compatible with ClickHouse 26.x (checked against chDB):
TabSeparated (TSV), TabSeparatedWithNames (TSVWithNames), TabSeparatedWithNamesAndTypes,
TabSeparatedRaw, CSV, CSVWithNames, CSVWithNamesAndTypes, JSON, JSONCompact, JSONStrings, JSONEachRow,
JSONCompactEachRow(WithNames(AndTypes)), Values, Pretty, PrettyCompact, PrettySpace (+ their NoEscapes/MonoBlock spellings), Markdown, Vertical, Null,
Prometheus, and Parquet (needs pyarrow, an optional extra).

``write(result, name) -> bytes``; format names are case-sensitive as in ClickHouse, with the
documented aliases (TSV = TabSeparated ...).
"""

from __future__ import annotations

from mergetree.errors import UnknownFormatError
from mergetree.formats import csv, json, pretty, tsv, vertical


def _parquet(result) -> bytes:
    from mergetree.formats.parquet import write_parquet

    return write_parquet(result)


WRITERS = {
    "TabSeparated": tsv.write_tsv,
    "TabSeparatedWithNames": tsv.write_tsv_with_names,
    "TabSeparatedWithNamesAndTypes": tsv.write_tsv_with_names_and_types,
    "CSV": csv.write_csv,
    "CSVWithNames": csv.write_csv_with_names,
    "CSVWithNamesAndTypes": csv.write_csv_with_names_and_types,
    "JSON": json.write_json,
    "JSONCompact": json.write_json_compact,
    "JSONEachRow": json.write_json_each_row,
    "JSONStrings": json.write_json_strings,
    "JSONCompactEachRow": json.write_json_compact_each_row,
    "JSONCompactEachRowWithNames": json.write_json_compact_each_row_with_names,
    "JSONCompactEachRowWithNamesAndTypes": json.write_json_compact_each_row_with_names_and_types,
    "Values": tsv.write_values,
    "PrettyCompact": pretty.write_pretty_compact,
    "Pretty": pretty.write_pretty,
    "PrettySpace": pretty.write_pretty_space,
    "Markdown": vertical.write_markdown,
    "Vertical": vertical.write_vertical,
    "Parquet": _parquet,
    "TabSeparatedRaw": tsv.write_tsv_raw,
    "Null": lambda result: b"",
    "Prometheus": lambda result: __import__("mergetree.formats.prometheus", fromlist=["x"]).write_prometheus(result),
}

ALIASES = {
    "TSV": "TabSeparated", "TSVWithNames": "TabSeparatedWithNames",
    "TSVWithNamesAndTypes": "TabSeparatedWithNamesAndTypes", "NDJSON": "JSONEachRow",
    "JSONLines": "JSONEachRow", "TSVRaw": "TabSeparatedRaw", "MD": "Markdown",
    # without colours (not a terminal) these are the same bytes as their base format
    **{base + suffix: base for base in ("Pretty", "PrettyCompact", "PrettySpace")
       for suffix in ("NoEscapes", "MonoBlock", "NoEscapesMonoBlock")},
}


def canonical(name: str) -> str:
    name = ALIASES.get(name, name)
    if name not in WRITERS:
        from mergetree.functions.registry import suggest

        hint = suggest(name, list(WRITERS) + list(ALIASES))
        raise UnknownFormatError(f"Unknown output format {name}" + (f" (did you mean {hint}?)" if hint else ""))
    return name


def write(result, name: str) -> bytes:
    name = canonical(name)
    if name.startswith("Pretty") and (getattr(result, "totals", None) or getattr(result, "extremes", None)):
        from mergetree.exec.totals import pretty_sections   # "Totals:" / "Extremes:" tables after the data

        return pretty_sections(result, WRITERS[name])
    return WRITERS[name](result)
