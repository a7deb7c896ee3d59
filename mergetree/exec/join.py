"""Join operator (logical.Join): a hash join that builds on the right side and probes with the
left side's blocks as they stream in.

1. The right input is collected into one Block; past ``max_bytes_in_join`` / ``max_rows_in_join``
   (0 = unlimited) the query fails with SET_SIZE_LIMIT_EXCEEDED.
2. Keys -> uint64 per row. Numeric and String keys (also Nullable / LowCardinality of them): the
   right side's hash table is built once (`_Pairs`: numbers by their bits, exact; Strings by FNV-1a
   over offsets + bytes, several columns by a combined hash, both verified on the matching pairs
   with a byte / value compare) and every left block probes it. Other key types (FixedString, UUID,
   arrays, Int* = UInt64, null-safe keys) fall back to `_encode`: group ids of both sides
   factorized together by the group-by kernels. A NULL key never matches (except isNotDistinctFrom).
3. `kernels/join.py` gives every matching (left row, right row) pair; the residual part of ON
   filters the pairs; the strictness picks among them (ANY/SEMI: the first right row of a left
   row, or the first left row of a right row for RIGHT; ANY INNER: each key once; ANTI: rows
   without a pair); ASOF uses `asof_match` instead.
4. Missing sides read as type defaults, or NULL with join_use_nulls. Right rows never matched
   (RIGHT/FULL, RIGHT ANTI) come after the last left block.
"""

from __future__ import annotations

import numpy as np

from mergetree.column import Block, Column, NullableColumn, default_column
from mergetree.errors import SetSizeLimitExceededError
from mergetree.functions import values as V


#: a join without keys (CROSS, ON without equalities) pairs this many rows per step at most
CROSS_PAIRS_PER_STEP = 1 << 20
#: a hash join probes slices of a left block with at most this many matching pairs each
JOIN_PAIRS_PER_STEP = 1 << 22


def _setting_int(ctx, name: str) -> int:
    try:
        return int((ctx.settings or {}).get(name, 0) or 0)
    except (TypeError, ValueError):
        return 0


def _collect(it, schema) -> Block:
    from mergetree.exec.aggregate import collect

    return collect(it, schema, "JOIN (the right side's hash table)")


def _materialize(block: Block) -> Block:
    return Block({n: V.materialize(c) for n, c in block.columns.items()}, block.num_rows)


def _valid(cols, n: int) -> np.ndarray:
    valid = np.ones(n, np.bool_)
    for c in cols:
        c = V.unwrap_lc(c)
        if isinstance(c, NullableColumn):
            valid &= ~c.nulls
    return valid


def _encode(lcols: list, rcols: list):
    """(left keys, right keys, left rows never matching, right rows never matching or None):
    uint64 keys per row, equal keys <-> equal key tuples."""
    from mergetree.column import FixedColumn
    from mergetree.kernels.hashing import key_bits

    from mergetree import types as T

    extra_l, extra_r = None, None
    for i, (a, b) in enumerate(zip(lcols, rcols)):
        ta, tb = V.strip(a.type), V.strip(b.type)
        if ta != tb and isinstance(ta, T.DecimalType) and isinstance(tb, T.DecimalType):
            # Decimals of different scales: both as integers of the larger scale
            scale = max(ta.scale, tb.scale)
            va, vb = V.split_nullable(a)[0].values, V.split_nullable(b)[0].values
            with np.errstate(over="ignore"):
                va = va.astype(np.int64) * np.int64(10 ** (scale - ta.scale))
                vb = vb.astype(np.int64) * np.int64(10 ** (scale - tb.scale))
            lcols[i], rcols[i] = FixedColumn(T.Int64, va), FixedColumn(T.Int64, vb)
            continue
        if a.type != b.type:   # Int* = UInt64 (no common type): compare the uint64 bits; a negative
            va, vb = V.split_nullable(a)[0].values, V.split_nullable(b)[0].values   # value never matches
            bad_a, bad_b = va < 0 if va.dtype.kind == "i" else None, vb < 0 if vb.dtype.kind == "i" else None
            extra_l = bad_a if extra_l is None else extra_l if bad_a is None else extra_l | bad_a
            extra_r = bad_b if extra_r is None else extra_r if bad_b is None else extra_r | bad_b
            lcols[i], rcols[i] = FixedColumn(T.UInt64, key_bits(va)), FixedColumn(T.UInt64, key_bits(vb))
    lk, rk = _encode_same(lcols, rcols)
    return lk, rk, extra_l, extra_r


