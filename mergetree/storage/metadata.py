"""Table metadata: what `CREATE TABLE` said, parsed once and persisted next to the parts.

A table directory holds one ``metadata.json`` written atomically (tmp file, fsync, rename,
fsync of the directory), the same role as ClickHouse's ``metadata/<db>/<table>.sql``:

1. ``columns``: name, type (canonical ClickHouse spelling), optional ``DEFAULT`` /
   ``MATERIALIZED`` expression text and ``CODEC(...)`` text, in table order.
2. ``engine``: the engine text, e.g. ``ReplacingMergeTree(version)``; split into a name and
   argument texts by :func:`parse_engine`.
3. ``order_by`` / ``primary_key`` / ``partition_by``: lists of expression texts (the members
   of the key tuple); ``ttl``: the table TTL text or null.
4. ``settings``: the MergeTree settings that differ from :data:`DEFAULT_SETTINGS`.

Expressions are stored as text and parsed with ``sqlparse_ch.parse_expr`` on load (the
texts are what a student reads in the JSON; the ASTs are what the engine evaluates).

ALTER TABLE ... ADD/DROP/RENAME/MODIFY/COMMENT COLUMN (``storage/alter.py``) writes a new
``metadata.json`` the same atomic way with ``version`` + 1 (ClickHouse's ``metadata_version``): a
new :class:`TableMetadata` object replaces the table's, so anything cached per metadata object or
version sees the change. A renamed column remembers its ``former`` names: parts written before the
RENAME still store it under an old name.

MATERIALIZED columns are always computed on insert (``database._complete_block``; naming one in an
INSERT is ILLEGAL_COLUMN) and left out of ``SELECT *`` (``planner._star_hidden``), as in ClickHouse.
Simplification against ClickHouse: no ALIAS / EPHEMERAL columns. Unknown settings are an error, as in ClickHouse.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

from mergetree.errors import BadArgumentsError, UnknownColumnError

METADATA_FILE = "metadata.json"
FORMAT_VERSION = 1

ENGINES = ("MergeTree", "ReplacingMergeTree", "SummingMergeTree", "CollapsingMergeTree",
           "VersionedCollapsingMergeTree", "AggregatingMergeTree")

# MergeTree settings understood by this engine, with their defaults.
#
# parts_to_delay_insert / parts_to_throw_insert: we use ClickHouse's pre-23.6 defaults (150 / 300)
# rather than today's 1000 / 3000: our merges run in Python on one background thread, and a
# partition of 1000 small parts is already slow to read, so we push back earlier.
DEFAULT_SETTINGS: dict[str, Any] = {
    "index_granularity": 8192,
    "parts_to_delay_insert": 150,
    "parts_to_throw_insert": 300,
    "max_delay_to_insert": 1.0,          # seconds, at parts_to_throw_insert
    "min_delay_to_insert_ms": 10,
    "optimize_on_insert": True,          # apply the engine's merging rule inside one insert block
    "merge_selector_base": 5.0,
    "max_parts_to_merge_at_once": 100,
    "max_bytes_to_merge_at_max_space_in_pool": 150 * 1024 ** 3,
    "min_age_to_force_merge_seconds": 0.0,
    "old_parts_lifetime": 0.0,           # seconds an outdated part is kept after its last reader (chDB: 0)
    "merge_with_ttl_timeout": 14400.0,   # seconds between TTL merges of a table (fully expired parts: always)
    "ttl_only_drop_parts": False,
    "verify_checksums_on_open": True,    # re-hash every file at startup (ClickHouse only compares sizes)
}
# Selector tuning knobs accepted as well (see merge_selector.MergeSelectorSettings).
_SELECTOR_SETTINGS = ("size_fixed_cost_to_add", "min_parts_to_lower_base", "max_parts_to_lower_base",
                      "min_age_to_lower_base_at_min_size", "max_age_to_lower_base_at_min_size",
                      "window_size", "max_bytes_to_merge")

_KEYWORDS = ("DEFAULT", "MATERIALIZED", "ALIAS", "EPHEMERAL", "CODEC", "TTL", "COMMENT")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --------------------------------------------------------------------------- text helpers

def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside parentheses, brackets and quotes; strip the pieces."""
    pieces, depth, quote, start, i = [], 0, None, 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            pieces.append(text[start:i].strip())
            start = i + 1
        i += 1
    last = text[start:].strip()
    if last or pieces:
        pieces.append(last)
    return pieces


