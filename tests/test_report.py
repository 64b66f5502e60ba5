"""`rapport.html`: the run report, checked against `fordelning.json`, escaped, refreshed after send, shown in Chromium."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import struct
import subprocess
import tempfile
import zlib
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import lxml.html
import pytest

from processor import formats
from processor.describe import method_in_words
from processor.errors import InputError
from processor.pipeline import run
from processor.report import refresh_report
from processor.journal import Journal
from processor.send import read_outbox
from conftest import require_program, write_outbox

ROOT = Path(__file__).resolve().parents[1]
STOCKHOLM = ROOT / "input" / "stockholm_2024.xlsx"
DALARNA = ROOT / "input" / "dalarna_2020.xlsx"
CASE = [("Rubrik", "Stimulansmedel 2024"), ("Medel att fördela", 10_000), ("Avsändare", "Förvaltningen"),
        ("E-post", "forvaltningen@stad.example")]
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def stockholm(tmp_path_factory):
    """The Stockholm 2024 example run once for the module: (run result, fordelning.json, parsed page)."""
    result = run(STOCKHOLM, tmp_path_factory.mktemp("out"))
    return result, read_json(result.run_dir / "fordelning.json"), page(result.run_dir)


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def page(run_dir: Path):
    return lxml.html.fromstring((run_dir / "rapport.html").read_text(encoding="utf-8"))


def text(element) -> str:
    """An element's text with line breaks and runs of spaces as one space (no-break spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", element.text_content()).strip()


def table_rows(doc, section: str) -> list[list[str]]:
    return [[text(cell) for cell in row.xpath("./td|./th")] for row in doc.xpath(f'//table[@id="{section}"]/tbody/tr')]


def card(doc, label: str) -> str:
    (value,) = doc.xpath(f'//div[contains(@class,"card")][p[@class="label"]="{label}"]/p[@class="value"]')
    return text(value)


# --- content against fordelning.json ------------------------------------------------------------

def test_every_recipient_and_amount_matches_the_result(stockholm):
    _, result, doc = stockholm
    headings = [text(th) for th in doc.xpath('//table[@id="fordelning"]/thead/tr[last()]/th')]
    rows = table_rows(doc, "fordelning")
    assert [row[headings.index("Mottagare")] for row in rows] == [r["name"] for r in result["recipients"]]
    for row, recipient in zip(rows, result["recipients"]):
        assert row[headings.index("Totalt")] == formats.number(recipient["total"])
        for post in result["posts"]:
            amount = recipient["amounts"].get(post["name"])
            assert row[headings.index(post["name"])] == (formats.number(amount) if amount is not None else "–")
        assert row[headings.index("Grupp")] == recipient["group"]


def test_the_totals_row_sums_each_post_and_the_whole(stockholm):
    _, result, doc = stockholm
    headings = [text(th) for th in doc.xpath('//table[@id="fordelning"]/thead/tr[last()]/th')]
    (totals,) = [[text(td) for td in row] for row in doc.xpath('//table[@id="fordelning"]/tfoot/tr')]
    assert totals[headings.index("Mottagare")] == "Totalt"
    assert totals[headings.index("Totalt")] == formats.number(result["total"])
    for post in result["posts"]:
        assert totals[headings.index(post["name"])] == formats.number(post["amount"])
    assert totals[headings.index("Summa Fackförvaltningar")] == formats.number(18_710_007)
    assert totals[headings.index("Befolkning")] == formats.number(888_837)


def test_the_case_in_figures_total_grant_carry_over(stockholm):
    _, result, doc = stockholm
    assert text(doc.xpath("//h1")[0]) == result["title"]
    assert card(doc, "Att fördela") == formats.kronor(result["total"])
    assert card(doc, "Årets medel") == formats.kronor(result["total"] - result["carried_over"])
    assert card(doc, "Överfört") == formats.kronor(result["carried_over"])
    assert card(doc, "Mottagare") == str(len(result["recipients"]))
    summary = text(doc.xpath('//div[@class="summary"]')[0])
    assert "53,7\u00a0mnkr" in summary and "stämmer exakt" in summary
    assert "Beloppen är avrundade till hela kronor" in text(doc.xpath('//section[@id="poster"]')[0])


