"""The run folder: built hidden, then renamed into place whole, never over an earlier run."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from processor.layout import run_folder_name, safe_filename


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
        holder.final = _publish(temp, out_dir, run_folder_name(stem, now))
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
