"""The ``Mottagare`` sheet: one recipient per row, with address, group, answer and basis columns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from processor import formats
from processor.swedish import closest, did_you_mean, norm
from processor.validate.cells import CONTROL, as_text, blank_row, email_addresses, plain_number, quoted, unusable, value_at
from processor.validate.checker import Checker, cell
from processor.validate.org_numbers import check_unique, read_org_number, warn_lookalike
from processor.validate.sheets import has_header, header, header_below
from processor.vocabulary import (
    EMAIL_COL, GROUP_COL, NAME_COL, NO, ORG_NUMBER_COL, PARTICIPATES_COL, RECIPIENT_SHEET, RESERVED_COLUMNS, TOTAL_FIRST_WORDS,
    TOTAL_ROW_NAMES, YES, YES_NO_WORDS,
)
from processor.workbook import Sheet


@dataclass
class RecipientRow:
    """One recipient's row; ``answer_where`` names its ``Deltar`` cell when the answer could not be read."""

    name: str
    row: int
    emails: tuple[str, ...]
    group: str | None
    participates: bool
    values: dict[str, object] = field(default_factory=dict)
    answer_where: str | None = None
    org_number: str | None = None


@dataclass
class RecipientTable:
    """The ``Mottagare`` sheet before the posts say which columns are bases.

    When the sheet cannot be read, the table is empty and ``blocked_by`` names the error:
    the posts are still read, and what needs the recipients waits for that error.
    """

    columns: dict[str, int]
    rows: list[RecipientRow]
    groups: dict[str, list[int]]
    blocked_by: str | None = None

    @classmethod
    def unknown(cls, blocked_by: str) -> RecipientTable:
        return cls({}, [], {}, blocked_by)

    def column(self, text: str) -> str | None:
        """The header a user's word names, if any."""
        return next((c for c in self.columns if norm(c) == norm(text)), None)

    def basis_columns(self) -> list[str]:
        return [c for c in self.columns if c not in RESERVED_COLUMNS]


@dataclass
class _Rows:
    """The rows read so far: recipients, their names' rows, column sums and the totals rows set aside."""

    recipients: list[RecipientRow] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    sums: dict[str, Decimal] = field(default_factory=dict)
    totals_rows: list[tuple[int, tuple]] = field(default_factory=list)


def read_recipient_sheet(sheet: Sheet, check: Checker) -> RecipientTable:
    """The recipients' rows, each checked; totals rows compared with the column sums."""
    columns = _columns(sheet, check)
    if columns is None:
        return RecipientTable.unknown(f"{RECIPIENT_SHEET}!A1" if sheet.rows else RECIPIENT_SHEET)
    rows = _Rows()
    for r, raw in enumerate(sheet.rows[1:], start=2):
        if not blank_row(raw):
            _read_row(r, raw, columns, rows, check)
    _check_lookalike_columns(sheet, columns, check)
    if ORG_NUMBER_COL in columns:
        check_unique(rows.recipients, columns[ORG_NUMBER_COL], check)
    warn_lookalike(columns, check)
    if not rows.recipients:
        check.error(RECIPIENT_SHEET, "bladet har inga mottagare. Skriv en mottagare per rad under rubrikraden.")
        return RecipientTable.unknown(RECIPIENT_SHEET)
    for r, raw in rows.totals_rows:
        _compare_totals(r, raw, columns, rows.sums, check)
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows.recipients):
        if row.group:
            groups.setdefault(norm(row.group), []).append(i)
    return RecipientTable(columns, rows.recipients, groups)


def _columns(sheet: Sheet, check: Checker) -> dict[str, int] | None:
    """The header row's columns, or None (and an error) when there is no usable header with a name column."""
    if not sheet.rows:
        check.error(RECIPIENT_SHEET, "bladet är tomt. Skriv rubrikerna (Mottagare, E-post, Grupp, Deltar och underlagen) "
                                     "på rad 1 och en mottagare per rad under.")
        return None
    if not has_header(sheet.rows[0], (NAME_COL,)) and header_below(sheet, RECIPIENT_SHEET, (NAME_COL,), check):
        return None
    columns = header(sheet.rows[0], RECIPIENT_SHEET, check)
    if columns is None:
        return None
    if NAME_COL not in columns:
        first_text = next((c for c in columns if c not in RESERVED_COLUMNS), None)
        fix = f'{did_you_mean(NAME_COL, list(columns))} Skriv "{NAME_COL}" som rubrik över mottagarnas namn.'
        if not did_you_mean(NAME_COL, list(columns)) and first_text:
            fix = f' Är kolumnen "{first_text}" mottagarna? Döp i så fall om rubriken till "{NAME_COL}".'
        check.error(cell(RECIPIENT_SHEET, 0, 1), f'kolumnen "{NAME_COL}" saknas på rad 1.{fix}')
        return None
    return columns


