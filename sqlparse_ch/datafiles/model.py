"""What a parsed datafile is: frozen dataclasses for data sources, pipes and projects."""
from __future__ import annotations

from dataclasses import dataclass, field

from .schema import Column, Index

ENGINES = ("MergeTree", "ReplacingMergeTree", "SummingMergeTree", "AggregatingMergeTree",
           "CollapsingMergeTree", "VersionedCollapsingMergeTree", "Null")
NODE_TYPES = ("endpoint", "materialized", "copy", "sink", "stream", "standard")


@dataclass(frozen=True)
class Token:
    name: str
    permission: str         # 'READ' | 'APPEND'

    def scope(self, kind: str, resource: str) -> str:
        """`DATASOURCES:READ:events`, `PIPES:READ:top`, ..."""
        return f"{kind}:{self.permission}:{resource}"


@dataclass(frozen=True)
class Datasource:
    name: str
    path: str = "<string>"
    description: str | None = None
    columns: tuple[Column, ...] = ()
    engine: str = "MergeTree"
    sorting_key: str | None = None
    partition_key: str | None = None
    primary_key: str | None = None
    sampling_key: str | None = None
    ttl: str | None = None
    settings: str | None = None
    ver: str | None = None
    is_deleted: str | None = None
    sign: str | None = None
    version_column: str | None = None       # ENGINE_VERSION (VersionedCollapsing)
    summing_columns: str | None = None      # ENGINE_COLUMNS (SummingMergeTree)
    indexes: tuple[Index, ...] = ()
    tokens: tuple[Token, ...] = ()
    tags: str | None = None
    shared_with: tuple[str, ...] = ()
    version: int | None = None
    forward_query: str | None = None
    extra: dict = field(default_factory=dict, compare=False)   # KAFKA_*/IMPORT_*/BACKFILL...

    @property
    def engine_args(self) -> tuple[str, ...]:
        if self.engine == "ReplacingMergeTree":
            return tuple(x for x in (self.ver, self.is_deleted) if x)
        if self.engine == "CollapsingMergeTree":
            return (self.sign,)
        if self.engine == "VersionedCollapsingMergeTree":
            return (self.sign, self.version_column)
        if self.engine == "SummingMergeTree" and self.summing_columns:
            return (self.summing_columns,)
        return ()

    @property
    def engine_full(self) -> str:
        """`ReplacingMergeTree(ver)`: the engine with its parameters."""
        return f"{self.engine}({', '.join(self.engine_args)})"

    @property
    def sorting_key_or_default(self) -> str:
        return self.sorting_key or "tuple()"

    @property
    def schema_sql(self) -> str:
        """`a String, b Int32 DEFAULT 0`: the column list for CREATE TABLE."""
        return ", ".join(c.to_sql() for c in self.columns)

    def to_create_sql(self) -> str:
        """The ClickHouse CREATE TABLE this data source describes."""
        parts = [f"CREATE TABLE `{self.name}` ({self.schema_sql}"]
        for ix in self.indexes:
            parts[0] += f", {ix.to_sql()}"
        parts[0] += ")"
        parts.append(f"ENGINE = {self.engine_full}")
        if self.engine == "Null":
            return " ".join(parts)
        if self.partition_key:
            parts.append(f"PARTITION BY ({self.partition_key})")
        parts.append(f"ORDER BY ({self.sorting_key})" if self.sorting_key else "ORDER BY tuple()")
        if self.primary_key:
            parts.append(f"PRIMARY KEY ({self.primary_key})")
        if self.sampling_key:
            parts.append(f"SAMPLE BY ({self.sampling_key})")
        if self.ttl:
            parts.append(f"TTL {self.ttl}")
        if self.settings:
            parts.append(f"SETTINGS {self.settings}")
        return " ".join(parts)


@dataclass(frozen=True)
class Node:
    name: str
    sql: str
    description: str | None = None
    type: str | None = None                 # endpoint|materialized|copy|sink|stream|standard
    datasource: str | None = None           # materialized target
    target_datasource: str | None = None    # copy target
    copy_schedule: str | None = None
    copy_mode: str | None = None
    line: int = 0                           # line of NODE
    sql_lines: tuple[int, ...] = field(default=(), compare=False)  # file line of each SQL line
    sql_indent: int = field(default=0, compare=False)   # columns removed by dedenting the SQL
    tags: str | None = None
    extra: dict = field(default_factory=dict, compare=False)      # ENGINE_*, EXPORT_*, ...

    @property
    def is_template(self) -> bool:
        return self.sql.lstrip()[:1] == "%"

    def file_line(self, sql_line: int) -> int:
        """The datafile line of line `sql_line` (1-based) of this node's SQL."""
        if 1 <= sql_line <= len(self.sql_lines):
            return self.sql_lines[sql_line - 1]
        return self.sql_lines[-1] if self.sql_lines else self.line


@dataclass(frozen=True)
class Pipe:
    name: str
    nodes: tuple[Node, ...]
    path: str = "<string>"
    description: str | None = None
    tokens: tuple[Token, ...] = ()
    tags: str | None = None
    version: int | None = None

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def endpoint_node(self) -> Node | None:
        """The node published as the API endpoint (TYPE endpoint), if any."""
        for n in self.nodes:
            if n.type == "endpoint":
                return n
        return None

    def parameters(self, upto: str | None = None) -> list:
        """The request parameters of this pipe (`ParamInfo`s from sqlparse_ch.template),
        merged over its nodes in order (up to and including node `upto`): a typed mention
        wins over an untyped one, the first typed mention over later ones."""
        from ..template import template_parameters

        def typed(p) -> bool:
            return p.used_in is None and (p.type != "String" or p.default is not None
                                          or p.required or p.description is not None)

        merged: dict = {}
        for n in self.nodes:
            for p in template_parameters(n.sql):
                old = merged.get(p.name)
                if old is None or (typed(p) and not typed(old)):
                    merged[p.name] = p
            if n.name == upto:
                break
        return list(merged.values())

    @property
    def kind(self) -> str:
        """endpoint|materialized|copy|sink|stream, or 'standard' when no node has a role."""
        for n in self.nodes:
            if n.type and n.type != "standard":
                return n.type
        return "standard"


@dataclass(frozen=True)
class Project:
    root: str
    datasources: dict = field(default_factory=dict)    # name -> Datasource
    pipes: dict = field(default_factory=dict)          # name -> Pipe
