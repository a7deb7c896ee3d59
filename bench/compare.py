"""Compare two results files of the same suite: the effect of a change, as ratios (B / A).

    python -m bench compare results/before.json results/after.json [--threshold 1.10]

Machines are noisy, so the table shows per-query ratios of medians per engine and their geometric
mean; ratios beyond the threshold are marked (slower / faster).  Peers (chDB, DuckDB) in the same
files act as a noise gauge: if their geometric mean moved as well, the machine changed, not the code.
Changes of verdict (OK -> MISMATCH, unsupported -> OK ...) are listed separately.
"""

from __future__ import annotations

from bench.report import _rec, fmt_seconds, geomean


def compare_measurements(a: dict, b: dict, threshold: float = 1.10) -> str:
    """B / A per (engine, measurement) of the ingest / api suites (higher is better for rows/s and
    req/s, lower for ms: the mark says which way it moved)."""
    lines = [f"## `{a['suite']}`: B / A  (A: {a['started']}, {a['rows']:,} rows; "
             f"B: {b['started']}, {b['rows']:,} rows)", "",
             "| measurement | engine | A | B | B/A |", "|---|---|---:|---:|---:|"]
    got = {(r["engine"], r["name"]): r for r in b.get("measurements", [])}
    for ra in a.get("measurements", []):
        rb = got.get((ra["engine"], ra["name"]))
        if rb is None or not ra.get("value") or not rb.get("value"):
            continue
        r = rb["value"] / ra["value"]
        better = r > threshold if ra.get("unit") != "ms" else r < 1 / threshold
        worse = r < 1 / threshold if ra.get("unit") != "ms" else r > threshold
        mark = " better" if better else (" worse" if worse else "")
        lines.append(f"| {ra['name']} | {ra['engine']} | {_num(ra['value'])} {ra.get('unit', '')} | "
                     f"{_num(rb['value'])} | {r:.2f}{mark} |")
    return "\n".join(lines) + "\n"


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def compare(a: dict, b: dict, threshold: float = 1.10) -> str:
    if a["suite"] != b["suite"]:
        raise ValueError(f"different suites: {a['suite']!r} vs {b['suite']!r}")
    if "measurements" in a or "measurements" in b:
        return compare_measurements(a, b, threshold)
    engines = [e for e in a["engines"] if e in b["engines"]]
    names_a = [q["name"] for q in a["queries"]]
    names_b = {q["name"] for q in b["queries"]}
    queries = [n for n in names_a if n in names_b]
    lines = [f"## `{a['suite']}`: B / A  (A: {a['started']}, {a['rows']:,} rows; "
             f"B: {b['started']}, {b['rows']:,} rows)", ""]
    if a["rows"] != b["rows"]:
        lines += [f"**Warning**: different row counts ({a['rows']:,} vs {b['rows']:,}).", ""]
    head = ["query"] + [f"{e} A" for e in engines] + [f"{e} B/A" for e in engines]
    lines += ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    ratios: dict[str, list] = {e: [] for e in engines}
    changes = []
    for q in queries:
        row = [f"`{q}`"]
        cells = []
        for e in engines:
            ra, rb = _rec(a, e, q), _rec(b, e, q)
            ca, cb = ra.get("check", "ERROR"), rb.get("check", "ERROR")
            row.append(fmt_seconds(ra.get("median")) if ca == "OK" else ca.lower())
            if ca != cb:
                changes.append(f"- `{q}` {e}: {ca} -> {cb}"
                               + (f" ({rb.get('error') or rb.get('check_detail')})"
                                  if cb != "OK" and (rb.get("error") or rb.get("check_detail")) else ""))
            if ca == "OK" and cb == "OK" and ra.get("median") and rb.get("median"):
                r = rb["median"] / ra["median"]
                ratios[e].append(r)
                mark = " slower" if r > threshold else (" faster" if r < 1 / threshold else "")
                cells.append(f"{r:.2f}{mark}")
            else:
                cells.append("-")
        lines.append("| " + " | ".join(row + cells) + " |")
    gm = ["**geometric mean**"] + [""] * len(engines)
    for e in engines:
        g = geomean(ratios[e])
        gm.append(f"**{g:.2f}** ({len(ratios[e])} q)" if g is not None else "-")
    lines.append("| " + " | ".join(gm) + " |")
    subject = "mergetree" if "mergetree" in engines else (engines[0] if engines else None)
    adjusted = []
    for peer in engines:
        if peer == subject:
            continue
        both = [(x, y) for x, y in _paired(a, b, subject, peer, queries)]
        if both:
            g = geomean([x / y for x, y in both])
            adjusted.append(f"{subject} B/A relative to {peer} B/A: **{g:.2f}** ({len(both)} q)")
    if adjusted:
        lines += ["", "Noise-adjusted (the peer's own drift divided out, same queries): "
                  + "; ".join(adjusted) + "."]
    only = sorted(set(names_a) ^ names_b)
    if only:
        lines += ["", "Queries in only one file: " + ", ".join(f"`{n}`" for n in only)]
    if changes:
        lines += ["", "Verdict changes:", ""] + changes
    return "\n".join(lines) + "\n"


def _paired(a: dict, b: dict, subject: str, peer: str, queries: list[str]):
    """(subject B/A, peer B/A) for queries where all four answers are OK and timed."""
    for q in queries:
        recs = [_rec(a, subject, q), _rec(b, subject, q), _rec(a, peer, q), _rec(b, peer, q)]
        if all(r.get("check") == "OK" and r.get("median") for r in recs):
            yield recs[1]["median"] / recs[0]["median"], recs[3]["median"] / recs[2]["median"]
