"""What a cell holds, read as text, number, kronor, date or e-mail addresses, with a message when it cannot be."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from processor import formats
from processor.swedish import parse_number
from processor.validate.checker import Checker
from processor.workbook import BIDI_CONTROL, UNCALCULATED, ExcelError

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-\u00c0-\u024f]+"
                    r"@[A-Za-z0-9\u00c0-\u024f\-]+(\.[A-Za-z0-9\u00c0-\u024f\-]+)+$")
LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]")
CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def unusable(value) -> bool:
    return value is UNCALCULATED or isinstance(value, ExcelError)


def value_at(row: tuple, col: int | None):
    """The value of a cell; None for blank, missing or unusable (already reported) cells."""
    if col is None or col >= len(row):
        return None
    value = row[col]
    return None if unusable(value) else value


def blank_row(row: tuple) -> bool:
    return all(v is None or unusable(v) for v in row)


def as_text(value) -> str | None:
    """Any cell as trimmed text (numbers as Excel shows them), or None when blank."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return formats.number(value, nbsp=False).replace(" ", "")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    text = str(value).strip()
    return text or None


def quoted(value) -> str:
    """A user's value inside a message: on one line, shortened if long."""
    text = " ".join(CONTROL.sub(" ", BIDI_CONTROL.sub("", as_text(value) or "")).split())
    return f'"{text[:60]}…"' if len(text) > 60 else f'"{text}"'


def plain_number(value) -> Decimal | None:
    """A number cell or a Swedish number typed as text, without a warning (for sums only)."""
    if isinstance(value, Decimal):
        return value
    return parse_number(value) if isinstance(value, str) else None


def as_number(value, where: str, check: Checker, what: str) -> Decimal | None:
    """A number cell, or a text cell with a Swedish number in it (with a warning); else an error."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        parsed = parse_number(value)
        if parsed is not None:
            check.warn(where, f'talet är skrivet som text ({quoted(value)}) och läses som {formats.number(parsed, nbsp=False)}. '
                              "Skriv det som ett tal i Excel för att slippa varningen.")
            return parsed
    check.error(where, f"{quoted(value)} är inte ett tal ({what}). Skriv ett tal, t.ex. 15 711 504 eller 33,3.")
    return None


def as_kronor(value, where: str, check: Checker, what: str) -> int | None:
    """Whole kronor, not negative."""
    number = as_number(value, where, check, what)
    if number is None:
        return None
    if number != number.to_integral_value():
        check.error(where, f"{what} ska vara hela kronor, inte {formats.number(number, nbsp=False)}. "
                           "Avrunda beloppet till hela kronor.")
        return None
    if number < 0:
        check.error(where, f"{what} får inte vara negativt ({formats.kronor(number, nbsp=False)}). "
                           "Skriv ett belopp på 0 kr eller mer.")
        return None
    return int(number)


def as_date(value, where: str, check: Checker, what: str) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).date()  # 2020-08-30, also with a time after it
        except ValueError:
            pass
    check.error(where, f"{quoted(value)} är inget datum ({what}). Skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2020-08-30, "
                       "eller som ett datum i Excel.")
    return None


def email_addresses(value, where: str, check: Checker, whose: str) -> tuple[str, ...]:
    """One or more addresses separated by ``;`` or ``,``, each checked."""
    text = as_text(value)
    if text is None:
        return ()
    if LINE_BREAK.search(str(value)):
        check.error(where, f"e-postadressen för {whose} innehåller en radbrytning, vilket inte går i ett e-posthuvud. "
                           "Skriv adresserna på en rad, åtskilda med semikolon.")
        return ()
    addresses = tuple(a.strip() for a in re.split(r"[;,]", text) if a.strip())
    for address in addresses:
        if not _EMAIL.match(address):
            check.error(where, f'"{address}" är ingen giltig e-postadress ({whose}). '
                               "Rätta adressen, t.ex. registrator@kommun.se; flera adresser skiljs med semikolon.")
            return ()
    return addresses
