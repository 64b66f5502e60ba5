"""``rapport.html``: one self-contained page to review a run before anything is mailed.

The page is rendered from ``fordelning.json`` (the result), the files in the run folder and
the send journal ``utskick/skickat.jsonl``. What the JSON does not hold (the bases, the
case's date and reference, warnings about the outbox) is taken from the Case at run time and
embedded in the page itself as a JSON data block (``<script type="application/json" id="data">``).
Both at run time and when ``refresh_report`` re-renders the page after ``send``, the case is read
back from these two (``result.read_back``) and shown through its presentation, so the page's
table and words are the appendix's and the letters', and a refreshed page is the page the run wrote.
Everything from the workbook is escaped by Jinja2's autoescape; a Content-Security-Policy with
hashes lets only the page's own style and sorting script run, and nothing can be fetched.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from processor import __version__, formats
from processor.charts import composition_chart, recipient_chart
from processor.checksums import Checksums, FileEntry, folder_files
from processor.describe import count, rounding_unit
from processor.errors import InputError, Problem
from processor.layout import MANIFEST_FILE, REPORT_FILE, RESULT_FILE, RunLayout
from processor.mail import outbox_warnings
from processor.model import Allocation, Case
from processor.pages import block_digest, page_environment, share_text, when, write_atomically
from processor.presentation import CellValue, Column, Presentation, basis_columns, present
from processor.run_listing import build_files, build_mailing
from processor.vocabulary import COMMITTEE, DATE, DEPARTMENT, OFFICER, REFERENCE, SENDER_NAME

TEMPLATE = "rapport.html.j2"
DATA_FORMAT = 1
SHOWN_FIELDS = (REFERENCE, DATE, SENDER_NAME, DEPARTMENT, COMMITTEE, OFFICER)
PALETTE = ("#2f6db5", "#e8a33d", "#2a9d78", "#c8588f", "#6cb4e4", "#d9612b", "#7a5ea8", "#9a9a3a",
           "#5c6670", "#e3c41a")
_DATA_BLOCK = re.compile(r'<script type="application/json" id="data">(.*?)</script>', re.S)


# --- writing and refreshing ---------------------------------------------------------------------

def write_report(case: Case, allocation: Allocation, run_dir: Path, checksums: Checksums, *,
                 created: dt.datetime | None = None, result: dict | None = None) -> tuple[Path, str]:
    """Write ``rapport.html`` at run time (after every other file but the manifest): its path and SHA-256.

    The files are those ``checksums`` records (everything the run wrote), with their checksums. ``result`` is the
    folder's ``fordelning.json`` when it is more than the case and allocation tell (a later round).
    """
    from processor.result import result_document

    run_dir = Path(run_dir)
    created = created or dt.datetime.now().astimezone()
    html = render_report(result or result_document(case, allocation), report_extras(case, allocation, created), run_dir,
                         checksums=checksums, listing=checksums.listing())
    return write_atomically(run_dir / REPORT_FILE, html)


def refresh_report(run_dir: Path, checksums: Checksums | None = None, *,
                   now: dt.datetime | None = None) -> tuple[Path, str]:
    """Re-render ``rapport.html`` from ``fordelning.json``, its embedded data and the folder (after ``send``).

    The folder is walked once; every file listed is hashed into ``checksums`` (a new record if none is
    given). → Its path and SHA-256.
    """
    run_dir = Path(run_dir)
    result = read_result(run_dir)
    extras = read_embedded_data(run_dir / REPORT_FILE)
    html = render_report(result, extras, run_dir, refreshed=now or dt.datetime.now().astimezone(),
                         checksums=checksums or Checksums(run_dir))
    return write_atomically(run_dir / REPORT_FILE, html)


def read_result(run_dir: Path) -> dict:
    """``fordelning.json`` of a run folder, or an input error saying what to do."""
    path = Path(run_dir) / RESULT_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError([Problem(str(path), "resultatet saknas eller går inte att läsa, så rapporten kan inte "
                                             "uppdateras. Kör processor run igen för en ny körmapp.")]) from None


def read_embedded_data(path: Path) -> dict:
    """The JSON data block of an existing report (what ``fordelning.json`` does not hold)."""
    try:
        match = _DATA_BLOCK.search(Path(path).read_text(encoding="utf-8"))
        data = json.loads(match.group(1)) if match else None
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("format") != DATA_FORMAT:
        raise InputError([Problem(str(path), "rapporten saknas eller har ändrats så att dess data inte går att läsa. "
                                             "Kör processor run igen för en ny körmapp med en ny rapport.")])
    return data


# --- what the JSON lacks, from the Case ----------------------------------------------------------

def report_extras(case: Case, allocation: Allocation, created: dt.datetime) -> dict:
    """The embedded data: bases, shown case fields and outbox warnings, all JSON-ready."""
    columns = list(basis_columns(case))
    fields = []
    for name in SHOWN_FIELDS:
        value = case.info.fields.get(name)
        if isinstance(value, dt.date):
            fields.append([name, formats.long_date(value)])
        elif value not in (None, ""):
            fields.append([name, str(value)])
    return {
        "format": DATA_FORMAT,
        "created": created.isoformat(timespec="seconds"),
        "source": case.source,
        "fields": fields,
        "basis_columns": columns,
        "bases": [[_decimal_text(r.bases.get(c)) for c in columns] for r in case.recipients],
        "warnings": outbox_warnings(case, allocation),
    }


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# --- the page -----------------------------------------------------------------------------------

def render_report(result: dict, extras: dict, run_dir: Path, refreshed: dt.datetime | None = None, *,
                  checksums: Checksums | None = None, listing: Sequence[FileEntry] | None = None) -> Iterator[str]:
    """The page as pieces of text, to write as they come (for 10 000 recipients it is megabytes).

    ``listing``: the folder's files, when the caller knows them; else the folder is walked.
    """
    template = page_environment().get_template(TEMPLATE)
    listing = folder_files(run_dir) if listing is None else listing
    page = build_page(result, extras, Path(run_dir), refreshed, checksums=checksums or Checksums(run_dir),
                      listing=listing)
    csp = (f"default-src 'none'; style-src '{block_digest(template, 'style')}'; "
           f"script-src '{block_digest(template, 'script')}'; img-src data:; base-uri 'none'; form-action 'none'")
    return template.generate(page=page, data=extras, csp=csp)


def read_view(result: dict, extras: dict) -> Presentation:
    """The run's presentation, from the result and the page's embedded bases."""
    from processor.result import read_back, round_figures

    return present(*read_back(result, extras.get("basis_columns") or [], extras.get("bases") or []),
                   round_figures(result))


def build_page(result: dict, extras: dict, run_dir: Path, refreshed: dt.datetime | None, *,
               checksums: Checksums, listing: Sequence[FileEntry]) -> dict:
    """Everything the template shows, already formatted in Swedish."""
    view = read_view(result, extras)
    recipients = result["recipients"]
    colors = {p["name"]: PALETTE[i % len(PALETTE)] for i, p in enumerate(result["posts"])}
    layout = RunLayout.for_recipients(run_dir, [r["name"] for r in recipients])
    mailing = build_mailing(result, layout, listing)
    warnings = list(dict.fromkeys([*result.get("warnings", []), *extras.get("warnings", []), *consistency(result)]))
    return {
        "title": result["title"],
        "facts": build_facts(extras, refreshed),
        "figures": build_figures(result, mailing),
        "summary": summary_sentences(result, view),
        "warnings": warnings,
        "areas": build_areas(view, colors),
        "composition": composition_chart(result, colors) if len(result["posts"]) > 1 else None,
        "legend": [{"name": p["name"], "color": colors[p["name"]]} for p in result["posts"]],
        "chart": recipient_chart(result, colors),
        "table": build_table(view),
        "mailing": mailing,
        "files": build_files(layout, recipients, checksums, listing),
        "manifest_written": any(entry.path == MANIFEST_FILE for entry in listing),
        "rounding": view.rounding_words,
        "total": formats.kronor(result["total"]),
        "total_share": share_text(result["total"], result["total"]),
        "version": __version__,
    }


def build_facts(extras: dict, refreshed: dt.datetime | None) -> list[tuple[str, str]]:
    """The case's reference line: Diarienummer, Datum, … and when the run was made."""
    facts = [(name, value) for name, value in extras.get("fields", [])]
    if extras.get("source"):
        facts.append(("Arbetsbok", extras["source"]))
    created = _parse_time(extras.get("created"))
    if created:
        facts.append(("Körningen gjord", when(created)))
    if refreshed:
        facts.append(("Sidan uppdaterad", when(refreshed)))
    return facts


