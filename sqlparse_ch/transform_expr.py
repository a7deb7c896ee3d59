"""Tree -> AST for expressions (the callbacks run inline in the LALR parser).

Each method receives the children of one grammar rule: named tokens (keywords,
operators) and already-built nodes. Methods only build nodes; they never evaluate,
resolve names or look at a catalog. The one exception to "no checking" is shape
validation the grammar cannot express (lambda parameters must be names, a
parenthesised query must hold a query); it raises `TransformError` with a span.
"""
from __future__ import annotations

import re
import threading

from lark import Token

from .ast.base import Span
from .ast.expr import (
    Alias, ArrayElement, ArrayLiteral, Between, Case, Cast, ColumnsMatcher, FrameBound,
    FunctionCall, Identifier, InList, Interval, IsNull, Lambda, Literal, OrderItem,
    QueryParameter, Star, Subquery, Tuple, TupleElement, UnaryOp, BinaryOp, WindowFrame,
    WindowSpec, WithFill,
)
from .ast.query import TableName
from .literals import unquote_identifier, unquote_string


# The text being parsed (set by parser._run) for the few rules that need source text.
_CURRENT_TEXT = threading.local()


_DIRECT_CAST = re.compile(r"\s*::")  # the literal itself (not a parenthesised one) is cast
_NUMBER_TEXT = re.compile(r"[0-9][0-9_]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?\Z|\.[0-9]+(?:[eE][+-]?[0-9]+)?\Z")


class TransformError(Exception):
    """Raised by the transformer for shapes the grammar accepts but SQL does not."""

    def __init__(self, message: str, span: Span | None):
        super().__init__(message)
        self.message = message
        self.span = span


def span_of(x) -> Span | None:
    if isinstance(x, Token):
        return Span(x.start_pos, x.end_pos, x.line, x.column)
    return getattr(x, "span", None)


def join_spans(first, last) -> Span | None:
    a = span_of(first)
    b = span_of(last)
    if a is None:
        return b
    if b is None:
        return a
    return Span(a.start, max(a.end, b.end), a.line, a.column)


_OPS = {"==": "=", "<>": "!="}
# functions with a `_respect_nulls` variant (`f(x) RESPECT NULLS`), by ClickHouse's name rules
_RESPECT_NULLS = frozenset({"any", "anyLast"})
_RESPECT_NULLS_CI = frozenset({"first_value", "last_value", "any_value"})

_UNITS_SINGULAR = {
    "NANOSECOND", "MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK",
    "MONTH", "QUARTER", "YEAR",
}

_EXTRACT_FUNCTIONS = {
    "YEAR": "toYear", "QUARTER": "toQuarter", "MONTH": "toMonth", "WEEK": "toISOWeek",
    "DAY": "toDayOfMonth", "HOUR": "toHour", "MINUTE": "toMinute", "SECOND": "toSecond",
    "MILLISECOND": "toMillisecond", "MICROSECOND": "toMicrosecond", "NANOSECOND": "toNanosecond",
}

_TRIM_FUNCTIONS = {"BOTH": "trimBoth", "LEADING": "trimLeft", "TRAILING": "trimRight"}

_INTERVAL_TEXT = re.compile(r"\s*(-?\d+(?:\.\d*)?)\s*([A-Za-z]+)\s*$")


class _Args:
    """Arguments of one call parenthesis: `(DISTINCT a, b)`."""

    __slots__ = ("distinct", "items")

    def __init__(self, distinct: bool, items: tuple):
        self.distinct = distinct
        self.items = items


def _parenthesised(minus, operand) -> bool:
    text = getattr(_CURRENT_TEXT, "text", None)
    if text is None or operand.span is None:
        return False
    return "(" in text[minus.end_pos:operand.span.start]


def normalise_unit(text: str, span: Span | None) -> str:
    unit = text.upper()
    if unit not in _UNITS_SINGULAR and unit.endswith("S") and unit[:-1] in _UNITS_SINGULAR:
        unit = unit[:-1]
    if unit not in _UNITS_SINGULAR:
        raise TransformError(f"unknown interval unit {text!r}", span)
    return unit


