"""Reading the ledger ``uppfoljning.xlsx`` back into ``LedgerEntry`` values, every rule checked at once.

The administrator edits this file, so it is read like the workbook: through the safe reader
(``processor.workbook``), the header matched without case, every broken rule a Swedish problem
located ``uppfoljning.xlsx Uppföljning!E7`` that ends with the fix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from openpyxl.utils import get_column_letter

from processor import formats
from processor.errors import InputError, Problem
from processor.followup import LedgerEntry
from processor.layout import LEDGER_FILE
from processor.ledger import (ALLOCATED, AMOUNT_COLUMNS, COLUMNS, DATE_COLUMNS, DECLINED, INVOICE_DATE, INVOICE_NUMBERS,
                              NAME, NOTE, PAID, PAID_DATE, REPORTED, REQUESTED, SHEET, USED)
from processor.swedish import did_you_mean, norm
from processor.validate.cells import as_date, as_kronor, as_text, blank_row, quoted, unusable
from processor.validate.checker import Checker
from processor.vocabulary import NO, YES


class LedgerError(InputError):
    """The ledger cannot be used (exit status 2): every problem in it, each with its cell."""

    def subject(self) -> str:
        return LEDGER_FILE


def read_ledger(path: Path, allocated: dict[str, int], deadline: dt.date | None, today: dt.date
                ) -> tuple[list[LedgerEntry], list[Problem]]:
    """The entries in the order of ``allocated`` (recipient → kronor, from fordelning.json) and the warnings.

    LedgerError with every problem when a rule is broken.
    """
    from processor.workbook import read_workbook

    if not Path(path).is_file():
        raise LedgerError([Problem(LEDGER_FILE, "filen finns inte i körmappen. Lägg tillbaka den (eller den föregående "
                                                "versionen, uppfoljning.föregående.xlsx, omdöpt) och kör igen.")])
    book = read_workbook(Path(path), wanted={norm(SHEET)})
    if not book.sheets:
        raise LedgerError([Problem(LEDGER_FILE, f'bladet "{SHEET}" saknas.{did_you_mean(SHEET, list(book.titles))} '
                                                f'Döp tillbaka bladet till "{SHEET}".')])
    sheet = book.sheets[0]
    check = Checker()
    columns = _columns(sheet.rows[0] if sheet.rows else (), sheet.title, check)
    if check.errors:
        raise LedgerError(check.errors)
    by_name: dict[str, LedgerEntry] = {}
    names = {norm(n): n for n in allocated}
    for number, row in enumerate(sheet.rows[1:], start=2):
        if blank_row(row):
            continue
        entry = _entry(row, number, columns, _place(sheet.title), check)
        if entry is None:
            continue
        where = _place(sheet.title)(NAME, number, columns)
        key = norm(entry.name)
        if key not in names:
            check.error(where, f"{quoted(entry.name)} är ingen mottagare i ärendet.{did_you_mean(entry.name, list(allocated))} "
                               "Skriv tillbaka namnet precis som det stod (kolumnen Mottagare är låst för att skydda det).")
        elif key in by_name:
            check.error(where, f"{names[key]} har två rader (den första är rad {by_name[key].row}). Flytta det som står "
                               "på den här raden till den första och ta bort raden.")
        else:
            by_name[key] = _checked(entry, allocated[names[key]], columns, _place(sheet.title), check)
    missing = [name for key, name in names.items() if key not in by_name]
    for name in missing:
        check.error(f"{LEDGER_FILE} {sheet.title}", f"{name} saknar rad. Lägg tillbaka raden (den finns i "
                                                    "uppfoljning.föregående.xlsx eller i ett tidigare utskick).")
    if check.errors:
        raise LedgerError(check.errors)
    entries = [by_name[key] for key in names]
    return entries, [*check.warnings, *_warnings(entries, columns, _place(sheet.title), deadline, today)]


def _place(title: str):
    def where(column: str, row: int, columns: dict[str, int]) -> str:
        return f"{LEDGER_FILE} {title}!{get_column_letter(columns[column] + 1)}{row}"
    return where


def _columns(header: tuple, title: str, check: Checker) -> dict[str, int]:
    """Column name → 0-based index, matched without case; a missing column (but Anteckning) is an error."""
    found = {norm(as_text(v) or ""): i for i, v in enumerate(header) if not unusable(v) and as_text(v)}
    columns = {c: found[norm(c)] for c in COLUMNS if norm(c) in found}
    for column in COLUMNS:
        if column not in columns and column != NOTE:
            check.error(f"{LEDGER_FILE} {title}!1", f'kolumnen "{column}" saknas i rubrikraden.'
                                                    f"{did_you_mean(column, [as_text(v) or '' for v in header])} "
                                                    f'Skriv rubriken "{column}" i rad 1 igen.')
    return columns


def _entry(row: tuple, number: int, columns: dict[str, int], place, check: Checker) -> LedgerEntry | None:
    """The row's values, each read or its problem noted; None for a row without a name."""
    def cell(column: str):
        index = columns.get(column)
        return row[index] if index is not None and index < len(row) else None

    def where(column: str) -> str:
        return place(column, number, columns)

    name = as_text(cell(NAME))
    if name is None:
        check.error(where(NAME), "raden har inget namn i kolumnen Mottagare. Skriv tillbaka mottagarens namn, eller ta "
                                 "bort raden om den inte hör till ärendet.")
        return None
    amounts = {}
    for column in AMOUNT_COLUMNS:
        value = cell(column)
        amounts[column] = None if value is None else as_kronor(value, where(column), check, column)
    dates = {column: None if cell(column) is None else as_date(cell(column), where(column), check, column)
             for column in DATE_COLUMNS}
    return LedgerEntry(
        name=name, allocated=amounts[ALLOCATED] or 0, declined=_declined(cell(DECLINED), where(DECLINED), check),
        requested=amounts[REQUESTED] or 0, invoice_date=dates[INVOICE_DATE],
        invoice_numbers=tuple(n.strip() for n in (as_text(cell(INVOICE_NUMBERS)) or "").split(",") if n.strip()),
        paid=amounts[PAID] or 0, paid_date=dates[PAID_DATE], used=amounts[USED], reported=dates[REPORTED],
        note=as_text(cell(NOTE)), row=number)


