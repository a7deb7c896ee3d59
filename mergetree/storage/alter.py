"""ALTER TABLE ... ADD / DROP / RENAME / MODIFY / COMMENT COLUMN: metadata-only schema changes.

A column change never rewrites the table's parts (ClickHouse's "metadata-only" ALTERs). Instead:

1. The change is computed on a copy of the table's :class:`~mergetree.storage.metadata.TableMetadata`
   (``version`` + 1) by a pure function (:func:`add_column`, :func:`drop_column`, :func:`rename_column`,
   :func:`modify_column`, :func:`comment_column`) that validates it with ClickHouse's errors.
2. :func:`alter_table` (under the table's merge lock: no merge or mutation runs meanwhile) writes the
   new ``metadata.json`` atomically (tmp + fsync + rename + fsync of the directory) and swaps the
   table's metadata object, so a crash leaves either the old or the new schema, and caches keyed by
   the metadata object or its ``version`` see the change.
3. Every part whose stored columns differ from the new schema gets a :class:`SchemaPatch`
   (``DataPart.schema_patch``, set by the table whenever a part is published): ``DataPart.read``
   hands reads of such a part to it. A column the part lacks (ADD COLUMN after the part was written)
   is computed from its ``DEFAULT`` expression over the part's rows (read through the patch, so a
   default may use other added columns), or is the type's default, as ClickHouse does; a renamed
   column is read under the name the part stored it with (``ColumnDef.former``); a column whose type
   was widened (MODIFY COLUMN) is CAST on read. Merges and mutations read the table's columns through
   the patch and write them out: the next merge materializes the change.

One invariant keeps this unambiguous: in a part, a stored column named X holds either the current
column X, a renamed column whose ``former`` names include X, or garbage from a dropped column that
nobody reads. An ADD or RENAME that gives a name to a column while some part still stores a
*different* column under it (DROP c, then ADD c) first rewrites those parts (a one-part merge under
the old schema), so no part is ever read with another column's data.

Type changes are metadata-only too, so only lossless ones are allowed (integer widening, Float32 ->
Float64, T -> Nullable(T), String <-> LowCardinality(String), Enum growth is not); anything else is
refused with BAD_ARGUMENTS rather than rewriting (or losing) data. Key columns cannot change type,
nor be dropped or renamed (ALTER_OF_COLUMN_IS_FORBIDDEN), as in ClickHouse.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mergetree.exec.cast import cast_column
from mergetree.errors import (AlterOfColumnIsForbiddenError, BadArgumentsError, DuplicateColumnError,
                              IllegalColumnError, NotFoundColumnInBlockError, UnknownColumnError,
                              UnknownIdentifierError)
from mergetree.storage.metadata import ColumnDef, TableMetadata, parse_column_def, parse_expression, \
    referenced_columns


# --------------------------------------------------------------------------- reading old parts

def _storage(t):
    return getattr(t, "storage_type", t)


class SchemaPatch:
    """How to read one part under the table's current schema (see the module docstring).

    ``plan``: logical column -> ``("stored", stored_name, cast_type | None)`` or ``("default", ColumnDef)``;
    columns not in ``plan`` are read as stored."""

    __slots__ = ("plan", "metadata")

    def __init__(self, plan: dict, metadata: TableMetadata):
        self.plan = plan
        self.metadata = metadata

    def read(self, part, columns, mark_ranges, stats):
        from mergetree.column import Block

        names = self.metadata.column_names if columns is None else list(columns)
        stored = []                     # what to read as the part stores it
        for n in names:
            how = self.plan.get(n)
            if how is None:
                stored.append(n)
            elif how[0] == "stored" and how[1] not in stored:
                stored.append(how[1])
        block = part.read(stored, mark_ranges, stats, stored=True)
        n_rows = block.num_rows
        out = {}
        for n in names:
            how = self.plan.get(n)
            if how is None:
                out[n] = block[n]
            elif how[0] == "stored":
                col = block[how[1]]
                out[n] = cast_column(col, how[2]) if how[2] is not None else col
            else:
                out[n] = self._default(part, how[1], mark_ranges, n_rows)
        return Block(out, num_rows=n_rows)

    def _default(self, part, c: ColumnDef, mark_ranges, n_rows: int):
        """The value of a column a part lacks: its DEFAULT expression over the part's rows, or the
        type's default (ClickHouse computes missing columns the same way on read)."""
        from mergetree.column import Block, default_column

        t = _storage(c.type)
        if not c.default:
            return default_column(t, n_rows)
        from mergetree.exec.expression import evaluate

        ast = self.metadata.default_asts[c.name]
        refs = [r for r in referenced_columns(ast) if r in self.metadata.column_names and r != c.name]
        args = part.read(refs, mark_ranges) if refs else Block({}, num_rows=n_rows)
        col = evaluate(ast, args)
        if len(col) != n_rows:
            col = col.take(np.zeros(n_rows, dtype=np.int64))
        return cast_column(col, t)

    @property
    def column_names(self) -> list[str]:
        return self.metadata.column_names


