"""Array functions and lambdas: kernels against numpy twins, and SQL against chDB (ClickHouse 26.9).

The chDB cases compare types and values (TabSeparatedWithNamesAndTypes minus the names line):
constants, columns built from ``numbers()`` (so lambdas see outer columns broadcast to the
elements), nested lambdas, lambdas over aggregates, and a hypothesis-driven differential test
over random arrays of arrays fed through ``arrayMap(a -> f(a), [[..], ..])``.
"""

from __future__ import annotations

import numpy as np
import pytest

from mergetree.kernels import arrays as K

chdb = pytest.importorskip("chdb")


# --------------------------------------------------------------------------- kernels vs numpy twins


def _random_offsets(rng, n, max_len=6):
    lens = rng.integers(0, max_len, n)
    off = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=off[1:])
    return off


def _rows(off):
    return [(int(off[r]), int(off[r + 1])) for r in range(len(off) - 1)]


def test_segment_kernels_match_numpy():
    rng = np.random.default_rng(7)
    for _ in range(20):
        off = _random_offsets(rng, int(rng.integers(0, 40)))
        total = int(off[-1])
        vals = rng.integers(-50, 50, total).astype(np.int64)
        valid = rng.random(total) > 0.2
        out = np.zeros(len(off) - 1, np.int64)
        K.segment_sum(off, vals, valid, out)
        assert out.tolist() == [int(vals[a:b][valid[a:b]].sum()) for a, b in _rows(off)]

        fvals = vals.astype(np.float64) / 3
        prod = np.zeros(len(off) - 1, np.float64)
        K.segment_product(off, fvals, valid, prod)
        np.testing.assert_allclose(prod, [np.prod(fvals[a:b][valid[a:b]]) for a, b in _rows(off)])

        for is_max in (False, True):
            got = K.segment_arg_extreme(off, vals, valid, is_max)
            want = []
            for a, b in _rows(off):
                idx = [i for i in range(a, b) if valid[i]]
                if not idx:
                    want.append(-1)
                else:
                    best = (max if is_max else min)(vals[idx])
                    want.append(next(i for i in idx if vals[i] == best))
            assert got.tolist() == want

        cs = np.zeros(total, np.int64)
        K.segment_cumsum(off, vals, valid, False, cs)
        want = np.concatenate([np.cumsum(np.where(valid[a:b], vals[a:b], 0)) for a, b in _rows(off)] or [[]])
        assert cs.tolist() == want.astype(np.int64).tolist()

        d = np.zeros(total, np.int64)
        K.segment_difference(off, vals, d)
        want = np.concatenate([np.diff(vals[a:b], prepend=vals[a:b][:1]) for a, b in _rows(off)] or [[]])
        assert d.tolist() == want.astype(np.int64).tolist()

        mask = vals > 10
        for last in (False, True):
            got = K.segment_first_true(off, mask, last)
            want = []
            for a, b in _rows(off):
                hits = np.flatnonzero(mask[a:b])
                want.append(-1 if not hits.size else a + int(hits[-1] if last else hits[0]))
            assert got.tolist() == want

        keys = vals % 3
        ch = K.segment_changed(off, keys)
        want = np.ones(total, np.bool_)
        for a, b in _rows(off):
            if b > a:
                want[a + 1:b] = keys[a + 1:b] != keys[a:b - 1]
        assert ch.tolist() == want.tolist()


# --------------------------------------------------------------------------- SQL vs chDB


def _ours(db, q):
    out = db.sql(q).format("TabSeparatedWithNamesAndTypes")
    out = out.decode() if isinstance(out, bytes) else out
    return out.split("\n", 1)[1]


def _theirs(q):
    return chdb.query(q, "TabSeparatedWithNamesAndTypes").bytes().decode().split("\n", 1)[1]


@pytest.fixture(scope="module")
def db():
    import mergetree

    return mergetree.connect()


