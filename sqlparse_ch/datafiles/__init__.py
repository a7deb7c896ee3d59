"""Tinybird datafiles: `.datasource` and `.pipe` files -> frozen dataclasses.

    >>> from sqlparse_ch.datafiles import parse_datasource
    >>> ds = parse_datasource('''
    ... SCHEMA >
    ...     `id` String `json:$.id`,
    ...     `ts` DateTime `json:$.ts`
    ... ENGINE_SORTING_KEY ts, id
    ... ''', name="events")
    >>> [(c.name, c.type, c.jsonpath) for c in ds.columns], ds.engine, ds.sorting_key
    ([('id', 'String', '$.id'), ('ts', 'DateTime', '$.ts')], 'MergeTree', 'ts, id')

Modules: `lines` (Tinybird's line rules -> commands), `schema` (SCHEMA/INDEXES grammars),
`parse` (keywords -> Datasource/Pipe, validation), `model` (the dataclasses), `check`
(render + parse every node's SQL, for `mergetree build`), and `load_project` here (a
folder of datafiles).
"""
from __future__ import annotations

import os
from pathlib import Path

from .check import check_pipe, check_project
from .lines import DatafileError
from .model import ENGINES, NODE_TYPES, Datasource, Node, Pipe, Project, Token
from .parse import parse_datasource, parse_pipe
from .schema import Column, Index

__all__ = ["parse_datasource", "parse_pipe", "load_project", "read_datafile", "DatafileError",
           "check_pipe", "check_project",
           "Datasource", "Pipe", "Node", "Column", "Index", "Token", "Project", "ENGINES",
           "NODE_TYPES"]

_SKIP_DIRS = {"node_modules", "__pycache__", ".git", ".venv", "venv", ".tinyb"}


def read_datafile(path, *, env=None, check_templates: bool = True):
    """Parse one `.datasource` or `.pipe` file from disk."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DatafileError(f"not UTF-8 text ({e.reason})", filename=str(path)) from None
    if path.suffix == ".datasource":
        return parse_datasource(text, filename=str(path), env=env)
    if path.suffix == ".pipe":
        return parse_pipe(text, filename=str(path), env=env, check_templates=check_templates)
    raise DatafileError("not a datafile: expected a .datasource or .pipe file", filename=str(path))


def load_project(root, *, env=None, check_templates: bool = True) -> Project:
    """Every `*.datasource` and `*.pipe` under `root` (any layout: `datasources/` + `pipes/`
    or flat). Names (file stems) must be unique across data sources and pipes."""
    root = Path(root)
    if not root.is_dir():
        raise DatafileError("project folder not found", filename=str(root))
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for fn in sorted(filenames):
            if fn.endswith((".datasource", ".pipe")):
                found.append(Path(dirpath) / fn)
    datasources: dict[str, Datasource] = {}
    pipes: dict[str, Pipe] = {}
    owner: dict[str, Path] = {}
    for path in found:
        item = read_datafile(path, env=env, check_templates=check_templates)
        if item.name in owner:
            raise DatafileError(f"duplicate name '{item.name}': also defined by {owner[item.name]}",
                                filename=str(path))
        owner[item.name] = path
        (datasources if isinstance(item, Datasource) else pipes)[item.name] = item
    return Project(root=str(root), datasources=datasources, pipes=pipes)
