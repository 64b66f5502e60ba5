"""The optional ``Organisationsnummer`` column: ten digits with a valid check digit, each number once."""

from __future__ import annotations

import re
from collections.abc import Sequence

from processor.orgnr import org_number, org_number_problem
from processor.swedish import norm
from processor.validate.cells import as_text, quoted
from processor.validate.checker import Checker, cell
from processor.vocabulary import ORG_NUMBER_COL, RECIPIENT_SHEET

_LOOKALIKE = re.compile(r"^org(anisations)?[\s.-]*(nr|nummer)\.?$")


def read_org_number(value, where: str, name: str, check: Checker) -> str | None:
    """The recipient's number as ``NNNNNN-NNNN``; None when blank or wrong (then an error)."""
    text = as_text(value)
    if text is None:
        return None
    problem = org_number_problem(text)
    if problem is not None:
        check.error(where, f"organisationsnumret {quoted(text)} {problem} (mottagare {name}). Skriv mottagarens "
                           "organisationsnummer som det står i Bolagsverkets register, t.ex. 212000-0142, eller lämna "
                           "cellen tom.")
        return None
    return org_number(text)


def check_unique(rows: Sequence, column: int, check: Checker) -> None:
    """Two recipients with one number would make an e-invoice's recipient ambiguous."""
    first: dict[str, object] = {}
    for row in rows:
        if row.org_number is None:
            continue
        if row.org_number in first:
            other = first[row.org_number]
            check.error(cell(RECIPIENT_SHEET, column, row.row),
                        f"organisationsnumret {row.org_number} (mottagare {row.name}) står redan på rad {other.row} "
                        f"(mottagare {other.name}). Varje mottagare har sitt eget {ORG_NUMBER_COL.lower()}; rätta det "
                        "ena eller lämna cellen tom.")
        else:
            first[row.org_number] = row


def warn_lookalike(columns: dict[str, int], check: Checker) -> None:
    """``Orgnr`` or ``Org.nr`` would pass as any other column and never match an e-invoice; say so."""
    if ORG_NUMBER_COL in columns:
        return
    for column, c in columns.items():
        if _LOOKALIKE.match(norm(column)):
            check.warn(cell(RECIPIENT_SHEET, c, 1), f'kolumnen "{column}" ser ut att innehålla organisationsnummer men heter '
                                                    f'inte "{ORG_NUMBER_COL}", så numren används inte för att känna igen '
                                                    f'mottagarnas e-fakturor. Byt namn på rubriken till "{ORG_NUMBER_COL}".')
