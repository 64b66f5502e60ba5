"""The run folder: built hidden, then renamed into place whole, never over an earlier run."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from processor.checksums import Checksums, FileEntry, folder_files
from processor.layout import run_folder_name, safe_filename

HIDDEN_SUFFIX = ".tmp"
_HIDDEN = re.compile(rf"^\..*\.(\d+)@([A-Za-z0-9-]*)\.[0-9a-f]+{re.escape(HIDDEN_SUFFIX)}$")


@contextmanager
def atomic_run_dir(out_dir: Path, stem: str, now: dt.datetime) -> Iterator[RunDir]:
    """Yield a hidden temporary folder; on success rename it to ``<stem>_<YYYYMMDD-HHMMSS>`` (suffix if taken).

    The final path is stored in the yielded holder's ``final`` attribute after the block.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    temp = _hidden_folder(out_dir, stem)
    holder = RunDir(temp)
    try:
        yield holder
        holder.final = _publish(temp, out_dir, run_folder_name(stem, now))
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


@contextmanager
def hidden_folder(parent: Path, prefix: str) -> Iterator[Path]:
    """Yield a new hidden folder in ``parent``, made like any folder the user makes (``_hidden_folder``), for a
    later round's files (``prefix``: ``paminnelse``); removed if the block fails. The block renames it into place
    whole as its last step."""
    hidden = _hidden_folder(parent, prefix)
    try:
        yield hidden
    except BaseException:
        shutil.rmtree(hidden, ignore_errors=True)
        raise


class IncompleteRun(Exception):
    """Files written into the hidden folder are gone or changed before it is published (exit status 1)."""


def check_complete(folder: Path, checksums: Checksums) -> list[FileEntry]:
    """The folder's files, once every file the run wrote is found there as written (its size); else IncompleteRun.

    Something else (a sync or clean-up program, a user) may delete or empty the hidden folder while a
    run writes it: the run must not then publish what is left as a finished run folder.
    """
    try:
        listing = folder_files(folder)
    except FileNotFoundError:
        listing = []
    missing = checksums.missing(listing)
    if missing:
        shown = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
        raise IncompleteRun(f"körmappen blev inte hel: {len(missing)} av {len(checksums)} filer som skrevs saknas "
                            f"eller har ändrats ({shown}). Den dolda mappen {folder.name} ändrades under körningen, "
                            "kanske av ett synk- eller rensningsprogram. Ingen körmapp skrevs. Kör processor run igen.")
    return listing


def _hidden_folder(out_dir: Path, stem: str) -> Path:
    """A new hidden folder ``.<stem>.<pid>@<host>.<random>.tmp``, made like any folder the user makes.

    Not ``tempfile.mkdtemp``, which makes it readable by its owner only, and the run folder would keep
    that: colleagues on a shared folder could not open it. The owner's process id and host are in
    the name, so a later run can tell a folder left by a run that died.
    """
    while True:
        temp = out_dir / f".{safe_filename(stem)}.{os.getpid()}@{_host()}.{secrets.token_hex(4)}{HIDDEN_SUFFIX}"
        try:
            os.mkdir(temp)  # mode 0o777 less the umask
            return temp
        except FileExistsError:
            continue


def remove_abandoned(out_dir: Path) -> list[str]:
    """Remove the hidden folders that runs on this machine left when they were killed; → their names.

    A folder whose owner (by the process id in its name) still runs, or that another machine made
    in a shared folder, is left alone.
    """
    removed = []
    try:
        entries = list(os.scandir(out_dir))
    except FileNotFoundError:
        return removed
    for entry in entries:
        owner = _HIDDEN.match(entry.name)
        if owner and entry.is_dir(follow_symlinks=False) and owner[2] == _host() and not _running(int(owner[1])):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return sorted(removed)


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists (where that cannot be asked safely, assume it does)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40]


class RunDir:
    def __init__(self, path: Path):
        self.path = path
        self.final: Path | None = None


def _publish(temp: Path, out_dir: Path, name: str) -> Path:
    n = 1
    while True:
        target = out_dir / (name if n == 1 else f"{name}_{n}")
        try:
            os.mkdir(target)  # claim the name; mkdir fails if anything has it
        except FileExistsError:
            n += 1
            continue
        os.rmdir(target)
        try:
            os.rename(temp, target)
            return target
        except OSError:
            n += 1
