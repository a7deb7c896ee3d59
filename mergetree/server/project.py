"""A project folder served: load its datafiles, create its data sources, register its pipes.

* :func:`load` reads every ``*.datasource`` / ``*.pipe`` under a folder (any layout) with
  ``sqlparse_ch.datafiles.load_project``; a bad datafile raises ``DatafileError`` (file:line).
* :func:`apply_project` makes a running :class:`~mergetree.server.app.Service` match the project:
  missing data sources are created through ``Engine``; new columns at the end of an existing data
  source's SCHEMA are added with ALTER TABLE ADD COLUMN (metadata-only: old rows read the DEFAULT);
  any other difference (a removed column, a type, the order, the engine or keys) is REFUSED
  (``ProjectError`` naming the file, line and column: mergetree never drops or rewrites data to
  follow a datafile; drop the data source or use a new name); ``TOKEN``
  lines become scoped tokens; the pipes replace the served set. Data sources that left the
  project are kept (never dropped implicitly).
* :func:`build_errors` is ``mergetree build``: every datafile, template and node SQL, bound
  against the project's schemas in a throw-away database, each problem as a ``DatafileError``.
* :class:`Reloader` is ``mergetree dev``: polls the datafiles' mtimes and re-applies the project.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

from sqlparse_ch.datafiles import DatafileError

log = logging.getLogger("mergetree.server.project")


class ProjectError(DatafileError):
    """The project cannot be applied to the data directory as it is (e.g. a schema change)."""


def load(root):
    from sqlparse_ch.datafiles import load_project

    return load_project(root)


# --------------------------------------------------------------------------- data sources


def _norm_key(text) -> str:
    if text is None:
        return ""
    if isinstance(text, (list, tuple)):
        text = ", ".join(text)
    text = re.sub(r"\s+", "", str(text))
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1]
    return "" if text == "tuple()" else text


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return False
    return depth == 0


def _line_of(path: str, pattern: str, default: int = 1) -> int:
    """The first line of a datafile matching a regex (for error positions)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return default
    rx = re.compile(pattern)
    for i, line in enumerate(lines, 1):
        if rx.search(line):
            return i
    return default


def _settings(text: str | None, ds) -> dict | None:
    if not text:
        return None
    out = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise ProjectError(f"invalid ENGINE_SETTINGS item '{item.strip()}': expected name=value",
                               filename=ds.path, line=_line_of(ds.path, r"^ENGINE_SETTINGS"))
        value = value.strip().strip("'\"")
        out[key.strip()] = int(value) if value.lstrip("-").isdigit() else value
    return out


def changed_defaults(engine, ds) -> dict:
    """Existing columns whose DEFAULT / MATERIALIZED expression the datafile changes (or removes):
    {column: (kind, expression) | None}; a migration applies them (metadata-only, as ALTER MODIFY COLUMN)."""
    have = engine.column_defaults(ds.name)
    out = {}
    for c in ds.columns:
        if c.name not in have:
            continue
        try:
            want = (c.default_kind or "DEFAULT", engine.normalize_condition(c.default)) if c.default else None
        except Exception as e:  # noqa: BLE001 - reported on the column's line
            raise ProjectError(f"column '{c.name}': cannot parse its DEFAULT expression: {e}", filename=ds.path,
                               line=_line_of(ds.path, rf"`{re.escape(c.name)}`|^\s*{re.escape(c.name)}\s")) from None
        if want != have[c.name]:
            out[c.name] = want
    return out


def added_columns(engine, ds) -> list:
    """The datafile's columns that the existing data source lacks (a migration adds them with
    ALTER TABLE ADD COLUMN): datafile ``Column`` objects, in datafile order."""
    have = {n for n, _ in engine.schema(ds.name)}
    return [c for c in ds.columns if c.name not in have]