def patch_for(part, metadata: TableMetadata) -> SchemaPatch | None:
    """The part's :class:`SchemaPatch` under ``metadata``, or None when it stores every column as is."""
    stored = dict(part.columns)
    plan = {}
    for c in metadata.columns:
        t = _storage(c.type)
        src = c.name if c.name in stored else next((f for f in reversed(c.former) if f in stored), None)
        if src is None:
            plan[c.name] = ("default", c)
        elif src != c.name or stored[src] != t:
            plan[c.name] = ("stored", src, t if stored[src] != t else None)
    return SchemaPatch(plan, metadata) if plan else None


# --------------------------------------------------------------------------- the changes (pure)

def _key_columns(m: TableMetadata) -> set[str]:
    """Columns the sorting / primary / partition key, the TTL or the engine read."""
    out: set[str] = set()
    for ast in m.sorting_key_asts + m.primary_key_asts + m.partition_key_asts:
        out |= set(referenced_columns(ast))
    if m.ttl_ast is not None:
        out |= set(referenced_columns(m.ttl_ast))
    out |= {a for a in m.engine_args if a in m.column_names}
    return out


def _sorting_columns(m: TableMetadata) -> set[str]:
    out: set[str] = set()
    for ast in m.sorting_key_asts + m.primary_key_asts + m.partition_key_asts:
        out |= set(referenced_columns(ast))
    return out


def _with_columns(m: TableMetadata, columns: list[ColumnDef]) -> TableMetadata:
    new = TableMetadata(m.name, columns, m.engine, list(m.order_by), list(m.partition_by), list(m.primary_key),
                        m.ttl, dict(m.settings), m.version + 1)
    new.validate_expressions()
    for c in new.columns:
        if c.default:
            for r in referenced_columns(new.default_asts[c.name]):
                if r not in new.column_names:
                    raise UnknownIdentifierError(f"Unknown expression identifier `{r}` in the DEFAULT "
                                                 f"expression of column {c.name} in table {m.name}")
    return new


def _index(m: TableMetadata, name: str) -> int:
    for i, c in enumerate(m.columns):
        if c.name == name:
            return i
    return -1


def _forget_former(columns: list[ColumnDef], name: str) -> list[ColumnDef]:
    """``name`` now belongs to a new column: no column may be read from a stored ``name`` anymore."""
    return [dataclasses.replace(c, former=tuple(f for f in c.former if f != name)) if name in c.former else c
            for c in columns]


def _check_default(m: TableMetadata, c: ColumnDef) -> None:
    if c.default:
        try:
            parse_expression(c.default)
        except Exception as e:
            raise BadArgumentsError(f"Cannot parse the DEFAULT expression of column {c.name}: {e}") from None


