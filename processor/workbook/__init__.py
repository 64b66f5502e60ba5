"""Read an untrusted .xlsx/.xlsm file into plain rows of exact values.

``package`` refuses what is not a safe workbook before any parser sees it; ``values``
reads the values a spreadsheet program computed; ``scan`` marks what only the XML tells
(formulas without a value, Excel errors, merged cells, hidden rows). Numbers come back as
the ``Decimal`` Excel shows; cells without a trustworthy value come back as markers
(``sheet``), so validation can name them.
"""

from __future__ import annotations

from pathlib import Path

from processor.errors import InputError
from processor.workbook.package import (
    BIDI_CONTROL, DEFAULT_BUDGET, ReadingBudget, check_file, unreadable, workbook_sha256,
)
from processor.workbook.scan import scan_sheets
from processor.workbook.sheet import UNCALCULATED, Book, CellValue, ExcelError, Sheet, Uncalculated, excel_number
from processor.workbook.values import load_values

__all__ = ["BIDI_CONTROL", "UNCALCULATED", "Book", "CellValue", "ExcelError", "ReadingBudget", "Sheet", "Uncalculated",
           "excel_number", "read_workbook", "workbook_sha256"]


def read_workbook(path: Path, wanted: set[str] | None = None, budget: ReadingBudget = DEFAULT_BUDGET) -> Book:
    """Every sheet of the workbook, or only those whose normalised titles are ``wanted``."""
    path = Path(path)
    where = path.name or str(path)
    check_file(path, where, budget)
    try:
        titles, builders = load_values(path, where, wanted, budget)
        scan_sheets(path, builders)
    except InputError:
        raise
    except Exception as exc:  # openpyxl and the XML parsers raise many types for damaged files
        raise InputError([unreadable(where, exc)]) from exc
    return Book(tuple(titles), tuple(b.build() for b in builders))
