"""The whitelisted template functions (TINYBIRD.md C.3 and C.4).

Every function here is pure Python over plain values; none touches the interpreter, the
file system or the network. Type functions validate a parameter's text and return a
value `to_sql` knows how to write; identifier functions (`column`, `columns`, `symbol`,
`table`) return backtick-quoted, escaped (or validated) identifiers.

`make_functions(ctx)` returns the name -> callable table for one render: `ctx` carries
test mode (absent parameters are `Placeholder`s) and collects execution options
(`max_threads`, `cache_ttl`, ...).
"""
from __future__ import annotations

import json
import re
from datetime import datetime

from .errors import TemplateCustomError, TemplateError, TemplateUserError
from .values import SQL, Placeholder, TypedFloat, TypedInt, escape_string, quote_identifier, to_sql

DOC = "/cli/advanced-templates.html"
REQUIRED_PARAM_NOT_DEFINED = "Required parameter is not defined"


class RequiredParamError(TemplateError):
    """A type function got no value and no default (the renderer names the parameters)."""


# -- validators (Tinybird's `testers`) --------------------------------------------------

_INT_RE = re.compile(r"[+-]?\d+")
_UINT_RE = re.compile(r"\d+")
_DATE_RE = re.compile(r"\d\d\d\d-\d\d-\d\d")
_DATETIME_RES = (re.compile(r"\d\d\d\d.\d\d.\d\d(T|\s)\d\d:\d\d:\d\d"),
                 re.compile(r"\d\d.\d\d.\d\d\d\d.\d{1,2}:\d{1,2}:\d{1,2}"))
_DATETIME64_RES = (re.compile(r"\d\d\d\d.\d\d.\d\d(T|\s)\d\d:\d\d:\d\d.\d\d\d"),
                   re.compile(r"\d\d.\d\d.\d\d\d\d.\d{1,2}:\d{1,2}:\d{1,2}.\d{1,3}"))


def _int_tester(bits: int, signed: bool):
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1)) if signed else (0, 2 ** bits)
    rx = _INT_RE if signed or bits >= 128 else _UINT_RE

    def test(x: str) -> bool:
        if len(x) > 100 or rx.fullmatch(x) is None:
            return False
        return lo <= int(x) < hi
    return test


def _float_tester(x: str) -> bool:
    if "_" in x or len(x) > 400:
        return False
    try:
        float(x)
    except ValueError:
        return False
    return True


TESTERS = {
    "Date": lambda x: _DATE_RE.match(x) is not None and len(x) <= 11,
    "DateTime": lambda x: any(p.match(x) for p in _DATETIME_RES),
    "DateTime64": lambda x: any(p.match(x) for p in _DATETIME64_RES),
    "Float32": _float_tester,
    "Float64": _float_tester,
}
INT_TYPES = {}
for _bits in (8, 16, 32, 64, 128, 256):
    INT_TYPES[f"Int{_bits}"] = (_bits, True)
    INT_TYPES[f"UInt{_bits}"] = (_bits, False)
    TESTERS[f"Int{_bits}"] = _int_tester(_bits, True)
    TESTERS[f"UInt{_bits}"] = _int_tester(_bits, False)

PLACEHOLDER_VALUES = {
    "DateTime64": "2019-01-01 00:00:00.000", "DateTime": "2019-01-01 00:00:00",
    "Date": "2019-01-01", "Float32": 0.0, "Float64": 0.0, "Int": 0, "Integer": 0,
    "String": "__no_value__", **{name: 0 for name in INT_TYPES},
}


class RenderContext:
    def __init__(self, test_mode: bool = False, secrets: dict | None = None):
        self.test_mode = test_mode
        self.options: dict = {}
        self.secrets = secrets or {}
        self.query_params: dict = {}


# -- type functions -------------------------------------------------------------------

def _resolve(x, default, defined, placeholder):
    """Shared absent/placeholder/default logic. Returns (value, stop) where stop means
    'return None' (defined=False)."""
    if isinstance(x, Placeholder):
        return (default if default else placeholder), False
    if x is None:
        if default is None:
            if defined:
                raise RequiredParamError(REQUIRED_PARAM_NOT_DEFINED)
            return None, True
        return default, False
    return x, False


