"""``fordelning.xlsx``: the distribution table as an administrator attaches it ("Bilaga 1").

Values, never formulas: text from the workbook is always written as text, so a name
beginning with ``=`` stays a name.
"""

from __future__ import annotations

import math
from decimal import Decimal
from io import BytesIO

from processor import formats
from processor.model import Case
from processor.presentation import BASIS, GROUP, NAME, NOTE, TOTAL, Presentation, Table

AMOUNT_FORMAT = "#,##0"
CHART_MAX_RECIPIENTS = 200
TITLE_ROWS = 3
CHART_WIDTH_CM = 17
DEFAULT_COLUMN_CM = 1.7  # Excel's default column (8.43 characters) and row (15 points), in centimetres
DEFAULT_ROW_CM = 0.53
LANDSCAPE_MAX_CM = 17  # a chart up to this high fits one landscape A4 page at a readable size
BOLD_WIDTH = 1.15  # a bold character in units of the column width (the width of a plain digit)
APPENDIX_IN_LETTER_MAX = 100  # recipients: up to this many, each letter carries the whole table
APPENDIX_ATTACHED_MAX = 1_000  # recipients: up to this many, each e-mail carries fordelning.xlsx as well


def appendix_in_letter(case: Case) -> bool:
    """Whether each letter carries the whole table: beyond a hundred recipients a letter would grow with them."""
    return len(case.recipients) <= APPENDIX_IN_LETTER_MAX


def appendix_attached(case: Case) -> bool:
    """Whether each e-mail carries the appendix: beyond a thousand recipients the outbox would grow with their square."""
    return len(case.recipients) <= APPENDIX_ATTACHED_MAX


def safe_text(value):
    """Text without characters Excel cannot store."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def put(ws, row: int, col: int, value, number_format: str | None = None):
    """Write a value; text is always text (``=SUMMA(…)`` as a name stays a name)."""
    cell = ws.cell(row=row, column=col)
    cell.value = safe_text(value)
    if isinstance(value, str):
        cell.data_type = "s"
    if number_format and isinstance(value, (int, Decimal)):
        cell.number_format = number_format
    return cell


def basis_format(case: Case, column: str) -> str:
    decimals = max((max(0, -r.bases[column].as_tuple().exponent) for r in case.recipients if column in r.bases), default=0)
    return AMOUNT_FORMAT + ("." + "0" * min(decimals, 4) if decimals else "")


def appendix_xlsx(view: Presentation) -> bytes:
    """The appendix workbook as bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    case = view.case
    book = Workbook()
    ws = book.active
    ws.title = "Bilaga 1"
    table = view.table()
    columns = table.columns
    width = len(columns)
    put(ws, 1, 1, view.appendix_title).font = Font(bold=True, size=14)
    ws.row_dimensions[1].height = 20
    money = f"Att fördela: {formats.kronor(case.info.total)}"
    if case.info.carried_over:
        money += (f", varav {formats.kronor(case.info.grant)} för året och {formats.kronor(case.info.carried_over)} "
                  "överfört från tidigare år")
    put(ws, 2, 1, money + ". Belopp i kronor.")

    header_row = TITLE_ROWS + (2 if table.has_areas else 1)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DCE6F1")
    thin = Side(style="thin", color="808080")
    for c, column in enumerate(columns, start=1):
        cell = put(ws, header_row, c, column.heading)
        cell.font = bold
        cell.fill = fill
        cell.border = Border(bottom=thin)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom",
                                   horizontal="left" if column.kind in (NAME, GROUP, NOTE) else "right")
    formats_by_column = [basis_format(case, c.basis) if c.kind == BASIS else AMOUNT_FORMAT for c in columns]
    row = header_row
    for index in range(len(case.recipients)):
        row += 1
        for c, column in enumerate(columns, start=1):
            put(ws, row, c, _value(table.cell(column, index)), formats_by_column[c - 1])
    row += 1
    total_row = row
    for c, column in enumerate(columns, start=1):
        cell = put(ws, row, c, table.total(column), formats_by_column[c - 1])
        cell.font = bold
        cell.border = Border(top=thin, bottom=Side(style="double", color="808080"))
    widths = []
    for c, column in enumerate(columns, start=1):
        longest = max([max(len(w) for w in column.heading.split()) + 2] +
                      [len(str(ws.cell(r, c).value or "")) for r in range(header_row + 1, total_row + 1)][:2000])
        widths.append(min(max(longest + 3, 10), 45))
    if table.has_areas:
        _area_headings(ws, table, header_row - 1, widths)
    for c, column_width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = column_width
    row += 1
    for line in view.footnote:
        row += 1
        _prose_row(ws, row, line, width, sum(widths))
    ws.freeze_panes = ws.cell(header_row + 1, 2)
    _print_setup(ws, header_row, width)
    if len(case.recipients) <= CHART_MAX_RECIPIENTS:
        _chart(book, ws, header_row, total_row, table)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _value(value):
    """A cell as Excel shows it: the notes joined (``Avstår``)."""
    return ", ".join(value) if isinstance(value, tuple) else value


