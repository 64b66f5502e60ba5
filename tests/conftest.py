"""Fixtures that build real workbooks in ``tmp_path`` and drive the real CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import Workbook, load_workbook

from processor.cli import main
from processor.layout import RunLayout
from processor.mail import BodyRenderer, Outbox, message_parts
from processor.model import Allocation, Case

ROOT = Path(__file__).resolve().parents[1]
DALARNA = ROOT / "input" / "dalarna_2020.xlsx"
STOCKHOLM = ROOT / "input" / "stockholm_2024.xlsx"

Rows = Sequence[Sequence[object]]  # a sheet as rows of cell values, the header first

DEFAULT_CASE = [
    ("Rubrik", "Stimulansmedel God och nära vård 2024"),
    ("Medel att fördela", 1000),
    ("Nyckel", "Befolkning"),
    ("Diarienummer", "ÄLD 2024/1"),
    ("Datum", dt.date(2024, 5, 21)),
    ("Sista dag", dt.date(2024, 11, 30)),
    ("Avsändare", "Äldreförvaltningen"),
    ("E-post", "aldre@stad.example"),
]
DEFAULT_RECIPIENTS = [
    ("Mottagare", "E-post", "Grupp", "Befolkning"),
    ("Avesta", "registrator@avesta.example", "Kommun", 100),
    ("Borlänge", "registrator@borlange.example", "Kommun", 300),
    ("Falun", "registrator@falun.example", "Kommun", 600),
]


def write_outbox(case: Case, allocation: Allocation, run_dir: Path, letters: dict[int, Path],
                 body_renderer: BodyRenderer, *, now: dt.datetime | None = None) -> list[Path]:
    """The outbox alone, as the pipeline writes it beside the letters: ``utskick/<recipient>.eml`` for every
    mailed recipient, with its letter from ``letters`` (index → file) attached; → the files written."""
    layout = RunLayout.for_recipients(Path(run_dir), [r.name for r in case.recipients])
    outbox = Outbox(case, allocation, layout, body_renderer, now=now)
    written = []
    for i in outbox.indices:
        letter = letters.get(i)
        path, _ = outbox.write(i, (letter.name, letter.read_bytes()) if letter else None)
        written.append(path)
    return written


def build_message(**fields) -> bytes:
    """One whole message in SMTP wire format (see ``mail.message_parts`` for the fields)."""
    return b"".join(message_parts(**fields))


def build_workbook(path: Path, case: Rows | None = DEFAULT_CASE, recipients: Rows | None = DEFAULT_RECIPIENTS,
                   posts: Rows | None = None, texts: Rows | None = None, extra_sheets: dict[str, Rows] | None = None) -> Path:
    """Write a workbook: ``case`` as (field, value) pairs, the other sheets as rows (header first).

    ``case=None`` or ``recipients=None`` leaves that sheet out; ``posts`` adds ``Fördelning``.
    """
    book = Workbook()
    book.remove(book.active)
    if case is not None:
        ws = book.create_sheet("Ärende")
        for row in case:
            ws.append(list(row))
    if recipients is not None:
        ws = book.create_sheet("Mottagare")
        for row in recipients:
            ws.append(list(row))
    if posts is not None:
        ws = book.create_sheet("Fördelning")
        for row in posts:
            ws.append(list(row))
    if texts is not None:
        ws = book.create_sheet("Texter")
        for row in texts:
            ws.append(list(row))
    for title, rows in (extra_sheets or {}).items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(list(row))
    if not book.worksheets:
        book.create_sheet("Blad1")
    book.save(path)
    return path


@pytest.fixture
def workbook(tmp_path: Path) -> Callable[..., Path]:
    """``workbook(**sheets)`` → path of a fresh workbook in ``tmp_path`` (see ``build_workbook``)."""
    counter = iter(range(1, 1000))

    def make(name: str | None = None, **sheets: Rows | None) -> Path:
        return build_workbook(tmp_path / (name or f"arbetsbok{next(counter)}.xlsx"), **sheets)

    return make


def sha256(path: Path) -> str | None:
    """The file's SHA-256 in hex; None when there is no such file."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def docx_text(path: Path) -> str:
    """Every paragraph of a .docx (body, tables, headers, footers), one per line, as Word shows it."""
    document = Document(str(path))
    parts = [document.element.body]
    for section in document.sections:
        parts += [part._element for part in (section.header, section.footer) if not part.is_linked_to_previous]
    lines = []
    for part in parts:
        for paragraph in part.iter(qn("w:p")):
            lines.append("".join(t.text or "" for t in paragraph.iter(qn("w:t"))))
    return "\n".join(lines)


