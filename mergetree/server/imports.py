"""File imports into data sources: CSV dialects, NDJSON, Parquet, and ``url=`` imports as jobs.

The Data Sources API (``datasources.py``) hands every append / replace here:

* :class:`CsvDialect` reads ``dialect_delimiter``, ``dialect_new_line``, ``dialect_escapechar``;
  a CSV header row is optional (when every field of the first record names a column, fields are
  matched by name, else by position).
* :func:`run_import` feeds a file (bytes in memory or a downloaded file) batch by batch through
  ``Engine.convert`` into the data source; rows that cannot be converted go to ``<ds>_quarantine``
  like Events API rows. ``mode=append`` inserts each batch as it is converted (a large file never
  sits in memory as one block); ``mode=replace`` converts everything and replaces atomically.
* Parquet needs pyarrow (the ``parquet`` extra): without it the request is a 400 naming the extra.
* :func:`fetch_url` streams an ``http(s)://`` URL to a temporary file (size cap, timeout,
  cancellable); ``POST /v0/datasources?url=..`` and ``/v1/datasources/NAME/append?url=..`` run
  fetch + import as a background job (``GET /v0/jobs/ID`` reports progress, ``POST
  /v0/jobs/ID/cancel`` stops it between batches). A failed download or unreadable file ends the
  job with ``status: error`` and a message naming the URL and the cause, never a 500.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import gzip
import io
import itertools
import os
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mergetree.server.errors import DOC_DATASOURCES, ApiError

FORMATS = ("csv", "ndjson", "parquet")
#: rows per converted batch (CSV / Parquet) and bytes per NDJSON batch
BATCH_ROWS = 50_000
BATCH_BYTES = 8 * 1024 * 1024
#: the largest file a URL import downloads (after gzip), unless the service sets ``max_import_bytes``
DEFAULT_MAX_IMPORT_BYTES = 1024 ** 3
FETCH_TIMEOUT = 30.0
HEAD_BYTES = 64 * 1024                         # what format and CSV delimiter sniffing look at
csv.field_size_limit(64 * 1024 * 1024)         # one CSV field may be large (a JSON payload): 64 MB, not 128 KB
PARQUET_EXTRA = ("Parquet files need the optional dependency pyarrow: install it with "
                 "pip install 'mergetree[parquet]' (or pip install pyarrow)")


class ImportCancelled(Exception):
    """Raised between batches when the job was cancelled (``POST /v0/jobs/ID/cancel``)."""


class ImportFailed(Exception):
    """An import that cannot go on (download failed, unreadable file): the job's ``error``."""


# --------------------------------------------------------------------------- formats


def format_from_name(name: str | None) -> str | None:
    """``data.csv.gz`` -> csv, ``x.ndjson`` / ``x.jsonl`` / ``x.json`` -> ndjson, ``x.parquet`` -> parquet."""
    if not name:
        return None
    base = urllib.parse.urlsplit(name).path.lower() if "://" in name else name.lower()
    base = base.removesuffix(".gz").removesuffix(".gzip")
    for ext, fmt in ((".csv", "csv"), (".tsv", "csv"), (".ndjson", "ndjson"), (".jsonl", "ndjson"),
                     (".json", "ndjson"), (".parquet", "parquet"), (".parq", "parquet")):
        if base.endswith(ext):
            return fmt
    return None


def format_from_content_type(ctype: str | None) -> str | None:
    ctype = (ctype or "").lower()
    if "parquet" in ctype:
        return "parquet"
    if "ndjson" in ctype or "jsonl" in ctype or "json" in ctype:
        return "ndjson"
    if "csv" in ctype:
        return "csv"
    return None


def sniff_format(head: bytes) -> str:
    """The format of a file from its first bytes: Parquet magic, a JSON object/array, else CSV."""
    if head[:4] == b"PAR1":
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return "ndjson" if text[:1] in (b"{", b"[") else "csv"


def check_format(fmt: str) -> str:
    fmt = fmt.lower()
    if fmt == "json":
        fmt = "ndjson"
    if fmt not in FORMATS:
        raise ApiError(400, f"Unsupported format '{fmt}': use csv, ndjson or parquet", DOC_DATASOURCES)
    if fmt == "parquet":
        require_pyarrow()
    return fmt


