"""``POST /v0/analyze``: guess a Tinybird schema (types, nullables, JSONPaths) from a sample of a file.

The file is the request body (raw or a multipart ``file`` field) or ``url=`` (downloaded, first
``SAMPLE_BYTES`` only for CSV/NDJSON). The answer has Tinybird's documented shape::

    {"analysis": {"columns": [{"path": "$.a.b", "recommended_type": "Int64", "present_pct": 1,
                               "name": "a_b"}, ...],
                  "schema": "a_b Int64 `json:$.a.b`, ..."},
     "preview": {"meta": [{"name", "type"}], "data": [...], "rows": N,
                 "statistics": {"elapsed", "rows_read", "bytes_read"}},
     "dialect": {"delimiter", "new_line", "escapechar", "has_header"}}      # CSV only

``present_pct`` is the fraction (0..1) of sampled rows where the value is present and not null; a
column under 1 is ``Nullable``. Type rules (NDJSON values, CSV texts, Parquet types):

* JSON integers -> Int64 as ClickHouse's schema inference (UInt64 above Int64, Float64 beyond; not
  the smallest type that holds the sample: later rows may not fit); any float -> Float64; true/false -> Bool;
* strings -> Date (``2024-01-31``), DateTime (``2024-01-31 10:00:00``, ISO 8601 with ``T``/``Z``/offset),
  DateTime64(3|6|9) when they have fractions of a second, else String; numbers in JSON strings stay String;
* arrays -> ``Array(T)`` of their elements' type with the JSONPath ``$.key[:]``; nested objects are
  flattened into one column per leaf (``$.a.b`` -> ``a_b``); arrays of objects and values of mixed
  kinds -> String (kept as JSON text);
* CSV fields are texts: integers, floats, ``true``/``false``, dates and date-times as above; an empty
  field or ``\\N`` is NULL (as ClickHouse reads CSV);
* Parquet columns map from their Arrow types (int32 -> Int32, timestamp[ms] -> DateTime64(3), ...).

Every guess is then checked by converting the sample with the engine's own converter
(``mergetree.convert``): a column whose values do not convert falls back to String, so the
suggested schema always ingests the sample it came from.
"""

from __future__ import annotations

import io
import re
import time
from collections import Counter

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mergetree.server.errors import ApiError
from mergetree.server.http import json_response, principal, read_body, service
from mergetree.server.imports import (CsvDialect, ImportFailed, check_format, check_url, column_name, fetch_url,
                                      format_from_content_type, format_from_name, max_import_bytes, open_data,
                                      read_parquet_source, sniff_dialect, sniff_format, temp_path)

DOC_ANALYZE = "https://www.tinybird.co/docs/api-reference/analyze-api"
SAMPLE_BYTES = 4 * 1024 * 1024
SAMPLE_ROWS = 10_000
PREVIEW_ROWS = 10
TB_SAMPLE_BYTES = 1024 * 1024

_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|nan)$", re.IGNORECASE)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --------------------------------------------------------------------------- the view


async def analyze(request: Request):
    """``POST /v0/analyze[?url=..&format=..&dialect_delimiter=..]`` (DATASOURCES:CREATE)."""
    svc = service(request)
    principal(request).require("DATASOURCES:CREATE", None, "analyze a file")
    q = dict(request.query_params)
    dialect = CsvDialect.from_params(q) if any(k.startswith("dialect_") for k in q) else None
    fmt = check_format(q["format"]) if q.get("format") else None
    if q.get("url"):
        url = check_url(q["url"])
        return json_response(await run_in_threadpool(_analyze_url, svc, url, fmt, dialect))
    body = await read_body(request)
    ctype = request.headers.get("content-type", "")
    name = None
    if ctype.lower().startswith("multipart/form-data"):
        from mergetree.server.datasources import _multipart_file

        body, guessed = _multipart_file(ctype, body)
        fmt = fmt or guessed
    else:
        fmt = fmt or format_from_content_type(ctype)
    if not body.strip():
        raise ApiError(400, "Nothing to analyze: send a file in the body (raw or a multipart 'file' field) "
                            "or a 'url' parameter", DOC_ANALYZE)

    def run():
        stream = None
        try:
            stream, head = open_data(body, svc.max_body_bytes * 10)
            # tb datasource analyze FILE sends the file's first 1 MiB: its last line may be cut
            return analyze_stream(stream, check_format(fmt or format_from_name(name) or sniff_format(head)),
                                  dialect, size=len(body), truncated=len(body) == TB_SAMPLE_BYTES)
        except ImportFailed as e:
            raise ApiError(400, str(e), DOC_ANALYZE) from None
        finally:
            if stream is not None:
                stream.close()

    return json_response(await run_in_threadpool(run))


