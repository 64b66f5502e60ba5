"""``status.html`` and the text of ``processor status``: where the case stands, for people.

Both start from a ``CaseStanding`` (processor.followup) and what the caller read beside it: the case's
dates (decision, ``Sista dag``, reporting, repayment) and the messages that went out. The page is
self-contained like ``rapport.html``: the same look (``page.css.j2``), autoescaped Jinja, a
Content-Security-Policy that lets only its own style in, no script and nothing fetched from the net.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from processor import __version__, formats, ledger
from processor.describe import count
from processor.followup import (DECLINED, LATE, PAID, REPORTED, REQUESTED, STATUSES, WAITING, CaseStanding,
                                RecipientStanding)
from processor.round_history import RoundRecord
from processor.vocabulary import DEADLINE
from processor.pages import block_digest, page_environment, when, write_atomically

TEMPLATE = "status.html.j2"
DEADLINE_LABEL = DEADLINE
STATUS_COLORS = {DECLINED: "#5c6670", REPORTED: "#2a9d78", PAID: "#2f6db5", REQUESTED: "#6cb4e4",
                 LATE: "#d9612b", WAITING: "#e8a33d"}
"""One colour per status, from the report's palette; every bar and badge also says its status in words."""
STATUS_WORDS = {DECLINED: "har avstått", REPORTED: "har redovisat", PAID: "har fått pengarna utbetalda",
                REQUESTED: "har rekvirerat", LATE: "har inte hört av sig efter sista dag",
                WAITING: "har inte hört av sig än"}


@dataclass(frozen=True)
class Mailing:
    """One message that went out: when, in which mailing (``Beslut och brev``, ``Påminnelse 2020-09-05``),
    to which recipient, and its file in the run folder (relative, e.g. ``utskick/Botkyrka.eml``)."""

    sent_at: dt.datetime
    kind: str
    recipient: str
    file: str | None = None


# --- words --------------------------------------------------------------------------------------

def days_words(date: dt.date, today: dt.date) -> str:
    """``om 12 dagar``, ``i morgon``, ``i dag``, ``i går``, ``för 3 dagar sedan``."""
    days = (date - today).days
    if days == 0:
        return "i dag"
    if days == 1:
        return "i morgon"
    if days == -1:
        return "i går"
    return f"om {days} dagar" if days > 0 else f"för {-days} dagar sedan"


def case_dates(standing: CaseStanding, dates: Sequence[tuple[str, dt.date]]) -> list[tuple[str, dt.date]]:
    """The caller's dates in date order, with ``Sista dag`` from the standing when the caller left it out."""
    shown = list(dates)
    if standing.deadline and all(label != DEADLINE_LABEL for label, _ in shown):
        shown.append((DEADLINE_LABEL, standing.deadline))
    return sorted(shown, key=lambda pair: pair[1])


def status_amounts(standing: CaseStanding) -> dict[str, int]:
    """Kronor allocated to the recipients in each status."""
    return {status: sum(r.entry.allocated for r in standing.with_status(status)) for status in STATUSES}


def outstanding(standing: CaseStanding) -> int:
    """Kronor allocated and neither declined nor invoiced yet."""
    return sum(max(r.entry.allocated - r.entry.requested, 0) for r in standing.recipients if not r.entry.declined)


def status_lines(standing: CaseStanding, dates: Sequence[tuple[str, dt.date]] = ()) -> list[str]:
    """What ``processor status`` prints: the counts and kronor per status, the money, the dates, who is late."""
    counts, amounts = standing.counts, status_amounts(standing)
    headline, money, left, late = summary_sentences(standing, nbsp=False)
    per_status = [f"  {status}: {count(counts[status], 'mottagare', 'mottagare')}, "
                  f"{formats.kronor(amounts[status], nbsp=False)}"
                  for status in STATUSES]
    days = [f"{label}: {formats.long_date(date)}, {days_words(date, standing.today)}."
            for label, date in case_dates(standing, dates)]
    return [headline, *per_status, money, left, *days, late]


def summary_sentences(standing: CaseStanding, nbsp: bool = True) -> list[str]:
    """The case in four sentences: recipients and kronor, the money so far, what is left, who is late
    (amounts with no-break spaces for the page, plain ones for the terminal)."""
    def kr(value: int) -> str:
        return formats.kronor(value, nbsp=nbsp)

    totals = standing.totals
    late = [r.entry.name for r in standing.with_status(LATE)]
    return [f"Läget {formats.long_date(standing.today)}: {count(len(standing.recipients), 'mottagare', 'mottagare')}, "
            f"{kr(totals['allocated'])} tilldelat.",
            f"Rekvirerat {kr(totals['requested'])}, utbetalt {kr(totals['paid'])}, avstått {kr(totals['declined'])}, "
            f"använt enligt redovisningarna {kr(totals['used'])}.",
            f"Kvar att rekvirera: {kr(outstanding(standing))}.",
            f"Försenade ({len(late)}): {', '.join(late)}." if late else "Ingen är försenad."]


