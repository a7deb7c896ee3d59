"""AST -> canonical ClickHouse SQL, queries and statements.

A top-level SELECT prints one clause per line; nested queries (subqueries, CTEs,
`INSERT .. SELECT`) print on one line. Clause order is ClickHouse's.
"""
from __future__ import annotations

from .ast import ddl as D
from .ast import expr as E
from .ast import query as Q
from .ast.base import Node
from .literals import quote_string
from .printer import ATOM, ExprPrinter, format_literal, quote_name

_SET_LEVEL = {"UNION": 1, "UNION ALL": 1, "UNION DISTINCT": 1, "EXCEPT": 1, "EXCEPT ALL": 1,
              "EXCEPT DISTINCT": 1, "INTERSECT": 2, "INTERSECT DISTINCT": 2}


class QueryPrinter(ExprPrinter):
    def query(self, node, sep: str = "\n") -> str:
        if type(node) is Q.Select:
            return sep.join(self.select_clauses(node))
        if type(node) is Q.SetOperation:
            text = self.set_operation(node, sep)
            if node.format:
                text += sep + "FORMAT " + node.format
            return text
        raise TypeError(f"cannot print {type(node).__name__} as a query")

    def query_inline(self, query) -> str:
        return self.query(query, " ")

    def set_operation(self, node: Q.SetOperation, sep: str) -> str:
        level = _SET_LEVEL[node.op]
        left = self._set_operand(node.left, level, sep, right=False)
        right = self._set_operand(node.right, level, sep, right=True)
        return f"{left}{sep}{node.op}{sep}{right}"

    def _set_operand(self, node, level: int, sep: str, right: bool) -> str:
        if type(node) is Q.SetOperation:
            if right or _SET_LEVEL[node.op] < level:
                return "(" + self.set_operation(node, " ") + ")"
            return self.set_operation(node, sep)
        return sep.join(self.select_clauses(node))

    def table_name(self, t: Q.TableName) -> str:
        if t.database is not None:
            return quote_name(t.database) + "." + quote_name(t.name)
        return quote_name(t.name)

    def table_expr(self, t: Q.TableExpr) -> str:
        src = t.source
        if type(src) is Q.TableName:
            text = self.table_name(src)
        elif type(src) is E.Subquery:
            text = self._expr(src)
        else:
            text = self._expr(src)
        if t.alias is not None:
            text += " AS " + quote_name(t.alias)
        if t.final:
            text += " FINAL"
        if t.sample is not None:
            text += " SAMPLE " + self.expr(t.sample.ratio)
            if t.sample.offset is not None:
                text += " OFFSET " + self.expr(t.sample.offset)
        return text

    def array_join(self, aj: Q.ArrayJoin) -> str:
        return ("LEFT " if aj.left else "") + "ARRAY JOIN " + self.items(aj.items)

    def join(self, j) -> str:
        if type(j) is Q.ArrayJoin:
            return self.array_join(j)
        if j.kind == "COMMA":
            return ", " + self.table_expr(j.table)
        words = []
        if j.global_:
            words.append("GLOBAL")
        if j.strictness:
            words.append(j.strictness)
        words.append(j.kind)
        text = " ".join(words) + " JOIN " + self.table_expr(j.table)
        if j.on is not None:
            text += " ON " + self.expr(j.on)
        elif j.using:
            text += " USING (" + ", ".join(quote_name(u) for u in j.using) + ")"
        return text

    def settings(self, settings) -> str:
        return ", ".join(f"{quote_name(s.name)} = {self.expr(s.value)}" for s in settings)

    def select_clauses(self, s: Q.Select) -> list[str]:
        out = []
        if s.with_:
            out.append("WITH " + ", ".join(self.with_item(w) for w in s.with_))
        head = "SELECT "
        if s.distinct:
            head += "DISTINCT "
            if s.distinct_on:
                head += "ON (" + ", ".join(self.expr(e) for e in s.distinct_on) + ") "
        out.append(head + self.items(s.select))
        if s.from_ is not None:
            text = "FROM " + self.table_expr(s.from_)
            joins = list(s.joins)
            while joins and joins[0].kind == "COMMA":
                text += self.join(joins.pop(0))
            out.append(text)
            if s.array_join is not None:
                out.append(self.array_join(s.array_join))
            for j in joins:
                out.append(self.join(j))
        if s.prewhere is not None:
            out.append("PREWHERE " + self.expr(s.prewhere))
        if s.where is not None:
            out.append("WHERE " + self.expr(s.where))
        if s.group_by or s.group_by_modifier:
            out.append(self.group_by(s))
        elif s.with_totals:
            out.append("WITH TOTALS")
        if s.having is not None:
            out.append("HAVING " + self.expr(s.having))
        if s.window:
            out.append("WINDOW " + ", ".join(
                f"{quote_name(w.name)} AS ({self.window_spec(w.spec)})" for w in s.window))
        if s.qualify is not None:
            out.append("QUALIFY " + self.expr(s.qualify))
        if s.order_by:
            first = s.order_by[0]
            if len(s.order_by) == 1 and type(first.expr) is E.Star and first.expr.table is None:
                text = "ORDER BY ALL" + (" DESC" if first.desc else "")
            else:
                text = "ORDER BY " + self.order_items(s.order_by)
            if s.limit is None and s.offset is not None:
                text += " OFFSET " + self.expr(s.offset) + " ROWS"
            out.append(text)
        if s.interpolate is not None:
            out[-1] += " INTERPOLATE" + ("" if not s.interpolate else " (" + ", ".join(
                quote_name(i.name) if type(i) is E.Identifier
                else f"{quote_name(i.name)} AS {self.expr(i.expr)}" for i in s.interpolate) + ")")
        if s.limit_by is not None:
            lb = s.limit_by
            text = "LIMIT " + self.expr(lb.limit)
            if lb.offset is not None:
                text += " OFFSET " + self.expr(lb.offset)
            out.append(text + " BY " + ", ".join(self.expr(e) for e in lb.by))
        if s.limit is not None:
            text = "LIMIT " + self.expr(s.limit)
            if s.offset is not None:
                text += " OFFSET " + self.expr(s.offset)
            if s.with_ties:
                text += " WITH TIES"
            out.append(text)
        if s.settings:
            out.append("SETTINGS " + self.settings(s.settings))
        if s.format:
            out.append("FORMAT " + s.format)
        return out

    def with_item(self, item) -> str:
        if type(item) is Q.CTE:
            return f"{quote_name(item.name)} AS ({self.query_inline(item.query)})"
        return self.alias(item)

    def group_by(self, s: Q.Select) -> str:
        mod = s.group_by_modifier
        if mod == "ALL":
            text = "GROUP BY ALL"
        elif mod == "GROUPING SETS":
            text = "GROUP BY GROUPING SETS (" + ", ".join(
                "(" + ", ".join(self.expr(e) for e in t.items) + ")" for t in s.group_by) + ")"
        else:
            text = "GROUP BY " + ", ".join(self.expr(e) for e in s.group_by)
            if mod:
                text += " WITH " + mod
        if s.with_totals:
            text += " WITH TOTALS"
        return text


