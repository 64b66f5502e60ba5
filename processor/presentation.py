"""The run as every writer shows it: the distribution table, posts and keys in words, areas, each recipient.

Built once per run from the case and the allocation (``present``). The appendix, the report and
the templates' context render it; none of them groups posts, picks columns or words a post
itself. Recipient views are made when asked for, so a run of 10 000 letters never holds them all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from processor import describe
from processor.model import EQUAL, KEY, PER_RECIPIENT, Allocation, Case, KeyPart, PostResult
from processor.vocabulary import GROUP_COL, NAME_COL

NAME, GROUP, BASIS, POST, SUBTOTAL, TOTAL, NOTE = "name", "group", "basis", "post", "subtotal", "total", "note"
PREVIOUS, ADDITION = "previous", "addition"
"""A later round's columns: each recipient's total before the round and what the round adds."""
DECLINING_NOTE = "Avstår"
NO_ADDRESS_NOTE = "Ingen e-postadress"


@dataclass(frozen=True)
class PostView:
    """One post with its words: how it is split, its key, its amount per unit, its footnote sentence."""

    name: str
    amount: int
    method: str
    area: str | None
    key: tuple[KeyPart, ...]
    shares: Mapping[int, int] = field(compare=False, repr=False)
    per_unit: Decimal | None
    method_words: str
    key_words: str | None
    per_unit_words: str | None
    summary_words: str
    footnote: str
    basis_sums: Mapping[str, Decimal] = field(compare=False, repr=False)

    @property
    def recipient_count(self) -> int:
        return len(self.shares)


@dataclass(frozen=True)
class Area:
    """Posts sharing an ``Område`` (``name`` None for posts without one), in workbook order."""

    name: str | None
    posts: tuple[PostView, ...]

    @property
    def amount(self) -> int:
        return sum(p.amount for p in self.posts)

    @property
    def has_subtotal(self) -> bool:
        """An area of several posts gets its own sum column and row."""
        return bool(self.name) and len(self.posts) > 1


@dataclass(frozen=True)
class Column:
    """One column of the distribution table: its heading, what it holds, the area above it."""

    heading: str
    kind: str
    area: str | None = None
    basis: str | None = None
    posts: tuple[PostView, ...] = ()

    @property
    def is_number(self) -> bool:
        return self.kind in (BASIS, POST, SUBTOTAL, TOTAL, PREVIOUS, ADDITION)


CellValue = str | Decimal | int | tuple[str, ...] | None
"""What a cell of the distribution table holds: text, a basis or an amount, a recipient's notes, or nothing."""


@dataclass(frozen=True)
class Table:
    """The distribution table: columns, a row per recipient in workbook order, and the totals row."""

    columns: tuple[Column, ...]
    view: Presentation = field(repr=False, compare=False)
    mail_notes: bool = False

    def cell(self, column: Column, index: int) -> CellValue:
        """Recipient ``index``'s value in ``column``: text, Decimal or int, a tuple of notes, or None for blank."""
        recipient = self.view.case.recipients[index]
        kind = column.kind
        if kind == NAME:
            return recipient.name
        if kind == GROUP:
            return recipient.group
        if kind == BASIS:
            return recipient.bases.get(column.basis)
        if kind in (POST, SUBTOTAL):
            shares = [p.shares[index] for p in column.posts if index in p.shares]
            return sum(shares) if shares else None
        if kind == TOTAL:
            return self.view.allocation.totals[index]
        if kind == PREVIOUS:
            return self.view.round.previous[index]
        if kind == ADDITION:
            return self.view.round.additions[index]
        return self.view.notes(index, self.mail_notes) or None

    def total(self, column: Column) -> CellValue:
        """The totals row: bases over participating recipients, amounts over everyone."""
        kind = column.kind
        if kind == NAME:
            return "Totalt"
        if kind == BASIS:
            return sum((r.bases.get(column.basis, Decimal(0)) for r in self.view.case.recipients if r.participates),
                       Decimal(0))
        if kind in (POST, SUBTOTAL):
            return sum(p.amount for p in column.posts)
        if kind == TOTAL:
            return self.view.allocated_total
        if kind == PREVIOUS:
            return sum(self.view.round.previous)
        if kind == ADDITION:
            return sum(self.view.round.additions)
        return None

    def area_spans(self) -> list[tuple[str | None, int]]:
        """The row above the headings: each area with how many columns it spans; None for one column without."""
        spans: list[tuple[str | None, int]] = []
        for column in self.columns:
            if spans and column.area and spans[-1][0] == column.area:
                spans[-1] = (column.area, spans[-1][1] + 1)
            else:
                spans.append((column.area, 1))
        return spans

    @property
    def has_areas(self) -> bool:
        return any(c.area for c in self.columns)


