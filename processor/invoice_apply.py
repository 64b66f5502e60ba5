"""Recording matched e-invoices in the ledger entries. Pure: entries in, new entries and outcomes out.

The identity of an invoice is (recipient, invoice number): a recipient's row holds its own
invoices' numbers, so the same number on the same row is already recorded and importing the
same files again changes nothing. An invoice above what remains of the allocation is not
recorded and says so (``over_allocation``: the command then exits 2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from processor import formats
from processor.errors import Problem
from processor.followup import LedgerEntry
from processor.invoice_match import InvoiceMatch
from processor.layout import LEDGER_FILE
from processor.swedish import norm

RECORDED = "införd"
ALREADY_RECORDED = "redan införd"
NOT_RECORDED = "inte införd"


@dataclass(frozen=True)
class InvoiceOutcome:
    """What became of one file: its result, a Swedish sentence, and warnings."""

    source: str
    result: str
    message: str
    recipient: str | None = None
    amount: int | None = None
    warnings: tuple[str, ...] = ()
    over_allocation: bool = False

    def lines(self) -> list[str]:
        """As the command prints it: the file and what became of it, then each warning."""
        return [f"{self.source}: {self.message}", *(f"  Varning: {w}" for w in self.warnings)]


def unreadable(problem: Problem) -> InvoiceOutcome:
    """A file that could not be read as an e-invoice (its problem names the file)."""
    return InvoiceOutcome(problem.where, NOT_RECORDED, f"inte införd: {problem.message}")


def apply_invoices(entries: Sequence[LedgerEntry], matches: Sequence[InvoiceMatch]
                   ) -> tuple[tuple[LedgerEntry, ...], tuple[InvoiceOutcome, ...]]:
    """The entries with each recordable invoice added, and one outcome per invoice, in the order given.

    Passes are repeated until one records nothing, so the order of the files does not decide (a credit note
    read before its invoice is recorded after it) and a second import of the same files records nothing:
    what is left unrecorded is refused by the final entries, and its reason is said from them.
    """
    current = list(entries)
    outcomes: list[InvoiceOutcome | None] = [None] * len(matches)
    pending = list(range(len(matches)))
    recorded_any = True
    while recorded_any:
        recorded_any = False
        for k in pending:
            match = matches[k]
            index = next((i for i, e in enumerate(current) if match.recipient and norm(e.name) == norm(match.recipient)), None)
            outcomes[k], entry = _apply(match, current[index] if index is not None else None)
            if entry is not None and index is not None:
                current[index] = entry
                recorded_any = True
        pending = [k for k in pending if outcomes[k].result != RECORDED]
    return tuple(current), tuple(outcomes)


def _apply(match: InvoiceMatch, entry: LedgerEntry | None) -> tuple[InvoiceOutcome, LedgerEntry | None]:
    invoice = match.invoice

    def outcome(result: str, message: str, amount: int | None = None, over: bool = False) -> InvoiceOutcome:
        return InvoiceOutcome(invoice.source, result, message, match.recipient, amount, match.warnings, over)

    if match.refusal is not None:
        return outcome(NOT_RECORDED, f"inte införd: {match.refusal}"), None
    if entry is None:
        return outcome(NOT_RECORDED, f"inte införd: mottagaren {match.recipient} har ingen rad i {LEDGER_FILE}. "
                                     "Lägg tillbaka raden och läs in fakturan igen."), None
    if any(norm(n) == norm(invoice.number) for n in entry.invoice_numbers):
        return outcome(ALREADY_RECORDED, f"redan införd: {invoice.label} från {entry.name} finns redan i {LEDGER_FILE}; "
                                         "inget ändras."), None
    if entry.declined:
        return outcome(NOT_RECORDED, f"inte införd: {entry.name} har avstått medlen (Avstår = Ja i {LEDGER_FILE}), men "
                                     f"har skickat {invoice.label}. Kontakta mottagaren; ändra Avstår om den ändå vill ha "
                                     "medlen och läs in fakturan igen."), None
    amount = int(invoice.signed_amount)
    requested = entry.requested + amount
    if requested > entry.allocated:
        remaining = entry.allocated - entry.requested
        return outcome(NOT_RECORDED, f"inte införd: {invoice.label} på {_kr(amount)} är mer än vad som återstår av "
                                     f"tilldelningen till {entry.name} ({_kr(remaining)} av {_kr(entry.allocated)}). Be "
                                     f"mottagaren kreditera fakturan och fakturera högst {_kr(remaining)}.",
                       over=True), None
    if requested < 0:
        return outcome(NOT_RECORDED, f"inte införd: {invoice.label} drar av {_kr(-amount)}, men {entry.name} har bara "
                                     f"rekvirerat {_kr(entry.requested)}. Läs in fakturan den krediterar först."), None
    dates = [d for d in (entry.invoice_date, invoice.issue_date) if d is not None]
    updated = dataclasses.replace(entry, requested=requested, invoice_date=max(dates),
                                  invoice_numbers=(*entry.invoice_numbers, invoice.number))
    return outcome(RECORDED, f"införd: {entry.name}, {_kr(amount)} ({invoice.label}); rekvirerat nu {_kr(requested)} av "
                             f"{_kr(entry.allocated)}.", amount), updated


def _kr(value: int) -> str:
    return formats.kronor(value, nbsp=False)
