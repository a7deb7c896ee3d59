"""The "other" long tail: sign, sqrt, pow, exp, log, log2, log10, intDivOrZero, bitAnd, bitOr,
bitXor, bitShiftLeft, bitShiftRight, bitNot, isFinite, isNaN, isInfinite, throwIf, ignore,
materialize, currentDatabase, version, rand, rand64, transform, toFixedString.
"""

from __future__ import annotations

import numpy as np

from mergetree import types as T
from mergetree.functions import values as V
from mergetree.functions.registry import check_arity, register


@register("materialize", null_mode="raw")
def materialize(types, consts):
    """A constant as a full column (same type, Nullable and LowCardinality included)."""
    check_arity("materialize", types, 1)
    return types[0], lambda args, n: V.materialize(args[0])
