"""What ``rapport.html`` and ``status.html`` share: self-contained pages, written in one step.

Jinja from the package (autoescaped, strict), the CSP hash of a page's own style or script, how a
moment and a share of a total are written on a page, and replacing the file so that a browser or a
crash never sees half of it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from processor import formats
from processor.checksums import replace_hashed

if TYPE_CHECKING:
    from jinja2 import Environment, Template


def page_environment() -> Environment:
    """Jinja for the HTML pages: autoescaped, strict, templates (and the shared ``page.css.j2``) from the package."""
    from jinja2 import Environment, FunctionLoader, StrictUndefined

    folder = resources.files("processor.templates")
    return Environment(loader=FunctionLoader(lambda name: folder.joinpath(name).read_text(encoding="utf-8")),
                       autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def block_digest(template: Template, name: str) -> str:
    """The CSP hash of a template block (the page's own CSS or script), so only that text may run."""
    text = "".join(template.blocks[name](template.new_context()))
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def when(moment: dt.datetime) -> str:
    """``21 maj 2024 kl. 10.15``."""
    return f"{formats.long_date(moment.date())} kl. {moment:%H.%M}"


def share_text(part: int, whole: int) -> str:
    """``12,5 %``: a part of a whole in percent, one decimal (nothing when the whole is 0)."""
    return formats.percent(Decimal(part * 100) / Decimal(whole), 1) if whole else ""


def write_atomically(path: Path, pieces: Iterable[str]) -> tuple[Path, str]:
    """Replace the page in one step, so a browser or a crash never sees half of it; → its path and SHA-256."""
    return path, replace_hashed(path, _utf8_blocks(pieces))


def _utf8_blocks(pieces: Iterable[str], size: int = 4096) -> Iterator[bytes]:
    """Hundreds of thousands of small pieces of text, encoded ``size`` at a time."""
    block: list[str] = []
    for piece in pieces:
        block.append(piece)
        if len(block) == size:
            yield "".join(block).encode("utf-8")
            block.clear()
    yield "".join(block).encode("utf-8")