def _read_row(r: int, raw: tuple, columns: dict[str, int], rows: _Rows, check: Checker) -> None:
    """One non-blank row: a recipient, a totals row set aside, or an error."""
    name = as_text(value_at(raw, columns[NAME_COL]))
    where = cell(RECIPIENT_SHEET, columns[NAME_COL], r)
    if name is None:
        check.error(where, f"raden har värden men inget namn på mottagaren. Skriv namnet i kolumn {NAME_COL}, "
                           f"eller töm raden.{_totals_hint(raw)}")
        return
    key = norm(name)
    if key in TOTAL_ROW_NAMES:
        rows.totals_rows.append((r, raw))
        return
    if _looks_like_totals(name, where, check):
        return
    if key in rows.seen:
        check.error(where, f'mottagaren "{name}" finns redan på rad {rows.seen[key]}. '
                           "Varje mottagare får bara stå en gång; slå ihop raderna eller ge dem olika namn.")
        return
    rows.seen[key] = r
    if CONTROL.search(name):
        check.error(where, f"mottagarens namn {quoted(name)} innehåller en radbrytning eller ett osynligt styrtecken, "
                           "men namnet hamnar i e-postens ämne och i filnamn. Skriv namnet på en rad.")
    rows.recipients.append(_recipient_row(name, r, raw, columns, check))
    for column, c in columns.items():
        number = None if column in RESERVED_COLUMNS else plain_number(value_at(raw, c))
        if number is not None:
            rows.sums[column] = rows.sums.get(column, Decimal(0)) + number


def _totals_hint(raw: tuple) -> str:
    """A row with only numbers, or a totals word in another column, is most likely a totals row."""
    values = [v for v in raw if v is not None and not unusable(v)]
    texts = [norm(as_text(v)) for v in values if not isinstance(v, Decimal)]
    if values and (not texts or any(t in TOTAL_ROW_NAMES for t in texts)):
        return f' Är det en summarad? Skriv då "Summa" i kolumn {NAME_COL}.'
    return ""


def _looks_like_totals(name: str, where: str, check: Checker) -> bool:
    """A totals row labelled a little differently must not pass as a recipient (and take money)."""
    words = re.findall(r"\w+", norm(name))
    if words and (" ".join(words) in TOTAL_ROW_NAMES or words[0] in TOTAL_FIRST_WORDS):
        check.error(where, f'"{name}" ser ut som en summarad men skulle räknas som mottagare. Skriv bara "Summa" i kolumn '
                           f"{NAME_COL} för en summarad (den jämförs då med kolumnernas summor), eller ta bort raden.")
        return True
    return False


def _check_lookalike_columns(sheet: Sheet, columns: dict[str, int], check: Checker) -> None:
    """Answers or addresses under another heading than ``Deltar`` or ``E-post`` would silently be ignored."""
    if PARTICIPATES_COL in columns and EMAIL_COL in columns:
        return  # both headings are there: nothing can be under another one unnoticed
    for column, c in columns.items():
        if column in RESERVED_COLUMNS:
            continue
        values = [value_at(raw, c) for raw in sheet.rows[1:]]
        texts = [norm(as_text(v)) for v in values if v is not None]
        where = cell(RECIPIENT_SHEET, c, 1)
        if PARTICIPATES_COL not in columns and texts and set(texts) <= YES_NO_WORDS and set(texts) & NO:
            message = (f'kolumnen "{column}" har svaren {", ".join(sorted({as_text(v) for v in values if v is not None}))} '
                       f'men heter inte "{PARTICIPATES_COL}", så alla mottagare räknas som deltagande. Byt namn på rubriken till '
                       f'"{PARTICIPATES_COL}" om Nej betyder att mottagaren avstår.')
            if closest(column, [PARTICIPATES_COL]):
                check.error(where, message)
            else:
                check.warn(where, message)
        elif EMAIL_COL not in columns and texts and all("@" in t for t in texts):
            check.warn(where, f'kolumnen "{column}" har e-postadresser men heter inte "{EMAIL_COL}", så de används inte för '
                              f'utskicket. Byt namn på rubriken till "{EMAIL_COL}".')


def _recipient_row(name: str, r: int, raw: tuple, columns: dict[str, int], check: Checker) -> RecipientRow:
    emails = email_addresses(value_at(raw, columns.get(EMAIL_COL)), cell(RECIPIENT_SHEET, columns.get(EMAIL_COL, 0), r),
                             check, f"mottagare {name}")
    group = as_text(value_at(raw, columns.get(GROUP_COL)))
    participates = True
    answer_where = None
    answer = value_at(raw, columns.get(PARTICIPATES_COL))
    if answer is not None:
        word = norm(as_text(answer))
        if word in NO:
            participates = False
        elif word not in YES:
            answer_where = cell(RECIPIENT_SHEET, columns[PARTICIPATES_COL], r)
            check.error(answer_where, f'{PARTICIPATES_COL} ska vara "Ja" eller "Nej", inte {quoted(answer)} (mottagare {name}). '
                                      "Skriv Ja, Nej eller lämna tomt (= Ja).")
    values = {c: value_at(raw, i) for c, i in columns.items() if c not in RESERVED_COLUMNS}
    org_where = cell(RECIPIENT_SHEET, columns.get(ORG_NUMBER_COL, 0), r)
    org_number = read_org_number(value_at(raw, columns.get(ORG_NUMBER_COL)), org_where, name, check)
    return RecipientRow(name, r, emails, group, participates, values, answer_where, org_number)


def _compare_totals(r: int, raw: tuple, columns: dict[str, int], sums: dict[str, Decimal], check: Checker) -> None:
    """A totals row's numbers against the column sums (real inputs disagree; say so)."""
    for column, c in columns.items():
        stated = plain_number(value_at(raw, c))
        if column in RESERVED_COLUMNS or stated is None:
            continue
        actual = sums.get(column, Decimal(0))
        if stated != actual:
            check.warn(cell(RECIPIENT_SHEET, c, r),
                       f"summaraden anger {formats.number(stated, nbsp=False)} men kolumnen {column} summerar till "
                       f"{formats.number(actual, nbsp=False)} (skillnad {formats.number(actual - stated, nbsp=False)}). "
                       "Summaraden används inte i beräkningen; kontrollera underlaget.")
