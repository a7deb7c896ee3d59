"""Array functions: array (``[a, b]`` literals), arrayElement (``arr[i]``), has; ``length``,
``empty``/``notEmpty`` of arrays live in strings.py.

``[1, 2, 300]`` is Array(UInt16): the elements are cast to their least common supertype.
``arr[i]`` is 1-based, negative from the end; out of range (and 0) gives the element type's
default, as ClickHouse. ``has(arr, x)`` / ``indexOf`` compare with the rules of ``=``, except that a
NULL x finds a NULL element (as ClickHouse).
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import ArrayColumn, Column
from mergetree.errors import MergeTreeError
from mergetree.functions import values as V
from mergetree.functions.registry import check_arity, illegal_type, register


class ZeroArrayIndexError(MergeTreeError):
    """``arr[0]`` on a column: ClickHouse's arrays are 1-based."""

    code = "ZERO_ARRAY_OR_TUPLE_INDEX"


def _array_parts(c):
    """(offsets, values column) of an ArrayColumn or a constant one (1 row)."""
    col = V.inner_data(c)
    return col.offsets, col.values


@register("array", null_mode="raw")
def array(types, consts):
    from mergetree.functions.conditional import cast_column, supertype

    if not types:
        rtype = T.Array(V.Nothing)
        return rtype, lambda args, n: V.ConstColumn(
            ArrayColumn(rtype, np.zeros(2, np.int64), V.fixed(V.Nothing, np.zeros(0, np.uint8))), n)
    elem = supertype(types, "array")
    if isinstance(elem, T.NullableType) and V.is_null_type(elem):
        elem = V.NullType
    rtype = T.Array(elem)

    def impl(args, n):
        k = len(args)
        cols = [V.materialize(cast_column(a, t, elem)) if not V.is_const(a) else
                cast_column(a, t, elem).data for a, t in zip(args, types)]
        # element j of row r is element r of argument j (constants repeat their one row)
        parts = Column.concat(cols)
        bases = np.cumsum([0] + [len(c) for c in cols[:-1]])
        rows = np.arange(n, dtype=np.int64)
        idx = np.empty((n, k), np.int64)
        for j, c in enumerate(cols):
            idx[:, j] = bases[j] + (0 if len(c) == 1 and n != 1 else rows)
        values = parts.take(idx.reshape(-1))
        return ArrayColumn(rtype, np.arange(n + 1, dtype=np.int64) * k, values)

    return rtype, impl


def _rows(arr, n):
    """(starts, lens, values) of an array argument with n rows (a constant repeats its row)."""
    offsets, values = _array_parts(arr)
    if V.is_const(arr):
        return np.full(n, offsets[0], np.int64), np.full(n, offsets[1] - offsets[0], np.int64), values
    return offsets[:-1], np.diff(offsets), values


@register("arrayElement")
def array_element(types, consts):
    check_arity("arrayElement", types, 2)
    at, it = types
    if isinstance(at, T.MapType):  # m['key']
        from mergetree.functions.maps import map_element

        return map_element(types)
    if not isinstance(at, T.ArrayType):
        raise illegal_type("arrayElement", at, 0)
    if not isinstance(it, T.IntType):
        raise illegal_type("arrayElement", it, 1)
    elem = at.inner

    def impl(args, n):
        if not V.is_const(args[0]) and V.is_const(args[1]) and V.values(args[1])[0] == 0:
            raise ZeroArrayIndexError("Array indices are 1-based")
        starts, lens, values = _rows(args[0], n)
        i = np.broadcast_to(V.values(args[1]).astype(np.int64), (n,))
        pos = np.where(i > 0, i - 1, lens + i)
        valid = (i != 0) & (pos >= 0) & (pos < lens)
        src = Column.concat([values, V.default_of(elem, 1)]) if len(values) else V.default_of(elem, 1)
        return src.take(np.where(valid, starts + pos, len(values)))

    return elem, impl


def _elements_equal(arr: ArrayColumn, x, xt, elem, n, null_equals_null=False):
    """Bool per element of `arr` (n rows): equal to its row's x with the rules of ``=`` (NULL
    elements never match, unless null_equals_null and x is NULL). A constant x is compared once
    against all elements, without repeating it per element."""
    from mergetree.functions.comparison import compare_values, comparison_domain

    values = arr.values
    total = len(values)
    x = V.unwrap_lc(x)
    vals, nulls = V.split_nullable(V.unwrap_lc(values))
    if V.is_null_type(V.strip_lc(xt)):   # x is NULL
        if null_equals_null and nulls is not None:
            return nulls.copy()
        return np.zeros(total, np.bool_)
    if isinstance(V.strip(elem), V.NothingType):
        return np.zeros(total, np.bool_)
    plain_elem = V.strip(elem)
    dom = comparison_domain(plain_elem, V.strip(xt), "has")
    xv, xnull = V.split_nullable(x)
    if V.is_const(xv):
        xs = xv.with_size(total)
    else:
        xs = xv.take(_row_of(arr.offsets))
    eq = np.broadcast_to(compare_values("equals", vals, plain_elem, xs, V.strip(xt), dom), (total,))
    if nulls is not None:
        eq = eq & ~nulls
    if xnull is not None:
        xn = np.broadcast_to(xnull, (n,))[_row_of(arr.offsets)] if len(xnull) == n else np.zeros(total, np.bool_)
        eq = eq & ~xn
        if null_equals_null and nulls is not None:
            eq = eq | (xn & nulls)
    return np.ascontiguousarray(eq)


