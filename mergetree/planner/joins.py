"""FROM with JOINs: the name scope of joined tables and the Join plan nodes (logical.Join).

Names (ClickHouse 26.x, new analyzer, checked with chDB):
- every column of a joined table gets an internal name ``<qualifier>.<column>`` (qualifier = the
  alias, else the table name); plan nodes above the joins read these names;
- ``t.col`` resolves in the table with name or alias ``t``; an unqualified ``col`` is resolved down
  the join tree: a USING key is the merged column, a name on both sides of a join is ambiguous
  (AMBIGUOUS_IDENTIFIER) unless the query has a single join, where the left table's column wins;
- result column names (``SELECT *`` and bare column references) are ClickHouse's: with two tables
  the left column keeps its name and a right column whose name the left also has is ``b.col``;
  with three or more tables every name present in several tables is qualified;
- ``USING (x)`` casts both keys to their common type; ``SELECT *`` shows one merged ``x`` in the left
  column's place (the left value; the right one in RIGHT joins and for right-only rows of FULL joins).

ON: conjuncts ``left_expr = right_expr`` (each side reading one table side only) become hash keys,
cast to a common type; one inequality between the sides makes an ASOF join's asof column; every
other conjunct (single-side conditions, non-equi conditions, OR) is a residual filter applied to the
matching pairs (so LEFT joins still keep left rows whose matches it removes).
``isNotDistinctFrom(a.k, b.k)`` is a key on which NULL matches NULL.
"""

from __future__ import annotations

from sqlparse_ch.ast import expr as E
from sqlparse_ch.ast import query as Q

from mergetree.errors import (AliasRequiredError, AmbiguousIdentifierError, InvalidJoinOnExpressionError,
                              MultipleExpressionsForAliasError, NoCommonTypeError, NotImplementedSQLError,
                              UnknownIdentifierError)
from mergetree.functions.registry import suggest
from mergetree.planner import logical as L
from mergetree.planner.binder import at, with_position
from mergetree.planner.rewrite import identifiers, transform