def schema_differences(engine, ds) -> list[tuple[str, int]]:
    """What differs between the existing data source and its datafile and cannot be migrated:
    (message, line). New columns at the end are not differences: they are added (``added_columns``)."""
    have = [(n, str(t)) for n, t in engine.schema(ds.name)]
    want = [(c.name, engine.normalize_type(c.type)) for c in ds.columns]
    out = []
    have_d, want_d = dict(have), dict(want)
    first_new = None
    for i, (name, t) in enumerate(want):
        line = _line_of(ds.path, rf"`{re.escape(name)}`|^\s*{re.escape(name)}\s")
        if name not in have_d:
            first_new = i if first_new is None else first_new   # -1: already reported
        elif have_d[name] != t:
            out.append((f"column '{name}' changes type from {have_d[name]} to {t}", line))
        elif first_new is not None and first_new >= 0:
            new = want[first_new][0]
            out.append((f"new column '{new}' must go after the existing columns (it is before '{name}'): "
                        f"columns are only added at the end",
                        _line_of(ds.path, rf"`{re.escape(new)}`|^\s*{re.escape(new)}\s")))
            first_new = -1                     # reported once
    for name, t in have:
        if name not in want_d:
            out.append((f"column '{name}' {t} was removed from the datafile (removing a column would lose "
                        f"its data)", _line_of(ds.path, r"^SCHEMA")))
    if not out and [n for n, _ in have] != [n for n, _ in want if n in have_d]:
        out.append(("the columns are in another order", _line_of(ds.path, r"^SCHEMA")))
    info = engine.describe(ds.name)["engine"]
    if info["engine"] != ds.engine:
        out.append((f"the engine changes from {info['engine']} to {ds.engine}", _line_of(ds.path, r"^ENGINE\b")))
    if _norm_key(info["sorting_key"]) != _norm_key(ds.sorting_key):
        out.append((f"ENGINE_SORTING_KEY changes from '{info['sorting_key']}' to '{ds.sorting_key or 'tuple()'}'",
                    _line_of(ds.path, r"^ENGINE_SORTING_KEY")))
    if _norm_key(info["partition_key"]) != _norm_key(ds.partition_key):
        out.append((f"ENGINE_PARTITION_KEY changes from '{info['partition_key']}' to '{ds.partition_key or ''}'",
                    _line_of(ds.path, r"^ENGINE_PARTITION_KEY")))
    return out


def check_migrations(engine, project) -> list[str]:
    """A dry run of the data source part of :func:`apply_project`: raise ProjectError (file, line,
    column) for the first existing data source its datafile cannot migrate to; return the names of
    those that would get new columns."""
    out = []
    for ds in project.datasources.values():
        if not engine.exists(ds.name):
            continue
        if schema_differences(engine, ds):
            ensure_datasource(engine, ds)          # raises ProjectError naming the first difference
        if added_columns(engine, ds) or changed_defaults(engine, ds):
            out.append(ds.name)
    return out


