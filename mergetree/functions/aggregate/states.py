"""Aggregate function states: -State, -Merge, -MergeState, -SimpleState, finalizeAggregation,
initializeAggregation, and the ``AggregateFunction(f, T..)`` column they live in.

A state is what the streaming aggregation already computes per block (``registry.py``): *state
rows*, i.e. a few columns whose rows, labelled with a group, let ``final`` compute the result.
count/sum keep one counter row per group, avg (sum, count), min/max/any/anyLast/argMin/argMax the
chosen argument row, uniq/uniqExact the distinct argument rows (so a union of states is exactly
the set union: ``uniqMerge`` over many parts equals ``uniq`` over the raw rows), quantile* and
groupArray the values themselves (the sample). An ``AggregateFunction`` value is therefore
"a variable-length list of state rows":

    AggregateStateColumn(type, offsets, states)   # offsets: int64 (n + 1); states: Columns

* ``fState(args)`` runs ``partial`` and lays the state rows out group by group;
* ``fMerge(state)`` expands every value back into labelled state rows and runs ``final``;
* ``fMergeState(state)`` expands and *combines* them into one compact state per group: counters
  are summed by the numba ``grouped_sum`` kernel, extremes re-pick one row, uniq states are
  de-duplicated (a set union), sample states are concatenated.

On disk (``storage/part_writer.py``) a state column is serialization kind ``aggregate_state``:
``c.size0`` (uint32 state rows per value) + every state column ``i`` at ``c.state<i>`` serialized
by its own type (fixed-width numeric states are plain numpy arrays), plus ``state_version``
(:data:`STATE_VERSION`) and the state column types; a reader refuses a part whose layout differs
from what this code computes for the function (rather than misreading it).
"""

from __future__ import annotations

import functools

import numpy as np

from mergetree import types as T
from mergetree.column import Column, _as_indices, _ranged_positions
from mergetree.errors import IllegalTypeOfArgumentError, NumberOfArgumentsError, TypeMismatchError

STATE_VERSION = 1
STATE_COMBINATORS = ("MergeState", "SimpleState", "State", "Merge")

# how the state rows of one base function combine (see module docstring); anything else: concat
_SUMMED = {"count", "sum", "avg", "sumWithOverflow"}
_REPICKED = {"min", "max", "any", "anyLast", "argMin", "argMax", "uniq", "uniqExact", "anyHeavy"}


# --------------------------------------------------------------------------- the column


class AggregateStateColumn(Column):
    """``offsets`` (int64, n + 1) into the state rows ``states`` (one Column per state column)."""

    __slots__ = ("offsets", "states")
    is_aggregate_state = True

    def __init__(self, type: T.AggregateFunctionType, offsets: np.ndarray, states):
        offsets = np.asarray(offsets)
        states = list(states)
        if offsets.dtype != np.int64 or offsets.ndim != 1 or len(offsets) == 0 or offsets[0] != 0 \
                or any(len(s) != int(offsets[-1]) for s in states):
            raise TypeMismatchError(f"AggregateStateColumn of {type}: offsets must be int64 from 0 to the "
                                    f"number of state rows")
        self.type = type
        self.offsets = offsets
        self.states = states

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def take(self, indices) -> "AggregateStateColumn":
        idx = _as_indices(indices)
        starts = self.offsets[:-1][idx]
        offsets, pos = _ranged_positions(starts, self.offsets[1:][idx] - starts)
        return AggregateStateColumn(self.type, offsets, [s.take(pos) for s in self.states])

    def slice(self, start: int, stop: int) -> "AggregateStateColumn":
        start, stop, _ = slice(start, stop).indices(len(self))
        stop = max(stop, start)
        offs = self.offsets[start:stop + 1]
        a, b = int(offs[0]), int(offs[-1])
        return AggregateStateColumn(self.type, offs - offs[0], [s.slice(a, b) for s in self.states])

    @classmethod
    def _concat(cls, columns):
        parts = [np.zeros(1, np.int64)]
        base = 0
        for c in columns:
            parts.append(c.offsets[1:] + base)
            base += int(c.offsets[-1])
        k = len(columns[0].states)
        return AggregateStateColumn(columns[0].type, np.concatenate(parts),
                                    [Column.concat([c.states[i] for c in columns]) for i in range(k)])

    @property
    def nbytes(self) -> int:
        return self.offsets.nbytes + sum(s.nbytes for s in self.states)

    def to_pylist(self) -> list:
        """The finalized values (ClickHouse prints a state's binary serialization instead)."""
        return finalize(self).to_pylist()

    def order_key(self, descending: bool = False):
        raise IllegalTypeOfArgumentError(f"Values of type {self.type} cannot be compared or sorted")

    def dense_ranks(self) -> np.ndarray:
        self.order_key()

    def equals(self, other) -> bool:
        return (isinstance(other, AggregateStateColumn) and other.type == self.type
                and np.array_equal(self.offsets, other.offsets)
                and all(a.equals(b) for a, b in zip(self.states, other.states)))


