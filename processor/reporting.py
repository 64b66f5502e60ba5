"""``processor redovisning``: the reporting forms go out, one to every recipient that has been paid.

A reporting round is ``RUNDIR/redovisning/<YYYYMMDD>[_2…]/`` with ``blanketter/<recipient>.xlsx`` (the form,
``processor.reporting_form``) and ``utskick/<recipient>.eml`` carrying it, built hidden and renamed into
place whole; ``processor send`` delivers it with its own journal, like a reminder round, and skips whoever
has reported since. The questions are the workbook's own (``Frågor``, carried in ``fordelning.json``) or
seed 004's.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from processor.case_folder import REPORTING_DATES, CaseFolder, open_case_folder
from processor.checksums import Checksums, write_hashed
from processor.context import Shape, case_namespace
from processor.errors import Problem
from processor.followup import LedgerEntry
from processor.journal import AWAITS_HEADER, RECIPIENT_HEADER
from processor.mail import attachment_part, message_parts, no_sender, sender_of, subject_for, tidy_body
from processor.manifest import update_manifest
from processor.reporting_form import DEFAULT_QUESTIONS, FORM_TEMPLATE, FormIdentity, FormValues, check_template, fill_form
from processor.rundir import hidden_folder
from processor.sandbox import empty
from processor.template_files import TemplateSet
from processor.vocabulary import CASE_SHEET

FORMS_TEXT_TEMPLATE = "redovisning.txt"
SUBJECT_PREFIX = "Redovisning: "
AWAITS_REPORT = "redovisning"
"""``X-Processor-Awaits`` of a reporting form and of a reminder to report: the message waits for the report."""
REPORTING_RECIPIENT_SHAPE = Shape(("namn", "tilldelat", "utbetalt", "e_post"))
FORMS_SHAPE = Shape(("arende", "mottagare", "fragor", "blankett", "delredovisning", "slutredovisning", "dagens_datum"))


@dataclass(frozen=True)
class FormsRound:
    """The round written (None when no one has been paid), who got a form, who has no address (a form, no e-mail)."""

    folder: Path | None
    paid: list[LedgerEntry] = field(default_factory=list)
    unaddressed: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def questions_of(folder: CaseFolder) -> tuple[str, ...]:
    """The case's own questions (the workbook's ``Frågor``), else seed 004's."""
    return folder.case.questions or DEFAULT_QUESTIONS


def reporting_dates(folder: CaseFolder) -> dict[str, object]:
    """``delredovisning`` and ``slutredovisning`` for a template: the case's reporting dates, empty without ``År``."""
    dates = dict(folder.dates())
    return {label.lower(): dates.get(label) or empty(f"{label.lower()}en (fältet \"År\" på bladet {CASE_SHEET})",
                                                     label.lower())
            for label, _, _ in REPORTING_DATES}


def recipient_context(entry: LedgerEntry, emails: tuple[str, ...]):
    """``mottagare`` in the reporting templates: the name, what was allocated and paid, the addresses."""
    return REPORTING_RECIPIENT_SHAPE.make(namn=entry.name, tilldelat=entry.allocated, utbetalt=entry.paid,
                                          e_post="; ".join(emails))


def forms_context(folder: CaseFolder, entry: LedgerEntry, emails: tuple[str, ...], form_name: str,
                  today: dt.date) -> dict:
    """What ``redovisning.txt`` sees (docs/mallar.md, "Redovisningsblanketten")."""
    return vars(FORMS_SHAPE.make(arende=case_namespace(folder.case.info), mottagare=recipient_context(entry, emails),
                                 fragor=list(questions_of(folder)), blankett=form_name, dagens_datum=today,
                                 **reporting_dates(folder)))


