"""Collecting problems: every error and warning, each with its cell, none said twice."""

from __future__ import annotations

from openpyxl.utils import get_column_letter

from processor.errors import Problem
from processor.swedish import norm
from processor.vocabulary import SHEETS
from processor.workbook import UNCALCULATED, ExcelError, Sheet


class Checker:
    """Collects errors and warnings.

    A cell that cannot be read at all (a formula without a value) is named once, not
    again by every rule that finds it blank. A check whose input is broken is not made
    (it would only add confusing follow-up errors); ``postpone`` says so in the error
    that broke it.
    """

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self._blocked: set[str] = set()
        self._seen: set[Problem] = set()  # the errors already told, so a sheet of broken cells is not quadratic

    def error(self, where: str, message: str) -> None:
        problem = Problem(where, message)
        if where in self._blocked or problem in self._seen:
            return
        self._seen.add(problem)
        self.errors.append(problem)

    def postpone(self, blocking: str, what: str) -> None:
        """Add to the error at ``blocking`` that ``what`` is checked once it is mended."""
        note = f"{what[0].upper()}{what[1:]} kontrolleras när detta är rättat."
        index = next((i for i, p in enumerate(self.errors) if p.where == blocking), None)
        if index is None:
            self.errors.append(Problem(blocking, note))
            self._seen.add(self.errors[-1])
        elif note not in self.errors[index].message:
            self._seen.discard(self.errors[index])
            self.errors[index] = Problem(blocking, f"{self.errors[index].message} {note}")
            self._seen.add(self.errors[index])

    def warn(self, where: str, message: str) -> None:
        self.warnings.append(Problem(where, message))

    def unusable_cells(self, sheet: Sheet) -> None:
        """Formula cells without a computed value and cells showing Excel errors, wherever they are in a sheet we read."""
        canonical = canonical_sheet(sheet.title)
        for r, row in enumerate(sheet.rows, start=1):
            for c, value in enumerate(row):
                if value is UNCALCULATED:
                    message = ("cellen har en formel utan beräknat värde (filen har sparats av ett program som inte "
                               "räknar ut formler). Öppna filen i Excel (eller LibreOffice Calc) och spara den igen.")
                elif isinstance(value, ExcelError):
                    message = (f"cellen visar felet {value.code} i stället för ett värde. Rätta formeln i Excel, "
                               "eller skriv in värdet, och spara igen.")
                else:
                    continue
                where = cell(canonical, c, r)  # named only for a broken cell: most cells are sound
                self.error(where, message)
                self._blocked.add(where)


def canonical_sheet(title: str) -> str:
    """A known sheet's name as the format spells it, whatever case or spaces the user typed."""
    return next((s for s in SHEETS if norm(s) == norm(title)), title)


def cell(sheet: str, col: int, row: int) -> str:
    """``Mottagare!C7`` from a 0-based column and a 1-based row."""
    return f"{sheet}!{get_column_letter(col + 1)}{row}"
