"""The ``Texter`` sheet: prose sections for the decision document, heading and text per row."""

from __future__ import annotations

from processor.swedish import norm
from processor.validate.cells import as_text, value_at
from processor.validate.checker import Checker, cell
from processor.vocabulary import SECTION_COL, TEXT_SHEET
from processor.workbook import Sheet


def read_text_sheet(sheet: Sheet, check: Checker) -> list[tuple[str, str]]:
    """``Avsnitt | Text`` rows, in order."""
    sections = []
    for r, row in enumerate(sheet.rows, start=1):
        heading, text = as_text(value_at(row, 0)), as_text(value_at(row, 1))
        if r == 1 and heading and norm(heading) == norm(SECTION_COL):
            continue
        if heading is None and text is None:
            continue
        if heading is None:
            check.error(cell(TEXT_SHEET, 0, r), "texten saknar rubrik. Skriv avsnittets rubrik i kolumn A, t.ex. Bakgrund.")
            continue
        if text is None:
            check.warn(cell(TEXT_SHEET, 1, r), f'avsnittet "{heading}" är tomt och skrivs inte ut.')
            continue
        sections.append((heading, text))
    return sections
