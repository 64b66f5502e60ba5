"""The whole batch, measured: every stage, peak memory, end-to-end runs, and the naive docxtpl loop.

    python bench/bench.py                      # 26, 290, 1 000, 1 500, 3 000 and 10 000 recipients, writes bench/RESULTS.md
    python bench/bench.py --sizes 26,290 --no-naive --no-pdf   # a quick look

    # two commits compared with the same script (the old one only needs processor.pipeline.run); the old
    # package with its templates where an installed package has them, so the new templates are not used:
    mkdir -p bench/work/old && git archive OLD processor templates | tar -x -C bench/work/old
    mv bench/work/old/templates bench/work/old/processor/templates
    (cd /tmp && PYTHONPATH=$OLDPWD/bench/work/old python $OLDPWD/bench/bench.py --sizes 290,3000 --repeat 5 \
        --stages-only --json $OLDPWD/bench/work/old.json)
    python bench/bench.py --sizes 290,3000 --repeat 5 --stages-only --json bench/work/new.json
    python bench/bench.py --compare bench/work/old.json bench/work/new.json

A benchmark, not a test: it asserts nothing and writes its figures to bench/RESULTS.md. Work
files go to bench/work/ (git-ignored). The stages are timed by the pipeline's own progress
messages, so what is measured is exactly what ``processor run`` does. Each stage gets its wall
time and its CPU time (the main process's, plus that of the forked workers reaped during the
stage): on a machine shared with other work the CPU time is the figure to compare.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import build_workbook  # noqa: E402

from processor.pipeline import run  # noqa: E402  (the rest is imported where used: an old checkout may lack it)

WORK = Path(__file__).with_name("work")
RESULTS = Path(__file__).with_name("RESULTS.md")
SIZES = (26, 290, 1_000, 1_500, 3_000, 10_000)
MARGIN = (1_500, 3_000)  # the marginal cost per recipient is measured between these sizes, beyond APPENDIX_ATTACHED_MAX
STAGES = [  # (label, the progress message that ends the stage)
    ("read + validate + allocate", "Fördelade"),
    ("check templates", "Mallarna är kontrollerade"),
    ("fordelning.json", "Skrev fordelning.json"),
    ("appendix", "Skrev bilagan"),
    ("ledger", "Skrev uppföljningen"),
    ("decision document", "Skrev tjänsteutlåtandet."),
    ("letters and e-mails", "e-postmeddelanden"),  # written together: each e-mail right after its letter
    ("report", "Skrev rapporten"),
]


def settle() -> None:
    """Let the disk finish what earlier runs left (writeback, the deletion of gigabytes) before timing."""
    os.sync()
    time.sleep(2)


def clocks() -> tuple[float, float]:
    """Wall seconds, and CPU seconds of this process and of its children reaped so far (the forked workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), time.process_time() + children.ru_utime + children.ru_stime


def staged_run(workbook: Path, out: Path) -> dict[str, dict[str, float]]:
    """One in-process run; wall and CPU seconds per stage, from the pipeline's progress messages.

    A forked worker's CPU time counts in the stage that reaps it: the result files made beside the
    template check count in "fordelning.json", the letter workers in "letters and e-mails".
    """
    settle()
    marks: list[tuple[str, float, float]] = []
    start = clocks()
    result = run(workbook, out, progress=lambda message: marks.append((message, *clocks())))
    end = clocks()
    wall, cpu, previous = {}, {}, start
    for label, ending in STAGES:
        stamp = next((mark[1:] for mark in marks if ending in mark[0] and mark[1] >= previous[0]), previous)
        wall[label], cpu[label] = stamp[0] - previous[0], stamp[1] - previous[1]
        previous = stamp
    wall["manifest + rename"], cpu["manifest + rename"] = end[0] - previous[0], end[1] - previous[1]
    wall["total"], cpu["total"] = end[0] - start[0], end[1] - start[1]
    shutil.rmtree(result.run_dir)
    return {"wall": wall, "cpu": cpu}


def best_stages(workbook: Path, out: Path, repeats: int) -> dict[str, dict[str, float]]:
    """Each stage's best wall and best CPU time over ``repeats`` runs (the least disturbed by other work)."""
    runs = [staged_run(workbook, out) for _ in range(repeats)]
    return {measure: {key: min(r[measure][key] for r in runs) for key in runs[0][measure]} for measure in ("wall", "cpu")}


