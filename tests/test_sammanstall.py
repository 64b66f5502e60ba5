"""processor sammanstall: returned reporting forms in; the ledger's Använt and Redovisat, the compiled report and the
repayment letters out; every bad form at once and nothing changed."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import zipfile
from importlib import resources
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import documented_names, docx_text, require_program, sha256
from processor.case_folder import open_case_folder
from processor.context import CASE_SHAPE
from processor.reporting_form import (DEFAULT_QUESTIONS, FORM_SHEET, FORM_TEMPLATE, USED_LABEL, FormIdentity, FormValues,
                                      fill_form, label_key, sheet_label_rows)
from processor.sammanstall import (ANSWER_SHAPE, COMPILATION_SHAPE, QUESTION_SHAPE, REPAYMENT_SHAPE, ROW_SHAPE,
                                   TOTALS_SHAPE, repayment_deadline)

QUESTIONS = DEFAULT_QUESTIONS
PAID = 900_000
NOTE = "Betalt via Raindance, ver. 4471"
OWN_COLUMN = "Kontakt hos mottagaren"


def pay(run_dir: Path, paid: dict[str, int], *, used: dict[str, int] | None = None) -> None:
    """The administrator records payments in the ledger with Excel (here openpyxl), and a note of their own."""
    book = load_workbook(run_dir / "uppfoljning.xlsx")
    sheet = book["Uppföljning"]
    header = [c.value for c in sheet[1]]
    sheet.cell(1, len(header) + 1, OWN_COLUMN)
    for row in sheet.iter_rows(min_row=2):
        name = row[0].value
        sheet.cell(row[0].row, len(header) + 1, f"kontakt@{name.lower()}.example")
        if name in paid:
            row[header.index("Rekvirerat")].value = paid[name]
            row[header.index("Utbetalt")].value = paid[name]
            row[header.index("Utbetalningsdag")].value = dt.date(2020, 9, 15)
            row[header.index("Anteckning")].value = NOTE
        if name in (used or {}):
            row[header.index("Använt")].value = used[name]
    book.save(run_dir / "uppfoljning.xlsx")


def ledger(run_dir: Path) -> dict[str, dict[str, object]]:
    sheet = load_workbook(run_dir / "uppfoljning.xlsx")["Uppföljning"]
    header = [c.value for c in sheet[1]]
    return {row[0].value: dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)}


def reporting_form(path: Path, run_dir: Path, recipient: str, used: object, answers: dict[str, str] | None = None,
                   *, case_id: str | None = None, questions: tuple[str, ...] = QUESTIONS) -> Path:
    """A recipient's form as processor redovisning fills it in (the shipped template), then filled in and saved by
    the recipient (openpyxl): ``Använt belopp`` and an answer to each question, found by their labels."""
    folder = open_case_folder(run_dir)
    template = resources.files("processor.templates").joinpath(FORM_TEMPLATE).read_bytes()
    form = fill_form(template, FORM_TEMPLATE, FormIdentity(case_id or folder.case_id, recipient, "20210110", questions),
                     FormValues(folder.case.info.title, folder.reference, recipient, folder.allocated.get(recipient, 0),
                                PAID))
    book = load_workbook(BytesIO(form))
    sheet = book[FORM_SHEET]
    rows = sheet_label_rows(sheet)
    sheet.cell(rows[label_key(USED_LABEL)], 2).value = used
    for question in questions:
        sheet.cell(rows[label_key(question)], 2).value = (answers or {}).get(question, f"{recipient} svarar på: {question}")
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def used_cell(path: Path) -> str:
    """Where ``Använt belopp`` is filled in on a form: ``Redovisning!B9``."""
    return f"{FORM_SHEET}!B{sheet_label_rows(load_workbook(path)[FORM_SHEET])[label_key(USED_LABEL)]}"


def words(path: Path) -> str:
    """A Word document's text with its hard spaces as plain ones."""
    return docx_text(path).replace("\u00a0", " ")


