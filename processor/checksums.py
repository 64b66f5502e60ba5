"""Checksums of a run folder's files, taken as each file is written and handed on explicitly.

Writers return ``(path, sha256)``; the pipeline collects them in a ``Checksums`` record that it
passes to the report and the manifest, so neither reads a file back just to hash it, nor walks
the folder: a run's record lists every file it wrote, and the folder is walked once, at the end,
to check that they are all there. A file the record does not know (a file changed by ``send``) is
hashed when asked.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a run folder as listed once for the report and the manifest."""

    parts: tuple[str, ...]
    full: str
    size: int

    @property
    def path(self) -> str:
        """The path inside the folder, with forward slashes: ``brev/Avesta.docx``."""
        return "/".join(self.parts)

    @property
    def hidden(self) -> bool:
        """A working file (the send lock, a report being replaced), not part of what the run made."""
        return any(part.startswith(".") for part in self.parts)


def folder_files(folder: Path) -> list[FileEntry]:
    """Every file below ``folder``, in path order, each stat'ed once."""
    found: list[FileEntry] = []

    def walk(directory: str, prefix: tuple[str, ...]) -> None:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir():
                    walk(entry.path, (*prefix, entry.name))
                elif entry.is_file():
                    found.append(FileEntry((*prefix, entry.name), entry.path, entry.stat().st_size))

    walk(os.path.abspath(folder), ())
    return sorted(found, key=lambda entry: entry.parts)


def write_hashed(path: Path, chunks: Iterable[bytes]) -> str:
    """Write ``chunks`` to a new file and return their SHA-256, hashed on the way out (no read-back, no join)."""
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for chunk in chunks:
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def replace_hashed(path: Path, chunks: Iterable[bytes]) -> str:
    """Replace the file with ``chunks`` in one step, so a reader or a crash never sees half of it; → their SHA-256."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        digest = write_hashed(temp, chunks)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return digest


def file_sha256(path: Path | str) -> str:
    """A file's SHA-256, read in pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Checksums:
    """The size and SHA-256 of the files of one run folder, by their path inside it (``brev/Avesta.docx``).

    Keyed by the path inside the folder, so the record stays true when the folder is renamed into place.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self._known: dict[str, tuple[int, str]] = {}

    def __len__(self) -> int:
        return len(self._known)

    def add(self, path: Path | str, digest: str) -> None:
        """Record a file just written (its size is taken now; a file already gone is recorded as missing)."""
        full = self.root / path
        try:
            size = os.stat(full).st_size
        except FileNotFoundError:
            size = -1
        self._known[self._key(full)] = (size, digest)

    def add_all(self, written: Iterable[tuple[Path | str, str]]) -> None:
        for path, digest in written:
            self.add(path, digest)

    def sha256(self, entry: FileEntry) -> str:
        """The file's checksum: as recorded when it was written, else read now and recorded."""
        known = self._known.get(entry.path)
        if known is None or known[0] != entry.size:
            known = (entry.size, file_sha256(entry.full))
            self._known[entry.path] = known
        return known[1]

    def listing(self) -> list[FileEntry]:
        """The files recorded, as ``folder_files`` would list them: for a new run, everything it wrote."""
        return sorted((FileEntry(tuple(path.split("/")), os.path.join(self.root, path), size)
                       for path, (size, _) in self._known.items() if size >= 0), key=lambda entry: entry.parts)

    def missing(self, entries: Iterable[FileEntry]) -> list[str]:
        """Recorded files that ``entries`` (a listing of the folder) lacks, or holds with another size."""
        sizes = {entry.path: entry.size for entry in entries}
        return sorted(path for path, (size, _) in self._known.items() if sizes.get(path) != size)

    def _key(self, full: Path) -> str:
        return "/".join(Path(os.path.abspath(full)).relative_to(os.path.abspath(self.root)).parts)
