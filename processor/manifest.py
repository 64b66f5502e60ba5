"""``manifest.json``: what went in, what came out, with checksums, for the record."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from processor import __version__
from processor.checksums import Checksums, folder_files
from processor.layout import MANIFEST_FILE


def file_list(run_dir: Path, checksums: Checksums) -> list[dict]:
    """Every file the run made or changed (but the manifest and hidden working files), with size and SHA-256."""
    return [{"path": entry.path, "bytes": entry.size, "sha256": checksums.sha256(entry)}
            for entry in folder_files(run_dir) if entry.path != MANIFEST_FILE and not entry.hidden]


def manifest_json(input_path: Path, input_sha256: str, run_dir: Path, warnings: list[str], created: dt.datetime,
                  checksums: Checksums) -> bytes:
    """The manifest of a new run: every file in ``run_dir`` with its size and SHA-256 (from ``checksums``)."""
    document = {
        "input": {"file": input_path.name, "sha256": input_sha256},
        "program": {"name": "processor", "version": __version__},
        "created": created.isoformat(timespec="seconds"),
        "warnings": warnings,
        "files": file_list(run_dir, checksums),
    }
    return _encoded(document)


def _encoded(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"