def test_each_post_with_its_method_in_words_and_amount_per_unit(stockholm):
    run_result, result, doc = stockholm
    rows = {row[0]: row for row in (
        [text(td) for td in tr.xpath("./td")] for tr in doc.xpath('//table[@class="posts"]/tbody/tr[not(@class)]'))}
    assert list(rows) == [p["name"] for p in result["posts"]]
    for post_result, post in zip(run_result.allocation.posts, result["posts"]):
        name, amount, _, method, _, per_unit = rows[post["name"]]
        assert amount == formats.kronor(post["amount"])
        assert method == method_in_words(post_result, run_result.case)
        expected = f"{formats.kronor(Decimal(str(post['per_unit'])))} per invånare" if post["per_unit"] else ""
        assert per_unit == expected
    assert rows["Utvecklingsmedel"][5] == "29,45\u00a0kr per invånare"
    areas = [text(th) for th in doc.xpath('//table[@class="posts"]//tr[@class="area"]/th')]
    assert areas == ["Fackförvaltningar", "Stadsdelsförvaltningar"]
    subtotals = [[text(td) for td in tr.xpath("./td")][:2] for tr in doc.xpath('//tr[@class="subtotal"]')]
    assert subtotals == [["Summa Fackförvaltningar", formats.kronor(18_710_007)],
                         ["Summa Stadsdelsförvaltningar", formats.kronor(34_980_000)]]


def test_the_chart_has_a_bar_per_recipient_and_a_segment_per_post(stockholm):
    _, result, doc = stockholm
    (chart,) = doc.xpath('//svg[@class="chart"]')
    amounts = [text(t) for t in chart.xpath('.//text[contains(@class,"amount")]')]
    expected = sorted(result["recipients"], key=lambda r: -r["total"])
    assert amounts == [formats.kronor(r["total"]) for r in expected]
    segments = chart.xpath(".//rect")
    assert len(segments) == sum(len(r["amounts"]) for r in result["recipients"])
    (composition,) = doc.xpath('//svg[@class="composition"]')
    assert len(composition.xpath(".//rect")) == len(result["posts"])


def test_links_reach_every_file_with_its_checksum(stockholm):
    run_result, _, doc = stockholm
    folder = run_result.run_dir
    manifest = {f["path"]: f["sha256"] for f in read_json(folder / "manifest.json")["files"]}
    listed = {}
    for row in doc.xpath('//section[@id="filer"]//tbody/tr'):
        (link,) = row.xpath(".//a/@href")
        target = folder / unquote(link)
        assert target.is_file()
        listed[target.relative_to(folder).as_posix()] = text(row.xpath(".//code")[0])
    assert set(listed) == set(manifest) - {"rapport.html"}
    for path, digest in listed.items():
        if path == "uppfoljning.xlsx":  # the file meant to be edited: no checksum in either
            assert digest == "" and manifest[path] is None
        else:
            assert digest == manifest[path] == hashlib.sha256((folder / path).read_bytes()).hexdigest()
    assert "rapport.html" in manifest


def test_the_page_is_self_contained(stockholm):
    run_result, _, doc = stockholm
    html = (run_result.run_dir / "rapport.html").read_text(encoding="utf-8")
    assert not re.search(r"\b(src|href|action)\s*=\s*[\"']?\s*(https?:)?//", html)
    assert not doc.xpath("//*[@src]") and doc.xpath("//link/@href") == ["data:,"]
    assert "default-src 'none'" in doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')[0]
    data = json.loads(doc.xpath('//script[@id="data"]')[0].text)
    assert data["basis_columns"] == ["Befolkning"] and len(data["bases"]) == 15


# --- warnings and marks -------------------------------------------------------------------------

def test_a_totals_row_that_disagrees_is_a_warning(tmp_path):
    run_result = run(DALARNA, tmp_path)
    result = read_json(run_result.run_dir / "fordelning.json")
    warnings = [text(li) for li in page(run_result.run_dir).xpath('//*[@id="varningar"]//li')]
    assert warnings == result["warnings"]
    assert "287 795" in warnings[0] and "287 966" in warnings[0]


def test_declining_and_unaddressed_recipients_are_marked(workbook, tmp_path):
    path = workbook(case=CASE + [("Nyckel", "Befolkning")],
                    recipients=[("Mottagare", "E-post", "Deltar", "Befolkning"), ("Avesta", "a@avesta.example", "Ja", 1),
                                ("Borlänge", "b@borlange.example", "Nej", 2), ("Falun", None, "Ja", 3)])
    doc = page(run(path, tmp_path / "out").run_dir)
    rows = {tr.xpath("./td")[1].text_content(): tr for tr in doc.xpath('//table[@id="fordelning"]/tbody/tr')}
    assert rows["Borlänge"].get("class") == "declining"
    assert [text(b) for b in rows["Borlänge"].xpath('.//span[contains(@class,"badge")]')] == ["Avstår"]
    assert [text(b) for b in rows["Falun"].xpath('.//span[contains(@class,"badge")]')] == ["Ingen e-postadress"]
    assert rows["Avesta"].get("class") is None
    warnings = [text(li) for li in doc.xpath('//*[@id="varningar"]//li')]
    assert any("Falun" in w and "ingen e-postadress" in w for w in warnings)
    assert "Borlänge avstår" in text(doc.xpath('//div[@class="summary"]')[0])


