"""Render a results file (bench/runner.py) as a markdown table and an HTML page with an SVG chart.

    python -m bench report results/events-20261127T080000Z.json [--html out.html]

Query table: median time per engine; a cell shows MISMATCH / unsupported / error instead of a
time when the engine's answer was not cross-checked OK, so a fast wrong answer is never shown as a
time.  Ratios are subject/peer (subject = mergetree when present) over queries where both answers
are OK; the geometric mean row uses the same queries.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

TIMED_CHECKS = {"OK", "UNCHECKED"}       # a time is shown; UNCHECKED gets a '?' mark
PALETTE = ["#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]


def subject_and_peers(result: dict) -> tuple[str, list[str]]:
    engines = list(result["engines"])
    subject = "mergetree" if "mergetree" in engines else engines[0]
    return subject, [e for e in engines if e != subject]


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _rec(result: dict, engine: str, query: str) -> dict:
    return result["engines"][engine]["queries"].get(query, {"status": "error", "check": "ERROR",
                                                            "error": "not run"})


def cell(rec: dict) -> str:
    check = rec.get("check", rec.get("status", "error").upper())
    if check == "MISMATCH":
        return "**MISMATCH**"
    if check == "DISPUTED":
        return f"{fmt_seconds(rec.get('median'))} (disputed)"
    if check == "UNSUPPORTED":
        return "unsupported"
    if check == "ERROR":
        return "**error**"
    if check == "TIMEOUT":
        return "timeout"
    mark = " ?" if check == "UNCHECKED" else ""
    return fmt_seconds(rec.get("median")) + mark


def ratio(result: dict, a: str, b: str, query: str) -> float | None:
    ra, rb = _rec(result, a, query), _rec(result, b, query)
    if ra.get("check") != "OK" or rb.get("check") != "OK":
        return None
    if not ra.get("median") or not rb.get("median"):
        return None
    return ra["median"] / rb["median"]


def geomean(values) -> float | None:
    vs = [v for v in values if v is not None and v > 0]
    return math.exp(sum(math.log(v) for v in vs) / len(vs)) if vs else None


def measurements_markdown(result: dict) -> str:
    """Suites that measure rather than time queries (ingest, api): one row per measurement."""
    m = result.get("machine", {})
    lines = [f"## Suite `{result['suite']}`: {result['rows']:,} rows", "",
             f"Run {result['started']} on {m.get('cpu_count')} x {m.get('cpu_model') or '?'}, "
             f"load average {_load(m)}.", ""]
    if result.get("skipped_engines"):
        lines += ["Skipped: " + "; ".join(f"{e} ({why})" for e, why in result["skipped_engines"].items()), ""]
    extras = [k for k in ("seconds", "mb_per_s", "req_per_s", "p50_ms", "p99_ms", "threads")
              if any(r.get(k) is not None for r in result["measurements"])]
    lines += ["| measurement | engine | value | " + " | ".join(extras) + " | status |",
              "|---|---|---:|" + "---:|" * len(extras) + "---|"]
    for r in result["measurements"]:
        v = r.get("value")
        value = "-" if v is None else (f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}") + f" {r.get('unit', '')}"
        cells = []
        for k in extras:
            v = r.get(k)
            cells.append("" if v is None else f"{v:,.3g}" if isinstance(v, float) else f"{v:,}")
        status = r.get("status", "ok")
        status = status if not r.get("detail") else f"{status}: {_esc(r['detail'])}"
        lines.append(f"| {_esc(r['name'])} | {r['engine']} | {value} | " + " | ".join(cells) + f" | {status} |")
    return "\n".join(lines) + "\n"


def measurements_svg(result: dict) -> str:
    """Horizontal bars per measurement (linear scale within each unit), no dependencies."""
    rows = [r for r in result["measurements"] if r.get("value")]
    engines = sorted({r["engine"] for r in rows})
    label_w, plot_w, bar_h = 330, 480, 14
    height = 40 + bar_h * len(rows) + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 150}" height="{height}" '
           f'font-family="sans-serif" font-size="11">']
    top = {}
    for r in rows:
        top[r.get("unit")] = max(top.get(r.get("unit"), 0), r["value"])
    for i, r in enumerate(rows):
        y = 30 + i * bar_h
        w = max(1.0, plot_w * r["value"] / top[r.get("unit")])
        color = PALETTE[engines.index(r["engine"]) % len(PALETTE)]
        out.append(f'<text x="{label_w - 6}" y="{y + bar_h - 4}" text-anchor="end">'
                   f'{html.escape(r["name"])} ({html.escape(r["engine"])})</text>'
                   f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{color}"/>'
                   f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 4}">{r["value"]:,.0f} '
                   f'{html.escape(r.get("unit", ""))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def to_markdown(result: dict) -> str:
    if "measurements" in result:
        return measurements_markdown(result)
    subject, peers = subject_and_peers(result)
    engines = list(result["engines"])
    m = result.get("machine", {})
    pk = result.get("packages", {})
    lines = [
        f"## Suite `{result['suite']}`: {result['rows']:,} rows "
        f"({_source(result)}), "
        f"median of {result['repeat']} after a warm-up",
        "",
        f"Run {result['started']} on {m.get('cpu_count')} x {m.get('cpu_model') or '?'}, "
        f"load average {_load(m)}, threads {result.get('threads') or 'default'}; "
        + ", ".join(f"{e} {result['engines'][e].get('version')}" for e in engines)
        + (f"; numpy {pk.get('numpy')}, pyarrow {pk.get('pyarrow')}" if pk else "") + ".",
        "",
    ]
    if result.get("skipped_engines"):
        lines += ["Skipped: " + "; ".join(f"{e} ({why})" for e, why in
                                          result["skipped_engines"].items()), ""]
    # ingest
    lines += ["| engine | open + warm-up | load (Parquet) | rows/s | OPTIMIZE FINAL | table on disk (store) "
              "| peak memory (VmHWM) | cold start |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for e in engines:
        r = result["engines"][e]
        if "load_error" in r:
            lines.append(f"| {e} | **load failed**: {_esc(r['load_error'])} | | | | | | |")
            continue
        ing = r.get("ingest", {})
        cs = r.get("cold_start") or {}
        cold = fmt_seconds(cs.get("seconds")) if "seconds" in cs else \
            (f"error: {_esc(cs['error'])}" if "error" in cs else "not measured (in-process run)")
        rss = fmt_bytes(r.get("peak_rss_bytes")) + ("" if r.get("isolated", True) else " (shared process)")
        rps = f"{ing['rows_per_s']:,.0f}" if ing.get("rows_per_s") else "-"
        opt = fmt_seconds(r["optimize_s"]) if "optimize_s" in r else "n/a"
        if r.get("parts") is not None:
            opt += f" ({r['parts']} part{'s' if r['parts'] != 1 else ''})"
        opening = (r.get("open_s") or 0) + (r.get("warmup_s") or 0)
        size = f"{fmt_bytes(r.get('bytes_on_disk'))} ({fmt_bytes(r.get('store_bytes'))})"
        lines.append(f"| {e} | {fmt_seconds(opening)} | {fmt_seconds(ing.get('seconds'))} | {rps} | {opt} "
                     f"| {size} | {rss} | {cold} |")
    lines.append("")
    # queries
    head = ["query"] + engines + [f"{subject}/{p}" for p in peers]
    lines += ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    ratios: dict[str, list] = {p: [] for p in peers}
    for q in result["queries"]:
        row = [f"`{q['name']}`"] + [cell(_rec(result, e, q["name"])) for e in engines]
        for p in peers:
            r = ratio(result, subject, p, q["name"])
            ratios[p].append(r)
            row.append(f"{r:.2f}" if r is not None else "-")
        lines.append("| " + " | ".join(row) + " |")
    gm = ["**geometric mean**"] + [""] * len(engines)
    for p in peers:
        g = geomean(ratios[p])
        n = sum(1 for r in ratios[p] if r is not None)
        gm.append(f"**{g:.2f}** ({n} q)" if g is not None else "-")
    lines.append("| " + " | ".join(gm) + " |")
    lines.append("")
    # verdict summary and notes
    counts = {e: _counts(result, e) for e in engines}
    lines.append("Answers: " + "; ".join(
        f"{e}: " + ", ".join(f"{n} {k}" for k, n in sorted(c.items())) for e, c in counts.items()) + ".")
    lines.append("Cells: median time when the answer matches the reference engine (chDB when present); "
                 "`?` = not cross-checked; MISMATCH / unsupported / error are not timed.")
    notes = []
    for q in result["queries"]:
        for e in engines:
            r = _rec(result, e, q["name"])
            if r.get("check") in ("MISMATCH", "DISPUTED"):
                notes.append(f"- **{r['check']}** `{q['name']}` {e}: {_esc(r.get('check_detail', ''))}")
            elif r.get("check") in ("UNSUPPORTED", "ERROR", "TIMEOUT"):
                notes.append(f"- {r['check'].lower()} `{q['name']}` {e}: {_esc(r.get('error', ''))}")
            if r.get("note"):
                notes.append(f"- note `{q['name']}` {e}: {_esc(r['note'])}")
    if notes:
        lines += ["", "Notes:", ""] + notes
    return "\n".join(lines) + "\n"


def _source(result: dict) -> str:
    data = result.get("data", {})
    return f"seed {result['seed']}" if data.get("generated", True) else f"from {Path(data['path']).name}"


def _counts(result: dict, engine: str) -> dict:
    out: dict[str, int] = {}
    for q in result["queries"]:
        k = _rec(result, engine, q["name"]).get("check", "ERROR")
        out[k] = out.get(k, 0) + 1
    return out


def _load(m: dict) -> str:
    la = m.get("load_average")
    return " ".join(f"{x:.2f}" for x in la) if la else "?"


def _esc(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


# --------------------------------------------------------------------------- chart


def svg_chart(result: dict) -> str:
    """Grouped horizontal bars, one group per query, log-scale time axis; no dependencies."""
    engines = list(result["engines"])
    queries = [q["name"] for q in result["queries"]]
    times = {(q, e): _rec(result, e, q).get("median") if _rec(result, e, q).get("check") in TIMED_CHECKS
             else None for q in queries for e in engines}
    vals = [v for v in times.values() if v]
    lo = 10 ** math.floor(math.log10(min(vals))) if vals else 1e-4
    hi = 10 ** math.ceil(math.log10(max(vals))) if vals else 1.0
    if hi <= lo:
        hi = lo * 10
    label_w, plot_w, bar_h, gap = 230, 560, 9, 8
    group_h = bar_h * len(engines) + gap
    top = 40
    height = top + group_h * len(queries) + 40
    width = label_w + plot_w + 30

    def x(v: float) -> float:
        return label_w + plot_w * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">']
    for i, e in enumerate(engines):       # legend
        out.append(f'<rect x="{label_w + i * 120}" y="8" width="12" height="12" '
                   f'fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{label_w + i * 120 + 16}" y="18">{html.escape(e)}</text>')
    decade = lo
    while decade <= hi * 1.0001:          # grid lines per decade
        gx = x(decade)
        out.append(f'<line x1="{gx:.1f}" y1="{top - 6}" x2="{gx:.1f}" y2="{height - 30}" stroke="#ddd"/>'
                   f'<text x="{gx:.1f}" y="{height - 16}" text-anchor="middle">'
                   f'{html.escape(fmt_seconds(decade))}</text>')
        decade *= 10
    for qi, q in enumerate(queries):
        gy = top + qi * group_h
        out.append(f'<text x="{label_w - 6}" y="{gy + group_h / 2:.1f}" text-anchor="end">'
                   f'{html.escape(q)}</text>')
        for ei, e in enumerate(engines):
            y = gy + ei * bar_h
            v = times[(q, e)]
            if v:
                w = max(1.0, x(max(v, lo)) - label_w)
                out.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 1}" '
                           f'fill="{PALETTE[ei % len(PALETTE)]}"><title>{html.escape(e)} '
                           f'{html.escape(fmt_seconds(v))}</title></rect>')
            else:
                what = _rec(result, e, q).get("check", "error").lower()
                out.append(f'<text x="{label_w + 3}" y="{y + bar_h - 1}" font-size="9" fill="#a00">'
                           f'{html.escape(e)}: {html.escape(what)}</text>')
    out.append(f'<text x="{label_w + plot_w / 2}" y="{height - 2}" text-anchor="middle">'
               f'median time per query (log scale)</text></svg>')
    return "\n".join(out)


def to_html(result: dict) -> str:
    md = to_markdown(result)
    if "measurements" in result:
        return ("<!doctype html><meta charset='utf-8'><title>mergetree bench: "
                f"{html.escape(result['suite'])}</title><body style='font-family:sans-serif;max-width:1100px'>"
                f"<h1>{html.escape(result['suite'])}: {result['rows']:,} rows</h1>"
                + measurements_svg(result) + "<pre>" + html.escape(md) + "</pre></body>")
    return ("<!doctype html><meta charset='utf-8'><title>mergetree bench: "
            f"{html.escape(result['suite'])}</title>"
            "<body style='font-family:sans-serif;max-width:1100px'>"
            f"<h1>{html.escape(result['suite'])}: {result['rows']:,} rows</h1>"
            + svg_chart(result) + "<pre>" + html.escape(md) + "</pre></body>")


def write_png(result: dict, path: Path) -> bool:
    """A PNG bar chart via matplotlib when it is installed; False otherwise."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    if "measurements" in result:
        rows = [r for r in result["measurements"] if r.get("value")]
        fig, ax = plt.subplots(figsize=(10, 0.4 * len(rows) + 1.5))
        ax.barh([f"{r['name']} ({r['engine']})" for r in rows], [r["value"] for r in rows], color=PALETTE[0])
        ax.invert_yaxis()
        ax.set_xlabel(", ".join(sorted({r.get("unit", "") for r in rows})))
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return True
    engines = list(result["engines"])
    queries = [q["name"] for q in result["queries"]]
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(queries) * max(1, len(engines)) / 2 + 1.5))
    h = 0.8 / max(1, len(engines))
    for i, e in enumerate(engines):
        vals = [(_rec(result, e, q).get("median") if _rec(result, e, q).get("check") in TIMED_CHECKS
                 else 0) or 0 for q in queries]
        ax.barh([j + i * h for j in range(len(queries))], vals, height=h, label=e,
                color=PALETTE[i % len(PALETTE)])
    ax.set_yticks([j + 0.4 - h / 2 for j in range(len(queries))], queries)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("median seconds (log)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def write_reports(result: dict, json_path: Path) -> list[Path]:
    """results/X.json -> X.md, X.html (+ X.png with matplotlib); returns the files written."""
    md, page = json_path.with_suffix(".md"), json_path.with_suffix(".html")
    md.write_text(to_markdown(result))
    page.write_text(to_html(result))
    out = [md, page]
    png = json_path.with_suffix(".png")
    if write_png(result, png):
        out.append(png)
    return out
