"""``processor paminn``: a reminder round for every recipient still waiting, and what ``send`` skips in one.

A round is ``RUNDIR/paminnelser/<YYYYMMDD>[_2…]/utskick/<recipient>.eml``, built hidden and renamed
into place whole, with its own journal once sent. Each message names its recipient in the header
``X-Processor-Recipient`` (and by its file name), and what it waits for in ``X-Processor-Awaits``
(none: the invoice; ``redovisning``: the report, with ``--redovisning``), so ``send`` can read the
ledger again and skip whoever has answered since the round was written. A reporting round
(``processor.reporting``) is skipped in the same way.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from processor.case_folder import CaseFolder, open_case_folder
from processor.checksums import Checksums, write_hashed
from processor.context import Shape, case_namespace
from processor.errors import InputError, Problem
from processor.followup import LATE, PAID, WAITING, RecipientStanding, case_standing
from processor.journal import AWAITS_HEADER, RECIPIENT_HEADER, MessageHeaders
from processor.layout import MESSAGE_SUFFIX, OUTBOX_DIR, RunLayout
from processor.mail import message_parts, no_sender, sender_of, subject_for, tidy_body
from processor.manifest import update_manifest
from processor.model import Case
from processor.reporting import AWAITS_REPORT, recipient_context, reporting_dates
from processor.rundir import hidden_folder
from processor.sandbox import empty
from processor.template_files import TemplateSet

REMINDER_TEMPLATE = "paminnelse.txt"
REPORT_REMINDER_TEMPLATE = "paminnelse-redovisning.txt"
SUBJECT_PREFIX = "Påminnelse: "
REPORT_SUBJECT_PREFIX = "Påminnelse om redovisning: "
REMINDED = (WAITING, LATE)
"""The statuses a reminder goes to; anyone else has answered (invoiced, declined, been paid, reported)."""
AWAITED = {"": REMINDED, AWAITS_REPORT: (PAID,)}
"""A message's ``X-Processor-Awaits`` → the statuses of a recipient still to answer it (paid, not reported: ``Utbetalt``)."""
REMINDER_SHAPE = Shape(("arende", "mottagare", "sista_dag_passerad", "dagar_kvar", "dagens_datum"))
REMINDER_RECIPIENT_SHAPE = Shape(("namn", "belopp", "e_post"))
REPORT_REMINDER_SHAPE = Shape(("arende", "mottagare", "delredovisning", "slutredovisning", "dagens_datum"))


@dataclass(frozen=True)
class ReminderRound:
    """The round written (None when no one was to be reminded), whom it reminds, who has no address."""

    folder: Path | None
    reminded: list[RecipientStanding] = field(default_factory=list)
    unaddressed: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    reporting: bool = False
    """A reminder to report (``--redovisning``) rather than to invoice."""


def reminder_context(case: Case, standing: RecipientStanding, emails: tuple[str, ...], deadline: dt.date | None,
                     today: dt.date) -> dict:
    """What ``paminnelse.txt`` sees (docs/mallar.md, "Påminnelsen")."""
    days = (deadline - today).days if deadline is not None else None
    recipient = REMINDER_RECIPIENT_SHAPE.make(namn=standing.entry.name, belopp=standing.entry.allocated,
                                              e_post="; ".join(emails))
    context = REMINDER_SHAPE.make(
        arende=case_namespace(case.info), mottagare=recipient, dagens_datum=today,
        sista_dag_passerad=days is not None and days < 0,
        dagar_kvar=days if days is not None and days >= 0 else empty("dagar kvar till Sista dag", "dagar_kvar"))
    return vars(context)


def report_reminder_context(folder: CaseFolder, standing: RecipientStanding, emails: tuple[str, ...],
                            today: dt.date) -> dict:
    """What ``paminnelse-redovisning.txt`` sees (docs/mallar.md, "Påminnelsen om redovisning")."""
    return vars(REPORT_REMINDER_SHAPE.make(arende=case_namespace(folder.case.info), dagens_datum=today,
                                           mottagare=recipient_context(standing.entry, emails), **reporting_dates(folder)))


def write_reminders(run_dir: Path, today: dt.date, *, reporting: bool = False, now: dt.datetime | None = None,
                    cwd: Path | None = None) -> ReminderRound:
    """Write a reminder round for everyone in ``Väntar`` or ``Försenad`` with an address (``reporting``: everyone
    paid who has not reported); → the round.

    Everything (the ledger, the sender, every message's text) is checked before anything is
    written: InputError, nothing written. No one to remind: nothing written, ``folder`` None.
    """
    folder = open_case_folder(run_dir)
    entries, warnings = folder.read_ledger(today)
    due = case_standing(entries, folder.deadline, today).with_status(*AWAITED[AWAITS_REPORT if reporting else ""])
    index = {r.name: i for i, r in enumerate(folder.case.recipients)}
    emails = {s.entry.name: folder.case.recipients[index[s.entry.name]].emails for s in due}
    reminded = [s for s in due if emails[s.entry.name]]
    unaddressed = [s.entry.name for s in due if not emails[s.entry.name]]
    if not reminded:
        return ReminderRound(None, [], unaddressed, warnings, reporting)
    sender, sender_name = sender_of(folder.case)
    if not sender:
        raise no_sender(run_dir, "inga påminnelser kan skrivas")
    templates = TemplateSet.for_run_folder(folder.case, cwd)
    if reporting:
        bodies = {s.entry.name: tidy_body(templates.render_text(
            REPORT_REMINDER_TEMPLATE, report_reminder_context(folder, s, emails[s.entry.name], today),
            set(REPORT_REMINDER_SHAPE.names))) for s in reminded}
    else:
        bodies = {s.entry.name: tidy_body(templates.render_text(
            REMINDER_TEMPLATE, reminder_context(folder.case, s, emails[s.entry.name], folder.deadline, today),
            set(REMINDER_SHAPE.names))) for s in reminded}
    now = now or dt.datetime.now().astimezone()
    target = _publish(folder, [index[s.entry.name] for s in reminded], bodies, today, now, reporting)
    update_manifest(folder.layout.root, Checksums(folder.layout.root), "paminn", now)
    return ReminderRound(target, reminded, unaddressed, warnings, reporting)


