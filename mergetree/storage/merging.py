"""The engines' merging algorithms: what happens when rows with the same sorting key meet.

In the MergeTree family the engine only changes one thing: how a run of rows
with an equal sorting key is reduced when those rows meet, in a merge (the
merger) or at read time (`SELECT ... FINAL`).  Each engine is a small
`MergingAlgorithm` whose `collapse(block, keys, final=...)` receives a
block already stable-sorted by the key (so rows of one key are adjacent and in
insertion order: older blocks first) and returns the reduced block.

| engine (arguments)                         | a run of equal keys becomes                                     |
|--------------------------------------------|-----------------------------------------------------------------|
| `MergeTree`                                | unchanged                                                       |
| `ReplacingMergeTree([ver [, is_deleted]])` | the row with max `ver` (ties / no ver: the last inserted); with `is_deleted`, FINAL (or a cleanup merge) hides the key when that row has is_deleted = 1 |
| `SummingMergeTree([cols])`                 | one row: summable columns (numbers, not in the sorting or partition key; only `cols` when given) summed with wrap-around, every other column from the first row; dropped when all summed columns are 0 |
| `CollapsingMergeTree(sign)`                | +1/-1 rows cancel (see `mergetree.kernels.merge.collapsing_keep`); FINAL keeps only a surviving +1 row |
| `VersionedCollapsingMergeTree(sign, ver)`  | within equal (key, ver), each row cancels the latest surviving row of the other sign, in any order; FINAL is the same |
| `AggregatingMergeTree`                     | one row: `AggregateFunction` columns hold the run's merged states, `SimpleAggregateFunction(f, T)` columns f over the run, other columns the first row (SummingMergeTree merges `AggregateFunction` columns the same way) |

The per-row work runs in `mergetree.kernels.merge` (numba, nogil).  Runs are
found by comparing adjacent rows: String keys byte by byte, other keys on the
columns' `order_key()` arrays, so equality is ClickHouse's equality of the
sorting-key values (NaN equals NaN, as in grouping).

Behaviour checked against ClickHouse 26.9 (chDB) in tests/test_engines.py:
Summing sums Bool and Nullable numbers (NULLs skipped; all-NULL stays NULL) and
keeps a row whose Nullable sum is a non-NULL 0; it does not sum Date/DateTime;
Collapsing keeps the first -1 and last +1 of a balanced run that ends with +1.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from mergetree.errors import BadArgumentsError, IncorrectDataError, UnknownColumnError

log = logging.getLogger(__name__)

__all__ = ["MergingAlgorithm", "OrdinaryAlgorithm", "ReplacingAlgorithm", "SummingAlgorithm", "AggregatingAlgorithm",
           "CollapsingAlgorithm", "VersionedCollapsingAlgorithm", "algorithm_for", "register_algorithm",
           "run_starts_of", "key_parts"]


# --------------------------------------------------------------------------- helpers over Blocks

def _kernels():
    from mergetree.kernels import merge as km  # numba is imported lazily inside
    return km


def _order_keys(column) -> list[np.ndarray]:
    key = column.order_key()
    keys = list(key) if isinstance(key, tuple) else [key]
    out = []
    for k in keys:
        k = np.asarray(k)
        if k.ndim > 1:  # e.g. (n, 2) UUID halves: one key per trailing column
            out.extend(np.ascontiguousarray(k[:, j]) for j in range(k.shape[1]))
        else:
            out.append(k)
    return out


def key_parts(column) -> list[tuple]:
    """Split a sorting-key column into comparable pieces, most significant first.

    ``("string", offsets, data)`` for String values (compared as bytes, no global ranking
    needed) and ``("fixed", array)`` for numeric order keys (`Column.order_key()`).
    """
    from mergetree.column import NullableColumn, StringColumn

    if isinstance(column, StringColumn):
        return [("string", column.offsets, column.data)]
    if isinstance(column, NullableColumn) and isinstance(column.values, StringColumn):
        # NULL rows hold '' (the type default), so NULLs compare equal among themselves
        return [("fixed", column.nulls.view(np.uint8)), ("string", column.values.offsets, column.values.data)]
    return [("fixed", k) for k in _order_keys(column)]


def _key_columns_of(block, keys) -> list:
    if hasattr(keys, "columns") and hasattr(keys, "num_rows"):
        if not keys.columns:                 # ORDER BY tuple(): every row has the same (empty) key
            return []
        if keys.num_rows != block.num_rows:
            raise ValueError(f"sorting-key block has {keys.num_rows} rows, the data block {block.num_rows}")
        return list(keys.columns.values())
    return [block[name] for name in keys]


def run_starts_of(block, keys) -> np.ndarray:
    """Start rows of the runs of equal sorting keys in a block sorted by the key.

    `keys` is either a list of column names of `block` or a Block holding the
    evaluated sorting-key columns (same rows as `block`; e.g. ``toDate(ts)``).
    """
    km = _kernels()
    n = block.num_rows
    if n == 0:
        return np.empty(0, dtype=np.int64)
    flags = np.zeros(n, dtype=np.bool_)
    flags[0] = True
    for column in _key_columns_of(block, keys):
        for piece in key_parts(column):
            if piece[0] == "string":
                km.flag_string_changes(piece[1], piece[2], flags)
            else:
                key = piece[1]
                km.flag_key_changes(key.view(np.uint8) if key.dtype == np.bool_ else key, flags)
    return np.flatnonzero(flags).astype(np.int64)


def _key_names(keys) -> list[str]:
    if hasattr(keys, "columns") and hasattr(keys, "num_rows"):
        return list(keys.columns)
    return list(keys)


def _replace_columns(block, replacements: dict):
    from mergetree.column import Block

    return Block({name: replacements.get(name, column) for name, column in block.columns.items()})


def _plain_values(column) -> tuple[np.ndarray, np.ndarray | None]:
    """(values, nulls) of a fixed-width numeric column, looking through Nullable."""
    nulls = getattr(column, "nulls", None)
    if nulls is not None:
        return column.values.values, nulls
    return column.values, None


def _int_view(name: str, column, what: str) -> np.ndarray:
    values, nulls = _plain_values(column)
    if nulls is not None and nulls.any():
        row = int(np.flatnonzero(nulls)[0])
        raise IncorrectDataError(f"Incorrect data: {what} column {name!r} is NULL at row {row}")
    return values


# --------------------------------------------------------------------------- algorithms

class MergingAlgorithm:
    """Reduce runs of equal sorting keys. Subclasses override `collapse`."""

    name = "MergeTree"

    def collapse(self, block, key_columns, *, final: bool = False, cleanup: bool = False):
        """`block` is sorted by the sorting key with ties in insertion order.

        `key_columns` names the sorting-key columns of `block`, or is a Block of the
        evaluated sorting-key columns (named by their expression text), row-aligned.

        `final` is True at read time (SELECT ... FINAL) and False in a merge; `cleanup`
        is OPTIMIZE ... FINAL CLEANUP (ReplacingMergeTree drops deleted rows for good).
        """
        return block

    @property
    def needs_merge_on_read(self) -> bool:
        """Whether FINAL changes anything for this engine (plain MergeTree: no)."""
        return type(self) is not MergingAlgorithm and type(self) is not OrdinaryAlgorithm


class OrdinaryAlgorithm(MergingAlgorithm):
    name = "MergeTree"


@dataclass
class ReplacingAlgorithm(MergingAlgorithm):
    version: str | None = None
    is_deleted: str | None = None
    name = "ReplacingMergeTree"

    def collapse(self, block, key_columns, *, final=False, cleanup=False):
        n = block.num_rows
        if n == 0:
            return block
        km = _kernels()
        starts = run_starts_of(block, key_columns)
        version = None
        if self.version is not None:
            keys = _order_keys(block[self.version])
            if len(keys) != 1:
                raise BadArgumentsError(f"ReplacingMergeTree version column {self.version!r} must be a "
                                        "number, Date or DateTime")
            version = keys[0]
        winners = km.replacing_select(starts, n, version)
        if self.is_deleted is not None:
            flags = _int_view(self.is_deleted, block[self.is_deleted], "is_deleted")
            bad = (flags != 0) & (flags != 1)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise IncorrectDataError(f"Incorrect data: is_deleted = {int(flags[row])} (must be 1 or 0) "
                                         f"in column {self.is_deleted!r} at row {row}")
            if final or cleanup:
                winners = winners[flags[winners] == 0]
        if winners.shape[0] == n:  # every key was unique: nothing to gather
            return block
        return block.take(winners)


_SUMMABLE_KINDS = {"int", "float", "bool", "decimal"}


def is_summable(dtype) -> bool:
    """Numbers, Bool and Decimal (and Nullable of them) are summed; dates, strings, enums are not."""
    inner = dtype.inner if getattr(dtype, "kind", None) == "nullable" else dtype
    return getattr(inner, "kind", None) in _SUMMABLE_KINDS


@dataclass
class SummingAlgorithm(MergingAlgorithm):
    schema: list = field(default_factory=list)       # [(name, DataType)]
    columns_to_sum: list[str] | None = None           # SummingMergeTree((a, b)); None = all summable
    excluded: set = field(default_factory=set)        # sorting-key and partition-key columns
    name = "SummingMergeTree"

    @property
    def summed(self) -> list[str]:
        out = []
        for col, dtype in self.schema:
            if col in self.excluded or not is_summable(dtype):
                continue
            if self.columns_to_sum is None or col in self.columns_to_sum:
                out.append(col)
        return out

    def collapse(self, block, key_columns, *, final=False, cleanup=False):
        n = block.num_rows
        if n == 0:
            return block
        km = _kernels()
        summed = [c for c in self.summed if c not in _key_names(key_columns)]
        starts = run_starts_of(block, key_columns)
        singletons = starts.shape[0] == n
        first = block if singletons else block.take(starts)  # non-summed columns: the run's first row
        states = {} if singletons else _merge_state_columns(block, starts, self.schema, _key_names(key_columns))
        if states:                                            # AggregateFunction columns: merged states
            first = _replace_columns(first, states)
        if not summed:
            return first
        from mergetree.column import FixedColumn, NullableColumn

        replacements = {}
        nonzero = np.zeros(starts.shape[0], dtype=np.bool_)
        for name in summed:
            column = block[name]
            values, nulls = _plain_values(column)
            if values.dtype == np.bool_:
                values = values.view(np.uint8)
            totals = km.segment_sum(values, starts)
            if nulls is None:
                replacements[name] = FixedColumn(column.type, totals)
                nonzero |= totals != 0
            else:
                present = km.segment_sum((~nulls).astype(np.int64), starts)
                all_null = present == 0
                totals[all_null] = 0
                inner = FixedColumn(column.type.inner, totals)
                replacements[name] = NullableColumn(column.type, inner, all_null)
                # observed in ClickHouse: a non-NULL Nullable sum keeps the row even when it is 0
                nonzero |= ~all_null
        merged = first if singletons else _replace_columns(first, replacements)
        if nonzero.all():
            return merged
        return merged.filter(nonzero)


@dataclass
class CollapsingAlgorithm(MergingAlgorithm):
    sign: str = "sign"
    name = "CollapsingMergeTree"

    def collapse(self, block, key_columns, *, final=False, cleanup=False):
        n = block.num_rows
        if n == 0:
            return block
        km = _kernels()
        sign = _int_view(self.sign, block[self.sign], "sign")
        bad = (sign != 1) & (sign != -1)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise IncorrectDataError(f"Incorrect data: Sign = {int(sign[row])} (must be 1 or -1) in column "
                                     f"{self.sign!r} at row {row}")
        starts = run_starts_of(block, key_columns)
        keep, inconsistent = km.collapsing_keep(starts, n, sign.astype(np.int8, copy=False), final)
        if inconsistent:
            log.warning("CollapsingMergeTree: %d key(s) have numbers of sign=1 and sign=-1 rows differing by "
                        "more than one (incorrect data)", inconsistent)
        return block if keep.all() else block.filter(keep)


@dataclass
class VersionedCollapsingAlgorithm(MergingAlgorithm):
    """VersionedCollapsingMergeTree(sign, version): +1/-1 rows with the same key *and version*
    cancel whatever their order. ClickHouse appends the version to the sorting key; here the
    block may be sorted by ORDER BY alone, so rows are stably re-sorted by version inside each
    key run first. The output is sorted by (key, version)."""

    sign: str = "sign"
    version: str = "version"
    name = "VersionedCollapsingMergeTree"

    def collapse(self, block, key_columns, *, final=False, cleanup=False):
        n = block.num_rows
        if n == 0:
            return block
        km = _kernels()
        sign = _int_view(self.sign, block[self.sign], "sign")
        bad = (sign != 1) & (sign != -1)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise IncorrectDataError(f"Incorrect data: Sign = {int(sign[row])} (must be 1 or -1) in column "
                                     f"{self.sign!r} at row {row}")
        starts = run_starts_of(block, key_columns)
        run_id = np.repeat(np.arange(starts.shape[0]), np.diff(np.append(starts, n)))
        version_keys = _order_keys(block[self.version])
        perm = np.lexsort([*version_keys[::-1], run_id])
        if not np.all(perm[1:] > perm[:-1]):
            block = block.take(perm)
            sign = sign[perm]
            run_id = run_id[perm]
            version_keys = [k[perm] for k in version_keys]
        flags = np.zeros(n, dtype=np.bool_)
        flags[0] = True
        km.flag_key_changes(run_id, flags)
        for k in version_keys:
            km.flag_key_changes(k.view(np.uint8) if k.dtype == np.bool_ else k, flags)
        groups = np.flatnonzero(flags).astype(np.int64)
        keep = km.versioned_collapsing_keep(groups, n, sign.astype(np.int8, copy=False))
        return block.filter(keep)


def _merge_state_columns(block, starts, schema, skip=()) -> dict:
    """AggregateFunction columns: one merged state per run (states.merge_runs)."""
    from mergetree.types import AggregateFunctionType

    out = {}
    for name, dtype in schema:
        if isinstance(dtype, AggregateFunctionType) and name not in skip:
            from mergetree.functions.aggregate.states import merge_runs

            out[name] = merge_runs(block[name], starts, block.num_rows)
    return out


@dataclass
class AggregatingAlgorithm(MergingAlgorithm):
    """AggregatingMergeTree: a run of equal keys becomes one row whose AggregateFunction columns
    hold the merged states (numeric counters summed by numba kernels, uniq states unioned ...,
    see functions/aggregate/states.py), SimpleAggregateFunction(f, T) columns f over the run, and
    every other column the run's first row. FINAL does the same at read time."""

    schema: list = field(default_factory=list)       # [(name, declared DataType)]
    name = "AggregatingMergeTree"

    def collapse(self, block, key_columns, *, final=False, cleanup=False):
        n = block.num_rows
        if n == 0:
            return block
        starts = run_starts_of(block, key_columns)
        if starts.shape[0] == n:
            return block
        from mergetree.types import SimpleAggregateFunctionType

        keys = set(_key_names(key_columns))
        replacements = _merge_state_columns(block, starts, self.schema, keys)
        for name, dtype in self.schema:
            if isinstance(dtype, SimpleAggregateFunctionType) and name not in keys:
                from mergetree.functions.aggregate.states import simple_runs

                replacements[name] = simple_runs(dtype.function, block[name], starts, n)
        return _replace_columns(block.take(starts), replacements)


