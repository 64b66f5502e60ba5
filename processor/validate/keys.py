"""Reading a key: ``Befolkning`` or ``Befolkning 50 %, Patienter 50 %`` into weighted basis columns."""

from __future__ import annotations

import re
from decimal import Decimal

from processor import formats
from processor.model import KeyPart
from processor.swedish import did_you_mean
from processor.validate.cells import quoted
from processor.validate.checker import Checker
from processor.validate.recipients import RecipientTable
from processor.vocabulary import RECIPIENT_SHEET, RESERVED_COLUMNS

_KEY_SEPARATOR = re.compile(r";|,\s+")
_KEY_PART = re.compile(r"^(?P<column>.*?)\s+(?P<weight>[0-9]+(?:[.,][0-9]+)?)\s*%$")


def parse_key(text: str, where: str, table: RecipientTable, check: Checker) -> tuple[KeyPart, ...]:
    """``Befolkning`` or ``Befolkning 50 %, Patienter 50 %`` → key parts with weights summing to 100."""
    parts = _weighted_parts(text, where, table, check)
    if parts is None:
        return ()
    key = _key_parts(parts, where, table, check)
    total = sum((w for _, w in parts), Decimal(0))
    if total != 100:
        check.error(where, f"nyckelns vikter summerar till {formats.percent(total, nbsp=False)}, inte 100 %. "
                           "Justera vikterna så att de blir exakt 100 %.")
        return ()
    return key or ()


def _weighted_parts(text: str, where: str, table: RecipientTable, check: Checker) -> list[tuple[str, Decimal]] | None:
    """The key's (column text, weight) pairs as written, or None (and an error) when they cannot be told apart."""
    if "%" not in text:
        pieces = [p.strip() for p in _KEY_SEPARATOR.split(text) if p.strip()]
        if table.column(text) is None and len(pieces) > 1:
            check.error(where, f'nyckeln {quoted(text)} har flera delar men inga procent. Ge varje del en vikt, t.ex. '
                               '"Befolkning 50 %, Patienter 50 %", eller skriv en enda kolumn.')
            return None
        return [(text, Decimal(100))]
    parts = []
    for piece in (p.strip() for p in _KEY_SEPARATOR.split(text)):
        match = _KEY_PART.match(piece)
        if piece.count("%") > 1:
            check.error(where, f'nyckeln {quoted(text)} har delar utan skiljetecken mellan sig. Skilj delarna med semikolon, '
                               "t.ex. Befolkning 50 %; Patienter 50 %.")
            return None
        if not match:
            check.error(where, f'nyckeln {quoted(text)} kan inte läsas vid {quoted(piece)}. Skriv varje del som '
                               '"kolumn procent %", åtskilda med semikolon, t.ex. Befolkning 50 %; Patienter 50 %.')
            return None
        parts.append((match["column"], Decimal(match["weight"].replace(",", "."))))
    return parts


def _key_parts(parts: list[tuple[str, Decimal]], where: str, table: RecipientTable,
               check: Checker) -> tuple[KeyPart, ...] | None:
    """Each part's column checked against ``Mottagare``; None when any part is wrong."""
    if table.blocked_by is not None:
        return None
    key: list[KeyPart] = []
    ok = True
    for column_text, weight in parts:
        column = table.column(column_text)
        if column is None or column in RESERVED_COLUMNS:
            reason = "är ingen underlagskolumn" if column else "finns inte"
            check.error(where, f'kolumnen "{column_text}" i nyckeln {reason} i {RECIPIENT_SHEET}.'
                               f"{did_you_mean(column_text, table.basis_columns())} "
                               f"Skriv namnet på en kolumn med tal från rad 1 i {RECIPIENT_SHEET}.")
            ok = False
        elif any(p.column == column for p in key):
            check.error(where, f"kolumnen {column} står två gånger i nyckeln. Slå ihop delarna till en.")
            ok = False
        elif weight <= 0:
            check.error(where, f"vikten för {column} måste vara större än 0 %. Ta bort delen eller ge den en vikt.")
            ok = False
        else:
            key.append(KeyPart(column, weight))
    return tuple(key) if ok else None
