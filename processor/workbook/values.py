"""The sheets' values as a spreadsheet program computed them, read with openpyxl."""

from __future__ import annotations

import warnings
from pathlib import Path

from processor.errors import InputError, Problem
from processor.workbook.package import ReadingBudget
from processor.workbook.sheet import CellValue, SheetBuilder, excel_number


def load_values(path: Path, where: str, wanted: set[str] | None,
                budget: ReadingBudget) -> tuple[list[str], list[SheetBuilder]]:
    """The wanted sheets' computed values; a file handle, so openpyxl does not judge by the file name."""
    import openpyxl  # imported here so commands that never read a workbook start fast

    with path.open("rb") as handle, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns in English about features it skips; they do not matter here
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
        try:
            sheets = [_read_sheet(ws, where, budget.cells) for ws in book.worksheets if _is_wanted(ws.title, wanted)]
            return list(book.sheetnames), sheets
        finally:
            book.close()


def _is_wanted(title: str, wanted: set[str] | None) -> bool:
    from processor.swedish import norm

    return wanted is None or norm(title) in wanted


def _read_sheet(ws, where: str, budget: int) -> SheetBuilder:
    """Rows without trailing blanks; a sheet far beyond any allocation's size is refused, not read for hours."""
    ws.reset_dimensions()
    rows: list[tuple[CellValue, ...]] = []
    for row in ws.iter_rows(values_only=True):
        budget -= 1 + len(row)
        if budget < 0:
            raise InputError([Problem(where, f'bladet "{ws.title}" är orimligt stort (mer än två miljoner celler, kanske '
                                             "något långt ner eller långt till höger). Ta bort rader och kolumner utanför "
                                             "tabellen och spara igen.")])
        values = [_value(v) for v in row]
        while values and values[-1] is None:
            values.pop()
        rows.append(tuple(values))
    return SheetBuilder(ws.title, rows)


def _value(value) -> CellValue:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return excel_number(value)
    if isinstance(value, str):
        return value if value.strip() else None
    return value
