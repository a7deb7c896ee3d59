"""The template interpreter: walks the template tree and the (whitelisted) expression ASTs.

Nothing is compiled or passed to `eval`/`exec`. Each expression node type accepted by
`checks.py` has one case in `Evaluator.evaluate`; values are plain Python data (str, int,
float, bool, None, list, tuple, dict) plus the engine's own `values` classes; the only
callables reachable are the ones in `functions.make_functions` and a fixed list of
methods of str/list/dict. Sizes are bounded (string/list repetition, `range`), `%`
string formatting is refused.
"""
from __future__ import annotations

import ast
import operator

from .errors import TemplateError
from .functions import RenderContext, make_functions
from .syntax import Expr, For, If, LoopControl, Set, Template, Text
from .values import SQL, Placeholder, to_sql

MAX_SEQUENCE = 1_000_000
MAX_OUTPUT = 50_000_000


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
_CMPOPS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
           ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
           ast.Is: operator.is_, ast.IsNot: operator.is_not}
_CMP_SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_DATA_TYPES = (str, int, float, list, tuple, dict, set, frozenset, Placeholder)


class Evaluator:
    def __init__(self, params: dict, ctx: RenderContext):
        self.params = params
        self.ctx = ctx
        self.locals: dict = {}
        self.functions = make_functions(ctx)
        self.line: int | None = None

    # -- names --------------------------------------------------------------------
    def lookup(self, name: str):
        if name in self.locals:
            return self.locals[name]
        value = self.params.get(name)
        if value is None and self.ctx.test_mode:
            return Placeholder(name, self.line)
        return value

    def assign(self, target: ast.expr, value) -> None:
        if isinstance(target, ast.Name):
            self.locals[target.id] = value
            return
        try:
            items = list(value)
        except TypeError:
            raise TemplateError(f"cannot unpack non-iterable {type(value).__name__} object",
                                self.line)
        if len(items) != len(target.elts):
            raise TemplateError(f"cannot unpack {len(items)} values into {len(target.elts)} names",
                                self.line)
        for sub, item in zip(target.elts, items):
            self.assign(sub, item)

    # -- expressions ----------------------------------------------------------------
    def evaluate(self, node: ast.expr):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.BinOp):
            return self._binop(node)
        if isinstance(node, ast.UnaryOp):
            value = self.evaluate(node.operand)
            if isinstance(node.op, ast.Not):
                return not value
            if isinstance(value, Placeholder):
                return value
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TemplateError(f"bad operand type for unary {'-' if isinstance(node.op, ast.USub) else '+'}: "
                                    f"'{type(value).__name__}'", self.line)
            return -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.BoolOp):
            value = None
            for sub in node.values:
                value = self.evaluate(sub)
                if isinstance(node.op, ast.And) and not value:
                    return value
                if isinstance(node.op, ast.Or) and value:
                    return value
            return value
        if isinstance(node, ast.Compare):
            left = self.evaluate(node.left)
            for op, comp in zip(node.ops, node.comparators):
                right = self.evaluate(comp)
                if not self._compare(op, left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.evaluate(node.body) if self.evaluate(node.test) else self.evaluate(node.orelse)
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        if isinstance(node, ast.List):
            return [self.evaluate(e) for e in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(self.evaluate(e) for e in node.elts)
        if isinstance(node, ast.Set):
            try:
                return {self.evaluate(e) for e in node.elts}
            except TypeError as e:
                raise TemplateError(str(e), self.line)
        if isinstance(node, ast.Dict):
            try:
                return {self.evaluate(k): self.evaluate(v) for k, v in zip(node.keys, node.values)}
            except TypeError as e:
                raise TemplateError(str(e), self.line)
        if isinstance(node, ast.JoinedStr):
            out = []
            for part in node.values:
                if isinstance(part, ast.Constant):
                    out.append(str(part.value))
                else:
                    value = self.evaluate(part.value)
                    conv = {115: str, 114: repr, 97: ascii}.get(part.conversion, str)
                    out.append(conv(value))
            return self._bounded("".join(out))
        raise TemplateError(f"Invalid expression type: {ast.dump(node)}", self.line)

    def _bounded(self, value):
        if isinstance(value, (str, list, tuple)) and len(value) > MAX_SEQUENCE:
            raise TemplateError("value too large", self.line)
        return value

    def _call(self, node: ast.Call):
        args = [self.evaluate(a) for a in node.args]
        kwargs = {kw.arg: self.evaluate(kw.value) for kw in node.keywords}
        func = node.func
        if isinstance(func, ast.Name):
            fn = self.functions.get(func.id)
            if fn is None:
                raise TemplateError(f"'{func.id}' is not a valid function, line {self.line}",
                                    self.line)
            name = func.id
        else:
            obj = self.evaluate(func.value)
            name = func.attr
            if not isinstance(obj, _DATA_TYPES) or isinstance(obj, bool):
                raise TemplateError(f"'{type(obj).__name__}' object has no attribute '{name}'",
                                    self.line)
            if name == "get" and isinstance(obj, str):
                raise TemplateError("'str' object has no attribute 'get'. Make sure you're using "
                                    "an object/dictionary where trying to use .get()", self.line)
            if name == "replace" and isinstance(obj, str) and len(args) >= 2 \
                    and isinstance(args[1], str) \
                    and len(obj) + (len(obj) + 1) * len(args[1]) > MAX_SEQUENCE:
                raise TemplateError("value too large", self.line)
            fn = getattr(obj, name, None)
            if fn is None:
                raise TemplateError(f"'{type(obj).__name__}' object has no attribute '{name}'",
                                    self.line)
        try:
            result = fn(*args, **kwargs)
        except TemplateError as e:
            if e.line is None:
                e.line = self.line
            raise
        except TypeError as e:
            text = str(e)
            if "required positional argument" in text:
                raise TemplateError("one of the transform type functions is missing an argument",
                                    self.line)
            raise TemplateError(f"{name}(): {text}", self.line)
        except (ValueError, IndexError, KeyError, AttributeError, OverflowError,
                ZeroDivisionError, RecursionError) as e:
            raise TemplateError(f"{name}(): {e}", self.line)
        if isinstance(result, (map, filter)):
            result = list(result)
        return self._bounded(result)

    def _binop(self, node: ast.BinOp):
        left = self.evaluate(node.left)
        right = self.evaluate(node.right)
        if isinstance(left, Placeholder) or isinstance(right, Placeholder):
            return Placeholder()
        op = type(node.op)
        if op is ast.Mod and isinstance(left, str):
            raise TemplateError("string formatting with % is not allowed", self.line)
        if op is ast.Mult:
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) \
                        and len(seq) * max(n, 0) > MAX_SEQUENCE:
                    raise TemplateError("value too large", self.line)
        if isinstance(left, int) and isinstance(right, int) and op is ast.Mult \
                and left.bit_length() + right.bit_length() > 4096:
            raise TemplateError("value too large", self.line)
        try:
            result = _BINOPS[op](_plain(left), _plain(right))
        except (TypeError, ZeroDivisionError, OverflowError, ValueError) as e:
            raise TemplateError(str(e), self.line)
        return self._bounded(result)

    def _compare(self, op, left, right) -> bool:
        kind = type(op)
        if kind in _CMP_SYMBOL and (isinstance(left, Placeholder) or isinstance(right, Placeholder)):
            raise TemplateError(
                f"'{_CMP_SYMBOL[kind]}' not supported between instances of "
                f"'{type(left).__name__}' and '{type(right).__name__}'. If you are using a dynamic "
                "parameter, you need to wrap it around a valid Data Type (e.g. Int8(placeholder))",
                self.line)
        try:
            return bool(_CMPOPS[kind](left, right))
        except TypeError as e:
            raise TemplateError(str(e), self.line)

    def _subscript(self, node: ast.Subscript):
        value = self.evaluate(node.value)
        if isinstance(node.slice, ast.Slice):
            parts = [None if p is None else self.evaluate(p)
                     for p in (node.slice.lower, node.slice.upper, node.slice.step)]
            key = slice(*parts)
        else:
            key = self.evaluate(node.slice)
        if not isinstance(value, _DATA_TYPES) or isinstance(value, bool):
            raise TemplateError(f"'{type(value).__name__}' object is not subscriptable", self.line)
        try:
            return value[key]
        except IndexError as e:
            if isinstance(value, str):
                raise TemplateError(
                    "String index out of range. Check that string parameters have values before "
                    "accessing specific characters (e.g., param[0]). Provide default values or add "
                    "length checks in your template.", self.line)
            raise TemplateError(str(e), self.line)
        except KeyError as e:
            raise TemplateError(f"KeyError: {e}", self.line)
        except (TypeError, ValueError) as e:
            raise TemplateError(str(e), self.line)

    # -- statements -------------------------------------------------------------------
    def run(self, chunks, out: list) -> None:
        for chunk in chunks:
            if isinstance(chunk, Text):
                out.append(chunk.value)
            elif isinstance(chunk, Expr):
                self.line = chunk.line
                text = to_sql(self.evaluate(chunk.tree), chunk.source, chunk.line)
                if text.startswith("-") and out and out[-1].endswith("-"):
                    text = " " + text       # never let a value start a `--` comment
                out.append(text)
            elif isinstance(chunk, If):
                for cond, _src, line, body in chunk.branches:
                    self.line = line
                    if self.evaluate(cond):
                        self.run(body, out)
                        break
                else:
                    if chunk.else_body is not None:
                        self.run(chunk.else_body, out)
            elif isinstance(chunk, For):
                self._run_for(chunk, out)
            elif isinstance(chunk, Set):
                self.line = chunk.line
                self.assign(chunk.targets, self.evaluate(chunk.value))
            elif isinstance(chunk, LoopControl):
                raise _Break() if chunk.kind == "break" else _Continue()
            if len(out) > 64 and sum(map(len, out)) > MAX_OUTPUT:
                raise TemplateError("rendered SQL too large", self.line)

    def _run_for(self, chunk: For, out: list) -> None:
        self.line = chunk.line
        iterable = self.evaluate(chunk.iterable)
        if iterable is None:
            raise TemplateError("'NoneType' object is not iterable", chunk.line)
        if not isinstance(iterable, _DATA_TYPES) or isinstance(iterable, bool):
            raise TemplateError(f"'{type(iterable).__name__}' object is not iterable", chunk.line)
        try:
            items = list(iterable)
        except TypeError:
            raise TemplateError(f"'{type(iterable).__name__}' object is not iterable", chunk.line)
        broke = False
        for item in items:
            self.assign(chunk.target, item)
            try:
                self.run(chunk.body, out)
            except _Continue:
                continue
            except _Break:
                broke = True
                break
        if not broke and chunk.else_body is not None:
            self.run(chunk.else_body, out)


def _plain(v):
    """Typed numbers lose their SQL type in arithmetic (Tinybird: `Int32(a) * 2` -> `20`)."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, SQL):
        return str(v)
    return v


def execute(template: Template, params: dict, ctx: RenderContext) -> str:
    ev = Evaluator(params, ctx)
    out: list[str] = []
    try:
        ev.run(template.body, out)
    except (_Break, _Continue):
        raise TemplateError("break/continue outside a loop", ev.line)
    except RecursionError:
        raise TemplateError("template nesting too deep", ev.line)
    except TemplateError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as e:
        # a value of an unexpected shape met an operation (bad input, never a crash)
        raise TemplateError(str(e), ev.line) from None
    return "".join(out)
