"""JSON functions over String columns: JSONExtractString/Int/UInt/Float/Bool/Raw, JSONHas,
JSONLength, JSONExtract(json, path.., 'Type') for scalar, Nullable, LowCardinality, Array, Tuple
(positional or named) and Map types, JSONExtractKeys, JSONExtractArrayRaw,
JSONExtractKeysAndValues(Raw), isValidJSON, simpleJSON*/visitParam* (ClickHouse's fast path: the
first ``"name":`` anywhere in the row) and toJSONString (ClickHouse 26.9 semantics, byte-scanning
kernels in ``kernels/json.py``; no JSON parser runs per row).

``f(json, path...)``: each path argument is a constant key (String) or 1-based index (integer,
negative from the end). A document that is not valid JSON as a whole, or a missing path,
gives the default ('', 0). Observed rules: JSONExtractString of a non-string value returns its
JSON text (``{"a":1}`` -> '1', null -> ''); JSONExtractInt truncates floats, parses numeric
strings strictly (``"5"`` -> 5, ``"1.5"`` -> 1, ``"5x"`` and ``" 5"`` -> 0) and gives 0 for booleans and values
out of range; JSONExtractBool is 1 for true and for non-zero numbers; the first of duplicate
keys wins. Simplification: JSONExtractRaw (and JSONExtractString of a non-string) returns the
value's text minified with string escapes normalized like ClickHouse, but numbers keep their
spelling (``1.50`` stays ``1.50``; ClickHouse re-prints it as ``1.5``).
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.column import StringColumn
from mergetree.functions import values as V
from mergetree.functions.registry import NOT_CONST, IllegalTypeOfArgument, illegal_type, register


def _path(name: str, types, consts):
    kinds, keys, indexes = [], [], []
    for i in range(1, len(types)):
        t, v = types[i], consts[i]
        if v is NOT_CONST:
            raise IllegalTypeOfArgument(f"Path argument {i + 1} of function {name} must be a constant")
        if isinstance(t, T.StringType):
            kinds.append(0)
            keys.append(v.encode("utf-8", "surrogateescape"))
            indexes.append(0)
        elif isinstance(t, T.IntType):
            kinds.append(1)
            keys.append(b"")
            indexes.append(int(v))
        else:
            raise illegal_type(name, t, i)
    key_offsets = np.zeros(len(keys) + 1, np.int64)
    key_offsets[1:] = np.cumsum([len(k) for k in keys])
    return (np.array(kinds, np.int64), key_offsets, np.frombuffer(b"".join(keys), np.uint8).copy(),
            np.array(indexes, np.int64))


def _locate(c, path):
    from mergetree.functions.comparison import _string_parts
    from mergetree.kernels import json as J

    offsets, data = _string_parts(c)
    offsets = np.ascontiguousarray(offsets, np.int64)
    data = np.ascontiguousarray(data, np.uint8)
    n = offsets.shape[0] - 1
    start = np.empty(n, np.int64)
    end = np.empty(n, np.int64)
    vtype = np.empty(n, np.int64)
    count = np.empty(n, np.int64)
    J.locate(offsets, data, *path, start, end, vtype, count)
    return data, start, end, vtype, count


def _run_kernel(kernel, data, start, end, rows):
    """(offsets, data) of kernel(data[start:end]) for the selected rows ('' elsewhere); each
    output is no longer than its input, so it is written in place of it in a scratch buffer."""
    from mergetree.kernels.search import gather_ranges

    out = np.empty(max(len(data), 1), np.uint8)
    lens = np.zeros(len(start), np.int64)
    if rows.all():
        kernel(data, start, end, out, lens)
    else:
        sel = np.nonzero(rows)[0]
        if sel.size:
            sub_len = np.empty(sel.size, np.int64)
            kernel(data, np.ascontiguousarray(start[sel]), np.ascontiguousarray(end[sel]), out, sub_len)
            lens[sel] = sub_len
    return gather_ranges(out, start, start + lens)


def _as_text(data, start, end, vtype):
    """String values decoded, other values as their minified JSON text, null/missing ''."""
    from mergetree.kernels import json as J
    from mergetree.kernels.search import gather_ranges

    strings = vtype == J.T_STRING
    others = (vtype != J.T_STRING) & (vtype != J.T_MISSING) & (vtype != J.T_NULL)
    if not others.any():  # only strings: decode them back to back in one pass
        lens = np.where(strings, end - start, 0)
        out = np.empty(max(int(lens.sum()), 1), np.uint8)
        offsets = np.empty(len(start) + 1, np.int64)
        J.unescape_compact(data, np.ascontiguousarray(start, np.int64), np.ascontiguousarray(end, np.int64),
                           np.ascontiguousarray(strings), out, offsets)
        return offsets, out[:int(offsets[-1])]
    so, sd = _run_kernel(J.unescape, data, start, end, strings)
    oo, od = _run_kernel(J.minify, data, start, end, others)
    # each row comes from one of the two results (the other holds '' for it)
    lens = np.where(strings, np.diff(so), np.diff(oo))
    starts = np.where(strings, so[:-1], oo[:-1] + len(sd))
    return gather_ranges(np.concatenate([sd, od]), starts, starts + lens)


def _register_text(name: str, raw: bool):
    @register(name)
    def resolve(types, consts):
        if not types or not isinstance(types[0], T.StringType):
            raise illegal_type(name, types[0] if types else "nothing", 0)
        path = _path(name, types, consts)

        def impl(args, n):
            from mergetree.kernels import json as J

            data, start, end, vtype, _ = _locate(args[0], path)
            if raw:
                o, d = _run_kernel(J.minify, data, start, end, vtype != J.T_MISSING)
            else:
                o, d = _as_text(data, start, end, vtype)
            col = StringColumn(T.String, o, d)
            return V.ConstColumn(col, n) if V.is_const(args[0]) else col

        return T.String, impl

    return resolve


_register_text("JSONExtractString", False)
_register_text("JSONExtractRaw", True)


def _numbers(data, start, end, vtype, rtype, name, boolean=False, bools_as_numbers=False):
    """(values of type rtype, converted) for located JSON values: numbers as they are, numeric strings
    strictly, floats truncated into integers when in range, true/false as 1/0 for Bool/UInt8 ("converted"
    is False for missing, null, objects, arrays and strings that are not numbers: Nullable gives NULL)."""
    from mergetree.functions.conversion import parse_numbers
    from mergetree.kernels import json as J
    from mergetree.kernels.search import gather_ranges

    rows = len(start)
    num = vtype == J.T_NUMBER
    if boolean or isinstance(rtype, T.BoolType):  # JSONExtractBool: true or a non-zero number
        o, d = gather_ranges(data, start, np.where(num, end, start))
        vals, _ = parse_numbers(StringColumn(T.String, o, d), T.Float64, "zero", name)
        out = ((vtype == J.T_TRUE) | (num & (vals != 0))).astype(np.uint8)
        return out, num | (vtype == J.T_TRUE) | (vtype == J.T_FALSE)
    text = vtype == J.T_STRING
    # number tokens as they are, string values without their quotes
    s = np.where(text, start + 1, start)
    e = np.where(text, end - 1, np.where(num, end, start))
    if isinstance(rtype, T.FloatType):
        # most JSON numbers take Clinger's exact fast path (kernel); the exact parser takes the rest
        fast = np.zeros(rows, np.float64)
        fast_ok = np.zeros(rows, np.bool_)
        J.fast_floats(data, np.ascontiguousarray(s, np.int64), np.ascontiguousarray(e, np.int64), fast, fast_ok)
        fast_ok &= num | text
        slow = np.flatnonzero(~fast_ok & (num | text))
        vals = fast
        ok = fast_ok.copy()
        if slow.size:
            so, sd = gather_ranges(data, s[slow], e[slow])
            sv, sbad = parse_numbers(StringColumn(T.String, so, sd), T.Float64, "zero", name)
            vals[slow] = np.where(sbad, 0.0, sv)
            ok[slow] = ~sbad
        out = vals.astype(rtype.dtype)
        retry = np.zeros(0, np.int64)
    else:  # integers parse exactly; other numbers (1e3, 5.7) through floats, truncated
        o, d = gather_ranges(data, s, e)
        col = StringColumn(T.String, o, d)
        wide = T.Int64 if rtype.signed else T.UInt64
        out, bad = parse_numbers(col, wide, "zero", name)
        out = np.asarray(out)
        if rtype.bits < 64:  # out of the type's range: not converted (0), as ClickHouse
            info = np.iinfo(rtype.dtype)
            bad = bad | (out < info.min) | (out > info.max)
            out = np.where(bad, 0, out)
        out = out.astype(rtype.dtype)
        ok = (num | text) & ~bad
        retry = np.nonzero(bad & (num | text))[0]
    if retry.size:  # 5.7, 1e3, "1.5": through floats, truncated, if in range
        so, sd = gather_ranges(data, s[retry], e[retry])
        floats, fbad = parse_numbers(StringColumn(T.String, so, sd), T.Float64, "zero", name)
        lo, hi = (-2.0 ** (rtype.bits - 1), 2.0 ** (rtype.bits - 1)) if rtype.signed else (0.0, 2.0 ** rtype.bits)
        good = ~fbad & (floats >= lo) & (floats < hi)
        with np.errstate(all="ignore"):
            out[retry] = np.where(good, np.trunc(floats), 0).astype(rtype.dtype)
        ok[retry] = good
    del rows
    if bools_as_numbers:  # JSONExtract(.., 'Int64') reads true/false as 1/0 (JSONExtractInt does not)
        out[vtype == J.T_TRUE] = 1
        ok = ok | (vtype == J.T_TRUE) | (vtype == J.T_FALSE)
    return out, ok


def _register_number(name: str, rtype):
    @register(name)
    def resolve(types, consts):
        if not types or not isinstance(types[0], T.StringType):
            raise illegal_type(name, types[0] if types else "nothing", 0)
        path = _path(name, types, consts)

        def impl(args, n):
            data, start, end, vtype, _ = _locate(args[0], path)
            out, _ = _numbers(data, start, end, vtype, rtype, name, boolean=name == "JSONExtractBool")
            col = V.fixed(rtype, np.asarray(out).astype(rtype.dtype))
            return V.ConstColumn(col, n) if V.is_const(args[0]) else col

        return rtype, impl

    return resolve


_register_number("JSONExtractInt", T.Int64)
_register_number("JSONExtractUInt", T.UInt64)
_register_number("JSONExtractFloat", T.Float64)
_register_number("JSONExtractBool", T.UInt8)


@register("JSONHas")
def json_has(types, consts):
    if not types or not isinstance(types[0], T.StringType):
        raise illegal_type("JSONHas", types[0] if types else "nothing", 0)
    path = _path("JSONHas", types, consts)

    def impl(args, n):
        _, _, _, vtype, _ = _locate(args[0], path)
        col = V.fixed(T.UInt8, (vtype != 0).astype(np.uint8))
        return V.ConstColumn(col, n) if V.is_const(args[0]) else col

    return T.UInt8, impl


@register("JSONLength")
def json_length(types, consts):
    if not types or not isinstance(types[0], T.StringType):
        raise illegal_type("JSONLength", types[0] if types else "nothing", 0)
    path = _path("JSONLength", types, consts)

    def impl(args, n):
        _, _, _, _, count = _locate(args[0], path)
        col = V.fixed(T.UInt64, count.astype(np.uint64))
        return V.ConstColumn(col, n) if V.is_const(args[0]) else col

    return T.UInt64, impl


# --------------------------------------------------------------------------- JSONExtract(json, path.., 'Type')
#
# One typed extractor over located values (byte ranges into the documents' bytes, with their JSON
# type): scalars convert as the JSONExtract<Type> functions do; Array(T) takes the members of
# arrays (kernels/json.py `members`) and converts them recursively; Tuple(..) takes array
# positions or, for a named tuple over an object, the members by name (the sub-documents are
# gathered and located with the same path kernel); Map(String, T) takes an object's members;
# Nullable(T) is NULL where the value is missing, null, or does not convert.


def _members(data, start, end, vtype, count):
    """(member count per row, first slot per row, value starts, value ends, key starts, key ends)."""
    from mergetree.kernels import json as J

    cnt = np.where((vtype == J.T_ARRAY) | (vtype == J.T_OBJECT), count, 0).astype(np.int64)
    first = np.zeros(len(cnt), np.int64)
    if len(cnt) > 1:
        np.cumsum(cnt[:-1], out=first[1:])
    total = int(cnt.sum())
    ms, me, ks, ke = (np.empty(total, np.int64) for _ in range(4))
    J.members(data, np.ascontiguousarray(start), np.ascontiguousarray(end), np.ascontiguousarray(vtype),
              first, ms, me, ks, ke)
    return cnt, first, ms, me, ks, ke


def _member_types(data, ms):
    from mergetree.kernels import json as J

    if len(ms) == 0:
        return np.zeros(0, np.int64)
    c = data[ms]
    vt = np.full(len(ms), J.T_NUMBER, np.int64)
    vt[c == 34] = J.T_STRING
    vt[c == 123] = J.T_OBJECT
    vt[c == 91] = J.T_ARRAY
    vt[c == 116] = J.T_TRUE
    vt[c == 102] = J.T_FALSE
    vt[c == 110] = J.T_NULL
    return vt


def _offsets(cnt):
    off = np.zeros(len(cnt) + 1, np.int64)
    np.cumsum(cnt, out=off[1:])
    return off


def _decoded_keys(data, ks, ke):
    from mergetree.kernels import json as J

    out = np.empty(max(int((ke - ks).sum()), 1), np.uint8)
    offsets = np.empty(len(ks) + 1, np.int64)
    J.unescape_compact(data, np.ascontiguousarray(ks, np.int64), np.ascontiguousarray(ke, np.int64),
                       np.ones(len(ks), np.bool_), out, offsets)
    return StringColumn(T.String, offsets, out[:int(offsets[-1])])


def _locate_in(data, start, end, vtype, key):
    """Locate member `key` (str or 1-based int) inside the located values (sub-documents)."""
    from mergetree.kernels import json as J
    from mergetree.kernels.search import gather_ranges

    live = (vtype != J.T_MISSING)
    o, d = gather_ranges(data, np.where(live, start, 0), np.where(live, end, 0))
    kinds = np.array([0 if isinstance(key, str) else 1], np.int64)
    kb = key.encode() if isinstance(key, str) else b""
    koff = np.array([0, len(kb)], np.int64)
    idx = np.array([0 if isinstance(key, str) else key], np.int64)
    n = len(start)
    s2, e2, t2, c2 = (np.empty(n, np.int64) for _ in range(4))
    J.locate(o, d, kinds, koff, np.frombuffer(kb, np.uint8).copy(), idx, s2, e2, t2, c2)
    return d, s2, e2, t2, c2


def extract_typed(data, start, end, vtype, count, t, name="JSONExtract"):
    """(column of type t, converted mask) for the located values."""
    from mergetree.column import ArrayColumn, LowCardinalityColumn, MapColumn, NullableColumn, TupleColumn
    from mergetree.kernels import json as J

    n = len(start)
    if isinstance(t, T.NullableType):
        col, ok = extract_typed(data, start, end, vtype, count, t.inner, name)
        return NullableColumn(t, col, ~ok | (vtype == J.T_NULL) | (vtype == J.T_MISSING)), ok | (vtype == J.T_NULL)
    if isinstance(t, T.LowCardinalityType):
        col, ok = extract_typed(data, start, end, vtype, count, t.inner, name)
        return LowCardinalityColumn.encode(t, col), ok
    if isinstance(t, T.StringType):
        o, d = _as_text(data, start, end, vtype)
        return StringColumn(T.String, o, d), (vtype != J.T_MISSING) & (vtype != J.T_NULL)
    if isinstance(t, (T.IntType, T.FloatType, T.BoolType)):
        vals, ok = _numbers(data, start, end, vtype, t, name, bools_as_numbers=True)
        return V.fixed(t, np.asarray(vals).astype(t.dtype)), ok
    if isinstance(t, T.ArrayType):
        cnt, _, ms, me, _, _ = _members(data, start, end, vtype, count)
        cnt = np.where(vtype == J.T_ARRAY, cnt, 0)
        keep = np.repeat(vtype == J.T_ARRAY, np.where((vtype == J.T_ARRAY) | (vtype == J.T_OBJECT), count, 0))
        ms, me = ms[keep], me[keep]
        mt = _member_types(data, ms)
        sub_count = np.zeros(len(ms), np.int64)
        if len(ms) and ((mt == J.T_ARRAY) | (mt == J.T_OBJECT)).any():
            from mergetree.kernels.json import _count  # noqa: F401  (counts through the members kernel)
            sub_count = _container_counts(data, ms, me, mt)
        values, ok = extract_typed(data, ms, me, mt, sub_count, t.inner, name)
        return _drop_failed(ArrayColumn(t, _offsets(cnt), values), ok, vtype == J.T_ARRAY)
    if isinstance(t, T.TupleType):
        cols, oks = [], []
        ok = (vtype == J.T_ARRAY) | (vtype == J.T_OBJECT)
        for j, et in enumerate(t.elements):
            key = t.names[j] if t.names else j + 1
            d2, s2, e2, t2, c2 = _locate_in(data, start, end, vtype, key)
            if t.names:  # an array gives its positions to a named tuple too
                d3, s3, e3, t3, c3 = _locate_in(data, start, end, vtype, j + 1)
                arr = vtype == J.T_ARRAY
                if arr.any():
                    base = len(d2)
                    d2 = np.concatenate([d2, d3])
                    s2, e2 = np.where(arr, s3 + base, s2), np.where(arr, e3 + base, e2)
                    t2, c2 = np.where(arr, t3, t2), np.where(arr, c3, c2)
            t2 = np.where(ok, t2, J.T_MISSING)
            col, ok_j = extract_typed(d2, s2, e2, t2, c2, et, name)
            cols.append(col)
            oks.append(ok_j & (t2 != J.T_MISSING))
        ok = ok & np.logical_or.reduce(oks)
        if not ok.all():  # no element converted: the whole tuple is the default (ClickHouse)
            from mergetree.column import default_column
            from mergetree.functions.aggregate.registry import take_or_default

            rows = np.where(ok, np.arange(n), -1)
            cols = [take_or_default(c, rows, c.type) for c in cols]
            del default_column
        return TupleColumn(t, cols, n), ok
    if isinstance(t, T.MapType):
        if not isinstance(t.key, T.StringType):
            raise IllegalTypeOfArgument(f"{name}: a Map extracted from JSON must have String keys, got {t}")
        obj = vtype == J.T_OBJECT
        cnt, _, ms, me, ks, ke = _members(data, start, end, np.where(obj, vtype, J.T_MISSING), count)
        mt = _member_types(data, ms)
        values, ok = extract_typed(data, ms, me, mt, _container_counts(data, ms, me, mt), t.value, name)
        return MapColumn(t, _offsets(cnt), _decoded_keys(data, ks, ke), values), obj
    if isinstance(t, (T.DateType, T.Date32Type, T.DateTimeType, T.DateTime64Type, T.DecimalType, T.UUIDType,
                      T.FixedStringType)):
        from mergetree.functions.conditional import cast_column

        o, d = _as_text(data, start, end, vtype)
        text = StringColumn(T.String, o, d)
        ok = (vtype == J.T_STRING) | (vtype == J.T_NUMBER)
        if not ok.all():  # missing values: the type default ('' does not parse)
            from mergetree.column import Column, default_column

            good = np.flatnonzero(ok)
            conv = V.materialize(cast_column(text.take(good), T.String, t)) if len(good) else default_column(t, 0)
            rows = np.where(ok, np.cumsum(ok) - 1, len(good))
            return Column.concat([conv, default_column(t, 1)]).take(rows), ok
        return V.materialize(cast_column(text, T.String, t)), ok
    raise IllegalTypeOfArgument(f"{name}: extracting type {t} from JSON is not supported")


def _drop_failed(col, member_ok, row_ok):
    """ClickHouse keeps an array/map only if at least one member converted (the others hold their
    type default); a row none of whose members converted becomes empty and counts as failed."""
    if member_ok.all():  # the common case: every member converted
        return col, row_ok
    lens = np.diff(col.offsets)
    row = np.repeat(np.arange(len(lens)), lens)
    any_ok = np.bincount(row[member_ok], minlength=len(lens)) > 0
    bad = (lens > 0) & ~any_ok
    if bad.any():
        col = col.take(np.arange(len(lens)))  # copy with contiguous offsets
        keep_rows = np.where(bad, -1, np.arange(len(lens)))
        from mergetree.functions.aggregate.registry import take_or_default

        col = take_or_default(col, keep_rows, col.type)
    return col, row_ok & ~bad


def _container_counts(data, ms, me, mt):
    """Member counts of the arrays/objects among located member values."""
    from mergetree.kernels import json as J

    containers = (mt == J.T_ARRAY) | (mt == J.T_OBJECT)
    if not containers.any():   # scalars have no members
        return np.zeros(len(ms), np.int64)
    o, d = _gather_docs(data, ms, me)
    kinds = np.zeros(0, np.int64)
    s2, e2, t2, c2 = (np.empty(len(ms), np.int64) for _ in range(4))
    J.locate(o, d, kinds, np.zeros(1, np.int64), np.zeros(0, np.uint8), np.zeros(0, np.int64), s2, e2, t2, c2)
    return c2


def _gather_docs(data, s, e):
    from mergetree.kernels.search import gather_ranges

    return gather_ranges(data, s, e)


def _type_arg(name, types, consts, i):
    if i >= len(types) or consts[i] is NOT_CONST or not isinstance(consts[i], str):
        raise IllegalTypeOfArgument(f"The last argument of function {name} must be a constant string: "
                                    "the type to extract")
    return T.parse_type(consts[i])


def _need_string(name, types):
    if not types or not isinstance(types[0], T.StringType):
        raise illegal_type(name, types[0] if types else "nothing", 0)


@register("JSONExtract")
def json_extract(types, consts):
    _need_string("JSONExtract", types)
    if len(types) < 2:
        raise IllegalTypeOfArgument("Function JSONExtract requires at least 2 arguments")
    rtype = _type_arg("JSONExtract", types, consts, len(types) - 1)
    path = _path("JSONExtract", types[:-1], consts[:-1])

    def impl(args, n):
        data, start, end, vtype, count = _locate(args[0], path)
        col, _ = extract_typed(data, start, end, vtype, count, rtype)
        return V.ConstColumn(col, n) if V.is_const(args[0]) else col

    return rtype, impl


@register("JSONExtractKeys")
def json_extract_keys(types, consts):
    from mergetree.column import ArrayColumn

    _need_string("JSONExtractKeys", types)
    path = _path("JSONExtractKeys", types, consts)
    rtype = T.Array(T.String)

    def impl(args, n):
        from mergetree.kernels import json as J

        data, start, end, vtype, count = _locate(args[0], path)
        obj = vtype == J.T_OBJECT
        cnt, _, _, _, ks, ke = _members(data, start, end, np.where(obj, vtype, J.T_MISSING), count)
        col = ArrayColumn(rtype, _offsets(cnt), _decoded_keys(data, ks, ke))
        return V.ConstColumn(col, n) if V.is_const(args[0]) else col

    return rtype, impl


def _raw(data, s, e):
    """Minified text of the values data[s:e], back to back (one kernel pass)."""
    from mergetree.kernels import json as J

    out = np.empty(max(int((e - s).sum()), 1), np.uint8)
    offsets = np.empty(len(s) + 1, np.int64)
    J.minify_compact(data, np.ascontiguousarray(s, np.int64), np.ascontiguousarray(e, np.int64),
                     np.ones(len(s), np.bool_), out, offsets)
    return StringColumn(T.String, offsets, out[:int(offsets[-1])])


@register("JSONExtractArrayRaw")
def json_extract_array_raw(types, consts):
    from mergetree.column import ArrayColumn

    _need_string("JSONExtractArrayRaw", types)
    path = _path("JSONExtractArrayRaw", types, consts)
    rtype = T.Array(T.String)

    def impl(args, n):
        from mergetree.kernels import json as J

        data, start, end, vtype, count = _locate(args[0], path)
        arr = vtype == J.T_ARRAY
        cnt, _, ms, me, _, _ = _members(data, start, end, np.where(arr, vtype, J.T_MISSING), count)
        col = ArrayColumn(rtype, _offsets(cnt), _raw(data, ms, me))
        return V.ConstColumn(col, n) if V.is_const(args[0]) else col

    return rtype, impl


def _keys_and_values(name, raw):
    @register(name)
    def resolve(types, consts):
        from mergetree.column import ArrayColumn, TupleColumn

        _need_string(name, types)
        if raw:
            vt, path = T.String, _path(name, types, consts)
        else:
            vt = _type_arg(name, types, consts, len(types) - 1)
            path = _path(name, types[:-1], consts[:-1])
        tt = T.TupleType((T.String, vt))
        rtype = T.Array(tt)

        def impl(args, n):
            from mergetree.kernels import json as J

            data, start, end, vtype, count = _locate(args[0], path)
            obj = vtype == J.T_OBJECT
            cnt, _, ms, me, ks, ke = _members(data, start, end, np.where(obj, vtype, J.T_MISSING), count)
            keys = _decoded_keys(data, ks, ke)
            if raw:
                values = _raw(data, ms, me)
            else:
                mt = _member_types(data, ms)
                values, ok = extract_typed(data, ms, me, mt, _container_counts(data, ms, me, mt), vt, name)
                if not ok.all():  # members that do not convert are left out (ClickHouse)
                    row = np.repeat(np.arange(len(cnt)), cnt)
                    cnt = np.bincount(row[ok], minlength=len(cnt))
                    keys, values = keys.filter(ok), values.filter(ok)
            col = ArrayColumn(rtype, _offsets(cnt), TupleColumn(tt, [keys, values]))
            return V.ConstColumn(col, n) if V.is_const(args[0]) else col

        return rtype, impl


_keys_and_values("JSONExtractKeysAndValues", False)
_keys_and_values("JSONExtractKeysAndValuesRaw", True)


@register("isValidJSON")
def is_valid_json(types, consts):
    _need_string("isValidJSON", types)

    def impl(args, n):
        from mergetree.functions.comparison import _string_parts
        from mergetree.kernels import json as J

        offsets, data = _string_parts(args[0])
        out = np.empty(len(offsets) - 1, np.uint8)
        J.valid_rows(np.ascontiguousarray(offsets, np.int64), np.ascontiguousarray(data, np.uint8), out)
        col = V.fixed(T.UInt8, out)
        return V.ConstColumn(col, n) if V.is_const(args[0]) else col

    return T.UInt8, impl


# --------------------------------------------------------------------------- visitParam / simpleJSON
#
# ClickHouse's fast path for flat documents: the value right after the first ``"name":`` in the
# row (no whitespace allowed around the colon, any nesting level), no validation of the document.


def _visit(args, key: str, suffix: str):
    from mergetree.functions.comparison import _string_parts
    from mergetree.kernels import json as J

    offsets, data = _string_parts(args[0])
    offsets = np.ascontiguousarray(offsets, np.int64)
    data = np.ascontiguousarray(data, np.uint8)
    needle = np.frombuffer(b'"' + key.encode("utf-8", "surrogateescape") + b'":', np.uint8).copy()
    n = len(offsets) - 1
    vstart = np.empty(n, np.int64)
    J.visit_param(offsets, data, needle, vstart)
    token = vstart.copy()
    string_end = np.empty(n, np.int64)
    J.visit_string_end(data, offsets, vstart, string_end)
    if suffix == "ExtractRaw":
        vend = np.empty(n, np.int64)
        J.visit_value_end(data, offsets, vstart, vend)   # (marks unreadable raw values -2)
    else:   # a quoted value ends with its string token; a number where it stops (number_prefix_end)
        vend = np.where(vstart >= 0, np.where(string_end > 0, string_end, offsets[1:]), -1)
    return data, offsets, vstart, vend, (token, string_end)


def _visit_key(name, types, consts):
    _need_string(name, types)
    if len(types) != 2 or consts[1] is NOT_CONST or not isinstance(consts[1], str):
        raise IllegalTypeOfArgument(f"The second argument of function {name} must be a constant string")
    return consts[1]


def _register_visit(suffix, rtype):
    names = ("visitParam" + suffix, "simpleJSON" + suffix)

    def resolve(types, consts):
        key = _visit_key(names[0], types, consts)

        def impl(args, n):
            from mergetree.kernels import json as J

            data, offsets, vs, ve, (token, string_end) = _visit(args, key, suffix)
            found = vs >= 0
            s = np.where(found, vs, 0)
            e = np.where(found, ve, 0)
            if suffix == "Has":
                col = V.fixed(T.UInt8, found.astype(np.uint8))
            elif suffix == "ExtractRaw":
                from mergetree.kernels.search import gather_ranges

                o, d = gather_ranges(data, s, e)
                col = StringColumn(T.String, o, d)
            elif suffix == "ExtractString":  # a proper JSON string token right after the colon
                is_str = string_end > 0
                s = np.where(is_str, token, 0)
                e = np.where(is_str, string_end, 0)
                out = np.empty(max(int((e - s).sum()), 1), np.uint8)
                o = np.empty(len(s) + 1, np.int64)
                J.unescape_compact(data, s, e, is_str, out, o)
                col = StringColumn(T.String, o, out[:int(o[-1])])
            else:
                vt = np.where(found, J.T_NUMBER, J.T_MISSING)
                if len(data):
                    first = data[np.minimum(s, len(data) - 1)]
                    vt = np.where(found & (first == 34), J.T_STRING, vt)
                    vt = np.where(found & (first == 116), J.T_TRUE, vt)
                    vt = np.where(found & (first == 102), J.T_FALSE, vt)
                if suffix == "ExtractBool":
                    col = V.fixed(T.UInt8, (vt == J.T_TRUE).astype(np.uint8))
                elif suffix in ("ExtractUInt", "ExtractInt"):   # integer prefix, one kernel pass
                    out = np.empty(len(vs), np.uint64)
                    J.visit_ints(data, offsets, vs, suffix == "ExtractInt", out)
                    col = V.fixed(rtype, out.view(rtype.dtype))
                else:
                    vals, _ = _numbers(data, s, _number_prefix_end(data, s, e, vt), vt, rtype, names[0])
                    col = V.fixed(rtype, np.asarray(vals).astype(rtype.dtype))
            return V.ConstColumn(col, n) if V.is_const(args[0]) else col

        return rtype, impl

    register(names[0])(resolve)
    register(names[1])(resolve)


def _number_prefix_end(data, s, e, vt):
    """A number token ends at the first byte that cannot continue it (``12abc`` reads 12)."""
    from mergetree.kernels import json as J

    out = np.empty(len(s), np.int64)
    J.number_prefix_end(data, np.ascontiguousarray(s, np.int64), np.ascontiguousarray(e, np.int64),
                        np.ascontiguousarray(vt, np.int64), out)
    return out


for _suffix, _t in (("Has", T.UInt8), ("ExtractUInt", T.UInt64), ("ExtractInt", T.Int64),
                    ("ExtractFloat", T.Float64), ("ExtractBool", T.UInt8), ("ExtractRaw", T.String),
                    ("ExtractString", T.String)):
    _register_visit(_suffix, _t)


@register("toJSONString", null_mode="raw")
def to_json_string(types, consts):
    """Any value as JSON text, as ClickHouse's JSON output formats write it."""
    if len(types) != 1:
        raise IllegalTypeOfArgument("Function toJSONString takes one argument")

    def impl(args, n):
        from mergetree.formats.json import json_values

        c = V.materialize(args[0])
        texts = json_values(c, c.type)
        return StringColumn.from_bytes_list([t.encode("utf-8", "surrogateescape") for t in texts])

    return T.String, impl
