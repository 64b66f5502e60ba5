"""Swedish number and date formats (babel), shared by messages, documents and the appendix."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "sv_SE"
NBSP = "\u00a0"


def number(value: int | Decimal | Fraction | float, decimals: int | None = None, nbsp: bool = True) -> str:
    """``1264598`` → ``1 264 598``; ``Decimal('33.3')`` → ``33,3``."""
    if _is_whole(value) and not decimals:
        # babel's result for whole numbers in sv_SE, without its per-call cost (tested against it)
        return f"{int(value):,}".replace(",", NBSP if nbsp else " ")
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    if decimals and isinstance(value, Decimal) and value.is_finite() and value >= 0:
        # babel's result for a fixed number of decimals, rounded half to even (tested against it)
        whole, _, fraction = str(value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)).partition(".")
        return f"{number(int(whole), nbsp=nbsp)},{fraction}"
    if decimals is not None:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        text = format_decimal(value, format=pattern, locale=LOCALE, decimal_quantization=True)
    else:
        text = format_decimal(value, locale=LOCALE, decimal_quantization=False)
    text = text.replace("\u2212", "-")
    return text if nbsp else text.replace(NBSP, " ")


def _is_whole(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, (Decimal, Fraction)) and value == int(value) and value.__class__ is not float


def kronor(value: int | Decimal | Fraction, nbsp: bool = True) -> str:
    """``1264598`` → ``1 264 598 kr`` (whole kronor unless the value has öre)."""
    decimals = 0 if Fraction(value).denominator == 1 else 2
    space = NBSP if nbsp else " "
    return f"{number(value, decimals, nbsp)}{space}kr"


def mnkr(value: int | Decimal | Fraction, decimals: int = 1, nbsp: bool = True) -> str:
    """``53690007`` → ``53,7 mnkr``."""
    space = NBSP if nbsp else " "
    return f"{number(Fraction(value) / 1_000_000, decimals, nbsp)}{space}mnkr"


def tkr(value: int | Decimal | Fraction, decimals: int = 0, nbsp: bool = True) -> str:
    """``800000`` → ``800 tkr``."""
    space = NBSP if nbsp else " "
    return f"{number(Fraction(value) / 1000, decimals, nbsp)}{space}tkr"


def percent(value: int | Decimal | Fraction | float, decimals: int | None = None, nbsp: bool = True) -> str:
    """``Decimal('33.3')`` → ``33,3 %`` (the value is already in percent)."""
    space = NBSP if nbsp else " "
    return f"{number(value, decimals, nbsp)}{space}%"


def long_date(value: dt.date | None) -> str:
    """``2020-08-30`` → ``30 augusti 2020``."""
    if value is None:
        return ""
    return format_date(value, "d MMMM y", locale=LOCALE)