def require_pyarrow():
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError:
        raise ApiError(400, PARQUET_EXTRA, DOC_DATASOURCES) from None
    return pq


# --------------------------------------------------------------------------- CSV dialect

_NAMED_CHARS = {"\\t": "\t", "tab": "\t", "\\n": "\n", "\\r\\n": "\r\n", "\\r": "\r", "\\\\": "\\"}


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str = ","
    new_line: str | None = None       # None: \n, \r\n or \r
    escapechar: str | None = None
    quotechar: str = '"'

    @classmethod
    def from_params(cls, q: dict) -> "CsvDialect":
        """``dialect_delimiter`` / ``dialect_new_line`` / ``dialect_escapechar`` (``\\t``-style escapes
        accepted); a 400 names the parameter that is wrong."""
        def one(key: str, multi: bool = False) -> str | None:
            raw = q.get(key)
            if raw is None or raw == "":
                return None
            value = _NAMED_CHARS.get(raw.lower() if raw.lower() == "tab" else raw, raw)
            if not multi and len(value) != 1:
                raise ApiError(400, f"Invalid {key} {raw!r}: expected one character", DOC_DATASOURCES)
            if multi and not 1 <= len(value) <= 2:
                raise ApiError(400, f"Invalid {key} {raw!r}: expected one or two characters "
                                    f"(e.g. \\n or \\r\\n)", DOC_DATASOURCES)
            return value

        delimiter = one("dialect_delimiter") or ","
        new_line = one("dialect_new_line", multi=True)
        escapechar = one("dialect_escapechar")
        if delimiter in ('"', "\n", "\r") or (new_line and delimiter in new_line):
            raise ApiError(400, f"Invalid dialect_delimiter {delimiter!r}: it cannot be a quote or a line break",
                           DOC_DATASOURCES)
        if escapechar is not None and escapechar in (delimiter, "\n", "\r"):
            raise ApiError(400, f"Invalid dialect_escapechar {escapechar!r}: it cannot be the delimiter or a line "
                                f"break", DOC_DATASOURCES)
        return cls(delimiter, new_line if new_line not in ("\n", "\r\n", "\r") else None, escapechar)

    def reader(self, text_stream):
        """csv.reader over a text stream (a custom ``new_line`` is turned into ``\\n`` on the fly)."""
        lines = text_stream if self.new_line is None else _split_custom(text_stream, self.new_line)
        return csv.reader(lines, delimiter=self.delimiter, quotechar=self.quotechar,
                          escapechar=self.escapechar, doublequote=True, strict=False)


def _split_custom(text_stream, sep: str):
    """Lines of a stream whose records end with ``sep`` (e.g. ``;``), each ending in ``\\n``."""
    buf = ""
    while True:
        chunk = text_stream.read(1 << 20)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(sep)
        for line in lines:
            yield line + "\n"
    if buf.strip():
        yield buf + "\n"


def sniff_dialect(head: bytes) -> CsvDialect:
    """The delimiter among , ; TAB | that splits the first lines into the most equal (> 1) fields."""
    from collections import Counter

    lines = [ln for ln in head.decode("utf-8", "replace").splitlines()[:50] if ln.strip()]
    if len(lines) > 1 and len(head) >= HEAD_BYTES:
        lines = lines[:-1]                      # may be cut in the middle
    best, best_score = ",", (0, 0)
    for delim in (",", ";", "\t", "|"):
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=delim)]
        except csv.Error:
            continue
        if not counts:
            continue
        width, hits = Counter(counts).most_common(1)[0]
        score = (hits if width > 1 else 0, width)
        if score > best_score:
            best, best_score = delim, score
    return CsvDialect(delimiter=best)


def column_name(text: str) -> str:
    """A column name from a header field or JSON key: not [A-Za-z0-9_] -> '_', no leading digit."""
    import re

    name = re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_") or "column"
    return "_" + name if name[0].isdigit() else name


@dataclass(frozen=True)
class Rejected:
    """A record set aside while splitting a file (as ``Engine.convert``'s rejected rows: ``row`` in the
    file, ``raw`` the input, ``error`` the ConversionError)."""

    row: int
    raw: object
    error: Exception


