"""Rows that look like recipients but hold a sum: a totals row under another label takes money.

``Summa`` rows are recognised by name (``recipients``); these are caught by their numbers:
a row whose bases equal the sum of all the other rows, or of the other rows of one group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from processor import formats
from processor.model import Post
from processor.validate.cells import plain_number
from processor.validate.checker import Checker, cell
from processor.validate.recipients import RecipientTable
from processor.vocabulary import NAME_COL, PARTICIPATES_COL, RECIPIENT_SHEET

MIN_PARTS = 2  # a row equal to one other row is a coincidence, not a sum


@dataclass
class _Sums:
    """Per column, the sum of the non-zero numbers of some rows and how many there are."""

    totals: dict[str, Decimal] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, numbers: dict[str, Decimal]) -> None:
        for column, value in numbers.items():
            self.totals[column] = self.totals.get(column, Decimal(0)) + value
            self.counts[column] = self.counts.get(column, 0) + 1

    def equal_without(self, own: dict[str, Decimal], member: bool) -> bool:
        """Whether these rows, leaving out the row itself if it is one of them, sum to ``own`` in every column."""
        for column, value in own.items():
            count = self.counts.get(column, 0) - member
            if count < MIN_PARTS or self.totals.get(column, Decimal(0)) - (value if member else 0) != value:
                return False
        return True


def warn_hidden_totals(table: RecipientTable, key_uses: list[Post], check: Checker) -> None:
    """Warn at each row whose bases are the sum of all other rows or of the other rows of a group."""
    used = {p.column for post in key_uses for p in post.key}
    columns = [c for c in table.basis_columns() if c in used] or table.basis_columns()
    numbers = [{c: n for c in columns if (n := plain_number(row.values.get(c)))} for row in table.rows]
    everyone = _Sums()
    for own in numbers:
        everyone.add(own)
    groups = {name: (_Sums(), set(members)) for name, members in table.groups.items()}
    for sums, members in groups.values():
        for i in members:
            sums.add(numbers[i])
    by_total = _groups_by_total(groups)
    for i, own in enumerate(numbers):
        if not own:
            continue
        what = "alla andra mottagare" if everyone.equal_without(own, True) else None
        column, value = next(iter(own.items()))
        for name in by_total.get((column, value), []) + by_total.get((column, 2 * value), []):
            sums, members = groups[name]
            if what is None and sums.equal_without(own, i in members):
                what = f'gruppen "{table.rows[min(members)].group}"'
        if what is not None:
            _warn(table, i, own, what, check)


def _groups_by_total(groups: dict[str, tuple[_Sums, set[int]]]) -> dict[tuple[str, Decimal], list[str]]:
    """(column, a group's sum in it) → the groups, so each row is compared only with groups it may equal."""
    index: dict[tuple[str, Decimal], list[str]] = {}
    for name, (sums, _) in groups.items():
        for column, total in sums.totals.items():
            index.setdefault((column, total), []).append(name)
    return index


def _warn(table: RecipientTable, i: int, own: dict[str, Decimal], what: str, check: Checker) -> None:
    row = table.rows[i]
    listed = ", ".join(f"{column} {formats.number(value, nbsp=False)}" for column, value in own.items())
    check.warn(cell(RECIPIENT_SHEET, table.columns[NAME_COL], row.row),
               f'raden "{row.name}" har samma underlag som summan av {what} ({listed}) och ser ut som en summarad, '
               'men den räknas som mottagare och får pengar. Ta bort raden, skriv "Summa" i kolumn '
               f"{NAME_COL}, eller sätt {PARTICIPATES_COL} till Nej om den inte ska ha något.")
