"""Swedish organisation numbers: ten digits, the last a Luhn check digit, written ``NNNNNN-NNNN``.

The workbook takes exactly the spec's form (ten digits, dash optional). An e-invoice's seller
may write the same number in the longer forms finance systems use (``16`` + ten digits, or the VAT
number ``SE`` + ten digits + ``01``); ``invoice_org_number`` reads those too, so matching compares
the ten digits whatever the form.
"""

from __future__ import annotations

import re

_TEN = re.compile(r"^(\d{6})-?(\d{4})$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_INVOICE_FORMS = (re.compile(r"^(?:16)?(\d{6})-?(\d{4})$"), re.compile(r"^SE(\d{6})-?(\d{4})01$", re.IGNORECASE))


def check_digit(nine_digits: str) -> int:
    """The Luhn check digit of the first nine digits: every other digit doubled from the left, digits summed."""
    total = 0
    for i, char in enumerate(nine_digits):
        product = int(char) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def org_number(text: str) -> str | None:
    """``'2120000142'`` or ``'212000-0142'`` → ``'212000-0142'``; None unless ten digits with a valid check digit."""
    match = _TEN.match(_SPACES.sub("", text))
    return _checked(match)


def invoice_org_number(text: str) -> str | None:
    """An e-invoice's seller identifier as ``NNNNNN-NNNN``, also from ``16`` + ten digits or ``SE…01``; else None."""
    compact = _SPACES.sub("", text)
    return next((n for form in _INVOICE_FORMS if (n := _checked(form.match(compact)))), None)


def org_number_problem(text: str) -> str | None:
    """What is wrong with a typed organisation number, in Swedish (without the fix); None when it is valid."""
    compact = _SPACES.sub("", text)
    match = _TEN.match(compact)
    if match is None:
        digits = re.sub(r"\D", "", compact)
        if len(digits) == 12:
            return "har tolv siffror, men organisationsnumret skrivs med tio (utan sekelsiffror)"
        return "är inte tio siffror"
    if _checked(match) is None:
        return "har fel kontrollsiffra (den sista siffran stämmer inte med de nio första)"
    return None


def _checked(match: re.Match | None) -> str | None:
    if match is None:
        return None
    digits = match.group(1) + match.group(2)
    if check_digit(digits[:9]) != int(digits[9]):
        return None
    return f"{digits[:6]}-{digits[6:]}"
