"""Measure the core: reading + validating a workbook, and allocating it, at growing sizes.

Run ``python bench/bench_core.py`` from the project folder. It builds workbooks of 26, 290,
1 000 and 10 000 recipients with a realistic model (development money by a weighted key,
base support per recipient, the rest fixed to a coordinating administration), times
``load_case`` and ``allocate`` separately (best of 3), measures their peak Python memory
with tracemalloc in a separate run (tracing slows the code, so it never runs while timing),
prints a Markdown table and writes it to ``bench/RESULTS-core.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

from processor.allocate import allocate
from processor.validate import load_case

SIZES = (26, 290, 1_000, 10_000)
REPEATS = 3
BASE_SUPPORT = 50_000
COORDINATOR = "Samordningsförvaltningen"
RESULTS = Path(__file__).with_name("RESULTS-core.md")


def recipient_rows(count: int, rng: random.Random) -> list[tuple]:
    """The coordinator, then ``count - 1`` municipalities with population, patients and a few decliners."""
    rows = [(COORDINATOR, "samordning@stad.example", "Fackförvaltning", "Ja", None, None, "Anna Andersson")]
    for n in range(1, count):
        population = rng.randint(2_500, 980_000)
        patients = max(1, round(population * rng.uniform(0.008, 0.03)))
        declines = "Nej" if rng.random() < 0.03 else "Ja"
        rows.append((f"Kommun {n:05d}", f"registrator@kommun{n:05d}.example", "Kommun", declines,
                     population, patients, f"Kontakt {n}"))
    return rows


def build_workbook(path: Path, count: int) -> int:
    """Write the workbook for ``count`` recipients; returns how many municipalities take part."""
    rng = random.Random(count)
    recipients = recipient_rows(count, rng)
    taking_part = sum(1 for row in recipients[1:] if row[3] == "Ja")
    development = 1_000_000 * count
    grant = development + BASE_SUPPORT * taking_part + 6_710_007 - 11_500_000
    book = Workbook(write_only=True)
    case = book.create_sheet("Ärende")
    for row in [("Fält", "Värde"), ("Rubrik", "Stimulansmedel God och nära vård 2024"), ("Medel att fördela", grant),
                ("Överfört från tidigare år", 11_500_000), ("Avrundning", 1), ("Diarienummer", "ÄLD 2024/0412"),
                ("Datum", dt.date(2024, 5, 21)), ("Avsändare", "Äldreförvaltningen"),
                ("E-post", "aldreforvaltningen@stad.example"), ("Sista dag", dt.date(2024, 11, 30)),
                ("Fakturaadress", "Äldreförvaltningen, Box 1, 100 00 Stockholm"), ("Fakturareferens", "GNV-2024")]:
        case.append(row)
    sheet = book.create_sheet("Mottagare")
    sheet.append(("Mottagare", "E-post", "Grupp", "Deltar", "Befolkning", "Patienter", "Kontaktperson"))
    for row in recipients:
        sheet.append(row)
    model = book.create_sheet("Fördelning")
    for row in [("Post", "Belopp", "Metod", "Nyckel", "Mottagare", "Område"),
                ("Utvecklingsmedel", development, "nyckel", "Befolkning 50 %, Patienter 50 %", "Kommun", "Utveckling"),
                ("Grundstöd", BASE_SUPPORT, "per mottagare", None, "Kommun", "Utveckling"),
                ("Samordning", "rest", "fast", None, COORDINATOR, "Samordning")]:
        model.append(row)
    book.save(path)
    return taking_part


def best_of(repeats: int, work: Callable[[], object]) -> tuple[float, object]:
    """The shortest wall time of ``repeats`` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_memory(work: Callable[[], object]) -> int:
    """Peak bytes Python allocated while ``work`` ran (tracemalloc)."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(folder: Path, count: int) -> dict:
    path = folder / f"arbetsbok_{count}.xlsx"
    build_workbook(path, count)
    load_seconds, case = best_of(REPEATS, lambda: load_case(path))
    allocate_seconds, allocation = best_of(REPEATS, lambda: allocate(case))
    assert sum(allocation.totals) == case.info.total
    return {
        "recipients": count,
        "file_kib": path.stat().st_size / 1024,
        "load_s": load_seconds,
        "allocate_s": allocate_seconds,
        "load_peak_mib": peak_memory(lambda: load_case(path)) / 2**20,
        "allocate_peak_mib": peak_memory(lambda: allocate(case)) / 2**20,
        "rss_mib": max_rss_mib(),
    }


def max_rss_mib() -> float:
    """The process's peak resident set so far (kilobytes on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def table(rows: list[dict]) -> str:
    lines = ["| recipients | workbook | read + validate | allocate | peak memory, read + validate | "
             "peak memory, allocate | process max RSS so far |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['recipients']:,} | {r['file_kib']:,.0f} KiB | {r['load_s']:.3f} s | {r['allocate_s'] * 1000:.1f} ms "
                     f"| {r['load_peak_mib']:.1f} MiB | {r['allocate_peak_mib']:.2f} MiB | {r['rss_mib']:.0f} MiB |")
    return "\n".join(lines)


def report(rows: list[dict]) -> str:
    return "\n".join([
        "# Core benchmark: read + validate, allocate",
        "",
        f"Made by `python bench/bench_core.py` on {dt.date.today().isoformat()}: Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}. Times are the best of {REPEATS} wall-clock runs; peak memory is "
        "what Python allocated during one separate traced run (tracemalloc); max RSS is the whole process's "
        "high-water mark after that size (it never goes down).",
        "",
        "Model: `Utvecklingsmedel` by `Befolkning 50 %, Patienter 50 %` to group `Kommun`, `Grundstöd` "
        f"{BASE_SUPPORT:,} kr `per mottagare` to `Kommun`, `Samordning` `rest` `fast` to one administration; "
        "about 3 % of the municipalities decline; one text column.",
        "",
        table(rows),
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES), help="numbers of recipients")
    parser.add_argument("--no-write", action="store_true", help=f"print only, do not write {RESULTS.name}")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_core_") as folder:
        for count in args.sizes:
            rows.append(measure(Path(folder), count))
            print(f"{count} recipients measured", file=sys.stderr)
    text = report(rows)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