CASES = [
    "select arraySum([1,2]), arraySum([1.5]), arraySum([-1,2]), arraySum([true,true])",
    "select arrayAvg([1,2]), arrayAvg(emptyArrayUInt8()), arrayMin([3,1]), arrayMax(emptyArrayUInt8()), "
    "arrayMin(['b','a']), arrayMax([1,NULL,3]), arrayMin([NULL]), arrayMin(['a',NULL])",
    "select arrayMax([nan,1]), arrayMin([nan,1]), arrayMin([1,nan]), arrayProduct([2,3]), arrayProduct([1.5])",
    "select arrayCumSum([1,2,3]), arrayCumSum([-1,2]), arrayCumSum([1.5]), arrayDifference([1,5,2]), "
    "arrayDifference([1.5,2]), arrayCumSumNonNegative([1,-3,2])",
    "select arrayEnumerate([5,6]), arrayEnumerateUniq([1,1,2,1]), arrayUniq([1,1,2]), arrayUniq([1,2],[1,3]), "
    "arrayDistinct([1,1,NULL,2,NULL]), indexOf([1,2,3],2), indexOf([1,NULL],NULL), indexOf([1,2],5)",
    "select arrayUniq([1,NULL,NULL]), arrayEnumerateUniq([NULL,NULL]), arrayEnumerateDense([10,20,10])",
    "select arraySlice([1,2,3,4,5],2,2), arraySlice([1,2,3,4,5],-2), arraySlice([1,2,3,4,5],2,-1), "
    "arraySlice([1,2,3],0,1), arraySlice([1,2,3],10), arraySlice([1,2,3],-10,2), arraySlice([1,2,3],2,-5), "
    "arraySlice([1,2,3], 2, 0)",
    "select arrayResize([1,2],4), arrayResize([1,2,3],1), arrayResize([1],3,9), arrayResize([1,2],-1), "
    "arrayResize([1],-3), arrayResize(['a'],2), arrayResize(['a'],2,'z'), arrayResize([1],0)",
    "select arrayCompact([1,1,2,2,1,NULL,NULL]), arrayCompact(['a','a','b']), arrayCompact(emptyArrayUInt8()), "
    "arrayFlatten([[1],[2,3]]), arrayFlatten([[[1]],[[2]]]), arrayFlatten(emptyArrayUInt8())",
    "select arrayPushBack([1],2), arrayPushFront([1],300), arrayPushBack(['a'],NULL), arrayConcat([1],[2.5]), "
    "arrayConcat([1],[],[3]), arrayConcat(['a'],['b']), arrayPushFront(emptyArrayUInt8(), 1)",
    "select hasAny([1,2],[3,2]), hasAll([1,2],[]), hasAll([1,NULL],[NULL]), hasAny([1],[NULL]), "
    "hasAny(['a'],['a','b']), hasAll([[1]],[[1]]), hasAny([1],[1.0]), indexOf(['a','b'],'b')",
    "select arrayCount([1,0,2]), arrayCount(x->x>1,[1,2,3]), arrayExists([0,1]), arrayAll([1,1]), "
    "arrayExists(x->x>5,[1]), arrayAll(x->x>5,emptyArrayUInt8()), arrayExists(x->x, [NULL])",
    "select arrayFirst(x->x>1,[1,2,3]), arrayFirst(x->x>5,[1,2]), arrayLast(x->x>0,[1,2,3]), "
    "arrayFirstIndex(x->x>1,[1,2,3]), arrayLastIndex(x->x>5,[1,2]), arrayFirstOrNull(x->x>5,[1]), "
    "arrayFirst(x->x>'a', ['a','b']), arrayFirst(x->x>'c', ['a','b']), arrayFirstIndex(x->1, emptyArrayString())",
    "select arraySort([3,1,NULL,2]), arrayReverseSort([3,1,NULL,2]), arraySort(x->-x,[1,2,3]), "
    "arraySort((x,y)->y,['a','b'],[2,1]), arrayReverseSort((x,y)->y,['a','b','c'],[2,1,3]), "
    "arraySort([nan,1,-inf]) AS s1, arrayReverseSort([nan,1,-inf]) AS s2, arraySort(['b','a',''])",
    "select arrayFilter(x->x>1,[1,2,3]), arrayFilter((x,y)->y,[1,2],[0,1]), arrayMap((x,y)->x+y,[1,2],[3,4]), "
    "arrayMap(x->[x],[1]), arrayMap(x->x+1, emptyArrayUInt8()), arrayMap(x->toString(x),[1,2])",
    "select arrayFilter(x->x, [1,0,NULL]), arrayFilter(x -> NULL, [1]), arrayMap(x -> NULL, [1]), arrayMap(x -> x, [NULL])",
    "select arraySplit((x, y) -> y, [1, 2, 3, 4, 5], [1, 0, 0, 1, 0]), "
    "arrayFill(x -> not isNull(x), [1, null, 3, 11, 12, null, null, 5, 6, 14, null, null]), "
    "arrayReverseFill(x -> not isNull(x), [1, null, 3]), arrayReverseSplit((x, y) -> y, [1, 2, 3, 4, 5], [1, 0, 0, 1, 0])",
    "select arrayReduce('sum',[1,2]), arrayReduce('max',['a','b']), arrayReduce('uniqExact',[1,1,2]), "
    "arrayReduce('avg', emptyArrayUInt8()), arrayReduce('quantile(0.5)',[1,2,3]), arrayReduce('groupArray',[1,2]), "
    "arrayReduce('sumIf',[1,2],[1,0]), arrayReduce('count',[1])",
    "select emptyArrayUInt8(), emptyArrayString(), emptyArrayToSingle(emptyArrayUInt8()), emptyArrayDate(), "
    "emptyArrayDateTime(), emptyArrayFloat32(), emptyArrayInt64(), toTypeName(emptyArrayString())",
    "select arrayMin(x->-x,[1,2]), arrayMax(x -> x, [1.5,NULL]), arraySum(x->x*2,[1,2]), arrayAvg(x->x,[1,2]), "
    "arrayCumSum(x->x*2,[1,2])",
    "select [1,2][0], [1,2][-1], [1,2][5], arrayElement(['a'],2), arrayReverse([1,2]), arrayReverse(emptyArrayUInt8())",
    "select range(3), range(1,4), range(1,10,3), range(-2, 2), range(5, 1, -2), range(0)",
    "select [[1],[]], [[1],[2.5]], [[],[]], [[NULL],[1]], [emptyArrayString(), ['a']]",
    # hasAny/hasAll compare a NULL element as its type's default (ClickHouse)
    "select hasAny([NULL], [0]) a, hasAny([0], [NULL]) b, hasAll([NULL, 1], [0, 1]) c, "
    "hasAny(CAST([1], 'Array(Nullable(Int32))'), CAST([NULL], 'Array(Nullable(Int32))')) d, "
    "hasAny(CAST([NULL, 'x'], 'Array(Nullable(String))'), ['']) e, hasAll(emptyArrayUInt8(), [NULL]) f",
    # columns: outer columns broadcast into the lambda body
    "select number, arrayMap(x -> x * number, range(number)) from numbers(5)",
    "select number, arrayMap(x -> x + number, [1,2]) a, arrayFilter(x -> x % 2 = number % 2, [1,2,3,4]) b, "
    "arrayMap(x -> arrayMap(y -> x + y + number, [10, 20]), [1, 2]) c from numbers(3)",
    "select number, arraySum(arrayMap(x -> x, [number, number * 2])) s from numbers(4) "
    "where arrayExists(x -> x = 2, [number, 2])",
    "select sum(arraySum(x -> x * 2, [number])) from numbers(10)",
    "select arrayMap(x -> x * 2, groupArray(number)) from numbers(3)",
    "select number % 3 k, arraySort(groupArray(number)) g, arrayMap(x -> x + k, g) from numbers(9) group by k order by k",
    "select arrayMap(x -> (x * 7 + number) % 11, range(number % 6)) a, arraySort(a), arrayReverseSort(a), "
    "arrayDistinct(a), arrayUniq(a), arrayEnumerateUniq(a), arrayCompact(a), arrayCumSum(a), arrayDifference(a), "
    "arrayMin(a), arrayMax(a), arraySum(a), arraySlice(a, 2, 2), arrayResize(a, 3), indexOf(a, 3), has(a, 3), "
    "hasAny(a, [1, 2]), hasAll(a, [3]), arrayPushBack(a, number), arrayReverse(a), arrayFirst(x -> x > 5, a), "
    "arrayLastIndex(x -> x > 5, a), arrayCount(x -> x > 5, a), arrayEnumerateDense(a) from numbers(12)",
    "select arrayMap(x -> concat(toString(x), s), range(number)) from (select number, 'z' as s from numbers(3))",
]


