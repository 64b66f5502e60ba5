"""What reading a workbook gives: sheets of exact values, and markers for cells that have none."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

EXCEL_SIGNIFICANT_DIGITS = 15


class Uncalculated:
    """A formula cell whose computed value is missing or was never computed by a spreadsheet program."""

    def __repr__(self) -> str:
        return "UNCALCULATED"


UNCALCULATED = Uncalculated()


@dataclass(frozen=True)
class ExcelError:
    """A cell showing an Excel error such as ``#REF!`` or ``#DIV/0!`` instead of a value."""

    code: str


CellValue = str | Decimal | bool | dt.datetime | dt.date | dt.time | Uncalculated | ExcelError | None


@dataclass(frozen=True)
class Sheet:
    """One worksheet as rows of values; ``rows[0]`` is spreadsheet row 1, ``row[0]`` column A.

    ``merged`` holds merged ranges (``C2:C16``) and ``hidden_rows`` the 1-based rows hidden or
    filtered away: both change what a user sees without changing what is read.
    """

    title: str
    rows: tuple[tuple[CellValue, ...], ...]
    merged: tuple[str, ...] = ()
    hidden_rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class Book:
    """The titles of every sheet (for suggestions) and the sheets that were read."""

    titles: tuple[str, ...]
    sheets: tuple[Sheet, ...]


@dataclass
class SheetBuilder:
    """A sheet while it is read: the values first, then what only the XML tells (markers, merges, hidden rows)."""

    title: str
    rows: list[tuple[CellValue, ...]]
    merged: list[str] = field(default_factory=list)
    hidden_rows: list[int] = field(default_factory=list)

    def put(self, r: int, c: int, marker: CellValue) -> None:
        """Set cell (r, c) (1-based) of a row that was read, padding the row if needed."""
        if not (1 <= r <= len(self.rows) and 1 <= c <= 16384):
            return
        cells = list(self.rows[r - 1])
        cells.extend([None] * (c - len(cells)))
        cells[c - 1] = marker
        self.rows[r - 1] = tuple(cells)

    def build(self) -> Sheet:
        """The finished sheet, without trailing blank rows."""
        end = len(self.rows)
        while end and not self.rows[end - 1]:
            end -= 1
        return Sheet(self.title, tuple(self.rows[:end]), tuple(self.merged), tuple(self.hidden_rows))


def excel_number(value: float | int) -> Decimal:
    """The decimal number Excel shows for a stored binary number (15 significant digits)."""
    if isinstance(value, int):
        return Decimal(value)
    exact = Decimal(format(value, f".{EXCEL_SIGNIFICANT_DIGITS}g"))
    return exact.normalize() if exact == exact.to_integral_value() else exact
