"""Returned reporting forms read back: each file checked as untrusted input, every problem located and told at once.

A form is a workbook a recipient filled in and sent back under any name, saved by Excel or
LibreOffice. It is read through the workbook reader's defences (``processor.workbook``: zip bombs,
XML entities, absurd sizes); a workbook with macros is refused outright. The very hidden sheet
says which case, recipient and round the form belongs to; the visible sheet is read by its labels
in column A, never by fixed rows, so a body may restyle its template. Problems are located
``Botkyrka.xlsx Redovisning!B9`` and end with the fix.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl.utils import get_column_letter

from processor import formats
from processor.errors import InputError, Problem
from processor.followup import LedgerEntry
from processor.ledger import PAID
from processor.reporting_form import FORM_SHEET, IDENTITY_SHEET, USED_LABEL, VALUE_COLUMN, FormIdentity, label_key, label_rows
from processor.swedish import did_you_mean, norm
from processor.validate.cells import as_kronor, as_text, quoted, unusable, value_at
from processor.validate.checker import Checker
from processor.workbook import read_workbook

LOCK_PREFIXES = ("~$", ".~lock.")
"""An office suite's lock file beside a form it has open (Excel, LibreOffice): the form may not be saved yet."""
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})
"""Files Windows Explorer leaves in a folder, hidden there by an attribute rather than by a leading dot."""
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam")
MACRO_PART = "vbaproject.bin"
ASK_FOR_THE_FORM = "Be mottagaren fylla i blanketten som skickades ut och skicka den igen, eller ta bort filen ur mappen."


class FormsError(InputError):
    """The returned forms cannot be compiled (exit status 2): every problem in every form, each with its place."""

    def report_lines(self) -> list[str]:
        return [f"Blanketterna kan inte sammanställas: {len(self.problems)} fel att rätta. Inget har ändrats.",
                *(f"  {p}" for p in self.problems)]


@dataclass(frozen=True)
class ReturnedForm:
    """What one returned form says: whose it is, the amount used, each question's answer (None: unanswered)."""

    source: str
    recipient: str
    used: int
    answers: tuple[tuple[str, str | None], ...]
    round_name: str | None = None


def form_files(folder: Path) -> list[Path]:
    """The files of ``folder`` that may be forms, by name; hidden files are skipped, but not an office suite's lock files.

    InputError when the folder is missing or holds no file at all.
    """
    folder = Path(folder)
    if folder.is_file():
        raise FormsError([Problem(str(folder), "är en fil, inte en mapp. Lägg de inkomna redovisningsblanketterna i en "
                                               "mapp och ange mappen: processor sammanstall KÖRMAPP MAPP")])
    if not folder.is_dir():
        raise FormsError([Problem(str(folder), "mappen finns inte. Ange mappen där du har sparat de inkomna "
                                               "redovisningsblanketterna.")])
    files = sorted((p for p in folder.iterdir() if p.is_file() and _may_be_a_form(p.name)), key=lambda p: p.name)
    if not files:
        raise FormsError([Problem(str(folder), "mappen är tom. Spara de inkomna redovisningsblanketterna (.xlsx) där och "
                                               "kör igen.")])
    return files


def _may_be_a_form(name: str) -> bool:
    """Not a hidden file (``.DS_Store``, Windows' ``Thumbs.db``), but a lock file is kept: it is told, since its form
    may be unsaved."""
    return name.startswith(LOCK_PREFIXES) or not (name.startswith(".") or name.casefold() in SYSTEM_FILES)


def read_returned_forms(files: Sequence[Path], case_id: str, entries: Sequence[LedgerEntry]
                        ) -> tuple[list[ReturnedForm], list[Problem]]:
    """Every form read and checked against the case and the ledger's ``entries``; → the forms and the warnings.

    FormsError with every problem in every file (nothing is usable until all are mended).
    """
    check = Checker()
    by_name = {norm(e.name): e for e in entries}
    forms: list[ReturnedForm] = []
    identified: list[tuple[str, str]] = []
    for path in files:
        form = _read_form(Path(path), case_id, by_name, check, identified)
        if form is not None:
            forms.append(form)
    _check_one_form_each(identified, check)
    if check.errors:
        raise FormsError(check.errors)
    return forms, check.warnings


