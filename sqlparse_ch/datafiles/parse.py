"""`.datasource` and `.pipe` text -> `Datasource` / `Pipe` (TINYBIRD.md B.2, B.4).

Each file kind has a keyword table (keyword -> what it sets, and whether it may or must be
a `KEYWORD >` block). `lines.split_commands` applies the line rules; this module applies
the keywords in order and validates the result (engine parameters, node roles, node
names, templates). Every error is a `DatafileError` naming file, line and what was
expected; Tinybird's texts are used where Tinybird has one (`X is not a valid option`,
`SETTINGS option is not allowed, use ENGINE_SETTINGS instead...`, `Missing node name ...`).
"""
from __future__ import annotations

import os
import re
import string
from pathlib import Path

from .lines import Command, DatafileError, block_text, split_commands, unquote
from .model import ENGINES, NODE_TYPES, Datasource, Node, Pipe, Token
from .schema import SchemaError, parse_index_line, parse_schema

SETTINGS_NOT_ALLOWED = ("SETTINGS option is not allowed, use ENGINE_SETTINGS instead. See "
                        "https://www.tinybird.co/docs/cli/datafiles#data-source for more information.")

# keyword -> (field, block) where block is 'no' (single line only), 'yes' (must be a block),
# 'any'. Field names starting with '_' are handled specially.
_ENGINE_KEYS = {
    "ENGINE": ("engine", "no"),
    "ENGINE_SORTING_KEY": ("sorting_key", "no"), "SORTING_KEY": ("sorting_key", "no"),
    "ENGINE_PARTITION_KEY": ("partition_key", "no"), "PARTITION_KEY": ("partition_key", "no"),
    "ENGINE_PRIMARY_KEY": ("primary_key", "no"), "PRIMARY_KEY": ("primary_key", "no"),
    "ENGINE_SAMPLING_KEY": ("sampling_key", "no"), "SAMPLING_KEY": ("sampling_key", "no"),
    "ENGINE_TTL": ("ttl", "no"), "TTL": ("ttl", "no"),
    "ENGINE_SETTINGS": ("settings", "no"),
    "ENGINE_VER": ("ver", "no"), "ENGINE_IS_DELETED": ("is_deleted", "no"),
    "ENGINE_SIGN": ("sign", "no"), "ENGINE_VERSION": ("version_column", "no"),
    "ENGINE_COLUMNS": ("summing_columns", "no"),
}
_COMMON_KEYS = {
    "DESCRIPTION": ("_description", "any"),
    "TOKEN": ("_token", "no"),
    "TAGS": ("tags", "no"),
    "VERSION": ("_version", "no"),
    "INCLUDE": ("_include", "no"),
}
DATASOURCE_KEYS = {
    **_COMMON_KEYS, **_ENGINE_KEYS,
    "SCHEMA": ("_schema", "yes"),
    "INDEXES": ("_indexes", "yes"), "INDICES": ("_indexes", "yes"),
    "SHARED_WITH": ("_shared_with", "any"),
    "FORWARD_QUERY": ("_forward_query", "yes"),
    "BACKFILL": ("_extra", "no"),
}
PIPE_KEYS = {
    **_COMMON_KEYS,
    "NODE": ("_node", "no"),
    "SQL": ("_sql", "yes"),
    "TYPE": ("type", "no"),
    "DATASOURCE": ("datasource", "no"),
    "TARGET_DATASOURCE": ("target_datasource", "no"),
    "COPY_SCHEDULE": ("copy_schedule", "no"),
    "COPY_MODE": ("copy_mode", "no"), "MODE": ("copy_mode", "no"),
    "ON_DEMAND_COMPUTE": ("_extra", "no"),
    "DEPLOYMENT_METHOD": ("_extra", "no"),
    "RESOURCE": ("_extra", "no"), "FILTER": ("_extra", "no"),
    **{k: ("_extra", "no") for k in _ENGINE_KEYS},    # Classic: MV node creates its target
}
_PREFIX_KEYS = {"datasource": ("KAFKA_", "IMPORT_", "PG_"), "pipe": ("EXPORT_",)}
_MULTILINE_PREFIX_KEYS = {"KAFKA_SSL_CA_PEM"}

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COLUMN_REF = re.compile(r"`?([^`]+)`?")


