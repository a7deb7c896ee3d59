"""SQL entry point: ``execute(db, text, params=None, settings=None, data=None) -> Result``.

The life of a query:
1. `sqlparse_ch.parse(text)` -> statement AST (Select, Insert, CreateTable ...).
2. `execute` dispatches on the statement class (`_STATEMENTS`).
3. A SELECT: `planner.plan_select` binds names (planner/binder.py), builds the logical plan
   (planner/planner.py, nodes in planner/logical.py) and runs the optimizer rules
   (planner/optimizer/), then `exec.executor.run` streams Blocks through one operator per plan
   node (exec/scan.py reads each part's granules selected by the KeyCondition, PREWHERE first).
4. The columns become a `Result`; `Result.format(name)` writes ClickHouse's output formats
   (mergetree/formats/).
DDL and DML statements call the Database API (create_table, insert, drop_table, delete, ...).
"""

from __future__ import annotations

import functools
import time
import weakref

from sqlparse_ch import format_sql, parse
from sqlparse_ch.ast import ddl as D
from sqlparse_ch.ast import expr as E
from sqlparse_ch.ast import query as Q

from mergetree import types as T
from mergetree.column import Block, column_from_values
from mergetree.errors import BadArgumentsError, NotImplementedSQLError
from mergetree.result import Result


#: settings changed by SET, per database object (a connection's session settings)
_SESSION_SETTINGS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def session_settings(db) -> dict:
    """The settings SET has stored for `db` (persist for the life of the Database object)."""
    try:
        return _SESSION_SETTINGS.setdefault(db, {})
    except TypeError:      # not weak-referenceable: no persistence
        return {}


#: statements up to this many characters are parsed once (the AST is immutable): a repeated query,
#: a benchmark loop or a dashboard refresh skips the parser (~1-3 ms of lark per statement)
PARSE_CACHE_MAX_CHARS = 4096


@functools.lru_cache(maxsize=512)
def _parse_cached(text: str):
    return parse(text)


def _parse(text: str):
    return _parse_cached(text) if len(text) <= PARSE_CACHE_MAX_CHARS else parse(text)


def execute(db, text: str, params: dict | None = None, settings: dict | None = None, data=None,
            row_policies: dict | None = None, cancel=None) -> Result:
    """Run one SQL statement against `db` (a mergetree Database).

    ``row_policies`` ({table: condition}) filters every read of those tables (planner/row_policy.py).
    ``cancel`` (threading.Event) cancels the statement when set; ``max_execution_time`` and
    ``max_memory_usage`` bound it (exec/context.py)."""
    if row_policies:
        from mergetree.planner.row_policy import applied

        with applied(row_policies):
            return execute(db, text, params, settings, data, cancel=cancel)
    started = time.perf_counter()
    stmt = _parse(text) if isinstance(text, str) else text
    handler = _STATEMENTS.get(type(stmt))
    if handler is None:
        raise NotImplementedSQLError(f"{type(stmt).__name__} statements are not supported yet")
    merged = {**session_settings(db), **(settings or {})}
    inner = stmt.statement if isinstance(stmt, D.Explain) else stmt
    if not isinstance(stmt, D.Set):
        for s in (getattr(inner, "settings", ()) or ()):   # SELECT ... SETTINGS name = value
            merged[s.name] = _setting_value(s.value)
    from mergetree.exec.context import query_scope

    with query_scope(merged, cancel):
        result = handler(db, stmt, params or {}, merged, data)
    result.statistics["elapsed"] = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- SELECT


def _select(db, q, params, settings, data) -> Result:
    from mergetree.exec.context import ExecutionContext
    from mergetree.exec.executor import run
    from mergetree.planner.planner import plan_select

    if q.format is not None:       # an unknown FORMAT fails before the query runs, as in ClickHouse
        from mergetree.formats import canonical

        canonical(q.format)
    plan = plan_select(db, q, params, settings.get("optimizer_disabled_rules", ()), settings=settings)
    ctx = ExecutionContext(settings)
    schema, columns, ctx = run(plan, ctx)
    has_limit = isinstance(q, Q.Select) and (q.limit is not None)
    result = Result(schema, columns, statistics=ctx.statistics(), format_name=q.format,
                    rows_before_limit=ctx.rows_before_limit if has_limit else None)
    from mergetree.exec.totals import attach    # WITH TOTALS row, extremes = 1

    attach(result, plan, ctx, settings)
    return result


def explain_plan(db, text: str, params: dict | None = None, disabled_rules=()) -> str:
    """The optimized logical plan of a SELECT as an indented tree."""
    from mergetree.planner.logical import explain
    from mergetree.planner.planner import plan_select

    return explain(plan_select(db, parse(text), params, disabled_rules))


# --------------------------------------------------------------------------- DDL