def _aggregating_factory(engine_args, schema, sorting_key_columns, partition_columns):
    if engine_args:
        raise BadArgumentsError("AggregatingMergeTree takes no engine arguments")
    from mergetree.types import AggregateFunctionType, SimpleAggregateFunctionType

    for name, dtype in schema:       # fail at CREATE TABLE, not in the first merge
        if isinstance(dtype, AggregateFunctionType):
            from mergetree.functions.aggregate.states import state_types

            state_types(dtype)
        elif isinstance(dtype, SimpleAggregateFunctionType):
            from mergetree.functions.aggregate.registry import get_aggregate

            get_aggregate(dtype.function, [dtype.inner])
    return AggregatingAlgorithm(list(schema))


# --------------------------------------------------------------------------- factory

Factory = Callable[[list, list, list, list], MergingAlgorithm]
_REGISTRY: dict[str, Factory] = {}


def register_algorithm(engine_name: str, factory: Factory) -> None:
    """Plug in an engine: `factory(engine_args, schema, sorting_key_columns, partition_columns)`.

    This is the hook for AggregatingMergeTree: its algorithm merges
    `AggregateFunction` states (and combines `SimpleAggregateFunction` values)
    over each run given by `run_starts_of(block, key_columns)`, taking other
    columns from the first row, like SummingAlgorithm.
    """
    _REGISTRY[engine_name] = factory