def _find_keyword(text: str, keyword: str) -> int:
    """Position of ``keyword`` as a whole word at depth 0 outside quotes, or -1."""
    depth, quote = 0, None
    upper = text.upper()
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and upper.startswith(keyword, i):
            before = text[i - 1] if i else " "
            after = text[i + len(keyword)] if i + len(keyword) < len(text) else " "
            if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
                return i
    return -1


def _strip_outer_parens(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        inner = text[1:-1]
        if len(split_top_level(inner, sep="\0")) != 1 or _unbalanced(inner):
            break
        text = inner.strip()
    return text


def _unbalanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return True
    return depth != 0


def parse_key(text: str | list | tuple | None) -> list[str]:
    """Key expression text -> list of member texts.

    ``"timestamp, user_id"``, ``"(timestamp, user_id)"`` -> ``['timestamp', 'user_id']``;
    ``"tuple()"`` or None -> ``[]``; a list is taken as already split.
    """
    if text is None:
        return []
    if isinstance(text, (list, tuple)):
        return [str(t).strip() for t in text]
    text = text.strip()
    if not text or re.fullmatch(r"tuple\s*\(\s*\)", text, re.IGNORECASE):
        return []
    return [p for p in split_top_level(_strip_outer_parens(text)) if p]


def parse_engine(text: str) -> tuple[str, list[str]]:
    """``"ReplacingMergeTree(ver, is_deleted)"`` -> ``("ReplacingMergeTree", ["ver", "is_deleted"])``."""
    text = (text or "MergeTree").strip()
    m = re.fullmatch(r"([A-Za-z]+)\s*(?:\((.*)\))?", text, re.DOTALL)
    if not m or m.group(1) not in ENGINES:
        raise BadArgumentsError(f"Unknown table engine {text!r}; supported: {', '.join(ENGINES)}")
    args = split_top_level(m.group(2)) if m.group(2) and m.group(2).strip() else []
    return m.group(1), args


# --------------------------------------------------------------------------- columns

@dataclass(frozen=True)
class ColumnDef:
    """One column of the table: ``name Type [DEFAULT|MATERIALIZED expr] [CODEC(...)]``."""

    name: str
    type: Any                        # mergetree.types.DataType
    default_kind: str | None = None  # 'DEFAULT' | 'MATERIALIZED' | None
    default: str | None = None       # expression text
    codec: str | None = None         # e.g. 'ZSTD(3)' or 'Delta, LZ4' (inside CODEC(...))
    comment: str | None = None       # COMMENT 'text'
    former: tuple = ()               # names this column had before RENAME COLUMN (oldest first)

    def to_json(self) -> dict:
        out = {"name": self.name, "type": str(self.type)}
        if self.default_kind:
            out["default_kind"], out["default"] = self.default_kind, self.default
        if self.codec:
            out["codec"] = self.codec
        if self.comment:
            out["comment"] = self.comment
        if self.former:
            out["former"] = list(self.former)
        return out

    @classmethod
    def from_json(cls, d: Mapping) -> "ColumnDef":
        from mergetree.types import parse_type
        return cls(d["name"], parse_type(d["type"]), d.get("default_kind"), d.get("default"), d.get("codec"),
                   d.get("comment"), tuple(d.get("former", ())))


def parse_column_def(text: str) -> ColumnDef:
    """Parse ``"ts DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(3))"``."""
    from mergetree.types import parse_type

    text = text.strip()
    if text.startswith("`"):
        end = text.index("`", 1)
        name, rest = text[1:end], text[end + 1:]
    else:
        pieces = text.split(None, 1)
        if len(pieces) != 2:
            raise BadArgumentsError(f"Column definition {text!r} needs a name and a type")
        name, rest = pieces
    # Cut `rest` at the first top-level keyword.
    cuts = sorted((pos, kw) for kw in _KEYWORDS if (pos := _find_keyword(rest, kw)) >= 0)
    type_text = rest[:cuts[0][0]] if cuts else rest
    clauses: dict[str, str] = {}
    for (pos, kw), nxt in zip(cuts, cuts[1:] + [(len(rest), None)]):
        clauses[kw] = rest[pos + len(kw):nxt[0]].strip()
    default_kind = default = codec = comment = None
    if clauses.get("COMMENT"):
        c = clauses["COMMENT"]
        if len(c) >= 2 and c[0] == c[-1] == "'":
            comment = c[1:-1].replace("\\'", "'").replace("''", "'")
    for kw in ("DEFAULT", "MATERIALIZED"):
        if kw in clauses:
            default_kind, default = kw, clauses[kw]
    if "ALIAS" in clauses or "EPHEMERAL" in clauses:
        raise BadArgumentsError(f"Column {name!r}: ALIAS and EPHEMERAL columns are not supported")
    if "CODEC" in clauses:
        codec = _strip_outer_parens(clauses["CODEC"])
    return ColumnDef(name, parse_type(type_text.strip()), default_kind, default, codec, comment)


def parse_schema(schema: str | Mapping | list) -> list[ColumnDef]:
    """A schema as text (``"a UInt32, b String"``), a dict name -> type, or a list of pairs."""
    from mergetree.types import parse_type

    if isinstance(schema, str):
        cols = [parse_column_def(p) for p in split_top_level(schema) if p]
    elif isinstance(schema, Mapping):
        cols = [ColumnDef(n, parse_type(t) if isinstance(t, str) else t) for n, t in schema.items()]
    else:
        cols = [c if isinstance(c, ColumnDef) else
                ColumnDef(c[0], parse_type(c[1]) if isinstance(c[1], str) else c[1]) for c in schema]
    if not cols:
        raise BadArgumentsError("A table needs at least one column")
    seen = set()
    for c in cols:
        if c.name in seen:
            raise BadArgumentsError(f"Column {c.name!r} is declared twice")
        seen.add(c.name)
    return cols


# --------------------------------------------------------------------------- settings

def validate_settings(settings: Mapping | None) -> dict:
    """User settings merged over the defaults; an unknown name is an error (as in ClickHouse)."""
    out = dict(DEFAULT_SETTINGS)
    for k, v in (settings or {}).items():
        if k in DEFAULT_SETTINGS:
            default = DEFAULT_SETTINGS[k]
            out[k] = bool(v) if isinstance(default, bool) else type(default)(v)
        elif k in _SELECTOR_SETTINGS:
            out[k] = v
        else:
            raise BadArgumentsError(f"Unknown MergeTree setting {k!r}; known: "
                                    f"{', '.join(sorted(DEFAULT_SETTINGS) + list(_SELECTOR_SETTINGS))}")
    if out["index_granularity"] < 1:
        raise BadArgumentsError("Setting index_granularity must be >= 1")
    if not 0 < out["parts_to_delay_insert"] <= out["parts_to_throw_insert"]:
        raise BadArgumentsError("Settings need 0 < parts_to_delay_insert <= parts_to_throw_insert")
    return out


# --------------------------------------------------------------------------- the metadata object

@dataclass
class TableMetadata:
    """Everything `CREATE TABLE` said about one table. Expression ASTs are parsed lazily."""

    name: str
    columns: list[ColumnDef]
    engine: str = "MergeTree"
    order_by: list[str] = field(default_factory=list)
    partition_by: list[str] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    ttl: str | None = None
    settings: dict = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    version: int = 0                 # + 1 per ALTER of the columns (ClickHouse's metadata_version)

    # ---- construction

    @classmethod
    def create(cls, name: str, *, schema, engine: str = "MergeTree", order_by=None, partition_by=None,
               primary_key=None, ttl: str | None = None, settings: Mapping | None = None) -> "TableMetadata":
        """Validate the `create_table` arguments (the CREATE TABLE statement's clauses)."""
        if not _NAME_RE.match(name or ""):
            raise BadArgumentsError(f"Invalid table name {name!r}: use letters, digits and '_'")
        columns = parse_schema(schema)
        parse_engine(engine)
        order = parse_key(order_by)
        pk = parse_key(primary_key) if primary_key is not None else list(order)
        if pk != order[:len(pk)]:
            raise BadArgumentsError(f"Primary key ({', '.join(pk)}) must be a prefix of the sorting key "
                                    f"({', '.join(order)})")
        meta = cls(name, columns, engine.strip() if engine else "MergeTree", order, parse_key(partition_by),
                   pk, ttl.strip() if ttl else None, validate_settings(settings))
        meta.validate_expressions()
        return meta

    def validate_expressions(self) -> None:
        """Parse every expression and check it only references known columns."""
        known = set(self.column_names)
        exprs = [("ORDER BY", a) for a in self.sorting_key_asts] + \
                [("PARTITION BY", a) for a in self.partition_key_asts]
        if self.ttl_ast is not None:
            exprs.append(("TTL", self.ttl_ast))
        for what, ast in exprs:
            for col in referenced_columns(ast):
                if col not in known:
                    raise UnknownColumnError(f"{what} expression references unknown column {col!r} "
                                             f"in table {self.name}")
        _, args = parse_engine(self.engine)
        for a in args:
            if _NAME_RE.match(a) and a not in known:
                raise UnknownColumnError(f"Engine {self.engine} references unknown column {a!r}")

    # ---- derived views

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def schema(self) -> list[tuple[str, Any]]:
        """[(name, DataType)] as convert.rows_to_block expects (SimpleAggregateFunction(f, T) is
        stored and read as T; ``declared_schema`` keeps the declared types)."""
        return [(c.name, getattr(c.type, "storage_type", c.type)) for c in self.columns]

    @property
    def declared_schema(self) -> list[tuple[str, Any]]:
        return [(c.name, c.type) for c in self.columns]

    def column(self, name: str) -> ColumnDef:
        for c in self.columns:
            if c.name == name:
                return c
        raise UnknownColumnError(f"There is no column {name!r} in table {self.name}")

    @property
    def engine_name(self) -> str:
        return parse_engine(self.engine)[0]

    @property
    def engine_args(self) -> list[str]:
        return parse_engine(self.engine)[1]

    @property
    def codecs(self) -> dict[str, str]:
        """Column -> codec text as write_part takes it (``CODEC(Delta, ZSTD(3))``)."""
        return {c.name: f"CODEC({c.codec})" for c in self.columns if c.codec}

    @cached_property
    def sorting_key_asts(self) -> list:
        return [parse_expression(t) for t in self.order_by]

    @cached_property
    def primary_key_asts(self) -> list:
        return [parse_expression(t) for t in self.primary_key]

    @cached_property
    def partition_key_asts(self) -> list:
        return [parse_expression(t) for t in self.partition_by]

    @cached_property
    def ttl_ast(self):
        if not self.ttl:
            return None
        text = self.ttl
        pos = _find_keyword(text, "DELETE")
        return parse_expression(text[:pos] if pos >= 0 else text)

    @cached_property
    def default_asts(self) -> dict:
        return {c.name: parse_expression(c.default) for c in self.columns if c.default}

    @property
    def partition_columns(self) -> list[str]:
        """Columns the partition key reads (their min/max go into each part's minmax index)."""
        out: list[str] = []
        for ast in self.partition_key_asts:
            for c in referenced_columns(ast):
                if c not in out:
                    out.append(c)
        return out

    # ---- persistence

    def to_json(self) -> dict:
        changed = {k: v for k, v in self.settings.items() if DEFAULT_SETTINGS.get(k, object()) != v}
        return {"format_version": FORMAT_VERSION, "name": self.name,
                "columns": [c.to_json() for c in self.columns], "engine": self.engine,
                "order_by": self.order_by, "partition_by": self.partition_by,
                "primary_key": self.primary_key, "ttl": self.ttl, "settings": changed, "version": self.version}

    @classmethod
    def from_json(cls, d: Mapping) -> "TableMetadata":
        if d.get("format_version") != FORMAT_VERSION:
            raise BadArgumentsError(f"Unsupported metadata format_version {d.get('format_version')!r}")
        return cls(d["name"], [ColumnDef.from_json(c) for c in d["columns"]], d["engine"],
                   list(d["order_by"]), list(d["partition_by"]), list(d["primary_key"]), d.get("ttl"),
                   validate_settings(d.get("settings")), int(d.get("version", 0)))

    def save(self, table_dir: Path) -> None:
        """Write ``metadata.json`` atomically: tmp file + fsync, rename, fsync the directory."""
        data = json.dumps(self.to_json(), indent=2).encode() + b"\n"
        atomic_write(Path(table_dir) / METADATA_FILE, data)

    @classmethod
    def load(cls, table_dir: Path) -> "TableMetadata":
        with open(Path(table_dir) / METADATA_FILE, "rb") as f:
            return cls.from_json(json.loads(f.read()))


# --------------------------------------------------------------------------- small shared helpers

def parse_expression(text: str):
    import sqlparse_ch
    return sqlparse_ch.parse_expr(text)


def referenced_columns(ast) -> list[str]:
    """Names of the columns an expression AST reads (Identifier nodes), in first-seen order."""
    import dataclasses

    out: list[str] = []

    def walk(node):
        if node is None:
            return
        if isinstance(node, (list, tuple)):
            for x in node:
                walk(x)
            return
        if not dataclasses.is_dataclass(node):
            return
        if type(node).__name__ == "Identifier":
            if node.name not in out:
                out.append(node.name)
            return
        for f in dataclasses.fields(node):
            if f.name != "span":
                walk(getattr(node, f.name))

    walk(ast)
    return out


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
