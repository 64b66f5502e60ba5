"""Organisation numbers (workbook.md, ``Organisationsnummer``): ten digits, dash optional, a valid check digit."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processor.orgnr import check_digit, invoice_org_number, org_number, org_number_problem
from processor.result import read_back
from processor.validate import load_case

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(nine_digits, st.booleans())
def test_any_nine_digits_with_their_check_digit_are_a_number(first, dash):
    digits = first + str(check_digit(first))
    typed = f"{digits[:6]}-{digits[6:]}" if dash else digits
    assert org_number(typed) == f"{digits[:6]}-{digits[6:]}"
    assert org_number_problem(typed) is None


@given(nine_digits, st.integers(0, 9), st.integers(1, 9))
def test_changing_one_digit_breaks_the_check(first, position, change):
    digits = first + str(check_digit(first))
    changed = digits[:position] + str((int(digits[position]) + change) % 10) + digits[position + 1:]
    assert org_number(changed) is None
    assert "kontrollsiffra" in org_number_problem(changed)


@pytest.mark.parametrize("typed", ["212000-0142", "2120000142", " 212000-0142 ", "556016-0680"])
def test_known_numbers_are_valid(typed):
    assert org_number(typed) == typed.strip()[:6] + "-" + typed.strip().replace("-", "")[6:]


@pytest.mark.parametrize("typed, problem", [
    ("212000-0143", "fel kontrollsiffra"),
    ("21200-0142", "inte tio siffror"),
    ("212000_0142", "inte tio siffror"),
    ("Stockholm", "inte tio siffror"),
    ("16212000-0142", "tolv siffror"),
])
def test_a_wrong_number_says_what_is_wrong(typed, problem):
    assert org_number(typed) is None
    assert problem in org_number_problem(typed)


@pytest.mark.parametrize("written", ["212000-0142", "2120000142", "162120000142", "SE212000014201", "se 2120000142 01"])
def test_an_invoice_may_write_the_number_in_the_longer_forms(written):
    assert invoice_org_number(written) == "212000-0142"


@pytest.mark.parametrize("written", ["SE212000014301", "192120000142", "", "0007:2120000142"])
def test_an_invoice_number_that_is_not_an_organisation_number_is_none(written):
    assert invoice_org_number(written) is None


RECIPIENTS = [
    ("Mottagare", "Befolkning", "Organisationsnummer"),
    ("Avesta", 100, "212000-2163"),
    ("Borlänge", 300, 2120002130),
    ("Falun", 600, None),
]


def test_the_column_gives_each_recipient_its_number_and_is_no_basis(workbook):
    case = load_case(workbook(recipients=RECIPIENTS))
    assert [r.org_number for r in case.recipients] == ["212000-2163", "212000-2130", None]
    assert all("Organisationsnummer" not in r.bases and "Organisationsnummer" not in r.texts for r in case.recipients)


def test_a_wrong_check_digit_is_located_with_the_fix(refused, workbook):
    err = refused(workbook(recipients=[*RECIPIENTS[:3], ("Falun", 600, "212000-0143")]))
    assert 'Mottagare!C4: organisationsnumret "212000-0143" har fel kontrollsiffra' in err
    assert "(mottagare Falun). Skriv mottagarens organisationsnummer" in err


def test_two_recipients_with_one_number_is_an_error(refused, workbook):
    err = refused(workbook(recipients=[*RECIPIENTS[:3], ("Falun", 600, "2120002163")]))
    assert "Mottagare!C4: organisationsnumret 212000-2163 (mottagare Falun) står redan på rad 2 (mottagare Avesta)" in err


def test_every_bad_number_is_reported_at_once(refused, workbook):
    err = refused(workbook(recipients=[RECIPIENTS[0], ("Avesta", 100, "123"), ("Borlänge", 300, "212000-2131"),
                                       ("Falun", 600, "16 212000-2163")]))
    assert "Mottagare!C2:" in err and "Mottagare!C3:" in err and "Mottagare!C4:" in err


def test_the_run_folder_keeps_the_numbers_for_the_invoices(workbook, cli, tmp_path):
    status, out, err = cli("run", workbook(recipients=RECIPIENTS), "--out", tmp_path / "ut")
    assert status == 0, err
    [folder] = (tmp_path / "ut").iterdir()
    document = json.loads((folder / "fordelning.json").read_text(encoding="utf-8"))
    assert [r.get("org_number") for r in document["recipients"]] == ["212000-2163", "212000-2130", None]
    case, _ = read_back(document, [], [])
    assert [r.org_number for r in case.recipients] == ["212000-2163", "212000-2130", None]


@pytest.mark.parametrize("heading", ["Orgnr", "Org.nr", "Org nr", "Organisationsnr", "ORG-NUMMER"])
def test_a_column_named_like_the_number_but_not_quite_is_a_warning(cli, workbook, heading):
    status, out, err = cli("validate", workbook(recipients=[(*RECIPIENTS[0][:2], heading), *RECIPIENTS[1:]]))
    assert (status, err) == (0, "")
    assert f'Mottagare!C1: kolumnen "{heading}" ser ut att innehålla organisationsnummer men heter inte' in out
