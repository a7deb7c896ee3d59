"""Prepared plans: a SELECT planned once per SHAPE, each request's values put into a copy.

A pipe endpoint sends the same statement on every request but for a few values in its WHERE
(``user_id = 'u123' AND timestamp >= now() - INTERVAL toInt32('30') DAY``); binding, planning
and optimizing it (~0.3-0.5 ms) gave the same plan but for those values every time.

The **slots** (the only values that may differ between two requests sharing a plan) are string
literals of a WHERE / PREWHERE conjunct (top-level AND) of a plain SELECT or of the SELECTs it
reads FROM as subqueries, in exactly two forms whose value can reach no planning decision:

* ``col op 'text'`` (op a comparison): in the plan, ``col`` must be a ``String`` column of the
  node's input, so the comparison is String with String (type UInt8 whatever the text; no
  conversion that could fail, no constant folded);
* ``col op (x +/- INTERVAL toIntN('text') UNIT)``: ``toIntN`` of a String is ``IntN`` whatever
  the text, an INTERVAL of an integer is ``Interval<UNIT>``, a shift's and a comparison's types
  depend on their argument types only (as ``planner._cacheable`` relies on too). A request's
  value is folded once (``toIntN('text')``) before its plan is used: a value that does not convert
  goes through the full planner, which raises the error it always did.

Every other literal is part of the key (the statement with the slots as a marker), with the
``settings``, the disabled optimizer rules and, checked on each hit, every scanned table's
object and metadata (replaced by ALTER/DROP/RENAME/EXCHANGE). Not prepared: query parameters,
row policies, a view's block sources, subqueries run while planning (their result is in the
plan), and plans with other nodes than plain scans, filters, expressions, aggregates, sorts,
limits, distinct and projections.

Preparing (the first request of a shape) plans the statement with the request's values, finds
each slot's Literal object (by identity) in the plan's expressions and checks the form above at
each place, then plans the statement again with PROBE values (other text, another integer) and
checks that the first plan with the probe values put in equals that plan node by node (type,
EXPLAIN line, schema). Only then is the shape stored. A hit copies every plan node (the executor
gets its own nodes) and rebuilds only the expressions along the slots' paths; now() and the
like stay calls in the plan and are evaluated per statement by the executor, as before.
``MERGETREE_PLAN_CACHE=0`` (or ``ENABLED = False``) plans every statement in full.
"""

from __future__ import annotations

import dataclasses
import operator
import os
import threading
import weakref
from collections import OrderedDict

from sqlparse_ch.ast import expr as E
from sqlparse_ch.ast.base import field_names, replaced
from sqlparse_ch.ast import query as Q

from mergetree import types as T
from mergetree.planner import logical as L

ENABLED = os.environ.get("MERGETREE_PLAN_CACHE", "1") not in ("0", "false", "no")
CACHE_SIZE = 256
#: a shape prepared again this many times (its tables changed under it each time) is planned in full
MAX_PREPARES = 8

_CMP = frozenset(["=", "==", "!=", "<>", "<", "<=", ">", ">="])
_TO_INT = frozenset([f"to{k}{b}" for k in ("Int", "UInt") for b in (8, 16, 32, 64)])
#: plan nodes a prepared plan may hold (no data computed while planning: no ReadBlock, joins ...)
_NODES = (L.ReadFromMergeTree, L.ReadOne, L.ReadNumbers, L.Filter, L.Expression, L.Aggregate, L.Sort, L.TopN,
          L.Limit, L.LimitBy, L.Distinct, L.Project)


class _Marker:
    """The value of the slot Literal in a shape key: no parser produces it."""

    __slots__ = ()

    def __repr__(self):
        return "<slot>"


_SLOT = E.Literal(_Marker())
_SKIP = ("prewhere", "where")
_SUB_SKIP = ("prewhere", "where", "from_")
#: db -> ({(signature, settings) -> (statement, _Holder)}, {(shape, settings) -> _Holder}), LRU
_CACHES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_stats = {"hit": 0, "miss": 0, "bypass": 0, "refused": 0}


_field_names = field_names
_rebuilt = replaced


# --------------------------------------------------------------------------- shapes


def shape_of(q):
    """(key statement, slot literals [(Literal, kind)]) or None: ``q`` with each slot literal replaced
    by the marker; kind is "cmp" or the toIntN name."""
    if type(q) is not Q.Select:
        return None
    slots: list = []
    key = _select_shape(q, slots, None)
    return key, slots


