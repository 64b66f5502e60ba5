"""Turn the workbook's sheets into a ``Case``, checking every rule of the format at once.

Every problem is collected with its location (``Mottagare!C7``) and a Swedish message
that ends with how to mend it; ``InputError`` carries them all. Warnings travel with the
case. The allocation engine can trust what comes out of here.

One module per sheet (``case_sheet``, ``recipients``, ``posts`` with ``keys`` and
``selection``, ``texts``, ``questions``), the cross-sheet checks in ``bases`` and ``totals``, and the
shared reading of cells (``cells``) and collecting of problems (``checker``).
"""

from __future__ import annotations

from pathlib import Path

from processor.errors import InputError
from processor.model import Case
from processor.swedish import norm
from processor.validate.bases import build_recipients
from processor.validate.case_sheet import CaseSheet, read_case_sheet
from processor.validate.checker import Checker
from processor.validate.hidden_totals import warn_hidden_totals
from processor.validate.posts import PostSheet, default_posts, read_model_sheet
from processor.validate.questions import read_question_sheet
from processor.validate.recipients import RecipientTable, read_recipient_sheet
from processor.validate.sheets import check_direction_marks, check_layout, check_sheet_names, distinct_sheets
from processor.validate.texts import read_text_sheet
from processor.validate.totals import check_amounts
from processor.vocabulary import CASE_FIELDS, KEY_FIELD, MODEL_SHEET, RECIPIENT_SHEET, SHEETS
from processor.workbook import Sheet, read_workbook

__all__ = ["CASE_FIELDS", "build_case", "load_case"]


def load_case(path: Path) -> Case:
    """Read and validate a workbook; raise ``InputError`` with every problem found."""
    path = Path(path)
    book = read_workbook(path, wanted={norm(s) for s in SHEETS})
    return build_case(book.sheets, path.parent, source=path.name, all_titles=book.titles)


def build_case(sheets: list[Sheet], base_dir: Path, source: str = "", all_titles: list[str] | None = None) -> Case:
    """The whole case from plain sheets; the rules, all at once."""
    check = Checker()
    found = distinct_sheets(sheets, check)
    titles = all_titles if all_titles is not None else [s.title for s in sheets]
    for sheet in found.values():
        check.unusable_cells(sheet)
        check_layout(sheet, check)
        check_direction_marks(sheet, check)
    check_sheet_names(found, titles, check)
    case_sheet, recipient_sheet, model_sheet, text_sheet, question_sheet = (found.get(norm(s)) for s in SHEETS)
    case = read_case_sheet(case_sheet, base_dir, check) if case_sheet else None
    table = read_recipient_sheet(recipient_sheet, check) if recipient_sheet else RecipientTable.unknown(RECIPIENT_SHEET)
    if model_sheet is not None and case is not None and case.key_text is not None:
        check.warn(case.key_where, f'fältet "{KEY_FIELD}" används inte, eftersom bladet "{MODEL_SHEET}" finns och varje post där '
                                   "har sin egen nyckel. Töm fältet för att slippa varningen.")
    posts = _posts(case, table, model_sheet, check)
    texts = read_text_sheet(text_sheet, check) if text_sheet else ()
    questions = read_question_sheet(question_sheet, check) if question_sheet else ()
    bases = build_recipients(table, posts.key_uses, check)
    if table.blocked_by is None:
        warn_hidden_totals(table, posts.key_uses, check)
    check_amounts(case or CaseSheet.unreadable(), table, posts, bases, check)
    if check.errors:
        raise InputError(check.errors)
    return Case(case.info, tuple(bases.recipients), tuple(p.post for p in posts.posts), tuple(texts),
                tuple(str(w) for w in check.warnings), source, questions)


def _posts(case: CaseSheet | None, table: RecipientTable, model_sheet: Sheet | None, check: Checker) -> PostSheet:
    """The posts of ``Fördelning``, or the default post by the case's key."""
    if model_sheet is not None:
        return read_model_sheet(model_sheet, table, check)
    if case is not None and case.readable:
        return default_posts(case, table, check)
    return PostSheet()