def edit_ledger(run_dir: Path, cells: dict[str, object]) -> None:
    """Type into the run's ledger (``uppfoljning.xlsx``) as an administrator would, in Excel."""
    book = load_workbook(run_dir / "uppfoljning.xlsx")
    for coordinate, value in cells.items():
        book["Uppföljning"][coordinate] = value
    book.save(run_dir / "uppfoljning.xlsx")


def documented_names(heading: str) -> list[str]:
    """The names listed in the tables of ``docs/mallar.md`` under ``heading``, up to the next ``## `` heading."""
    text = (ROOT / "docs" / "mallar.md").read_text(encoding="utf-8")
    section = text[text.index(heading):]
    section = section[:section.index("\n## ", 1)] if "\n## " in section[1:] else section
    return re.findall(r"^\| `([^`]+)` \|", section, re.MULTILINE)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``processor`` in-process through its entry point: ``cli("run", path)`` → (status, out, err)."""

    def invoke(*args: object) -> tuple[int, str, str]:
        status = main([str(a) for a in args])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return invoke


@pytest.fixture
def refused(cli: Callable[..., tuple[int, str, str]], tmp_path: Path) -> Callable[[Path], str]:
    """``refused(path)`` → stderr (NFC) of a ``run`` that must refuse the input and leave no trace."""

    def check(path: Path) -> str:
        before = sha256(path)
        out = tmp_path / "ut"
        status, stdout, err = cli("run", path, "--out", out)
        assert status == 2, (stdout, err)
        assert not out.exists() or not any(out.iterdir())
        assert sha256(path) == before
        assert "Traceback" not in err
        assert err.startswith("Arbetsboken kan inte användas")
        return unicodedata.normalize("NFC", err)

    return check


def processor_command() -> list[str]:
    """The installed console script (beside this Python), else ``python -m processor``."""
    script = Path(sys.executable).parent / ("processor.exe" if os.name == "nt" else "processor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "processor"]


@pytest.fixture
def run_processor() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``processor`` program as a process: → CompletedProcess with text output."""

    def invoke(*args: object, cwd: Path | None = None, input: str | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(processor_command() + [str(a) for a in args], capture_output=True, text=True,
                              cwd=cwd, input=input, env={**os.environ, **(env or {})}, timeout=300)

    return invoke


def require_program(*names: str, install: str) -> str:
    """The first of ``names`` on the PATH; else skip the test, except in CI (``CI=true``), where it must be there."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    message = f"{names[0]} finns inte på den här datorn ({install})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


FOLLOWUP_CASE = [
    ("Rubrik", "Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020"),
    ("Medel att fördela", 2_700_000),
    ("Nyckel", "Befolkning"),
    ("År", 2020),
    ("Diarienummer", "Storsthlm 2020/45"),
    ("Datum", dt.date(2020, 6, 1)),
    ("Sista dag", dt.date(2020, 8, 30)),
    ("Fakturareferens", "781"),
    ("E-post", "kansli@storsthlm.example"),
]
FOLLOWUP_RECIPIENTS = [
    ("Mottagare", "E-post", "Deltar", "Organisationsnummer", "Befolkning"),
    ("Vaxholm", "registrator@vaxholm.example", "Ja", "212000-0035", 1),
    ("Botkyrka", "registrator@botkyrka.example", "Ja", None, 1),
    ("Ekerö", "registrator@ekero.example", "Nej", None, 1),
    ("Norrtälje", "registrator@norrtalje.example", "Ja", "212000-0233", 1),
]
"""The Storsthlm 2020 case in small: 900 000 kr each to the three taking part (Ekerö declines), reference 781,
invoices due 30 August 2020: the recipients of the e-invoices under tests/data/peppol/."""


@pytest.fixture
def followup_run(tmp_path: Path) -> Path:
    """A run folder of the small Storsthlm 2020 case, made by the real pipeline."""
    from processor.pipeline import run

    source = build_workbook(tmp_path / "storsthlm_2020.xlsx", case=FOLLOWUP_CASE, recipients=FOLLOWUP_RECIPIENTS)
    return run(source, tmp_path / "ut", now=dt.datetime(2020, 6, 1, 10, 0)).run_dir