def _expr_text(e) -> str | None:
    return None if e is None else format_sql(e)


def _create_table(db, s: D.CreateTable, params, settings, data) -> Result:
    if s.as_select is not None or s.as_table is not None or s.as_function is not None:
        raise NotImplementedSQLError("CREATE TABLE ... AS is not supported yet")
    cols = [_column_text(c) for c in s.columns]
    db.create_table(s.name.name, ", ".join(cols), if_not_exists=s.if_not_exists, **_storage_options(s.storage))
    return Result.empty()


def _storage_options(st) -> dict:
    """ENGINE / ORDER BY / PARTITION BY / PRIMARY KEY / TTL / SETTINGS as Database.create_table arguments."""
    st = st or D.Storage()
    engine = "MergeTree"
    if st.engine is not None:
        engine = st.engine.name
        if st.engine.args:
            engine += "(" + ", ".join(format_sql(a) for a in st.engine.args) + ")"
    ttl = ", ".join(format_sql(r.expr) for r in st.ttl) if st.ttl else None
    table_settings = {x.name: (x.value.value if isinstance(x.value, E.Literal) else x.value) for x in st.settings}
    return dict(engine=engine, order_by=_expr_text(st.order_by), partition_by=_expr_text(st.partition_by),
                primary_key=_expr_text(st.primary_key), ttl=ttl, settings=table_settings or None)


def _create_view(db, s: D.CreateView, params, settings, data) -> Result:
    if not s.materialized:
        raise NotImplementedSQLError("CREATE VIEW (not materialized) is not supported yet")
    if s.to_table is None:      # ClickHouse's inner table (here `_inner_<view>`), created from the SELECT's columns
        if s.storage is None or s.storage.engine is None:
            raise BadArgumentsError(f"CREATE MATERIALIZED VIEW {s.name.name} needs TO <table> or an ENGINE "
                                    f"for its inner table")
        if s.if_not_exists and s.name.name in db.views:
            return Result.empty()
        from mergetree.views import inner_table_name, result_schema

        if s.columns:
            schema = ", ".join(f"`{c.name}` {f'Nullable({c.type_name})' if c.nullable else c.type_name}"
                               for c in s.columns)
        else:
            schema = ", ".join(f"`{n}` {t}" for n, t in result_schema(db, s.query))
        inner = inner_table_name(s.name.name)
        db.create_table(inner, schema, **_storage_options(s.storage))
        try:
            db.views.create(s.name.name, inner, format_sql(s.query), populate=s.populate,
                            if_not_exists=s.if_not_exists, or_replace=s.or_replace, inner=True)
        except BaseException:
            db.drop_table(inner, if_exists=True)
            raise
        return Result.empty()
    db.create_materialized_view(s.name.name, s.to_table.name, format_sql(s.query), populate=s.populate,
                                if_not_exists=s.if_not_exists, or_replace=s.or_replace)
    return Result.empty()


def _drop(db, s: D.Drop, params, settings, data) -> Result:
    if s.kind == "VIEW":
        db.drop_view(s.name.name, if_exists=s.if_exists)
        return Result.empty()
    if s.kind != "TABLE":
        raise NotImplementedSQLError(f"DROP {s.kind} is not supported yet")
    db.drop_table(s.name.name, if_exists=s.if_exists)
    return Result.empty()


def _truncate(db, s: D.Truncate, params, settings, data) -> Result:
    if s.if_exists and s.name.name not in db.tables():
        return Result.empty()
    db.truncate(s.name.name)
    return Result.empty()


def _optimize(db, s: D.Optimize, params, settings, data) -> Result:
    partition = None
    if s.partition is not None:
        partition = s.partition.id if s.partition.id is not None else format_sql(s.partition.expr)
    db.optimize(s.name.name if hasattr(s, "name") else s.table.name, final=s.final, partition=partition)
    return Result.empty()


# --------------------------------------------------------------------------- DML


def _bind_params(e, params):
    from mergetree.planner.binder import substitute_params

    return substitute_params(e, params)


