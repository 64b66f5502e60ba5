"""The outbox: one ready ``.eml`` per recipient with money and an address, its letter attached (and the
appendix, up to ``APPENDIX_ATTACHED_MAX`` recipients).

Messages follow RFC 5322 and MIME (RFC 2047 encoded words for Swedish display names and
subjects, RFC 2231 attachment names) and are written in SMTP wire format (CRLF), so
``processor send`` can deliver the files byte for byte and a mail program opens them as they
will arrive. They are written directly, with the ``email`` package's helpers for the encoded
pieces: ``EmailMessage`` costs several milliseconds a message.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import html
import quopri
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from email.utils import encode_rfc2231, formataddr, format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from processor.appendix import APPENDIX_ATTACHED_MAX, appendix_attached
from processor.checksums import write_hashed
from processor.errors import InputError, Problem
from processor.formats import kronor, number
from processor.layout import RESULT_FILE, RunLayout
from processor.model import Allocation, Case, Recipient
from processor.vocabulary import APPENDIX_LINK_FIELD, CASE_SHEET, EMAIL_COL, RECIPIENT_SHEET, SENDER_EMAIL, SENDER_NAME, SUBJECT

if TYPE_CHECKING:
    from email.headerregistry import Address

BODY_TEMPLATE = "epost.txt"
APPENDIX_NAME = "Bilaga 1 fördelning.xlsx"

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
    base = case.info.fields.get(SUBJECT) or case.info.title
    return f"{base} – {' '.join(recipient.name.split())}"


def sender_of(case: Case) -> tuple[str | None, str | None]:
    """The case's ``E-post`` and ``Avsändare`` (display name), either possibly missing."""
    return case.info.fields.get(SENDER_EMAIL), case.info.fields.get(SENDER_NAME)


def no_sender(run_dir: Path, consequence: str) -> InputError:
    """The error of a round that needs the case's sender address and has none: ``consequence`` says what cannot be
    done (``inga påminnelser kan skrivas``)."""
    return InputError([Problem(f"{run_dir}/{RESULT_FILE}", f'ärendet har ingen avsändaradress (fältet "{SENDER_EMAIL}" '
                                                          f"på bladet {CASE_SHEET}), så {consequence}. "
                                                          "Fyll i fältet i arbetsboken och kör processor run igen.")])


def unmailed_indices(case: Case, allocation: Allocation) -> list[int]:
    """Recipients who get money but have no address, so they get no e-mail."""
    return [i for i, r in enumerate(case.recipients) if allocation.totals[i] > 0 and not r.emails]


def mailed_indices(case: Case, allocation: Allocation) -> list[int]:
    """Recipients who get a letter (money above 0) and have an address, in workbook order."""
    if not sender_of(case)[0]:
        return []
    return [i for i, r in enumerate(case.recipients) if allocation.totals[i] > 0 and r.emails]


def outbox_warnings(case: Case, allocation: Allocation) -> list[str]:
    """Swedish warnings for recipients left out of the outbox, for a missing sender address, and for letters
    that can only offer the whole table on request."""
    warnings = []
    for i in unmailed_indices(case, allocation):
        recipient = case.recipients[i]
        warnings.append(str(Problem(f"{RECIPIENT_SHEET}, rad {recipient.row}",
                                    f"{recipient.name} får {kronor(allocation.totals[i], nbsp=False)} men har ingen "
                                    "e-postadress och får inget e-postmeddelande. "
                                    f"Fyll i kolumnen {EMAIL_COL} för att skicka brevet med e-post.")))
    has_addresses = any(allocation.totals[i] > 0 and r.emails for i, r in enumerate(case.recipients))
    if has_addresses and not sender_of(case)[0]:
        warnings.append(str(Problem(CASE_SHEET, f'fältet "{SENDER_EMAIL}" saknas, så inga e-postmeddelanden skrivs. '
                                              "Fyll i avsändarens e-postadress för att få ett utskick.")))
    if not appendix_attached(case) and any(allocation.totals) and not case.info.fields.get(APPENDIX_LINK_FIELD):
        count, limit = (number(n, nbsp=False) for n in (len(case.recipients), APPENDIX_ATTACHED_MAX))
        field = f'fältet "{APPENDIX_LINK_FIELD}"'
        warnings.append(str(Problem(CASE_SHEET, f"med {count} mottagare (fler än {limit}) bifogas inte hela fördelningen till "
                                                f"e-postmeddelandena, och eftersom {field} saknas står det i breven att den "
                                                "skickas på begäran. Lägg fordelning.xlsx där mottagarna kan hämta den "
                                                f"(t.ex. på er webbplats) och skriv länken eller platsen i {field}.")))
    return warnings


