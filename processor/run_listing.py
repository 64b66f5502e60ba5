"""What the run folder holds, as the report lists it: the mailing (each message and whether it went) and the files.

Each file is named in words (``Brev till Avesta (Word)``) with its size and SHA-256; each message's
state comes from the send journal ``utskick/skickat.jsonl`` and the addresses in its .eml.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from processor import formats
from processor.checksums import Checksums, FileEntry
from processor.journal import Delivery, MessageHeaders, delivered_to, read_journal
from processor.layout import (APPENDIX_FILE, DECISION_FILE, EDITED_FILES, JOURNAL_FILE, LEDGER_FILE, LETTER_DIR,
                              MANIFEST_FILE, MESSAGE_SUFFIX, OUTBOX_DIR, PDF_SUFFIX, PREVIOUS_LEDGER_FILE, REPORT_FILE,
                              RESULT_FILE, ROUND_DECISION_FILE, STATUS_FILE, RunLayout)
from processor.pages import when


# --- mailing: the outbox and the send journal ---------------------------------------------------

def build_mailing(result: dict, layout: RunLayout, listing: Iterable[FileEntry]) -> dict:
    """Per recipient with money: its message (found in ``listing``, the folder's files), to whom, and whether
    and when it was sent."""
    outbox = layout.outbox
    journal = read_journal(layout.journal)
    rows, sent = [], 0
    messages = {entry.parts[1] for entry in listing
                if len(entry.parts) == 2 and entry.parts[0] == OUTBOX_DIR and entry.parts[1].endswith(MESSAGE_SUFFIX)}
    for index, recipient in enumerate(result["recipients"]):
        file = layout.message_name(index)
        if file in messages:
            row = message_status(recipient["name"], outbox / file, journal.get(file, []))
            sent += row["state"] == "sent"
            rows.append(row)
        elif recipient.get("addition", recipient["total"]) > 0 and (messages or not recipient["email"]):  # a round: gains
            rows.append({"name": recipient["name"], "to": ", ".join(recipient["email"]), "href": None, "file": "",
                         "state": "none", "status": "Inget e-postmeddelande", "when": "",
                         "detail": "ingen e-postadress" if not recipient["email"] else "inget i utskicket"})
    known = {layout.message_name(i) for i in range(len(layout.stems))}
    for file in sorted(messages - known):
        row = message_status("", outbox / file, journal.get(file, []))
        sent += row["state"] == "sent"
        rows.append(row)
    total = len(messages)
    if not total:
        headline, note = "Inget utskick", "inga e-postmeddelanden i körningen"
    else:
        headline, note = f"{sent} av {total} skickade", "enligt utskicksjournalen" if journal else "inget skickat än"
    return {"rows": rows, "sent": sent, "total": total, "headline": headline, "note": note,
            "pending": total - sent, "has_outbox": bool(total)}


def message_status(name: str, path: Path, deliveries: list[Delivery]) -> dict:
    """One message's row: sent when every To/Cc address is in the journal, partly when some are."""
    addresses = MessageHeaders.read(path).to
    delivered = delivered_to(deliveries)
    missing = [a for a in addresses if a.lower() not in delivered]
    times = [d.time for d in deliveries if d.time]
    if deliveries and not missing:
        state, status = "sent", "Skickat"
    elif deliveries:
        state, status = "partial", "Delvis skickat"
    else:
        state, status = "waiting", "Inte skickat"
    detail = f"ej till {', '.join(missing)}" if deliveries and missing else ""
    return {"name": name, "to": ", ".join(addresses), "href": _href(Path(OUTBOX_DIR, path.name)),
            "file": path.name, "state": state, "status": status, "when": when(max(times)) if times else "",
            "detail": detail}


# --- the files of the run folder ----------------------------------------------------------------

def build_files(layout: RunLayout, recipients: list[dict], checksums: Checksums,
                listing: Iterable[FileEntry]) -> Iterator[dict]:
    """Every visible file of ``listing`` but this page, with what it is, its size and SHA-256, one at a time."""
    owners = {stem: r["name"] for stem, r in zip(layout.stems, recipients)}
    for entry in listing:
        if entry.path == REPORT_FILE or entry.hidden or entry.parts[-1].startswith("~$"):
            continue
        relative = Path(*entry.parts)
        if entry.path in EDITED_FILES:  # the administrator's to edit: no checksum to hold it to, as in the manifest
            yield {"path": entry.path, "href": _href(relative), "what": describe_file(relative, owners),
                   "size": file_size(entry.size), "sha256": ""}
            continue
        if entry.path == MANIFEST_FILE:  # it holds this page's checksum, so this page cannot hold its own
            yield {"path": entry.path, "href": _href(relative), "what": describe_file(relative, owners),
                   "size": "", "sha256": ""}
            continue
        yield {"path": entry.path, "href": _href(relative), "what": describe_file(relative, owners),
               "size": file_size(entry.size), "sha256": checksums.sha256(entry)}


def _href(relative: Path) -> str:
    return quote(Path(relative).as_posix())


FILE_KINDS = {".docx": "Word", ".pdf": "PDF", ".xlsx": "Excel", ".eml": "e-post", ".json": "JSON"}


FIXED_FILES = {RESULT_FILE: "Resultatet för andra program (JSON)",
               APPENDIX_FILE: "Bilaga 1: fördelningstabellen (Excel)",
               DECISION_FILE: "Tjänsteutlåtande (Word)",
               Path(DECISION_FILE).with_suffix(PDF_SUFFIX).as_posix(): "Tjänsteutlåtande (PDF)",
               ROUND_DECISION_FILE: "Tilläggsbeslut (Word)",
               MANIFEST_FILE: "Förteckning över körningen med kontrollsummor (JSON)",
               f"{OUTBOX_DIR}/{JOURNAL_FILE}": "Utskicksjournal: vad som har skickats och när",
               LEDGER_FILE: "Uppföljningen: fakturor, utbetalningar och redovisningar, att fylla i (Excel)",
               PREVIOUS_LEDGER_FILE: "Uppföljningen före senaste ändringen (Excel)",
               STATUS_FILE: "Läget i ärendet (webbsida)"}


def describe_file(relative: Path, owners: dict[str, str]) -> str:
    """What a file is, in words: ``Brev till Avesta (Word)``."""
    key = relative.as_posix()
    if key in FIXED_FILES:
        return FIXED_FILES[key]
    kind = FILE_KINDS.get(relative.suffix.lower(), relative.suffix.lstrip(".").upper() or "fil")
    owner = owners.get(relative.stem)
    if relative.parts[0] == LETTER_DIR and owner:
        return f"Brev till {owner} ({kind})"
    if relative.parts[0] == OUTBOX_DIR and relative.suffix == MESSAGE_SUFFIX and owner:
        return f"E-postmeddelande till {owner}"
    return f"{relative.name} ({kind})"


def file_size(size: int) -> str:
    """``812 byte``, ``12,3 kB``, ``1,4 MB``."""
    if size < 1000:
        return f"{size}{formats.NBSP}byte"
    if size < 1_000_000:
        return f"{formats.number(Decimal(size) / 1000, 1)}{formats.NBSP}kB"
    return f"{formats.number(Decimal(size) / 1_000_000, 1)}{formats.NBSP}MB"
