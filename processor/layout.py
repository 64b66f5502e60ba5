"""The run folder's layout: every file name of a run and each recipient's file stem, spelled once.

Every module that writes or reads a run folder asks a ``RunLayout`` where a file is, so the
letters, the e-mails and the report agree on a recipient's file name by construction.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

RESULT_FILE = "fordelning.json"
APPENDIX_FILE = "fordelning.xlsx"
DECISION_FILE = "tjansteutlatande.docx"
ROUND_DECISION_FILE = "tillaggsbeslut.docx"
"""A later round's amended decision (``processor omfordela``), in place of the decision document."""
ROUND_SUFFIX = "_omfordelning"
"""A later round's folder is ``<stem>_omfordelning_<YYYYMMDD-HHMMSS>`` beside the folder it starts from."""
LETTER_DIR = "brev"
OUTBOX_DIR = "utskick"
REPORT_FILE = "rapport.html"
MANIFEST_FILE = "manifest.json"
LEDGER_FILE = "uppfoljning.xlsx"
PREVIOUS_LEDGER_FILE = "uppfoljning.föregående.xlsx"
STATUS_FILE = "status.html"
EDITED_FILES = (LEDGER_FILE, PREVIOUS_LEDGER_FILE)
"""The files meant to be edited by the administrator: the manifest lists them without a checksum."""
REMINDER_DIR = "paminnelser"
"""Reminder rounds: ``paminnelser/<YYYYMMDD>[_2…]/``, each with its own ``utskick/`` and journal."""
REPORTING_DIR = "redovisning"
"""Reporting-form rounds: ``redovisning/<YYYYMMDD>[_2…]/`` with ``blanketter/`` and ``utskick/`` and its own journal."""
FORM_DIR = "blanketter"
FORM_SUFFIX = ".xlsx"
ROUND_DIRS = (REMINDER_DIR, REPORTING_DIR)
"""The folders of a run folder whose subfolders are rounds of mail, each sent by ``processor send``."""
COMPILATION_DIR = "sammanstallning"
"""Compilations of returned reporting forms: ``sammanstallning/<YYYYMMDD>[_2…]/``, each written whole."""
COMPILATION_WORKBOOK = "sammanstallning.xlsx"
COMPILATION_DOCUMENT = "sammanstallning.docx"
REPAYMENT_DIR = "aterbetalning"
JOURNAL_FILE = "skickat.jsonl"
SEND_LOCK = ".skickar.lock"
LETTER_SUFFIX = ".docx"
PDF_SUFFIX = ".pdf"
MESSAGE_SUFFIX = ".eml"

_RESERVED = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_WINDOWS_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def safe_filename(name: str, max_length: int = 100) -> str:
    """A recipient's name as a file name: no separators or reserved characters, Swedish letters kept."""
    text = unicodedata.normalize("NFC", name)
    text = _RESERVED.sub("_", text).strip().strip(".").strip()
    text = re.sub(r"\s+", " ", text)[:max_length].rstrip(" .")
    if not text or text.casefold() in _WINDOWS_NAMES:
        text = f"_{text}"
    return text


def unique_filenames(names: Sequence[str]) -> list[str]:
    """Safe names, made unique without regard to case (``Solna``, ``Solna (2)``)."""
    taken: set[str] = set()
    result = []
    for name in names:
        base = safe_filename(name)
        candidate, n = base, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{base} ({n})"
        taken.add(candidate.casefold())
        result.append(candidate)
    return result


def run_folder_name(workbook_stem: str, now: dt.datetime) -> str:
    """``<arbetsbok>_<YYYYMMDD-HHMMSS>``: the name a run folder is published under."""
    return f"{safe_filename(workbook_stem)}_{now:%Y%m%d-%H%M%S}"


def round_folder_stem(run_dir_name: str) -> str:
    """The stem of a later round's folder made from ``run_dir_name``: ``storsthlm_2020_omfordelning`` for
    ``storsthlm_2020_20200601-100000`` and for a round folder made from it alike."""
    stem = re.sub(r"_\d{8}-\d{6}(_\d+)?$", "", run_dir_name)
    return stem.removesuffix(ROUND_SUFFIX) + ROUND_SUFFIX


