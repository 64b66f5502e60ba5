"""The case over the year as data: statuses in the spec's order, totals and counts, the status JSON."""

from __future__ import annotations

import datetime as dt

import pytest

from processor.followup import DECLINED, LATE, PAID, REPORTED, REQUESTED, WAITING, LedgerEntry, case_standing, status_of

DEADLINE = dt.date(2020, 8, 30)
BEFORE, AFTER = dt.date(2020, 8, 1), dt.date(2020, 9, 1)


@pytest.mark.parametrize(("entry", "today", "status"), [
    (LedgerEntry("A", 100, declined=True, requested=100), BEFORE, DECLINED),
    (LedgerEntry("A", 0, declined=True), BEFORE, DECLINED),
    (LedgerEntry("A", 0), AFTER, None),
    (LedgerEntry("A", 100, requested=100, paid=100, used=90, reported=BEFORE), AFTER, REPORTED),
    (LedgerEntry("A", 100, requested=100, paid=100), AFTER, PAID),
    (LedgerEntry("A", 100, requested=40), AFTER, REQUESTED),
    (LedgerEntry("A", 100), AFTER, LATE),
    (LedgerEntry("A", 100), DEADLINE, WAITING),
    (LedgerEntry("A", 100), BEFORE, WAITING),
])
def test_status_in_the_order_the_spec_gives(entry, today, status):
    assert status_of(entry, DEADLINE, today) == status


def test_without_a_deadline_nobody_is_late():
    assert status_of(LedgerEntry("A", 100), None, AFTER) == WAITING


def test_the_status_document_has_the_spec_shape():
    entries = [LedgerEntry("Botkyrka", 2_955_410, requested=2_955_410), LedgerEntry("Ekerö", 500, declined=True),
               LedgerEntry("Nacka", 1_000), LedgerEntry("Huddinge", 0)]
    document = case_standing(entries, DEADLINE, AFTER).to_json()
    assert document["today"] == "2020-09-01" and document["deadline"] == "2020-08-30"
    assert document["recipients"][0] == {"name": "Botkyrka", "allocated": 2_955_410, "declined": False,
                                         "requested": 2_955_410, "paid": 0, "used": None, "status": REQUESTED}
    assert document["totals"] == {"allocated": 2_956_910, "requested": 2_955_410, "paid": 0, "declined": 500, "used": 0}
    assert document["counts"] == {"Avstår": 1, "Redovisat": 0, "Utbetalt": 0, "Rekvirerat": 1, "Försenad": 1, "Väntar": 0}