def add_column(m: TableMetadata, column: str | ColumnDef, *, if_not_exists: bool = False,
               after: str | None = None, first: bool = False) -> TableMetadata | None:
    """``ADD COLUMN [IF NOT EXISTS] name Type [DEFAULT expr] [AFTER col | FIRST]``; None = no change."""
    c = parse_column_def(column) if isinstance(column, str) else column
    if _index(m, c.name) >= 0:
        if if_not_exists:
            return None
        raise DuplicateColumnError(f"Cannot add column `{c.name}`: column with this name already exists")
    _check_default(m, c)
    cols = _forget_former(list(m.columns), c.name)
    if first:
        pos = 0
    elif after is not None:
        pos = _index(m, after)
        if pos < 0:
            raise UnknownColumnError(f"Wrong column name. Cannot find column {after} to insert after")
        pos += 1
    else:
        pos = len(cols)
    cols.insert(pos, dataclasses.replace(c, former=()))
    return _with_columns(m, cols)


def drop_column(m: TableMetadata, name: str, *, if_exists: bool = False) -> TableMetadata | None:
    """``DROP COLUMN [IF EXISTS] name``: not a key column, nor one another column's DEFAULT reads."""
    i = _index(m, name)
    if i < 0:
        if if_exists:
            return None
        raise NotFoundColumnInBlockError(f"Wrong column name. Cannot find column `{name}` to drop")
    for c in m.columns:
        if c.name != name and c.default and name in referenced_columns(m.default_asts[c.name]):
            raise IllegalColumnError(f"Cannot drop column `{name}`, because column `{c.name}` depends on it")
    if name in _key_columns(m):
        raise AlterOfColumnIsForbiddenError(f"Trying to ALTER DROP key {name} column which is a part of "
                                            f"key expression (table {m.name})")
    if len(m.columns) == 1:
        raise BadArgumentsError(f"Cannot DROP the last column {name} of table {m.name}")
    return _with_columns(m, [c for c in m.columns if c.name != name])


def rename_column(m: TableMetadata, old: str, new: str, *, if_exists: bool = False) -> TableMetadata | None:
    """``RENAME COLUMN [IF EXISTS] old TO new`` (not key columns; a DEFAULT that reads it is refused)."""
    i = _index(m, old)
    if i < 0:
        if if_exists:
            return None
        raise NotFoundColumnInBlockError(f"Wrong column name. Cannot find column `{old}` to rename")
    if old == new:
        return None
    if _index(m, new) >= 0:
        raise DuplicateColumnError(f"Cannot rename to `{new}`: column with this name already exists")
    if old in _key_columns(m):
        raise AlterOfColumnIsForbiddenError(f"Trying to ALTER RENAME key {old} column which is a part of "
                                            f"key expression")
    cols = _forget_former(list(m.columns), new)
    for j, c in enumerate(cols):    # a DEFAULT that reads the column follows the rename (as in ClickHouse)
        if c.default and old in referenced_columns(m.default_asts[c.name]):
            from sqlparse_ch import format_sql

            cols[j] = dataclasses.replace(c, default=format_sql(_rename_identifier(m.default_asts[c.name], old, new)))
    c = cols[i]
    cols[i] = dataclasses.replace(c, name=new, former=tuple(f for f in c.former if f != new) + (old,))
    return _with_columns(m, cols)


def _rename_identifier(node, old: str, new: str):
    """The expression AST with every column reference ``old`` named ``new``."""
    if isinstance(node, tuple):
        return tuple(_rename_identifier(x, old, new) for x in node)
    if isinstance(node, list):
        return [_rename_identifier(x, old, new) for x in node]
    if not dataclasses.is_dataclass(node):
        return node
    if type(node).__name__ == "Identifier":
        return dataclasses.replace(node, name=new) if node.name == old and node.table is None else node
    changes = {f.name: _rename_identifier(getattr(node, f.name), old, new) for f in dataclasses.fields(node)
               if f.name != "span"}
    return dataclasses.replace(node, **changes)