@dataclass(frozen=True)
class RecipientPost:
    """A recipient's part of one post, and how it came about in words (for its letter)."""

    post: PostView
    amount: int
    share_words: str
    explanation: str


@dataclass(frozen=True)
class RoundFigures:
    """A later round (``processor omfordela``) beside its new amounts: the round's number, each recipient's total
    before it and what it adds, everyone who has declined in any round, and the kronor no one holds."""

    number: int
    previous: tuple[int, ...]
    additions: tuple[int, ...]
    declined: frozenset[int]
    unallocated: int = 0


@dataclass(frozen=True)
class Presentation:
    """The whole run in words and tables; see the module docstring."""

    case: Case
    allocation: Allocation
    posts: tuple[PostView, ...]
    areas: tuple[Area, ...]
    basis_columns: tuple[str, ...]
    footnote: tuple[str, ...]
    round: RoundFigures | None = None

    @property
    def allocated_total(self) -> int:
        """The kronor the recipients hold: the case's total, less what a later round left unallocated."""
        return self.allocation.total - (self.round.unallocated if self.round else 0)

    @property
    def title(self) -> str:
        return self.case.info.title

    @property
    def appendix_title(self) -> str:
        """``Bilaga 1: Fördelning av stimulansmedel …``, without doubling a title that already says so."""
        title = self.case.info.title
        if self.round:
            return f"Bilaga 1: Ny fördelning efter omfördelning av {describe.basis_word(_without_distribution(title))}"
        if title.casefold().startswith("fördelning"):
            return f"Bilaga 1: {title}"
        return f"Bilaga 1: Fördelning av {describe.basis_word(title)}"

    @property
    def rounding_words(self) -> str:
        """The footnote's last sentence: how the amounts are rounded."""
        return self.footnote[-1]

    @property
    def basis_heading(self) -> str:
        """The heading over the bases: the column's own name for one column, ``Underlag`` for several."""
        columns = self.basis_columns
        return columns[0] if len(columns) == 1 else ("Underlag" if columns else "")

    def table(self, *, mail_notes: bool = False) -> Table:
        """The distribution table; ``mail_notes`` adds "Ingen e-postadress" (the report) to "Avstår" (everywhere)."""
        recipients = self.case.recipients
        columns = [Column(NAME_COL, NAME)]
        if any(r.group for r in recipients):
            columns.append(Column(GROUP_COL, GROUP))
        columns.extend(Column(c, BASIS, basis=c) for c in self.basis_columns)
        if len(self.posts) > 1:
            for area in self.areas:
                columns.extend(Column(p.name, POST, area.name, posts=(p,)) for p in area.posts)
                if area.has_subtotal:
                    columns.append(Column(f"Summa {area.name}", SUBTOTAL, area.name, posts=area.posts))
        if self.round:
            columns += [Column("Tidigare", PREVIOUS), Column("Tillägg", ADDITION), Column("Nytt belopp", TOTAL)]
        else:
            columns.append(Column("Totalt", TOTAL))
        if any(self.notes(i, mail_notes) for i in range(len(recipients))):
            columns.append(Column("Anmärkning", NOTE))
        return Table(tuple(columns), self, mail_notes)

    def notes(self, index: int, mail: bool = False) -> tuple[str, ...]:
        """What the table remarks on a recipient: declining, and (``mail``) money without an address."""
        recipient = self.case.recipients[index]
        notes = () if recipient.participates else (DECLINING_NOTE,)
        if mail and self.allocation.totals[index] > 0 and not recipient.emails:
            notes += (NO_ADDRESS_NOTE,)
        return notes

    def recipient_posts(self, index: int) -> list[RecipientPost]:
        """The posts recipient ``index`` takes part in, with its part of each in words."""
        return [self.recipient_post(post, index) for post in self.posts if index in post.shares]

    def recipient_post(self, post: PostView, index: int) -> RecipientPost:
        share = self.share_words(post, index)
        return RecipientPost(post, post.shares[index], share, describe.explanation(post, share))

    def share_words(self, post: PostView, index: int) -> str:
        """``befolkning 48 214 av 888 837`` for each basis of a key post; empty for other methods."""
        bases = self.case.recipients[index].bases
        return ", ".join(describe.share_in_words(p.column, bases.get(p.column, Decimal(0)), post.basis_sums[p.column])
                         for p in post.key) if post.method == KEY else ""

    def bases_words(self, index: int) -> str:
        """The recipient's basis values: ``23 178`` for one basis column, ``Befolkning 23 178, …`` for several."""
        recipient = self.case.recipients[index]
        if not recipient.participates:
            return "avstår"
        return describe.bases_in_words([(c, recipient.bases[c]) for c in self.basis_columns if c in recipient.bases],
                                       single=len(self.basis_columns) == 1)