def signature(q):
    """(identity signature, slot literals) or None. The signature lists the objects of ``q`` off
    the slots' paths by ``id`` and the nodes on them by class and scalar fields: two statements
    with equal signatures, while the first is alive (so its ids are not reused), have equal
    shapes. Pipe requests share every node off the literals' paths (pipes.py's parse-shape cache)."""
    if type(q) is not Q.Select:
        return None
    slots: list = []
    sig: list = []
    _select_shape(q, slots, sig)
    return tuple(sig), slots


def _emit(sig, v):
    sig.append(id(v))


_OTHER_FIELDS: dict = {}


def _others(cls, skip):
    """An attrgetter of ``cls``'s fields but ``skip`` and span (a tuple of values)."""
    get = _OTHER_FIELDS.get((cls, skip))
    if get is None:
        names = [n for n in _field_names(cls) if n not in skip and n != "span"]
        if len(names) > 1:
            get = operator.attrgetter(*names)
        elif names:
            get = (lambda x, g=operator.attrgetter(names[0]): (g(x),))
        else:
            get = (lambda x: ())
        _OTHER_FIELDS[(cls, skip)] = get
    return get


def _node_sig(sig, node, skip):
    """``node``'s class and the ids of its fields but ``skip`` (the objects are kept alive by
    the statement stored with the signature: an id is not reused while they are)."""
    sig.append(type(node))
    sig.extend(map(id, _others(type(node), (skip,))(node)))


def _select_shape(q, slots, sig):
    """The shape of Select ``q`` (slots replaced by the marker) when ``sig`` is None; else appends
    its signature to ``sig`` and returns None."""
    changes = {}
    fr = q.from_
    sub = fr is not None and type(fr.source) is E.Subquery and type(fr.source.query) is Q.Select
    if sig is not None:
        sig.append(Q.Select)
        sig.extend(map(id, _others(Q.Select, _SUB_SKIP if sub else _SKIP)(q)))
        if sub:
            _node_sig(sig, fr, "source")
            _node_sig(sig, fr.source, "query")
            _select_shape(fr.source.query, slots, sig)
        for name in ("prewhere", "where"):
            w = getattr(q, name)
            sig.append(name)
            if w is None:
                sig.append(None)
            else:
                _conjunct_shape(w, slots, sig)
        return None
    if sub:
        inner = _select_shape(fr.source.query, slots, None)
        if inner is not fr.source.query:
            changes["from_"] = _rebuilt(fr, source=_rebuilt(fr.source, query=inner))
    for name in ("prewhere", "where"):
        w = getattr(q, name)
        if w is not None:
            nw = _conjunct_shape(w, slots, None)
            if nw is not w:
                changes[name] = nw
    return _rebuilt(q, **changes) if changes else q


def _is_str_literal(e) -> bool:
    return type(e) is E.Literal and type(e.value) is str


def _conjunct_shape(e, slots, sig):
    """The conjunct with its slots replaced (``sig`` None), or its signature appended to ``sig``."""
    if type(e) is not E.BinaryOp:
        if sig is not None:
            _emit(sig, e)
        return e
    op = e.op
    if op.upper() == "AND":
        if sig is not None:
            sig.append(("AND", op))
            _conjunct_shape(e.left, slots, sig)
            _conjunct_shape(e.right, slots, sig)
            return e
        left = _conjunct_shape(e.left, slots, None)
        right = _conjunct_shape(e.right, slots, None)
        if left is e.left and right is e.right:
            return e
        return _rebuilt(e, left=left, right=right)
    if op in _CMP:
        left, right = e.left, e.right
        if type(left) is E.Identifier and _is_str_literal(right):
            slots.append((right, "cmp"))
            if sig is not None:
                sig.extend((("cmp", op), id(left), "slot"))
                return e
            return _rebuilt(e, right=_SLOT)
        if type(right) is E.Identifier and _is_str_literal(left):
            slots.append((left, "cmp"))
            if sig is not None:
                sig.extend((("cmp", op), "slot", id(right)))
                return e
            return _rebuilt(e, left=_SLOT)
        for side in ("right", "left"):
            other = left if side == "right" else right
            shift = getattr(e, side)
            if type(other) is not E.Identifier or type(shift) is not E.BinaryOp or shift.op not in ("+", "-") \
                    or type(shift.right) is not E.Interval:
                continue
            call = shift.right.value
            if type(call) is E.FunctionCall and call.name in _TO_INT and len(call.args) == 1 \
                    and _is_str_literal(call.args[0]) and not call.params and not call.distinct and call.over is None:
                slots.append((call.args[0], call.name))
                if sig is not None:
                    sig.extend((("shift", op, side), id(other), shift.op, id(shift.left), shift.right.unit,
                                call.name, "slot"))
                    return e
                new_call = _rebuilt(call, args=(_SLOT,))
                return _rebuilt(e, **{side: _rebuilt(shift, right=_rebuilt(shift.right, value=new_call))})
    if sig is not None:
        _emit(sig, e)
    return e