_INT_BITS = {f"{p}Int{b}": (p == "U", b) for p in ("", "U") for b in (8, 16, 32, 64, 128, 256)}


def safe_conversion(old, new) -> bool:
    """Can every stored value of type ``old`` be read as ``new`` with no loss (a CAST on read)?"""
    a, b = str(old), str(new)
    if a == b:
        return True
    if b.startswith("Nullable(") and b[9:-1] == a:
        return True
    if a.startswith("Nullable(") and b.startswith("Nullable("):
        return safe_conversion(a[9:-1], b[9:-1])
    if b.startswith("Nullable("):
        return safe_conversion(a, b[9:-1])
    if {a, b} == {"String", "LowCardinality(String)"}:
        return True
    if a in _INT_BITS and b in _INT_BITS:
        (ua, ba), (ub, bb) = _INT_BITS[a], _INT_BITS[b]
        return (ua == ub and bb >= ba) or (ua and not ub and bb > ba)
    if a in _INT_BITS and b in ("Float32", "Float64"):
        return _INT_BITS[a][1] < (24 if b == "Float32" else 53)
    if a.startswith("DateTime") and b.startswith("DateTime") and not a.startswith("DateTime64") \
            and not b.startswith("DateTime64"):
        return True                     # the same seconds, shown in another time zone
    return (a, b) in {("Float32", "Float64"), ("Date", "Date32")}


def modify_column(m: TableMetadata, column: str | ColumnDef, *, if_exists: bool = False) -> TableMetadata | None:
    """``MODIFY COLUMN name [Type] [DEFAULT expr] [COMMENT 'c'] [CODEC(..)]``: what is given changes.

    A type change is metadata-only, so it must be lossless (:func:`safe_conversion`) and not on a
    key column; anything else is refused with a message naming the column and both types."""
    if isinstance(column, str):
        pieces = column.split(None, 1)
        untyped = len(pieces) > 1 and pieces[1].lstrip().upper().startswith(
            ("DEFAULT", "MATERIALIZED", "COMMENT", "CODEC"))
        column = _untyped(column) if untyped else parse_column_def(column)
    c = column
    i = _index(m, c.name)
    if i < 0:
        if if_exists:
            return None
        raise NotFoundColumnInBlockError(f"Wrong column. Cannot find column `{c.name}` to modify")
    old = m.columns[i]
    new = old
    if c.type is not None and str(c.type) != str(old.type):
        if c.name in _sorting_columns(m) or c.name in _key_columns(m):
            raise AlterOfColumnIsForbiddenError(
                f"ALTER of key column {c.name} from type {old.type} to type {c.type} is not safe because it "
                f"can change the representation of primary key")
        if not safe_conversion(_storage(old.type), _storage(c.type)):
            raise BadArgumentsError(
                f"Cannot change the type of column {c.name} from {old.type} to {c.type} in table {m.name}: "
                f"only lossless widening changes (e.g. UInt32 -> UInt64, Float32 -> Float64, T -> Nullable(T)) "
                f"are done in place; create a new column and copy the data instead")
        new = dataclasses.replace(new, type=c.type)
    if c.default_kind:
        new = dataclasses.replace(new, default_kind=c.default_kind, default=c.default)
        _check_default(m, new)
    if c.comment is not None:
        new = dataclasses.replace(new, comment=c.comment)
    if c.codec:
        new = dataclasses.replace(new, codec=c.codec)
    if new == old:
        return None
    cols = list(m.columns)
    cols[i] = new
    return _with_columns(m, cols)


def _untyped(text: str) -> ColumnDef:
    """``name DEFAULT expr`` / ``name COMMENT 'c'`` (no type): parse with a placeholder type."""
    name, rest = text.split(None, 1)
    c = parse_column_def(f"{name} String {rest}")
    return dataclasses.replace(c, type=None)