def present(case: Case, allocation: Allocation, round: RoundFigures | None = None) -> Presentation:
    """The presentation of one run: every post in words, the areas and the basis columns, made once.

    A later round (``round``) shows everyone who has declined in any round as declining, the columns
    Tidigare, Tillägg and Nytt belopp, and in the footnote what stays unallocated.
    """
    if round is not None:  # the declining hold nothing now: shown as declining, out of the posts
        case = dataclasses.replace(case, recipients=tuple(
            dataclasses.replace(r, participates=False) if i in round.declined else r for i, r in enumerate(case.recipients)))
        allocation = dataclasses.replace(allocation, posts=tuple(_round_post(p, round) for p in allocation.posts))
    posts = tuple(_post_view(result, case) for result in allocation.posts)
    areas: dict[str | None, list[PostView]] = {}
    for post in posts:
        areas.setdefault(post.area, []).append(post)
    declined = [r.name for r in case.recipients if not r.participates]
    allocated = allocation.total - (round.unallocated if round else 0)
    footnote = (*(p.footnote for p in posts), *describe.declining_sentences(declined),
                *(describe.unallocated_sentences(round.unallocated) if round else ()),
                describe.rounding_sentence(case.info.rounding, allocated))
    return Presentation(case, allocation, posts, tuple(Area(name, tuple(members)) for name, members in areas.items()),
                        basis_columns(case), footnote, round)


def _round_post(result: PostResult, round: RoundFigures) -> PostResult:
    """A post as a later round shows it: without the declining, and a ``per mottagare`` post (whose recipients now
    hold its first amount plus an equal part of what was declined) as shared equally."""
    post = result.post
    if post.method == PER_RECIPIENT:
        post = dataclasses.replace(post, method=EQUAL)
    return dataclasses.replace(result, post=post, shares={i: v for i, v in result.shares.items() if i not in round.declined})


def _without_distribution(title: str) -> str:
    """A title's subject after ``Fördelning av``, so a round's ``omfördelning av …`` does not say it twice."""
    head = "fördelning av "
    return title[len(head):] if title.casefold().startswith(head) and len(title) > len(head) else title


def basis_columns(case: Case) -> tuple[str, ...]:
    """The basis columns any key uses, in the order the posts first name them."""
    columns: list[str] = []
    for post in case.posts:
        if post.method == KEY:
            columns.extend(p.column for p in post.key if p.column not in columns)
    return tuple(columns)


def _post_view(result: PostResult, case: Case) -> PostView:
    post = result.post
    per_unit = describe.round_ore(result.per_unit) if result.per_unit is not None else None
    per_unit_words = describe.per_unit_in_words(result)
    method_words = describe.method_in_words(result, case)
    sums = {p.column: sum((case.recipients[i].bases.get(p.column, Decimal(0)) for i in result.shares), Decimal(0))
            for p in post.key} if post.method == KEY else {}
    return PostView(
        name=post.name, amount=result.amount, method=post.method, area=post.area, key=post.key, shares=result.shares,
        per_unit=per_unit, method_words=method_words,
        key_words=describe.key_in_words(post) if post.method == KEY else None,
        per_unit_words=per_unit_words, summary_words=describe.summary_words(method_words, per_unit_words),
        footnote=describe.footnote_sentence(result, method_words), basis_sums=sums,
    )