def _declined(value, where: str, check: Checker) -> bool:
    text = norm(as_text(value) or "")
    if text in YES:
        return True
    if text and text not in NO:
        check.error(where, f"{quoted(value)} är varken Ja eller Nej ({DECLINED}). Skriv Ja om mottagaren avstår medlen, "
                           "annars Nej eller lämna cellen tom.")
    return False


def _checked(entry: LedgerEntry, allocated: int, columns: dict[str, int], place, check: Checker) -> LedgerEntry:
    """The rules between a row's amounts; the entry keeps the allocation of fordelning.json."""
    def where(column: str) -> str:
        return place(column, entry.row, columns)

    def kr(value: int) -> str:
        return formats.kronor(value, nbsp=False)

    if entry.allocated != allocated:
        check.error(where(ALLOCATED), f"{ALLOCATED} är {kr(entry.allocated)}, men {entry.name} tilldelades {kr(allocated)} "
                                      f"(fordelning.json). Skriv tillbaka {kr(allocated)}; kolumnen är låst för att "
                                      "skydda beloppet.")
    for higher, lower in ((ALLOCATED, REQUESTED), (REQUESTED, PAID), (PAID, USED)):
        values = {ALLOCATED: allocated, REQUESTED: entry.requested, PAID: entry.paid, USED: entry.used or 0}
        if values[lower] > values[higher]:
            check.error(where(lower), f"{lower} ({kr(values[lower])}) är mer än {higher} ({kr(values[higher])}) för "
                                      f"{entry.name}. Rätta beloppet: {lower} får vara högst {kr(values[higher])}.")
    if entry.declined and (entry.requested > 0 or entry.paid > 0):
        check.error(where(DECLINED), f"{entry.name} avstår medlen men har {REQUESTED.lower()} {kr(entry.requested)} och "
                                     f"{PAID.lower()} {kr(entry.paid)}. Ta bort Ja i {DECLINED}, eller nollställ "
                                     f"{REQUESTED} och {PAID} om mottagaren har avstått.")
    return dataclasses.replace(entry, allocated=allocated)


def _warnings(entries: Sequence[LedgerEntry], columns: dict[str, int], place, deadline: dt.date | None,
              today: dt.date) -> list[Problem]:
    if deadline is None:
        return []
    warnings = []
    for e in entries:
        if e.invoice_date is not None and e.invoice_date > deadline:
            warnings.append(Problem(place(INVOICE_DATE, e.row, columns),
                                    f"fakturan från {e.name} är daterad {formats.long_date(e.invoice_date)}, efter sista "
                                    f"dag {formats.long_date(deadline)}."))
        if today > deadline and not e.declined and 0 < e.requested < e.allocated:
            warnings.append(Problem(place(REQUESTED, e.row, columns),
                                    f"{e.name} har rekvirerat {formats.kronor(e.requested, nbsp=False)} av "
                                    f"{formats.kronor(e.allocated, nbsp=False)}, och sista dag "
                                    f"{formats.long_date(deadline)} har passerat (en delfaktura). Fråga om resten "
                                    "ska faktureras eller om mottagaren avstår den."))
    return warnings
