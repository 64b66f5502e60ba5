"""The Storsthlm 2020 case at full size, from the letters to "everyone has invoiced" (issue 12's done-when), two
municipalities declining after the letters (issue 13's), and after payment from the reporting forms to the compiled
report and the repayment letters (issue 14's).

26 municipalities get the amounts Storsthlm published (the key is the published amount itself, so the
split reproduces the table to the krona; its rows sum to 67 999 998 kr). 24 invoice through the finance
system's e-invoices, one after a reminder, and one invoice is typed into the ledger by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from email import policy
from email.parser import BytesParser
from pathlib import Path

from openpyxl import load_workbook

from conftest import build_workbook, docx_text
from processor.pipeline import run
from processor.reporting_form import FORM_SHEET, USED_LABEL, label_key, sheet_label_rows
from test_send import send_args, server  # noqa: F401  (the real SMTP server fixture)

PEPPOL = Path(__file__).parent / "data" / "peppol"
PUBLISHED = [
    ("Botkyrka", 2_959_680), ("Danderyd", 1_105_129), ("Ekerö", 793_010), ("Haninge", 2_502_386),
    ("Huddinge", 3_273_273), ("Järfälla", 2_476_418), ("Lidingö", 2_327_355), ("Nacka", 3_622_283),
    ("Norrtälje", 6_113_359), ("Nykvarn", 341_889), ("Nynäshamn", 988_111), ("Salem", 578_851),
    ("Sigtuna", 1_742_947), ("Sollentuna", 2_195_048), ("Solna", 2_574_820), ("Stockholm", 19_143_880),
    ("Sundbyberg", 1_679_203), ("Södertälje", 3_274_746), ("Tyresö", 1_710_684), ("Täby", 2_487_366),
    ("Upplands Väsby", 1_186_621), ("Upplands-Bro", 850_417), ("Vallentuna", 1_026_715), ("Vaxholm", 376_175),
    ("Värmdö", 1_238_534), ("Österåker", 1_431_098),
]
CASE = [
    ("Rubrik", "Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020"),
    ("Medel att fördela", sum(amount for _, amount in PUBLISHED)),
    ("Nyckel", "Belopp enligt PM"),
    ("År", 2020),
    ("Diarienummer", "Storsthlm 2020/45"),
    ("Datum", dt.date(2020, 6, 1)),
    ("Sista dag", dt.date(2020, 8, 30)),
    ("Fakturaadress", "Storsthlm, Box 38145, 100 64 Stockholm"),
    ("Fakturareferens", "781"),
    ("Handläggare", "Eva Lind"),
    ("E-post", "kansli@storsthlm.example"),
]
TYPED_BY_HAND = "Stockholm"
REMINDED = "Värmdö"


def municipality_invoice(folder: Path, number: int, name: str, amount: int) -> Path:
    """The shipped Vaxholm test invoice made out by another municipality, for its whole amount."""
    text = (PEPPOL / "vaxholm-faktura.xml").read_text(encoding="utf-8")
    for old, new in (("VX-2020-0412", f"SH-2020-{number:04d}"), ("Vaxholms stad", f"{name} kommun"),
                     ("2120000035", "2120009999"), ("413522.00", f"{amount}.00")):
        assert old in text
        text = text.replace(old, new)
    path = folder / f"faktura-{number:02d}.xml"
    path.write_text(text, encoding="utf-8")
    return path


def standing(cli, run_dir: Path, today: str) -> dict:
    status, out, err = cli("status", run_dir, "--json", "--idag", today)
    assert status == 0, err
    return json.loads(out)


def test_the_storsthlm_case_runs_from_the_letters_to_everyone_has_invoiced(cli, tmp_path):
    recipients = [("Mottagare", "E-post", "Belopp enligt PM")] + [
        (name, f"registrator@{i:02d}.kommun.example", amount) for i, (name, amount) in enumerate(PUBLISHED)]
    workbook = build_workbook(tmp_path / "storsthlm_2020.xlsx", case=CASE, recipients=recipients)
    run_dir = run(workbook, tmp_path / "ut", now=dt.datetime(2020, 6, 1, 10, 0)).run_dir
    result = json.loads((run_dir / "fordelning.json").read_text(encoding="utf-8"))
    assert [(r["name"], r["total"]) for r in result["recipients"]] == PUBLISHED
    assert len(list((run_dir / "brev").glob("*.docx"))) == 26 == len(list((run_dir / "utskick").glob("*.eml")))

    folder = tmp_path / "fakturor"
    folder.mkdir()
    for number, (name, amount) in enumerate(PUBLISHED, start=1):
        if name not in (TYPED_BY_HAND, REMINDED):
            municipality_invoice(folder, number, name, amount)
    status, out, err = cli("faktura", run_dir, folder, "--idag", "2020-08-20")
    assert status == 0, err
    assert out.count(": införd: ") == 24
    assert standing(cli, run_dir, "2020-08-20")["counts"]["Rekvirerat"] == 24

    status, out, err = cli("paminn", run_dir, "--idag", "2020-09-01")
    assert status == 0, err
    reminders = sorted(p.stem for p in (run_dir / "paminnelser").glob("*/utskick/*.eml"))
    assert reminders == sorted([TYPED_BY_HAND, REMINDED])
    late = standing(cli, run_dir, "2020-09-01")
    assert late["counts"]["Försenad"] == 2 and late["totals"]["requested"] == late["totals"]["allocated"] - 19_143_880 - 1_238_534

    reminded = tmp_path / "efter-paminnelse"
    reminded.mkdir()
    municipality_invoice(reminded, 25, REMINDED, dict(PUBLISHED)[REMINDED])
    assert cli("faktura", run_dir, reminded, "--idag", "2020-09-03")[0] == 0
    book = load_workbook(run_dir / "uppfoljning.xlsx")
    sheet = book["Uppföljning"]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == TYPED_BY_HAND)
    row[header.index("Rekvirerat")].value = 19_143_880
    row[header.index("Fakturadatum")].value = dt.date(2020, 9, 4)
    row[header.index("Fakturanummer")].value = "STHLM-88812"
    row[header.index("Anteckning")].value = "Fakturan kom på papper; inlagd för hand"
    book.save(run_dir / "uppfoljning.xlsx")

    final = standing(cli, run_dir, "2020-09-10")
    assert final["counts"]["Rekvirerat"] == 26 and final["counts"]["Försenad"] == final["counts"]["Väntar"] == 0
    assert final["totals"]["requested"] == final["totals"]["allocated"] == 67_999_998
    assert cli("faktura", run_dir, folder, reminded, "--idag", "2020-09-10")[1].count(": redan införd") == 25
    typed = next(r for r in load_workbook(run_dir / "uppfoljning.xlsx")["Uppföljning"].iter_rows(min_row=2)
                 if r[0].value == TYPED_BY_HAND)
    assert typed[header.index("Anteckning")].value == "Fakturan kom på papper; inlagd för hand"
    assert typed[header.index("Fakturanummer")].value == "STHLM-88812"


DECLINING = ("Nykvarn", "Vaxholm")


def test_two_municipalities_decline_after_the_letters_and_one_command_shares_their_money(cli, tmp_path):
    """Issue 13's done-when: the amended decision, a letter and an e-mail to everyone who gains (24: all who stay,
    since each of them has a share of the 718 064 kr freed), each with its own previous amount, addition and new
    total, and a ledger that still holds every invoice already recorded; the sums exact."""
    recipients = [("Mottagare", "E-post", "Belopp enligt PM")] + [
        (name, f"registrator@{i:02d}.kommun.example", amount) for i, (name, amount) in enumerate(PUBLISHED)]
    workbook = build_workbook(tmp_path / "storsthlm_2020.xlsx", case=CASE, recipients=recipients)
    run_dir = run(workbook, tmp_path / "ut", now=dt.datetime(2020, 6, 1, 10, 0)).run_dir
    folder = tmp_path / "fakturor"
    folder.mkdir()
    invoiced = [(n, name, amount) for n, (name, amount) in enumerate(PUBLISHED, start=1) if name not in DECLINING][:20]
    for number, name, amount in invoiced:
        municipality_invoice(folder, number, name, amount)
    assert cli("faktura", run_dir, folder, "--idag", "2020-08-20")[0] == 0
    book = load_workbook(run_dir / "uppfoljning.xlsx")
    sheet = book["Uppföljning"]
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in DECLINING:
            row[header.index("Avstår")].value = "Ja"
            row[header.index("Anteckning")].value = "Avstår enligt e-post 2020-08-25"
    book.save(run_dir / "uppfoljning.xlsx")

    status, out, err = cli("omfordela", run_dir, "--idag", "2020-09-01")
    assert status == 0, err
    second = Path(out.strip().splitlines()[-1])
    result = json.loads((second / "fordelning.json").read_text(encoding="utf-8"))
    recipients = result["recipients"]
    freed = dict(PUBLISHED)["Nykvarn"] + dict(PUBLISHED)["Vaxholm"]
    assert freed == 718_064
    assert sum(r["addition"] for r in recipients) == freed and result["unallocated"] == 0
    assert sum(r["total"] for r in recipients) == result["total"] == 67_999_998
    assert all(r["total"] == r["previous_total"] + r["addition"] for r in recipients if r["name"] not in DECLINING)
    assert [r["previous_total"] for r in recipients] == [amount for _, amount in PUBLISHED]
    gainers = [r for r in recipients if r["addition"] > 0]
    assert len(gainers) == 24 and {r["name"] for r in recipients if r["addition"] == 0} == set(DECLINING)
    assert len(list((second / "brev").glob("*.docx"))) == 24 == len(list((second / "utskick").glob("*.eml")))
    for r in gainers:
        letter = docx_text(second / "brev" / f"{r['name']}.docx").replace("\u00a0", " ").replace("\u202f", " ")
        assert (f"Tidigare tilldelat\n{grouped(r['previous_total'])} kr\nTillägg\n{grouped(r['addition'])} kr\n"
                f"Nytt belopp\n{grouped(r['total'])} kr") in letter
    decision = docx_text(second / "tillaggsbeslut.docx").replace("\u00a0", " ").replace("\u202f", " ")
    assert "Nykvarn: 341 889 kr (avstår)" in decision and "Vaxholm: 376 175 kr (avstår)" in decision
    assert "Sammanlagt frigörs 718 064 kr." in decision

    ledger = {row[0].value: row for row in load_workbook(second / "uppfoljning.xlsx")["Uppföljning"].iter_rows(min_row=2)}
    for invoice, name, amount in invoiced:
        assert ledger[name][header.index("Rekvirerat")].value == amount
        assert ledger[name][header.index("Fakturanummer")].value == f"SH-2020-{invoice:04d}"
    for name in DECLINING:
        assert ledger[name][header.index("Avstår")].value == "Ja" and ledger[name][header.index("Tilldelat")].value == 0
        assert ledger[name][header.index("Anteckning")].value == "Avstår enligt e-post 2020-08-25"
    assert [ledger[r["name"]][header.index("Tilldelat")].value for r in recipients] == [r["total"] for r in recipients]


def grouped(value: int) -> str:
    return f"{value:,}".replace(",", " ")


NOT_REPORTED = ("Salem", "Nykvarn")


def used_by(name: str, paid: int) -> int:
    """What each municipality reports as used: most all of it, some a part (an amount that is no round figure)."""
    index = [n for n, _ in PUBLISHED].index(name)
    return paid if index % 3 else paid - 1_000 * index - 7


def test_after_payment_one_command_sends_the_forms_and_one_compiles_the_returned_ones(cli, tmp_path, server):  # noqa: F811
    recipients = [("Mottagare", "E-post", "Belopp enligt PM")] + [
        (name, f"registrator@{i:02d}.kommun.example", amount) for i, (name, amount) in enumerate(PUBLISHED)]
    workbook = build_workbook(tmp_path / "storsthlm_2020.xlsx", case=CASE, recipients=recipients)
    run_dir = run(workbook, tmp_path / "ut", now=dt.datetime(2020, 6, 1, 10, 0)).run_dir
    book = load_workbook(run_dir / "uppfoljning.xlsx")
    sheet = book["Uppföljning"]
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        amount = dict(PUBLISHED)[row[0].value]
        for column, value in (("Rekvirerat", amount), ("Utbetalt", amount), ("Utbetalningsdag", dt.date(2020, 9, 30))):
            row[header.index(column)].value = value
    book.save(run_dir / "uppfoljning.xlsx")

    status, out, err = cli("redovisning", run_dir, "--idag", "2021-01-11")
    assert status == 0, err
    round_dir = run_dir / "redovisning" / "20210111"
    assert cli(*send_args(round_dir, server, "--yes"))[0] == 0
    assert len(server.received) == 26

    returned = tmp_path / "inkomna blanketter"
    returned.mkdir()
    for content in (content for _, _, content in server.received):
        message = BytesParser(policy=policy.default).parsebytes(content)
        attachment = next(part for part in message.iter_attachments() if part.get_filename().endswith(".xlsx"))
        name = attachment.get_filename().removesuffix(".xlsx")
        if name in NOT_REPORTED:
            continue
        saved = returned / f"Redovisning {name} 2020.xlsx"
        saved.write_bytes(attachment.get_content())
        form = load_workbook(saved)
        rows = sheet_label_rows(form[FORM_SHEET])
        form[FORM_SHEET].cell(rows[label_key(USED_LABEL)], 2).value = used_by(name, dict(PUBLISHED)[name])
        form.save(saved)

    status, out, err = cli("sammanstall", run_dir, returned, "--idag", "2021-03-01")
    assert status == 0, err
    paid = {name: amount for name, amount in PUBLISHED}
    reported = {name: used_by(name, amount) for name, amount in PUBLISHED if name not in NOT_REPORTED}
    used, to_repay = sum(reported.values()), sum(paid[n] - u for n, u in reported.items())
    unreported = sum(paid[n] for n in NOT_REPORTED)
    assert used + to_repay + unreported == sum(paid.values()) == 67_999_998
    kr = lambda amount: f"{amount:,} kr".replace(",", " ")  # noqa: E731
    assert (f"Redovisat: 24 mottagare. Utbetalt {kr(67_999_998)}, använt {kr(used)}, att återbetala {kr(to_repay)} "
            f"(8 återbetalningsbrev).") in out
    assert f"Har inte redovisat ({kr(unreported)} utbetalt): Nykvarn, Salem." in out

    compiled = run_dir / "sammanstallning" / "20210301"
    letters = sorted(p.stem for p in (compiled / "aterbetalning").glob("*.docx"))
    assert letters == sorted(n for n, u in reported.items() if u < paid[n])
    for name in letters:
        text = docx_text(compiled / "aterbetalning" / f"{name}.docx").replace("\u00a0", " ")
        assert f"Att återbetala: {kr(paid[name] - reported[name])}" in text and "senast den 31 mars 2021" in text
    table = {row[0].value: [c.value for c in row[1:5]]
             for row in load_workbook(compiled / "sammanstallning.xlsx")["Sammanställning"].iter_rows(min_row=4)}
    assert table["Totalt"] == [67_999_998, 67_999_998, used, to_repay]
    assert table["Salem"] == [578_851, 578_851, None, None]
    ledger = {row[0].value: (row[header.index("Använt")].value, row[header.index("Redovisat")].value)
              for row in load_workbook(run_dir / "uppfoljning.xlsx")["Uppföljning"].iter_rows(min_row=2)}
    assert {n: u for n, (u, _) in ledger.items() if u is not None} == reported
    assert {d for n, (_, d) in ledger.items() if n in reported} == {dt.datetime(2021, 3, 1)}
    status, out, err = cli("status", run_dir, "--json", "--idag", "2021-03-01")
    assert json.loads(out)["counts"]["Redovisat"] == 24 and json.loads(out)["totals"]["used"] == used