def _insert(db, s: D.Insert, params, settings, data) -> Result:
    table = db.table(s.table.name)
    schema = dict(table.metadata.schema)
    names = _insert_columns(table, s.columns)
    if s.values:
        from mergetree.exec.expression import evaluate_constant

        columns = {n: [] for n in names}
        for r, row in enumerate(s.values):
            if len(row) != len(names):
                raise BadArgumentsError(f"INSERT row {r} has {len(row)} values, expected {len(names)} ({', '.join(names)})")
            for n, e in zip(names, row):
                columns[n].append(e.value if isinstance(e, E.Literal) else
                                  evaluate_constant(_bind_params(e, params))[0])
        db.insert(s.table.name, columns)
        return Result.empty()
    if s.query is not None:
        from mergetree.exec.cast import cast_column

        res = _select(db, s.query, params, settings, None)
        if len(res.schema) != len(names):
            raise BadArgumentsError(f"INSERT SELECT returns {len(res.schema)} columns, expected {len(names)}")
        db.insert(s.table.name, Block({n: cast_column(c, schema[n]) for n, c in zip(names, res.column_data)}))
        return Result.empty()
    fmt = s.format or "Values"
    payload = data if data is not None else s.data
    if payload is None:
        raise BadArgumentsError(f"INSERT ... FORMAT {fmt} needs data (the `data` argument or inline rows)")
    from mergetree.formats.input import TEXT_INPUTS, parse_text_input

    if fmt in TEXT_INPUTS:
        db.insert(s.table.name, parse_text_input(fmt, payload, names))
        return Result.empty()
    if fmt not in ("JSONEachRow", "NDJSON", "JSONLines"):
        raise NotImplementedSQLError(f"INSERT FORMAT {fmt} is not supported yet "
                                     f"(JSONEachRow, CSV, CSVWithNames, TSV, TSVWithNames are)")
    db.insert(s.table.name, payload.encode() if isinstance(payload, str) else payload)
    return Result.empty()


def _insert_columns(table, named) -> list[str]:
    """The columns an INSERT fills: the ones it names, else the table's columns but the MATERIALIZED
    ones, which are always computed (ClickHouse: naming one is ILLEGAL_COLUMN); the rest get their
    DEFAULT (Database.insert)."""
    if not named:
        return [c.name for c in table.metadata.columns if c.default_kind != "MATERIALIZED"]
    from mergetree.errors import IllegalColumnError, UnknownColumnError

    kinds = {c.name: c.default_kind for c in table.metadata.columns}
    for n in named:
        if n not in kinds:
            raise UnknownColumnError(f"No such column {n} in table {table.name}")
        if kinds[n] == "MATERIALIZED":
            raise IllegalColumnError(f"Cannot insert column {n}, because it is MATERIALIZED column.")
    return list(named)


def _delete(db, s: D.Delete, params, settings, data) -> Result:
    db.delete(s.table.name, _bind_params(s.where, params))
    return Result.empty()


def _alter(db, s: D.Alter, params, settings, data) -> Result:
    batch = []          # consecutive column commands apply together, all or none (as in ClickHouse)
    for cmd in s.commands:
        change = _column_change(cmd)
        if change is not None:
            batch.append(change)
            continue
        if batch:
            db.alter_columns(s.table.name, batch)
            batch = []
        if isinstance(cmd, D.AlterDelete):
            db.alter_delete(s.table.name, format_sql(_bind_params(cmd.where, params)))
        elif isinstance(cmd, D.AlterUpdate):
            db.alter_update(s.table.name, {c: format_sql(_bind_params(e, params)) for c, e in cmd.assignments},
                            format_sql(_bind_params(cmd.where, params)))
        elif isinstance(cmd, D.MaterializeColumn) and cmd.partition is None:
            db.alter_materialize_column(s.table.name, cmd.name)
        else:
            raise NotImplementedSQLError(f"ALTER TABLE ... {type(cmd).__name__} is not supported yet")
    if batch:
        db.alter_columns(s.table.name, batch)
    return Result.empty()


def _column_change(cmd):
    """An ALTER column command as Database.alter_columns takes it, or None (DELETE, UPDATE, ...)."""
    if isinstance(cmd, D.AddColumn):
        return ("add_column", (_column_text(cmd.column),),
                {"if_not_exists": cmd.if_not_exists, "after": cmd.after, "first": cmd.first})
    if isinstance(cmd, D.DropColumn):
        return ("drop_column", (cmd.name,), {"if_exists": cmd.if_exists})
    if isinstance(cmd, D.RenameColumn):
        return ("rename_column", (cmd.old, cmd.new), {"if_exists": cmd.if_exists})
    if isinstance(cmd, D.ModifyColumn):
        return ("modify_column", (_column_text(cmd.column),), {"if_exists": cmd.if_exists})
    if isinstance(cmd, D.CommentColumn):
        return ("comment_column", (cmd.name, cmd.comment), {})
    if isinstance(cmd, D.ModifyColumnRemove) and str(cmd.what).upper() == "DEFAULT":
        return ("remove_default", (cmd.name,), {})
    if isinstance(cmd, D.ModifyTTL):        # metadata-only: the next merges apply it
        return ("modify_ttl", (", ".join(format_sql(r.expr) for r in cmd.ttl),), {})
    if isinstance(cmd, D.RemoveTTL):
        return ("modify_ttl", (None,), {})
    return None


def _rename(db, s: D.Rename, params, settings, data) -> Result:
    if s.kind != "TABLE":
        raise NotImplementedSQLError(f"RENAME {s.kind} is not supported yet")
    for old, new in s.pairs:
        db.rename_table(old.name, new.name)
    return Result.empty()


