"""``sammanstallning.xlsx``: what each recipient reported, one row each, with the answers and a totals row.

Values, never formulas (text from the forms is always written as text); amounts with thousands
separators, dates as date cells, answers wrapped; A4 landscape, the header repeated on every page.
"""

from __future__ import annotations

from io import BytesIO

from processor.appendix import AMOUNT_FORMAT, put
from processor.compilation import Compilation
from processor.ledger import ALLOCATED, DATE_FORMAT, NAME, PAID, REPORTED, USED

SHEET = "Sammanställning"
TO_REPAY = "Att återbetala"
"""The one column the ledger has not; the others are headed as in the ledger."""
AMOUNTS = (ALLOCATED, PAID, USED, TO_REPAY)
TOTAL = "Totalt"
HEADER_ROW = 3
ANSWER_WIDTH = 50
LINE_HEIGHT = 15
"""Points per line of text: rows are made tall enough for their wrapped answers (no office suite grows them)."""
MAX_LINES = 27  # 409 points, the tallest row Excel allows


def compilation_xlsx(compilation: Compilation, title: str) -> bytes:
    """The compilation's table as a workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = SHEET
    put(ws, 1, 1, f"Sammanställning av redovisningarna: {title}").font = Font(bold=True, size=14)
    put(ws, 2, 1, f"Redovisat {len(compilation.reported)} av {len(compilation.reported) + len(compilation.unreported)} "
                  f"mottagare som fått medel utbetalda. Belopp i kronor.")
    headings = [NAME, *AMOUNTS, REPORTED, *compilation.questions]
    bold, thin = Font(bold=True), Side(style="thin", color="808080")
    for c, heading in enumerate(headings, start=1):
        cell = put(ws, HEADER_ROW, c, heading)
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DCE6F1")
        cell.border = Border(bottom=thin)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom", horizontal="right" if heading in AMOUNTS else "left")
    ws.row_dimensions[HEADER_ROW].height = LINE_HEIGHT * max([1, *(wrapped_lines(q, ANSWER_WIDTH)
                                                                   for q in compilation.questions)])
    row = HEADER_ROW
    wrapped = Alignment(wrap_text=True, vertical="top")
    for compiled in compilation.rows:
        row += 1
        entry = compiled.entry
        values = [entry.name, entry.allocated, entry.paid, entry.used if compiled.reported else None, compiled.to_repay]
        for c, value in enumerate(values, start=1):
            put(ws, row, c, value, AMOUNT_FORMAT).alignment = Alignment(vertical="top")
        date = ws.cell(row=row, column=len(values) + 1, value=entry.reported if compiled.reported else None)
        date.number_format, date.alignment = DATE_FORMAT, Alignment(vertical="top")
        answers = [compiled.answer(question) for question in compilation.questions]
        for c, answer in enumerate(answers, start=len(values) + 2):
            put(ws, row, c, answer).alignment = wrapped
        ws.row_dimensions[row].height = LINE_HEIGHT * max([1, *(wrapped_lines(a, ANSWER_WIDTH) for a in answers)])
    row += 1
    totals = compilation.totals
    for c, value in enumerate([TOTAL, totals.allocated, totals.paid, totals.used, totals.to_repay], start=1):
        cell = put(ws, row, c, value, AMOUNT_FORMAT)
        cell.font = bold
        cell.border = Border(top=thin, bottom=Side(style="double", color="808080"))
    longest = max([len(NAME), *(len(r.entry.name) for r in compilation.rows)])
    widths = [min(longest + 2, 40), *(16 for _ in AMOUNTS), 12, *(ANSWER_WIDTH for _ in compilation.questions)]
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 2)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.oddFooter.center.text = "Sida &P av &N"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def wrapped_lines(text: str | None, width: int) -> int:
    """About how many lines ``text`` takes in a column ``width`` characters wide (each paragraph wrapped)."""
    if not text:
        return 1
    lines = sum(max(1, -(-len(paragraph) * 11 // (10 * (width - 2)))) for paragraph in text.split("\n"))
    return min(lines, MAX_LINES)
