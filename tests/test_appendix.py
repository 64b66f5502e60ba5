"""The appendix fordelning.xlsx, opened back with openpyxl: totals, formats, chart, text safety."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from processor.pipeline import run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def stockholm(tmp_path_factory):
    out = tmp_path_factory.mktemp("ut")
    result = run(ROOT / "input" / "stockholm_2024.xlsx", out)
    return result, load_workbook(result.run_dir / "fordelning.xlsx")


def header_row(ws) -> int:
    return next(r for r in range(1, 10) if ws.cell(r, 1).value == "Mottagare")


def table(ws):
    """Rows of the table as dicts, up to and including the totals row."""
    h = header_row(ws)
    headings = [c.value for c in ws[h]]
    rows = []
    for r in range(h + 1, ws.max_row + 1):
        row = dict(zip(headings, (c.value for c in ws[r])))
        rows.append(row)
        if row["Mottagare"] == "Totalt":
            break
    return rows


def test_title_and_money_line(stockholm):
    _, book = stockholm
    ws = book["Bilaga 1"]
    assert ws["A1"].value == "Bilaga 1: Fördelning av stimulansmedel God och nära vård 2024"
    assert "53\u00a0690\u00a0007\u00a0kr" in ws["A2"].value
    assert "11\u00a0500\u00a0000\u00a0kr överfört från tidigare år" in ws["A2"].value


def test_one_row_per_recipient_with_posts_and_total(stockholm):
    result, book = stockholm
    rows = table(book["Bilaga 1"])
    *recipients, totals = rows
    assert [r["Mottagare"] for r in recipients] == [r.name for r in result.case.recipients]
    assert totals["Totalt"] == 53_690_007
    assert sum(r["Totalt"] for r in recipients) == 53_690_007
    assert totals["Utvecklingsmedel"] == 26_180_000
    assert totals["Grundstöd"] == 8_800_000
    assert totals["Summa Stadsdelsförvaltningar"] == 34_980_000
    elder = recipients[0]
    assert elder["Mottagare"] == "Äldreförvaltningen" and elder["Samordning"] == 6_710_007
    assert elder["Befolkning"] is None
    districts = [r for r in recipients if r["Grupp"] == "Stadsdel"]
    assert all(r["Grundstöd"] == 800_000 for r in districts)
    assert all(r["Totalt"] == r["Grundstöd"] + r["Utvecklingsmedel"] for r in districts)


def test_amounts_are_values_with_thousands_separators(stockholm):
    _, book = stockholm
    ws = book["Bilaga 1"]
    h = header_row(ws)
    for row in ws.iter_rows(min_row=h + 1):
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} holds a formula"
            if isinstance(cell.value, int):
                assert cell.number_format == "#,##0", cell.coordinate


def test_areas_head_their_posts(stockholm):
    _, book = stockholm
    ws = book["Bilaga 1"]
    h = header_row(ws)
    areas = [c.value for c in ws[h - 1] if c.value]
    assert areas == ["Fackförvaltningar", "Stadsdelsförvaltningar"]


def test_footnote_states_the_key_in_words(stockholm):
    _, book = stockholm
    ws = book["Bilaga 1"]
    text = " ".join(str(c.value) for c in ws["A"] if c.value)
    assert "Utvecklingsmedel (26\u00a0180\u00a0000\u00a0kr) fördelas efter andel av befolkning" in text
    assert "största-restmetoden" in text


def test_print_setup_freeze_and_chart(stockholm):
    _, book = stockholm
    ws = book["Bilaga 1"]
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth == 1
    assert ws.freeze_panes == f"B{header_row(ws) + 1}"
    assert ws.print_title_rows
    charts = book["Diagram"]._charts
    assert len(charts) == 1 and charts[0].tagname == "barChart"


def test_text_from_the_workbook_stays_text(workbook, tmp_path):
    hostile = "=HYPERLINK(\"http://x\";\"klicka\")"
    path = workbook(recipients=[("Mottagare", "Befolkning"), ("placeholder", 1), ("Vård & Omsorg <Syd> AB", 3)])
    book = load_workbook(path)
    book["Mottagare"]["A2"].value = hostile
    book["Mottagare"]["A2"].data_type = "s"  # typed as text in Excel, not a formula
    book.save(path)
    result = run(path, tmp_path / "ut")
    ws = load_workbook(result.run_dir / "fordelning.xlsx")["Bilaga 1"]
    names = [r["Mottagare"] for r in table(ws)]
    assert names == [hostile, "Vård & Omsorg <Syd> AB", "Totalt"]
    cell = next(c for c in ws["A"] if c.value == hostile)
    assert cell.data_type == "s"


def test_declining_recipient_is_marked(workbook, tmp_path):
    path = workbook(recipients=[("Mottagare", "Deltar", "Befolkning"), ("A", "Ja", 1), ("B", "Nej", 5), ("C", None, 3)])
    result = run(path, tmp_path / "ut")
    rows = table(load_workbook(result.run_dir / "fordelning.xlsx")["Bilaga 1"])
    assert rows[1]["Mottagare"] == "B" and rows[1]["Anmärkning"] == "Avstår" and rows[1]["Totalt"] == 0
    assert rows[0]["Totalt"] + rows[2]["Totalt"] == 1000


def test_area_headings_stay_within_their_columns_when_printed(workbook, tmp_path):
    posts = [("Område", "Post", "Belopp", "Metod", "Nyckel", "Mottagare"),
             ("Kompetensutveckling för omsorgspersonal", "Kurser", 600, "nyckel", "Befolkning", "alla"),
             ("Kompetensutveckling för omsorgspersonal", "Handledning", 300, "lika", None, "alla"),
             ("Administration", "Kansli", 100, "fast", None, "Falun")]
    run_dir = run(workbook(posts=posts), tmp_path / "ut").run_dir
    ws = load_workbook(run_dir / "fordelning.xlsx")["Bilaga 1"]
    row = header_row(ws) - 1
    for cell in ws[row]:
        if cell.value:
            assert cell.alignment.wrap_text and cell.alignment.horizontal == "center"
            span = next((r for r in ws.merged_cells.ranges if r.min_row == row and r.min_col == cell.column), None)
            last = span.max_col if span else cell.column
            room = sum(ws.column_dimensions[get_column_letter(c)].width for c in range(cell.column, last + 1))
            longest_word = max(len(w) for w in cell.value.split())
            assert room >= longest_word * 1.15, cell.value
            lines = -(-len(cell.value) * 1.15 // (room - 2))
            assert ws.row_dimensions[row].height >= 15 * lines, cell.value


def test_the_chart_sheet_prints_on_one_a4_page(stockholm):
    _, book = stockholm
    sheet = book["Diagram"]
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 1
    assert sheet.print_area
