"""ParseError and the translation of lark's exceptions into it.

Every failure to parse user text surfaces as `ParseError` with a 1-based line and
column, the offending token text, the expected tokens in words and a caret snippet:

    Syntax error at line 3, column 12: unexpected 'FORM', expected FROM, WHERE, ...
      3 | SELECT a, b FORM t
        |             ^

Common mistakes get a named message instead (see `_friendly`): a trailing comma in a
list, a missing table after FROM, unbalanced parentheses, an unterminated string or
quoted identifier.
"""
from __future__ import annotations

import difflib
import re

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

MAX_EXPECTED = 12

_PUNCT_NAMES = {
    "LPAR": "(", "RPAR": ")", "COMMA": ",", "DOT": ".", "LSQB": "[", "RSQB": "]",
    "LBRACE": "{", "RBRACE": "}", "COLON": ":", "QMARK": "?", "PLUS": "+", "MINUS": "-",
    "STAR": "*", "SLASH": "/", "PERCENT": "%", "CONCAT": "||", "EQ": "=", "EQEQ": "==",
    "NEQ": "!=", "LTGT": "<>", "LT": "<", "LE": "<=", "GT": ">", "GE": ">=", "ARROW": "->",
    "SEMI": ";",
}
_CLASS_NAMES = {
    "IDENT": "identifier", "QUOTED_IDENT": "identifier", "DQ_IDENT": "identifier",
    "STRING": "string", "INT": "number", "FLOAT": "number", "HEX": "number", "BIN": "number",
    "$END": "end of input", "INSERT_DATA": "data", "STAR_EXCEPT": "EXCEPT",
    "GLOBAL_JOIN": "GLOBAL", "IN_PARTITION": "IN", "DOLLAR_STRING": "string",
}
_SEMI_KW = {"SEMI_KW": "SEMI"}


class ParseError(ValueError):
    """A syntax error in SQL text, with its position (1-based line and column)."""

    def __init__(self, message: str, *, line: int, column: int, token: str | None = None,
                 expected: list[str] | None = None, text: str = "", pos: int = 0):
        self.message = message
        self.line = line
        self.column = column
        self.token = token
        self.expected = list(expected or [])
        self.pos = pos
        self.snippet = _snippet(text, line, column) if text else ""
        super().__init__(self.__str__())

    def __str__(self) -> str:
        head = f"Syntax error at line {self.line}, column {self.column}: {self.message}"
        return head + ("\n" + self.snippet if self.snippet else "")

    @classmethod
    def at_offset(cls, text: str, pos: int, message: str, *, token: str | None = None,
                  expected: list[str] | None = None) -> "ParseError":
        line, column = line_col(text, pos)
        return cls(message, line=line, column=column, token=token, expected=expected,
                   text=text, pos=pos)


def line_col(text: str, pos: int) -> tuple[int, int]:
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


