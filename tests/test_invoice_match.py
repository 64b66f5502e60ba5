"""Whose an e-invoice is (followup.md, ``processor faktura``): this case by its reference, the recipient by number or name."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from processor.einvoice import read_einvoice_file
from processor.invoice_match import match_invoice, name_key
from processor.model import Recipient

PEPPOL = Path(__file__).parent / "data" / "peppol"
DEADLINE = dt.date(2020, 8, 30)
RECIPIENTS = (
    Recipient("Vaxholm", 2, org_number="212000-0035"),
    Recipient("Botkyrka", 3),
    Recipient("Norrtälje", 4, org_number="212000-0233"),
    Recipient("Stockholm", 5),
    Recipient("Falun", 6),
)


def match(invoice, reference="781", recipients=RECIPIENTS):
    return match_invoice(invoice, reference, DEADLINE, recipients)


def invoice(name="vaxholm-faktura.xml", **changes):
    return dataclasses.replace(read_einvoice_file(PEPPOL / name), **changes)


@pytest.mark.parametrize("name, key", [
    ("Vaxholms stad", "vaxholm"), ("Vaxholm", "vaxholm"), ("Botkyrka kommun", "botkyrka"),
    ("BOTKYRKA KOMMUN", "botkyrka"), ("Upplands-Bro kommun", "upplands bro"), ("Borås Stad", "borå"), ("Borås", "borå"),
    ("Attendo Sverige AB", "attendo sverige"), ("Region Stockholm", "region stockholm"), ("Stockholms stad", "stockholm"),
])
def test_names_are_compared_without_case_punctuation_kommun_stad_ab_or_a_final_genitive_s(name, key):
    assert name_key(name) == key


def test_an_invoice_with_the_case_reference_goes_to_the_recipient_with_its_number():
    result = match(invoice())
    assert (result.recipient, result.refusal, result.warnings) == ("Vaxholm", None, ())


@pytest.mark.parametrize("reference", ["781", " 781 ", "781\n"])
def test_the_reference_is_compared_trimmed(reference):
    assert match(invoice(), reference).recipient == "Vaxholm"


def test_the_reference_is_compared_without_case():
    assert match(invoice(buyer_reference="s/20/0026 Ref"), "S/20/0026 ref").recipient == "Vaxholm"


def test_the_order_reference_counts_as_well_and_a_late_invoice_is_a_warning():
    result = match(invoice("norrtalje-faktura.xml"))
    assert result.recipient == "Norrtälje"
    assert result.warnings == ("faktura N-2020-4471 är daterad 4 september 2020, efter sista dag 30 augusti 2020.",)


def test_the_seller_name_finds_a_recipient_without_a_number_and_vat_is_a_warning():
    result = match(invoice("botkyrka-faktura-moms.xml"))
    assert (result.recipient, result.refusal) == ("Botkyrka", None)
    assert result.warnings == ("faktura 2020-88123 har 50 000 kr i moms, men statsbidrag faktureras utan moms. "
                               "Beloppet utan moms räknas; be mottagaren kreditera momsen.",)


def test_another_cases_reference_is_not_recorded():
    result = match(invoice(buyer_reference="S/21/0040"))
    assert result.recipient is None
    assert result.refusal.startswith('faktura VX-2020-0412 har referensen "S/21/0040", inte ärendets "781": den hör till ett '
                                     "annat ärende och förs inte in.")


def test_an_invoice_without_any_reference_is_not_recorded():
    assert "har varken köparens referens" in match(invoice(buyer_reference=None)).refusal


def test_a_case_without_a_reference_says_so():
    assert match(invoice(), reference=None).refusal.startswith('ärendet har ingen "Fakturareferens"')


def test_a_foreign_currency_is_not_recorded():
    assert match(invoice(currency="EUR")).refusal.startswith("faktura VX-2020-0412 är i EUR, inte i svenska kronor")


def test_an_amount_with_ore_is_not_recorded():
    refusal = match(invoice(amount=Decimal("413522.50"))).refusal
    assert refusal.startswith("faktura VX-2020-0412 är på 413 522,50 kr, med ören, men tilldelningen är i hela kronor")


def test_an_unknown_seller_gets_a_suggestion():
    result = match(invoice(seller_name="Falu kommun", seller_org_number="212000-2262"))
    assert result.recipient is None
    assert result.refusal == ('säljaren "Falu kommun" (organisationsnummer 212000-2262) finns inte bland mottagarna. '
                              'Menade du "Falun"? Hör fakturan hit, för in den för hand på mottagarens rad i uppfoljning.xlsx.')


def test_region_stockholm_is_not_stockholms_stad():
    result = match(invoice(seller_name="Region Stockholm", seller_org_number="232100-0016"))
    assert result.recipient is None and "finns inte bland mottagarna" in result.refusal


def test_a_name_with_another_recipients_number_is_not_taken_on_the_name():
    result = match(invoice(seller_org_number="212000-2163"))
    assert result.recipient is None
    assert "har organisationsnummer 212000-2163, men mottagaren Vaxholm har 212000-0035" in result.refusal


def test_the_number_wins_over_the_name():
    assert match(invoice(seller_name="Vaxholms stad, ekonomienheten")).recipient == "Vaxholm"


def test_two_recipients_with_the_same_name_key_are_not_guessed_between():
    recipients = (*RECIPIENTS, Recipient("Botkyrka kommun", 7))
    assert "kan vara både Botkyrka och Botkyrka kommun" in match(invoice("botkyrka-faktura-moms.xml"),
                                                                   recipients=recipients).refusal
