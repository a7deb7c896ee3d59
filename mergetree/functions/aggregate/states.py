"""Aggregate function states: -State, -Merge, -MergeState, -SimpleState, finalizeAggregation,
initializeAggregation, and the ``AggregateFunction(f, T..)`` column they live in.

A state is what the streaming aggregation already computes per block (``registry.py``): *state
rows*, i.e. a few columns whose rows, labelled with a group, let ``final`` compute the result.
count/sum keep one counter row per group, avg (sum, count), min/max/any/anyLast/argMin/argMax the
chosen argument row, quantile* and groupArray the values themselves (the sample). Some functions
store another *layout* (:func:`layout`): uniq a set of 64-bit hashes (CityHash64 / fmix64) and
uniqExact(String) a set of 128-bit hashes, merged as set unions by numba kernels (so ``uniqMerge``
over many parts counts exactly what ``uniq`` over the raw rows counts, up to a 64-bit collision).
An ``AggregateFunction`` value is therefore "a variable-length list of state rows":

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
from mergetree.column import Column, RangedColumn
from mergetree.errors import IllegalTypeOfArgumentError, NumberOfArgumentsError, TypeMismatchError

STATE_VERSION = 3          # 2: uniq states are 64-bit hash sets; 3: uniqExact(String) 128-bit hash sets
STATE_COMBINATORS = ("MergeState", "SimpleState", "State", "Merge")

# how the state rows of one base function combine (see module docstring); anything else: concat
_SUMMED = {"count", "sum", "avg", "sumWithOverflow"}
_REPICKED = {"min", "max", "any", "anyLast", "argMin", "argMax", "uniq", "uniqExact", "anyHeavy"}


# --------------------------------------------------------------------------- the column


class AggregateStateColumn(RangedColumn):
    """``offsets`` (int64, n + 1) into the state rows ``states`` (one Column per state column)."""

    __slots__ = ("states",)
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

    def _children(self) -> list:
        return self.states

    def _with(self, offsets, children) -> "AggregateStateColumn":
        return AggregateStateColumn(self.type, offsets, children)

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


class _RowsLayout:
    """The default layout: the state rows ``partial`` produces, finished by the function's ``final``."""

    def __init__(self, t: T.AggregateFunctionType):
        from mergetree.column import default_column

        self.t = t
        self.fn = nested_function(t)
        _, cols = self.fn.partial(np.zeros(0, np.int64), 0, [default_column(a, 0) for a in t.arg_types])
        self.types = tuple(c.type for c in cols)

    def to_state(self, sids, n_groups, cols):          # partial's rows -> stored state rows
        return sids, cols

    def final(self, sids, n_groups, cols):
        return self.fn.final(sids, n_groups, cols)

    def combine(self, sids, n_groups, cols):
        return _combine_rows(self.t, sids, n_groups, cols)


