"""Swedish number formats: the fast paths give exactly what babel gives."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from processor.formats import number


def babel(value, decimals=None) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale="sv_SE", decimal_quantization=True).replace("\u2212", "-")


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_whole_numbers_as_babel_writes_them(value):
    assert number(value) == babel(value) == number(Decimal(value))


@given(st.decimals(min_value=0, max_value=10**12, places=6, allow_nan=False, allow_infinity=False),
       st.integers(min_value=1, max_value=3))
def test_fixed_decimals_as_babel_writes_them(value, decimals):
    assert number(value, decimals) == babel(value, decimals)


def test_halves_round_to_even_as_in_babel():
    assert [number(Decimal(v), 1) for v in ("0.05", "0.15", "0.25", "999.95")] == ["0,0", "0,2", "0,2", "1\u00a0000,0"]
