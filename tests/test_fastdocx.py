"""Letters through the prepared template are the same documents as plain docxtpl makes, written cheaply."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path

import docx
import pytest

from processor.documents import prepare_documents
from processor.fastdocx import PackageCopier
from processor.layout import unique_filenames
from processor.pipeline import check, run

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2024, 5, 21, 9, 30).astimezone()


@pytest.fixture(scope="module", params=["stockholm_2024.xlsx", "dalarna_2020.xlsx"])
def both_paths(request, tmp_path_factory):
    """Each letter of a run (the fast path) beside the same letter rendered by plain docxtpl."""
    workbook = ROOT / "input" / request.param
    result = run(workbook, tmp_path_factory.mktemp("ut"), now=NOW)
    case, allocation = check(workbook)
    batch = prepare_documents(case, allocation, workbook, today=NOW.date())
    names = unique_filenames([r.name for r in case.recipients])
    pairs = []
    for index in range(len(case.recipients)):
        fast = (result.run_dir / "brev" / f"{names[index]}.docx").read_bytes()
        pairs.append((batch.letter_template.render(batch.contexts.letter(index)), fast))
    return pairs


def text_of(document: bytes) -> list[str]:
    """Every paragraph and table cell, headers and footers included, as python-docx reads them."""
    doc = docx.Document(io.BytesIO(document))
    texts = [p.text for p in doc.paragraphs]
    texts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    for section in doc.sections:
        texts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return texts


def test_every_member_has_the_same_content_as_plain_docxtpl(both_paths):
    for plain, fast in both_paths:
        with zipfile.ZipFile(io.BytesIO(plain)) as a, zipfile.ZipFile(io.BytesIO(fast)) as b:
            assert b.testzip() is None
            assert a.namelist() == b.namelist()
            for name in a.namelist():
                assert a.read(name) == b.read(name), name


def test_the_text_is_the_same_as_plain_docxtpl(both_paths):
    for plain, fast in both_paths:
        assert text_of(fast) == text_of(plain)


def test_unchanged_members_are_copied_without_recompression(both_paths):
    plain, fast = both_paths[0]
    changed = {"word/document.xml", "docProps/core.xml"}
    with zipfile.ZipFile(io.BytesIO(plain)) as a, zipfile.ZipFile(io.BytesIO(fast)) as b:
        for info in a.infolist():
            other = b.getinfo(info.filename)
            assert (other.compress_type, other.CRC, other.file_size) == (info.compress_type, info.CRC, info.file_size)
            if not info.filename.startswith(("word/document", "word/header", "word/footer")) and info.filename not in changed:
                assert other.compress_size == info.compress_size, info.filename
                assert raw_bytes(fast, other) == raw_bytes(plain, info), info.filename


def raw_bytes(package: bytes, info: zipfile.ZipInfo) -> bytes:
    start = info.header_offset
    name_length, extra_length = int.from_bytes(package[start + 26:start + 28], "little"), \
        int.from_bytes(package[start + 28:start + 30], "little")
    data = start + 30 + name_length + extra_length
    return package[data:data + info.compress_size]


def test_package_copier_replaces_only_what_it_is_given(tmp_path):
    source = io.BytesIO()
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.xml", "<a>" + "x" * 5000 + "</a>")
        archive.writestr("b.xml", "<b/>")
    copier = PackageCopier(source.getvalue())
    (tmp_path / "out.zip").write_bytes(copier.document({"b.xml": "<b>ändrad</b>".encode()}))
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert archive.testzip() is None
        assert archive.read("a.xml") == ("<a>" + "x" * 5000 + "</a>").encode()
        assert archive.read("b.xml") == "<b>ändrad</b>".encode()


def test_letters_and_mail_written_on_every_core_equal_those_written_serially(workbook, tmp_path, monkeypatch):
    import threading
    from email import message_from_bytes, policy

    from processor import parallel

    assert threading.active_count() == 1, "letters are written on every core only in a single-threaded process"
    rows = [("Mottagare", "E-post", "Befolkning")] + [(f"Kommun {n:03d}", f"k{n}@kommun.example", n) for n in range(1, 251)]
    path = workbook(recipients=rows, case=[("Rubrik", "Stimulansmedel 2024"), ("Medel att fördela", 10_000_000),
                                           ("Nyckel", "Befolkning"), ("E-post", "stimulans@region.example")])
    forked = run(path, tmp_path / "forked", now=NOW).run_dir
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10**9)
    serial = run(path, tmp_path / "serial", now=NOW).run_dir
    letters = sorted(p.name for p in (serial / "brev").iterdir())
    assert letters == sorted(p.name for p in (forked / "brev").iterdir()) and len(letters) == 250
    for name in letters:
        with zipfile.ZipFile(serial / "brev" / name) as a, zipfile.ZipFile(forked / "brev" / name) as b:
            assert b.testzip() is None
            assert all(a.read(member) == b.read(member) for member in a.namelist()), name
    messages = sorted(p.name for p in (serial / "utskick").iterdir())
    assert messages == sorted(p.name for p in (forked / "utskick").iterdir()) and len(messages) == 250
    for name in messages:
        a, b = (message_from_bytes((run_dir / "utskick" / name).read_bytes(), policy=policy.default)
                for run_dir in (serial, forked))
        assert (a["To"], a["Subject"], a.get_body(("plain",)).get_content()) == \
               (b["To"], b["Subject"], b.get_body(("plain",)).get_content())
        assert [(p.get_filename(), members(p.get_content())) for p in a.iter_attachments()] == \
               [(p.get_filename(), members(p.get_content())) for p in b.iter_attachments()]
    results = [json.loads((run_dir / "fordelning.json").read_text(encoding="utf-8")) for run_dir in (serial, forked)]
    assert results[0].pop("case_id") != results[1].pop("case_id")  # two runs, two cases; the rest the same
    assert results[0] == results[1]
    assert members((serial / "fordelning.xlsx").read_bytes()) == members((forked / "fordelning.xlsx").read_bytes())
    for run_dir in (serial, forked):
        listed = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["files"]
        assert all(f["sha256"] == hashlib.sha256((run_dir / f["path"]).read_bytes()).hexdigest()
                   for f in listed if not f.get("edited"))


def members(package: bytes) -> dict[str, bytes]:
    """A zip's members but its creation time (each run packs its files anew, and the appendix is dated)."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


