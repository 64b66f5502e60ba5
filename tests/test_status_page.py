"""status.html and the text of ``processor status``: the Storsthlm 2020 case as it stood on 1 September 2020."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import lxml.html
import pytest

from processor import formats
from processor.followup import LATE, STATUSES, LedgerEntry, case_standing
from processor.layout import STATUS_FILE
from processor.status_page import (Mailing, days_words, render_status_page, status_lines,
                                   write_status_page)
from test_report import OVERFLOW_PROBE, chromium, console_messages, png_size_and_variety, text

TODAY = dt.date(2020, 9, 1)
DEADLINE = dt.date(2020, 8, 30)
TITLE = "Länsgemensamma stimulansmedel 2020 för goda förutsättningar för vårdens medarbetare"
REFERENCE = "STH 2020/0131"
DATES = [("Datum", dt.date(2020, 3, 16)), ("Sista dag", DEADLINE), ("Delredovisning", dt.date(2020, 9, 30)),
         ("Slutredovisning", dt.date(2021, 3, 31)), ("Återbetalning senast", dt.date(2021, 3, 31))]
ALLOCATION = [("Botkyrka", 2_959_680), ("Danderyd", 1_105_129), ("Ekerö", 793_010), ("Haninge", 2_502_386),
              ("Huddinge", 3_273_273), ("Järfälla", 2_476_418), ("Lidingö", 2_327_355), ("Nacka", 3_622_283),
              ("Norrtälje", 6_113_359), ("Nykvarn", 341_889), ("Nynäshamn", 988_111), ("Salem", 578_851),
              ("Sigtuna", 1_742_947), ("Sollentuna", 2_195_048), ("Solna", 2_574_820), ("Stockholm", 19_143_880),
              ("Sundbyberg", 1_679_203), ("Södertälje", 3_274_746), ("Tyresö", 1_710_684), ("Täby", 2_487_366),
              ("Upplands Väsby", 1_186_621), ("Upplands-Bro", 850_417), ("Vallentuna", 1_026_715),
              ("Vaxholm", 376_175), ("Värmdö", 1_238_534), ("Österåker", 1_431_098)]
TOTAL = 67_999_998  # the seed's published table, to the krona (its "Totalt" says 68 000 000)
PAID = {"Botkyrka", "Huddinge", "Stockholm", "Solna"}
REQUESTED = {"Danderyd", "Haninge", "Järfälla", "Nacka", "Norrtälje", "Sigtuna", "Sollentuna", "Södertälje", "Täby",
             "Tyresö", "Värmdö", "Österåker"}
DECLINED = {"Nykvarn"}
LATE_NAMES = ["Ekerö", "Lidingö", "Nynäshamn", "Salem", "Sundbyberg", "Upplands Väsby", "Upplands-Bro", "Vallentuna",
              "Vaxholm"]


def test_the_case_is_the_published_table():
    assert len(ALLOCATION) == 26 and sum(amount for _, amount in ALLOCATION) == TOTAL


def storsthlm_entries() -> list[LedgerEntry]:
    """The 26 municipalities two days after Sista dag: some paid, most invoiced, one declined, nine late."""
    entries = []
    for row, (name, amount) in enumerate(ALLOCATION, start=2):
        if name in DECLINED:
            entries.append(LedgerEntry(name, amount, declined=True, row=row))
        elif name in PAID:
            entries.append(LedgerEntry(name, amount, requested=amount, invoice_date=dt.date(2020, 6, 10),
                                       invoice_numbers=(f"F{row}",), paid=amount, paid_date=dt.date(2020, 7, 1), row=row))
        elif name in REQUESTED:
            entries.append(LedgerEntry(name, amount, requested=amount, invoice_date=dt.date(2020, 8, 20), row=row))
        else:
            entries.append(LedgerEntry(name, amount, row=row))
    return entries


def storsthlm_mailings() -> list[Mailing]:
    sent = dt.datetime(2020, 3, 20, 10, 15, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    first = [Mailing(sent + dt.timedelta(seconds=n), "Beslut och brev", name, f"utskick/{name}.eml")
             for n, (name, _) in enumerate(ALLOCATION)]
    reminded = dt.datetime(2020, 8, 31, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    return first + [Mailing(reminded, "Påminnelse 2020-08-31", name, f"paminnelser/2020-08-31/{name}.eml")
                    for name in LATE_NAMES]


@pytest.fixture
def standing():
    return case_standing(storsthlm_entries(), DEADLINE, TODAY)


def page(standing, **changes):
    arguments = {"title": TITLE, "reference": REFERENCE, "dates": DATES, "mailings": storsthlm_mailings(), **changes}
    return render_status_page(standing, **arguments)


def kr(value: int) -> str:
    return formats.kronor(value)


# --- the text of processor status ---------------------------------------------------------------

def test_the_text_counts_recipients_and_kronor_per_status_and_names_the_late(standing):
    lines = status_lines(standing, DATES)
    assert lines[0] == "Läget 1 september 2020: 26 mottagare, 67 999 998 kr tilldelat."
    assert [line.split(":")[0].strip() for line in lines[1:7]] == list(STATUSES)
    late_kronor = sum(a for n, a in ALLOCATION if n in LATE_NAMES)
    assert f"  Försenad: 9 mottagare, {formats.kronor(late_kronor, nbsp=False)}" in lines
    assert "  Avstår: 1 mottagare, 341 889 kr" in lines
    assert "  Utbetalt: 4 mottagare, 27 951 653 kr" in lines
    assert "  Väntar: 0 mottagare, 0 kr" in lines
    requested = sum(a for n, a in ALLOCATION if n in PAID | REQUESTED)
    assert (f"Rekvirerat {formats.kronor(requested, nbsp=False)}, utbetalt 27 951 653 kr, avstått 341 889 kr, "
            "använt enligt redovisningarna 0 kr.") in lines
    assert f"Kvar att rekvirera: {formats.kronor(late_kronor, nbsp=False)}." in lines
    assert "Sista dag: 30 augusti 2020, för 2 dagar sedan." in lines
    assert "Delredovisning: 30 september 2020, om 29 dagar." in lines
    assert "Återbetalning senast: 31 mars 2021, om 211 dagar." in lines
    assert lines[-1] == "Försenade (9): " + ", ".join(LATE_NAMES) + "."


def test_the_text_before_sista_dag_has_nobody_late_and_adds_sista_dag_when_the_caller_left_it_out():
    lines = status_lines(case_standing(storsthlm_entries(), DEADLINE, dt.date(2020, 8, 18)))
    assert "Sista dag: 30 augusti 2020, om 12 dagar." in lines
    assert "  Väntar: 9 mottagare, " in "\n".join(lines) and lines[-1] == "Ingen är försenad."


@pytest.mark.parametrize("days, words", [(12, "om 12 dagar"), (1, "i morgon"), (0, "i dag"), (-1, "i går"),
                                         (-3, "för 3 dagar sedan")])
def test_days_in_words(days, words):
    assert days_words(TODAY + dt.timedelta(days=days), TODAY) == words


# --- the page -----------------------------------------------------------------------------------

def test_the_page_shows_the_case_the_figures_and_a_bar_per_status(standing):
    doc = lxml.html.fromstring(page(standing))
    assert text(doc.xpath("//h1")[0]) == TITLE
    facts = [(text(div[0]), text(div[1])) for div in doc.xpath('//dl[@class="facts"]/div')]
    assert facts == [("Diarienummer", REFERENCE), ("Läget", "1 september 2020"),
                     ("Sista dag", "30 augusti 2020 (för 2 dagar sedan)")]
    cards = {text(c.xpath('./p[@class="label"]')[0]): text(c.xpath('./p[@class="value"]')[0])
             for c in doc.xpath('//div[contains(concat(" ", @class, " "), " card ")]')}
    requested = sum(a for n, a in ALLOCATION if n in PAID | REQUESTED)
    assert cards == {"Tilldelat": kr(TOTAL), "Rekvirerat": kr(requested), "Utbetalt": kr(27_951_653),
                     "Avstått": kr(341_889), "Använt": kr(0), "Försenade": "9"}
    bars = [" | ".join(g.xpath("./text/text()")) for g in doc.xpath('//svg[@class="status-bars"]/g')]
    late_kronor = kr(sum(a for n, a in ALLOCATION if n in LATE_NAMES))
    requested_kronor = kr(sum(a for n, a in ALLOCATION if n in REQUESTED))
    assert bars == ["Avstår | 1 mottagare, " + kr(341_889), "Redovisat | 0 mottagare, " + kr(0),
                    "Utbetalt | 4 mottagare, " + kr(27_951_653), "Rekvirerat | 12 mottagare, " + requested_kronor,
                    f"{LATE} | 9 mottagare, {late_kronor}", "Väntar | 0 mottagare, " + kr(0)]
    assert [t.split(":")[0] for t in doc.xpath('//svg[@class="status-bars"]/g/title/text()')] == list(STATUSES)
    summary = [text(p) for p in doc.xpath('//div[@class="summary"]/p')]
    assert summary[0] == f"Läget 1 september 2020: 26 mottagare, {kr(TOTAL)} tilldelat."
    assert summary[-1] == "Försenade (9): " + ", ".join(LATE_NAMES) + "."


def test_the_table_has_every_recipient_with_its_ledger_values_and_status_and_marks_the_late(standing):
    doc = lxml.html.fromstring(page(standing))
    table = doc.xpath('//table[@class="ledger"]')[0]
    assert [text(th) for th in table.xpath("./thead//th")] == ["Mottagare", "Tilldelat", "Avstår", "Rekvirerat",
                                                               "Fakturadatum", "Utbetalt", "Använt", "Redovisat",
                                                               "Status"]
    rows = table.xpath("./tbody/tr")
    assert len(rows) == 26
    by_name = {text(tr.xpath("./td")[0]).strip(): tr for tr in rows}
    assert list(by_name) == [name for name, _ in ALLOCATION]
    for standing_row in standing.recipients:
        cells = [text(td) for td in by_name[standing_row.entry.name].xpath("./td")]
        assert cells[1] == formats.number(standing_row.entry.allocated) and cells[-1] == standing_row.status
    amount = formats.number(2_959_680)
    assert [text(td) for td in by_name["Botkyrka"].xpath("./td")][1:] == [
        amount, "", amount, "2020-06-10", amount, "–", "–", "Utbetalt"]
    assert [text(td) for td in by_name["Nykvarn"].xpath("./td")][2] == "Ja"
    late = [name for name, tr in by_name.items() if "late" in (tr.get("class") or "")]
    assert late == LATE_NAMES
    totals = [text(td) for td in table.xpath("./tfoot//td")]
    assert totals[:2] == ["Summa (26)", formats.number(TOTAL)]


def test_the_timeline_has_the_given_dates_and_today_in_order_with_days_in_words(standing):
    doc = lxml.html.fromstring(page(standing))
    items = [[text(span) for span in li.xpath("./span")] for li in doc.xpath('//ol[@class="timeline"]/li')]
    assert items == [["16 mars 2020", "Datum", "för 169 dagar sedan"],
                     ["30 augusti 2020", "Sista dag", "för 2 dagar sedan"],
                     ["1 september 2020", "I dag", ""],
                     ["30 september 2020", "Delredovisning", "om 29 dagar"],
                     ["31 mars 2021", "Slutredovisning", "om 211 dagar"],
                     ["31 mars 2021", "Återbetalning senast", "om 211 dagar"]]
    assert doc.xpath('//ol[@class="timeline"]/li[@class="now"]//time/@datetime') == ["2020-09-01"]
    only_today = lxml.html.fromstring(page(case_standing(storsthlm_entries(), None, TODAY), dates=[]))
    assert [text(li) for li in only_today.xpath('//ol[@class="timeline"]/li')] == ["1 september 2020 I dag"]


def test_the_page_lists_what_went_out_and_when(standing):
    doc = lxml.html.fromstring(page(standing))
    summary = [text(li) for li in doc.xpath('//section[@id="utskick"]/ul/li')]
    assert summary == ["Beslut och brev: 26 meddelanden, 20 mars 2020 kl. 10.15",
                       "Påminnelse 2020-08-31: 9 meddelanden, 31 augusti 2020 kl. 09.00"]
    rows = [[text(td) for td in tr.xpath("./td")] for tr in doc.xpath('//table[@class="mailings"]/tbody/tr')]
    assert len(rows) == 35
    assert rows[0] == ["20 mars 2020 kl. 10.15", "Beslut och brev", "Botkyrka", "utskick/Botkyrka.eml"]
    assert rows[-1] == ["31 augusti 2020 kl. 09.00", "Påminnelse 2020-08-31", "Vaxholm",
                        "paminnelser/2020-08-31/Vaxholm.eml"]
    nothing = lxml.html.fromstring(page(standing, mailings=[]))
    assert "Inget har skickats ännu" in text(nothing.xpath('//section[@id="utskick"]')[0])


def test_a_recipient_allocated_nothing_has_no_status_and_an_empty_case_still_renders():
    standing = case_standing([LedgerEntry("Salem", 0), LedgerEntry("Nykvarn", 0, declined=True)], DEADLINE, TODAY)
    doc = lxml.html.fromstring(page(standing, mailings=[]))
    statuses = [text(tr.xpath("./td")[-1]) for tr in doc.xpath('//table[@class="ledger"]/tbody/tr')]
    assert statuses == ["–", "Avstår"]
    assert [text(p) for p in doc.xpath('//div[@class="summary"]/p')][-1] == "Ingen är försenad."
    empty = lxml.html.fromstring(page(case_standing([], None, TODAY), dates=[], mailings=[]))
    assert empty.xpath('//table[@class="ledger"]/tbody/tr') == [] and empty.xpath('//svg[@class="stack"]') == []


def test_names_from_the_ledger_are_escaped_and_nothing_is_fetched(standing):
    hostile = "<script>alert(1)</script> & Co"
    entries = [LedgerEntry(hostile, 1000), *storsthlm_entries()]
    html = page(case_standing(entries, DEADLINE, TODAY), title="Medel <b>2020</b> & mer", reference="<i>x</i>",
                mailings=[Mailing(dt.datetime(2020, 3, 20, 10, 0), "Beslut & brev", hostile, "utskick/<a>&b.eml")])
    assert "<script>alert" not in html and "<b>2020" not in html and "<i>x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    doc = lxml.html.fromstring(html)
    assert doc.xpath("//script") == []
    assert text(doc.xpath("//h1")[0]) == "Medel <b>2020</b> & mer"
    assert text(doc.xpath('//table[@class="ledger"]/tbody/tr/td')[0]) == hostile
    links = doc.xpath("//@src | //@href")
    assert not [link for link in links if re.match(r"\s*(https?:|//)", link, re.I)]
    assert all(":" not in link or link.startswith(("data:", "mailto:")) for link in links)
    csp = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')[0]
    assert "default-src 'none'" in csp and "script-src" not in csp


def test_write_status_page_replaces_the_file_whole_and_returns_its_sha256(standing, tmp_path):
    path = tmp_path / STATUS_FILE
    path.write_text("gammal sida", encoding="utf-8")
    digest = write_status_page(path, standing, title=TITLE, reference=REFERENCE, dates=DATES, mailings=[])
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert path.read_text(encoding="utf-8") == page(standing, mailings=[])
    assert [p.name for p in tmp_path.iterdir()] == [STATUS_FILE]


def test_the_page_and_the_report_share_one_stylesheet(standing):
    from importlib import resources

    css = resources.files("processor.templates").joinpath("page.css.j2").read_text(encoding="utf-8")
    assert css.strip() and css.strip() in page(standing)


# --- in a real browser --------------------------------------------------------------------------

@pytest.fixture
def status_html(standing, tmp_path) -> Path:
    path = tmp_path / STATUS_FILE
    write_status_page(path, standing, title=TITLE, reference=REFERENCE, dates=DATES, mailings=storsthlm_mailings())
    return path


def test_chromium_renders_the_status_page_without_errors(status_html, tmp_path):
    shot = tmp_path / "status.png"
    rendered = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", status_html.as_uri())
    assert rendered.returncode == 0, rendered.stderr
    assert console_messages(rendered.stderr) == []
    width, height, variety = png_size_and_variety(shot)
    assert (width, height) == (1280, 2000) and variety > 100

    dumped = chromium(tmp_path, "--dump-dom", status_html.as_uri())
    assert console_messages(dumped.stderr) == []
    assert text(lxml.html.fromstring(dumped.stdout).xpath("//h1")[0]) == TITLE


def test_the_status_page_prints_on_a4(status_html, tmp_path):
    pdf = tmp_path / "status.pdf"
    printed = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", status_html.as_uri())
    assert printed.returncode == 0, printed.stderr
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    assert boxes and {tuple(sorted((round(float(w)), round(float(h))))) for w, h in boxes} == {(595, 842)}


WHOLE_PAGE_PROBE = OVERFLOW_PROBE.replace('"header *, #oversikt *"', '"header *, main *"')


@pytest.mark.parametrize("width", [1024, 1440])
def test_nothing_on_the_status_page_leaves_its_box_at_common_screen_widths(status_html, tmp_path, width):
    assert WHOLE_PAGE_PROBE != OVERFLOW_PROBE
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", status_html.read_text(encoding="utf-8"))
    probe = tmp_path / "bredd.html"
    probe.write_text(html.replace("</body>", WHOLE_PAGE_PROBE), encoding="utf-8")
    dumped = chromium(tmp_path, "--headless=new", f"--window-size={width},900", "--dump-dom", probe.as_uri())
    assert console_messages(dumped.stderr) == []
    assert json.loads(lxml.html.fromstring(dumped.stdout).get("data-overflow")) == []
