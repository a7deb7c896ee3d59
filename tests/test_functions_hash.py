"""Hash functions against chDB (random byte strings of every length class, integers of every
width, several arguments) and the numba kernels against plain-Python twins (hashlib for MD5
and SHA-256, a Python xxHash64 / MurmurHash3_x86_32)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergetree import types as T
from mergetree.column import Block, column_from_numpy
from mergetree.exec.expression import evaluate
from sqlparse_ch.ast.expr import FunctionCall, Identifier

from tests.test_functions_url import string_column

chdb = pytest.importorskip("chdb")

HASHES = ["cityHash64", "sipHash64", "xxHash64", "xxh3", "murmurHash3_32", "murmurHash3_64", "farmFingerprint64",
          "xxHash32", "murmurHash2_32", "murmurHash2_64", "halfMD5"]
M64 = (1 << 64) - 1


def _chdb_values(exprs: list[str], items: list[bytes]) -> list[list[str]]:
    src = "arrayJoin([" + ",".join(f"unhex('{x.hex()}')" for x in items) + "])"
    q = f"SELECT {', '.join(exprs)} FROM (SELECT {src} AS x)"
    return [r.split("\t") for r in chdb.query(q, "TabSeparated").data().rstrip("\n").split("\n")]


def _ours(fn: str, block: Block, *names: str) -> list[str]:
    col = evaluate(FunctionCall(fn, tuple(Identifier(n) for n in names)), block)
    return [str(v) for v in col.to_pylist()]


def check_strings(items: list[bytes]) -> None:
    want = _chdb_values([f"{f}(x)" for f in HASHES] + ["hex(MD5(x))", "hex(SHA256(x))"], items)
    block = Block({"x": string_column(items)})
    for j, f in enumerate(HASHES):
        got = _ours(f, block, "x")
        bad = [(items[i], got[i], want[i][j]) for i in range(len(items)) if got[i] != want[i][j]]
        assert not bad, f"{f}: (input, ours, chDB) {bad[:3]}"
    for j, f in ((len(HASHES), "MD5"), (len(HASHES) + 1, "SHA256")):
        col = evaluate(FunctionCall(f, (Identifier("x"),)), block)
        got = [bytes(r).hex().upper() for r in col.values]
        assert got == [w[j] for w in want], f


def test_hashes_of_all_length_classes_match_chdb():
    rng = np.random.default_rng(5)
    lengths = list(range(0, 130)) + [200, 240, 241, 255, 256, 500, 1023, 1024, 1025, 2048, 4096, 5000]
    check_strings([bytes(rng.integers(0, 256, k, dtype=np.uint8)) for k in lengths])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=40))
def test_hashes_of_random_bytes_match_chdb(items):
    check_strings(items)


INT_TYPES = ["Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64", "Float32", "Float64",
             "Date", "DateTime"]


@pytest.mark.parametrize("tname", INT_TYPES)
def test_hashes_of_numbers_depend_on_the_type_like_chdb(tname):
    t = T.parse_type(tname)
    rng = np.random.default_rng(len(tname))
    if t.dtype.kind == "f":
        vals = rng.normal(0, 1e6, 40).astype(t.dtype)
    else:
        info = np.iinfo(t.dtype)
        edges = np.array([info.min, info.max, 0, 1], dtype=t.dtype)
        vals = np.concatenate([edges, rng.integers(info.min, info.max, 36, endpoint=True, dtype=t.dtype)])
    block = Block({"v": column_from_numpy(t, vals), "s": string_column([b"k%d" % i for i in range(len(vals))])})
    fns = HASHES + (["intHash32", "intHash64"] if t.dtype.kind != "f" else [])
    if t.dtype.kind == "f":
        lit = [repr(float(v)) for v in vals]
    else:
        lit = [str(int(v)) for v in vals]
    src = f"arrayJoin(arrayZip([{','.join(lit)}], [{','.join(repr('k%d' % i) for i in range(len(vals)))}]))"
    exprs = [f"{f}(to{tname}(p.1))" for f in fns] + [f"{f}(p.2, to{tname}(p.1))" for f in HASHES]
    q = f"SELECT {', '.join(exprs)} FROM (SELECT {src} AS p)"
    if tname in ("Date", "DateTime"):
        q = q.replace(f"to{tname}(p.1)", f"to{tname}(toUInt32(p.1))" if tname == "DateTime" else
                      "toDate(toUInt16(p.1))")
    want = [r.split("\t") for r in chdb.query(q, "TabSeparated").data().rstrip("\n").split("\n")]
    for j, f in enumerate(fns):
        assert _ours(f, block, "v") == [w[j] for w in want], f"{f}({tname})"
    for k, f in enumerate(HASHES):
        assert _ours(f, block, "s", "v") == [w[len(fns) + k] for w in want], f"{f}(String, {tname})"


# --------------------------------------------------------------------------- twins


def _xxh64_twin(b: bytes) -> int:
    p1, p2, p3, p4, p5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63,
                          0x27D4EB2F165667C5)

    def rotl(x, r):
        return ((x << r) | (x >> (64 - r))) & M64

    def rnd(acc, lane):
        return rotl((acc + lane * p2) & M64, 31) * p1 & M64

    n, i = len(b), 0
    if n >= 32:
        v = [(p1 + p2) & M64, p2, 0, (-p1) & M64]
        while i + 32 <= n:
            for k in range(4):
                v[k] = rnd(v[k], int.from_bytes(b[i + 8 * k:i + 8 * k + 8], "little"))
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M64
        for k in range(4):
            h = ((h ^ rnd(0, v[k])) * p1 + p4) & M64
    else:
        h = p5
    h = (h + n) & M64
    while i + 8 <= n:
        h = (rotl(h ^ rnd(0, int.from_bytes(b[i:i + 8], "little")), 27) * p1 + p4) & M64
        i += 8
    if i + 4 <= n:
        h = (rotl(h ^ (int.from_bytes(b[i:i + 4], "little") * p1 & M64), 23) * p2 + p3) & M64
        i += 4
    while i < n:
        h = rotl(h ^ (b[i] * p5 & M64), 11) * p1 & M64
        i += 1
    h ^= h >> 33
    h = h * p2 & M64
    h ^= h >> 29
    h = h * p3 & M64
    return h ^ (h >> 32)


def _murmur3_32_twin(b: bytes) -> int:
    c1, c2, m32 = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & m32

    h, n = 0, len(b)
    for i in range(0, n - n % 4, 4):
        k = rotl(int.from_bytes(b[i:i + 4], "little") * c1 & m32, 15) * c2 & m32
        h = (rotl(h ^ k, 13) * 5 + 0xE6546B64) & m32
    tail = b[n - n % 4:]
    if tail:
        h ^= rotl(int.from_bytes(tail, "little") * c1 & m32, 15) * c2 & m32
    h ^= n
    h ^= h >> 16
    h = h * 0x85EBCA6B & m32
    h ^= h >> 13
    h = h * 0xC2B2AE35 & m32
    return h ^ (h >> 16)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=30))
def test_hash_kernels_match_python_twins(items):
    from mergetree.kernels import hashes as H

    col = string_column(items)
    assert [int(x) for x in H.hash_strings("xxHash64", col.offsets, col.data)] == [_xxh64_twin(b) for b in items]
    assert [int(x) for x in H.hash_strings("murmurHash3_32", col.offsets, col.data)] == \
        [_murmur3_32_twin(b) for b in items]
    assert [bytes(r) for r in H.digest("MD5", col.offsets, col.data)] == [hashlib.md5(b).digest() for b in items]
    assert [bytes(r) for r in H.digest("SHA256", col.offsets, col.data)] == \
        [hashlib.sha256(b).digest() for b in items]


def test_documented_values():
    block = Block({"x": string_column([b"hello"])})
    assert _ours("cityHash64", block, "x") == ["2578220239953316063"]
