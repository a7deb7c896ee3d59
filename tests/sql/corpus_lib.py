"""Loader for the golden SQL corpus in tests/sql/corpus/.

Corpus file format (``NN_topic.sql``):

* statements are separated by ``;`` at the end of a line followed by a blank line;
* ``-- `` comment lines directly above a statement (no blank line in between)
  describe it; the first such line is the case description;
* annotations inside that comment block:
  ``-- xfail[kind]: reason`` marks a known parser/printer defect, where kind is
  ``parse`` (parser rejects valid SQL), ``span`` (parse_many statement span wrong), ``print`` (canonical print wrong; the
  .expected block holds the hand-corrected text), ``roundtrip`` or ``chdb``
  (printed SQL means something else according to ClickHouse's formatQuery);
  ``-- nochdb: reason`` for statements chDB's formatQuery cannot check.
* comment blocks followed by a blank line are file-level comments (ignored).

Golden file format (``NN_topic.expected``): one block per statement, each
starting with a header line ``-- @@ <n>: <description> @@``, followed by the
canonical print (``format_sql(parse(stmt))``) or ``!! ParseError: ...``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

CORPUS_DIR = Path(__file__).parent / "corpus"
_XFAIL_RE = re.compile(r"^--\s*xfail\[(\w+)\]:\s*(.+)$")
_NOCHDB_RE = re.compile(r"^--\s*nochdb:\s*(.+)$")
_HEADER_RE = re.compile(r"^-- @@ (\d+)(?:: .*)? @@$")


@dataclass(frozen=True)
class Case:
    topic: str            # file stem, e.g. "01_select_basics"
    index: int            # 1-based ordinal in the file
    line: int             # 1-based line of the statement's first line in the file
    description: str
    sql: str              # statement text without the terminating ';'
    xfail: dict = field(default_factory=dict, hash=False)   # kind -> reason
    nochdb: str | None = None

    @property
    def id(self) -> str:
        return f"{self.topic}:{self.index}"

    @property
    def kind(self) -> str:
        """First keyword(s) of the statement, upper-cased (SELECT, WITH, CREATE ...)."""
        m = re.match(r"\s*\(*\s*([A-Za-z]+)", self.sql)
        return m.group(1).upper() if m else ""


def parse_corpus_text(text: str, topic: str) -> list[Case]:
    cases: list[Case] = []
    comments: list[str] = []
    stmt_lines: list[str] = []
    start = 0
    lines = text.splitlines()
    for lineno, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stmt_lines:
            if not stripped:
                comments = []
                continue
            if stripped.startswith("--"):
                comments.append(stripped)
                continue
            start = lineno
        stmt_lines.append(line)
        if stripped.endswith(";") and not stripped.startswith("--"):
            sql = "\n".join(stmt_lines).rstrip()[:-1].rstrip()
            xfail, nochdb, desc = {}, None, ""
            for c in comments:
                if m := _XFAIL_RE.match(c):
                    xfail[m.group(1)] = m.group(2).strip()
                elif m := _NOCHDB_RE.match(c):
                    nochdb = m.group(1).strip()
                elif not desc:
                    desc = c.lstrip("-").strip()
            cases.append(Case(topic, len(cases) + 1, start, desc, sql, xfail, nochdb))
            stmt_lines, comments = [], []
    if stmt_lines:
        raise ValueError(f"{topic}: statement starting at line {start} is not terminated by ';'")
    return cases


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("[0-9][0-9]_*.sql"))


def load_corpus() -> list[Case]:
    cases: list[Case] = []
    for path in corpus_files():
        cases.extend(parse_corpus_text(path.read_text(encoding="utf-8"), path.stem))
    return cases


def read_expected(topic: str) -> dict[int, str]:
    """index -> expected block text (without the header line)."""
    path = CORPUS_DIR / f"{topic}.expected"
    if not path.exists():
        return {}
    blocks: dict[int, list[str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _HEADER_RE.match(line)
        if m:
            current = int(m.group(1))
            blocks[current] = []
        elif current is not None:
            blocks[current].append(line)
    return {k: "\n".join(v).strip("\n") for k, v in blocks.items()}


def write_expected(topic: str, cases: list[Case], outputs: dict[int, str]) -> None:
    parts = []
    for case in cases:
        desc = case.description.replace("@@", "@")
        header = f"-- @@ {case.index}: {desc} @@" if desc else f"-- @@ {case.index} @@"
        parts.append(header + "\n" + outputs[case.index].rstrip("\n") + "\n")
    (CORPUS_DIR / f"{topic}.expected").write_text("\n".join(parts), encoding="utf-8")


def _ch_string(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def chdb_format_many(queries: list[str], chunk: int = 200) -> list[str | None]:
    """ClickHouse's own ``formatQuery`` (via chDB) of each query; None where ClickHouse rejects it."""
    import json

    import chdb

    out: list[str | None] = []
    for i in range(0, len(queries), chunk):
        part = queries[i:i + chunk]
        arr = "[" + ", ".join(_ch_string(q) for q in part) + "]"
        res = chdb.query(f"SELECT arrayMap(q -> formatQuerySingleLineOrNull(q), {arr}) AS f", "JSONEachRow")
        text = res.bytes().decode() if hasattr(res, "bytes") else str(res)
        out.extend(json.loads(text.strip().splitlines()[0])["f"])
    return out


