"""The outbox: one ready ``.eml`` per recipient with money and an address, its letter attached.

Messages are built with the standard ``email`` package (RFC 5322 headers, RFC 2047 encoded
words for Swedish display names and subjects, RFC 2231 attachment names) and written in SMTP
wire format (CRLF), so ``processor send`` can deliver the files byte for byte and a mail
program opens them as they will arrive.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Mapping, Sequence
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from processor.errors import Problem
from processor.formats import kronor
from processor.model import Allocation, Case, Recipient
from processor.rundir import unique_filenames

BODY_TEMPLATE = "epost.txt"
OUTBOX_DIR = "utskick"
APPENDIX_FILE = "fordelning.xlsx"
APPENDIX_NAME = "Bilaga 1 fördelning.xlsx"
SENDER_FIELD, SENDER_NAME_FIELD, SUBJECT_FIELD = "E-post", "Avsändare", "Ämne"

_LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_LINK = re.compile(r"(https?://[^\s<>\"]+[^\s<>\".,;:!?)])|([A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
_CONTENT_TYPES = {
    ".pdf": ("application", "pdf"),
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}

BodyRenderer = Callable[[int], str]
"""Recipient index → the plain-text body of that recipient's message."""


def render_body(render: Callable[[str, Mapping], str], context: Mapping) -> str:
    """The body from the editable ``epost.txt`` template; ``render(name, context)`` is the sandboxed renderer."""
    return tidy_body(render(BODY_TEMPLATE, context))


def tidy_body(text: str) -> str:
    """Unix line ends, no trailing spaces, at most one blank line in a row (template tags leave gaps)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def subject_for(case: Case, recipient: Recipient) -> str:
    """``Ämne`` (default ``Rubrik``) and the recipient's name: ``Stimulansmedel 2024 – Avesta``."""
    base = case.info.fields.get(SUBJECT_FIELD) or case.info.title
    return f"{base} – {' '.join(recipient.name.split())}"


def sender_of(case: Case) -> tuple[str | None, str | None]:
    """The case's ``E-post`` and ``Avsändare`` (display name), either possibly missing."""
    return case.info.fields.get(SENDER_FIELD), case.info.fields.get(SENDER_NAME_FIELD)


def unmailed_indices(case: Case, allocation: Allocation) -> list[int]:
    """Recipients who get money but have no address, so they get no e-mail."""
    return [i for i, r in enumerate(case.recipients) if allocation.totals[i] > 0 and not r.emails]


def mailed_indices(case: Case, allocation: Allocation) -> list[int]:
    """Recipients who get a letter (money above 0) and have an address, in workbook order."""
    if not sender_of(case)[0]:
        return []
    return [i for i, r in enumerate(case.recipients) if allocation.totals[i] > 0 and r.emails]


def outbox_warnings(case: Case, allocation: Allocation) -> list[str]:
    """Swedish warnings for recipients left out of the outbox, and for a missing sender address."""
    warnings = []
    for i in unmailed_indices(case, allocation):
        recipient = case.recipients[i]
        warnings.append(str(Problem(f"Mottagare, rad {recipient.row}",
                                    f"{recipient.name} får {kronor(allocation.totals[i], nbsp=False)} men har ingen "
                                    "e-postadress och får inget e-postmeddelande. "
                                    "Fyll i kolumnen E-post för att skicka brevet med e-post.")))
    has_addresses = any(allocation.totals[i] > 0 and r.emails for i, r in enumerate(case.recipients))
    if has_addresses and not sender_of(case)[0]:
        warnings.append(str(Problem("Ärende", f'fältet "{SENDER_FIELD}" saknas, så inga e-postmeddelanden skrivs. '
                                              "Fyll i avsändarens e-postadress för att få ett utskick.")))
    return warnings