def _parse_time(text) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None


def build_figures(result: dict, mailing: dict) -> list[dict]:
    """The key figure cards at the top."""
    recipients = result["recipients"]
    paid = sum(1 for r in recipients if r["total"] > 0)
    declining = sum(1 for r in recipients if _declining(r))
    who = f"{paid} får pengar" + (f", {declining} avstår" if declining else "")
    carried = result["carried_over"]
    figures = [
        {"label": "Att fördela", "value": formats.kronor(result["total"]),
         "note": formats.mnkr(result["total"]) if result["total"] >= 100_000 else "",
         "main": True},
        {"label": "Årets medel", "value": formats.kronor(result["total"] - carried), "note": "beviljat för året"},
        {"label": "Överfört", "value": formats.kronor(carried),
         "note": "från tidigare år, läggs till" if carried else "inget från tidigare år"},
        {"label": "Mottagare", "value": str(len(recipients)), "note": who},
        {"label": "Poster", "value": str(len(result["posts"])), "note": f"avrundat till {rounding_unit(result['rounding'])}"},
        {"label": "Utskick", "value": mailing["headline"], "note": mailing["note"]},
    ]
    return [{"main": False, **figure} for figure in figures]


def _additions_in_words(recipients: list[dict]) -> str:
    """A round's additions in a sentence: how much, to how many, each with its letter."""
    gained = sum(1 for r in recipients if r["addition"] > 0)
    if not gained:
        return "ingen mottagare får något tillägg."
    letters = "som får ett tilläggsbrev" if gained == 1 else "som får var sitt tilläggsbrev"
    return (f"{formats.kronor(sum(r['addition'] for r in recipients))} läggs till hos "
            f"{count(gained, 'mottagare', 'mottagare')}, {letters}.")