def _analyze_url(svc, url: str, fmt: str | None, dialect) -> dict:
    path = temp_path(svc)
    stream = None
    try:
        whole = (fmt or format_from_name(url)) == "parquet"
        limit = max_import_bytes(svc)
        try:
            size, ctype = fetch_url(url, path, max_bytes=limit, head_bytes=None if whole else SAMPLE_BYTES)
            stream, head = open_data(path, limit)
            if head[:4] == b"PAR1" and not whole and size >= SAMPLE_BYTES:     # Parquet needs the whole file
                stream.close()
                size, ctype = fetch_url(url, path, max_bytes=limit)
                stream, head = open_data(path, limit)
            kind = check_format(fmt or format_from_name(url) or format_from_content_type(ctype) or sniff_format(head))
            return analyze_stream(stream, kind, dialect, size=size, truncated=not whole)
        except ImportFailed as e:
            raise ApiError(400, str(e), DOC_ANALYZE) from None
    finally:
        if stream is not None:
            stream.close()
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- analysis


def analyze_stream(stream, fmt: str, dialect: CsvDialect | None = None, *, size: int | None = None,
                   truncated: bool = False) -> dict:
    """The analysis of a binary stream of ``fmt`` (module docstring); raises ImportFailed."""
    started = time.perf_counter()
    if fmt == "parquet":
        columns, rows, extra = _parquet_columns(read_parquet_source(stream))
    else:
        sample = stream.read(SAMPLE_BYTES)
        more = bool(stream.read(1)) or truncated
        if fmt == "ndjson":
            columns, rows = _ndjson_columns(sample, cut_last_line=more)
            extra = {}
        else:
            columns, rows, extra = _csv_columns(sample, dialect, cut_last_line=more)
    if not columns:
        raise ImportFailed(f"No columns found in the {fmt.upper()} sample: is it the right format?")
    _check_with_engine(columns, rows, as_ndjson=fmt == "ndjson")
    schema = ", ".join(_schema_item(c) for c in columns)
    preview = _preview(columns, rows[:PREVIEW_ROWS])
    preview["statistics"] = {"elapsed": round(time.perf_counter() - started, 6), "rows_read": len(rows),
                             "bytes_read": size or 0}
    out = {"analysis": {"columns": [{"path": c["path"], "recommended_type": c["type"],
                                     "present_pct": c["present_pct"], "name": c["name"]} for c in columns],
                        "schema": schema},
           "preview": preview}
    out.update(extra)
    return out


def _schema_item(c: dict) -> str:
    name = c["name"] if _IDENT_RE.match(c["name"]) else f"`{c['name']}`"
    return f"{name} {c['type']}" + (f" `json:{c['path']}`" if c["path"] else "")


# ---- NDJSON


def _ndjson_columns(sample: bytes, cut_last_line: bool) -> tuple[list[dict], list[dict]]:
    lines = sample.split(b"\n")
    if cut_last_line and len(lines) > 1:
        lines = lines[:-1]                      # the sample may end in the middle of a line
    docs = []
    stripped = sample.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"[" and not cut_last_line:
        try:
            value = orjson.loads(stripped)
            docs = [d for d in value if isinstance(d, dict)] if isinstance(value, list) else []
        except orjson.JSONDecodeError as e:
            raise ImportFailed(f"Invalid JSON array: {e}") from None
    else:
        for line in lines:
            line = line.strip()
            if not line:
                continue
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue                        # malformed lines would be quarantined at import
            if isinstance(doc, dict):
                docs.append(doc)
            if len(docs) >= SAMPLE_ROWS:
                break
    if not docs:
        raise ImportFailed("No JSON object found in the NDJSON sample (one object per line expected)")
    leaves: dict[tuple, list] = {}
    for doc in docs:
        for steps, value in _leaves(doc, ()):
            leaves.setdefault(steps, []).append(value)
    n = len(docs)
    columns, taken = [], set()
    for steps, values in leaves.items():
        present = [v for v in values if v is not None]
        if not present and all(v is None for v in values):
            kind = "Nullable(String)"
        else:
            kind = _json_type(present)
        is_array = kind.startswith("Array(")
        pct = len(present) / n
        if pct < 1 and not is_array and not kind.startswith("Nullable("):
            kind = f"Nullable({kind})"
        name = _unique(_column_name(steps), taken)
        columns.append({"name": name, "type": kind, "present_pct": _pct(len(present), n),
                        "path": _jsonpath(steps) + ("[:]" if is_array else ""), "steps": steps})
    rows = [{c["name"]: _pick(doc, c["steps"]) for c in columns} for doc in docs]
    return columns, rows


