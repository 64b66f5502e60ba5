"""The run folder: built hidden, then renamed into place whole, never over an earlier run."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import unicodedata
from contextlib import contextmanager
from pathlib import Path

_RESERVED = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_WINDOWS_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def safe_filename(name: str, max_length: int = 100) -> str:
    """A recipient's name as a file name: no separators or reserved characters, Swedish letters kept."""
    text = unicodedata.normalize("NFC", name)
    text = _RESERVED.sub("_", text).strip().strip(".").strip()
    text = re.sub(r"\s+", " ", text)[:max_length].rstrip(" .")
    if not text or text.casefold() in _WINDOWS_NAMES:
        text = f"_{text}"
    return text


def unique_filenames(names: list[str]) -> list[str]:
    """Safe names, made unique without regard to case (``Solna``, ``Solna (2)``)."""
    taken: set[str] = set()
    result = []
    for name in names:
        base = safe_filename(name)
        candidate, n = base, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{base} ({n})"
        taken.add(candidate.casefold())
        result.append(candidate)
    return result


@contextmanager
def atomic_run_dir(out_dir: Path, stem: str, now: dt.datetime):
    """Yield a hidden temporary folder; on success rename it to ``<stem>_<YYYYMMDD-HHMMSS>`` (suffix if taken).

    The final path is stored in the yielded holder's ``final`` attribute after the block.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{safe_filename(stem)}.", suffix=".tmp", dir=out_dir))
    holder = RunDir(temp)
    try:
        yield holder
        holder.final = _publish(temp, out_dir, f"{safe_filename(stem)}_{now:%Y%m%d-%H%M%S}")
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


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