@register("has", null_mode="raw")
def has(types, consts):
    check_arity("has", types, 2)
    at, xt = V.strip_lc(types[0]), types[1]
    if not isinstance(at, T.ArrayType):
        raise illegal_type("has", at, 0)
    elem = at.inner
    if not isinstance(V.strip(elem), V.NothingType) and not V.is_null_type(V.strip_lc(xt)):
        from mergetree.functions.comparison import comparison_domain

        comparison_domain(V.strip(elem), V.strip(xt), "has")   # type errors now

    def impl(args, n):
        a = _arr(args[0], n)
        hit = _elements_equal(a, args[1], xt, elem, n, null_equals_null=True)
        return V.fixed(T.UInt8, (_kern().segment_first_true(a.offsets, hit, False) >= 0).astype(np.uint8))

    return T.UInt8, impl


# --------------------------------------------------------------------------- array function library
#
# Every function works on the flattened elements: ``_arr(c, n)`` gives the argument as an
# ArrayColumn of n rows, ``_row_of(offsets)`` the row of every element; results are built
# from new offsets + a gather of the elements (``Column.take``) or a kernel of kernels/arrays.py.

from mergetree.errors import ArgumentOutOfBoundError, IllegalTypeOfArgumentError  # noqa: E402
from mergetree.functions.registry import NumberOfArgumentsDoesntMatch  # noqa: E402


def _kern():
    from mergetree.kernels import arrays as K

    return K


def _arr(c, n: int) -> ArrayColumn:
    c = V.materialize(V.unwrap_lc(c))
    if len(c) != n:  # a constant's one row
        c = c.take(np.zeros(n, np.int64))
    return c


def _row_of(offsets: np.ndarray) -> np.ndarray:
    n = len(offsets) - 1
    return np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))


def _offsets_of(lens: np.ndarray) -> np.ndarray:
    out = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=out[1:])
    return out


def _need_array(name, types, i=0):
    if i >= len(types):
        raise NumberOfArgumentsDoesntMatch(f"Number of arguments for function {name} doesn't match: "
                                           f"passed {len(types)}, should be at least {i + 1}")
    t = types[i]
    if not isinstance(t, T.ArrayType):
        raise IllegalTypeOfArgumentError(f"Illegal type {t} of argument {i + 1} of function {name}: "
                                         "expected Array")
    return t.inner


def _split_elems(values):
    """(plain element column, valid mask) of an element column (NULL elements are not valid)."""
    plain, nulls = V.split_nullable(V.unwrap_lc(values))
    valid = np.ones(len(plain), np.bool_) if nulls is None else ~nulls
    return plain, valid


def _numeric_elem(name, elem, allow_nullable=False):
    e = V.strip_lc(elem)
    if allow_nullable:
        e = V.strip(e)
    if V.is_null_type(e) or isinstance(e, V.NothingType):
        raise IllegalTypeOfArgumentError(f"array aggregation function cannot be performed on type {elem}")
    if not isinstance(e, (T.IntType, T.FloatType, T.BoolType, T.DecimalType)):
        raise IllegalTypeOfArgumentError(f"array aggregation function cannot be performed on type {elem}")
    return e


def _acc_type(e):
    """(result type, accumulator dtype) of a sum over elements of type e (ClickHouse widening)."""
    if isinstance(e, T.DecimalType):
        return T.Decimal(38, e.scale), np.int64
    if isinstance(e, T.BoolType):
        return T.UInt64, np.uint64
    if isinstance(e, T.IntType):
        return (T.Int64, np.int64) if e.signed else (T.UInt64, np.uint64)
    return T.Float64, np.float64


def _decimal_values(col):
    return col.values.astype(np.int64)


@register("arraySum")
def array_sum(types, consts):
    check_arity("arraySum", types, 1)
    e = _numeric_elem("arraySum", _need_array("arraySum", types))
    rtype, acc = _acc_type(e)
    if isinstance(e, T.DecimalType) and e.precision > 18:
        raise IllegalTypeOfArgumentError(f"arraySum over {e} is not supported")

    def impl(args, n):
        a = _arr(args[0], n)
        vals = a.values.values.astype(acc, copy=False)
        out = np.zeros(n, acc)
        _kern().segment_sum(a.offsets, vals, np.ones(len(vals), np.bool_), out)
        if isinstance(rtype, T.DecimalType):
            return V.fixed(rtype, out.astype(rtype.dtype))
        return V.fixed(rtype, out)

    return rtype, impl


@register("arrayAvg")
def array_avg(types, consts):
    check_arity("arrayAvg", types, 1)
    e = _numeric_elem("arrayAvg", _need_array("arrayAvg", types))

    def impl(args, n):
        a = _arr(args[0], n)
        vals = a.values.values.astype(np.float64)
        if isinstance(e, T.DecimalType):
            vals = vals / (10.0 ** e.scale)
        out = np.zeros(n, np.float64)
        _kern().segment_sum(a.offsets, vals, np.ones(len(vals), np.bool_), out)
        lens = np.diff(a.offsets)
        with np.errstate(invalid="ignore", divide="ignore"):
            return V.fixed(T.Float64, np.where(lens > 0, out / np.maximum(lens, 1), 0.0))

    return T.Float64, impl


