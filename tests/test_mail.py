"""The outbox: one .eml per recipient with money and an address, readable by any mail program."""

from __future__ import annotations

import datetime as dt
import io
import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from processor.documents import prepare_documents
from processor.mail import (APPENDIX_NAME, BODY_TEMPLATE, build_message, html_body, outbox_warnings, render_body,
                            unmailed_indices, write_outbox)
from processor.pipeline import check, run
from conftest import DEFAULT_CASE

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2024, 5, 21, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def epost_renderer(case, allocation, workbook_path: Path):
    """Bodies from the packaged ``epost.txt``, rendered by the same sandbox and context as the pipeline's."""
    documents = prepare_documents(case, allocation, workbook_path, text_templates=(BODY_TEMPLATE,))
    return lambda index: render_body(documents.templates.render_text, documents.contexts.letter(index))


def make_outbox(workbook_path: Path, out: Path) -> tuple[Path, list[Path]]:
    """Run a workbook through the pipeline, which writes the outbox; → the run folder and its messages."""
    run_dir = run(workbook_path, out, now=NOW).run_dir
    return run_dir, sorted((run_dir / "utskick").glob("*.eml"))


def parse(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def body_text(message, kind: str = "plain") -> str:
    """A body part's text with the wire format's CRLF line ends made plain."""
    return message.get_body((kind,)).get_content().replace("\r\n", "\n")


def attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


RECIPIENTS = [
    ("Mottagare", "E-post", "Grupp", "Deltar", "Befolkning"),
    ("Älvdalen", "registrator@alvdalen.example; kansli@alvdalen.example", "Kommun", "Ja", 100),
    ("Borlänge", "registrator@borlange.example", "Kommun", "Ja", 300),
    ("Säter", None, "Kommun", "Ja", 200),
    ("Orsa", "registrator@orsa.example", "Kommun", "Nej", 400),
]


@pytest.fixture
def swedish_outbox(cli, workbook, tmp_path):
    path = workbook(case=DEFAULT_CASE + [("Ämne", "Stimulansmedel 2024")], recipients=RECIPIENTS)
    run_dir, written = make_outbox(path, tmp_path / "ut")
    return run_dir, written, (*check(path), path)


def test_dalarna_gets_one_message_per_municipality_with_the_appendix(cli, tmp_path):
    run_dir, written = make_outbox(ROOT / "input" / "dalarna_2020.xlsx", tmp_path / "ut")
    assert len(written) == 15
    assert sorted(p.name for p in (run_dir / "utskick").iterdir()) == sorted(p.name for p in written)
    borlange = parse(run_dir / "utskick" / "Borlänge.eml")
    assert borlange["From"].addresses[0].display_name == "Region Dalarna"
    assert borlange["From"].addresses[0].addr_spec == "rss@regiondalarna.example"
    assert [a.addr_spec for a in borlange["To"].addresses] == ["registrator@borlange.kommun.example"]
    assert borlange["Subject"] == "Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020 – Borlänge"
    text = body_text(borlange)
    assert "Borlänge tilldelas 2\u00a0869\u00a0325\u00a0kr." in text
    assert "RD20/01871" in text
    appendix = attachments(borlange)[APPENDIX_NAME]
    assert appendix == (run_dir / "fordelning.xlsx").read_bytes()
    assert load_workbook(io.BytesIO(appendix)).active.max_row > 15


def test_a_message_has_date_message_id_text_and_html(swedish_outbox):
    run_dir, _, _ = swedish_outbox
    message = parse(run_dir / "utskick" / "Borlänge.eml")
    assert message["Date"].datetime == NOW
    assert re.fullmatch(r"<[^@<>]+@stad\.example>", message["Message-ID"])
    assert message.get_content_type() == "multipart/mixed"
    plain, html = body_text(message), body_text(message, "html")
    assert plain.startswith("Till Borlänge\n")
    assert "Borlänge tilldelas 500\u00a0kr." in plain
    assert "<p>Till Borlänge</p>" in html and "Borlänge tilldelas 500\u00a0kr." in html
    assert "Äldreförvaltningen" in plain and "30 november 2024" in plain


def test_swedish_letters_are_encoded_for_the_wire_and_decoded_back(swedish_outbox):
    run_dir, _, _ = swedish_outbox
    raw = (run_dir / "utskick" / "Älvdalen.eml").read_bytes()
    assert raw.isascii()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "=?utf-8?" in headers
    assert "filename*=utf-8''Bilaga%201%20f%C3%B6rdelning.xlsx" in raw.decode("ascii")
    message = parse(run_dir / "utskick" / "Älvdalen.eml")
    assert message["Subject"] == "Stimulansmedel 2024 – Älvdalen"
    assert message["From"].addresses[0].display_name == "Äldreförvaltningen"
    assert [a.addr_spec for a in message["To"].addresses] == ["registrator@alvdalen.example", "kansli@alvdalen.example"]
    assert list(attachments(message)) == ["Älvdalen.docx", APPENDIX_NAME]


def test_letter_is_attached_pdf_before_docx(swedish_outbox, tmp_path):
    run_dir, _, (case, allocation, path) = swedish_outbox
    letter = tmp_path / "Älvdalen.pdf"
    letter.write_bytes(b"%PDF-1.4\n% brev till \xc3\x84lvdalen\n%%EOF\n")
    written = write_outbox(case, allocation, tmp_path, {0: letter}, epost_renderer(case, allocation, path), now=NOW)
    message = parse(written[0])
    files = attachments(message)
    assert files["Älvdalen.pdf"] == letter.read_bytes()
    part = next(p for p in message.iter_attachments() if p.get_filename() == "Älvdalen.pdf")
    assert part.get_content_type() == "application/pdf"
    assert part.get_content_disposition() == "attachment"


def test_only_recipients_with_money_and_an_address_get_mail(swedish_outbox):
    run_dir, written, (case, allocation, _) = swedish_outbox
    assert sorted(p.name for p in written) == ["Borlänge.eml", "Älvdalen.eml"]
    assert [case.recipients[i].name for i in unmailed_indices(case, allocation)] == ["Säter"]
    warnings = outbox_warnings(case, allocation)
    assert len(warnings) == 1
    assert "Säter" in warnings[0] and "ingen e-postadress" in warnings[0] and "rad 4" in warnings[0]


def test_subject_defaults_to_the_title(cli, workbook, tmp_path):
    run_dir, _ = make_outbox(workbook(), tmp_path / "ut")
    assert parse(run_dir / "utskick" / "Falun.eml")["Subject"] == "Stimulansmedel God och nära vård 2024 – Falun"


def test_no_sender_address_means_no_outbox_and_a_warning(cli, workbook, tmp_path):
    path = workbook(case=[row for row in DEFAULT_CASE if row[0] != "E-post"])
    run_dir, written = make_outbox(path, tmp_path / "ut")
    case, allocation = check(path)
    assert written == [] and not (run_dir / "utskick").exists()
    assert any('fältet "E-post" saknas' in w for w in outbox_warnings(case, allocation))


@pytest.mark.parametrize("field", ["subject", "sender_name", "sender", "to"])
def test_a_line_break_in_a_header_is_refused(field):
    values = {"sender": "a@stad.example", "sender_name": "Stad", "subject": "Ämne", "to": ["b@kommun.example"]}
    values[field] = ["b@kommun.example\r\nBcc: x@evil.example"] if field == "to" else values[field] + "\nBcc: x@evil.example"
    with pytest.raises(ValueError):
        build_message(body="Hej\n", **values)


def test_an_international_domain_is_written_in_idna():
    raw = build_message(sender="a@stad.example", sender_name="Stad", to=["registrator@älvdalen.se"],
                        subject="Ämne", body="Hej\n", date=NOW)
    assert b"To: registrator@xn--lvdalen-4wa.se\r\n" in raw
    assert raw.isascii()


def test_html_alternative_escapes_and_links():
    page = html_body("Hej <b>!\n\nLäs https://skr.se/x. Frågor: rss@region.example\n", "A & B")
    assert "&lt;b&gt;" in page and "<title>A &amp; B</title>" in page
    assert '<a href="https://skr.se/x">https://skr.se/x</a>.' in page
    assert '<a href="mailto:rss@region.example">rss@region.example</a>' in page