def _type_function(name: str, tester_name: str, transform):
    tester = TESTERS.get(tester_name)

    def fn(x, default=None, defined=True, required=None, description=None, enum=None,
           example=None, format=None):
        value, stop = _resolve(x, default, defined, PLACEHOLDER_VALUES.get(name))
        if stop:
            return None
        if tester is None:          # String
            return transform(value)
        text = value if isinstance(value, str) else str(value)
        if tester(text):
            return transform(value)
        raise TemplateError(f"Error validating '{value}' to type {tester_name}", documentation=DOC)
    fn.__name__ = name
    return fn


def _string(value) -> str:
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return str([str(v) for v in value])
    return str(value)


def boolean(x=None, default=None, defined=True, required=None, description=None, enum=None,
            example=None, format=None):
    if x is None:
        return 0 if default is None else boolean(default)
    if isinstance(x, Placeholder):
        return boolean(default)
    if isinstance(x, str) and (x == "0" or x.lower() == "false"):
        return 0
    return int(bool(x))


def _array_element(type_name, text):
    """One Array() element -> its SQL text (validated against the element type)."""
    if type_name in INT_TYPES or type_name in ("Int", "Integer"):
        return str(int(text))
    if type_name in ("Float32", "Float64"):
        return str(float(text))
    if type_name in ("Boolean", "bool"):
        return str(boolean(text))
    return to_sql(text if isinstance(text, str) else str(text), "")


def array(x, _type=None, default=None, defined=True, required=None, description=None,
          enum=None, example=None, format=None):
    if isinstance(x, Placeholder):
        if default:
            x = default
        elif _type and _type != "String" and (_type in TESTERS or _type in ("Int", "Integer")
                                                or _type in ("Boolean", "bool")):
            one = PLACEHOLDER_VALUES.get(_type, 0)
            x = f"{one},{one}"
        else:
            x = ""
    elif x is None:
        x = default
        if x is None:
            if defined:
                raise RequiredParamError(REQUIRED_PARAM_NOT_DEFINED)
            return None
    if isinstance(x, (list, tuple)):
        items = [v if isinstance(v, str) else str(v) for v in x]
        shown = str(list(x))
    elif isinstance(x, str):
        items = x.split(",")
        shown = x
    else:
        raise TemplateError("transform type function Array is not well defined", documentation=DOC)
    tester_name = "Int32" if _type in ("Int", "Integer") else _type
    tester = TESTERS.get(tester_name)
    out = []
    for i, item in enumerate(items):
        if tester is not None and not tester(item):
            shown_item = "empty string" if item == "" else item
            raise TemplateError(f"Error validating [{shown}][{i}] ({shown_item}) to type {_type}",
                                documentation=DOC)
        out.append(_array_element(_type, item))
    return SQL("[" + ",".join(out) + "]")


def array_values(x, type_name: str):
    """A parameter declared `Array(x, 'T')` as a Python list of T values (ints, floats,
    0/1 for Boolean, strings), or None when an item does not validate (the `Array()` call
    then reports it). Tinybird converts such parameters before rendering, so
    `{% for v in x %}` iterates items and `{{x}}` writes a list."""
    if isinstance(x, (list, tuple)):
        items = [v if isinstance(v, str) else str(v) for v in x]
    elif isinstance(x, str):
        items = x.split(",")
    else:
        return None
    tester = TESTERS.get("Int32" if type_name in ("Int", "Integer") else type_name)
    out = []
    for item in items:
        if tester is not None and not tester(item):
            return None
        if type_name in INT_TYPES or type_name in ("Int", "Integer"):
            out.append(int(item))
        elif type_name in ("Float32", "Float64"):
            out.append(float(item))
        elif type_name in ("Boolean", "bool"):
            out.append(boolean(item))
        else:
            out.append(item)
    return out


def json_type(x, default=None, required=None, description=None, enum=None, example=None,
              format=None):
    if isinstance(x, Placeholder):
        x = default if default else "__no_value__"
    if x is None:
        x = default if isinstance(default, str) else "{}"
    if isinstance(x, (str, bytes)):
        shown = x[:16] + "..." if len(x) > 16 else x
        try:
            return json.loads(x)
        except (ValueError, RecursionError) as e:
            raise TemplateError(f"Error parsing JSON: '{shown}' - {e}", documentation=DOC)
    return x