def _leaves(doc: dict, prefix: tuple):
    """(steps, value) of every leaf: nested objects are flattened, arrays and scalars are leaves."""
    for key, value in doc.items():
        steps = prefix + (key,)
        if isinstance(value, dict) and value:
            yield from _leaves(value, steps)
        else:
            yield steps, value              # an empty object stays a value: it is what ingest would read


def _pick(doc, steps):
    """The value at ``steps`` as ingest reads it (objects included: a column that sometimes holds
    one must be String)."""
    for s in steps:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(s)
    return doc


def _json_type(values: list) -> str:
    kinds = {type(v) for v in values}
    if kinds <= {bool}:
        return "Bool"
    if kinds <= {int}:
        return _int_type(min(values), max(values))
    if kinds <= {int, float}:
        return "Float64"
    if kinds <= {str}:
        return _text_type(values)
    if kinds <= {list}:
        items = [x for v in values for x in v]
        if any(isinstance(x, (dict, list)) for x in items):
            return "String"
        present = [x for x in items if x is not None]
        if not present:
            return "Array(String)"
        inner = _json_type(present)
        if inner == "String" and not all(isinstance(x, str) for x in present):
            return "String"
        if len(present) < len(items):
            inner = f"Nullable({inner})"
        return f"Array({inner})"
    return "String"


def _int_type(lo: int, hi: int) -> str:
    """Int64 as ClickHouse's schema inference says, not the smallest type that holds the sample: the
    sample is the file's first rows, and a larger value later would wrap silently (an id of 40000
    read into Int16 is -25536)."""
    if -(1 << 63) <= lo and hi < (1 << 63):
        return "Int64"
    if lo >= 0 and hi < (1 << 64):
        return "UInt64"
    return "Float64"


def _text_type(texts: list[str]) -> str:
    """Date / DateTime / DateTime64(p) when every text is one, else String."""
    if all(_DATE_RE.match(t) for t in texts):
        return "Date"
    digits = 0
    for t in texts:
        m = _DATETIME_RE.match(t)
        if m is None:
            return "String"
        digits = max(digits, len(m.group(2) or ""))
    if digits == 0:
        return "DateTime"
    return f"DateTime64({3 if digits <= 3 else 6 if digits <= 6 else 9})"


def _column_name(steps: tuple) -> str:
    return column_name("_".join(str(s) for s in steps))


def _unique(name: str, taken: set) -> str:
    out, i = name, 1
    while out in taken:
        out, i = f"{name}_{i}", i + 1
    taken.add(out)
    return out


def _jsonpath(steps: tuple) -> str:
    out = "$"
    for s in steps:
        out += f".{s}" if _IDENT_RE.match(s) else f"['{s}']" if "'" not in s else f'["{s}"]'
    return out


def _pct(present: int, n: int) -> float | int:
    if n == 0 or present == n:
        return 1
    return min(round(present / n, 4), 0.9999) if present else 0


# ---- CSV


def _csv_columns(sample: bytes, dialect: CsvDialect | None, cut_last_line: bool):
    text = sample.decode("utf-8", "replace").lstrip("\ufeff")
    if cut_last_line:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut > 0:
            text = text[:cut + 1]
    if dialect is None:
        dialect = _sniff_dialect(text)
    records = [r for r in dialect.reader(io.StringIO(text, newline="")) if r and r != [""]][:SAMPLE_ROWS + 1]
    if not records:
        raise ImportFailed("No CSV record found in the sample")
    width = Counter(len(r) for r in records).most_common(1)[0][0]
    first = records[0]
    has_header = _looks_like_header(first, records[1:], width)
    data = [r for r in (records[1:] if has_header else records) if len(r) == width]
    if has_header:
        taken: set = set()
        names = [_unique(_column_name((f.strip(),)) if f.strip() else f"column_{i:02d}", taken)
                 for i, f in enumerate(first)]
    else:
        names = [f"column_{i:02d}" for i in range(width)]
    columns, n = [], len(data)
    for i, name in enumerate(names):
        texts = [r[i] for r in data]
        present = [t for t in texts if t != "" and t != "\\N"]
        kind = _csv_type(present) if present else "String"
        if len(present) < n or not present:
            kind = f"Nullable({kind})"
        columns.append({"name": name, "type": kind, "present_pct": _pct(len(present), n), "path": None})
    rows = [{names[i]: (None if r[i] in ("", "\\N") else r[i]) for i in range(width)} for r in data]
    new_line = "\r\n" if "\r\n" in text else "\n"
    extra = {"dialect": {"delimiter": dialect.delimiter, "new_line": dialect.new_line or new_line,
                         "escapechar": dialect.escapechar, "has_header": has_header}}
    return columns, rows, extra


