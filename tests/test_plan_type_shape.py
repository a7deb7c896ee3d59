"""predicate_type types ``string_column op 'text'`` as ``string_column op ''`` (planner._type_shape):
the type must be what infer_type gives for the real text, for any text, and other shapes are untouched."""
from hypothesis import given, settings, strategies as st

from mergetree import types as T
from mergetree.exec.expression import infer_type
from mergetree.planner.planner import _type_shape, predicate_type
from sqlparse_ch.ast import expr as E

TYPES = {"s": T.String, "n": T.Int32, "lc": T.LowCardinality(T.String), "ns": T.Nullable(T.String),
         "d": T.DateTime}


@settings(max_examples=200, deadline=None)
@given(col=st.sampled_from(sorted(TYPES)), op=st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "<>"]),
       text=st.text(max_size=12), swap=st.booleans(), other=st.integers(-5, 5))
def test_shaped_type_equals_the_real_type(col, op, text, swap, other):
    lit, ident = E.Literal(text), E.Identifier(col)
    e = E.BinaryOp(op, lit, ident) if swap else E.BinaryOp(op, ident, lit)
    conj = E.BinaryOp("AND", e, E.BinaryOp(">", E.Identifier("n"), E.Literal(other)))
    for pred in (e, conj):
        try:
            want = infer_type(pred, TYPES)
        except Exception as err:  # noqa: BLE001 - the same error class must come out
            try:
                predicate_type(pred, TYPES)
            except Exception as got:  # noqa: BLE001
                assert type(got) is type(err)
            else:
                raise AssertionError(f"{pred} typed, infer_type raised {err!r}")
            continue
        assert predicate_type(pred, TYPES) == want


def test_only_string_columns_against_string_literals_are_shaped():
    e = E.BinaryOp("=", E.Identifier("n"), E.Literal("5"))
    assert _type_shape(e, TYPES) is e
    e = E.BinaryOp("=", E.Identifier("lc"), E.Literal("x"))
    assert _type_shape(e, TYPES) is e
    e = E.BinaryOp("=", E.Identifier("s", table="t"), E.Literal("x"))
    assert _type_shape(e, TYPES) is e
    e = E.BinaryOp("=", E.Identifier("s"), E.Literal("x"))
    assert _type_shape(e, TYPES).right.value == ""
