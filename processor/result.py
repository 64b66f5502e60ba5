"""``fordelning.json``: the result for programs, as the outputs spec defines it, and read back for the report."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from fractions import Fraction

from processor.describe import round_ore
from processor.presentation import RoundFigures, basis_columns
from processor.vocabulary import (COMMITTEE, DATE, DATE_FIELDS, DEADLINE, DEPARTMENT, INVOICE_ADDRESS, INVOICE_EMAIL,
                                  INVOICE_REFERENCE, OFFICER, PHONE, REFERENCE, REPAYMENT_DEADLINE, SENDER_EMAIL,
                                  SENDER_NAME, SIGNATORY, SIGNATORY_TITLE, SUBJECT, TEMPLATES, TITLE, YEAR)
from processor.model import PER_RECIPIENT, Allocation, Case, CaseInfo, KeyPart, Post, PostResult, Recipient


RESULT_CASE_FIELDS = (TITLE, REFERENCE, DATE, DEADLINE, INVOICE_REFERENCE, SENDER_EMAIL, YEAR, SUBJECT, SENDER_NAME, OFFICER,
               PHONE, INVOICE_ADDRESS, INVOICE_EMAIL, TEMPLATES, REPAYMENT_DEADLINE, COMMITTEE, DEPARTMENT, SIGNATORY,
               SIGNATORY_TITLE)
"""The Ärende fields later commands need from a run folder (status, faktura, the reminders' sender, contact and
how to invoice, when unspent money is repaid, whom an amended decision goes to and who signs it): kept in ``case``,
dates ISO."""


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def result_document(case: Case, allocation: Allocation, case_id: str | None = None) -> dict:
    """The JSON-ready result: posts, recipients in workbook order, warnings, and the case's identity when known.

    ``case_id`` is made once by ``processor run``; the rounds, reminders and reporting forms of the case carry it,
    so that a later file is known to belong to this case and not to another run of the same workbook.
    Each recipient's ``bases`` (the values of the columns a key uses, as exact decimal text) let a later round
    recompute the exact first-round shares from the run folder alone.
    """
    columns = basis_columns(case)
    return {
        **({"case_id": case_id} if case_id else {}),
        "title": case.info.title,
        "total": allocation.total,
        "carried_over": case.info.carried_over,
        "rounding": case.info.rounding,
        "posts": [
            {
                "name": r.post.name,
                "method": r.post.method,
                "amount": r.amount,
                "area": r.post.area,
                "key": [{"column": p.column, "weight": _number(p.weight)} for p in r.post.key],
                "per_unit": float(round_ore(r.per_unit)) if r.per_unit is not None else None,
            }
            for r in allocation.posts
        ],
        "recipients": [
            {
                "name": rec.name,
                "email": list(rec.emails),
                "group": rec.group,
                "participates": rec.participates,
                "amounts": allocation.amounts_of(i),
                "total": allocation.totals[i],
                **({"org_number": rec.org_number} if rec.org_number else {}),
                **({"bases": bases} if (bases := {c: str(rec.bases[c]) for c in columns if c in rec.bases}) else {}),
            }
            for i, rec in enumerate(case.recipients)
        ],
        "warnings": list(case.warnings),
        "case": case_fields(case),
        **({"questions": list(case.questions)} if case.questions else {}),
    }


def case_fields(case: Case) -> dict[str, object]:
    """The Ärende fields of ``RESULT_CASE_FIELDS`` the workbook has, as JSON values (dates ISO, numbers whole or decimal)."""
    fields = {**case.info.fields, TITLE: case.info.title}
    return {name: _json_value(fields[name]) for name in RESULT_CASE_FIELDS if fields.get(name) is not None}


def _json_value(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _number(value)
    return value if isinstance(value, (int, str, bool)) else str(value)


def _field_value(name: str, value: object) -> object:
    if name in DATE_FIELDS and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def result_json(case: Case, allocation: Allocation, case_id: str | None = None) -> bytes:
    return json.dumps(result_document(case, allocation, case_id), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def read_back(document: dict, basis_columns: list[str], bases: list[list[str | None]]) -> tuple[Case, Allocation]:
    """The case and allocation a ``fordelning.json`` (and the bases beside it) tells, so a run folder can be shown again.

    The bases are the result's own (``bases`` per recipient) where it has them, else ``basis_columns`` and ``bases``
    given (a folder from before: its report's embedded data). What the result leaves out (the documents' fields,
    texts, other columns) is left out here too.
    """
    def bases_of(r: dict, values: list[str | None]) -> dict[str, Decimal]:
        if "bases" in r:
            return {c: Decimal(v) for c, v in r["bases"].items()}
        return {c: Decimal(v) for c, v in zip(basis_columns, values) if v is not None}

    recipients = tuple(
        Recipient(name=r["name"], row=0, emails=tuple(r["email"]), group=r["group"], participates=r["participates"],
                  org_number=r.get("org_number"), bases=bases_of(r, values))
        for r, values in zip(document["recipients"], bases if len(bases) == len(document["recipients"]) else
                             [[] for _ in document["recipients"]])
    )
    results = []
    for p in document["posts"]:
        shares = {i: r["amounts"][p["name"]] for i, r in enumerate(document["recipients"]) if p["name"] in r["amounts"]}
        each = p["method"] == PER_RECIPIENT and shares  # a per-recipient post's own amount is what each one gets
        post = Post(name=p["name"], amount=next(iter(shares.values())) if each else p["amount"], method=p["method"],
                    recipients=tuple(shares), area=p["area"],
                    key=tuple(KeyPart(k["column"], Decimal(str(k["weight"]))) for k in p["key"]))
        per_unit = Fraction(Decimal(str(p["per_unit"]))) if p["per_unit"] is not None else None
        results.append(PostResult(post, p["amount"], shares, per_unit))
    total = document["total"]
    info = CaseInfo(title=document["title"], grant=total - document["carried_over"],
                    carried_over=document["carried_over"], rounding=document["rounding"],
                    fields={k: _field_value(k, v) for k, v in document.get("case", {}).items()})
    case = Case(info, recipients, tuple(r.post for r in results), warnings=tuple(document.get("warnings", ())),
                questions=tuple(str(q) for q in document.get("questions", ())))
    return case, Allocation(total, tuple(results), tuple(r["total"] for r in document["recipients"]))


def round_figures(document: dict) -> RoundFigures | None:
    """A later round's figures as its ``fordelning.json`` holds them; None for a first round."""
    if "round" not in document:
        return None
    recipients = document["recipients"]
    return RoundFigures(number=document["round"], previous=tuple(r["previous_total"] for r in recipients),
                        additions=tuple(r["addition"] for r in recipients),
                        declined=frozenset(i for i, r in enumerate(recipients) if "declined_round" in r),
                        unallocated=document.get("unallocated", 0))
