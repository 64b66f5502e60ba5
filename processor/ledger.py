"""``uppfoljning.xlsx``, the ledger: written by every run, then edited by the administrator and by commands.

The one file of a run folder meant to be edited. The program writes only its own cells: a command
that records something loads the administrator's file, changes the cells it must, saves beside it
and renames into place, keeping the previous version. Everything else typed there (extra columns,
notes, colours) is kept. Reading and checking it is ``processor.ledger_read``.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING

from processor.errors import InputError, Problem
from processor.followup import LedgerEntry
from processor.layout import LEDGER_FILE, RunLayout
from processor.model import Allocation, Case

if TYPE_CHECKING:
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.worksheet.worksheet import Worksheet

SHEET = "Uppföljning"
NAME, ALLOCATED, DECLINED, REQUESTED = "Mottagare", "Tilldelat", "Avstår", "Rekvirerat"
INVOICE_DATE, INVOICE_NUMBERS, PAID, PAID_DATE = "Fakturadatum", "Fakturanummer", "Utbetalt", "Utbetalningsdag"
USED, REPORTED, NOTE = "Använt", "Redovisat", "Anteckning"
COLUMNS = (NAME, ALLOCATED, DECLINED, REQUESTED, INVOICE_DATE, INVOICE_NUMBERS, PAID, PAID_DATE, USED, REPORTED, NOTE)
"""The ledger's columns in the spec's order; the first two are the program's, locked against typing."""
PROGRAM_COLUMNS = (NAME, ALLOCATED)
AMOUNT_COLUMNS = (ALLOCATED, REQUESTED, PAID, USED)
DATE_COLUMNS = (INVOICE_DATE, PAID_DATE, REPORTED)
AMOUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
WIDTHS = {NAME: 28, INVOICE_NUMBERS: 22, NOTE: 40}
YES, NO = "Ja", "Nej"


def initial_entries(case: Case, allocation: Allocation) -> list[LedgerEntry]:
    """One entry per recipient in workbook order; one that takes no part has declined and is allocated nothing."""
    return [LedgerEntry(r.name, total if r.participates else 0, declined=not r.participates)
            for r, total in zip(case.recipients, allocation.totals)]


def ledger_xlsx(entries: Sequence[LedgerEntry]) -> bytes:
    """A new ledger: header, one row per entry, the program's columns locked, A4 print set up.

    Written in openpyxl's write-only mode, row by row, from one styled cell per column: styling each
    cell anew cost most of the time (about 0.8 s at 3 000 recipients).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.dimensions import ColumnDimension
    from openpyxl.worksheet.worksheet import Worksheet

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    widths = {**WIDTHS, NAME: min(max([WIDTHS[NAME], *(len(e.name) + 2 for e in entries)]), 60)}  # whole names
    for number, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = widths.get(column, 15)
    beyond = get_column_letter(len(COLUMNS) + 1)
    sheet.column_dimensions[beyond] = ColumnDimension(sheet, index=beyond, min=len(COLUMNS) + 1, max=len(COLUMNS) + 20,
                                                      width=15)
    sheet.column_dimensions[beyond].protection = Protection(locked=False)  # room for the administrator's own columns
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(len(entries) + 1, 2)}"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    protect(sheet)
    bold = Font(bold=True)
    sheet.append([_styled(WriteOnlyCell(sheet, column), font=bold) for column in COLUMNS])
    cells = [set_cell(WriteOnlyCell(sheet), column, None) for column in COLUMNS]
    for cell, column in zip(cells, COLUMNS):
        if column not in PROGRAM_COLUMNS:
            cell.protection = Protection(locked=False)
    for entry in entries:  # the same cells each row: the write-only sheet writes a row out as it is appended
        values = entry_values(entry)
        for cell, column in zip(cells, COLUMNS):
            cell.value = values.get(column)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _styled(cell: WriteOnlyCell, **style: object) -> WriteOnlyCell:
    for name, value in style.items():
        setattr(cell, name, value)
    return cell


def protect(sheet: Worksheet) -> None:
    """Sheet protection without a password: locked cells cannot be typed in, formatting and sorting stay allowed."""
    protection = sheet.protection
    protection.sheet = True
    protection.formatCells = protection.formatColumns = protection.formatRows = False
    protection.sort = protection.autoFilter = protection.insertColumns = False


def entry_values(entry: LedgerEntry) -> dict[str, object]:
    """The cells of an entry's row, by column (blank as None); ``Anteckning`` is the administrator's alone."""
    return {
        NAME: entry.name, ALLOCATED: entry.allocated, DECLINED: YES if entry.declined else None,
        REQUESTED: entry.requested or None, INVOICE_DATE: entry.invoice_date,
        INVOICE_NUMBERS: ", ".join(entry.invoice_numbers) or None, PAID: entry.paid or None,
        PAID_DATE: entry.paid_date, USED: entry.used, REPORTED: entry.reported,
    }


def set_cell(cell: Cell | WriteOnlyCell, column: str, value: object) -> Cell | WriteOnlyCell:
    """A value with the column's format: amounts with thousands separators, dates as date cells; → the cell."""
    cell.value = value
    if column in AMOUNT_COLUMNS:
        cell.number_format = AMOUNT_FORMAT
    elif column in DATE_COLUMNS:
        cell.number_format = DATE_FORMAT
    return cell