def summary_sentences(result: dict, view: Presentation) -> list[str]:
    """The split in two or three plain sentences."""
    recipients = result["recipients"]
    total, carried = result["total"], result["carried_over"]
    posts = result["posts"]
    shared = total - result.get("unallocated", 0)  # a later round may leave some with no one, to repay
    rounded = f" ({formats.mnkr(shared)})" if shared >= 100_000 else ""
    first = f"{formats.kronor(shared)}{rounded} fördelas på {count(len(recipients), 'mottagare', 'mottagare')}"
    if len(posts) == 1:
        first += f", {view.posts[0].method_words.removeprefix('fördelas ')}"
    else:
        first += f" i {count(len(posts), 'post', 'poster')}"
    if carried and shared == total:
        first += f": {formats.kronor(total - carried)} för året och {formats.kronor(carried)} överfört från tidigare år"
    sentences = [first + "."]
    paid = [r for r in recipients if r["total"] > 0]
    if len(paid) > 1:
        top = max(paid, key=lambda r: r["total"])
        low = min(paid, key=lambda r: r["total"])
        sentences.append(f"Störst belopp får {top['name']} ({formats.kronor(top['total'])}), minst {low['name']} "
                         f"({formats.kronor(low['total'])}).")
    declining = [r["name"] for r in recipients if _declining(r)]
    if declining:
        sentences.append(f"{', '.join(declining)} avstår; deras andel fördelas på de övriga.")
    if "round" in result:
        sentences.append(f"Omfördelning, omgång {result['round']}: {_additions_in_words(recipients)}"
                         + (f" Ej fördelat: {formats.kronor(result['unallocated'])}, att betala tillbaka."
                            if result.get("unallocated") else ""))
    if not consistency(result):
        sentences.append("Kontroll: varje post och totalen stämmer exakt, krona för krona.")
    return sentences


