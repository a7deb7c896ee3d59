"""Tree -> AST for statements (callbacks of statements.lark) and the full transformer."""
from __future__ import annotations

from lark import Token

from .ast import ddl
from .ast.expr import Identifier, Lambda, Subquery, Tuple
from .ast.query import Select, SetOperation, Setting
from .literals import unquote_string
from .transform_expr import ExprTransformer, TransformError, _none, join_spans, span_of
from .transform_query import QueryTransformer, _query_of


def _add_settings(node, settings):
    """`.. FORMAT f SETTINGS ..`: the settings go to the last SELECT, where the printer's
    `SETTINGS .. FORMAT f` order puts them back."""
    if isinstance(node, Select):
        fields = {f: getattr(node, f) for f in Select.__dataclass_fields__}
        fields["settings"] = node.settings + settings
        return Select(**fields)
    return SetOperation(node.op, node.left, _add_settings(node.right, settings), node.format,
                        node.span)


def _with_format(node, fmt):
    if fmt is None:
        return node
    if isinstance(node, Select):
        return Select(**{f: getattr(node, f) for f in Select.__dataclass_fields__ if f != "format"},
                      format=fmt)
    return SetOperation(node.op, node.left, node.right, fmt, node.span)


class _Cluster:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


def _cluster(c):
    return next((x.name for x in c if isinstance(x, _Cluster)), None)


def _trailing_format(c):
    last = c[-1]
    if isinstance(last, str) and not isinstance(last, Token):
        return last
    return None