class JoinScope:
    """Tables of one FROM clause, left to right, and the USING columns merged so far."""

    def __init__(self):
        self.tables: list[dict] = []        # {"quals": set, "cols": {col: internal}, "order": [col]}
        self.using: dict[str, str] = {}     # col -> internal name of the merged column
        self.star_list: list[list] = []     # [col, internal] in SELECT * order
        self.internal: set[str] = set()
        self.qualified: set[str] = set()    # internal names always shown qualified
        self.array_join: dict[str, str] = {}  # ARRAY JOIN alias -> internal name of the element
        self.aliases: set[str] = set()      # table aliases (must be unique)
        self.single_join = True              # one JOIN only: an ambiguous name reads the left table
        self.merged_source: dict[str, str] = {}  # USING merged column -> the column whose value it is
        self._display: dict[str, str] | None = None

    def _unique(self, name: str) -> str:
        out, n = name, 1
        while out in self.internal:
            n += 1
            out = f"{name}#{n}"
        self.internal.add(out)
        return out

    def add_table(self, quals: set, label: str, columns: list[str]) -> dict:
        if any(t["label"] == label for t in self.tables):   # `a JOIN a`: ClickHouse shows default.a.x
            label = f"default.{label}"
        cols = {c: self._unique(f"{label}.{c}") for c in columns}
        self.tables.append({"quals": set(quals), "label": label, "cols": cols, "order": list(columns), "using": {},
                            "on_equal": set()})
        self._display = None
        return cols

    def table_columns(self) -> set:
        return {c for t in self.tables for c in t["cols"]}

    def find(self, name: str, level: int) -> str | None:
        """`name` in the join of tables[0..level]: a USING column of a join is its merged column; a
        name on both sides of a join is ambiguous (AMBIGUOUS_IDENTIFIER), except with one join only,
        where the left side wins (ClickHouse's single_join_prefer_left_table = 1)."""
        t = self.tables[level]
        right = t["cols"].get(name)
        if level == 0:
            return right
        left = self.find(name, level - 1)
        if left is not None and right is not None:
            merged = t["using"].get(name)
            if merged is not None:
                return merged
            if self.single_join:
                return left
            # an INNER join whose ON says left = right for these very columns: they are one value
            sources, x = {left}, left
            while x in self.merged_source:
                x = self.merged_source[x]
                sources.add(x)
            if any((a, right) in t["on_equal"] for a in sources):
                return left
            raise AmbiguousIdentifierError(f"JOIN {t['label']}: ambiguous identifier '{name}' (in both sides of "
                                           f"the join; qualify it with a table name or alias)")
        return left if left is not None else right

    def resolve_unqualified(self, name: str) -> str | None:
        if name in self.array_join:
            return self.array_join[name]
        if self.tables:
            found = self.find(name, len(self.tables) - 1)
            if found is not None:
                return found
        if name in self.internal:
            return name
        return None

    def resolve(self, node: E.Identifier) -> E.Identifier:
        if node.table is None:
            found = self.resolve_unqualified(node.name)
            if found is None:
                raise with_position(UnknownIdentifierError(
                    node.name, suggest(node.name, sorted(self.table_columns() | set(self.using)))), node)
            return E.Identifier(found, span=node.span)
        for t in self.tables:
            if node.table in t["quals"]:
                if node.name in t["cols"]:
                    return E.Identifier(t["cols"][node.name], span=node.span)
                raise with_position(UnknownIdentifierError(
                    f"{node.table}.{node.name}", suggest(node.name, list(t["cols"]))), node)
        # `t.x` where t is no table: maybe a column named "t.x" (nested) or a tuple element
        found = self.resolve_unqualified(f"{node.table}.{node.name}")
        if found is not None:
            return E.Identifier(found, span=node.span)
        raise with_position(UnknownIdentifierError(f"{node.table}.{node.name}",
                                                   suggest(node.name, sorted(self.table_columns()))), node)

    # ---- result names

    def display(self) -> dict:
        """internal name -> ClickHouse's result column name."""
        if self._display is not None:
            return self._display
        counts: dict = {}
        for t in self.tables:
            for c in t["cols"]:
                counts[c] = counts.get(c, 0) + 1
        out = {}
        many = len(self.tables) >= 3
        for i, t in enumerate(self.tables):
            for c, internal in t["cols"].items():
                qualify = counts[c] > 1 and (many or i > 0) or internal in self.qualified
                out[internal] = f"{t['label']}.{c}" if qualify else c
        for c, internal in self.using.items():
            out[internal] = c
        for c, internal in self.array_join.items():
            out[internal] = c
        self._display = out
        return out

    def display_names(self, e):
        """`e` with column references replaced by result-name identifiers (for naming SELECT items)."""
        disp = self.display()

        def fn(node):
            if isinstance(node, E.Identifier):
                if node.table is None:      # an unqualified name keeps its spelling (ClickHouse)
                    return node
                try:
                    internal = self.resolve(node).name
                except UnknownIdentifierError:
                    return node
                return E.Identifier(disp.get(internal, internal), span=node.span)
            return None

        return transform(e, fn)

    def star(self, table: str | None, except_=()) -> list[tuple[str, E.Identifier]]:
        disp = self.display()
        if table is None:
            entries = [internal for _, internal in self.star_list]
        else:
            t = next((t for t in self.tables if table in t["quals"]), None)
            if t is None:
                raise UnknownIdentifierError(f"{table}.*")
            entries = [t["cols"][c] for c in t["order"] if c not in t.get("star_hidden", ())]
        return [(disp.get(i, i), E.Identifier(i)) for i in entries if disp.get(i, i) not in except_]


# --------------------------------------------------------------------------- planning


def _label(te: Q.TableExpr, index: int) -> str:
    if te.alias:
        return te.alias
    if isinstance(te.source, Q.TableName):
        return te.source.name
    return f"_subquery{index}"


