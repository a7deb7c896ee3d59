"""Schema changes of data sources over HTTP (Tinybird's Data Sources API).

* ``POST /v0/datasources/NAME/alter`` (form or query: ``schema``, ``description``, ``ttl``, ``indexes``,
  ``dry=true``): ``schema`` is the whole new schema (Tinybird syntax, ``json:$.path`` allowed); its
  existing columns must be unchanged and first, new ones are added at the end with ALTER TABLE ADD
  COLUMN (metadata-only: rows stored before read the DEFAULT). A removed column, a type change, a new
  column in the middle: 400 naming the column, nothing changes. ``ttl`` (``false`` / empty removes it)
  becomes ALTER TABLE MODIFY TTL. Answer: ``{"operations": [...], "dry_run", "datasource": {...}}``.
* ``POST /v0/datasources/exchange`` (``datasource_a``, ``datasource_b``): swap the contents of two
  data sources with the same columns, atomically (and crash-safely).
* ``GET /v0/datasources/NAME.datasource``: the data source as a ``.datasource`` datafile.
* ``PUT /v0/datasources/NAME`` (``name``: rename; ``description``).

The views talk to the engine only through ``Engine`` (``add_columns``, ``modify_ttl``, ``exchange``,
``rename_datasource``, ``describe``); the work is in ``storage/alter.py`` and ``database.py``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mergetree.errors import MergeTreeError
from mergetree.server.errors import DOC_DATASOURCES, ApiError
from mergetree.server.http import flag, form_params, json_response, principal, read_body, service


def _require_exists(svc, name: str) -> None:
    if not svc.engine.exists(name):
        raise ApiError(404, f"Data Source '{name}' not found", DOC_DATASOURCES)


def _require_admin_on(who, name: str, action: str) -> None:
    """Changing a data source's definition: DATASOURCES:CREATE (as Tinybird documents it) or
    DATASOURCES:DROP:name."""
    if not who.allows("DATASOURCES:CREATE"):
        who.require("DATASOURCES:DROP", name, action)


async def _params(request: Request) -> dict:
    if request.method == "POST":
        return await form_params(request)
    params = dict(request.query_params)
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl((await read_body(request)).decode("utf-8", "replace"), keep_blank_values=True))
    return params


# --------------------------------------------------------------------------- alter


def plan_alter(engine, name: str, schema_text: str) -> list:
    """The datafile columns ``schema_text`` adds to data source ``name`` (ApiError 400 when the new
    schema removes, retypes or reorders an existing column: only additions at the end apply)."""
    from sqlparse_ch.datafiles.schema import SchemaError, parse_schema

    try:
        columns = parse_schema(schema_text)
    except (SchemaError, ValueError) as e:
        raise ApiError(400, f"Invalid schema: {e}", DOC_DATASOURCES) from None
    have = [(n, str(t)) for n, t in engine.schema(name)]
    want = []
    for c in columns:
        try:
            want.append((c, engine.normalize_type(c.type)))
        except Exception as e:  # noqa: BLE001 - an unknown type names the column
            raise ApiError(400, f"Invalid schema: column '{c.name}': {e}", DOC_DATASOURCES) from None
    names = [c.name for c, _ in want]
    for n, t in have:
        if n not in names:
            raise ApiError(400, f"Cannot alter Data Source '{name}': column '{n}' {t} is missing from the new "
                                f"schema; removing columns is not supported (it would lose their data)",
                           DOC_DATASOURCES)
    for i, (n, t) in enumerate(have):
        c, nt = want[i]
        if c.name != n:
            raise ApiError(400, f"Cannot alter Data Source '{name}': column '{c.name}' is at position {i + 1} "
                                f"where the existing column '{n}' is; existing columns keep their order and new "
                                f"columns are only added at the end", DOC_DATASOURCES)
        if nt != t:
            raise ApiError(400, f"Cannot alter Data Source '{name}': column '{n}' would change type from {t} to "
                                f"{nt}; changing a column's type is not supported", DOC_DATASOURCES)
    return [c for c, _ in want[len(have):]]


def plan_defaults(engine, name: str, schema_text: str) -> dict:
    """Existing columns whose DEFAULT / MATERIALIZED the new schema changes: {column: (kind, expr) | None}."""
    from sqlparse_ch.datafiles.schema import parse_schema

    have = engine.column_defaults(name)
    out = {}
    for c in parse_schema(schema_text):
        if c.name in have:
            try:
                want = (c.default_kind or "DEFAULT", engine.normalize_condition(c.default)) if c.default else None
            except Exception as e:  # noqa: BLE001
                raise ApiError(400, f"Invalid schema: column '{c.name}': cannot parse its DEFAULT: {e}",
                               DOC_DATASOURCES) from None
            if want != have[c.name]:
                out[c.name] = want
    return out


async def alter_datasource(request: Request):
    svc, who = service(request), principal(request)
    name = request.path_params["name"]
    _require_admin_on(who, name, f"alter the Data Source '{name}'")
    _require_exists(svc, name)
    params = await _params(request)
    dry = flag(params.get("dry")) or flag(params.get("dry_run"))
    operations: list[str] = []
    new_columns, defaults = [], {}
    if params.get("schema", "").strip():
        new_columns = plan_alter(svc.engine, name, params["schema"])
        defaults = plan_defaults(svc.engine, name, params["schema"])
        operations += [f"MODIFY COLUMN `{c}` {d[0]} {d[1]}" if d else f"MODIFY COLUMN `{c}` REMOVE DEFAULT"
                       for c, d in defaults.items()]
        operations += [f"ADD COLUMN {c.to_sql()}" for c in new_columns]
    ttl = params.get("ttl")
    ttl_changed = False
    if ttl is not None:
        ttl = "" if ttl.strip().lower() in ("", "false", "none") else ttl.strip()
        ttl_changed = ttl != (svc.engine.describe(name)["engine"].get("ttl") or "")
        if ttl_changed:
            operations.append(f"MODIFY TTL {ttl}" if ttl else "REMOVE TTL")
    if params.get("indexes", "").strip():
        raise ApiError(400, "Cannot alter Data Source '{}': skipping indexes (INDEXES) are not supported".format(name),
                       DOC_DATASOURCES)
    description = params.get("description")
    if description is not None and description != svc.engine.describe(name).get("description", ""):
        operations.append("MODIFY DESCRIPTION")
    if not operations:      # Tinybird's answer (tb push --force treats it as "nothing to alter")
        raise ApiError(400, "There were no operations to perform", DOC_DATASOURCES)
    if not dry:
        await run_in_threadpool(svc.flusher.flush)       # rows acknowledged before: in parts first
        try:
            if defaults:
                await run_in_threadpool(svc.engine.set_column_defaults, name, defaults)
            if new_columns:
                await run_in_threadpool(svc.engine.add_columns, name,
                                        [(c.to_sql(), c.jsonpath) for c in new_columns])
            if ttl_changed:
                await run_in_threadpool(svc.engine.modify_ttl, name, ttl or None)
        except MergeTreeError as e:
            raise ApiError(400, f"Cannot alter Data Source '{name}': {e}", DOC_DATASOURCES) from None
        if description is not None:
            svc.engine.update_datasource_meta(name, description=description)
    out = {"operations": operations, "dry_run": dry, "dependencies": _dependent_pipes(svc, name)}
    if not dry:
        out["datasource"] = svc.engine.describe(name)
    return json_response(out)


def _dependent_pipes(svc, name: str) -> list[str]:
    """Pipes whose nodes name the data source (Tinybird lists them with an alter; tb prints them)."""
    import re

    rx = re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)")
    return sorted(p.name for p in svc.pipes.snapshot().values()
                  if any(rx.search(n.sql or "") for n in getattr(p, "nodes", ())))


def _pipes_using(svc, name: str) -> list[str]:
    """Pipes that read the data source (a node's SQL names it) or write into it (a materialized node's
    DATASOURCE, a copy node's TARGET_DATASOURCE): a rename under them would break them."""
    writers = {p.name for p in svc.pipes.snapshot().values()
               if any(name in (getattr(n, "datasource", None), getattr(n, "target_datasource", None))
                      for n in getattr(p, "nodes", ()))}
    return sorted(writers | set(_dependent_pipes(svc, name)))


# --------------------------------------------------------------------------- exchange / rename


async def exchange(request: Request):
    svc, who = service(request), principal(request)
    params = await _params(request)
    a, b = (params.get("datasource_a") or "").strip(), (params.get("datasource_b") or "").strip()
    if not a or not b:
        raise ApiError(400, "The 'datasource_a' and 'datasource_b' parameters are required", DOC_DATASOURCES)
    for n in (a, b):
        _require_admin_on(who, n, f"exchange the Data Source '{n}'")
        _require_exists(svc, n)
    if a == b:
        raise ApiError(400, f"Cannot exchange the Data Source '{a}' with itself", DOC_DATASOURCES)
    await run_in_threadpool(svc.flusher.flush)
    try:
        await run_in_threadpool(svc.engine.exchange, a, b)
    except MergeTreeError as e:
        raise ApiError(400, f"Cannot exchange Data Sources '{a}' and '{b}': {e}", DOC_DATASOURCES) from None
    return json_response({"result": "ok", "datasource_a": a, "datasource_b": b})


async def update_datasource(request: Request):
    svc, who = service(request), principal(request)
    name = request.path_params["name"]
    _require_admin_on(who, name, f"update the Data Source '{name}'")
    _require_exists(svc, name)
    params = await _params(request)
    new = (params.get("name") or "").strip()
    if new and new != name:
        if svc.engine.exists(new):
            raise ApiError(409, f"Cannot rename Data Source '{name}' to '{new}': a Data Source with that name "
                                f"already exists", DOC_DATASOURCES)
        users = _pipes_using(svc, name)
        if users:        # their nodes name it: renamed under them they would fail
            raise ApiError(409, f"Cannot rename Data Source '{name}' to '{new}': the Pipes {', '.join(users)} use "
                                f"it; change them to use another Data Source or remove them first", DOC_DATASOURCES)
        await run_in_threadpool(svc.flusher.flush)
        try:
            await run_in_threadpool(svc.engine.rename_datasource, name, new)
        except MergeTreeError as e:
            raise ApiError(400, f"Cannot rename Data Source '{name}' to '{new}': {e}", DOC_DATASOURCES) from None
        _rename_in_token_scopes(svc.tokens, name, new)
        name = new
    if params.get("description") is not None:
        svc.engine.update_datasource_meta(name, description=params["description"])
    return json_response(svc.engine.describe(name))


def _rename_in_token_scopes(tokens, old: str, new: str) -> None:
    """Tokens scoped to the renamed data source keep their access (Tinybird scopes name resources by id)."""
    for tok in tokens.list():
        scopes = tok.get("scopes") or []
        if tok.get("name") == "admin token" or not any(
                x.get("resource") == old and x["type"].startswith("DATASOURCES:") for x in scopes):
            continue
        texts = []
        for x in scopes:
            res = x.get("resource")
            if res == old and x["type"].startswith("DATASOURCES:"):
                res = new
            texts.append(x["type"] + (f":{res}" if res is not None else "") + (f":{x['filter']}" if x.get("filter") else ""))
        tokens.update(tok["name"], scopes=texts)


# --------------------------------------------------------------------------- the datafile


def datafile_text(info: dict) -> str:
    """A ``.datasource`` datafile from ``Engine.describe`` (round-trips through ``parse_datasource``)."""
    lines = []
    if info.get("description"):
        lines += ["DESCRIPTION >", *[f"    {x}" for x in info["description"].splitlines()], ""]
    cols = info["schema"]["columns"]
    lines.append("SCHEMA >")
    for i, c in enumerate(cols):
        text = f"    `{c['name']}` {c['type']}"
        if c.get("jsonpath"):
            text += f" `json:{c['jsonpath']}`"
        if c.get("default_value"):
            text += f" {c['default_value']}"
        if c.get("codec"):
            text += f" CODEC({c['codec']})"
        lines.append(text + ("," if i < len(cols) - 1 else ""))
    lines.append("")
    e = info["engine"]
    full = e.get("engine_full", "")
    engine_name = e["engine"]
    lines.append(f'ENGINE "{engine_name}"')
    if e.get("partition_key"):
        lines.append(f'ENGINE_PARTITION_KEY "{e["partition_key"]}"')
    lines.append(f'ENGINE_SORTING_KEY "{e.get("sorting_key") or "tuple()"}"')
    if e.get("primary_key") and e["primary_key"] != e.get("sorting_key"):
        lines.append(f'ENGINE_PRIMARY_KEY "{e["primary_key"]}"')
    if e.get("ttl"):
        lines.append(f'ENGINE_TTL "{e["ttl"]}"')
    args = full[len(engine_name) + 1:full.index(")")] if full.startswith(engine_name + "(") else ""
    args = [a.strip() for a in args.split(",") if a.strip()]
    keys = {"ReplacingMergeTree": ("ENGINE_VER", "ENGINE_IS_DELETED"), "CollapsingMergeTree": ("ENGINE_SIGN",),
            "VersionedCollapsingMergeTree": ("ENGINE_SIGN", "ENGINE_VERSION"),
            "SummingMergeTree": ("ENGINE_COLUMNS",)}.get(engine_name, ())
    for k, v in zip(keys, args):
        lines.append(f'{k} "{v}"')
    return "\n".join(lines) + "\n"


async def get_datafile(request: Request):
    svc, who = service(request), principal(request)
    name = request.path_params["name"]
    if not (who.allows("DATASOURCES:READ", name) or who.allows("DATASOURCES:APPEND", name)):
        who.require("DATASOURCES:READ", name, f"read the Data Source '{name}'")
    _require_exists(svc, name)
    # exactly text/plain: tb (Classic) decodes only that content type as text (tb pull)
    return Response(datafile_text(svc.engine.describe(name)), headers={"content-type": "text/plain"})


ROUTES = [   # before app.py's /v0/datasources/{name} routes (a {name} would match NAME.datasource)
    (["GET"], "/v0/datasources/{name}.datasource", get_datafile),
    (["POST"], "/v0/datasources/exchange", exchange),
    (["POST"], "/v0/datasources/{name}/alter", alter_datasource),
    (["PUT"], "/v0/datasources/{name}", update_datasource),
]