# --------------------------------------------------------------------------- prepared plans


class _Prepared:
    __slots__ = ("plan", "sites", "tables", "kinds")

    def __init__(self, plan, sites, tables, kinds):
        self.plan = plan            # never handed out: copied per request
        self.sites = sites          # {preorder node index: {field: trie}} (trie leaves: slot numbers)
        self.tables = tables        # [(name, table object, metadata object)]
        self.kinds = kinds          # per slot: "cmp" or the toIntN name


def _nodes(plan) -> list:
    out, stack = [], [plan]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(n.children))
    return out


def _extra_key(settings, disabled_rules):
    try:
        out = (tuple(sorted((settings or {}).items())),
               disabled_rules if isinstance(disabled_rules, str) else tuple(disabled_rules or ()))
        hash(out)
    except TypeError:
        return None
    return out


def plan_prepared(db, q, params, disabled_rules, settings, plan_full):
    """``plan_full(q)`` through the prepared-plan cache (see the module docstring)."""
    if not ENABLED or params or getattr(db, "block_sources", None):
        return plan_full(q)
    from mergetree.planner import row_policy

    if row_policy.current():
        return plan_full(q)
    found = signature(q)
    extra = _extra_key(settings, disabled_rules)
    if found is None or not found[1] or extra is None:
        _stats["bypass"] += 1
        return plan_full(q)
    sig, slots = found
    skey = (sig, extra)
    with _lock:
        try:
            caches = _CACHES.get(db)
            if caches is None:
                caches = _CACHES[db] = (OrderedDict(), OrderedDict())
        except TypeError:           # a db that cannot be weakly referenced
            return plan_full(q)
        by_sig, by_shape = caches
        hit = by_sig.get(skey)
        if hit is not None:
            by_sig.move_to_end(skey)
    if hit is not None:
        holder = hit[1]
    else:
        vkey = (shape_of(q)[0], extra)
        with _lock:
            holder = by_shape.get(vkey)
            if holder is None:
                holder = _Holder()
                _put(by_shape, vkey, holder)
            _put(by_sig, skey, (q, holder))    # holds q: the ids in its signature are not reused
    state = holder.state
    if state is None:                        # this shape was refused
        return plan_full(q)
    if state is _NEW:                        # prepared only when seen again: a one-off pays no probe
        holder.state = _SEEN
        _stats["miss"] += 1
        return plan_full(q)
    if state is not _SEEN:
        plan = _instantiate(db, state, [lit for lit, _ in slots])
        if plan is not None and plan is not _STALE:
            _stats["hit"] += 1
            return plan
        if plan is None:                     # a value that does not convert: the planner's error
            return plan_full(q)
    _stats["miss"] += 1                      # seen before, or a table changed since it was prepared
    plan = plan_full(q)
    holder.prepares += 1
    try:               # a shape whose tables keep changing is not worth its probe plans
        entry = _prepare(db, q, plan, slots, plan_full) if holder.prepares <= MAX_PREPARES else None
    except Exception:  # noqa: BLE001 - the probe plan failed: this shape is planned in full every time
        entry = None
    if entry is None:
        _stats["refused"] += 1
    holder.state = entry
    return plan


_NEW = object()
_SEEN = object()


class _Holder:
    """A shape's state, shared by its two cache entries: _NEW, _SEEN, None (refused) or _Prepared."""

    __slots__ = ("state", "prepares")

    def __init__(self):
        self.state = _NEW
        self.prepares = 0


def _put(cache, key, value) -> None:
    cache[key] = value
    cache.move_to_end(key)
    if len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


_STALE = object()


