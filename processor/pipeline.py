"""The batch, callable from Python: read → validate → allocate → write the run folder → manifest.

Everything is checked before anything is written; the run folder appears whole or not at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from processor.allocate import allocate
from processor.errors import InputError, Problem
from processor.model import Allocation, Case
from processor.validate import load_case
from processor.workbook import workbook_sha256

if TYPE_CHECKING:
    from processor.checksums import Checksums
    from processor.documents import LetterWriter
    from processor.mail import Outbox

Progress = Callable[[str], None]


@dataclass
class RunResult:
    """What a run made: the folder, the case and its allocation, the files written."""

    run_dir: Path
    case: Case
    allocation: Allocation
    files: list[str] = field(default_factory=list)


def check(workbook: Path) -> tuple[Case, Allocation]:
    """Validate and allocate without writing anything (``processor validate``).

    The case's warnings include what only the allocation shows: recipients with money and no address.
    """
    from processor.mail import outbox_warnings

    case = load_case(Path(workbook))
    allocation = allocate(case)
    warnings = (*case.warnings, *outbox_warnings(case, allocation))
    return dataclasses.replace(case, warnings=warnings), allocation


def run(workbook: Path, out_dir: Path = Path("output"), *, now: dt.datetime | None = None,
        progress: Progress = lambda message: None, pdf: bool = False) -> RunResult:
    """Run the whole batch for one workbook and return where the run folder landed (``pdf``: a PDF beside each document).

    With many recipients, the result files are made on the other core while the templates are checked.
    """
    # The writing stages are imported here, so that ``processor validate`` starts without them.
    from uuid import uuid4

    from processor.appendix import appendix_xlsx
    from processor.checksums import Checksums, file_sha256, write_hashed
    from processor.describe import count
    from processor.documents import find_office, prepare_documents
    from processor.layout import RunLayout
    from processor.ledger import initial_entries, ledger_xlsx
    from processor.mail import BODY_TEMPLATE, Outbox, render_body
    from processor.manifest import manifest_json
    from processor.parallel import beside
    from processor.presentation import present
    from processor.report import write_report
    from processor.result import result_json
    from processor.rundir import atomic_run_dir, check_complete, remove_abandoned

    workbook = Path(workbook)
    out_dir = Path(out_dir).absolute()  # the workers and the checksums name files from the folder: one spelling
    now = now or dt.datetime.now().astimezone()
    office = find_office() if pdf else None
    input_sha256 = workbook_sha256(workbook)
    progress("Läser och kontrollerar arbetsboken …")
    case, allocation = check(workbook)
    progress(f"Fördelade {_kr(allocation.total)} på {len(case.recipients)} mottagare i "
             f"{count(len(case.posts), 'post', 'poster')}.")
    view = present(case, allocation)
    case_id = uuid4().hex  # this run starts a case of its own, even from a workbook run before
    with beside(lambda: (result_json(case, allocation, case_id), appendix_xlsx(view),
                         ledger_xlsx(initial_entries(case, allocation))), len(case.recipients)) as tables:
        documents = prepare_documents(case, allocation, workbook, today=now.date(), text_templates=(BODY_TEMPLATE,),
                                      view=view)
        progress("Mallarna är kontrollerade.")
        result, appendix, ledger = tables()
    for name in remove_abandoned(out_dir):
        progress(f"Tog bort {name}, som en avbruten körning lämnade efter sig.")
    with atomic_run_dir(out_dir, workbook.stem, now) as run_dir:
        layout = RunLayout.for_recipients(run_dir.path, [r.name for r in case.recipients])
        checksums = Checksums(layout.root)
        checksums.add(layout.result, write_hashed(layout.result, [result]))
        progress("Skrev fordelning.json.")
        checksums.add(layout.appendix, write_hashed(layout.appendix, [appendix]))
        progress("Skrev bilagan fordelning.xlsx.")
        checksums.add(layout.ledger, write_hashed(layout.ledger, [ledger]))
        progress("Skrev uppföljningen uppfoljning.xlsx.")
        decision, digest = documents.write_decision(layout)
        checksums.add(decision, digest)
        progress("Skrev tjänsteutlåtandet.")
        outbox = Outbox(case, allocation, layout,
                        lambda i: render_body(documents.templates.render_text, documents.contexts.letter(i)), now=now)
        write_recipients(documents.letter_writer(layout), outbox, office, decision, checksums, progress)
        if file_sha256(workbook) != input_sha256:
            raise InputError([Problem(workbook.name, "arbetsboken ändrades medan körningen pågick. Spara klart och kör igen.")])
        checksums.add(*write_report(case, allocation, layout.root, checksums, created=now))
        progress("Skrev rapporten rapport.html.")
        manifest = manifest_json(workbook, input_sha256, list(case.warnings), now, checksums)
        checksums.add(layout.manifest, write_hashed(layout.manifest, [manifest]))
        files = sorted(entry.path for entry in check_complete(layout.root, checksums))
    return RunResult(run_dir.final, case, allocation, files)


def refresh_run_folder(run_dir: Path, command: str, *, now: dt.datetime | None = None) -> list[Problem]:
    """After ``command`` changed a run folder: the report re-rendered and the manifest brought up to date.

    A report that cannot be re-rendered is returned as problems (warnings); the manifest is kept true anyway.
    A reminder round (``RUNDIR/paminnelser/<round>``) has neither: the manifest of its run folder is updated.
    """
    from processor.checksums import Checksums
    from processor.layout import REPORT_FILE, RunLayout
    from processor.manifest import update_manifest
    from processor.report import refresh_report

    now = now or dt.datetime.now().astimezone()
    run_of_round = RunLayout(Path(run_dir)).run_of_round()
    if run_of_round is not None:  # a reminder round has no report: its run folder's manifest lists its files
        update_manifest(run_of_round, Checksums(run_of_round), command, now)
        return []
    checksums = Checksums(Path(run_dir))
    problems: list[Problem] = []
    try:
        checksums.add(REPORT_FILE, refresh_report(run_dir, checksums, now=now)[1])  # never read back to hash it
    except InputError as error:
        problems = error.problems
    update_manifest(run_dir, checksums, command, now)
    return problems


def write_recipients(letters: LetterWriter, outbox: Outbox, office: str | None, decision: Path, checksums: Checksums,
                     progress: Progress) -> None:
    """Every letter and every e-mail, on every core.

    Without PDFs a worker writes a recipient's e-mail right after its letter, from the letter still
    in memory. With PDFs, LibreOffice converts the decision document and the letters first, and the
    e-mails then carry the PDFs. Every file's checksum is taken as it is written, into ``checksums``.
    """
    from processor.checksums import file_sha256
    from processor.describe import count
    from processor.documents import convert_to_pdf
    from processor.layout import PDF_SUFFIX
    from processor.parallel import for_chunks

    indices = letters.indices
    Records = list[tuple[str, str]]  # (path, SHA-256) of each file a worker wrote

    def letters_and_mail(chunk: Sequence[int]) -> Records:
        written = []
        for index in chunk:
            path, document, digest = letters.write(index)
            written.append((str(path), digest))
            if office is None and index in outbox:
                message, message_digest = outbox.write(index, (path.name, document))
                written.append((str(message), message_digest))
        return written

    def mail_with_pdf(chunk: Sequence[int]) -> Records:
        written = []
        for index in chunk:
            pdf = letters.path(index, PDF_SUFFIX)
            message, digest = outbox.write(index, (pdf.name, pdf.read_bytes()))
            written.append((str(message), digest))
        return written

    def remember(written: Records, done: int) -> None:
        checksums.add_all(written)

    def letters_done(written: Records, done: int) -> None:
        remember(written, done)
        progress(f"Skrev {done} av {len(indices)} brev …")

    for_chunks(letters_and_mail, indices, letters_done)
    progress(f"Skrev {len(indices)} brev.")
    if office is not None:
        for pdf in convert_to_pdf([decision, *map(letters.path, indices)], office, progress=progress).values():
            checksums.add(pdf, file_sha256(pdf))
        for_chunks(mail_with_pdf, [i for i in indices if i in outbox], remember)
    progress(f"Skrev {count(len(outbox.indices), 'e-postmeddelande', 'e-postmeddelanden')} i utskick/.")


def _kr(amount: int) -> str:
    from processor.formats import kronor

    return kronor(amount, nbsp=False)
