"""Build-time checks of node SQL (what `mergetree build` runs for every pipe).

`check_pipe(pipe)` renders each node's SQL in template test mode (absent parameters become
placeholders, as Tinybird's push/build validation does) and parses the result with
sqlparse_ch. Problems become `DatafileError`s naming the file and the datafile line:
exact for plain SQL and template errors; for a parse error in rendered template SQL the
line is the corresponding line of the node's SQL, which is exact unless a template block
above it spans several lines.
"""
from __future__ import annotations

from ..errors import ParseError
from ..parser import parse
from ..template import TemplateError, render_template
from .lines import DatafileError
from .model import Pipe, Project


def check_pipe(pipe: Pipe) -> None:
    for node in pipe.nodes:
        prefix = f'error parsing node "{node.name}" from pipe "{pipe.name}": '
        try:
            sql = render_template(node.sql, {}, test_mode=True)
        except TemplateError as e:
            line = node.file_line(e.line) if e.line else node.line
            raise DatafileError(prefix + str(e), filename=pipe.path, line=line) from None
        if not sql.strip():
            raise DatafileError(prefix + "Template renders to an empty query without parameters",
                                filename=pipe.path, line=node.file_line(1))
        try:
            parse(sql)
        except ParseError as e:
            raise DatafileError(prefix + e.message, filename=pipe.path, line=node.file_line(e.line),
                                column=None if node.is_template else _column(node, e)) from None


def _column(node, e: ParseError) -> int:
    """Column in the file: the SQL was dedented, so add back the line's indentation."""
    return e.column + node.sql_indent


def check_project(project: Project) -> None:
    """Check every pipe of a project (data sources are checked when parsed)."""
    for pipe in project.pipes.values():
        check_pipe(pipe)