class Outbox:
    """The run's e-mails, written one recipient at a time, by whichever worker wrote that recipient's letter.

    The appendix ``fordelning.xlsx`` of the run folder goes with every message, encoded once, as long as there
    are at most ``APPENDIX_ATTACHED_MAX`` recipients; beyond that the letters say where the whole table is.
    """

    def __init__(self, case: Case, allocation: Allocation, layout: RunLayout, body_renderer: BodyRenderer, *,
                 now: dt.datetime | None = None):
        self.case, self.body_renderer = case, body_renderer
        self.indices = mailed_indices(case, allocation)
        self._mailed = set(self.indices)
        self.now = now or dt.datetime.now().astimezone()
        self.sender, self.sender_name = sender_of(case)
        self.layout = layout
        appendix = layout.appendix
        attached = self.indices and appendix_attached(case) and appendix.is_file()
        self.shared = [attachment_part(appendix.read_bytes(), APPENDIX_NAME)] if attached else []
        if self.indices:
            layout.outbox.mkdir(exist_ok=True)

    def __contains__(self, index: int) -> bool:
        return index in self._mailed

    def write(self, index: int, letter: tuple[str, bytes] | None) -> tuple[Path, str]:
        """Write recipient ``index``'s message with ``letter`` (file name, content) attached: its path and SHA-256."""
        recipient = self.case.recipients[index]
        attachments = [attachment_part(letter[1], letter[0])] if letter else []
        parts = message_parts(sender=self.sender, sender_name=self.sender_name, to=recipient.emails,
                              subject=subject_for(self.case, recipient), body=self.body_renderer(index),
                              attachments=attachments + self.shared, date=self.now)
        path = self.layout.message(index)
        return path, write_hashed(path, parts)


def message_parts(*, sender: str, sender_name: str | None, to: Sequence[str], subject: str, body: str,
                  attachments: Sequence[bytes] = (), date: dt.datetime | None = None,
                  headers: Mapping[str, str] | None = None) -> list[bytes]:
    """One message in SMTP wire format, in pieces to write one after the other: plain text with an HTML
    alternative, then the attachments (each made by ``attachment_part``).

    Written directly rather than through ``EmailMessage``, which costs several milliseconds a message;
    the pieces are never joined, so a large shared attachment is written from one copy. ``headers``: the
    program's own (``X-Processor-Recipient``), their values as encoded words. A line break
    in any header value is a bug here (validation rejects it in the workbook), so it raises ValueError
    rather than let a value add headers of its own.
    """
    for value in (sender, sender_name or "", subject, *to, *(headers or {}).values()):
        if _LINE_BREAK.search(value):
            raise ValueError(f"line break in a header value: {value!r}")
    if not to:
        raise ValueError("a message needs at least one recipient")
    sender_address = address(sender, sender_name or "")
    recipients = [address(a) for a in to]
    utf8 = any(not a.username.isascii() for a in [sender_address, *recipients])
    mixed, alternative = _boundary(), _boundary()
    lines = [
        f"From: {_address_header(sender_address, utf8)}",
        f"To: {', '.join(_address_header(r, utf8) for r in recipients)}",
        f"Subject: {subject if utf8 else _encoded_words(subject)}",
        f"Date: {format_datetime(date or dt.datetime.now().astimezone())}",
        f"Message-ID: {make_msgid(domain=sender_address.domain)}",
        *(f"{name}: {_encoded_words(value)}" for name, value in (headers or {}).items()),
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{mixed}"',
        "Content-Language: sv",
        "",
        f"--{mixed}",
        f'Content-Type: multipart/alternative; boundary="{alternative}"',
        "",
        f"--{alternative}",
    ]
    head = "\r\n".join(lines).encode("utf-8") + b"\r\n"
    parts = [head, _text_part("plain", body), f"--{alternative}\r\n".encode(),
             _text_part("html", html_body(body, subject)), f"--{alternative}--\r\n\r\n".encode()]
    for part in attachments:
        parts += [f"--{mixed}\r\n".encode(), part]
    parts.append(f"--{mixed}--\r\n".encode())
    return parts


