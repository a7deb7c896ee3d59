"""Mutations: lightweight DELETE (row masks) and rewriting ALTER DELETE / UPDATE.

A mutation changes rows of parts that already exist, without ever modifying a
part in place (parts are immutable: readers may hold them).  It is ordered with
inserts by block number, exactly as in ClickHouse:

1. The table allocates the mutation a *version* from the same counter as
   insert block numbers and persists the record as `mutation_<version>.txt` in
   the table directory (`save_mutation`), before touching any part.
2. A part's *data version* is its mutation suffix, or its min block when it was
   never mutated (`data_version`).  The mutation applies to exactly the parts
   whose data version is below its version: parts inserted later (higher block
   numbers) already reflect it and are left alone.
3. Each affected part `p_a_b_l[_m]` is replaced by a new part
   `p_a_b_l_<version>` (which *covers* the old one, so crash recovery keeps
   the right one), written into a `tmp_mutate_*` directory and published by
   the table:
   - lightweight delete (`DELETE FROM t WHERE c`): every file of the old part
     is hard-linked into the new directory and a row mask `_row_exists.mask`
     is added (ClickHouse's `_row_exists` column), with a new `checksums.txt`.
     Reads skip masked rows; the next merge drops them physically.
   - `ALTER TABLE t DELETE WHERE c` / `UPDATE col = expr WHERE c`: the part is
     rewritten (`apply_mutation`) without the deleted rows / with new values.
4. When every affected part is replaced, the record is marked done.  After a
   crash, `finish_pending_mutations(table)` re-applies unfinished records to
   the parts that still have a lower data version (masks and deletes are
   idempotent; updates are applied once per part because the new part's name
   carries the version).

Mask file format (`_row_exists.mask`): the line `row_exists format version: 1
rows <n>\n` followed by `ceil(n / 8)` bytes of `np.packbits(mask,
bitorder="little")`, 1 = the row exists.

Simplifications: mutations run synchronously (ClickHouse's
`mutations_sync = 2`); merges never run concurrently with them (the table holds
its merge lock); key columns cannot be updated (as in ClickHouse).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from mergetree.errors import BadArgumentsError, CorruptedPartError

ROW_EXISTS_FILE = "_row_exists.mask"
_MASK_HEADER = "row_exists format version: 1"
CHECKSUMS_FILE = "checksums.txt"

KINDS = ("lightweight_delete", "delete", "update")


# --------------------------------------------------------------------------- records

@dataclass
class Mutation:
    """One mutation command, persisted as ``mutation_<version>.txt`` (a JSON object)."""

    version: int
    kind: str                                   # lightweight_delete | delete | update
    predicate: str                              # SQL text of the WHERE condition
    assignments: dict[str, str] = field(default_factory=dict)   # UPDATE col = expr (SQL text)
    create_time: float = field(default_factory=time.time)
    is_done: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise BadArgumentsError(f"Unknown mutation kind {self.kind!r}; expected one of {KINDS}")
        if self.kind == "update" and not self.assignments:
            raise BadArgumentsError("UPDATE mutation needs at least one assignment")

    @property
    def file_name(self) -> str:
        return f"mutation_{self.version}.txt"

    def affects(self, info) -> bool:
        """Whether a part (PartInfo) must be mutated: its data version is older."""
        return data_version(info) < self.version

    def predicate_ast(self):
        import sqlparse_ch

        return sqlparse_ch.parse_expr(self.predicate)


def data_version(info) -> int:
    """The block number the part's data is current as of (ClickHouse's getDataVersion)."""
    return info.mutation if info.mutation else info.min_block


def save_mutation(table_dir: Path, mutation: Mutation) -> Path:
    """Write the record atomically (tmp file + fsync + rename + fsync dir)."""
    from mergetree.storage.metadata import atomic_write

    path = Path(table_dir) / mutation.file_name
    atomic_write(path, (json.dumps(asdict(mutation), sort_keys=True) + "\n").encode())
    return path


def load_mutations(table_dir: Path) -> list[Mutation]:
    """Every mutation record of a table, ordered by version."""
    out = []
    for name in os.listdir(table_dir):
        if name.startswith("mutation_") and name.endswith(".txt"):
            path = Path(table_dir) / name
            try:
                out.append(Mutation(**json.loads(path.read_text())))
            except (ValueError, TypeError) as e:
                raise CorruptedPartError(Path(table_dir).name, name, f"bad mutation record: {e}") from None
    return sorted(out, key=lambda m: m.version)


# --------------------------------------------------------------------------- row masks

def mask_file_bytes(mask: np.ndarray) -> bytes:
    mask = np.asarray(mask, dtype=np.bool_)
    return f"{_MASK_HEADER}\nrows {mask.shape[0]}\n".encode() + np.packbits(mask, bitorder="little").tobytes()


def parse_mask_bytes(data: bytes, part_name: str = "?") -> np.ndarray:
    try:
        header, rows_line, payload = data.split(b"\n", 2)
        if header.decode() != _MASK_HEADER or not rows_line.startswith(b"rows "):
            raise ValueError(f"unknown header {header[:40]!r}")
        n = int(rows_line[5:])
        bits = np.frombuffer(payload, dtype=np.uint8)
        if bits.shape[0] != (n + 7) // 8:
            raise ValueError(f"{bits.shape[0]} mask bytes for {n} rows")
    except ValueError as e:
        raise CorruptedPartError(part_name, ROW_EXISTS_FILE, f"cannot parse row mask: {e}") from None
    return np.unpackbits(bits, count=n, bitorder="little").astype(np.bool_)


def read_row_mask(part) -> np.ndarray | None:
    """The part's lightweight-delete mask (True = the row exists), or None when it has none.

    Cached on the part object (parts are immutable).
    """
    cached = getattr(part, "_mt_row_mask", False)
    if cached is not False:
        return cached
    if ROW_EXISTS_FILE not in getattr(part, "checksums", {ROW_EXISTS_FILE: None}):
        mask = None
    else:
        try:
            data = (Path(part.path) / ROW_EXISTS_FILE).read_bytes()
        except FileNotFoundError:
            data = None
        mask = None if data is None else parse_mask_bytes(data, part.name)
        if mask is not None and mask.shape[0] != part.rows:
            raise CorruptedPartError(part.name, ROW_EXISTS_FILE,
                                     f"mask has {mask.shape[0]} rows, the part has {part.rows}")
    try:
        part._mt_row_mask = mask
    except AttributeError:
        pass
    return mask


def visible_rows(part) -> int:
    mask = read_row_mask(part)
    return part.rows if mask is None else int(np.count_nonzero(mask))


# --------------------------------------------------------------------------- part cloning

def clone_part(part, tmp_dir: Path, *, extra_files: dict[str, bytes] | None = None) -> Path:
    """Hard-link every file of `part` into `tmp_dir`, add/replace `extra_files`, write checksums.

    This is how a lightweight delete makes a new part version without copying data.
    Falls back to copying when hard links are not supported.
    """
    from mergetree.storage.part_writer import file_hash

    tmp_dir = Path(tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=False)
    extra_files = dict(extra_files or {})
    src = Path(part.path)
    entries: dict[str, tuple[int, str]] = {}
    old = getattr(part, "checksums", None)
    if old is None:
        old = {name: (os.path.getsize(src / name), file_hash(src / name))
               for name in os.listdir(src) if name != CHECKSUMS_FILE}
    for name, (size, digest) in old.items():
        if name in extra_files:
            continue
        try:
            os.link(src / name, tmp_dir / name)
        except OSError:
            shutil.copy2(src / name, tmp_dir / name)
        entries[name] = (size, digest)
    for name, content in extra_files.items():
        path = tmp_dir / name
        with open(path, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        entries[name] = (len(content), file_hash(path))
    lines = [f"{n}\t{s}\t{d}" for n, (s, d) in sorted(entries.items())]
    text = "checksums format version: mergetree-1\n" + f"{len(lines)} files:\n" + "\n".join(lines) + "\n"
    tmp_path = tmp_dir / (CHECKSUMS_FILE + ".tmp")
    with open(tmp_path, "wb") as f:
        f.write(text.encode())
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp_path, tmp_dir / CHECKSUMS_FILE)
    from mergetree.storage.metadata import fsync_dir

    fsync_dir(tmp_dir)
    return tmp_dir


# --------------------------------------------------------------------------- applying to one part

PredicateFn = Callable[[object], np.ndarray]


def _predicate_fn(predicate) -> PredicateFn:
    """A callable block -> bool mask from SQL text, an expression AST or a callable."""
    if callable(predicate):
        return predicate
    ast = predicate
    if isinstance(predicate, str):
        import sqlparse_ch

        ast = sqlparse_ch.parse_expr(predicate)

    def fn(block):
        from mergetree.exec.expression import evaluate

        return truth(evaluate(ast, block), block.num_rows)
    return fn


def _columns_of(predicate, all_columns: list[str]) -> list[str]:
    if callable(predicate) or predicate is None:
        return list(all_columns)
    from mergetree.storage.metadata import referenced_columns

    ast = predicate
    if isinstance(predicate, str):
        import sqlparse_ch

        ast = sqlparse_ch.parse_expr(predicate)
    cols = [c for c in referenced_columns(ast) if c in all_columns]
    return cols or all_columns[:1]


def truth(column, n: int) -> np.ndarray:
    """A condition column -> bool array (NULL is false, as in WHERE)."""
    nulls = getattr(column, "nulls", None)
    inner = column.values if nulls is not None else column
    values = np.asarray(getattr(inner, "values", inner))
    mask = values.astype(bool)
    if nulls is not None:
        mask &= ~np.asarray(nulls)
    if mask.ndim == 0 or mask.shape[0] != n:
        mask = np.full(n, bool(mask.reshape(-1)[0]) if mask.size else False)
    return mask


def lightweight_delete_part(part, predicate, tmp_dir: Path) -> tuple[Path, int]:
    """Write a new version of `part` with rows matching `predicate` masked out.

    Returns (tmp_dir, rows newly deleted). `predicate`: SQL text, AST, or block -> mask.
    """
    names = part.schema_patch.column_names if part.schema_patch is not None else [n for n, _ in part.columns]
    old = read_row_mask(part)
    if part.rows:
        block = part.read(_columns_of(predicate, names))
        match = _predicate_fn(predicate)(block)
    else:
        match = np.zeros(0, dtype=np.bool_)
    exists = ~match if old is None else (old & ~match)
    newly = int(np.count_nonzero(match if old is None else (old & match)))
    extra = {ROW_EXISTS_FILE: mask_file_bytes(exists)} if (old is not None or newly) else {}
    clone_part(part, tmp_dir, extra_files=extra)
    return Path(tmp_dir), newly


def _cast_to(column, dtype, name: str):
    """Make an UPDATE result fit the column's type (the default evaluator already CASTs; this
    covers custom evaluators: identical types pass, others go through Python values)."""
    if column.type == dtype:
        return column
    from mergetree.convert import values_to_column

    return values_to_column(dtype, column.to_pylist(), name)


def _evaluate_assignment(text: str, block, dtype):
    """`UPDATE col = <text>`: evaluate CAST(<text> AS <column type>) over the block."""
    import sqlparse_ch
    from sqlparse_ch.ast.expr import Cast

    from mergetree.exec.expression import evaluate

    return evaluate(Cast(sqlparse_ch.parse_expr(text), str(dtype)), block)


def _take_where(old, new, mask: np.ndarray):
    """Row i from `new` where mask[i] else from `old` (same type)."""
    from mergetree.column import Column

    n = len(old)
    both = Column.concat([old, new])
    idx = np.where(mask, np.arange(n, dtype=np.int64) + n, np.arange(n, dtype=np.int64))
    return both.take(idx)


def with_materialized(metadata, assignments: dict[str, str]) -> dict[str, str]:
    """``assignments`` of an UPDATE plus ``m = <m's expression over the new values>`` for every MATERIALIZED
    column ``m`` that reads an assigned column (each read column replaced by its assignment: all of them
    see the old values, as in SQL), since ClickHouse recomputes such a column when an UPDATE changes its
    inputs (``m MATERIALIZED d * 2``, ``UPDATE d = d + 100`` -> ``m = (d + 100) * 2``)."""
    from mergetree.storage.metadata import referenced_columns

    deps = [c for c in metadata.columns if c.default_kind == "MATERIALIZED" and c.name not in assignments
            and set(referenced_columns(metadata.default_asts[c.name])) & set(assignments)]
    if not deps:
        return assignments
    import dataclasses

    import sqlparse_ch

    new = {k: sqlparse_ch.parse_expr(v) for k, v in assignments.items()}

    def subst(node):
        if type(node) in (list, tuple):
            return type(node)(subst(x) for x in node)
        if not dataclasses.is_dataclass(node):
            return node
        if type(node).__name__ == "Identifier" and node.table is None and node.name in new:
            return new[node.name]
        return dataclasses.replace(node, **{f.name: subst(getattr(node, f.name))
                                            for f in dataclasses.fields(node) if f.init})

    out = dict(assignments)
    for c in deps:
        out[c.name] = sqlparse_ch.format_sql(subst(metadata.default_asts[c.name]))
    return out


def mutate_block(block, mutation: Mutation, *, key_columns=(), predicate=None, evaluate_fn=None):
    """Apply a rewriting mutation to a block (masked rows already removed); returns (block, changed rows)."""
    pred = _predicate_fn(predicate if predicate is not None else mutation.predicate)
    match = pred(block)
    if mutation.kind in ("delete", "lightweight_delete"):
        return block.filter(~match), int(np.count_nonzero(match))
    from mergetree.column import Block

    cols = dict(block.columns)
    for name, expr in mutation.assignments.items():
        if name not in cols:
            raise BadArgumentsError(f"UPDATE: there is no column {name!r} in the table")
        if name in key_columns:
            raise BadArgumentsError(f"Cannot UPDATE key column {name!r}")
        if evaluate_fn is None:  # every assignment sees the old values, as in SQL
            value = _evaluate_assignment(expr, block, cols[name].type)
        else:
            value = evaluate_fn(expr, block)
        if len(value) != block.num_rows:
            value = value.take(np.zeros(block.num_rows, dtype=np.int64))
        value = _cast_to(value, cols[name].type, name)
        cols[name] = _take_where(block[name], value, match)
    return Block(cols), int(np.count_nonzero(match))


def apply_mutation(part, mutation: Mutation, tmp_dir: Path, metadata, *, predicate=None,
                   evaluate_fn=None) -> tuple[Path, int]:
    """Rewrite `part` with a DELETE/UPDATE mutation into `tmp_dir`; returns (tmp_dir, rows changed).

    Lightweight-deleted rows are dropped physically on the way. When no row matches,
    the new version is hard links of the old files. A lightweight delete given here
    is applied as a mask (no rewrite).
    """
    if mutation.kind == "lightweight_delete":
        return lightweight_delete_part(part, predicate if predicate is not None else mutation.predicate, tmp_dir)
    from mergetree.storage import merger

    # the table's columns, through the part's schema patch after an ALTER ... COLUMN
    block = part.read(getattr(metadata, "column_names", None) or [n for n, _ in part.columns])
    mask = read_row_mask(part)
    if mask is not None:
        block = block.filter(mask)
    key_cols = set(metadata.order_by) | set(metadata.partition_columns) | set(metadata.primary_key)
    block, changed = mutate_block(block, mutation, key_columns=key_cols, predicate=predicate,
                                  evaluate_fn=evaluate_fn)
    if changed == 0:  # nothing matched: a new version made of hard links (as ClickHouse does)
        clone_part(part, tmp_dir)
    else:
        merger.write_merged_part(tmp_dir, block, metadata, [part])
    return Path(tmp_dir), changed


# --------------------------------------------------------------------------- table-level drivers

def _commit(table, tmp: Path, info, part) -> None:
    """Publish a mutated part through the table (adapter to MergeTreeTable internals)."""
    entry = table._entries[part.name]
    table._commit_merge(tmp, info, [entry])


def run_mutation(table, mutation: Mutation, parts=None, *, predicate=None) -> int:
    """Apply `mutation` to every affected part of `table` (call with the table's merge lock held).

    `parts` defaults to the table's active parts. Returns the number of rows deleted/updated.
    Persists the record first and marks it done at the end.
    """
    from mergetree.storage.part_info import PartInfo

    save_mutation(table.path, mutation)
    parts = list(parts) if parts is not None else table.active_parts()
    total = 0
    for part in parts:
        info = part.info
        if info is None or not mutation.affects(info):
            continue
        new_info = PartInfo(info.partition_id, info.min_block, info.max_block, info.level, mutation.version)
        tmp = table._tmp_dir("mutate")
        try:
            if mutation.kind == "lightweight_delete":
                _, changed = lightweight_delete_part(part, predicate if predicate is not None
                                                     else mutation.predicate, tmp)
            else:
                _, changed = apply_mutation(part, mutation, tmp, table.metadata, predicate=predicate)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _commit(table, tmp, new_info, part)
        total += changed
    mutation.is_done = True
    save_mutation(table.path, mutation)
    table.cleanup_outdated()
    return total


def _predicate_text(where) -> str:
    """SQL text of a WHERE condition given as text or as an expression AST (for the record)."""
    if isinstance(where, str):
        return where
    if callable(where):  # low-level API / tests: not re-playable after a restart
        return f"<python predicate {getattr(where, '__name__', type(where).__name__)}>"
    from sqlparse_ch import format_sql

    return format_sql(where)


def lightweight_delete(table, parts, where, version: int) -> int:
    """DELETE FROM t WHERE ... over `parts` (the table's snapshot) with mutation version `version`.

    Returns the number of rows newly masked. Called by MergeTreeTable.delete with its merge lock held.
    """
    mutation = Mutation(version=version, kind="lightweight_delete", predicate=_predicate_text(where))
    return run_mutation(table, mutation, parts, predicate=where)


def finish_pending_mutations(table) -> list[int]:
    """After a restart: re-apply records not marked done (to parts still older than them)."""
    done = []
    for m in load_mutations(table.path):
        if not m.is_done:
            run_mutation(table, m)
            done.append(m.version)
    return done
