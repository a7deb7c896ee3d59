"""KeyCondition: which granules (and parts) can hold rows matching a WHERE condition.

ClickHouse's idea (``KeyCondition``, ``MergeTreeDataSelectExecutor::markRangesFromPKRange``),
re-derived here:

1. The WHERE expression is bound (`exec.expression.bind`: names resolved, operators mapped to
   functions, constants folded) and rewritten into a reverse-Polish list (`rpn`) of *atoms*
   over the key columns joined by ``and`` / ``or`` / ``not``. An atom says "key i, passed
   through a chain of monotonic functions, lies in this union of intervals": ``ts >= '2024-01-01'``,
   ``toDate(ts) = '2024-01-01'`` on key ``ts`` (the chain ``toDate`` is applied to the index values),
   ``user_id IN ('a', 'b')``, ``startsWith(url, 'http')`` / ``url LIKE 'http%'`` (a prefix range),
   ``x != 3``, ``x NOT IN (...)`` (complements). A condition on a column ``c`` when the key is a
   monotonic function ``f(c)`` (``ts >= C`` with key ``toDate(ts)``) becomes the *relaxed* atom
   ``f(c) >= f(C)``: implied by the condition, never its exact equivalent, so it can only say
   "may be true" (NOT of it is unknown). Anything else is ``unknown`` (may be true or false).
   ``NOT`` is pushed down through and/or and comparisons first, so relaxed atoms keep pruning.
2. Values are compared in the same *comparison domain* the filter uses
   (`functions.comparison.comparison_domain` / `to_domain`): a DateTime key against a string
   constant compares UTC seconds, in the key's time zone, exactly like ``ts >= '...'`` does.
3. For a mark range [a, b) the key tuple lies between ``index[a]`` and ``index[b]``
   (lexicographically). That range is covered by up to three hyper-rectangles (prefix columns
   fixed, the first differing column either at its left value with the next column >= its left
   value, strictly between, or at its right value with the next column <= its right value), and
   the RPN is evaluated over each with tri-state logic: (can be true, can be false).
4. `select_mark_ranges`: if the condition is an AND of single-interval atoms on the first key
   column, two binary searches find the matching marks (ClickHouse's "binary search"); otherwise
   *generic exclusion search*: a stack of ranges, drop a range where the condition cannot be
   true, keep a single mark, split bigger ranges into 8 (``merge_tree_coarse_index_granularity``)
   and repeat; neighbouring kept ranges closer than ``min_marks_for_seek`` are coalesced.
   From ``VECTORIZED_MIN_MARKS`` marks on, the leaves of that search (every single mark) are
   evaluated at once with numpy instead (`Atom.check_many`): the same marks, without a Python
   step per range (a 12k-mark part: ~40 ms instead of ~300 ms).
5. Parts: `may_be_true_on_minmax` evaluates the condition over the [min, max] of every column the
   partition key reads; `may_be_true_on_partition` evaluates it on the part's partition value
   through the partition expressions (``toYYYYMM(ts)``: ``ts >= '2024-02-01'`` rules out 202401).

The invariant, checked by a property test: a granule that holds a row where the condition is
true is always selected. Simplifications: Nullable key columns only get ``unknown`` atoms;
conditions on a function of a column whose key is a *different* function of it (``toStartOfHour(ts)``
with key ``toDate(ts)``) are unknown; per-range checks run in Python (a few per mark range).
"""

from __future__ import annotations

import bisect
import math
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mergetree import types as T
from mergetree.column import Block, FixedColumn, StringColumn, column_from_values
from mergetree.exec.expression import BCall, BColumn, BConst, BIn, Bound, _as_ast, _schema_dict, bind
from mergetree.functions import values as V
from mergetree.functions.comparison import comparison_domain, compare_values, to_domain
from mergetree.functions.registry import NOT_CONST, get_function, prepare_call

COARSE_INDEX_GRANULARITY = 8
VECTORIZED_MIN_MARKS = 64  # from this many marks, evaluate all marks at once with numpy

_CMP = ("equals", "notEquals", "less", "greater", "lessOrEquals", "greaterOrEquals")
_NEGATED = {"equals": "notEquals", "notEquals": "equals", "less": "greaterOrEquals",
            "greaterOrEquals": "less", "greater": "lessOrEquals", "lessOrEquals": "greater"}
_SWAPPED = {"equals": "equals", "notEquals": "notEquals", "less": "greater", "greater": "less",
            "lessOrEquals": "greaterOrEquals", "greaterOrEquals": "lessOrEquals"}
_RELAXED = {"equals": "equals", "less": "lessOrEquals", "lessOrEquals": "lessOrEquals",
            "greater": "greaterOrEquals", "greaterOrEquals": "greaterOrEquals"}
_FLIP = {"equals": "equals", "lessOrEquals": "greaterOrEquals", "greaterOrEquals": "lessOrEquals"}

# A bound is (value, inclusive) or None (infinite); an interval is (lower, upper).


def _max_lower(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] != b[0]:
        return a if a[0] > b[0] else b
    return (a[0], a[1] and b[1])


def _min_upper(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] != b[0]:
        return a if a[0] < b[0] else b
    return (a[0], a[1] and b[1])


def _intersects(x, y) -> bool:
    lo = _max_lower(x[0], y[0])
    hi = _min_upper(x[1], y[1])
    if lo is None or hi is None:
        return True
    if lo[0] < hi[0]:
        return True
    return lo[0] == hi[0] and lo[1] and hi[1]


def _contains(outer, inner) -> bool:
    (olo, ohi), (ilo, ihi) = outer, inner
    if olo is not None:
        if ilo is None or ilo[0] < olo[0] or (ilo[0] == olo[0] and ilo[1] and not olo[1]):
            return False
    if ohi is not None:
        if ihi is None or ihi[0] > ohi[0] or (ihi[0] == ohi[0] and ihi[1] and not ohi[1]):
            return False
    return True