@dataclass(frozen=True)
class RunLayout:
    """Where each file of one run folder is; ``stems[i]`` is recipient ``i``'s file name without suffix."""

    root: Path
    stems: tuple[str, ...] = ()

    @classmethod
    def for_recipients(cls, root: Path, names: Sequence[str]) -> RunLayout:
        """The layout of a run for recipients called ``names``, in workbook order."""
        return cls(Path(root), tuple(unique_filenames(names)))

    @property
    def result(self) -> Path:
        return self.root / RESULT_FILE

    @property
    def appendix(self) -> Path:
        return self.root / APPENDIX_FILE

    @property
    def decision(self) -> Path:
        return self.root / DECISION_FILE

    @property
    def round_decision(self) -> Path:
        return self.root / ROUND_DECISION_FILE

    @property
    def letters(self) -> Path:
        return self.root / LETTER_DIR

    @property
    def outbox(self) -> Path:
        return self.root / OUTBOX_DIR

    @property
    def journal(self) -> Path:
        return self.outbox / JOURNAL_FILE

    @property
    def report(self) -> Path:
        return self.root / REPORT_FILE

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST_FILE

    @property
    def ledger(self) -> Path:
        return self.root / LEDGER_FILE

    @property
    def previous_ledger(self) -> Path:
        return self.root / PREVIOUS_LEDGER_FILE

    @property
    def status(self) -> Path:
        return self.root / STATUS_FILE

    @property
    def reminders(self) -> Path:
        return self.root / REMINDER_DIR

    @property
    def reporting(self) -> Path:
        return self.root / REPORTING_DIR

    @property
    def forms(self) -> Path:
        """A reporting round's ``blanketter/``: one form per paid recipient."""
        return self.root / FORM_DIR

    def reminder_round(self, today: dt.date) -> Path:
        """The next free round folder of ``today``: ``paminnelser/20200901``, then ``20200901_2`` …"""
        return _free_round(self.reminders, today)

    def reporting_round(self, today: dt.date) -> Path:
        """The next free reporting round of ``today``: ``redovisning/20210115``, then ``20210115_2`` …"""
        return _free_round(self.reporting, today)

    @property
    def compilations(self) -> Path:
        return self.root / COMPILATION_DIR

    def compilation_folder(self, today: dt.date) -> Path:
        """The next free compilation folder of ``today``: ``sammanstallning/20210315``, then ``20210315_2`` …"""
        return _free_round(self.compilations, today)

    @property
    def compilation_workbook(self) -> Path:
        """In a compilation folder (the layout moved there): the table of what each recipient reported."""
        return self.root / COMPILATION_WORKBOOK

    @property
    def compilation_document(self) -> Path:
        """In a compilation folder: the compiled report to the funder."""
        return self.root / COMPILATION_DOCUMENT

    @property
    def repayments(self) -> Path:
        return self.root / REPAYMENT_DIR

    def repayment_letter(self, index: int) -> Path:
        """In a compilation folder: recipient ``index``'s repayment letter, ``aterbetalning/Avesta.docx``."""
        return self.repayments / f"{self.stems[index]}{LETTER_SUFFIX}"

    def ledger_locks(self) -> tuple[Path, ...]:
        """The files an office suite keeps beside the ledger while it is open (Excel, LibreOffice)."""
        return (self.root / f"~${LEDGER_FILE}", self.root / f".~lock.{LEDGER_FILE}#")

    def letter(self, index: int, suffix: str = LETTER_SUFFIX) -> Path:
        """Recipient ``index``'s letter (``.pdf``: its PDF)."""
        return self.letters / f"{self.stems[index]}{suffix}"

    def message(self, index: int) -> Path:
        """Recipient ``index``'s e-mail in the outbox."""
        return self.outbox / self.message_name(index)

    def form(self, index: int) -> Path:
        """Recipient ``index``'s reporting form in a reporting round: ``blanketter/Avesta.xlsx``."""
        return self.forms / f"{self.stems[index]}{FORM_SUFFIX}"

    def message_name(self, index: int) -> str:
        """The file name of recipient ``index``'s e-mail: ``Avesta.eml``."""
        return f"{self.stems[index]}{MESSAGE_SUFFIX}"

    def relative(self, path: Path | str) -> str:
        """A file's path inside the folder, with forward slashes: ``brev/Avesta.docx``."""
        return PurePosixPath(*Path(path).relative_to(self.root).parts).as_posix()

    def run_of_round(self) -> Path | None:
        """The run folder of a round (``RUNDIR/paminnelser/<round>``, ``RUNDIR/redovisning/<round>``); None for a run
        folder itself."""
        return self.root.parent.parent if self.root.parent.name in ROUND_DIRS else None

    def moved(self, root: Path) -> RunLayout:
        """The same layout once the folder is renamed into place."""
        return RunLayout(Path(root), self.stems)



def _free_round(folder: Path, today: dt.date) -> Path:
    base, n = f"{today:%Y%m%d}", 1
    while (candidate := folder / (base if n == 1 else f"{base}_{n}")).exists():
        n += 1
    return candidate