def _lookup(keyword: str, table: dict, kind: str):
    if keyword in table:
        return table[keyword]
    if keyword.startswith(_PREFIX_KEYS[kind]):
        return ("_extra", "any" if keyword in _MULTILINE_PREFIX_KEYS else "no")
    return None


# Keywords that end a block. Tinybird has one table for every file kind, so a pipe keyword
# ends a block in a datasource file too (and is then reported as invalid there).
_BLOCK_END = frozenset({k.lower() for k in DATASOURCE_KEYS} | {k.lower() for k in PIPE_KEYS}
                       | {"from", "source", "maintainer", "scope", "settings"})
_BLOCK_END_PREFIXES = tuple(p.lower() for prefixes in _PREFIX_KEYS.values() for p in prefixes)


def _expand(text: str, filename: str, depth: int = 0) -> str:
    """Apply Classic `INCLUDE "file.incl" "K=V"` lines (textual, relative to the file)."""
    if "include" not in text.lower():
        return text
    out = []
    base = Path(filename).parent
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped.upper().startswith("INCLUDE ") and not line.startswith((" ", "\t")):
            from .lines import split_line
            tokens = [unquote(t) for t in split_line(line)[1:]]
            if not tokens:
                raise DatafileError("INCLUDE needs a file name", filename=filename, line=number)
            path = base / tokens[0]
            try:
                attrs = dict(t.split("=", 1) for t in tokens[1:])
            except ValueError:
                raise DatafileError("INCLUDE attributes must be KEY=value", filename=filename,
                                    line=number)
            if depth > 8:
                raise DatafileError("INCLUDE nesting too deep", filename=filename, line=number)
            try:
                included = path.read_text()
            except OSError:
                raise DatafileError(f"included file '{tokens[0]}' not found", filename=filename,
                                    line=number)
            included = string.Template(included).safe_substitute(attrs)
            out.append(_expand(included, str(path), depth + 1))
            if not out[-1].endswith("\n"):
                out.append("\n")
        else:
            out.append(line)
    return "".join(out)


