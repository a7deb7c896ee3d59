"""Build the LALR parser once and expose parse / parse_many / parse_expr.

The grammar is the concatenation of `grammar/*.lark` plus a generated `any_keyword`
rule (every keyword terminal; used where any word is a name, after AS and after `.`).
The parser is built with `strict=True` when interegular is installed (no shift/reduce
conflicts, no regex collisions; tests/test_parse_errors.py checks it). Built parsers are
kept in the user's cache directory (~/.cache/sqlparse_ch, or $XDG_CACHE_HOME): lark's
own grammar cache, plus a pickled snapshot of the finished parser that loads in ~20 ms.
Propagate_positions is off: with an inline transformer lark cannot attach positions to
our nodes anyway; every node's span is computed from its tokens instead.

Life of a parse (`_run`):
1. the contextual lexer reads a word as a keyword only where the parser accepts that
   keyword (IDENT is offered in every state, so words are always read whole);
2. `PostLexer` fixes what one token of context cannot: reserved words, `* EXCEPT`,
   `t.1`, `GLOBAL [ANY] JOIN`, `UPDATE .. IN PARTITION`;
3. lark's LALR table, driven by `fastlalr`, calls the `AstBuilder` callbacks inline
   (no parse tree); a name-like keyword the parser rejects is re-fed as an identifier
   (`_keyword_as_name`);
4. `INSERT .. FORMAT Name <data>` stops lexing after the format name and keeps the rest
   as text (`_parse_with_inline_data`);
5. any failure becomes a `ParseError` (`errors.to_parse_error`).
"""
from __future__ import annotations

import gc
import hashlib
import os
import re
import threading
from pathlib import Path

import lark
from lark import Lark, Token
from lark.exceptions import LarkError, UnexpectedInput, UnexpectedToken

from . import fastlalr
from .ast.base import Span
from .errors import ParseError, check_unterminated_comment, from_transform_error, to_parse_error
from .transform_expr import TransformError
from .transform_stmt import AstBuilder

GRAMMAR_DIR = Path(__file__).parent / "grammar"
GRAMMAR_FILES = ("tokens.lark", "expr.lark", "query.lark", "statements.lark")
START = ["stmt_single", "stmt_script", "expr_single"]
# Keywords that `ident` already accepts (common column names that can also start an
# expression); they must not be repeated in any_keyword.
SOFT_KEYWORDS = ("DATE", "TIMESTAMP")

# Keywords that are also ordinary names: when the parser rejects one of these tokens
# where an identifier would do (LALR-merged states let the contextual lexer match a
# keyword slightly too eagerly), it is re-fed as IDENT. The printer prints these bare;
# every other keyword used as a name is backquoted.
NAME_KEYWORDS = frozenset({
    "KEY", "TYPE", "FORMAT", "TABLE", "TABLES", "DATABASE", "DATABASES", "FIRST", "LAST",
    "ID", "COMMENT", "ENGINE", "SETTINGS", "FINAL", "SAMPLE", "STEP", "FILL", "TIES",
    "TOTALS", "VIEW", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR", "HOUR", "MINUTE", "SECOND",
    "MILLISECOND", "MICROSECOND", "NANOSECOND", "QUERY", "SYSTEM", "LOGS", "MERGES",
    "DISK", "VOLUME", "CODEC", "TTL", "POPULATE", "START", "STOP", "PLAN", "AST", "SYNTAX",
    "PIPELINE", "ESTIMATE", "TREE", "PROCESSLIST", "DICTIONARY", "FUNCTION", "GRANULARITY",
    "COLUMN", "COLUMNS", "SETTING", "ALIAS", "DEFAULT", "MATERIALIZED", "EPHEMERAL",
    "ROW", "ROWS", "RANGE", "CURRENT", "NEXT", "ONLY", "ASSUME", "CHECK", "SETS", "TO",
    "AFTER", "ADD", "MODIFY", "REMOVE", "RENAME", "DETACH", "SYNC", "FLUSH", "USE", "SHOW",
    "TEMPORARY", "UPDATE", "DEDUPLICATE", "RECOMPRESS",
    "OPTIMIZE", "TRUNCATE", "EXCHANGE", "EXPLAIN", "DESCRIBE", "MATERIALIZE",
    "INSERT", "ALTER", "CREATE", "DROP", "DELETE", "VALUES", "DATE", "TIMESTAMP",
    "LIMIT", "OFFSET", "END",
})
# Clause and operator keywords are reserved: the post-lexer turns an IDENT spelled like
# one back into the keyword (so `SELECT a, FROM t` is an error, not a column named FROM)
# and they are never re-fed as names. Use backquotes for such names (`from`).
HARD_KEYWORDS = frozenset({
    "SELECT", "FROM", "WHERE", "PREWHERE", "GROUP", "ORDER", "BY", "HAVING",
    "UNION", "EXCEPT", "INTERSECT", "JOIN", "ON", "USING", "AS", "AND", "OR", "NOT", "IN",
    "IS", "BETWEEN", "LIKE", "ILIKE", "REGEXP", "CASE", "WHEN", "THEN", "ELSE", "WITH",
    "WINDOW", "QUALIFY", "INNER", "FULL", "CROSS", "OUTER", "GLOBAL", "DISTINCT",
    "NULL", "TRUE", "FALSE", "INTERVAL", "CAST", "INTO", "ASC", "DESC", "DIV", "MOD", "OVER",
    "EXISTS",
})

