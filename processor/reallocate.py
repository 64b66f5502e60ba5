"""The second round (``processor omfordela``): money declined is shared again, exactly. Pure, no I/O.

Per post, the pool (what the recipients declining now held in it) is shared among the post's
remaining recipients (its first-round participants who have never declined) in proportion to
their exact first-round shares of the post: the key's share for ``nyckel``, equal for ``lika``
and ``per mottagare``, the whole for a ``fast`` post's one recipient. The shares are always the
first round's, in every later round, so a third round passes the original case and the second
round's holdings. A pool whose post has nobody left with a share above 0 (a ``fast`` post, or
everyone declined) goes, added to the others like it, to ``to_post``, where it is added to that
post's own pool and shared once the same way; without ``to_post`` it stays unallocated, to be
repaid to the funder.

Rounding: the largest multiple of ``Avrundning`` in a pool is split by largest remainder into
multiples of ``Avrundning`` (the workbook's tie rule: ties to the larger exact share, then the
earlier row); the kronor below one unit, which only a ``fast`` post's odd amount (or a later
round's holdings built on one) can leave, are split by the same weights and rule to the krona.
So no krona is lost or invented, and a pool that is a multiple of the unit adds multiples of it.

What the engine cannot do it refuses with ``ValueError``, a bug: the command checks the user's
input first (``can_receive`` says whether a post can take the pools with nobody left).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from fractions import Fraction

from processor.allocate import key_weights, largest_remainder, participants
from processor.model import EQUAL, FAST, KEY, PER_RECIPIENT, Case, Post


@dataclass(frozen=True)
class PostRedistribution:
    """One post in a round: what its newly declined recipients freed and what the others gained."""

    post: Post
    freed: int
    """Kronor this post's newly declined recipients held before this round."""
    additions: dict[int, int]
    """Recipient index -> kronor added in this post this round (only entries above 0)."""
    holdings: dict[int, int]
    """Recipient index -> kronor held in this post after the round (declined recipients absent)."""
    received: int = 0
    """Kronor from the posts with nobody left, when this is the round's ``to_post``."""
    nobody_left: bool = False
    """No remaining recipient has a share of this post: its pool went to ``to_post`` or stays unallocated."""

    @property
    def shared(self) -> int:
        """Kronor shared among this post's recipients this round (its own pool and what it received)."""
        return sum(self.additions.values())


@dataclass(frozen=True)
class Redistribution:
    """A whole round: per post, and per recipient in workbook order."""

    posts: tuple[PostRedistribution, ...]
    previous: tuple[int, ...]
    """Per recipient: total before this round."""
    totals: tuple[int, ...]
    """Per recipient: total after this round (0 for everyone declined)."""
    unallocated: int
    """Kronor no one holds after this round, to repay to the funder (``unallocated_before`` included)."""
    to_post: int | None
    """Index of the post that took the pools with nobody left, when there were any kronor in them."""
    declined: tuple[int, ...] = ()
    """Everyone declined in any round, in workbook order."""
    unallocated_before: int = 0
    """Kronor that were already unallocated before this round."""

    @property
    def additions(self) -> tuple[int, ...]:
        """Per recipient: what this round adds (0 for the declined)."""
        out = set(self.declined)
        return tuple(0 if i in out else total - before
                     for i, (before, total) in enumerate(zip(self.previous, self.totals)))

    @property
    def freed(self) -> tuple[int, ...]:
        """Per recipient: what a recipient declining now gave up (0 for everyone else)."""
        out = set(self.declined)
        return tuple(before if i in out else 0 for i, before in enumerate(self.previous))


def first_round_shares(case: Case, index: int) -> dict[int, Fraction]:
    """Each first-round participant's exact share of post ``index`` (summing to 1), in workbook order."""
    post = case.posts[index]
    if post.method == FAST:
        return {i: Fraction(1) for i in post.recipients}
    members = participants(post, case.recipients)
    if not members:
        return {}
    if post.method in (EQUAL, PER_RECIPIENT):
        return {i: Fraction(1, len(members)) for i in members}
    if post.method == KEY:
        return dict(zip(members, key_weights(post, case.recipients, members)))
    raise ValueError(f"unknown method {post.method!r}")


def remaining_shares(case: Case, index: int, declined: AbstractSet[int]) -> dict[int, Fraction]:
    """The first-round shares of post ``index`` of those who have not declined (no longer summing to 1)."""
    return {i: share for i, share in first_round_shares(case, index).items() if i not in declined}