def _normalize(j: Q.Join) -> tuple[str, str]:
    kind = j.kind or "INNER"
    strict = j.strictness or "ALL"
    if kind == "COMMA":
        kind = "CROSS"
    if kind == "PASTE" and (j.on is not None or j.using or j.strictness not in (None, "ALL")):
        raise InvalidJoinOnExpressionError(f"PASTE JOIN takes no ON, USING or strictness{at(j)}")
    if strict in ("SEMI", "ANTI") and kind == "INNER":     # `SEMI JOIN` is SEMI LEFT JOIN
        kind = "LEFT"
    if strict == "ANY" and kind == "FULL":
        raise NotImplementedSQLError("ANY FULL JOINs are not implemented")
    if strict in ("SEMI", "ANTI") and kind not in ("LEFT", "RIGHT"):
        raise NotImplementedSQLError(f"{strict} {kind} JOIN is not implemented (only LEFT and RIGHT){at(j)}")
    if strict == "ASOF" and kind not in ("INNER", "LEFT"):
        raise NotImplementedSQLError(f"ASOF {kind} JOIN is not supported (only INNER and LEFT){at(j)}")
    return kind, strict


def _conjuncts(e) -> list:
    if isinstance(e, E.BinaryOp) and e.op.upper() == "AND":
        return _conjuncts(e.left) + _conjuncts(e.right)
    if isinstance(e, E.FunctionCall) and e.name.lower() == "and":
        return [c for a in e.args for c in _conjuncts(a)]
    return [e]


_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}


def plan_from(planner, q, ctes: dict, binder_factory, settings: dict | None = None):
    """(plan whose columns are internal names, JoinScope) for ``FROM t [ARRAY] JOIN ...``.
    `binder_factory(schema, scope)` makes a SelectBinder for ON / ARRAY JOIN expressions."""
    settings = settings or {}
    use_nulls = str(settings.get("join_use_nulls", 0)).lower() in ("1", "true")
    scope = JoinScope()
    scope.single_join = sum(isinstance(j, Q.Join) for j in q.joins) <= 1
    te = q.from_
    if q.joins and te is not None and not isinstance(te.source, Q.TableName) and not te.alias:
        raise AliasRequiredError(f"No alias for subquery or table function in JOIN{at(te.source)} "
                                 "(set joined_subquery_requires_alias = 0 to disable restriction)")
    plan, quals = planner._source(q.from_, ctes)
    if te is not None and te.alias:
        scope.aliases.add(te.alias)
    label = _label(q.from_, 1) if q.from_ is not None else "system.one"
    cols = scope.add_table(quals, label, plan.names())
    scope.tables[-1]["star_hidden"] = hidden = getattr(plan, "star_hidden", ())   # MATERIALIZED columns
    scope.star_list = [[c, cols[c]] for c in plan.names() if c not in hidden]
    lmap = {cols[c]: c for c in plan.names()}     # internal name -> column of `plan`
    items = ([q.array_join] if q.array_join is not None else []) + list(q.joins)
    for n, j in enumerate(items, start=2):
        if isinstance(j, Q.ArrayJoin):
            from mergetree.planner.array_join import plan_array_join

            plan, lmap = plan_array_join(planner, plan, lmap, scope, j, binder_factory)
            continue
        kind, strict = _normalize(j)
        te = j.table
        right, rquals = planner._source(te, ctes)
        if not isinstance(te.source, Q.TableName) and not te.alias:
            raise AliasRequiredError(f"No alias for subquery or table function in JOIN{at(j)} "
                                     "(set joined_subquery_requires_alias = 0 to disable restriction)")
        if te.alias and te.alias in scope.aliases:
            raise MultipleExpressionsForAliasError(f"Multiple table expressions with same alias {te.alias}{at(j)}")
        if te.alias:
            scope.aliases.add(te.alias)
        rcols = scope.add_table(rquals, _label(te, n), right.names())
        scope.tables[-1]["star_hidden"] = getattr(right, "star_hidden", ())
        plan = _plan_join(planner, plan, lmap, right, scope, rcols, j, kind, strict, binder_factory, use_nulls)
        lmap = {c: c for c in plan.names()}
    if any(k != v for k, v in lmap.items()):
        plan = L.Project(plan, [(k, v) for k, v in lmap.items()])
    return plan, scope


