"""The reporting form (redovisningsblankett): its layout, spelled once, and how one is filled in.

A contract between ``processor redovisning``, which fills in one form per paid recipient, and
``processor sammanstall``, which reads the returned ones. The visible sheet ``Redovisning`` is a
form: a title row, then one item a row, the label in column A and its value in column B. The
program's items (``Ärende`` … ``Utbetalt``) are filled in and locked; ``Använt belopp`` and each
question's answer are left for the recipient. A body may restyle its own ``redovisning.xlsx``:
every item is found by its label in column A, never by its row. The very hidden sheet
``processor`` identifies the form under any file name: A1 the format tag, A2 the case's id, A3
the recipient as the ledger names it, A4 the round folder, A5 downwards the questions in order
(each found on ``Redovisning`` by its text in column A, its answer beside it in B).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass

from processor.errors import InputError, Problem

FORM_TEMPLATE = "redovisning.xlsx"
FORM_SHEET = "Redovisning"
IDENTITY_SHEET = "processor"
FORMAT_TAG = "processor-redovisning 1"
LABEL_COLUMN, VALUE_COLUMN = 1, 2
"""Columns A and B of ``Redovisning``: the label, and the value or answer beside it."""
TAG_CELL, CASE_ID_CELL, RECIPIENT_CELL, ROUND_CELL = "A1", "A2", "A3", "A4"
FIRST_QUESTION_ROW = 5
"""On the identity sheet: the questions in column A from this row down, in the order they are asked."""

TITLE = "Redovisning av stimulansmedel"
CASE_LABEL = "Ärende"
REFERENCE_LABEL = "Diarienummer"
RECIPIENT_LABEL = "Mottagare"
ALLOCATED_LABEL = "Tilldelat"
PAID_LABEL = "Utbetalt"
USED_LABEL = "Använt belopp"
CONTACT_LABEL = "Kontaktperson"
DATE_LABEL = "Datum"
FILLED_LABELS = (CASE_LABEL, REFERENCE_LABEL, RECIPIENT_LABEL, ALLOCATED_LABEL, PAID_LABEL)
"""The items the program fills in (locked)."""
QUESTION_LABEL = "Fråga"
"""The template's one placeholder row for the questions: it becomes one row per question, styled like it."""
REQUIRED_LABELS = (*FILLED_LABELS, USED_LABEL, QUESTION_LABEL)

DEFAULT_QUESTIONS = (
    "Vilka insatser har genomförts med medlen?",
    "Vilka insatser planeras?",
    "Vilka utmaningar har ni identifierat för det fortsatta arbetet?",
    "Hur har jämställdhetsperspektivet belysts i de insatser som genomförts, och hur har de bidragit till "
    "det jämställdhetspolitiska delmålet jämställd hälsa?",
)
"""The reporting duties of Region Dalarna's 2020 memo (seed 004): genomförda och planerade insatser, identifierade
utmaningar, jämställdhetsperspektivet."""
MAX_QUESTIONS = 20
MAX_QUESTION_LENGTH = 500

AMOUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
ANSWER_HEIGHT = 120
"""Points: room for a few lines of answer in a question's row."""


def label_key(value: object) -> str:
    """A label as compared: spaces collapsed, case and a trailing colon ignored (``Använt belopp:``)."""
    return " ".join(str(value).split()).rstrip(":").strip().casefold() if value is not None else ""


def label_rows(column_a: Iterable[tuple[int, object]]) -> dict[str, int]:
    """(row, value) of column A → each label's first row, keyed by ``label_key``; a reader finds items and questions
    with it: ``rows[label_key(USED_LABEL)]``."""
    rows: dict[str, int] = {}
    for row, value in column_a:
        key = label_key(value)
        if key and key not in rows:
            rows[key] = row
    return rows


def sheet_label_rows(sheet) -> dict[str, int]:
    """``label_rows`` of an openpyxl worksheet."""
    return label_rows((cell.row, cell.value) for (cell,) in sheet.iter_rows(min_col=LABEL_COLUMN, max_col=LABEL_COLUMN))


