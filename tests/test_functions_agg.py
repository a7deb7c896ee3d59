"""Statistical / sketch aggregates and the -Array / -ForEach combinators against chDB, and their
kernels against plain-numpy twins."""

from __future__ import annotations

import numpy as np
import pytest

chdb = pytest.importorskip("chdb")


def test_grouped_heavy_matches_python_twin():
    from mergetree.kernels.aggregates_extra import grouped_heavy

    rng = np.random.default_rng(3)
    for _ in range(30):
        n, g = int(rng.integers(0, 60)), int(rng.integers(1, 5))
        ids = rng.integers(-1, g, n)
        keys = rng.integers(0, 3, n)
        want = []
        for grp in range(g):
            row, count = -1, 0
            for i in np.flatnonzero(ids == grp):
                if row >= 0 and keys[row] == keys[i]:
                    count += 1
                elif count == 0:
                    row, count = i, 1
                else:
                    count -= 1
            want.append(row)
        assert grouped_heavy(ids, keys, g).tolist() == want


def _tdigest_twin(values, levels):
    """Plain-Python ClickHouse QuantileTDigest (Float32 centroids) for one group."""
    f32 = np.float32
    cents, unmerged, total = [], 0, f32(0)

    def compress(cents, total):
        cents = sorted(cents, key=lambda c: c[0])
        if len(cents) <= 3:
            return cents
        out = [list(cents[0])]
        s, lm, lc = 0.0, float(cents[0][0]), float(cents[0][1])
        for rm, rc in cents[1:]:
            ql = (s + lc * 0.5) / float(total)
            qr = (s + lc + float(rc) * 0.5) / float(total)
            k = float(total) * 0.04 * min(ql * (1 - ql), qr * (1 - qr))
            if lc + float(rc) <= k and (lm == float(rm) or (np.isfinite(lm) and np.isfinite(float(rm)))):
                lc += float(rc)
                if float(rm) != lm:
                    lm += float(rc) * (float(rm) - lm) / lc
                out[-1] = [f32(lm), f32(lc)]
            else:
                s += float(out[-1][1])
                out.append([rm, rc])
                lm, lc = float(rm), float(rc)
        return [tuple(c) for c in out]

    for v in values:
        cents.append((f32(v), f32(1)))
        total = f32(total + f32(1))
        unmerged += 1
        if unmerged > 2048:
            cents, unmerged = compress(cents, total), 0
    cents = compress(cents, total)
    res = []
    for level in levels:
        if len(cents) == 1:
            res.append(cents[0][0])
            continue
        x, prev_x, sc = level * float(total), 0.0, f32(0)
        pm, pc, r = cents[0][0], cents[0][1], cents[-1][0]
        for m, c in cents:
            cur = float(sc) + float(c) * 0.5
            if cur >= x:
                left, right = prev_x + (0.5 if pc == 1 else 0.0), cur - (0.5 if c == 1 else 0.0)
                if x <= left:
                    r = pm
                elif x >= right:
                    r = m
                else:
                    kk = float(f32(f32(x) - f32(left)) / f32(f32(right) - f32(left)))
                    r = f32(float(pm) + kk * float(f32(m - pm)))
                break
            sc, pm, pc, prev_x = f32(sc + c), m, c, cur
        res.append(r)
    return res


def test_tdigest_matches_python_twin():
    from mergetree.kernels.aggregates_extra import tdigest_quantiles

    rng = np.random.default_rng(5)
    levels = np.array([0.01, 0.3, 0.5, 0.99])
    for n in (1, 3, 50, 400, 2500):
        values = rng.normal(size=n) * 100
        got = tdigest_quantiles(values, np.zeros(1, np.int64), np.array([n]), levels)[0]
        assert got.tolist() == [float(v) for v in _tdigest_twin(values, levels)]


CASES = [
    "select quantileTDigest(0.5)(number), quantileTDigest(0.9)(number), quantilesTDigest(0.1,0.5,0.9)(number), "
    "quantileTiming(0.5)(number), quantileTiming(0.9)(number), quantileExact(0.5)(number) from numbers(10)",
    "select quantileTDigest(0.25)(number), quantileTiming(0.5)(number), quantilesTiming(0.1, 0.99)(number) from numbers(200)",
    "select number % 3 g, quantileTDigest(0.5)(number * 7 % 101), quantilesTDigest(0.01, 0.9)(sqrt(number)) "
    "from numbers(9000) group by g order by g",
    "select quantileTiming(0.5)(toFloat64(number)/3), quantileTDigest(0.5)(toFloat64(number)/3) from numbers(10)",
    "select uniqCombined(number), uniqCombined64(number), uniqHLL12(number % 10) from numbers(1000)",
    "select arraySort(groupUniqArray(number % 3)), groupArraySorted(3)(number), topK(2)(number % 4), "
    "topKWeighted(2)(number % 3, number), length(groupUniqArray(2)(number)) from numbers(10)",
    "select stddevPop(number), stddevSamp(number), varPop(number), varSamp(number), covarPop(number, number*2), "
    "covarSamp(number, number%3), corr(number, number%3), avgWeighted(number, number), entropy(number%3), "
    "sumWithOverflow(toUInt8(number)), anyHeavy(number%2) from numbers(10)",
    "select varSamp(number), stddevSamp(number), corr(number,number), covarSamp(number,number), "
    "avgWeighted(number, 0) from numbers(1)",
    "select countArray([1,2]), sumArray([1,2]), countForEach([1,2]), sumForEach(a), avgForEach(a), maxArray(a), "
    "uniqArray(a) from (select [number, number*2] a from numbers(3))",
    "select varPop(x), stddevPop(x), entropy(s) from (select number/3 x, toString(number%2) s from numbers(7))",
    "select groupArraySorted(2)(s), topK(1)(s), arraySort(groupUniqArray(s)), anyHeavy(s) "
    "from (select toString(number%3) s from numbers(7))",
    "select number % 3 k, varPop(number), corr(number, number * number), sumForEach(range(number)), "
    "countArray(range(number)), sumArrayIf(range(number), number > 4), entropy(number % 2), anyHeavy(number % 2) "
    "from numbers(20) group by k order by k",
    "select sumWithOverflow(toUInt8(200 + number)), sumWithOverflow(toInt8(100)), varPop(toFloat32(number)) from numbers(5)",
    "select varPop(n), stddevSamp(n), avgWeighted(n, n), corr(n, n) from (select toNullable(number) n from numbers(4))",
    "select varPop(number), corr(number, number), topK(3)(number), groupArraySorted(2)(number), entropy(number) "
    "from numbers(0)",
    "select sumForEach(a), countForEach(a) from (select range(number) a from numbers(4))",
]


@pytest.fixture(scope="module")
def db():
    import mergetree

    return mergetree.connect()


@pytest.mark.parametrize("q", CASES)
def test_against_chdb(db, q):
    ours = db.sql(q).format("TabSeparatedWithNamesAndTypes")
    ours = ours.decode() if isinstance(ours, bytes) else ours
    theirs = chdb.query(q, "TabSeparatedWithNamesAndTypes").bytes().decode()
    assert ours.split("\n", 1)[1] == theirs.split("\n", 1)[1]