@register("arrayProduct")
def array_product(types, consts):
    check_arity("arrayProduct", types, 1)
    e = _numeric_elem("arrayProduct", _need_array("arrayProduct", types))

    def impl(args, n):
        a = _arr(args[0], n)
        if isinstance(e, (T.IntType, T.BoolType)):  # integers multiply as Int64 (wrapping), then Float64
            ints = a.values.values.astype(np.int64)
            prod = np.zeros(n, np.int64)
            with np.errstate(over="ignore"):
                _kern().segment_product_int(a.offsets, ints, prod)
            out = prod.astype(np.float64)
        else:
            vals = a.values.values.astype(np.float64)
            if isinstance(e, T.DecimalType):
                vals = vals / (10.0 ** e.scale)
            out = np.zeros(n, np.float64)
            _kern().segment_product(a.offsets, vals, np.ones(len(vals), np.bool_), out)
        return V.fixed(T.Float64, np.where(np.diff(a.offsets) > 0, out, 0.0))  # empty: 0, as ClickHouse

    return T.Float64, impl


def _order_keys(col) -> np.ndarray:
    """One 1-D key per element ordered like the values (ints as themselves, others ranked)."""
    if isinstance(col, V.FixedColumn) and col.values.ndim == 1 and isinstance(col.type, (T.IntType, T.BoolType)):
        return col.values
    if len(col) == 0:
        return np.zeros(0, np.int64)
    return col.dense_ranks()


def _array_extreme(name, is_max):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        elem = _need_array(name, types)
        if isinstance(V.strip(elem), V.NothingType):
            if isinstance(elem, T.NullableType):
                return elem, lambda args, n: V.null_constant(n)
            raise IllegalTypeOfArgumentError(f"array aggregation function cannot be performed on type {elem}")

        def impl(args, n):
            a = _arr(args[0], n)
            plain, valid = _split_elems(a.values)
            if isinstance(plain.type, T.FloatType):
                keys = plain.values.astype(np.float64)
                valid = valid & ~np.isnan(keys)  # NaN never wins, as ClickHouse's comparisons
            else:
                keys = _order_keys(plain)
            pick = _kern().segment_arg_extreme(a.offsets, keys, valid, is_max)
            if isinstance(a.values, V.FixedColumn) and a.values.values.ndim == 1 \
                    and not isinstance(a.values, V.NothingColumn):   # plain numbers: gather directly
                out = np.zeros(n, a.values.values.dtype)
                hit = pick >= 0
                out[hit] = a.values.values[pick[hit]]
                return V.fixed(elem, out)
            from mergetree.functions.aggregate.registry import take_or_default

            return take_or_default(a.values, pick, elem)

        return elem, impl

    return resolve


_array_extreme("arrayMin", False)
_array_extreme("arrayMax", True)


def _cum(name, non_negative):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        e = _numeric_elem(name, _need_array(name, types))
        rtype, acc = _acc_type(e)
        if non_negative and isinstance(e, T.IntType) and not e.signed:
            rtype, acc = T.UInt64, np.uint64

        def impl(args, n):
            a = _arr(args[0], n)
            vals = a.values.values.astype(acc, copy=False)
            out = np.zeros(len(vals), acc)
            _kern().segment_cumsum(a.offsets, vals, np.ones(len(vals), np.bool_), non_negative, out)
            return ArrayColumn(T.Array(rtype), a.offsets, V.fixed(rtype, out.astype(rtype.dtype)))

        return T.Array(rtype), impl

    return resolve


_cum("arrayCumSum", False)
_cum("arrayCumSumNonNegative", True)


def _difference_type(e):
    if isinstance(e, T.FloatType):
        return e
    if isinstance(e, T.DecimalType):
        return e
    if isinstance(e, T.BoolType):
        return T.Int16
    return T.IntType(min(e.bits * 2, 64), True) if e.bits < 64 else T.Int64


@register("arrayDifference")
def array_difference(types, consts):
    check_arity("arrayDifference", types, 1)
    e = _numeric_elem("arrayDifference", _need_array("arrayDifference", types))
    rtype = _difference_type(e)

    def impl(args, n):
        a = _arr(args[0], n)
        vals = a.values.values.astype(rtype.dtype)
        out = np.zeros(len(vals), rtype.dtype)
        with np.errstate(over="ignore"):
            _kern().segment_difference(a.offsets, vals, out)
        return ArrayColumn(T.Array(rtype), a.offsets, V.fixed(rtype, out))

    return T.Array(rtype), impl


def _truth(name, elem):
    e = V.strip(elem)
    if not isinstance(e, (T.IntType, T.BoolType, V.NothingType, T.FloatType)):
        raise IllegalTypeOfArgumentError(f"The argument of function {name} must be an array of UInt8, "
                                         f"found Array({elem})")


def _truth_mask(values) -> np.ndarray:
    plain, valid = _split_elems(values)
    if isinstance(plain.type, V.NothingType):
        return np.zeros(len(plain), np.bool_)
    return (plain.values != 0) & valid


def _count_like(name, rtype, how, strict=True):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        elem = _need_array(name, types)
        _truth(name, elem)
        if how == "count" and strict and not isinstance(elem, (T.IntType, T.BoolType)):
            raise IllegalTypeOfArgumentError(f"The 1st and only argument for function arrayCount must be array "
                                             f"of UInt8. Found {types[0]} instead")

        def impl(args, n):
            a = _arr(args[0], n)
            mask = _truth_mask(a.values)
            counts = _kern().segment_count_true(a.offsets, mask)
            lens = np.diff(a.offsets)
            if how == "count":
                return V.fixed(rtype, counts.astype(rtype.dtype))
            if how == "exists":
                return V.fixed(rtype, (counts > 0).astype(np.uint8))
            return V.fixed(rtype, (counts == lens).astype(np.uint8))

        return rtype, impl

    return resolve


