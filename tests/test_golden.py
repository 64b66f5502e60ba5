"""Golden runs: what four whole runs say, normalised and compared with committed snapshots.

A redesign must change no output. The snapshots under ``tests/golden/`` hold, for the two shipped
examples and two workbooks made here (areas with a declining recipient; 40 recipients with a
weighted key, rounding to hundreds and carried-over money): ``fordelning.json``, every cell of
``fordelning.xlsx``, the text of the decision document and of every letter (body, tables, headers,
footers, footnotes), every e-mail's headers, bodies and attachment names, and the files of the
folder. A deliberate change of output regenerates them: ``UPDATE_GOLDEN=1 pytest tests/test_golden.py``.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import json
import os
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from conftest import build_workbook
from processor.pipeline import run

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = dt.datetime(2024, 5, 21, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WORD_TEXT_PARTS = re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$")

AREAS_CASE = [
    ("Rubrik", "Stimulansmedel Nära vård och kompetens 2025"),
    ("Medel att fördela", 2_500_000),
    ("Överfört från tidigare år", 137_411),
    ("År", 2025),
    ("Överenskommelse", "Vårdens medarbetare 2025"),
    ("Diarienummer", "SN 2025/77"),
    ("Datum", dt.date(2025, 3, 14)),
    ("Avsändare", "Storsthlm"),
    ("Handläggare", "Eva Lind"),
    ("Telefon", "08-123 456 00"),
    ("E-post", "kansli@storsthlm.example"),
    ("Undertecknare", "Olle Berg"),
    ("Undertecknarens titel", "förbundsdirektör"),
    ("Fakturaadress", "Storsthlm, Box 38145, 100 64 Stockholm"),
    ("Fakturareferens", "717/771"),
    ("Sista dag", dt.date(2025, 9, 30)),
]
AREAS_RECIPIENTS = [
    ("Mottagare", "E-post", "Grupp", "Deltar", "Befolkning", "Patienter", "Platser", "Kontaktperson"),
    ("Botkyrka", "registrator@botkyrka.example", "Kommun", "Ja", 95_000, 1_210, 120, "Anna A"),
    ("Danderyd", "registrator@danderyd.example; vard@danderyd.example", "Kommun", "Ja", 33_000, 640, 40, "Bo B"),
    ("Ekerö", "registrator@ekero.example", "Kommun", "Nej", 28_000, 400, 35, "Cia C"),
    ("Haninge", "registrator@haninge.example", "Kommun", None, 90_000, 1_150, 110, "Dan D"),
    ("Huddinge", None, "Kommun", "ja", 113_000, 1_500, 150, "Eva E"),
    ("Nacka", "registrator@nacka.example", "Kommun", "J", 107_000, 1_300, 0, "Fia F"),
    ("Vård & Omsorg <Syd> AB", "info@vardsyd.example", "Utförare", "Ja", None, None, 60, "Gun G"),
    ("Storsthlm kansli", "kansli@storsthlm.example", "Kansli", "Ja", None, None, None, "Hans H"),
]
AREAS_POSTS = [
    ("Område", "Post", "Belopp", "Metod", "Nyckel", "Mottagare"),
    ("Nära vård", "Nära vård", 1_400_000, "nyckel", "Befolkning 50 %, Patienter 50 %", "Kommun"),
    ("Nära vård", "Samordnare", 50_000, "per mottagare", None, "Kommun"),
    ("Kompetens", "Platser", 600_000, "nyckel", "Platser", "Kommun; Utförare"),
    ("Kompetens", "Utbildning", 90_000, "lika", None, "Botkyrka; Haninge; Nacka"),
    ("Administration", "Kansli", "rest", "fast", None, "Storsthlm kansli"),
]
AREAS_TEXTS = [
    ("Avsnitt", "Text"),
    ("Bakgrund", "Medlen fördelas efter befolkning och patienter.\n\nEkerö har avstått från medlen."),
    ("Jämställdhetsanalys", "Insatserna ska nå kvinnor och män i lika hög grad."),
]

MUNICIPALITIES = [
    "Ale", "Alingsås", "Bengtsfors", "Bollebygd", "Borås", "Dals-Ed", "Essunga", "Falköping", "Färgelanda",
    "Grästorp", "Gullspång", "Göteborg", "Götene", "Herrljunga", "Hjo", "Härryda", "Karlsborg", "Kungälv",
    "Lerum", "Lidköping", "Lilla Edet", "Lysekil", "Mariestad", "Mark", "Mellerud", "Munkedal", "Mölndal",
    "Orust", "Partille", "Skara", "Skövde", "Sotenäs", "Stenungsund", "Strömstad", "Svenljunga", "Tanum",
    "Tibro", "Tidaholm", "Tjörn", "Töreboda",
]
FORTY_CASE = [
    ("Rubrik", "Stimulansmedel Psykisk hälsa 2023"),
    ("Medel att fördela", 31_250_000),
    ("Överfört från tidigare år", 1_000_000),
    ("Avrundning", 100),
    ("Nyckel", "Befolkning 60 %; Patienter 40 %"),
    ("Diarienummer", "VGR 2023/1234"),
    ("Datum", dt.date(2023, 2, 1)),
    ("Avsändare", "Västkom"),
    ("E-post", "kansli@vastkom.example"),
    ("Sista dag", dt.date(2023, 6, 30)),
    ("Kontaktperson", "Lena Ek"),
]
FORTY_RECIPIENTS = [("Mottagare", "E-post", "Befolkning", "Patienter")] + [
    (name, f"kommun@{i:02d}.example", 5_000 + (i * 7_919) % 90_000, 40 + (i * 613) % 900)
    for i, name in enumerate(MUNICIPALITIES, start=1)
]

CASES = ["dalarna_2020", "stockholm_2024", "omraden_avstar", "fyrtio_mottagare"]


def make_workbook(name: str, folder: Path) -> Path:
    """The workbook of one golden case: a shipped example, or one built here."""
    if name in ("dalarna_2020", "stockholm_2024"):
        return ROOT / "input" / f"{name}.xlsx"
    if name == "omraden_avstar":
        return build_workbook(folder / f"{name}.xlsx", case=AREAS_CASE, recipients=AREAS_RECIPIENTS,
                              posts=AREAS_POSTS, texts=AREAS_TEXTS)
    return build_workbook(folder / f"{name}.xlsx", case=FORTY_CASE, recipients=FORTY_RECIPIENTS)


def word_text(data: bytes) -> dict[str, list[str]]:
    """Each text part of a .docx (body, headers, footers, footnotes) as its paragraphs' text."""
    parts = {}
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for member in sorted(package.namelist()):
            if WORD_TEXT_PARTS.match(member):
                root = ElementTree.fromstring(package.read(member))
                parts[member] = ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in root.iter(f"{W}p")]
    return parts


