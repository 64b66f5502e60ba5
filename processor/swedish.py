"""Reading what a Swedish user types: names compared loosely, numbers with Swedish separators."""

from __future__ import annotations

import difflib
import re
import unicodedata
from decimal import Decimal

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_GROUPED = re.compile(r"^[+-]?\d{1,3}( \d{3})+(,\d+)?$")
_PLAIN = re.compile(r"^[+-]?\d+(,\d+)?$")
_UNIT = re.compile(r"\s*(kr|kronor|sek)\.?$", re.IGNORECASE)


def norm(text: str) -> str:
    """The form names are compared in: Unicode NFC, no surrounding spaces, case folded."""
    return unicodedata.normalize("NFC", str(text)).strip().casefold()


def parse_number(text: str) -> Decimal | None:
    """``'15 711 504'`` → 15711504, ``'33,3'`` → 33.3, ``'4 000 000 kr'`` → 4000000; else None."""
    cleaned = _SPACES.sub(" ", text.replace("\u2212", "-")).strip()
    cleaned = _UNIT.sub("", cleaned).strip()
    if not (_GROUPED.match(cleaned) or _PLAIN.match(cleaned)):
        return None
    return Decimal(cleaned.replace(" ", "").replace(",", "."))


def closest(word: str, candidates: list[str], cutoff: float = 0.6) -> str | None:
    """The candidate most like ``word`` (for "Menade du …?"), or None if none is close.

    Besides spelling, a candidate that stands as whole words inside ``word`` or the other
    way round counts (``lika delar`` → ``lika``, ``Fördelning 2023`` → ``Fördelning``).
    """
    by_norm = {norm(c): c for c in candidates if norm(c)}
    target = norm(word)
    match = difflib.get_close_matches(target, list(by_norm), n=1, cutoff=cutoff)
    if match:
        return by_norm[match[0]]
    inside = [c for c in by_norm if len(min(c, target, key=len)) >= 4 and (_contains_words(target, c) or _contains_words(c, target))]
    best = max(inside, key=lambda c: difflib.SequenceMatcher(None, target, c).ratio(), default=None)
    return by_norm[best] if best is not None else None


def _contains_words(text: str, part: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(part)}(?!\w)", text) is not None


def did_you_mean(word: str, candidates: list[str]) -> str:
    """`` Menade du "X"?`` or nothing."""
    match = closest(word, candidates)
    return f' Menade du "{match}"?' if match else ""