class StatementPrinter(QueryPrinter):
    def node(self, node) -> str:
        if type(node) in (Q.Select, Q.SetOperation):
            return self.query(node)
        method = getattr(self, "s_" + type(node).__name__, None)
        if method is not None:
            return method(node)
        if isinstance(node, Node):
            return self.item(node)
        raise TypeError(f"format_sql() takes an AST node, not {type(node).__name__}")

    # ---- DDL ----
    def column_def(self, c: D.ColumnDef) -> str:
        parts = [quote_name(c.name)]
        if c.type_name is not None:
            parts.append(c.type_name)
        if c.nullable is not None:
            parts.append("NULL" if c.nullable else "NOT NULL")
        if c.default_kind is not None:
            parts.append(c.default_kind if c.default is None else f"{c.default_kind} {self.expr(c.default)}")
        if c.comment is not None:
            parts.append("COMMENT " + quote_string(c.comment))
        if c.codec:
            parts.append("CODEC(" + ", ".join(self.expr(x) for x in c.codec) + ")")
        if c.ttl is not None:
            parts.append("TTL " + self.expr(c.ttl))
        return " ".join(parts)

    def index_def(self, i: D.IndexDef) -> str:
        text = f"INDEX {quote_name(i.name)} {self.expr(i.expr)} TYPE {self.expr(i.type)}"
        if i.granularity is not None:
            text += f" GRANULARITY {i.granularity}"
        return text

    def elements(self, node) -> list[str]:
        out = [self.column_def(c) for c in node.columns]
        out += [self.index_def(i) for i in getattr(node, "indexes", ())]
        out += [f"PROJECTION {quote_name(p.name)} ({self.query_inline(p.query)})"
                for p in getattr(node, "projections", ())]
        out += [f"CONSTRAINT {quote_name(c.name)} {c.kind} {self.expr(c.expr)}"
                for c in getattr(node, "constraints", ())]
        pk = getattr(node, "primary_key_inline", None)
        if pk is not None:
            out.append("PRIMARY KEY " + self.expr(pk))
        return out

    def ttl_rules(self, rules) -> str:
        out = []
        # a rollup rule can only be last (its GROUP BY / SET lists use commas too)
        for r in sorted(rules, key=lambda r: r.action == "GROUP BY"):
            text = self.expr(r.expr)
            if r.action == "GROUP BY":
                keys, assignments = r.target
                if r.where is not None:
                    text += " WHERE " + self.expr(r.where)
                text += " GROUP BY " + ", ".join(self.expr(k) for k in keys)
                if assignments:
                    text += " SET " + ", ".join(f"{quote_name(n)} = {self.expr(v)}"
                                                for n, v in assignments)
                out.append(text)
                continue
            if r.action == "DELETE":
                text += " DELETE"
            elif r.action in ("TO DISK", "TO VOLUME"):
                text += f" {r.action} {quote_string(r.target)}"
            elif r.action == "RECOMPRESS":
                text += " RECOMPRESS CODEC(" + ", ".join(self.expr(x) for x in r.target) + ")"
            if r.where is not None:
                text += " WHERE " + self.expr(r.where)
            out.append(text)
        return ", ".join(out)

    def engine(self, e: D.Engine) -> str:
        if not e.has_parens:
            return quote_name(e.name)
        return quote_name(e.name) + "(" + ", ".join(self.expr(a) for a in e.args) + ")"

    def storage(self, s: D.Storage) -> list[str]:
        out = []
        if s.engine is not None:
            out.append("ENGINE = " + self.engine(s.engine))
        if s.partition_by is not None:
            out.append("PARTITION BY " + self.expr(s.partition_by))
        if s.primary_key is not None:
            out.append("PRIMARY KEY " + self.expr(s.primary_key))
        if s.order_by is not None:
            out.append("ORDER BY " + self.expr(s.order_by))
        if s.sample_by is not None:
            out.append("SAMPLE BY " + self.expr(s.sample_by))
        if s.ttl:
            out.append("TTL " + self.ttl_rules(s.ttl))
        if s.settings:
            out.append("SETTINGS " + self.settings(s.settings))
        return out

    def cluster(self, n) -> str:
        return "" if n.cluster is None else " ON CLUSTER " + quote_name(n.cluster)

    def s_CreateTable(self, n: D.CreateTable) -> str:
        head = "CREATE " + ("OR REPLACE " if n.or_replace else "") + (
            "TEMPORARY " if n.temporary else "") + "TABLE " + (
            "IF NOT EXISTS " if n.if_not_exists else "") + self.table_name(n.name) + self.cluster(n)
        lines = [head]
        elements = self.elements(n)
        if elements:
            lines[0] += "\n(\n" + ",\n".join("    " + e for e in elements) + "\n)"
        if n.as_table is not None:
            lines.append("AS " + self.table_name(n.as_table))
        if n.as_function is not None:
            lines.append("AS " + self._expr(n.as_function))
        if n.storage is not None:
            lines += self.storage(n.storage)
        if n.as_select is not None:
            lines.append("AS " + self.query_inline(n.as_select))
        if n.comment is not None:
            lines.append("COMMENT " + quote_string(n.comment))
        return "\n".join(lines)

    def s_CreateView(self, n: D.CreateView) -> str:
        head = "CREATE " + ("OR REPLACE " if n.or_replace else "") + (
            "MATERIALIZED " if n.materialized else "") + "VIEW " + (
            "IF NOT EXISTS " if n.if_not_exists else "") + self.table_name(n.name) + self.cluster(n)
        lines = [head]
        if n.to_table is not None:
            lines[0] += " TO " + self.table_name(n.to_table)
        if n.columns:
            lines[0] += "\n(\n" + ",\n".join("    " + self.column_def(c) for c in n.columns) + "\n)"
        if n.storage is not None:
            lines += self.storage(n.storage)
        if n.populate:
            lines.append("POPULATE")
        lines.append("AS " + self.query_inline(n.query))
        if n.comment is not None:
            lines.append("COMMENT " + quote_string(n.comment))
        return "\n".join(lines)

    def s_CreateDatabase(self, n: D.CreateDatabase) -> str:
        text = ("CREATE DATABASE " + ("IF NOT EXISTS " if n.if_not_exists else "")
                + quote_name(n.name) + self.cluster(n))
        if n.engine is not None:
            text += " ENGINE = " + self.engine(n.engine)
        return text

    def s_Drop(self, n: D.Drop) -> str:
        return ("DROP " + ("TEMPORARY " if n.temporary else "") + n.kind + " "
                + ("IF EXISTS " if n.if_exists else "") + self.table_name(n.name)
                + self.cluster(n) + (" SYNC" if n.sync else ""))

    def s_Truncate(self, n: D.Truncate) -> str:
        return ("TRUNCATE TABLE " + ("IF EXISTS " if n.if_exists else "") + self.table_name(n.name)
                + self.cluster(n))

    def s_Rename(self, n: D.Rename) -> str:
        return "RENAME TABLE " + ", ".join(
            f"{self.table_name(a)} TO {self.table_name(b)}" for a, b in n.pairs) + self.cluster(n)

    def s_Exchange(self, n: D.Exchange) -> str:
        return f"EXCHANGE TABLES {self.table_name(n.left)} AND {self.table_name(n.right)}"

    def s_Insert(self, n: D.Insert) -> str:
        if type(n.table) is E.FunctionCall:
            text = "INSERT INTO FUNCTION " + self._expr(n.table)
        else:
            text = "INSERT INTO " + self.table_name(n.table)
        if n.columns:
            text += " (" + ", ".join(quote_name(c) for c in n.columns) + ")"
        if n.settings:
            text += " SETTINGS " + self.settings(n.settings)
        if n.format is not None:
            text += " FORMAT " + n.format
            if n.data is not None:
                text += "\n" + n.data
            return text
        if n.query is not None:
            return text + " " + self.query_inline(n.query)
        return text + " VALUES " + ", ".join("(" + ", ".join(self.expr(v) for v in row) + ")"
                                             for row in n.values)

    def alter_command(self, c) -> str:
        t = type(c)
        if t is D.AlterDelete:
            return "DELETE" + self._in_partition(c.partition) + " WHERE " + self.expr(c.where)
        if t is D.AlterUpdate:
            return "UPDATE " + ", ".join(f"{quote_name(k)} = {self.expr(v)}"
                                         for k, v in c.assignments) + self._in_partition(
                c.partition) + " WHERE " + self.expr(c.where)
        if t is D.AddColumn:
            text = "ADD COLUMN " + ("IF NOT EXISTS " if c.if_not_exists else "") + self.column_def(c.column)
            if c.after is not None:
                text += " AFTER " + quote_name(c.after)
            elif c.first:
                text += " FIRST"
            return text
        if t is D.DropColumn:
            return "DROP COLUMN " + ("IF EXISTS " if c.if_exists else "") + quote_name(c.name)
        if t is D.ModifyColumn:
            return "MODIFY COLUMN " + ("IF EXISTS " if c.if_exists else "") + self.column_def(c.column)
        if t is D.RenameColumn:
            return ("RENAME COLUMN " + ("IF EXISTS " if c.if_exists else "") + quote_name(c.old)
                    + " TO " + quote_name(c.new))
        if t is D.DropPartition:
            return ("DETACH " if c.detach else "DROP ") + self.partition(c.partition)
        if t is D.ModifyTTL:
            return "MODIFY TTL " + self.ttl_rules(c.ttl)
        if t is D.RemoveTTL:
            return "REMOVE TTL"
        if t is D.ModifyOrderBy:
            return "MODIFY ORDER BY " + self.expr(c.expr)
        if t is D.ModifySetting:
            return "MODIFY SETTING " + self.settings(c.settings)
        if t is D.AddIndex:
            return "ADD " + self.index_def(c.index).replace(
                "INDEX ", "INDEX IF NOT EXISTS " if c.if_not_exists else "INDEX ", 1)
        if t is D.DropIndex:
            return "DROP INDEX " + ("IF EXISTS " if c.if_exists else "") + quote_name(c.name)
        if t is D.AttachPartition:
            return "ATTACH " + self.partition(c.partition) + (
                "" if c.from_table is None else " FROM " + self.table_name(c.from_table))
        if t is D.ClearColumn:
            return "CLEAR COLUMN " + quote_name(c.name) + (
                "" if c.partition is None else " IN " + self.partition(c.partition))
        if t is D.CommentColumn:
            return f"COMMENT COLUMN {quote_name(c.name)} {quote_string(c.comment)}"
        if t is D.MaterializeTTL:
            return "MATERIALIZE TTL" + ("" if c.partition is None else " IN " + self.partition(c.partition))
        if t is D.MaterializeColumn:
            return "MATERIALIZE COLUMN " + quote_name(c.name) + (
                "" if c.partition is None else " IN " + self.partition(c.partition))
        if t is D.AddProjection:
            p = c.projection
            return ("ADD PROJECTION " + ("IF NOT EXISTS " if c.if_not_exists else "")
                    + f"{quote_name(p.name)} ({self.query_inline(p.query)})")
        if t is D.DropProjection:
            return "DROP PROJECTION " + ("IF EXISTS " if c.if_exists else "") + quote_name(c.name)
        if t is D.MaterializeProjection:
            return "MATERIALIZE PROJECTION " + quote_name(c.name) + self._in_partition(c.partition)
        if t is D.Freeze:
            return "FREEZE" + ("" if c.partition is None else " " + self.partition(c.partition))
        if t is D.MovePartition:
            return f"MOVE {self.partition(c.partition)} TO TABLE {self.table_name(c.to_table)}"
        if t is D.ReplacePartition:
            return f"REPLACE {self.partition(c.partition)} FROM {self.table_name(c.from_table)}"
        if t is D.ModifyColumnRemove:
            return ("MODIFY COLUMN " + ("IF EXISTS " if c.if_exists else "") + quote_name(c.name)
                    + " REMOVE " + c.what)
        if t is D.MaterializeIndex:
            return "MATERIALIZE INDEX " + quote_name(c.name)
        raise TypeError(f"cannot print ALTER command {t.__name__}")

    def _in_partition(self, p) -> str:
        return "" if p is None else " IN " + self.partition(p)

    def partition(self, p: D.PartitionSpec) -> str:
        if p.id is not None:
            return "PARTITION ID " + quote_string(p.id)
        return "PARTITION " + self.expr(p.expr)

    def s_Alter(self, n: D.Alter) -> str:
        commands = list(n.commands)
        # MODIFY TTL takes a comma list, so the grammar only accepts it last
        commands.sort(key=lambda c: type(c) is D.ModifyTTL)
        return "ALTER TABLE " + self.table_name(n.table) + self.cluster(n) + " " + ", ".join(
            self.alter_command(c) for c in commands) + (" SETTINGS " + self.settings(n.settings) if n.settings else "")

    def s_Delete(self, n: D.Delete) -> str:
        text = "DELETE FROM " + self.table_name(n.table) + self.cluster(n)
        if n.partition is not None:
            text += " IN " + self.partition(n.partition)
        text += " WHERE " + self.expr(n.where)
        return text + (" SETTINGS " + self.settings(n.settings) if n.settings else "")

    def s_Optimize(self, n: D.Optimize) -> str:
        text = "OPTIMIZE TABLE " + self.table_name(n.table) + self.cluster(n)
        if n.partition is not None:
            text += " " + self.partition(n.partition)
        if n.final:
            text += " FINAL"
        if n.deduplicate:
            text += " DEDUPLICATE"
            if n.deduplicate_by:
                text += " BY " + ", ".join(self.expr(e) for e in n.deduplicate_by)
        return text

    def s_Set(self, n: D.Set) -> str:
        return "SET " + self.settings(n.settings)

    def s_Use(self, n: D.Use) -> str:
        return "USE " + quote_name(n.database)

    def s_Show(self, n: D.Show) -> str:
        text = "SHOW " + n.what
        if n.name is not None:
            text += (" FROM " if n.what == "COLUMNS" else " ") + self.table_name(n.name)
        if n.from_ is not None:
            text += " FROM " + quote_name(n.from_)
        if n.like is not None:
            text += (" NOT" if n.not_like else "") + (" ILIKE " if n.ilike else " LIKE ") + quote_string(n.like)
        if n.limit is not None:
            text += " LIMIT " + self.expr(n.limit)
        if n.format is not None:
            text += " FORMAT " + n.format
        return text

    def s_Describe(self, n: D.Describe) -> str:
        t = n.table
        target = self.table_name(t) if type(t) is Q.TableName else self._expr(t)
        return "DESCRIBE TABLE " + target + (" FORMAT " + n.format if n.format else "")

    def s_ExistsStatement(self, n: D.ExistsStatement) -> str:
        return f"EXISTS {n.kind} {self.table_name(n.name)}" + (
            " FORMAT " + n.format if n.format else "")

    def s_Explain(self, n: D.Explain) -> str:
        text = "EXPLAIN"
        if n.kind:
            text += " " + n.kind
        if n.settings:
            text += " " + ", ".join(f"{quote_name(s.name)} = {format_literal(s.value.value)}"
                                    if type(s.value) is E.Literal else
                                    f"{quote_name(s.name)} = {self.expr(s.value)}"
                                    for s in n.settings)
        return text + "\n" + self.node(n.statement)

    def s_CreateFunction(self, n: D.CreateFunction) -> str:
        return ("CREATE FUNCTION " + ("IF NOT EXISTS " if n.if_not_exists else "")
                + quote_name(n.name) + " AS " + self.expr(n.body))

    def s_DropFunction(self, n: D.DropFunction) -> str:
        return "DROP FUNCTION " + ("IF EXISTS " if n.if_exists else "") + quote_name(n.name)

    def s_Kill(self, n: D.Kill) -> str:
        return f"KILL {n.kind} WHERE {self.expr(n.where)}" + (" " + n.mode if n.mode else "")

    def s_CheckTable(self, n: D.CheckTable) -> str:
        return "CHECK TABLE " + self.table_name(n.name) + (
            "" if n.partition is None else " " + self.partition(n.partition))

    def s_AttachDetach(self, n: D.AttachDetach) -> str:
        cond = ""
        if n.if_exists:
            cond = "IF NOT EXISTS " if n.action == "ATTACH" else "IF EXISTS "
        return (f"{n.action} {n.kind} {cond}{self.table_name(n.name)}"
                + (" PERMANENTLY" if n.permanently else "") + (" SYNC" if n.sync else ""))

    def s_System(self, n: D.System) -> str:
        return "SYSTEM " + n.action + (" " + self.table_name(n.table) if n.table else "")


__all__ = ["StatementPrinter", "ATOM"]
