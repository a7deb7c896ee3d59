"""Date/time long tail against chDB on columns of instants in several time zones, dense around
DST transitions (30-minute DST on Lord Howe, :45 offsets in Kathmandu/Chatham, southern
hemisphere DST in Sao Paulo of 2018, New York and Berlin switches)."""

from __future__ import annotations

import numpy as np
import pytest

from mergetree import types as T
from mergetree.column import Block, column_from_numpy
from mergetree.exec.expression import evaluate
from sqlparse_ch.ast.expr import FunctionCall, Identifier, Literal

chdb = pytest.importorskip("chdb")

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe",
         "America/Sao_Paulo", "Pacific/Chatham"]
# DST switches (UTC): Europe 2024-03-31 01:00, 2024-10-27 01:00; New York 2024-03-10 07:00, 2024-11-03 06:00;
# Lord Howe 2024-04-06 15:00, 2024-10-05 16:00; Sao Paulo 2018-11-04 03:00, 2019-02-17 02:00; Chatham 2024-04-06 14:00
SWITCHES = [1711846800, 1729990800, 1710054000, 1730613600, 1712415600, 1728144000, 1541300400, 1550368800,
            1712412000]


def instants(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    near = [s + rng.integers(-5400, 5400, 12) for s in SWITCHES]
    return np.concatenate([rng.integers(86400, 4_200_000_000, 60), *near,
                           [86399, 4294967295, 1704067199, 1704067200]]).astype(np.uint32)


EXPRS = (["toISOWeek(X)", "toISOYear(X)"] + [f"toWeek(X, {m})" for m in range(10)]
         + [f"toYearWeek(X, {m})" for m in (0, 1, 2, 3, 5, 6, 7)]
         + [f"toRelative{u}Num(X)" for u in ("Second", "Minute", "Hour", "Week", "Month", "Quarter", "Year")]
         + ["timeSlot(X)", "toDate32(X)", "toString(toTimeZone(X, 'Asia/Tokyo'))", "toStartOfQuarter(X)",
            "toStartOfYear(X)", "toQuarter(X)", "toMinute(X)", "toSecond(X)"]
         + [f"{f}(X, {k})" for f in ("addMinutes", "addHours", "addDays", "addWeeks", "addMonths", "addYears",
                                      "subtractMinutes", "subtractDays", "subtractMonths") for k in (1, 30)])


def parse_expr(text: str, tz: str):
    from sqlparse_ch.parser import parse_expr as parse

    return parse(text.replace("X", "x"))


@pytest.mark.parametrize("tz", ZONES)
def test_date_long_tail_on_columns_matches_chdb(tz):
    values = instants(len(tz))
    src = f"toDateTime(arrayJoin([{','.join(str(int(v)) for v in values)}]), '{tz}')"
    q = "SELECT " + ", ".join(e.replace("X", "x") for e in EXPRS) + f" FROM (SELECT {src} AS x)"
    rows = [r.split("\t") for r in chdb.query(q, "TabSeparated").data().rstrip("\n").split("\n")]
    block = Block({"x": column_from_numpy(T.DateTimeType(tz), values)})
    for j, text in enumerate(EXPRS):
        col = evaluate(parse_expr(text, tz), block)
        got = [col.type.format_value(v) for v in col.to_pylist()]
        want = [r[j].replace("\\'", "'") for r in rows]
        bad = [(int(values[i]), got[i], want[i]) for i in range(len(values)) if got[i] != want[i]]
        assert not bad, f"{text} in {tz}: (ts, ours, chDB) {bad[:4]}"


@pytest.mark.parametrize("mode", range(10))
def test_week_modes_on_dates_match_chdb(mode):
    days = np.concatenate([np.arange(19700, 20200), np.arange(0, 20), np.arange(65000, 65535)]).astype(np.uint16)
    block = Block({"d": column_from_numpy(T.Date, days)})
    q = (f"SELECT toWeek(d, {mode}), toYearWeek(d, {mode}) FROM "
         f"(SELECT toDate(arrayJoin([{','.join(str(int(v)) for v in days)}])) AS d)")
    rows = [r.split("\t") for r in chdb.query(q, "TabSeparated").data().rstrip("\n").split("\n")]
    for j, fn in enumerate(["toWeek", "toYearWeek"]):
        got = evaluate(FunctionCall(fn, (Identifier("d"), Literal(mode))), block).to_pylist()
        bad = [(int(days[i]), got[i], rows[i][j]) for i in range(len(days)) if str(got[i]) != rows[i][j]]
        assert not bad, f"{fn} mode {mode}: (day, ours, chDB) {bad[:4]}"
