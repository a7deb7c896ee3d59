"""String/sequence sorting kernels and sort helpers against their numpy twins and plain Python."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mergetree.kernels import sort as ksort
from mergetree.kernels import strings as kstr


def layout(items: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(items) + 1, np.int64)
    offsets[1:] = np.cumsum([len(b) for b in items])
    return offsets, np.frombuffer(b"".join(items), np.uint8).copy()


def python_dense_ranks(items: list) -> list[int]:
    """Reference: Python compares bytes like memcmp-then-length, and lists element-wise."""
    distinct = sorted(set(items))
    pos = {v: i for i, v in enumerate(distinct)}
    return [pos[v] for v in items]


def random_strings(rng: np.random.Generator, n: int) -> list[bytes]:
    """Short strings over a tiny alphabet incl. NUL and 0xFF, many shared prefixes and duplicates."""
    alphabet = np.array([0, 1, 97, 98, 255], np.uint8)
    out = []
    for _ in range(n):
        kind = rng.integers(0, 4)
        if kind == 0:
            length = rng.integers(0, 4)
        elif kind == 1:
            length = rng.integers(7, 11)  # around the 8-byte prefix boundary
        else:
            length = rng.integers(0, 20)
        body = alphabet[rng.integers(0, len(alphabet), length)].tobytes()
        if kind == 3:
            body = b"user_000" + body  # long shared prefix
        out.append(body)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_dense_rank_strings_matches_twin_and_python(seed):
    rng = np.random.default_rng(seed)
    items = random_strings(rng, int(rng.integers(1, 400)))
    offsets, data = layout(items)
    ranks = kstr.dense_rank_sequences(offsets, data)
    assert ranks.tolist() == kstr.dense_rank_sequences_numpy(offsets, data).tolist()
    assert ranks.tolist() == python_dense_ranks(items)


@pytest.mark.parametrize("seed", range(6))
def test_argsort_strings_is_stable_and_matches_twin(seed):
    rng = np.random.default_rng(100 + seed)
    items = random_strings(rng, int(rng.integers(1, 300)))
    offsets, data = layout(items)
    order = kstr.argsort_sequences(offsets, data)
    assert order.tolist() == kstr.argsort_sequences_numpy(offsets, data).tolist()
    # Python's sort is stable too: same permutation
    assert order.tolist() == sorted(range(len(items)), key=lambda i: items[i])


def test_clickhouse_string_order_examples():
    # chDB: ORDER BY over ['a','a\0','','b','\xff','ab'] gives '', 'a', 'a\0', 'ab', 'b', '\xff'
    items = [b"a", b"a\x00", b"", b"b", b"\xff", b"ab"]
    offsets, data = layout(items)
    order = kstr.argsort_sequences(offsets, data)
    assert [items[i] for i in order] == [b"", b"a", b"a\x00", b"ab", b"b", b"\xff"]


@pytest.mark.parametrize("seed", range(6))
def test_dense_rank_int_sequences_matches_twin_and_python(seed):
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(1, 200))
    seqs = [tuple(rng.integers(0, 4, rng.integers(0, 6)).tolist()) for _ in range(n)]
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum([len(s) for s in seqs])
    data = np.array([x for s in seqs for x in s], np.int64)
    ranks = kstr.dense_rank_sequences(offsets, data)
    assert ranks.tolist() == kstr.dense_rank_sequences_numpy(offsets, data).tolist()
    assert ranks.tolist() == python_dense_ranks(seqs)


def test_empty_inputs():
    offsets = np.zeros(1, np.int64)
    data = np.zeros(0, np.uint8)
    assert kstr.dense_rank_sequences(offsets, data).tolist() == []
    assert kstr.argsort_sequences(offsets, data).tolist() == []
    assert kstr.hash_strings(offsets, data).tolist() == []


@given(st.lists(st.binary(max_size=12), max_size=60))
@settings(max_examples=60, deadline=None)
def test_hash_strings_matches_twin_and_fnv1a(items):
    offsets, data = layout(items)
    h = kstr.hash_strings(offsets, data)
    assert h.tolist() == kstr.hash_strings_numpy(offsets, data).tolist()

    def fnv(b: bytes) -> int:
        x = 0xCBF29CE484222325
        for c in b:
            x = ((x ^ c) * 0x100000001B3) % (1 << 64)
        return x
    assert h.tolist() == [fnv(b) for b in items]


@given(st.lists(st.tuples(st.binary(max_size=5), st.binary(max_size=5)), max_size=40))
@settings(max_examples=60, deadline=None)
def test_equal_rows(pairs):
    a, b = layout([p[0] for p in pairs]), layout([p[1] for p in pairs])
    assert kstr.equal_rows(*a, *b).tolist() == [x == y for x, y in pairs]


@given(st.lists(st.binary(max_size=6), min_size=1, max_size=30), st.data())
@settings(max_examples=60, deadline=None)
def test_gather_strings(items, data):
    idx = np.array(data.draw(st.lists(st.integers(0, len(items) - 1), max_size=40)), np.int64)
    offsets, buf = kstr.gather_strings(*layout(items), idx)
    twin_offsets, twin_buf = kstr.gather_strings_numpy(*layout(items), idx)
    assert offsets.tolist() == twin_offsets.tolist() == layout([items[i] for i in idx])[0].tolist()
    assert buf.tobytes() == twin_buf.tobytes() == b"".join(items[i] for i in idx)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gather_strings_long_random_permutation(seed):
    """Past PREFETCH_DISTANCE rows (the prefetching loop), with empty strings at the very end."""
    rng = np.random.default_rng(seed)
    n = 5000
    lens = rng.integers(0, 50, n)
    lens[-3:] = 0
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    data = rng.integers(0, 256, int(offsets[-1])).astype(np.uint8)
    idx = np.concatenate([rng.permutation(n), rng.integers(0, n, 777), [n - 1, n - 1]]).astype(np.int64)
    got = kstr.gather_strings(offsets, data, idx)
    want = kstr.gather_strings_numpy(offsets, data, idx)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    with pytest.raises(IndexError):
        kstr.gather_strings(offsets, data, np.array([0, n], np.int64))


@given(st.lists(st.binary(max_size=10), max_size=60))
@settings(max_examples=80, deadline=None)
def test_group_strings_matches_twin(items):
    offsets, data = layout(items)
    ids, first = kstr.group_strings(offsets, data)
    twin_ids, twin_first = kstr.group_strings_numpy(offsets, data)
    assert ids.tolist() == twin_ids.tolist() and first.tolist() == twin_first.tolist()
    seen: dict[bytes, int] = {}
    assert ids.tolist() == [seen.setdefault(b, len(seen)) for b in items]


def test_group_strings_large_all_distinct():
    items = [str(i * 7919 % 20011).encode() for i in range(20000)]
    ids, first = kstr.group_strings(*layout(items))
    seen: dict[bytes, int] = {}
    assert ids.tolist() == [seen.setdefault(b, len(seen)) for b in items]
    first_index: dict[bytes, int] = {}
    for i, b in enumerate(items):
        first_index.setdefault(b, i)
    assert first.tolist() == list(first_index.values())


@pytest.mark.parametrize("distinct", [3, 700, 100_000])
def test_dense_rank_large_columns_both_strategies(distinct):
    """>= 1024 rows: hash grouping when few distinct values, direct sort when most are distinct."""
    rng = np.random.default_rng(distinct)
    pool = [rng.integers(0, 4, rng.integers(0, 20)).astype(np.uint8).tobytes() + b"x" * int(rng.integers(0, 2))
            for _ in range(min(distinct, 5000))]
    items = [pool[i] for i in rng.integers(0, len(pool), 5000)]
    offsets, data = layout(items)
    ranks = kstr.dense_rank_sequences(offsets, data)
    assert ranks.tolist() == python_dense_ranks(items)
    assert ranks.tolist() == kstr.dense_rank_sequences_numpy(offsets, data).tolist()


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-2, 2), st.integers(0, 1)), max_size=80))
@settings(max_examples=80, deadline=None)
def test_sort_permutation_and_ranks(rows):
    keys = [np.array([r[k] for r in rows], np.int64) for k in range(3)]
    order = ksort.sort_permutation(keys)
    assert order.tolist() == sorted(range(len(rows)), key=lambda i: rows[i])
    ranks = ksort.ranks_from_sorted(order, keys)
    assert ranks.tolist() == ksort.ranks_from_sorted_numpy(order, keys).tolist()
    assert ranks.tolist() == python_dense_ranks(rows)
    assert ksort.dense_rank_keys(keys).tolist() == python_dense_ranks(rows)
    assert ksort.dense_rank_keys(keys[0]).tolist() == python_dense_ranks([r[0] for r in rows])


@given(st.lists(st.sampled_from(["u8", "i64", "u64", "u32", "bool", "f64"]), min_size=1, max_size=3), st.data())
@settings(max_examples=150, deadline=None)
def test_sort_permutation_packed_and_fallback_match_lexsort(dtypes, data):
    n = data.draw(st.integers(0, 60))
    ranges = {"u8": (0, 255), "i64": (-2 ** 63, 2 ** 63 - 1), "u64": (0, 2 ** 64 - 1), "u32": (0, 2 ** 32 - 1),
              "bool": (0, 1), "f64": (-3, 3)}
    keys = []
    for name in dtypes:
        lo, hi = ranges[name]
        narrow = data.draw(st.booleans())  # narrow ranges take the packed path, wide ones fall back
        if narrow:
            base = data.draw(st.integers(lo, hi))
            lo, hi = base, min(hi, base + 5)
        values = data.draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))
        dtype = {"u8": np.uint8, "i64": np.int64, "u64": np.uint64, "u32": np.uint32, "bool": np.bool_,
                 "f64": np.float64}[name]
        keys.append(np.array(values, dtype=dtype))
    order = ksort.sort_permutation(keys)
    assert order.tolist() == ksort.sort_permutation_numpy(keys).tolist()
    rows = list(zip(*[k.tolist() for k in keys])) if n else []
    assert order.tolist() == sorted(range(n), key=lambda i: rows[i])


def test_flatten_keys_nested():
    a, b, c = np.arange(3), np.arange(3) * 2, np.arange(3) * 3
    flat = ksort.flatten_keys((a, (b, [c])))
    assert [k.tolist() for k in flat] == [a.tolist(), b.tolist(), c.tolist()]


def test_large_random_strings_against_python():
    rng = np.random.default_rng(7)
    items = [rng.integers(97, 100, rng.integers(0, 12)).astype(np.uint8).tobytes() for _ in range(5000)]
    offsets, data = layout(items)
    assert kstr.dense_rank_sequences(offsets, data).tolist() == python_dense_ranks(items)



@pytest.mark.parametrize("seed", range(4))
def test_long_shared_prefixes_and_trailing_nuls(seed):
    """Runs that tie over several 8-byte chunks, and strings equal up to NUL padding."""
    rng = np.random.default_rng(300 + seed)
    base = b"https://example.com/path/to/page?"  # 33 bytes shared by everyone
    items = []
    for _ in range(3000):
        tail = rng.integers(0, 3, rng.integers(0, 12)).astype(np.uint8).tobytes()  # bytes 0..2, many NULs
        items.append(base[: int(rng.integers(20, 34))] + tail)
    offsets, data = layout(items)
    expected = python_dense_ranks(items)
    assert kstr.dense_rank_sequences(offsets, data).tolist() == expected
    assert kstr.argsort_sequences(offsets, data).tolist() == sorted(range(len(items)), key=lambda i: items[i])


@pytest.mark.parametrize("bits,n", [(1, 5000), (11, 5000), (12, 10000), (25, 20000), (44, 9000), (30, 1)])
def test_radix_argsort_matches_stable_argsort(bits, n):
    rng = np.random.default_rng(bits)
    keys = rng.integers(0, 1 << bits, n, dtype=np.uint64)
    if n > 10:
        keys[: n // 3] = keys[0]                      # many ties: stability matters
    before = keys.copy()
    assert ksort.radix_argsort(keys, bits).tolist() == np.argsort(before, kind="stable").tolist()
    assert np.array_equal(keys, before)               # the input is not used as a buffer


def test_radix_argsort_skips_constant_digits():
    keys = (np.arange(6000, dtype=np.uint64) % 7) << np.uint64(22)   # low 22 bits all zero
    assert ksort.radix_argsort(keys, 25).tolist() == np.argsort(keys, kind="stable").tolist()


def test_sort_permutation_radix_path_equals_lexsort():
    rng = np.random.default_rng(9)
    a = rng.integers(202401, 202404, 50_000).astype(np.uint32)
    b = rng.integers(1_700_000_000, 1_707_776_000, 50_000).astype(np.uint32)
    c = rng.integers(-5, 5, 50_000)
    assert ksort.sort_permutation([a, b, c]).tolist() == ksort.sort_permutation_numpy([a, b, c]).tolist()
