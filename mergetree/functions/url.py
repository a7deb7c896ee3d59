"""URL functions: protocol, domain, domainWithoutWWW, topLevelDomain, firstSignificantSubdomain,
cutToFirstSignificantSubdomain, path, pathFull, queryString, fragment, queryStringAndFragment,
cutQueryString, cutFragment, cutQueryStringAndFragment, cutWWW, extractURLParameter,
extractURLParameters, extractURLParameterNames, URLHierarchy, URLPathHierarchy,
decodeURLComponent, encodeURLComponent, decodeURLFormComponent, encodeURLFormComponent.

As in ClickHouse they scan bytes, not RFC 3986: a host needs a dot and no restricted
character, anything unparsable gives '' (extractors) or the URL unchanged (cut*). The byte
scanners are numba kernels in `mergetree.kernels.url`; a row never goes through Python.
firstSignificantSubdomain checks the last two labels of the host against the second-level
public suffixes (``co.uk``, ``com.br``, ``github.io``...) of `url_tld.txt`, the list
ClickHouse's built-in lookup accepts.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from mergetree import types as T
from mergetree.column import ArrayColumn, StringColumn
from mergetree.functions import values as V
from mergetree.functions.comparison import _string_parts
from mergetree.functions.registry import NOT_CONST, IllegalTypeOfArgument, check_arity, illegal_type, register


def _string_arg(name, types, i=0):
    if not isinstance(types[i], T.StringType):
        raise illegal_type(name, types[i], i)


@lru_cache(maxsize=1)
def tld_table():
    """(offsets, bytes, sorted FNV-1a hashes) of the second-level suffix list, sorted by hash."""
    path = Path(__file__).with_name("url_tld.txt")
    lines = path.read_text("utf-8").splitlines() if path.exists() else []
    words = [w.strip().encode() for w in lines if w.strip() and not w.startswith("#")]

    def fnv(b: bytes) -> int:
        h = 14695981039346656037
        for c in b:
            h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
        return h

    pairs = sorted((fnv(w), w) for w in set(words))
    offsets = np.zeros(len(pairs) + 1, np.int64)
    np.cumsum([len(w) for _, w in pairs], out=offsets[1:])
    data = np.frombuffer(b"".join(w for _, w in pairs), np.uint8).copy() if pairs else np.zeros(0, np.uint8)
    hashes = np.array([h for h, _ in pairs], np.uint64)
    return offsets, data, hashes


def _wrap(c, out):
    return V.ConstColumn(out, len(c)) if V.is_const(c) else out


def _extractor(name: str, op_name: str, cut: bool = False):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        _string_arg(name, types)

        def impl(args, n):
            from mergetree.kernels import url as K

            c = args[0]
            offsets, data = _string_parts(c)
            offsets = np.ascontiguousarray(offsets, np.int64)
            data = np.ascontiguousarray(data, np.uint8)
            starts, ends = K.extract(offsets, data, getattr(K, op_name), *tld_table())
            o, d = (K.cut(offsets, data, starts, ends) if cut else K.gather(data, starts, ends))
            return _wrap(c, StringColumn(T.String, o, d))

        return T.String, impl

    return resolve


_extractor("protocol", "OP_PROTOCOL")
_extractor("domain", "OP_DOMAIN")
_extractor("domainWithoutWWW", "OP_DOMAIN_NO_WWW")
_extractor("topLevelDomain", "OP_TLD")
_extractor("path", "OP_PATH")
_extractor("pathFull", "OP_PATH_FULL")
_extractor("queryString", "OP_QUERY")
_extractor("fragment", "OP_FRAGMENT")
_extractor("queryStringAndFragment", "OP_QUERY_AND_FRAGMENT")
_extractor("firstSignificantSubdomain", "OP_FIRST_SIGNIFICANT")
_extractor("cutToFirstSignificantSubdomain", "OP_CUT_TO_FIRST_SIGNIFICANT")
_extractor("cutQueryString", "OP_CUT_QUERY", cut=True)
_extractor("cutFragment", "OP_CUT_FRAGMENT", cut=True)
_extractor("cutQueryStringAndFragment", "OP_CUT_QUERY_FRAGMENT", cut=True)
_extractor("cutWWW", "OP_CUT_WWW", cut=True)


@register("extractURLParameter")
def extract_url_parameter(types, consts):
    check_arity("extractURLParameter", types, 2)
    _string_arg("extractURLParameter", types, 0)
    _string_arg("extractURLParameter", types, 1)
    if consts[1] is NOT_CONST:
        raise IllegalTypeOfArgument("Argument 2 (name) of function extractURLParameter must be a constant string")
    v = consts[1]
    name = np.frombuffer(v.encode("utf-8", "surrogateescape") if isinstance(v, str) else bytes(v), np.uint8).copy()

    def impl(args, n):
        from mergetree.kernels import url as K

        c = args[0]
        offsets, data = _string_parts(c)
        data = np.ascontiguousarray(data, np.uint8)
        starts, ends = K.extract_parameter(np.ascontiguousarray(offsets, np.int64), data, name)
        return _wrap(c, StringColumn(T.String, *K.gather(data, starts, ends)))

    return T.String, impl


def _tokens(name: str, op: int):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        _string_arg(name, types)
        rtype = T.Array(T.String)

        def impl(args, n):
            from mergetree.kernels import url as K

            c = args[0]
            offsets, data = _string_parts(c)
            data = np.ascontiguousarray(data, np.uint8)
            pieces, ps, pe = K.tokens(np.ascontiguousarray(offsets, np.int64), data, op)
            arr_off = np.zeros(len(pieces) + 1, np.int64)
            np.cumsum(pieces, out=arr_off[1:])
            return _wrap(c, ArrayColumn(rtype, arr_off, StringColumn(T.String, *K.gather(data, ps, pe))))

        return rtype, impl

    return resolve


_tokens("extractURLParameters", 0)
_tokens("extractURLParameterNames", 1)
_tokens("URLHierarchy", 2)
_tokens("URLPathHierarchy", 3)


def _coding(name: str, kernel: str, flag: bool):
    @register(name)
    def resolve(types, consts):
        check_arity(name, types, 1)
        _string_arg(name, types)

        def impl(args, n):
            from mergetree.kernels import url as K

            c = args[0]
            offsets, data = _string_parts(c)
            o, d = getattr(K, kernel)(np.ascontiguousarray(offsets, np.int64), np.ascontiguousarray(data, np.uint8),
                                      flag)
            return _wrap(c, StringColumn(T.String, o, d))

        return T.String, impl

    return resolve


_coding("decodeURLComponent", "decode_component", False)
_coding("decodeURLFormComponent", "decode_component", True)
_coding("encodeURLComponent", "encode_component", False)
_coding("encodeURLFormComponent", "encode_component", True)