def write_outbox(case: Case, allocation: Allocation, run_dir: Path, letters: Mapping[int, Path],
                 body_renderer: BodyRenderer, *, now: dt.datetime | None = None) -> list[Path]:
    """Write ``utskick/<recipient>.eml`` for every mailed recipient; return the files written.

    ``letters`` maps a recipient's index to its letter (the PDF where one was made, else the
    .docx); the appendix ``fordelning.xlsx`` of ``run_dir`` goes with every message.
    """
    indices = mailed_indices(case, allocation)
    if not indices:
        return []
    now = now or dt.datetime.now().astimezone()
    sender, sender_name = sender_of(case)
    names = unique_filenames([r.name for r in case.recipients])
    appendix = Path(run_dir) / APPENDIX_FILE
    outbox = Path(run_dir) / OUTBOX_DIR
    outbox.mkdir(exist_ok=True)
    written = []
    for i in indices:
        recipient = case.recipients[i]
        attachments = [(p, p.name) for p in [letters.get(i)] if p is not None]
        if appendix.is_file():
            attachments.append((appendix, APPENDIX_NAME))
        message = build_message(sender=sender, sender_name=sender_name, to=recipient.emails,
                                subject=subject_for(case, recipient), body=body_renderer(i),
                                attachments=attachments, date=now)
        path = outbox / f"{names[i]}.eml"
        path.write_bytes(message_bytes(message))
        written.append(path)
    return written


def build_message(*, sender: str, sender_name: str | None, to: Sequence[str], subject: str, body: str,
                  attachments: Sequence[tuple[Path, str]] = (), date: dt.datetime | None = None) -> EmailMessage:
    """One message: plain text with an HTML alternative, then the attachments (file, name shown).

    A line break in any header value is a bug here (validation rejects it in the workbook), so it
    raises ValueError rather than let a value add headers of its own.
    """
    for value in (sender, sender_name or "", subject, *to):
        if _LINE_BREAK.search(value):
            raise ValueError(f"line break in a header value: {value!r}")
    if not to:
        raise ValueError("a message needs at least one recipient")
    sender_address = address(sender, sender_name or "")
    recipients = [address(a) for a in to]
    needs_utf8 = any(not a.username.isascii() for a in [sender_address, *recipients])
    message = EmailMessage(policy=policy.SMTPUTF8 if needs_utf8 else policy.SMTP)
    message["From"] = sender_address
    message["To"] = recipients
    message["Subject"] = subject
    message["Date"] = format_datetime(date or dt.datetime.now().astimezone())
    message["Message-ID"] = make_msgid(domain=sender_address.domain)
    message.set_content(body, cte="quoted-printable")
    message.add_alternative(html_body(body, subject), subtype="html", cte="quoted-printable")
    for path, name in attachments:
        maintype, subtype = _CONTENT_TYPES.get(Path(name).suffix.lower(), ("application", "octet-stream"))
        message.add_attachment(Path(path).read_bytes(), maintype=maintype, subtype=subtype, filename=name)
        message.get_payload()[-1].set_param("name", name)
    for part in message.walk():
        if part is not message:
            del part["MIME-Version"]
    message["Content-Language"] = "sv"
    return message


def address(addr_spec: str, display_name: str = "") -> Address:
    """An address with its domain in IDNA form (``älvdalen.se`` → ``xn--lvdalen-5xa.se``)."""
    username, _, domain = addr_spec.strip().rpartition("@")
    if not username or not domain:
        raise ValueError(f"not an e-mail address: {addr_spec!r}")
    return Address(display_name=display_name, username=username, domain=domain.encode("idna").decode("ascii"))


def message_bytes(message: EmailMessage) -> bytes:
    """The message as sent over SMTP: CRLF line ends, lines folded."""
    return message.as_bytes()


def html_body(text: str, title: str) -> str:
    """The HTML alternative of a plain-text body: paragraphs at blank lines, links clickable."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    blocks = "\n".join("<p>" + "<br>\n".join(_linked(line) for line in p.split("\n")) + "</p>" for p in paragraphs)
    return ("<!DOCTYPE html>\n<html lang=\"sv\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n</head>\n"
            "<body style=\"font-family: Calibri, Arial, sans-serif; font-size: 11pt;\">\n"
            f"{blocks}\n</body>\n</html>\n")


def _linked(line: str) -> str:
    """One line of text as HTML, with web and e-mail addresses as links."""
    out, last = [], 0
    for match in _LINK.finditer(line):
        out.append(html.escape(line[last:match.start()]))
        target = match.group(0)
        href = target if match.group(1) else f"mailto:{target}"
        out.append(f'<a href="{html.escape(href)}">{html.escape(target)}</a>')
        last = match.end()
    out.append(html.escape(line[last:]))
    return "".join(out)
