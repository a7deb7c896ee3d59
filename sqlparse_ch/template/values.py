"""Values the template interpreter works with, and how each one is written into SQL.

Parameters arrive as `str` (or `list[str]` for repeated keys) or are absent (`None`).
Whitelisted functions turn them into:

- `TypedInt` / `TypedFloat`: an int/float that remembers its ClickHouse type and renders
  as a typed cast of a quoted literal, `toInt32('5')` / `toFloat64('1.5')`. Arithmetic on
  them yields plain numbers (`Int32(page) * Int32(limit)` renders `20`), as in Tinybird.
- `SQL`: a fragment the template engine itself built from escaped pieces (`column()`,
  `sql_and()`, `Array()`, hints...). Written as is.
- `Placeholder`: an undefined parameter in test mode (build-time validation).

Lists and tuples are written like Tinybird's Python repr (`[1, 'a']`, `(False, 'a')`) but
item by item through `to_sql`, so each string item is an escaped ClickHouse literal.

`to_sql(value, source)` is the only way a value reaches the output: strings become quoted,
escaped ClickHouse literals; numbers their decimal text; lists ClickHouse arrays of
rendered items; `None` is an error naming the expression. A parameter's text is never
written unquoted.
"""
from __future__ import annotations

from .errors import TemplateError

# ClickHouse string-literal escaping (Tinybird's table; `%` becomes `\%` too, which keeps
# a value from acting as a LIKE wildcard; `sql_unescape` undoes it where wanted).
_STRING_ESCAPES = str.maketrans({
    "\0": "\\0", "\r": "\\r", "\x08": "\\b", "\t": "\\t", "\x1a": "\\z", "\n": "\\n",
    '"': '\\"', "'": "\\'", "\\": "\\\\", "%": "\\%", "`": "\\`",
})
# identifier escaping (symbol/column): double quotes are dropped, as in Tinybird
_IDENT_ESCAPES = str.maketrans({
    "\0": "\\0", "\r": "\\r", "\x08": "\\b", "\t": "\\t", "\x1a": "\\z", "\n": "\\n",
    '"': "", "'": "\\'", "\\": "\\\\", "%": "\\%", "`": "\\`",
})


def escape_string(s: str) -> str:
    return s.translate(_STRING_ESCAPES)


def quote_string(s: str) -> str:
    return "'" + s.translate(_STRING_ESCAPES) + "'"


def quote_identifier(s: str) -> str:
    return "`" + s.translate(_IDENT_ESCAPES) + "`"


class SQL(str):
    """Trusted SQL text produced by the engine (never a raw parameter)."""

    __slots__ = ()


class TypedInt(int):
    sql_type: str

    def __new__(cls, value, sql_type: str):
        obj = int.__new__(cls, value)
        obj.sql_type = sql_type
        return obj

    def __str__(self) -> str:
        return f"to{self.sql_type}('{int(self)}')"

    __format__ = lambda self, spec: str(self) if not spec else int(self).__format__(spec)  # noqa: E731


class TypedFloat(float):
    sql_type: str

    def __new__(cls, value, sql_type: str):
        obj = float.__new__(cls, value)
        obj.sql_type = sql_type
        return obj

    def __str__(self) -> str:
        return f"to{self.sql_type}('{float(self)}')"

    __format__ = lambda self, spec: str(self) if not spec else float(self).__format__(spec)  # noqa: E731


class Placeholder:
    """An absent parameter while validating a template (test mode)."""

    def __init__(self, name: str = "__no_value__", line: int | None = None):
        self.name = name
        self.line = line

    def __str__(self) -> str:
        return "__no_value__"

    def __repr__(self) -> str:
        return f"Placeholder({self.name!r})"

    def __getitem__(self, i):
        if isinstance(i, int) and i > 2:
            raise IndexError("placeholder index out of range")
        return Placeholder()

    def __iter__(self):
        return iter([Placeholder(), Placeholder(), Placeholder()])

    def __len__(self) -> int:
        return 3

    def __add__(self, other):
        return Placeholder()

    __radd__ = __add__

    def split(self, *args, **kwargs):
        return [Placeholder(), Placeholder()]

    def get(self, *args, **kwargs):
        return Placeholder()

    def replace(self, *args, **kwargs):
        return Placeholder()

    def join(self, *args, **kwargs):
        return Placeholder()

    def startswith(self, *args):
        return False

    endswith = startswith

    def strip(self, *args):
        return self

    lstrip = rstrip = lower = upper = strip


def to_sql(value, source: str, line: int | None = None) -> str:
    """Render one `{{ }}` result as SQL text (Tinybird's expression_wrapper, made strict)."""
    if isinstance(value, SQL):
        return str(value)
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, Placeholder):
        return "'__no_value__'"
    if value is None:
        short = source[:20] + "..." if len(source) > 20 else source
        raise TemplateError(f'expression "{short}" evaluated to null', line)
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, tuple):
        inner = ", ".join(to_sql(v, source, line) for v in value)
        return f"tuple({inner})" if len(value) == 1 else f"({inner})"
    if isinstance(value, (list, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return "[" + ", ".join(to_sql(v, source, line) for v in items) + "]"
    raise TemplateError(
        f'expression "{source[:20]}" evaluated to a {type(value).__name__}, which cannot be '
        f"written into SQL", line)
