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

from processor.layout import JOURNAL_FILE, SEND_LOCK

HEAD_LIMIT = 1 << 18
_FOLDED_LINE = re.compile(r"\r?\n(?![ \t])")
_FOLD = re.compile(r"\r?\n[ \t]")


# --- the headers of a message -------------------------------------------------------------------

@dataclass(frozen=True)
class MessageHeaders:
    """What ``send`` and the report need from an ``.eml``: envelope addresses, subject and Message-ID."""

    senders: tuple[str, ...]
    to: tuple[str, ...]
    subject: str
    message_id: str

    @classmethod
    def read(cls, path: Path) -> MessageHeaders:
        """The headers of ``path``, read from its header block only (an outbox can hold gigabytes).

        Header lines are unfolded here rather than by the email parser, which costs most of
        reading a large outbox; addresses come out as the parser gives them.
        """
        fields: dict[str, list[str]] = {}
        for line in _FOLDED_LINE.split(message_head(path).decode("utf-8", "replace")):
            name, colon, value = line.partition(":")
            if colon:
                fields.setdefault(name.strip().lower(), []).append(_FOLD.sub(" ", value).strip())
        return cls(senders=_addresses(fields.get("from", [])),
                   to=_addresses(fields.get("to", []) + fields.get("cc", [])),
                   subject=_decoded(fields.get("subject", [""])[0]),
                   message_id=fields.get("message-id", [""])[0])


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


def _addresses(values: list[str]) -> tuple[str, ...]:
    return tuple(address for _, address in getaddresses(values) if address)


def _decoded(value: str) -> str:
    """An RFC 2047 encoded header value as text."""
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError):
        return value


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
    """File name → its deliveries, in the order written; a line cut off by a crash is ignored."""
    deliveries: dict[str, list[Delivery]] = {}
    if not Path(path).is_file():
        return deliveries
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            delivery = Delivery(str(entry["file"]), frozenset(str(a).strip().lower() for a in entry["recipients"]),
                                _time(entry.get("time")), str(entry.get("message_id", "")),
                                str(entry.get("server", "")))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        deliveries.setdefault(delivery.file, []).append(delivery)
    return deliveries


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

    def __enter__(self) -> Journal:
        self.lock = open(self.lock_path, "ab")
        try:
            _lock(self.lock)
        except OSError:
            self.lock.close()
            raise JournalBusy(str(self.lock_path.parent)) from None
        self.handle = open(self.path, "ab")
        if self.handle.seek(0, os.SEEK_END) and self._last_byte() != b"\n":
            self._write(b"\n")
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()
        self.lock.close()

    def record(self, file: str, message_id: str, recipients: list[str], answer: str) -> None:
        """Write one delivery and force it to disk before the next message goes."""
        entry = {"file": file, "message_id": message_id, "recipients": recipients,
                 "time": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "server": answer}
        self._write(json.dumps(entry, ensure_ascii=False).encode("utf-8") + b"\n")

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