def ensure_datasource(engine, ds) -> str:
    """Create ``ds`` if missing; 'created' | 'unchanged'; ProjectError when it cannot apply."""
    if engine.exists(ds.name):
        diffs = schema_differences(engine, ds)
        if diffs:
            msg, line = diffs[0]
            more = "; ".join(m for m, _ in diffs[1:])
            raise ProjectError(
                f"Data Source '{ds.name}' exists with another definition: {msg}"
                + (f"; also {more}" if more else "")
                + ". mergetree only adds new columns at the end of an existing Data Source (never drops "
                  "or rewrites data to follow a datafile): drop the Data Source "
                  "(DELETE /v0/datasources/NAME) or give the new definition another name",
                filename=ds.path, line=line)
        defaults = changed_defaults(engine, ds)
        if defaults:
            try:
                engine.set_column_defaults(ds.name, defaults)
            except Exception as e:  # noqa: BLE001 - any engine refusal is reported against the file
                first = next(iter(defaults))
                raise ProjectError(f"cannot change the DEFAULT of column '{first}' of Data Source '{ds.name}': {e}",
                                   filename=ds.path,
                                   line=_line_of(ds.path, rf"`{re.escape(first)}`|^\s*{re.escape(first)}\s")) from None
        new = added_columns(engine, ds)
        for c in new:                          # a bad type is reported on its column's line
            try:
                engine.normalize_type(c.type)
            except Exception as e:  # noqa: BLE001
                raise ProjectError(f"column '{c.name}': {e}", filename=ds.path,
                                   line=_line_of(ds.path, rf"`{re.escape(c.name)}`|^\s*{re.escape(c.name)}\s")) from None
        if defaults:
            log.info("Data Source %s: DEFAULT of %s changed by %s (ALTER MODIFY COLUMN, metadata-only)", ds.name,
                     ", ".join(defaults), ds.path)
        if new:
            log.info("Data Source %s: adding column(s) %s from %s (ALTER ADD COLUMN, metadata-only)", ds.name,
                     ", ".join(c.name for c in new), ds.path)
            try:
                engine.add_columns(ds.name, [(c.to_sql(), c.jsonpath) for c in new])
            except Exception as e:  # noqa: BLE001 - any engine refusal is reported against the file
                raise ProjectError(f"cannot add column(s) {', '.join(c.name for c in new)} to Data Source "
                                   f"'{ds.name}': {e}", filename=ds.path,
                                   line=_line_of(ds.path, rf"`{re.escape(new[0].name)}`|^\s*{re.escape(new[0].name)}\s")) from None
        # JSONPaths and the description only steer ingestion and listings: they follow the datafile
        engine.update_datasource_meta(ds.name, description=(ds.description or "").strip(),
                                      jsonpaths={c.name: c.jsonpath for c in ds.columns if c.jsonpath})
        return "altered" if new or defaults else "unchanged"
    for c in ds.columns:                       # a bad type is reported on its column's line
        try:
            engine.normalize_type(c.type)
        except Exception as e:  # noqa: BLE001
            raise ProjectError(f"column '{c.name}': {e}", filename=ds.path,
                               line=_line_of(ds.path, rf"`{re.escape(c.name)}`|^\s*{re.escape(c.name)}\s")) from None
    engine_name = ds.engine_full if ds.engine_args else ds.engine
    try:
        engine.create_datasource(
            ds.name, ds.schema_sql, engine=engine_name, sorting_key=ds.sorting_key,
            partition_key=ds.partition_key, primary_key=ds.primary_key, ttl=ds.ttl,
            settings=_settings(ds.settings, ds), description=(ds.description or "").strip(),
            jsonpaths={c.name: c.jsonpath for c in ds.columns if c.jsonpath})
    except Exception as e:  # noqa: BLE001 - any engine refusal is reported against the file
        raise ProjectError(f"cannot create Data Source '{ds.name}': {e}", filename=ds.path,
                           line=_line_of(ds.path, r"^ENGINE|^SCHEMA")) from None
    return "created"


# --------------------------------------------------------------------------- applying


def apply_project(service, project) -> dict:
    """Make ``service`` serve ``project``; returns {'created': [...], 'unchanged': [...], 'pipes': [...]}.

    Everything is checked before anything changes: the pipes' templates and SQL, and every
    existing data source's schema. Data sources are then created, tokens added, pipes swapped.
    """
    from sqlparse_ch.datafiles import check_pipe

    for pipe in project.pipes.values():
        check_pipe(pipe)
        _check_targets(project, pipe, service.engine.exists)
    for ds in project.datasources.values():
        if service.engine.exists(ds.name) and schema_differences(service.engine, ds):
            ensure_datasource(service.engine, ds)      # raises ProjectError naming the first difference
    report = {"created": [], "altered": [], "unchanged": [], "pipes": sorted(project.pipes)}
    for ds in project.datasources.values():
        report[ensure_datasource(service.engine, ds)].append(ds.name)
    if hasattr(service.tokens, "ensure_datafile_tokens"):     # auth.py: TOKEN lines -> scoped tokens
        service.tokens.ensure_datafile_tokens(project)
    else:
        for kind, items in (("DATASOURCES", project.datasources), ("PIPES", project.pipes)):
            for item in items.values():
                for tok in item.tokens:
                    service.tokens.add_scopes(tok.name, [tok.scope(kind, item.name)])
    report["views"] = ensure_materialized_views(service.engine, project)
    service.pipes.replace_all(project.pipes)
    return report


def _materialized_node(pipe):
    return next((n for n in pipe.nodes if n.type == "materialized"), None)


