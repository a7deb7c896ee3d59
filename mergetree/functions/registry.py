"""The scalar function registry: name -> FunctionDef, with ClickHouse's name rules.

A function is one small unit (see ``arithmetic.py``, ``datetime.py``...): a name, and a
``resolve(arg_types, consts)`` that checks the argument types, infers the ClickHouse result
type and returns the vectorized implementation specialised for those types::

    @register("toYYYYMM", monotonic=ALWAYS_INCREASING)
    def to_yyyymm(types, consts):
        check_arity("toYYYYMM", types, 1, 2)
        ...
        return UInt32, lambda args, n: ...

``consts[i]`` is the Python value of argument i when it is a constant (a time-zone name, a
week mode), else the sentinel ``NOT_CONST``. The implementation receives plain columns:
by default (``null_mode="default"``) the registry strips ``Nullable`` from the arguments,
calls the function on the non-NULL values and ORs the null masks into the result, as
ClickHouse's default implementation for NULLs does; ``LowCardinality`` arguments are
expanded to full columns (a function of one LowCardinality column and constants runs once
per dictionary entry and gathers by the codes); when every argument is a constant, the function runs once on
one row and the result stays a constant (`ConstColumn`). Functions with their own NULL
logic (``and``, ``or``, ``isNull``) set ``null_mode="custom"``; ``null_mode="raw"`` passes
types and columns untouched (``toTypeName``).

Names are case-sensitive, except the functions ClickHouse registers case-insensitively
(``toDate``, ``now``, ``today``, ``lower``, ``concat``... they are marked
``case_insensitive=True``). Unknown names raise ``UnknownFunction`` with a suggestion.

``monotonic`` tells the key condition how a function behaves in one argument when the other
arguments are constants: a callable ``(types, consts, arg_index) -> Monotonicity | None``.
"""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from mergetree import types as T
from mergetree.column import LowCardinalityColumn
from mergetree.errors import (BadArgumentsError, CannotParseTextError, IllegalDivisionError,
                              IllegalTypeOfArgumentError, MergeTreeError, NumberOfArgumentsError,
                              UnknownFunctionError, UnknownIdentifierError)


class _NotConst:
    def __repr__(self) -> str:
        return "NOT_CONST"


NOT_CONST = _NotConst()


@dataclass(frozen=True)
class Monotonicity:
    """How f(x) moves with x on a range: ``increasing`` (non-strict) or decreasing.

    ``always``: true for every input (``toDate``, ``intDiv(x, 3)``); false for functions that
    are monotonic only where they do not wrap around (``x + 1`` on UInt64), which the key
    condition accepts only when ``f(left) <= f(right)`` on the range being checked.
    """

    increasing: bool = True
    always: bool = True


@dataclass(frozen=True)
class FunctionDef:
    name: str
    resolve: Callable[[list, list], tuple[Any, Callable]]
    case_insensitive: bool = False
    null_mode: str = "default"
    monotonic: Callable | None = None
    aliases: tuple[str, ...] = field(default=())


_FUNCTIONS: dict[str, FunctionDef] = {}
_CI_FUNCTIONS: dict[str, FunctionDef] = {}


def register(name: str, *, case_insensitive: bool = False, null_mode: str = "default",
             monotonic: Callable | None = None, aliases: tuple[str, ...] = ()):
    """Decorator registering ``resolve(types, consts)`` as function `name`."""

    def deco(resolve):
        fd = FunctionDef(name, resolve, case_insensitive, null_mode, monotonic, aliases)
        for n in (name, *aliases):
            if n in _FUNCTIONS:
                raise ValueError(f"function {n} registered twice")
            _FUNCTIONS[n] = fd
            if case_insensitive:
                _CI_FUNCTIONS[n.lower()] = fd
        return resolve

    return deco


def register_alias(alias: str, target: str, *, case_insensitive: bool = True) -> None:
    """Another name for a registered function (``YEAR`` for ``toYear``), with its own case rule."""
    fd = _FUNCTIONS[target]
    _FUNCTIONS[alias] = fd
    if case_insensitive:
        _CI_FUNCTIONS[alias.lower()] = fd


