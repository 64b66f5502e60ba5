"""The allocation engine: pure, exact (integers and fractions), no I/O.

It trusts a validated case (``validate`` checks every rule first); what it still
cannot do, it refuses with ``ValueError``, which is a bug, not a user error.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from processor.model import EQUAL, FAST, KEY, PER_RECIPIENT, Allocation, Case, Post, PostResult, Recipient


def largest_remainder(amount: int, weights: Sequence[Fraction], unit: int = 1) -> list[int]:
    """Split ``amount`` in proportion to ``weights`` into multiples of ``unit`` summing to it.

    Each exact share is divided by ``unit`` and rounded down; the units left over go one
    each to the largest fractional parts, ties to the larger exact share, then to the
    earlier position. ``amount`` must be a multiple of ``unit``.
    """
    if amount % unit:
        raise ValueError(f"{amount} is not a multiple of {unit}")
    weight_sum = sum(weights, Fraction(0))
    if weight_sum <= 0:
        raise ValueError("weights sum to zero")
    units = amount // unit
    exact = [Fraction(units) * Fraction(w) / weight_sum for w in weights]
    floors = [e.numerator // e.denominator for e in exact]
    left = units - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (floors[i] - exact[i], -exact[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [f * unit for f in floors]


def participants(post: Post, recipients: Sequence[Recipient]) -> list[int]:
    """The selected recipients who have not declined, in workbook order."""
    return [i for i in post.recipients if recipients[i].participates]


def key_weights(post: Post, recipients: Sequence[Recipient], members: Sequence[int]) -> list[Fraction]:
    """Each member's share of a ``nyckel`` post: Σ (weight/100) · x_i / Σ_j x_j over the key's columns."""
    shares = [Fraction(0)] * len(members)
    for part in post.key:
        values = [Fraction(recipients[i].bases[part.column]) for i in members]
        column_sum = sum(values, Fraction(0))
        if column_sum <= 0:
            raise ValueError(f"key column {part.column!r} of post {post.name!r} sums to zero")
        weight = Fraction(part.weight) / 100
        shares = [s + weight * v / column_sum for s, v in zip(shares, values)]
    return shares


def post_amounts(case: Case) -> list[int]:
    """Each post's total in kronor, the ``rest`` post resolved against the case's total."""
    amounts: list[int | None] = []
    for post in case.posts:
        if post.is_rest:
            amounts.append(None)
        elif post.method == PER_RECIPIENT:
            amounts.append(post.amount * len(participants(post, case.recipients)))
        else:
            amounts.append(post.amount)
    known = sum(a for a in amounts if a is not None)
    rest = case.info.total - known
    return [rest if a is None else a for a in amounts]


def split_post(post: Post, amount: int, recipients: Sequence[Recipient], unit: int) -> PostResult:
    """One post's amount per recipient, and the amount per unit of a one-column key."""
    members = participants(post, recipients)
    if post.method == FAST:
        (only,) = post.recipients
        return PostResult(post, amount, {only: amount})
    if post.method == PER_RECIPIENT:
        return PostResult(post, amount, {i: post.amount for i in members})
    if not members:
        raise ValueError(f"post {post.name!r} has no participating recipient")
    if post.method == EQUAL:
        split = largest_remainder(amount, [Fraction(1)] * len(members), unit)
        return PostResult(post, amount, dict(zip(members, split)))
    if post.method == KEY:
        split = largest_remainder(amount, key_weights(post, recipients, members), unit)
        per_unit = None
        if len(post.key) == 1:
            column_sum = sum((Fraction(recipients[i].bases[post.key[0].column]) for i in members), Fraction(0))
            per_unit = Fraction(amount) / column_sum
        return PostResult(post, amount, dict(zip(members, split)), per_unit)
    raise ValueError(f"unknown method {post.method!r}")


def allocate(case: Case) -> Allocation:
    """Split every post of a validated case; totals per recipient in workbook order."""
    results = tuple(
        split_post(post, amount, case.recipients, case.info.rounding)
        for post, amount in zip(case.posts, post_amounts(case))
    )
    totals = [0] * len(case.recipients)
    for result in results:
        for i, share in result.shares.items():
            totals[i] += share
    allocation = Allocation(case.info.total, results, tuple(totals))
    if sum(totals) != case.info.total:
        raise ValueError(f"allocated {sum(totals)} of {case.info.total}")
    return allocation
