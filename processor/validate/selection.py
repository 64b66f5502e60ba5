"""Who a post goes to: ``alla``, groups and names in the ``Mottagare`` column of ``Fördelning``."""

from __future__ import annotations

import re

from processor.model import EQUAL, FAST, KEY, PER_RECIPIENT, Post
from processor.swedish import did_you_mean, norm
from processor.validate.cells import as_text, quoted
from processor.validate.checker import Checker
from processor.validate.recipients import RecipientTable
from processor.vocabulary import ALL_WORD, GROUP_COL, RECIPIENT_SHEET


def select_recipients(value, where: str, table: RecipientTable, check: Checker) -> tuple[int, ...] | None:
    """``alla``, groups and names separated by ``;`` → recipient indices in workbook order (None: unknown)."""
    if table.blocked_by is not None:
        return None
    text = as_text(value)
    if text is None:
        return tuple(range(len(table.rows)))
    by_name = {norm(row.name): i for i, row in enumerate(table.rows)}
    chosen: set[int] = set()
    ok = True
    for word in (w.strip() for w in text.split(";")):
        if not word:
            continue
        key = norm(word)
        if key == ALL_WORD:
            chosen.update(range(len(table.rows)))
        elif key in table.groups and key in by_name:
            check.error(where, f'"{word}" är både en grupp och en mottagare. Byt namn på gruppen eller mottagaren '
                               "så att de skiljer sig.")
            ok = False
        elif key in table.groups:
            chosen.update(table.groups[key])
        elif key in by_name:
            chosen.add(by_name[key])
        else:
            check.error(where, _unknown_selector(word, table, by_name))
            ok = False
    return tuple(sorted(chosen)) if ok else None


def _unknown_selector(word: str, table: RecipientTable, by_name: dict[str, int]) -> str:
    """The message for a word that names no recipient or group, with the likeliest fix."""
    parts = [p.strip() for p in re.split(r"[,\r\n]", word) if p.strip()]
    known = {*by_name, *table.groups, ALL_WORD}
    if len(parts) > 1 and all(norm(p) in known for p in parts):
        return (f'{quoted(" / ".join(parts))} ska vara flera mottagare eller grupper, men de ska skiljas med semikolon '
                "på en rad. "
                f'Skriv "{"; ".join(parts)}".')
    candidates = [r.name for r in table.rows] + sorted({r.group for r in table.rows if r.group})
    return (f'mottagaren eller gruppen {quoted(word)} finns inte.{did_you_mean(word, candidates)} '
            f'Skriv ett namn från {RECIPIENT_SHEET}, en grupp från kolumn {GROUP_COL}, eller "{ALL_WORD}"; '
            "flera skiljs med semikolon.")


def check_selection(post: Post, where: str, table: RecipientTable, check: Checker) -> bool:
    """Rules about who a post goes to that need only the selection."""
    members = [i for i in post.recipients if table.rows[i].participates]
    if post.method == FAST:
        if len(post.recipients) != 1:
            check.error(where, f'posten "{post.name}" är ett fast belopp och ska gå till exakt en mottagare, men väljer '
                               f"{len(post.recipients)}. Skriv en mottagares namn, eller välj metoden lika, per mottagare "
                               "eller nyckel.")
            return False
        row = table.rows[post.recipients[0]]
        if not row.participates:
            check.error(where, f'mottagaren {row.name} avstår (Deltar = Nej) men posten "{post.name}" är ett fast belopp '
                               "till den. "
                               "Välj en annan mottagare, eller ändra Deltar.")
            return False
    elif post.method in (EQUAL, KEY) and not members and post.is_default:
        check.error(where, "ingen mottagare deltar (alla har Deltar = Nej), så det finns ingen att fördela till. "
                           "Ändra Deltar till Ja för minst en mottagare.")
        return False
    elif post.method in (EQUAL, KEY) and not members:
        check.error(where, f'posten "{post.name}" har ingen deltagande mottagare (alla valda avstår eller inga är valda). '
                           "Välj fler mottagare eller ändra Deltar.")
        return False
    elif post.method == PER_RECIPIENT and not members:
        check.warn(where, f'posten "{post.name}" har ingen deltagande mottagare och blir 0 kr. '
                          "Välj mottagare eller ta bort posten.")
    return True
