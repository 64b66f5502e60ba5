"""The ledger uppfoljning.xlsx: written by every run, read back with every rule checked, updated keeping what was typed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.styles import PatternFill

from conftest import require_program, sha256
from processor.errors import InputError
from processor.followup import LedgerEntry
from processor.layout import RunLayout
from processor.ledger import COLUMNS, update_ledger
from processor.ledger_read import LedgerError, read_ledger

ALLOCATED = {"Vaxholm": 900_000, "Botkyrka": 900_000, "Ekerö": 0, "Norrtälje": 900_000}
DEADLINE = dt.date(2020, 8, 30)
TODAY = dt.date(2020, 7, 1)


def ledger(run_dir: Path) -> Path:
    return run_dir / "uppfoljning.xlsx"


def edit(path: Path, cells: dict[str, object]) -> None:
    """Type into the ledger as an administrator would (openpyxl keeps the protection and formats)."""
    book = load_workbook(path)
    sheet = book["Uppföljning"]
    for coordinate, value in cells.items():
        sheet[coordinate] = value
    book.save(path)


def read(path: Path, today: dt.date = TODAY):
    return read_ledger(path, ALLOCATED, DEADLINE, today)


def messages(error: LedgerError) -> list[str]:
    return [unicodedata.normalize("NFC", str(p)) for p in error.problems]


def test_a_run_writes_one_row_per_recipient_with_the_spec_columns(followup_run):
    sheet = load_workbook(ledger(followup_run))["Uppföljning"]
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    rows = [[c.value for c in row[:4]] for row in sheet.iter_rows(min_row=2)]
    assert rows == [["Vaxholm", 900_000, None, None], ["Botkyrka", 900_000, None, None], ["Ekerö", 0, "Ja", None],
                    ["Norrtälje", 900_000, None, None]]


def test_the_program_columns_are_locked_without_a_password_and_the_rest_open(followup_run):
    sheet = load_workbook(ledger(followup_run))["Uppföljning"]
    assert sheet.protection.sheet and not sheet.protection.password
    assert sheet["A2"].protection.locked and sheet["B2"].protection.locked
    assert not any(sheet.cell(row=2, column=c).protection.locked for c in range(3, len(COLUMNS) + 1))


def test_amounts_have_thousands_separators_and_dates_are_date_cells_on_a4(followup_run):
    sheet = load_workbook(ledger(followup_run))["Uppföljning"]
    assert sheet["B2"].number_format == "#,##0" and sheet["D2"].number_format == "#,##0"
    assert sheet["E2"].number_format == "yyyy-mm-dd" and sheet["J2"].number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "B2" and int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    assert sheet.column_dimensions["A"].width >= 20


def test_a_new_ledger_reads_back_as_nothing_recorded(followup_run):
    entries, warnings = read(ledger(followup_run))
    assert [(e.name, e.allocated, e.declined, e.requested, e.row) for e in entries] == [
        ("Vaxholm", 900_000, False, 0, 2), ("Botkyrka", 900_000, False, 0, 3), ("Ekerö", 0, True, 0, 4),
        ("Norrtälje", 900_000, False, 0, 5)]
    assert warnings == []


def test_what_the_administrator_typed_is_read_with_the_header_in_any_case(followup_run):
    edit(ledger(followup_run), {"D1": "REKVIRERAT", "D2": 413_522, "E2": dt.datetime(2020, 6, 15), "F2": "1042, 1043",
                                "G2": 400_000, "H2": dt.date(2020, 7, 1), "I2": "350 000", "J2": "2021-03-01",
                                "K2": "ring Eva", "C3": "ja"})
    (vaxholm, botkyrka, *_), warnings = read(ledger(followup_run))
    assert vaxholm == LedgerEntry("Vaxholm", 900_000, False, 413_522, dt.date(2020, 6, 15), ("1042", "1043"), 400_000,
                                  dt.date(2020, 7, 1), 350_000, dt.date(2021, 3, 1), "ring Eva", 2)
    assert botkyrka.declined
    assert [w.where for w in warnings] == ["uppfoljning.xlsx Uppföljning!I2"]
    assert "talet är skrivet som text" in warnings[0].message


def test_every_broken_rule_is_reported_at_once_with_its_cell_and_the_fix(followup_run):
    edit(ledger(followup_run), {"D2": "mycket", "D3": 950_000, "G3": 960_000, "C5": "Ja", "D5": 100,
                                "A4": "Ekeröö", "E3": "igår", "D6": 1.5})
    with pytest.raises(LedgerError) as caught:
        read(ledger(followup_run))
    found = messages(caught.value)
    assert any(m.startswith("uppfoljning.xlsx Uppföljning!D2: \"mycket\" är inte ett tal") for m in found)
    assert any(m.startswith("uppfoljning.xlsx Uppföljning!D3: Rekvirerat (950 000 kr) är mer än Tilldelat") for m in found)
    assert any(m.startswith("uppfoljning.xlsx Uppföljning!G3: Utbetalt (960 000 kr) är mer än Rekvirerat") for m in found)
    assert any(m.startswith("uppfoljning.xlsx Uppföljning!C5: Norrtälje avstår medlen men har rekvirerat") for m in found)
    assert any(m.startswith("uppfoljning.xlsx Uppföljning!E3: \"igår\" är inget datum") for m in found)
    assert any(m.startswith('uppfoljning.xlsx Uppföljning!A4: "Ekeröö" är ingen mottagare') and 'Menade du "Ekerö"?' in m
               for m in found)
    assert any("Ekerö saknar rad" in m for m in found)
    assert any(m.startswith("uppfoljning.xlsx Uppföljning!A6: raden har inget namn") for m in found)
    assert all(m.rstrip().endswith((".", "?")) for m in found)


def test_a_recipient_twice_and_a_negative_amount_are_errors(followup_run):
    edit(ledger(followup_run), {"A6": "Botkyrka", "D6": -5})
    with pytest.raises(LedgerError) as caught:
        read(ledger(followup_run))
    found = messages(caught.value)
    assert any(m.startswith("uppfoljning.xlsx Uppföljning!A6: Botkyrka har två rader (den första är rad 3)") for m in found)


def test_a_changed_allocation_is_an_error_and_the_used_above_paid_too(followup_run):
    edit(ledger(followup_run), {"B2": 1_000_000, "I3": 10})
    with pytest.raises(LedgerError) as caught:
        read(ledger(followup_run))
    found = messages(caught.value)
    assert any(m.startswith("uppfoljning.xlsx Uppföljning!B2: Tilldelat är 1 000 000 kr, men Vaxholm tilldelades 900 000 kr")
               for m in found)
    assert any(m.startswith("uppfoljning.xlsx Uppföljning!I3: Använt (10 kr) är mer än Utbetalt (0 kr)") for m in found)


def test_a_late_invoice_and_a_partial_one_after_the_deadline_are_warnings(followup_run):
    edit(ledger(followup_run), {"D2": 100_000, "E2": dt.date(2020, 9, 4), "D3": 900_000, "E3": dt.date(2020, 8, 1)})
    _, warnings = read(ledger(followup_run), today=dt.date(2020, 9, 10))
    assert [w.where for w in warnings] == ["uppfoljning.xlsx Uppföljning!E2", "uppfoljning.xlsx Uppföljning!D2"]
    assert "efter sista dag 30 augusti 2020" in warnings[0].message
    assert "rekvirerat 100 000 kr av 900 000 kr" in warnings[1].message


def test_a_missing_ledger_or_sheet_is_a_located_error(followup_run):
    book = load_workbook(ledger(followup_run))
    book["Uppföljning"].title = "Uppfoljning2"
    book.save(ledger(followup_run))
    with pytest.raises(LedgerError) as caught:
        read(ledger(followup_run))
    assert 'bladet "Uppföljning" saknas. Menade du "Uppfoljning2"?' in str(caught.value)
    ledger(followup_run).unlink()
    with pytest.raises(LedgerError, match="filen finns inte"):
        read(ledger(followup_run))


def entries_of(run_dir: Path) -> list[LedgerEntry]:
    return read(ledger(run_dir))[0]


def test_an_update_writes_only_its_cells_and_keeps_everything_typed(followup_run):
    path = ledger(followup_run)
    book = load_workbook(path)
    sheet = book["Uppföljning"]
    sheet["K3"] = "kontakt: Eva"
    sheet["L1"], sheet["L2"] = "Egen kolumn", "eget värde"
    sheet["A3"].fill = PatternFill("solid", fgColor="FFFF00")
    sheet["H2"] = dt.date(2020, 7, 1)
    book.save(path)
    before = entries_of(followup_run)
    after = [dataclasses.replace(before[0], requested=413_522, invoice_numbers=("1042",)),
             *before[1:]]
    previous = path.read_bytes()
    written = update_ledger(RunLayout(followup_run), before, after, ("Rekvirerat", "Fakturanummer", "Utbetalningsdag"))
    assert written == ["D2", "F2"]
    sheet = load_workbook(path)["Uppföljning"]
    assert (sheet["D2"].value, sheet["F2"].value, sheet["H2"].value) == (413_522, "1042", dt.datetime(2020, 7, 1))
    assert sheet["D2"].number_format == "#,##0"
    assert (sheet["K3"].value, sheet["L1"].value, sheet["L2"].value) == ("kontakt: Eva", "Egen kolumn", "eget värde")
    assert sheet["A3"].fill.fgColor.rgb.endswith("FFFF00")
    assert sheet.protection.sheet and sheet["A2"].protection.locked and not sheet["D2"].protection.locked
    assert (followup_run / "uppfoljning.föregående.xlsx").read_bytes() == previous
    assert not [p.name for p in followup_run.iterdir() if p.name.startswith(".")]


def test_an_update_that_changes_nothing_writes_nothing(followup_run):
    before = entries_of(followup_run)
    digest = sha256(ledger(followup_run))
    assert update_ledger(RunLayout(followup_run), before, before, COLUMNS) == []
    assert sha256(ledger(followup_run)) == digest and not (followup_run / "uppfoljning.föregående.xlsx").exists()


@pytest.mark.parametrize("lock", ["~$uppfoljning.xlsx", ".~lock.uppfoljning.xlsx#"])
def test_an_update_is_refused_while_the_ledger_is_open(followup_run, lock):
    (followup_run / lock).write_bytes(b"lock")
    before = entries_of(followup_run)
    after = [dataclasses.replace(before[0], requested=1), *before[1:]]
    digest = sha256(ledger(followup_run))
    with pytest.raises(InputError, match="stäng filen"):
        update_ledger(RunLayout(followup_run), before, after, COLUMNS)
    assert sha256(ledger(followup_run)) == digest


def test_a_ledger_saved_by_libreoffice_reads_back_with_nothing_lost(followup_run, tmp_path):
    office = require_program("soffice", "libreoffice", install="Debian: libreoffice-calc-nogui")
    edit(ledger(followup_run), {"D2": 413_522, "E2": dt.date(2020, 6, 15), "F2": "1042", "G2": 400_000,
                                "H2": dt.date(2020, 7, 1), "C3": "Ja", "K4": "avstod i maj", "L1": "Egen", "L2": "x"})
    expected = entries_of(followup_run)
    converted = tmp_path / "libreoffice"
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profil'}", "--convert-to", "xlsx",
                    "--outdir", str(converted), str(ledger(followup_run))], check=True, capture_output=True, timeout=180)
    shutil.copyfile(converted / "uppfoljning.xlsx", ledger(followup_run))
    assert entries_of(followup_run) == expected
    sheet = load_workbook(ledger(followup_run))["Uppföljning"]
    assert (sheet["L1"].value, sheet["L2"].value) == ("Egen", "x")
    assert sheet.protection.sheet and sheet["A2"].protection.locked and not sheet["D2"].protection.locked
    after = [dataclasses.replace(expected[0], requested=500_000), *expected[1:]]
    assert update_ledger(RunLayout(followup_run), expected, after, COLUMNS) == ["D2"]
    assert [e.requested for e in entries_of(followup_run)] == [500_000, 0, 0, 0]