_count_like("arrayCount", T.UInt32, "count")
_count_like("__arrayCountBy", T.UInt32, "count", strict=False)   # the lambda form: a Nullable result is fine
_count_like("arrayExists", T.UInt8, "exists")
_count_like("arrayAll", T.UInt8, "all")


def _first_by(name, last, what):
    """__arrayFirstBy(mask, arr) and friends (the lambda forms of arrayFirst/Last/..Index)."""

    @register(name)
    def resolve(types, consts):
        _truth(name, _need_array(name, types, 0))
        if what == "index":
            rtype = T.UInt32
        else:
            elem = _need_array(name, types, 1)
            rtype = V.make_nullable(elem) if what == "ornull" else elem

        def impl(args, n):
            m = _arr(args[0], n)
            pick = _kern().segment_first_true(m.offsets, _truth_mask(m.values), last)
            if what == "index":
                return V.fixed(T.UInt32, np.where(pick >= 0, pick - m.offsets[:-1] + 1, 0).astype(np.uint32))
            from mergetree.functions.aggregate.registry import take_or_default

            values = _arr(args[1], n).values
            if what == "ornull" and not isinstance(values.type, T.NullableType):
                from mergetree.column import NullableColumn

                res = take_or_default(values, pick, elem)
                return NullableColumn(rtype, res, pick < 0)
            return take_or_default(values, pick, rtype)

        return rtype, impl


_first_by("__arrayFirstBy", False, "value")
_first_by("__arrayLastBy", True, "value")
_first_by("__arrayFirstOrNullBy", False, "ornull")
_first_by("__arrayLastOrNullBy", True, "ornull")
_first_by("__arrayFirstIndexBy", False, "index")
_first_by("__arrayLastIndexBy", True, "index")


@register("__arrayFilterBy")
def array_filter_by(types, consts):
    _truth("arrayFilter", _need_array("arrayFilter", types, 0))
    elem = _need_array("arrayFilter", types, 1)

    def impl(args, n):
        m = _arr(args[0], n)
        a = _arr(args[1], n)
        keep = _truth_mask(m.values)
        lens = _kern().segment_count_true(a.offsets, keep)
        return ArrayColumn(T.Array(elem), _offsets_of(lens), a.values.filter(keep))

    return T.Array(elem), impl


def _element_keys(col, descending=False) -> np.ndarray:
    """One 1-D numeric key per element in ClickHouse's order (NaN and NULL last, also descending):
    integers as themselves, floats through the order-preserving map, others as dense ranks."""
    from mergetree.kernels.sort import dense_rank_keys, flatten_keys

    key = col.order_key(descending)
    if isinstance(key, np.ndarray):
        return key
    return dense_rank_keys(flatten_keys(key))


def _sorted_positions(offsets, keys_col, descending):
    """Element positions sorted within each row by the keys (ClickHouse order, stable)."""
    if len(keys_col) == 0:
        return np.zeros(0, np.int64)
    return _kern().segment_sort(offsets, np.ascontiguousarray(_element_keys(keys_col, descending)))


def _sort_fn(name, descending, by):
    @register(name)
    def resolve(types, consts):
        if by:
            elem = _need_array(name, types, 0)
            _need_array(name, types, 1)
        else:
            check_arity(name, types, 1)
            elem = _need_array(name, types, 0)

        def impl(args, n):
            a = _arr(args[0], n)
            keys = _arr(args[1], n).values if by else a.values
            pos = _sorted_positions(a.offsets, V.unwrap_lc(keys), descending)
            return ArrayColumn(T.Array(elem), a.offsets, a.values.take(pos))

        return T.Array(elem), impl


_sort_fn("arraySort", False, False)
_sort_fn("arrayReverseSort", True, False)
_sort_fn("__arraySortBy", False, True)
_sort_fn("__arrayReverseSortBy", True, True)


@register("arrayReverse")
def array_reverse(types, consts):
    check_arity("arrayReverse", types, 1)
    elem = _need_array("arrayReverse", types)

    def impl(args, n):
        a = _arr(args[0], n)
        return ArrayColumn(T.Array(elem), a.offsets, a.values.take(_kern().segment_reverse(a.offsets)))

    return T.Array(elem), impl


def _group_elements(a_list, n):
    """(group id per element, first element of each group) over (row, elements of every array)."""
    from mergetree.kernels.groupby import group_rows

    offsets = a_list[0].offsets
    keys = [V.fixed(T.Int64, _row_of(offsets))] + [V.unwrap_lc(a.values) for a in a_list]
    if len(keys[0]) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ids, _, first = group_rows(keys)
    return ids, first


@register("arrayDistinct")
def array_distinct(types, consts):
    check_arity("arrayDistinct", types, 1)
    elem = _need_array("arrayDistinct", types)
    out_elem = V.strip_lc(elem)
    if isinstance(out_elem, T.NullableType) and not V.is_null_type(out_elem):
        out_elem = out_elem.inner

    def impl(args, n):
        a = _arr(args[0], n)
        keep = _first_occurrences(a)[0].copy()
        plain, valid = _split_elems(a.values)
        if not isinstance(V.strip_lc(elem), T.NullableType) or V.is_null_type(V.strip_lc(elem)):
            plain = V.unwrap_lc(a.values)
        else:
            keep &= valid
        lens = np.bincount(_row_of(a.offsets)[keep], minlength=n)
        return ArrayColumn(T.Array(out_elem), _offsets_of(lens), plain.filter(keep))

    return T.Array(out_elem), impl


