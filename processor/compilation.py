"""The compilation of returned reporting forms as plain data: the ledger after them, the table, the totals. Pure.

The ledger is the record: a form read sets its recipient's ``Använt`` and ``Redovisat``; the table and
the repayments are then taken from the ledger, so a recipient whose report the administrator typed in
by hand is compiled too (its answers are not in the folder). Money is whole kronor, and the totals are
checked against each other: what was paid is what was used, what is to be repaid and what is not yet
reported.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from processor.followup import LedgerEntry
from processor.returned_forms import ReturnedForm

RECORDED = "införd"
UNCHANGED = "redan införd"
CHANGED = "ändrad"


@dataclass(frozen=True)
class FormOutcome:
    """What a form did to its recipient's ledger row: recorded, already there (same amount), or a changed amount."""

    form: ReturnedForm
    result: str
    previous_used: int | None = None


@dataclass(frozen=True)
class CompiledRow:
    """One recipient in the compilation: the ledger's amounts and, when its form is in the folder, its answers."""

    entry: LedgerEntry
    form: ReturnedForm | None

    @property
    def reported(self) -> bool:
        return self.entry.used is not None and self.entry.reported is not None

    @property
    def to_repay(self) -> int | None:
        """Paid but not used; None until the recipient has reported."""
        return self.entry.paid - self.entry.used if self.reported else None

    def answer(self, question: str) -> str | None:
        return dict(self.form.answers).get(question) if self.form is not None else None


@dataclass(frozen=True)
class Totals:
    allocated: int
    paid: int
    used: int
    to_repay: int
    unreported_paid: int


@dataclass(frozen=True)
class Compilation:
    """The compiled case: every recipient with money, the questions in order, and the totals."""

    today: dt.date
    rows: tuple[CompiledRow, ...]
    questions: tuple[str, ...]
    outcomes: tuple[FormOutcome, ...]

    @property
    def reported(self) -> list[CompiledRow]:
        return [r for r in self.rows if r.reported]

    @property
    def unreported(self) -> list[CompiledRow]:
        """Paid and not reported: whom ``processor paminn --redovisning`` reminds."""
        return [r for r in self.rows if r.entry.paid > 0 and not r.reported]

    @property
    def repayments(self) -> list[CompiledRow]:
        """Reported rows that used less than they were paid: each gets a repayment letter."""
        return [r for r in self.reported if r.to_repay > 0]

    @property
    def totals(self) -> Totals:
        totals = Totals(allocated=sum(r.entry.allocated for r in self.rows), paid=sum(r.entry.paid for r in self.rows),
                        used=sum(r.entry.used for r in self.reported), to_repay=sum(r.to_repay for r in self.reported),
                        unreported_paid=sum(r.entry.paid for r in self.unreported))
        if totals.used + totals.to_repay + totals.unreported_paid != totals.paid:
            raise AssertionError(f"the compilation's sums disagree: {totals}")
        return totals


def record_forms(entries: Sequence[LedgerEntry], forms: Sequence[ReturnedForm], today: dt.date
                 ) -> tuple[list[LedgerEntry], list[FormOutcome]]:
    """The entries with each form's ``Använt`` and ``Redovisat``, and what became of each form.

    A form with the amount the ledger already holds changes nothing but a missing ``Redovisat`` date; a
    form with another amount replaces it (the recipient's latest word) and is dated today.
    """
    by_name = {f.recipient: f for f in forms}
    updated, outcomes = [], {}
    for entry in entries:
        form = by_name.get(entry.name)
        if form is None:
            updated.append(entry)
            continue
        if entry.used == form.used:
            outcomes[form.recipient] = FormOutcome(form, UNCHANGED if entry.reported else RECORDED)
            updated.append(dataclasses.replace(entry, reported=entry.reported or today))
        else:
            outcomes[form.recipient] = FormOutcome(form, RECORDED if entry.used is None else CHANGED, entry.used)
            updated.append(dataclasses.replace(entry, used=form.used, reported=today))
    return updated, [outcomes[f.recipient] for f in forms]


def compile_forms(entries: Sequence[LedgerEntry], forms: Sequence[ReturnedForm], outcomes: Sequence[FormOutcome],
                  today: dt.date) -> Compilation:
    """The compilation of the (updated) ledger: every recipient allocated or paid money, in ledger order."""
    by_name = {f.recipient: f for f in forms}
    in_ledger_order = [by_name[e.name] for e in entries if e.name in by_name]
    questions = tuple(dict.fromkeys(q for f in in_ledger_order for q, _ in f.answers))
    rows = tuple(CompiledRow(e, by_name.get(e.name)) for e in entries
                 if (e.allocated > 0 and not e.declined) or e.paid > 0)
    return Compilation(today, rows, questions, tuple(outcomes))
