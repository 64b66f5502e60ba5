"""The outbox: one .eml per recipient with money and an address, readable by any mail program."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from processor.documents import prepare_documents
from processor.mail import APPENDIX_NAME, BODY_TEMPLATE, html_body, outbox_warnings, render_body, unmailed_indices
from processor.pipeline import check, run
from conftest import DEFAULT_CASE, build_message, build_workbook, write_outbox

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


# --- the appendix: with every e-mail up to 1 000 recipients, beyond that the letter says where it is ---------

LINK = "https://www.stad.example/stimulansmedel/fordelning-2024"
APPENDIX_WIRE_NAME = b"filename*=utf-8''Bilaga%201%20f%C3%B6rdelning.xlsx"


def many_recipients_case(count: int, *extra_fields) -> dict:
    """The sheets of a case with ``count`` recipients, each with an address and enough money for a letter."""
    case = [(name, 10_000 * count if name == "Medel att fördela" else value) for name, value in DEFAULT_CASE]
    recipients = [("Mottagare", "E-post", "Befolkning")]
    recipients += [(f"Kommun {n}", f"registrator@kommun{n}.example", 1_000 + n) for n in range(count)]
    return {"case": case + list(extra_fields), "recipients": recipients}


def letter_paragraphs(data: bytes) -> list[str]:
    """The paragraphs of a letter's body, read from its XML (quicker than python-docx for a thousand letters)."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml = package.read("word/document.xml").decode("utf-8")
    return ["".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", p)) for p in xml.split("</w:p>")]


@pytest.fixture(scope="module")
def thousand_and_one(tmp_path_factory):
    """One run of 1 001 recipients with a ``Bilaga, länk`` (1 001 letters take several seconds)."""
    folder = tmp_path_factory.mktemp("tusen")
    path = build_workbook(folder / "tusen.xlsx", **many_recipients_case(1_001, ("Bilaga, länk", LINK)))
    return run(path, folder / "ut", now=NOW)


def test_beyond_1000_recipients_each_email_carries_only_its_letter(thousand_and_one):
    messages = sorted((thousand_and_one.run_dir / "utskick").glob("*.eml"))
    assert len(messages) == 1_001
    for path in messages:
        raw = path.read_bytes()
        assert APPENDIX_WIRE_NAME not in raw
        assert raw.count(b"Content-Disposition: attachment") == 1
    assert list(attachments(parse(messages[0]))) == [messages[0].stem + ".docx"]
    assert not thousand_and_one.case.warnings


def test_beyond_1000_recipients_each_letter_names_the_link(thousand_and_one):
    letters = sorted((thousand_and_one.run_dir / "brev").glob("*.docx"))
    assert len(letters) == 1_001
    for path in letters:
        paragraphs = letter_paragraphs(path.read_bytes())
        assert ("Fördelningen mellan alla 1001 mottagare framgår av bilaga 1. "
                f"Hela fördelningen finns här: {LINK}") in paragraphs
        assert f"Bilaga 1: Fördelning av stimulansmedel God och nära vård 2024 (finns här: {LINK})" in paragraphs
    text = body_text(parse(thousand_and_one.run_dir / "utskick" / "Kommun 7.eml"))
    assert f"Hela fördelningen mellan alla mottagare finns här: {LINK}" in text
    assert "Bilaga 1 visar" not in text


def test_beyond_1000_recipients_without_a_link_the_table_is_sent_on_request(workbook):
    path = workbook(**many_recipients_case(1_001, ("Handläggare", "Eva Lind")))
    case, allocation = check(path)
    documents = prepare_documents(case, allocation, path, text_templates=(BODY_TEMPLATE,))
    paragraphs = letter_paragraphs(documents.letter(7))
    assert ("Fördelningen mellan alla 1001 mottagare framgår av bilaga 1. Hela fördelningen skickas på begäran; "
            "kontakta Eva Lind, e-post aldre@stad.example.") in paragraphs
    assert "Bilaga 1: Fördelning av stimulansmedel God och nära vård 2024 (skickas på begäran)" in paragraphs
    body = render_body(documents.templates.render_text, documents.contexts.letter(7))
    assert "Hela fördelningen mellan alla mottagare skickas på begäran." in body
    [warning] = [w for w in case.warnings if "Bilaga, länk" in w]
    assert warning.startswith("Ärende: med 1 001 mottagare (fler än 1 000) bifogas inte hela fördelningen")
    assert "på begäran" in warning and warning.endswith('skriv länken eller platsen i fältet "Bilaga, länk".')


def test_from_101_to_1000_recipients_every_email_carries_the_appendix_the_letter_mentions(workbook, tmp_path):
    run_dir, messages = make_outbox(workbook(**many_recipients_case(101)), tmp_path / "ut")
    assert len(messages) == 101
    appendix = (run_dir / "fordelning.xlsx").read_bytes()
    for path in messages:
        assert APPENDIX_WIRE_NAME in path.read_bytes()
    files = attachments(parse(messages[0]))
    assert list(files) == [messages[0].stem + ".docx", APPENDIX_NAME] and files[APPENDIX_NAME] == appendix
    paragraphs = letter_paragraphs(files[messages[0].stem + ".docx"])
    assert "Fördelningen mellan alla 101 mottagare framgår av bilaga 1, som skickas med som en separat fil." in paragraphs
    assert "Bilaga 1: Fördelning av stimulansmedel God och nära vård 2024 (skickas med som en separat fil)" in paragraphs
    assert "Bilaga 1 visar fördelningen mellan alla mottagare." in body_text(parse(messages[0]))


def test_the_link_field_is_known_however_it_is_spelt(workbook):
    case, _ = check(workbook(**many_recipients_case(1_001, (" bilaga, LÄNK", LINK))))
    assert case.info.fields["Bilaga, länk"] == LINK
    assert not case.warnings
