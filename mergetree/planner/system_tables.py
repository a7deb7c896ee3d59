"""system.one / system.tables / system.columns / system.parts as in-memory blocks (a subset of
ClickHouse's columns, same names and types)."""

from __future__ import annotations

from mergetree import types as T
from mergetree.column import Block, column_from_values
from mergetree.errors import UnknownTableError

DATABASE = "default"


def _block(columns: list[tuple[str, str, list]]) -> Block:
    return Block({name: column_from_values(T.parse_type(t), values) for name, t, values in columns})


def _tables(db) -> Block:
    names = db.tables()
    metas = [db.table(n).metadata for n in names]
    registry = getattr(db, "views", None)          # materialized views (mergetree/views.py)
    views = registry.all() if registry is not None else []
    deps = [registry.dependencies(n) if registry is not None else [] for n in names] + [[] for _ in views]
    n_views = len(views)
    return _block([
        ("database", "String", [DATABASE] * (len(names) + n_views)),
        ("name", "String", names + [v.name for v in views]),
        ("engine", "String", [m.engine_name for m in metas] + ["MaterializedView"] * n_views),
        ("sorting_key", "String", [", ".join(m.order_by) for m in metas] + [""] * n_views),
        ("partition_key", "String", [", ".join(m.partition_by) for m in metas] + [""] * n_views),
        ("total_rows", "Nullable(UInt64)", [db.table(n).count() for n in names] + [None] * n_views),
        ("dependencies_database", "Array(String)", [[DATABASE] * len(d) for d in deps]),
        ("dependencies_table", "Array(String)", deps),
        ("as_select", "String", [""] * len(names) + [v.query for v in views]),
        ("target_table", "String", [""] * len(names) + [v.target for v in views]),
    ])


def _columns(db) -> Block:
    rows = []
    for name in db.tables():
        m = db.table(name).metadata
        for pos, c in enumerate(m.columns, 1):
            rows.append((DATABASE, name, c.name, c.type.name, pos, c.default_kind or "", c.default or "",
                         getattr(c, "comment", None) or ""))
    cols = list(zip(*rows)) if rows else [[]] * 8
    return _block([
        ("database", "String", list(cols[0])), ("table", "String", list(cols[1])),
        ("name", "String", list(cols[2])), ("type", "String", list(cols[3])),
        ("position", "UInt64", list(cols[4])), ("default_kind", "String", list(cols[5])),
        ("default_expression", "String", list(cols[6])), ("comment", "String", list(cols[7])),
    ])


def _parts(db) -> Block:
    rows = [(name, p) for name in db.tables() for p in db.table(name).parts()]
    get = lambda key: [p[key] for _, p in rows]  # noqa: E731
    return _block([
        ("database", "String", [DATABASE] * len(rows)), ("table", "String", [n for n, _ in rows]),
        ("name", "String", get("name")), ("partition", "String", get("partition")),
        ("partition_id", "String", get("partition_id")), ("rows", "UInt64", get("rows")),
        ("marks", "UInt64", get("marks")), ("bytes_on_disk", "UInt64", get("bytes_on_disk")),
        ("level", "UInt32", get("level")), ("min_block_number", "Int64", get("min_block_number")),
        ("max_block_number", "Int64", get("max_block_number")), ("active", "UInt8", [int(a) for a in get("active")]),
    ])


SYSTEM_TABLES = {"tables": _tables, "columns": _columns, "parts": _parts}


def system_table(db, name: str) -> Block:
    build = SYSTEM_TABLES.get(name)
    if build is None:
        raise UnknownTableError(f"Table system.{name} does not exist (supported: one, numbers via numbers(n), "
                                f"{', '.join(sorted(SYSTEM_TABLES))})")
    return build(db)