@dataclass(frozen=True)
class FormIdentity:
    """What the hidden sheet says: whose form this is, in which case and round, and the questions asked."""

    case_id: str
    recipient: str
    round_name: str
    questions: tuple[str, ...]

    def column(self) -> list[str]:
        """The identity sheet's column A from A1 down."""
        return [FORMAT_TAG, self.case_id, self.recipient, self.round_name, *self.questions]

    @classmethod
    def from_column(cls, values: Sequence[object]) -> FormIdentity | None:
        """The identity in column A (A1 first); None when A1 is not this format's tag (not our form)."""
        cells = [None if v is None else str(v) for v in values]
        if not cells or (cells[0] or "").strip() != FORMAT_TAG or len(cells) < FIRST_QUESTION_ROW - 1:
            return None
        questions = tuple(q for q in cells[FIRST_QUESTION_ROW - 1:] if q and q.strip())
        return cls(cells[1] or "", cells[2] or "", cells[3] or "", questions)


def identity_of(book) -> FormIdentity | None:
    """The identity of an openpyxl workbook: None when it has no identity sheet or not this format's tag."""
    if IDENTITY_SHEET not in book.sheetnames:
        return None
    sheet = book[IDENTITY_SHEET]
    return FormIdentity.from_column([cell.value for (cell,) in sheet.iter_rows(min_col=LABEL_COLUMN, max_col=LABEL_COLUMN)])


@dataclass(frozen=True)
class FormValues:
    """The program's items of one recipient's form."""

    case: str
    reference: str | None
    recipient: str
    allocated: int
    paid: int