def _boundary() -> str:
    return f"==============={secrets.randbelow(10**19):019d}=="


def _encoded_words(value: str) -> str:
    """RFC 2047 base64 encoded words, folded, each under 78 characters; ASCII stays as it is."""
    if value.isascii():
        return value
    chunks, chunk = [], ""
    for character in value:
        if len((chunk + character).encode("utf-8")) > 42:
            chunks.append(chunk)
            chunk = ""
        chunk += character
    chunks.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(c.encode('utf-8')).decode('ascii')}?=" for c in chunks)


def _address_header(value: Address, utf8: bool) -> str:
    if not value.display_name:
        return value.addr_spec
    if utf8:
        return str(value)
    if value.display_name.isascii():
        return formataddr((value.display_name, value.addr_spec))
    return f"{_encoded_words(value.display_name)} <{value.addr_spec}>"


def _text_part(subtype: str, text: str) -> bytes:
    """A quoted-printable UTF-8 text part with CRLF line ends."""
    data = text.replace("\r\n", "\n").encode("utf-8")
    encoded = quopri.encodestring(data).replace(b"\n", b"\r\n")
    if not encoded.endswith(b"\r\n"):
        encoded += b"\r\n"
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode() + encoded


def attachment_part(data: bytes, name: str) -> bytes:
    """A base64 attachment part; a Swedish file name is given as RFC 2231 ``name*``/``filename*``."""
    maintype, subtype = _CONTENT_TYPES.get(Path(name).suffix.lower(), ("application", "octet-stream"))
    if name.isascii():
        name_param, filename_param = f'name="{name}"', f'filename="{name}"'
    else:
        encoded_name = encode_rfc2231(name, "utf-8")
        name_param, filename_param = f"name*={encoded_name}", f"filename*={encoded_name}"
    head = (f"Content-Type: {maintype}/{subtype}; {name_param}\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment; {filename_param}\r\n\r\n")
    return head.encode() + base64_lines(data)


def base64_lines(data: bytes) -> bytes:
    """Base64 in lines of 76 characters, each ended by CRLF (what ``base64.encodebytes`` gives, ten times faster)."""
    encoded = binascii.b2a_base64(data, newline=False)
    if not encoded:
        return b""
    return b"\r\n".join([encoded[i:i + 76] for i in range(0, len(encoded), 76)]) + b"\r\n"


def address(addr_spec: str, display_name: str = "") -> Address:
    """An address with its domain in IDNA form (``älvdalen.se`` → ``xn--lvdalen-5xa.se``)."""
    from email.headerregistry import Address  # here, so that ``processor validate`` starts without it

    username, _, domain = addr_spec.strip().rpartition("@")
    if not username or not domain:
        raise ValueError(f"not an e-mail address: {addr_spec!r}")
    return Address(display_name=display_name, username=username, domain=domain.encode("idna").decode("ascii"))


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
