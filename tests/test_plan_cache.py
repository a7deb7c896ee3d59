"""Planning and pipe compilation fast paths (issue 6, per-request CPU) give the same trees as the
plain algorithms they replace.

* ``planner/rewrite.py`` (children / walk / transform / identifiers, which run over every node
  of every query while binding and planning) against a straightforward reference written here
  with ``dataclasses.fields``, over every statement of the SQL corpus and the golden queries.
* ``server/pipes.py``: the parse-shape cache (literal markers put back along recorded paths) and
  ``inline_tables`` (only the nodes above a replaced table name rebuilt) against ``sqlparse_ch.parse``
  of the hand-inlined SQL text, for hypothesis-generated parameter values, and against a full-tree
  rebuild of the statement.
"""

from __future__ import annotations

import dataclasses
import glob
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mergetree.planner import rewrite
from sqlparse_ch import parse
from sqlparse_ch.ast import expr as E
from sqlparse_ch.ast import query as Q

ROOT = Path(__file__).resolve().parent


# --------------------------------------------------------------------------- reference walkers


def _ref_is_node(x):
    return dataclasses.is_dataclass(x) and not isinstance(x, type)


def _ref_children(e):
    out = []

    def add(x):
        if _ref_is_node(x):
            out.append(x)
        elif isinstance(x, tuple):
            for y in x:
                add(y)

    if isinstance(e, E.Subquery):
        return out
    for f in dataclasses.fields(e):
        if f.name != "span":
            add(getattr(e, f.name))
    return out


def _ref_walk(e):
    out = [e]
    for c in _ref_children(e):
        out += _ref_walk(c)
    return out


def _ref_transform(e, fn):
    if not _ref_is_node(e):
        return e
    r = fn(e)
    if r is not None:
        return r
    if isinstance(e, E.Subquery):
        return e

    def value(v):
        if _ref_is_node(v):
            return _ref_transform(v, fn)
        if isinstance(v, tuple):
            items = tuple(value(x) for x in v)
            return items if any(a is not b for a, b in zip(items, v)) else v
        return v

    changes = {f.name: value(getattr(e, f.name)) for f in dataclasses.fields(e) if f.name != "span"}
    changes = {k: v for k, v in changes.items() if v is not getattr(e, k)}
    return dataclasses.replace(e, **changes) if changes else e


def _corpus_statements():
    out = []
    files = sorted(glob.glob(str(ROOT / "sql" / "corpus" / "*.sql"))) + sorted(glob.glob(str(ROOT / "queries" / "*.sql")))
    for f in files:
        for chunk in Path(f).read_text().split(";"):
            try:
                out.append(parse(chunk))
            except Exception:  # noqa: BLE001 - comments, error cases, statements split at a ';' in a string
                pass
    return out


@pytest.fixture(scope="module")
def corpus():
    stmts = _corpus_statements()
    assert len(stmts) > 1000
    return stmts


def test_rewrite_walkers_equal_the_reference_over_the_corpus(corpus):
    def bump(node):         # a rewrite that changes some leaves and leaves the rest alone
        if isinstance(node, E.Literal) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return E.Literal(node.value + 1)
        if isinstance(node, E.Identifier) and node.name.startswith("a"):
            return E.Identifier(node.name + "_x")
        return None

    checked = 0
    for stmt in corpus:
        for root in [stmt, *_ref_children(stmt)]:
            got, want = list(rewrite.walk(root)), _ref_walk(root)
            assert len(got) == len(want) and all(a is b for a, b in zip(got, want))
            for node in want:
                assert [id(c) for c in rewrite.children(node)] == [id(c) for c in _ref_children(node)]
            a, b = rewrite.transform(root, bump), _ref_transform(root, bump)
            assert a == b and (a is root) == (b is root)
            assert rewrite.transform(root, lambda n: None) is root      # nothing changed: the same object
            assert rewrite.has_call(root, "arrayJoin") == any(
                isinstance(n, E.FunctionCall) and n.name == "arrayJoin" for n in want)
            ids = {n.name for n in want if isinstance(n, E.Identifier)}
            assert rewrite.identifiers(root) <= ids
            checked += 1
    assert checked > 5000


# --------------------------------------------------------------------------- inline_tables


