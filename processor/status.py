"""``processor status``: where the case stands, from the ledger and the mail journal, callable from Python.

Writes ``status.html`` and keeps ``manifest.json`` true; the text printed is ``status_page.status_lines``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from processor.case_folder import FORMS_KIND, MAILING_KIND, REMINDER_KIND, CaseFolder, open_case_folder
from processor.checksums import Checksums
from processor.errors import Problem
from processor.followup import CaseStanding, case_standing
from processor.journal import read_journal
from processor.manifest import update_manifest
from processor.status_page import Mailing, status_lines, write_status_page


@dataclass(frozen=True)
class CaseStatus:
    """The case's standing, its dates, what went out, and the ledger's warnings."""

    standing: CaseStanding
    dates: list[tuple[str, dt.date]]
    mailings: list[Mailing]
    warnings: list[Problem] = field(default_factory=list)

    def lines(self) -> list[str]:
        return status_lines(self.standing, self.dates)


def case_status(run_dir: Path, today: dt.date, *, now: dt.datetime | None = None) -> CaseStatus:
    """Read the ledger and the journal, write ``status.html``, update the manifest; → the status.

    InputError (nothing written) when the ledger breaks a rule or the folder is not a run folder.
    """
    folder = open_case_folder(run_dir)
    entries, warnings = folder.read_ledger(today)
    status = CaseStatus(case_standing(entries, folder.deadline, today), folder.dates(), mailings(folder), warnings)
    layout = folder.layout
    checksums = Checksums(layout.root)
    checksums.add(layout.status, write_status_page(layout.status, status.standing, title=folder.case.info.title,
                                                   reference=folder.reference, dates=status.dates,
                                                   mailings=status.mailings))
    update_manifest(layout.root, checksums, "status", now or dt.datetime.now().astimezone())
    return status


def mailings(folder: CaseFolder) -> list[Mailing]:
    """Each message of the outbox and of every reminder and reporting round that a server accepted, at its first delivery,
    in time order.

    A time without a zone (a journal edited by hand) is taken as local time, so times compare.
    """
    layout = folder.layout
    names = {layout.message_name(i): r.name for i, r in enumerate(folder.case.recipients)}
    rounds = [(kind, layout.moved(p)) for kind, parent in ((REMINDER_KIND, layout.reminders), (FORMS_KIND, layout.reporting))
              if parent.is_dir() for p in sorted(parent.iterdir()) if p.is_dir() and not p.name.startswith(".")]
    sent = []
    for kind, outbox in [(MAILING_KIND, layout), *rounds]:
        for file, deliveries in read_journal(outbox.journal).items():
            times = [d.time if d.time.tzinfo else d.time.astimezone() for d in deliveries if d.time is not None]
            if file in names and times:
                sent.append(Mailing(min(times), kind, names[file], f"{layout.relative(outbox.outbox)}/{file}"))
    return sorted(sent, key=lambda m: (m.sent_at, m.recipient))