def _declining(recipient: dict) -> bool:
    """Takes no part (the workbook's Deltar), or has declined in a later round."""
    return not recipient["participates"] or "declined_round" in recipient


def consistency(result: dict) -> list[str]:
    """Warnings if the result does not add up (it always should: the report checks rather than trusts)."""
    problems = []
    recipients = result["recipients"]
    for post in result["posts"]:
        given = sum(r["amounts"].get(post["name"], 0) for r in recipients)
        if given != post["amount"]:
            problems.append(f'Posten "{post["name"]}" är {formats.kronor(post["amount"], nbsp=False)} men mottagarna '
                            f"får sammanlagt {formats.kronor(given, nbsp=False)}. Kör processor run igen.")
    given = sum(r["total"] for r in recipients) + result.get("unallocated", 0)  # a later round may leave some
    if given != result["total"]:
        problems.append(f"Mottagarna får sammanlagt {formats.kronor(given, nbsp=False)} men att fördela är "
                        f"{formats.kronor(result['total'], nbsp=False)}. Kör processor run igen.")
    return problems


# --- posts --------------------------------------------------------------------------------------

def build_areas(view: Presentation, colors: dict) -> list[dict]:
    """The posts table: per area its posts (amount, share, method in words, per unit) and subtotal."""
    total = view.allocation.total
    return [{"name": area.name, "subtotal": formats.kronor(area.amount), "subtotal_share": share_text(area.amount, total),
             "show_subtotal": area.has_subtotal,
             "posts": [{"name": post.name, "color": colors[post.name], "amount": formats.kronor(post.amount),
                        "share": share_text(post.amount, total), "method": post.method_words,
                        "per_unit": post.per_unit_words or "",
                        "recipients": count(post.recipient_count, "mottagare", "mottagare")} for post in area.posts]}
            for area in view.areas]


# --- the distribution table ---------------------------------------------------------------------

INDEX_COLUMN = {"label": "Nr", "type": "number", "kind": "index"}


def build_table(view: Presentation) -> dict:
    """Columns (with area headings) and rows, each cell with its shown text and sort value."""
    table = view.table(mail_notes=True)
    columns = [INDEX_COLUMN, *({"label": c.heading, "type": "number" if c.is_number else "text", "kind": c.kind}
                               for c in table.columns)]
    rows = ({"index": i + 1, "declining": not recipient.participates,  # built as the page is written, row by row
             "cells": [{"text": str(i + 1), "sort": str(i + 1), "notes": []},
                       *(table_cell(c, table.cell(c, i)) for c in table.columns)]}
            for i, recipient in enumerate(view.case.recipients))
    totals = ["", *(total_cell(c, table.total(c)) for c in table.columns)]
    area_row = [{"label": "", "span": 1}, *({"label": area or "", "span": span} for area, span in table.area_spans())]
    return {"columns": columns, "rows": rows, "totals": totals, "area_row": area_row if table.has_areas else [],
            "wide": len(columns) > 8, "has_bases": bool(view.basis_columns)}


def table_cell(column: Column, value: CellValue) -> dict:
    """A cell's shown text and sort value (notes as badges)."""
    if column.kind == "note":
        notes = list(value or ())
        return {"text": ", ".join(notes), "sort": ", ".join(notes), "notes": notes}
    if column.is_number:
        return {"text": formats.number(value) if value is not None else "–", "sort": str(value or 0), "notes": []}
    return {"text": value or "", "sort": value or "", "notes": []}


def total_cell(column: Column, value: CellValue) -> str:
    if column.is_number:
        return formats.number(value)
    return value or ""

