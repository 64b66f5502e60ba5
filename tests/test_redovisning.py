"""processor redovisning: a reporting form to every recipient paid, laid out as the contract with its reader says,
mailed with it and delivered by send exactly once; the body's own questions from the workbook sheet Frågor."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import build_workbook, documented_names, edit_ledger, require_program
from processor.context import CASE_SHAPE
from processor.pipeline import run
from processor.reporting import FORMS_SHAPE, REPORTING_RECIPIENT_SHAPE
from processor.reporting_form import (
    CASE_ID_CELL, DEFAULT_QUESTIONS, FILLED_LABELS, FIRST_QUESTION_ROW, FORM_SHEET, FORMAT_TAG, IDENTITY_SHEET,
    RECIPIENT_CELL, ROUND_CELL, TAG_CELL, USED_LABEL, FormIdentity, identity_of, label_key, sheet_label_rows,
)
from test_paminn import CASE, RECIPIENTS, body_of, message
from test_send import send_args, server  # noqa: F401  (the real SMTP server fixture)

ROOT = Path(__file__).resolve().parent.parent
PAID = {"D2": 675_000, "G2": 675_000, "H2": dt.date(2020, 9, 15),  # Vaxholm: invoiced and paid in full
        "D3": 675_000, "G3": 500_000, "H3": dt.date(2020, 9, 20),  # Botkyrka: 500 000 paid so far
        "D5": 675_000}  # Norrtälje: invoiced, not yet paid
TODAY = "2021-01-15"


@pytest.fixture
def case_run(tmp_path: Path) -> Path:
    source = build_workbook(tmp_path / "storsthlm_2020.xlsx", case=CASE, recipients=RECIPIENTS)
    return run(source, tmp_path / "ut", now=dt.datetime(2020, 6, 1, 10, 0)).run_dir


@pytest.fixture
def paid_run(case_run: Path) -> Path:
    edit_ledger(case_run, PAID)
    return case_run


def case_id(run_dir: Path) -> str:
    return json.loads((run_dir / "fordelning.json").read_text(encoding="utf-8"))["case_id"]


def value(sheet, label: str):
    return sheet.cell(sheet_label_rows(sheet)[label_key(label)], 2).value


def test_a_form_and_an_email_go_to_everyone_paid(cli, paid_run):
    status, out, err = cli("redovisning", paid_run, "--idag", TODAY)
    assert status == 0, err
    round_dir = paid_run / "redovisning" / "20210115"
    assert sorted(p.name for p in (round_dir / "blanketter").iterdir()) == ["Botkyrka.xlsx", "Vaxholm.xlsx"]
    assert sorted(p.name for p in (round_dir / "utskick").iterdir()) == ["Botkyrka.eml", "Vaxholm.eml"]
    assert "  Botkyrka: 500 000 kr utbetalt" in out.splitlines()
    assert f"Redovisningsblanketter till 2 mottagare (1 175 000 kr utbetalt) i {round_dir}." in out
    assert f"processor send {round_dir}" in out
    manifest = json.loads((paid_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"][-1]["command"] == "redovisning"
    assert {"redovisning/20210115/blanketter/Botkyrka.xlsx",
            "redovisning/20210115/utskick/Vaxholm.eml"} <= set(manifest["changes"][-1]["files"])
    assert not [p for p in (paid_run / "redovisning").iterdir() if p.name.startswith(".")]
    assert cli("redovisning", paid_run, "--idag", TODAY)[0] == 0
    assert (paid_run / "redovisning" / "20210115_2" / "blanketter" / "Vaxholm.xlsx").is_file()


def test_the_form_is_laid_out_as_the_contract_with_its_reader_says(cli, paid_run):
    assert cli("redovisning", paid_run, "--idag", TODAY)[0] == 0
    book = load_workbook(paid_run / "redovisning" / "20210115" / "blanketter" / "Botkyrka.xlsx")
    assert book.sheetnames[0] == FORM_SHEET and book.active.title == FORM_SHEET
    sheet = book[FORM_SHEET]
    assert sheet.sheet_state == "visible" and sheet.protection.sheet and not sheet.protection.password
    assert [value(sheet, label) for label in FILLED_LABELS] == [
        "Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020", "Storsthlm 2020/45", "Botkyrka",
        675_000, 500_000]
    rows = sheet_label_rows(sheet)
    for label in FILLED_LABELS:
        assert sheet.cell(rows[label_key(label)], 2).protection.locked, label
    used = sheet.cell(rows[label_key(USED_LABEL)], 2)
    assert used.value is None and not used.protection.locked and used.number_format == "#,##0"
    assert sheet.cell(rows[label_key("Utbetalt")], 2).number_format == "#,##0"
    hidden = book[IDENTITY_SHEET]
    assert hidden.sheet_state == "veryHidden"
    assert hidden[TAG_CELL].value == FORMAT_TAG == "processor-redovisning 1"
    assert hidden[CASE_ID_CELL].value == case_id(paid_run)
    assert hidden[RECIPIENT_CELL].value == "Botkyrka" and hidden[ROUND_CELL].value == "20210115"
    assert [hidden.cell(FIRST_QUESTION_ROW + i, 1).value for i in range(5)] == [*DEFAULT_QUESTIONS, None]
    assert identity_of(book) == FormIdentity(case_id(paid_run), "Botkyrka", "20210115", DEFAULT_QUESTIONS)
    question_rows = [rows[label_key(q)] for q in DEFAULT_QUESTIONS]
    assert question_rows == sorted(question_rows) and question_rows[0] > rows[label_key(USED_LABEL)]
    for row in question_rows:
        assert sheet.cell(row, 1).protection.locked
        answer = sheet.cell(row, 2)
        assert answer.value is None and not answer.protection.locked and answer.alignment.wrap_text
        assert sheet.row_dimensions[row].height >= 60
    assert [sheet.cell(rows[label_key(label)], 2).protection.locked for label in ("Kontaktperson", "Datum")] == [False,
                                                                                                               False]
    assert "genomförts" in DEFAULT_QUESTIONS[0] and "planeras" in DEFAULT_QUESTIONS[1]
    assert "utmaningar" in DEFAULT_QUESTIONS[2] and "jämställdhetsperspektivet" in DEFAULT_QUESTIONS[3]


def fill_in(path: Path, target: Path, used: object, answers: list[str]) -> Path:
    """The form filled in as a recipient would, saved under another name."""
    book = load_workbook(path)
    sheet = book[FORM_SHEET]
    rows = sheet_label_rows(sheet)
    sheet.cell(rows[label_key(USED_LABEL)], 2).value = used
    for question, answer in zip(identity_of(book).questions, answers):
        sheet.cell(rows[label_key(question)], 2).value = answer
    sheet.cell(rows[label_key("Kontaktperson")], 2).value = "Berit Botkyrka"
    book.save(target)
    return target


ANSWERS = ["Introduktionsprogram för nyanställda undersköterskor.", "Handledning i demensvård 2021.",
           "Svårt att rekrytera sjuksköterskor till nattpasset.", "Kursen gavs på dagtid för alla, i båda könens schema."]


def test_a_workbook_that_is_no_form_of_this_format_has_no_identity(tmp_path):
    from openpyxl import Workbook

    assert identity_of(Workbook()) is None
    assert FormIdentity.from_column(["processor-redovisning 2", "abc", "Botkyrka", "20210115", "Fråga?"]) is None
    assert FormIdentity.from_column([FORMAT_TAG, "abc", "Botkyrka", "20210115", None, "Fråga?"]) == FormIdentity(
        "abc", "Botkyrka", "20210115", ("Fråga?",))


def test_processor_init_gives_the_form_template_to_customise(cli, tmp_path):
    assert cli("init", tmp_path / "mitt")[0] == 0
    template = tmp_path / "mitt" / "mallar" / "redovisning.xlsx"
    assert template.read_bytes() == (ROOT / "templates" / "redovisning.xlsx").read_bytes()
    assert (tmp_path / "mitt" / "mallar" / "redovisning.txt").is_file()


def test_a_form_filled_in_and_renamed_still_says_whose_it_is_and_keeps_its_answers(cli, paid_run, tmp_path):
    assert cli("redovisning", paid_run, "--idag", TODAY)[0] == 0
    filled = fill_in(paid_run / "redovisning" / "20210115" / "blanketter" / "Botkyrka.xlsx",
                     tmp_path / "redovisning botkyrka slutlig.xlsx", 480_000, ANSWERS)
    book = load_workbook(filled)
    assert identity_of(book).recipient == "Botkyrka" and identity_of(book).case_id == case_id(paid_run)
    sheet = book[FORM_SHEET]
    assert value(sheet, USED_LABEL) == 480_000
    assert [value(sheet, q) for q in identity_of(book).questions] == ANSWERS


def test_a_form_saved_by_libreoffice_still_identifies_itself_and_keeps_its_answers(cli, paid_run, tmp_path):
    soffice = require_program("soffice", "libreoffice", install="apt-get install libreoffice-calc-nogui")
    assert cli("redovisning", paid_run, "--idag", TODAY)[0] == 0
    filled = fill_in(paid_run / "redovisning" / "20210115" / "blanketter" / "Vaxholm.xlsx", tmp_path / "Vaxholm.xlsx",
                     675_000, ANSWERS)
    saved = tmp_path / "sparad"
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profil').as_uri()}", "--headless", "--convert-to",
                    "xlsx", "--outdir", str(saved), str(filled)], check=True, capture_output=True, timeout=300)
    book = load_workbook(saved / "Vaxholm.xlsx")
    assert book.sheetnames[0] == FORM_SHEET and book[IDENTITY_SHEET].sheet_state in ("hidden", "veryHidden")
    assert identity_of(book) == FormIdentity(case_id(paid_run), "Vaxholm", "20210115", DEFAULT_QUESTIONS)
    sheet = book[FORM_SHEET]
    assert sheet.protection.sheet
    assert value(sheet, USED_LABEL) == 675_000 and value(sheet, "Utbetalt") == 675_000
    assert [value(sheet, q) for q in DEFAULT_QUESTIONS] == ANSWERS
    assert value(sheet, "Kontaktperson") == "Berit Botkyrka"


def test_the_email_carries_the_form_and_says_what_to_do_by_when_and_to_whom(cli, paid_run):
    assert cli("redovisning", paid_run, "--idag", TODAY)[0] == 0
    round_dir = paid_run / "redovisning" / "20210115"
    mail = message(round_dir / "utskick" / "Botkyrka.eml")
    assert mail["Subject"] == "Redovisning: Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020 – Botkyrka"
    assert mail["To"] == "registrator@botkyrka.example" and mail["X-Processor-Recipient"] == "Botkyrka"
    assert mail["X-Processor-Awaits"] == "redovisning"
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "Botkyrka.xlsx"
    assert attachment.get_content() == (round_dir / "blanketter" / "Botkyrka.xlsx").read_bytes()
    body = body_of(round_dir / "utskick" / "Botkyrka.eml")
    assert "Botkyrka har tilldelats 675 000 kr och fått 500 000 kr utbetalt." in body
    assert "diarienummer Storsthlm 2020/45" in body
    assert "slutredovisningen senast 31 mars 2021" in body  # the delredovisning of 30 September has passed
    assert "Öppna den bifogade blanketten, Botkyrka.xlsx" in body
    for question in DEFAULT_QUESTIONS:
        assert f"   - {question}\n" in body
    assert "svar på det här meddelandet, till kansli@storsthlm.example" in body
    assert "Anna Andersson" in body
    early = body_of(_round_on(paid_run, "2020-09-01") / "utskick" / "Vaxholm.eml")
    assert "en delredovisning senast 30 september 2020 och en slutredovisning senast 31 mars 2021" in early


def _round_on(run_dir: Path, day: str) -> Path:
    from processor.reporting import write_forms

    return write_forms(run_dir, dt.date.fromisoformat(day)).folder


def test_send_delivers_the_forms_once_and_skips_who_has_reported_since(cli, paid_run, server):  # noqa: F811
    assert cli("redovisning", paid_run, "--idag", TODAY)[0] == 0
    round_dir = paid_run / "redovisning" / "20210115"
    edit_ledger(paid_run, {"I2": 675_000, "J2": dt.date(2021, 1, 16)})  # Vaxholm reported before the forms went out
    status, out, err = cli(*send_args(round_dir, server, "--yes"))
    assert status == 0, err
    assert [rcpts for _, rcpts, _ in server.received] == [["registrator@botkyrka.example"]]
    assert "  Vaxholm.eml: Vaxholm (Redovisat)" in out.splitlines()
    received = server.received[0][2]
    assert b"Botkyrka.xlsx" in received
    journal = [json.loads(line) for line in (round_dir / "utskick" / "skickat.jsonl").read_text("utf-8").splitlines()]
    assert [entry["file"] for entry in journal] == ["Botkyrka.eml"]
    assert not (paid_run / "utskick" / "skickat.jsonl").exists()
    manifest = json.loads((paid_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"][-1]["command"] == "send"
    assert "redovisning/20210115/utskick/skickat.jsonl" in manifest["changes"][-1]["files"]
    status, out, err = cli(*send_args(round_dir, server, "--yes"))
    assert status == 0, err
    assert len(server.received) == 1 and "Inget att skicka" in out
    status, out, err = cli("status", paid_run, "--idag", "2021-01-20")
    assert status == 0, err
    assert "redovisning/20210115/utskick/Botkyrka.eml" in (paid_run / "status.html").read_text(encoding="utf-8")


def test_a_later_forms_round_is_not_sent_to_who_has_reported_and_send_says_why(cli, paid_run, server):  # noqa: F811
    edit_ledger(paid_run, {"I2": 600_000, "J2": dt.date(2020, 10, 1)})  # Vaxholm reported for the delredovisning
    assert cli("redovisning", paid_run, "--idag", TODAY)[0] == 0
    status, out, err = cli(*send_args(paid_run / "redovisning" / "20210115", server, "--yes"))
    assert status == 0, err
    assert [rcpts for _, rcpts, _ in server.received] == [["registrator@botkyrka.example"]]
    assert "Skickas inte, mottagaren har redan svarat enligt uppfoljning.xlsx: 1 meddelande." in out
    assert "  Vaxholm.eml: Vaxholm (Redovisat)" in out.splitlines()
    assert "påminnelsen" not in out


def test_one_form_is_told_in_the_singular(cli, case_run):
    edit_ledger(case_run, {"D2": 675_000, "G2": 675_000})
    status, out, err = cli("redovisning", case_run, "--idag", TODAY)
    assert status == 0, err
    round_dir = case_run / "redovisning" / "20210115"
    assert f"Redovisningsblankett till 1 mottagare (675 000 kr utbetalt) i {round_dir}." in out
    assert f"Granska den och skicka e-postmeddelandet med: processor send {round_dir}" in out


def test_no_one_paid_is_exit_0_with_a_message_and_nothing_written(cli, case_run):
    edit_ledger(case_run, {"D2": 675_000})
    before = (case_run / "manifest.json").read_bytes()
    status, out, err = cli("redovisning", case_run, "--idag", TODAY)
    assert status == 0, err
    assert "Ingen har fått medel utbetalda" in out and "Inget skrevs." in out
    assert not (case_run / "redovisning").exists()
    assert (case_run / "manifest.json").read_bytes() == before


def test_a_broken_ledger_or_form_template_is_exit_2_located_and_nothing_written(cli, paid_run, tmp_path, monkeypatch):
    edit_ledger(paid_run, {"G5": 700_000})  # paid more than invoiced
    status, out, err = cli("redovisning", paid_run, "--idag", TODAY)
    assert status == 2
    assert "uppfoljning.xlsx Uppföljning!G5" in err and "Traceback" not in err
    assert not (paid_run / "redovisning").exists()
    edit_ledger(paid_run, {"G5": None})
    (tmp_path / "templates").mkdir()
    book = load_workbook(ROOT / "templates" / "redovisning.xlsx")
    book[FORM_SHEET]["A8"] = "Summa utbetalt"  # was Utbetalt
    book.save(tmp_path / "templates" / "redovisning.xlsx")
    monkeypatch.chdir(tmp_path)
    status, out, err = cli("redovisning", paid_run, "--idag", TODAY)
    assert status == 2 and "Traceback" not in err
    assert 'templates/redovisning.xlsx Redovisning!A: mallen saknar raden "Utbetalt"' in err
    assert not (paid_run / "redovisning").exists()


def test_a_restyled_form_template_is_filled_in_by_its_labels(cli, paid_run, tmp_path, monkeypatch):
    (tmp_path / "templates").mkdir()
    book = load_workbook(ROOT / "templates" / "redovisning.xlsx")
    sheet = book[FORM_SHEET]
    sheet.insert_rows(2, 3)
    sheet["A2"] = "Storsthlm – redovisning av statsbidrag"
    book.save(tmp_path / "templates" / "redovisning.xlsx")
    (tmp_path / "templates" / "redovisning.txt").write_text(
        "Hej {{ mottagare.namn }}: {{ mottagare.utbetalt|kronor }}, {{ fragor|length }} frågor i {{ blankett }}.\n",
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli("redovisning", paid_run, "--idag", TODAY)[0] == 0
    round_dir = paid_run / "redovisning" / "20210115"
    form = load_workbook(round_dir / "blanketter" / "Vaxholm.xlsx")[FORM_SHEET]
    assert form["A2"].value == "Storsthlm – redovisning av statsbidrag"
    assert value(form, "Mottagare") == "Vaxholm" and sheet_label_rows(form)[label_key("Mottagare")] == 9
    assert value(form, "Kontaktperson") is None and sheet_label_rows(form)[label_key("Datum")] > sheet_label_rows(form)[
        label_key(DEFAULT_QUESTIONS[-1])]
    assert body_of(round_dir / "utskick" / "Vaxholm.eml").strip() == "Hej Vaxholm: 675 000 kr, 4 frågor i Vaxholm.xlsx."


def test_a_bodys_logo_in_its_own_form_template_is_on_every_form(cli, paid_run, tmp_path, monkeypatch):
    from io import BytesIO

    from openpyxl.drawing.image import Image
    from PIL import Image as Picture

    logo = BytesIO()
    Picture.new("RGB", (120, 40), (0, 70, 140)).save(logo, "PNG")
    (tmp_path / "templates").mkdir()
    book = load_workbook(ROOT / "templates" / "redovisning.xlsx")
    book[FORM_SHEET].add_image(Image(logo), "C1")
    book.save(tmp_path / "templates" / "redovisning.xlsx")
    monkeypatch.chdir(tmp_path)
    assert cli("redovisning", paid_run, "--idag", TODAY)[0] == 0
    with zipfile.ZipFile(paid_run / "redovisning" / "20210115" / "blanketter" / "Vaxholm.xlsx") as form:
        assert [n for n in form.namelist() if n.startswith("xl/media/")] == ["xl/media/image1.png"]


def test_a_merged_note_below_the_questions_moves_down_with_them(cli, paid_run, tmp_path, monkeypatch):
    (tmp_path / "templates").mkdir()
    book = load_workbook(ROOT / "templates" / "redovisning.xlsx")
    sheet = book[FORM_SHEET]
    note = sheet.max_row + 2
    sheet.cell(note, 1, "Tack! Frågor om blanketten besvaras av kansliet.")
    sheet.merge_cells(start_row=note, start_column=1, end_row=note, end_column=2)
    book.save(tmp_path / "templates" / "redovisning.xlsx")
    monkeypatch.chdir(tmp_path)
    assert cli("redovisning", paid_run, "--idag", TODAY)[0] == 0
    form = load_workbook(paid_run / "redovisning" / "20210115" / "blanketter" / "Vaxholm.xlsx")[FORM_SHEET]
    moved = note + len(DEFAULT_QUESTIONS) - 1
    assert form.cell(moved, 1).value == "Tack! Frågor om blanketten besvaras av kansliet."
    assert [r.coord for r in form.merged_cells.ranges] == [f"A{moved}:B{moved}"]
    rows = sheet_label_rows(form)
    for question in DEFAULT_QUESTIONS:  # every answer cell is a cell of its own, free to type in
        answer = form.cell(rows[label_key(question)], 2)
        assert type(answer).__name__ == "Cell" and answer.protection.locked is False


def test_a_recipient_without_an_address_gets_a_form_and_is_named(cli, tmp_path):
    recipients = [*RECIPIENTS[:2], ("Sigtuna", None, "Ja", 1)]
    source = build_workbook(tmp_path / "utan_adress.xlsx", case=CASE, recipients=recipients)
    run_dir = run(source, tmp_path / "ut", now=dt.datetime(2020, 6, 1, 10, 0)).run_dir
    edit_ledger(run_dir, {"D2": 900_000, "G2": 900_000, "D3": 900_000, "G3": 900_000})
    status, out, err = cli("redovisning", run_dir, "--idag", TODAY)
    assert status == 0, err
    round_dir = run_dir / "redovisning" / "20210115"
    assert "Ingen e-postadress, blanketten skickas inte: Sigtuna." in out
    assert sorted(p.name for p in (round_dir / "blanketter").iterdir()) == ["Sigtuna.xlsx", "Vaxholm.xlsx"]
    assert sorted(p.name for p in (round_dir / "utskick").iterdir()) == ["Vaxholm.eml"]


QUESTIONS = [("Fråga",), ("Hur många medarbetare har gått utbildningen?",), (None,), ("  ",),
             ("Vad har ni lärt er?",)]


def test_a_body_asks_its_own_questions_from_the_sheet_fragor(cli, tmp_path):
    source = build_workbook(tmp_path / "egna_fragor.xlsx", case=CASE, recipients=RECIPIENTS,
                            extra_sheets={"Frågor": QUESTIONS})
    run_dir = run(source, tmp_path / "ut", now=dt.datetime(2020, 6, 1, 10, 0)).run_dir
    asked = ["Hur många medarbetare har gått utbildningen?", "Vad har ni lärt er?"]
    assert json.loads((run_dir / "fordelning.json").read_text(encoding="utf-8"))["questions"] == asked
    edit_ledger(run_dir, PAID)
    assert cli("redovisning", run_dir, "--idag", TODAY)[0] == 0
    round_dir = run_dir / "redovisning" / "20210115"
    book = load_workbook(round_dir / "blanketter" / "Vaxholm.xlsx")
    assert identity_of(book).questions == tuple(asked)
    sheet = book[FORM_SHEET]
    rows = sheet_label_rows(sheet)
    assert [rows[label_key(q)] for q in asked] == [rows[label_key(USED_LABEL)] + 1, rows[label_key(USED_LABEL)] + 2]
    assert not any(label_key(q) in rows for q in DEFAULT_QUESTIONS)
    assert rows[label_key("Kontaktperson")] == rows[label_key(USED_LABEL)] + 3
    body = body_of(round_dir / "utskick" / "Vaxholm.eml")
    assert "   - Vad har ni lärt er?\n" in body and DEFAULT_QUESTIONS[0] not in body


def test_a_workbook_without_the_sheet_keeps_fordelning_json_as_it_was(paid_run):
    assert "questions" not in json.loads((paid_run / "fordelning.json").read_text(encoding="utf-8"))


def test_the_questions_sheet_problems_are_located_all_at_once(cli, tmp_path):
    rows = [("Fråga",), ("Vad har ni gjort?",), ("x" * 501,), ("vad har  ni gjort?",), ("Använt belopp",),
            *((f"Fråga nummer {n}?",) for n in range(1, 21))]
    source = build_workbook(tmp_path / "fel.xlsx", case=CASE, recipients=RECIPIENTS, extra_sheets={"Frågor": rows})
    status, out, err = cli("run", source, "--out", tmp_path / "ut")
    assert status == 2 and "Traceback" not in err
    assert "Frågor!A3: frågan är 501 tecken lång; högst 500" in err
    assert "Frågor!A4: frågan står redan på rad 2." in err
    assert 'Frågor!A5: "Använt belopp" är redan en rad på redovisningsblanketten.' in err
    assert "Frågor!A25: högst 20 frågor ryms på redovisningsblanketten." in err
    assert "Frågor!A24" not in err
    assert not (tmp_path / "ut").exists() or not list((tmp_path / "ut").iterdir())


def test_an_empty_questions_sheet_warns_and_a_near_miss_name_is_named(cli, tmp_path):
    source = build_workbook(tmp_path / "tom.xlsx", case=CASE, recipients=RECIPIENTS, extra_sheets={"Frågor": [("Fråga",)]})
    status, out, err = cli("validate", source)
    assert status == 0, err
    assert 'bladet "Frågor" har inga frågor, så redovisningsblanketten får standardfrågorna.' in out
    source = build_workbook(tmp_path / "nara.xlsx", case=CASE, recipients=RECIPIENTS,
                            extra_sheets={"Fragor": [("Vad har ni gjort?",)]})
    status, out, err = cli("validate", source)
    assert status == 0, err
    assert 'bladet "Fragor" läses inte, eftersom frågebladet ska heta "Frågor".' in out


def test_the_template_guide_documents_every_name_the_forms_email_sees():
    names = documented_names("## Redovisningsblanketten")
    assert {n.split(".")[0] for n in names} == set(FORMS_SHAPE.names)
    assert {n.split(".")[1] for n in names if n.startswith("mottagare.")} == set(REPORTING_RECIPIENT_SHAPE.names)
    assert "arende.<falt>" in names and CASE_SHAPE.open


def test_redovisning_runs_through_the_installed_program(run_processor, paid_run):
    done = run_processor("redovisning", paid_run, "--idag", TODAY)
    assert done.returncode == 0, done.stderr
    assert "Redovisningsblanketter till 2 mottagare (1 175 000 kr utbetalt)" in done.stdout
    shutil.rmtree(paid_run / "redovisning")
    done = run_processor("redovisning", paid_run / "finns-inte", "--idag", TODAY)
    assert done.returncode == 2 and "Traceback" not in done.stderr