def peak_traced(workbook: Path, out: Path) -> dict:
    """Memory Python allocated during one run (MiB): the peak, the data (case and allocation, held when
    they are made) and the peak of each stage."""
    stages: dict[str, float] = {}
    data = []

    def progress(message: str) -> None:
        current, peak = tracemalloc.get_traced_memory()
        if message.startswith("Fördelade"):
            data.append(current)
        if len(stages) < len(STAGES) and STAGES[len(stages)][1] in message:
            stages[STAGES[len(stages)][0]] = peak / 2**20
            tracemalloc.reset_peak()

    tracemalloc.start()
    result = run(workbook, out, progress=progress)
    stages["manifest + rename"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    shutil.rmtree(result.run_dir)
    return {"peak": max(stages.values()), "data": data[0] / 2**20, "stages": stages}


LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps([time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)]))
"""


def process_run(workbook: Path, out: Path, *extra: str) -> tuple[float, float]:
    """``processor run`` as a process: wall seconds (start-up included) and the max RSS in MiB of it and its
    workers.

    It is started by a small launcher process: Linux counts into a child's max RSS the memory of the
    process it was forked from, and this benchmark has grown large by then.
    """
    command = [sys.executable, "-m", "processor", "run", str(workbook), "--out", str(out), *extra]
    settle()
    before = set(out.iterdir()) if out.is_dir() else set()
    launched = subprocess.run([sys.executable, "-c", LAUNCHER, *command], capture_output=True, text=True, check=True)
    seconds, max_rss, status = json.loads(launched.stdout)
    if status != 0:
        raise RuntimeError(f"processor run failed: {status}")
    for made in set(out.iterdir()) - before:
        shutil.rmtree(made)
    return seconds, max_rss / 1024


def naive_loop(workbook: Path, out: Path, limit: int | None = None) -> tuple[float, int]:
    """docxtpl as its documentation shows, then an EmailMessage with the letter attached, and the appendix
    where the product's e-mails carry it (up to APPENDIX_ATTACHED_MAX recipients): seconds, letters."""
    from docxtpl import DocxTemplate
    from jinja2 import StrictUndefined

    from processor.appendix import appendix_attached, appendix_xlsx
    from processor.documents import letter_indices, prepare_documents
    from processor.pipeline import check
    from processor.sandbox import FILTERS, GuardedSandbox, finalize_word

    env = GuardedSandbox(undefined=StrictUndefined, autoescape=True, finalize=finalize_word)  # no compile cache
    env.filters.update(FILTERS)
    case, allocation = check(workbook)
    batch = prepare_documents(case, allocation, workbook)
    template = batch.letter_template.file.data
    appendix = appendix_xlsx(batch.contexts.view) if appendix_attached(case) else None  # as the product's e-mails
    indices = letter_indices(allocation)[:limit]
    contexts = [batch.contexts.letter(i) for i in indices]
    folder = out / "naive"
    folder.mkdir(parents=True, exist_ok=True)
    import io

    settle()
    start = time.perf_counter()
    for n, (index, context) in enumerate(zip(indices, contexts)):
        letter = folder / f"{n}.docx"
        document = DocxTemplate(io.BytesIO(template))
        document.render(context, jinja_env=env, autoescape=True)
        document.save(letter)
        message = EmailMessage()
        message["From"] = "Äldreförvaltningen <aldre@stad.example>"
        message["To"] = ", ".join(case.recipients[index].emails)
        message["Subject"] = f"{case.info.title} – {case.recipients[index].name}"
        message.set_content("Hej!")
        message.add_attachment(letter.read_bytes(), maintype="application",
                               subtype="vnd.openxmlformats-officedocument.wordprocessingml.document", filename=letter.name)
        if appendix is not None:
            message.add_attachment(appendix, maintype="application",
                                   subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                   filename="Bilaga 1 fördelning.xlsx")
        (folder / f"{n}.eml").write_bytes(message.as_bytes())
    seconds = time.perf_counter() - start
    shutil.rmtree(folder)
    return seconds, len(indices)