class _Builder:
    """Applies commands in order; collects fields for the file and the current node."""

    def __init__(self, kind: str, name: str, filename: str, env):
        self.kind = kind
        self.name = name
        self.filename = filename
        self.env = env
        self.fields: dict = {}
        self.extra: dict = {}
        self.tokens: list[Token] = []
        self.nodes: list[dict] = []
        self.node: dict | None = None

    def error(self, message: str, cmd: Command | None = None, line: int | None = None,
              column: int | None = None):
        raise DatafileError(message, filename=self.filename,
                            line=line if line is not None else (cmd.line if cmd else None),
                            column=column)

    def value(self, cmd: Command) -> str:
        v = cmd.value
        if self.env is not None:
            v = string.Template(v).safe_substitute(self.env)
        return v

    def target(self) -> dict:
        return self.node if self.node is not None else self.fields

    def apply(self, cmd: Command, table: dict):
        kw = cmd.keyword
        if kw == "SETTINGS":
            self.error(SETTINGS_NOT_ALLOWED, cmd)
        spec = _lookup(kw, table, self.kind)
        if spec is None:
            self.error(f"{kw} is not a valid option", cmd)
        field_name, block = spec
        if block == "no" and cmd.block is not None:
            self.error(f"{kw} does not support multiline arguments", cmd)
        if block == "yes" and cmd.block is None:
            self.error(f"{kw} must be multiline: write '{kw} >' and the text on the next "
                       "lines, indented", cmd)
        handler = getattr(self, "on" + field_name, None) if field_name.startswith("_") else None
        if handler is not None:
            handler(cmd)
            return
        if not cmd.args:
            self.error(f"{kw} needs a value", cmd)
        self.target()[field_name] = (self.value(cmd), cmd.line)

    # -- special keywords ---------------------------------------------------------
    def on_extra(self, cmd: Command):
        value = block_text(cmd) if cmd.block is not None else self.value(cmd)
        self.target().setdefault("_extra", {})[cmd.keyword.lower()] = value

    def on_description(self, cmd: Command):
        text = block_text(cmd) if cmd.block is not None else cmd.value
        self.target()["description"] = (text, cmd.line)

    def on_token(self, cmd: Command):
        if len(cmd.args) < 2:
            self.error('TOKEN gets two params, token name and permissions e.g TOKEN "read api '
                       'token" READ', cmd)
        perm = cmd.args[1].upper()
        allowed = ("READ", "APPEND") if self.kind == "datasource" else ("READ",)
        if perm not in allowed:
            self.error(f"TOKEN permission must be {' or '.join(allowed)} in a {self.kind} file, "
                       f"got '{cmd.args[1]}'", cmd)
        self.tokens.append(Token(cmd.args[0], perm))

    def on_version(self, cmd: Command):
        try:
            v = int(cmd.value)
            if v < 0:
                raise ValueError
        except ValueError:
            self.error("version must be a positive integer e.g VERSION 2", cmd)
        self.fields["version"] = (v, cmd.line)

    def on_include(self, cmd: Command):
        self.error("INCLUDE must start the line (no indentation)", cmd)

    def on_shared_with(self, cmd: Command):
        raw = cmd.block if cmd.block is not None else cmd.value
        names = [w.strip() for part in raw.splitlines() for w in part.split(",") if w.strip()]
        self.fields["shared_with"] = (tuple(names), cmd.line)

    def on_forward_query(self, cmd: Command):
        self.fields["forward_query"] = (block_text(cmd, sql=True), cmd.line)

    def on_schema(self, cmd: Command):
        text = block_text(cmd)
        # block_text dedents; positions map through the kept lines
        try:
            cols = parse_schema(text)
        except SchemaError as e:
            line, col = _position(text, e.pos, cmd, dedented=True)
            self.error(f"error parsing schema: {e.message}", line=line, column=col)
        self.fields["columns"] = (tuple(cols), cmd.line)

    def on_indexes(self, cmd: Command):
        out = []
        for raw_line, number in zip((cmd.block or "").splitlines(), cmd.block_lines):
            if not raw_line.strip():
                continue
            try:
                out.append(parse_index_line(raw_line))
            except ValueError as e:
                self.error(f"error parsing indexes: {e}", line=number)
        self.fields["indexes"] = (tuple(out), cmd.line)

    def on_node(self, cmd: Command):
        if not cmd.args:
            self.error("Missing node name for pipe creation after the NODE label", cmd)
        name = self.value(cmd)
        if not _NAME_RE.fullmatch(name):
            self.error(f"invalid node name '{name}': use letters, digits and _ (not starting "
                       "with a digit)", cmd)
        self.node = {"name": (name, cmd.line)}
        self.nodes.append(self.node)

    def on_sql(self, cmd: Command):
        if self.node is None:
            self.error("SQL must be called after a NODE command", cmd)
        sql = block_text(cmd, sql=True)
        self.node["sql"] = (sql, cmd.line)
        self.node["sql_lines"] = cmd.block_lines
        first_raw = (cmd.block or "").splitlines()[0] if cmd.block else ""
        first = sql.splitlines()[0] if sql else ""
        self.node["sql_indent"] = max(0, len(first_raw.rstrip()) - len(first.rstrip()))


def _position(text: str, pos: int, cmd: Command, dedented: bool) -> tuple[int, int]:
    """Map an offset in a block's (dedented) text to a file line and column."""
    before = text[:pos]
    k = before.count("\n")
    col_in_text = pos - (before.rfind("\n") + 1)
    line = cmd.block_lines[k] if k < len(cmd.block_lines) else cmd.line
    raw_lines = (cmd.block or "").splitlines()
    indent = 0
    if k < len(raw_lines) and dedented:
        text_lines = text.splitlines()
        if k < len(text_lines):
            indent = len(raw_lines[k]) - len(text_lines[k]) if raw_lines[k].endswith(text_lines[k]) else 0
    return line, col_in_text + indent + 1


