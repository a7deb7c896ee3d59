"""The SCHEMA and INDEXES block grammars (TINYBIRD.md B.2, B.3).

A SCHEMA block is a comma-separated column list (newlines free, `--` comments allowed):

    `name` Type [`json:$.path`] [DEFAULT expr | MATERIALIZED expr] [CODEC(...)] [`json:$.path`]

- names are bare or backticked; the type runs to the first marker (a backticked `json:`
  path, DEFAULT, MATERIALIZED, CODEC) at nesting depth 0;
- the JSONPath may follow the type or the CODEC, never the DEFAULT/MATERIALIZED
  expression; MATERIALIZED/DEFAULT after CODEC is refused;
- column-level NULL / NOT NULL / ALIAS / TTL are refused (use Nullable(T));
- lines starting with INDEX are skipped (indexes belong in INDEXES).

An INDEXES block has one index per line: `[INDEX] name expr TYPE kind(args) [GRANULARITY n]`
(a trailing comma is fine).

Positions: `scan_schema` works on the block text and reports (offset) positions that the
caller turns into file line/column with the block's line table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    jsonpath: str | None = None
    default: str | None = None          # the expression text
    default_kind: str | None = None     # 'DEFAULT' | 'MATERIALIZED'
    codec: str | None = None            # e.g. 'CODEC(ZSTD(1))' -> 'ZSTD(1)'

    @property
    def nullable(self) -> bool:
        return self.type.startswith("Nullable(")

    @property
    def default_value(self) -> str | None:
        """Tinybird's `default_value` field: 'DEFAULT x' / 'MATERIALIZED x'."""
        return None if self.default is None else f"{self.default_kind} {self.default}"

    def to_sql(self) -> str:
        """The column as a CREATE TABLE column definition."""
        out = f"`{self.name}` {self.type}"
        if self.default is not None:
            out += f" {self.default_kind} {self.default}"
        if self.codec:
            out += f" CODEC({self.codec})"
        return out


@dataclass(frozen=True)
class Index:
    name: str
    expr: str
    type: str
    granularity: int | None = None

    def to_sql(self) -> str:
        g = f" GRANULARITY {self.granularity}" if self.granularity is not None else ""
        return f"INDEX {self.name} {self.expr} TYPE {self.type}{g}"


class SchemaError(ValueError):
    def __init__(self, message: str, pos: int):
        self.message = message
        self.pos = pos
        super().__init__(message)


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_NAME = re.compile(r"[A-Za-z0-9._*<>+\-']+")
_MARKERS = {"DEFAULT", "MATERIALIZED", "CODEC", "ALIAS", "TTL", "NULL", "NOT", "EPHEMERAL"}


def _strip_comments(text: str) -> str:
    """Blank out `--` comments (outside quotes), keeping offsets."""
    out = list(text)
    i, n = 0, len(text)
    quote = None
    while i < n:
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "'`\"":
            quote = c
        elif text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j == -1 else j
            for k in range(i, j):
                out[k] = " "
            i = j
            continue
        i += 1
    return "".join(out)


def _split_top(text: str, sep: str = ","):
    """Split at `sep` outside quotes and brackets -> [(start, piece)]."""
    parts, depth, quote, start, i = [], 0, None, 0, 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "'`\"":
            quote = c
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append((start, text[start:i]))
            start = i + 1
        i += 1
    if quote:
        raise SchemaError("unterminated quote", start)
    if depth != 0:
        raise SchemaError("unbalanced parentheses", start)
    parts.append((start, text[start:]))
    return parts


def _tokens(text: str):
    """Top-level tokens of one column definition: (start, end, kind) where kind is 'word',
    'json' (a backticked json: path), or 'other' (anything else, skipped)."""
    i, n, depth = 0, len(text), 0
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c in "'\"`":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise SchemaError("unterminated quote", i)
            kind = "json" if c == "`" and depth == 0 and text[i + 1:j].startswith("json:") else "other"
            yield i, j + 1, kind, depth
            i = j + 1
            continue
        if c in "([":
            depth += 1
            yield i, i + 1, "other", depth - 1
            i += 1
            continue
        if c in ")]":
            depth -= 1
            yield i, i + 1, "other", depth
            i += 1
            continue
        m = _WORD.match(text, i)
        if m:
            yield i, m.end(), "word", depth
            i = m.end()
            continue
        yield i, i + 1, "other", depth
        i += 1


def parse_schema(text: str) -> list[Column]:
    """Parse a SCHEMA block's text; raises SchemaError(message, offset)."""
    clean = _strip_comments(text)
    # drop INDEX lines
    kept = []
    for line in clean.splitlines(keepends=True):
        kept.append(" " * len(line) if line.strip().upper().startswith("INDEX ") else line)
    had_index = "".join(kept) != clean
    clean = "".join(kept)
    columns: list[Column] = []
    seen: set[str] = set()
    parts = _split_top(clean)
    for idx, (start, piece) in enumerate(parts):
        if not piece.strip():
            if idx == len(parts) - 1 and idx > 0:
                if had_index:
                    continue            # `col,` followed by skipped INDEX lines
                raise SchemaError("Syntax error: expecting a column name after the last comma, "
                                  "found the end of the SCHEMA", start)
            raise SchemaError("wrong value, please check the schema syntax (an empty column "
                              "definition: a stray comma?)", start)
        col = _parse_column(piece, start)
        if col.name in seen:
            raise SchemaError(f"duplicate column '{col.name}'", start + len(piece) - len(piece.lstrip()))
        seen.add(col.name)
        columns.append(col)
    if not columns:
        raise SchemaError("SCHEMA has no columns", 0)
    return columns


