"""The model in Swedish words, for the appendix footnote, the documents and the report."""

from __future__ import annotations

from fractions import Fraction

from processor import formats
from processor.model import EQUAL, FAST, KEY, PER_RECIPIENT, Allocation, Case, Post, PostResult


def basis_word(column: str) -> str:
    """``Befolkning`` → ``befolkning`` (names like ``SCB-data`` keep their capitals)."""
    if len(column) > 1 and column[0].isupper() and column[1:2].islower():
        return column[0].lower() + column[1:]
    return column


def key_in_words(post: Post) -> str:
    """``efter andel av befolkning`` or ``50 procent efter andel av befolkning och 50 procent efter …``."""
    if len(post.key) == 1:
        return f"efter andel av {basis_word(post.key[0].column)}"
    parts = [f"{formats.number(p.weight)} procent efter andel av {basis_word(p.column)}" for p in post.key]
    return ", ".join(parts[:-1]) + " och " + parts[-1]


def method_in_words(result: PostResult, case: Case) -> str:
    """One clause saying how a post is split, e.g. ``fördelas efter andel av befolkning``."""
    post = result.post
    if post.method == FAST:
        (only,) = post.recipients
        return f"fast belopp till {case.recipients[only].name}"
    count = len(result.shares)
    if post.method == PER_RECIPIENT:
        return f"{formats.kronor(post.amount)} till var och en av {count} mottagare"
    if post.method == EQUAL:
        return f"lika delar mellan {count} mottagare"
    return f"fördelas {key_in_words(post)}"


def per_unit_in_words(result: PostResult) -> str | None:
    """``54,56 kr per befolkning``-style amount per unit for one-column keys, else None."""
    if result.per_unit is None:
        return None
    return f"{formats.kronor(round_ore(result.per_unit))} per enhet av {basis_word(result.post.key[0].column)}"


def round_ore(value: Fraction):
    """Kronor rounded half up to öre, as a Decimal-like Fraction for display."""
    from decimal import ROUND_HALF_UP, Decimal

    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def footnote(case: Case, allocation: Allocation) -> list[str]:
    """The appendix footnote: one sentence per post, then how the rounding works."""
    lines = []
    for result in allocation.posts:
        post = result.post
        if post.method == KEY:
            lines.append(f"{post.name} ({formats.kronor(result.amount)}) fördelas {key_in_words(post)} "
                         f"bland {len(result.shares)} mottagare.")
        else:
            lines.append(f"{post.name} ({formats.kronor(result.amount)}): {method_in_words(result, case)}.")
    declined = [r.name for r in case.recipients if not r.participates]
    if declined:
        lines.append(f"Avstår: {', '.join(declined)}. Deras andelar fördelas på övriga mottagare.")
    unit = case.info.rounding
    unit_words = "hela kronor" if unit == 1 else f"hela {formats.kronor(unit)}"
    lines.append(f"Beloppen är avrundade till {unit_words} enligt största-restmetoden, så att varje post och "
                 f"totalen stämmer exakt ({formats.kronor(case.info.total)}).")
    return lines