def _name_from(filename: str, name: str | None, suffix: str) -> str:
    if name:
        return name
    base = os.path.basename(filename)
    return base[: -len(suffix)] if base.endswith(suffix) else base


def _check_name(name: str, filename: str, what: str):
    if not _NAME_RE.fullmatch(name):
        raise DatafileError(f"invalid {what} name '{name}': use letters, digits and _ (not "
                            "starting with a digit)", filename=filename, line=1)


def parse_datasource(text: str, *, name: str | None = None, filename: str = "<string>",
                     env=None) -> Datasource:
    """Parse `.datasource` text. `env` (a mapping) enables Classic `$VAR` substitution in
    single-line values."""
    name = _name_from(filename, name, ".datasource")
    _check_name(name, filename, "data source")
    text = _expand(text, filename)
    b = _Builder("datasource", name, filename, env)
    for cmd in split_commands(text, _BLOCK_END, filename, _BLOCK_END_PREFIXES):
        b.apply(cmd, DATASOURCE_KEYS)
    f = {k: v for k, v in b.fields.items()}
    values = {k: v[0] for k, v in f.items() if k != "_extra"}
    extra = f.get("_extra", {})
    columns = values.get("columns", ())
    if "columns" not in values:
        raise DatafileError("SCHEMA is missing: a data source needs 'SCHEMA >' with its columns",
                            filename=filename, line=1)
    engine_text, engine_line = f.get("engine", ("MergeTree", 1))
    engine = _canonical_engine(engine_text)
    if engine is None:
        raise DatafileError(f"unknown ENGINE '{engine_text}': expected one of {', '.join(ENGINES)}",
                            filename=filename, line=engine_line)
    values["engine"] = engine
    names = {c.name for c in columns}

    def need_column(key: str, label: str):
        if key in f:
            ref, line = f[key]
            m = _COLUMN_REF.fullmatch(ref.strip())
            if not m or m.group(1) not in names:
                raise DatafileError(f"{label} '{ref}' is not a column of the SCHEMA",
                                    filename=filename, line=line)
            values[key] = m.group(1)

    need_column("ver", "ENGINE_VER")
    need_column("is_deleted", "ENGINE_IS_DELETED")
    need_column("sign", "ENGINE_SIGN")
    need_column("version_column", "ENGINE_VERSION")
    sk = values.get("sorting_key")
    if engine in ("ReplacingMergeTree", "CollapsingMergeTree", "VersionedCollapsingMergeTree") \
            and (not sk or sk.replace(" ", "") == "tuple()"):
        raise DatafileError(f"SORTING_KEY must be defined for the {engine} engine",
                            filename=filename, line=engine_line)
    for key, label in (("sign", "ENGINE_SIGN"), ("version_column", "ENGINE_VERSION")):
        required_by = {"sign": ("CollapsingMergeTree", "VersionedCollapsingMergeTree"),
                       "version_column": ("VersionedCollapsingMergeTree",)}[key]
        if engine in required_by and not values.get(key):
            raise DatafileError(f"{label} is required by the {engine} engine", filename=filename,
                                line=engine_line)
    for key in ("ver", "is_deleted", "sign", "version_column", "summing_columns"):
        allowed = {"ver": ("ReplacingMergeTree",), "is_deleted": ("ReplacingMergeTree",),
                   "sign": ("CollapsingMergeTree", "VersionedCollapsingMergeTree"),
                   "version_column": ("VersionedCollapsingMergeTree",),
                   "summing_columns": ("SummingMergeTree",)}[key]
        if values.get(key) and engine not in allowed:
            label = {"ver": "ENGINE_VER", "is_deleted": "ENGINE_IS_DELETED", "sign": "ENGINE_SIGN",
                     "version_column": "ENGINE_VERSION", "summing_columns": "ENGINE_COLUMNS"}[key]
            raise DatafileError(f"{label} is not a parameter of the {engine} engine",
                                filename=filename, line=f[key][1])
    _check_keys(values, f, columns, filename)
    if values.get("is_deleted") and not values.get("ver"):
        raise DatafileError("ENGINE_IS_DELETED needs ENGINE_VER", filename=filename,
                            line=f["is_deleted"][1])
    return Datasource(name=name, path=filename, tokens=tuple(b.tokens), extra=extra, **values)