def _sniff_dialect(text: str) -> CsvDialect:
    return sniff_dialect(text.encode())


def _csv_type(texts: list[str]) -> str:
    if all(_INT_RE.match(t) for t in texts):
        return _int_type(min(int(t) for t in texts), max(int(t) for t in texts))
    if all(_INT_RE.match(t) or _FLOAT_RE.match(t) for t in texts):
        return "Float64"
    if all(t.lower() in ("true", "false") for t in texts):
        return "Bool"
    return _text_type(texts)


def _looks_like_header(first: list[str], rest: list[list[str]], width: int) -> bool:
    """A first record of distinct, non-empty texts that are not numbers or dates, where some column
    below it is not all text (or there is nothing below it)."""
    if len(first) != width or len(set(first)) != len(first):
        return False
    if any(not f.strip() or f.strip() == "\\N" or _csv_type([f.strip()]) != "String" for f in first):
        return False
    below = [r for r in rest if len(r) == width]
    if not below:                       # a single record: a header only if it reads as names
        return all(_IDENT_RE.match(f.strip()) for f in first)
    for i in range(width):
        texts = [r[i] for r in below if r[i] not in ("", "\\N")]
        if texts and _csv_type(texts) != "String":
            return True
    # every column is text: a header when its fields look like names and none of them is repeated as a
    # value of its column below (a data row usually repeats some value)
    return all(_IDENT_RE.match(f.strip()) for f in first) and \
        not any(first[i] in {r[i] for r in below} for i in range(width))


# ---- Parquet


def _parquet_columns(source):
    from mergetree.server.imports import require_pyarrow

    pq = require_pyarrow()
    import pyarrow as pa

    try:
        pf = pq.ParquetFile(source)
        table = None
        for rb in pf.iter_batches(batch_size=SAMPLE_ROWS):
            table = pa.Table.from_batches([rb])
            break
        if table is None:
            table = pf.schema_arrow.empty_table()
    except (pa.ArrowException, OSError, ValueError) as e:
        raise ImportFailed(f"Invalid Parquet file: {e}") from None
    n = table.num_rows
    columns, taken, data = [], set(), {}
    for steps, col in _flat_arrow_columns(table):
        nulls = col.null_count
        kind = _arrow_type(col.type)
        if nulls and not kind.startswith(("Array(", "Map(", "Nullable(", "LowCardinality(")):
            kind = f"Nullable({kind})"
        elif nulls and kind.startswith("LowCardinality("):
            kind = f"LowCardinality(Nullable({kind[len('LowCardinality('):-1]}))"
        name = _unique(_column_name(steps), taken)
        columns.append({"name": name, "type": kind, "present_pct": _pct(n - nulls, n), "path": _jsonpath(steps)})
        data[name] = col.to_pylist()
    rows = [{c["name"]: data[c["name"]][i] for c in columns} for i in range(min(n, SAMPLE_ROWS))]
    return columns, rows, {}


def _flat_arrow_columns(table):
    """(steps, array) of every column, struct columns flattened into their fields (``$.user.name``)
    as the NDJSON analysis flattens objects; a NULL struct makes its fields NULL."""
    import pyarrow.compute as pc
    import pyarrow.types as pt

    def walk(steps, arr):
        if pt.is_struct(arr.type) and arr.type.num_fields:
            for i in range(arr.type.num_fields):
                key = arr.type.field(i).name
                yield from walk(steps + (key,), pc.struct_field(arr, key))
        else:
            yield steps, arr

    for name in table.column_names:
        yield from walk((name,), table.column(name).combine_chunks())


