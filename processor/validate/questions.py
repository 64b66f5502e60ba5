"""The ``Frågor`` sheet: the body's own questions for the reporting form, one per row in column A."""

from __future__ import annotations

from processor.reporting_form import (CONTACT_LABEL, DATE_LABEL, FILLED_LABELS, MAX_QUESTION_LENGTH, MAX_QUESTIONS,
                                      QUESTION_LABEL, USED_LABEL, label_key)
from processor.swedish import norm
from processor.validate.cells import as_text, value_at
from processor.validate.checker import Checker, cell
from processor.vocabulary import QUESTION_COL, QUESTION_SHEET
from processor.workbook import Sheet

_FORM_LABELS = {label_key(label) for label in (*FILLED_LABELS, USED_LABEL, QUESTION_LABEL, CONTACT_LABEL, DATE_LABEL)}


def read_question_sheet(sheet: Sheet, check: Checker) -> tuple[str, ...]:
    """The questions in order, under an optional header ``Fråga``; blank rows skipped.

    A question is found on a returned form by its text, so two alike, or one named like an item the
    program fills in, would be ambiguous: errors.
    """
    questions: list[str] = []
    seen: dict[str, int] = {}
    asked = 0
    for r, row in enumerate(sheet.rows, start=1):
        text = as_text(value_at(row, 0))
        if text is None or (r == 1 and norm(text) == norm(QUESTION_COL)):
            continue
        where = cell(QUESTION_SHEET, 0, r)
        asked += 1
        if len(text) > MAX_QUESTION_LENGTH:
            check.error(where, f"frågan är {len(text)} tecken lång; högst {MAX_QUESTION_LENGTH} ryms på blanketten. "
                               "Korta frågan, eller dela upp den på två rader.")
        elif label_key(text) in _FORM_LABELS:
            check.error(where, f'"{text}" är redan en rad på redovisningsblanketten. Skriv en fråga, eller ta bort raden.')
        elif label_key(text) in seen:
            check.error(where, f"frågan står redan på rad {seen[label_key(text)]}. Ta bort den ena.")
        elif len(questions) == MAX_QUESTIONS:
            check.error(where, f"högst {MAX_QUESTIONS} frågor ryms på redovisningsblanketten. Ta bort eller slå ihop frågor.")
        else:
            seen[label_key(text)] = r
            questions.append(text)
            asked = 0
    if not asked:
        check.warn(QUESTION_SHEET, f'bladet "{QUESTION_SHEET}" har inga frågor, så redovisningsblanketten får '
                                   "standardfrågorna. Skriv en fråga per rad i kolumn A, eller ta bort bladet.")
    return tuple(questions)
