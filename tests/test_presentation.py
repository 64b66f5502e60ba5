"""The presentation: one distribution table, one set of words, and the template names documented."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import build_workbook
from test_golden import AREAS_CASE, AREAS_POSTS, AREAS_RECIPIENTS, AREAS_TEXTS

from processor.formats import NBSP
from processor.pipeline import check
from processor.presentation import present
from processor.result import read_back, result_document
from processor.context import (APPENDIX_SHAPE, AREA_SHAPE, CASE_SHAPE, GROUP_SHAPE, KEY_PART_SHAPE, POST_SHAPE,
                                  RECIPIENT_POST_SHAPE, RECIPIENT_SHAPE, SECTION_SHAPE, SUMMARY_ROW_SHAPE,
                                  SUMMARY_SHAPE, TEXTS_SHAPE, context_names)

ROOT = Path(__file__).resolve().parent.parent
# How docs/mallar.md names each kind of object in its tables: a top-level name, or a loop variable.
DOCUMENTED_AS = {"arende": CASE_SHAPE, "mottagare": RECIPIENT_SHAPE, "texter": TEXTS_SHAPE,
                 "sammanstallning": SUMMARY_SHAPE, "bilaga": APPENDIX_SHAPE, "post": POST_SHAPE, "del": KEY_PART_SHAPE,
                 "omrade": AREA_SHAPE, "grupp": GROUP_SHAPE, "p": RECIPIENT_POST_SHAPE, "avsnitt": SECTION_SHAPE,
                 "rad": SUMMARY_ROW_SHAPE}


def areas_case(tmp_path):
    path = build_workbook(tmp_path / "omraden.xlsx", case=AREAS_CASE, recipients=AREAS_RECIPIENTS, posts=AREAS_POSTS,
                          texts=AREAS_TEXTS)
    return check(path)


def documented_names() -> tuple[set[str], dict[str, set[str]]]:
    """The variables the guide's tables list: top-level names, and each object's attributes."""
    text = (ROOT / "docs" / "mallar.md").read_text(encoding="utf-8")
    section = text[text.index("## Variabler"):text.index("## Filter")]
    top: set[str] = set()
    attributes: dict[str, set[str]] = {}
    for code in re.findall(r"^\| `([^`]+)` \|", section, re.MULTILINE):
        path = re.sub(r"\[.*?\]|\.get\(.*?\)", "", code).split(".")
        if len(path) == 1:
            top.add(path[0])
        elif path[1] != "<eget_falt>":
            attributes.setdefault(path[0], set()).add(path[1])
    return top, attributes


def test_the_template_guide_documents_every_name_a_template_may_use_and_no_other():
    top, attributes = documented_names()
    top |= {prefix for prefix in attributes if prefix in context_names(letter=True)}
    assert top == context_names(letter=True)
    assert attributes.keys() == DOCUMENTED_AS.keys()
    for prefix, shape in DOCUMENTED_AS.items():
        assert attributes[prefix] == set(shape.names), f"docs/mallar.md: {prefix}"


def test_one_table_with_areas_subtotals_notes_and_totals(tmp_path):
    case, allocation = areas_case(tmp_path)
    table = present(case, allocation).table()
    headings = [c.heading for c in table.columns]
    assert headings == ["Mottagare", "Grupp", "Befolkning", "Patienter", "Platser", "Nära vård", "Samordnare",
                        "Summa Nära vård", "Platser", "Utbildning", "Summa Kompetens", "Kansli", "Totalt", "Anmärkning"]
    assert table.area_spans()[-5:] == [("Nära vård", 3), ("Kompetens", 3), ("Administration", 1), (None, 1), (None, 1)]
    ekero = [r.name for r in case.recipients].index("Ekerö")
    assert table.cell(table.columns[-1], ekero) == ("Avstår",)
    total = table.columns[-2]
    assert [table.cell(total, i) for i in range(len(case.recipients))] == list(allocation.totals)
    assert table.total(total) == allocation.total == sum(table.total(c) for c in table.columns if c.kind == "post")
    for column in table.columns:
        if column.kind in ("post", "subtotal"):
            column_sum = sum(table.cell(column, i) or 0 for i in range(len(case.recipients)))
            assert column_sum == table.total(column)


def test_the_report_notes_a_recipient_with_money_and_no_address(tmp_path):
    case, allocation = areas_case(tmp_path)
    view = present(case, allocation)
    huddinge = [r.name for r in case.recipients].index("Huddinge")
    assert view.table().cell(view.table().columns[-1], huddinge) is None
    table = view.table(mail_notes=True)
    assert table.cell(table.columns[-1], huddinge) == ("Ingen e-postadress",)


def test_the_result_read_back_presents_the_same_table_and_words(tmp_path):
    case, allocation = areas_case(tmp_path)
    view = present(case, allocation)
    columns = list(view.basis_columns)
    bases = [[str(r.bases[c]) if c in r.bases else None for c in columns] for r in case.recipients]
    again = present(*read_back(result_document(case, allocation), columns, bases))
    assert again.posts == view.posts and again.footnote == view.footnote
    assert [a.name for a in again.areas] == [a.name for a in view.areas]
    table, table_again = view.table(mail_notes=True), again.table(mail_notes=True)
    assert table.columns == table_again.columns
    for column in table.columns:
        assert table.total(column) == table_again.total(column)
        assert all(table.cell(column, i) == table_again.cell(column, i) for i in range(len(case.recipients)))


def test_a_basis_typed_in_capitals_reads_as_an_ordinary_word_in_prose(tmp_path):
    recipients = [("Mottagare", "E-post", "BEFOLKNING", "PATIENTER", "SCB-data"),
                  ("Avesta", "a@avesta.example", 100, 10, 5), ("Falun", "f@falun.example", 300, 30, 7)]
    posts = [("Post", "Belopp", "Metod", "Nyckel"), ("Vård", 500, "nyckel", "Befolkning 50 %; PATIENTER 50 %"),
             ("Data", 500, "nyckel", "SCB-data")]
    case, allocation = check(build_workbook(tmp_path / "versaler.xlsx", recipients=recipients, posts=posts))
    view = present(case, allocation)
    care, data = view.posts
    assert care.key_words == "50 procent efter andel av befolkning och 50 procent efter andel av patienter"
    assert view.share_words(care, 0) == "befolkning 100 av 400, patienter 10 av 40"
    assert view.bases_words(0) == "Befolkning 100, Patienter 10, SCB-data 5"
    assert data.key_words == "efter andel av SCB-data"
    assert view.recipient_posts(1)[0].explanation.startswith("fördelas 50 procent efter andel av befolkning")
    assert view.table().columns[1].heading == "BEFOLKNING"  # the table keeps the heading as typed


def test_the_amount_per_unit_names_the_unit_of_its_basis_column(tmp_path):
    recipients = [("Mottagare", "E-post", "Platser", "Befolkning", "SCB-data"),
                  ("Avesta", "a@avesta.example", 20, 100, 5), ("Falun", "f@falun.example", 30, 300, 15)]
    posts = [("Post", "Belopp", "Metod", "Nyckel"), ("Platser", 64_000, "nyckel", "Platser"),
             ("Vård", 8_000, "nyckel", "BEFOLKNING"), ("Data", 2_000, "nyckel", "SCB-data")]
    case = [("Rubrik", "Stimulansmedel 2024"), ("Medel att fördela", 74_000)]
    case, allocation = check(build_workbook(tmp_path / "enheter.xlsx", case=case, recipients=recipients, posts=posts))
    view = present(case, allocation)
    assert [p.per_unit_words.replace(NBSP, " ") for p in view.posts] == ["1 280 kr per plats", "20 kr per invånare",
                                                      "100 kr per enhet av SCB-data"]
    assert view.posts[0].summary_words.replace(NBSP, " ") == "fördelas efter andel av platser (1 280 kr per plats)"


def test_one_post_is_one_post_in_the_run_messages(workbook, tmp_path):
    from processor.pipeline import run

    messages = []
    run(workbook(), tmp_path / "ut", progress=messages.append)
    assert any(m.endswith("mottagare i 1 post.") for m in messages), messages