def _encode_same(lcols: list, rcols: list) -> tuple[np.ndarray, np.ndarray]:
    from mergetree.column import FixedColumn
    from mergetree.kernels.groupby import group_rows
    from mergetree.kernels.hashing import key_bits

    if len(lcols) == 1 and isinstance(lcols[0], FixedColumn) and lcols[0].values.ndim == 1 \
            and isinstance(rcols[0], FixedColumn) and lcols[0].values.dtype.kind in "iufb":
        return key_bits(lcols[0].values), key_bits(rcols[0].values)
    nl = len(lcols[0])
    both = [Column.concat([a, b]) for a, b in zip(lcols, rcols)]
    ids, _, _ = group_rows(both)
    ids = ids.astype(np.uint64)
    return ids[:nl], ids[nl:]


def _first_per(values: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of every value (in position order)."""
    if len(values) == 0:
        return np.zeros(0, np.int64)
    _, first = np.unique(values, return_index=True)
    return np.sort(first)


def _gather(col, idx: np.ndarray, out_type):
    """col.take(idx) where idx -1 gives the type default, or NULL when out_type is Nullable."""
    from mergetree import types as T

    missing = idx < 0
    if isinstance(out_type, T.NullableType) and isinstance(col.type, T.LowCardinalityType):
        col = V.unwrap_lc(col)
    if missing.any():
        ext = Column.concat([col, default_column(col.type, 1)])
        taken = ext.take(np.where(missing, len(col), idx))
    else:
        taken = col.take(idx)
    if isinstance(out_type, T.NullableType) and not isinstance(col.type, T.NullableType):
        return NullableColumn(out_type, taken, missing.copy())
    return taken


def _key_hash(col):
    """(uint64 per row, exact) for a numeric or String key column, else None (exact: equal hashes
    <-> equal values; otherwise matches are verified)."""
    from mergetree.column import FixedColumn, StringColumn
    from mergetree.kernels.hashing import key_bits
    from mergetree.kernels.strings import hash_strings

    plain, _ = V.split_nullable(V.unwrap_lc(col))
    if isinstance(plain, FixedColumn) and plain.values.ndim == 1 and plain.values.dtype.kind in "iufb":
        return key_bits(plain.values), True
    if isinstance(plain, StringColumn):
        return hash_strings(plain.offsets, plain.data), False
    return None


class _Pairs:
    """Matching state of one join: the right block, its hash table (built once) and which right
    rows matched."""

    def __init__(self, node, ctx, right: Block):
        from mergetree.kernels.join import build

        self.node, self.ctx, self.right = node, ctx, right
        self.right_matched = np.zeros(right.num_rows, np.bool_)
        self.right_keys = [V.materialize(right[k]) for k in node.right_keys]
        self.residual = None
        if node.residual is not None:
            from mergetree.exec.expression import bind

            lt, rt = node.left.types(), node.right.types()
            schema = {o: lt[s] for o, s in node.left_columns}
            schema.update({o: rt[s] for o, s in node.right_columns})
            schema.update({o: lt[s] for o, s, _ in node.using_columns})
            self.residual = bind(node.residual, schema)
        # hashed keys: same types on both sides, every key numeric or String
        self.table = None
        lt = node.left.types()
        self.null_safe = node.null_safe or [False] * len(node.left_keys)
        if self.right_keys and node.asof is None and not any(self.null_safe) and \
                all(lt[a] == c.type for a, c in zip(node.left_keys, self.right_keys)):
            hashes = [_key_hash(c) for c in self.right_keys]
            if all(h is not None for h in hashes):
                self.exact = len(hashes) == 1 and hashes[0][1]
                rk = self._combine([h for h, _ in hashes])
                self.table = build(rk, _valid(self.right_keys, right.num_rows))

    @staticmethod
    def _combine(hashes):
        from mergetree.kernels.join import combine_hashes

        out = hashes[0]
        for h in hashes[1:]:
            out = combine_hashes(out, h)
        return out

    def _probe(self, lcols, nl):
        from mergetree.kernels.join import expand, probe

        hashes = [_key_hash(c) for c in lcols]
        if any(h is None for h in hashes):
            return None
        first, count = probe(self.table, self._combine([h for h, _ in hashes]), _valid(lcols, nl))
        li, ri = expand(first, count, self.table.next_row)
        if not self.exact and len(li):        # hashed: keep the pairs whose keys are really equal
            li, ri = self._verify(lcols, li, ri)
        return li, ri

    def _verify(self, lcols, li, ri):
        from mergetree.column import StringColumn
        from mergetree.kernels.hashing import key_bits
        from mergetree.kernels.join import strings_equal_at

        ok = np.ones(len(li), np.bool_)
        for a, b in zip(lcols, self.right_keys):
            pa, _ = V.split_nullable(V.unwrap_lc(a))
            pb, _ = V.split_nullable(V.unwrap_lc(b))
            if isinstance(pa, StringColumn):
                ok &= strings_equal_at(pa.offsets, pa.data, li, pb.offsets, pb.data, ri)
            else:
                ok &= key_bits(pa.values)[li] == key_bits(pb.values)[ri]
        return li[ok], ri[ok]

    def slices(self, block: Block) -> list:
        """`block`, or row slices of it each with at most JOIN_PAIRS_PER_STEP candidate pairs (keys
        with many duplicates on both sides), so a many-to-many join streams instead of exploding."""
        from mergetree.kernels.join import probe

        node = self.node
        if self.table is None or not node.left_keys or block.num_rows < 2:
            return [block]
        lcols = [V.materialize(block[k]) for k in node.left_keys]
        hashes = [_key_hash(c) for c in lcols]
        if any(h is None for h in hashes):
            return [block]
        _, count = probe(self.table, self._combine([h for h, _ in hashes]), _valid(lcols, block.num_rows))
        total = int(count.sum())
        if total <= JOIN_PAIRS_PER_STEP:
            return [block]
        cum = np.cumsum(count)
        cuts = np.searchsorted(cum, np.arange(JOIN_PAIRS_PER_STEP, total, JOIN_PAIRS_PER_STEP), "right")
        bounds = sorted({0, block.num_rows, *[int(c) for c in cuts if 0 < c < block.num_rows]})
        return [block.slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]

    def pairs(self, left: Block) -> tuple[np.ndarray, np.ndarray]:
        """(left rows, right rows) of every candidate pair, by left row then right row."""
        from mergetree.kernels.join import hash_join

        node, nl, nr = self.node, left.num_rows, self.right.num_rows
        if node.asof is not None:
            return self._asof(left)
        found = None
        if not node.left_keys:             # CROSS (or ON without equalities)
            li = np.repeat(np.arange(nl, dtype=np.int64), nr)
            ri = np.tile(np.arange(nr, dtype=np.int64), nl)
        else:
            lcols = [V.materialize(left[k]) for k in node.left_keys]
            if self.table is not None:
                found = self._probe(lcols, nl)
            if found is not None:
                li, ri = found
            else:                          # other key types: factorize both sides together
                lk, rk, bad_l, bad_r = _encode(list(lcols), list(self.right_keys))
                strict_l = [c for c, ns in zip(lcols, self.null_safe) if not ns]   # NULL never matches
                strict_r = [c for c, ns in zip(self.right_keys, self.null_safe) if not ns]
                lv, rv = _valid(strict_l, nl), _valid(strict_r, nr)
                lv = lv if bad_l is None else lv & ~bad_l
                rv = rv if bad_r is None else rv & ~bad_r
                li, ri = hash_join(lk, lv, rk, rv)
        if self.residual is not None and len(li):
            li, ri = self._filter(left, li, ri)
        return li, ri

    def _asof(self, left: Block):
        from mergetree.kernels.join import asof_match

        node, nl, nr = self.node, left.num_rows, self.right.num_rows
        lcols = [V.materialize(left[k]) for k in node.left_keys]
        lv_col, op, rv_col = node.asof
        lval, rval = V.materialize(left[lv_col]), V.materialize(self.right[rv_col])
        if lcols:
            lk, rk, _, _ = _encode(list(lcols), list(self.right_keys))
        else:
            lk, rk = np.zeros(nl, np.uint64), np.zeros(nr, np.uint64)
        lvalid = _valid(lcols + [lval], nl)
        rvalid = _valid(self.right_keys + [rval], nr)
        lvals, rvals = _asof_values(lval), _asof_values(rval)
        pos = asof_match(lk.view(np.int64), lvals, lvalid, rk.view(np.int64), rvals, rvalid, op)
        li = np.flatnonzero(pos >= 0).astype(np.int64)
        return li, pos[li]

    def _filter(self, left: Block, li, ri):
        from mergetree.exec.expression import execute
        from mergetree.exec.filter import truth

        node = self.node
        cols = {o: left[s].take(li) for o, s in node.left_columns}
        cols.update({o: self.right[s].take(ri) for o, s in node.right_columns})
        cols.update({o: left[s].take(li) for o, s, _ in node.using_columns})
        mask = truth(execute(self.residual, Block(cols, len(li))), len(li))
        return li[mask], ri[mask]


def _asof_values(col) -> np.ndarray:
    plain, _ = V.split_nullable(V.unwrap_lc(col))
    v = np.asarray(plain.values)
    if v.ndim != 1 or v.dtype.kind not in "iufb":
        from mergetree.errors import IllegalTypeOfArgumentError

        raise IllegalTypeOfArgumentError(f"ASOF JOIN column must be a number, date or time, got {col.type}")
    return v.astype(np.float64) if v.dtype.kind == "f" else v.astype(np.int64)


def _select(node, state: _Pairs, nl: int, li: np.ndarray, ri: np.ndarray):
    """Apply kind + strictness to the candidate pairs of one left block: (left rows, right rows)."""
    kind, strict = node.kind, node.strictness
    if strict in ("ANY", "SEMI") and kind in ("LEFT", "INNER") or strict == "ANTI" and kind == "LEFT":
        keep = _first_per(li)
        li, ri = li[keep], ri[keep]
        if strict == "ANY" and kind == "INNER":      # each key joins once: first right row used once
            fresh = ~state.right_matched[ri]
            li, ri = li[fresh], ri[fresh]
            keep = _first_per(ri)
            li, ri = li[keep], ri[keep]
    elif strict in ("ANY", "SEMI") and kind == "RIGHT":   # per right row the first left row
        fresh = ~state.right_matched[ri]
        li, ri = li[fresh], ri[fresh]
        keep = _first_per(ri)
        li, ri = li[keep], ri[keep]
    state.right_matched[ri] = True
    if strict == "ANTI" and kind == "LEFT":
        matched = np.zeros(nl, np.bool_)
        matched[li] = True
        li = np.flatnonzero(~matched).astype(np.int64)
        return li, np.full(len(li), -1, np.int64)
    if kind == "RIGHT" and strict == "ANTI":
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if kind in ("LEFT", "FULL") and strict not in ("SEMI",):
        matched = np.zeros(nl, np.bool_)
        matched[li] = True
        missing = np.flatnonzero(~matched).astype(np.int64)
        if len(missing):
            li = np.concatenate([li, missing])
            ri = np.concatenate([ri, np.full(len(missing), -1, np.int64)])
            order = np.argsort(li, kind="stable")
            li, ri = li[order], ri[order]
    return li, ri


def _output(node, left: Block | None, right: Block, li, ri, out_types: dict) -> Block:
    cols = {}
    n = len(li)
    for o, s in node.left_columns:
        cols[o] = _gather(left[s], li, out_types[o]) if left is not None else \
            _gather(default_column(node.left.types()[s], 0), li, out_types[o])
    for o, s in node.right_columns:
        cols[o] = _gather(right[s], ri, out_types[o])
    for o, ls, rs in node.using_columns:
        t = out_types[o]
        if node.kind == "RIGHT" or left is None:
            col = right[rs].take(ri)
        elif node.kind == "FULL":
            col = Column.concat([left[ls], right[rs]]).take(np.where(li >= 0, li, len(left) + ri))
        else:
            col = left[ls].take(li)
        if t != col.type:
            col = NullableColumn(t, V.unwrap_lc(col), np.zeros(n, np.bool_))
        cols[o] = col
    return Block(cols, n)


def run_join(node, ctx, children):
    left_it, right_it = children
    right = _materialize(_collect(right_it, node.right.schema))
    max_rows, max_bytes = _setting_int(ctx, "max_rows_in_join"), _setting_int(ctx, "max_bytes_in_join")
    if max_rows and right.num_rows > max_rows:
        raise SetSizeLimitExceededError(f"Limit for JOIN exceeded, max rows: {max_rows}, current rows: "
                                        f"{right.num_rows} (the right side of a JOIN is kept in memory; "
                                        "put the smaller table on the right or raise max_rows_in_join)")
    if max_bytes:
        nbytes = sum(c.nbytes for c in right.columns.values())
        if nbytes > max_bytes:
            raise SetSizeLimitExceededError(
                f"Limit for JOIN exceeded, max bytes: {max_bytes}, current bytes: {nbytes} (the right side "
                "of a JOIN is kept in memory; put the smaller table on the right or raise max_bytes_in_join)")
    if node.kind == "PASTE":
        yield from _paste(node, left_it, right)
        return
    state = _Pairs(node, ctx, right)
    out_types = node.types()
    right_only = node.kind in ("RIGHT", "FULL") and node.strictness != "SEMI"
    emit_pairs = not (node.kind == "RIGHT" and node.strictness == "ANTI")
    # without keys every left row pairs with every right row: probe slices of the left block so
    # one step holds at most CROSS_PAIRS_PER_STEP pairs (a cross join streams instead of exploding)
    step = max(1, CROSS_PAIRS_PER_STEP // max(right.num_rows, 1)) if not node.left_keys and node.asof is None \
        else None
    for whole in left_it:
        if whole.num_rows == 0:
            continue
        whole = _materialize(whole)
        if step is not None:
            parts = [whole] if whole.num_rows <= step else \
                [whole.slice(a, min(a + step, whole.num_rows)) for a in range(0, whole.num_rows, step)]
        else:
            parts = state.slices(whole)
        for block in parts:
            li, ri = state.pairs(block)
            li, ri = _select(node, state, block.num_rows, li, ri)
            if emit_pairs and len(li):
                yield _output(node, block, right, li, ri, out_types)
    if right_only:
        ri = np.flatnonzero(~state.right_matched).astype(np.int64)
        if len(ri):
            yield _output(node, None, right, np.full(len(ri), -1, np.int64), ri, out_types)


def _paste(node, left_it, right: Block):
    """PASTE JOIN: left row i next to right row i, as many rows as the shorter side."""
    out_types = node.types()
    offset = 0
    for block in left_it:
        take = min(block.num_rows, right.num_rows - offset)
        if take <= 0:
            break
        block = _materialize(block)
        rows = np.arange(take, dtype=np.int64)
        yield _output(node, block, right, rows, rows + offset, out_types)
        offset += take