def build_template():
    """The shipped ``redovisning.xlsx`` as an openpyxl workbook (tools/build_templates.py saves it)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = FORM_SHEET
    sheet["A1"] = TITLE
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.row_dimensions[1].height = 24
    sheet["A2"] = "Fyll i de gula fälten, spara filen och skicka tillbaka den. Byt inte namn på raderna."
    sheet["A2"].font = Font(italic=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    top = Alignment(vertical="top", wrap_text=True)
    line = Side(style="thin", color="A6A6A6")
    rows = [*FILLED_LABELS, USED_LABEL, QUESTION_LABEL, CONTACT_LABEL, DATE_LABEL]
    for row, label in enumerate(rows, start=4):
        label_cell, value_cell = sheet.cell(row, LABEL_COLUMN, label), sheet.cell(row, VALUE_COLUMN)
        label_cell.font = Font(bold=label != QUESTION_LABEL)
        label_cell.alignment = value_cell.alignment = top
        value_cell.border = Border(left=line, right=line, top=line, bottom=line)
        sheet.row_dimensions[row].height = 18
        if label in (ALLOCATED_LABEL, PAID_LABEL, USED_LABEL):
            value_cell.number_format = AMOUNT_FORMAT
        if label in FILLED_LABELS:
            continue
        value_cell.protection = Protection(locked=False)
        value_cell.fill = fill
        if label == DATE_LABEL:
            value_cell.number_format = DATE_FORMAT
        if label == QUESTION_LABEL:
            sheet.row_dimensions[row].height = ANSWER_HEIGHT
    used = f"B{4 + rows.index(USED_LABEL)}"
    check = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                           showErrorMessage=True, errorTitle="Använt belopp",
                           error="Skriv det använda beloppet i hela kronor, utan kr och decimaler.")
    check.add(used)
    sheet.add_data_validation(check)
    sheet.column_dimensions["A"].width = 45
    sheet.column_dimensions["B"].width = 70
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.protection.sheet = True
    identity = book.create_sheet(IDENTITY_SHEET)
    identity[TAG_CELL] = FORMAT_TAG
    identity.sheet_state = "veryHidden"
    return book


def fill_form(template: bytes, label: str, identity: FormIdentity, values: FormValues) -> bytes:
    """One recipient's form from the template's bytes (``label``: how messages name the template)."""
    book = _open_template(template, label)
    sheet = book[FORM_SHEET]
    rows = sheet_label_rows(sheet)
    filled = dict(zip(FILLED_LABELS, (values.case, values.reference, values.recipient, values.allocated, values.paid)))
    for item, value in filled.items():
        sheet.cell(rows[label_key(item)], VALUE_COLUMN).value = value
    _ask(sheet, rows[label_key(QUESTION_LABEL)], identity.questions)
    if IDENTITY_SHEET in book.sheetnames:
        del book[IDENTITY_SHEET]
    hidden = book.create_sheet(IDENTITY_SHEET)
    for row, value in enumerate(identity.column(), start=1):
        hidden.cell(row, LABEL_COLUMN, value)
    hidden.sheet_state = "veryHidden"
    hidden.protection.sheet = True
    book.active = book.sheetnames.index(FORM_SHEET)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def check_template(template: bytes, label: str) -> None:
    """InputError (naming the template) when it is no workbook or lacks the sheet or a label the program writes by."""
    _open_template(template, label)


def _open_template(template: bytes, label: str):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(template))
    except Exception as error:  # openpyxl raises many types for a file that is no workbook
        raise InputError([Problem(label, f"mallen är ingen Excel-arbetsbok ({type(error).__name__}). Spara den som "
                                         "Excel-arbetsbok (.xlsx).")]) from error
    if FORM_SHEET not in book.sheetnames:
        raise InputError([Problem(label, f'mallen saknar bladet "{FORM_SHEET}". Byt namn på blanketten till '
                                         f'"{FORM_SHEET}" eller utgå från standardmallen (processor init).')])
    rows = sheet_label_rows(book[FORM_SHEET])
    missing = [item for item in REQUIRED_LABELS if label_key(item) not in rows]
    if missing:
        raise InputError([Problem(f"{label} {FORM_SHEET}!A", f'mallen saknar raden "{item}" i kolumn A. Skriv '
                                                             f'"{item}" i kolumn A där värdet ska stå i kolumn B.')
                          for item in missing])
    return book


def _ask(sheet, row: int, questions: Sequence[str]) -> None:
    """The placeholder row becomes one row per question, each styled like it; the rows below move down."""
    extra = len(questions) - 1
    if extra > 0:
        heights = {r: d.height for r, d in sheet.row_dimensions.items() if r > row and d.height is not None}
        sheet.insert_rows(row + 1, extra)
        for r in heights:
            sheet.row_dimensions[r].height = None
        for r, height in heights.items():
            sheet.row_dimensions[r + extra].height = height
        _move_validations(sheet, row, extra)
        _move_merged_cells(sheet, row, extra)
    elif extra < 0:
        sheet.delete_rows(row)
        return
    height = sheet.row_dimensions[row].height
    for offset, question in enumerate(questions):
        for column in (LABEL_COLUMN, VALUE_COLUMN):
            source, target = sheet.cell(row, column), sheet.cell(row + offset, column)
            if offset:
                target._style = copy(source._style)
        sheet.cell(row + offset, LABEL_COLUMN).value = question
        sheet.row_dimensions[row + offset].height = height


def _move_merged_cells(sheet, row: int, extra: int) -> None:
    """Merged cells below the placeholder follow their cells down (openpyxl's ``insert_rows`` leaves them, which would
    merge a new question's answer cell away)."""
    for merged in sheet.merged_cells.ranges:
        if merged.min_row > row:
            merged.shift(row_shift=extra)


def _move_validations(sheet, row: int, extra: int) -> None:
    """Data validations below the placeholder follow their cells down."""
    from openpyxl.worksheet.cell_range import CellRange

    for validation in sheet.data_validations.dataValidation:
        moved = []
        for cell_range in validation.sqref.ranges:
            shifted = CellRange(cell_range.coord)
            if shifted.min_row > row:
                shifted.shift(row_shift=extra)
            moved.append(shifted.coord)
        validation.sqref = " ".join(moved)