def _arrow_type(t) -> str:
    import pyarrow as pa
    import pyarrow.types as pt

    simple = [(pt.is_boolean, "Bool"), (pt.is_int8, "Int8"), (pt.is_int16, "Int16"), (pt.is_int32, "Int32"),
              (pt.is_int64, "Int64"), (pt.is_uint8, "UInt8"), (pt.is_uint16, "UInt16"), (pt.is_uint32, "UInt32"),
              (pt.is_uint64, "UInt64"), (pt.is_float16, "Float32"), (pt.is_float32, "Float32"),
              (pt.is_float64, "Float64"), (pt.is_string, "String"), (pt.is_large_string, "String"),
              (pt.is_binary, "String"), (pt.is_large_binary, "String"), (pt.is_date32, "Date32"),
              (pt.is_date64, "Date32")]
    for test, name in simple:
        if test(t):
            return name
    if pt.is_timestamp(t):
        precision = {"s": 0, "ms": 3, "us": 6, "ns": 9}[t.unit]
        return f"DateTime64({precision}" + (f", '{t.tz}')" if t.tz and t.tz not in ("UTC", "+00:00") else ")")
    if pt.is_decimal(t):
        return f"Decimal({t.precision}, {t.scale})"
    if pt.is_fixed_size_binary(t):
        return f"FixedString({t.byte_width})"
    if pt.is_dictionary(t):
        inner = _arrow_type(t.value_type)
        return f"LowCardinality({inner})" if inner == "String" else inner
    if pt.is_list(t) or pt.is_large_list(t) or pt.is_fixed_size_list(t):
        inner = _arrow_type(t.value_type)
        return "String" if inner == "String" and not (pt.is_string(t.value_type) or pt.is_large_string(t.value_type)) \
            else f"Array({inner})"
    if pt.is_map(t):
        return f"Map({_arrow_type(t.key_type)}, {_arrow_type(t.item_type)})"
    del pa
    return "String"


# --------------------------------------------------------------------------- checks and preview


def _check_with_engine(columns: list[dict], rows: list[dict], as_ndjson: bool = False) -> None:
    """Convert the sample with the guessed types; a column that does not convert becomes String.
    ``as_ndjson``: also as NDJSON text (the Events API / NDJSON import converter), which reads some
    values differently from Python values."""
    from mergetree.errors import ConversionError, MergeTreeError
    from mergetree.server.engine import Engine
    from mergetree.types import parse_type

    for _ in range(len(columns) + 1):
        schema = []
        for c in columns:
            try:
                schema.append((c["name"], parse_type(c["type"])))
            except (MergeTreeError, ValueError):
                c["type"] = _fallback(c)
                schema.append((c["name"], parse_type(c["type"])))
        failing = set()
        for sample in ([dict(r) for r in rows], _ndjson(rows) if as_ndjson and rows else None):
            if sample is None:
                continue
            try:
                _, bad = Engine.convert_with_schema(schema, sample)
            except ConversionError as e:
                bad = [type("R", (), {"error": e})()]
            failing |= {r.error.column for r in bad if r.error.column}
        failing = [c for c in columns if c["name"] in failing and c["type"] != _fallback(c)]
        if not failing:
            return
        for c in failing:
            c["type"] = _fallback(c)


def _ndjson(rows: list[dict]) -> bytes:
    import json

    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()   # json: ints beyond 64 bits too


def _fallback(c: dict) -> str:
    if c["type"].startswith("Array(") or (c["path"] or "").endswith("[:]"):
        c["path"] = (c["path"] or "").removesuffix("[:]") or None
    return "Nullable(String)" if c["present_pct"] != 1 else "String"


def _preview(columns: list[dict], rows: list[dict]) -> dict:
    from mergetree.server.engine import Engine
    from mergetree.types import parse_type

    schema = [(c["name"], parse_type(c["type"])) for c in columns]
    block, _ = Engine.convert_with_schema(schema, [dict(r) for r in rows])
    data = []
    if block.num_rows:
        values = {c["name"]: block[c["name"]].to_pylist() for c in columns}
        data = [{k: _json_value(v[i]) for k, v in values.items()} for i in range(block.num_rows)]
    return {"meta": [{"name": c["name"], "type": c["type"]} for c in columns], "data": data, "rows": len(data)}


def _json_value(v):
    import datetime as dt
    import decimal

    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    return v