_loaded = False
_loading = False
_load_lock = threading.RLock()


def _load_all() -> None:
    # importing the modules registers their functions. Thread-safe: `_loaded` turns True only once every
    # module is imported (a server's first concurrent queries otherwise saw a half-filled registry:
    # UNKNOWN_FUNCTION for a function registered a moment later); a nested call from those imports returns.
    global _loaded, _loading
    with _load_lock:
        if _loaded or _loading:
            return
        _loading = True
        try:
            _import_function_modules()
        finally:
            _loading = False
        _loaded = True


def _import_function_modules() -> None:
    from mergetree.functions import (arithmetic, arrays, comparison, conditional, conversion,  # noqa: F401
                                     datetime, json, logical, math, strings)
    from mergetree.functions import maps, tuples  # noqa: F401  (H6: tuples and maps)
    from mergetree.functions.aggregate import states  # noqa: F401 - finalizeAggregation, initializeAggregation
    from mergetree.functions import decimal, hashes, math_extra, strings_utf8, url  # noqa: F401  (H5: long tail)


def get_function(name: str) -> FunctionDef:
    """The FunctionDef called `name` (ClickHouse case rules) or UnknownFunction."""
    if not _loaded:
        _load_all()
    fd = _FUNCTIONS.get(name)
    if fd is None:
        fd = _CI_FUNCTIONS.get(name.lower())
    if fd is None:
        raise UnknownFunction(name, suggest(name, list(_FUNCTIONS)))
    return fd


def function_names() -> list[str]:
    if not _loaded:
        _load_all()
    return sorted(_FUNCTIONS)


def suggest(name: str, candidates: list[str]) -> str | None:
    """The closest candidate to `name` (case-insensitive), or None."""
    lower = {c.lower(): c for c in candidates}
    best = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
    return lower[best[0]] if best else None


# --------------------------------------------------------------------------- errors

from mergetree.functions import values as V  # noqa: E402  (values does not import this module)

UnknownFunction = UnknownFunctionError
UnknownIdentifier = UnknownIdentifierError
IllegalTypeOfArgument = IllegalTypeOfArgumentError
NumberOfArgumentsDoesntMatch = NumberOfArgumentsError
IllegalDivision = IllegalDivisionError
CannotParseText = CannotParseTextError
BadFunctionArguments = BadArgumentsError