def view_sql(project, pipe) -> str:
    """The SELECT of a materialized pipe (its earlier nodes and other pipes inlined), as text."""
    from mergetree.server.pipes import PipeError, compile_pipe
    from sqlparse_ch import format_sql

    node = _materialized_node(pipe)
    try:
        return format_sql(compile_pipe(project.pipes, pipe, {}, node=node))
    except PipeError as e:
        raise DatafileError(e.message, filename=pipe.path, line=e.line or node.line) from None


def ensure_materialized_views(engine, project) -> list[str]:
    """``TYPE materialized`` pipes as materialized views named like the pipe (``TO`` its
    ``DATASOURCE``): created when missing (POPULATE when the target is still empty), replaced when
    the pipe's SQL changed (a view holds no data). Returns the views created or replaced."""
    from sqlparse_ch import format_sql, parse

    existing = {name: sql for name, sql in engine.run(
        "SELECT name, as_select FROM system.tables WHERE engine = 'MaterializedView'").rows}
    done = []
    for pipe in project.pipes.values():
        node = _materialized_node(pipe)
        if node is None:
            continue
        sql = view_sql(project, pipe)
        line = _line_of(pipe.path, r"^TYPE\s+materialized", node.line)
        if pipe.name in existing:
            if format_sql(parse(existing[pipe.name])) == format_sql(parse(sql)):
                continue
            engine.run(f"DROP VIEW `{pipe.name}`")
        elif engine.exists(pipe.name):
            raise ProjectError(f"pipe '{pipe.name}' is materialized but a Data Source has the same name",
                               filename=pipe.path, line=line)
        populate = engine.describe(node.datasource)["statistics"]["row_count"] == 0
        try:
            engine.run(f"CREATE MATERIALIZED VIEW `{pipe.name}` TO `{node.datasource}` "
                       f"{'POPULATE ' if populate else ''}AS {sql}")
        except Exception as e:  # noqa: BLE001 - reported against the pipe
            raise ProjectError(f"cannot materialize node '{node.name}' into '{node.datasource}': {e}",
                               filename=pipe.path, line=line) from None
        done.append(pipe.name)
    return done


def _check_targets(project, pipe, exists=lambda name: False) -> None:
    for node in pipe.nodes:
        target = node.datasource or node.target_datasource
        if target and target not in project.datasources and not exists(target):
            kw = "DATASOURCE" if node.datasource else "TARGET_DATASOURCE"
            raise DatafileError(f"node '{node.name}' writes to Data Source '{target}', which is not defined "
                                f"in the project", filename=pipe.path,
                                line=_line_of(pipe.path, rf"^{kw}\s", node.line))


# --------------------------------------------------------------------------- build


def build_errors(root) -> list[DatafileError]:
    """Every problem of a project (``mergetree build``); an empty list when it is fine."""
    from sqlparse_ch.datafiles import check_pipe, load_project

    try:
        project = load_project(root)
        errors: list[DatafileError] = []
    except DatafileError as e:
        project, errors = _load_each(root, e)
        if project is None:
            return errors
    good = []
    for pipe in project.pipes.values():
        try:
            check_pipe(pipe)
            _check_targets(project, pipe)
            good.append(pipe)
        except DatafileError as e:
            errors.append(e)
    tmp = Path(tempfile.mkdtemp(prefix="mergetree-build-"))
    try:
        from mergetree.server.engine import Engine

        engine = Engine(tmp / "tables", tmp / "datasources.json", merge_interval=3600)
        try:
            for ds in project.datasources.values():
                try:
                    ensure_datasource(engine, ds)          # the same path as serving the project
                except DatafileError as e:
                    errors.append(e)
            for pipe in good:
                err = _bind_pipe(engine, project, pipe)
                if err is not None:
                    errors.append(err)
            if not errors:
                try:
                    ensure_materialized_views(engine, project)
                except DatafileError as e:
                    errors.append(e)
        finally:
            engine.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return errors


