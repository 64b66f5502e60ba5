"""``manifest.json``: what went in, what came out, with checksums, for the record."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from processor import __version__

_KNOWN_MAX = 1 << 16
_known: dict[tuple[str, int, int], str] = {}
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a run folder as listed once for the report and the manifest."""

    parts: tuple[str, ...]
    full: str
    size: int
    mtime_ns: int

    @property
    def path(self) -> str:
        """The path inside the folder, with forward slashes: ``brev/Avesta.docx``."""
        return "/".join(self.parts)

    @property
    def sha256(self) -> str:
        return _sha256((self.full, self.size, self.mtime_ns))


def folder_files(folder: Path) -> list[FileEntry]:
    """Every file below ``folder``, in path order, each stat'ed once."""
    found: list[FileEntry] = []

    def walk(directory: str, prefix: tuple[str, ...]) -> None:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir():
                    walk(entry.path, (*prefix, entry.name))
                elif entry.is_file():
                    status = entry.stat()
                    found.append(FileEntry((*prefix, entry.name), entry.path, status.st_size, status.st_mtime_ns))

    walk(os.path.abspath(folder), ())
    return sorted(found, key=lambda entry: entry.parts)


def sha256_file(path: Path) -> str:
    """A file's SHA-256, computed once per version of it: the report and the manifest both list every file."""
    return _sha256(_version(path))


def _sha256(key: tuple[str, int, int]) -> str:
    with _lock:
        digest = _known.get(key)
    if digest is None:
        digest = hashlib.sha256()
        with open(key[0], "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        digest = digest.hexdigest()
        _remember(key, digest)
    return digest


def remember_sha256(path: Path, digest: str) -> None:
    """Record the checksum of a file written from memory, so that it is never read back just to hash it."""
    _remember(_version(path), digest)


def _remember(key: tuple[str, int, int], digest: str) -> None:
    with _lock:
        _known[key] = digest
        while len(_known) > _KNOWN_MAX:
            del _known[next(iter(_known))]


def _version(path: Path) -> tuple[str, int, int]:
    """A file as of now: its absolute path, size and modification time (a changed file is hashed anew)."""
    name = os.path.abspath(path)
    status = os.stat(name)
    return name, status.st_size, status.st_mtime_ns


def write_hashed(path: Path, chunks: Iterable[bytes]) -> str:
    """Write ``chunks`` to a new file and return their SHA-256, hashed on the way out (no read-back, no join)."""
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for chunk in chunks:
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def manifest_json(input_path: Path, input_sha256: str, run_dir: Path, warnings: list[str], created: dt.datetime) -> bytes:
    """Every file in ``run_dir`` (but the manifest) with its size and SHA-256."""
    files = [{"path": entry.path, "bytes": entry.size, "sha256": entry.sha256}
             for entry in folder_files(run_dir) if entry.parts[-1] != "manifest.json"]
    document = {
        "input": {"file": input_path.name, "sha256": input_sha256},
        "program": {"name": "processor", "version": __version__},
        "created": created.isoformat(timespec="seconds"),
        "warnings": warnings,
        "files": files,
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