# --------------------------------------------------------------------------- layouts


def _split_name(name: str):
    from mergetree.functions.aggregate.registry import _split

    return _split(name)


@functools.lru_cache(maxsize=512)
def nested_function(t: T.AggregateFunctionType, params: tuple | None = None):
    """The AggregateFunction that produced states of type `t`."""
    from mergetree.functions.aggregate.registry import get_aggregate

    return get_aggregate(t.function, list(t.arg_types), t.params if params is None else params)


@functools.lru_cache(maxsize=512)
def state_types(t: T.AggregateFunctionType) -> tuple:
    """Types of the state columns of `t` (what ``partial`` of the function returns)."""
    from mergetree.column import default_column

    fn = nested_function(t)
    _, cols = fn.partial(np.zeros(0, np.int64), 0, [default_column(a, 0) for a in t.arg_types])
    return tuple(c.type for c in cols)


def empty_states(t: T.AggregateFunctionType, n: int) -> AggregateStateColumn:
    """n values holding the empty state (a group no row reached)."""
    from mergetree.column import default_column

    return AggregateStateColumn(t, np.zeros(n + 1, np.int64), [default_column(s, 0) for s in state_types(t)])


def from_state_rows(t: T.AggregateFunctionType, sids: np.ndarray, n_groups: int, cols: list,
                    combine: bool = True) -> AggregateStateColumn:
    """Lay out labelled state rows (group ids `sids`) as one value per group."""
    sids = np.asarray(sids, np.int64)
    if combine:
        sids, cols = combine_state_rows(t, sids, n_groups, cols)
    if len(sids) > 1 and np.any(sids[1:] < sids[:-1]):
        order = np.argsort(sids, kind="stable")
        sids = sids[order]
        cols = [c.take(order) for c in cols]
    counts = np.bincount(sids, minlength=n_groups).astype(np.int64) if len(sids) else np.zeros(n_groups, np.int64)
    offsets = np.zeros(n_groups + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return AggregateStateColumn(t, offsets, cols)


def expand(ids: np.ndarray, col) -> tuple[np.ndarray, list]:
    """State rows of every value of `col`, labelled with the value's group (rows with id -1 skip)."""
    from mergetree.functions import values as V

    if V.is_const(col):
        col = V.materialize(col)
    ids = np.asarray(ids, np.int64)
    live = np.flatnonzero(ids >= 0)
    if len(live) != len(ids):
        col = col.take(live)
        ids = ids[live]
    return np.repeat(ids, col.lengths), list(col.states)


def combine_state_rows(t: T.AggregateFunctionType, sids: np.ndarray, n_groups: int, cols: list):
    """Reduce state rows to a compact set with the same meaning (module docstring)."""
    if len(sids) == 0:
        return sids, cols
    split = _split_name(t.function)
    base, combinators = split if split else (t.function, [])
    if "Distinct" in combinators:
        return _distinct_rows(sids, cols)
    if base in _SUMMED:
        from mergetree.kernels.aggregates import grouped_count, grouped_sum

        groups = np.flatnonzero(grouped_count(sids, n_groups))
        out = []
        for c in cols:
            acc = np.float64 if c.values.dtype.kind == "f" else (np.int64 if c.values.dtype.kind == "i"
                                                                else np.uint64)
            out.append(type(c)(c.type, grouped_sum(sids, c.values, n_groups, acc)[groups].astype(c.values.dtype)))
        return groups.astype(np.int64), out
    if base in ("uniq", "uniqExact"):
        return _distinct_rows(sids, cols)
    if base in _REPICKED:
        from mergetree.functions.aggregate.registry import get_aggregate

        fn = get_aggregate(base, [c.type for c in cols])
        return fn.partial(sids, n_groups, cols)
    return sids, cols


def _distinct_rows(sids, cols):
    from mergetree.column import FixedColumn
    from mergetree.kernels.groupby import group_rows

    _, _, first = group_rows([FixedColumn(T.Int64, sids)] + list(cols))
    first = np.sort(first)
    return sids[first], [c.take(first) for c in cols]


def finalize(col: AggregateStateColumn) -> Column:
    """finalizeAggregation: one result per value."""
    n = len(col)
    sids, cols = expand(np.arange(n, dtype=np.int64), col)
    return nested_function(col.type).final(sids, n, cols)


# --------------------------------------------------------------------------- combinators


def resolve_state_combinator(name: str, arg_types: list, params: tuple):
    """get_aggregate for a name ending in -State / -Merge / -MergeState / -SimpleState."""
    from mergetree.functions.aggregate.registry import AggregateFunction, get_aggregate

    suffix = next(s for s in STATE_COMBINATORS if name.endswith(s) and _split_name(name[:-len(s)]))
    inner_name = name[:-len(suffix)]
    if suffix == "SimpleState":
        fn = get_aggregate(inner_name, arg_types, params)
        return AggregateFunction(name, fn.arg_types, fn.params, fn.type, fn.compute, fn.partial, fn.final)
    if suffix == "State":
        fn = get_aggregate(inner_name, arg_types, params)
        t = T.AggregateFunctionType(inner_name, tuple(params), tuple(arg_types))

        def compute(ids, n_groups, args):
            sids, cols = fn.partial(ids, n_groups, args)
            return from_state_rows(t, sids, n_groups, cols)

        def final(sids, n_groups, cols):
            return from_state_rows(t, sids, n_groups, cols)

        return AggregateFunction(name, tuple(arg_types), tuple(params), t, compute, fn.partial, final)
    # Merge / MergeState
    if len(arg_types) != 1:
        raise NumberOfArgumentsError(f"Aggregate function {name} requires one argument (a state), "
                                     f"passed {len(arg_types)}")
    t = arg_types[0]
    if not isinstance(t, T.AggregateFunctionType) or _base_of(t.function) != _base_of(inner_name) \
            or (t.function != inner_name and _split_name(inner_name)[1]):
        raise IllegalTypeOfArgumentError(
            f"Illegal type {t} of argument for aggregate function {name}, expected "
            f"AggregateFunction({inner_name}, ...) or equivalent type")
    fn = nested_function(t, tuple(params) if params else None)

    def partial(ids, n_groups, args):
        return expand(ids, args[0])

    if suffix == "Merge":
        def compute(ids, n_groups, args):
            return fn.final(*_swap(expand(ids, args[0]), n_groups))

        return AggregateFunction(name, (t,), tuple(params), fn.type, compute, partial, fn.final)

    def compute_state(ids, n_groups, args):
        sids, cols = expand(ids, args[0])
        return from_state_rows(t, sids, n_groups, cols)

    def final_state(sids, n_groups, cols):
        return from_state_rows(t, sids, n_groups, cols)

    return AggregateFunction(name, (t,), tuple(params), t, compute_state, partial, final_state)


def _base_of(name: str) -> str:
    s = _split_name(name)
    return s[0] if s else name


def _swap(sids_cols, n_groups):
    sids, cols = sids_cols
    return sids, n_groups, cols


# --------------------------------------------------------------------------- merging (engines)


def merge_runs(col, starts: np.ndarray, n: int):
    """One state per run of rows (runs start at `starts`; n rows): AggregatingMergeTree merges."""
    run_id = np.repeat(np.arange(len(starts), dtype=np.int64), np.diff(np.append(starts, n)))
    sids, cols = expand(run_id, col)
    return from_state_rows(col.type, sids, len(starts), cols)


def simple_runs(function: str, col, starts: np.ndarray, n: int):
    """SimpleAggregateFunction(function, T): the function over every run, as a T column."""
    from mergetree.functions.aggregate.registry import get_aggregate

    run_id = np.repeat(np.arange(len(starts), dtype=np.int64), np.diff(np.append(starts, n)))
    fn = get_aggregate(function, [col.type])
    out = fn.compute(run_id, len(starts), [col])
    if out.type != col.type:
        from mergetree.sql import _cast

        out = _cast(out, col.type)
    return out


# --------------------------------------------------------------------------- scalar functions


def _register_scalars():
    from mergetree.functions.registry import NOT_CONST, register

    @register("finalizeAggregation", null_mode="raw")
    def finalize_aggregation(types, consts):
        if len(types) != 1 or not isinstance(types[0], T.AggregateFunctionType):
            raise IllegalTypeOfArgumentError(f"Argument for function finalizeAggregation must be an aggregate "
                                              f"function state, got {', '.join(map(str, types)) or 'nothing'}")
        fn = nested_function(types[0])

        def run(args, n):
            from mergetree.functions import values as V

            return finalize(V.materialize(args[0]) if V.is_const(args[0]) else args[0])

        return fn.type, run

    @register("initializeAggregation", null_mode="raw")
    def initialize_aggregation(types, consts):
        if len(types) < 2 or not isinstance(consts[0], str):
            raise NumberOfArgumentsError("Function initializeAggregation requires a constant aggregate "
                                         "function name and at least one argument")
        from mergetree.functions.aggregate.registry import get_aggregate

        fn = get_aggregate(consts[0], list(types[1:]))

        def run(args, n):
            from mergetree.functions import values as V

            cols = [V.materialize(a) if V.is_const(a) else a for a in args[1:]]
            return fn.compute(np.arange(n, dtype=np.int64), n, cols)

        return fn.type, run

    return NOT_CONST


_register_scalars()
