"""A case's rounds: the first run folder and every later round made from it, followed back through ``previous``.

A round's ``fordelning.json`` names the folder it was made from (``previous.folder``), found beside it; a folder
that is gone is named in the history, not an error. ``processor status`` shows the history on the newest round.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from processor import formats
from processor.describe import count
from processor.layout import MANIFEST_FILE, RESULT_FILE


@dataclass(frozen=True)
class RoundRecord:
    """One round of a case: its folder, when it was made, the kronor freed, who gained, what stays unallocated."""

    number: int
    folder: str
    found: bool = True
    made: dt.date | None = None
    freed: int = 0
    declined: tuple[str, ...] = ()
    gained: tuple[str, ...] = ()
    allocated: int = 0
    unallocated: int = 0

    def to_json(self) -> dict:
        return {"round": self.number, "folder": self.folder, "found": self.found,
                "date": self.made.isoformat() if self.made else None, "freed": self.freed,
                "declined": list(self.declined), "gained": list(self.gained), "allocated": self.allocated,
                "unallocated": self.unallocated}

    def words(self) -> str:
        """The round in one line, for the text of ``processor status``."""
        if not self.found:
            return f"{self.number}. {self.folder}: mappen finns inte längre bredvid körmappen."
        when = f" ({formats.long_date(self.made)})" if self.made else ""
        if self.number == 1:
            return f"{self.number}. {self.folder}{when}: {formats.kronor(self.allocated, nbsp=False)} fördelat."
        line = (f"{self.number}. {self.folder}{when}: {formats.kronor(self.freed, nbsp=False)} frigjort "
                f"({', '.join(self.declined)}), {self._gained_words()} fick tillägg")
        return line + (f", {formats.kronor(self.unallocated, nbsp=False)} ej fördelat." if self.unallocated else ".")


    def _gained_words(self) -> str:
        return count(len(self.gained), "mottagare", "mottagare") if self.gained else "ingen"

def round_history(run_dir: Path) -> list[RoundRecord]:
    """Every round of the case up to ``run_dir``, the first first; [] for a folder that is no later round."""
    run_dir = Path(run_dir)
    document = _read(run_dir / RESULT_FILE)
    if document is None or "round" not in document:
        return []
    records = []
    folder: Path | None = run_dir
    while folder is not None:
        document = _read(folder / RESULT_FILE)
        if document is None:
            records.append(RoundRecord(records[-1].number - 1 if records else 1, folder.name, found=False))
            break
        records.append(_record(folder, document))
        previous = document.get("previous") or {}
        folder = run_dir.parent / previous["folder"] if previous.get("folder") else None
    return records[::-1]


def _record(folder: Path, document: dict) -> RoundRecord:
    number = document.get("round", 1)
    recipients = document["recipients"]
    declined = [r for r in recipients if r.get("declined_round") == number]
    return RoundRecord(number, folder.name, made=_made(folder, document), freed=sum(r.get("previous_total", 0) for r in declined),
                       declined=tuple(r["name"] for r in declined),
                       gained=tuple(r["name"] for r in recipients if r.get("addition", 0) > 0),
                       allocated=sum(r["total"] for r in recipients), unallocated=document.get("unallocated", 0))


def _made(folder: Path, document: dict) -> dt.date | None:
    """The round's date (``--idag`` when it was made), else, for a first round, when its manifest says it was made."""
    try:
        if "date" in document:
            return dt.date.fromisoformat(str(document["date"]))
        return dt.datetime.fromisoformat(str((_read(folder / MANIFEST_FILE) or {}).get("created"))).date()
    except ValueError:
        return None


def _read(path: Path) -> dict | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None
