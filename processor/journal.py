"""The mail journal ``utskick/skickat.jsonl`` and the headers of the outbox's ``.eml`` files.

The journal is the one record of what has been sent: one JSON line per accepted delivery,
``{"file", "message_id", "recipients", "time", "server"}``, appended and fsynced the moment the
server accepts a message, under a lock so two ``send`` runs cannot overlap. A message is known
by its file name in the outbox; ``send`` and the report both read the journal and the messages'
headers here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.utils import getaddresses
from pathlib import Path

from processor.errors import InputError, Problem
from processor.layout import JOURNAL_FILE, OUTBOX_DIR, SEND_LOCK

HEAD_LIMIT = 1 << 18
RECIPIENT_HEADER = "X-Processor-Recipient"
"""The program's own header naming the recipient a message is for (reminders), so ``send`` can check the ledger."""
AWAITS_HEADER = "X-Processor-Awaits"
"""The program's own header saying what answer a round's message waits for (``redovisning``: the report); without it,
the invoice (a reminder to invoice), so ``send`` knows whom the ledger says has answered since."""
JOURNAL_PLACE = f"{OUTBOX_DIR}/{JOURNAL_FILE}"
_FOLDED_LINE = re.compile(r"\r?\n(?![ \t])")
_FOLD = re.compile(r"\r?\n[ \t]")


# --- the headers of a message -------------------------------------------------------------------

@dataclass(frozen=True)
class MessageHeaders:
    """The header fields of an ``.eml`` (lower-case name → unfolded values), read from its header block only.

    Header lines are unfolded here rather than by the email parser, which costs most of reading a
    large outbox; each field is made sense of only when asked for, addresses as the parser gives them.
    """

    fields: dict[str, list[str]]

    @classmethod
    def read(cls, path: Path) -> MessageHeaders:
        fields: dict[str, list[str]] = {}
        for line in _FOLDED_LINE.split(message_head(path).decode("utf-8", "replace")):
            name, colon, value = line.partition(":")
            if colon:
                fields.setdefault(name.strip().lower(), []).append(value)
        return cls(fields)

    @property
    def senders(self) -> tuple[str, ...]:
        return self._addresses("from")

    @property
    def to(self) -> tuple[str, ...]:
        """The To and Cc addresses: whom ``send`` delivers the message to."""
        return self._addresses("to", "cc")

    @property
    def subject(self) -> str:
        """The subject as text (RFC 2047 encoded words decoded)."""
        return self._decoded("subject")

    @property
    def message_id(self) -> str:
        return self._first("message-id")

    @property
    def recipient(self) -> str:
        """The recipient's name in ``X-Processor-Recipient`` (decoded), or ""."""
        return self._decoded(RECIPIENT_HEADER.lower())

    @property
    def awaits(self) -> str:
        """What the message waits for (``X-Processor-Awaits``), or ""."""
        return self._first(AWAITS_HEADER.lower())

    def _first(self, name: str) -> str:
        values = self.fields.get(name)
        return _FOLD.sub(" ", values[0]).strip() if values else ""

    def _decoded(self, name: str) -> str:
        """A field's first value with its RFC 2047 encoded words decoded (as it stands if they cannot be)."""
        value = self._first(name)
        try:
            return str(make_header(decode_header(value)))
        except (ValueError, LookupError):
            return value

    def _addresses(self, *names: str) -> tuple[str, ...]:
        values = [_FOLD.sub(" ", value) for name in names for value in self.fields.get(name, [])]
        return tuple(address for _, address in getaddresses(values) if address)


def message_head(path: Path, limit: int = HEAD_LIMIT) -> bytes:
    """The header block of an ``.eml`` file, read without its attachments."""
    head = b""
    with open(path, "rb") as handle:
        while len(head) < limit:
            chunk = handle.read(8192)
            head += chunk
            end = head.find(b"\r\n\r\n")
            if end < 0:
                end = head.find(b"\n\n")
            if end >= 0:
                return head[:end]
            if not chunk:
                break
    return head


# --- reading the journal ------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    """One line of the journal: a message accepted by the server for some of its addresses."""

    file: str
    recipients: frozenset[str]
    time: dt.datetime | None
    message_id: str = ""
    server: str = ""


