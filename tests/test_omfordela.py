"""processor omfordela: the money recipients decline shared again, exactly, in a new folder beside the run.

The case: 1 000 000 kr, a fixed 100 000 kr to Vaxholm ("Samordning") and 900 000 kr by population
("Utveckling") among four municipalities of 10 000, 40 000, 20 000 and 30 000 inhabitants, so the first round
gives 90 000, 360 000, 180 000 and 270 000 kr. Botkyrka's 360 000 kr shared by the others' populations
(10 : 20 : 30) is 60 000, 120 000 and 180 000 kr; then Vaxholm's 150 000 kr of Utveckling is 60 000 and
90 000 kr to Ekerö and Norrtälje, and its fixed 100 000 kr has nobody left in its post.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import unicodedata
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import ROOT, build_workbook, documented_names, docx_text, edit_ledger, sha256
from processor.context import CASE_SHAPE
from processor.pipeline import run
from processor.second_round import (ADDITION_SHAPE, DECLINER_SHAPE, ROUND_POST_SHAPE, ROUND_ROW_SHAPE, ROUND_SHAPE,
                                    ROUND_TEMPLATES)
from test_send import send_args, server  # noqa: F401  (the real SMTP server fixture)

CASE = [
    ("Rubrik", "Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020"),
    ("Medel att fördela", 1_000_000),
    ("År", 2020),
    ("Diarienummer", "Storsthlm 2020/45"),
    ("Datum", dt.date(2020, 6, 1)),
    ("Sista dag", dt.date(2020, 8, 30)),
    ("Fakturareferens", "781"),
    ("Fakturaadress", "Storsthlm, Box 1, 111 11 Stockholm"),
    ("Avsändare", "Storsthlm"),
    ("Handläggare", "Eva Lind"),
    ("E-post", "kansli@storsthlm.example"),
]
RECIPIENTS = [
    ("Mottagare", "E-post", "Deltar", "Befolkning"),
    ("Vaxholm", "registrator@vaxholm.example", "Ja", 10_000),
    ("Botkyrka", "registrator@botkyrka.example", "Ja", 40_000),
    ("Ekerö", "registrator@ekero.example", "Ja", 20_000),
    ("Norrtälje", "registrator@norrtalje.example", "Ja", 30_000),
    ("Salem", "registrator@salem.example", "Nej", 15_000),
]
POSTS = [
    ("Post", "Belopp", "Metod", "Nyckel", "Mottagare"),
    ("Samordning", 100_000, "fast", None, "Vaxholm"),
    ("Utveckling", "rest", "nyckel", "Befolkning", "alla"),
]
ROW = {"Vaxholm": 2, "Botkyrka": 3, "Ekerö": 4, "Norrtälje": 5, "Salem": 6}
"""Each recipient's row in the ledger."""


def first_round(tmp_path: Path, case: list = CASE, posts: list = POSTS) -> Path:
    """The first round of the module's recipients, run on 1 June 2020 into ``tmp_path / "ut"``."""
    source = build_workbook(tmp_path / "storsthlm_2020.xlsx", case=case, recipients=RECIPIENTS, posts=posts)
    return run(source, tmp_path / "ut", now=dt.datetime(2020, 6, 1, 10, 0)).run_dir


@pytest.fixture
def first(tmp_path: Path) -> Path:
    return first_round(tmp_path)


def checksums(folder: Path) -> dict[str, str | None]:
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def result(folder: Path) -> dict:
    return json.loads((folder / "fordelning.json").read_text(encoding="utf-8"))


def new_folder(out: str) -> Path:
    return Path(out.strip().splitlines()[-1])


def ledger_rows(folder: Path) -> dict[str, dict[str, object]]:
    sheet = load_workbook(folder / "uppfoljning.xlsx")["Uppföljning"]
    header = [c.value for c in sheet[1]]
    return {row[0]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}


def body_of(path: Path) -> str:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    return re.sub(r"[\u00a0\u202f]", " ", message.get_body(("plain",)).get_content().replace("\r\n", "\n"))


def plain(text: str) -> str:
    return unicodedata.normalize("NFC", re.sub(r"[\u00a0\u202f]", " ", text))


def assert_exact(document: dict, total: int = 1_000_000) -> None:
    """Every post is its recipients' sum; the totals plus what stays unallocated are the case's total."""
    recipients = document["recipients"]
    for post in document["posts"]:
        assert sum(r["amounts"].get(post["name"], 0) for r in recipients) == post["amount"]
    assert all(sum(r["amounts"].values()) == r["total"] for r in recipients)
    assert sum(r["total"] for r in recipients) + document["unallocated"] == document["total"] == total
    assert all(r["total"] == r["previous_total"] + r["addition"] for r in recipients if "declined_round" not in r)