_KEY_LABELS = {"sorting_key": "ENGINE_SORTING_KEY", "partition_key": "ENGINE_PARTITION_KEY",
               "primary_key": "ENGINE_PRIMARY_KEY", "sampling_key": "ENGINE_SAMPLING_KEY"}


def _check_keys(values: dict, f: dict, columns, filename: str) -> None:
    """Keys must parse as expressions over the schema's columns; the sorting and primary
    keys may not use Nullable or AggregateFunction columns (ClickHouse refuses them)."""
    from ..errors import ParseError
    from ..parser import parse_expr

    types = {c.name: c.type for c in columns}
    nullable_ok = "allow_nullable_key=1" in (values.get("settings") or "").replace(" ", "").lower()
    for key, label in _KEY_LABELS.items():
        text = values.get(key)
        if not text or "->" in text:
            continue
        line = f[key][1]
        try:
            tree = parse_expr(f"({text})")
        except ParseError as e:
            raise DatafileError(f"{label} '{text}' is not a valid expression: {e.message}",
                                filename=filename, line=line) from None
        for name in _identifiers(tree):
            if name not in types:
                raise DatafileError(f"{label} uses '{name}', which is not a column of the SCHEMA",
                                    filename=filename, line=line)
            refused = ("AggregateFunction(",) if nullable_ok else ("Nullable(", "AggregateFunction(")
            if key in ("sorting_key", "primary_key") and types[name].startswith(refused):
                raise DatafileError(f"{label} cannot use the {types[name]} column '{name}'",
                                    filename=filename, line=line)


def _identifiers(node):
    """Column names referenced by an expression AST (qualified names joined with '.')."""
    import dataclasses

    from ..ast.expr import Identifier

    if isinstance(node, Identifier):
        yield f"{node.table}.{node.name}" if node.table else node.name
        return
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _identifiers(item)
    elif dataclasses.is_dataclass(node):
        for fld in dataclasses.fields(node):
            if fld.name != "span":
                yield from _identifiers(getattr(node, fld.name))


def _canonical_engine(text: str) -> str | None:
    t = text.strip()
    if t.endswith("()"):
        t = t[:-2]
    for e in ENGINES:
        if e.lower() == t.lower():
            return e
    return None


_TEMPLATE_START = ("In order to make a query dynamic, it is necessary to start the query with a "
                   "% character.")


