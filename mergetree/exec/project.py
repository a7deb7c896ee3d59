"""Expression (adds computed columns) and Project (selects/renames the result columns).

`expression_step(node)` / `project_step(node)` are the per-block functions (expressions bound
once per operator, not once per block); the executor also runs them inside a scan's read tasks."""

from __future__ import annotations

from mergetree.column import Block
from mergetree.exec.expression import BColumn, bind
from mergetree.exec.expression import execute as execute_expr
from mergetree.functions import values as V


def expression_step(node):
    """block -> block with `node`'s computed columns added."""
    schema = node.child.types()
    bound = [(name, bind(e, schema)) for name, e in node.exprs]
    plain = all(isinstance(b, BColumn) for _, b in bound)

    def apply(block):
        cols = dict(block.columns)
        for name, b in bound:
            cols[name] = block[b.name] if type(b) is BColumn else V.materialize(execute_expr(b, block))
        # only renames: the columns are the block's own, their lengths need no check
        return Block.trusted(cols, block.num_rows) if plain else Block(cols, block.num_rows)

    return apply


def run_expression(node, ctx, children):
    (child,) = children
    apply = expression_step(node)
    for block in child:
        yield apply(block)


def project_step(node):
    """block -> block of `node`'s output columns (renamed)."""
    columns = node.columns

    def apply(block):
        return Block.trusted({out: block[src] for out, src in columns}, block.num_rows)

    return apply


def run_project(node, ctx, children):
    """A Project inside the plan (a subquery in FROM) renames its columns to the output names;
    the root Project is resolved by executor.run, where output names may repeat."""
    (child,) = children
    apply = project_step(node)
    for block in child:
        yield apply(block)