@register("arrayUniq")
def array_uniq(types, consts):
    if not types:
        raise NumberOfArgumentsDoesntMatch("Function arrayUniq requires at least one argument")
    for i in range(len(types)):
        _need_array("arrayUniq", types, i)

    def impl(args, n):
        arrs = [_arr(x, n) for x in args]
        _check_sizes("arrayUniq", arrs)
        if len(arrs) == 1:
            first_mask = _first_occurrences(arrs[0])[0]
            return V.fixed(T.UInt32, np.bincount(_row_of(arrs[0].offsets)[first_mask], minlength=n).astype(np.uint32))
        ids, first = _group_elements(arrs, n)
        return V.fixed(T.UInt32, np.bincount(_row_of(arrs[0].offsets)[first], minlength=n).astype(np.uint32))

    return T.UInt32, impl


def _first_occurrences(a: ArrayColumn):
    """(first occurrence mask, occurrence number) of every element within its row (NULL equals NULL)."""
    if len(a.values) == 0:
        return np.zeros(0, np.bool_), np.zeros(0, np.int64)
    keys = np.ascontiguousarray(_element_keys(V.unwrap_lc(a.values)))
    return _kern().segment_first_occurrence(a.offsets, keys)


def _check_sizes(name, arrs):
    from mergetree.errors import SizesOfArraysDontMatchError

    for a in arrs[1:]:
        if not np.array_equal(a.offsets, arrs[0].offsets):
            raise SizesOfArraysDontMatchError(f"Lengths of all arrays passed to {name} must be equal")


@register("arrayEnumerate")
def array_enumerate(types, consts):
    check_arity("arrayEnumerate", types, 1)
    _need_array("arrayEnumerate", types)

    def impl(args, n):
        a = _arr(args[0], n)
        row = _row_of(a.offsets)
        idx = np.arange(len(row), dtype=np.int64) - a.offsets[row] + 1
        return ArrayColumn(T.Array(T.UInt32), a.offsets, V.fixed(T.UInt32, idx.astype(np.uint32)))

    return T.Array(T.UInt32), impl


def _enumerate_uniq(name, dense):
    @register(name)
    def resolve(types, consts):
        if not types:
            raise NumberOfArgumentsDoesntMatch(f"Function {name} requires at least one argument")
        for i in range(len(types)):
            _need_array(name, types, i)

        def impl(args, n):
            arrs = [_arr(x, n) for x in args]
            _check_sizes(name, arrs)
            if not dense and len(arrs) == 1:
                out = _first_occurrences(arrs[0])[1]
                return ArrayColumn(T.Array(T.UInt32), arrs[0].offsets, V.fixed(T.UInt32, out.astype(np.uint32)))
            ids, first = _group_elements(arrs, n)
            total = len(ids)
            if dense:
                # groups numbered 1.. per row in order of first appearance (group ids already are)
                row_first = _row_of(arrs[0].offsets)[first]
                group_start = np.searchsorted(row_first, row_first, side="left")
                out = (np.arange(len(first)) - group_start + 1)[ids] if total else np.zeros(0, np.int64)
            else:
                order = np.argsort(ids, kind="stable")
                sid = ids[order]
                start = np.searchsorted(sid, sid, side="left")
                occ = np.empty(total, np.int64)
                occ[order] = np.arange(total) - start + 1
                out = occ
            return ArrayColumn(T.Array(T.UInt32), arrs[0].offsets, V.fixed(T.UInt32, np.asarray(out).astype(np.uint32)))

        return T.Array(T.UInt32), impl


_enumerate_uniq("arrayEnumerateUniq", False)
_enumerate_uniq("arrayEnumerateDense", True)


def _elem_supertype(name, elems):
    from mergetree.functions.conditional import supertype

    known = [e for e in elems if not isinstance(V.strip(e), V.NothingType) or V.is_null_type(e)]
    plain = [e for e in known if not isinstance(e, V.NothingType)]
    if not plain:
        return elems[0]
    return supertype(plain, name)


def _cast_values(col, src, dst):
    from mergetree.functions.conditional import cast_column

    if src == dst or isinstance(src, V.NothingType):
        if isinstance(src, V.NothingType) and src != dst:
            return V.default_of(dst, len(col))
        return col
    return V.materialize(cast_column(col, src, dst))


@register("arrayConcat")
def array_concat(types, consts):
    if not types:
        raise NumberOfArgumentsDoesntMatch("Function arrayConcat requires at least one argument")
    elems = [_need_array("arrayConcat", types, i) for i in range(len(types))]
    elem = _elem_supertype("arrayConcat", elems)

    def impl(args, n):
        arrs = [_arr(x, n) for x in args]
        values = Column.concat([_cast_values(a.values, e, elem) for a, e in zip(arrs, elems)])
        lens = sum(np.diff(a.offsets) for a in arrs)
        # element order: row, then argument, then position
        rows = np.concatenate([_row_of(a.offsets) for a in arrs])
        argno = np.concatenate([np.full(len(a.values), i, np.int64) for i, a in enumerate(arrs)])
        order = np.lexsort((np.arange(len(rows)), argno, rows))
        return ArrayColumn(T.Array(elem), _offsets_of(lens), values.take(order))

    return T.Array(elem), impl


