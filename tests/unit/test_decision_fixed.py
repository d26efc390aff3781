"""Decimal spelling (``reviewers.decision.fixed``): exact rationals rounded half-to-even with
integers only, checked against ``Fraction`` and ``decimal`` doing the same by other means, and
the two text forms (plain for inputs, fixed-point for results)."""

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewers.decision import PLACES
from reviewers.decision.fixed import fixed_point, from_units, plain_decimal, round_units

D = Decimal


def reference_round(numerator: int, denominator: int, places: int) -> int:
    """The same rounding through ``decimal`` with ample precision."""
    with localcontext() as context:
        context.prec = 200
        value = D(numerator) / D(denominator)
        return int(value.scaleb(places).quantize(D(1), rounding=ROUND_HALF_EVEN))


@given(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=1, max_value=10**15),
    st.integers(min_value=0, max_value=14),
)
def test_round_units_is_half_even_rounding(numerator: int, denominator: int, places: int) -> None:
    assert round_units(numerator, denominator, places) == reference_round(
        numerator, denominator, places
    )


@pytest.mark.parametrize(
    ("numerator", "denominator", "places", "units"),
    [
        (1, 8, 2, 12),  # 0.125 -> 0.12 (to even)
        (3, 8, 2, 38),  # 0.375 -> 0.38 (to even)
        (-1, 8, 2, -12),  # -0.125 -> -0.12
        (2, 3, 0, 1),
        (1, 2, 0, 0),
        (3, 2, 0, 2),
        (1, 3, PLACES, 333_333_333_333),
    ],
)
def test_halfway_values_go_to_the_even_neighbour(
    numerator: int, denominator: int, places: int, units: int
) -> None:
    assert round_units(numerator, denominator, places) == units


def test_units_come_back_as_exact_decimals_of_twelve_places() -> None:
    assert from_units(None) is None
    assert from_units(1) == D("0.000000000001")
    assert str(from_units(7_666_666_666_667)) == "7.666666666667"
    assert str(from_units(-5)) == "-5E-12"
    assert fixed_point(from_units(-5)) == "-0.000000000005"
    assert fixed_point(from_units(6 * 10**PLACES)) == "6.000000000000"
    assert fixed_point(None) is None


@pytest.mark.parametrize(
    ("value", "spelled"),
    [
        ("7", "7"),
        ("7.00", "7"),
        ("7.50", "7.5"),
        ("0.000", "0"),
        ("-0", "0"),
        ("-0.0", "0"),
        ("1E+2", "100"),
        ("1.5E-3", "0.0015"),
        ("-2.250", "-2.25"),
        ("10", "10"),
    ],
)
def test_the_plain_spelling_has_no_exponent_and_no_trailing_zeros(value: str, spelled: str) -> None:
    assert plain_decimal(D(value)) == spelled


@given(
    st.decimals(
        min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=6
    )
)
def test_equal_numbers_are_spelled_alike_and_read_back_equal(value: Decimal) -> None:
    text = plain_decimal(value)
    assert "E" not in text
    assert D(text) == value
    fixed = format(value, "f")
    padded = D(fixed + ("000" if "." in fixed else ".000"))  # the same number, spelled longer
    assert plain_decimal(padded) == text
    assert plain_decimal(value.normalize()) == text