def test_workbook_text_is_shown_as_text_never_as_markup(workbook, tmp_path):
    path = workbook(case=[("Rubrik", "Bidrag <b>fet</b> & så"), ("Medel att fördela", 1000), ("Nyckel", "Befolkning")],
                    recipients=[("Mottagare", "Grupp", "Befolkning"), (HOSTILE, "Vård & Omsorg", 1),
                                ("Avesta", "Kommun", 3)])
    folder = run(path, tmp_path / "out").run_dir
    html = (folder / "rapport.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<b>fet" not in html
    doc = page(folder)
    assert len(doc.xpath("//script")) == 2 and not doc.xpath("//b")
    assert text(doc.xpath("//h1")[0]) == "Bidrag <b>fet</b> & så"
    first = [text(td) for td in doc.xpath('//table[@id="fordelning"]/tbody/tr[1]/td')]
    assert first[1:3] == [HOSTILE, "Vård & Omsorg"]
    assert HOSTILE in [text(t) for t in doc.xpath('//svg[@class="chart"]//text')]
    assert json.loads(doc.xpath('//script[@id="data"]')[0].text)["format"] == 1


# --- refreshed after send -----------------------------------------------------------------------

def test_refresh_shows_when_each_message_was_sent(workbook, tmp_path):
    path = workbook(case=CASE + [("Nyckel", "Befolkning")],
                    recipients=[("Mottagare", "E-post", "Befolkning"), ("Avesta", "a@avesta.example", 1),
                                ("Borlänge", "b1@borlange.example; b2@borlange.example", 2),
                                ("Falun", "f@falun.example", 3)])
    run_result = run(path, tmp_path / "out")
    folder = run_result.run_dir
    write_outbox(run_result.case, run_result.allocation, folder, {}, lambda i: "Hej!\n")
    avesta, borlange, falun = read_outbox(folder)
    with Journal(folder / "utskick") as journal:
        journal.record(avesta.name, avesta.message_id, list(avesta.to), "250 2.0.0 Ok: queued as A1")
        journal.record(borlange.name, borlange.message_id, [borlange.to[0]], "250 2.0.0 Ok: queued as B1")
    times = [dt.datetime.fromisoformat(json.loads(line)["time"])
             for line in (folder / "utskick" / "skickat.jsonl").read_text(encoding="utf-8").splitlines()]

    refresh_report(folder, now=dt.datetime(2024, 6, 3, 14, 5))

    doc = page(folder)
    rows = {row[0]: row for row in ([text(td) for td in tr.xpath("./td")]
                                    for tr in doc.xpath('//section[@id="utskick"]//tbody/tr'))}
    assert rows["Avesta"][2:] == ["Avesta.eml", "Skickat", f"{formats.long_date(times[0].date())} kl. {times[0]:%H.%M}"]
    assert rows["Borlänge"][3] == "Delvis skickat ej till b2@borlange.example"
    assert rows["Falun"][3:] == ["Inte skickat", ""]
    assert card(doc, "Utskick") == "1 av 3 skickade"
    assert ("Sidan uppdaterad", "3 juni 2024 kl. 14.05") in [(text(d.xpath("dt")[0]), text(d.xpath("dd")[0]))
                                                           for d in doc.xpath('//dl[@class="facts"]/div')]
    linked = {unquote(h) for h in doc.xpath('//section[@id="filer"]//a/@href')}
    assert {"utskick/Avesta.eml", "utskick/skickat.jsonl", "manifest.json"} <= linked
    assert all((folder / h).is_file() for h in linked)
    headings = [text(th) for th in doc.xpath('//table[@id="fordelning"]/thead/tr[last()]/th')]
    result = read_json(folder / "fordelning.json")
    assert [r[headings.index("Totalt")] for r in table_rows(doc, "fordelning")] == [
        formats.number(r["total"]) for r in result["recipients"]]


def test_refresh_needs_the_report_it_refreshes(tmp_path):
    folder = run(DALARNA, tmp_path).run_dir
    (folder / "rapport.html").write_text("<html></html>", encoding="utf-8")
    with pytest.raises(InputError, match="Kör processor run igen"):
        refresh_report(folder)


# --- in a real browser --------------------------------------------------------------------------

def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with a fresh profile and nothing that reaches the network."""
    executable = require_program("chromium", install="apt-get install chromium")
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp_path)
    command = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def png_size_and_variety(path: Path) -> tuple[int, int, int]:
    """Width, height and how many distinct byte values the image data holds (a blank page has few)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT":
            chunks.append(data[offset + 8:offset + 8 + length])
        offset += 12 + length
    return width, height, len(set(zlib.decompress(b"".join(chunks))))


def test_chromium_renders_the_report_without_errors(stockholm, tmp_path):
    run_result, result, _ = stockholm
    url = (run_result.run_dir / "rapport.html").as_uri()
    shot = tmp_path / "rapport.png"
    rendered = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert rendered.returncode == 0, rendered.stderr
    assert console_messages(rendered.stderr) == []
    width, height, variety = png_size_and_variety(shot)
    assert (width, height) == (1280, 2000) and variety > 100 and shot.stat().st_size > 50_000

    dumped = chromium(tmp_path, "--dump-dom", url)
    assert console_messages(dumped.stderr) == []
    dom = lxml.html.fromstring(dumped.stdout)
    assert "js" in dom.get("class").split()  # the sorting script ran to its end
    assert text(dom.xpath("//h1")[0]) == result["title"]


def test_clicking_a_column_heading_sorts_the_table(stockholm, tmp_path):
    run_result, result, _ = stockholm
    html = (run_result.run_dir / "rapport.html").read_text(encoding="utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    click = "<script>document.querySelector('th.total button').click();</script></body>"
    probe = tmp_path / "sortera.html"
    probe.write_text(html.replace("</body>", click), encoding="utf-8")
    dumped = chromium(tmp_path, "--dump-dom", probe.as_uri())
    assert console_messages(dumped.stderr) == []
    dom = lxml.html.fromstring(dumped.stdout)
    names = [text(tr.xpath("./td")[1]) for tr in dom.xpath('//table[@id="fordelning"]/tbody/tr')]
    by_total = sorted(result["recipients"], key=lambda r: -r["total"])
    assert names == [r["name"] for r in by_total]
    assert dom.xpath('//th[contains(@class,"total")]/@aria-sort') == ["descending"]


def test_the_report_prints_on_a4(stockholm, tmp_path):
    run_result, _, _ = stockholm
    pdf = tmp_path / "rapport.pdf"
    url = (run_result.run_dir / "rapport.html").as_uri()
    printed = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url)
    assert printed.returncode == 0, printed.stderr
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    sizes = {tuple(sorted((round(float(w)), round(float(h))))) for w, h in boxes}
    assert boxes and sizes == {(595, 842)}


def test_the_chart_shows_the_largest_recipients_when_there_are_many(workbook, tmp_path):
    from processor.charts import CHART_MAX_BARS

    rows = [("Mottagare", "Befolkning")] + [(f"Kommun {n:03d}", n) for n in range(1, 81)]
    path = workbook(recipients=rows, case=[("Rubrik", "Stimulansmedel 2024"), ("Medel att fördela", 1_000_000),
                                           ("Nyckel", "Befolkning")])
    page = (run(path, tmp_path / "ut").run_dir / "rapport.html").read_text(encoding="utf-8")
    assert f"Diagrammet visar de {CHART_MAX_BARS} största av 80 mottagare" in page
    assert "Kommun 080" in page and "Kommun 001" in page  # the table still has everyone


OVERFLOW_PROBE = """<script>
(function () {
  var found = [];
  document.querySelectorAll("header *, #oversikt *").forEach(function (el) {
    if (el.closest("svg") || !el.clientWidth) { return; }
    var box = el.closest(".card") || el.parentElement, r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
    var leaves = box !== el && (r.right > b.right + 0.5 || r.left < b.left - 0.5);
    if (el.scrollWidth > el.clientWidth + 1 || leaves) { found.push(el.className + ": " + el.textContent.trim()); }
  });
  document.documentElement.setAttribute("data-overflow", JSON.stringify(found));
})();
</script></body>"""


@pytest.mark.parametrize("width", [1024, 1440])
def test_no_text_leaves_its_box_at_common_screen_widths(stockholm, tmp_path, width):
    run_result, _, _ = stockholm
    html = (run_result.run_dir / "rapport.html").read_text(encoding="utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    probe = tmp_path / "bredd.html"
    probe.write_text(html.replace("</body>", OVERFLOW_PROBE), encoding="utf-8")
    dumped = chromium(tmp_path, "--headless=new", f"--window-size={width},900", "--dump-dom", probe.as_uri())
    assert console_messages(dumped.stderr) == []
    dom = lxml.html.fromstring(dumped.stdout)
    assert json.loads(dom.get("data-overflow")) == []