def _push(name, front):
    @register(name, null_mode="raw")
    def resolve(types, consts):
        check_arity(name, types, 2)
        ae = _need_array(name, [V.strip_lc(types[0])])
        xt = V.strip_lc(types[1])
        elem = _elem_supertype(name, [ae, xt])
        if V.is_null_type(xt) and not isinstance(elem, T.NullableType):
            elem = V.make_nullable(elem)

        def impl(args, n):
            a = _arr(args[0], n)
            x = V.materialize(V.unwrap_lc(args[1]))
            if len(x) != n:
                x = x.take(np.zeros(n, np.int64))
            if V.is_null_type(xt):
                xv = V.default_of(elem, n)
            else:
                from mergetree.functions.conditional import cast_column

                xv = V.materialize(cast_column(x, xt, elem))
            values = Column.concat([_cast_values(a.values, ae, elem), xv])
            lens = np.diff(a.offsets) + 1
            rows = np.concatenate([_row_of(a.offsets), np.arange(n, dtype=np.int64)])
            argno = np.concatenate([np.full(len(a.values), 1 if front else 0, np.int64),
                                    np.full(n, 0 if front else 1, np.int64)])
            order = np.lexsort((np.arange(len(rows)), argno, rows))
            return ArrayColumn(T.Array(elem), _offsets_of(lens), values.take(order))

        return T.Array(elem), impl


_push("arrayPushBack", False)
_push("arrayPushFront", True)


def _ranges_take(a, starts, lens, elem):
    from mergetree.column import _ranged_positions

    offsets, pos = _ranged_positions(starts, lens)
    return ArrayColumn(T.Array(elem), offsets, a.values.take(pos))


@register("arraySlice")
def array_slice(types, consts):
    check_arity("arraySlice", types, 2, 3)
    elem = _need_array("arraySlice", types)
    for i in range(1, len(types)):
        if not isinstance(types[i], (T.IntType, T.BoolType)) and not V.is_null_type(types[i]):
            raise IllegalTypeOfArgumentError(f"Illegal type {types[i]} of argument {i + 1} of function arraySlice")

    def impl(args, n):
        a = _arr(args[0], n)
        starts0 = a.offsets[:-1]
        lens = np.diff(a.offsets)
        off = np.broadcast_to(V.values(args[1]).astype(np.int64), (n,))
        begin = np.where(off > 0, off - 1, lens + off)
        if len(args) > 2:
            ln = np.broadcast_to(V.values(args[2]).astype(np.int64), (n,))
            end = np.where(ln >= 0, begin + ln, lens + ln)
        else:
            end = lens
        begin_c = np.clip(begin, 0, lens)
        end_c = np.clip(end, 0, lens)
        count = np.where((off == 0) | (begin < 0) & (off > 0), 0, np.maximum(end_c - begin_c, 0))
        # a negative offset before the start: the slice starts at its (clipped) start
        return _ranges_take(a, starts0 + begin_c, count, elem)

    return T.Array(elem), impl


@register("arrayResize", null_mode="raw")
def array_resize(types, consts):
    check_arity("arrayResize", types, 2, 3)
    elem = _need_array("arrayResize", [V.strip_lc(types[0])])
    if len(types) == 3:
        elem = _elem_supertype("arrayResize", [elem, V.strip_lc(types[2])])

    def impl(args, n):
        a = _arr(args[0], n)
        ae = a.type.inner
        size = np.broadcast_to(V.values(V.split_nullable(args[1])[0]).astype(np.int64), (n,))
        lens = np.diff(a.offsets)
        new_lens = np.abs(size)
        keep = np.minimum(lens, new_lens)
        pad = new_lens - keep
        # kept elements: the first `keep` (size >= 0) or the last `keep` (size < 0)
        kstart = np.where(size >= 0, a.offsets[:-1], a.offsets[1:] - keep)
        if len(args) == 3:
            x = V.materialize(V.unwrap_lc(args[2]))
            if len(x) != n:
                x = x.take(np.zeros(n, np.int64))
            from mergetree.functions.conditional import cast_column

            filler = V.materialize(cast_column(x, V.strip_lc(types[2]), elem))
        else:
            filler = V.default_of(elem, n)
        values = Column.concat([_cast_values(a.values, ae, elem), filler])
        base = len(a.values)
        total = int(new_lens.sum())
        offsets = _offsets_of(new_lens)
        row = np.repeat(np.arange(n, dtype=np.int64), new_lens)
        j = np.arange(total, dtype=np.int64) - offsets[row]
        pad_front = size[row] < 0
        kept_j = np.where(pad_front, j - pad[row], j)
        is_kept = (kept_j >= 0) & (kept_j < keep[row])
        src = np.where(is_kept, kstart[row] + kept_j, base + row)
        return ArrayColumn(T.Array(elem), offsets, values.take(src))

    return T.Array(elem), impl


@register("arrayCompact")
def array_compact(types, consts):
    check_arity("arrayCompact", types, 1)
    elem = _need_array("arrayCompact", types)

    def impl(args, n):
        a = _arr(args[0], n)
        if len(a.values) == 0:
            return a
        keys = V.unwrap_lc(a.values).dense_ranks()
        keep = _kern().segment_changed(a.offsets, keys)
        lens = np.bincount(_row_of(a.offsets)[keep], minlength=n)
        return ArrayColumn(T.Array(elem), _offsets_of(lens), a.values.filter(keep))

    return T.Array(elem), impl


