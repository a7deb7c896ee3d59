"""Quoting and unquoting of ClickHouse string literals and identifiers.

ClickHouse escapes in quoted text: `\\b \\f \\r \\n \\t \\0 \\a \\v \\e`, `\\xHH`, `\\\\`,
`\\'`, `\\"`, `` \\` ``; a doubled quote stands for itself (`'it''s'`). An unknown escape
keeps its backslash (`'\\d'` is the two characters backslash and d), as in ClickHouse.
"""
from __future__ import annotations

import re

_SIMPLE = {"b": "\b", "f": "\f", "r": "\r", "n": "\n", "t": "\t", "0": "\0", "a": "\a",
           "v": "\v", "e": "\x1b", "\\": "\\", "'": "'", '"': '"', "`": "`"}

_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|[\s\S])")


def _unescape(body: str, quote: str) -> str:
    if "\\" not in body:
        return body.replace(quote + quote, quote)
    out = []
    pos = 0
    n = len(body)
    while pos < n:
        ch = body[pos]
        if ch == "\\" and pos + 1 < n:
            nxt = body[pos + 1]
            if nxt == "x" and pos + 3 < n + 0 and re.match(r"[0-9a-fA-F]{2}", body[pos + 2:pos + 4]):
                out.append(chr(int(body[pos + 2:pos + 4], 16)))
                pos += 4
                continue
            simple = _SIMPLE.get(nxt)
            out.append(simple if simple is not None else "\\" + nxt)
            pos += 2
        elif ch == quote and pos + 1 < n and body[pos + 1] == quote:
            out.append(quote)
            pos += 2
        else:
            out.append(ch)
            pos += 1
    return "".join(out)


def unquote_string(token: str) -> str:
    """`'a\\'b'` -> `a'b`."""
    return _unescape(token[1:-1], "'")


def unquote_identifier(token: str) -> str:
    """`` `a b` `` or `"a b"` -> `a b`."""
    return _unescape(token[1:-1], token[0])


_NEEDS_ESCAPE = re.compile(r"[\\'\x00-\x1f\x7f]")
_CONTROL = {"\b": "\\b", "\f": "\\f", "\r": "\\r", "\n": "\\n", "\t": "\\t", "\0": "\\0",
            "\\": "\\\\", "'": "\\'"}


def _escape_char(m: re.Match) -> str:
    ch = m.group(0)
    return _CONTROL.get(ch) or "\\x%02x" % ord(ch)


def quote_string(value: str) -> str:
    """Python str -> ClickHouse string literal (round-trips through unquote_string)."""
    return "'" + _NEEDS_ESCAPE.sub(_escape_char, value) + "'"


_PLAIN_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_IDENT_ESCAPE = re.compile(r"[\\`\x00-\x1f\x7f]")


def _escape_ident_char(m: re.Match) -> str:
    ch = m.group(0)
    if ch == "`":
        return "\\`"
    return _CONTROL.get(ch) or "\\x%02x" % ord(ch)


def quote_identifier(name: str, reserved: frozenset[str] = frozenset()) -> str:
    """Name -> `name` as written when it is a plain identifier that is not reserved,
    else backquoted."""
    if _PLAIN_IDENT.match(name) and name.upper() not in reserved:
        return name
    return "`" + _IDENT_ESCAPE.sub(_escape_ident_char, name) + "`"
