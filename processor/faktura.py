"""``processor faktura``: e-invoices read, matched to the case and recorded in the ledger, callable from Python.

Every file gets an outcome (recorded, already recorded, not recorded and why). The ledger is read
and checked first and written once at the end, only its invoice cells (``Rekvirerat``,
``Fakturadatum``, ``Fakturanummer``) and only where they change: importing the same files twice
writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from processor.case_folder import open_case_folder
from processor.checksums import Checksums
from processor.einvoice import read_einvoice_file
from processor.errors import InputError, Problem
from processor.invoice_apply import InvoiceOutcome, apply_invoices, unreadable
from processor.invoice_match import InvoiceMatch, match_invoice
from processor.ledger import INVOICE_DATE, INVOICE_NUMBERS, REQUESTED, refuse_if_open, update_ledger
from processor.manifest import update_manifest

INVOICE_COLUMNS = (REQUESTED, INVOICE_DATE, INVOICE_NUMBERS)


@dataclass(frozen=True)
class InvoiceImport:
    """What became of each file, in the order read; the ledger cells written; the ledger's warnings."""

    outcomes: tuple[InvoiceOutcome, ...]
    written: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def over_allocation(self) -> bool:
        """An invoice above what remains was refused: the command exits 2."""
        return any(o.over_allocation for o in self.outcomes)


def invoice_files(sources: Sequence[Path]) -> list[Path]:
    """Each file given, and a folder's ``*.xml`` files sorted by name; InputError naming every path not found."""
    files, missing = [], []
    for source in map(Path, sources):
        if source.is_dir():
            files += sorted((p for p in source.iterdir() if p.suffix.lower() == ".xml" and p.is_file()),
                            key=lambda p: p.name)
        elif source.is_file():
            files.append(source)
        else:
            missing.append(Problem(str(source), "filen eller mappen finns inte. Kontrollera sökvägen."))
    if missing:
        raise InputError(missing)
    return files


def import_invoices(run_dir: Path, sources: Sequence[Path], today: dt.date, *,
                    now: dt.datetime | None = None) -> InvoiceImport:
    """Read, match and record every invoice; → the outcomes. InputError (nothing changed) for an unusable ledger."""
    folder = open_case_folder(run_dir)
    refuse_if_open(folder.layout)
    entries, warnings = folder.read_ledger(today)
    files = invoice_files(sources)
    read: list[InvoiceMatch | InvoiceOutcome] = []
    for path in files:
        try:
            invoice = read_einvoice_file(path)
        except InputError as error:
            read.append(unreadable(error.problems[0]))
            continue
        read.append(match_invoice(invoice, folder.invoice_reference, folder.deadline, folder.case.recipients))
    matches = [m for m in read if isinstance(m, InvoiceMatch)]
    updated, applied = apply_invoices(entries, matches)
    outcomes = iter(applied)
    ordered = tuple(next(outcomes) if isinstance(m, InvoiceMatch) else m for m in read)
    written = update_ledger(folder.layout, entries, updated, INVOICE_COLUMNS)
    if written:
        update_manifest(folder.layout.root, Checksums(folder.layout.root), "faktura", now or dt.datetime.now().astimezone())
    return InvoiceImport(ordered, written, warnings)
