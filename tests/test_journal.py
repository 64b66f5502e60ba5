"""The mail journal and the outbox's message headers: one format, read the same by ``send`` and the report."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

from processor.journal import Journal, MessageHeaders, read_journal


def test_message_headers_read_from_the_header_block_as_the_email_parser_reads_them(tmp_path):
    head = ("From: Region <stimulans@region.example>\r\n"
            "To: =?utf-8?b?w4RsdmRhbGVucyBrb21tdW4=?= <registrator@xn--lvdalen-4wa.se>,\r\n"
            " ekonomi@kommun.example\r\n"
            "Cc: \"Kansli, Nämnd\" <kansli@kommun.example>\r\n"
            "Subject: =?utf-8?b?U3RpbXVsYW5zbWVkZWwg4oCTIMOEbHZkYWxlbg==?=\r\n"
            "Message-ID: <1.2@region.example>\r\n"
            "\r\n").encode()
    path = tmp_path / "brev.eml"
    path.write_bytes(head + b"To: inte@heller.example\r\n" + b"x" * 100_000)
    parsed = BytesParser(policy=policy.default).parsebytes(head, headersonly=True)
    headers = MessageHeaders.read(path)
    assert list(headers.to) == [a.addr_spec for name in ("To", "Cc") for a in parsed[name].addresses] == [
        "registrator@xn--lvdalen-4wa.se", "ekonomi@kommun.example", "kansli@kommun.example"]
    assert headers.senders == ("stimulans@region.example",)
    assert headers.subject == str(parsed["Subject"]) == "Stimulansmedel – Älvdalen"
    assert headers.message_id == parsed["Message-ID"] == "<1.2@region.example>"


def test_what_the_journal_writes_it_reads_back(tmp_path):
    with Journal(tmp_path) as journal:
        journal.record("Avesta.eml", "<1@region.example>", ["A@avesta.example"], "250 OK")
        journal.record("Avesta.eml", "<1@region.example>", ["b@avesta.example"], "250 OK")
    (first, second) = read_journal(tmp_path / "skickat.jsonl")["Avesta.eml"]
    assert first.recipients == {"a@avesta.example"} and second.recipients == {"b@avesta.example"}
    assert first.message_id == "<1@region.example>" and first.server == "250 OK" and first.time is not None
