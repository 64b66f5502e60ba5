"""``manifest.json``: what went in, what came out, with checksums, for the record.

It is written last in a run and brought up to date by every later command that changes the run
folder (``send``), which also notes in ``changes`` when, by which command and which files.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

from processor import __version__
from processor.checksums import Checksums, FileEntry, folder_files, replace_hashed
from processor.layout import EDITED_FILES, MANIFEST_FILE


def file_list(listing: Iterable[FileEntry], checksums: Checksums) -> list[dict]:
    """Every file of ``listing`` (but the manifest and hidden working files), with size and SHA-256.

    The ledger (and its previous version) is the administrator's to edit: listed without a checksum,
    as ``"sha256": null, "edited": true``. An office suite's lock file beside it (``~$…``) is not listed.
    """
    return [{"path": entry.path, "bytes": entry.size, "sha256": None, "edited": True} if entry.path in EDITED_FILES
            else {"path": entry.path, "bytes": entry.size, "sha256": checksums.sha256(entry)}
            for entry in listing
            if entry.path != MANIFEST_FILE and not entry.hidden and not entry.parts[-1].startswith("~$")]


def manifest_json(input_path: Path, input_sha256: str, warnings: list[str], created: dt.datetime,
                  checksums: Checksums) -> bytes:
    """The manifest of a new run: every file the run wrote (``checksums`` lists them) with its size and SHA-256."""
    document = {
        "input": {"file": input_path.name, "sha256": input_sha256},
        "program": {"name": "processor", "version": __version__},
        "created": created.isoformat(timespec="seconds"),
        "warnings": warnings,
        "files": file_list(checksums.listing(), checksums),
    }
    return _encoded(document)


def _encoded(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def update_manifest(run_dir: Path, checksums: Checksums, command: str, now: dt.datetime) -> list[str]:
    """Bring ``manifest.json`` up to date after ``command`` changed the folder; → the files that changed.

    The change (time, command, files) is added to the manifest's ``changes``. A folder without a
    manifest, or whose manifest cannot be read, is left alone (nothing to keep true).
    """
    path = Path(run_dir) / MANIFEST_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        before = {entry["path"]: entry for entry in document["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return []
    files = file_list(folder_files(run_dir), checksums)
    now_listed = {entry["path"]: entry for entry in files}
    changed = sorted(p for p in before.keys() | now_listed.keys() if before.get(p) != now_listed.get(p))
    if changed:
        document["files"] = files
        document.setdefault("changes", []).append(
            {"time": now.isoformat(timespec="seconds"), "command": command, "files": changed})
        replace_hashed(path, [_encoded(document)])  # in one step: a crash never leaves half a manifest
    return changed