class _HashSetLayout(_RowsLayout):
    """uniq: a set of 64-bit hashes per value (CityHash64 of strings, fmix64 of numbers, as
    ClickHouse's uniq hashes them); states merge as set unions (``kernels.states.distinct_pairs``),
    so uniqMerge over any split of the rows counts the distinct hashes of all of them (equal to the
    exact distinct count unless two values collide in 64 bits)."""

    def __init__(self, t, if_combinator: bool = False):
        super().__init__(t)
        self.types = (T.UInt64,)
        self.if_combinator = if_combinator

    def to_state(self, sids, n_groups, cols):
        from mergetree.column import FixedColumn

        return self.combine(sids, n_groups, [FixedColumn(T.UInt64, _hash_rows(cols))])

    def hash_partial(self, ids, n_groups, args):
        """-State's partial: the distinct (group, hash) of the rows that reach uniq (-If's condition
        true, no NULL argument)."""
        from mergetree.column import FixedColumn
        from mergetree.functions import values as V

        ids = np.asarray(ids, np.int64)
        args = [V.unwrap_lc(V.materialize(a) if V.is_const(a) else a) for a in args]
        keep = ids >= 0
        if self.if_combinator:
            cond, nulls = V.split_nullable(args[-1])
            keep &= np.asarray(V.materialize(cond).values) != 0
            if nulls is not None:
                keep &= ~nulls
            args = args[:-1]
        plain = []
        for a in args:
            a, nulls = V.split_nullable(a)
            plain.append(V.materialize(a))
            if nulls is not None:
                keep &= ~nulls
        rows = np.flatnonzero(keep)
        if len(rows) != len(ids):
            plain = [a.take(rows) for a in plain]
        return ids[rows], [FixedColumn(T.UInt64, _hash_rows(plain))]     # de-duplicated once, in final

    def final(self, sids, n_groups, cols):
        from mergetree.column import FixedColumn
        from mergetree.kernels.aggregates import grouped_count
        from mergetree.kernels.states import distinct_pairs

        keep = distinct_pairs(sids, cols[0].values, n_groups)
        return FixedColumn(T.UInt64, grouped_count(np.where(keep, sids, -1), n_groups).astype(np.uint64))

    def combine(self, sids, n_groups, cols):
        from mergetree.kernels.states import distinct_pairs

        keep = distinct_pairs(sids, cols[0].values, n_groups)
        if keep.all():
            return sids, cols
        return sids[keep], [c.filter(keep) for c in cols]

    # -Merge / -MergeState: the partial rows are the stored values themselves (one row per state,
    # not per hash); each is a duplicate-free set, so a group fed by one value is answered by its
    # length alone (after merges, the common case: one row per key), and only groups fed by several
    # values are expanded and de-duplicated

    def merge_partial(self, ids, n_groups, col):
        from mergetree.functions import values as V

        if V.is_const(col):
            col = V.materialize(col)
        ids = np.asarray(ids, np.int64)
        live = ids >= 0
        if live.all():
            return ids, [col]
        rows = np.flatnonzero(live)
        return ids[rows], [col.take(rows)]

    def _split_groups(self, sids, n_groups, col):
        """(values per group, rows of values whose group has several values, their expanded rows)."""
        per_group = np.bincount(sids, minlength=n_groups) if len(sids) else np.zeros(n_groups, np.int64)
        multi = np.flatnonzero(per_group[sids] > 1) if len(sids) else np.zeros(0, np.int64)
        return per_group, multi

    def merge_final(self, sids, n_groups, cols):
        from mergetree.column import FixedColumn
        from mergetree.kernels.aggregates import grouped_count
        from mergetree.kernels.states import distinct_pairs

        sids = np.asarray(sids, np.int64)
        col = cols[0]
        per_group, multi = self._split_groups(sids, n_groups, col)
        out = np.zeros(n_groups, np.uint64)
        lengths = col.lengths
        single = per_group[sids] == 1 if len(sids) else np.zeros(0, np.bool_)
        out[sids[single]] = lengths[single]
        if len(multi):
            msids, mcols = expand(sids[multi], col.take(multi))
            keep = distinct_pairs(msids, mcols[0].values, n_groups)
            out += grouped_count(np.where(keep, msids, -1), n_groups).astype(np.uint64)
        return FixedColumn(T.UInt64, out)

    def merge_state(self, sids, n_groups, cols):
        from mergetree.kernels.states import distinct_pairs

        sids = np.asarray(sids, np.int64)
        col = cols[0]
        per_group, multi = self._split_groups(sids, n_groups, col)
        xsids, xcols = expand(sids, col)
        if len(multi):
            mixed_rows = per_group[xsids] > 1
            keep = np.ones(len(xsids), np.bool_)
            rows = np.flatnonzero(mixed_rows)
            keep[rows] = distinct_pairs(xsids[rows], xcols[0].values[rows], n_groups)
            xsids, xcols = xsids[keep], [xcols[0].filter(keep)]
        return from_state_rows(self.t, xsids, n_groups, xcols, combine=False)