def can_receive(case: Case, index: int, declined: AbstractSet[int]) -> bool:
    """Whether post ``index`` has someone left with a share above 0, so it can take a pool."""
    return any(remaining_shares(case, index, declined).values())


def share_pool(amount: int, weights: Sequence[Fraction], unit: int) -> list[int]:
    """Split ``amount`` by ``weights``: its multiples of ``unit`` by units, the kronor below a unit to the krona."""
    below_unit = amount % unit
    by_units = largest_remainder(amount - below_unit, weights, unit)
    by_kronor = largest_remainder(below_unit, weights, 1)
    return [a + b for a, b in zip(by_units, by_kronor)]


def redistribute(case: Case, holdings: Sequence[Mapping[int, int]], declined: AbstractSet[int],
                 to_post: int | None = None, unallocated_before: int = 0) -> Redistribution:
    """Share what the declined recipients hold among those who stay, post by post (module docstring).

    ``holdings[p]`` is what each recipient holds in post ``p`` now: the first round's shares in
    round 2, the previous round's holdings after that. ``declined`` is everyone who declined in
    any round; those already at 0 free nothing.
    """
    check_round(case, holdings, declined, to_post, unallocated_before)
    unit = case.info.rounding
    shares = [remaining_shares(case, p, declined) for p in range(len(case.posts))]
    takers = [any(s.values()) for s in shares]
    freed = [sum(amount for i, amount in held.items() if i in declined) for held in holdings]
    orphaned = sum(f for f, taken in zip(freed, takers) if not taken)
    posts = []
    for p, (post, held) in enumerate(zip(case.posts, holdings)):
        received = orphaned if p == to_post else 0
        pool = freed[p] + received if takers[p] else 0
        additions: dict[int, int] = {}
        if pool:
            split = share_pool(pool, list(shares[p].values()), unit)
            additions = {i: added for i, added in zip(shares[p], split) if added}
        members = sorted(i for i in {*held, *additions} if i not in declined)
        kept = {i: held.get(i, 0) + additions.get(i, 0) for i in members}
        posts.append(PostRedistribution(post, freed[p], additions, kept, received, not takers[p]))
    n = len(case.recipients)
    previous = per_recipient(holdings, n)
    totals = per_recipient([p.holdings for p in posts], n)
    unallocated = unallocated_before + (orphaned if to_post is None else 0)
    if sum(totals) + unallocated != case.info.total:
        raise ValueError(f"redistributed {sum(totals)} + {unallocated} unallocated of {case.info.total}")
    return Redistribution(tuple(posts), previous, totals, unallocated,
                          to_post if to_post is not None and orphaned else None,
                          tuple(sorted(declined)), unallocated_before)


def per_recipient(holdings: Sequence[Mapping[int, int]], count: int) -> tuple[int, ...]:
    """Each recipient's total over the posts, in workbook order."""
    totals = [0] * count
    for held in holdings:
        for i, amount in held.items():
            totals[i] += amount
    return tuple(totals)


def check_round(case: Case, holdings: Sequence[Mapping[int, int]], declined: AbstractSet[int],
                to_post: int | None, unallocated_before: int) -> None:
    """Refuse input no round can come from: the command has checked the user's input already."""
    n = len(case.recipients)
    if len(holdings) != len(case.posts):
        raise ValueError(f"{len(holdings)} posts of holdings for {len(case.posts)} posts")
    if any(not 0 <= i < n for i in declined):
        raise ValueError(f"declined recipients {sorted(declined)} out of range 0..{n - 1}")
    for p, held in enumerate(holdings):
        strangers = set(held) - set(first_round_shares(case, p))
        if strangers:
            raise ValueError(f"post {case.posts[p].name!r}: recipients {sorted(strangers)} were not in it")
        if any(amount < 0 for amount in held.values()):
            raise ValueError(f"post {case.posts[p].name!r}: a negative holding")
    if unallocated_before < 0:
        raise ValueError(f"unallocated before is {unallocated_before}")
    held_total = sum(sum(held.values()) for held in holdings)
    if held_total + unallocated_before != case.info.total:
        raise ValueError(f"holdings sum to {held_total} + {unallocated_before} unallocated, "
                         f"not the case's total {case.info.total}")
    if to_post is not None:
        if not 0 <= to_post < len(case.posts):
            raise ValueError(f"to_post {to_post} out of range 0..{len(case.posts) - 1}")
        if not can_receive(case, to_post, declined):
            raise ValueError(f"post {case.posts[to_post].name!r} has nobody left to take the pools")
