"""processor faktura: Peppol e-invoices read, matched and recorded in the ledger; every outcome printed; twice changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from openpyxl import load_workbook

from conftest import sha256

PEPPOL = Path(__file__).parent / "data" / "peppol"


def ledger_rows(run_dir: Path) -> dict[str, tuple]:
    sheet = load_workbook(run_dir / "uppfoljning.xlsx")["Uppföljning"]
    return {row[0].value: tuple(c.value for c in row[3:6]) for row in sheet.iter_rows(min_row=2)}


def invoices(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "fakturor"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(PEPPOL / name, folder / name)
    return folder


def changed_invoice(tmp_path: Path, name: str, replacements: dict[str, str], saved_as: str | None = None) -> Path:
    """A test invoice with some text replaced (another number, amount or reference), saved as ``saved_as``."""
    text = (PEPPOL / name).read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / (saved_as or f"ny-{name}")
    path.write_text(text, encoding="utf-8")
    return path


def test_a_folder_of_invoices_is_recorded_and_every_outcome_printed(cli, followup_run, tmp_path):
    folder = invoices(tmp_path, "vaxholm-faktura.xml", "vaxholm-kreditnota.xml", "botkyrka-faktura-moms.xml",
                      "norrtalje-faktura.xml")
    status, out, err = cli("faktura", followup_run, folder, "--idag", "2020-09-10")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("botkyrka-faktura-moms.xml: införd: Botkyrka, 200 000 kr (faktura ")
    assert "statsbidrag faktureras utan moms" in out
    assert any(line.startswith("norrtalje-faktura.xml: införd: Norrtälje, 850 000 kr") for line in lines)
    assert "efter sista dag 30 augusti 2020" in out
    assert any(line.startswith("vaxholm-kreditnota.xml: införd: Vaxholm, -13 522 kr") for line in lines)
    rows = ledger_rows(followup_run)
    assert rows["Vaxholm"][0] == 400_000 and rows["Vaxholm"][1] == dt.datetime(2020, 6, 22)
    assert rows["Botkyrka"][0] == 200_000 and rows["Norrtälje"][0] == 850_000 and rows["Ekerö"] == (None, None, None)
    manifest = json.loads((followup_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"][-1]["command"] == "faktura"
    assert (followup_run / "uppfoljning.föregående.xlsx").is_file()


def test_importing_the_same_invoices_twice_changes_nothing(cli, followup_run, tmp_path):
    folder = invoices(tmp_path, "vaxholm-faktura.xml", "botkyrka-faktura-moms.xml")
    assert cli("faktura", followup_run, folder)[0] == 0
    ledger, manifest = sha256(followup_run / "uppfoljning.xlsx"), sha256(followup_run / "manifest.json")
    status, out, _ = cli("faktura", followup_run, folder)
    assert status == 0
    assert "vaxholm-faktura.xml: redan införd:" in out and "botkyrka-faktura-moms.xml: redan införd:" in out
    assert "uppfoljning.xlsx: inget ändrat." in out
    assert sha256(followup_run / "uppfoljning.xlsx") == ledger and sha256(followup_run / "manifest.json") == manifest


def test_an_invoice_above_what_remains_is_exit_2_and_the_others_are_recorded(cli, followup_run, tmp_path):
    too_much = changed_invoice(tmp_path, "botkyrka-faktura-moms.xml", {">200000.00<": ">950000.00<"})
    status, out, err = cli("faktura", followup_run, too_much, PEPPOL / "vaxholm-faktura.xml")
    assert status == 2
    assert "är mer än vad som återstår av tilldelningen till Botkyrka (900 000 kr av 900 000 kr)" in out
    assert "vaxholm-faktura.xml: införd: Vaxholm, 413 522 kr" in out and "fördes inte in" in err
    rows = ledger_rows(followup_run)
    assert rows["Botkyrka"][0] is None and rows["Vaxholm"][0] == 413_522


def test_what_cannot_be_recorded_is_said_and_leaves_the_exit_status_0(cli, followup_run, tmp_path):
    other_case = changed_invoice(tmp_path, "vaxholm-faktura.xml", {"<cbc:BuyerReference>781<": "<cbc:BuyerReference>999<"})
    not_xml = tmp_path / "faktura.xml"
    not_xml.write_bytes(b"%PDF-1.7 not an invoice")
    hostile = tmp_path / "laughs.xml"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
                       "<Invoice>&lol2;</Invoice>", encoding="utf-8")
    ledger = sha256(followup_run / "uppfoljning.xlsx")
    status, out, err = cli("faktura", followup_run, other_case, not_xml, hostile)
    assert status == 0, err
    assert 'har referensen "999", inte ärendets "781"' in out
    assert out.count("inte införd") == 3
    assert "uppfoljning.xlsx: inget ändrat." in out and sha256(followup_run / "uppfoljning.xlsx") == ledger


def test_a_declined_recipient_and_an_unknown_seller_are_not_recorded(cli, followup_run, tmp_path):
    unknown = changed_invoice(tmp_path, "botkyrka-faktura-moms.xml",
                              {"Botkyrka kommun": "Botkyrkka kommun", "2120002916": "5560000001"}, "okand.xml")
    declined = changed_invoice(tmp_path, "botkyrka-faktura-moms.xml",
                               {"Botkyrka kommun": "Ekerö kommun", "2120002916": "2120000001"}, "ekero.xml")
    status, out, _ = cli("faktura", followup_run, unknown, declined)
    assert status == 0
    assert 'säljaren "Botkyrkka kommun" (organisationsnummer' in out and 'Menade du "Botkyrka"?' in out
    assert "Ekerö har avstått medlen" in out and out.count("inte införd") == 2


def test_the_ledger_open_or_broken_stops_the_import_with_nothing_changed(cli, followup_run):
    (followup_run / "~$uppfoljning.xlsx").write_bytes(b"lock")
    ledger = sha256(followup_run / "uppfoljning.xlsx")
    status, _, err = cli("faktura", followup_run, PEPPOL / "vaxholm-faktura.xml")
    assert status == 2 and "Spara och stäng filen" in err
    (followup_run / "~$uppfoljning.xlsx").unlink()
    book = load_workbook(followup_run / "uppfoljning.xlsx")
    book["Uppföljning"]["D3"] = "tvåhundra"
    book.save(followup_run / "uppfoljning.xlsx")
    ledger = sha256(followup_run / "uppfoljning.xlsx")
    status, _, err = cli("faktura", followup_run, PEPPOL / "vaxholm-faktura.xml")
    assert status == 2 and "uppfoljning.xlsx Uppföljning!D3" in err
    assert sha256(followup_run / "uppfoljning.xlsx") == ledger


def test_a_path_that_does_not_exist_is_exit_2(cli, followup_run, tmp_path):
    status, _, err = cli("faktura", followup_run, tmp_path / "saknas.xml")
    assert status == 2 and "saknas.xml: filen eller mappen finns inte" in err


def test_faktura_runs_through_the_installed_program(run_processor, followup_run):
    done = run_processor("faktura", followup_run, PEPPOL / "vaxholm-faktura.xml")
    assert done.returncode == 0, done.stderr
    assert "vaxholm-faktura.xml: införd: Vaxholm, 413 522 kr" in done.stdout