@register("arrayFlatten", aliases=("flatten",))
def array_flatten(types, consts):
    check_arity("arrayFlatten", types, 1)
    t = types[0]
    if not isinstance(t, T.ArrayType):
        raise illegal_type("arrayFlatten", t, 0)
    leaf = t
    while isinstance(leaf.inner, T.ArrayType):
        leaf = leaf.inner

    def impl(args, n):
        a = _arr(args[0], n)
        offsets = a.offsets
        vals = a.values
        while isinstance(vals, ArrayColumn):
            offsets = vals.offsets[offsets]
            vals = vals.values
        return ArrayColumn(leaf, offsets, vals)

    return leaf, impl


def _hash_match(a_vals, a_rows, b_vals, b_rows, at, bt, name):
    """For every element of b: does its row of a hold an equal element? (NULL equals NULL)"""
    elem = _elem_supertype(name, [at, bt])
    if isinstance(V.strip(elem), V.NothingType):
        elem = V.NullType
    both = Column.concat([_cast_values(V.unwrap_lc(a_vals), V.strip_lc(at), elem),
                          _cast_values(V.unwrap_lc(b_vals), V.strip_lc(bt), elem)])
    if len(both) == 0:
        return np.zeros(0, np.bool_)
    # ClickHouse's hasAny/hasAll compare a NULL as its type's default (NULL = 0 = NULL, '' = NULL)
    both = V.split_nullable(both)[0]
    if isinstance(both, V.NothingColumn):
        return np.ones(len(b_vals), np.bool_) if len(a_vals) else np.zeros(len(b_vals), np.bool_)
    ranks = both.dense_ranks()
    k = int(ranks.max()) + 1
    na = len(a_vals)
    ka = a_rows * k + ranks[:na]
    kb = b_rows * k + ranks[na:]
    return np.isin(kb, ka)


def _has_set(name, want_all):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 2)
        at = _need_array(name, types, 0)
        bt = _need_array(name, types, 1)

        def impl(args, n):
            a, b = _arr(args[0], n), _arr(args[1], n)
            brow = _row_of(b.offsets)
            hit = _hash_match(a.values, _row_of(a.offsets), b.values, brow, at, bt, name)
            hits = np.bincount(brow[hit], minlength=n)
            if want_all:
                return V.fixed(T.UInt8, (hits == np.diff(b.offsets)).astype(np.uint8))
            return V.fixed(T.UInt8, (hits > 0).astype(np.uint8))

        return T.UInt8, impl


_has_set("hasAny", False)
_has_set("hasAll", True)


@register("indexOf", null_mode="raw")
def index_of(types, consts):
    check_arity("indexOf", types, 2)
    at = _need_array("indexOf", [V.strip_lc(types[0])])
    xt = types[1]
    if not isinstance(V.strip(at), V.NothingType) and not V.is_null_type(V.strip_lc(xt)):
        from mergetree.functions.comparison import comparison_domain

        comparison_domain(V.strip(at), V.strip(xt), "indexOf")

    def impl(args, n):
        a = _arr(args[0], n)
        hit = _elements_equal(a, args[1], xt, at, n, null_equals_null=True)
        pick = _kern().segment_first_true(a.offsets, hit, False)
        return V.fixed(T.UInt64, np.where(pick >= 0, pick - a.offsets[:-1] + 1, 0).astype(np.uint64))

    return T.UInt64, impl


@register("arrayReduce", null_mode="raw")
def array_reduce(types, consts):
    from mergetree.errors import BadArgumentsError
    from mergetree.functions.aggregate import get_aggregate

    if len(types) < 2 or consts[0] is NOT_CONST_ or not isinstance(consts[0], str):
        raise IllegalTypeOfArgumentError("The first argument of arrayReduce must be a constant string: "
                                         "the name of an aggregate function")
    spec = consts[0].strip()
    params: tuple = ()
    if "(" in spec:
        from sqlparse_ch import parse_expr

        try:
            call = parse_expr(spec + "(x)")
            fname = call.name
            params = tuple(p.value for p in call.params)
        except Exception as err:
            raise BadArgumentsError(f"Cannot parse aggregate function {spec!r} of arrayReduce: {err}") from None
    else:
        fname = spec
    elems = [_need_array("arrayReduce", [V.strip_lc(t) for t in types], i) for i in range(1, len(types))]
    fn = get_aggregate(fname, elems, params)

    def impl(args, n):
        arrs = [_arr(x, n) for x in args[1:]]
        _check_sizes("arrayReduce", arrs)
        ids = _row_of(arrs[0].offsets)
        return fn.compute(ids, n, [a.values for a in arrs])

    return fn.type, impl


from mergetree.functions.registry import NOT_CONST as NOT_CONST_  # noqa: E402


def _empty_array(name, t):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 0)
        rtype = T.Array(t)
        return rtype, lambda args, n: V.ConstColumn(
            ArrayColumn(rtype, np.zeros(2, np.int64), V.default_of(t, 0)), n)


for _t in ("UInt8", "UInt16", "UInt32", "UInt64", "Int8", "Int16", "Int32", "Int64", "Float32", "Float64",
           "Date", "DateTime", "String"):
    _empty_array("emptyArray" + _t, T.parse_type(_t))