def copy_floor(workbook: Path, out: Path, count: int) -> float:
    """Copying the letter template once per letter: the least any letter writer can cost."""
    from processor.documents import prepare_documents
    from processor.pipeline import check

    case, allocation = check(workbook)
    template = out / "template.docx"
    template.write_bytes(prepare_documents(case, allocation, workbook).letter_template.file.data)
    folder = out / "copies"
    folder.mkdir(exist_ok=True)
    start = time.perf_counter()
    for n in range(count):
        shutil.copyfile(template, folder / f"{n}.docx")
    seconds = time.perf_counter() - start
    shutil.rmtree(folder)
    return seconds


def pdf_times(workbook: Path, out: Path) -> tuple[float, float, int]:
    """LibreOffice for every document of a run, best of two each way: both cores as the pipeline does it,
    and one process. (LibreOffice's own times vary by a few seconds from one conversion to the next.)"""
    from processor.documents import convert_to_pdf, find_office

    result = run(workbook, out)
    documents = [result.run_dir / "tjansteutlatande.docx", *sorted((result.run_dir / "brev").glob("*.docx"))]
    office = find_office()
    timings: dict[int | None, float] = {}
    for workers in (None, 1, None, 1):
        for pdf in result.run_dir.rglob("*.pdf"):
            pdf.unlink()
        settle()
        start = time.perf_counter()
        convert_to_pdf(documents, office, workers=workers)
        timings[workers] = min(timings.get(workers, math.inf), time.perf_counter() - start)
    shutil.rmtree(result.run_dir)
    return timings[None], timings[1], len(documents)


def thousands(count: int) -> str:
    """``1 500``, as the figures are written in this project."""
    return f"{count:,}".replace(",", " ")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeat", "--repeats", dest="repeat", type=int, default=2,
                        help="in-process runs per size; each stage's best wall and best CPU time are kept")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive docxtpl loop")
    parser.add_argument("--no-pdf", action="store_true", help="skip LibreOffice")
    parser.add_argument("--stages-only", action="store_true",
                        help="only the in-process stage times (no memory, command, naive loop or PDF)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--work", type=Path, default=WORK,
                        help="where the runs are written (e.g. a folder in /dev/shm, to leave the disk's noise out)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here, for --compare")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"),
                        help="print the stage times of two --json files side by side, and nothing else")
    args = parser.parse_args(argv)
    if args.compare:
        print(comparison(*(json.loads(path.read_text(encoding="utf-8")) for path in args.compare)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in sizes:
        folder = args.work / f"n{size}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        workbook = folder / f"bench_{size}.xlsx"
        build_workbook(workbook, size)
        best = best_stages(workbook, folder / "ut", args.repeat)
        row = {"size": size, "stages": best["wall"], "cpu": best["cpu"]}
        if args.stages_only:
            rows.append(row)
            print(f"{size} recipients: {row['stages']['total']:.2f} s in process ({row['cpu']['total']:.2f} s CPU)",
                  flush=True)
            continue
        row["peak"] = peak_traced(workbook, folder / "ut")
        row["process"] = min((process_run(workbook, folder / "ut") for _ in range(2)),
                             key=lambda t: t[0])
        if not args.no_naive and size in MARGIN:
            row["naive"] = naive_loop(workbook, folder)
        if size in MARGIN:
            row["copy"] = copy_floor(workbook, folder, size)
        if not args.no_pdf and size == 290:
            row["pdf"] = pdf_times(workbook, folder / "ut")
        rows.append(row)
        print(f"{size} recipients: {row['stages']['total']:.2f} s in process ({row['cpu']['total']:.2f} s CPU), "
              f"{row['process'][0]:.2f} s as a command", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "date": dt.datetime.now().isoformat(timespec="minutes"),
                                         "repeat": args.repeat, "rows": rows}, indent=1), encoding="utf-8")
        print(f"Wrote {args.json}")
    if not args.stages_only:
        args.out.write_text(report(rows), encoding="utf-8")
        print(f"Wrote {args.out}")
    return 0


