"""The Prometheus text exposition format, as ClickHouse 26.x writes it (checked against chDB).

Columns by name: ``name`` (String) and ``value`` (a number) are required; ``labels``
(Map(String, String)), ``help``, ``type`` (String) and ``timestamp`` (an integer) are optional.
Consecutive rows with the same ``name`` form one metric: its ``# HELP`` and ``# TYPE`` lines come from
the group's first row (when not empty), and every group ends with a blank line. Labels are sorted by
key and escaped (``\\`` ``\\n`` ``"``); a HELP text's newlines become spaces; a timestamp of 0 is left
out; infinities and NaN are written ``+Inf``, ``-Inf``, ``NaN``. ClickHouse's extra rules for
``histogram`` / ``summary`` metrics (``_bucket`` / ``_sum`` / ``_count`` suffixes) are not applied.

Used for Tinybird's ``GET /v0/pipes/NAME.prometheus`` and ``FORMAT Prometheus``.
"""

from __future__ import annotations

from mergetree import types as T
from mergetree.errors import BadArgumentsError
from mergetree.formats.text import column_texts

_LABEL_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", '"': '\\"'})
_SPECIAL = {"inf": "+Inf", "-inf": "-Inf", "nan": "NaN", "-nan": "NaN"}


def _column(result, name: str, required: bool, check):
    for i, (n, t) in enumerate(result.schema):
        if n == name:
            if not check(t.unwrap()):
                raise BadArgumentsError(f"Illegal type '{t}' of column '{name}' for output format 'Prometheus'")
            return result.column_data[i]
    if required:
        raise BadArgumentsError(f"Column '{name}' is required for output format 'Prometheus'")
    return None


def _is_string(t) -> bool:
    return isinstance(t, (T.StringType, T.FixedStringType))


def _is_number(t) -> bool:
    return t.is_numeric() if hasattr(t, "is_numeric") else not _is_string(t)


def _is_labels(t) -> bool:
    return isinstance(t, T.MapType)


def write_prometheus(result) -> bytes:
    names = column_texts(_column(result, "name", True, _is_string))
    values = column_texts(_column(result, "value", True, lambda t: not _is_string(t) and not _is_labels(t)))
    helps = _column(result, "help", False, _is_string)
    kinds = _column(result, "type", False, _is_string)
    stamps = _column(result, "timestamp", False, lambda t: not _is_string(t) and not _is_labels(t))
    labels = _column(result, "labels", False, _is_labels)
    helps = column_texts(helps) if helps is not None else None
    kinds = column_texts(kinds) if kinds is not None else None
    stamps = column_texts(stamps) if stamps is not None else None
    labels = labels.to_pylist() if labels is not None else None
    out: list[str] = []
    previous = None
    for i, name in enumerate(names):
        if name != previous:
            if previous is not None:
                out.append("\n")
            previous = name
            if helps is not None and helps[i]:
                out.append(f"# HELP {name} {helps[i].replace(chr(10), ' ')}\n")
            if kinds is not None and kinds[i]:
                out.append(f"# TYPE {name} {kinds[i]}\n")
        line = name
        if labels is not None and labels[i]:
            items = labels[i].items() if isinstance(labels[i], dict) else labels[i]
            line += "{" + ",".join(f'{k}="{str(v).translate(_LABEL_ESCAPES)}"' for k, v in sorted(items)) + "}"
        value = values[i]
        line += " " + _SPECIAL.get(value, value) if value is not None else " NaN"
        if stamps is not None and stamps[i] not in (None, "0"):
            line += " " + stamps[i]
        out.append(line + "\n")
    if previous is not None:
        out.append("\n")
    return "".join(out).encode("utf-8", "surrogateescape")