def _exchange(db, s: D.Exchange, params, settings, data) -> Result:
    db.exchange_tables(s.left.name, s.right.name)
    return Result.empty()


def _column_text(c: D.ColumnDef) -> str:
    """A column definition as Database.create_table / alter_* take it (the type is optional in ALTER
    MODIFY COLUMN)."""
    from sqlparse_ch.literals import quote_string

    text = f"`{c.name}`"
    if c.type_name is not None:
        text += f" Nullable({c.type_name})" if c.nullable else f" {c.type_name}"
    if c.default_kind is not None:
        text += f" {c.default_kind} {format_sql(c.default)}"
    if c.comment is not None:
        text += f" COMMENT {quote_string(c.comment)}"
    if c.codec:
        text += f" CODEC({', '.join(format_sql(x) for x in c.codec)})"
    return text


# --------------------------------------------------------------------------- SET / EXPLAIN / EXISTS


def _setting_value(v):
    return v.value if isinstance(v, E.Literal) else format_sql(v)


def _set(db, s: D.Set, params, settings, data) -> Result:
    store = session_settings(db)
    for x in s.settings:
        store[x.name] = _setting_value(x.value)
    return Result.empty()


def _explain(db, s: D.Explain, params, settings, data) -> Result:
    from mergetree.planner.logical import explain
    from mergetree.planner.planner import plan_select

    if s.kind not in (None, "PLAN") or not isinstance(s.statement, (Q.Select, Q.SetOperation)):
        raise NotImplementedSQLError("Only EXPLAIN [PLAN] SELECT is supported")
    text = explain(plan_select(db, s.statement, params, settings.get("optimizer_disabled_rules", ()), settings=settings))
    return _rows_result([_strings("explain", text.splitlines())], None)


def _exists(db, s: D.ExistsStatement, params, settings, data) -> Result:
    if s.name.database == "system":
        from mergetree.planner.system_tables import SYSTEM_TABLES

        found = s.name.name in SYSTEM_TABLES or s.name.name == "one"
    else:
        found = s.name.name in db.tables()
    return _rows_result([("result", T.UInt8, column_from_values(T.UInt8, [int(found)]))], s.format)


# --------------------------------------------------------------------------- SHOW / DESCRIBE


def _strings(name: str, values: list[str]):
    return name, T.String, column_from_values(T.String, values)


def _rows_result(cols, fmt) -> Result:
    return Result([(n, t) for n, t, _ in cols], [c for _, _, c in cols], format_name=fmt)


def _show(db, s: D.Show, params, settings, data) -> Result:
    if s.what == "CREATE TABLE" and s.name is not None:
        from mergetree.storage.alter import show_create

        return _rows_result([_strings("statement", [show_create(db.table(s.name.name).metadata)])], s.format)
    if s.what != "TABLES":
        raise NotImplementedSQLError(f"SHOW {s.what} is not supported yet")
    names = db.tables()
    if s.like is not None:
        import re

        pattern = "^" + re.escape(s.like).replace("%", ".*").replace("_", ".") + "$"
        flags = re.IGNORECASE if s.ilike else 0
        names = [n for n in names if bool(re.match(pattern, n, flags)) != s.not_like]
    return _rows_result([_strings("name", names)], s.format)


def _describe(db, s: D.Describe, params, settings, data) -> Result:
    if not isinstance(s.table, Q.TableName):
        raise NotImplementedSQLError("DESCRIBE of a table function or subquery is not supported yet")
    cols = db.table(s.table.name).metadata.columns
    n = len(cols)
    kinds = [(c.default_kind or "") if getattr(c, "default", None) else "" for c in cols]
    return _rows_result([
        _strings("name", [c.name for c in cols]),
        _strings("type", [c.type.name for c in cols]),
        _strings("default_type", kinds),
        _strings("default_expression", [str(c.default or "") for c in cols]),
        _strings("comment", [getattr(c, "comment", None) or "" for c in cols]),
        _strings("codec_expression", [c.codec or "" for c in cols]),
        _strings("ttl_expression", [""] * n),
    ], s.format)


_STATEMENTS = {
    Q.Select: _select,
    Q.SetOperation: _select,
    D.CreateTable: _create_table,
    D.CreateView: _create_view,
    D.Drop: _drop,
    D.Truncate: _truncate,
    D.Optimize: _optimize,
    D.Insert: _insert,
    D.Delete: _delete,
    D.Alter: _alter,
    D.Rename: _rename,
    D.Exchange: _exchange,
    D.Show: _show,
    D.Describe: _describe,
    D.Set: _set,
    D.Explain: _explain,
    D.ExistsStatement: _exists,
}
