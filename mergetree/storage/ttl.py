"""Table TTL: `TTL ts + INTERVAL 90 DAY` drops rows once that moment has passed.

ClickHouse evaluates a table's TTL expression during merges: rows whose TTL
value is `<= now` are not written to the merged part, and a part whose
*largest* TTL value has passed is dropped whole without reading it.  To know
that without reading the data, every part stores the min and max of its TTL
values in `ttl.txt` (a JSON line; ClickHouse writes the same idea in the same
file name).

1. `ttl_seconds(column)` -> float64 seconds since the epoch for a Date, Date32,
   DateTime or DateTime64 column (NaN for NULL: such rows never expire).
2. `evaluate_ttl(block, metadata)` evaluates the table TTL expression over a
   block (None when the table has no TTL).
3. `expired_mask(block, metadata, now)`: rows to drop in a merge.
4. `ttl_extra_files(block, metadata)` -> `{"ttl.txt": ...}` for `write_part`'s
   `extra_files` (the merger passes it; the table should pass it on insert too).
5. `part_ttl_range(part)` reads `ttl.txt`; `part_fully_expired(part, metadata,
   now)` says whether every row of the part has expired (from `ttl.txt` when
   present, otherwise by evaluating the expression over the part's rows).

Simplifications: only the table-level `TTL expr [DELETE]` rule; no column TTL,
no `TO DISK/VOLUME`, `RECOMPRESS`, `GROUP BY` or `WHERE` clauses; TTL is
applied by every merge rather than by a separate TTL-merge schedule
(`merge_with_ttl_timeout`).  A NULL TTL value never expires.
"""

from __future__ import annotations

import json
import math

import numpy as np

from mergetree.errors import BadArgumentsError

TTL_FILE = "ttl.txt"
_SECONDS_PER_DAY = 86400


def ttl_seconds(column) -> np.ndarray:
    """Seconds since the epoch (float64) of a date/time column; NaN where NULL."""
    t = column.type
    nulls = None
    if t.kind == "nullable":
        nulls = column.nulls
        column = column.values
        t = t.inner
    values = column.values
    if t.kind in ("date", "date32"):
        out = values.astype(np.float64) * _SECONDS_PER_DAY
    elif t.kind == "datetime":
        out = values.astype(np.float64)
    elif t.kind == "datetime64":
        out = values.astype(np.float64) / (10 ** t.precision)
    else:
        raise BadArgumentsError(f"TTL expression must return Date or DateTime, got {column.type}")
    if nulls is not None and nulls.any():
        out[nulls] = np.nan
    return out


def evaluate_ttl(block, metadata) -> np.ndarray | None:
    """The TTL moment of every row of `block` (float64 seconds), or None without a table TTL."""
    ast = getattr(metadata, "ttl_ast", None)
    if ast is None:
        return None
    if type(ast).__name__ == "Identifier" and ast.name in block.columns:
        column = block[ast.name]  # `TTL ts`: no expression engine needed
    else:
        from mergetree.exec.expression import evaluate

        column = evaluate(ast, block)
    seconds = ttl_seconds(column)
    if seconds.shape[0] != block.num_rows:  # a constant expression
        seconds = np.full(block.num_rows, seconds[0] if seconds.shape[0] else np.nan)
    return seconds


def ttl_columns(metadata) -> list[str]:
    """Columns the TTL expression reads."""
    from mergetree.storage.metadata import referenced_columns

    ast = getattr(metadata, "ttl_ast", None)
    return [] if ast is None else referenced_columns(ast)


def expired_mask(block, metadata, now: float) -> np.ndarray | None:
    """True for rows whose TTL moment is <= now (None when the table has no TTL)."""
    seconds = evaluate_ttl(block, metadata)
    if seconds is None:
        return None
    with np.errstate(invalid="ignore"):
        return seconds <= now  # NaN (NULL) compares False: never expires


NEVER = 2 ** 63 - 1  # the max of a range containing a NULL TTL: that row never expires


def ttl_range(seconds: np.ndarray | None) -> tuple[int, int] | None:
    """(min, max) whole seconds of the TTL values, or None when there are none.

    The max is `NEVER` when some value is NULL, so such a part is never fully expired.
    """
    if seconds is None or seconds.shape[0] == 0:
        return None
    nan = np.isnan(seconds)
    finite = seconds[~nan]
    if finite.shape[0] == 0:
        return None
    hi = NEVER if nan.any() else int(math.floor(finite.max()))
    return int(math.floor(finite.min())), hi


def ttl_file_bytes(rng: tuple[int, int] | None) -> bytes:
    table = None if rng is None else {"min": rng[0], "max": rng[1]}
    return ("ttl format version: 1\n" + json.dumps({"table": table}) + "\n").encode()


def ttl_extra_files(block, metadata) -> dict[str, bytes]:
    """`{"ttl.txt": ...}` describing the TTL range of `block` (empty without a table TTL)."""
    seconds = evaluate_ttl(block, metadata)
    if seconds is None:
        return {}
    return {TTL_FILE: ttl_file_bytes(ttl_range(seconds))}


def part_ttl_range(part) -> tuple[int, int] | None | bool:
    """(min, max) from the part's ttl.txt; None if the part has no TTL values; False if no file."""
    path = part.path / TTL_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        return False
    lines = text.splitlines()
    if len(lines) < 2 or lines[0] != "ttl format version: 1":
        from mergetree.errors import CorruptedPartError

        raise CorruptedPartError(part.name, TTL_FILE, f"unknown header {lines[0]!r}" if lines else "empty file")
    table = json.loads(lines[1]).get("table")
    return None if table is None else (int(table["min"]), int(table["max"]))


def part_fully_expired(part, metadata, now: float) -> bool:
    """Every row of `part` has an expired TTL (the part can be dropped without reading it)."""
    if getattr(metadata, "ttl_ast", None) is None or part.rows == 0:
        return False
    rng = part_ttl_range(part)
    if rng is False:  # written before TTL info existed: compute it from the rows
        block = part.read(ttl_columns(metadata))
        from mergetree.storage.mutations import read_row_mask

        mask = read_row_mask(part)
        if mask is not None:
            block = block.filter(mask)
        rng = ttl_range(evaluate_ttl(block, metadata))
    return rng is not None and rng[1] <= now