@pytest.mark.parametrize("q", CASES)
def test_against_chdb(db, q):
    assert _ours(db, q) == _theirs(q)


@pytest.mark.parametrize("q, code", [
    ("select arrayMap((x,y)->x+y,[1,2],[3])", "SIZES_OF_ARRAYS_DONT_MATCH"),
    ("select arrayMap(x -> x, 1)", "ILLEGAL_TYPE_OF_ARGUMENT"),
    ("select arrayMap((x, y) -> x, [1])", "NUMBER_OF_ARGUMENTS_DOESNT_MATCH"),
    ("select arraySum(['a'])", "ILLEGAL_TYPE_OF_ARGUMENT"),
])
def test_errors(db, q, code):
    from mergetree.errors import MergeTreeError

    with pytest.raises(MergeTreeError) as info:
        db.sql(q)
    assert info.value.code == code


hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

_FUNCS = ["arraySum(a)", "arraySort(a)", "arrayReverseSort(a)", "arrayDistinct(a)", "arrayUniq(a)",
          "arrayEnumerateUniq(a)", "arrayCompact(a)", "arrayCumSum(a)", "arrayDifference(a)", "arrayMin(a)",
          "arrayMax(a)", "arraySlice(a, 2, 3)", "arraySlice(a, -2)", "arrayResize(a, 2)", "arrayResize(a, -3, 7)",
          "indexOf(a, 3)", "hasAny(a, [3, 4])", "hasAll(a, [1])", "arrayFilter(x -> x > 2, a)",
          "arrayMap(x -> x * 2 - 1, a)", "arrayFirstIndex(x -> x = 3, a)", "arrayEnumerateDense(a)",
          "arrayCount(x -> x % 2 = 1, a)", "arrayExists(x -> x = 5, a)", "arrayAll(x -> x < 5, a)",
          "arraySort(x -> -x, a)", "arrayAvg(a)", "arrayReverse(a)", "arrayPushFront(a, 9)"]