TYPE_FUNCTIONS = {
    "String": _type_function("String", "String", _string),
    "Date": _type_function("Date", "Date", _string),
    "DateTime": _type_function("DateTime", "DateTime", _string),
    "DateTime64": _type_function("DateTime64", "DateTime64", _string),
    "Float32": _type_function("Float32", "Float32", lambda v: TypedFloat(float(v), "Float32")),
    "Float64": _type_function("Float64", "Float64", lambda v: TypedFloat(float(v), "Float64")),
    "Int": _type_function("Int", "Int32", int),
    "Integer": _type_function("Integer", "Int32", int),
    "Boolean": boolean,
    "bool": boolean,
    "Array": array,
    "JSON": json_type,
}
for _name in INT_TYPES:
    TYPE_FUNCTIONS[_name] = _type_function(_name, _name, lambda v, _n=_name: TypedInt(int(v), _n))

# parameter types as Tinybird reports them (pipe `params`, OpenAPI)
PARAMETER_TYPES = {"String", "Boolean", "DateTime64", "DateTime", "Date", "Float32", "Float64",
                   "Array", "JSON", *INT_TYPES}


# -- identifiers ----------------------------------------------------------------------

def _need_text(value, fn: str):
    if isinstance(value, (list, tuple)):
        raise TemplateError(f"The '{fn}' function expects a String not an Array",
                            documentation=f"{DOC}#{fn}")
    if not isinstance(value, str):
        value = str(value)
    if value == "":
        raise TemplateError(f"The '{fn}' function got an empty name", documentation=f"{DOC}#{fn}")
    return value


def column(x, default=None):
    if x is None or isinstance(x, Placeholder):
        if default is None:
            raise TemplateError(
                "Missing column() default value, use `column(column_name, 'default_column_name')`",
                documentation=f"{DOC}#column")
        x = default
    x = _need_text(x, "column")
    parts = x.split(".")
    if any(p.replace('"', "") == "" for p in parts) or len(parts) > 3:
        raise TemplateError(f"Invalid column name '{x}'", documentation=f"{DOC}#column")
    return SQL(".".join(quote_identifier(p) for p in parts))


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def columns(x, default=None, fn=None):
    if x is None or isinstance(x, Placeholder):
        if default is None:
            raise TemplateError(
                "Missing columns() default value, use `columns(column_names, 'default_column_name')`",
                documentation=f"{DOC}#columns")
        x = default
    if isinstance(x, (list, tuple)):
        raise TemplateError("The 'columns' function expects a String not an Array",
                            documentation=f"{DOC}#columns")
    names = [c.strip() for c in str(x).split(",")]
    if fn:
        if not isinstance(fn, str) or not _PLAIN_NAME.fullmatch(fn):
            raise TemplateError(f"Invalid function name '{fn}' in columns()",
                                documentation=f"{DOC}#columns")
        out = []
        for name in names:
            alias = name if _PLAIN_NAME.fullmatch(name) else quote_identifier(name)
            out.append(f"{fn}({column(name, name)}) as {alias}")
        return SQL(",".join(out))
    return SQL(",".join(str(column(c, c)) for c in names))


def symbol(x, quote="`"):
    if isinstance(x, Placeholder):
        return SQL("`placeholder`")
    if x is None:
        raise TemplateError("Missing symbol() value", documentation=DOC)
    x = _need_text(x, "symbol")
    if x.replace('"', "") == "":
        raise TemplateError(f"Invalid symbol '{x}'", documentation=DOC)
    return SQL(quote_identifier(x))


_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


def table(x, quote="`"):
    if isinstance(x, Placeholder):
        return SQL("placeholder")
    if not isinstance(x, str) or not _TABLE_NAME.fullmatch(x.replace('"', "")):
        raise TemplateError(f"Invalid table name '{x}'", documentation=DOC)
    return SQL(x.replace('"', ""))


# -- helpers --------------------------------------------------------------------------

_SQL_AND_OPS = {"in": "in", "not_in": "not in", "gt": ">", "lt": "<", "gte": ">=", "lte": "<="}


