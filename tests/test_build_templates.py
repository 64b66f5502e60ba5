"""The shipped Word templates are what tools/build_templates.py makes: a change to one without the other fails here."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from docx import Document
from docx.oxml.ns import qn
from lxml import etree
from openpyxl import load_workbook

from conftest import ROOT, STOCKHOLM, require_program
from processor.layout import DECISION_FILE
from processor.pipeline import run

TOOL = ROOT / "tools" / "build_templates.py"
SHIPPED = ROOT / "templates"
TEMPLATES = ["tjansteutlatande.docx", "brev.docx", "tillaggsbeslut.docx", "tillaggsbrev.docx", "redovisning.xlsx",
             "sammanstallning.docx", "aterbetalning.docx"]
CORE_DATES = re.compile(r"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mallar")
    done = subprocess.run([sys.executable, str(TOOL), str(folder)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return folder


def parts(path: Path) -> dict[str, str | bytes]:
    """Each part of a .docx or .xlsx: XML canonicalised (the core properties without their dates), anything else as bytes."""
    found: dict[str, str | bytes] = {}
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            data = package.read(name)
            if not name.endswith((".xml", ".rels")):
                found[name] = data
                continue
            text = data.decode("utf-8")
            if name == "docProps/core.xml":
                text = CORE_DATES.sub("", text)
            found[name] = ElementTree.canonicalize(text)
    return found


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_shipped_template_is_what_the_tool_builds(generated, name):
    built, shipped = parts(generated / name), parts(SHIPPED / name)
    assert sorted(built) == sorted(shipped)
    differing = [part for part in built if built[part] != shipped[part]]
    assert differing == [], f"templates/{name} differs from the tool's in {differing}: run python tools/build_templates.py"


def test_the_tool_builds_the_same_bytes_twice(generated, tmp_path):
    subprocess.run([sys.executable, str(TOOL), str(tmp_path)], capture_output=True, check=True, timeout=300)
    for name in TEMPLATES:
        assert (tmp_path / name).read_bytes() == (generated / name).read_bytes(), name


def body_paragraphs(path: Path) -> list[tuple[str, set[str]]]:
    """Each paragraph of the template's body: its text (tags and all) and the names of its paragraph properties."""
    document = Document(str(path))
    return [("".join(t.text or "" for t in p.iter(qn("w:t"))),
             {etree.QName(child).localname for child in (p.find(qn("w:pPr")) if p.find(qn("w:pPr")) is not None else [])})
            for p in document.element.body.iter(qn("w:p"))]


def test_the_signature_keeps_with_the_text_before_it_and_its_lines_together(generated):
    paragraphs = body_paragraphs(generated / "tjansteutlatande.docx")
    texts = [text for text, _ in paragraphs]
    first = next(i for i, text in enumerate(texts) if text == "{%p if arende.undertecknare %}")
    last = next(i for i, text in enumerate(texts) if "{{ arende.avsandare }}" in text and i > first)
    signature = [(text, props) for text, props in paragraphs[first:last + 1] if not text.startswith("{%p")]
    assert [text for text, _ in signature][0] == "{{ arende.undertecknare }}" and len(signature) == 4
    for text, props in signature:
        assert {"keepNext", "keepLines"} <= props, text
    analysis = texts.index("Jämställdhetsanalys")
    before = [(text, props) for text, props in paragraphs[analysis + 1:first] if not text.startswith("{%p")]
    assert [text for text, _ in before][0] == '{{ texter["Jämställdhetsanalys"] }}' and len(before) == 2
    for text, props in before:
        assert "keepNext" in props, text


@pytest.fixture(scope="module")
def stretched_decisions(tmp_path_factory) -> dict[str, Path]:
    """The Stockholm example's decision document as PDF, as shipped and with its last section made longer.

    22 and 20 more lines of Jämställdhetsanalys put the page break right before the signature, or right
    before "Bilagor", when nothing keeps them together.
    """
    require_program("soffice", "libreoffice", install="apt-get install libreoffice-writer-nogui")
    require_program("pdftotext", install="apt-get install poppler-utils")
    folder = tmp_path_factory.mktemp("sidor")
    documents = {}
    for extra in (0, 20, 22):
        book = load_workbook(STOCKHOLM)
        for name, text in book["Texter"].iter_rows(min_row=2):
            if name.value == "Jämställdhetsanalys":
                text.value += " Uppföljningen av hur medlen används sker i dialog med förvaltningarna under hela året." * extra
        workbook = folder / f"stockholm_{extra}.xlsx"
        book.save(workbook)
        documents[workbook.stem] = folder / f"{workbook.stem}.docx"
        documents[workbook.stem].write_bytes((run(workbook, folder / "ut").run_dir / DECISION_FILE).read_bytes())
    subprocess.run(["soffice", f"-env:UserInstallation={(folder / 'profil').as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(folder), *map(str, documents.values())], check=True, capture_output=True, timeout=300)
    return {stem: path.with_suffix(".pdf") for stem, path in documents.items()}


@pytest.mark.parametrize("stem", ["stockholm_0", "stockholm_20", "stockholm_22"])
def test_the_page_with_the_signature_holds_the_end_of_the_text_and_the_appendices(stretched_decisions, stem):
    text = subprocess.run(["pdftotext", "-layout", str(stretched_decisions[stem]), "-"], capture_output=True, text=True,
                          check=True).stdout
    [page] = [page for page in text.split("\f") if "Patric Rylander" in page]
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    signer = lines.index("Patric Rylander")
    assert lines[signer - 1].endswith(("den enskilde har.", "under hela året.")), lines
    assert lines[signer + 1:signer + 4] == ["Äldredirektör", "Äldreförvaltningen", "Bilagor"], lines