def comment_column(m: TableMetadata, name: str, comment: str) -> TableMetadata | None:
    """``COMMENT COLUMN name 'text'``."""
    i = _index(m, name)
    if i < 0:
        raise NotFoundColumnInBlockError(f"Wrong column name. Cannot find column `{name}` to comment")
    if m.columns[i].comment == comment:
        return None
    cols = list(m.columns)
    cols[i] = dataclasses.replace(cols[i], comment=comment or None)
    return _with_columns(m, cols)


def remove_default(m: TableMetadata, name: str) -> TableMetadata | None:
    """``MODIFY COLUMN name REMOVE DEFAULT``."""
    i = _index(m, name)
    if i < 0:
        raise NotFoundColumnInBlockError(f"Wrong column. Cannot find column `{name}` to modify")
    cols = list(m.columns)
    cols[i] = dataclasses.replace(cols[i], default_kind=None, default=None)
    return _with_columns(m, cols)


# --------------------------------------------------------------------------- applying a change

def names_to_reclaim(old: TableMetadata, new: TableMetadata) -> set[str]:
    """Names that now belong to a column they did not belong to before (ADD c after DROP c, RENAME
    to a name that a dropped or renamed column had): parts storing such a name must be rewritten."""
    before = {c.name for c in old.columns}
    return {c.name for c in new.columns if c.name not in before}


def alter_table(table, change, *args, **kwargs) -> bool:
    """Apply ``change(metadata, *args, **kwargs) -> TableMetadata | None`` to ``table``; False when
    nothing changed (IF [NOT] EXISTS). Crash-safe: the new metadata.json is the commit point."""
    return alter_table_many(table, [(change, args, kwargs)])


def alter_table_many(table, changes: list) -> bool:
    """Several changes ``(change, args, kwargs)`` as one ALTER: each is validated against the schema
    the previous ones made, before anything changes, so an error applies none of them (ClickHouse's
    ``ALTER t cmd, cmd``). They then commit as one new metadata.json, except when a step gives a
    name to a column while parts still store another column under it (DROP c, ADD c): those parts
    are rewritten under the schema committed just before that step, so such batches commit step by
    step (each step crash-safe on its own)."""
    table._check_open()
    with table._merge_lock:
        states = [table.metadata]
        for change, args, kwargs in changes:
            nxt = change(states[-1], *args, **kwargs)
            if nxt is not None:
                states.append(nxt)
        if len(states) == 1:
            return False
        stored = {n for e in table._active_entries() for n, _ in e.part.columns}
        steps = list(zip(states, states[1:]))
        if not any(names_to_reclaim(a, b) & stored for a, b in steps):
            new = states[-1]
            new.version = states[0].version + 1
            _commit(table, new)
            return True
        for old, new in steps:      # ``old`` is the committed schema when its step runs
            reclaim = names_to_reclaim(old, new)
            for name in [e.name for e in table._active_entries() if reclaim & {n for n, _ in e.part.columns}]:
                table._run_merge([name], final=False)     # rewritten under ``old``: the name goes away
            _commit(table, new)
    return True


def _commit(table, new: TableMetadata) -> None:
    """The commit point: metadata.json replaced atomically, then the table and its parts follow."""
    new.save(table.path)
    with table._lock:
        table.metadata = new
        table._algorithm = None
        for e in table._entries.values():
            e.part.schema_patch = patch_for(e.part, new)


