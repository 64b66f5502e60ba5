"""``fordelning.xlsx``: the distribution table as an administrator attaches it ("Bilaga 1").

Values, never formulas: text from the workbook is always written as text, so a name
beginning with ``=`` stays a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO

from processor import formats
from processor.describe import basis_word, footnote
from processor.model import KEY, Allocation, Case, PostResult

AMOUNT_FORMAT = "#,##0"
CHART_MAX_RECIPIENTS = 200
TITLE_ROWS = 3
APPENDIX_IN_LETTER_MAX = 100  # recipients: up to this many, each letter carries the whole table
APPENDIX_ATTACHED_MAX = 1_000  # recipients: up to this many, each e-mail carries fordelning.xlsx as well


@dataclass(frozen=True)
class Column:
    """One column of the table: a heading, the area above it, and how to get each row's value."""

    heading: str
    kind: str  # "name", "group", "basis", "post", "subtotal", "total", "note"
    area: str | None = None
    source: object = None


def appendix_title(case: Case) -> str:
    """``Bilaga 1: Fördelning av stimulansmedel …``, without doubling a title that already says so."""
    title = case.info.title
    if title.casefold().startswith("fördelning"):
        return f"Bilaga 1: {title}"
    return f"Bilaga 1: Fördelning av {basis_word(title)}"


def appendix_attached(case: Case) -> bool:
    """Whether each e-mail carries the appendix: beyond a thousand recipients the outbox would grow with their square."""
    return len(case.recipients) <= APPENDIX_ATTACHED_MAX


def area_groups(allocation: Allocation) -> list[tuple[str | None, list[PostResult]]]:
    """Posts grouped by area, areas in order of first appearance, posts in workbook order."""
    groups: dict[str | None, list[PostResult]] = {}
    for result in allocation.posts:
        groups.setdefault(result.post.area, []).append(result)
    return list(groups.items())


def basis_columns(case: Case) -> list[str]:
    """The basis columns any key uses, in the order the posts first name them."""
    seen: list[str] = []
    for post in case.posts:
        if post.method == KEY:
            seen.extend(p.column for p in post.key if p.column not in seen)
    return seen


def table_columns(case: Case, allocation: Allocation) -> list[Column]:
    columns = [Column("Mottagare", "name")]
    if any(r.group for r in case.recipients):
        columns.append(Column("Grupp", "group"))
    columns.extend(Column(c, "basis", source=c) for c in basis_columns(case))
    if len(allocation.posts) > 1:
        for area, results in area_groups(allocation):
            columns.extend(Column(r.post.name, "post", area, r) for r in results)
            if area and len(results) > 1:
                columns.append(Column(f"Summa {area}", "subtotal", area, results))
    columns.append(Column("Totalt", "total"))
    if any(not r.participates for r in case.recipients):
        columns.append(Column("Anmärkning", "note"))
    return columns


def cell_value(column: Column, case: Case, allocation: Allocation, index: int):
    recipient = case.recipients[index]
    if column.kind == "name":
        return recipient.name
    if column.kind == "group":
        return recipient.group
    if column.kind == "basis":
        return recipient.bases.get(column.source)
    if column.kind == "post":
        return column.source.shares.get(index)
    if column.kind == "subtotal":
        shares = [r.shares[index] for r in column.source if index in r.shares]
        return sum(shares) if shares else None
    if column.kind == "total":
        return allocation.totals[index]
    return "Avstår" if not recipient.participates else None


def total_value(column: Column, case: Case, allocation: Allocation):
    if column.kind == "name":
        return "Totalt"
    if column.kind == "basis":
        return sum((r.bases.get(column.source, Decimal(0)) for r in case.recipients if r.participates), Decimal(0))
    if column.kind == "post":
        return column.source.amount
    if column.kind == "subtotal":
        return sum(r.amount for r in column.source)
    if column.kind == "total":
        return allocation.total
    return None


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


def appendix_xlsx(case: Case, allocation: Allocation) -> bytes:
    """The appendix workbook as bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = "Bilaga 1"
    columns = table_columns(case, allocation)
    width = len(columns)
    put(ws, 1, 1, appendix_title(case)).font = Font(bold=True, size=14)
    ws.row_dimensions[1].height = 20
    money = f"Att fördela: {formats.kronor(case.info.total)}"
    if case.info.carried_over:
        money += (f", varav {formats.kronor(case.info.grant)} för året och {formats.kronor(case.info.carried_over)} "
                  "överfört från tidigare år")
    put(ws, 2, 1, money + ". Belopp i kronor.")

    has_areas = any(c.area for c in columns)
    header_row = TITLE_ROWS + (2 if has_areas else 1)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DCE6F1")
    thin = Side(style="thin", color="808080")
    if has_areas:
        start = None
        for i, column in enumerate(columns + [Column("", "end")], start=1):
            previous = columns[i - 2].area if i > 1 else None
            if start is not None and column.area != previous:
                put(ws, header_row - 1, start, previous).font = bold
                ws.cell(header_row - 1, start).alignment = Alignment(horizontal="center")
                if i - 1 > start:
                    ws.merge_cells(start_row=header_row - 1, start_column=start, end_row=header_row - 1, end_column=i - 1)
                start = None
            if column.area and start is None:
                start = i
    for c, column in enumerate(columns, start=1):
        cell = put(ws, header_row, c, column.heading)
        cell.font = bold
        cell.fill = fill
        cell.border = Border(bottom=thin)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom",
                                   horizontal="left" if column.kind in ("name", "group", "note") else "right")
    formats_by_column = [basis_format(case, c.source) if c.kind == "basis" else AMOUNT_FORMAT for c in columns]
    row = header_row
    for index in range(len(case.recipients)):
        row += 1
        for c, column in enumerate(columns, start=1):
            put(ws, row, c, cell_value(column, case, allocation, index), formats_by_column[c - 1])
    row += 1
    total_row = row
    for c, column in enumerate(columns, start=1):
        cell = put(ws, row, c, total_value(column, case, allocation), formats_by_column[c - 1])
        cell.font = bold
        cell.border = Border(top=thin, bottom=Side(style="double", color="808080"))
    widths = []
    for c, column in enumerate(columns, start=1):
        longest = max([max(len(w) for w in column.heading.split()) + 2] +
                      [len(str(ws.cell(r, c).value or "")) for r in range(header_row + 1, total_row + 1)][:2000])
        widths.append(min(max(longest + 3, 10), 45))
        ws.column_dimensions[get_column_letter(c)].width = widths[-1]
    row += 1
    for line in footnote(case, allocation):
        row += 1
        _prose_row(ws, row, line, width, sum(widths))
    ws.freeze_panes = ws.cell(header_row + 1, 2)
    _print_setup(ws, header_row, width)
    if len(case.recipients) <= CHART_MAX_RECIPIENTS:
        _chart(book, ws, header_row, total_row, columns, case)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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


def _chart(book, ws, header_row: int, total_row: int, columns: list[Column], case: Case) -> None:
    """A native bar chart of each recipient's total, on its own sheet."""
    from openpyxl.chart import BarChart, Reference

    total_col = next(i for i, c in enumerate(columns, start=1) if c.kind == "total")
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
    chart.width = 17
    chart.height = max(8, 0.6 * len(case.recipients) + 3)
    sheet = book.create_sheet("Diagram")
    sheet.add_chart(chart, "A1")
