"""processor paminn: a reminder round for everyone still waiting, delivered by send exactly once, skipping
whoever has answered since."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from conftest import FOLLOWUP_CASE, build_workbook, documented_names, edit_ledger
from processor.context import CASE_SHAPE
from processor.pipeline import run
from processor.reminders import REMINDER_RECIPIENT_SHAPE, REMINDER_SHAPE
from test_send import send_args, server  # noqa: F401  (the real SMTP server fixture)

CASE = [*FOLLOWUP_CASE, ("Fakturaadress", "Storsthlm, Box 1, 111 11 Stockholm"),
        ("Faktura e-post", "faktura@storsthlm.example"), ("Handläggare", "Anna Andersson"),
        ("Telefon", "08-123 456 78")]
RECIPIENTS = [
    ("Mottagare", "E-post", "Deltar", "Befolkning"),
    ("Vaxholm", "registrator@vaxholm.example", "Ja", 1),
    ("Botkyrka", "registrator@botkyrka.example", "Ja", 1),
    ("Ekerö", "registrator@ekero.example", "Nej", 1),
    ("Norrtälje", "registrator@norrtalje.example", "Ja", 1),
    ("Södertälje", "registrator@sodertalje.example", "Ja", 1),
]
"""Five recipients, 675 000 kr each to the four taking part (Ekerö declines); invoices due 30 August 2020."""


@pytest.fixture
def case_run(tmp_path: Path) -> Path:
    source = build_workbook(tmp_path / "storsthlm_2020.xlsx", case=CASE, recipients=RECIPIENTS)
    return run(source, tmp_path / "ut", now=dt.datetime(2020, 6, 1, 10, 0)).run_dir


def message(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def body_of(path: Path) -> str:
    """The plain-text body with plain spaces and line ends, as a reader sees it."""
    text = message(path).get_body(("plain",)).get_content()
    return re.sub(r"[\u00a0\u202f]", " ", text.replace("\r\n", "\n"))


def test_a_round_reminds_everyone_waiting_with_the_amount_the_deadline_and_how_to_invoice(cli, case_run):
    edit_ledger(case_run, {"D2": 675_000, "E2": dt.date(2020, 8, 1)})  # Vaxholm has invoiced
    status, out, err = cli("paminn", case_run, "--idag", "2020-08-20")
    assert status == 0, err
    round_dir = case_run / "paminnelser" / "20200820"
    files = sorted(p.name for p in (round_dir / "utskick").iterdir())
    assert files == ["Botkyrka.eml", "Norrtälje.eml", "Södertälje.eml"]
    assert "  Botkyrka: 675 000 kr (Väntar)" in out.splitlines()
    assert f"Påminnelser till 3 mottagare (2 025 000 kr ej rekvirerat) i {round_dir}." in out
    mail = message(round_dir / "utskick" / "Södertälje.eml")
    assert mail["Subject"] == "Påminnelse: Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020 – Södertälje"
    assert mail["X-Processor-Recipient"] == "Södertälje"
    assert mail["To"] == "registrator@sodertalje.example"
    body = body_of(round_dir / "utskick" / "Södertälje.eml")
    assert "Södertälje har tilldelats 675 000 kr" in body
    assert "senast 30 augusti 2020, om 10 dagar" in body
    assert "utan moms, till Storsthlm, Box 1, 111 11 Stockholm (eller med e-post till faktura@storsthlm.example)" in body
    assert "Ange diarienummer Storsthlm 2020/45 och referensen 781 på fakturan." in body
    assert "Svara då på det här meddelandet" in body
    assert "Anna Andersson" in body and "Telefon 08-123 456 78" in body
    manifest = json.loads((case_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"][-1]["command"] == "paminn"
    assert "paminnelser/20200820/utskick/Botkyrka.eml" in manifest["changes"][-1]["files"]
    assert not [p for p in (case_run / "paminnelser").iterdir() if p.name.startswith(".")]


def test_after_the_deadline_it_says_the_deadline_has_passed_and_a_second_round_gets_a_suffix(cli, case_run):
    assert cli("paminn", case_run, "--idag", "2020-09-01")[0] == 0
    status, out, err = cli("paminn", case_run, "--idag", "2020-09-01")
    assert status == 0, err
    second = case_run / "paminnelser" / "20200901_2"
    assert len(list((second / "utskick").glob("*.eml"))) == 4
    assert "  Vaxholm: 675 000 kr (Försenad)" in out.splitlines()
    body = body_of(second / "utskick" / "Vaxholm.eml")
    assert "Sista dag att rekvirera medlen var 30 augusti 2020." in body


def test_a_round_folder_is_made_like_any_folder_the_user_makes(cli, case_run):
    previous = os.umask(0o022)
    try:
        assert cli("paminn", case_run, "--idag", "2020-08-01")[0] == 0
    finally:
        os.umask(previous)
    folder = case_run / "paminnelser" / "20200801"
    assert {stat.S_IMODE(p.stat().st_mode) for p in (folder, *folder.rglob("*")) if p.is_dir()} == {0o755}


def test_no_one_to_remind_is_exit_0_with_a_message_and_nothing_written(cli, case_run):
    edit_ledger(case_run, {"D2": 675_000, "D3": 675_000, "D5": 675_000, "C6": "Ja"})
    before = (case_run / "manifest.json").read_bytes()
    status, out, err = cli("paminn", case_run, "--idag", "2020-09-01")
    assert status == 0, err
    assert "Ingen att påminna" in out
    assert not (case_run / "paminnelser").exists()
    assert (case_run / "manifest.json").read_bytes() == before


def test_a_broken_ledger_or_template_is_exit_2_located_and_nothing_written(cli, case_run, tmp_path, monkeypatch):
    edit_ledger(case_run, {"D3": "mycket"})
    status, out, err = cli("paminn", case_run, "--idag", "2020-09-01")
    assert status == 2
    assert "uppfoljning.xlsx Uppföljning!D3" in err and "Traceback" not in err
    assert not (case_run / "paminnelser").exists()
    edit_ledger(case_run, {"D3": None})
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "paminnelse.txt").write_text("Till {{ mottagare.namm }} {{ bilaga.rubrik }}\n",
                                                           encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    status, out, err = cli("paminn", case_run, "--idag", "2020-09-01")
    assert status == 2
    assert "templates/paminnelse.txt" in err and "Traceback" not in err
    assert not (case_run / "paminnelser").exists()


def test_a_template_in_templates_overrides_the_shipped_one(cli, case_run, tmp_path, monkeypatch):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "paminnelse.txt").write_text(
        "Hej {{ mottagare.namn }}: {{ mottagare.belopp|kronor }}{% if sista_dag_passerad %}, sent{% endif %}.\n",
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli("paminn", case_run, "--idag", "2020-09-01")[0] == 0
    body = body_of(case_run / "paminnelser" / "20200901" / "utskick" / "Botkyrka.eml")
    assert body.strip() == "Hej Botkyrka: 675 000 kr, sent."


def test_send_delivers_the_round_once_and_skips_who_has_invoiced_since(cli, case_run, server):  # noqa: F811
    edit_ledger(case_run, {"D2": 675_000})  # Vaxholm invoiced before the round
    assert cli("paminn", case_run, "--idag", "2020-08-20")[0] == 0
    round_dir = case_run / "paminnelser" / "20200820"
    edit_ledger(case_run, {"D5": 675_000, "E5": dt.date(2020, 8, 22)})  # Norrtälje invoices after it was written
    status, out, err = cli(*send_args(round_dir, server, "--yes"))
    assert status == 0, err
    assert sorted(a for _, rcpts, _ in server.received for a in rcpts) == ["registrator@botkyrka.example",
                                                                           "registrator@sodertalje.example"]
    assert "Skickas inte, mottagaren har redan svarat enligt uppfoljning.xlsx: 1 meddelande." in out
    assert "  Norrtälje.eml: Norrtälje (Rekvirerat)" in out.splitlines()
    journal = [json.loads(line) for line in (round_dir / "utskick" / "skickat.jsonl").read_text("utf-8").splitlines()]
    assert sorted(entry["file"] for entry in journal) == ["Botkyrka.eml", "Södertälje.eml"]
    assert not (case_run / "utskick" / "skickat.jsonl").exists()
    assert not (round_dir / "rapport.html").exists() and not (round_dir / "manifest.json").exists()
    manifest = json.loads((case_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"][-1]["command"] == "send"
    assert "paminnelser/20200820/utskick/skickat.jsonl" in manifest["changes"][-1]["files"]

    status, out, err = cli(*send_args(round_dir, server, "--yes"))
    assert status == 0, err
    assert len(server.received) == 2
    assert "Inget att skicka: alla 2 meddelanden i utskicket är redan skickade." in out
    assert "  Norrtälje.eml: Norrtälje (Rekvirerat)" in out.splitlines()


def test_the_template_guide_documents_every_name_the_reminder_sees():
    names = documented_names("## Påminnelsen")
    top = {n.split(".")[0] for n in names}
    assert top == set(REMINDER_SHAPE.names)
    assert {n.split(".")[1] for n in names if n.startswith("mottagare.")} == set(REMINDER_RECIPIENT_SHAPE.names)
    assert "arende.<falt>" in names and CASE_SHAPE.open


def test_status_lists_the_reminders_sent(cli, case_run, server):  # noqa: F811
    assert cli("paminn", case_run, "--idag", "2020-09-01")[0] == 0
    round_dir = case_run / "paminnelser" / "20200901"
    assert cli(*send_args(round_dir, server, "--yes"))[0] == 0
    status, out, err = cli("status", case_run, "--idag", "2020-09-02")
    assert status == 0, err
    page = (case_run / "status.html").read_text(encoding="utf-8")
    assert "Påminnelse" in page and "paminnelser/20200901/utskick/Vaxholm.eml" in page


def test_a_recipient_without_an_address_is_named_and_not_reminded(cli, tmp_path):
    recipients = [*RECIPIENTS[:3], ("Sigtuna", None, "Ja", 1)]
    source = build_workbook(tmp_path / "utan_adress.xlsx", case=CASE, recipients=recipients)
    run_dir = run(source, tmp_path / "ut", now=dt.datetime(2020, 6, 1, 10, 0)).run_dir
    status, out, err = cli("paminn", run_dir, "--idag", "2020-09-01")
    assert status == 0, err
    assert "Ingen e-postadress, ingen påminnelse: Sigtuna." in out
    assert sorted(p.name for p in (run_dir / "paminnelser" / "20200901" / "utskick").iterdir()) == ["Botkyrka.eml",
                                                                                                   "Vaxholm.eml"]


def test_paminn_runs_through_the_installed_program(run_processor, case_run):
    done = run_processor("paminn", case_run, "--idag", "2020-09-01")
    assert done.returncode == 0, done.stderr
    assert "Påminnelser till 4 mottagare (2 700 000 kr ej rekvirerat)" in done.stdout
    done = run_processor("paminn", case_run / "finns-inte", "--idag", "2020-09-01")
    assert done.returncode == 2 and "Traceback" not in done.stderr


PAID = {"D2": 675_000, "G2": 675_000, "D3": 675_000, "G3": 500_000, "D5": 675_000, "G5": 675_000,
        "I5": 675_000, "J5": dt.date(2021, 1, 10)}
"""Vaxholm and Botkyrka paid, Norrtälje paid and reported, Södertälje not paid."""


def test_redovisning_reminds_everyone_paid_who_has_not_reported(cli, case_run):
    edit_ledger(case_run, PAID)
    status, out, err = cli("paminn", case_run, "--redovisning", "--idag", "2021-02-15")
    assert status == 0, err
    round_dir = case_run / "paminnelser" / "20210215"
    assert sorted(p.name for p in (round_dir / "utskick").iterdir()) == ["Botkyrka.eml", "Vaxholm.eml"]
    assert "  Botkyrka: 500 000 kr utbetalt, ej redovisat" in out.splitlines()
    assert f"Påminnelser om redovisning till 2 mottagare (1 175 000 kr utbetalt) i {round_dir}." in out
    mail = message(round_dir / "utskick" / "Botkyrka.eml")
    assert mail["Subject"] == ("Påminnelse om redovisning: Stimulansmedel Goda förutsättningar för vårdens medarbetare "
                               "2020 – Botkyrka")
    assert mail["X-Processor-Awaits"] == "redovisning" and mail["X-Processor-Recipient"] == "Botkyrka"
    body = body_of(round_dir / "utskick" / "Botkyrka.eml")
    assert "Botkyrka har fått 500 000 kr utbetalt, men vi har ännu inte fått er redovisning" in body
    assert "slutredovisningen senast 31 mars 2021" in body
    assert "till kansli@storsthlm.example" in body and "Anna Andersson" in body


def test_send_of_a_reminder_to_report_skips_who_has_reported_since(cli, case_run, server):  # noqa: F811
    edit_ledger(case_run, PAID)
    assert cli("paminn", case_run, "--redovisning", "--idag", "2021-02-15")[0] == 0
    round_dir = case_run / "paminnelser" / "20210215"
    edit_ledger(case_run, {"I3": 480_000, "J3": dt.date(2021, 2, 16)})  # Botkyrka reports after the round was written
    status, out, err = cli(*send_args(round_dir, server, "--yes"))
    assert status == 0, err
    assert [rcpts for _, rcpts, _ in server.received] == [["registrator@vaxholm.example"]]
    assert "  Botkyrka.eml: Botkyrka (Redovisat)" in out.splitlines()


def test_one_reminder_to_report_is_told_in_the_singular(cli, case_run):
    edit_ledger(case_run, {"D2": 675_000, "G2": 675_000})
    status, out, err = cli("paminn", case_run, "--redovisning", "--idag", "2021-02-15")
    assert status == 0, err
    round_dir = case_run / "paminnelser" / "20210215"
    assert f"Påminnelse om redovisning till 1 mottagare (675 000 kr utbetalt) i {round_dir}." in out
    assert f"Granska den och skicka den med: processor send {round_dir}" in out


def test_no_one_to_remind_to_report_is_exit_0_with_a_message(cli, case_run):
    edit_ledger(case_run, {"D2": 675_000})
    status, out, err = cli("paminn", case_run, "--redovisning", "--idag", "2021-02-15")
    assert status == 0, err
    assert "Ingen att påminna om redovisning" in out and "Inget skrevs." in out
    assert not (case_run / "paminnelser").exists()


def test_the_template_guide_documents_every_name_the_reminder_to_report_sees():
    from processor.reminders import REPORT_REMINDER_SHAPE
    from processor.reporting import REPORTING_RECIPIENT_SHAPE

    names = documented_names("## Påminnelsen om redovisning")
    assert {n.split(".")[0] for n in names} == set(REPORT_REMINDER_SHAPE.names)
    assert {n.split(".")[1] for n in names if n.startswith("mottagare.")} == set(REPORTING_RECIPIENT_SHAPE.names)