def _none(self, children):
    return None


_DATE_ADD_NAMES = {"dateadd": "+", "date_add": "+", "timestampadd": "+", "timestamp_add": "+",
                   "datesub": "-", "date_sub": "-", "timestampsub": "-", "timestamp_sub": "-"}


def _date_add_call(name, items, params, over, span):
    """ClickHouse's parser rewrites ``dateAdd(unit, n, x)`` (and date_add, timestampAdd,
    dateSub...) to ``x + INTERVAL n unit``; the unit is a bare keyword, not a column."""
    op = _DATE_ADD_NAMES.get(name.lower())
    if op is None or params or over is not None or len(items) != 3:
        return None
    unit = items[0]
    if not (isinstance(unit, Identifier) and unit.table is None):
        return None
    try:
        unit_name = normalise_unit(unit.name, span_of(unit))
    except TransformError:
        return None
    return BinaryOp(op, items[2], Interval(items[1], unit_name, span), span)


class ExprTransformer:
    """Callbacks for expr.lark. Mixed into the full transformer."""

    _none = _none  # (so the bound `o_*` callbacks pickle by name)

    # ---- names ----
    def ident(self, c):
        tok = c[0]
        if tok.type in ("QUOTED_IDENT", "DQ_IDENT"):
            return Token.new_borrow_pos("IDENT", unquote_identifier(tok), tok)
        return tok

    alias_ident = ident

    def any_keyword(self, c):
        return c[0]

    def name_list(self, c):
        return tuple(str(x) for x in c)

    def table_name(self, c):
        return TableName(str(c[0]), None, span_of(c[0]))

    def table_name_db(self, c):
        return TableName(str(c[1]), str(c[0]), join_spans(c[0], c[1]))

    def column(self, c):
        return Identifier(str(c[0]), span=span_of(c[0]))

    # ---- literals ----
    def int_lit(self, c):  # int() accepts the digit separators of `1_000_000`
        return Literal(int(c[0]), span_of(c[0]))

    def hex_lit(self, c):
        return Literal(int(c[0][2:], 16), span_of(c[0]))

    def bin_lit(self, c):
        return Literal(int(c[0][2:], 2), span_of(c[0]))

    def float_lit(self, c):
        return Literal(float(c[0]), span_of(c[0]))

    def string_lit(self, c):
        return Literal(unquote_string(c[0]), span_of(c[0]))

    def dollar_string_lit(self, c):
        return Literal(str(c[0])[2:-2], span_of(c[0]))

    def null_lit(self, c):
        return Literal(None, span_of(c[0]))

    def true_lit(self, c):
        return Literal(True, span_of(c[0]))

    def false_lit(self, c):
        return Literal(False, span_of(c[0]))

    def inf_lit(self, c):
        return Literal(float("inf"), span_of(c[0]))

    def nan_lit(self, c):
        return Literal(float("nan"), span_of(c[0]))

    # ---- operators ----
    def binop(self, c):
        left, op, right = c
        text = str(op)
        text = _OPS.get(text, text.upper())
        return BinaryOp(text, left, right, join_spans(left, right))

    def cmp_op(self, c):
        return c[0]

    def in_op(self, c):
        words = [str(t).upper() for t in c]
        return ("GLOBAL" in words, "NOT" in words)

    def not_like(self, c):
        left, _not, op, right = c
        return BinaryOp("NOT " + str(op).upper(), left, right, join_spans(left, right))

    def not_(self, c):
        return UnaryOp("NOT", c[1], join_spans(c[0], c[1]))

    def neg(self, c):
        operand = c[1]
        if type(operand) is Cast and type(operand.expr) is Literal:
            signed = self._signed_cast_literal(c[0], operand)
            if signed is not None:
                return signed
        if type(operand) is Literal and type(operand.value) in (int, float) \
                and not operand.value < 0 and not _parenthesised(c[0], operand):
            # `-1` and `- 1` are the literal -1; `-(1)` and `-(-2)` stay negations, as in
            # ClickHouse (where they type differently: negate(1) is Int16)
            return Literal(-operand.value, join_spans(c[0], operand))
        return UnaryOp("-", operand, join_spans(c[0], operand))

    def _signed_cast_literal(self, minus, cast):
        """`-1::UInt8` is CAST('-1', 'UInt8') in ClickHouse (the signed literal's text is
        cast), not -(CAST(1 AS UInt8)): fold the minus into a `::` cast of a number."""
        lit_ = cast.expr
        text = getattr(_CURRENT_TEXT, "text", None)
        if (text is None or lit_.span is None or not isinstance(lit_.value, str)
                or lit_.span.start != minus.end_pos or not text[lit_.span.start].isdigit()
                or not _NUMBER_TEXT.match(lit_.value)):
            return None
        return Cast(Literal("-" + lit_.value, join_spans(minus, lit_)), cast.type_name,
                    join_spans(minus, cast))

    def between(self, c):
        return Between(c[0], c[2], c[4], False, join_spans(c[0], c[4]))

    def not_between(self, c):
        return Between(c[0], c[3], c[5], True, join_spans(c[0], c[5]))

    def is_null(self, c):
        return IsNull(c[0], False, join_spans(c[0], c[-1]))

    def is_not_null(self, c):
        return IsNull(c[0], True, join_spans(c[0], c[-1]))

    def is_not_distinct(self, c):
        """`a <=> b` and `a IS NOT DISTINCT FROM b` are ClickHouse's isNotDistinctFrom(a, b)
        (NULL-safe equality); EXPLAIN SYNTAX prints them as that call, and so do we."""
        return FunctionCall("isNotDistinctFrom", (c[0], c[-1]), (), False, None,
                            join_spans(c[0], c[-1]))

    def is_distinct(self, c):
        return FunctionCall("isDistinctFrom", (c[0], c[-1]), (), False, None,
                            join_spans(c[0], c[-1]))

    def in_(self, c):
        expr, (global_, negated), values = c
        return InList(expr, values, negated, global_, join_spans(expr, values if not isinstance(values, tuple) else (values[-1] if values else None)))

    def in_empty(self, c):
        return ()

    def in_list(self, c):
        return tuple(c[0])

    def in_subquery(self, c):
        return Subquery(c[0], span_of(c[0]))

    def in_table(self, c):
        t = c[0]
        return Identifier(t.name, t.database, span=t.span)

    def in_other(self, c):
        return c[0]

    def ternary(self, c):
        return FunctionCall("if", (c[0], c[1], c[2]), span=join_spans(c[0], c[2]))

    def lambda_(self, c):
        params, _arrow, body = c
        if isinstance(params, Identifier) and params.table is None:
            names = (params.name,)
        elif isinstance(params, Tuple) and all(
                isinstance(p, Identifier) and p.table is None for p in params.items):
            names = tuple(p.name for p in params.items)
        else:
            raise TransformError("lambda parameters must be names: x -> .. or (x, y) -> ..",
                                 span_of(params))
        return Lambda(names, body, join_spans(params, body))

    # ---- postfix ----
    def array_element(self, c):
        return ArrayElement(c[0], c[1], join_spans(c[0], c[1]))

    def tuple_index(self, c):
        return TupleElement(c[0], int(c[1]), join_spans(c[0], c[1]))

    def dot_name(self, c):
        base, name = c
        span = join_spans(base, name)
        if isinstance(base, Identifier):
            if base.table is None:
                return Identifier(str(name), base.name, span=span)
            if base.database is None:
                return Identifier(str(name), base.name, base.table, span=span)
        return TupleElement(base, str(name), span)

    def dot_star(self, c):
        base = c[0]
        if not isinstance(base, Identifier):
            raise TransformError("only a table name can precede .*", span_of(base))
        table = base.name if base.table is None else f"{base.table}.{base.name}"
        if base.database is not None:
            table = f"{base.database}.{table}"
        return self._star(table, c[2:], join_spans(base, c[1]))

    def cast_op(self, c):
        operand = c[0]
        if type(operand) is Literal and type(operand.value) in (int, float) \
                and operand.span is not None:
            # ClickHouse casts a literal's text: `0.3::Decimal(38, 30)` is CAST('0.3', ..),
            # exact, where CAST(0.3 AS ..) would go through Float64.
            text = getattr(_CURRENT_TEXT, "text", None)
            if text is not None and _DIRECT_CAST.match(text, operand.span.end):
                source = text[operand.span.start:operand.span.end]
                if _NUMBER_TEXT.match(source):
                    operand = Literal(source.replace("_", ""), operand.span)
        return Cast(operand, c[1], join_spans(c[0], c[0]))

    # ---- star ----
    def _star(self, table, modifiers, span):
        except_: tuple = ()
        replace: tuple = ()
        for kind, value in modifiers:
            if kind == "except":
                except_ += value
            else:
                replace += value
        return Star(table, except_, replace, span)

    def star(self, c):
        return self._star(None, c[1:], span_of(c[0]))

    def star_except(self, c):
        value = c[1]
        return ("except", value if isinstance(value, tuple) else (str(value),))

    def star_replace(self, c):
        return ("replace", tuple(c[1:]))

    def replace_item(self, c):
        return Alias(c[0], str(c[2]), join_spans(c[0], c[2]))

    # ---- atoms ----
    def case(self, c):
        operand = None
        whens = []
        else_ = None
        i = 1
        if not isinstance(c[1], tuple):
            operand = c[1]
            i = 2
        while i < len(c) - 1:
            item = c[i]
            if isinstance(item, tuple):
                whens.append(item)
                i += 1
            else:  # ELSE token
                else_ = c[i + 1]
                i += 2
        return Case(operand, tuple(whens), else_, join_spans(c[0], c[-1]))

    def when_then(self, c):
        return (c[1], c[3])

    def cast(self, c):
        return Cast(c[1], c[3], join_spans(c[0], c[1]))

    def cast_call(self, c):
        return FunctionCall("CAST", (c[1], c[2]), span=join_spans(c[0], c[2]))

    def interval_unit(self, c):
        return c[0]

    def interval(self, c):
        unit = c[2]
        return Interval(c[1], normalise_unit(str(unit), span_of(unit)), join_spans(c[0], unit))

    def interval_string(self, c):
        tok = c[1]
        text = unquote_string(tok)
        span = join_spans(c[0], c[-1])
        if len(c) == 3:
            unit = normalise_unit(str(c[2]), span_of(c[2]))
            try:
                value = int(text)
            except ValueError:
                raise TransformError(f"interval value {text!r} is not an integer", span_of(tok))
            return Interval(Literal(value, span_of(tok)), unit, span)
        m = _INTERVAL_TEXT.match(text)
        if not m:
            raise TransformError(f"cannot read interval {text!r}: expected like '1 day'", span_of(tok))
        number = m.group(1)
        value = float(number) if "." in number else int(number)
        return Interval(Literal(value, span_of(tok)), normalise_unit(m.group(2), span_of(tok)), span)

    def date_literal(self, c):
        return FunctionCall("toDate", (self.string_lit([c[1]]),), span=join_spans(c[0], c[1]))

    def timestamp_literal(self, c):
        return FunctionCall("toDateTime", (self.string_lit([c[1]]),), span=join_spans(c[0], c[1]))

    def extract(self, c):
        unit = normalise_unit(str(c[1]), span_of(c[1]))
        return FunctionCall(_EXTRACT_FUNCTIONS[unit], (c[3],), span=join_spans(c[0], c[3]))

    def extract_call(self, c):
        return FunctionCall("extract", (c[1], c[2]), span=join_spans(c[0], c[2]))

    def substring(self, c):
        args = (c[1], c[3]) + ((c[5],) if len(c) > 4 else ())
        return FunctionCall("substring", args, span=join_spans(c[0], args[-1]))

    def substring_call(self, c):
        return FunctionCall("substring", tuple(c[1:]), span=join_spans(c[0], c[-1]))

    def trim_side(self, c):
        return c[0]

    def trim(self, c):
        if len(c) == 5:
            side = str(c[1]).upper()
            chars, source = c[2], c[4]
        else:
            side = "BOTH"
            chars, source = c[1], c[3]
        return FunctionCall(_TRIM_FUNCTIONS[side], (source, chars), span=join_spans(c[0], source))

    def trim_call(self, c):
        return FunctionCall("trim", tuple(c[1:]), span=join_spans(c[0], c[-1]))

    def exists(self, c):
        sub = c[1]
        if not isinstance(sub, Subquery):
            raise TransformError("EXISTS needs a subquery: EXISTS (SELECT ..)", span_of(sub))
        return FunctionCall("exists", (sub,), span=join_spans(c[0], sub))

    # `!paren` keeps the bracket tokens (children[0] and [-1]) for exact spans.
    def paren_empty(self, c):
        return Tuple((), join_spans(c[0], c[-1]))

    def paren_exprs(self, c):
        items = c[1]
        if len(items) == 1:
            return items[0]
        return Tuple(tuple(items), join_spans(c[0], c[-1]))

    def paren_trailing(self, c):
        return Tuple(tuple(c[1]), join_spans(c[0], c[-1]))

    def paren_query(self, c):
        return Subquery(c[1], join_spans(c[0], c[-1]))

    def paren_items(self, c):
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[1])
        return c[0]

    array_items = paren_items

    def array(self, c):  # `!array`: children are `[` [items [`,`]] `]`
        items = c[1] if len(c) > 2 else ()
        return ArrayLiteral(tuple(items), join_spans(c[0], c[-1]))

    def param(self, c):
        return QueryParameter(str(c[0]), c[1], span_of(c[0]))

    # ---- calls ----
    def call_args(self, c):
        if c and isinstance(c[0], Token) and c[0].type == "DISTINCT":
            return _Args(True, tuple(c[1:]))
        return _Args(False, tuple(c))

    def call_args_all(self, c):
        return _Args(False, tuple(c[1:]))

    o_args = _none
    o_over = _none

    def _call(self, name_tok, params, args, over):
        name = str(name_tok)
        items = args.items if args else ()
        if name.lower() == "columns" and items and not params:
            return self._columns(items, span_of(name_tok))
        date_add = _date_add_call(name, items, params, over, span_of(name_tok))
        if date_add is not None:
            return date_add
        return FunctionCall(
            name, items, params.items if params else (), bool(args and args.distinct), over,
            span_of(name_tok).merge(span_of(items[-1]) if items else None))

    def call(self, c):
        return self._call(c[0], None, c[1], c[2])

    def nulls_call(self, c):
        """`f(x) RESPECT NULLS` is ClickHouse's f_respect_nulls(x) (first_value, last_value, any,
        anyLast, any_value); `IGNORE NULLS` is what these functions do anyway, so it is dropped."""
        name, args, action, over = c
        if str(action).split()[0].lower() == "ignore":
            return self._call(name, None, args, over)
        text = str(name)
        if text.lower() in _RESPECT_NULLS_CI:
            text = text.lower()
        elif text not in _RESPECT_NULLS:
            raise TransformError(f"Function {text} does not support RESPECT NULLS", span_of(action))
        return self._call(Token.new_borrow_pos(name.type, text + "_respect_nulls", name), None, args, over)

    def filter_call(self, c):
        """`f(x) FILTER (WHERE cond)` is ClickHouse's `fIf(x, cond)`."""
        name, args, cond, over = c[0], c[1], c[4], c[5]
        items = (args.items if args else ()) + (cond,)
        fake = _Args(bool(args and args.distinct), items)
        return self._call(Token.new_borrow_pos(name.type, str(name) + "If", name), None, fake, over)

    def param_call(self, c):
        return self._call(c[0], c[1], c[2], c[3])

    def _columns(self, items, span):
        if len(items) == 1 and isinstance(items[0], Literal) and isinstance(items[0].value, str):
            return ColumnsMatcher(items[0].value, (), None, (), span)
        if all(isinstance(i, Identifier) and i.table is None for i in items):
            return ColumnsMatcher(None, tuple(i.name for i in items), None, (), span)
        raise TransformError("COLUMNS() takes a regular expression string or column names", span)

    def alias(self, c):
        expr, name = c[0], c[-1]
        return Alias(expr, str(name), join_spans(expr, name))

    def over_name(self, c):
        return str(c[1])

    def over_spec(self, c):
        spec = c[1]
        return WindowSpec(spec.base, spec.partition_by, spec.order_by, spec.frame, span_of(c[0]))

    # ---- windows and ordering ----
    def window_spec(self, c):
        base = None
        partition: tuple = ()
        order: tuple = ()
        frame = None
        for item in c:
            if isinstance(item, Token):
                base = str(item)
            elif isinstance(item, WindowFrame):
                frame = item
            elif item[0] == "partition":
                partition = item[1]
            else:
                order = item[1]
        first = c[0] if c else None
        span = span_of(first) if isinstance(first, Token) else getattr(frame, "span", None)
        if isinstance(first, tuple):
            span = first[2]
        return WindowSpec(base, partition, order, frame, span)

    def window_partition(self, c):
        return ("partition", tuple(c[2:]), span_of(c[0]))

    def window_order(self, c):
        return ("order", c[2], span_of(c[0]))

    def frame_unit(self, c):
        return c[0]

    def frame_single(self, c):
        return WindowFrame(str(c[0]).upper(), c[1], None, span_of(c[0]))

    def frame_between(self, c):
        return WindowFrame(str(c[0]).upper(), c[2], c[4], span_of(c[0]))

    def bound_unbounded_preceding(self, c):
        return FrameBound("UNBOUNDED PRECEDING", None, span_of(c[0]))

    def bound_unbounded_following(self, c):
        return FrameBound("UNBOUNDED FOLLOWING", None, span_of(c[0]))

    def bound_current_row(self, c):
        return FrameBound("CURRENT ROW", None, span_of(c[0]))

    def bound_preceding(self, c):
        return FrameBound("PRECEDING", c[0], span_of(c[0]))

    def bound_following(self, c):
        return FrameBound("FOLLOWING", c[0], span_of(c[0]))

    def order_items(self, c):
        return tuple(c)

    def order_item(self, c):
        expr = c[0]
        desc = False
        nulls = collate = fill = None
        for part in c[1:]:
            if isinstance(part, WithFill):
                fill = part
            elif part[0] == "dir":
                desc = part[1]
            elif part[0] == "nulls":
                nulls = part[1]
            else:
                collate = part[1]
        return OrderItem(expr, desc, nulls, collate, fill, span_of(expr))

    def order_dir(self, c):
        return ("dir", str(c[0]).upper().startswith("DESC"))

    def order_nulls(self, c):
        return ("nulls", str(c[1]).upper())

    def order_collate(self, c):
        return ("collate", unquote_string(c[1]))

    def with_fill(self, c):
        parts = {k: v for k, v in c[2:]}
        return WithFill(parts.get("from"), parts.get("to"), parts.get("step"), span_of(c[0]))

    def fill_from(self, c):
        return ("from", c[1])

    def fill_to(self, c):
        return ("to", c[1])

    def fill_step(self, c):
        return ("step", c[1])

    # ---- types (kept as text) ----
    def type_word(self, c):
        return str(c[0])

    def data_type(self, c):
        return c[0] + (c[1] if len(c) > 1 else "")

    def column_type(self, c):
        if c[-1].startswith("("):
            return " ".join(c[:-1]) + c[-1]
        return " ".join(c)

    def type_args(self, c):
        return "(" + ", ".join(str(x) for x in c) + ")"

    def enum_value(self, c):
        return f"{c[0]} = {c[2]}"

    def type_number(self, c):
        return "".join(str(x) for x in c)