def show_create(m: TableMetadata, database: str = "default") -> str:
    """``SHOW CREATE TABLE`` text, laid out as ClickHouse prints it."""
    from sqlparse_ch.literals import quote_string

    cols = []
    for c in m.columns:
        text = f"    `{c.name}` {c.type}"
        if c.default_kind:
            text += f" {c.default_kind} {c.default}"
        if c.comment:
            text += f" COMMENT {quote_string(c.comment)}"
        if c.codec:
            text += f" CODEC({c.codec})"
        cols.append(text)

    def key(members):
        return members[0] if len(members) == 1 else f"({', '.join(members)})"

    out = [f"CREATE TABLE {database}.{m.name}", "(", ",\n".join(cols), ")", f"ENGINE = {m.engine}"]
    if m.partition_by:
        out.append(f"PARTITION BY {key(m.partition_by)}")
    if m.primary_key and m.primary_key != m.order_by:
        out.append(f"PRIMARY KEY {key(m.primary_key)}")
    out.append(f"ORDER BY {key(m.order_by) if m.order_by else 'tuple()'}")
    if m.ttl:
        out.append(f"TTL {m.ttl}")
    from mergetree.storage.metadata import DEFAULT_SETTINGS

    settings = [f"index_granularity = {m.settings.get('index_granularity', 8192)}"]
    settings += [f"{k} = {v}" for k, v in m.settings.items()
                 if k != "index_granularity" and k in DEFAULT_SETTINGS and DEFAULT_SETTINGS[k] != v]
    out.append("SETTINGS " + ", ".join(settings))
    return "\n".join(out)


def modify_ttl(m: TableMetadata, ttl: str | None) -> TableMetadata | None:
    """``MODIFY TTL expr`` / ``REMOVE TTL`` (None or ""): metadata-only, the next merges apply it."""
    ttl = (ttl or "").strip() or None
    if ttl == m.ttl:
        return None
    new = TableMetadata(m.name, list(m.columns), m.engine, list(m.order_by), list(m.partition_by),
                        list(m.primary_key), ttl, dict(m.settings), m.version + 1)
    new.validate_expressions()
    return new


def upgrade_block(block, metadata: TableMetadata):
    """A block converted for an older schema of the table (rows acknowledged before an ALTER, e.g. in
    the server's write-ahead log) -> a block of the current columns, or None when a column changed
    in a way its values cannot follow losslessly. Added columns get their DEFAULT over the block's
    rows, renamed ones are found under a former name, dropped ones are left out."""
    from mergetree.column import Block, default_column

    cols = {}
    for c in metadata.columns:
        t = _storage(c.type)
        src = c.name if c.name in block.columns else next((f for f in reversed(c.former) if f in block.columns), None)
        if src is not None:
            col = block[src]
            if col.type != t:
                if not safe_conversion(col.type, t):
                    return None
                col = cast_column(col, t)
            cols[c.name] = col
        elif c.default:
            from mergetree.exec.expression import evaluate

            col = evaluate(metadata.default_asts[c.name], Block({**dict(block.columns), **cols}, block.num_rows))
            if len(col) != block.num_rows:
                col = col.take(np.zeros(block.num_rows, dtype=np.int64))
            cols[c.name] = cast_column(col, t)
        else:
            cols[c.name] = default_column(t, block.num_rows)
    return Block(cols, block.num_rows)


def materialize_column(table, name: str) -> int:
    """``MATERIALIZE COLUMN name``: write the column's DEFAULT into the parts that lack it (a one-part
    rewrite each, under the merge lock), so that a later change of the DEFAULT no longer changes their
    rows; parts that store the column keep their values, as in ClickHouse. Returns the parts rewritten."""
    from mergetree.errors import CannotUpdateColumnError

    table._check_open()
    m = table.metadata
    if name not in m.column_names:
        raise UnknownColumnError(f"There is no column {name} in table {m.name}")
    if name in _sorting_columns(m):
        raise CannotUpdateColumnError(f"Refused to materialize column `{name}` because it's in the sort key. "
                                      f"Doing so could break the sort order")
    if not m.column(name).default:
        raise BadArgumentsError(f"Cannot materialize column `{name}` because it doesn't have default expression")
    done = 0
    with table._merge_lock:
        for e in table._active_entries():
            patch = e.part.schema_patch
            if e.part.rows and patch is not None and patch.plan.get(name, ("",))[0] == "default":
                table._run_merge([e.name], final=False)
                done += 1
    return done