class _Hash128Layout(_RowsLayout):
    """uniqExact of one String: a set of 128-bit hashes per value (CityHash64 and an independent
    64-bit mix hash, as ClickHouse keeps a 128-bit SipHash of each string), 16 bytes per distinct
    string whatever its length; exact up to a 128-bit collision."""

    def __init__(self, t, if_combinator: bool = False):
        super().__init__(t)
        self.types = (T.UInt64, T.UInt64)

    def to_state(self, sids, n_groups, cols):
        from mergetree.column import FixedColumn
        from mergetree.kernels.cityhash import hash_rows
        from mergetree.kernels.hashing import hash_strings_mix

        c = cols[0]
        offsets, data = np.asarray(c.offsets, np.int64), np.asarray(c.data, np.uint8)
        return self.combine(sids, n_groups, [FixedColumn(T.UInt64, hash_rows(offsets, data)),
                                             FixedColumn(T.UInt64, hash_strings_mix(offsets, data))])

    def combine(self, sids, n_groups, cols):
        if len(sids) == 0:
            return sids, cols
        from mergetree.column import FixedColumn
        from mergetree.kernels.groupby import group_rows

        _, _, first = group_rows([FixedColumn(T.Int64, np.asarray(sids, np.int64))] + list(cols))
        if len(first) == len(sids):
            return sids, cols
        first = np.sort(first)
        return np.asarray(sids)[first], [c.take(first) for c in cols]

    def final(self, sids, n_groups, cols):
        from mergetree.column import FixedColumn

        sids, _ = self.combine(np.asarray(sids, np.int64), n_groups, cols)
        return FixedColumn(T.UInt64, np.bincount(sids, minlength=n_groups).astype(np.uint64))


def _hashable(t) -> bool:
    return isinstance(t, (T.StringType, T.IntType, T.FloatType, T.BoolType, T.DateType, T.Date32Type,
                          T.DateTimeType, T.DateTime64Type, T.DecimalType))


def _hash_rows(cols) -> np.ndarray:
    from mergetree.kernels.hashing import hash_u64, key_bits
    from mergetree.kernels.states import combine_hashes

    out = None
    for c in cols:
        if isinstance(c.type, T.StringType):
            from mergetree.kernels.cityhash import hash_rows

            h = hash_rows(np.asarray(c.offsets, np.int64), np.asarray(c.data, np.uint8))
        else:
            h = hash_u64(key_bits(np.asarray(c.values)))
        out = h if out is None else combine_hashes(out, h)
    return out


@functools.lru_cache(maxsize=512)
def layout(t: T.AggregateFunctionType):
    split = _split_name(t.function)
    base, combinators = split if split else (t.function, [])
    plain = [V_strip(a) for a in t.arg_types]
    if base == "uniq" and set(combinators) <= {"If"}:
        args = plain[:-1] if "If" in combinators else plain
        if args and all(_hashable(a) for a in args):
            return _HashSetLayout(t, "If" in combinators)
    if base == "uniqExact" and set(combinators) <= {"If"}:
        args = plain[:-1] if "If" in combinators else plain
        if len(args) == 1 and isinstance(args[0], T.StringType):
            return _Hash128Layout(t)
    return _RowsLayout(t)


def V_strip_lc(t):
    from mergetree.functions import values as V

    return V.strip_lc(t)


def V_strip(t):
    from mergetree.functions import values as V

    return V.strip(V.strip_lc(t))


def state_types(t: T.AggregateFunctionType) -> tuple:
    """Types of the state columns of `t`."""
    return layout(t).types


def empty_states(t: T.AggregateFunctionType, n: int) -> AggregateStateColumn:
    """n values holding the empty state (a group no row reached)."""
    from mergetree.column import default_column

    return AggregateStateColumn(t, np.zeros(n + 1, np.int64), [default_column(s, 0) for s in state_types(t)])


def from_state_rows(t: T.AggregateFunctionType, sids: np.ndarray, n_groups: int, cols: list,
                    combine: bool = True) -> AggregateStateColumn:
    """Lay out labelled state rows (group ids `sids`) as one value per group."""
    sids = np.asarray(sids, np.int64)
    if combine:
        sids, cols = layout(t).combine(sids, n_groups, cols)
    if len(sids) > 1 and np.any(sids[1:] < sids[:-1]):
        from mergetree.kernels.states import counting_order

        order, offsets = counting_order(sids, n_groups)
        cols = [c.take(order) for c in cols]
        return AggregateStateColumn(t, offsets, cols)
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