def test_a_header_that_names_the_recipient_is_rendered_for_each_letter(workbook, tmp_path):
    """Parts that do not use ``mottagare`` are rendered once a run; one that does, in every letter."""
    from docx import Document

    template = Document()
    template.add_paragraph("Till {{ mottagare.namn }}: {{ mottagare.belopp|kronor }}")
    section = template.sections[0]
    section.header.paragraphs[0].text = "Brev till {{ mottagare.namn }}"
    section.footer.paragraphs[0].text = "{{ arende.rubrik }}"
    template.core_properties.subject = "{{ arende.rubrik }}"
    (tmp_path / "mallar").mkdir()
    template.save(str(tmp_path / "mallar" / "brev.docx"))
    rows = [("Mottagare", "E-post", "Befolkning")] + [(f"Kommun {n}", f"k{n}@kommun.example", n) for n in range(1, 6)]
    path = workbook(recipients=rows, case=[("Rubrik", "Stimulansmedel 2024"), ("Medel att fördela", 1_500_000),
                                           ("Nyckel", "Befolkning"), ("Mallar", "mallar")])
    run_dir = run(path, tmp_path / "ut", now=NOW).run_dir
    case, allocation = check(path)
    batch = prepare_documents(case, allocation, path, today=NOW.date())
    for index in range(5):
        fast = (run_dir / "brev" / f"Kommun {index + 1}.docx").read_bytes()
        plain = batch.letter_template.render(batch.contexts.letter(index))
        assert members(fast) == members(plain)
        letter = Document(io.BytesIO(fast))
        assert letter.sections[0].header.paragraphs[0].text == f"Brev till Kommun {index + 1}"
        assert letter.sections[0].footer.paragraphs[0].text == "Stimulansmedel 2024"
        assert letter.core_properties.subject == "Stimulansmedel 2024"
