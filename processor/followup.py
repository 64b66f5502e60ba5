"""The case over the year as plain data: each recipient's ledger entry, its status, the case's standing.

Pure: no files. The ledger workbook (``uppfoljning.xlsx``) is read into ``LedgerEntry`` values elsewhere;
``status``, the status page and the reminders all start from ``case_standing``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

DECLINED = "Avstår"
REPORTED = "Redovisat"
PAID = "Utbetalt"
REQUESTED = "Rekvirerat"
LATE = "Försenad"
WAITING = "Väntar"
STATUSES = (DECLINED, REPORTED, PAID, REQUESTED, LATE, WAITING)
"""Every status, in the order the spec checks them; also the order of counts and bars."""


@dataclass(frozen=True)
class LedgerEntry:
    """One recipient's row of the ledger: what the program allocated and what the administrator recorded."""

    name: str
    allocated: int
    declined: bool = False
    requested: int = 0
    invoice_date: dt.date | None = None
    invoice_numbers: tuple[str, ...] = ()
    paid: int = 0
    paid_date: dt.date | None = None
    used: int | None = None
    reported: dt.date | None = None
    note: str | None = None
    row: int | None = None


def status_of(entry: LedgerEntry, deadline: dt.date | None, today: dt.date) -> str | None:
    """The recipient's status; None for one allocated nothing that did not decline (left out of the counts)."""
    if entry.declined:
        return DECLINED
    if entry.allocated == 0:
        return None
    if entry.reported is not None:
        return REPORTED
    if entry.paid > 0:
        return PAID
    if entry.requested > 0:
        return REQUESTED
    if deadline is not None and today > deadline:
        return LATE
    return WAITING


@dataclass(frozen=True)
class RecipientStanding:
    """A ledger entry with its status today."""

    entry: LedgerEntry
    status: str | None


@dataclass(frozen=True)
class CaseStanding:
    """How the whole case stands today: every recipient's status, the totals and the counts per status."""

    today: dt.date
    deadline: dt.date | None
    recipients: tuple[RecipientStanding, ...]

    def with_status(self, *statuses: str) -> list[RecipientStanding]:
        return [r for r in self.recipients if r.status in statuses]

    @property
    def counts(self) -> dict[str, int]:
        return {status: len(self.with_status(status)) for status in STATUSES}

    @property
    def totals(self) -> dict[str, int]:
        entries = [r.entry for r in self.recipients]
        return {
            "allocated": sum(e.allocated for e in entries),
            "requested": sum(e.requested for e in entries),
            "paid": sum(e.paid for e in entries),
            "declined": sum(e.allocated for e in entries if e.declined),
            "used": sum(e.used or 0 for e in entries),
        }

    def to_json(self) -> dict:
        """The document ``processor status --json`` prints (followup spec)."""
        return {
            "today": self.today.isoformat(),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "recipients": [{"name": r.entry.name, "allocated": r.entry.allocated, "declined": r.entry.declined,
                            "requested": r.entry.requested, "paid": r.entry.paid, "used": r.entry.used,
                            "status": r.status} for r in self.recipients],
            "totals": self.totals,
            "counts": self.counts,
        }


def case_standing(entries: Sequence[LedgerEntry], deadline: dt.date | None, today: dt.date) -> CaseStanding:
    """Each entry's status as of ``today``, in ledger order."""
    return CaseStanding(today, deadline, tuple(RecipientStanding(e, status_of(e, deadline, today)) for e in entries))
