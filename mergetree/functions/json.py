"""JSON functions over String columns: JSONExtractString/Int/UInt/Float/Bool/Raw, JSONHas,
JSONLength (ClickHouse 26.9 semantics, byte-scanning kernels in ``kernels/json.py``).

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


def _register_number(name: str, rtype):
    @register(name)
    def resolve(types, consts):
        if not types or not isinstance(types[0], T.StringType):
            raise illegal_type(name, types[0] if types else "nothing", 0)
        path = _path(name, types, consts)

        def impl(args, n):
            from mergetree.functions.conversion import parse_numbers
            from mergetree.kernels import json as J
            from mergetree.kernels.search import gather_ranges

            data, start, end, vtype, _ = _locate(args[0], path)
            rows = len(start)
            out = np.zeros(rows, rtype.dtype)
            if rtype == T.UInt8:  # JSONExtractBool
                num = vtype == J.T_NUMBER
                o, d = gather_ranges(data, start, np.where(num, end, start))
                vals, _ = parse_numbers(StringColumn(T.String, o, d), T.Float64, "zero", name)
                out = ((vtype == J.T_TRUE) | (num & (vals != 0))).astype(np.uint8)
            else:
                num = vtype == J.T_NUMBER
                text = vtype == J.T_STRING
                # number tokens as they are, string values without their quotes
                s = np.where(text, start + 1, start)
                e = np.where(text, end - 1, np.where(num, end, start))
                o, d = gather_ranges(data, s, e)
                col = StringColumn(T.String, o, d)
                if isinstance(rtype, T.FloatType):
                    vals, bad = parse_numbers(col, T.Float64, "zero", name)
                    out = vals
                else:
                    # integers parse exactly; other numbers (1e3, 5.7) through floats, truncated
                    out, bad = parse_numbers(col, rtype, "zero", name)
                    retry = np.nonzero(bad & (num | text))[0]
                    if retry.size:  # 5.7, 1e3, "1.5": through floats, truncated, if in range
                        so, sd = gather_ranges(data, s[retry], e[retry])
                        floats, fbad = parse_numbers(StringColumn(T.String, so, sd), T.Float64, "zero", name)
                        lo, hi = (-2.0 ** 63, 2.0 ** 63) if rtype.signed else (0.0, 2.0 ** 64)
                        ok = ~fbad & (floats >= lo) & (floats < hi)
                        with np.errstate(all="ignore"):
                            out[retry] = np.where(ok, np.trunc(floats), 0).astype(rtype.dtype)
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
