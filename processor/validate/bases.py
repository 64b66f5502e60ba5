"""Recipients with their bases: a basis column must hold a number where a key uses it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from processor import formats
from processor.model import KEY, Post, Recipient
from processor.swedish import parse_number
from processor.validate.cells import as_number, as_text, quoted
from processor.validate.checker import Checker, cell
from processor.validate.posts import post_label
from processor.validate.recipients import RecipientRow, RecipientTable
from processor.vocabulary import PARTICIPATES_COL, RECIPIENT_SHEET


@dataclass
class Recipients:
    """The recipients, and the basis cells a key needs that are broken: (recipient, column) → cell."""

    recipients: list[Recipient]
    broken: dict[tuple[int, str], str] = field(default_factory=dict)


def build_recipients(table: RecipientTable, key_uses: list[Post], check: Checker) -> Recipients:
    """Build recipients, checking each basis a key uses for the recipients it is used on."""
    needed = _needed_bases(table, key_uses)
    result = Recipients([])
    for i, row in enumerate(table.rows):
        result.recipients.append(_recipient(table, i, row, needed.get(i, {}), result.broken, check))
    return result


def _needed_bases(table: RecipientTable, key_uses: list[Post]) -> dict[int, dict[str, str]]:
    """Recipient index → basis column → the label of a post whose key uses it for that recipient."""
    needed: dict[int, dict[str, str]] = {}
    for post in key_uses:
        if post.method != KEY:
            continue
        for i in post.recipients:
            if table.rows[i].participates:
                for part in post.key:
                    needed.setdefault(i, {})[part.column] = post_label(post)
    return needed


def _recipient(table: RecipientTable, i: int, row: RecipientRow, needed: dict[str, str],
               broken: dict[tuple[int, str], str], check: Checker) -> Recipient:
    bases: dict[str, Decimal] = {}
    texts: dict[str, str] = {}
    for column, value in row.values.items():
        where = cell(RECIPIENT_SHEET, table.columns[column], row.row)
        user = needed.get(column)
        if user is not None:
            number = _basis(value, where, check, column, row.name, user)
            if number is not None:
                bases[column] = number
            else:
                broken[(i, column)] = where
        elif isinstance(value, Decimal):
            bases[column] = value
        elif value is not None:
            texts[column] = as_text(value)
    for column, user in needed.items():
        if row.values.get(column) is None:
            check.error(cell(RECIPIENT_SHEET, table.columns[column], row.row),
                        f"värde saknas i kolumn {column} för mottagare {row.name}, som {user} fördelar efter. "
                        f"Skriv ett tal (0 är tillåtet), eller sätt {PARTICIPATES_COL} till Nej om mottagaren avstår.")
    return Recipient(row.name, row.row, row.emails, row.group, row.participates, bases, texts, row.org_number)


def _basis(value, where: str, check: Checker, column: str, name: str, user: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal) or (isinstance(value, str) and parse_number(value) is not None):
        number = as_number(value, where, check, f"kolumn {column}, mottagare {name}")
        if number is not None and number < 0:
            check.error(where, f"{formats.number(number, nbsp=False)} är negativt (kolumn {column}, mottagare {name}). "
                               f"{user[0].upper()}{user[1:]} fördelar efter kolumnen; skriv 0 eller mer.")
            return None
        return number
    check.error(where, f"{quoted(value)} är inte ett tal (kolumn {column}, mottagare {name}). "
                       f"{user[0].upper()}{user[1:]} fördelar efter kolumnen; skriv ett tal, t.ex. 23 178.")
    return None