class StatementTransformer:
    """Callbacks for statements.lark."""

    def stmt_single(self, c):
        return c[0]

    def stmt_script(self, c):
        return c  # statements and SEMI tokens; parse_many computes spans

    def expr_single(self, c):
        return c[0]

    def query_stmt(self, c):
        return _with_format(c[0], c[1] if len(c) > 1 else None)

    # ---- CREATE ----
    o_or_replace = o_temporary = o_if_not_exists = o_table_elements = o_storage = _none
    o_comment = o_materialized = o_view_to = o_populate = _none

    o_cluster = _none

    def cluster_clause(self, c):
        return _Cluster(str(c[2]))

    def or_replace(self, c):
        return True

    def if_not_exists(self, c):
        return True

    if_exists = if_not_exists

    def comment_clause(self, c):
        return unquote_string(c[1])

    def create_table(self, c):
        (create, or_replace, temporary, _table, if_not_exists, name, cluster, elements, rest,
         comment) = c
        fields = dict(name=name, if_not_exists=bool(if_not_exists), or_replace=bool(or_replace),
                      temporary=bool(temporary), comment=comment,
                      cluster=cluster.name if cluster else None)
        if elements:
            fields.update(self._elements(elements))
        fields.update(rest)
        return ddl.CreateTable(**fields, span=join_spans(create, name))

    def _elements(self, elements):
        out = {"columns": [], "indexes": [], "projections": [], "constraints": []}
        pk = None
        for e in elements:
            if isinstance(e, ddl.ColumnDef):
                out["columns"].append(e)
            elif isinstance(e, ddl.IndexDef):
                out["indexes"].append(e)
            elif isinstance(e, ddl.ProjectionDef):
                out["projections"].append(e)
            elif isinstance(e, ddl.ConstraintDef):
                out["constraints"].append(e)
            else:
                pk = e[1]
        fields = {k: tuple(v) for k, v in out.items()}
        fields["primary_key_inline"] = pk
        return fields

    def rest_none(self, c):
        return {}

    def rest_as_table(self, c):
        return {"as_table": c[1], "storage": c[2]}

    def rest_as_function(self, c):
        return {"as_function": c[1], "storage": c[2]}

    def rest_as_select(self, c):
        return {"as_select": c[1]}

    def rest_storage(self, c):
        return {"storage": c[0]}

    def rest_storage_select(self, c):
        return {"storage": c[0], "as_select": c[2]}

    def table_elements(self, c):
        return tuple(c)

    def index_def(self, c):
        gran = c[5] if len(c) > 5 else None
        return ddl.IndexDef(str(c[1]), c[2], c[4], gran, span_of(c[0]))

    def granularity(self, c):
        return int(c[1])

    def projection_def(self, c):
        return ddl.ProjectionDef(str(c[1]), _query_of(c[2]), span_of(c[0]))

    def constraint_def(self, c):
        return ddl.ConstraintDef(str(c[1]), c[2], c[3], span_of(c[0]))

    def constraint_kind(self, c):
        return str(c[0]).upper()

    def inline_primary_key(self, c):
        return ("primary_key", c[2])

    def column_def(self, c):
        name = c[0]
        fields = {}
        for part in c[1:]:
            if isinstance(part, str):
                fields["type_name"] = part
                continue
            key, value = part
            if key in fields:
                raise TransformError(f"column {name} has two {key.upper()} clauses", span_of(name))
            if key == "default":
                fields["default_kind"], fields["default"] = value
            else:
                fields[key] = value
        return ddl.ColumnDef(str(name), **fields, span=span_of(name))

    def col_null(self, c):
        return ("nullable", True)

    def col_not_null(self, c):
        return ("nullable", False)

    def default_kind(self, c):
        return str(c[0]).upper()

    def col_default(self, c):
        return ("default", (c[0], c[1]))

    def col_ephemeral(self, c):
        return ("default", ("EPHEMERAL", None))

    def col_comment(self, c):
        return ("comment", unquote_string(c[1]))

    def col_codec(self, c):
        return ("codec", tuple(c[1:]))

    def col_ttl(self, c):
        return ("ttl", c[1])

    def col_primary_key(self, c):
        raise TransformError("a column-level PRIMARY KEY is not supported; use PRIMARY KEY (..)",
                             span_of(c[0]))

    def storage(self, c):
        fields = {}
        span = c[0][2] if c and len(c[0]) > 2 else None
        for key, value, *_ in c:
            if key in fields:
                raise TransformError(f"storage clause {key.upper().replace('_', ' ')} given twice",
                                     None)
            fields[key] = value
        return ddl.Storage(**fields, span=span)

    def st_engine(self, c):
        return ("engine", c[-1], span_of(c[0]))

    def st_partition_by(self, c):
        return ("partition_by", c[2], span_of(c[0]))

    def st_primary_key(self, c):
        return ("primary_key", c[2], span_of(c[0]))

    def st_order_by(self, c):
        return ("order_by", c[2], span_of(c[0]))

    def st_sample_by(self, c):
        return ("sample_by", c[2], span_of(c[0]))

    def st_ttl(self, c):
        return ("ttl", c[1], span_of(c[0]))

    def st_settings(self, c):
        return ("settings", c[0], c[0][0].span if c[0] else None)

    def engine_bare(self, c):
        return ddl.Engine(str(c[0]), (), False, span_of(c[0]))

    def engine_call(self, c):
        return ddl.Engine(str(c[0]), tuple(c[1:]), True, span_of(c[0]))

    def ttl_list(self, c):
        return tuple(c)

    def ttl_rule(self, c):
        action = target = where = None
        for part in c[1:]:
            if part[0] == "where":
                where = part[1]
            else:
                action, target = part
        return ddl.TTLRule(c[0], action, target, where, span_of(c[0]))

    def ttl_group_rule(self, c):
        where = None
        keys = []
        assignments: tuple = ()
        for part in c[1:]:
            if isinstance(part, tuple) and part and part[0] == "where":
                where = part[1]
            elif isinstance(part, tuple) and part and part[0] == "set":
                assignments = part[1]
            elif not isinstance(part, Token):
                keys.append(part)
        return ddl.TTLRule(c[0], "GROUP BY", (tuple(keys), assignments), where, span_of(c[0]))

    def ttl_set(self, c):
        return ("set", tuple(c[1:]))

    def materialize_ttl(self, c):
        return ddl.MaterializeTTL(c[3] if len(c) > 2 else None, span_of(c[0]))

    def materialize_column(self, c):
        return ddl.MaterializeColumn(str(c[2]), c[4] if len(c) > 3 else None, span_of(c[0]))

    def query_stmt_settings(self, c):
        query, fmt, settings = c
        return _with_format(_add_settings(query, settings), fmt)

    def ttl_delete(self, c):
        return ("DELETE", None)

    def ttl_disk(self, c):
        return ("TO DISK", unquote_string(c[2]))

    def ttl_volume(self, c):
        return ("TO VOLUME", unquote_string(c[2]))

    def ttl_recompress(self, c):
        return ("RECOMPRESS", tuple(c[2:]))

    def ttl_where(self, c):
        return ("where", c[1])

    def create_view(self, c):
        (create, or_replace, materialized, _view, if_not_exists, name, cluster, to_table,
         elements, storage, populate, _as, query, comment) = c
        columns = ()
        if elements:
            columns = self._elements(elements)["columns"]
        return ddl.CreateView(name, query, bool(materialized), bool(if_not_exists),
                              bool(or_replace), to_table, columns, storage, bool(populate),
                              comment, cluster.name if cluster else None, join_spans(create, name))

    def view_to(self, c):
        return c[1]

    def populate(self, c):
        return True

    def create_database(self, c):
        if_not_exists = any(x is True for x in c)
        name = next(x for x in c[2:] if isinstance(x, Token) and x.type != "ENGINE"
                    and x.type != "EQ")
        engine = c[-1] if isinstance(c[-1], ddl.Engine) else None
        return ddl.CreateDatabase(str(name), if_not_exists, engine, _cluster(c), span_of(c[0]))

    # ---- DROP .. ----
    def drop_kind(self, c):
        return str(c[0]).upper()

    def drop(self, c):
        temporary = any(isinstance(x, Token) and x.type == "TEMPORARY" for x in c)
        kind = next(x for x in c[1:] if isinstance(x, str) and not isinstance(x, Token))
        name = next(x for x in c if isinstance(x, ddl.TableName))
        return ddl.Drop(kind, name, any(x is True for x in c), temporary,
                        any(isinstance(x, Token) and x.type == "SYNC" for x in c), _cluster(c),
                        span_of(c[0]))

    def truncate(self, c):
        name = next(x for x in c if isinstance(x, ddl.TableName))
        return ddl.Truncate(name, any(x is True for x in c), _cluster(c), span_of(c[0]))

    def rename(self, c):
        pairs = tuple(x for x in c[2:] if isinstance(x, tuple))
        return ddl.Rename(pairs, "TABLE", _cluster(c), span_of(c[0]))

    def rename_pair(self, c):
        return (c[0], c[2])

    def exchange(self, c):
        return ddl.Exchange(c[2], c[4], span_of(c[0]))

    # ---- INSERT ----
    def insert(self, c):
        name = next(x for x in c if isinstance(x, ddl.TableName))
        columns: tuple = ()
        settings: tuple = ()
        source = c[-1]
        for part in c[c.index(name) + 1:-1]:
            if isinstance(part, tuple):
                settings = part
            else:
                columns = self._insert_columns(part)
        return ddl.Insert(name, columns, settings=settings, span=join_spans(c[0], name), **source)

    def _insert_columns(self, node):
        items = node.items if isinstance(node, Tuple) else (node,)
        names = []
        for item in items:
            if not (isinstance(item, Identifier) and item.table is None):
                raise TransformError("INSERT column list must hold column names", span_of(item))
            names.append(item.name)
        return tuple(names)

    def insert_settings(self, c):
        return tuple(c[1:])

    def insert_values(self, c):
        rows = []
        for row in c[1:]:
            if isinstance(row, Subquery):
                raise TransformError("VALUES rows hold values, not subqueries", span_of(row))
            rows.append(row.items if isinstance(row, Tuple) else (row,))
        return {"values": tuple(rows)}

    def insert_query(self, c):
        return {"query": c[0]}

    def insert_format(self, c):
        data = str(c[2]) if len(c) > 2 else None
        return {"format": str(c[1]), "data": data}

    # ---- ALTER / DELETE / OPTIMIZE ----
    def alter(self, c):
        commands = []
        settings = ()
        for cmd in c[3:]:
            if isinstance(cmd, _Cluster):
                continue
            if isinstance(cmd, tuple) and cmd and all(isinstance(x, Setting) for x in cmd):
                settings = cmd                      # the trailing SETTINGS clause
                continue
            if isinstance(cmd, tuple):  # continuation of MODIFY SETTING a = 1, b = 2
                prev = commands[-1] if commands else None
                if not isinstance(prev, ddl.ModifySetting):
                    raise TransformError("expected an ALTER command", span_of(cmd[0]))
                commands[-1] = ddl.ModifySetting(prev.settings + (cmd[1],), prev.span)
            else:
                commands.append(cmd)
        return ddl.Alter(c[2], tuple(commands), _cluster(c), span_of(c[0]), settings)

    def alter_delete(self, c):
        partition = next((x for x in c if isinstance(x, ddl.PartitionSpec)), None)
        return ddl.AlterDelete(c[-1], partition, span_of(c[0]))

    def alter_update(self, c):
        assignments = tuple(x for x in c[1:-2] if isinstance(x, tuple))
        partition = next((x for x in c if isinstance(x, ddl.PartitionSpec)), None)
        return ddl.AlterUpdate(assignments, c[-1], partition, span_of(c[0]))

    def assignment(self, c):
        return (str(c[0]), c[2])

    def add_column(self, c):
        col = next(x for x in c if isinstance(x, ddl.ColumnDef))
        after = None
        first = False
        for part in c:
            if isinstance(part, tuple):
                if part[0] == "after":
                    after = part[1]
                else:
                    first = True
        return ddl.AddColumn(col, any(x is True for x in c), after, first, span_of(c[0]))

    def pos_after(self, c):
        return ("after", str(c[1]))

    def pos_first(self, c):
        return ("first", True)

    def drop_column(self, c):
        return ddl.DropColumn(str(c[-1]), any(x is True for x in c), span_of(c[0]))

    def modify_column(self, c):
        return ddl.ModifyColumn(c[-1], any(x is True for x in c), span_of(c[0]))

    def rename_column(self, c):
        return ddl.RenameColumn(str(c[-3]), str(c[-1]), any(x is True for x in c), span_of(c[0]))

    def drop_partition(self, c):
        return ddl.DropPartition(c[1], False, span_of(c[0]))

    def detach_partition(self, c):
        return ddl.DropPartition(c[1], True, span_of(c[0]))

    def modify_ttl(self, c):
        return ddl.ModifyTTL(c[2], span_of(c[0]))

    def remove_ttl(self, c):
        return ddl.RemoveTTL(span_of(c[0]))

    def modify_order_by(self, c):
        return ddl.ModifyOrderBy(c[3], span_of(c[0]))

    def modify_setting(self, c):
        return ddl.ModifySetting((c[2],), span_of(c[0]))

    def modify_setting_more(self, c):
        from .ast.query import Setting
        return (c[0], Setting(str(c[0]), c[2], span_of(c[0])))

    def add_index(self, c):
        rest = [x for x in c[2:] if x is not True]
        name, expr, type_expr = rest[0], rest[1], rest[3]
        gran = rest[4] if len(rest) > 4 else None
        index = ddl.IndexDef(str(name), expr, type_expr, gran, span_of(name))
        return ddl.AddIndex(index, any(x is True for x in c), span_of(c[0]))

    def drop_index(self, c):
        return ddl.DropIndex(str(c[-1]), any(x is True for x in c), span_of(c[0]))

    def materialize_index(self, c):
        return ddl.MaterializeIndex(str(c[-1]), span_of(c[0]))

    def partition_expr(self, c):
        return ddl.PartitionSpec(c[1], None, span_of(c[0]))

    def partition_id(self, c):
        return ddl.PartitionSpec(None, unquote_string(c[2]), span_of(c[0]))

    def delete(self, c):
        partition = next((x for x in c if isinstance(x, ddl.PartitionSpec)), None)
        settings = c[-1] if isinstance(c[-1], tuple) else ()
        where = c[-2] if settings else c[-1]
        return ddl.Delete(c[2], where, partition, _cluster(c), span_of(c[0]), settings)

    def optimize(self, c):
        partition = next((x for x in c if isinstance(x, ddl.PartitionSpec)), None)
        final = any(isinstance(x, Token) and x.type == "FINAL" for x in c)
        dedup = next((x for x in c if isinstance(x, tuple)), None)
        return ddl.Optimize(c[2], partition, final, dedup is not None, dedup or (), _cluster(c),
                            span_of(c[0]))

    def deduplicate(self, c):
        return tuple(c[2:])

    # ---- utility ----
    def set_stmt(self, c):
        return ddl.Set(tuple(c[1:]), span_of(c[0]))

    def use(self, c):
        return ddl.Use(str(c[1]), span_of(c[0]))

    def _show(self, what, c, **fields):
        for part in c:
            if isinstance(part, tuple):
                if part[0] == "like":
                    fields["like"], fields["not_like"], fields["ilike"] = part[1]
                else:
                    fields[part[0]] = part[1]
            elif isinstance(part, ddl.TableName):
                fields["name"] = part
        fmt = _trailing_format(c)
        return ddl.Show(what, format=fmt, span=span_of(c[0]), **fields)

    def show_tables(self, c):
        return self._show("TABLES", c)

    def show_databases(self, c):
        return self._show("DATABASES", c)

    def show_create(self, c):
        kind = next((x for x in c[2:] if isinstance(x, tuple) and x[0] == "kind"), ("kind", "TABLE"))
        return self._show("CREATE " + kind[1], [x for x in c if x is not kind])

    def show_create_kind(self, c):
        return ("kind", " ".join(str(t).upper() for t in c))

    def show_columns(self, c):
        return self._show("COLUMNS", c)

    def show_processlist(self, c):
        return self._show("PROCESSLIST", c)

    def show_dictionaries(self, c):
        return self._show("DICTIONARIES", c)

    def show_settings(self, c):
        return self._show("SETTINGS", c)

    def show_from_kw(self, c):
        return c[0]

    def show_from(self, c):
        return ("from_", str(c[1]))

    def show_like(self, c):
        negated = str(c[0]).upper() == "NOT"
        return ("like", (unquote_string(c[-1]), negated, False))

    def show_ilike(self, c):
        negated = str(c[0]).upper() == "NOT"
        return ("like", (unquote_string(c[-1]), negated, True))

    def show_limit(self, c):
        return ("limit", c[1])

    def describe_kw(self, c):
        return c[0]

    def describe(self, c):
        target = next(x for x in c[1:] if not isinstance(x, Token) or x.type == "IDENT")
        fmt = _trailing_format(c)
        if not isinstance(target, (ddl.TableName, Subquery)) and not hasattr(target, "args"):
            raise TransformError("DESCRIBE needs a table, table function or subquery",
                                 span_of(target))
        return ddl.Describe(target, fmt, span_of(c[0]))

    def exists_kind(self, c):
        return str(c[0]).upper()

    def exists_stmt(self, c):
        name = next(x for x in c if isinstance(x, ddl.TableName))
        before = c[1:c.index(name)]
        kind = next((x for x in before if isinstance(x, str) and not isinstance(x, Token)), "TABLE")
        return ddl.ExistsStatement(kind, name, _trailing_format(c), span_of(c[0]))

    def explain_kind(self, c):
        return " ".join(str(t).upper() for t in c)

    def explain(self, c):
        kind = None
        settings = []
        for part in c[1:-1]:
            if isinstance(part, str):
                kind = part
            else:
                settings.append(part)
        return ddl.Explain(c[-1], kind, tuple(settings), span_of(c[0]))

    def add_projection(self, c):
        name, sub = c[-2], c[-1]
        proj = ddl.ProjectionDef(str(name), _query_of(sub), span_of(name))
        return ddl.AddProjection(proj, any(x is True for x in c), span_of(c[0]))

    def drop_projection(self, c):
        return ddl.DropProjection(str(c[-1]), any(x is True for x in c), span_of(c[0]))

    def materialize_projection(self, c):
        partition = c[4] if len(c) > 3 else None
        return ddl.MaterializeProjection(str(c[2]), partition, span_of(c[0]))

    def freeze(self, c):
        return ddl.Freeze(c[1] if len(c) > 1 else None, span_of(c[0]))

    def move_partition(self, c):
        return ddl.MovePartition(c[1], c[-1], span_of(c[0]))

    def replace_partition(self, c):
        return ddl.ReplacePartition(c[1], c[-1], span_of(c[0]))

    def remove_what(self, c):
        return str(c[0]).upper()

    def modify_column_remove(self, c):
        return ddl.ModifyColumnRemove(str(c[-3]), c[-1], any(x is True for x in c), span_of(c[0]))

    def create_function(self, c):
        body = c[-1]
        if not isinstance(body, Lambda):
            raise TransformError("CREATE FUNCTION needs a lambda: CREATE FUNCTION f AS (x) -> ..",
                                 span_of(body))
        return ddl.CreateFunction(str(c[-3]), body, any(x is True for x in c), span_of(c[0]))

    def drop_function(self, c):
        return ddl.DropFunction(str(c[-1]), any(x is True for x in c), span_of(c[0]))

    def insert_function(self, c):
        call = c[3]
        settings = next((x for x in c[4:-1] if isinstance(x, tuple)), ())
        return ddl.Insert(call, (), settings=settings, span=join_spans(c[0], call), **c[-1])

    def kill_kind(self, c):
        return str(c[0]).upper()

    kill_mode = kill_kind

    def kill(self, c):
        return ddl.Kill(c[1], c[3], c[4] if len(c) > 4 else None, span_of(c[0]))

    def check_table(self, c):
        return ddl.CheckTable(c[2], c[3] if len(c) > 3 else None, span_of(c[0]))

    def detach(self, c):
        name = next(x for x in c if isinstance(x, ddl.TableName))
        words = {x.type for x in c if isinstance(x, Token)}
        return ddl.AttachDetach("DETACH", c[1], name, any(x is True for x in c),
                                "PERMANENTLY" in words, "SYNC" in words, span_of(c[0]))

    def attach(self, c):
        name = next(x for x in c if isinstance(x, ddl.TableName))
        return ddl.AttachDetach("ATTACH", c[1], name, any(x is True for x in c), span=span_of(c[0]))

    def attach_partition(self, c):
        return ddl.AttachPartition(c[1], c[3] if len(c) > 2 else None, span_of(c[0]))

    def clear_column(self, c):
        return ddl.ClearColumn(str(c[2]), c[4] if len(c) > 3 else None, span_of(c[0]))

    def comment_column(self, c):
        return ddl.CommentColumn(str(c[2]), unquote_string(c[3]), span_of(c[0]))

    def system_action(self, c):
        return " ".join(str(t).upper() for t in c)

    def system(self, c):
        return ddl.System(c[1], c[2] if len(c) > 2 else None, span_of(c[0]))


class AstBuilder(ExprTransformer, QueryTransformer, StatementTransformer):
    """The inline transformer handed to lark: every rule callback builds one AST node.

    A plain class (not a lark Transformer): rules without a method (only lark's own
    `__x_star_N` helper rules, spliced into their parent) get lark's default Tree builder,
    and the built parser stays picklable."""
