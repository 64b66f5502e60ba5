"""When a workbook dropped into the hot folder may be run: the watcher's rules, apart from moving files and logging.

A file is a candidate by its name (.xlsx/.xlsm, not hidden, not a lock or temporary file). It is
ready when its size, modification time and identity have been unchanged for ``quiet`` seconds, no
other program holds it open, and it reads as a whole workbook, or is plainly no zip at all, or has
stayed unreadable for ``give_up_after`` seconds (then the run reports what is wrong with it).
``Readiness`` keeps what it has seen of each name and reads time only from the clock it is given.
"""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}
ZIP_SIGNATURE = b"PK\x03\x04"

Clock = Callable[[], float]
Signature = tuple[int, int, int]


@dataclass(frozen=True)
class Verdict:
    """What to do with a candidate now: run it, or wait (``held_by`` names the holder the first time only)."""

    run: bool = False
    held_by: str | None = None


WAIT = Verdict()
RUN = Verdict(run=True)


@dataclass
class _Seen:
    signature: Signature
    since: float
    handled: bool = False
    noted: bool = False


class Readiness:
    """The readiness rules over time: feed it what a look at the folder shows, it says which file to run."""

    def __init__(self, quiet: float, give_up_after: float, clock: Clock = time.monotonic):
        self.quiet = float(quiet)
        self.give_up_after = max(float(give_up_after), self.quiet)
        self._clock = clock
        self._seen: dict[str, _Seen] = {}

    def keep_only(self, names: Iterable[str]) -> None:
        """Forget every file that is no longer in the folder."""
        present = set(names)
        for name in [n for n in self._seen if n not in present]:
            del self._seen[name]

    def verdict(self, name: str, signature: Signature | None, *, held_by: Callable[[], str | None],
                readable: Callable[[], bool]) -> Verdict:
        """Whether the file ``name``, now with ``signature`` (None: gone), is ready to run.

        ``held_by`` and ``readable`` look at the file itself; they are asked only once it has been
        unchanged for the quiet time, since reading a workbook that is still being written is wasted.
        """
        now = self._clock()
        seen = self._seen.get(name)
        if signature is None:
            self._seen.pop(name, None)
            return WAIT
        if seen is None or seen.signature != signature:
            self._seen[name] = _Seen(signature, now)
            return WAIT
        if seen.handled or now - seen.since < self.quiet:
            return WAIT
        holder = held_by()
        if holder:
            if seen.noted:
                return WAIT
            seen.noted = True
            return Verdict(held_by=holder)
        return RUN if readable() or now - seen.since >= self.give_up_after else WAIT

    def forget(self, name: str) -> None:
        """Look at ``name`` afresh, as if it had just appeared (it changed while it was run)."""
        self._seen.pop(name, None)

    def leave_until_changed(self, name: str) -> None:
        """Do not run ``name`` again until it changes (it was run but could not be moved away)."""
        if name in self._seen:
            self._seen[name].handled = True


def is_workbook_name(name: str) -> bool:
    """A name the watcher runs: .xlsx/.xlsm, not hidden, not a lock or temporary file."""
    return not name.startswith((".", "~")) and Path(name.casefold()).suffix in WORKBOOK_SUFFIXES


def signature(path: Path) -> Signature | None:
    """Size, modification time and identity of the file; None when it is gone."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ino


def is_whole_workbook(path: Path) -> bool:
    """True when the zip reads whole: central directory present and every member's checksum right."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zipfile.LargeZipFile):
        return False


def is_not_a_zip(path: Path) -> bool:
    """True when the file's first bytes are there and are not a zip's: no copy in progress will mend it.

    A copy writes the beginning first, so a half-copied workbook already starts with the zip
    signature; an old .xls, an encrypted workbook or a renamed text file never will, and the
    run reports what it is and how to mend it.
    """
    try:
        with open(path, "rb") as file:
            head = file.read(len(ZIP_SIGNATURE))
    except OSError:
        return False
    return len(head) == len(ZIP_SIGNATURE) and head != ZIP_SIGNATURE


def held_open_by(path: Path) -> str | None:
    """The program that holds the workbook open, where that can be seen, else None.

    Excel leaves ``~$name`` beside an open workbook, LibreOffice ``.~lock.name#``; on Windows a
    file open for writing elsewhere also refuses to be opened for writing.
    """
    name = path.name
    if (path.parent / f"~${name}").exists():
        return "Excel"
    if (path.parent / f".~lock.{name}#").exists():
        return "LibreOffice"
    if os.name == "nt" and os.access(path, os.W_OK):
        try:
            os.close(os.open(path, os.O_RDWR))
        except PermissionError:
            return "ett annat program"
    return None