def _prepare(db, q, plan, slots, plan_full):
    """A _Prepared for ``plan`` (planned from ``q`` with the request's values), or None."""
    nodes = _nodes(plan)
    if any(type(n) not in _NODES for n in nodes) or getattr(plan, "_ran_subquery", False):
        return None
    literals = [lit for lit, _ in slots]
    kinds = [k for _, k in slots]
    ids = {id(lit): i for i, lit in enumerate(literals)}
    sites: dict = {}
    found = [0] * len(literals)
    tables = []
    for index, node in enumerate(nodes):
        if type(node) is L.ReadFromMergeTree:
            tables.append((node.table_name, node.table, node.table.metadata))
        for fname, value in _ast_fields(node):
            trie: dict = {}
            ok = _find(value, (), [], ids, trie, found, node, kinds)
            if ok is False:
                return None
            if trie:
                if fname not in ("where", "predicate"):
                    return None
                sites.setdefault(index, {})[fname] = trie
    if not all(f >= 1 for f in found):
        return None
    # a literal equal to a slot's value elsewhere in the plan could be a copy the walk did not see
    for node in nodes:
        for _, value in _ast_fields(node):
            if _has_equal_copy(value, literals, ids):
                return None
    entry = _Prepared(plan, sites, tables, kinds)
    # probe: plan again with other values; the prepared plan with those values must equal it
    probes = [_probe_value(lit.value, kind) for lit, kind in slots]
    if any(p is None for p in probes):
        return None
    probe_literals = [E.Literal(p) for p in probes]
    probe_q = _put_values(q, literals, probe_literals)
    if probe_q is None:
        return None
    expected = plan_full(probe_q)
    got = _instantiate(db, entry, probe_literals)
    if got is None or not _same_plan(got, expected):
        return None
    return entry


def _probe_value(value: str, kind: str):
    if kind == "cmp":
        return value + "\x01probe"
    try:
        n = int(value.strip())
    except ValueError:
        return None
    return str(n - 1 if n > 0 else n + 1)


def _put_values(q, old, new):
    """``q`` with the Literal objects ``old`` (by identity) replaced by ``new``."""
    from mergetree.planner.rewrite import transform

    ids = {id(o): n for o, n in zip(old, new)}
    count = [0]

    def fn(e):
        if type(e) is E.Literal and id(e) in ids:
            count[0] += 1
            return ids[id(e)]
        return None

    def sel(s):
        changes = {}
        fr = s.from_
        if fr is not None and type(fr.source) is E.Subquery and type(fr.source.query) is Q.Select:
            inner = sel(fr.source.query)
            if inner is not fr.source.query:
                changes["from_"] = _rebuilt(fr, source=_rebuilt(fr.source, query=inner))
        for name in ("prewhere", "where"):
            w = getattr(s, name)
            if w is not None:
                nw = transform(w, fn)
                if nw is not w:
                    changes[name] = nw
        return _rebuilt(s, **changes) if changes else s

    out = sel(q)
    return out if count[0] == len(old) else None


def _ast_fields(node):
    """(field name, value) of the node's attributes that can hold expressions."""
    d = node.__dict__
    for name, v in d.items():
        if name in ("child", "children", "table", "table_schema", "_frozen_schema", "_frozen_types"):
            continue
        if isinstance(v, (E.Node, list, tuple, dict)) or _is_ast(v):
            yield name, v


def _is_ast(v) -> bool:
    mod = type(v).__module__
    return mod.startswith("sqlparse_ch.ast")


def _find(v, path, ancestors, ids, trie, found, node, kinds):
    """Record in ``trie`` the paths of the slot literals under ``v``; False when one sits where it
    may not (see the module docstring)."""
    t = type(v)
    if t is E.Literal:
        i = ids.get(id(v))
        if i is None:
            return True
        if not _context_ok(ancestors, v, node, kinds[i]):
            return False
        sub = trie
        for step in path:
            sub = sub.setdefault(step, {})
        sub[_HERE] = i
        found[i] += 1
        return True
    if t is list or t is tuple:
        for k, x in enumerate(v):
            if _find(x, path + (k,), ancestors, ids, trie, found, node, kinds) is False:
                return False
        return True
    if _is_ast(v):
        for f in dataclasses.fields(v):
            if f.name == "span":
                continue
            x = getattr(v, f.name)
            if x is not None and _find(x, path + (f.name,), ancestors + [v], ids, trie, found, node,
                                       kinds) is False:
                return False
    return True


def _is_and(e) -> bool:
    return (type(e) is E.BinaryOp and e.op.upper() == "AND") or (type(e) is E.FunctionCall and e.name.lower() == "and")