_KEYWORD_LINE = re.compile(r'^([A-Z_]+): "([a-z_]+)"i$', re.M)


def keyword_terminals() -> list[str]:
    return _KEYWORD_LINE.findall((GRAMMAR_DIR / "tokens.lark").read_text())


def grammar_text() -> str:
    text = "\n".join((GRAMMAR_DIR / name).read_text() for name in GRAMMAR_FILES)
    names = [name for name, _ in keyword_terminals() if name not in SOFT_KEYWORDS]
    return text + "\nany_keyword: " + " | ".join(names) + "\n"


def _cache_path(text: str, strict: bool) -> str | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    digest = hashlib.sha256((text + lark.__version__ + str(strict)).encode()).hexdigest()[:16]
    directory = os.path.join(base, "sqlparse_ch")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        return None
    return os.path.join(directory, f"grammar-{digest}.lark.pickle")


def _has_interegular() -> bool:
    try:
        import interegular  # noqa: F401
    except ImportError:
        return False
    return True


def build_parser(*, strict: bool | None = None, cache: bool = True) -> Lark:
    """Build the lark parser. strict=None means strict when interegular is installed."""
    if strict is None:
        strict = _has_interegular()
    text = grammar_text()
    cache_file = _cache_path(text, strict) if cache else None
    return Lark(
        text,
        parser="lalr",
        lexer="contextual",
        start=START,
        transformer=AstBuilder(),
        postlex=PostLexer(),
        propagate_positions=False,
        maybe_placeholders=False,
        strict=strict,
        cache=cache_file if cache_file else False,
    )


_PARSER: Lark | None = None


def get_parser() -> Lark:
    global _PARSER
    if _PARSER is None:
        parser = _load_snapshot()  # (a snapshot is already normalised)
        if parser is None:
            parser = build_parser()
            _share_rule_objects(parser)
            _plain_str_keys(parser)
            _save_snapshot(parser)
        fastlalr.install(parser)
        _PARSER = parser
    return _PARSER


# ---- parser snapshot: the whole built Lark object, pickled ----
# lark's own cache (used by build_parser) still spends ~100 ms re-creating Rule objects
# for every parse-table entry; unpickling the finished parser takes ~40 ms. The file
# name hashes everything the snapshot depends on; any failure to load means a rebuild.

def _snapshot_path() -> str | None:
    import sys

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    methods = ",".join(sorted(n for n in dir(AstBuilder) if not n.startswith("__")))
    key = "\n".join([grammar_text(), lark.__version__, sys.version, methods, "snapshot-1"])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return os.path.join(base, "sqlparse_ch", f"parser-{digest}.pickle")


def _load_snapshot() -> Lark | None:
    import pickle

    path = _snapshot_path()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # unpickling ~100k small objects: the cyclic GC would double the cost
    try:
        with open(path, "rb") as f:
            parser = pickle.load(f)
    except Exception:  # noqa: BLE001 - missing, stale or unreadable: rebuild
        return None
    finally:
        if gc_was_enabled:
            gc.enable()
    return parser if isinstance(parser, Lark) else None


def _save_snapshot(parser: Lark) -> None:
    import copyreg
    import importlib
    import io
    import pickle
    import types

    from lark.parsers import lalr_analysis

    path = _snapshot_path()
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    # module references (lark keeps `re`) and lark's Shift/Reduce singletons by name
    pickler.dispatch_table[types.ModuleType] = lambda m: (importlib.import_module, (m.__name__,))
    pickler.dispatch_table[lalr_analysis.Action] = lambda a: (getattr, (lalr_analysis, a.name))
    try:
        pickler.dump(parser)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
    except Exception:  # noqa: BLE001 - a read-only cache dir only costs speed
        return


def _plain_str_keys(parser: Lark) -> None:
    """A freshly compiled table is keyed by lark Token objects (str subclasses whose
    __eq__ is Python code); every lookup by a token type then runs Token.__eq__.
    Re-key with plain str."""
    try:
        states = parser.parser.parser.parser.parse_table.states
    except AttributeError:
        return
    for state, actions in states.items():
        states[state] = {str(k): v for k, v in actions.items()}


