"""processor status: the ledger and the mail journal read, the text or the spec's JSON printed, status.html written."""

from __future__ import annotations

import datetime as dt
import json

from openpyxl import load_workbook

from conftest import edit_ledger, sha256
from processor.journal import Journal
from processor.status import case_status


def test_the_json_has_exactly_the_spec_shape(cli, followup_run):
    edit_ledger(followup_run, {"D2": 900_000, "E2": dt.date(2020, 6, 15), "G2": 900_000, "D3": 1})
    status, out, err = cli("status", followup_run, "--json", "--idag", "2020-09-01")
    assert status == 0, err
    assert "Varning: uppfoljning.xlsx Uppföljning!D3: Botkyrka har rekvirerat 1 kr" in err
    document = json.loads(out)
    assert list(document) == ["today", "deadline", "recipients", "totals", "counts"]
    assert (document["today"], document["deadline"]) == ("2020-09-01", "2020-08-30")
    assert document["recipients"][0] == {"name": "Vaxholm", "allocated": 900_000, "declined": False,
                                         "requested": 900_000, "paid": 900_000, "used": None, "status": "Utbetalt"}
    assert [r["status"] for r in document["recipients"]] == ["Utbetalt", "Rekvirerat", "Avstår", "Försenad"]
    assert document["totals"] == {"allocated": 2_700_000, "requested": 900_001, "paid": 900_000, "declined": 0, "used": 0}
    assert document["counts"] == {"Väntar": 0, "Försenad": 1, "Rekvirerat": 1, "Utbetalt": 1, "Avstår": 1,
                                  "Redovisat": 0}


def test_the_text_says_the_counts_the_money_the_dates_and_who_is_late(cli, followup_run):
    edit_ledger(followup_run, {"D3": 400_000})
    status, out, err = cli("status", followup_run, "--idag", "2020-09-01")
    assert status == 0, err
    assert "Läget 1 september 2020: 4 mottagare, 2 700 000 kr tilldelat." in out.splitlines()
    assert "  Rekvirerat: 1 mottagare, 900 000 kr" in out.splitlines()
    assert "Sista dag: 30 augusti 2020, för 2 dagar sedan." in out
    assert "Delredovisning: 30 september 2020, om 29 dagar." in out
    assert "Slutredovisning: 31 mars 2021" in out
    assert "Försenade (2): Vaxholm, Norrtälje." in out
    assert "Varning: uppfoljning.xlsx Uppföljning!D3: Botkyrka har rekvirerat 400 000 kr av 900 000 kr" in out


def test_the_page_is_written_with_what_was_mailed_and_the_manifest_says_so(followup_run):
    with Journal(followup_run / "utskick") as journal:
        journal.record("Vaxholm.eml", "<1@storsthlm.example>", ["registrator@vaxholm.example"], "250 OK")
    status = case_status(followup_run, dt.date(2020, 7, 1), now=dt.datetime(2020, 7, 1, 12, 0).astimezone())
    assert [(m.recipient, m.kind, m.file) for m in status.mailings] == [("Vaxholm", "Beslut och brev",
                                                                         "utskick/Vaxholm.eml")]
    page = (followup_run / "status.html").read_text(encoding="utf-8")
    assert "Vaxholm" in page and "Storsthlm 2020/45" in page and "utskick/Vaxholm.eml" in page
    manifest = json.loads((followup_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"][-1]["command"] == "status" and "status.html" in manifest["changes"][-1]["files"]
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert listed["status.html"] == sha256(followup_run / "status.html")


def test_a_broken_ledger_is_exit_2_with_every_problem_and_nothing_written(cli, followup_run):
    edit_ledger(followup_run, {"D2": "en miljon", "A3": "Botkyrkaa"})
    manifest = sha256(followup_run / "manifest.json")
    status, out, err = cli("status", followup_run, "--idag", "2020-09-01")
    assert status == 2 and "Traceback" not in err
    assert "uppfoljning.xlsx kan inte användas: 3 fel att rätta." in err
    assert "uppfoljning.xlsx Uppföljning!D2:" in err and 'Menade du "Botkyrka"?' in err
    assert not (followup_run / "status.html").exists() and sha256(followup_run / "manifest.json") == manifest


def test_a_folder_that_is_no_run_folder_and_a_bad_date_are_exit_2(cli, run_processor, tmp_path, followup_run):
    status, _, err = cli("status", tmp_path)
    assert status == 2 and "ingen körmapp" in err
    done = run_processor("status", followup_run, "--idag", "1 september")
    assert done.returncode == 2 and "ogiltigt datum: '1 september'. Skriv datumet som ÅÅÅÅ-MM-DD" in done.stderr


def test_status_runs_through_the_installed_program(run_processor, followup_run):
    done = run_processor("status", followup_run, "--idag", "2020-06-10")
    assert done.returncode == 0, done.stderr
    assert "Väntar: 3 mottagare, 2 700 000 kr" in done.stdout and (followup_run / "status.html").is_file()


def test_from_letters_to_everyone_has_invoiced_without_losing_a_typed_entry(cli, followup_run):
    from pathlib import Path

    peppol = Path(__file__).parent / "data" / "peppol"
    edit_ledger(followup_run, {"K3": "ringt 20/8, fakturan kommer", "G2": None})
    assert json.loads(cli("status", followup_run, "--json", "--idag", "2020-09-01")[1])["counts"]["Försenad"] == 3
    assert cli("faktura", followup_run, peppol / "vaxholm-faktura.xml", peppol / "norrtalje-faktura.xml")[0] == 0
    edit_ledger(followup_run, {"D3": 900_000, "E3": dt.date(2020, 8, 28), "F3": "B-77"})  # typed from the finance system
    assert cli("faktura", followup_run, peppol / "vaxholm-faktura.xml", peppol / "vaxholm-kreditnota.xml")[0] == 0
    status, out, err = cli("status", followup_run, "--json", "--idag", "2020-09-01")
    assert status == 0, err
    document = json.loads(out)
    assert document["counts"] == {"Väntar": 0, "Försenad": 0, "Rekvirerat": 3, "Utbetalt": 0, "Avstår": 1,
                                  "Redovisat": 0}
    assert [r["requested"] for r in document["recipients"]] == [400_000, 900_000, 0, 850_000]
    sheet = load_workbook(followup_run / "uppfoljning.xlsx")["Uppföljning"]
    assert (sheet["K3"].value, sheet["F3"].value) == ("ringt 20/8, fakturan kommer", "B-77")
