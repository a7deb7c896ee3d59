"""Lambdas and higher-order array functions: ``arrayMap(x -> x + 1, arr)``, ``(x, y) -> ..``.

A lambda is evaluated once, vectorized, over the flattened elements of its array arguments
(the ArrayColumn's child column): the parameters are the child columns of the arrays, and any
outer column the body reads is broadcast to the elements by repeating row r ``len(arr[r])``
times (``np.repeat`` over the offsets). No Python runs per row or per element.

``bind_higher_order`` (called by the expression binder for a call with a lambda argument)
turns ``f(lambda, a1, .., ak)`` into a ``BLambda`` node (the mapped array, offsets of ``a1``
and the body's results as elements) and then into the plain function that finishes the job:

==========================  ==================================================================
call                        becomes
==========================  ==================================================================
arrayMap(f, a..)            the mapped array itself
arrayFilter(f, a1, ..)      ``__arrayFilterBy(mapped, a1)``
arrayCount/Exists/All/Sum   ``arrayCount(mapped)`` ... (the function over the mapped array)
/Min/Max/Avg/Product/CumSum
arraySort/ReverseSort       ``__arraySortBy(a1, mapped)`` / ``__arrayReverseSortBy``
arrayFirst/Last(+Index,     ``__arrayFirstBy(mapped, a1)`` ...
 +OrNull)
==========================  ==================================================================

Arrays of one call must have equal sizes row by row (SIZES_OF_ARRAYS_DONT_MATCH otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mergetree import types as T
from mergetree.column import ArrayColumn, Block
from mergetree.errors import (IllegalTypeOfArgumentError, NumberOfArgumentsError,
                              SizesOfArraysDontMatchError, UnknownFunctionError)
from mergetree.functions import values as V

# name -> (target function, how the arguments are passed): "mapped" = f(mapped);
# "mapped_first" = f(mapped, a1); "array_first" = f(a1, mapped); None target = the mapped array
HIGHER_ORDER = {
    "arrayMap": (None, "mapped"),
    "arrayFilter": ("__arrayFilterBy", "mapped_first"),
    "arrayCount": ("__arrayCountBy", "mapped"),
    "arrayExists": ("arrayExists", "mapped"),
    "arrayAll": ("arrayAll", "mapped"),
    "arraySum": ("arraySum", "mapped"),
    "arrayMin": ("arrayMin", "mapped"),
    "arrayMax": ("arrayMax", "mapped"),
    "arrayAvg": ("arrayAvg", "mapped"),
    "arrayProduct": ("arrayProduct", "mapped"),
    "arrayCumSum": ("arrayCumSum", "mapped"),
    "arrayCumSumNonNegative": ("arrayCumSumNonNegative", "mapped"),
    "arraySort": ("__arraySortBy", "array_first"),
    "arrayReverseSort": ("__arrayReverseSortBy", "array_first"),
    "arrayFirst": ("__arrayFirstBy", "mapped_first"),
    "arrayLast": ("__arrayLastBy", "mapped_first"),
    "arrayFirstOrNull": ("__arrayFirstOrNullBy", "mapped_first"),
    "arrayLastOrNull": ("__arrayLastOrNullBy", "mapped_first"),
    "arrayFirstIndex": ("__arrayFirstIndexBy", "mapped"),
    "arrayLastIndex": ("__arrayLastIndexBy", "mapped"),
    "arraySplit": ("__arraySplitBy", "mapped_first"),
    "arrayReverseSplit": ("__arrayReverseSplitBy", "mapped_first"),
    "arrayFill": ("__arrayFillBy", "mapped_first"),
    "arrayReverseFill": ("__arrayReverseFillBy", "mapped_first"),
}


def lambda_params(e) -> tuple[str, ...]:
    return tuple(e.params)


@dataclass(eq=False)
class BLambda:
    """The array ``[body(a1[i], .., ak[i]) for i]`` per row (a bound-tree node)."""

    params: tuple
    body: object
    arrays: list
    captured: list          # outer column names the body reads (broadcast to the elements)
    fname: str
    type: T.DataType = field(default=None)

    def execute_on(self, block: Block, run):
        n = block.num_rows
        cols = []
        for i, a in enumerate(self.arrays):
            c = V.materialize(V.unwrap_lc(run(a, block)))
            cols.append(c)
        offsets = cols[0].offsets
        for i, c in enumerate(cols[1:], start=2):
            if not np.array_equal(c.offsets, offsets):
                lens0, lens = np.diff(offsets), np.diff(c.offsets)
                bad = int(np.flatnonzero(lens0 != lens)[0])
                raise SizesOfArraysDontMatchError(
                    f"Arrays passed to {self.fname} must have equal size. Argument {i + 1} has size "
                    f"{int(lens[bad])} which differs with the size of another argument, {int(lens0[bad])}")
        total = int(offsets[-1])
        inner = {}
        if self.captured:
            row_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
            for name in self.captured:
                inner[name] = V.materialize(block[name]).take(row_of)
        for p, c in zip(self.params, cols):
            inner[p] = c.values
        res = V.materialize(run(self.body, Block(inner, total)))
        if len(res) != total:  # a constant body
            res = V.ConstColumn(res, total).materialize() if len(res) == 1 else res
        return ArrayColumn(self.type, offsets, res)


def _captured(b, params) -> set:
    from mergetree.exec.expression import BCall, BColumn, BIn

    out = set()
    if isinstance(b, BColumn):
        out.add(b.name)
    elif isinstance(b, BCall):
        for a in b.args:
            out |= _captured(a, ())
    elif isinstance(b, BIn):
        out |= _captured(b.arg, ())
    elif isinstance(b, BLambda):
        out |= set(b.captured)
        for a in b.arrays:
            out |= _captured(a, ())
    return out - set(params)


def _map_higher_order(e):
    """``mapFilter((k, v) -> c, m)`` = ``mapFromArrays(arrayFilter((k, v) -> c, mapKeys(m), mapValues(m)),
    arrayFilter((v, k) -> c, mapValues(m), mapKeys(m)))``; ``mapApply((k, v) -> (k2, v2), m)`` =
    ``mapFromArrays(arrayMap((k, v) -> tupleElement(.., 1), ..), arrayMap((k, v) -> tupleElement(.., 2), ..))``."""
    from sqlparse_ch.ast import expr as E

    lam, m = e.args
    if len(lam.params) != 2:
        raise NumberOfArgumentsError(f"The lambda of {e.name} takes 2 arguments (key, value), "
                                     f"got {len(lam.params)}")
    keys, vals = E.FunctionCall("mapKeys", (m,)), E.FunctionCall("mapValues", (m,))
    if e.name == "mapFilter":
        swapped = E.Lambda((lam.params[1], lam.params[0]), lam.body)
        return E.FunctionCall("mapFromArrays", (E.FunctionCall("arrayFilter", (lam, keys, vals)),
                                                E.FunctionCall("arrayFilter", (swapped, vals, keys))))
    parts = [E.Lambda(lam.params, E.FunctionCall("tupleElement", (lam.body, E.Literal(i))))
             for i in (1, 2)]
    return E.FunctionCall("mapFromArrays", tuple(E.FunctionCall("arrayMap", (p, keys, vals)) for p in parts))


def bind_higher_order(binder, e):
    """Bind ``f(lambda, arrays..)`` (see the module docstring)."""
    from sqlparse_ch.ast import expr as E

    from mergetree.exec.expression import BConst, _execute
    from mergetree.functions.registry import get_function

    if e.name in ("mapFilter", "mapApply") and len(e.args) == 2 and isinstance(e.args[0], E.Lambda):
        return binder.bind(_map_higher_order(e))
    name = get_function(e.name).name if e.name not in HIGHER_ORDER else e.name
    if name not in HIGHER_ORDER:
        raise IllegalTypeOfArgumentError(f"Function {e.name} does not take a lambda function argument")
    lam = e.args[0]
    if not isinstance(lam, E.Lambda) or any(isinstance(a, E.Lambda) for a in e.args[1:]):
        raise IllegalTypeOfArgumentError(f"The lambda function must be the first argument of {name}")
    arrays = [binder.bind(a) for a in e.args[1:]]
    if not arrays:
        raise NumberOfArgumentsError(f"Function {name} needs at least one array argument")
    params = lambda_params(lam)
    if len(params) != len(arrays):
        raise NumberOfArgumentsError(
            f"Lambda for function {name} takes {len(params)} arguments, but {len(arrays)} arrays were passed")
    elem_types = []
    for i, a in enumerate(arrays):
        t = V.strip_lc(a.type)
        if isinstance(t, T.MapType) if hasattr(T, "MapType") else False:
            raise IllegalTypeOfArgumentError(f"Map arguments of {name} are not supported")
        if not isinstance(t, T.ArrayType):
            raise IllegalTypeOfArgumentError(f"Illegal type {a.type} of argument {i + 2} of function {name}: "
                                             "expected Array")
        elem_types.append(t.inner)
    schema = dict(binder.schema)
    schema.update(zip(params, elem_types))
    body = type(binder)(schema).bind(lam.body)
    captured = sorted(_captured(body, params))
    node = BLambda(params, body, arrays, captured, name, T.Array(body.type))
    if not captured and all(isinstance(a, BConst) for a in arrays):
        col = node.execute_on(Block({}, 1), _execute)
        node = BConst(V.ConstColumn(col, 1), node.type)
    target, mode = HIGHER_ORDER[name]
    if target is None:
        return node
    if mode == "mapped":
        args = [node]
    elif mode == "mapped_first":
        args = [node, arrays[0]]
    else:
        args = [arrays[0], node]
    try:
        return binder.call(target, args)
    except UnknownFunctionError:
        raise IllegalTypeOfArgumentError(f"Function {name} with a lambda is not supported yet") from None