def parse_pipe(text: str, *, name: str | None = None, filename: str = "<string>",
               env=None, check_templates: bool = True) -> Pipe:
    """Parse `.pipe` text. With `check_templates`, templated node SQL is parsed too (errors
    point at the file line of the template mistake)."""
    name = _name_from(filename, name, ".pipe")
    _check_name(name, filename, "pipe")
    text = _expand(text, filename)
    b = _Builder("pipe", name, filename, env)
    for cmd in split_commands(text, _BLOCK_END, filename, _BLOCK_END_PREFIXES):
        if b.node is None and cmd.keyword in ("TYPE", "DATASOURCE", "TARGET_DATASOURCE",
                                               "COPY_SCHEDULE", "COPY_MODE", "MODE"):
            raise DatafileError(f"{cmd.keyword} must be called after a NODE command",
                                filename=filename, line=cmd.line)
        b.apply(cmd, PIPE_KEYS)
    if not b.nodes:
        raise DatafileError("a pipe needs at least one NODE with its SQL", filename=filename,
                            line=1)
    nodes = []
    seen: dict[str, int] = {}
    roles = []
    for raw in b.nodes:
        node_name, node_line = raw["name"]
        if node_name == name:
            raise DatafileError(f"node '{node_name}' has the same name as the pipe; use another "
                                "node name", filename=filename, line=node_line)
        if node_name in seen:
            raise DatafileError(f"duplicate node '{node_name}' (first at line {seen[node_name]})",
                                filename=filename, line=node_line)
        seen[node_name] = node_line
        if "sql" not in raw:
            raise DatafileError(f'error parsing node "{node_name}" from pipe "{name}": Empty query',
                                filename=filename, line=node_line)
        sql, sql_line = raw["sql"]
        if not sql.strip() or sql.strip() == "%":
            raise DatafileError(f'error parsing node "{node_name}" from pipe "{name}": Empty query',
                                filename=filename, line=sql_line)
        vals = {k: v[0] for k, v in raw.items()
                if k not in ("name", "sql", "sql_lines", "sql_indent", "_extra")}
        node_type = vals.get("type")
        if node_type is not None:
            node_type = node_type.lower()
            if node_type not in NODE_TYPES:
                raise DatafileError(f"TYPE must be one of {'|'.join(NODE_TYPES)}, got "
                                    f"'{vals['type']}'", filename=filename, line=raw["type"][1])
            vals["type"] = node_type
            if node_type != "standard":
                roles.append((node_name, node_type, raw["type"][1]))
        if node_type == "materialized" and not vals.get("datasource"):
            raise DatafileError("Missing datasource name for pipe creation after the DATASOURCE "
                                f"label: node '{node_name}' is materialized and needs "
                                "'DATASOURCE target'", filename=filename, line=raw["type"][1])
        if node_type == "copy" and not vals.get("target_datasource"):
            raise DatafileError(f"node '{node_name}' is a copy node and needs "
                                "'TARGET_DATASOURCE target'", filename=filename,
                                line=raw["type"][1])
        if vals.get("copy_mode") is not None:
            mode = vals["copy_mode"].lower()
            if mode not in ("append", "replace"):
                raise DatafileError(f"COPY_MODE must be append or replace, got '{vals['copy_mode']}'",
                                    filename=filename, line=raw["copy_mode"][1])
            vals["copy_mode"] = mode
        node = Node(name=node_name, sql=sql, line=node_line, sql_lines=raw.get("sql_lines", ()),
                    sql_indent=raw.get("sql_indent", 0), extra=raw.get("_extra", {}), **vals)
        if check_templates:
            _check_node_sql(node, name, filename)
        nodes.append(node)
    if len(roles) > 1:
        first, second = roles[0], roles[1]
        raise DatafileError(f"a pipe can have only one node with a TYPE other than standard: "
                            f"'{first[0]}' is {first[1]} and '{second[0]}' is {second[1]}",
                            filename=filename, line=second[2])
    desc = b.fields.get("description", (None, 0))[0]
    return Pipe(name=name, nodes=tuple(nodes), path=filename, description=desc,
                tokens=tuple(b.tokens), tags=b.fields.get("tags", (None, 0))[0],
                version=b.fields.get("version", (None, 0))[0])


def _check_node_sql(node: Node, pipe: str, filename: str) -> None:
    from ..template import TemplateError, parse_template, strip_template_marker

    if not node.is_template:
        for marker in ("{{", "{%"):
            if marker in node.sql:
                k = node.sql[: node.sql.index(marker)].count("\n") + 1
                raise DatafileError(f"error parsing node \"{node.name}\" from pipe \"{pipe}\": "
                                    + _TEMPLATE_START, filename=filename, line=node.file_line(k))
        return
    try:
        parse_template(strip_template_marker(node.sql))
    except TemplateError as e:
        line = node.file_line(e.line) if e.line else node.line
        raise DatafileError(f"error parsing node \"{node.name}\" from pipe \"{pipe}\": {e}",
                            filename=filename, line=line) from None