def _snippet(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return ""
    src = lines[line - 1].replace("\t", " ")
    label = f"{line:>3} | "
    return f"{label}{src}\n{' ' * (len(label) - 2)}| {' ' * (column - 1)}^"


def describe_terminal(name: str) -> str:
    if name in _PUNCT_NAMES:
        return _PUNCT_NAMES[name]
    if name in _CLASS_NAMES:
        return _CLASS_NAMES[name]
    if name in _SEMI_KW:
        return _SEMI_KW[name]
    if name.startswith("__ANON"):
        return _anonymous_terminals().get(name, name)
    return name


_ANON: dict[str, str] = {}


def _anonymous_terminals() -> dict[str, str]:
    """lark names unnamed punctuation like `::` `__ANON_0`; show the text instead."""
    if not _ANON:
        from .parser import get_parser
        for t in get_parser().terminals:
            if t.name.startswith("__ANON") and t.pattern.type == "str":
                _ANON[t.name] = t.pattern.value
    return _ANON


def _order_key(word: str):
    # keywords first (alphabetical), then punctuation, then token classes
    if word.isalpha() and word.isupper():
        return (0, word)
    if word in ("identifier", "string", "number", "end of input", "data"):
        return (2, word)
    return (1, word)


def expected_words(names) -> list[str]:
    words = {describe_terminal(n) for n in names}
    words.discard("data")
    return sorted(words, key=_order_key)


def _format_expected(words: list[str]) -> str:
    if not words:
        return ""
    shown = words[:MAX_EXPECTED]
    tail = ", ..." if len(words) > MAX_EXPECTED else ""
    return ", expected " + ", ".join(shown) + tail


def to_parse_error(text: str, e: UnexpectedInput) -> ParseError:
    """Translate a lark exception into a ParseError (friendly message when we know one)."""
    if isinstance(e, UnexpectedCharacters):
        pos = e.pos_in_stream
        ch = text[pos] if pos < len(text) else ""
        friendly = _unterminated(text, pos, ch) or _unbalanced(text, pos)
        if friendly:
            return friendly
        expected = expected_words(e.allowed or ())
        return ParseError.at_offset(text, pos, f"unexpected character {ch!r}"
                                    + _format_expected(expected), token=ch, expected=expected)
    if isinstance(e, UnexpectedEOF):
        pos = len(text.rstrip())
        expected = expected_words(e.expected)
        friendly = _unbalanced(text, pos)
        if friendly:
            return friendly
        return ParseError.at_offset(text, pos, "unexpected end of input" + _format_expected(expected),
                                    token=None, expected=expected)
    if isinstance(e, UnexpectedToken):
        tok = e.token
        names = e.expected or ()
        try:  # what the parser accepts after its pending reductions (LALR-merged states
            names = e.interactive_parser.accepts() or names  # over-approximate expected)
        except Exception:  # noqa: BLE001 - best effort, fall back to the raw expected set
            pass
        expected = expected_words(names)
        if tok.type == "$END":
            pos = len(text.rstrip())
            friendly = _unbalanced(text, pos) or _missing_subject(text, pos, "end of input", expected)
            if friendly:
                return friendly
            return ParseError.at_offset(text, pos, "unexpected end of input"
                                        + _format_expected(expected), expected=expected)
        pos = tok.start_pos if tok.start_pos is not None else 0
        friendly = _friendly(text, pos, tok, expected)
        if friendly:
            return friendly
        return ParseError.at_offset(text, pos, f"unexpected {str(tok)!r}" + _format_expected(expected),
                                    token=str(tok), expected=expected)
    return ParseError.at_offset(text, getattr(e, "pos_in_stream", 0) or 0, str(e))


def from_transform_error(text: str, e) -> ParseError:
    pos = e.span.start if e.span is not None else 0
    return ParseError.at_offset(text, pos, e.message)


# ---- friendly messages ----

_CLAUSE_WORDS = {"FROM", "WHERE", "GROUP", "ORDER", "LIMIT", "HAVING", "PREWHERE", "SETTINGS",
                 "FORMAT", "UNION", "WINDOW", "QUALIFY", "JOIN", "INNER", "LEFT", "RIGHT",
                 "FULL", "CROSS", "ARRAY"}


def _previous_significant(text: str, pos: int) -> tuple[str, int]:
    i = pos - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return (text[i], i) if i >= 0 else ("", -1)


_LAST_WORD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\Z")


def _misspelled_keyword(text: str, pos: int, expected: list[str]) -> ParseError | None:
    """`SELECT a FORM t`: FORM was read as an alias of `a`, so the parser only stumbles
    at `t`. If the word before the error is a near miss of an expected keyword, point
    at that word instead."""
    m = _LAST_WORD.search(text, 0, pos)
    if not m:
        return None
    return _keyword_hint(text, m.start(1), m.group(1), expected)


def _keyword_hint(text: str, pos: int, word: str, expected: list[str]) -> ParseError | None:
    keywords = [w for w in expected if w.isalpha() and w.isupper()]
    upper = word.upper()
    if upper in keywords:
        return None
    close = difflib.get_close_matches(upper, keywords, n=3, cutoff=0.7)
    if not close:
        return None
    # prefer a transposition (FORM -> FROM) over a longer near match (FORMAT)
    best = next((k for k in close if sorted(k) == sorted(upper)), close[0])
    return ParseError.at_offset(
        text, pos, f"unexpected {word!r}, expected " + ", ".join(
            [best] + [w for w in expected if w != best][:MAX_EXPECTED - 1])
        + (", ..." if len(expected) > MAX_EXPECTED else "") + f" (did you mean {best}?)",
        token=word, expected=expected)


def _friendly(text: str, pos: int, tok, expected: list[str]) -> ParseError | None:
    word = str(tok).upper()
    prev, prev_pos = _previous_significant(text, pos)
    if prev == "," and (word in _CLAUSE_WORDS or str(tok) == ")"):
        where = "before " + (word if word in _CLAUSE_WORDS else "')'")
        return ParseError.at_offset(
            text, prev_pos, f"trailing comma {where}: remove the ',' or add another item",
            token=",", expected=expected)
    if tok.type != "IDENT":
        friendly = _missing_subject(text, pos, repr(str(tok)), expected, str(tok))
        if friendly:
            return friendly
    if tok.type == "IDENT":
        hint = _keyword_hint(text, pos, str(tok), expected)
        if hint:
            return hint
    return _unbalanced(text, pos) or _misspelled_keyword(text, pos, expected)


def _missing_subject(text: str, pos: int, found: str, expected: list[str],
                     token: str | None = None) -> ParseError | None:
    """`SELECT a FROM WHERE ..` / `SELECT FROM t` / `.. JOIN ON ..`: name the missing part."""
    before = text[:pos].rstrip()
    m = re.search(r"(?i)\b(from|join|select|distinct)\Z", before)
    if not m:
        return None
    kw = m.group(1).upper()
    if kw in ("FROM", "JOIN"):
        what = f"missing table after {kw}: expected a table name, table function or subquery"
    else:
        what = f"missing select list after {kw}: expected an expression"
    return ParseError.at_offset(text, pos, f"{what}, found {found}", token=token, expected=expected)


def _scan_brackets(text: str):
    """Yield (char, pos) for brackets outside strings, quoted names and comments."""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "'`\"":
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if text.startswith("--", i) or ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if ch in "()[]":
            yield ch, i
        i += 1


def _unbalanced(text: str, pos: int) -> ParseError | None:
    stack = []
    pairs = {")": "(", "]": "["}
    for ch, i in _scan_brackets(text):
        if ch in "([":
            stack.append((ch, i))
        elif stack and stack[-1][0] == pairs[ch]:
            stack.pop()
        else:
            return ParseError.at_offset(text, i, f"unbalanced parentheses: {ch!r} has no matching "
                                        f"{pairs[ch]!r}", token=ch)
    if stack:
        ch, i = stack[-1]
        closer = ")" if ch == "(" else "]"
        return ParseError.at_offset(text, i, f"unbalanced parentheses: {ch!r} is never closed "
                                    f"(missing {closer!r})", token=ch)
    return None


def _unterminated(text: str, pos: int, ch: str) -> ParseError | None:
    if ch == "'":
        return ParseError.at_offset(text, pos, "unterminated string literal: missing closing '",
                                    token=ch)
    if ch in "`\"":
        return ParseError.at_offset(text, pos, f"unterminated quoted identifier: missing closing {ch}",
                                    token=ch)
    if text.startswith("/*", pos):
        return ParseError.at_offset(text, pos, "unterminated comment: missing */", token="/*")
    return None


def check_unterminated_comment(text: str) -> None:
    """`/* ...` without `*/` would otherwise lex as `/` and `*`; raise a ParseError."""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "'`\"":
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if text.startswith("--", i) or ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise ParseError.at_offset(text, i, "unterminated comment: missing */", token="/*")
            i = j + 2
            continue
        i += 1