def sql_and(*args, **kwargs):
    parts = []
    for key, value in kwargs.items():
        if value is None:
            continue
        name, sep, op = key.rpartition("__")
        if not sep:
            name, sql_op = key, "="
        elif op in _SQL_AND_OPS:
            sql_op = _SQL_AND_OPS[op]
        else:
            raise TemplateError(f"operand {op} not supported", documentation=f"{DOC}#sql_and")
        parts.append(f"{name} {sql_op} {to_sql(value, key)}")
    return SQL(" and ".join(parts))


def defined(x=None):
    return not (x is None or isinstance(x, Placeholder))


def split_to_array(x, default="", separator=","):
    if x is None or isinstance(x, Placeholder):
        x = default
    if isinstance(x, (list, tuple)):
        return [str(s).strip() for s in x]
    if not isinstance(x, str) or not isinstance(separator, str) or separator == "":
        raise TemplateError(
            "First argument of split_to_array has to be a value that can be split to a list of "
            "elements, but found a PlaceHolder with no value instead",
            documentation=f"{DOC}#split_to_array")
    return [s.strip() for s in x.split(separator)]


def enumerate_with_last(arr):
    items = list(arr)
    return [(i + 1 == len(items), v) for i, v in enumerate(items)]


_UNESCAPABLE = {"%", '"', "`"}


def sql_unescape(x, what=""):
    if isinstance(x, Placeholder):
        x = "__no_value__"
    if not isinstance(x, str):
        raise TemplateError("sql_unescape expects a String", documentation=DOC)
    if not isinstance(what, str) or any(ch not in _UNESCAPABLE for ch in what):
        raise TemplateError(f"sql_unescape can only unescape %, \" and `, not '{what}'",
                            documentation=DOC)
    text = escape_string(x)
    for ch in what:
        text = text.replace("\\" + ch, ch)
    return SQL("'" + text + "'")


def _parse_dt(value, fmt, backup):
    for f in (fmt, backup):
        if f:
            try:
                return datetime.strptime(value, f)
            except (ValueError, TypeError):
                continue
    raise ValueError("no format matched")


def _date_diff(unit: str, default_fmt: str, message: str):
    seconds = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}[unit]

    def fn(d0, d1, date_format=default_fmt, default=None, backup_date_format=None,
           none_if_error=False):
        if isinstance(d0, Placeholder) or isinstance(d1, Placeholder):
            return default if default else 0
        try:
            a = _parse_dt(d0, date_format, backup_date_format)
            b = _parse_dt(d1, date_format, backup_date_format)
        except ValueError:
            if none_if_error:
                return None
            raise TemplateError(message, documentation=DOC)
        return int(abs((b - a).total_seconds()) / seconds)
    return fn


_HOURS_MSG = ("invalid date_format in function `date_diff_in_{}`, defaults to YYYY-MM-DD hh:mm:ss. "
              "Or %Y-%m-%d %H:%M:%S [.ssssss]Z, e.g. ms: 2022-12-19T18:42:22.591Z s:2022-12-19T18:42:22Z")
date_diff_in_days = _date_diff(
    "days", "%Y-%m-%d", "invalid date format in function `date_diff_in_days`, it must be ISO "
    "format date YYYY-MM-DD, e.g. 2018-09-26")
date_diff_in_hours = _date_diff("hours", "%Y-%m-%d %H:%M:%S", _HOURS_MSG.format("hours"))
# Tinybird's minutes variant names `date_diff_in_seconds` in its message; kept as is.
date_diff_in_minutes = _date_diff("minutes", "%Y-%m-%d %H:%M:%S", _HOURS_MSG.format("seconds"))
date_diff_in_seconds = _date_diff("seconds", "%Y-%m-%d %H:%M:%S", _HOURS_MSG.format("seconds"))


def day_diff(d0, d1, default=None):
    try:
        return date_diff_in_days(d0, d1, date_format="%Y-%m-%d")
    except TemplateError:
        raise TemplateError(
            "invalid date format in function `day_diff`, it must be ISO format date YYYY-MM-DD, "
            "e.g. 2018-09-26. For other fotmats, try `date_diff_in_days`",
            documentation=f"{DOC}#date_diff_in_days")