def _ref_inline(stmt, resolve):
    """inline_tables as a rebuild of the whole tree (the algorithm before the path-based one)."""
    shadow = {n.name for n in _ref_all_nodes(stmt) if isinstance(n, Q.CTE)}
    cache: dict = {}

    def lookup(name):
        if name in shadow:
            return None
        if name not in cache:
            cache[name] = resolve(name)
        return cache[name]

    def strip(q):
        return dataclasses.replace(q, format=None) if getattr(q, "format", None) else q

    def tx(node):
        if isinstance(node, Q.TableExpr) and isinstance(node.source, Q.TableName) and node.source.database is None:
            q = lookup(node.source.name)
            if q is not None:
                return dataclasses.replace(node, source=E.Subquery(strip(q)), alias=node.alias or node.source.name)
        if isinstance(node, E.InList) and isinstance(node.values, E.Identifier) and node.values.table is None \
                and node.values.database is None:
            q = lookup(node.values.name)
            if q is not None:
                return dataclasses.replace(node, expr=tx(node.expr), values=E.Subquery(strip(q)))
        if isinstance(node, (tuple, list)):
            out = type(node)(tx(x) for x in node)
            return node if all(a is b for a, b in zip(out, node)) else out
        if not _ref_is_node(node):
            return node
        changes = {f.name: tx(getattr(node, f.name)) for f in dataclasses.fields(node) if f.name != "span"}
        changes = {k: v for k, v in changes.items() if v is not getattr(node, k)}
        return dataclasses.replace(node, **changes) if changes else node

    return tx(stmt)


def _ref_all_nodes(node):
    out = []
    if isinstance(node, (tuple, list)):
        for x in node:
            out += _ref_all_nodes(x)
    elif _ref_is_node(node):
        out.append(node)
        for f in dataclasses.fields(node):
            if f.name != "span":
                out += _ref_all_nodes(getattr(node, f.name))
    return out


INLINE_CASES = [
    "SELECT a FROM n1",
    "SELECT a FROM n1 AS x WHERE b IN n2 AND c IN (SELECT c FROM n3) ORDER BY a",
    "SELECT a FROM events JOIN n1 USING (a) LEFT JOIN n2 AS r ON r.a = events.a",
    "WITH n1 AS (SELECT 1 AS a) SELECT a FROM n1 WHERE a IN n2",           # a CTE shadows the node
    "SELECT a FROM db.n1 WHERE a IN db.n2",                                # qualified: never a node
    "SELECT (SELECT max(a) FROM n1) AS m, a FROM n2 WHERE a NOT IN n1 AND (a, 1) IN n3",
    "SELECT a FROM n1 UNION ALL SELECT a FROM (SELECT a FROM n2) WHERE a IN n1",
    "SELECT a FROM events WHERE a = 'n1' AND t IN ['n2']",                 # names in literals are not tables
    "SELECT a FROM events",
    "SELECT x FROM n1 ARRAY JOIN arr AS x WHERE x IN n2 SETTINGS max_threads = 1 FORMAT JSON",
]


@pytest.mark.parametrize("sql", INLINE_CASES)
def test_inline_tables_equals_a_full_rebuild(sql):
    from mergetree.server.pipes import inline_tables

    nodes = {"n1": parse("SELECT 1 AS a FORMAT CSV"), "n2": parse("SELECT 2 AS a, 3 AS b"),
             "n3": parse("SELECT 3 AS a, 4 AS b")}
    stmt = parse(sql)
    for available in ({}, {"n1"}, {"n2", "n3"}, set(nodes)):
        calls, ref_calls = [], []

        def resolve(name, log):
            log.append(name)
            return nodes[name] if name in available else None

        got = inline_tables(stmt, lambda n: resolve(n, calls))
        want = _ref_inline(stmt, lambda n: resolve(n, ref_calls))
        assert got == want
        assert calls == ref_calls                      # same lookups, same order (side effects: options)
        assert (got is stmt) == (want is stmt)
        if not available:
            assert got is stmt


# --------------------------------------------------------------------------- compile_pipe over cached shapes


def _pipe(text: str):
    from sqlparse_ch.datafiles.parse import parse_pipe

    return parse_pipe(text, name="p")


PIPE = """
NODE filtered
SQL >
    %
    SELECT event_type, timestamp FROM events
    WHERE user_id = {{ String(user_id, required=True) }}
      AND event_type != {{ String(other, 'x') }}
      AND timestamp >= now() - INTERVAL {{ Int32(days, 7) }} DAY

NODE kinds
SQL >
    %
    SELECT event_type FROM filtered WHERE event_type IN {{ Array(kinds, 'String', default='a,b') }}

NODE endpoint
SQL >
    SELECT event_type, count() AS events FROM filtered
    WHERE event_type IN kinds
    GROUP BY event_type ORDER BY events DESC

TYPE endpoint
"""