def _area_headings(ws, table: Table, row: int, widths: list[float]) -> None:
    """Each area's name above its columns, merged across them and wrapped within them, so that a printed
    heading never runs over its neighbour or is cut off (``widths`` grow to hold the longest word)."""
    from openpyxl.styles import Alignment, Font

    start, lines = 1, 1
    for area, span in table.area_spans():
        if area:
            columns = range(start - 1, start - 1 + span)
            longest_word = max(len(word) for word in area.split()) * BOLD_WIDTH + 2
            if sum(widths[c] for c in columns) < longest_word:
                widths[columns[-1]] += longest_word - sum(widths[c] for c in columns)
            room = sum(widths[c] for c in columns) - 2
            lines = max(lines, _wrapped_lines(area, room / BOLD_WIDTH))
            cell = put(ws, row, start, area)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="bottom", wrap_text=True)
            if span > 1:
                ws.merge_cells(start_row=row, start_column=start, end_row=row, end_column=start + span - 1)
        start += span
    ws.row_dimensions[row].height = 15 * lines


def _wrapped_lines(text: str, characters: float) -> int:
    """How many lines ``text`` takes wrapped at word boundaries in ``characters`` per line."""
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > characters:
            lines, used = lines + 1, len(word)
        else:
            used += len(word) + (1 if used else 0)
    return lines


def _prose_row(ws, row: int, text: str, width: int, characters: float) -> None:
    """A sentence across the table's width, wrapped, its row tall enough for the lines it needs."""
    from openpyxl.styles import Alignment

    put(ws, row, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
    if width > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    lines = max(1, -(-len(text) * 11 // (10 * max(int(characters), 20))))
    ws.row_dimensions[row].height = 15 * lines


def _print_setup(ws, header_row: int, width: int) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if width > 5 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row - 1 if header_row > TITLE_ROWS + 1 else header_row}:{header_row}"
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.oddFooter.center.text = "Sida &P av &N"
    ws.oddHeader.left.text = "&A"


def _chart(book, ws, header_row: int, total_row: int, table: Table) -> None:
    """A native bar chart of each recipient's total, on its own sheet."""
    from openpyxl.chart import BarChart, Reference

    total_col = next(i for i, c in enumerate(table.columns, start=1) if c.kind == TOTAL)
    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = "Totalt per mottagare, kr"
    chart.legend = None
    chart.y_axis.numFmt = AMOUNT_FORMAT
    chart.y_axis.majorGridlines = None
    chart.x_axis.scaling.orientation = "maxMin"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    data = Reference(ws, min_col=total_col, min_row=header_row, max_row=total_row - 1)
    names = Reference(ws, min_col=1, min_row=header_row + 1, max_row=total_row - 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(names)
    chart.width = CHART_WIDTH_CM
    chart.height = max(8, 0.6 * (total_row - header_row - 1) + 3)
    sheet = book.create_sheet("Diagram")
    sheet.add_chart(chart, "A1")
    _chart_print_setup(sheet, chart.height)


def _chart_print_setup(sheet, height_cm: float) -> None:
    """Print the chart alone, on A4: one landscape page when it is low enough, else one page wide,
    so that a sliver of it never spills onto a page of its own."""
    from openpyxl.utils import get_column_letter

    columns = math.ceil(CHART_WIDTH_CM / DEFAULT_COLUMN_CM) + 1
    rows = math.ceil(height_cm / DEFAULT_ROW_CM) + 1
    sheet.print_area = f"A1:{get_column_letter(columns)}{rows}"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    low = height_cm <= LANDSCAPE_MAX_CM
    sheet.page_setup.orientation = "landscape" if low else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 1 if low else 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.oddHeader.left.text = "&A"
    sheet.oddFooter.center.text = "Sida &P av &N"