def _share_rule_objects(parser: Lark) -> None:
    """Speed-up: after loading from the cache, the parse table and the callback dict hold
    equal but distinct Rule objects, so every reduction's callback lookup falls back to
    Rule.__eq__. Re-key the callbacks by the table's own Rule objects (identity hits)."""
    try:
        frontend = parser.parser
        conf = frontend.parser.parser.parse_table
        callbacks = frontend.parser.parser.callbacks
    except AttributeError:  # lark internals moved; the lookups still work, only slower
        return
    rules = {}
    for actions in conf.states.values():
        for action, arg in actions.values():
            if action.name == "Reduce":
                rules[id(arg)] = arg
    for rule in rules.values():
        if rule in callbacks:
            callbacks[rule] = callbacks.pop(rule)


class PostLexer:
    """Token fix-ups the contextual lexer cannot make (lark `postlex` hook).

    * `* EXCEPT (..)` / `t.* EXCEPT c` is column exclusion, not the set operation: an
      EXCEPT right after `*` becomes STAR_EXCEPT.
    * GLOBAL before a join becomes GLOBAL_JOIN (see `process`).
    * `t.1` / `f(x).2`: a FLOAT like `.1` glued to a preceding name or bracket is a tuple
      index, so it is split into `.` and an INT.
    """

    # IDENT is offered to the lexer in every parser state, so a word is always read
    # whole: `DAYS` is never lexed as the keyword DAY followed by `S`.
    always_accept = ("IDENT",)

    def process(self, stream):
        prev = None
        pending = None
        stream = iter(stream)
        while True:
            if pending is not None:
                tok, pending = pending, None
            else:
                tok = next(stream, None)
                if tok is None:
                    return
            kind = tok.type
            if kind == "GLOBAL":
                # `GLOBAL IN` / `GLOBAL NOT IN` vs `GLOBAL [ANY] LEFT JOIN`: one token of
                # lookahead decides (LALR(1) cannot: after `ON expr` both may follow).
                pending = next(stream, None)
                if pending is None or pending.type not in ("IN", "NOT"):
                    tok = Token.new_borrow_pos("GLOBAL_JOIN", tok.value, tok)
                prev = tok
                yield tok
                continue
            if kind == "IDENT":
                upper = tok.value.upper()
                if upper in HARD_KEYWORDS:
                    tok = Token.new_borrow_pos(upper, tok.value, tok)
                    kind = upper
            if kind == "IN":
                # `UPDATE c = 0 IN PARTITION p`: IN here is not the operator. LALR(1)
                # cannot tell after `0`, so look at the source text.
                text = getattr(_CURRENT, "text", None)
                if text is not None and _PARTITION_AFTER.match(text, tok.end_pos):
                    tok = Token.new_borrow_pos("IN_PARTITION", tok.value, tok)
            elif kind == "EXCEPT":
                if prev is not None and prev.type == "STAR":
                    tok = Token.new_borrow_pos("STAR_EXCEPT", tok.value, tok)
            elif kind == "FLOAT" and tok.value[0] == "." and prev is not None \
                    and prev.end_pos == tok.start_pos and tok.value[1:].isdigit() \
                    and prev.type in _TUPLE_BASES:
                dot = Token("DOT", ".", tok.start_pos, tok.line, tok.column, tok.line,
                            tok.column + 1, tok.start_pos + 1)
                yield dot
                tok = Token("INT", tok.value[1:], tok.start_pos + 1, tok.line, tok.column + 1,
                            tok.end_line, tok.end_column, tok.end_pos)
            prev = tok
            yield tok


_PARTITION_AFTER = re.compile(r"\s+partition\b", re.I)
from .transform_expr import _CURRENT_TEXT as _CURRENT  # noqa: E402 - .text: the text being parsed

_TUPLE_BASES = frozenset({"IDENT", "QUOTED_IDENT", "DQ_IDENT", "RPAR", "RSQB", "INT", "DATE",
                          "TIMESTAMP"})


_INSERT_WORD = re.compile(r"(?i)\binsert\b")
_FORMAT_WORD = re.compile(r"(?i)\bformat\b")


def _run(text: str, start: str):
    parser = get_parser()
    if "/*" in text:
        check_unterminated_comment(text)
    _CURRENT.text = text
    try:
        if start != "expr_single" and _INSERT_WORD.search(text) and _FORMAT_WORD.search(text):
            return _parse_with_inline_data(parser, text, start)
        return parser.parse(text, start=start, on_error=_keyword_as_name)
    except UnexpectedInput as e:
        raise to_parse_error(text, e) from None
    except TransformError as e:
        raise from_transform_error(text, e) from None
    except ParseError:
        raise
    except (LarkError, RecursionError) as e:
        raise ParseError.at_offset(text, 0, str(e) or type(e).__name__) from None
    except Exception as e:  # noqa: BLE001 - a parser bug must still surface as ParseError
        raise ParseError.at_offset(
            text, 0, f"internal parser error ({type(e).__name__}: {e}); please report") from e
    finally:
        _CURRENT.text = None