def _expected(pipe, params):
    """The served node's SQL with the earlier nodes' rendered SQL pasted in as subqueries, parsed
    by the plain parser (no cache)."""
    from sqlparse_ch.template import render

    filtered, kinds, endpoint = (render(n.sql, params).sql.strip() for n in pipe.nodes)
    kinds = kinds.replace("FROM filtered", f"FROM ({filtered}) AS filtered")
    assert endpoint.count("filtered") == 1 and endpoint.count("IN kinds") == 1
    text = endpoint.replace("FROM filtered", f"FROM ({filtered}) AS filtered").replace("IN kinds", f"IN ({kinds})")
    return parse(text)


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20), st.integers(0, 400),
       st.lists(st.text(alphabet=st.characters(blacklist_characters=","), min_size=1, max_size=6),
                min_size=1, max_size=3))
def test_compile_pipe_equals_the_parse_of_the_inlined_text(user_id, other, days, kinds):
    from mergetree.server.pipes import compile_pipe

    pipe = _pipe(PIPE)
    params = {"user_id": user_id, "other": other, "days": str(days), "kinds": kinds}
    want = _expected(pipe, params)
    for _ in range(2):                               # the second compile hits every cached shape
        assert compile_pipe({}, pipe, params) == want


def test_parse_sql_shapes_never_change_a_statement():
    """Literal-looking text in comments, identifiers named like the markers, typed literals, values
    equal to a marker: the shape cache gives the parser's AST or falls back to parsing."""
    from mergetree.server.pipes import parse_sql

    texts = [
        "SELECT 'a' AS x -- 'b'\n, 'c'",
        "SELECT __mt_lit_0__ FROM t WHERE s = 'x'",
        "SELECT '__mt_lit_0__', 'y' FROM t",
        "SELECT DATE '2024-01-02', toDateTime('2024-01-02 00:00:00', 'UTC')",
        "SELECT 'it''s', 'a\\'b', 'c\\\\' FROM t WHERE k IN ('p', 'q') FORMAT JSON",
        "SELECT * FROM t SETTINGS s = 'v'",
    ]
    for text in texts:
        for _ in range(3):
            assert parse_sql(text) == parse(text)
    for v in ("__mt_lit_1__", "x'y", ""):            # a hit with other values
        text = f"SELECT '{v.replace(chr(39), chr(39) * 2)}' AS a, 'z' AS b FROM t"
        assert parse_sql(text) == parse(text)


# --------------------------------------------------------------------------- WHERE type check cache


_SCHEMA = "user_id String, n UInt16, x Nullable(Int32), ts DateTime, d Date, lc LowCardinality(String), f Float64"


def _types():
    from mergetree.types import parse_type

    return {c.split()[0]: parse_type(c.split(" ", 1)[1]) for c in _SCHEMA.split(", ")}


def _type_or_error(fn, e, types):
    try:
        return ("type", fn(e, types).name)
    except Exception as err:  # noqa: BLE001 - the error itself is what is compared
        return ("error", type(err).__name__, str(err))


PREDICATES = [
    "user_id = {s} AND ts >= now() - INTERVAL toInt32({si}) DAY",
    "user_id = {s} AND n > {i} AND x < {i}",
    "lc != {s} AND (n = {i} OR f > {i}) AND d >= today() - {i}",
    "n + {i} AND {i}",
    "user_id = {s} AND {s}",                                  # String in AND: ILLEGAL_TYPE_OF_ARGUMENT
    "x > {i} AND ts > toDateTime({s}) AND user_id IN ({s}, 'b')",
    "{i} AND user_id LIKE {s} AND NOT (n < {i})",
    "x AND n",
    "nope = {s} AND n > 1",                                   # UNKNOWN_IDENTIFIER from the first part
    "n > 1 AND toInt32({s}) > n",                              # a value that may not parse
]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PREDICATES), st.text(max_size=12),
       st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=False), st.sampled_from([0, 1, 255, 256, 65536, -1])))
def test_predicate_type_equals_infer_type(template, s, i):
    """Literal values change types (7 UInt8, 300 UInt16, -1 Int8, 2**70 Float64 ..) and may fail to
    parse: the cached per-conjunct type check gives exactly what binding the whole predicate gives."""
    from mergetree.exec.expression import infer_type
    from mergetree.planner.planner import predicate_type
    from sqlparse_ch import parse_expr

    def q(v):
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"

    e = parse_expr(template.format(s=q(s), si=q(str(i)), i=repr(i) if not isinstance(i, float) else f"{i!r}"))
    types = _types()
    want = _type_or_error(infer_type, e, types)
    for _ in range(2):                              # the second time from the cache
        assert _type_or_error(predicate_type, e, types) == want


