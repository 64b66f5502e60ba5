"""``processor sammanstall``: a folder of returned reporting forms turned into the compiled report, the repayment
letters and an updated ledger, callable from Python.

Everything is read and checked first: the ledger, every form (all problems at once), both Word templates.
Then the compilation folder is written hidden in the run folder, the ledger's ``Använt`` and ``Redovisat``
cells are written (only where they change), and the folder is renamed into place whole as
``RUNDIR/sammanstallning/<YYYYMMDD>[_2…]/``. Any problem: exit 2, the hidden folder is removed, the ledger
untouched.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from processor import formats
from processor.case_folder import CaseFolder, open_case_folder
from processor.checksums import Checksums, write_hashed
from processor.compilation import CHANGED, Compilation, CompiledRow, compile_forms, record_forms
from processor.compilation_xlsx import compilation_xlsx
from processor.context import Shape, case_namespace
from processor.describe import count
from processor.documents import WordTemplate
from processor.errors import InputError, Problem, TemplateInputError
from processor.followup import LedgerEntry
from processor.ledger import REPORTED, USED, refuse_if_open, update_ledger
from processor.manifest import update_manifest
from processor.model import Case
from processor.returned_forms import FormsError, ReturnedForm, form_files, read_returned_forms
from processor.rundir import hidden_folder
from processor.sandbox import empty, word_environment
from processor.template_files import TemplateSet
from processor.vocabulary import DATE, REPAYMENT_DEADLINE, YEAR

COMPILATION_TEMPLATE = "sammanstallning.docx"
REPAYMENT_TEMPLATE = "aterbetalning.docx"
COMPILATION_SHAPE = Shape(("arende", "summa", "rader", "fragor", "ej_redovisat", "antal_redovisade",
                           "antal_blanketter", "aterbetalning_senast", "dagens_datum"))
TOTALS_SHAPE = Shape(("tilldelat", "utbetalt", "anvant", "att_aterbetala", "utbetalt_ej_redovisat"))
ROW_SHAPE = Shape(("namn", "tilldelat", "utbetalt", "anvant", "att_aterbetala", "redovisat"))
QUESTION_SHAPE = Shape(("fraga", "svar"))
ANSWER_SHAPE = Shape(("mottagare", "svar"))
REPAYMENT_SHAPE = Shape(("arende", "mottagare", "aterbetalning_senast", "dagens_datum"))
REPAYMENT_MONTH, REPAYMENT_DAY = 3, 31


@dataclass(frozen=True)
class CompilationResult:
    """The folder written, the compilation, the ledger cells written, and the warnings (ledger and forms)."""

    folder: Path
    compilation: Compilation
    written: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def repayment_deadline(case: Case, today: dt.date) -> dt.date:
    """``Återbetalning senast``; else 31 March of the year after ``År`` (or after the decision's ``Datum``);
    else the first 31 March from ``today``."""
    given = case.info.date(REPAYMENT_DEADLINE)
    if given is not None:
        return given
    text = str(case.info.fields.get(YEAR, "")).strip()
    decided = case.info.date(DATE)
    year = int(text) if text.isdigit() and 1900 < int(text) < 3000 else decided.year if decided is not None else None
    if year is not None:
        return dt.date(year + 1, REPAYMENT_MONTH, REPAYMENT_DAY)
    this_year = dt.date(today.year, REPAYMENT_MONTH, REPAYMENT_DAY)
    return this_year if today <= this_year else dt.date(today.year + 1, REPAYMENT_MONTH, REPAYMENT_DAY)


def compile_returned_forms(run_dir: Path, forms_folder: Path, today: dt.date, *, now: dt.datetime | None = None,
                           cwd: Path | None = None) -> CompilationResult:
    """Read every form in ``forms_folder``, record it in the ledger and write the compilation; → what was done.

    InputError (nothing changed) for an unusable ledger, any problem in any form, or a template problem.
    """
    folder = open_case_folder(run_dir)
    refuse_if_open(folder.layout)
    entries, warnings = folder.read_ledger(today)
    forms, form_warnings, templates = _forms_and_templates(folder, forms_folder, entries, cwd)
    updated, outcomes = record_forms(entries, forms, today)
    compilation = compile_forms(updated, forms, outcomes, today)
    deadline = repayment_deadline(folder.case, today)
    now = now or dt.datetime.now().astimezone()
    with hidden_folder(folder.layout.root, "sammanstallning") as hidden:
        _write(folder, compilation, templates, deadline, hidden)
        written = update_ledger(folder.layout, entries, updated, (USED, REPORTED))
        folder.layout.compilations.mkdir(exist_ok=True)
        target = folder.layout.compilation_folder(today)
        os.rename(hidden, target)
    update_manifest(folder.layout.root, Checksums(folder.layout.root), "sammanstall", now)
    return CompilationResult(target, compilation, written, [*warnings, *form_warnings])


def _forms_and_templates(folder: CaseFolder, forms_folder: Path, entries: Sequence[LedgerEntry], cwd: Path | None
                         ) -> tuple[list[ReturnedForm], list[Problem], dict[str, WordTemplate]]:
    """The forms read and the templates checked, the problems of both told at once (FormsError)."""
    problems: list[Problem] = []
    forms, warnings, templates = [], [], {}
    try:
        forms, warnings = read_returned_forms(form_files(forms_folder), folder.case_id, entries)
    except FormsError as error:
        problems += error.problems
    try:
        templates = _templates(folder.case, cwd)
    except TemplateInputError as error:
        if not problems:
            raise
        problems += error.problems
    if problems:
        raise FormsError(problems)
    return forms, warnings, templates


def _templates(case: Case, cwd: Path | None) -> dict[str, WordTemplate]:
    """Both Word templates found (as for every command on a run folder) and checked against the names each may use."""
    found = TemplateSet.for_run_folder(case, cwd)
    env = word_environment()
    loaded, problems = {}, []
    for name, shape in ((COMPILATION_TEMPLATE, COMPILATION_SHAPE), (REPAYMENT_TEMPLATE, REPAYMENT_SHAPE)):
        try:
            template = WordTemplate(found.find(name), env)
            template.check(letter=False, allowed=set(shape.names))
        except InputError as error:
            problems.extend(error.problems)
            continue
        loaded[name] = template
    if problems:
        raise TemplateInputError(problems)
    return loaded


def _write(folder: CaseFolder, compilation: Compilation, templates: dict[str, WordTemplate], deadline: dt.date,
           hidden: Path) -> None:
    """The compilation folder's files, in the hidden folder: the table, the report, a letter per repayment."""
    layout = folder.layout.moved(hidden)
    write_hashed(layout.compilation_workbook, [compilation_xlsx(compilation, folder.case.info.title)])
    report = templates[COMPILATION_TEMPLATE].render(compilation_context(folder.case, compilation, deadline))
    write_hashed(layout.compilation_document, [report])
    index = {r.name: i for i, r in enumerate(folder.case.recipients)}
    if compilation.repayments:
        layout.repayments.mkdir()
    for row in compilation.repayments:
        letter = templates[REPAYMENT_TEMPLATE].render(repayment_context(folder.case, row, deadline, compilation.today))
        write_hashed(layout.repayment_letter(index[row.entry.name]), [letter])


# --- what the templates see (docs/mallar.md, "Sammanställningen och återbetalningsbrevet") ---------------

def compilation_context(case: Case, compilation: Compilation, deadline: dt.date) -> dict:
    """What ``sammanstallning.docx`` sees."""
    totals = compilation.totals
    reported_with_forms = [r for r in compilation.reported if r.form is not None]
    questions = [QUESTION_SHAPE.make(fraga=q, svar=[ANSWER_SHAPE.make(mottagare=r.entry.name, svar=_answer(r, q))
                                                    for r in reported_with_forms])
                 for q in compilation.questions]
    context = COMPILATION_SHAPE.make(
        arende=case_namespace(case.info),
        summa=TOTALS_SHAPE.make(tilldelat=totals.allocated, utbetalt=totals.paid, anvant=totals.used,
                                att_aterbetala=totals.to_repay, utbetalt_ej_redovisat=totals.unreported_paid),
        rader=[_row(r) for r in compilation.rows], fragor=questions,
        ej_redovisat=[_row(r) for r in compilation.unreported], antal_redovisade=len(compilation.reported),
        antal_blanketter=len(compilation.outcomes), aterbetalning_senast=deadline, dagens_datum=compilation.today)
    return vars(context)


def repayment_context(case: Case, row: CompiledRow, deadline: dt.date, today: dt.date) -> dict:
    """What ``aterbetalning.docx`` sees: the case, the recipient's amounts, the date to repay by."""
    context = REPAYMENT_SHAPE.make(arende=case_namespace(case.info), mottagare=_row(row), aterbetalning_senast=deadline,
                                   dagens_datum=today)
    return vars(context)


def _row(row: CompiledRow):
    entry = row.entry
    if row.reported:
        return ROW_SHAPE.make(namn=entry.name, tilldelat=entry.allocated, utbetalt=entry.paid, anvant=entry.used,
                              att_aterbetala=row.to_repay, redovisat=entry.reported)
    def missing(what: str, word: str):
        return empty(f"{what} för {entry.name}, som inte har redovisat,", word)

    return ROW_SHAPE.make(namn=entry.name, tilldelat=entry.allocated, utbetalt=entry.paid,
                          anvant=missing("Använt", "anvant"), att_aterbetala=missing("Att återbetala", "att_aterbetala"),
                          redovisat=missing("Redovisat", "redovisat"))


def _answer(row: CompiledRow, question: str):
    answer = row.answer(question)
    return answer if answer is not None else empty(f"svaret från {row.entry.name} på frågan", "svar")


# --- what the command prints ---------------------------------------------------------------------------------

def compilation_lines(result: CompilationResult, run_dir: Path) -> list[str]:
    """Each form and what became of it, then the summary in kronor, who has not reported, and what to do next."""
    compilation = result.compilation
    lines = []
    for outcome in compilation.outcomes:
        form = outcome.form
        entry = next(r.entry for r in compilation.rows if r.entry.name == form.recipient)
        said = f"{form.source}: {form.recipient}, använt {_kr(form.used)} av {_kr(entry.paid)}"
        if outcome.result == CHANGED:
            said += f" (ändrat från {_kr(outcome.previous_used)})"
        said += f"; {outcome.result} i uppfoljning.xlsx."
        lines.append(said)
    totals = compilation.totals
    lines.append(f"Sammanställning av {count(len(compilation.outcomes), 'blankett', 'blanketter')} i {result.folder}.")
    lines.append(f"Redovisat: {len(compilation.reported)} mottagare. Utbetalt {_kr(totals.paid)}, använt {_kr(totals.used)}, "
                 f"att återbetala {_kr(totals.to_repay)} ({len(compilation.repayments)} återbetalningsbrev).")
    if compilation.unreported:
        names = ", ".join(r.entry.name for r in compilation.unreported)
        them = "den" if len(compilation.unreported) == 1 else "dem"
        lines.append(f"Har inte redovisat ({_kr(totals.unreported_paid)} utbetalt): {names}. Påminn {them} med: "
                     f"processor paminn {run_dir} --redovisning")
    lines += _answers_left_out(compilation)
    changed = len(result.written)
    lines.append(f"uppfoljning.xlsx: {count(changed, 'cell ändrad', 'celler ändrade')}." if changed else
                 "uppfoljning.xlsx: inget ändrat.")
    return lines


def _answers_left_out(compilation: Compilation) -> list[str]:
    """Who has reported (the ledger says so) but has no form in this folder: the report lacks their answers, which
    an administrator compiling a second batch from a new folder would not otherwise notice."""
    names = [r.entry.name for r in compilation.reported if r.form is None]
    if not names:
        return []
    their = "dess" if len(names) == 1 else "deras"
    return [f"Redovisat enligt uppfoljning.xlsx men utan blankett i mappen, så {their} svar saknas i sammanställningen: "
            f"{', '.join(names)}. Lägg {their} {'blankett' if len(names) == 1 else 'blanketter'} i mappen och kör igen, "
            "om svaren ska med."]


def _kr(value: int) -> str:
    return formats.kronor(value, nbsp=False)