def _is_nan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _prefix_upper(prefix: bytes) -> bytes | None:
    """Smallest byte string greater than every string starting with `prefix` (None: no bound)."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return None
    p[-1] += 1
    return bytes(p)


# --------------------------------------------------------------------------- atoms


@dataclass
class _Step:
    """One monotonic function application: `call` with the key-derived value at `pos`."""

    call: Any          # PreparedCall
    pos: int
    args: list         # bound args (BConst except at pos)
    increasing: bool
    always: bool

    def apply(self, col, n: int):
        args = [col if i == self.pos else a.value.with_size(n) for i, a in enumerate(self.args)]
        return V.materialize(self.call.run(args, n))


@dataclass
class Atom:
    key: int
    steps: list                 # applied innermost first
    value_type: Any             # type after the steps
    domain: Any
    intervals: list             # union of disjoint intervals in the domain
    relaxed: bool = False       # implied by the condition, not equivalent
    text: str = ""
    increasing: bool = field(init=False)
    always: bool = field(init=False)

    def __post_init__(self):
        self.increasing = sum(not s.increasing for s in self.steps) % 2 == 0
        self.always = all(s.always for s in self.steps)

    def point_values(self, key_col) -> list:
        """The atom's domain value at every point of a key column (index entries, min/max)."""
        col = V.unwrap_lc(key_col)
        n = len(col)
        for s in self.steps:
            col = s.apply(col, n)
        d = to_domain(col, V.strip(self.value_type), self.domain)
        if self.domain.kind == "str":
            offsets, data = d
            return [bytes(data[offsets[i]:offsets[i + 1]]) for i in range(n)]
        if d.dtype == np.longdouble:
            return list(d)
        return d.tolist()

    def check(self, vals: list, rng) -> tuple[bool, bool]:
        """(can be true, can be false) when the key lies in `rng` (bounds over point indexes)."""
        lo, hi = rng
        flo = None if lo is None else (vals[lo[0]], lo[1])
        fhi = None if hi is None else (vals[hi[0]], hi[1])
        if (flo is not None and _is_nan(flo[0])) or (fhi is not None and _is_nan(fhi[0])):
            return True, True
        if self.steps:
            # f(x) for x strictly inside may still equal f(bound): bounds become inclusive
            flo = None if flo is None else (flo[0], True)
            fhi = None if fhi is None else (fhi[0], True)
            if not self.increasing:
                flo, fhi = fhi, flo
            if not self.always and flo is not None and fhi is not None and flo[0] > fhi[0]:
                return True, True  # wrapped around inside the range: not monotonic here
        krange = (flo, fhi)
        can_true = False
        for iv in self.intervals:      # loops, not any(<generator>): this runs per rectangle and atom
            if _intersects(krange, iv):
                can_true = True
                break
        if self.relaxed:
            return can_true, True
        for iv in self.intervals:
            if _contains(iv, krange):
                return can_true, False
        return can_true, True


    def check_many(self, values: np.ndarray, consts: dict, lo_idx, lo_incl, lo_has, hi_idx, hi_incl, hi_has):
        """`check` for many ranges at once: bounds are per-range arrays over point indexes
        (``*_has`` False = unbounded). `values` are the atom's point values as a numeric array
        (strings as ranks) and `consts` maps the interval constants into the same space."""
        flo = values[lo_idx]
        fhi = values[hi_idx]
        m = lo_idx.shape[0]
        unknown = np.zeros(m, np.bool_)
        if values.dtype.kind == "f":
            unknown |= (lo_has & np.isnan(flo)) | (hi_has & np.isnan(fhi))
        if self.steps:
            lo_incl = np.ones(m, np.bool_)
            hi_incl = np.ones(m, np.bool_)
            if not self.increasing:
                flo, fhi, lo_has, hi_has = fhi, flo, hi_has, lo_has
            if not self.always:
                unknown |= lo_has & hi_has & (flo > fhi)
        can_true = np.zeros(m, np.bool_)
        contained = np.zeros(m, np.bool_)
        for ilo, ihi in self.intervals:
            # lower bound of the intersection
            if ilo is None:
                lv, li, lh = flo, lo_incl, lo_has
            else:
                cv = consts[ilo[0]]
                gt = flo > cv
                eq = flo == cv
                lv = np.where(lo_has & (gt | eq), flo, cv)
                li = np.where(lo_has & gt, lo_incl, np.where(lo_has & eq, lo_incl & ilo[1], ilo[1]))
                lh = np.ones(m, np.bool_)
            if ihi is None:
                uv, ui, uh = fhi, hi_incl, hi_has
            else:
                cv = consts[ihi[0]]
                lt = fhi < cv
                eq = fhi == cv
                uv = np.where(hi_has & (lt | eq), fhi, cv)
                ui = np.where(hi_has & lt, hi_incl, np.where(hi_has & eq, hi_incl & ihi[1], ihi[1]))
                uh = np.ones(m, np.bool_)
            can_true |= ~lh | ~uh | (lv < uv) | ((lv == uv) & li & ui)
            inside = np.ones(m, np.bool_)
            if ilo is not None:
                cv = consts[ilo[0]]
                inside &= lo_has & ((cv < flo) | ((cv == flo) & (ilo[1] | ~lo_incl)))
            if ihi is not None:
                cv = consts[ihi[0]]
                inside &= hi_has & ((fhi < cv) | ((fhi == cv) & (ihi[1] | ~hi_incl)))
            contained |= inside
        can_false = ~contained if not self.relaxed else np.ones(m, np.bool_)
        return can_true | unknown, can_false | unknown


UNKNOWN = ("unknown",)
TRUE = ("true",)
FALSE = ("false",)
AND = ("and",)
OR = ("or",)
NOT = ("not",)


def _sig(b: Bound):
    """Structural signature of a bound expression (what "the same expression" means)."""
    if isinstance(b, BColumn):
        return ("col", b.name)
    if isinstance(b, BConst):
        return ("const", str(b.type), repr(b.pyvalue))
    if isinstance(b, BCall):
        return (b.name, tuple(_sig(a) for a in b.args))
    return ("?", id(b))


def _truthy(b: BConst) -> bool:
    v = b.pyvalue
    return v is not None and bool(v)


# --------------------------------------------------------------------------- the condition


