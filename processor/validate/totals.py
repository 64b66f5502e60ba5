"""Checks across sheets: the posts against the total, rounding multiples, and keys that sum to zero."""

from __future__ import annotations

from fractions import Fraction

from processor import formats
from processor.allocate import participants, post_amounts
from processor.model import FAST, KEY, PER_RECIPIENT, Case, CaseInfo, Recipient
from processor.validate.checker import Checker
from processor.validate.posts import ParsedPost, post_label
from processor.vocabulary import MODEL_SHEET, REST_WORD


def check_amounts(info: CaseInfo, recipients: list[Recipient], parsed: list[ParsedPost], check: Checker) -> None:
    """Posts against the total, rounding multiples, and keys that sum to zero."""
    amounts = post_amounts(Case(info, tuple(recipients), tuple(p.post for p in parsed)))
    if not _check_total(info, parsed, amounts, check):
        return
    for parsed_post, amount in zip(parsed, amounts):
        _check_multiple(parsed_post, amount, info.rounding, check)
        _check_key_sums(parsed_post, recipients, check)


def _check_total(info: CaseInfo, parsed: list[ParsedPost], amounts: list[int], check: Checker) -> bool:
    """The posts add up to the total, or a ``rest`` post takes what is left and it is not negative."""
    total = info.total
    rest = next((i for i, p in enumerate(parsed) if p.post.is_rest), None)
    if rest is None:
        difference = total - sum(amounts)
        if not difference:
            return True
        if difference > 0:
            advice = (f"({formats.kronor(difference, nbsp=False)} kvar). Lägg till en post med Belopp \"{REST_WORD}\" "
                      "eller justera beloppen.")
        else:
            advice = (f"({formats.kronor(-difference, nbsp=False)} för mycket). Minska beloppen så att de summerar till "
                      f"{formats.kronor(total, nbsp=False)}.")
        check.error(parsed[-1].amount_where, f"posterna summerar till {formats.kronor(sum(amounts), nbsp=False)} men att "
                                             f"fördela är {formats.kronor(total, nbsp=False)} {advice}")
        return False
    rest_amount, where = amounts[rest], parsed[rest].amount_where
    if rest_amount < 0:
        check.error(where, f"de övriga posterna summerar till {formats.kronor(total - rest_amount, nbsp=False)}, mer än att "
                           f"fördela {formats.kronor(total, nbsp=False)}, så resten blir {formats.kronor(rest_amount, nbsp=False)}. "
                           "Minska beloppen eller öka Medel att fördela.")
        return False
    if rest_amount == 0:
        check.warn(where, f'resten (posten "{parsed[rest].post.name}") blir 0 kr: de övriga posterna fördelar allt.')
    return True


def _check_multiple(parsed_post: ParsedPost, amount: int, unit: int, check: Checker) -> None:
    """What a split post hands out must be a multiple of the rounding unit."""
    post = parsed_post.post
    multiple = post.amount if post.method == PER_RECIPIENT else amount
    if post.method == FAST or not multiple % unit:
        return
    if post.is_default:
        check.error(parsed_post.amount_where,
                    f"att fördela, {formats.kronor(multiple, nbsp=False)}, går inte jämnt upp i avrundningen "
                    f"{formats.kronor(unit, nbsp=False)} (fältet Avrundning). Sätt Avrundning till 1, eller lägg till bladet "
                    f'"{MODEL_SHEET}" och låt en post med metoden fast ta de udda kronorna.')
        return
    which = "beloppet per mottagare" if post.method == PER_RECIPIENT else ("resten" if post.is_rest else "beloppet")
    check.error(parsed_post.amount_where,
                f'{which} för posten "{post.name}", {formats.kronor(multiple, nbsp=False)}, går inte jämnt upp i '
                f"avrundningen {formats.kronor(unit, nbsp=False)} (fältet Avrundning). Ändra beloppet till en multipel av "
                f"{formats.kronor(unit, nbsp=False)}, eller sätt Avrundning till 1.")


def _check_key_sums(parsed_post: ParsedPost, recipients: list[Recipient], check: Checker) -> None:
    """Each key column must sum to more than zero over the post's participants."""
    post = parsed_post.post
    if post.method != KEY:
        return
    members = participants(post, recipients)
    for part in post.key:
        if sum((Fraction(recipients[i].bases.get(part.column, 0)) for i in members), Fraction(0)) == 0:
            check.error(parsed_post.key_where, f"kolumnen {part.column} summerar till 0 för de deltagande mottagarna "
                                               f"i {post_label(post)}, så nyckeln kan inte fördela något. "
                                               "Fyll i underlaget eller välj en annan nyckel.")