def _bounded_range(*args):
    r = range(*args)
    if len(r) > 10000:
        raise TemplateError("range() is limited to 10000 items")
    return list(r)


def make_functions(ctx: RenderContext) -> dict:
    """The callable table for one render."""

    def error(s, code=400):
        if ctx.test_mode:
            return SQL("-- {x} \n")  # Tinybird writes this text literally
        raise TemplateUserError(str(s), code=_status(code))

    def custom_error(s, code=400):
        if ctx.test_mode:
            return SQL("-- {x} \n")  # Tinybird writes this text literally
        raise TemplateCustomError(s, code=_status(code))

    def max_threads(x):
        try:
            ctx.options["max_threads"] = int(x)
            return SQL(f"-- max_threads {int(x)}\n")
        except (TypeError, ValueError):
            return SQL(f"-- max_threads: wrong argument {_comment_safe(x)}\n")

    def cache_ttl(ttl):
        valid = ("5s", "1m", "5m", "30m", "1h")
        if ttl not in valid:
            raise TemplateError(f"Invalid TTL cache expression, valid expressions are {valid}")
        ctx.options["cache_ttl"] = ttl
        return SQL(f"-- cache_ttl {ttl}\n")

    def backend_hint(hint):
        ctx.options["backend_hint"] = None if hint is None or hint is False else str(hint)
        return SQL(f"-- backend_hint {_comment_safe(hint)}\n")

    def activate(feature):
        if feature not in ("analyzer", "parallel_replicas", "optimize_aggregation_in_order"):
            raise TemplateError(f"'{feature}' is not a valid 'activate' argument")
        ctx.options.setdefault("activate", set()).add(feature)
        return SQL(f"-- activate {feature}\n")

    def disable(feature):
        if feature != "analyzer":
            raise TemplateError(f"'{feature}' is not a valid 'disable' argument")
        ctx.options["disable"] = feature
        return SQL(f"-- disable {feature}\n")

    def tb_secret(name, default=None):
        if isinstance(name, str) and name in ctx.secrets and _PLAIN_NAME.fullmatch(name):
            ctx.query_params[name] = ctx.secrets[name]
            return SQL("{" + name + ": String}")
        if default is not None:
            return default
        if ctx.test_mode and isinstance(name, str) and _PLAIN_NAME.fullmatch(name):
            return SQL("{" + name + ": String}")
        raise TemplateError(f"Cannot access secret '{name}'. Check the secret exists in the "
                            "Workspace and the token has the required scope.")

    table_ = {
        **TYPE_FUNCTIONS,
        "defined": defined, "column": column, "columns": columns, "symbol": symbol,
        "Symbol": symbol, "Column": symbol, "table": table, "TABLE": table, "sql_and": sql_and,
        "split_to_array": split_to_array, "enumerate_with_last": enumerate_with_last,
        "day_diff": day_diff, "date_diff_in_days": date_diff_in_days,
        "date_diff_in_hours": date_diff_in_hours, "date_diff_in_minutes": date_diff_in_minutes,
        "date_diff_in_seconds": date_diff_in_seconds, "sql_unescape": sql_unescape,
        "error": error, "custom_error": custom_error, "max_threads": max_threads,
        "cache_ttl": cache_ttl, "backend_hint": backend_hint, "activate": activate,
        "disable": disable, "tb_secret": tb_secret, "tb_var": tb_secret,
        # pure builtins
        "len": len, "list": list, "min": min, "max": max, "int": int, "float": float,
        "str": str, "bool": bool, "sum": sum, "sorted": sorted, "range": _bounded_range,
        "enumerate": lambda xs, start=0: list(enumerate(xs, start)), "abs": abs, "round": round,
        "zip": lambda *xs: list(zip(*xs)), "reversed": lambda xs: list(reversed(xs)),
        "any": any, "all": all,
    }
    return table_


def _status(code) -> int:
    try:
        code = int(code)
    except (TypeError, ValueError):
        return 400
    return code if 400 <= code <= 599 else 400


def _comment_safe(x) -> str:
    """Text for a `-- comment` line: a line break would end the comment, so none survive."""
    return str(x).replace("\n", " ").replace("\r", " ").replace("\x00", " ")