def second(cli, first: Path) -> Path:
    """Botkyrka declines; Vaxholm has invoiced its whole amount and a note is typed beside it. The first folder,
    its ledger included, is not changed by the round."""
    edit_ledger(first, {f"C{ROW['Botkyrka']}": "Ja", f"D{ROW['Vaxholm']}": 190_000, f"E{ROW['Vaxholm']}": dt.date(2020, 8, 1),
                 f"F{ROW['Vaxholm']}": "VX-12", f"K{ROW['Vaxholm']}": "Betalas i september"})
    before = checksums(first)
    status, out, err = cli("omfordela", first, "--idag", "2020-09-01")
    assert status == 0, err
    assert checksums(first) == before
    return new_folder(out)


def test_the_second_round_shares_what_botkyrka_declines_by_the_first_rounds_shares(cli, first):
    folder = second(cli, first)
    assert folder.parent == first.parent and re.fullmatch(r"storsthlm_2020_omfordelning_\d{8}-\d{6}", folder.name)
    document = result(folder)
    assert document["round"] == 2 and document["case_id"] == result(first)["case_id"]
    assert document["previous"] == {"folder": first.name, "manifest_sha256": sha256(first / "manifest.json")}
    totals = {r["name"]: (r["previous_total"], r["addition"], r["total"]) for r in document["recipients"]}
    assert totals == {"Vaxholm": (190_000, 60_000, 250_000), "Botkyrka": (360_000, 0, 0),
                      "Ekerö": (180_000, 120_000, 300_000), "Norrtälje": (270_000, 180_000, 450_000),
                      "Salem": (0, 0, 0)}
    assert [r.get("declined_round") for r in document["recipients"]] == [None, 2, None, None, None]
    assert document["unallocated"] == 0
    assert_exact(document)