def folder_state(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` with its SHA-256: the run folder's state, to show that nothing changed."""
    return {p.relative_to(folder).as_posix(): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def own_template(folder: Path, monkeypatch: pytest.MonkeyPatch, name: str, paragraph: str) -> None:
    """A Word template ``name`` of one paragraph in ``folder/templates``, the working folder, so that it overrides
    the shipped one."""
    from docx import Document

    (folder / "templates").mkdir()
    document = Document()
    document.add_paragraph(paragraph)
    document.save(folder / "templates" / name)
    monkeypatch.chdir(folder)


@pytest.fixture
def paid_run(followup_run):
    pay(followup_run, {"Vaxholm": PAID, "Botkyrka": PAID, "Norrtälje": PAID})
    return followup_run


def test_returned_forms_become_the_ledger_the_compiled_report_and_repayment_letters(cli, paid_run, tmp_path):
    forms = tmp_path / "inkomna"
    reporting_form(forms / "Redovisning Vaxholm.xlsx", paid_run, "Vaxholm", 900_000)
    reporting_form(forms / "svar från botkyrka.xlsx", paid_run, "Botkyrka", 812_345,
                   {QUESTIONS[3]: "Vi har följt upp utbildningen per kön.\n\nAndelen män ökade."})
    status, out, err = cli("sammanstall", paid_run, forms, "--idag", "2021-02-15")
    assert status == 0, err
    compiled = paid_run / "sammanstallning" / "20210215"
    assert "Redovisning Vaxholm.xlsx: Vaxholm, använt 900 000 kr av 900 000 kr; införd i uppfoljning.xlsx." in out
    assert "svar från botkyrka.xlsx: Botkyrka, använt 812 345 kr av 900 000 kr; införd i uppfoljning.xlsx." in out
    assert ("Redovisat: 2 mottagare. Utbetalt 2 700 000 kr, använt 1 712 345 kr, att återbetala 87 655 kr "
            "(1 återbetalningsbrev).") in out
    assert (f"Har inte redovisat (900 000 kr utbetalt): Norrtälje. Påminn den med: processor paminn {paid_run} "
            "--redovisning") in out
    assert "uppfoljning.xlsx: 4 celler ändrade." in out

    rows = ledger(paid_run)
    assert (rows["Vaxholm"]["Använt"], rows["Vaxholm"]["Redovisat"]) == (900_000, dt.datetime(2021, 2, 15))
    assert (rows["Botkyrka"]["Använt"], rows["Botkyrka"]["Redovisat"]) == (812_345, dt.datetime(2021, 2, 15))
    assert rows["Norrtälje"]["Använt"] is None and rows["Norrtälje"]["Redovisat"] is None
    assert rows["Botkyrka"]["Anteckning"] == NOTE and rows["Botkyrka"]["Utbetalningsdag"] == dt.datetime(2020, 9, 15)
    assert rows["Botkyrka"][OWN_COLUMN] == "kontakt@botkyrka.example"
    assert (paid_run / "uppfoljning.föregående.xlsx").is_file()

    assert sorted(p.relative_to(compiled).as_posix() for p in compiled.rglob("*") if p.is_file()) == [
        "aterbetalning/Botkyrka.docx", "sammanstallning.docx", "sammanstallning.xlsx"]
    letter = words(compiled / "aterbetalning" / "Botkyrka.docx")
    for text in ("Till\nBotkyrka\n", "Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020: återbetalning\n",
                 "Att återbetala: 87 655 kr", "Betala tillbaka 87 655 kr senast den 31 mars 2021.",
                 "diarienummer Storsthlm 2020/45", "Ange också referens 781.", "Dnr Storsthlm 2020/45"):
        assert text in letter, text

    report = words(compiled / "sammanstallning.docx")
    for text in ("Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020: redovisning",
                 "senast den 31 mars 2021; var och en som ska betala tillbaka får ett brev om beloppet.",
                 "2 av 3 mottagare som har fått medel utbetalda har redovisat", "Dnr Storsthlm 2020/45",
                 "Använt enligt redovisningarna\n1 712 345 kr",
                 "Att återbetala\n87 655 kr", "senast den 31 mars 2021", "Botkyrka\nVi har följt upp utbildningen per kön.\n"
                 "Andelen män ökade.", f"Vaxholm svarar på: {QUESTIONS[1]}", "Norrtälje (utbetalt 900 000 kr)",
                 "Norrtälje\n900 000\n900 000\n–\n–", "Totalt\n2 700 000\n2 700 000\n1 712 345\n87 655"):
        assert text in report, text
    assert report.index(QUESTIONS[0]) < report.index(QUESTIONS[3])

    sheet = load_workbook(compiled / "sammanstallning.xlsx")["Sammanställning"]
    table = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert table[0][:6] == ["Mottagare", "Tilldelat", "Utbetalt", "Använt", "Att återbetala", "Redovisat"]
    assert table[0][6:] == list(QUESTIONS)
    body = {r[0]: r for r in table[1:]}
    assert body["Botkyrka"][1:6] == [900_000, 900_000, 812_345, 87_655, dt.datetime(2021, 2, 15)]
    assert body["Norrtälje"][1:6] == [900_000, 900_000, None, None, None]
    assert "Ekerö" not in body
    assert body["Totalt"][1:5] == [2_700_000, 2_700_000, 1_712_345, 87_655]
    assert sheet["B4"].number_format == "#,##0"

    manifest = json.loads((paid_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"][-1]["command"] == "sammanstall"
    listed = {f["path"]: f for f in manifest["files"]}
    assert listed["sammanstallning/20210215/aterbetalning/Botkyrka.docx"]["sha256"] == sha256(
        compiled / "aterbetalning" / "Botkyrka.docx")


def test_every_bad_form_is_told_at_once_located_and_nothing_changes(cli, paid_run, tmp_path):
    forms = tmp_path / "inkomna"
    reporting_form(forms / "annat ärende.xlsx", paid_run, "Vaxholm", 1, case_id="0" * 32)
    reporting_form(forms / "Ekerö.xlsx", paid_run, "Ekerö", 0)
    reporting_form(forms / "Solna.xlsx", paid_run, "Solna", 10)
    reporting_form(forms / "Botkyrka.xlsx", paid_run, "Botkyrka", 900_001)
    reporting_form(forms / "Botkyrka igen.xlsx", paid_run, "Botkyrka", 5)
    reporting_form(forms / "Norrtälje.xlsx", paid_run, "Norrtälje", None)
    reporting_form(forms / "Vaxholm text.xlsx", paid_run, "Vaxholm", "ungefär hälften")
    reporting_form(forms / "Vaxholm negativ.xlsx", paid_run, "Vaxholm", -5)
    (forms / "anteckningar.xlsx").write_text("Använt belopp;100\n", encoding="utf-8")
    shutil.copy(reporting_form(tmp_path / "m.xlsx", paid_run, "Vaxholm", 5), forms / "med makron.xlsm")
    with_vba = reporting_form(tmp_path / "vba.xlsx", paid_run, "Vaxholm", 5)
    with zipfile.ZipFile(with_vba, "a") as package:
        package.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not really")
    shutil.copy(with_vba, forms / "omdöpt makrobok.xlsx")
    hostile = reporting_form(tmp_path / "h.xlsx", paid_run, "Vaxholm", 5)
    entity_form(hostile, forms / "elak.xlsx")
    bomb = reporting_form(tmp_path / "b.xlsx", paid_run, "Vaxholm", 5)
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/media/image1.png", bytes(20 * 1024 * 1024))
    shutil.copy(bomb, forms / "zip-bomb.xlsx")
    before = folder_state(paid_run)
    B = used_cell(forms / "Botkyrka.xlsx")  # noqa: N806  (the cell, as messages name it)

    status, out, err = cli("sammanstall", paid_run, forms, "--idag", "2021-02-15")
    assert status == 2, out
    assert "Traceback" not in err
    assert err.startswith("Blanketterna kan inte sammanställas: ")
    for text in ("annat ärende.xlsx: blanketten hör till ett annat ärende, inte till den här körmappen: den skickades ut "
                 "från en annan körmapp (utskicket redovisning/20210110), kanske från en annan körning av samma "
                 "arbetsbok. Sammanställ den med den körmappen (processor sammanstall KÖRMAPP MAPP), eller ta bort den "
                 "härifrån.",
                 "Ekerö.xlsx: Ekerö har inte fått något utbetalt (Utbetalt är 0 kr i uppfoljning.xlsx)",
                 'Solna.xlsx: blanketten är till "Solna", som inte är mottagare i ärendet.',
                 f"Botkyrka.xlsx {B}: Använt belopp (900 001 kr) är mer än Botkyrka har fått utbetalt "
                 "(900 000 kr enligt uppfoljning.xlsx). Rätta beloppet i blanketten (högst 900 000 kr)",
                 "Botkyrka.xlsx: Botkyrka har redan en blankett i mappen (Botkyrka igen.xlsx).",
                 f"Norrtälje.xlsx {B}: Använt belopp är tomt.",
                 f'Vaxholm text.xlsx {B}: "ungefär hälften" är inte ett tal (Använt belopp).',
                 f"Vaxholm negativ.xlsx {B}: Använt belopp får inte vara negativt",
                 "anteckningar.xlsx: är en textfil (kanske CSV), inte en Excel-arbetsbok.",
                 "med makron.xlsm: filen är en makroaktiverad Excel-arbetsbok (.xlsm), och en sådan blankett läses inte",
                 "omdöpt makrobok.xlsx: arbetsboken innehåller makron",
                 "elak.xlsx: innehåller otillåten XML",
                 "zip-bomb.xlsx: arbetsboken är orimligt stor uppackad och läses inte",
                 "Vaxholm text.xlsx: Vaxholm har redan en blankett i mappen (Vaxholm negativ.xlsx)."):
        assert text in err, text
    assert len(re.findall(r"^  \S", err, re.MULTILINE)) == 14
    assert out == ""
    assert folder_state(paid_run) == before
    assert not (paid_run / "sammanstallning").exists() or not any((paid_run / "sammanstallning").iterdir())


def entity_form(source: Path, target: Path) -> None:
    """The form with an XML entity declared in its first sheet (a billion-laughs attempt)."""
    with zipfile.ZipFile(source) as package, zipfile.ZipFile(target, "w") as out:
        for item in package.infolist():
            data = package.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + data.split(b"?>", 1)[-1]
            out.writestr(item, data)


def test_the_files_a_file_manager_leaves_in_the_folder_are_not_forms(cli, paid_run, tmp_path):
    forms = tmp_path / "inkomna"
    reporting_form(forms / "Vaxholm.xlsx", paid_run, "Vaxholm", 900_000)
    for name in (".DS_Store", "Thumbs.db", "desktop.ini"):  # macOS Finder, Windows Explorer (hidden files there)
        (forms / name).write_bytes(b"\x00\x01 not a form")
    (forms / "gamla").mkdir()
    status, out, err = cli("sammanstall", paid_run, forms, "--idag", "2021-02-15")
    assert status == 0, err
    assert "Sammanställning av 1 blankett i " in out


def test_an_amount_typed_as_text_is_read_with_a_warning(cli, paid_run, tmp_path):
    forms = tmp_path / "inkomna"
    reporting_form(forms / "Vaxholm.xlsx", paid_run, "Vaxholm", "850 000 kr")
    status, out, err = cli("sammanstall", paid_run, forms, "--idag", "2021-02-15")
    assert status == 0, err
    where = f'Vaxholm.xlsx {used_cell(forms / "Vaxholm.xlsx")}'
    assert f'Varning: {where}: talet är skrivet som text ("850 000 kr") och läses som 850 000.' in out
    assert ledger(paid_run)["Vaxholm"]["Använt"] == 850_000


def test_compiling_again_keeps_what_is_recorded_and_says_what_changed(cli, paid_run, tmp_path):
    forms = tmp_path / "inkomna"
    reporting_form(forms / "Vaxholm.xlsx", paid_run, "Vaxholm", 900_000)
    reporting_form(forms / "Botkyrka.xlsx", paid_run, "Botkyrka", 800_000)
    assert cli("sammanstall", paid_run, forms, "--idag", "2021-02-15")[0] == 0
    reporting_form(forms / "Botkyrka.xlsx", paid_run, "Botkyrka", 850_000)
    reporting_form(forms / "Norrtälje.xlsx", paid_run, "Norrtälje", 900_000)
    status, out, err = cli("sammanstall", paid_run, forms, "--idag", "2021-03-01")
    assert status == 0, err
    assert "Vaxholm.xlsx: Vaxholm, använt 900 000 kr av 900 000 kr; redan införd i uppfoljning.xlsx." in out
    assert "Botkyrka.xlsx: Botkyrka, använt 850 000 kr av 900 000 kr (ändrat från 800 000 kr); ändrad i " in out
    assert "Har inte redovisat" not in out
    rows = ledger(paid_run)
    assert rows["Vaxholm"]["Redovisat"] == dt.datetime(2021, 2, 15)
    assert (rows["Botkyrka"]["Använt"], rows["Botkyrka"]["Redovisat"]) == (850_000, dt.datetime(2021, 3, 1))
    assert "Att återbetala: 50 000 kr" in words(paid_run / "sammanstallning" / "20210301" / "aterbetalning" / "Botkyrka.docx")
    assert cli("sammanstall", paid_run, forms, "--idag", "2021-03-01")[1].endswith("uppfoljning.xlsx: inget ändrat.\n")
    assert (paid_run / "sammanstallning" / "20210301_2" / "sammanstallning.docx").is_file()


def test_a_second_batch_in_a_new_folder_says_whose_answers_are_left_out(cli, paid_run, tmp_path):
    first, second = tmp_path / "januari", tmp_path / "februari"
    reporting_form(first / "Vaxholm.xlsx", paid_run, "Vaxholm", 900_000)
    reporting_form(first / "Botkyrka.xlsx", paid_run, "Botkyrka", 800_000)
    assert cli("sammanstall", paid_run, first, "--idag", "2021-02-15")[0] == 0
    reporting_form(second / "Norrtälje.xlsx", paid_run, "Norrtälje", 900_000)
    status, out, err = cli("sammanstall", paid_run, second, "--idag", "2021-03-01")
    assert status == 0, err
    assert ("Redovisat enligt uppfoljning.xlsx men utan blankett i mappen, så deras svar saknas i sammanställningen: "
            "Vaxholm, Botkyrka. Lägg deras blanketter i mappen och kör igen, om svaren ska med.") in out
    report = words(paid_run / "sammanstallning" / "20210301" / "sammanstallning.docx")
    assert "Norrtälje svarar på" in report and "Vaxholm svarar på" not in report
    status, out, err = cli("sammanstall", paid_run, first, "--idag", "2021-03-01")
    assert "Lägg dess blankett i mappen" in out and "svar saknas i sammanställningen: Norrtälje." in out


def test_a_report_typed_into_the_ledger_by_hand_is_compiled_too(cli, followup_run, tmp_path):
    pay(followup_run, {"Vaxholm": PAID, "Botkyrka": PAID}, used={"Vaxholm": 700_000})
    rows_before = ledger(followup_run)
    assert rows_before["Vaxholm"]["Redovisat"] is None
    forms = tmp_path / "inkomna"
    reporting_form(forms / "Botkyrka.xlsx", followup_run, "Botkyrka", 900_000)
    status, out, err = cli("sammanstall", followup_run, forms, "--idag", "2021-02-15")
    assert status == 0, err
    assert "Har inte redovisat (900 000 kr utbetalt): Vaxholm." in out  # Använt without Redovisat is not a report
    reporting_form(forms / "Vaxholm.xlsx", followup_run, "Vaxholm", 700_000)  # the amount typed in: only the date
    status, out, err = cli("sammanstall", followup_run, forms, "--idag", "2021-02-16")
    assert status == 0, err
    assert "Vaxholm.xlsx: Vaxholm, använt 700 000 kr av 900 000 kr; införd i uppfoljning.xlsx." in out
    assert out.endswith("uppfoljning.xlsx: 1 cell ändrad.\n")


def test_the_report_counts_who_has_reported_among_those_paid_and_says_why_an_unpaid_row_has_no_figures(
        cli, followup_run, tmp_path):
    pay(followup_run, {"Vaxholm": PAID, "Botkyrka": PAID})  # Norrtälje is allocated 900 000 kr, not yet paid
    forms = tmp_path / "inkomna"
    reporting_form(forms / "Vaxholm.xlsx", followup_run, "Vaxholm", 900_000)
    reporting_form(forms / "Botkyrka.xlsx", followup_run, "Botkyrka", 800_000)
    status, out, err = cli("sammanstall", followup_run, forms, "--idag", "2021-02-15")
    assert status == 0, err
    compiled = followup_run / "sammanstallning" / "20210215"
    report = words(compiled / "sammanstallning.docx")
    for text in ("2 av 2 mottagare som har fått medel utbetalda har redovisat hur medlen har använts.",
                 "Alla mottagare som har fått medel utbetalda har redovisat.", "Norrtälje\n900 000\n0\n–\n–",
                 "– betyder att redovisningen inte har kommit in, eller att inget har betalats ut."):
        assert text in report, text
    sheet = load_workbook(compiled / "sammanstallning.xlsx")["Sammanställning"]
    assert sheet["A2"].value.startswith("Redovisat 2 av 2 mottagare som fått medel utbetalda.")


def test_a_template_with_an_unknown_name_stops_before_anything_is_written(cli, paid_run, tmp_path, monkeypatch):
    own_template(tmp_path, monkeypatch, "aterbetalning.docx", "{{ mottagare.namn }} ska betala {{ belopp|kronor }}")
    forms = tmp_path / "inkomna"
    reporting_form(forms / "Botkyrka.xlsx", paid_run, "Botkyrka", 800_000)
    before = folder_state(paid_run)
    status, out, err = cli("sammanstall", paid_run, forms, "--idag", "2021-02-15")
    assert status == 2
    assert err.startswith("Mallen templates/aterbetalning.docx kan inte användas: 1 fel att rätta.")
    assert 'templates/aterbetalning.docx: variabeln "belopp" finns inte' in err
    reporting_form(forms / "Vaxholm.xlsx", paid_run, "Vaxholm", None)
    status, out, err = cli("sammanstall", paid_run, forms, "--idag", "2021-02-15")
    assert status == 2 and err.startswith("Blanketterna kan inte sammanställas: 2 fel att rätta.")
    assert "Vaxholm.xlsx Redovisning!" in err and 'templates/aterbetalning.docx: variabeln "belopp"' in err
    assert folder_state(paid_run) == before


def test_a_template_that_prints_what_is_not_there_stops_and_leaves_no_folder(cli, paid_run, tmp_path, monkeypatch):
    own_template(tmp_path, monkeypatch, "sammanstallning.docx",
                 "{% for r in rader %}{{ r.namn }}: {{ r.anvant|tal }} kr. {% endfor %}")
    reporting_form(tmp_path / "inkomna" / "Botkyrka.xlsx", paid_run, "Botkyrka", 800_000)
    before = folder_state(paid_run)
    status, out, err = cli("sammanstall", paid_run, tmp_path / "inkomna", "--idag", "2021-02-15")
    assert status == 2, out
    assert ("templates/sammanstallning.docx: Använt för Vaxholm, som inte har redovisat, är tomt i arbetsboken men "
            "skrivs ut av taggen {{ r.anvant|tal }}.") in err
    assert folder_state(paid_run) == before
    assert not (paid_run / "sammanstallning").exists()
    assert not [p for p in paid_run.iterdir() if p.name.startswith(".sammanstallning")]


def test_an_open_ledger_or_an_open_form_stops_everything(cli, paid_run, tmp_path):
    forms = tmp_path / "inkomna"
    reporting_form(forms / "Botkyrka.xlsx", paid_run, "Botkyrka", 800_000)
    (forms / "~$Botkyrka.xlsx").write_bytes(b"\x00" * 165)
    before = folder_state(paid_run)
    status, _, err = cli("sammanstall", paid_run, forms, "--idag", "2021-02-15")
    assert status == 2
    assert "~$Botkyrka.xlsx: är en låsfil: en blankett i mappen är öppen i Excel eller LibreOffice." in err
    (forms / "~$Botkyrka.xlsx").unlink()
    (paid_run / ".~lock.uppfoljning.xlsx#").write_text("lås", encoding="utf-8")
    status, _, err = cli("sammanstall", paid_run, forms, "--idag", "2021-02-15")
    assert status == 2 and "uppfoljning.xlsx: filen är öppen i Excel eller LibreOffice" in err
    (paid_run / ".~lock.uppfoljning.xlsx#").unlink()
    assert folder_state(paid_run) == before


def test_forms_no_folder_and_an_empty_folder_are_told(cli, paid_run, tmp_path):
    status, _, err = cli("sammanstall", paid_run, tmp_path / "finns-inte")
    assert status == 2 and "mappen finns inte" in err
    (tmp_path / "tom").mkdir()
    status, _, err = cli("sammanstall", paid_run, tmp_path / "tom")
    assert status == 2 and "mappen är tom" in err
    one = reporting_form(tmp_path / "Vaxholm.xlsx", paid_run, "Vaxholm", 900_000)
    status, out, err = cli("sammanstall", paid_run, one, "--idag", "2021-02-15")
    assert status == 2 and out == ""
    assert (f"  {one}: är en fil, inte en mapp. Lägg de inkomna redovisningsblanketterna i en mapp och ange mappen: "
            f"processor sammanstall KÖRMAPP MAPP") in err


def test_the_repayment_date_is_the_field_or_31_march_after_the_year(followup_run):
    case = open_case_folder(followup_run).case
    assert repayment_deadline(case, dt.date(2021, 2, 1)) == dt.date(2021, 3, 31)
    fields = dict(case.info.fields)
    fields.pop("År")
    fields.pop("Datum")
    undated = type(case)(type(case.info)(**{**vars(case.info), "fields": fields}), case.recipients, case.posts)
    assert repayment_deadline(undated, dt.date(2021, 4, 2)) == dt.date(2022, 3, 31)
    fields["Återbetalning senast"] = dt.date(2021, 4, 30)
    dated = type(case)(type(case.info)(**{**vars(case.info), "fields": fields}), case.recipients, case.posts)
    assert repayment_deadline(dated, dt.date(2021, 2, 1)) == dt.date(2021, 4, 30)


def test_the_template_guide_documents_every_name_the_compilation_and_the_letter_see():
    names = documented_names("## Sammanställningen och återbetalningsbrevet")
    top = {n.split(".")[0] for n in names} - {"r", "f", "s"}  # the loop variables of rader, fragor and f.svar
    assert top == set(COMPILATION_SHAPE.names) | set(REPAYMENT_SHAPE.names)
    for prefix, shape in (("summa", TOTALS_SHAPE), ("r", ROW_SHAPE), ("f", QUESTION_SHAPE), ("s", ANSWER_SHAPE)):
        assert {n.split(".")[1] for n in names if n.startswith(prefix + ".")} == set(shape.names), prefix
    assert "arende.<falt>" in names and CASE_SHAPE.open


def soffice_saved(program: str, form: Path, folder: Path) -> Path:
    """The form opened and saved again as .xlsx by LibreOffice, as a recipient's office suite would."""
    scratch = folder.parent / f"lo-{form.stem}"
    done = subprocess.run([program, f"-env:UserInstallation={(folder.parent / 'lo-profil').as_uri()}", "--headless",
                           "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(scratch), str(form)],
                          capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr
    saved = folder / form.name
    folder.mkdir(exist_ok=True)
    shutil.move(scratch / form.name, saved)
    return saved


def test_forms_saved_by_libreoffice_are_read_and_the_report_renders_to_pdf_and_png(cli, paid_run, tmp_path):
    program = require_program("soffice", "libreoffice", install="Debian: libreoffice-calc-nogui libreoffice-writer-nogui")
    pdftoppm = require_program("pdftoppm", install="Debian: poppler-utils")
    filled = tmp_path / "ifyllda"
    forms = tmp_path / "inkomna"
    for name, used in (("Vaxholm", 640_000), ("Botkyrka", 900_000), ("Norrtälje", 899_999)):
        soffice_saved(program, reporting_form(filled / f"{name}.xlsx", paid_run, name, used), forms)
    with zipfile.ZipFile(forms / "Vaxholm.xlsx") as package:
        assert "LibreOffice" in package.read("docProps/app.xml").decode("utf-8")
    status, out, err = cli("sammanstall", paid_run, forms, "--idag", "2021-02-15")
    assert status == 0, err
    assert "att återbetala 260 001 kr (2 återbetalningsbrev)" in out
    compiled = paid_run / "sammanstallning" / "20210215"
    subprocess.run([program, f"-env:UserInstallation={(tmp_path / 'lo-profil').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(compiled / "sammanstallning.docx")],
                   capture_output=True, timeout=180, check=True)
    pdf = tmp_path / "pdf" / "sammanstallning.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run([pdftoppm, "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "pdf" / "sida")],
                   check=True, timeout=120)
    page = next((tmp_path / "pdf").glob("sida*.png"))
    assert page.read_bytes().startswith(b"\x89PNG") and page.stat().st_size > 5_000


def test_aterbetalning_senast_from_the_workbook_is_kept_and_quoted_in_the_letters(cli, tmp_path):
    from conftest import FOLLOWUP_CASE, FOLLOWUP_RECIPIENTS, build_workbook
    from processor.pipeline import run

    source = build_workbook(tmp_path / "sthlm.xlsx", case=[*FOLLOWUP_CASE, ("Återbetalning senast", "2021-04-30")],
                            recipients=FOLLOWUP_RECIPIENTS)
    run_dir = run(source, tmp_path / "ut", now=dt.datetime(2020, 6, 1, 10, 0)).run_dir
    assert json.loads((run_dir / "fordelning.json").read_text(encoding="utf-8"))["case"]["Återbetalning senast"] == \
        "2021-04-30"
    pay(run_dir, {"Vaxholm": PAID})
    reporting_form(tmp_path / "inkomna" / "Vaxholm.xlsx", run_dir, "Vaxholm", 899_000)
    assert cli("sammanstall", run_dir, tmp_path / "inkomna", "--idag", "2021-02-15")[0] == 0
    letter = words(run_dir / "sammanstallning" / "20210215" / "aterbetalning" / "Vaxholm.docx")
    assert "Betala tillbaka 1 000 kr senast den 30 april 2021." in letter

    broken = build_workbook(tmp_path / "fel.xlsx", case=[*FOLLOWUP_CASE, ("Återbetalning senast", "sista mars")],
                            recipients=FOLLOWUP_RECIPIENTS)
    status, _, err = cli("validate", broken)
    assert status == 2 and '"sista mars" är inget datum (Återbetalning senast).' in err