def read_journal(path: Path) -> dict[str, list[Delivery]]:
    """File name → its deliveries, in the order written; InputError with every line that cannot be read.

    A last line cut off by a crash (begun but never ended) is not a delivery and is passed over.
    """
    deliveries: dict[str, list[Delivery]] = {}
    if not Path(path).is_file():
        return deliveries
    data = Path(path).read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError([Problem(f"{JOURNAL_PLACE}, rad 1", "filen är sparad som UTF-16 (\"Unicode\" i Anteckningar), "
                                                            "inte som UTF-8. Öppna den i Anteckningar och spara den "
                                                            "igen med kodningen UTF-8, utan att ändra något annat.")])
    problems = []
    for number, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), 1):
        delivery = _delivery(raw.strip(), f"{JOURNAL_PLACE}, rad {number}", problems)
        if delivery:
            deliveries.setdefault(delivery.file, []).append(delivery)
    if problems:
        raise InputError(problems)
    return deliveries


def _delivery(raw: bytes, where: str, problems: list[Problem]) -> Delivery | None:
    """One line of the journal; what is wrong with it goes to ``problems``."""
    if not raw or (raw.startswith(b"{") and not raw.endswith(b"}")):
        return None  # an empty line, or one a crash cut off before the delivery was written down
    mend = ("Återställ skickat.jsonl från en säkerhetskopia, eller rätta raden så att den har samma form som de "
            "andra. Ta inte bort raden: då skickas meddelandet igen.")
    try:
        entry = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        problems.append(Problem(where, "raden är inte skriven i UTF-8 (filen har sparats med en annan "
                                       f"teckenkodning). {mend}"))
        return None
    except ValueError as error:
        problems.append(Problem(where, f"raden är ingen giltig journalrad (JSON-fel vid tecken {error.pos + 1}). {mend}"))
        return None
    recipients = entry.get("recipients") if isinstance(entry, dict) else None
    if (not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or not isinstance(recipients, list)
            or not all(isinstance(a, str) for a in recipients)):
        problems.append(Problem(where, f'raden saknar "file" (filnamnet) eller "recipients" (adresserna). {mend}'))
        return None
    return Delivery(entry["file"], frozenset(a.strip().lower() for a in recipients), _time(entry.get("time")),
                    str(entry.get("message_id", "")), str(entry.get("server", "")))


def delivered_to(deliveries: list[Delivery]) -> set[str]:
    """Every address (lower case) that has accepted the message."""
    return set().union(*(d.recipients for d in deliveries))


def _time(text) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None


# --- writing the journal ------------------------------------------------------------------------

class JournalBusy(Exception):
    """Another ``send`` holds the journal's lock."""


class Journal:
    """The append-only record of deliveries, held locked so two ``send`` runs cannot overlap."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / JOURNAL_FILE
        self.lock_path = Path(folder) / SEND_LOCK
        self.handle = self.lock = None
        self.line_open = False

    def __enter__(self) -> Journal:
        self.lock = open(self.lock_path, "ab")
        try:
            _lock(self.lock)
        except OSError:
            self.lock.close()
            raise JournalBusy(str(self.lock_path.parent)) from None
        self.handle = open(self.path, "ab")
        self.line_open = bool(self.handle.seek(0, os.SEEK_END)) and self._last_byte() != b"\n"
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()
        self.lock.close()

    def record(self, file: str, message_id: str, recipients: list[str], answer: str) -> None:
        """Write one delivery and force it to disk before the next message goes."""
        entry = {"file": file, "message_id": message_id, "recipients": recipients,
                 "time": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "server": answer}
        line = json.dumps(entry, ensure_ascii=False).encode("utf-8") + b"\n"
        self._write(b"\n" + line if self.line_open else line)  # a line cut off by a crash is ended first
        self.line_open = False

    def _write(self, data: bytes) -> None:
        self.handle.write(data)
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def _last_byte(self) -> bytes:
        with open(self.path, "rb") as reader:
            reader.seek(-1, os.SEEK_END)
            return reader.read(1)


def _lock(handle) -> None:
    """An exclusive, non-blocking lock that the operating system drops if the process dies."""
    try:
        import fcntl
    except ImportError:
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