class KeyCondition:
    """A WHERE condition analysed against key expressions (sorting key, partition key, minmax).

    ``KeyCondition(where, key_exprs, schema)``: `where` and `key_exprs` are ASTs or SQL text,
    `schema` maps column names to types (dict, list of pairs or Block). See the module docstring.
    """

    def __init__(self, where, key_exprs: list, schema, *, min_marks_for_seek: int = 0, _bound: dict | None = None,
                 bound_where=None, _conjuncts: list | None = None):
        self.schema = _schema_dict(schema)
        # id(WHERE sub-expression) -> its bound form (or the binding error), shared with the
        # conditions derived from this one (minmax, partition): the WHERE is bound once per query
        self._bound = {} if _bound is None else _bound
        # the whole WHERE already bound by the caller (the scan binds it to filter): analysed as is
        self._bound_where = bound_where
        self.min_marks_for_seek = min_marks_for_seek
        self.keys, self.key_types, self._key_sigs, self._key_chains = self._analyse_keys(key_exprs)
        self.atoms: list[Atom] = []
        self._where = None if where is None else _as_ast(where)
        self._partition_exprs: list = []
        self._partition_columns: list = []
        self._minmax_kc = None
        self._partition_kc = None
        if _conjuncts is not None:          # an AND of these bound conjuncts (_shared_derived)
            self.rpn = self._build(_conjuncts[0], False) if _conjuncts else [UNKNOWN]
            for c in _conjuncts[1:]:
                self.rpn = self.rpn + self._build(c, False) + [AND]
        elif where is None:
            self.rpn = [TRUE]
        elif bound_where is not None:
            self.rpn = self._build(bound_where, False)
        else:
            self.rpn = self._build_ast(self._where, False)
        self._point_cache: dict = {}

    def _analyse_keys(self, key_exprs: list):
        """(bound keys, their types, signature -> key index, monotonic chains), the same for every
        query of a table: cached by the key expressions and the schema (an ALTER that changes a
        column's type changes the key)."""
        try:
            ck = (tuple(key_exprs), tuple(self.schema.items()))
            hit = _KEY_ANALYSES.get(ck)
        except TypeError:           # unhashable expressions or types: not cached
            ck = hit = None
        if hit is not None:
            self._analysis = hit
            return hit
        keys = [bind(k, self.schema) for k in key_exprs]
        sigs: dict = {}
        for i, k in enumerate(keys):
            sigs.setdefault(_sig(k), i)
        out = (keys, [k.type for k in keys], sigs, [self._chain_over_column(k) for k in keys])
        if ck is not None:
            with _POINT_VALUES_LOCK:
                if len(_KEY_ANALYSES) >= _KEY_ANALYSES_MAX:
                    _KEY_ANALYSES.clear()
                _KEY_ANALYSES[ck] = out
        self._analysis = out if ck is not None else None
        return out

    # ---- construction

    @classmethod
    def for_table(cls, metadata, where, bound_where=None) -> "KeyCondition":
        """The condition for a table: primary key + partition pruning (`may_match_part`).

        ``bound_where``: `where` bound against the table's schema, when the caller has it. The
        analysis is pure in (schema, keys, bound condition), so with ``bound_where`` it is cached
        by the condition's structure and constants (`_cache_sig`): a repeated query reuses it, and
        the part-pruning conditions (minmax, partition) are shared by every query whose
        conjuncts over the partition columns are the same (`_shared_derived`)."""
        ck = None
        if bound_where is not None:
            sig = _cache_sig(bound_where)
            if sig is not None:
                try:
                    ck = ("table", tuple(metadata.primary_key_asts), tuple(metadata.partition_key_asts),
                          tuple(metadata.schema), sig)
                    hit = _CONDITIONS.get(ck)
                except TypeError:
                    ck = hit = None
                if hit is not None:
                    return hit
        kc = cls(where, metadata.primary_key_asts, metadata.schema,
                 min_marks_for_seek=0, bound_where=bound_where)
        kc._partition_exprs = list(metadata.partition_key_asts)
        kc._partition_columns = _columns_of(metadata.partition_key_asts)
        if ck is not None:
            _cache_put(_CONDITIONS, ck, kc)
        return kc

    def _shared_derived(self, kind: str, key_exprs: list):
        """The minmax / partition condition of a `for_table` condition with a bound WHERE: only the
        top-level AND conjuncts that read a column of `key_exprs` can prune there (the others
        are unknown atoms, which an AND ignores for "can be true"), so the condition is built
        from those alone and cached by their signature; None when it cannot be shared."""
        if self._bound_where is None:
            return None
        columns = set(_columns_of(key_exprs))
        relevant = [c for c in _conjuncts(self._bound_where) if _reads_any(c, columns)]
        sigs = tuple(_cache_sig(c) for c in relevant)
        if any(x is None for x in sigs):
            return None
        try:
            ck = (kind, tuple(key_exprs), tuple(self.schema.items()), sigs)
            hit = _CONDITIONS.get(ck)
        except TypeError:
            return None
        if hit is None:
            hit = KeyCondition(self._where, key_exprs, self.schema, _conjuncts=relevant)
            hit._part_results = {}
            _cache_put(_CONDITIONS, ck, hit)
        return hit

    def _chain_over_column(self, k: Bound):
        """(column name, steps) if key `k` is monotonic functions of one column, else None."""
        steps = []
        node = k
        while isinstance(node, BCall):
            pos = self._single_variable_arg(node)
            if pos is None:
                return None
            mono = self._monotonicity(node, pos)
            if mono is None or not mono.always:
                return None
            steps.append(_Step(node.call, pos, node.args, mono.increasing, True))
            node = node.args[pos]
        if not isinstance(node, BColumn) or not steps:
            return None
        return node.name, node.type, list(reversed(steps))

    @staticmethod
    def _single_variable_arg(node: BCall):
        var = [i for i, a in enumerate(node.args) if not isinstance(a, BConst)]
        return var[0] if len(var) == 1 else None

    @staticmethod
    def _monotonicity(node: BCall, pos: int):
        fd = node.call.fn
        if fd.monotonic is None:
            return None
        types = [a.type for a in node.args]
        if any(isinstance(t, (T.NullableType, T.LowCardinalityType)) for t in types):
            return None
        consts = [a.pyvalue if isinstance(a, BConst) else NOT_CONST for a in node.args]
        return fd.monotonic(types, consts, pos)

    def _match_key(self, b: Bound):
        """(key index, steps) when `b` is a key expression through monotonic functions."""
        i = self._key_sigs.get(_sig(b))
        if i is not None:
            if isinstance(V.strip_lc(self.key_types[i]), T.NullableType):
                return None
            return i, []
        if isinstance(b, BCall):
            pos = self._single_variable_arg(b)
            if pos is None:
                return None
            mono = self._monotonicity(b, pos)
            if mono is None:
                return None
            inner = self._match_key(b.args[pos])
            if inner is None:
                return None
            i, steps = inner
            return i, steps + [_Step(b.call, pos, b.args, mono.increasing, mono.always)]
        return None

    def _build_ast(self, e, negate: bool) -> list:
        """RPN of a WHERE AST: AND/OR/NOT are walked here, every other sub-expression is bound
        on its own; one that cannot be bound (a subquery, an unknown column, CASE...) is
        ``unknown`` rather than an error: the exact filter evaluates it later."""
        from sqlparse_ch.ast import expr as E

        if isinstance(e, E.BinaryOp) and e.op.upper() in ("AND", "OR"):
            op = AND if (e.op.upper() == "AND") != negate else OR
            return self._build_ast(e.left, negate) + self._build_ast(e.right, negate) + [op]
        if isinstance(e, E.FunctionCall) and e.name.lower() in ("and", "or") and len(e.args) >= 2 \
                and not e.params and e.over is None:
            op = AND if (e.name.lower() == "and") != negate else OR
            out = self._build_ast(e.args[0], negate)
            for a in e.args[1:]:
                out += self._build_ast(a, negate) + [op]
            return out
        if isinstance(e, E.UnaryOp) and e.op.upper() == "NOT":
            return self._build_ast(e.operand, not negate)
        if isinstance(e, E.FunctionCall) and e.name.lower() == "not" and len(e.args) == 1:
            return self._build_ast(e.args[0], not negate)
        if isinstance(e, E.Alias):
            return self._build_ast(e.expr, negate)
        b = self._bound.get(id(e))
        if b is None:
            try:
                b = bind(e, self.schema)
            except Exception:  # noqa: BLE001 - anything we cannot analyse may be true
                b = UNKNOWN
            self._bound[id(e)] = b
        if b is UNKNOWN:
            return [UNKNOWN]
        return self._build(b, negate)

    def _build(self, b: Bound, negate: bool) -> list:
        if isinstance(b, BConst):
            return [TRUE if _truthy(b) != negate else FALSE]
        if isinstance(b, BCall):
            name = b.name
            if name in ("and", "or"):
                op = AND if (name == "and") != negate else OR
                out = self._build(b.args[0], negate)
                for a in b.args[1:]:
                    out += self._build(a, negate) + [op]
                return out
            if name == "not":
                return self._build(b.args[0], not negate)
            return self._leaf_cached(b, negate)
        if isinstance(b, BIn):
            return self._in(b.arg, b.items, b.negated != negate)
        return [UNKNOWN]

    def _leaf_cached(self, b: "BCall", negate: bool) -> list:
        """`_leaf`, remembered by (key analysis, negate, the leaf's `_cache_sig`): the RPN of an
        AND/OR/NOT is the concatenation of its leaves' RPNs, and a leaf's RPN and atoms depend only
        on the key analysis and the leaf's structure, types and constants (what the signature
        holds). So ``user_id = 'u1' AND timestamp >= <now() - 30 days>`` reuses the timestamp
        leaf's analysis from the previous request of the same second and builds only the user's
        atom. Atoms are never mutated once built: sharing them between conditions is safe."""
        analysis = getattr(self, "_analysis", None)
        sig = _cache_sig(b) if analysis is not None else None
        if sig is None:
            return self._leaf(b, negate)
        ck = (id(analysis), negate, sig)
        hit = _LEAVES.get(ck)
        if hit is not None and hit[0] is analysis:
            self.atoms.extend(hit[2])
            return list(hit[1])
        n = len(self.atoms)
        rpn = self._leaf(b, negate)
        _cache_put(_LEAVES, ck, (analysis, tuple(rpn), tuple(self.atoms[n:])), _LEAVES_MAX)
        return rpn

    def _leaf(self, b: "BCall", negate: bool) -> list:
        """RPN of a call that is not AND/OR/NOT (a comparison, a prefix match, else unknown)."""
        name = b.name
        if name in _CMP:
            return self._comparison(name if not negate else _NEGATED[name], b.args[0], b.args[1])
        if name in ("startsWith", "like") and not negate and isinstance(b.args[1], BConst):
            return self._prefix(b.args[0], b.args[1], name)
        if name in ("notLike",) and negate and isinstance(b.args[1], BConst):
            return self._prefix(b.args[0], b.args[1], "like")
        return [UNKNOWN]

    # comparisons: key-chain op constant
    def _comparison(self, op: str, left: Bound, right: Bound) -> list:
        if isinstance(left, BConst) and not isinstance(right, BConst):
            left, right, op = right, left, _SWAPPED[op]
        if not isinstance(right, BConst) or isinstance(left, BConst):
            return [UNKNOWN]
        if V.is_null_type(V.strip_lc(right.type)):
            return [FALSE]  # x op NULL is NULL: never true
        out = []
        m = self._match_key(left)
        if m is not None:
            atom = self._make_atom(m[0], m[1], left.type, op, [(right.value, right.type)], False)
            if atom is not None:
                out.append(atom)
        if isinstance(left, BColumn) and op != "notEquals":
            for i, chain in enumerate(self._key_chains):
                if chain is not None and chain[0] == left.name:
                    atom = self._relaxed_atom(i, chain, op, [(right.value, right.type)])
                    if atom is not None:
                        out.append(atom)
        return self._conjunction(out)

    def _in(self, arg: Bound, items: list, negated: bool) -> list:
        items = [(c, t) for c, t in items if not V.is_null_type(V.strip_lc(t))
                 and not (isinstance(V.strip_lc(t), T.NullableType) and c.value is None)]
        out = []
        m = self._match_key(arg)
        op = "notIn" if negated else "in"
        if m is not None:
            atom = self._make_atom(m[0], m[1], arg.type, op, items, False)
            if atom is not None:
                out.append(atom)
        if isinstance(arg, BColumn) and not negated and items:
            for i, chain in enumerate(self._key_chains):
                if chain is not None and chain[0] == arg.name:
                    atom = self._relaxed_atom(i, chain, "in", items)
                    if atom is not None:
                        out.append(atom)
        if not items and m is not None:
            return [TRUE if negated else FALSE]
        return self._conjunction(out)

    def _prefix(self, arg: Bound, pattern: BConst, name: str) -> list:
        value = pattern.pyvalue
        if not isinstance(value, str):
            return [UNKNOWN]
        raw = value.encode("utf-8", "surrogateescape")
        exact = True
        if name == "like":
            from mergetree.kernels.like import ANY_SEQ, compile_like

            try:
                tokens = compile_like(raw).tolist()
            except ValueError:
                return [UNKNOWN]
            lit = bytearray()
            for t in tokens:
                if t < 0:
                    break
                lit.append(t)
            raw = bytes(lit)
            exact = len(lit) == len(tokens) - 1 and tokens[-1] == ANY_SEQ
            if len(lit) == len(tokens):  # no wildcard at all: equality with the unescaped text
                return self._comparison("equals", arg, BConst(V.string_const(bytes(lit), 1), T.String))
        m = self._match_key(arg)
        if m is None or m[1] or not isinstance(V.strip(self.key_types[m[0]]), T.StringType):
            return [UNKNOWN]
        upper = _prefix_upper(raw)
        interval = ((raw, True), None if upper is None else (upper, False))
        atom = Atom(m[0], [], arg.type, comparison_domain(T.String, T.String), [interval],
                    relaxed=not exact, text=f"{name} prefix {raw!r}")
        self.atoms.append(atom)
        return [("atom", atom)]

    @staticmethod
    def _conjunction(atoms: list) -> list:
        if not atoms:
            return [UNKNOWN]
        out = [("atom", atoms[0])]
        for a in atoms[1:]:
            out += [("atom", a), AND]
        return out

    def _make_atom(self, key: int, steps: list, value_type, op: str, items: list, relaxed: bool):
        """Atom `value op items` where value = steps(key); None when types don't compare."""
        vt = V.strip(value_type)
        if isinstance(V.strip_lc(value_type), T.NullableType):
            return None
        consts = []
        try:
            dom = None
            for c, t in items:
                d = comparison_domain(vt, V.strip(t))
                if dom is not None and d != dom:
                    return None
                dom = d
                c, _ = V.split_nullable(V.unwrap_lc(c))
                x = to_domain(c, V.strip(t), d)
                if d.kind == "str":
                    off, data = x
                    consts.append(bytes(data[off[0]:off[1]]))
                elif d.kind == "num":
                    consts.append(x[0] if x.dtype == np.longdouble else x.tolist()[0])
                else:
                    return None
        except Exception:  # noqa: BLE001 - a constant that does not convert: no atom
            return None
        if dom is None:
            return None
        if any(_is_nan(v) for v in consts):
            return None
        if op in ("in", "notIn"):
            pts = sorted(set(consts))
            if op == "in":
                intervals = [((v, True), (v, True)) for v in pts]
            else:
                intervals, prev = [], None
                for v in pts:
                    intervals.append((prev, (v, False)))
                    prev = (v, False)
                intervals.append((prev, None))
        else:
            v = consts[0]
            intervals = {
                "equals": [((v, True), (v, True))],
                "notEquals": [(None, (v, False)), ((v, False), None)],
                "less": [(None, (v, False))],
                "lessOrEquals": [(None, (v, True))],
                "greater": [((v, False), None)],
                "greaterOrEquals": [((v, True), None)],
            }[op]
        atom = Atom(key, steps, value_type, dom, intervals, relaxed=relaxed,
                    text=f"key {key} {op} {consts if len(consts) > 1 else consts[0]!r}")
        self.atoms.append(atom)
        return atom

    def _relaxed_atom(self, key: int, chain, op: str, items: list):
        """`c op C` with key f(c): the implied atom f(c) op' f(C) (op' non-strict)."""
        col_name, col_type, steps = chain
        ct = V.strip(col_type)
        if isinstance(col_type, (T.NullableType, T.LowCardinalityType)):
            return None
        increasing = sum(not s.increasing for s in steps) % 2 == 0
        if op != "in":
            op = _RELAXED[op]
            if not increasing:
                op = _FLIP[op]
        mapped = []
        for c, t in items:
            conv = self._convert_constant(c, V.strip(t), ct)
            if conv is None:
                return None
            col = conv
            for s in steps:
                col = s.apply(col, 1)
            mapped.append((V.ConstColumn(col, 1), self.key_types[key]))
        return self._make_atom(key, [], self.key_types[key], op, mapped, True)

    @staticmethod
    def _convert_constant(c, t, target):
        """Constant c (type t) as a 1-row column of type `target`, only when the conversion is
        monotonic (dates/times saturate) or exact (numbers); else None."""
        c, _ = V.split_nullable(V.unwrap_lc(c))
        try:
            if t == target:
                return c.data if V.is_const(c) else c
            if isinstance(target, (T.DateType, T.DateTimeType)):
                fname = "toDate" if isinstance(target, T.DateType) else "toDateTime"
                types, consts, args = [t], [NOT_CONST], [c]
                if isinstance(target, T.DateTimeType) and target.timezone:
                    types.append(T.String)
                    consts.append(target.timezone)
                    args.append(V.string_const(target.timezone, 1))
                call = prepare_call(get_function(fname), types, consts)
                return V.materialize(call.run(args, 1))
            if isinstance(target, (T.IntType, T.FloatType)) and isinstance(t, (T.IntType, T.FloatType, T.BoolType)):
                call = prepare_call(get_function("to" + target.name), [t], [NOT_CONST])
                conv = V.materialize(call.run([c], 1))
                dom = comparison_domain(target, t)
                if not compare_values("equals", conv, target, c, t, dom)[0]:
                    return None
                return conv
        except Exception:  # noqa: BLE001
            return None
        return None

    # ---- evaluation

    @property
    def always_unknown(self) -> bool:
        """True when the condition cannot prune anything (no atoms, no constant false);
        remembered with the RPN it was computed from."""
        memo = self.__dict__.get("_always_unknown")
        if memo is not None and memo[0] is self.rpn:
            return memo[1]
        value = not any(e[0] in ("atom", "false") for e in self.rpn)
        self._always_unknown = (self.rpn, value)
        return value

    def _points(self, key_cols: list) -> list:
        """Point values of every atom over the given key columns (cached by the columns' identity:
        each call builds a new list of the same index columns)."""
        cache_key = tuple(map(id, key_cols))
        hit = self._point_cache.get(cache_key)
        if hit is not None and all(a is b for a, b in zip(hit[0], key_cols)):
            return hit[1]
        vals = {}
        for a in self.atoms:
            if a.key < len(key_cols):
                vals[id(a)] = _shared_point_values(a, key_cols[a.key])
        self._point_cache = {cache_key: (list(key_cols), vals)}
        return vals

    def _eval_rect(self, vals: dict, rect: list) -> tuple[bool, bool]:
        stack = []
        for e in self.rpn:
            kind = e[0]
            if kind == "atom":
                a = e[1]
                if id(a) not in vals:
                    stack.append((True, True))
                    continue
                rng = rect[a.key] if a.key < len(rect) else (None, None)
                stack.append(a.check(vals[id(a)], rng))
            elif kind == "unknown":
                stack.append((True, True))
            elif kind == "true":
                stack.append((True, False))
            elif kind == "false":
                stack.append((False, True))
            elif kind == "not":
                t, f = stack.pop()
                stack.append((f, t))
            else:
                t2, f2 = stack.pop()
                t1, f1 = stack.pop()
                if kind == "and":
                    stack.append((t1 and t2, f1 or f2))
                else:
                    stack.append((t1 or t2, f1 and f2))
        return stack[-1]

    def _lex_rects(self, eq: list, a: int, b: int, nkeys: int) -> list:
        """Hyper-rectangles (bounds over point indexes) covering keys in [point a, point b]."""
        p = 0
        while p < nkeys and eq[p](a, b):
            p += 1
        prefix = [((a, True), (a, True))] * p
        rest = nkeys - p - 1
        if p >= nkeys:
            return [prefix]
        if rest <= 0:
            return [prefix + [((a, True), (b, True))]]
        free = [(None, None)] * (rest - 1)
        return [
            prefix + [((a, True), (a, True)), ((a, True), None)] + free,
            prefix + [((a, False), (b, False)), (None, None)] + free,
            prefix + [((b, True), (b, True)), (None, (b, True))] + free,
        ]

    def _key_columns(self, index: Block) -> list:
        cols = list(index.columns.values())
        return cols[:len(self.keys)]

    @staticmethod
    def _equalities(key_cols: list, begin: int = 0, end: int | None = None) -> list:
        """Per key: eq(i, j) telling whether points i and j hold the same value (for points in
        [begin, end) only, default all: the exclusion search of a narrowed range compares no other)."""
        out = []
        for c in key_cols:
            stop = len(c) if end is None else min(end, len(c))
            if isinstance(c, StringColumn):
                o, d = c.offsets[begin:max(begin, stop) + 1].tolist(), c.data   # Python ints: no numpy scalars
                vals = {begin + k: bytes(d[o[k]:o[k + 1]]) for k in range(stop - begin)}
            elif isinstance(c, FixedColumn) and c.values.ndim == 1:
                vals = dict(zip(range(begin, stop), c.values[begin:stop].tolist()))
            else:
                vals = dict(zip(range(begin, stop), (repr(v) for v in c.slice(begin, stop).to_pylist())))
            out.append(lambda i, j, vals=vals: vals[i] == vals[j])
        return out

    @staticmethod
    def _equalities_lazy(key_cols: list) -> list:
        """`_equalities` comparing two points only when asked (one mark's check compares one or
        two pairs: no table of every point's value is built)."""
        out = []
        for c in key_cols:
            if isinstance(c, StringColumn):
                def eq(i, j, o=c.offsets, d=c.data):
                    oi, oj = int(o[i]), int(o[j])
                    n = int(o[i + 1]) - oi
                    return n == int(o[j + 1]) - oj and bytes(d[oi:oi + n]) == bytes(d[oj:oj + n])
            elif isinstance(c, FixedColumn) and c.values.ndim == 1:
                def eq(i, j, v=c.values):
                    return v[i].item() == v[j].item()
            else:
                def eq(i, j, c=c):
                    return repr(c.slice(i, i + 1).to_pylist()[0]) == repr(c.slice(j, j + 1).to_pylist()[0])
            out.append(eq)
        return out

    def may_be_true_in_marks(self, key_cols: list, eq: list, a: int, b: int) -> bool:
        vals = self._points(key_cols)
        for r in self._lex_rects(eq, a, b, len(key_cols)):
            if self._eval_rect(vals, r)[0]:
                return True
        return False

    def may_be_true_in_range(self, left: tuple, right: tuple) -> bool:
        """Can a row whose key lies lexicographically in [left, right] match? (Python values)"""
        n = min(len(left), len(right), len(self.keys))
        cols = [column_from_values(self.key_types[i], [left[i], right[i]]) for i in range(n)]
        return self.may_be_true_in_marks(cols, self._equalities(cols), 0, 1)

    def may_be_true_in_hyperrectangle(self, ranges: list) -> bool:
        """Can the condition hold when key i independently lies in [ranges[i][0], ranges[i][1]]?"""
        if any(lo is None or hi is None for lo, hi in ranges):
            return True
        cols = [column_from_values(self.key_types[i], [lo, hi]) for i, (lo, hi) in enumerate(ranges)]
        vals = self._points(cols)
        rect = [((0, True), (1, True))] * len(cols)
        return self._eval_rect(vals, rect)[0]

    # ---- mark selection

    def select_mark_ranges(self, primary_index: Block, n_marks: int, *,
                           search: str = "auto") -> list[tuple[int, int]]:
        """Mark ranges [begin, end) of a part that may hold matching rows.

        `primary_index` has one row per mark plus the final mark (the last row's key), its
        columns in key order. ``search="exclusion"`` skips the binary-search shortcut."""
        if n_marks <= 0:
            return []
        if self.rpn == [FALSE]:
            return []
        if self.always_unknown or not primary_index.columns:
            return [(0, n_marks)]
        key_cols = self._key_columns(primary_index)
        if len(key_cols[0]) < n_marks + 1:
            return [(0, n_marks)]
        vals = self._points(key_cols)
        begin, end = 0, n_marks
        if search == "auto":
            found = self._binary_search(vals, n_marks, partial=True)
            if found is not None:
                found, exact = found
                if exact or not found:
                    return found
                # an AND whose first-key atoms narrow the marks to found[0]: the other atoms
                # (later key columns) are checked only there (a point lookup on (user_id,
                # timestamp) searches 1-2 granules instead of the whole part)
                (begin, end), = found
        if search == "vectorized" or (search == "auto" and end - begin >= VECTORIZED_MIN_MARKS):
            found = self._vectorized_search(key_cols, vals, n_marks)
            if found is not None:
                return found
        if end - begin == 1:     # what the exclusion search does for one mark, without its stack
            eq = self._equalities_lazy(key_cols)
            return [(begin, end)] if self.may_be_true_in_marks(key_cols, eq, begin, end) else []
        eq = self._equalities(key_cols, begin, end + 1)
        return self._exclusion_search(key_cols, eq, n_marks, begin, end)

    def _vectorized_search(self, key_cols: list, vals: dict, n_marks: int):
        """Every mark's [index[i], index[i + 1]] evaluated at once with numpy (the leaves the
        exclusion search would reach, without a Python step per range). None when some values
        cannot be put in numeric arrays."""
        nkeys = len(key_cols)
        arrays, consts = {}, {}
        for a in self.atoms:
            if id(a) not in vals:
                continue
            points = vals[id(a)]
            cvals = [b[0] for iv in a.intervals for b in iv if b is not None]
            if a.domain.kind == "str":
                universe = sorted(set(points) | set(cvals))
                rank = {v: k for k, v in enumerate(universe)}
                arrays[id(a)] = np.array([rank[v] for v in points], np.int64)
                consts[id(a)] = {v: rank[v] for v in cvals}
            else:
                arr = np.asarray(points)
                if arr.dtype.kind not in "iuf":
                    return None
                arrays[id(a)] = arr
                consts[id(a)] = {v: v for v in cvals}
        # p[i]: the first key whose value differs between index[i] and index[i + 1]
        p = np.full(n_marks, nkeys, np.int64)
        for k in range(nkeys - 1, -1, -1):
            same = self._point_equal(key_cols[k], n_marks)
            p = np.where(same, p, k)
        split = p < nkeys - 1  # three rectangles (A, B, C); otherwise one
        i = np.arange(n_marks, dtype=np.int64)
        t = np.ones(n_marks, np.bool_)
        f = np.zeros(n_marks, np.bool_)

        def bounds(k: int, rect: str):
            below = k < p
            at = k == p
            next_ = (k == p + 1) & split
            lo_idx = i.copy()
            hi_idx = i.copy()
            if rect == "A":
                lo_has = below | at | next_
                hi_has = below | at
                lo_incl = np.ones(n_marks, np.bool_)
                hi_incl = np.ones(n_marks, np.bool_)
                hi_idx = np.where(at & ~split, i + 1, i)  # not split: the closed range [i, i + 1]
            elif rect == "B":
                lo_has = below | at
                hi_has = below | at
                lo_incl = below.copy()
                hi_incl = below.copy()
                hi_idx = np.where(at, i + 1, i)
            else:  # C
                lo_has = below | at
                hi_has = below | at | next_
                lo_incl = np.ones(n_marks, np.bool_)
                hi_incl = np.ones(n_marks, np.bool_)
                lo_idx = np.where(at, i + 1, i)
                hi_idx = np.where(at | next_, i + 1, i)
            return lo_idx, lo_incl, lo_has, hi_idx, hi_incl, hi_has

        may = np.zeros(n_marks, np.bool_)
        for rect in ("A", "B", "C"):
            stack = []
            for e in self.rpn:
                kind = e[0]
                if kind == "atom":
                    a = e[1]
                    if id(a) not in arrays:
                        stack.append((t, t))
                        continue
                    stack.append(a.check_many(arrays[id(a)], consts[id(a)], *bounds(a.key, rect)))
                elif kind == "unknown":
                    stack.append((t, t))
                elif kind == "true":
                    stack.append((t, f))
                elif kind == "false":
                    stack.append((f, t))
                elif kind == "not":
                    x, y = stack.pop()
                    stack.append((y, x))
                else:
                    t2, f2 = stack.pop()
                    t1, f1 = stack.pop()
                    stack.append((t1 & t2, f1 | f2) if kind == "and" else (t1 | t2, f1 & f2))
            res = stack[-1][0]
            may |= res if rect == "A" else (res & split)
        marks = np.nonzero(may)[0]
        if marks.size == 0:
            return []
        breaks = np.nonzero(np.diff(marks) > self.min_marks_for_seek + 1)[0]
        starts = np.r_[marks[0], marks[breaks + 1]]
        ends = np.r_[marks[breaks], marks[-1]] + 1
        return [(int(a), int(b)) for a, b in zip(starts, ends)]

    @staticmethod
    def _point_equal(col, n_marks: int) -> np.ndarray:
        """same[i]: index entries i and i + 1 of a key column hold the same value."""
        from mergetree.column import FixedColumn, StringColumn

        if isinstance(col, FixedColumn) and col.values.ndim == 1:
            v = col.values[:n_marks + 1]
            return v[:-1] == v[1:]
        if isinstance(col, StringColumn):
            o, d = col.offsets, col.data
            vals = [bytes(d[o[k]:o[k + 1]]) for k in range(n_marks + 1)]
        else:
            vals = [repr(x) for x in col.slice(0, n_marks + 1).to_pylist()]
        return np.array([vals[k] == vals[k + 1] for k in range(n_marks)], np.bool_)

    def _binary_search(self, vals: dict, n_marks: int, partial: bool = False):
        """Mark range of an AND of single-interval increasing atoms on key 0, else None.

        ``partial``: the condition may AND other atoms too; returns ``(ranges, exact)`` where
        ``ranges`` covers every mark the key-0 atoms allow (a superset of the answer when not
        ``exact``), or None when there is no such atom or the condition is not a plain AND."""
        atoms = []
        exact = True
        for e in self.rpn:
            if e[0] == "atom":
                a = e[1]
                if a.key != 0 or len(a.intervals) != 1 or not a.increasing or not a.always:
                    if not partial:
                        return None
                    exact = False
                    continue
                atoms.append(a)
            elif e[0] not in ("and", "unknown", "true"):
                return None
        if not atoms:
            return None
        found = self._bisect_atoms(atoms, vals, n_marks)
        if found is None or not partial:
            return found
        return found, exact

    def _bisect_atoms(self, atoms: list, vals: dict, n_marks: int):
        begin, end = 0, n_marks
        for a in atoms:
            v = vals[id(a)]            # the first n_marks + 1 points are searched (no copy of them)
            if v and isinstance(v[0], float) and any(x != x for x in v[:n_marks + 1]):
                return None  # NaN in a float key: not sortable, use the exclusion search
            if len(v) < n_marks + 1:
                return None
            lo, hi = a.intervals[0]
            if lo is not None:
                j = (bisect.bisect_left if lo[1] else bisect.bisect_right)(v, lo[0], 1, n_marks + 1)
                begin = max(begin, j - 1)
            if hi is not None:
                k = (bisect.bisect_right if hi[1] else bisect.bisect_left)(v, hi[0], 0, n_marks)
                end = min(end, k)
        return [(begin, end)] if begin < end else []

    def _exclusion_search(self, key_cols, eq, n_marks: int, begin: int = 0,
                          end: int | None = None) -> list[tuple[int, int]]:
        """Marks in [begin, end) (default: all) whose key ranges may match, by recursive
        subdivision into COARSE_INDEX_GRANULARITY pieces."""
        res: list[list[int]] = []
        stack = [(begin, n_marks if end is None else end)]
        while stack:
            a, b = stack.pop()
            if not self.may_be_true_in_marks(key_cols, eq, a, b):
                continue
            if b - a == 1:
                if res and a - res[-1][1] <= self.min_marks_for_seek:
                    res[-1][1] = b
                else:
                    res.append([a, b])
                continue
            step = (b - a + COARSE_INDEX_GRANULARITY - 1) // COARSE_INDEX_GRANULARITY
            subs = []
            s = a
            while s < b:
                subs.append((s, min(s + step, b)))
                s += step
            stack.extend(reversed(subs))
        return [(x, y) for x, y in res]

    # ---- parts

    def may_be_true_on_minmax(self, minmax: dict) -> bool:
        """Condition over [min, max] of the partition-key columns (``part.minmax``)."""
        cols = [c for c in minmax if c in self.schema]
        if not cols:
            return True
        kc = self._derived(("minmax", tuple(cols)), lambda: [_identifier(c) for c in cols])
        return kc.may_be_true_in_hyperrectangle([minmax[c] for c in cols])

    def may_be_true_on_partition(self, partition_exprs: list, partition_value: tuple) -> bool:
        """Condition on the partition value through the partition expressions."""
        if not partition_exprs or len(partition_value) != len(partition_exprs):
            return True
        kc = self._derived(("partition", tuple(map(repr, partition_exprs))), lambda: list(partition_exprs))
        return kc.may_be_true_in_hyperrectangle([(v, v) for v in partition_value])

    def _derived(self, key, make_exprs) -> "KeyCondition":
        """The same WHERE analysed against other key expressions (cached per expressions)."""
        cache = self.__dict__.setdefault("_derived_cache", {})
        kc = cache.get(key)
        if kc is None:
            kc = cache[key] = KeyCondition(self._where_ast(), make_exprs(), self.schema, _bound=self._bound,
                                           bound_where=self._bound_where)
        return kc

    def _where_ast(self):
        return self._where

    def may_match_part(self, part) -> bool:
        """Part pruning for `for_table` conditions: minmax index, then partition value."""
        where = self._where_ast()
        if where is None:
            return True
        if self._minmax_kc is None:
            cols = [c for c in self._partition_columns if c in self.schema]
            keys = [_identifier(c) for c in cols]
            exprs = self._partition_exprs
            minmax_kc = (self._shared_derived("minmax", keys) or KeyCondition(
                where, keys, self.schema, _bound=self._bound, bound_where=self._bound_where)) if cols else False
            self._partition_kc = (self._shared_derived("partition", exprs) or KeyCondition(
                where, exprs, self.schema, _bound=self._bound, bound_where=self._bound_where)) if exprs else False
            self._minmax_kc = minmax_kc
        # the answer is a function of the two derived conditions (immutable once built, usually
        # shared by many queries: `_shared_derived`) and the part (immutable; its uid is never
        # reused): remembered on the minmax condition (else the partition one) per part
        mm, pk = self._minmax_kc, self._partition_kc
        holder = mm or pk
        uid = getattr(part, "uid", None)
        if holder and uid is not None:
            memo = holder.__dict__.get("_match_memo")
            if memo is None:
                memo = holder.__dict__["_match_memo"] = {}
            hit = memo.get(uid)
            if hit is not None and hit[0] is mm and hit[1] is pk:
                return hit[2]
            result = self._may_match_part_uncached(part)
            if len(memo) >= 4096:
                memo.clear()
            memo[uid] = (mm, pk, result)
            return result
        return self._may_match_part_uncached(part)

    def _may_match_part_uncached(self, part) -> bool:
        if self._minmax_kc and part.minmax and not self._minmax_kc.always_unknown:
            cols = [self._minmax_kc_col(i) for i in range(len(self._minmax_kc.keys))]
            if all(c in part.minmax for c in cols):
                if not self._minmax_kc._may_be_true_on_part(part, "minmax", [part.minmax[c] for c in cols]):
                    return False
        if self._partition_kc and not self._partition_kc.always_unknown:
            pv = tuple(part.partition_value)
            if len(pv) == len(self._partition_kc.keys):
                if not self._partition_kc._may_be_true_on_part(part, "partition", [(v, v) for v in pv]):
                    return False
        return True

    def _may_be_true_on_part(self, part, kind: str, ranges: list) -> bool:
        """may_be_true_in_hyperrectangle over a part's minmax / partition value, with the
        two-row key columns kept per part, so their point values are shared across queries.
        A shared condition (`_shared_derived`) remembers its answer per part (parts are immutable
        and their ``uid`` is never reused)."""
        memo = self.__dict__.get("_part_results")
        uid = getattr(part, "uid", None)
        if memo is not None and uid is not None:
            hit = memo.get((uid, kind))
            if hit is not None:
                return hit
            result = self._may_be_true_on_part_uncached(part, kind, ranges)
            if len(memo) >= 4096:
                memo.clear()
            memo[(uid, kind)] = result
            return result
        return self._may_be_true_on_part_uncached(part, kind, ranges)

    def _may_be_true_on_part_uncached(self, part, kind: str, ranges: list) -> bool:
        if any(lo is None or hi is None for lo, hi in ranges):
            return True
        key = (id(part), kind, tuple(self.key_types))
        try:
            hit = _PART_RECTS.get(key)
        except TypeError:
            return self.may_be_true_in_hyperrectangle(ranges)
        if hit is not None and hit[0]() is part and hit[1] == ranges:
            cols = hit[2]
        else:
            cols = [column_from_values(self.key_types[i], [lo, hi]) for i, (lo, hi) in enumerate(ranges)]
            try:
                ref = weakref.ref(part)        # never keeps a removed part (its marks, index) alive
            except TypeError:
                ref = None
            if ref is not None:
                with _POINT_VALUES_LOCK:
                    if len(_PART_RECTS) >= _POINT_VALUES_MAX:
                        for k in list(_PART_RECTS)[:_POINT_VALUES_MAX // 4]:
                            _PART_RECTS.pop(k, None)
                    _PART_RECTS[key] = (ref, ranges, cols)
        vals = self._points(cols)
        return self._eval_rect(vals, [((0, True), (1, True))] * len(cols))[0]

    def _minmax_kc_col(self, i: int) -> str:
        return self._minmax_kc.keys[i].name

    def describe(self) -> str:
        """The RPN as text (for EXPLAIN-style output and debugging)."""
        out = []
        for e in self.rpn:
            out.append(e[1].text if e[0] == "atom" else e[0])
        return ", ".join(out)


#: (id(index column), value type, domain) -> (column, point values): an atom without steps
#: (`key op constant`) has the same point values over a part's primary index in every query, so
#: they are computed once per part (a 10M-row part has ~1,200 index entries: a Python list each
#: time otherwise). Entries hold their column, so an id is never confused with a later object's.
_POINT_VALUES: dict = {}
_POINT_VALUES_MAX = 256
_POINT_VALUES_LOCK = threading.Lock()
#: (id(part), "minmax" | "partition", key types) -> (weakref to the part, ranges, two-row key columns)
_PART_RECTS: dict = {}
#: (key expressions, schema items) -> KeyCondition._analyse_keys of them (bound keys are pure)
_KEY_ANALYSES: dict = {}
_KEY_ANALYSES_MAX = 256
#: analysed conditions by (kind, key expressions, schema, signature of the bound condition):
#: KeyCondition.for_table and its shared minmax / partition conditions. Kept small: a repeated
#: query hits within seconds, and every cached analysis is objects the garbage collector walks
_CONDITIONS: dict = {}
_CONDITIONS_MAX = 128
#: (id(key analysis), negate, leaf signature) -> (key analysis, RPN, atoms): `_leaf_cached`
_LEAVES: dict = {}
_LEAVES_MAX = 512


def _cache_put(cache: dict, key, value, limit: int = _CONDITIONS_MAX) -> None:
    with _POINT_VALUES_LOCK:
        if len(cache) >= limit:
            for k in list(cache)[:limit // 4]:     # the oldest quarter
                cache.pop(k, None)
        cache[key] = value


_SCALARS = (int, float, str, bytes, bool, type(None), __import__("decimal").Decimal,
            __import__("datetime").date, __import__("datetime").datetime)


def _cache_sig(b):
    """What the analysis of a bound expression depends on: function names, column names and
    types, constants (value and type); None when it holds something else (IN lists, lambdas...),
    which is then not cached. ``now()`` is folded into a constant at bind time, so its value is
    part of the signature. Remembered on the (immutable) bound node."""
    d = getattr(b, "__dict__", None)
    if d is None:
        return _compute_sig(b)
    sig = d.get("_cache_sig", _MISSING)
    if sig is _MISSING:
        sig = d["_cache_sig"] = _compute_sig(b)
    return sig


_MISSING = object()


def _type_text(t) -> str:
    """str(t), remembered per type object (types are immutable; the text is what signatures hold)."""
    try:
        s = _TYPE_TEXT.get(t)
    except TypeError:
        return str(t)
    if s is None:
        s = str(t)
        if len(_TYPE_TEXT) < 4096:
            _TYPE_TEXT[t] = s
    return s


_TYPE_TEXT: dict = {}


def _columns_of(exprs) -> list:
    """The columns key expressions read, in first-seen order (metadata.partition_columns' rule),
    remembered by the (immutable) expression ASTs."""
    try:
        ck = tuple(exprs)
        hit = _COLUMNS_OF.get(ck)
    except TypeError:
        ck = hit = None
    if hit is not None:
        return list(hit)
    from mergetree.storage.metadata import referenced_columns

    out: list = []
    for e in exprs:
        for c in referenced_columns(e):
            if c not in out:
                out.append(c)
    if ck is not None and len(_COLUMNS_OF) < 1024:
        _COLUMNS_OF[ck] = tuple(out)
    return out


_COLUMNS_OF: dict = {}


def _compute_sig(b):
    if isinstance(b, BColumn):
        return ("c", b.name, _type_text(b.type))
    if isinstance(b, BConst):
        # an integer / date / time / bool constant or a String: its stored value and its type say
        # which constant it is, without converting it to a Python value (a datetime, per query)
        data = getattr(b.value, "data", None)
        if data.__class__ is FixedColumn and data.values.ndim == 1 and data.values.dtype.kind in "iub":
            return ("k", _type_text(b.type), "raw", data.values.dtype.str, int(data.values[0]))
        if data.__class__ is StringColumn and len(data.offsets) == 2:
            return ("k", _type_text(b.type), "bytes", data.data[int(data.offsets[0]):int(data.offsets[1])].tobytes())
        v = b.pyvalue
        if type(v) not in _SCALARS:         # arrays, maps...: repr may abbreviate, not cached
            return None
        if isinstance(v, float) and v != v:
            return ("k", _type_text(b.type), "nan")
        return ("k", _type_text(b.type), type(v).__name__, repr(v))
    if isinstance(b, BCall):
        args = []
        for a in b.args:
            s = _cache_sig(a)
            if s is None:
                return None
            args.append(s)
        return ("f", b.name, _type_text(b.type), tuple(args))
    return None


def _conjuncts(b) -> list:
    """The top-level AND operands of a bound condition (itself when it is not an AND)."""
    if isinstance(b, BCall) and b.name == "and":
        out = []
        for a in b.args:
            out.extend(_conjuncts(a))
        return out
    return [b]


def _reads_any(b, columns: set) -> bool:
    """Whether a conjunct can matter for keys over `columns`: it reads one of them, reads no
    column at all (a constant), or holds a node this walk does not know (kept to be safe)."""
    read = _columns_read(b)
    return read is None or not read or bool(read & columns)


def _columns_read(b):
    if isinstance(b, BColumn):
        return {b.name}
    if isinstance(b, BConst):
        return set()
    if isinstance(b, BCall):
        out = set()
        for a in b.args:
            r = _columns_read(a)
            if r is None:
                return None
            out |= r
        return out
    if isinstance(b, BIn):
        return _columns_read(b.arg)
    return None


def _shared_point_values(atom: "Atom", col) -> list:
    if atom.steps:
        return atom.point_values(col)
    key = (id(col), atom.value_type, atom.domain)
    try:
        hit = _POINT_VALUES.get(key)
    except TypeError:                   # an unhashable type/domain: not cached
        return atom.point_values(col)
    if hit is not None and hit[0] is col:
        return hit[1]
    values = atom.point_values(col)
    with _POINT_VALUES_LOCK:
        if len(_POINT_VALUES) >= _POINT_VALUES_MAX:
            for k in list(_POINT_VALUES)[:_POINT_VALUES_MAX // 4]:   # the oldest quarter
                _POINT_VALUES.pop(k, None)
        _POINT_VALUES[key] = (col, values)
    return values


def _identifier(name: str):
    from sqlparse_ch.ast.expr import Identifier

    return Identifier(name)
