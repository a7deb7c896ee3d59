"""Template text -> a tree of template nodes (the `{{ }}` / `{% %}` / `{# #}` layer).

The scanner follows Tinybird's restricted Tornado syntax (TINYBIRD.md C.1):

1. Text is copied until the next `{{`, `{%` or `{#`. A run of three or more `{` uses the
   innermost pair (`{{{x}}}` renders `{` + value + `}`). `{{!` and `{%!` emit the braces
   literally.
2. `{{ expr }}` is an expression; its body is parsed with the standard library's `ast`
   parser (parsing only: nothing is ever compiled or evaluated by Python) and checked
   against the expression whitelist in `checks.py`.
3. `{% if c %}` / `{% elif c %}` / `{% else %}` / `{% end %}`, `{% for a, b in xs %}`,
   `{% set x = e %}`, `{% break %}` / `{% continue %}`, `{% comment ... %}`,
   `{% whitespace mode %}`. Everything Tornado has beyond that is refused with Tinybird's
   message (`import is forbidden`, ...); `while` and `try` are refused too (a loop whose
   end depends on the interpreter is a denial-of-service risk we do not need).

Errors are `TemplateParseError`s carrying the 1-based line, with Tornado's texts.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .errors import TemplateError, TemplateParseError, UnclosedBlockError

_FORBIDDEN = {
    "extends": "extends is forbidden",
    "import": "import is forbidden",
    "from": "import is forbidden",
    "include": "include is forbidden",
    "autoescape": "autoescape is forbidden",
    "raw": "raw is forbidden",
    "module": "module is forbidden",
    "apply": "apply is forbidden",
    "block": "block is forbidden",
}
_INTERMEDIATE = {"else": {"if", "for"}, "elif": {"if"}}
_UNSUPPORTED = {"while", "try", "except", "finally"}
_WHITESPACE_MODES = {"all", "single", "oneline"}


# -- template nodes -------------------------------------------------------------------

@dataclass(frozen=True)
class Text:
    value: str
    line: int


@dataclass(frozen=True)
class Expr:
    source: str          # the expression text as written (used in error messages)
    tree: ast.expr
    line: int


@dataclass(frozen=True)
class If:
    branches: tuple      # ((condition ast.expr, source, line, body tuple), ...)
    else_body: tuple | None
    line: int


@dataclass(frozen=True)
class For:
    target: ast.expr     # Name or Tuple of Names
    iterable: ast.expr
    source: str
    body: tuple
    else_body: tuple | None
    line: int


@dataclass(frozen=True)
class Set:
    targets: ast.expr    # Name or Tuple of Names
    value: ast.expr
    source: str
    line: int


@dataclass(frozen=True)
class LoopControl:
    kind: str            # 'break' | 'continue'
    line: int


@dataclass
class Template:
    body: tuple
    source: str
    name: str = "<string>"


# -- reader ---------------------------------------------------------------------------

_TAB_SPACE = re.compile(r"([\t ]+)")
_NEWLINE_SPACE = re.compile(r"(\s*\n\s*)")
_ALL_SPACE = re.compile(r"(\s+)")


def _filter_whitespace(mode: str, text: str) -> str:
    if mode == "single":
        text = _TAB_SPACE.sub(" ", text)
        return _NEWLINE_SPACE.sub("\n", text)
    if mode == "oneline":
        return _ALL_SPACE.sub(" ", text)
    return text


class _Reader:
    def __init__(self, text: str, name: str):
        self.text = text
        self.name = name
        self.pos = 0
        self.line = 1
        self.whitespace = "all"

    def find(self, needle: str, start: int = 0) -> int:
        i = self.text.find(needle, self.pos + start)
        return -1 if i == -1 else i - self.pos

    def consume(self, count: int | None = None) -> str:
        end = len(self.text) if count is None else self.pos + count
        s = self.text[self.pos:end]
        self.line += s.count("\n")
        self.pos = end
        return s

    def remaining(self) -> int:
        return len(self.text) - self.pos

    def at(self, i: int) -> str:
        return self.text[self.pos + i]

    def error(self, msg: str, line: int | None = None):
        raise TemplateParseError(msg, line=self.line if line is None else line, name=self.name)


def parse_template(text: str, name: str = "<string>") -> Template:
    """Parse template text into a `Template` (raises TemplateParseError / TemplateError)."""
    reader = _Reader(text, name)
    tpl = Template(body=(), source=text, name=name)
    try:
        body, _ = _parse_body(reader, tpl, None, False, 1)
    except RecursionError:
        raise TemplateParseError("template nesting too deep", reader.line, name) from None
    tpl.body = body
    return tpl


def _parse_python(reader: _Reader, source: str, mode: str, line: int):
    try:
        return ast.parse(source, mode=mode)
    except SyntaxError as e:
        if mode == "eval" and "from" in source.partition(" ")[0]:
            reader.error('"from" is a forbidden word', line)
        reader.error(f"Syntax error in '{_short(source)}': {e.msg}", line)
    except (ValueError, RecursionError, MemoryError) as e:
        reader.error(f"Syntax error in '{_short(source)}': {e}", line)


def _set_text(names) -> str:
    """Tornado prints a Python set here; sorted so the text is stable across runs."""
    return "{" + ", ".join(repr(n) for n in sorted(names)) + "}"


def _short(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[:n] + "..."


def _parse_body(reader: _Reader, tpl: Template, in_block: str | None, in_loop: bool,
                block_line: int):
    """Parse until EOF (top level) or a closing/intermediate tag of `in_block`.

    Returns (chunks, terminator) where terminator is ('end', line), ('else', line),
    ('elif', source, line) or None at EOF.
    """
    from .checks import check_expression

    chunks: list = []
    while True:
        curly = 0
        while True:
            curly = reader.find("{", curly)
            if curly == -1 or curly + 1 == reader.remaining():
                if in_block:
                    raise UnclosedBlockError(in_block, block_line, name=reader.name)
                text = reader.consume()
                if text:
                    chunks.append(Text(_filter_whitespace(reader.whitespace, text), reader.line))
                return tuple(chunks), None
            if reader.at(curly + 1) not in "{%#":
                curly += 1
                continue
            if (curly + 2 < reader.remaining() and reader.at(curly + 1) == "{"
                    and reader.at(curly + 2) == "{"):
                curly += 1
                continue
            break
        if curly > 0:
            line = reader.line
            chunks.append(Text(_filter_whitespace(reader.whitespace, reader.consume(curly)), line))
        start = reader.consume(2)
        line = reader.line
        if reader.remaining() and reader.at(0) == "!":
            reader.consume(1)
            chunks.append(Text(start, line))
            continue
        if start == "{#":
            end = reader.find("#}")
            if end == -1:
                reader.error("Missing end comment #}")
            reader.consume(end + 2)
            continue
        if start == "{{":
            end = reader.find("}}")
            if end == -1:
                reader.error("Missing end expression }}")
            contents = reader.consume(end).strip()
            reader.consume(2)
            if not contents:
                reader.error("Empty expression", line)
            tree = _parse_python(reader, contents, "eval", line).body
            check_expression(tree, line)
            chunks.append(Expr(contents, tree, line))
            continue
        # {% ... %}
        end = reader.find("%}")
        if end == -1:
            reader.error("Missing end block %}")
        contents = reader.consume(end).strip()
        reader.consume(2)
        if not contents:
            reader.error("Empty block tag ({% %})", line)
        operator, _, suffix = contents.partition(" ")
        suffix = suffix.strip()
        if operator in _INTERMEDIATE:
            if not in_block:
                reader.error(f"{operator} outside {_set_text(_INTERMEDIATE[operator])} block", line)
            if in_block not in _INTERMEDIATE[operator]:
                reader.error("%s block cannot be attached to %s block" % (operator, in_block), line)
            if operator == "elif":
                return tuple(chunks), ("elif", suffix, line)
            return tuple(chunks), ("else", line)
        if operator == "end":
            if not in_block:
                reader.error("Extra {% end %} block", line)
            return tuple(chunks), ("end", line)
        if operator in _FORBIDDEN:
            reader.error(_FORBIDDEN[operator], line)
        if operator in _UNSUPPORTED:
            reader.error(f"{operator} is not supported", line)
        if operator == "comment":
            continue
        if operator == "whitespace":
            if suffix not in _WHITESPACE_MODES:
                reader.error(f"invalid whitespace mode {suffix}", line)
            reader.whitespace = suffix
            continue
        if operator == "set":
            if not suffix:
                reader.error("set missing statement", line)
            chunks.append(_parse_set(reader, suffix, line))
            continue
        if operator in ("break", "continue"):
            if not in_loop:
                reader.error(f"{operator} outside {_set_text({'for', 'while'})} block", line)
            chunks.append(LoopControl(operator, line))
            continue
        if operator == "if":
            chunks.append(_parse_if(reader, tpl, suffix, line, in_loop))
            continue
        if operator == "for":
            chunks.append(_parse_for(reader, tpl, suffix, line))
            continue
        reader.error("unknown operator: %r" % operator, line)


def _condition(reader: _Reader, source: str, line: int) -> ast.expr:
    from .checks import check_statement_expression

    if not source:
        reader.error("Syntax error in '': missing condition", line)
    tree = _parse_python(reader, source, "eval", line).body
    check_statement_expression(tree, line)
    return tree


def _parse_if(reader, tpl, cond_src, line, in_loop) -> If:
    branches = []
    cond = _condition(reader, cond_src, line)
    cur_src, cur_line = cond_src, line
    while True:
        body, term = _parse_body(reader, tpl, "if", in_loop, line)
        branches.append((cond, cur_src, cur_line, body))
        if term[0] == "end":
            return If(tuple(branches), None, line)
        if term[0] == "else":
            else_body, term2 = _parse_body(reader, tpl, "if", in_loop, line)
            if term2[0] != "end":
                reader.error(f"{term2[0]} block cannot be attached to else block", term2[-1])
            return If(tuple(branches), else_body, line)
        cur_src, cur_line = term[1], term[2]
        cond = _condition(reader, cur_src, cur_line)


def _parse_for(reader, tpl, suffix, line) -> For:
    from .checks import check_statement_expression, check_target

    tree = _parse_python(reader, f"for {suffix}: pass", "exec", line)
    stmt = tree.body[0]
    if not isinstance(stmt, ast.For):
        reader.error(f"Syntax error in 'for {_short(suffix)}'", line)
    check_target(stmt.target, line)
    check_statement_expression(stmt.iter, line)
    body, term = _parse_body(reader, tpl, "for", True, line)
    else_body = None
    if term[0] == "else":
        else_body, term2 = _parse_body(reader, tpl, "for", False, line)
    return For(stmt.target, stmt.iter, suffix, body, else_body, line)


def _parse_set(reader, suffix, line) -> Set:
    from .checks import check_statement_expression, check_target

    tree = _parse_python(reader, suffix, "exec", line)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign) \
            or len(tree.body[0].targets) != 1:
        reader.error(f"set expects 'name = expression', got '{_short(suffix)}'", line)
    stmt = tree.body[0]
    check_target(stmt.targets[0], line)
    check_statement_expression(stmt.value, line)
    return Set(stmt.targets[0], stmt.value, suffix, line)


__all__ = ["parse_template", "Template", "Text", "Expr", "If", "For", "Set", "LoopControl",
           "TemplateError"]