def test_the_appendix_has_the_previous_amount_the_addition_and_the_new_amount(cli, first):
    folder = second(cli, first)
    sheet = load_workbook(folder / "fordelning.xlsx")["Bilaga 1"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = next(r for r in rows if r[0] == "Mottagare")
    assert header[-4:] == ["Tidigare", "Tillägg", "Nytt belopp", "Anmärkning"]
    table = {r[0]: r for r in rows[rows.index(header) + 1:] if r[0]}
    at = {name: header.index(name) for name in ("Tidigare", "Tillägg", "Nytt belopp", "Anmärkning")}
    assert [table["Ekerö"][at[c]] for c in ("Tidigare", "Tillägg", "Nytt belopp")] == [180_000, 120_000, 300_000]
    assert table["Botkyrka"][at["Anmärkning"]] == "Avstår"
    assert [table["Totalt"][at[c]] for c in ("Tidigare", "Tillägg", "Nytt belopp")] == [1_000_000, 360_000, 1_000_000]


def test_the_amended_decision_says_who_declined_the_money_freed_the_rule_and_the_new_table(cli, first):
    text = plain(docx_text(second(cli, first) / "tillaggsbeslut.docx"))
    assert "Tilläggsbeslut" in text and "Dnr Storsthlm 2020/45" in text
    assert "Botkyrka: 360 000 kr (avstår)" in text
    assert "Sammanlagt frigörs 360 000 kr." in text
    assert "i proportion till deras exakta andelar i den första fördelningen" in text
    assert ("Utveckling: 360 000 kr frigörs och fördelas på de kvarvarande mottagarna i posten efter andel av "
            "befolkning, som i den första fördelningen.") in text
    assert ("Nämnden godkänner att 360 000 kr av de medel som Botkyrka avstår fördelas på övriga mottagare enligt "
            "bilaga 1, så att den nya fördelningen blir 1,0 mnkr.") in text
    assert "Ekerö\n180 000\n120 000\n300 000" in text
    assert "Ej fördelat" not in text


def test_letters_and_e_mails_go_only_to_those_who_gain(cli, first):
    folder = second(cli, first)
    gainers = ["Ekerö.docx", "Norrtälje.docx", "Vaxholm.docx"]
    assert sorted(p.name for p in (folder / "brev").iterdir()) == gainers
    assert sorted(p.name for p in (folder / "utskick").iterdir()) == [n.replace(".docx", ".eml") for n in gainers]
    letter = plain(docx_text(folder / "brev" / "Norrtälje.docx"))
    assert "Tidigare tilldelat\n270 000 kr\nTillägg\n180 000 kr\nNytt belopp\n450 000 kr" in letter
    assert "skickar ni en faktura på 180 000 kr" in letter
    assert "diarienummer Storsthlm 2020/45, och märk fakturan med referens 781" in letter
    message = BytesParser(policy=policy.default).parsebytes((folder / "utskick" / "Norrtälje.eml").read_bytes())
    assert message["Subject"] == "Tillägg: Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020 – Norrtälje"
    assert message["To"] == "registrator@norrtalje.example"
    assert sorted(part.get_filename() for part in message.iter_attachments()) == ["Bilaga 1 fördelning.xlsx",
                                                                                   "Norrtälje.docx"]
    body = body_of(folder / "utskick" / "Norrtälje.eml")
    assert "Norrtälje får ett tillägg på 180 000 kr: det tidigare beloppet 270 000 kr blir 450 000 kr." in body
    assert "Ange diarienummer Storsthlm 2020/45 och referensen 781 på fakturan." in body


def test_the_ledger_is_carried_over_with_every_entry_and_the_new_amounts(cli, first):
    folder = second(cli, first)
    rows = ledger_rows(folder)
    assert rows["Vaxholm"]["Tilldelat"] == 250_000 and rows["Vaxholm"]["Rekvirerat"] == 190_000
    assert rows["Vaxholm"]["Fakturanummer"] == "VX-12" and rows["Vaxholm"]["Anteckning"] == "Betalas i september"
    assert rows["Vaxholm"]["Fakturadatum"] == dt.datetime(2020, 8, 1)
    assert (rows["Botkyrka"]["Tilldelat"], rows["Botkyrka"]["Avstår"]) == (0, "Ja")
    assert (rows["Salem"]["Tilldelat"], rows["Salem"]["Avstår"]) == (0, "Ja")
    assert rows["Norrtälje"]["Tilldelat"] == 450_000
    assert not (folder / "uppfoljning.föregående.xlsx").exists()
    status, out, err = cli("status", folder, "--json", "--idag", "2020-09-02")
    assert status == 0, err
    assert json.loads(out)["totals"]["allocated"] == 1_000_000


def test_the_report_and_the_manifest_list_the_rounds_files(cli, first):
    folder = second(cli, first)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input"] == {"file": first.name, "sha256": sha256(first / "manifest.json")}
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert listed["tillaggsbeslut.docx"] == sha256(folder / "tillaggsbeslut.docx")
    assert listed["uppfoljning.xlsx"] is None and "brev/Botkyrka.docx" not in listed
    page = plain((folder / "rapport.html").read_text(encoding="utf-8"))
    assert "Tilläggsbeslut (Word)" in page and "Tidigare" in page and "Nytt belopp" in page
    assert "inte ihop" not in page and "Kontroll: varje post och totalen stämmer exakt" in page


def test_a_third_round_keeps_the_first_rounds_shares_and_leaves_a_fixed_post_unallocated(cli, first):
    folder = second(cli, first)
    before = checksums(folder)
    edit_ledger(folder, {f"C{ROW['Vaxholm']}": "Ja", f"D{ROW['Vaxholm']}": None, f"E{ROW['Vaxholm']}": None,
                  f"F{ROW['Vaxholm']}": None})
    before = {**before, "uppfoljning.xlsx": sha256(folder / "uppfoljning.xlsx")}
    status, out, err = cli("omfordela", folder, "--idag", "2020-09-15")
    assert status == 0, err
    third = new_folder(out)
    assert third.parent == folder.parent and third.name.startswith("storsthlm_2020_omfordelning_")
    document = result(third)
    assert document["round"] == 3 and document["previous"]["folder"] == folder.name
    totals = {r["name"]: (r["previous_total"], r["addition"], r["total"]) for r in document["recipients"]}
    assert totals["Ekerö"] == (300_000, 60_000, 360_000) and totals["Norrtälje"] == (450_000, 90_000, 540_000)
    assert [r.get("declined_round") for r in document["recipients"]] == [3, 2, None, None, None]
    assert document["unallocated"] == 100_000
    assert_exact(document)
    assert "Ej fördelat: 100 000 kr, att betala tillbaka till den som beviljade medlen." in out
    text = plain(docx_text(third / "tillaggsbeslut.docx"))
    assert "Vaxholm: 250 000 kr (avstår)" in text
    assert "Sedan den förra omfördelningen har 1 mottagare avstått sina medel, sammanlagt 250 000 kr." in text
    assert "Ej fördelat: 100 000 kr. Beloppet ska betalas tillbaka till den som beviljade medlen." in text
    assert "Nämnden beslutar att 100 000 kr som ingen mottagare kan ta emot inte fördelas" in text
    assert sorted(p.name for p in (third / "brev").iterdir()) == ["Ekerö.docx", "Norrtälje.docx"]
    assert checksums(folder) == before


def test_a_folder_from_before_bases_and_case_id_were_kept_is_read_with_its_reports_bases(cli, first):
    older = result(first)
    del older["case_id"]
    for recipient in older["recipients"]:
        recipient.pop("bases", None)
    (first / "fordelning.json").write_text(json.dumps(older, ensure_ascii=False, indent=2), encoding="utf-8")
    identity = sha256(first / "fordelning.json")
    folder = second(cli, first)
    document = result(folder)
    assert {r["name"]: r["total"] for r in document["recipients"]}["Norrtälje"] == 450_000
    assert document["case_id"] == identity
    assert document["recipients"][0]["bases"] == {"Befolkning": "10000"}


def test_status_on_the_newest_round_shows_the_whole_history(cli, first):
    folder = second(cli, first)
    edit_ledger(folder, {f"C{ROW['Vaxholm']}": "Ja", f"D{ROW['Vaxholm']}": None, f"E{ROW['Vaxholm']}": None,
                  f"F{ROW['Vaxholm']}": None})
    third = new_folder(cli("omfordela", folder, "--idag", "2020-09-15")[1])
    status, out, err = cli("status", third, "--idag", "2020-09-20")
    assert status == 0, err
    lines = out.splitlines()
    history = lines[lines.index("Omgångar:") + 1:]
    assert history == [
        f"  1. {first.name} (1 juni 2020): 1 000 000 kr fördelat.",
        f"  2. {folder.name} (1 september 2020): 360 000 kr frigjort (Botkyrka), 3 mottagare fick tillägg.",
        f"  3. {third.name} (15 september 2020): 250 000 kr frigjort (Vaxholm), 2 mottagare fick tillägg, "
        "100 000 kr ej fördelat."]
    document = json.loads(cli("status", third, "--json", "--idag", "2020-09-20")[1])
    assert [(r["round"], r["folder"], r["freed"], r["gained"], r["unallocated"]) for r in document["rounds"]] == [
        (1, first.name, 0, [], 0), (2, folder.name, 360_000, ["Vaxholm", "Ekerö", "Norrtälje"], 0),
        (3, third.name, 250_000, ["Ekerö", "Norrtälje"], 100_000)]
    page = plain((third / "status.html").read_text(encoding="utf-8"))
    assert "Omgångar" in page and folder.name in page and "360 000 kr" in page
    assert "rounds" not in json.loads(cli("status", first, "--json", "--idag", "2020-09-20")[1])


def test_a_previous_folder_that_is_gone_is_named_in_the_history(cli, first):
    folder = second(cli, first)
    first.rename(first.with_name("arkiverad"))
    status, out, err = cli("status", folder, "--idag", "2020-09-20")
    assert status == 0, err
    assert f"  1. {first.name}: mappen finns inte längre bredvid körmappen." in out.splitlines()


def test_with_till_the_pool_with_nobody_left_goes_to_the_named_post(cli, first):
    folder = second(cli, first)
    edit_ledger(folder, {f"C{ROW['Vaxholm']}": "Ja", f"D{ROW['Vaxholm']}": None, f"E{ROW['Vaxholm']}": None,
                  f"F{ROW['Vaxholm']}": None})
    status, out, err = cli("omfordela", folder, "--till", "utveckling", "--idag", "2020-09-15")
    assert status == 0, err
    document = result(new_folder(out))
    assert {r["name"]: r["total"] for r in document["recipients"]} == {"Vaxholm": 0, "Botkyrka": 0, "Ekerö": 400_000,
                                                                       "Norrtälje": 600_000, "Salem": 0}
    assert document["unallocated"] == 0
    assert_exact(document)
    text = plain(docx_text(new_folder(out) / "tillaggsbeslut.docx"))
    assert "posten tar emot 100 000 kr från poster där ingen mottagare finns kvar" in text


def test_ej_rekvirerat_after_the_deadline_frees_what_nobody_invoiced(cli, first):
    edit_ledger(first, {f"D{ROW[name]}": amount for name, amount in (("Vaxholm", 190_000), ("Ekerö", 180_000),
                                                                  ("Norrtälje", 100_000))})
    status, out, err = cli("omfordela", first, "--ej-rekvirerat", "--idag", "2020-09-01")
    assert status == 0, err
    assert "  Botkyrka har inte rekvirerat före sista dag: 360 000 kr frigörs." in out.splitlines()
    folder = new_folder(out)
    assert ledger_rows(folder)["Botkyrka"]["Avstår"] == "Ja"
    assert {r["name"]: r["addition"] for r in result(folder)["recipients"]}["Norrtälje"] == 180_000


def test_send_delivers_the_rounds_mail_exactly_once(cli, first, server):  # noqa: F811
    folder = second(cli, first)
    status, out, err = cli(*send_args(folder, server, "--yes"))
    assert status == 0, err
    assert sorted(server.count_by_recipient()) == ["registrator@ekero.example", "registrator@norrtalje.example",
                                                   "registrator@vaxholm.example"]
    status, out, err = cli(*send_args(folder, server, "--yes"))
    assert status == 0 and len(server.received) == 3
    assert "Inget att skicka" in out
    assert not (first / "utskick" / "skickat.jsonl").exists()


def test_rounds_of_a_case_with_areas_weighted_keys_equal_and_per_recipient_posts_stay_exact(cli, tmp_path):
    from test_golden import AREAS_CASE, AREAS_POSTS, AREAS_RECIPIENTS

    source = build_workbook(tmp_path / "omraden.xlsx", case=AREAS_CASE, recipients=AREAS_RECIPIENTS, posts=AREAS_POSTS)
    first = run(source, tmp_path / "ut", now=dt.datetime(2025, 3, 14, 9, 0)).run_dir
    total = result(first)["total"]
    rows = {name: n for n, (name, *_) in enumerate(AREAS_RECIPIENTS[1:], start=2)}
    edit_ledger(first, {f"C{rows['Botkyrka']}": "Ja", f"C{rows['Storsthlm kansli']}": "Ja"})
    status, out, err = cli("omfordela", first, "--idag", "2025-06-01")
    assert status == 0, err
    folder = new_folder(out)
    document = result(folder)
    assert document["unallocated"] == dict((r["name"], r["previous_total"]) for r in document["recipients"])[
        "Storsthlm kansli"]  # the fixed post's money has nobody left
    assert_exact(document, total)
    assert "Samordnare (250 000 kr): lika delar mellan 4 mottagare." in plain(docx_text(folder / "tillaggsbeslut.docx"))
    edit_ledger(folder, {f"C{rows['Danderyd']}": "Ja"})
    status, out, err = cli("omfordela", folder, "--idag", "2025-06-15")
    assert status == 0, err
    third = result(new_folder(out))
    assert_exact(third, total)
    assert third["unallocated"] == document["unallocated"]
    assert all(r["addition"] >= 0 for r in third["recipients"])


# --- bad input: a Swedish message with its place and the fix, exit 2, nothing written ------------------

def refused(cli, first: Path, *args: str) -> str:
    before = {p.name for p in first.parent.iterdir()}
    first_before = checksums(first)
    status, out, err = cli("omfordela", first, *args)
    assert status == 2, (out, err)
    assert "Traceback" not in err
    assert {p.name for p in first.parent.iterdir()} == before
    assert checksums(first) == first_before
    return plain(err)


def test_nothing_declined_is_refused(cli, first):
    err = refused(cli, first, "--idag", "2020-09-01")  # Salem takes no part (Deltar = Nej): 0 kr frees nothing
    assert err.startswith("Omfördelningen kan inte göras: 1 fel att rätta.")
    assert ("uppfoljning.xlsx Uppföljning: ingen avstår några pengar: ingen mottagare med pengar har Ja i kolumnen "
            "Avstår") in err
    assert err.rstrip().endswith("Skriv Ja i Avstår för varje mottagare som avstår, spara filen och kör igen.")


def test_ej_rekvirerat_before_the_deadline_is_refused(cli, first):
    err = refused(cli, first, "--ej-rekvirerat", "--idag", "2020-08-30")
    assert "--ej-rekvirerat: sista dag att rekvirera är 30 augusti 2020" in err
    assert "Vänta till efter sista dag" in err


def test_till_naming_no_post_says_which_was_meant(cli, first):
    edit_ledger(first, {f"C{ROW['Vaxholm']}": "Ja"})
    err = refused(cli, first, "--till", "Utvekling", "--idag", "2020-09-01")
    assert '--till: "Utvekling" är ingen post i ärendet. Menade du "Utveckling"?' in err
    assert "Samordning, Utveckling." in err


def test_till_naming_a_post_with_nobody_left_is_refused(cli, first):
    edit_ledger(first, {f"C{ROW['Vaxholm']}": "Ja"})
    err = refused(cli, first, "--till", "Samordning", "--idag", "2020-09-01")
    assert '--till: posten "Samordning" har ingen mottagare kvar som kan ta emot pengarna' in err


def test_a_declining_recipient_already_paid_is_a_contradiction_that_stops_the_round(cli, first):
    edit_ledger(first, {f"C{ROW['Ekerö']}": "Ja", f"D{ROW['Ekerö']}": 180_000, f"G{ROW['Ekerö']}": 180_000})
    err = refused(cli, first, "--idag", "2020-09-01")
    assert "uppfoljning.xlsx Uppföljning!C4: Ekerö avstår medlen men har rekvirerat 180 000 kr och utbetalt 180 000 kr" in err


def test_the_ledger_open_in_excel_is_refused(cli, first):
    edit_ledger(first, {f"C{ROW['Botkyrka']}": "Ja"})
    (first / "~$uppfoljning.xlsx").write_bytes(b"lock")
    err = refused(cli, first, "--idag", "2020-09-01")
    assert "uppfoljning.xlsx: filen är öppen i Excel eller LibreOffice" in err


def test_every_problem_is_told_at_once(cli, first):
    (first / "~$uppfoljning.xlsx").write_bytes(b"lock")
    err = refused(cli, first, "--ej-rekvirerat", "--till", "Sammordning", "--idag", "2020-08-01")
    assert err.startswith("Omfördelningen kan inte göras: 4 fel att rätta.")
    for start in ("  uppfoljning.xlsx: filen är öppen", "  --ej-rekvirerat: ", '  --till: "Sammordning" är ingen post',
                  "  uppfoljning.xlsx Uppföljning: ingen avstår"):
        assert any(line.startswith(start) for line in err.splitlines()), start


def test_a_folder_that_is_no_run_folder_is_refused(cli, tmp_path):
    status, out, err = cli("omfordela", tmp_path, "--idag", "2020-09-01")
    assert status == 2 and "mappen är ingen körmapp" in err


# --- templates ----------------------------------------------------------------------------------

def test_a_broken_round_template_stops_the_round_before_anything_is_written(cli, first, tmp_path, monkeypatch):
    edit_ledger(first, {f"C{ROW['Botkyrka']}": "Ja"})
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "tillagg-epost.txt").write_text("Hej {{ mottagare.namn }}, {{ tillag.tillagg }}\n",
                                                              encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    err = refused(cli, first, "--idag", "2020-09-01")
    assert "templates/tillagg-epost.txt" in err and "tillag" in err


def test_an_overriding_template_is_used(cli, first, tmp_path, monkeypatch):
    edit_ledger(first, {f"C{ROW['Botkyrka']}": "Ja"})
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "tillagg-epost.txt").write_text(
        "Nytt belopp för {{ mottagare.namn }}: {{ tillagg.nytt_belopp|kronor }} (omgång {{ omfordelning.omgang }}).\n",
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    status, out, err = cli("omfordela", first, "--idag", "2020-09-01")
    assert status == 0, err
    assert body_of(new_folder(out) / "utskick" / "Ekerö.eml").strip() == "Nytt belopp för Ekerö: 300 000 kr (omgång 2)."


def test_the_template_guide_documents_every_name_the_round_sees():
    text = (ROOT / "docs" / "mallar.md").read_text(encoding="utf-8")
    names = documented_names("## Omfördelningen")
    shapes = {"omfordelning": ROUND_SHAPE, "tillagg": ADDITION_SHAPE, "a": DECLINER_SHAPE, "p": ROUND_POST_SHAPE,
              "r": ROUND_ROW_SHAPE}
    for prefix, shape in shapes.items():
        assert {n.split(".")[1] for n in names if n.startswith(f"{prefix}.")} == set(shape.names), prefix
    assert all(f"`{name}`" in text for name in ROUND_TEMPLATES)
    assert CASE_SHAPE.open


def test_omfordela_runs_through_the_installed_program(run_processor, first):
    edit_ledger(first, {f"C{ROW['Botkyrka']}": "Ja"})
    done = run_processor("omfordela", first, "--idag", "2020-09-01")
    assert done.returncode == 0, done.stderr
    assert "360 000 kr frigörs; 360 000 kr fördelas på 3 mottagare." in done.stdout
    done = run_processor("omfordela", first, "--till", "Ingen", "--idag", "2020-09-01")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "--till" in done.stderr


# --- found in the acceptance review ---------------------------------------------------------------

def first_titled(tmp_path: Path, title: str, **more: object) -> Path:
    """The first round of the module's case under another ``Rubrik`` (and other Ärende fields)."""
    case = [(field, title if field == "Rubrik" else value) for field, value in CASE] + list(more.items())
    return first_round(tmp_path, case=case)


def amended_decision(cli, folder: Path, *args: object) -> str:
    """A round on ``folder`` with ``args`` that succeeds, and the text of its amended decision."""
    status, out, err = cli("omfordela", folder, *args)
    assert status == 0, err
    return plain(docx_text(new_folder(out) / "tillaggsbeslut.docx"))


def vaxholm_declines_alone(cli, tmp_path: Path, method: str = "fast") -> tuple[Path, str]:
    """Vaxholm, alone in Samordning (100 000 kr ``method``) and outside Utveckling, declines in a round on
    1 September 2020: the first folder and the round's output."""
    posts = [("Post", "Belopp", "Metod", "Nyckel", "Mottagare"), ("Samordning", 100_000, method, None, "Vaxholm"),
             ("Utveckling", "rest", "nyckel", "Befolkning", "Botkyrka; Ekerö; Norrtälje")]
    first = first_round(tmp_path, posts=posts)
    edit_ledger(first, {f"C{ROW['Vaxholm']}": "Ja"})
    status, out, err = cli("omfordela", first, "--idag", "2020-09-01")
    assert status == 0, err
    return first, out


def test_the_appendix_title_does_not_double_a_title_that_says_fordelning_av(cli, tmp_path):
    first = first_titled(tmp_path, "Fördelning av stimulansmedel God och nära vård 2024")
    edit_ledger(first, {f"C{ROW['Botkyrka']}": "Ja"})
    status, out, err = cli("omfordela", first, "--idag", "2020-09-01")
    assert status == 0, err
    title = load_workbook(new_folder(out) / "fordelning.xlsx")["Bilaga 1"]["A1"].value
    assert title == "Bilaga 1: Ny fördelning efter omfördelning av stimulansmedel God och nära vård 2024"


def test_the_amended_decision_names_the_case_and_says_how_a_post_that_also_receives_shares_it(cli, first):
    """Vaxholm declines alone: its fixed 100 000 kr has nobody left and goes with --till to Utveckling, which shares
    it with the 90 000 kr Vaxholm frees there."""
    edit_ledger(first, {f"C{ROW['Vaxholm']}": "Ja"})
    text = amended_decision(cli, first, "--till", "Utveckling", "--idag", "2020-09-01")
    assert ("Den 1 juni 2020 beslutades fördelningen i ärendet ”Stimulansmedel Goda förutsättningar för vårdens "
            "medarbetare 2020”.") in text
    assert "Samordning: 100 000 kr frigörs och har ingen annan mottagare." in text
    assert ("Utveckling: 90 000 kr frigörs och posten tar emot 100 000 kr från poster där ingen mottagare finns kvar; "
            "sammanlagt 190 000 kr fördelas på de kvarvarande mottagarna i posten efter andel av befolkning, som i den "
            "första fördelningen.") in text


def test_a_post_that_only_receives_and_a_post_with_nobody_left_are_told_in_words(cli, tmp_path):
    """Vaxholm is the only one in the equal post Samordning and takes no part in Utveckling."""
    first, out = vaxholm_declines_alone(cli, tmp_path, method="lika")
    text = plain(docx_text(new_folder(out) / "tillaggsbeslut.docx"))
    assert "Samordning: 100 000 kr frigörs och ingen mottagare finns kvar i posten." in text
    assert "i lika delar mellan de kvarvarande mottagarna" not in text
    text = amended_decision(cli, first, "--till", "Utveckling", "--idag", "2020-09-01", "--out", tmp_path / "till")
    assert ("Utveckling: posten tar emot 100 000 kr från poster där ingen mottagare finns kvar, och de fördelas på de "
            "kvarvarande mottagarna i posten efter andel av befolkning, som i den första fördelningen.") in text


def test_a_round_where_nobody_gains_does_not_ask_to_send_anything(cli, tmp_path):
    _, out = vaxholm_declines_alone(cli, tmp_path)
    lines = plain(out).splitlines()
    assert "100 000 kr frigörs; ingen mottagare kan ta emot dem." in lines
    assert "Ej fördelat: 100 000 kr, att betala tillbaka till den som beviljade medlen." in lines
    assert any(line.startswith("Klart: ") and line.endswith(" Ingen får ett tillägg, så det finns inget att skicka.")
               for line in lines)
    assert "processor send" not in out and "Granska tillaggsbeslut.docx och rapport.html." in lines


def test_a_round_without_a_sender_address_asks_to_send_the_letters_another_way(cli, tmp_path):
    case = [(field, value) for field, value in CASE if field != "E-post"]
    first = first_round(tmp_path, case=case)
    edit_ledger(first, {f"C{ROW['Botkyrka']}": "Ja"})
    status, out, err = cli("omfordela", first, "--idag", "2020-09-01")
    assert status == 0, err
    lines = plain(out).splitlines()
    assert "Inga e-postmeddelanden: ärendet har ingen avsändaradress (E-post). Skicka breven på annat sätt." in lines
    assert lines[-3:-1] == ["Klart: 9 filer, inga e-postmeddelanden.",
                            "Granska tillaggsbeslut.docx och rapport.html och skicka breven i brev/."]
    assert "processor send" not in out



def test_nothing_declined_with_ej_rekvirerat_too_early_does_not_claim_everyone_has_invoiced(cli, first):
    err = refused(cli, first, "--ej-rekvirerat", "--idag", "2020-08-01")
    assert "--ej-rekvirerat: sista dag att rekvirera är 30 augusti 2020" in err
    assert "alla med pengar har rekvirerat något" not in err


def test_the_decision_point_says_who_declines_and_who_has_not_invoiced(cli, first):
    edit_ledger(first, {f"C{ROW['Vaxholm']}": "Ja", f"D{ROW['Ekerö']}": 180_000, f"D{ROW['Norrtälje']}": 100_000})
    text = amended_decision(cli, first, "--ej-rekvirerat", "--idag", "2020-09-01")
    assert ("Nämnden godkänner att 450 000 kr av de medel som Vaxholm avstår och som Botkyrka inte har rekvirerat "
            "före sista dag fördelas på övriga mottagare enligt bilaga 1") in text


def test_the_decision_points_name_the_committee_of_the_workbook_in_every_round(cli, tmp_path):
    first = first_titled(tmp_path, CASE[0][1], **{"Nämnd": "Regionala samverkansrådet"})
    folder = second(cli, first)
    assert "Regionala samverkansrådet godkänner att 360 000 kr" in plain(docx_text(folder / "tillaggsbeslut.docx"))
    edit_ledger(folder, {f"C{ROW['Ekerö']}": "Ja"})
    text = amended_decision(cli, folder, "--idag", "2020-09-15")
    assert "Regionala samverkansrådet godkänner att 300 000 kr" in text and "Nämnden" not in text


def test_the_history_says_nobody_gained_in_a_round_that_only_leaves_money_unallocated(cli, tmp_path):
    _, out = vaxholm_declines_alone(cli, tmp_path)
    status, out, err = cli("status", new_folder(out), "--idag", "2020-09-02")
    assert status == 0, err
    line = plain(out).splitlines()[-1]
    assert line.endswith("(1 september 2020): 100 000 kr frigjort (Vaxholm), ingen fick tillägg, 100 000 kr ej fördelat.")


def test_the_amended_decision_is_addressed_to_the_committee_like_the_first(cli, tmp_path):
    first = first_titled(tmp_path, CASE[0][1], **{"Nämnd": "Regionala samverkansrådet"})
    text = plain(docx_text(second(cli, first) / "tillaggsbeslut.docx"))
    assert "Till\nRegionala samverkansrådet\nDatum\n1 september 2020\nOmfördelning, omgång 2" in text


def test_a_folder_that_is_no_run_folder_is_told_under_the_rounds_heading_not_the_workbooks(cli, tmp_path):
    status, out, err = cli("omfordela", tmp_path, "--idag", "2020-09-01")
    assert status == 2
    assert err.startswith("Omfördelningen kan inte göras: 1 fel att rätta.") and "Arbetsboken" not in err


def report_text(folder: Path) -> str:
    page = re.sub(r"<script.*?</script>|<style.*?</style>", "", (folder / "rapport.html").read_text(encoding="utf-8"),
                  flags=re.S)
    return plain(re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))))


def test_the_report_of_a_round_where_nobody_gains_says_so_and_what_is_shared(cli, tmp_path):
    first, out = vaxholm_declines_alone(cli, tmp_path)
    text = report_text(new_folder(out))
    assert "900 000 kr (0,9 mnkr) fördelas på 5 mottagare" in text
    assert "Omfördelning, omgång 2: ingen mottagare får något tillägg. Ej fördelat: 100 000 kr, att betala tillbaka." in text
    edit_ledger(first, {f"C{ROW['Vaxholm']}": None, f"C{ROW['Ekerö']}": "Ja", f"C{ROW['Botkyrka']}": "Ja"})
    status, out, err = cli("omfordela", first, "--idag", "2020-09-01", "--out", tmp_path / "ett")
    assert status == 0, err
    assert "Omfördelning, omgång 2: 600 000 kr läggs till hos 1 mottagare, som får ett tilläggsbrev." in report_text(
        new_folder(out))
