"""Decimal spelling: exact rationals rounded half-to-even to fixed places, and the text forms
the canonical inputs and the result use. Integer arithmetic only, no binary floating point."""

from decimal import Decimal
from typing import overload

from reviewers.decision.types import PLACES


def round_units(numerator: int, denominator: int, places: int = PLACES) -> int:
    """``numerator / denominator`` (denominator > 0) rounded half-to-even to ``places`` decimal
    places, in units of ``10**-places``."""
    unit: int = 10**places
    quotient, remainder = divmod(numerator * unit, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


@overload
def from_units(units: int) -> Decimal: ...
@overload
def from_units(units: None) -> None: ...
def from_units(units: int | None) -> Decimal | None:
    # The string constructor is exact: no context precision applies.
    return None if units is None else Decimal(f"{units}E-{PLACES}")


def plain_decimal(value: Decimal) -> str:
    """An exact decimal spelling without exponent or trailing zeros: equal numbers, equal text."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fixed_point(value: Decimal | None) -> str | None:
    """A published value as the result spells it: fixed-point, every place shown."""
    return None if value is None else format(value, "f")