def _combine_rows(t: T.AggregateFunctionType, sids: np.ndarray, n_groups: int, cols: list):
    """Reduce state rows to a compact set with the same meaning (module docstring)."""
    if len(sids) == 0:
        return sids, cols
    split = _split_name(t.function)
    base, combinators = split if split else (t.function, [])
    if "Distinct" in combinators:
        return _distinct_rows(sids, cols)
    if not set(combinators) <= {"If", "OrNull", "OrDefault"}:    # -Array, -ForEach ...: keep the rows
        return sids, cols
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
    return layout(col.type).final(sids, n, cols)


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
        # as ClickHouse: the state's argument types drop LowCardinality (a state of LowCardinality(String)
        # is AggregateFunction(f, String)); Nullable stays
        t = T.AggregateFunctionType(inner_name, tuple(params), tuple(V_strip_lc(a) for a in arg_types))

        def compute(ids, n_groups, args):
            return final(*_swap(fn.partial(ids, n_groups, args), n_groups))

        def final(sids, n_groups, cols):        # partial's rows (of all blocks) -> the stored layout
            sids, cols = layout(t).to_state(np.asarray(sids, np.int64), n_groups, cols)
            return from_state_rows(t, sids, n_groups, cols)

        lay = layout(t)
        if isinstance(lay, _HashSetLayout):      # hash the rows directly: no distinct pass over the values
            def hpartial(ids, n_groups, args):
                return lay.hash_partial(ids, n_groups, args)

            def hfinal(sids, n_groups, cols):
                sids, cols = lay.combine(np.asarray(sids, np.int64), n_groups, cols)
                return from_state_rows(t, sids, n_groups, cols, combine=False)

            def hcompute(ids, n_groups, args):
                return hfinal(*_swap(hpartial(ids, n_groups, args), n_groups))

            return AggregateFunction(name, tuple(arg_types), tuple(params), t, hcompute, hpartial, hfinal)
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
    if params and tuple(params) != tuple(t.params):     # quantilesMerge(0.1, 0.9)(state): other levels
        t_read = T.AggregateFunctionType(t.function, tuple(params), t.arg_types)
        if state_types(t_read) != state_types(t):
            raise IllegalTypeOfArgumentError(f"Aggregate function {name} with parameters {tuple(params)} cannot "
                                             f"read states of type {t}")
    else:
        t_read = t
    lay = layout(t_read)
    if isinstance(lay, _HashSetLayout):
        def hpartial(ids, n_groups, args):
            return lay.merge_partial(ids, n_groups, args[0])

        final = lay.merge_final if suffix == "Merge" else lay.merge_state

        def hcompute(ids, n_groups, args):
            return final(*_swap(hpartial(ids, n_groups, args), n_groups))

        return AggregateFunction(name, (t,), tuple(params), lay.fn.type if suffix == "Merge" else t, hcompute,
                                 hpartial, final)

    def partial(ids, n_groups, args):
        return expand(ids, args[0])

    if suffix == "Merge":
        def compute(ids, n_groups, args):
            return lay.final(*_swap(expand(ids, args[0]), n_groups))

        return AggregateFunction(name, (t,), tuple(params), lay.fn.type, compute, partial, lay.final)

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
        from mergetree.exec.cast import cast_column as _cast

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

        spec, params = consts[0].strip(), ()
        if "(" in spec:                          # initializeAggregation('quantileState(0.9)', x)
            from sqlparse_ch import parse_expr

            try:
                call = parse_expr(spec + "(x)")
                spec, params = call.name, tuple(p.value for p in call.params)
            except Exception as err:  # noqa: BLE001 - reported as a bad argument
                raise IllegalTypeOfArgumentError(f"Cannot parse aggregate function {consts[0]!r} of "
                                                 f"initializeAggregation: {err}") from None
        fn = get_aggregate(spec, list(types[1:]), params)

        def run(args, n):
            from mergetree.functions import values as V

            cols = [V.materialize(a) if V.is_const(a) else a for a in args[1:]]
            return fn.compute(np.arange(n, dtype=np.int64), n, cols)

        return fn.type, run

    return NOT_CONST


_register_scalars()
