"""Recording e-invoices in the ledger (followup.md, ``processor faktura``): each outcome said, twice is harmless."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.einvoice import read_einvoice_file
from processor.errors import InputError
from processor.followup import LedgerEntry
from processor.invoice_apply import ALREADY_RECORDED, NOT_RECORDED, RECORDED, apply_invoices, unreadable
from processor.invoice_match import match_invoice
from processor.model import Recipient

PEPPOL = Path(__file__).parent / "data" / "peppol"
RECIPIENTS = (Recipient("Vaxholm", 2, org_number="212000-0035"), Recipient("Botkyrka", 3),
              Recipient("Norrtälje", 4, org_number="212000-0233"))
LEDGER = (LedgerEntry("Vaxholm", 413522, row=2), LedgerEntry("Botkyrka", 900000, row=3),
          LedgerEntry("Norrtälje", 850000, row=4))


def matches(*names: str, **changes):
    return [match_invoice(dataclasses.replace(read_einvoice_file(PEPPOL / n), **changes), "781", dt.date(2020, 8, 30),
                          RECIPIENTS) for n in names]


def test_an_invoice_is_recorded_with_its_amount_date_and_number():
    entries, [outcome] = apply_invoices(LEDGER, matches("vaxholm-faktura.xml"))
    assert entries[0] == LedgerEntry("Vaxholm", 413522, requested=413522, invoice_date=dt.date(2020, 6, 15),
                                     invoice_numbers=("VX-2020-0412",), row=2)
    assert entries[1:] == LEDGER[1:]
    assert (outcome.result, outcome.recipient, outcome.amount, outcome.over_allocation) == (RECORDED, "Vaxholm", 413522, False)
    assert outcome.lines() == ["vaxholm-faktura.xml: införd: Vaxholm, 413 522 kr (faktura VX-2020-0412); "
                               "rekvirerat nu 413 522 kr av 413 522 kr."]


def test_importing_the_same_invoices_twice_changes_nothing():
    once, _ = apply_invoices(LEDGER, matches("vaxholm-faktura.xml", "botkyrka-faktura-moms.xml"))
    twice, outcomes = apply_invoices(once, matches("vaxholm-faktura.xml", "botkyrka-faktura-moms.xml"))
    assert twice == once
    assert [o.result for o in outcomes] == [ALREADY_RECORDED, ALREADY_RECORDED]
    assert outcomes[0].message == "redan införd: faktura VX-2020-0412 från Vaxholm finns redan i uppfoljning.xlsx; inget ändras."


def test_the_same_file_twice_in_one_call_is_recorded_once():
    entries, outcomes = apply_invoices(LEDGER, matches("vaxholm-faktura.xml", "vaxholm-faktura.xml"))
    assert entries[0].requested == 413522
    assert [o.result for o in outcomes] == [RECORDED, ALREADY_RECORDED]


def test_a_credit_note_subtracts_and_keeps_the_latest_date():
    entries, outcomes = apply_invoices(LEDGER, matches("vaxholm-faktura.xml", "vaxholm-kreditnota.xml"))
    assert (entries[0].requested, entries[0].invoice_date, entries[0].invoice_numbers) == (
        400000, dt.date(2020, 6, 22), ("VX-2020-0412", "VX-2020-0431"))
    assert outcomes[1].amount == -13522
    assert outcomes[1].message == ("införd: Vaxholm, -13 522 kr (kreditnota VX-2020-0431); "
                                   "rekvirerat nu 400 000 kr av 413 522 kr.")


def test_a_credit_note_before_its_invoice_is_not_recorded():
    entries, [outcome] = apply_invoices(LEDGER, matches("vaxholm-kreditnota.xml"))
    assert entries == LEDGER
    assert outcome.result == NOT_RECORDED and not outcome.over_allocation
    assert "drar av 13 522 kr, men Vaxholm har bara rekvirerat 0 kr" in outcome.message


def test_a_credit_note_read_before_its_invoice_is_recorded_after_it():
    entries, outcomes = apply_invoices(LEDGER, matches("vaxholm-kreditnota.xml", "vaxholm-faktura.xml"))
    assert entries[0].requested == 400000
    assert [o.result for o in outcomes] == [RECORDED, RECORDED]


def test_an_invoice_above_what_remains_is_not_recorded_but_the_others_are():
    ledger = (dataclasses.replace(LEDGER[0], requested=400000, invoice_numbers=("VX-2020-0399",)), *LEDGER[1:])
    entries, outcomes = apply_invoices(ledger, matches("vaxholm-faktura.xml", "norrtalje-faktura.xml"))
    assert entries[0] == ledger[0]
    assert entries[2].requested == 850000
    over, late = outcomes
    assert (over.result, over.over_allocation, late.result) == (NOT_RECORDED, True, RECORDED)
    assert over.message == ("inte införd: faktura VX-2020-0412 på 413 522 kr är mer än vad som återstår av tilldelningen "
                            "till Vaxholm (13 522 kr av 413 522 kr). Be mottagaren kreditera fakturan och fakturera högst "
                            "13 522 kr.")
    assert late.lines()[1] == "  Varning: faktura N-2020-4471 är daterad 4 september 2020, efter sista dag 30 augusti 2020."


def test_vat_is_recorded_without_it_and_warned_about():
    entries, [outcome] = apply_invoices(LEDGER, matches("botkyrka-faktura-moms.xml"))
    assert entries[1].requested == 200000
    assert outcome.result == RECORDED and "statsbidrag faktureras utan moms" in outcome.warnings[0]


def test_a_foreign_currency_is_not_recorded_and_changes_nothing():
    entries, [outcome] = apply_invoices(LEDGER, matches("vaxholm-faktura.xml", currency="EUR"))
    assert entries == LEDGER
    assert outcome.lines() == ["vaxholm-faktura.xml: inte införd: faktura VX-2020-0412 är i EUR, inte i svenska kronor, "
                               "och förs därför inte in. Be mottagaren skicka en kreditnota och en ny faktura i kronor, "
                               "eller för in beloppet i kronor för hand i uppfoljning.xlsx."]


def test_another_cases_invoice_changes_nothing():
    entries, [outcome] = apply_invoices(LEDGER, matches("vaxholm-faktura.xml", buyer_reference="999"))
    assert entries == LEDGER and outcome.result == NOT_RECORDED and not outcome.over_allocation


def test_a_recipient_that_declined_gets_nothing_recorded():
    ledger = (dataclasses.replace(LEDGER[0], declined=True), *LEDGER[1:])
    entries, [outcome] = apply_invoices(ledger, matches("vaxholm-faktura.xml"))
    assert entries == ledger
    assert outcome.message.startswith("inte införd: Vaxholm har avstått medlen (Avstår = Ja i uppfoljning.xlsx)")


def test_a_recipient_missing_from_the_ledger_gets_nothing_recorded():
    entries, [outcome] = apply_invoices(LEDGER[1:], matches("vaxholm-faktura.xml"))
    assert entries == LEDGER[1:]
    assert outcome.message == ("inte införd: mottagaren Vaxholm har ingen rad i uppfoljning.xlsx. "
                               "Lägg tillbaka raden och läs in fakturan igen.")


def test_an_unreadable_file_is_an_outcome_naming_it():
    with pytest.raises(InputError) as caught:
        read_einvoice_file(PEPPOL / "README.md")
    outcome = unreadable(caught.value.problems[0])
    assert outcome.result == NOT_RECORDED
    assert outcome.lines()[0].startswith("README.md: inte införd: filen är inte en XML-fil")


FILES = ("vaxholm-faktura.xml", "vaxholm-kreditnota.xml", "botkyrka-faktura-moms.xml", "norrtalje-faktura.xml")
PARSED = {name: read_einvoice_file(PEPPOL / name) for name in FILES}
an_invoice = st.builds(lambda name, number, amount: dataclasses.replace(PARSED[name], number=number, amount=amount),
                       st.sampled_from(FILES), st.sampled_from(["1", "2", "3", "K-1"]),
                       st.integers(0, 1_000_000).map(Decimal))


@settings(max_examples=60, deadline=None)
@given(st.lists(an_invoice, max_size=8))
def test_any_invoices_keep_the_ledger_within_the_allocation_and_a_second_import_changes_nothing(invoices):
    found = [match_invoice(i, "781", dt.date(2020, 8, 30), RECIPIENTS) for i in invoices]
    entries, outcomes = apply_invoices(LEDGER, found)
    assert all(0 <= e.requested <= e.allocated for e in entries)
    assert sum(e.requested for e in entries) == sum(o.amount for o in outcomes if o.result == RECORDED)
    again, second = apply_invoices(entries, found)
    assert again == entries
    assert all(o.result != RECORDED for o in second)
