"""Expression (adds computed columns) and Project (selects/renames the result columns)."""

from __future__ import annotations

from mergetree.column import Block
from mergetree.exec.expression import bind
from mergetree.exec.expression import execute as execute_expr
from mergetree.functions import values as V


def run_expression(node, ctx, children):
    (child,) = children
    schema = node.child.types()
    bound = [(name, bind(e, schema)) for name, e in node.exprs]
    for block in child:
        cols = dict(block.columns)
        for name, b in bound:
            cols[name] = V.materialize(execute_expr(b, block))
        yield Block(cols, block.num_rows)


def run_project(node, ctx, children):
    """A Project inside the plan (a subquery in FROM) renames its columns to the output names;
    the root Project is resolved by executor.run, where output names may repeat."""
    (child,) = children
    for block in child:
        yield Block({out: block[src] for out, src in node.columns}, block.num_rows)
