"""``x [NOT] IN (SELECT ..)`` over a large subquery result: one vectorized membership test per block
against the subquery's column(s) kept as columns, instead of a list of literals.

The binder (`SelectBinder._in_values`) runs the subquery, stores its result with `make_set` and
rewrites the condition to ``__inSet(x, '<set id>')`` (``__notInSet`` for NOT IN;
``(a, b) IN (SELECT ..)``: ``__inSet(a, b, '<set id>')``). Rows of x are compared in ClickHouse's
comparison domain of the two types (`functions.comparison`): numbers, dates and Decimals by value
(``np.isin`` on the domain arrays), Strings by a 64-bit hash looked up in a hash table built once
(`kernels/join.py`) and verified byte by byte. NULLs in the set never match; a NULL x gives NULL
(transform_null_in = 0), which the registry's default NULL handling does.

Sets live in a small module registry (the last `MAX_SETS`), long enough for the query that planned
them to run.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict

import numpy as np

from mergetree import types as T
from mergetree.errors import BadArgumentsError
from mergetree.functions import values as V
from mergetree.functions.registry import NOT_CONST, register

#: IN-subquery results kept for the queries being planned / run
MAX_SETS = 64

_SETS: OrderedDict = OrderedDict()
_LOCK = threading.Lock()
_IDS = itertools.count(1)


class InSet:
    """The subquery's columns (NULL rows dropped) and, per column, a cache of prepared lookups."""

    def __init__(self, columns: list, types: list):
        valid = np.ones(len(columns[0]) if columns else 0, np.bool_)
        for c in columns:
            _, nulls = V.split_nullable(V.unwrap_lc(c))
            if nulls is not None:
                valid &= ~nulls
        plain = []
        for c in columns:
            p, _ = V.split_nullable(V.unwrap_lc(V.materialize(c)))
            plain.append(p.filter(valid) if not valid.all() else p)
        self.columns = plain
        self.types = [V.strip(t) for t in types]
        self._cache: dict = {}
        self._lock = threading.Lock()

    def __len__(self):
        return len(self.columns[0]) if self.columns else 0


def make_set(columns: list, types: list) -> str:
    """Register a subquery result; the id to pass as the last argument of __inSet."""
    s = InSet(columns, types)
    key = f"__set_{next(_IDS)}"
    with _LOCK:
        _SETS[key] = s
        while len(_SETS) > MAX_SETS:
            _SETS.popitem(last=False)
    return key


def supported(x_types: list, set_types: list) -> bool:
    """Can __inSet compare these (plain) types? Numbers/dates/Decimals by value, String/FixedString."""
    from mergetree.functions.comparison import comparison_domain

    for a, b in zip(x_types, set_types):
        a, b = V.strip(a), V.strip(b)
        try:
            dom = comparison_domain(a, b, "in")
        except Exception:
            return False
        if dom.kind not in ("num", "str"):
            return False
        if dom.kind == "num" and any(isinstance(t, (T.StringType, T.FixedStringType)) for t in (a, b)):
            return False       # text parsed as a number / date: leave it to the literal path
    return True


def _get(key: str) -> InSet:
    with _LOCK:
        s = _SETS.get(key)
    if s is None:
        raise BadArgumentsError(f"IN subquery set {key} is no longer available (too many queries planned at "
                                "once); run the query again")
    return s


def _member(s: InSet, args: list, types: list, n: int) -> np.ndarray:
    from mergetree.functions.comparison import comparison_domain, to_domain

    if len(s) == 0:
        return np.zeros(n, np.bool_)
    keys_x, keys_s, exact = [], [], True
    for i, (x, tx) in enumerate(zip(args, types)):
        ts = s.types[i]
        dom = comparison_domain(tx, ts, "in")
        x = V.materialize(x) if V.is_const(x) else x
        if dom.kind == "num":
            with s._lock:
                vals = s._cache.get((i, dom))
                if vals is None:
                    vals = s._cache[(i, dom)] = np.asarray(to_domain(s.columns[i], ts, dom))
            xv = np.broadcast_to(np.asarray(to_domain(x, tx, dom)), (n,))
            if len(args) == 1:          # one column: a sorted search, no hashing needed
                return np.isin(xv, vals)
            keys_x.append(_bits(xv))
            keys_s.append(_bits(vals))
        else:
            from mergetree.kernels.strings import hash_strings

            offsets, data = to_domain(x, tx, dom)
            keys_x.append(hash_strings(offsets, data))
            with s._lock:
                h = s._cache.get((i, "hash"))
                if h is None:
                    so, sd = to_domain(s.columns[i], ts, dom)
                    h = s._cache[(i, "hash")] = hash_strings(so, sd)
            keys_s.append(h)
            exact = False
    return _lookup(s, args, types, keys_x, keys_s, exact, n)


def _bits(v: np.ndarray) -> np.ndarray:
    from mergetree.kernels.hashing import key_bits

    return key_bits(np.ascontiguousarray(v))


def _lookup(s, args, types, keys_x, keys_s, exact, n):
    from mergetree.kernels.join import build, combine_hashes, expand, probe

    kx, ks = keys_x[0], keys_s[0]
    for a, b in zip(keys_x[1:], keys_s[1:]):
        kx, ks = combine_hashes(kx, a), combine_hashes(ks, b)
    exact = exact and len(keys_x) == 1
    with s._lock:
        table = s._cache.get("table")
        if table is None:
            table = s._cache["table"] = build(ks, np.ones(len(ks), np.bool_))
    first, count = probe(table, kx, np.ones(n, np.bool_))
    if exact:
        return first >= 0
    li, ri = expand(first, count, table.next_row)
    ok = np.ones(len(li), np.bool_)
    from mergetree.functions.comparison import comparison_domain, to_domain
    from mergetree.kernels.join import strings_equal_at

    for i, (x, tx) in enumerate(zip(args, types)):
        ts = s.types[i]
        dom = comparison_domain(tx, ts, "in")
        x = V.materialize(x) if V.is_const(x) else x
        if dom.kind == "str":
            xo, xd = to_domain(x, tx, dom)
            so, sd = to_domain(s.columns[i], ts, dom)
            ok &= strings_equal_at(xo, xd, li, so, sd, ri)
        else:
            xv = np.broadcast_to(np.asarray(to_domain(x, tx, dom)), (n,))
            sv = np.asarray(to_domain(s.columns[i], ts, dom))
            ok &= xv[li] == sv[ri]
    out = np.zeros(n, np.bool_)
    out[li[ok]] = True
    return out


def _resolve(name: str, negated: bool):
    def resolve(types, consts):
        if len(types) < 2 or consts[-1] is NOT_CONST:
            raise BadArgumentsError(f"{name} is internal (x IN (SELECT ..))")
        key = consts[-1]
        key = key.decode() if isinstance(key, bytes) else str(key)
        s = _get(key)
        xtypes = [V.strip(t) for t in types[:-1]]

        def impl(args, n):
            res = _member(s, list(args[:-1]), xtypes, n)
            if negated:
                res = ~res
            return V.fixed(T.UInt8, np.ascontiguousarray(res, dtype=np.uint8))

        return T.UInt8, impl

    return resolve


register("__inSet")(_resolve("__inSet", False))
register("__notInSet")(_resolve("__notInSet", True))