# --- the page -----------------------------------------------------------------------------------

def render_status_page(standing: CaseStanding, *, title: str, reference: str | None,
                       dates: Sequence[tuple[str, dt.date]], mailings: Sequence[Mailing],
                       rounds: Sequence[RoundRecord] = ()) -> str:
    """The whole page as text."""
    template = page_environment().get_template(TEMPLATE)
    csp = (f"default-src 'none'; style-src '{block_digest(template, 'style')}'; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    page = build_status_page(standing, title=title, reference=reference, dates=dates, mailings=mailings, rounds=rounds)
    return template.render(page=page, csp=csp)


def write_status_page(path: Path, standing: CaseStanding, *, title: str, reference: str | None,
                      dates: Sequence[tuple[str, dt.date]], mailings: Sequence[Mailing],
                      rounds: Sequence[RoundRecord] = ()) -> str:
    """Write the page beside ``path`` and rename it into place; return its SHA-256 (for the manifest)."""
    html = render_status_page(standing, title=title, reference=reference, dates=dates, mailings=mailings, rounds=rounds)
    return write_atomically(Path(path), [html])[1]


def build_status_page(standing: CaseStanding, *, title: str, reference: str | None,
                      dates: Sequence[tuple[str, dt.date]], mailings: Sequence[Mailing],
                      rounds: Sequence[RoundRecord] = ()) -> dict:
    """Everything the template shows, already formatted in Swedish."""
    facts = [("Diarienummer", reference)] if reference else []
    facts.append(("Läget", formats.long_date(standing.today)))
    if standing.deadline:
        facts.append((DEADLINE_LABEL, f"{formats.long_date(standing.deadline)} "
                                      f"({days_words(standing.deadline, standing.today)})"))
    return {
        "title": title,
        "facts": facts,
        "figures": build_figures(standing),
        "summary": summary_sentences(standing),
        "bars": status_bars(standing),
        "table": build_table(standing),
        "timeline": build_timeline(standing, dates),
        "mailings": build_mailings(mailings),
        "rounds": build_rounds(rounds),
        "version": __version__,
    }


def build_rounds(rounds: Sequence[RoundRecord]) -> list[dict]:
    """The case's rounds, the first first (empty for a first round): folder, date, kronor freed, who gained."""
    return [{"number": r.number, "folder": r.folder, "found": r.found,
             "date": formats.long_date(r.made) if r.made else "", "iso": r.made.isoformat() if r.made else "",
             "freed": formats.kronor(r.freed) if r.number > 1 else "", "declined": ", ".join(r.declined),
             "gained": ", ".join(r.gained), "gained_count": len(r.gained),
             "allocated": formats.kronor(r.allocated), "unallocated": formats.kronor(r.unallocated)}
            for r in rounds]


def build_figures(standing: CaseStanding) -> list[dict]:
    """The figure tiles: allocated, requested, paid, declined, used, late."""
    totals, counts = standing.totals, standing.counts
    counted = sum(counts.values())
    late = standing.with_status(LATE)
    invoiced = sum(1 for r in standing.recipients if r.entry.requested > 0)
    reported = counts[REPORTED]
    figures = [
        {"label": "Tilldelat", "value": formats.kronor(totals["allocated"]), "main": True,
         "note": f"till {count(counted, 'mottagare', 'mottagare')}"},
        {"label": "Rekvirerat", "value": formats.kronor(totals["requested"]),
         "note": f"av {count(invoiced, 'mottagare', 'mottagare')}; kvar {formats.kronor(outstanding(standing))}"},
        {"label": "Utbetalt", "value": formats.kronor(totals["paid"]),
         "note": f"till {count(counts[PAID] + reported, 'mottagare', 'mottagare')}"},
        {"label": "Avstått", "value": formats.kronor(totals["declined"]),
         "note": f"{count(counts[DECLINED], 'mottagare', 'mottagare')} avstår"},
        {"label": "Använt", "value": formats.kronor(totals["used"]),
         "note": f"enligt {count(reported, 'redovisning', 'redovisningar')}"},
        {"label": "Försenade", "value": str(len(late)),
         "note": "har inte rekvirerat efter sista dag" if late else "ingen är sen"},
    ]
    return [{"main": False, **figure} for figure in figures]


BAR_WIDTH = 960
BAR_ROW = 30
BAR_LABEL = 120
BAR_TEXT = 290


def status_bars(standing: CaseStanding) -> dict:
    """One bar per status (kronor allocated, with count and kronor in words) and the whole as one stacked bar."""
    counts, amounts = standing.counts, status_amounts(standing)
    whole = sum(amounts.values())
    top = max(amounts.values(), default=0) or 1
    plot = BAR_WIDTH - BAR_LABEL - BAR_TEXT
    rows, x, stack = [], 0.0, []
    for n, status in enumerate(STATUSES):
        width = plot * amounts[status] / top
        words = f"{count(counts[status], 'mottagare', 'mottagare')}, {formats.kronor(amounts[status])}"
        rows.append({"status": status, "color": STATUS_COLORS[status], "y": n * BAR_ROW + 6, "text_y": n * BAR_ROW + 21,
                     "x": BAR_LABEL, "width": round(max(width, 2 if counts[status] else 0), 2),
                     "end": round(BAR_LABEL + width + 8, 2), "words": words})
        if whole and amounts[status]:
            part = BAR_WIDTH * amounts[status] / whole
            stack.append({"x": round(x, 2), "width": round(part, 2), "color": STATUS_COLORS[status],
                          "title": f"{status}: {words}", "label": status if part > 90 else ""})
            x += part
    return {"width": BAR_WIDTH, "height": len(STATUSES) * BAR_ROW + 6, "label_x": BAR_LABEL - 10, "rows": rows,
            "stack": stack}


COLUMNS = (ledger.NAME, ledger.ALLOCATED, ledger.DECLINED, ledger.REQUESTED, ledger.INVOICE_DATE, ledger.PAID, ledger.USED,
           ledger.REPORTED, "Status")  # the ledger's own words, as the administrator reads them there
NUMBER_COLUMNS = set(ledger.AMOUNT_COLUMNS)


def build_table(standing: CaseStanding) -> dict:
    """The ledger's values per recipient with its status; the late ones marked."""
    totals = standing.totals
    return {"columns": [{"label": c, "num": c in NUMBER_COLUMNS} for c in COLUMNS],
            "rows": [table_row(r) for r in standing.recipients],
            "totals": [f"Summa ({len(standing.recipients)})", formats.number(totals["allocated"]), "",
                       formats.number(totals["requested"]), "", formats.number(totals["paid"]),
                       formats.number(totals["used"]), "", ""]}


def table_row(recipient: RecipientStanding) -> dict:
    entry = recipient.entry

    def amount(value: int | None, blank_zero: bool = True) -> str:
        return "–" if value is None or (blank_zero and value == 0) else formats.number(value)

    def date(value: dt.date | None) -> str:
        return value.isoformat() if value else "–"

    return {"name": entry.name, "late": recipient.status == LATE, "declined": recipient.status == DECLINED,
            "status": recipient.status or "–", "color": STATUS_COLORS.get(recipient.status),
            "cells": [formats.number(entry.allocated), ledger.YES if entry.declined else "", amount(entry.requested),
                      date(entry.invoice_date), amount(entry.paid), amount(entry.used, blank_zero=False),
                      date(entry.reported)]}


def build_timeline(standing: CaseStanding, dates: Sequence[tuple[str, dt.date]]) -> list[dict]:
    """The case's dates and today, in date order, each with the days left or passed in words."""
    today = standing.today
    shown = case_dates(standing, dates)
    items = [{"label": label, "date": formats.long_date(date), "iso": date.isoformat(),
              "words": days_words(date, today), "state": "past" if date < today else "future" if date > today else "today"}
             for label, date in shown]
    now = {"label": "I dag", "date": formats.long_date(today), "iso": today.isoformat(), "words": "", "state": "now"}
    items.insert(sum(1 for _, date in shown if date <= today), now)
    return items


def build_mailings(mailings: Sequence[Mailing]) -> dict:
    """What went out, oldest first, and per mailing how many messages and when."""
    ordered = sorted(mailings, key=lambda m: (m.sent_at, m.kind, m.recipient))
    groups: dict[str, list[Mailing]] = {}
    for mailing in ordered:
        groups.setdefault(mailing.kind, []).append(mailing)
    summary = [{"kind": kind, "count": count(len(sent), "meddelande", "meddelanden"),
                "first": when(sent[0].sent_at), "last": when(sent[-1].sent_at)} for kind, sent in groups.items()]
    rows = [{"when": when(m.sent_at), "iso": m.sent_at.isoformat(timespec="minutes"), "kind": m.kind,
             "recipient": m.recipient, "file": m.file or "", "href": quote(Path(m.file).as_posix()) if m.file else None}
            for m in ordered]
    return {"summary": summary, "rows": rows}