def _arg_names(args: Sequence[str]) -> list[str]:
    names = []
    for a in args:
        a = a.strip()
        if a.startswith("(") and a.endswith(")"):
            names.extend(x.strip() for x in a[1:-1].split(",") if x.strip())
        else:
            names.append(a)
    return names


def _check_column(schema_names, engine, col, what):
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", col or ""):
        raise BadArgumentsError(f"{engine}: {what} must be a column name, got {col!r}")
    if col not in schema_names:
        raise UnknownColumnError(f"{engine}: {what} column {col!r} is not in the table")


def algorithm_for(engine_name, engine_args: Sequence[str] | None = None, schema: list | None = None,
                  sorting_key_columns: Sequence[str] = (), partition_columns: Sequence[str] = ()) -> MergingAlgorithm:
    """The merging algorithm of a table engine.

    Either ``algorithm_for(metadata)`` with a TableMetadata, or explicitly
    ``algorithm_for("ReplacingMergeTree", ["ver"], schema, ["k"])``.
    """
    if engine_args is None and hasattr(engine_name, "engine_name"):
        m = engine_name
        if m.engine_name == "AggregatingMergeTree":     # needs the SimpleAggregateFunction declarations
            return _aggregating_factory(m.engine_args, getattr(m, "declared_schema", m.schema), m.order_by,
                                        m.partition_columns)
        return algorithm_for(m.engine_name, m.engine_args, m.schema, m.order_by, m.partition_columns)
    schema = list(schema or [])
    engine_args = list(engine_args or [])
    names = [n for n, _ in schema]
    types = dict(schema)
    args = _arg_names(engine_args)
    if engine_name in _REGISTRY:
        return _REGISTRY[engine_name](list(engine_args), list(schema), list(sorting_key_columns),
                                      list(partition_columns))
    if engine_name == "AggregatingMergeTree":
        return _aggregating_factory(engine_args, schema, sorting_key_columns, partition_columns)
    if engine_name == "MergeTree":
        if args:
            raise BadArgumentsError("MergeTree takes no engine arguments")
        return OrdinaryAlgorithm()
    if engine_name == "ReplacingMergeTree":
        if len(args) > 2:
            raise BadArgumentsError("ReplacingMergeTree takes at most 2 arguments: ver [, is_deleted]")
        for a, what in zip(args, ("version", "is_deleted")):
            _check_column(names, engine_name, a, what)
        if len(args) == 2:
            t = types[args[1]]
            if str(t) not in ("UInt8", "Bool"):
                raise BadArgumentsError(f"ReplacingMergeTree: is_deleted column {args[1]!r} must be UInt8, got {t}")
        return ReplacingAlgorithm(args[0] if args else None, args[1] if len(args) > 1 else None)
    if engine_name == "SummingMergeTree":
        for a in args:
            _check_column(names, engine_name, a, "column to sum")
            if a in sorting_key_columns:
                raise BadArgumentsError(f"SummingMergeTree: column {a!r} to sum is in the sorting key")
        return SummingAlgorithm(list(schema), args or None, set(sorting_key_columns) | set(partition_columns))
    if engine_name == "CollapsingMergeTree":
        if len(args) != 1:
            raise BadArgumentsError("CollapsingMergeTree takes exactly one argument: the sign column")
        _check_column(names, engine_name, args[0], "sign")
        if str(types[args[0]]) != "Int8":
            raise BadArgumentsError(f"CollapsingMergeTree: sign column {args[0]!r} must be Int8, "
                                    f"got {types[args[0]]}")
        return CollapsingAlgorithm(args[0])
    if engine_name == "VersionedCollapsingMergeTree":
        if len(args) != 2:
            raise BadArgumentsError("VersionedCollapsingMergeTree takes exactly two arguments: sign, version")
        _check_column(names, engine_name, args[0], "sign")
        _check_column(names, engine_name, args[1], "version")
        if str(types[args[0]]) != "Int8":
            raise BadArgumentsError(f"VersionedCollapsingMergeTree: sign column {args[0]!r} must be Int8, "
                                    f"got {types[args[0]]}")
        return VersionedCollapsingAlgorithm(args[0], args[1])
    raise BadArgumentsError(f"Engine {engine_name} has no merging algorithm yet "
                            f"(register one with mergetree.storage.merging.register_algorithm)")