_CHILDREN_RE = re.compile(r" \(children \d+\)$")
_PARAM_RE = re.compile(r"\{\s*(\w+)\s*:[^{}]*\}")


def strip_parens(text: str) -> str:
    """``text`` without the parentheses outside quoted strings/identifiers (used to compare two
    formatQuery outputs modulo the redundant parentheses ClickHouse keeps)."""
    out, quote, i = [], None, 0
    while i < len(text):
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'`\"":
            quote = ch
            out.append(ch)
        elif ch not in "()":
            out.append(ch)
        i += 1
    return re.sub(r"\s+", " ", "".join(out)).strip()


def chdb_explain_ast(query: str) -> str | None:
    """ClickHouse's parsed AST (``EXPLAIN AST``) of ``query``, normalised so that it compares
    structure and not layout: parentheses vanish, child counts are dropped and chains of the
    associative ``and`` / ``or`` / ``concat`` are flattened (``(a AND b) AND c`` == ``a AND b AND c``).
    None when ClickHouse cannot explain the query."""
    import chdb

    # query parameters cannot be explained unbound; make them plain identifiers (names kept)
    query = _PARAM_RE.sub(lambda m: "__param_" + m.group(1), query)
    try:
        res = chdb.query("EXPLAIN AST " + query, "TabSeparatedRaw")
    except Exception:
        return None
    text = res.bytes().decode() if hasattr(res, "bytes") else str(res)
    # indentation tree -> nested [label, children]
    root: list = ["<root>", []]
    stack = [(-1, root)]
    for line in text.splitlines():
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip(" "))
        node = [_CHILDREN_RE.sub("", line.strip()), []]
        while stack[-1][0] >= depth:
            stack.pop()
        stack[-1][1][1].append(node)
        stack.append((depth, node))

    def flatten(node):
        label, children = node
        children = [flatten(c) for c in children]
        base = label.split(" (alias ")[0]
        if base in ("Function and", "Function or", "Function concat") and len(children) == 1 \
                and children[0][0] == "ExpressionList":
            args = []
            for arg in children[0][1]:
                if arg[0] == base and len(arg[1]) == 1 and arg[1][0][0] == "ExpressionList":
                    args.extend(arg[1][0][1])
                else:
                    args.append(arg)
            children = [["ExpressionList", args]]
        return [label, children]

    def dump(node, depth=0):
        out = [" " * depth + node[0]]
        for c in node[1]:
            out.extend(dump(c, depth + 1))
        return out

    return "\n".join(dump(flatten(root)))
