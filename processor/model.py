"""The case as plain data: what validation produces and the allocation engine consumes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

FAST = "fast"
EQUAL = "lika"
PER_RECIPIENT = "per mottagare"
KEY = "nyckel"
METHODS = (FAST, EQUAL, PER_RECIPIENT, KEY)


@dataclass(frozen=True)
class Recipient:
    """One row of the ``Mottagare`` sheet."""

    name: str
    row: int
    emails: tuple[str, ...] = ()
    group: str | None = None
    participates: bool = True
    bases: dict[str, Decimal] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    org_number: str | None = None
    """``NNNNNN-NNNN`` from the optional ``Organisationsnummer`` column; matches the recipient's e-invoices."""


@dataclass(frozen=True)
class KeyPart:
    """One basis column of a key and its weight in percent (100 for a plain key)."""

    column: str
    weight: Decimal


@dataclass(frozen=True)
class Post:
    """One pot of money. ``amount`` is None for the ``rest`` post.

    ``recipients`` are indices into the case's recipient list, in workbook order.
    For ``per mottagare`` the amount is what each recipient gets. ``row`` is the post's
    row in ``Fördelning``; ``is_default`` marks the one post of a workbook without that
    sheet (the whole total by the case's key), which the user never named.
    """

    name: str
    amount: int | None
    method: str
    recipients: tuple[int, ...]
    key: tuple[KeyPart, ...] = ()
    area: str | None = None
    row: int | None = None
    is_default: bool = False

    @property
    def is_rest(self) -> bool:
        return self.amount is None


@dataclass(frozen=True)
class CaseInfo:
    """The ``Ärende`` sheet: the money, rounding and the fields the documents use."""

    title: str
    grant: int
    carried_over: int = 0
    rounding: int = 1
    templates_dir: str | None = None
    fields: dict[str, object] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.grant + self.carried_over

    def date(self, name: str) -> dt.date | None:
        value = self.fields.get(name)
        return value if isinstance(value, dt.date) else None


@dataclass(frozen=True)
class Case:
    """A whole validated workbook."""

    info: CaseInfo
    recipients: tuple[Recipient, ...]
    posts: tuple[Post, ...]
    texts: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    source: str = ""
    questions: tuple[str, ...] = ()
    """The body's own questions for the reporting form (sheet ``Frågor``); empty: the default ones."""


@dataclass(frozen=True)
class PostResult:
    """A post split among its recipients (indices into the case's recipients)."""

    post: Post
    amount: int
    shares: dict[int, int]
    per_unit: Fraction | None = None


@dataclass(frozen=True)
class Allocation:
    """The whole result: per post, and per recipient in workbook order."""

    total: int
    posts: tuple[PostResult, ...]
    totals: tuple[int, ...]

    def amounts_of(self, index: int) -> dict[str, int]:
        """What recipient ``index`` gets from each post it takes part in."""
        return {p.post.name: p.shares[index] for p in self.posts if index in p.shares}