def _side_of(e, left_names: set, right_names: set) -> str | None:
    ids = identifiers(e)
    if not ids:
        return "const"
    if ids <= left_names:
        return "left"
    if ids <= right_names:
        return "right"
    return None


def _plan_join(planner, left, lmap, right, scope, rcols, j, kind, strict, binder_factory, use_nulls):
    from mergetree.exec.expression import infer_type
    from mergetree.planner.planner import _common_type

    left_names = set(lmap)
    right_names = set(rcols.values())
    rmap = {v: k for k, v in rcols.items()}          # internal -> right child column
    lkeys, rkeys, residual, asof, null_safe = [], [], [], None, []
    lexprs, rexprs = [], []
    using_cols = []

    def add_key(le, re, what):
        le, re = _rename(le, lmap), _rename(re, rmap)
        lt, rt = infer_type(le, left.types()), infer_type(re, right.types())
        try:
            t = _common_type(lt, rt)
        except NoCommonTypeError:
            if _is_int(lt) and _is_int(rt) or _is_decimal(lt) and _is_decimal(rt):
                # Int* = UInt64, Decimals of different scales: compared as is (exec/join.py _encode)
                if j.using and kind in ("RIGHT", "FULL"):
                    raise NotImplementedSQLError(
                        f"JOIN {what}: {kind} JOIN USING over {lt} and {rt} is not supported (no common "
                        f"type to merge them into); use ON{at(j)}")
                i = len(lexprs)
                lexprs.append((f"__jl{i}", le))
                rexprs.append((f"__jr{i}", re))
                return f"__jl{i}", f"__jr{i}"
            raise NoCommonTypeError(f"JOIN {what}: cannot infer common type for {lt} and {rt}{at(j)}") from None
        i = len(lexprs)
        lexprs.append((f"__jl{i}", le if lt == t else E.Cast(le, t.name)))
        rexprs.append((f"__jr{i}", re if rt == t else E.Cast(re, t.name)))
        return f"__jl{i}", f"__jr{i}"

    if kind == "PASTE":       # row i of the left side next to row i of the right side
        pass
    elif kind == "CROSS" or (j.on is None and not j.using):
        if kind not in ("CROSS", "INNER") or strict != "ALL":
            raise InvalidJoinOnExpressionError(f"{strict} {kind} JOIN needs ON or USING{at(j)}")
        kind = "CROSS"
    elif j.using:
        names = list(j.using)
        for pos, u in enumerate(names):
            lint = _left_internal(scope, u, left_names)
            if lint is None or u not in rcols:
                side = "left" if lint is None else "right"
                raise UnknownIdentifierError(f"{u} (USING column missing from the {side} side of the JOIN){at(j)}")
            lk, rk = add_key(E.Identifier(lint), E.Identifier(rcols[u]), f"USING ({u})")
            if strict == "ASOF" and pos == len(names) - 1:
                asof = (lk, ">=", rk)
            else:
                lkeys.append(lk)
                rkeys.append(rk)
                null_safe.append(False)
            using_cols.append((u, lint, lk, rk))
    else:
        ltypes = left.types()
        schema = [(k, ltypes[v]) for k, v in lmap.items()] + [(rcols[c], t) for c, t in right.schema]
        on = binder_factory(schema, scope).expand(j.on)
        if kind == "INNER" and strict in ("ALL", "ANY"):   # `ON t1.k = t3.k`: unqualified k is not ambiguous
            scope.tables[-1]["on_equal"] = {
                (c.left.name, c.right.name) if c.right.name in right_names else (c.right.name, c.left.name)
                for c in _conjuncts(on) if isinstance(c, E.BinaryOp) and c.op in ("=", "==")
                and isinstance(c.left, E.Identifier) and isinstance(c.right, E.Identifier)
                and {c.left.name in right_names, c.right.name in right_names} == {True, False}}
        for c in _conjuncts(on):
            if isinstance(c, E.FunctionCall) and c.name == "isNotDistinctFrom" and len(c.args) == 2:
                sl, sr = _side_of(c.args[0], left_names, right_names), _side_of(c.args[1], left_names, right_names)
                if (sl, sr) in (("left", "right"), ("right", "left")):
                    le, re = c.args if sl == "left" else c.args[::-1]
                    lk, rk = add_key(le, re, "ON")
                    lkeys.append(lk)
                    rkeys.append(rk)
                    null_safe.append(True)
                    continue
                raise InvalidJoinOnExpressionError(
                    f"isNotDistinctFrom in JOIN ON must compare a left and a right expression{at(c)}")
            if isinstance(c, E.BinaryOp) and c.op in ("=", "==", ">=", ">", "<=", "<"):
                sl, sr = _side_of(c.left, left_names, right_names), _side_of(c.right, left_names, right_names)
                if (sl, sr) in (("left", "right"), ("right", "left")):
                    le, re, op = (c.left, c.right, c.op) if sl == "left" else (c.right, c.left, _FLIP.get(c.op, c.op))
                    if op in ("=", "=="):
                        lk, rk = add_key(le, re, "ON")
                        lkeys.append(lk)
                        rkeys.append(rk)
                        null_safe.append(False)
                        continue
                    if strict == "ASOF" and asof is None:
                        lk, rk = add_key(le, re, "ON")
                        asof = (lk, op, rk)
                        continue
            residual.append(c)
        if strict == "ASOF" and asof is None:
            raise InvalidJoinOnExpressionError(
                f"ASOF JOIN needs an inequality between the two tables in ON{at(j)}")
        if strict == "ASOF" and residual:
            raise InvalidJoinOnExpressionError(
                f"ASOF JOIN ON supports only equalities and one inequality{at(j)}")
    if lexprs:
        left = planner._expression(left, lexprs)
        right = planner._expression(right, rexprs)
    left_columns = list(lmap.items())
    right_columns = [(rcols[c], c) for c in scope.tables[-1]["order"]]
    merged = []
    for u, lint, lk, rk in using_cols:      # USING: both sides read the cast keys, plus one merged column
        left_columns = [(o, lk if o == lint else s) for o, s in left_columns]
        right_columns = [(o, rk if o == rcols[u] else s) for o, s in right_columns]
        m = scope._unique(f"USING.{u}")    # internal name; shown as `u`
        merged.append((m, lk, rk))
        if kind == "RIGHT":      # `a.x` is no longer what `x` reads: ClickHouse names it a.x
            scope.qualified.add(lint)
        scope.using[u] = m
        scope.tables[-1]["using"][u] = m
        if kind in ("INNER", "LEFT", "RIGHT"):
            scope.merged_source[m] = rcols[u] if kind == "RIGHT" else lint
    replaced = {lint for _, lint, _, _ in using_cols}
    hidden = {rcols[u] for u, *_ in using_cols}
    scope.star_list = [[u, scope.using[u]] for u, *_ in using_cols] + \
        [e for e in scope.star_list if e[1] not in replaced] + \
        [[c, rcols[c]] for c in scope.tables[-1]["order"]
         if rcols[c] not in hidden and c not in scope.tables[-1].get("star_hidden", ())]
    scope._display = None
    res = None
    if residual:
        from mergetree.planner.rewrite import and_all

        res = and_all(residual)
    return L.Join([left, right], kind, strict, lkeys, rkeys, left_columns, right_columns, merged, res, asof,
                  use_nulls, null_safe if any(null_safe) else [])


def _left_internal(scope: JoinScope, u: str, left_names: set) -> str | None:
    if u in scope.array_join and scope.array_join[u] in left_names:
        return scope.array_join[u]
    found = scope.find(u, len(scope.tables) - 2)    # the left side: every table but the one joined now
    return found if found in left_names else None


def _is_decimal(t) -> bool:
    from mergetree import types as T
    from mergetree.functions import values as V

    return isinstance(V.strip(t), T.DecimalType)


def _is_int(t) -> bool:
    from mergetree import types as T
    from mergetree.functions import values as V

    return isinstance(V.strip(t), T.IntType)


def _rename(e, mapping: dict):
    return transform(e, lambda n: E.Identifier(mapping[n.name], span=n.span)
                     if isinstance(n, E.Identifier) and n.name in mapping else None)