@hypothesis.settings(max_examples=25, deadline=None)
@hypothesis.given(arrays=st.lists(st.lists(st.integers(-3, 6), max_size=6), min_size=1, max_size=6),
                  funcs=st.lists(st.sampled_from(_FUNCS), min_size=1, max_size=4, unique=True))
def test_random_arrays_against_chdb(db, arrays, funcs):
    literal = "[" + ", ".join("[" + ", ".join(f"toInt32({v})" for v in a) + "]" if a else "CAST([], 'Array(Int32)')"
                              for a in arrays) + "]"
    if all(not a for a in arrays):
        literal = "[emptyArrayInt32()]"
    literal = literal.replace("CAST([], 'Array(Int32)')", "emptyArrayInt32()")
    q = "select " + ", ".join(f"arrayMap(a -> {f}, {literal})" for f in funcs)
    assert _ours(db, q) == _theirs(q)


def test_segment_sort_distinct_reverse_match_numpy():
    rng = np.random.default_rng(11)
    for max_len in (6, 60):
        off = _random_offsets(rng, 30, max_len)
        keys = rng.integers(0, 5, int(off[-1])).astype(np.int64)
        got = K.segment_sort(off, keys)
        want = np.concatenate([a + np.argsort(keys[a:b], kind="stable") for a, b in _rows(off)] or [[]])
        assert got.tolist() == want.astype(np.int64).tolist()
        first, occ = K.segment_first_occurrence(off, keys)
        for a, b in _rows(off):
            seen: dict = {}
            for i in range(a, b):
                seen[keys[i]] = seen.get(keys[i], 0) + 1
                assert occ[i] == seen[keys[i]] and first[i] == (seen[keys[i]] == 1)
        rev = K.segment_reverse(off)
        assert rev.tolist() == [i for a, b in _rows(off) for i in range(b - 1, a - 1, -1)]


def test_ranged_positions_matches_numpy():
    rng = np.random.default_rng(4)
    lens = rng.integers(0, 5, 50)
    starts = rng.integers(0, 100, 50)
    off = np.zeros(51, np.int64)
    pos = np.empty(int(lens.sum()), np.int64)
    K.ranged_positions(starts, lens, off, pos)
    assert off.tolist() == [0] + np.cumsum(lens).tolist()
    assert pos.tolist() == [int(s) + j for s, k in zip(starts, lens) for j in range(k)]


def test_segment_count_true_matches_numpy():
    rng = np.random.default_rng(9)
    off = _random_offsets(rng, 40)
    mask = rng.random(int(off[-1])) > 0.5
    assert K.segment_count_true(off, mask).tolist() == [int(mask[a:b].sum()) for a, b in _rows(off)]