# --------------------------------------------------------------------------- batches


@dataclass
class Batch:
    """Input rows of one batch: ``columns`` (column -> list or numpy array, ``n`` rows), ``rows``
    (list of dicts) or ``ndjson`` bytes. ``first`` is the 0-based number of its first record in the
    file; ``numbers`` (when records were set aside while splitting, in ``bad``) the file record
    number of each row."""

    first: int
    rows: list | None = None
    ndjson: bytes | None = None
    bad: list | None = None
    numbers: list | None = None
    columns: dict | None = None
    n: int = 0

    def as_rows(self) -> list:
        if self.rows is not None:
            return self.rows
        cols = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in self.columns.items()}
        if not cols:
            return [{} for _ in range(self.n)]
        return [dict(zip(cols, vals)) for vals in zip(*cols.values())]


CSV_CHUNK_CHARS = 4 * 1024 * 1024


class _CsvSplitter:
    """The state of one CSV file's split: header (optional), record numbers, the batch being built."""

    def __init__(self, columns: list[str], dialect: CsvDialect, batch_rows: int):
        self.known = set(columns)
        self.header = columns
        self.dialect = dialect
        self.batch_rows = batch_rows
        self.started = False
        self.number = 0            # records so far (the header is not one)
        self.first = 0
        self.records, self.numbers, self.bad = [], [], []

    def is_header(self, fields: list[str]) -> bool:
        """The first record names columns (by name, or as /v0/analyze names them): it is the header."""
        self.started = True
        names = [f.strip().lstrip("\ufeff") for f in fields]
        names = [n if n in self.known else column_name(n) for n in names]
        if all(n in self.known for n in names) and len(set(names)) == len(names):
            self.header = names
            return True
        return False

    def slow(self, lines):
        """csv.reader over an iterable of lines: quotes, escapes, line breaks inside fields."""
        from mergetree.errors import ConversionError

        records = self.dialect.reader(lines) if hasattr(lines, "read") else csv.reader(
            lines, delimiter=self.dialect.delimiter, quotechar=self.dialect.quotechar,
            escapechar=self.dialect.escapechar, doublequote=True, strict=False)
        while True:
            try:
                fields = next(records)
            except StopIteration:
                break
            except csv.Error as e:
                raise ImportFailed(f"Invalid CSV at record {self.number + 1}: {e}") from None
            if not fields or fields == [""]:
                continue
            if not self.started and self.is_header(fields):
                continue
            header = self.header
            if len(fields) == len(header):
                self.records.append(fields)
                self.numbers.append(self.number)
            else:
                err = ConversionError(None, self.number, self.dialect.delimiter.join(fields)[:200],
                                      f"Expected {len(header)} fields ({', '.join(header)}), got {len(fields)}",
                                      "INCORRECT_DATA")
                self.bad.append(Rejected(self.number, dict(zip(header, fields)), err))
            self.number += 1
            if self.number - self.first >= self.batch_rows:
                yield self.flush()

    def fast(self, chunk: str):
        """A chunk of whole lines without quotes or escapes: all fields with one split, columns by
        slicing (no per-record Python work). A chunk whose records are not all as wide as the header
        goes through :meth:`slow`."""
        lines = list(filter(None, chunk.split("\n")))
        if not self.started and lines:
            if self.is_header(lines[0].split(self.dialect.delimiter)):
                lines = lines[1:]
        width = len(self.header)
        delim = self.dialect.delimiter
        if lines and set(map(str.count, lines, itertools.repeat(delim))) != {width - 1}:
            yield from self.slow(line + "\n" for line in lines)   # some record has another width
            return
        flat = delim.join(lines).split(delim) if lines else []
        if self.records or self.bad:
            yield self.flush()
        n = len(lines)
        columns = {name: flat[i::width] for i, name in enumerate(self.header)}
        self.number += n
        yield _csv_columns_batch(self.first, columns, n, [], None)
        self.first = self.number

    def flush(self) -> Batch:
        batch = _csv_batch(self.first, self.header, self.records, self.bad, self.numbers)
        self.first, self.records, self.numbers, self.bad = self.number, [], [], []
        return batch

    def rest(self):
        if self.records or self.bad:
            yield self.flush()