def _parse_column(piece: str, base: int) -> Column:
    lead = len(piece) - len(piece.lstrip())
    i = lead
    if piece[i] == "`":
        j = piece.find("`", i + 1)
        if j == -1:
            raise SchemaError("unterminated backticked column name", base + i)
        name = piece[i + 1:j]
        i = j + 1
    else:
        m = _BARE_NAME.match(piece, i)
        if not m:
            raise SchemaError(f"expected a column name, found '{piece[i:i + 10].strip()}'", base + i)
        name = m.group(0)
        i = m.end()
    if not name:
        raise SchemaError("empty column name", base + lead)

    rest = piece[i:]
    toks = list(_tokens(rest))
    markers = []   # (kind, start, end)
    for k, (s, e, kind, depth) in enumerate(toks):
        if depth != 0:
            continue
        if kind == "json":
            markers.append(("JSON", s, e))
        elif kind == "word" and rest[s:e].upper() in _MARKERS:
            word = rest[s:e].upper()
            if word == "NOT":
                nxt = toks[k + 1] if k + 1 < len(toks) else None
                if nxt and rest[nxt[0]:nxt[1]].upper() == "NULL":
                    markers.append(("NOT NULL", s, e))
                continue
            if word == "NULL" and markers and markers[-1][0] in ("DEFAULT", "MATERIALIZED") :
                continue            # DEFAULT NULL: part of the expression
            if word == "NULL" and markers and markers[-1][0] == "NOT NULL":
                continue
            markers.append((word, s, e))
    type_end = markers[0][1] if markers else len(rest)
    type_text = " ".join(rest[:type_end].split())
    if not type_text:
        raise SchemaError(f"column '{name}' has no type", base + i)
    if not _WORD.match(type_text):
        raise SchemaError(f"column '{name}': '{type_text}' is not a type", base + i)

    jsonpath = default = kind_ = codec = None
    seen_codec = seen_default = False
    for idx, (word, s, e) in enumerate(markers):
        end = markers[idx + 1][1] if idx + 1 < len(markers) else len(rest)
        pos = base + i + s
        if word in ("NULL", "NOT NULL"):
            raise SchemaError(f"{word} column syntax not supported (column '{name}'): use "
                              "Nullable(T)", pos)
        if word in ("ALIAS", "TTL", "EPHEMERAL"):
            text = "column TTL" if word == "TTL" else word
            raise SchemaError(f"{text} not supported (column '{name}')", pos)
        if word == "JSON":
            if jsonpath is not None:
                raise SchemaError(f"column '{name}' has two jsonpaths", pos)
            if seen_default and not seen_codec:
                raise SchemaError(f"Unexpected JSONPATH after {kind_} (column '{name}'): the "
                                  "jsonpath follows the type or the CODEC", pos)
            jsonpath = rest[s + 6:e - 1]
            if not jsonpath.startswith("$"):
                raise SchemaError(f"column '{name}': jsonpath '{jsonpath}' must start with $", pos)
            if rest[e:end].strip():
                raise SchemaError(f"column '{name}': unexpected '{rest[e:end].strip()}' after the "
                                  "jsonpath", base + i + e)
        elif word in ("DEFAULT", "MATERIALIZED"):
            if seen_codec:
                raise SchemaError(f"Unexpected {word} after CODEC (column '{name}')", pos)
            if seen_default:
                raise SchemaError(f"Unexpected {word} after {kind_} (column '{name}')", pos)
            seen_default = True
            default = rest[e:end].strip()
            kind_ = word
            if not default:
                raise SchemaError(f"column '{name}': {word} needs an expression", pos)
        elif word == "CODEC":
            seen_codec = True
            text = rest[e:end].strip()
            if not (text.startswith("(") and text.endswith(")")):
                raise SchemaError(f"column '{name}': expected CODEC(...)", pos)
            codec = text[1:-1].strip()
    if type_text.startswith("Nullable(") and kind_ == "DEFAULT" and default.upper() == "NULL":
        default = kind_ = None
    return Column(name, type_text, jsonpath, default, kind_, codec)


_INDEX_RE = re.compile(
    r"(?P<name>\S+)\s+(?P<expr>.+?)\s+TYPE\s+(?P<type>.+?)(?:\s+GRANULARITY\s+(?P<gran>\d+))?\s*$",
    re.DOTALL)
INDEX_USAGE = "invalid INDEX format. Usage: `name expr TYPE type_full GRANULARITY granularity`"


def parse_index_line(line: str) -> Index:
    text = line.strip().rstrip(",").strip()
    if text.upper().startswith("INDEX "):
        text = text[6:].strip()
    if len(re.findall(r"\bTYPE\b", text)) != 1:
        raise ValueError(INDEX_USAGE)
    m = _INDEX_RE.match(text)
    if not m:
        raise ValueError(INDEX_USAGE)
    gran = m.group("gran")
    return Index(m.group("name"), m.group("expr").strip(), m.group("type").strip(),
                 int(gran) if gran else None)