def write_forms(run_dir: Path, today: dt.date, *, now: dt.datetime | None = None, cwd: Path | None = None) -> FormsRound:
    """A reporting round: a form for every recipient with ``Utbetalt`` > 0, an e-mail carrying it for each with an address.

    Everything (the ledger, the sender, the templates, every form and text) is made before anything is
    written: InputError, nothing written. No one paid: nothing written, ``folder`` None.
    """
    folder = open_case_folder(run_dir)
    entries, warnings = folder.read_ledger(today)
    paid = [e for e in entries if e.paid > 0]
    if not paid:
        return FormsRound(None, [], [], warnings)
    index = {r.name: i for i, r in enumerate(folder.case.recipients)}
    emails = {e.name: folder.case.recipients[index[e.name]].emails for e in paid}
    addressed = [e for e in paid if emails[e.name]]
    sender, _ = sender_of(folder.case)
    if addressed and not sender:
        raise no_sender(run_dir, "blanketterna kan inte skickas")
    templates = TemplateSet.for_run_folder(folder.case, cwd)
    template = templates.find(FORM_TEMPLATE)
    check_template(template.data, template.label)
    target = folder.layout.reporting_round(today)
    forms = {e.name: fill_form(template.data, template.label,
                               FormIdentity(folder.case_id, e.name, target.name, questions_of(folder)),
                               FormValues(folder.case.info.title, folder.reference, e.name, e.allocated, e.paid))
             for e in paid}
    allowed = set(FORMS_SHAPE.names)
    bodies = {e.name: tidy_body(templates.render_text(FORMS_TEXT_TEMPLATE, forms_context(
        folder, e, emails[e.name], folder.layout.form(index[e.name]).name, today), allowed)) for e in addressed}
    now = now or dt.datetime.now().astimezone()
    _publish(folder, target, forms, bodies, now)
    update_manifest(folder.layout.root, Checksums(folder.layout.root), "redovisning", now)
    return FormsRound(target, paid, [e.name for e in paid if not emails[e.name]], warnings)


def _publish(folder: CaseFolder, target: Path, forms: dict[str, bytes], bodies: dict[str, str], now: dt.datetime) -> None:
    """The forms and the messages carrying them written in a hidden folder, renamed into place whole as ``target``."""
    sender, sender_name = sender_of(folder.case)
    folder.layout.reporting.mkdir(exist_ok=True)
    with hidden_folder(folder.layout.reporting, "redovisning") as hidden:
        layout = folder.layout.moved(hidden)
        layout.forms.mkdir()
        layout.outbox.mkdir()
        for i, recipient in enumerate(folder.case.recipients):
            if recipient.name not in forms:
                continue
            write_hashed(layout.form(i), [forms[recipient.name]])
            if recipient.name in bodies:
                write_hashed(layout.message(i), message_parts(
                    sender=sender, sender_name=sender_name, to=recipient.emails,
                    subject=SUBJECT_PREFIX + subject_for(folder.case, recipient), body=bodies[recipient.name], date=now,
                    attachments=[attachment_part(forms[recipient.name], layout.form(i).name)],
                    headers={RECIPIENT_HEADER: " ".join(recipient.name.split()), AWAITS_HEADER: AWAITS_REPORT}))
        os.rename(hidden, target)


def forms_lines(round_: FormsRound) -> list[str]:
    """What ``processor redovisning`` prints: each form, who gets no e-mail, the summary and how to send."""
    from processor.formats import kronor

    if round_.folder is None:
        return ["Ingen har fått medel utbetalda (Utbetalt i uppfoljning.xlsx), så ingen ska redovisa ännu. Inget skrevs. "
                "Fyll i Utbetalt när medlen är utbetalda och kör kommandot igen."]
    lines = [f"  {e.name}: {kronor(e.paid, nbsp=False)} utbetalt" for e in round_.paid]
    lines += [f"Ingen e-postadress, blanketten skickas inte: {name}. Skicka {round_.folder}/blanketter/… på annat sätt, "
              "eller fyll i E-post för mottagaren i arbetsboken." for name in round_.unaddressed]
    total = sum(e.paid for e in round_.paid)
    mailed = len(round_.paid) - len(round_.unaddressed)
    forms = "Redovisningsblankett" if len(round_.paid) == 1 else "Redovisningsblanketter"
    lines += [f"{forms} till {len(round_.paid)} mottagare ({kronor(total, nbsp=False)} utbetalt) i {round_.folder}."]
    if mailed:
        lines.append(f"Granska dem och skicka de {mailed} e-postmeddelandena med: processor send {round_.folder}"
                     if mailed > 1 else f"Granska den och skicka e-postmeddelandet med: processor send {round_.folder}")
    return lines
