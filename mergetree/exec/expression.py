"""Vectorized expression evaluation: AST (sqlparse_ch.ast.expr) -> Column.

Two steps, so callers that evaluate one expression over many blocks resolve it once:

1. `bind(expr, schema) -> Bound`: resolve column names against the schema, map operators to
   functions (``a + b`` -> ``plus``, ``ts + INTERVAL 1 DAY`` -> ``addDays``, ``x BETWEEN a AND b``
   -> ``and(greaterOrEquals(x, a), lessOrEquals(x, b))``), look functions up in the registry,
   infer ClickHouse result types, and fold constant sub-expressions (``now() - INTERVAL 1
   HOUR`` becomes one constant).
2. `execute(bound, block) -> Column | ConstColumn`: run the bound tree over a Block; every
   node is one vectorized call over whole columns.

Public helpers: ``evaluate(expr, block) -> Column`` (bind + execute + materialize),
``evaluate_filter(expr, block) -> bool mask`` (WHERE semantics: NULL is false),
``infer_type(expr, schema) -> DataType``, ``evaluate_constant(expr) -> (value, type)``,
``columns_used(expr) -> set[str]``. ``expr`` may also be SQL text when the parser is
available (``sqlparse_ch.parse_expr``).

Errors name what is wrong: ``Unknown identifier 'usr_id' (did you mean 'user_id'?)``,
``Unknown function toDat (did you mean toDate?)``, ``Illegal type String of argument 1 of
function plus``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mergetree import types as T
from mergetree.column import Block, Column, NullableColumn
from mergetree.errors import IllegalTypeOfArgumentError, UnknownIdentifierError
from mergetree.functions import values as V
from mergetree.functions.registry import NOT_CONST, PreparedCall, get_function, prepare_call, suggest
from sqlparse_ch.ast import expr as E

BINARY_FUNCTIONS = {
    "+": "plus", "-": "minus", "*": "multiply", "/": "divide", "%": "modulo", "MOD": "modulo",
    "DIV": "intDiv", "||": "concat", "=": "equals", "==": "equals", "!=": "notEquals", "<>": "notEquals",
    "<": "less", "<=": "lessOrEquals", ">": "greater", ">=": "greaterOrEquals",
    "AND": "and", "OR": "or", "LIKE": "like", "NOT LIKE": "notLike", "ILIKE": "ilike",
    "NOT ILIKE": "notILike",
}


# --------------------------------------------------------------------------- bound tree


class Bound:
    type: T.DataType


@dataclass(eq=False)
class BColumn(Bound):
    name: str
    type: T.DataType


@dataclass(eq=False)
class BConst(Bound):
    value: V.ConstColumn  # one row
    type: T.DataType

    @property
    def pyvalue(self):
        if V.is_null_type(self.type):
            return None
        return self.value.value


@dataclass(eq=False)
class BCall(Bound):
    name: str
    call: PreparedCall
    args: list
    type: T.DataType = field(init=False)

    def __post_init__(self):
        self.type = self.call.type


@dataclass(eq=False)
class BIn(Bound):
    arg: Bound
    items: list  # [(ConstColumn, type)]
    negated: bool
    type: T.DataType


# --------------------------------------------------------------------------- binding


def _as_ast(expr):
    if isinstance(expr, str):
        from sqlparse_ch import parse_expr

        return parse_expr(expr)
    return expr


def _schema_dict(schema) -> dict[str, T.DataType]:
    """`schema` as a dict name -> DataType (a dict of DataTypes itself: binding only reads it)."""
    if isinstance(schema, Block):
        return dict(schema.schema)
    if isinstance(schema, dict):
        for v in schema.values():
            if isinstance(v, str):
                return {k: (T.parse_type(v) if isinstance(v, str) else v) for k, v in schema.items()}
        return schema
    return {k: (T.parse_type(v) if isinstance(v, str) else v) for k, v in schema}


def bind(expr, schema) -> Bound:
    """Resolve `expr` (AST or SQL text) against `schema` (dict name -> type, list of pairs, or Block).

    Inside a statement (`exec.context.query_scope`) bound sub-expressions are remembered by the
    identity of their AST node, with the column lookups they made: binding the same AST again
    against a schema that resolves those names to the same types returns the same bound tree (the
    planner, the key condition and the scan all bind the WHERE; constants such as ``now() -
    INTERVAL 1 DAY`` are folded once per statement, as ClickHouse evaluates ``now()`` once per query)."""
    if expr.__class__ is _IDENTIFIER and expr.table is None and schema.__class__ is dict:
        t = schema.get(expr.name)               # a plain column name (most binds): no binder needed
        if t is not None and not isinstance(t, str):
            return BColumn(expr.name, t)
    limits = _current_limits()
    return _Binder(_schema_dict(schema), None if limits is None else limits.bound).bind(_as_ast(expr))


def _current_limits():
    global _current_limits
    from mergetree.exec.context import current_limits

    _current_limits = current_limits
    return current_limits()


_IDENTIFIER = E.Identifier

_TO_INTERVAL = {"toInterval" + u.capitalize(): u for u in
                ("SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR")}


def _as_interval(e):
    """An Interval node for ``INTERVAL n unit`` or ``toIntervalDay(n)``..., else None."""
    if isinstance(e, E.Interval):
        return e
    if isinstance(e, E.FunctionCall) and e.name in _TO_INTERVAL and len(e.args) == 1:
        return E.Interval(e.args[0], _TO_INTERVAL[e.name])
    return None


def _const(value, t=None) -> BConst:
    t = t or V.literal_type(value)
    return BConst(V.const_of(t, value, 1), t)


#: functions whose result over constant arguments depends on nothing else (no settings, no clock,
#: no randomness): their constant folding is remembered by the arguments' exact types and values.
#: A Tinybird template renders ``{{Int32(days)}}`` as ``toInt32('30')`` and the WHERE then holds
#: ``now() - INTERVAL toInt32('30') DAY``: the text parse and the date arithmetic ran at every bind.
_PURE_FOLDS = frozenset(
    [f"to{k}{b}" for k in ("Int", "UInt") for b in (8, 16, 32, 64)]
    + [f"{op}{u}" for op in ("add", "subtract")
       for u in ("Seconds", "Minutes", "Hours", "Days", "Weeks", "Months", "Quarters", "Years")])
_FOLDED: dict = {}
_FOLDED_MAX = 1024
#: the same folds looked up before their arguments are bound: ``toInt32('30')`` written with
#: literal arguments, keyed by the function and each literal's Python type and value (binding a
#: Literal gives the constant of ``V.literal_type(value)``: a function of them), so a pipe's
#: ``INTERVAL toInt32('30') DAY`` skips building the String constant and its fold key
_FOLDED_LITERALS: dict = {}
#: (epoch second, BConst) of the last ``now()`` bound: now() reads the clock in whole seconds, so
#: within the same second binding it again gives an equal constant (bound constants are never
#: changed: the planner, the key condition and the scan share them within a statement already)
_NOW: list = [None]


_DATETIME = []


def _clock():
    """The time module now() reads (functions/datetime.py's, so that a patched clock is seen here too)."""
    if not _DATETIME:
        from mergetree.functions import datetime as dt

        _DATETIME.append(dt)
    return _DATETIME[0]._time


def _literal_fold_key(name: str, args):
    parts = [name]
    for a in args:
        if a.__class__ is not E.Literal:
            return None
        v = a.value
        t = v.__class__
        if t is not str and t is not int:
            return None
        parts.append((t, v))
    return tuple(parts)


def _fold_key(name: str, args: list):
    """(name, (type, exact value) per argument) when every argument is a constant of a type whose
    stored value is the key (String: its bytes; integers, Date, DateTime, Interval: the stored
    integer, so DST-ambiguous local times never collide); else None."""
    parts = [name]
    for a in args:
        if a.__class__ is not BConst:
            return None
        t = a.type
        c = a.value
        if isinstance(t, T.StringType):
            d = c.data
            offsets = getattr(d, "offsets", None)
            if offsets is None or len(offsets) < 2:
                return None
            parts.append((t, bytes(d.data[offsets[0]:offsets[1]])))
        elif isinstance(t, (T.IntType, T.DateType, T.Date32Type, T.DateTimeType, V.IntervalType)):
            vals = getattr(c.data, "values", None)      # the stored number (epoch seconds, days...)
            if vals is None or vals.__class__ is not np.ndarray or len(vals) < 1 or vals.dtype.kind not in "iu":
                return None
            parts.append((t, int(vals[0])))
        else:
            return None
    try:
        hash(tuple(parts))
    except TypeError:
        return None
    return tuple(parts)


class _LazyConsts(list):
    """consts[i] for FunctionDef.resolve: the Python value of constant argument i (NOT_CONST
    otherwise), converted only when a function asks for it."""

    def __init__(self, args):
        super().__init__([NOT_CONST] * len(args))
        self._args = args
        self._done = [False] * len(args)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if not self._done[i]:
            self._done[i] = True
            a = self._args[i]
            if isinstance(a, BConst):
                super().__setitem__(i, a.pyvalue)
        return super().__getitem__(i)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    @property
    def accessed(self) -> bool:
        """Whether the value of some constant was asked for (registry.prepare_call caches only
        resolutions that did not depend on one)."""
        return any(self._done)


#: a lookup record that never validates: the sub-expression binds a lambda body with its own binder,
#: whose column lookups the cache does not see
_UNCACHEABLE = (None, None, None)


class _Binder:
    def __init__(self, schema: dict[str, T.DataType], cache: dict | None = None):
        self.schema = schema
        self._cache = cache
        #: (names tried, name found, its type) of every identifier resolved so far, in order
        self._lookups: list = []

    def bind(self, e) -> Bound:
        method = getattr(self, "_" + type(e).__name__, None)
        if method is None:
            raise IllegalTypeOfArgumentError(f"Expression {type(e).__name__} is not supported here")
        cache = self._cache
        if cache is None or type(e) is E.Identifier:
            return method(e)
        hit = cache.get(id(e))
        if hit is not None and hit[0] is e and self._still_valid(hit[1]):
            self._lookups.extend(hit[1])
            return hit[2]
        start = len(self._lookups)
        b = method(e)
        lookups = tuple(self._lookups[start:])
        if _UNCACHEABLE not in lookups:
            cache[id(e)] = (e, lookups, b)     # holds `e`: its id is not reused while cached
        return b

    def _still_valid(self, lookups) -> bool:
        schema = self.schema
        for names, found, t in lookups:
            if names is None:
                return False
            for name in names:
                got = schema.get(name)
                if got is not None:
                    break
            if name != found or (got is not t and got != t):
                return False
        return True

    # leaves
    def _Literal(self, e):
        v = e.value
        if isinstance(v, (list, tuple)):
            raise IllegalTypeOfArgumentError(f"Literal {v!r} is not supported here")
        return _const(v)

    def _Identifier(self, e):
        names = [e.name] if e.table is None else [f"{e.table}.{e.name}", e.name]
        for name in names:
            t = self.schema.get(name)
            if t is not None:
                self._lookups.append((names, name, t))
                return BColumn(name, t)
        raise UnknownIdentifierError(names[0], suggest(e.name, list(self.schema)))

    def _Alias(self, e):
        return self.bind(e.expr)

    def _Tuple(self, e):
        if len(e.items) == 1:
            return self.bind(e.items[0])
        return self.call("tuple", [self.bind(x) for x in e.items])

    def _TupleElement(self, e):
        return self.call("tupleElement", [self.bind(e.expr), _const(e.index)])

    # calls
    def call(self, name: str, args: list[Bound]) -> Bound:
        fkey = _fold_key(name, args) if name in _PURE_FOLDS else None
        if fkey is not None:
            hit = _FOLDED.get(fkey)
            if hit is not None:
                return BConst(hit[0], hit[1])
        fd = get_function(name)
        types = [a.type for a in args]
        consts = _LazyConsts(args)
        prepared = prepare_call(fd, types, consts)
        node = BCall(fd.name, prepared, args)
        if all(isinstance(a, BConst) for a in args):
            res = prepared.run([a.value for a in args], 1)
            col = V.materialize(res) if not V.is_const(res) else res.data
            out = BConst(V.ConstColumn(col, 1), prepared.type)
            if fkey is not None:
                if len(_FOLDED) >= _FOLDED_MAX:
                    _FOLDED.clear()
                _FOLDED[fkey] = (out.value, out.type)
            return out
        return node

    def _FunctionCall(self, e):
        name = e.name
        if name in _PURE_FOLDS and not e.params and not e.distinct and e.over is None:
            key = _literal_fold_key(name, e.args)
            if key is not None:
                hit = _FOLDED_LITERALS.get(key)
                if hit is not None:
                    return hit
                b = self.call(name, [self.bind(a) for a in e.args])
                if b.__class__ is BConst:
                    if len(_FOLDED_LITERALS) >= _FOLDED_MAX:
                        _FOLDED_LITERALS.clear()
                    _FOLDED_LITERALS[key] = b
                return b
        if not e.args and name.lower() == "now" and not e.params and not e.distinct and e.over is None:
            hit = _NOW[0]
            if hit is not None and hit[0] == int(_clock().time()):
                return hit[1]
            b = self.call(name, [])
            value = getattr(getattr(getattr(b, "value", None), "data", None), "values", None)
            if b.__class__ is BConst and value is not None and len(value) == 1:
                _NOW[0] = (int(value[0]), b)
            return b
        interval = _as_interval(e)
        if interval is not None:
            return self._Interval(interval)
        if any(isinstance(a, E.Lambda) for a in e.args):
            from mergetree.functions.lambdas import bind_higher_order

            self._lookups.append(_UNCACHEABLE)
            return bind_higher_order(self, e)
        if e.over is not None or e.params or e.distinct:
            raise IllegalTypeOfArgumentError(
                f"Function {e.name} with parameters, DISTINCT or OVER is an aggregate/window function, "
                "not a scalar expression")
        return self.call(e.name, [self.bind(a) for a in e.args])

    def _flatten(self, e, op):
        if isinstance(e, E.BinaryOp) and e.op == op:
            return self._flatten(e.left, op) + self._flatten(e.right, op)
        return [e]

    def _BinaryOp(self, e):
        op = e.op.upper() if e.op.isalpha() or " " in e.op else e.op
        if op in ("AND", "OR"):
            return self.call(BINARY_FUNCTIONS[op], [self.bind(x) for x in self._flatten(e, e.op)])
        right, left = _as_interval(e.right), _as_interval(e.left)
        if op in ("+", "-") and right is not None:
            return self._interval(e.left, right, op == "-")
        if op == "+" and left is not None:
            return self._interval(e.right, left, False)
        name = BINARY_FUNCTIONS.get(op)
        if name is None:
            raise IllegalTypeOfArgumentError(f"Operator {e.op} is not supported")
        return self.call(name, [self.bind(e.left), self.bind(e.right)])

    def _interval(self, target, interval, subtract: bool):
        from mergetree.functions.datetime import INTERVAL_UNITS, interval_function

        unit = interval.unit.upper()
        if unit not in INTERVAL_UNITS:
            raise IllegalTypeOfArgumentError(f"INTERVAL unit {interval.unit} is not supported")
        return self.call(interval_function(unit, subtract), [self.bind(target), self.bind(interval.value)])

    def _Interval(self, e):
        """An INTERVAL used as a function argument: a constant of type Interval<Unit>."""
        unit = e.unit.upper()
        value = self.bind(e.value)
        if not isinstance(value, BConst) or not isinstance(V.strip(value.type), T.IntType) or value.pyvalue is None:
            raise IllegalTypeOfArgumentError("INTERVAL value must be a constant integer here")
        t = V.IntervalType(unit)
        from mergetree.column import FixedColumn

        return BConst(V.ConstColumn(FixedColumn(t, np.array([int(value.pyvalue)], np.int64)), 1), t)

    def _UnaryOp(self, e):
        op = e.op.upper()
        if op == "-":
            if isinstance(e.operand, E.Literal) and isinstance(e.operand.value, (int, float)) \
                    and not isinstance(e.operand.value, bool):
                return _const(-e.operand.value)
            return self.call("negate", [self.bind(e.operand)])
        if op == "NOT":
            return self.call("not", [self.bind(e.operand)])
        if op == "+":
            return self.bind(e.operand)
        raise IllegalTypeOfArgumentError(f"Unary operator {e.op} is not supported")

    def _Between(self, e):
        x, lo, hi = self.bind(e.expr), self.bind(e.low), self.bind(e.high)
        if e.negated:
            return self.call("or", [self.call("less", [x, lo]), self.call("greater", [x, hi])])
        return self.call("and", [self.call("greaterOrEquals", [x, lo]), self.call("lessOrEquals", [x, hi])])

    def _IsNull(self, e):
        return self.call("isNotNull" if e.negated else "isNull", [self.bind(e.expr)])

    def _InList(self, e):
        if not isinstance(e.values, tuple):
            raise IllegalTypeOfArgumentError("IN with a subquery or table is not supported by the expression evaluator")
        x = self.bind(e.expr)
        items = []
        for v in e.values:
            b = self.bind(v)
            if not isinstance(b, BConst):
                raise IllegalTypeOfArgumentError("IN list values must be constants")
            items.append((b.value, b.type))
        if V.is_null_type(V.strip_lc(x.type)):
            return _const(None)
        # type-check every item now (raises on incompatible types)
        from mergetree.functions.comparison import check_in_item

        for _, t in items:
            if not V.is_null_type(V.strip_lc(t)):
                check_in_item(x.type, t)
        nullable = isinstance(V.strip_lc(x.type), T.NullableType)
        node = BIn(x, items, e.negated, T.Nullable(T.UInt8) if nullable else T.UInt8)
        if isinstance(x, BConst):
            res = _execute(node, Block({}, 1))
            return BConst(V.ConstColumn(V.materialize(res), 1), node.type)
        return node

    def _Case(self, e):
        """CASE [x] WHEN c THEN r ... [ELSE d] END as multiIf (no ELSE: NULL, so Nullable)."""
        args = []
        operand = self.bind(e.operand) if e.operand is not None else None
        for cond, result in e.whens:
            c = self.bind(cond)
            if operand is not None:
                c = self.call("equals", [operand, c])
            args += [c, self.bind(result)]
        args.append(self.bind(e.else_) if e.else_ is not None else _const(None))
        return self.call("multiIf", args)

    def _ArrayLiteral(self, e):
        return self.call("array", [self.bind(x) for x in e.items])

    def _ArrayElement(self, e):
        return self.call("arrayElement", [self.bind(e.expr), self.bind(e.index)])

    def _Cast(self, e):
        return self.call("CAST", [self.bind(e.expr), _const(e.type_name)])

    def _QueryParameter(self, e):
        raise IllegalTypeOfArgumentError(f"Query parameter {{{e.name}:{e.type_name}}} has no value")


# --------------------------------------------------------------------------- execution


def execute(bound: Bound, block: Block):
    """Evaluate a bound expression over `block`: a Column or a ConstColumn."""
    return _execute(bound, block)


def _execute(b: Bound, block: Block):
    n = block.num_rows
    if isinstance(b, BColumn):
        return block[b.name]
    if isinstance(b, BConst):
        return b.value.with_size(n)
    if isinstance(b, BCall):
        return b.call.run([_execute(a, block) for a in b.args], n)
    if isinstance(b, BIn):
        from mergetree.column import LowCardinalityColumn
        from mergetree.functions.comparison import in_list

        x = _execute(b.arg, block)
        if isinstance(x, LowCardinalityColumn) and len(x.dictionary) < n:
            # once per dictionary entry, then gather by the codes
            sub = BIn(BColumn("__lc_dictionary__", V.strip_lc(b.arg.type)), b.items, b.negated, b.type)
            d = x.dictionary
            res = _execute(sub, Block({"__lc_dictionary__": d}))
            return res.take(x.codes.astype(np.int64))
        x = V.unwrap_lc(x)
        plain, mask = V.split_nullable(x)
        tx = V.strip(b.arg.type)
        res = in_list(plain, tx, b.items, b.negated, n)
        col = V.fixed(T.UInt8, np.broadcast_to(res, (n,)).astype(np.uint8))
        if isinstance(b.type, T.NullableType):
            return NullableColumn(b.type, col, np.broadcast_to(mask, (n,)).copy() if mask is not None
                                  else np.zeros(n, np.bool_))
        return col
    run = getattr(b, "execute_on", None)  # nodes defined by function modules (functions/lambdas.py)
    if run is not None:
        return run(block, _execute)
    raise TypeError(f"cannot execute {b!r}")


def evaluate(expr, block: Block) -> Column:
    """Evaluate `expr` (AST or SQL text) over `block`; constants come back as full columns."""
    res = execute(bind(expr, block), block)
    return V.materialize(res)


def evaluate_filter(expr, block: Block) -> np.ndarray:
    """Bool mask of the rows where `expr` is true (NULL and 0 are false), as WHERE uses it."""
    col = V.unwrap_lc(execute(bind(expr, block), block))
    n = block.num_rows
    col, nulls = V.split_nullable(col)
    if V.is_null_type(col.type) or (isinstance(col.type, V.NothingType)):
        return np.zeros(n, np.bool_)
    if not isinstance(V.strip(col.type), (T.IntType, T.FloatType, T.BoolType)):
        raise IllegalTypeOfArgumentError(f"Illegal type {col.type} of column for filter. Must be UInt8 or "
                                         "Nullable(UInt8)")
    mask = np.broadcast_to(V.values(col) != 0, (n,))
    if nulls is not None:
        mask = mask & ~nulls
    return np.ascontiguousarray(mask)


def infer_type(expr, schema) -> T.DataType:
    """The ClickHouse result type of `expr` over `schema` (no data needed)."""
    return bind(expr, schema).type


def evaluate_constant(expr) -> tuple[Any, T.DataType]:
    """(Python value, type) of a constant expression (no column references)."""
    b = bind(expr, {})
    if not isinstance(b, BConst):
        raise IllegalTypeOfArgumentError("Expression is not constant")
    return b.pyvalue, b.type


def columns_used(expr) -> set[str]:
    """Names of the columns an expression reads."""
    out: set[str] = set()

    def walk(e, scope=frozenset()):
        if isinstance(e, E.Identifier):
            if e.table is not None or e.name not in scope:
                out.add(e.name)
            return
        if isinstance(e, E.Lambda):
            walk(e.body, scope | set(e.params))
            return
        if isinstance(e, (tuple, list)):
            for x in e:
                walk(x, scope)
            return
        if hasattr(e, "__dataclass_fields__"):
            for f in e.__dataclass_fields__:
                if f != "span":
                    walk(getattr(e, f), scope)

    walk(_as_ast(expr))
    return out