def csv_batches(stream, columns: list[str], dialect: CsvDialect, batch_rows: int = BATCH_ROWS):
    """CSV records -> batches of columns (header optional; a record with another number of fields
    than the header/schema is rejected with the reason). Chunks without quotes take a split-based
    fast path; from the first chunk with a quote or escape character on, Python's csv module reads
    the rest of the file."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    split = _CsvSplitter(columns, dialect, batch_rows)
    if dialect.new_line is not None:
        yield from split.slow(text)
        yield from split.rest()
        return
    special = [c for c in (dialect.quotechar, dialect.escapechar) if c]
    while True:
        chunk = text.read(CSV_CHUNK_CHARS)
        if not chunk:
            break
        if not chunk.endswith("\n"):
            chunk += text.readline()             # whole lines only
        if "\r" in chunk:
            chunk = chunk.replace("\r\n", "\n")
        if "\r" in chunk or any(c in chunk for c in special):
            yield from split.slow(itertools.chain(io.StringIO(chunk, newline=""), text))
            break
        yield from split.fast(chunk)
    yield from split.rest()


def _csv_batch(first: int, header: list[str], records: list[list[str]], bad: list, numbers: list) -> Batch:
    """Records -> columns (one transpose)."""
    columns = {name: list(col) for name, col in zip(header, zip(*records))} if records else \
        {name: [] for name in header}
    return _csv_columns_batch(first, columns, len(records), bad, numbers if bad else None)


def _csv_columns_batch(first: int, columns: dict, n: int, bad: list, numbers: list | None) -> Batch:
    """An empty field or \\N is NULL (or the column's DEFAULT), as ClickHouse reads CSV."""
    for name, col in columns.items():
        if "" in col or "\\N" in col:
            columns[name] = [None if v == "" or v == "\\N" else v for v in col]
    return Batch(first, columns=columns, n=n, bad=bad, numbers=numbers)


def ndjson_batches(stream, batch_bytes: int = BATCH_BYTES):
    """NDJSON -> batches of whole lines (a JSON array of rows is read whole)."""
    head = stream.read(batch_bytes)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[":
        yield Batch(0, ndjson=head + stream.read())
        return
    first, buf = 0, head
    while buf:
        more = stream.read(batch_bytes)
        if more:
            buf += more
            cut = buf.rfind(b"\n")
            if cut < 0:
                continue
            chunk, buf = buf[:cut + 1], buf[cut + 1:]
        else:
            chunk, buf = buf, b""
        yield Batch(first, ndjson=chunk)
        first += sum(1 for ln in chunk.split(b"\n") if ln.strip())


def parquet_batches(source, columns: dict[str, tuple], batch_rows: int = BATCH_ROWS):
    """Parquet row groups -> batches of columns keyed by the data source's columns.

    ``columns`` maps data source column -> path in the file: (field,) for the Parquet column of that
    name, or (field, key, ...) from a JSONPath such as ``$.user.name`` (struct fields; a missing key
    reads as NULL). Parquet columns that no data source column reads are not decoded."""
    pq = require_pyarrow()
    import pyarrow as pa

    try:
        pf = pq.ParquetFile(source)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise ImportFailed(f"Invalid Parquet file: {e}") from None
    present = set(pf.schema_arrow.names)
    wanted = {col: path for col, path in columns.items() if path[0] in present}
    if not wanted:
        raise ImportFailed(f"The Parquet file has none of the data source's columns "
                           f"(file columns: {', '.join(sorted(present)) or 'none'}; "
                           f"data source columns: {', '.join(columns)})")
    fields = sorted({path[0] for path in wanted.values()})
    first = 0
    try:
        for rb in pf.iter_batches(batch_size=batch_rows, columns=fields):
            n = rb.num_rows
            yield Batch(first, columns={col: _arrow_values(_arrow_path(rb, path)) for col, path in wanted.items()},
                        n=n)
            first += n
    except (pa.ArrowException, OSError) as e:
        raise ImportFailed(f"Invalid Parquet file at row {first}: {e}") from None


def _arrow_path(rb, path: tuple):
    """The column at ``path`` of a record batch: a top-level column, then struct fields by name."""
    import pyarrow as pa
    import pyarrow.types as pt

    arr = rb.column(rb.schema.get_field_index(path[0]))
    for key in path[1:]:
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if not (isinstance(key, str) and pt.is_struct(arr.type) and arr.type.get_field_index(key) >= 0):
            return pa.nulls(len(arr))
        arr = arr.field(key) if arr.null_count == 0 else _struct_field_with_nulls(arr, key)
    return arr


def _struct_field_with_nulls(arr, key: str):
    """A struct's child where the struct itself is NULL becomes NULL too (``.field`` ignores the parent)."""
    import pyarrow.compute as pc

    return pc.struct_field(arr, key)


def _arrow_values(arr):
    """An Arrow column as a numpy array when that is exact (numbers, bools, dates and timestamps
    without nulls: timestamps as UTC datetime64), else as a Python list (None for nulls)."""
    import pyarrow.types as pt

    t = arr.type
    if arr.null_count == 0 and (pt.is_integer(t) or pt.is_floating(t) or pt.is_boolean(t) or pt.is_timestamp(t)
                                or pt.is_date(t)):
        try:
            return arr.to_numpy(zero_copy_only=False)
        except Exception:  # noqa: BLE001 - e.g. an Arrow type numpy cannot hold: the list path
            pass
    return arr.to_pylist()


# --------------------------------------------------------------------------- the import itself


@dataclass
class ImportStats:
    rows: int = 0
    quarantined: int = 0
    invalid_lines: int = 0
    bytes: int = 0
    errors: list | None = None          # the first quarantined rows' reasons
    batches: list | None = None         # (rows, quarantined) per converted batch

    def to_json(self) -> dict:
        """The job / import answer fields. ``errors`` stays empty for an import that ran (Tinybird's
        CLIs fail on a non-empty one): the reasons rows went to quarantine are ``quarantine_errors``.
        ``block_log`` / ``blocks`` are what tinybird-cli's progress callback and summary read."""
        batches = self.batches or []
        return {"statistics": {"bytes": self.bytes, "row_count": self.rows},
                "quarantine_rows": self.quarantined, "invalid_lines": self.invalid_lines,
                "errors": [], "quarantine_errors": list(self.errors or []),
                "block_log": [{"block_id": i, "status": "done"} for i in range(len(batches))],
                "blocks": [{"block_id": i, "process_return": [{"lines": rows, "quarantine": bad,
                                                                "parser": "mergetree"}]}
                           for i, (rows, bad) in enumerate(batches)]}


MAX_REPORTED_ERRORS = 10


def run_import(svc, name: str, stream, fmt: str, *, import_id: str, dialect: CsvDialect | None = None,
               replace: bool = False, condition: str | None = None, truncate_when_empty: bool = False,
               cancel: threading.Event | None = None, progress=None, size: int | None = None) -> ImportStats:
    """Import a binary stream of ``fmt`` into data source ``name``; see the module docstring."""
    engine = svc.engine
    stats = ImportStats(bytes=size or 0, errors=[], batches=[])
    paused = contextlib.nullcontext
    columns = [n for n, _ in engine.schema(name)]
    if fmt == "csv":      # a record's fields are the columns but the MATERIALIZED ones (always computed: ClickHouse)
        kinds = engine.column_defaults(name)
        batches = csv_batches(stream, [n for n in columns if (kinds.get(n) or ("",))[0] != "MATERIALIZED"],
                              dialect or CsvDialect())
    elif fmt == "ndjson":
        batches = ndjson_batches(stream)
        paths = _nested_paths(engine, name, columns)
        if paths is not None:                   # picked column by column (Engine.convert picks row by row)
            batches = (_picked(batch, paths) for batch in batches)
            paused = _gc_paused
    else:
        batches = parquet_batches(read_parquet_source(stream), _parquet_fields(engine, name, columns))
    blocks = []
    saw_input = False
    while True:
        with paused():                          # parsing + converting one batch
            batch = next(batches, None)
            if batch is None:
                break
            block, rejected = _convert(engine, name, batch)
        if cancel is not None and cancel.is_set():
            raise ImportCancelled()
        saw_input = saw_input or bool(batch.rows or batch.n or batch.bad or (batch.ndjson or b"").strip())
        if replace:
            blocks.append(block)
        elif block.num_rows:
            engine.insert_block(name, block)
        stats.rows += block.num_rows
        stats.batches.append((block.num_rows, len(rejected)))
        if rejected:
            _quarantine(engine, name, rejected, import_id, fmt)
            stats.quarantined += len(rejected)
            stats.invalid_lines += sum(1 for r in rejected if not isinstance(r.raw, dict))
            for r in rejected[:MAX_REPORTED_ERRORS - len(stats.errors)]:
                stats.errors.append(f"row {r.row + 1}: {r.error}")
        if progress is not None:
            progress(stats)
    if replace:
        from mergetree.column import Block

        if cancel is not None and cancel.is_set():
            raise ImportCancelled()
        block = Block.concat(blocks) if len(blocks) > 1 else blocks[0] if blocks else None
        rows = block.num_rows if block is not None else 0
        if rows == 0 and not condition and not truncate_when_empty and saw_input:
            raise ImportFailed("Replace with no valid row would empty the Data Source: pass "
                               "replace_truncate_when_empty=true to do that")
        if block is None:
            block = engine.convert(name, [])[0]
        svc.flusher.flush()          # Events API rows acknowledged before the replace are replaced too
        stats.rows = engine.replace(name, block, condition)     # rows outside replace_condition are dropped
    return stats


def _parquet_fields(engine, name: str, columns: list[str]) -> dict[str, tuple]:
    """Data source column -> its path in a Parquet file: its JSONPath's keys, else (its name,)."""
    from mergetree.server.engine import parse_jsonpath

    try:
        paths = {c["name"]: c.get("jsonpath") for c in engine.describe(name)["schema"]["columns"]}
    except Exception:  # noqa: BLE001 - no registry entry: columns by name
        paths = {}
    out = {}
    for col in columns:
        out[col] = (col,)
        if paths.get(col):
            try:
                steps = parse_jsonpath(paths[col])
            except ValueError:
                continue
            if steps and all(isinstance(s, str) for s in steps):
                out[col] = tuple(steps)
    return out


@contextlib.contextmanager
def _gc_paused():
    """No cyclic garbage collection while one batch of NDJSON objects is parsed and converted: the
    collector would rescan the batch's ~50k fresh dicts over and over (it doubles the CPU per row);
    they hold no cycles and are freed by reference counting after the batch."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _nested_paths(engine, name: str, columns: list[str]) -> dict[str, list] | None:
    """Column -> JSONPath steps when some column reads anything but its own top-level key (else None:
    ``Engine.convert`` of the NDJSON bytes is the fast path)."""
    from mergetree.server.engine import parse_jsonpath

    try:
        described = engine.describe(name)["schema"]["columns"]
        jsonpaths = {c["name"]: c.get("jsonpath") for c in described}
        steps = {col: parse_jsonpath(jsonpaths[col]) if jsonpaths.get(col) else [col] for col in columns}
    except Exception:  # noqa: BLE001 - no description or an odd path: Engine.convert knows best
        return None
    if any(c.get("nullable") and c.get("default_value") for c in described):
        return None             # a missing key (DEFAULT) and a null (NULL) differ there: Engine.convert keeps that
    if all(s == [col] for col, s in steps.items()):
        return None
    return steps


def _picked(batch: Batch, paths: dict[str, list]) -> Batch:
    """An NDJSON batch as columns: every line parsed (one C-level map), then each column's JSONPath
    followed with itemgetter maps; a missing key or a non-object on the way is None (NULL or the
    column's DEFAULT), as Engine.convert reads it. A batch with a malformed line, or a JSON array
    body, stays NDJSON bytes: Engine.convert sets the bad lines aside."""
    import operator

    import orjson

    data = batch.ndjson
    if data is None or data.lstrip()[:1] == b"[":
        return batch
    lines = list(filter(None, map(bytes.strip, data.split(b"\n"))))
    try:
        docs = list(map(orjson.loads, lines))
    except orjson.JSONDecodeError:
        return batch
    if set(map(type, docs)) - {dict}:
        return batch
    columns = {}
    for col, steps in paths.items():
        values = docs
        try:
            for step in steps:
                values = list(map(operator.itemgetter(step), values))
        except (KeyError, IndexError, TypeError):
            values = [_pick_path(doc, steps) for doc in docs]
        columns[col] = values
    return Batch(batch.first, columns=columns, n=len(docs))


def _pick_path(doc, steps: list):
    for step in steps:
        if isinstance(step, int):
            doc = doc[step] if isinstance(doc, list) and -len(doc) <= step < len(doc) else None
        else:
            doc = doc.get(step) if isinstance(doc, dict) else None
        if doc is None:
            return None
    return doc


def _convert(engine, name: str, batch: Batch):
    """(Block of the good rows, rejected rows numbered in the file). Columns convert in one call;
    a batch with a bad value takes the row path, which sets the bad rows aside."""
    from mergetree.errors import ConversionError

    if batch.columns is not None:
        try:
            return engine.convert_columns(name, batch.columns), list(batch.bad or [])
        except ConversionError:
            pass
    data = batch.ndjson if batch.ndjson is not None else batch.as_rows()
    block, rejected = engine.convert(name, data)
    numbers = batch.numbers
    out = []
    for r in rejected:
        row = numbers[r.row] if numbers is not None else batch.first + r.row
        out.append(Rejected(row, r.raw, r.error.at(row=row)))
    if batch.bad:
        out = sorted(out + batch.bad, key=lambda r: r.row)
    return block, out


def _quarantine(engine, name: str, rejected: list, import_id: str, fmt: str) -> None:
    if fmt == "parquet":
        rejected = [Rejected(r.row, _text_values(r.raw), r.error) if isinstance(r.raw, dict) else r
                    for r in rejected]
    engine.insert_block(engine.ensure_quarantine(name), engine.quarantine_block(name, rejected, import_id))


def _text_values(raw: dict) -> dict:
    """Parquet values of a quarantined row as text (Decimal, dates, bytes are not JSON)."""
    import datetime as dt

    out = {}
    for k, v in raw.items():
        if v is None or isinstance(v, str):
            out[k] = v
        elif isinstance(v, (bytes, bytearray)):
            out[k] = bytes(v).decode("utf-8", "replace")
        elif isinstance(v, (dt.date, dt.datetime, dt.time)):
            out[k] = v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat()
        elif isinstance(v, (int, float, bool, list, dict)):
            out[k] = v
        else:
            out[k] = str(v)
    return out


# --------------------------------------------------------------------------- opening files


def open_data(path_or_bytes, max_bytes: int):
    """A binary stream over a file or bytes, gunzipped (capped at ``max_bytes``) when it starts
    with gzip's magic bytes. Returns (stream, first bytes after decompression)."""
    raw = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, (bytes, bytearray)) else open(path_or_bytes, "rb")
    head = raw.read(HEAD_BYTES)
    raw.seek(0)
    if head[:2] != b"\x1f\x8b":
        return raw, head
    stream = io.BufferedReader(_Capped(gzip.GzipFile(fileobj=raw), max_bytes), 1 << 20)
    return stream, stream.peek(HEAD_BYTES)[:HEAD_BYTES]


class _Capped(io.RawIOBase):
    """A gzip stream that fails past ``limit`` decompressed bytes (a gzip bomb is an error, not OOM)."""

    def __init__(self, inner, limit: int):
        self._inner = inner
        self._limit = limit
        self._seen = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        try:
            data = self._inner.read(len(b))
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise ImportFailed(f"Invalid gzip file: {e}") from None
        self._seen += len(data)
        if self._seen > self._limit:
            raise ImportFailed(f"The file is larger than the import limit of {self._limit} bytes once "
                               f"decompressed")
        b[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def read_parquet_source(stream):
    """Parquet needs random access: a plain file or BytesIO as is, a gzip stream read whole."""
    if isinstance(stream, io.BytesIO) or (isinstance(stream, io.BufferedReader) and stream.seekable()):
        return stream
    return io.BytesIO(stream.read())


# --------------------------------------------------------------------------- URLs


def check_url(url: str) -> str:
    """400 unless ``url`` is an absolute http(s) URL (no file://, ftp://, ...)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ApiError(400, f"Invalid url '{url}': only absolute http:// and https:// URLs can be imported",
                       DOC_DATASOURCES)
    return url.strip()


def fetch_url(url: str, dest: Path, *, max_bytes: int, timeout: float = FETCH_TIMEOUT,
              cancel: threading.Event | None = None, progress=None,
              head_bytes: int | None = None, on_open=None) -> tuple[int, str | None]:
    """Stream ``url`` into the file ``dest``. Returns (bytes, Content-Type). Raises ImportFailed
    with a message that names the URL and the cause (HTTP status, connection error, timeout, size).
    ``head_bytes``: stop (without error) once that much is read (a sample for ``/v0/analyze``).
    ``on_open(abort)``: called with a function that breaks off the download from another thread
    (a cancelled job's ``JobContext.on_cancel``), and with None when the download is over."""
    req = urllib.request.Request(url, headers={"User-Agent": "mergetree-import/1", "Accept": "*/*"})
    size = 0
    try:
        with _OPENER.open(req, timeout=timeout) as resp, open(dest, "wb") as out:
            if on_open is not None:
                on_open(functools.partial(_break_off, resp))
            ctype = resp.headers.get("Content-Type")
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes and head_bytes is None:
                raise ImportFailed(f"The file at {url} is {int(declared)} bytes, more than the import limit of "
                                   f"{max_bytes} bytes")
            last = 0.0
            while True:
                if cancel is not None and cancel.is_set():
                    raise ImportCancelled()
                chunk = resp.read1(1 << 20)         # what has arrived (read() would wait for the whole MiB)
                if not chunk:
                    break
                size += len(chunk)
                if head_bytes is not None and size >= head_bytes:
                    out.write(chunk)
                    break
                if size > max_bytes:
                    raise ImportFailed(f"The file at {url} is larger than the import limit of {max_bytes} bytes")
                out.write(chunk)
                if progress is not None and time.monotonic() - last > 0.2:
                    progress(size)
                    last = time.monotonic()
    except (ImportFailed, ImportCancelled):
        failure = None
        if not (cancel is not None and cancel.is_set()):
            raise
    except urllib.error.HTTPError as e:
        failure = f"HTTP {e.code} {e.reason}"
    except urllib.error.URLError as e:
        failure = getattr(e.reason, "strerror", None) or str(e.reason)
    except (TimeoutError, OSError) as e:        # socket timeout while reading, connection reset
        failure = e.strerror or str(e) or type(e).__name__
    except ValueError as e:                     # e.g. an URL urllib cannot parse
        failure = str(e)
    else:
        failure = None
    finally:
        if on_open is not None:
            on_open(None)
    if cancel is not None and cancel.is_set():      # also when the read failed because the job broke it off
        raise ImportCancelled()
    if failure is not None:
        raise ImportFailed(f"Could not download {url}: {failure}")
    if progress is not None:
        progress(size)
    return size, ctype


def _break_off(resp) -> None:
    """Shut the download's socket down: a read blocked in it returns at once."""
    import socket

    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) URLs only (urllib would also follow one to ftp://)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise urllib.error.URLError(f"redirected to {newurl!r}, which is not an http(s) URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


STALE_TEMP_SECONDS = 24 * 3600


def temp_path(svc) -> Path:
    """A new file under ``<data dir>/server/imports`` for a download; files a crashed server left
    there (older than a day: no running import is that old) are removed on the way."""
    base = Path(getattr(svc, "data_dir", tempfile.gettempdir())) / "server" / "imports"
    base.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in base.glob("import_*"):
        try:
            if now - old.stat().st_mtime > STALE_TEMP_SECONDS:
                old.unlink()
        except OSError:
            pass
    fd, name = tempfile.mkstemp(prefix="import_", dir=base)
    os.close(fd)
    return Path(name)


def max_import_bytes(svc) -> int:
    value = getattr(svc, "max_import_bytes", None) or os.environ.get("MERGETREE_MAX_IMPORT_BYTES")
    return int(value) if value else DEFAULT_MAX_IMPORT_BYTES
