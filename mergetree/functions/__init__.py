"""Vectorized scalar functions with ClickHouse semantics.

``get_function(name)`` finds a FunctionDef (ClickHouse's name rules, did-you-mean errors);
``prepare_call(fd, arg_types, consts)`` resolves it for concrete argument types and returns
``PreparedCall(type, run)`` where ``run(args, n)`` maps argument columns to the result column.
`mergetree.exec.expression` is the usual entry point; see ``registry.py`` for how to add a
function. Modules: arithmetic, comparison, logical, conditional (if/multiIf/coalesce + the
least common supertype), conversion (toInt*/toFloat*/OrZero/OrNull, CAST), math, strings,
arrays, json (JSONExtract*), datetime (+ timezones: zone offsets; values: ConstColumn and
type helpers). Aggregate functions live in ``functions/aggregate/`` (query engine).
"""

from mergetree.functions.registry import (NOT_CONST, FunctionDef, Monotonicity, PreparedCall, function_names,
                                          get_function, prepare_call, register)
from mergetree.functions.values import ConstColumn

__all__ = ["NOT_CONST", "ConstColumn", "FunctionDef", "Monotonicity", "PreparedCall", "function_names",
           "get_function", "prepare_call", "register"]
