"""``fordelning.json``: the result for programs, as the outputs spec defines it."""

from __future__ import annotations

import json
from decimal import Decimal

from processor.describe import round_ore
from processor.model import Allocation, Case


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def result_document(case: Case, allocation: Allocation) -> dict:
    """The JSON-ready result: posts, recipients in workbook order, warnings."""
    return {
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
            }
            for i, rec in enumerate(case.recipients)
        ],
        "warnings": list(case.warnings),
    }


def result_json(case: Case, allocation: Allocation) -> bytes:
    return json.dumps(result_document(case, allocation), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