def check_arity(name: str, types: list, lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    if not lo <= len(types) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise NumberOfArgumentsDoesntMatch(
            f"Number of arguments for function {name} doesn't match: passed {len(types)}, "
            f"should be {want}")


def illegal_type(name: str, t, position: int | None = None) -> IllegalTypeOfArgument:
    where = f" (argument {position + 1})" if position is not None else ""
    return IllegalTypeOfArgument(f"Illegal type {t} of argument{where} of function {name}")


# --------------------------------------------------------------------------- calling


@dataclass(frozen=True)
class PreparedCall:
    """A function resolved for concrete argument types: ``run(args, n) -> column``."""

    fn: FunctionDef
    type: Any
    run: Callable


def _on_dictionary(run, args, n):
    """f(lc, constants...) on a LowCardinality column: run f once per dictionary entry and
    gather by the codes. None when it does not apply (or fails on an unused dictionary entry,
    in which case the caller evaluates row by row over the decoded column)."""
    i = -1
    for j, a in enumerate(args):
        if isinstance(a, LowCardinalityColumn):
            if i >= 0:
                return None
            i = j
    if i < 0:
        return None
    col = args[i]
    m = len(col.dictionary)
    if m >= n or not all(V.is_const(a) for j, a in enumerate(args) if j != i):
        return None
    sub = [col.dictionary if j == i else a.with_size(m) for j, a in enumerate(args)]
    try:
        res = V.materialize(run(sub, m))
    except MergeTreeError:
        return None
    return res.take(col.codes.astype(np.int64))


#: functions whose resolve depends only on the argument types (and the constants it reads, which
#: `consts.accessed` reports): their PreparedCall is reused for the same types when no constant was
#: read. Not every resolve is pure (now() reads the clock), hence a list of the ones checked.
PURE_RESOLVE = frozenset({"equals", "notEquals", "less", "greater", "lessOrEquals", "greaterOrEquals",
                          "and", "or"})
_PREPARED: dict = {}


def prepare_call(fd: FunctionDef, types: list, consts: list) -> PreparedCall:
    """Resolve `fd` for argument `types` and wrap it with the default NULL / LowCardinality /
    constant handling (see the module docstring)."""
    if fd.name not in PURE_RESOLVE or not hasattr(consts, "accessed"):
        return _prepare_call(fd, types, consts)
    try:
        key = (fd.name, tuple(types))
        hit = _PREPARED.get(key)
    except TypeError:                   # a type with an unhashable field
        return _prepare_call(fd, types, consts)
    if hit is not None:
        return hit
    prepared = _prepare_call(fd, types, consts)
    if not consts.accessed and len(_PREPARED) < 4096:
        _PREPARED[key] = prepared
    return prepared


def _prepare_call(fd: FunctionDef, types: list, consts: list) -> PreparedCall:
    if fd.null_mode == "raw":  # sees the argument types and columns exactly as they are
        rtype, impl = fd.resolve(list(types), consts)
        return PreparedCall(fd, rtype, impl)

    if fd.null_mode == "custom":
        plain = [V.strip_lc(t) for t in types]
        rtype, impl = fd.resolve(plain, consts)

        def run_custom(args, n):
            shortcut = _on_dictionary(run_custom, args, n)
            if shortcut is not None:
                return shortcut
            args = [V.unwrap_lc(a) for a in args]
            if args and all(V.is_const(a) for a in args):
                res = impl([a.data for a in args], 1)
                return V.ConstColumn(V.materialize(res), n) if not V.is_const(res) else res.with_size(n)
            return impl(args, n)

        return PreparedCall(fd, rtype, run_custom)

    if any(V.is_null_type(V.strip_lc(t)) for t in types):
        # f(NULL, ...) is NULL of type Nullable(Nothing), as in ClickHouse
        V_null = V.NullType

        def run_null(args, n):
            return V.null_constant(n)

        return PreparedCall(fd, V_null, run_null)

    plain = [V.strip(t) for t in types]
    nullable = any(isinstance(V.strip_lc(t), T.NullableType) for t in types)
    rtype, impl = fd.resolve(plain, consts)
    out_type = V.make_nullable(rtype) if nullable else rtype

    def run(args, n):
        shortcut = _on_dictionary(run, args, n)
        if shortcut is not None:
            return shortcut
        masks = []
        plain_args = []
        for a in args:
            a, mask = V.split_nullable(V.unwrap_lc(a))
            plain_args.append(a)
            if mask is not None:
                masks.append(mask)
        if plain_args and all(V.is_const(a) for a in plain_args):
            if masks and any(m.all() for m in masks):
                return V.ConstColumn(V.with_nulls(V.default_of(rtype, 1), np.ones(1, np.bool_), out_type), n)
            res = impl([a.data for a in plain_args], 1)
            res = V.ConstColumn(V.materialize(res), n) if not V.is_const(res) else res.with_size(n)
        elif masks and getattr(impl, "wants_nulls", False):
            # e.g. intDiv: a zero divisor under a NULL is not an error
            mask = masks[0]
            for m in masks[1:]:
                mask = mask | m
            res = impl(plain_args, n, nulls=mask)
        else:
            res = impl(plain_args, n)
        if not nullable:
            return res
        if V.is_const(res) and not masks:
            return V.ConstColumn(V.with_nulls(res.data, None, out_type), n)
        mask = None
        for m in masks:
            mask = m if mask is None else (mask | m)
        return V.with_nulls(V.materialize(res) if len(res) == n else res, mask, out_type)

    return PreparedCall(fd, out_type, run)