_KEYWORD_TYPES: frozenset[str] = frozenset()


def _is_keyword(name: str) -> bool:
    global _KEYWORD_TYPES
    if not _KEYWORD_TYPES:
        _KEYWORD_TYPES = frozenset(n for n, _ in keyword_terminals())
    return name in _KEYWORD_TYPES


def _keyword_as_name(e) -> bool:
    """lark on_error hook: re-feed a rejected name-like keyword as an identifier."""
    if not isinstance(e, UnexpectedToken):
        return False
    tok = e.token
    if tok.type in HARD_KEYWORDS or not _is_keyword(tok.type) or "IDENT" not in e.expected:
        return False
    e.interactive_parser.feed_token(Token.new_borrow_pos("IDENT", tok.value, tok))
    return True


def _parse_with_inline_data(parser: Lark, text: str, start: str):
    """INSERT .. FORMAT Name <data>: the data is not SQL; everything after the format
    name (and the spaces up to and including the first newline) is kept as text."""
    ip = parser.parse_interactive(text, start=start)
    in_insert = False
    pending_format = False
    for tok in ip.lexer_thread.lex(ip.parser_state):
        try:
            ip.feed_token(tok)
        except UnexpectedToken as e:  # same keyword-as-name recovery as parse()
            e.interactive_parser = ip
            if not _keyword_as_name(e):
                raise
        if pending_format:
            data_start = _skip_to_data(text, tok.end_pos)
            if data_start < len(text):
                line, column = _line_col(text, data_start)
                ip.feed_token(Token("INSERT_DATA", text[data_start:], data_start, line, column,
                                    end_pos=len(text)))
            return ip.feed_eof()
        if tok.type == "INSERT":
            in_insert = True
        elif tok.type == "SEMI":
            in_insert = False
        elif tok.type == "FORMAT" and in_insert:
            pending_format = True
    return ip.feed_eof()


def _line_col(text: str, pos: int) -> tuple[int, int]:
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _skip_to_data(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in " \t\r":
        pos += 1
    if pos < n and text[pos] == "\n":
        pos += 1
    return pos


def parse(text: str):
    """Parse one statement (a trailing `;` is allowed)."""
    return _run(text, "stmt_single")


def parse_expr(text: str):
    """Parse one expression (`expr AS alias` allowed)."""
    return _run(text, "expr_single")


def parse_many(text: str) -> list:
    """Parse `;`-separated statements; each statement's `span` covers its exact text
    (from its first token to its last, without the `;`)."""
    items = _run(text, "stmt_script")
    out = []
    start = 0
    for i, item in enumerate(items):
        if isinstance(item, Token):  # a `;`
            start = item.end_pos
            continue
        end = next((x.start_pos for x in items[i + 1:] if isinstance(x, Token)), len(text))
        out.append(_with_statement_span(text, item, _skip_space_and_comments(text, start), end))
    return out


_LEADING_SPACE = re.compile(r"(?:\s|--[^\n]*|#[^\n]*|/\*[\s\S]*?\*/)*")


def _skip_space_and_comments(text: str, pos: int) -> int:
    return _LEADING_SPACE.match(text, pos).end()


def _trim_trailing(chunk: str) -> str:
    """Drop trailing whitespace and comments (linear time, no regex backtracking)."""
    while True:
        chunk = chunk.rstrip()
        if chunk.endswith("*/"):
            opening = chunk.rfind("/*", 0, len(chunk) - 2)
            if opening < 0:
                return chunk
            chunk = chunk[:opening]
            continue
        line_start = chunk.rfind("\n") + 1
        cut = _comment_start(chunk, line_start)
        if cut is None:
            return chunk
        chunk = chunk[:cut]


def _comment_start(chunk: str, pos: int) -> int | None:
    quote = None
    i = pos
    n = len(chunk)
    while i < n:
        ch = chunk[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'`\"":
            quote = ch
        elif ch == "#" or chunk.startswith("--", i):
            return i
        i += 1
    return None


def _with_statement_span(text: str, stmt, start: int, end: int):
    chunk = text[start:end]
    if getattr(stmt, "data", None) is None:
        end = start + len(_trim_trailing(chunk))
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    import dataclasses
    return dataclasses.replace(stmt, span=Span(start, end, line, column))

