"""``manifest.json``: what went in, what came out, with checksums, for the record."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from processor import __version__


def sha256_file(path: Path) -> str:
    """A file's SHA-256, computed once per version of it: the report and the manifest both list every file."""
    status = Path(path).stat()
    return _sha256(str(path), status.st_size, status.st_mtime_ns)


@lru_cache(maxsize=1 << 16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_json(input_path: Path, input_sha256: str, run_dir: Path, warnings: list[str], created: dt.datetime) -> bytes:
    """Every file in ``run_dir`` (but the manifest) with its size and SHA-256."""
    files = [
        {"path": p.relative_to(run_dir).as_posix(), "bytes": p.stat().st_size, "sha256": sha256_file(p)}
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    ]
    document = {
        "input": {"file": input_path.name, "sha256": input_sha256},
        "program": {"name": "processor", "version": __version__},
        "created": created.isoformat(timespec="seconds"),
        "warnings": warnings,
        "files": files,
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
