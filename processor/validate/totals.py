"""Checks across sheets: the posts against the total, rounding multiples, and keys that sum to zero.

Each check runs when its own inputs are sound, whatever else is broken; when they are
not, the error that blocks it says that the check waits for it.
"""

from __future__ import annotations

from fractions import Fraction

from processor import formats
from processor.model import FAST, KEY, PER_RECIPIENT
from processor.validate.bases import Recipients
from processor.validate.case_sheet import CaseSheet
from processor.validate.checker import Checker
from processor.validate.posts import ParsedPost, PostSheet, RowAmount, post_label
from processor.validate.recipients import RecipientTable
from processor.vocabulary import GRANT, MODEL_SHEET, REST_WORD, ROUNDING


def check_amounts(case: CaseSheet, table: RecipientTable, posts: PostSheet, bases: Recipients, check: Checker) -> None:
    """Posts against the total, rounding multiples, and keys that sum to zero."""
    rest, blocker = _check_total(case, posts.amounts, check)
    _check_multiples(case, posts.priced, rest, blocker, check)
    for parsed in posts.posts:
        _check_key_sums(parsed, table, bases, check)


def _check_total(case: CaseSheet, amounts: list[RowAmount], check: Checker) -> tuple[int | None, str | None]:
    """The posts add up to the total, or the ``rest`` post takes what is left and it is not negative.

    Returns the rest's amount (None when there is none or it is unknown) and the cell that keeps it unknown.
    """
    rests = [a for a in amounts if a.is_rest]
    blocker = case.total_where if case.total is None else next((a.blocked_by for a in amounts if a.blocked_by), None)
    if len(amounts) == len(rests) == 1:
        return case.total, blocker
    if not amounts:
        return None, None
    if blocker is not None:
        check.postpone(blocker, "summan av posterna och resten" if rests else "summan av posterna")
        return None, blocker
    known = sum(a.kronor for a in amounts if not a.is_rest)
    if not rests:
        _check_sum(case.total, known, amounts[-1].where, check)
        return None, None
    return _check_rest(case.total, known, rests[0], check), None


def _check_sum(total: int, known: int, where: str, check: Checker) -> None:
    difference = total - known
    if not difference:
        return
    if difference > 0:
        advice = (f"({formats.kronor(difference, nbsp=False)} kvar). Lägg till en post med Belopp \"{REST_WORD}\" "
                  "eller justera beloppen.")
    else:
        advice = (f"({formats.kronor(-difference, nbsp=False)} för mycket). Minska beloppen så att de summerar till "
                  f"{formats.kronor(total, nbsp=False)}.")
    check.error(where, f"posterna summerar till {formats.kronor(known, nbsp=False)} men att fördela är "
                       f"{formats.kronor(total, nbsp=False)} {advice}")


def _check_rest(total: int, known: int, rest: RowAmount, check: Checker) -> int | None:
    """The rest's amount, or None (and an error) when the other posts take more than the total."""
    rest_amount = total - known
    if rest_amount < 0:
        check.error(rest.where, f"de övriga posterna summerar till {formats.kronor(known, nbsp=False)}, mer än att "
                                f"fördela {formats.kronor(total, nbsp=False)}, så resten blir "
                                f"{formats.kronor(rest_amount, nbsp=False)}. Minska beloppen eller öka {GRANT}.")
        return None
    if rest_amount == 0:
        check.warn(rest.where, f'resten (posten "{rest.name}") blir 0 kr: de övriga posterna fördelar allt.')
    return rest_amount


def _check_multiples(case: CaseSheet, posts: list[ParsedPost], rest: int | None, blocker: str | None,
                     check: Checker) -> None:
    """What a split post hands out must be a multiple of the rounding unit."""
    split = [p for p in posts if p.post.method != FAST]
    if not split:
        return
    if case.rounding is None:
        check.postpone(case.rounding_where, "beloppen mot avrundningen")
        return
    for parsed in split:
        multiple = rest if parsed.post.is_rest else parsed.post.amount
        if multiple is None and blocker is not None and case.rounding > 1:
            check.postpone(blocker, "att fördela mot avrundningen" if parsed.post.is_default else "resten mot avrundningen")
        elif multiple is not None and multiple % case.rounding:
            _not_a_multiple(parsed, multiple, case.rounding, check)


def _not_a_multiple(parsed: ParsedPost, multiple: int, unit: int, check: Checker) -> None:
    post = parsed.post
    if post.is_default:
        check.error(parsed.amount_where,
                    f"att fördela, {formats.kronor(multiple, nbsp=False)}, går inte jämnt upp i avrundningen "
                    f"{formats.kronor(unit, nbsp=False)} (fältet {ROUNDING}). Sätt {ROUNDING} till 1, eller lägg till bladet "
                    f'"{MODEL_SHEET}" och låt en post med metoden fast ta de udda kronorna.')
        return
    which = "beloppet per mottagare" if post.method == PER_RECIPIENT else ("resten" if post.is_rest else "beloppet")
    check.error(parsed.amount_where,
                f'{which} för posten "{post.name}", {formats.kronor(multiple, nbsp=False)}, går inte jämnt upp i '
                f"avrundningen {formats.kronor(unit, nbsp=False)} (fältet {ROUNDING}). Ändra beloppet till en multipel av "
                f"{formats.kronor(unit, nbsp=False)}, eller sätt {ROUNDING} till 1.")


def _check_key_sums(parsed: ParsedPost, table: RecipientTable, bases: Recipients, check: Checker) -> None:
    """Each key column must sum to more than zero over the post's participants (a broken basis postpones it)."""
    post = parsed.post
    if post.method != KEY:
        return
    members = [i for i in post.recipients if table.rows[i].participates]
    for part in post.key:
        if sum((Fraction(bases.recipients[i].bases.get(part.column, 0)) for i in members), Fraction(0)):
            continue
        broken = next((bases.broken[(i, part.column)] for i in members if (i, part.column) in bases.broken), None)
        if broken is not None:
            check.postpone(broken, f"summan av kolumnen {part.column} i {post_label(post)}")
        else:
            check.error(parsed.key_where, f"kolumnen {part.column} summerar till 0 för de deltagande mottagarna "
                                          f"i {post_label(post)}, så nyckeln kan inte fördela något. "
                                          "Fyll i underlaget eller välj en annan nyckel.")