def _context_ok(ancestors, lit, node, kind) -> bool:
    """The slot literal ``lit`` sits in one of the two forms, under nothing but ANDs of the node's
    filter; for "cmp" its column is a String column of the node's input."""
    if type(node) is L.ReadFromMergeTree:
        types = dict(node.table_schema)
    elif type(node) is L.Filter:
        types = node.child.types()
    else:
        return False
    chain = list(ancestors)
    if kind == "cmp":
        if not chain:
            return False
        cmp = chain.pop()
        if type(cmp) is not E.BinaryOp or cmp.op not in _CMP:
            return False
        other = cmp.left if cmp.right is lit else cmp.right if cmp.left is lit else None
        if type(other) is not E.Identifier or other.table is not None or types.get(other.name) != T.String:
            return False
    else:
        if len(chain) < 4:
            return False
        call, interval, shift, cmp = chain.pop(), chain.pop(), chain.pop(), chain.pop()
        if type(call) is not E.FunctionCall or call.name != kind or len(call.args) != 1 or call.args[0] is not lit \
                or type(interval) is not E.Interval or interval.value is not call \
                or type(shift) is not E.BinaryOp or shift.op not in ("+", "-") or shift.right is not interval \
                or type(cmp) is not E.BinaryOp or cmp.op not in _CMP:
            return False
        other = cmp.left if cmp.right is shift else cmp.right if cmp.left is shift else None
        if type(other) is not E.Identifier:
            return False
    return all(_is_and(a) for a in chain)


def _has_equal_copy(v, literals, ids) -> bool:
    """Whether a Literal equal to a slot's, but not one of them, is under ``v``."""
    t = type(v)
    if t is E.Literal:
        return id(v) not in ids and any(v == lit for lit in literals)
    if t is list or t is tuple:
        return any(_has_equal_copy(x, literals, ids) for x in v)
    if _is_ast(v):
        return any(_has_equal_copy(getattr(v, f.name), literals, ids)
                   for f in dataclasses.fields(v) if f.name != "span")
    return False


_HERE = object()


def _apply_trie(v, trie, values):
    """``v`` rebuilt along ``trie``, slot i's Literal replaced by ``values[i]``."""
    if _HERE in trie:
        return values[trie[_HERE]]
    t = type(v)
    if t is list or t is tuple:
        items = list(v)
        for step, sub in trie.items():
            items[step] = _apply_trie(items[step], sub, values)
        return tuple(items) if t is tuple else items
    return _rebuilt(v, **{step: _apply_trie(getattr(v, step), sub, values) for step, sub in trie.items()})


def _instantiate(db, entry, values):
    """A copy of the prepared plan with the slot values ``values`` (Literals); _STALE when a table
    changed, None when a value does not convert."""
    for name, table, metadata in entry.tables:
        try:
            current = db.table(name)
        except Exception:  # noqa: BLE001 - dropped: the full planner reports it
            return _STALE
        if current is not table or current.metadata is not metadata:
            return _STALE
    for lit, kind in zip(values, entry.kinds):
        if kind != "cmp" and not _converts(kind, lit):
            return None

    def copy_node(node, counter):
        index = counter[0]
        counter[0] += 1
        new = object.__new__(type(node))         # = copy.copy for these (non-slots) dataclasses
        new.__dict__.update(node.__dict__)
        fields = entry.sites.get(index)
        if fields:
            for fname, trie in fields.items():
                setattr(new, fname, _apply_trie(getattr(node, fname), trie, values))
        if hasattr(node, "child"):
            new.child = copy_node(node.child, counter)
        elif node.children:
            new.children = [copy_node(c, counter) for c in node.children]
        else:
            new.children = []
        return new

    return copy_node(entry.plan, [0])


_CONVERTS: dict = {}


def _converts(name: str, lit) -> bool:
    key = (name, lit.value)
    ok = _CONVERTS.get(key)
    if ok is None:
        from mergetree.exec.expression import evaluate_constant

        try:
            evaluate_constant(E.FunctionCall(name, (E.Literal(lit.value),)))
            ok = True
        except Exception:  # noqa: BLE001 - the full planner raises the error
            ok = False
        if len(_CONVERTS) > 4096:
            _CONVERTS.clear()
        _CONVERTS[key] = ok
    return ok


def _same_plan(a, b) -> bool:
    na, nb = _nodes(a), _nodes(b)
    if len(na) != len(nb):
        return False
    for x, y in zip(na, nb):
        if type(x) is not type(y) or x.describe() != y.describe() or x.schema != y.schema \
                or L._schema_of(x) != L._schema_of(y) or x.types() != y.types():
            return False
        if type(x) is L.ReadFromMergeTree and (x.table is not y.table or x.where != y.where
                                                or x.columns != y.columns or x.prewhere != y.prewhere):
            return False
        if type(x) is L.Filter and x.predicate != y.predicate:
            return False
        if type(x) is L.Expression and (x.exprs != y.exprs or x.out_types != y.out_types):
            return False
        if getattr(x, "star_hidden", None) != getattr(y, "star_hidden", None):
            return False
    return True


def clear() -> None:
    with _lock:
        _CACHES.clear()


def stats() -> dict:
    return dict(_stats)