def test_predicate_type_cache_is_keyed_by_the_column_types():
    from mergetree.planner.planner import predicate_type
    from mergetree.types import parse_type
    from sqlparse_ch import parse_expr

    e = parse_expr("a = 'x' AND b > 1")
    assert predicate_type(e, {"a": parse_type("String"), "b": parse_type("UInt8")}).name == "UInt8"
    assert predicate_type(e, {"a": parse_type("String"), "b": parse_type("Nullable(UInt8)")}).name == "Nullable(UInt8)"
    with pytest.raises(Exception, match="Illegal types of arguments"):
        predicate_type(e, {"a": parse_type("UUID"), "b": parse_type("UInt8")})    # ALTER changed a's type
    assert predicate_type(e, {"a": parse_type("String"), "b": parse_type("UInt8")}).name == "UInt8"


def test_volatile_calls_are_cached_only_below_type_only_functions():
    from mergetree.planner.planner import _cacheable
    from sqlparse_ch import parse_expr

    assert _cacheable(parse_expr("ts >= now() - INTERVAL 3 DAY"), True)
    assert _cacheable(parse_expr("d > today() AND NOT (ts < now())"), True)
    assert _cacheable(parse_expr("user_id = 'x'"), True)
    assert not _cacheable(parse_expr("toDateTime(ts, toString(rand()))"), True)
    assert not _cacheable(parse_expr("if(now() > ts, 1, 'a') = 1"), True)
    assert not _cacheable(parse_expr("ts > now() + toIntervalDay(rand() % 2) AND toString(now()) = 'x'"), True)


def test_expr_type_of_a_column_is_infer_type():
    from mergetree.exec.expression import infer_type
    from mergetree.planner.binder import expr_type
    from sqlparse_ch import parse_expr

    types = _types()
    for text in ("user_id", "x", "lc", "t.x", "nope", "n + 1", "`ts`"):
        e = parse_expr(text)
        assert _type_or_error(expr_type, e, types) == _type_or_error(infer_type, e, types)


# --------------------------------------------------------------------------- SELECT binding reuse


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    import mergetree

    d = mergetree.connect(tmp_path_factory.mktemp("bindcache"))
    d.create_table("ev", "u String, k String, n UInt32, ts DateTime", order_by="(u, ts)")
    d.insert("ev", [{"u": f"u{i % 7}", "k": "abc"[i % 3], "n": i, "ts": 1_700_000_000 + 3600 * i} for i in range(500)])
    yield d
    d.close()


OUTER = [
    "SELECT k, count() AS c, max(ts) AS last, sum(n) AS s FROM ({inner}) GROUP BY k ORDER BY c DESC, k",
    "SELECT k, uniqExact(n) AS u FROM ({inner}) AS x WHERE n > 10 GROUP BY k HAVING u > 1 ORDER BY k LIMIT 2",
    "SELECT DISTINCT k FROM ({inner}) ORDER BY k",
    "SELECT k, n FROM ({inner}) ORDER BY n DESC, k LIMIT 1 BY k",
    "SELECT x.k AS kk, count() FROM ({inner}) AS x GROUP BY kk ORDER BY kk",
    "SELECT k, count() FROM ({inner}) GROUP BY k WITH TOTALS ORDER BY k",
]


def _run(db, text):
    from mergetree.sql import explain_plan

    r = db.sql(text)
    return explain_plan(db, text), r.format("TabSeparatedWithNamesAndTypes")    # totals too


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(OUTER), st.sampled_from([f"u{i}" for i in range(8)]), st.integers(0, 600))
def test_reused_binding_gives_the_plan_and_result_of_a_fresh_one(db, outer, user, n):
    from mergetree.planner import planner

    text = outer.format(inner=f"SELECT k, n, ts FROM ev WHERE u = '{user}' AND n >= {n}")
    cached = [_run(db, text) for _ in range(2)]       # the second from the cache (if the SELECT qualifies)
    original = planner.bind_select
    planner.bind_select = lambda binder, q, *a: binder.bind(q)
    try:
        fresh = _run(db, text)
    finally:
        planner.bind_select = original
    assert cached[0] == fresh and cached[1] == fresh