@register("emptyArrayToSingle")
def empty_array_to_single(types, consts):
    check_arity("emptyArrayToSingle", types, 1)
    elem = _need_array("emptyArrayToSingle", types)

    def impl(args, n):
        a = _arr(args[0], n)
        lens = np.diff(a.offsets)
        empty = lens == 0
        new_lens = np.where(empty, 1, lens)
        offsets = _offsets_of(new_lens)
        values = Column.concat([a.values, V.default_of(elem, 1)])
        row = np.repeat(np.arange(n, dtype=np.int64), new_lens)
        j = np.arange(len(row)) - offsets[row]
        src = np.where(empty[row], len(a.values), a.offsets[row] + j)
        return ArrayColumn(T.Array(elem), offsets, values.take(src))

    return T.Array(elem), impl


def _split_by(name, reverse):
    @register(name)
    def resolve(types, consts):
        _truth(name, _need_array(name, types, 0))
        elem = _need_array(name, types, 1)
        rtype = T.Array(T.Array(elem))

        def impl(args, n):
            m = _arr(args[0], n)
            a = _arr(args[1], n)
            cut = _truth_mask(m.values).copy()
            starts = a.offsets[:-1]
            lens = np.diff(a.offsets)
            if reverse:  # a piece ends after every true element (and at the end of the row)
                cut_after = cut
                cut = np.zeros(len(cut), np.bool_)
                nxt = np.flatnonzero(cut_after) + 1
                cut[nxt[nxt < len(cut)]] = True
            cut[starts[lens > 0]] = True  # every non-empty row starts a piece
            if reverse:
                # a true element at the end of its row must not start a piece after the row
                pass
            piece_starts = np.flatnonzero(cut)
            inner_offsets = np.append(piece_starts, len(cut)).astype(np.int64)
            # pieces never cross rows: row boundaries are cut points too
            bounds = np.union1d(inner_offsets, a.offsets[1:][lens > 0])
            inner_offsets = bounds.astype(np.int64)
            if len(inner_offsets) == 0 or inner_offsets[0] != 0:
                inner_offsets = np.concatenate([[0], inner_offsets]).astype(np.int64)
            pieces_per_row = np.searchsorted(inner_offsets, a.offsets[1:], side="left") - \
                np.searchsorted(inner_offsets, a.offsets[:-1], side="left")
            outer = _offsets_of(np.where(lens > 0, pieces_per_row, 0))
            inner = ArrayColumn(T.Array(elem), inner_offsets, a.values)
            return ArrayColumn(rtype, outer, inner)

        return rtype, impl


_split_by("__arraySplitBy", False)
_split_by("__arrayReverseSplitBy", True)


def _fill_by(name, reverse):
    @register(name)
    def resolve(types, consts):
        _truth(name, _need_array(name, types, 0))
        elem = _need_array(name, types, 1)

        def impl(args, n):
            m = _arr(args[0], n)
            a = _arr(args[1], n)
            keep = _truth_mask(m.values).copy()
            total = len(keep)
            if total == 0:
                return a
            starts, ends = a.offsets[:-1], a.offsets[1:]
            lens = ends - starts
            # the first (last) element of a row is always kept
            keep[(ends - 1)[lens > 0] if reverse else starts[lens > 0]] = True
            idx = np.where(keep, np.arange(total), -1 if not reverse else total)
            if reverse:
                src = np.minimum.accumulate(idx[::-1])[::-1]
            else:
                src = np.maximum.accumulate(idx)
            return ArrayColumn(T.Array(elem), a.offsets, a.values.take(src))

        return T.Array(elem), impl


_fill_by("__arrayFillBy", False)
_fill_by("__arrayReverseFillBy", True)


@register("range")
def range_(types, consts):
    from mergetree.functions.conditional import supertype

    check_arity("range", types, 1, 3)
    for i, t in enumerate(types):
        if not isinstance(t, T.IntType):
            raise illegal_type("range", t, i)
    elem = supertype(list(types), "range") if len(types) > 1 else types[0]

    def impl(args, n):
        vals = [np.broadcast_to(V.values(a).astype(np.int64), (n,)) for a in args]
        if len(vals) == 1:
            start, end, step = np.zeros(n, np.int64), vals[0], np.ones(n, np.int64)
        else:
            start, end = vals[0], vals[1]
            step = vals[2] if len(vals) == 3 else np.ones(n, np.int64)
        if (step == 0).any():
            raise ArgumentOutOfBoundError("A call to function range would produce an infinite array (step 0)")
        span = end - start
        lens = np.where(step > 0, (span + step - 1) // step, (span + step + 1) // step)
        lens = np.maximum(lens, 0)
        total = int(lens.sum())
        if total > 500_000_000:
            raise ArgumentOutOfBoundError(f"A call to function range would produce {total} elements, "
                                          "more than the limit 500000000")
        offsets = _offsets_of(lens)
        row = np.repeat(np.arange(n, dtype=np.int64), lens)
        j = np.arange(total, dtype=np.int64) - offsets[row]
        return ArrayColumn(T.Array(elem), offsets, V.fixed(elem, (start[row] + j * step[row]).astype(elem.dtype)))

    return T.Array(elem), impl


def _needs_lambda(name):
    @register(name)
    def resolve(types, consts):
        raise IllegalTypeOfArgumentError(f"Function {name} needs a lambda function as its first argument, "
                                         f"e.g. {name}(x -> x > 1, arr)")


# called with a lambda they are bound by functions/lambdas.py; without one they are an error
for _name in ("arrayMap", "arrayFilter", "arrayFirst", "arrayLast", "arrayFirstIndex", "arrayLastIndex",
              "arrayFirstOrNull", "arrayLastOrNull", "arraySplit", "arrayReverseSplit", "arrayFill",
              "arrayReverseFill"):
    _needs_lambda(_name)