# --- changing the administrator's file --------------------------------------------------------------

def refuse_if_open(layout: RunLayout) -> None:
    """Exit 2 while Excel or LibreOffice has the ledger open: saving there would overwrite our change, or fail."""
    if any(lock.exists() for lock in layout.ledger_locks()):
        raise InputError([Problem(LEDGER_FILE, "filen är öppen i Excel eller LibreOffice (en låsfil ligger bredvid den). "
                                               "Spara och stäng filen och kör kommandot igen.")])


def update_ledger(layout: RunLayout, before: Sequence[LedgerEntry], after: Sequence[LedgerEntry],
                  columns: Sequence[str], *, keep_previous: bool = True) -> list[str]:
    """Write into the ledger the ``columns`` that differ between ``before`` and ``after`` (same rows); → cells written.

    ``Anteckning`` is never written: it is the administrator's alone.

    The file is loaded whole and saved beside itself, then renamed into place; the old file becomes
    ``uppfoljning.föregående.xlsx`` (``keep_previous`` False: a copy just carried into a new folder, no previous
    version kept). Nothing is written when nothing differs. Callers have read the file
    with ``ledger_read.read_ledger`` first (the safe reader), so openpyxl only loads a file already checked.
    """
    from openpyxl import load_workbook

    refuse_if_open(layout)
    changes = [(old.row, column, value) for old, new in zip(before, after) if old.row is not None
               for column, value in entry_values(new).items()
               if column in columns and value != entry_values(old)[column]]
    if not changes:
        return []
    book = load_workbook(layout.ledger, keep_vba=False, keep_links=False)
    sheet = _ledger_sheet(book)
    positions = _header_positions(sheet)
    written = []
    for row, column, value in changes:
        cell = sheet.cell(row=row, column=positions[column])
        set_cell(cell, column, value)
        written.append(cell.coordinate)
    temp = layout.ledger.with_name(f".{LEDGER_FILE}.{os.getpid()}.tmp")
    previous = layout.ledger.with_name(f".{LEDGER_FILE}.{os.getpid()}.previous.tmp")
    try:
        book.save(temp)
        if keep_previous:
            shutil.copy2(layout.ledger, previous)
            os.replace(previous, layout.previous_ledger)
        os.replace(temp, layout.ledger)
    finally:
        temp.unlink(missing_ok=True)
        previous.unlink(missing_ok=True)
    return written


def _ledger_sheet(book):
    from processor.swedish import norm

    return next(ws for ws in book.worksheets if norm(ws.title) == norm(SHEET))


def _header_positions(sheet) -> dict[str, int]:
    """Column name → 1-based column number, the header matched without case (as when it was read)."""
    from processor.swedish import norm

    found = {norm(str(cell.value)): cell.column for cell in sheet[1] if cell.value is not None}
    return {column: found[norm(column)] for column in COLUMNS if norm(column) in found}
