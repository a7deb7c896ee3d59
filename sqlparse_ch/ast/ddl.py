"""DDL, DML and utility statements. Type names are kept as text (`type_name: str`), in
ClickHouse's spelling as written (`LowCardinality(String)`, `DateTime('UTC')`); the storage
layer parses them with `mergetree.types.parse_type`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .base import Node, Span
from .query import Setting, TableName

_span = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ColumnDef(Node):
    """`name [type] [NULL|NOT NULL] [DEFAULT|MATERIALIZED|ALIAS|EPHEMERAL expr] [COMMENT 'c']
    [CODEC(..)] [TTL expr]`. codec holds the codec expressions (`ZSTD(1)`, `Delta`)."""

    name: str
    type_name: str | None = None
    nullable: bool | None = None
    default_kind: str | None = None
    default: Any = None
    comment: str | None = None
    codec: tuple = ()
    ttl: Any = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class IndexDef(Node):
    """`INDEX name expr TYPE type [GRANULARITY n]`; type is an expression (`minmax`,
    `bloom_filter(0.01)`, `set(100)`)."""

    name: str
    expr: Any
    type: Any
    granularity: int | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ProjectionDef(Node):
    """`PROJECTION name (SELECT ..)`."""

    name: str
    query: Any
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ConstraintDef(Node):
    """`CONSTRAINT name CHECK|ASSUME expr`."""

    name: str
    kind: str
    expr: Any
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class TTLRule(Node):
    """One TTL element: `expr [DELETE | TO DISK 'd' | TO VOLUME 'v' | RECOMPRESS codec]
    [WHERE cond]`; action None means the default DELETE. A rollup rule
    `expr [WHERE c] GROUP BY k1, k2 [SET v = agg(v), ..]` has action 'GROUP BY' and
    target = (keys tuple, assignments tuple of (column, expr))."""

    expr: Any
    action: str | None = None
    target: Any = None
    where: Any = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Engine(Node):
    """`ENGINE = Name(args)`; has_parens tells `Memory` from `Memory()`."""

    name: str
    args: tuple = ()
    has_parens: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Storage(Node):
    """The storage clauses of CREATE TABLE / MATERIALIZED VIEW. order_by, partition_by,
    primary_key, sample_by are single expressions as written (`(a, b)` is a Tuple,
    `tuple()` a FunctionCall)."""

    engine: Engine | None = None
    partition_by: Any = None
    primary_key: Any = None
    order_by: Any = None
    sample_by: Any = None
    ttl: tuple[TTLRule, ...] = ()
    settings: tuple[Setting, ...] = ()
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class CreateTable(Node):
    name: TableName
    columns: tuple[ColumnDef, ...] = ()
    indexes: tuple[IndexDef, ...] = ()
    projections: tuple[ProjectionDef, ...] = ()
    constraints: tuple[ConstraintDef, ...] = ()
    primary_key_inline: Any = None
    storage: Storage | None = None
    if_not_exists: bool = False
    or_replace: bool = False
    temporary: bool = False
    as_table: TableName | None = None
    as_function: Any = None
    as_select: Any = None
    comment: str | None = None
    cluster: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class CreateView(Node):
    """`CREATE [OR REPLACE] [MATERIALIZED] VIEW [IF NOT EXISTS] name [TO target]
    [(columns)] [ENGINE ..] [POPULATE] AS query`."""

    name: TableName
    query: Any
    materialized: bool = False
    if_not_exists: bool = False
    or_replace: bool = False
    to_table: TableName | None = None
    columns: tuple[ColumnDef, ...] = ()
    storage: Storage | None = None
    populate: bool = False
    comment: str | None = None
    cluster: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class CreateDatabase(Node):
    name: str
    if_not_exists: bool = False
    engine: Engine | None = None
    cluster: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Drop(Node):
    """kind: 'TABLE', 'VIEW', 'DATABASE', 'DICTIONARY'."""

    kind: str
    name: TableName
    if_exists: bool = False
    temporary: bool = False
    sync: bool = False
    cluster: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Truncate(Node):
    name: TableName
    if_exists: bool = False
    cluster: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Rename(Node):
    """`RENAME TABLE a TO b, c TO d`; pairs of (old, new) TableNames."""

    pairs: tuple
    kind: str = "TABLE"
    cluster: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Exchange(Node):
    """`EXCHANGE TABLES a AND b`."""

    left: TableName
    right: TableName
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Insert(Node):
    """`INSERT INTO t [(cols)] [SETTINGS ..] VALUES (..), .. | query | FORMAT Name <data>`.

    values: tuple of row tuples of expressions; data: the raw inline text after
    `FORMAT Name` (starting after the single whitespace that ends the format name),
    or None."""

    table: Any
    columns: tuple[str, ...] = ()
    values: tuple = ()
    query: Any = None
    format: str | None = None
    data: str | None = None
    settings: tuple[Setting, ...] = ()
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class AlterDelete(Node):
    """`DELETE [IN PARTITION p] WHERE cond`."""

    where: Any
    partition: "PartitionSpec | None" = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class AlterUpdate(Node):
    """`UPDATE c = e, .. [IN PARTITION p] WHERE cond`; assignments is a tuple of (column, expr)."""

    assignments: tuple
    where: Any
    partition: "PartitionSpec | None" = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class AddColumn(Node):
    column: ColumnDef
    if_not_exists: bool = False
    after: str | None = None
    first: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class DropColumn(Node):
    name: str
    if_exists: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ModifyColumn(Node):
    column: ColumnDef
    if_exists: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class RenameColumn(Node):
    old: str
    new: str
    if_exists: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class PartitionSpec(Node):
    """`PARTITION expr` or `PARTITION ID 'id'` (expr None, id set)."""

    expr: Any = None
    id: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class DropPartition(Node):
    partition: PartitionSpec
    detach: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class AttachPartition(Node):
    """`ATTACH PARTITION p [FROM t]`."""

    partition: PartitionSpec
    from_table: TableName | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ClearColumn(Node):
    """`CLEAR COLUMN c [IN PARTITION p]`."""

    name: str
    partition: PartitionSpec | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class CommentColumn(Node):
    """`COMMENT COLUMN c 'text'`."""

    name: str
    comment: str
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class MaterializeTTL(Node):
    """`MATERIALIZE TTL [IN PARTITION p]`."""

    partition: "PartitionSpec | None" = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class MaterializeColumn(Node):
    """`MATERIALIZE COLUMN c [IN PARTITION p]`."""

    name: str
    partition: "PartitionSpec | None" = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ModifyTTL(Node):
    ttl: tuple[TTLRule, ...]
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class RemoveTTL(Node):
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ModifyOrderBy(Node):
    expr: Any
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ModifySetting(Node):
    settings: tuple[Setting, ...]
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class AddIndex(Node):
    index: IndexDef
    if_not_exists: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class DropIndex(Node):
    name: str
    if_exists: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class MaterializeIndex(Node):
    name: str
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Alter(Node):
    """`ALTER TABLE t cmd, cmd .. [SETTINGS name = value, ..]`."""

    table: TableName
    commands: tuple
    cluster: str | None = None
    span: Span | None = _span
    settings: tuple = ()        # of query.Setting: this statement's settings (mutations_sync, ...)


@dataclass(frozen=True, slots=True)
class Delete(Node):
    """Lightweight `DELETE FROM t [IN PARTITION p] WHERE cond [SETTINGS name = value, ..]`."""

    table: TableName
    where: Any
    partition: PartitionSpec | None = None
    cluster: str | None = None
    span: Span | None = _span
    settings: tuple = ()


@dataclass(frozen=True, slots=True)
class Optimize(Node):
    table: TableName
    partition: PartitionSpec | None = None
    final: bool = False
    deduplicate: bool = False
    deduplicate_by: tuple = ()
    cluster: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Set(Node):
    settings: tuple[Setting, ...]
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Use(Node):
    database: str
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Show(Node):
    """what: 'TABLES', 'DATABASES', 'DICTIONARIES', 'CREATE TABLE', 'CREATE VIEW',
    'CREATE DATABASE', 'COLUMNS', 'PROCESSLIST', 'SETTINGS'. name is a TableName for SHOW CREATE / COLUMNS; from_ the database
    of SHOW TABLES."""

    what: str
    name: TableName | None = None
    from_: str | None = None
    like: str | None = None
    not_like: bool = False
    ilike: bool = False
    limit: Any = None
    format: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Describe(Node):
    """`DESCRIBE [TABLE] t` (table is a TableName, a table FunctionCall or a Subquery)."""

    table: Any
    format: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ExistsStatement(Node):
    """`EXISTS [TEMPORARY] [TABLE|DATABASE|VIEW|DICTIONARY] name`."""

    kind: str
    name: TableName
    format: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Explain(Node):
    """`EXPLAIN [AST|SYNTAX|PLAN|PIPELINE|ESTIMATE|QUERY TREE] [setting = v, ..] statement`."""

    statement: Any
    kind: str | None = None
    settings: tuple[Setting, ...] = ()
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class System(Node):
    """`SYSTEM START|STOP MERGES [t]`, `SYSTEM FLUSH LOGS`, ... action is upper-case words."""

    action: str
    table: TableName | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Kill(Node):
    """`KILL QUERY|MUTATION WHERE cond [SYNC|ASYNC|TEST]`."""

    kind: str
    where: Any
    mode: str | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class CheckTable(Node):
    """`CHECK TABLE t [PARTITION p]`."""

    name: TableName
    partition: PartitionSpec | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class AttachDetach(Node):
    """`DETACH TABLE|VIEW|DICTIONARY [IF EXISTS] t [PERMANENTLY] [SYNC]` /
    `ATTACH TABLE|VIEW|DICTIONARY [IF NOT EXISTS] t`; action is 'ATTACH' or 'DETACH'."""

    action: str
    kind: str
    name: TableName
    if_exists: bool = False
    permanently: bool = False
    sync: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class AddProjection(Node):
    projection: ProjectionDef
    if_not_exists: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class DropProjection(Node):
    name: str
    if_exists: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class MaterializeProjection(Node):
    name: str
    partition: PartitionSpec | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class Freeze(Node):
    """`FREEZE [PARTITION p]`."""

    partition: PartitionSpec | None = None
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class MovePartition(Node):
    """`MOVE PARTITION p TO TABLE t`."""

    partition: PartitionSpec
    to_table: TableName
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ReplacePartition(Node):
    """`REPLACE PARTITION p FROM t`."""

    partition: PartitionSpec
    from_table: TableName
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class ModifyColumnRemove(Node):
    """`MODIFY COLUMN c REMOVE DEFAULT|MATERIALIZED|ALIAS|CODEC|COMMENT|TTL`."""

    name: str
    what: str
    if_exists: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class CreateFunction(Node):
    """`CREATE FUNCTION name AS (x, y) -> expr` (body is the Lambda)."""

    name: str
    body: Any
    if_not_exists: bool = False
    span: Span | None = _span


@dataclass(frozen=True, slots=True)
class DropFunction(Node):
    name: str
    if_exists: bool = False
    span: Span | None = _span
