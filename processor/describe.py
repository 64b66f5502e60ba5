"""The model in Swedish words, for the appendix footnote, the documents and the report."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from processor import formats
from processor.model import EQUAL, FAST, KEY, PER_RECIPIENT, Case, Post, PostResult

# Basis columns the shipped examples and the guide use: how prose names each, and the unit it counts
# ("1 280 kr per plats"). Any other column is named as typed, and its unit is "enhet av <kolumn>".
KNOWN_BASES = {
    "befolkning": ("befolkning", "invånare"),
    "invånare": ("invånare", "invånare"),
    "antal invånare": ("antal invånare", "invånare"),
    "patienter": ("patienter", "patient"),
    "antal patienter": ("antal patienter", "patient"),
    "listade": ("listade", "listad"),
    "platser": ("platser", "plats"),
    "antal platser": ("antal platser", "plats"),
    "brukare": ("brukare", "brukare"),
    "elever": ("elever", "elev"),
    "barn": ("barn", "barn"),
    "personer": ("personer", "person"),
    "anställda": ("anställda", "anställd"),
    "medarbetare": ("medarbetare", "medarbetare"),
    "årsarbetare": ("årsarbetare", "årsarbetare"),
    "lägenheter": ("lägenheter", "lägenhet"),
    "boende": ("boende", "boende"),
    "vårdtagare": ("vårdtagare", "vårdtagare"),
}


def basis_word(column: str) -> str:
    """A basis column in running text: ``Befolkning`` and ``BEFOLKNING`` → ``befolkning``.

    Names like ``SCB-data`` or ``LSS-platser`` keep their capitals; a name typed all in capitals is
    lowered unless it holds an abbreviation (a run of at most three letters).
    """
    known = KNOWN_BASES.get(" ".join(column.casefold().split()))
    if known:
        return known[0]
    words = re.findall(r"[^\W\d_]+", column)
    if column.isupper() and all(len(w) > 3 for w in words):
        return column.lower()
    if len(column) > 1 and column[0].isupper() and column[1:2].islower():
        return column[0].lower() + column[1:]
    return column


def basis_label(column: str) -> str:
    """A basis column starting a phrase: ``Befolkning 23 178`` even when typed ``BEFOLKNING``."""
    word = basis_word(column)
    return word[0].upper() + word[1:] if word[:1].islower() else word


def unit_of(column: str) -> str:
    """What one unit of a basis column is: ``plats`` for ``Platser``, else ``enhet av <kolumn>``."""
    known = KNOWN_BASES.get(" ".join(column.casefold().split()))
    return known[1] if known else f"enhet av {basis_word(column)}"


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
    """``1 280 kr per plats`` (``54,56 kr per enhet av SCB-data``) for one-column keys, else None."""
    if result.per_unit is None:
        return None
    return f"{formats.kronor(round_ore(result.per_unit))} per {unit_of(result.post.key[0].column)}"


def round_ore(value: Fraction) -> Decimal:
    """Kronor rounded half up to öre, for display."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def summary_words(method_words: str, per_unit_words: str | None) -> str:
    """The decision document's description of a post: how it is split, and the amount per unit if there is one."""
    return method_words if per_unit_words is None else f"{method_words} ({per_unit_words})"


def explanation(post, share_words: str) -> str:
    """How a recipient's part of a post (a ``PostView``) came about, for its letter: ``fast belopp``, ``… ert underlag: …``."""
    if post.method == FAST:
        return "fast belopp"
    if post.method == PER_RECIPIENT:
        return f"samma belopp till var och en av {post.recipient_count} mottagare"
    if post.method == EQUAL:
        return f"lika delar mellan {post.recipient_count} mottagare"
    return f"fördelas {post.key_words}; ert underlag: {share_words}"


def share_in_words(column: str, mine: Decimal, whole: Decimal) -> str:
    """``befolkning 48 214 av 888 837``."""
    return f"{basis_word(column)} {formats.number(mine)} av {formats.number(whole)}"


def bases_in_words(values: list[tuple[str, Decimal]], single: bool) -> str:
    """``23 178`` when the keys use one column, else ``Befolkning 23 178, Patienter 120``."""
    if single and values:
        return formats.number(values[0][1])
    return ", ".join(f"{basis_label(column)} {formats.number(value)}" for column, value in values)


def footnote_sentence(result: PostResult, method_words: str) -> str:
    """The appendix footnote's sentence for one post."""
    post = result.post
    if post.method == KEY:
        return (f"{post.name} ({formats.kronor(result.amount)}) fördelas {key_in_words(post)} "
                f"bland {len(result.shares)} mottagare.")
    return f"{post.name} ({formats.kronor(result.amount)}): {method_words}."


def declining_sentences(declined: list[str]) -> list[str]:
    if not declined:
        return []
    shares = "Dess andel fördelas" if len(declined) == 1 else "Deras andelar fördelas"
    return [f"Avstår: {', '.join(declined)}. {shares} på övriga mottagare."]


def unallocated_sentences(amount: int) -> list[str]:
    """What a later round leaves with no one: to be repaid to the funder."""
    if not amount:
        return []
    return [f"{formats.kronor(amount)} fördelas inte, eftersom ingen mottagare finns kvar i de poster pengarna kom "
            "från. Beloppet ska betalas tillbaka till den som beviljade medlen."]


def redistribution_in_words(post: Post) -> str:
    """How a later round shares what a post's declining recipients held: by their first-round shares."""
    if post.method == FAST:
        return "har ingen annan mottagare"
    if post.method == KEY:
        return f"fördelas på de kvarvarande mottagarna i posten {key_in_words(post)}, som i den första fördelningen"
    return "fördelas i lika delar mellan de kvarvarande mottagarna i posten, som i den första fördelningen"


def redistribution_rule(unit: int) -> str:
    """The rule of every later round in one sentence, for the amended decision."""
    return ("Det som mottagarna avstår fördelas inom samma post på de mottagare som är kvar, i proportion till deras "
            "exakta andelar i den första fördelningen, och avrundas till "
            f"{rounding_unit(unit)} enligt största-restmetoden. Ingen mottagare får mindre än tidigare, och summan "
            "stämmer på kronan.")


def agreement_in_words(agreement: str) -> str:
    """The ``Överenskommelse`` field in running text, short name or full title alike:
    ``God och nära vård 2024`` → ``överenskommelsen God och nära vård 2024``,
    ``Överenskommelse om insatser inom …`` → ``överenskommelsen om insatser inom …``."""
    first, _, rest = " ".join(agreement.split()).partition(" ")
    if first.casefold() in ("överenskommelse", "överenskommelsen"):
        return f"överenskommelsen {rest}".rstrip()
    return f"överenskommelsen {agreement.strip()}"


def names_in_words(names: list[str]) -> str:
    """``Nykvarn``, ``Nykvarn och Vaxholm``, ``Ekerö, Nykvarn och Vaxholm``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} och {names[-1]}"


def count(n: int, one: str, many: str) -> str:
    """``1 post``, ``3 poster``: a number with its noun agreeing."""
    return f"{n} {one if n == 1 else many}"


def rounding_unit(unit: int) -> str:
    """``hela kronor``, ``hela 100 kr``."""
    return "hela kronor" if unit == 1 else f"hela {formats.kronor(unit)}"


def rounding_sentence(unit: int, total: int) -> str:
    return (f"Beloppen är avrundade till {rounding_unit(unit)} enligt största-restmetoden, så att varje post och "
            f"totalen stämmer exakt ({formats.kronor(total)}).")
