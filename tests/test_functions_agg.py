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


def test_tdigest_readout_matches_numpy_twin():
    from mergetree.kernels.aggregates_extra import tdigest_quantile

    rng = np.random.default_rng(5)
    for _ in range(30):
        values = np.sort(rng.normal(size=int(rng.integers(1, 40))))
        level = float(rng.random())
        c = len(values)
        # twin: piecewise-linear between centroid centres i + 0.5, clamped to the neighbours
        x = level * c
        centres = np.arange(c) + 0.5
        if c == 1:
            want = values[0]
        else:
            j = int(np.searchsorted(centres, x, side="left"))
            if j >= c:
                want = values[-1]
            else:
                left, right = (centres[j - 1] + 0.5 if j else 0.5), centres[j] - 0.5
                prev = values[j - 1] if j else values[0]
                want = prev if x <= left else values[j] if x >= right else \
                    prev + (x - left) * (values[j] - prev) / (right - left)
        got = tdigest_quantile(values, np.zeros(1, np.int64), np.array([c]), level)[0]
        assert got == pytest.approx(want)


CASES = [
    "select quantileTDigest(0.5)(number), quantileTDigest(0.9)(number), quantilesTDigest(0.1,0.5,0.9)(number), "
    "quantileTiming(0.5)(number), quantileTiming(0.9)(number), quantileExact(0.5)(number) from numbers(10)",
    "select quantileTDigest(0.25)(number), quantileTiming(0.5)(number), quantilesTiming(0.1, 0.99)(number) from numbers(200)",
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
