"""The batch, callable from Python: read → validate → allocate → write the run folder → manifest.

Everything is checked before anything is written; the run folder appears whole or not at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from processor.allocate import allocate
from processor.errors import InputError, Problem
from processor.mail import BODY_TEMPLATE, outbox_warnings, render_body, write_outbox
from processor.manifest import manifest_json, sha256_file
from processor.model import Allocation, Case
from processor.result import result_json
from processor.rundir import atomic_run_dir
from processor.validate import load_case

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
    case = load_case(Path(workbook))
    allocation = allocate(case)
    warnings = (*case.warnings, *outbox_warnings(case, allocation))
    return dataclasses.replace(case, warnings=warnings), allocation


def run(workbook: Path, out_dir: Path = Path("output"), *, now: dt.datetime | None = None,
        progress: Progress = lambda message: None, pdf: bool = False) -> RunResult:
    """Run the whole batch for one workbook and return where the run folder landed (``pdf``: a PDF beside each document)."""
    # The writing stages are imported here, so that ``processor validate`` starts without them.
    from processor.appendix import appendix_xlsx
    from processor.documents import convert_to_pdf, find_office, prepare_documents
    from processor.report import write_report

    workbook = Path(workbook)
    now = now or dt.datetime.now().astimezone()
    office = find_office() if pdf else None
    input_sha256 = sha256_file(workbook) if workbook.is_file() else ""
    progress("Läser och kontrollerar arbetsboken …")
    case, allocation = check(workbook)
    progress(f"Fördelade {_kr(allocation.total)} på {len(case.recipients)} mottagare i {len(case.posts)} poster.")
    documents = prepare_documents(case, allocation, workbook, today=now.date(), text_templates=(BODY_TEMPLATE,))
    progress("Mallarna är kontrollerade.")
    with atomic_run_dir(Path(out_dir), workbook.stem, now) as run_dir:
        folder = run_dir.path
        (folder / "fordelning.json").write_bytes(result_json(case, allocation))
        progress("Skrev fordelning.json.")
        (folder / "fordelning.xlsx").write_bytes(appendix_xlsx(case, allocation))
        progress("Skrev bilagan fordelning.xlsx.")
        written = documents.write(folder, progress)
        if office:
            written.pdfs = convert_to_pdf(written.files, office, progress=progress)
        mails = write_outbox(case, allocation, folder, written.letter_files(),
                             lambda i: render_body(documents.templates.render_text, documents.contexts.letter(i)), now=now)
        progress(f"Skrev {len(mails)} e-postmeddelanden i utskick/.")
        if sha256_file(workbook) != input_sha256:
            raise InputError([Problem(workbook.name, "arbetsboken ändrades medan körningen pågick. Spara klart och kör igen.")])
        write_report(case, allocation, folder, created=now)
        progress("Skrev rapporten rapport.html.")
        (folder / "manifest.json").write_bytes(manifest_json(workbook, input_sha256, folder, list(case.warnings), now))
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return RunResult(run_dir.final, case, allocation, files)


def _kr(amount: int) -> str:
    from processor.formats import kronor

    return kronor(amount, nbsp=False)