def _load_each(root, first: DatafileError):
    """After a failed load: read every datafile on its own to report all of them (None when the
    folder itself is the problem, or names clash)."""
    from sqlparse_ch.datafiles import Datasource, Project, read_datafile

    if not Path(root).is_dir() or "duplicate name" in first.message:
        return None, [first]
    errors, datasources, pipes = [], {}, {}
    for path in sorted(datafile_mtimes(root)):
        try:
            item = read_datafile(path)
        except DatafileError as e:
            errors.append(e)
            continue
        (datasources if isinstance(item, Datasource) else pipes)[item.name] = item
    return Project(root=str(root), datasources=datasources, pipes=pipes), errors or [first]


def _bind_pipe(engine, project, pipe) -> DatafileError | None:
    """Plan each node in order (templates in test mode, ``EXPLAIN``: bound and planned, not run);
    the first node that fails is reported."""
    from mergetree.server.pipes import PipeError, compile_pipe
    from sqlparse_ch.ast.ddl import Explain

    for node in pipe.nodes:
        prefix = f'error binding node "{node.name}" of pipe "{pipe.name}": '
        try:
            stmt = compile_pipe(project.pipes, pipe, {}, node=node, test_mode=True)
            if type(stmt).__name__ in ("Select", "SetOperation"):
                engine.run(Explain(stmt), _secret_params(project))
        except PipeError as e:
            return DatafileError(prefix + e.message, filename=(e.pipe or pipe).path, line=e.line or node.line)
        except Exception as e:  # noqa: BLE001 - binder errors (unknown column, table, function ...)
            code = getattr(e, "code", type(e).__name__)
            m = re.search(r"\(line (\d+), column \d+\)", str(e))     # the binder's position in the node SQL
            line = int(m.group(1)) if m and not node.is_template else 1
            return DatafileError(f"{prefix}{str(e).rstrip('.')} ({code})", filename=pipe.path,
                                 line=node.file_line(line) if node.sql_lines else node.line)
    return None


def _secret_params(project) -> dict | None:
    """``{name: ''}`` for every ``tb_secret('name')`` / ``tb_var`` of the project: a secret is a String
    query parameter bound when the pipe runs (server/workspace.py), so a check binds a stand-in."""
    names = {n for p in project.pipes.values() for node in p.nodes
             for n in re.findall(r"\btb_(?:secret|var)\s*\(\s*['\"](\w+)['\"]", node.sql)}
    return {n: "" for n in names} or None


# --------------------------------------------------------------------------- dev: reload


def datafile_mtimes(root) -> dict[str, float]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
        for fn in filenames:
            if fn.endswith((".datasource", ".pipe")):
                p = os.path.join(dirpath, fn)
                try:
                    out[p] = os.stat(p).st_mtime_ns
                except OSError:
                    pass
    return out


class Reloader:
    """Poll the project's datafiles; on a change, load and apply the project again (the old
    pipes keep serving when the new files have errors, which are logged with file:line)."""

    def __init__(self, service, root, interval: float = 0.5, on_reload=None, seen: dict | None = None):
        """``seen``: the mtimes taken BEFORE the project was loaded (so that an edit made while it
        loaded is not missed); default: now."""
        self.service = service
        self.root = root
        self.interval = interval
        self.on_reload = on_reload
        self._seen = datafile_mtimes(root) if seen is None else seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mergetree-dev-reload", daemon=True)
        self.reloads = 0
        self.last_error: str | None = None

    def start(self) -> "Reloader":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def check(self) -> bool:
        """Reload now if a datafile changed; True when the project was re-applied."""
        now = datafile_mtimes(self.root)
        if now == self._seen:
            return False
        self._seen = now
        try:
            report = apply_project(self.service, load(self.root))
        except DatafileError as e:
            self.last_error = str(e)
            log.error("reload failed, still serving the previous version: %s", e)
            if self.on_reload:
                self.on_reload(None, e)
            return False
        self.last_error = None
        self.reloads += 1
        log.info("reloaded %s: created %s, altered %s, pipes %s", self.root, report["created"],
                 report.get("altered", []), report["pipes"])
        if self.on_reload:
            self.on_reload(report, None)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - keep watching
                log.exception("reload failed")