def comparison(before: dict, after: dict) -> str:
    """Markdown: per size, each stage's best wall and CPU time before and after."""
    lines = [f"Before: {before['date']}, best of {before['repeat']}; after: {after['date']}, best of {after['repeat']}. "
             "CPU is the main process's plus the forked workers'.", ""]
    old = {row["size"]: row for row in before["rows"]}
    for row in after["rows"]:
        if row["size"] not in old:
            continue
        was = old[row["size"]]
        lines += [f"| stage at {thousands(row['size'])} | wall before | wall after | CPU before | CPU after |",
                  "|---|---:|---:|---:|---:|"]
        for label in row["stages"]:
            lines.append(f"| {label} | {was['stages'].get(label, 0):.3f} s | {row['stages'][label]:.3f} s | "
                         f"{was['cpu'].get(label, 0):.3f} s | {row['cpu'][label]:.3f} s |")
        lines.append("")
    return "\n".join(lines)


def report(rows: list[dict]) -> str:
    from processor.appendix import APPENDIX_ATTACHED_MAX

    labels = [label for label, _ in STAGES] + ["manifest + rename", "total"]
    lines = [
        "# Benchmark: the whole batch",
        "",
        f"Made by `python bench/bench.py` on {dt.date.today().isoformat()}: {machine()}. Stage times are the best of the "
        "in-process runs, read from the pipeline's own progress messages; \"command\" is `processor run` as a process "
        "(start-up included, no PDF) with its max RSS; peak traced is what Python allocated during one run (tracemalloc), "
        "in the main process (the forked workers each hold one chunk of letters at a time). Before each timed run the "
        "disk is synced, so that the deletion of the previous run's gigabytes is not timed with the next run.",
        "",
        "Workbook: a 50/50 weighted key, a per-recipient post and a fixed rest post; every recipient has an address, "
        "so each gets a letter and an e-mail with the letter attached, and the appendix as well up to "
        f"{thousands(APPENDIX_ATTACHED_MAX)} recipients (beyond that the letter says the whole table is sent on request).",
        "",
        "| stage | " + " | ".join(f"{r['size']:,}".replace(",", " ") for r in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for label in labels:
        lines.append(f"| {label} | " + " | ".join(f"{r['stages'][label]:.3f} s" for r in rows) + " |")
    lines.append("| CPU, total (with the workers) | " + " | ".join(f"{r['cpu']['total']:.3f} s" for r in rows) + " |")
    lines.append("| command, wall | " + " | ".join(f"{r['process'][0]:.2f} s" for r in rows) + " |")
    lines.append("| command, max RSS (with its workers) | " + " | ".join(f"{r['process'][1]:.0f} MiB" for r in rows) + " |")
    lines.append("| peak traced | " + " | ".join(f"{r['peak']['peak']:.1f} MiB" for r in rows) + " |")
    lines.append("| of which the data (case and allocation) | " + " | ".join(f"{r['peak']['data']:.1f} MiB" for r in rows) + " |")
    lines += ["", "Peak traced memory by stage (what the main process held at most while the stage ran):", "",
              "| stage | " + " | ".join(f"{r['size']:,}".replace(",", " ") for r in rows) + " |",
              "|---|" + "---:|" * len(rows)]
    for label in labels[:-1]:
        lines.append(f"| {label} | " + " | ".join(f"{r['peak']['stages'].get(label, 0):.1f} MiB" for r in rows) + " |")
    lines += ["", "CPU time by stage (the main process's, plus that of the forked workers reaped during the stage: the "
              "result files made beside the template check count in fordelning.json), best of the in-process runs:", "",
              "| stage | " + " | ".join(thousands(r["size"]) for r in rows) + " |", "|---|" + "---:|" * len(rows)]
    for label in labels:
        lines.append(f"| {label} | " + " | ".join(f"{r['cpu'][label]:.3f} s" for r in rows) + " |")
    by_size = {r["size"]: r for r in rows}
    low, high = MARGIN
    lines += ["", f"## Marginal cost per recipient (letter and e-mail), between {thousands(low)} and {thousands(high)}", ""]
    if low in by_size and high in by_size:
        small, large = by_size[low], by_size[high]
        ours = (large["stages"]["letters and e-mails"] - small["stages"]["letters and e-mails"]) / (high - low)
        lines.append(f"- processor: {ours * 1000:.2f} ms a recipient")
        if "naive" in small and "naive" in large:
            naive = (large["naive"][0] - small["naive"][0]) / (large["naive"][1] - small["naive"][1])
            lines.append(f"- naive docxtpl loop (load, render, save, then an EmailMessage with the letter attached, "
                         f"as the product's e-mails at these sizes): {naive * 1000:.2f} ms a recipient")
            lines.append(f"- ratio: **{naive / ours:.1f}×** (goal at least 20×, aim 30×)")
        copy = (large["copy"] - small["copy"]) / (high - low)
        lines.append(f"- copy floor (copying the template file per letter): {copy * 1000:.3f} ms a letter")
    if any("pdf" in r for r in rows):
        pdf = next(r["pdf"] for r in rows if "pdf" in r)
        lines += ["", "## PDF (290 recipients, best of two conversions each way)", "",
                  f"- {pdf[2]} documents: {pdf[0]:.1f} s with one LibreOffice per core, {pdf[1]:.1f} s with one "
                  f"process ({pdf[1] / pdf[0]:.2f}× faster)"]
    lines += ["", "## Goals (issues 6 and 16), judged from the figures above", ""] + verdicts(by_size)
    return "\n".join(lines) + "\n"


def verdicts(by_size: dict[int, dict]) -> list[str]:
    """Each goal: met or not, with the figure it rests on."""
    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    lines = []
    low, high = MARGIN
    small, large = by_size.get(low), by_size.get(high)
    between = f"between {thousands(low)} and {thousands(high)} recipients"
    if small and large and "naive" in small and "naive" in large:
        ours = (large["stages"]["letters and e-mails"] - small["stages"]["letters and e-mails"]) / (high - low)
        naive = (large["naive"][0] - small["naive"][0]) / (large["naive"][1] - small["naive"][1])
        lines.append(f"- Marginal cost per recipient {between} at least 20× below the naive loop: "
                     f"{verdict(naive / ours >= 20)} ({naive / ours:.1f}×).")
    if small and large:
        rss = large["process"][1] / small["process"][1] - 1
        traced = large["peak"]["peak"] / small["peak"]["peak"] - 1
        lines.append(f"- Memory {between} growing by under a third: {verdict(rss < 1 / 3)} (command max RSS "
                     f"{small['process'][1]:.0f} → {large['process'][1]:.0f} MiB, {rss:+.0%}; peak traced "
                     f"{small['peak']['peak']:.1f} → {large['peak']['peak']:.1f} MiB, {traced:+.0%}).")
    if 290 in by_size:
        seconds = by_size[290]["process"][0]
        lines.append(f"- 290 recipients end to end as a process within about 2 s: {verdict(seconds <= 2.2)} ({seconds:.2f} s).")
    if 10_000 in by_size:
        seconds = by_size[10_000]["process"][0]
        lines.append(f"- 10 000 recipients within 20 s: {verdict(seconds <= 20)} ({seconds:.1f} s).")
    if 1_000 in by_size and 10_000 in by_size:
        beyond = {size: by_size[size]["peak"]["peak"] - by_size[size]["peak"]["data"] for size in (1_000, 10_000)}
        growth = (beyond[10_000] - beyond[1_000]) / 9_000 * 1_000
        lines.append(f"- Peak memory not growing with the recipients beyond the data: {verdict(growth < 1)} "
                     f"(beyond the data: {beyond[1_000]:.1f} MiB at 1 000 recipients, {beyond[10_000]:.1f} MiB at "
                     f"10 000, {growth:.2f} MiB more per 1 000 recipients, traced).")
        streamed = {size: by_size[size]["peak"]["stages"]["letters and e-mails"] - by_size[size]["peak"]["data"]
                    for size in (1_000, 10_000)}
        lines.append(f"  - of which the letters and e-mails, written one recipient at a time: "
                     f"{streamed[1_000]:.1f} MiB beyond the data at 1 000, {streamed[10_000]:.1f} MiB at 10 000.")
    pdf = next((r["pdf"] for r in by_size.values() if "pdf" in r), None)
    if pdf:
        lines.append(f"- --pdf for 290 letters in about half the single-process time: {verdict(pdf[0] <= 0.6 * pdf[1])} "
                     f"({pdf[0]:.1f} s against {pdf[1]:.1f} s).")
    return lines


if __name__ == "__main__":
    sys.exit(main())