def _publish(folder: CaseFolder, indices: list[int], bodies: dict[str, str], today: dt.date, now: dt.datetime,
             reporting: bool) -> Path:
    """Recipient ``indices``' messages written in a hidden folder, renamed into place whole."""
    prefix = REPORT_SUBJECT_PREFIX if reporting else SUBJECT_PREFIX
    awaits = {AWAITS_HEADER: AWAITS_REPORT} if reporting else {}
    sender, sender_name = sender_of(folder.case)
    folder.layout.reminders.mkdir(exist_ok=True)
    with hidden_folder(folder.layout.reminders, "paminnelse") as hidden:
        layout = folder.layout.moved(hidden)
        layout.outbox.mkdir()
        for i in indices:
            recipient = folder.case.recipients[i]
            write_hashed(layout.message(i), message_parts(
                sender=sender, sender_name=sender_name, to=recipient.emails,
                subject=prefix + subject_for(folder.case, recipient), body=bodies[recipient.name], date=now,
                headers={RECIPIENT_HEADER: " ".join(recipient.name.split()), **awaits}))
        target = folder.layout.reminder_round(today)
        os.rename(hidden, target)
    return target


def answered_since(round_dir: Path, today: dt.date) -> dict[str, str]:
    """File name → its recipient, for each message of a round whose recipient has answered since (a reminder to
    invoice: invoiced, declined, been paid, reported; a form or a reminder to report: reported); {} for a folder
    that is no round.

    InputError when the case's ledger breaks a rule or a message is for no one in the ledger.
    """
    layout = RunLayout(Path(round_dir))
    run = layout.run_of_round()
    if run is None:
        return {}
    folder = open_case_folder(run)
    entries, _ = folder.read_ledger(today)
    status = {r.entry.name: r.status for r in case_standing(entries, folder.deadline, today).recipients}
    by_file = {folder.layout.message_name(i): r.name for i, r in enumerate(folder.case.recipients)}
    answered, problems = {}, []
    for path in sorted(layout.outbox.glob(f"*{MESSAGE_SUFFIX}")):
        headers = MessageHeaders.read(path)
        name = headers.recipient or by_file.get(path.name)
        where = f"{layout.root.parent.name}/{layout.root.name}/{OUTBOX_DIR}/{path.name}"
        if name not in status:
            problems.append(Problem(where, "meddelandet är inte till någon mottagare i uppfoljning.xlsx. Ta bort filen, "
                                           "eller skriv en ny omgång med processor paminn."))
        elif headers.awaits not in AWAITED:
            problems.append(Problem(where, f'meddelandet väntar på ett svar som programmet inte känner till ({AWAITS_HEADER}: '
                                           f'"{headers.awaits}"). Ta bort filen, eller skriv en ny omgång.'))
        elif status[name] not in AWAITED[headers.awaits]:
            answered[path.name] = f"{name} ({status[name]})"
    if problems:
        raise InputError(problems)
    return answered


def round_lines(round_: ReminderRound) -> list[str]:
    """What ``processor paminn`` prints: each recipient reminded, who has no address, and the summary."""
    from processor.formats import kronor

    lines = [f"Ingen e-postadress, ingen påminnelse: {name}. Fyll i E-post för mottagaren i arbetsboken, eller "
             "påminn på annat sätt." for name in round_.unaddressed]
    if round_.reporting:
        return lines + _report_round_lines(round_)
    if round_.folder is None:
        return [*lines, "Ingen att påminna: alla mottagare har rekvirerat, avstått eller saknar e-postadress. "
                        "Inget skrevs."]
    lines += [f"  {s.entry.name}: {kronor(s.entry.allocated, nbsp=False)} ({s.status})" for s in round_.reminded]
    total = sum(s.entry.allocated for s in round_.reminded)
    count = len(round_.reminded)
    lines += [f"Påminnelser till {count} mottagare ({kronor(total, nbsp=False)} ej rekvirerat) i {round_.folder}.",
              f"Granska dem och skicka dem med: processor send {round_.folder}"]
    return lines




def _report_round_lines(round_: ReminderRound) -> list[str]:
    from processor.formats import kronor

    if round_.folder is None:
        return ["Ingen att påminna om redovisning: alla som fått medel utbetalda har redovisat eller saknar "
                "e-postadress. Inget skrevs."]
    lines = [f"  {s.entry.name}: {kronor(s.entry.paid, nbsp=False)} utbetalt, ej redovisat" for s in round_.reminded]
    total = sum(s.entry.paid for s in round_.reminded)
    one = len(round_.reminded) == 1
    return [*lines, f"{'Påminnelse' if one else 'Påminnelser'} om redovisning till {len(round_.reminded)} mottagare "
                    f"({kronor(total, nbsp=False)} utbetalt) i {round_.folder}.",
            f"Granska {'den' if one else 'dem'} och skicka {'den' if one else 'dem'} med: processor send {round_.folder}"]
