"""A run folder as the case over the year sees it: the case from ``fordelning.json``, the ledger, the mailings.

The run folder keeps no workbook: ``fordelning.json`` carries the recipients, their totals and the
Ärende fields later commands need (``case``). ``processor status`` and ``processor faktura`` start here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from processor.errors import InputError, Problem
from processor.followup import LedgerEntry
from processor.layout import RESULT_FILE, RunLayout
from processor.ledger import initial_entries
from processor.model import Allocation, Case
from processor.vocabulary import DATE, DEADLINE, INVOICE_REFERENCE, REFERENCE, YEAR

MAILING_KIND = "Beslut och brev"
REMINDER_KIND = "Påminnelse"
FORMS_KIND = "Redovisningsblankett"
REPORTING_DATES = (("Delredovisning", 9, 30), ("Slutredovisning", 3, 31))
"""The reporting dates of the followup spec (30 September, 31 March the year after), for a case with ``År``."""


@dataclass(frozen=True)
class CaseFolder:
    """One run folder: where its files are, the case and allocation it was made from."""

    layout: RunLayout
    case: Case
    allocation: Allocation
    case_id: str
    """The identity ``processor run`` gave the case (a folder from before it had one: its result's SHA-256)."""

    @property
    def deadline(self) -> dt.date | None:
        return self.case.info.date(DEADLINE)

    @property
    def reference(self) -> str | None:
        value = self.case.info.fields.get(REFERENCE)
        return str(value) if value is not None else None

    @property
    def invoice_reference(self) -> str | None:
        value = self.case.info.fields.get(INVOICE_REFERENCE)
        return str(value) if value is not None else None

    @property
    def allocated(self) -> dict[str, int]:
        """Recipient → kronor in the ledger, in workbook order (one that takes no part: 0)."""
        return {entry.name: entry.allocated for entry in initial_entries(self.case, self.allocation)}

    def dates(self) -> list[tuple[str, dt.date]]:
        """The case's dates for the timeline: the decision, ``Sista dag``, the reporting dates of its year."""
        dates = [(label, date) for label, date in (("Beslut", self.case.info.date(DATE)), (DEADLINE, self.deadline))
                 if date is not None]
        year = _year(self.case.info.fields.get(YEAR))
        if year is not None:
            dates += [(label, dt.date(year + (month < 6), month, day)) for label, month, day in REPORTING_DATES]
        return dates

    def read_ledger(self, today: dt.date) -> tuple[list[LedgerEntry], list[Problem]]:
        from processor.ledger_read import read_ledger

        return read_ledger(self.layout.ledger, self.allocated, self.deadline, today)


def open_case_folder(run_dir: Path) -> CaseFolder:
    """The case of a run folder; InputError when it is not one (no readable ``fordelning.json``)."""
    from processor.result import read_back

    path = Path(run_dir) / RESULT_FILE
    try:
        data = path.read_bytes()
        document = json.loads(data.decode("utf-8"))
        case, allocation = read_back(document, [], [])
    except FileNotFoundError:
        raise InputError([Problem(str(run_dir), f"mappen är ingen körmapp ({RESULT_FILE} saknas). Ange mappen som "
                                                "processor run skrev, t.ex. output/arbetsbok_20200601-101500.")]) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError([Problem(f"{run_dir}/{RESULT_FILE}", f"filen kan inte läsas ({type(error).__name__}). Återställ "
                                                              "den från en säkerhetskopia eller kör arbetsboken igen.")]
                         ) from None
    layout = RunLayout.for_recipients(Path(run_dir), [r.name for r in case.recipients])
    case_id = document.get("case_id") or hashlib.sha256(data).hexdigest()
    return CaseFolder(layout, case, allocation, str(case_id))


def _year(value: object) -> int | None:
    try:
        year = int(str(value))
    except ValueError:
        return None
    return year if 1900 < year < 3000 else None