def _read_form(path: Path, case_id: str, by_name: dict[str, LedgerEntry], check: Checker,
               identified: list[tuple[str, str]]) -> ReturnedForm | None:
    """One form, or None when it has a problem (in ``check``); a form of the case adds (file, recipient) to
    ``identified`` even when its values are wrong, so two forms for one recipient are told at once."""
    name = path.name
    if name.startswith(LOCK_PREFIXES):
        check.error(name, "är en låsfil: en blankett i mappen är öppen i Excel eller LibreOffice. Spara och stäng den "
                          "och kör igen.")
        return None
    if path.suffix.lower() in MACRO_SUFFIXES:
        check.error(name, _macros(f"filen är en makroaktiverad Excel-arbetsbok ({path.suffix.lower()}), och en sådan "
                                  "blankett läses inte"))
        return None
    try:
        book = read_workbook(path, wanted={norm(FORM_SHEET), norm(IDENTITY_SHEET)})
    except InputError as error:
        for problem in error.problems:
            check.error(problem.where, f"{problem.message} Hör filen inte till redovisningen, ta bort den ur mappen.")
        return None
    if _has_macros(path):
        check.error(name, _macros("arbetsboken innehåller makron, och en blankett med makron läses inte"))
        return None
    sheets = {norm(s.title): s for s in book.sheets}
    hidden = sheets.get(norm(IDENTITY_SHEET))
    identity = FormIdentity.from_column([row[0] if row else None for row in hidden.rows]) if hidden else None
    if identity is None:
        check.error(name, "filen är ingen redovisningsblankett från processor (den saknar blankettens dolda "
                          f"identitet). {ASK_FOR_THE_FORM}")
        return None
    form_case, recipient, round_name = identity.case_id, identity.recipient, identity.round_name
    if form_case != case_id:
        sent = f" (utskicket redovisning/{round_name})" if round_name else ""
        check.error(name, f"blanketten hör till ett annat ärende, inte till den här körmappen: den skickades ut från en "
                          f"annan körmapp{sent}, kanske från en annan körning av samma arbetsbok. Sammanställ den med "
                          "den körmappen (processor sammanstall KÖRMAPP MAPP), eller ta bort den härifrån.")
        return None
    entry = by_name.get(norm(recipient or ""))
    if entry is None:
        check.error(name, f"blanketten är till {quoted(recipient)}, som inte är mottagare i ärendet."
                          f"{did_you_mean(recipient or '', [e.name for e in by_name.values()])} Ta bort filen ur mappen.")
        return None
    if entry.paid <= 0:
        check.error(name, f"{entry.name} har inte fått något utbetalt ({PAID} är 0 kr i uppfoljning.xlsx), så det finns "
                          f"inget att redovisa. Fyll i {PAID} i uppfoljning.xlsx om medlen är utbetalda, eller ta bort "
                          "filen ur mappen.")
        return None
    identified.append((name, entry.name))
    sheet = sheets.get(norm(FORM_SHEET))
    if sheet is None:
        check.error(name, f'bladet "{FORM_SHEET}" saknas.{did_you_mean(FORM_SHEET, list(book.titles))} Döp tillbaka '
                          f'bladet till "{FORM_SHEET}", eller {ASK_FOR_THE_FORM[0].lower()}{ASK_FOR_THE_FORM[1:]}')
        return None
    rows = label_rows((number, value_at(row, 0)) for number, row in enumerate(sheet.rows, start=1))
    used = _used(name, sheet, rows, entry, check)
    answers = []
    for question in identity.questions:
        row = rows.get(label_key(question))
        if row is None:
            check.error(f"{name} {sheet.title}", f"frågan {quoted(question)} saknas i kolumn A. Skriv tillbaka frågan "
                                                 f"precis som den stod, med svaret i kolumn B. {ASK_FOR_THE_FORM}")
            continue
        answer = as_text(value_at(sheet.rows[row - 1], VALUE_COLUMN - 1))
        if answer is None:
            check.warn(f"{name} {sheet.title}!{get_column_letter(VALUE_COLUMN)}{row}",
                       f"{entry.name} har inte svarat på frågan {quoted(question)}.")
        answers.append((question, answer))
    if used is None:
        return None
    return ReturnedForm(name, entry.name, used, tuple(answers), round_name)


def _used(name: str, sheet, rows: dict[str, int], entry: LedgerEntry, check: Checker) -> int | None:
    """``Använt belopp``: whole kronor, not blank, at most what was paid (a number typed as text is read, with a warning)."""
    row = rows.get(label_key(USED_LABEL))
    if row is None:
        check.error(f"{name} {sheet.title}", f'raden "{USED_LABEL}" saknas i kolumn A. Skriv tillbaka den, med beloppet i '
                                       f"kolumn B. {ASK_FOR_THE_FORM}")
        return None
    where = f"{name} {sheet.title}!{get_column_letter(VALUE_COLUMN)}{row}"
    cells = sheet.rows[row - 1]
    value = cells[VALUE_COLUMN - 1] if len(cells) >= VALUE_COLUMN else None
    if value is None:
        check.error(where, f"{USED_LABEL} är tomt. Fråga {entry.name} hur mycket av de {_kr(entry.paid)} som betalades "
                           "ut som har använts, skriv beloppet i hela kronor i cellen och spara blanketten.")
        return None
    if unusable(value):
        check.error(where, f"{USED_LABEL} har en formel utan värde eller ett fel i stället för ett belopp. Skriv "
                           "beloppet i hela kronor i cellen och spara blanketten.")
        return None
    used = as_kronor(value, where, check, USED_LABEL)
    if used is not None and used > entry.paid:
        check.error(where, f"{USED_LABEL} ({_kr(used)}) är mer än {entry.name} har fått utbetalt ({_kr(entry.paid)} "
                           f"enligt uppfoljning.xlsx). Rätta beloppet i blanketten (högst {_kr(entry.paid)}), eller "
                           f"{PAID} i uppfoljning.xlsx om det är fel där.")
        return None
    return used


def _has_macros(path: Path) -> bool:
    """A VBA project anywhere in the package (a macro workbook renamed to .xlsx)."""
    with zipfile.ZipFile(path) as package:
        return any(Path(name).name.lower() == MACRO_PART for name in package.namelist())


def _macros(refused: str) -> str:
    """Why a form that has, or may have, macros is refused, and the fix."""
    return (f"{refused} (makron kan vara skadlig kod). Be mottagaren spara blanketten som Excel-arbetsbok (.xlsx) "
            "utan makron och skicka den igen.")


def _check_one_form_each(identified: list[tuple[str, str]], check: Checker) -> None:
    first: dict[str, str] = {}
    for source, recipient in identified:
        earlier = first.setdefault(recipient, source)
        if earlier != source:
            check.error(source, f"{recipient} har redan en blankett i mappen ({earlier}). Behåll den som gäller och ta "
                                "bort den andra ur mappen.")


def _kr(value: int) -> str:
    return formats.kronor(value, nbsp=False)