def workbook_cells(path: Path) -> dict[str, object]:
    """Every non-empty cell of every sheet with its number format, and the merged ranges."""
    book = load_workbook(path)
    sheets = {}
    for ws in book.worksheets:
        cells = {cell.coordinate: [_plain(cell.value), cell.number_format]
                 for row in ws.iter_rows() for cell in row if cell.value is not None}
        sheets[ws.title] = {"cells": cells, "merged": sorted(str(r) for r in ws.merged_cells.ranges)}
    return sheets


def _plain(value):
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def message_summary(path: Path) -> dict:
    """An e-mail's headers (Message-ID and MIME boundaries aside), its text parts and attachment names."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    headers = [[name, re.sub(r'boundary="[^"]*"', 'boundary="…"', str(value))]
               for name, value in message.items() if name.lower() != "message-id"]
    bodies, attachments = [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_filename():
            attachments.append([part.get_filename(), part.get_content_type()])
        else:
            bodies.append([part.get_content_type(), part.get_content()])
    return {"headers": headers, "bodies": bodies, "attachments": attachments}


def snapshot(run_dir: Path) -> dict:
    """Everything a golden run says, as plain JSON data."""
    files = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file())
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    return {
        "files": files,
        "manifest": {"input": manifest["input"]["file"], "warnings": manifest["warnings"],
                     "files": [entry["path"] for entry in manifest["files"]]},
        "fordelning.json": {**json.loads((run_dir / "fordelning.json").read_text(encoding="utf-8")), "case_id": "…"},
        "fordelning.xlsx": workbook_cells(run_dir / "fordelning.xlsx"),
        "documents": {name: word_text((run_dir / name).read_bytes()) for name in files if name.endswith(".docx")},
        "messages": {name: message_summary(run_dir / name) for name in files if name.endswith(".eml")},
    }


@pytest.mark.parametrize("name", CASES)
def test_a_run_says_what_the_golden_snapshot_says(name, tmp_path):
    result = run(make_workbook(name, tmp_path), tmp_path / "ut", now=NOW)
    actual = snapshot(result.run_dir)
    golden = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(actual, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(golden.read_text(encoding="utf-8"))
    for part in expected:
        assert actual[part] == expected[part], f"{name}: {part} differs from tests/golden/{name}.json"
    assert actual.keys() == expected.keys()