def test_binding_cache_is_keyed_by_the_source_columns(db):
    """The same outer SELECT over a source whose column types changed (a different subquery, or a
    table dropped and created again with other types) is bound again."""
    outer = "SELECT max(v) AS m, count() AS c FROM ({inner})"
    r1 = db.sql(outer.format(inner="SELECT toUInt8(n % 200) AS v FROM ev"))
    r2 = db.sql(outer.format(inner="SELECT toString(n) AS v FROM ev"))
    assert [t.name for _, t in r1.schema] == ["UInt8", "UInt64"] and r1.rows == [(199, 500)]
    assert [t.name for _, t in r2.schema] == ["String", "UInt64"] and r2.rows == [("99", 500)]
    db.create_table("t2", "v UInt16", order_by="v")
    db.insert("t2", [{"v": 7}, {"v": 300}])
    q = "SELECT max(v) AS m FROM t2"
    assert db.sql(q).rows == [(300,)] and db.sql(q).schema[0][1].name == "UInt16"
    db.drop_table("t2")
    db.create_table("t2", "v String", order_by="v")
    db.insert("t2", [{"v": "b"}, {"v": "a"}])
    assert db.sql(q).rows == [("b",)] and db.sql(q).schema[0][1].name == "String"


def planner_cache_size():
    from mergetree.planner import planner

    return len(planner._BIND_CACHE)


def test_a_cached_binding_is_not_changed_by_its_users():
    from mergetree.planner import planner

    planner._BIND_CACHE.clear()
    from mergetree.planner.binder import SelectBinder
    from mergetree.planner.planner import bind_select
    from mergetree.types import parse_type

    schema = [("k", parse_type("String")), ("n", parse_type("UInt32"))]
    q = parse("SELECT k, sum(n) AS s FROM (SELECT k, n FROM x) AS t GROUP BY k ORDER BY s LIMIT 3 BY k")
    b1 = bind_select(SelectBinder(schema, {"t"}), q, schema, {"t"}, {})
    b2 = bind_select(SelectBinder(schema, {"t"}), q, schema, {"t"}, {})
    assert b2 is not b1 and b2.outputs == b1.outputs and b2.keys == b1.keys
    assert planner_cache_size() == 1
    for b in (b1, b2):
        b.outputs.append(("x", None))
        b.keys.clear()
        b.aggregates[0].args.append(None)
        b.limit_by[2].clear()
    b3 = bind_select(SelectBinder(schema, {"t"}), q, schema, {"t"}, {})
    fresh = SelectBinder(schema, {"t"}).bind(q)
    assert b3.outputs == fresh.outputs and b3.keys == fresh.keys and b3.order == fresh.order
    assert [a.args for a in b3.aggregates] == [a.args for a in fresh.aggregates]
    assert b3.limit_by == fresh.limit_by


def test_the_outer_select_of_a_pipe_is_bound_once(db, monkeypatch):
    from mergetree.planner import binder, planner

    planner._BIND_CACHE.clear()
    calls = []
    original = binder.SelectBinder.bind
    monkeypatch.setattr(binder.SelectBinder, "bind", lambda self, q: calls.append(q) or original(self, q))
    for user in ("u1", "u2", "u3"):
        db.sql(OUTER[0].format(inner=f"SELECT k, n, ts FROM ev WHERE u = '{user}' AND ts >= now() - INTERVAL 9 DAY"))
    assert len(calls) == 4            # inner, outer; then only the inner (its literal changed) twice
    db.sql("SELECT k, now() AS t FROM ev LIMIT 1")         # volatile: never cached
    db.sql("SELECT k, now() AS t FROM ev LIMIT 1")
    assert len(calls) == 6


def test_a_reloaded_pipe_compiles_to_its_new_sql():
    """The caches are keyed by content (rendered text, SELECT AST + source columns), never by pipe
    name: after `mergetree dev` swaps a pipe, its next call compiles the new nodes."""
    from mergetree.server.pipes import compile_pipe

    v1 = _pipe(PIPE)
    v2 = _pipe(PIPE.replace("count() AS events", "uniqExact(timestamp) AS events")
               .replace("user_id = {{", "event_type != 'x' AND user_id = {{"))
    params = {"user_id": "u", "kinds": ["a"]}
    for _ in range(2):
        assert compile_pipe({}, v1, params) == _expected(v1, params)
        assert compile_pipe({}, v2, params) == _expected(v2, params)
    assert compile_pipe({}, v1, params) != compile_pipe({}, v2, params)
