"""The hot folder (``processor watch``): its readiness rules on a clock the test turns, then real files,
real filesystem events and a real process for signals."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import DALARNA, STOCKHOLM, processor_command, sha256
from processor.readiness import (Readiness, Verdict, held_open_by, is_not_a_zip, is_whole_workbook, is_workbook_name,
                                 signature)
from processor.watch import LOG_NAME, Watcher, WatchResult, watch

QUIET = 0.5
PATIENCE = 30  # seconds to wait for a result before the test fails; never a claim about speed


class Results:
    """Results as the watcher reports them, taken in order."""

    def __init__(self):
        self._queue: queue.Queue[WatchResult] = queue.Queue()
        self.put = self._queue.put

    def take(self, count: int = 1) -> list[WatchResult]:
        return [self._queue.get(timeout=PATIENCE) for _ in range(count)]

    def left(self) -> list[WatchResult]:
        return list(self._queue.queue)


@contextmanager
def watching(folder: Path, out: Path, quiet: float = QUIET, **options):
    """A watcher on ``folder`` in a thread for the block; stopped through its stop event after."""
    results, stop = Results(), threading.Event()
    watcher = Watcher(folder, out, quiet=quiet, on_result=results.put, **options)
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield results
    finally:
        stop.set()
        thread.join(timeout=PATIENCE)
    assert not thread.is_alive()


def copy_in_pieces(source: Path, target: Path, pause: float, pieces: int = 3) -> None:
    """Write ``source`` to ``target`` a piece at a time, pausing between pieces, as a slow copy does."""
    data = source.read_bytes()
    size = -(-len(data) // pieces)
    with open(target, "wb") as file:
        for start in range(0, len(data), size):
            file.write(data[start:start + size])
            file.flush()
            os.fsync(file.fileno())
            time.sleep(pause)


def run_folders(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))


def input_sha(run_dir: Path) -> str:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["input"]["sha256"]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


class Clock:
    """A clock the test turns by hand: the readiness rules read time only from it."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += seconds


def readiness(quiet: float = 5, give_up_after: float = 60) -> tuple[Readiness, Clock]:
    """Readiness rules that read time only from a clock the test turns, and that clock."""
    clock = Clock()
    return Readiness(quiet=quiet, give_up_after=give_up_after, clock=clock), clock


def look(rules: Readiness, name: str = "bok.xlsx", sig=(100, 1, 7), held_by=None, readable=True) -> Verdict:
    """One look at the folder as the watcher takes it: the file's signature, its holder and whether it reads whole."""
    return rules.verdict(name, sig, held_by=lambda: held_by, readable=lambda: readable)


def test_a_workbook_runs_once_it_has_been_unchanged_for_the_quiet_time():
    rules, clock = readiness()
    assert not look(rules).run
    clock.wait(4.9)
    assert not look(rules).run
    clock.wait(0.1)
    assert look(rules).run


def test_any_change_of_size_time_or_identity_starts_the_quiet_time_again():
    rules, clock = readiness()
    look(rules, sig=(100, 1, 7))
    for changed in [(200, 1, 7), (200, 2, 7), (200, 2, 8)]:
        clock.wait(5)
        assert not look(rules, sig=changed).run
    clock.wait(5)
    assert look(rules, sig=(200, 2, 8)).run


def test_a_copy_that_pauses_longer_than_the_quiet_time_waits_while_the_zip_is_half_written():
    rules, clock = readiness(quiet=0.3)
    look(rules, readable=False)
    clock.wait(1)
    assert not look(rules, readable=False).run
    assert look(rules, readable=True).run


def assert_a_file_that_never_reads_whole_runs_after(seconds: float, **options: float) -> None:
    """Not run a second before ``seconds`` since it was first seen, and run at ``seconds``."""
    rules, clock = readiness(**options)
    look(rules, readable=False)
    clock.wait(seconds - 1)
    assert not look(rules, readable=False).run
    clock.wait(1)
    assert look(rules, readable=False).run


def test_a_file_that_never_reads_whole_is_run_after_the_longest_wait_so_its_fault_is_reported():
    assert_a_file_that_never_reads_whole_runs_after(60, quiet=5, give_up_after=60)


def test_the_longest_wait_is_never_shorter_than_the_quiet_time():
    assert_a_file_that_never_reads_whole_runs_after(10, quiet=10, give_up_after=1)


def test_a_workbook_held_open_is_named_once_and_runs_when_it_is_let_go():
    rules, clock = readiness()
    look(rules, held_by="Excel")
    clock.wait(5)
    assert look(rules, held_by="Excel") == Verdict(held_by="Excel")
    clock.wait(100)
    assert look(rules, held_by="Excel") == Verdict()
    assert look(rules, held_by=None).run


def test_the_file_is_only_read_once_it_has_been_quiet():
    rules, clock = readiness()
    asked = []
    for _ in range(2):
        rules.verdict("bok.xlsx", (1, 1, 1), held_by=lambda: asked.append("held_by"),
                      readable=lambda: asked.append("readable"))
    assert asked == []
    clock.wait(5)
    rules.verdict("bok.xlsx", (1, 1, 1), held_by=lambda: asked.append("held_by"), readable=lambda: asked.append("readable"))
    assert asked == ["held_by", "readable"]


def test_a_workbook_left_in_place_runs_again_only_when_it_changes():
    rules, clock = readiness()
    look(rules)
    clock.wait(5)
    assert look(rules).run
    rules.leave_until_changed("bok.xlsx")
    clock.wait(100)
    assert not look(rules).run
    assert not look(rules, sig=(101, 2, 7)).run
    clock.wait(5)
    assert look(rules, sig=(101, 2, 7)).run


def test_a_file_that_goes_away_or_changes_during_its_run_is_looked_at_afresh():
    rules, clock = readiness()
    look(rules, name="a.xlsx")
    look(rules, name="b.xlsx")
    look(rules, name="c.xlsx")
    clock.wait(5)
    rules.keep_only(["b.xlsx", "c.xlsx"])
    rules.forget("c.xlsx")
    assert not rules.verdict("b.xlsx", None, held_by=lambda: None, readable=lambda: True).run
    assert [look(rules, name=n).run for n in ("a.xlsx", "b.xlsx", "c.xlsx")] == [False, False, False]
    clock.wait(5)
    assert [look(rules, name=n).run for n in ("a.xlsx", "b.xlsx", "c.xlsx")] == [True, True, True]


def test_only_workbook_names_are_candidates():
    assert is_workbook_name("budget.xlsx") and is_workbook_name("Dalarna välfärd 2020.XLSX")
    assert is_workbook_name("makron.xlsm")
    for name in ["~$budget.xlsx", ".~lock.budget.xlsx#", ".dold.xlsx", "spara.tmp", "~spara.xlsx", "anteckning.txt",
                 "gammal.xls", "budget.xlsx.tmp"]:
        assert not is_workbook_name(name), name


def test_what_the_rules_see_of_a_real_file(tmp_path):
    whole = tmp_path / "hel.xlsx"
    shutil.copy(DALARNA, whole)
    cut = tmp_path / "avbruten.xlsx"
    cut.write_bytes(DALARNA.read_bytes()[:4000])
    text = tmp_path / "text.xlsx"
    text.write_text("Mottagare;Befolkning\n", encoding="utf-8")
    assert (is_whole_workbook(whole), is_not_a_zip(whole)) == (True, False)
    assert (is_whole_workbook(cut), is_not_a_zip(cut)) == (False, False)
    assert (is_whole_workbook(text), is_not_a_zip(text)) == (False, True)
    assert signature(whole) == (whole.stat().st_size, whole.stat().st_mtime_ns, whole.stat().st_ino)
    assert signature(tmp_path / "borta.xlsx") is None
    assert held_open_by(whole) is None
    (tmp_path / "~$hel.xlsx").write_bytes(b"owner")
    assert held_open_by(whole) == "Excel"
    (tmp_path / "~$hel.xlsx").unlink()
    (tmp_path / ".~lock.hel.xlsx#").write_text("owner", encoding="utf-8")
    assert held_open_by(whole) == "LibreOffice"


def test_a_workbook_copied_slowly_in_pieces_is_run_once_and_whole(tmp_path):
    folder, out = tmp_path / "inkorg", tmp_path / "ut"
    folder.mkdir()
    with watching(folder, out, quiet=1.0) as results:
        copy_in_pieces(DALARNA, folder / "dalarna_2020.xlsx", pause=0.3)
        [result] = results.take()
    assert result.ok and results.left() == []
    [run_dir] = run_folders(out)
    assert result.run_dir == run_dir
    assert input_sha(run_dir) == sha256(DALARNA)
    assert files_in(folder / "behandlade") == ["dalarna_2020.xlsx"]
    assert sha256(folder / "behandlade" / "dalarna_2020.xlsx") == sha256(DALARNA)


def test_lock_hidden_and_temporary_files_are_left_alone(tmp_path):
    folder, out = tmp_path / "inkorg", tmp_path / "ut"
    folder.mkdir()
    ignored = ["~$budget.xlsx", ".~lock.budget.xlsx#", ".dold.xlsx", "spara.tmp", "~spara.xlsx", "anteckning.txt"]
    for name in ignored:
        shutil.copy(DALARNA, folder / name)
    (folder / "underlag").mkdir()
    shutil.copy(DALARNA, folder / "underlag" / "gammal.xlsx")
    with watching(folder, out) as results:
        shutil.copy(STOCKHOLM, folder / "stockholm_2024.xlsx")
        [result] = results.take()
    assert result.name == "stockholm_2024.xlsx" and results.left() == []
    assert files_in(folder) == sorted([*ignored, LOG_NAME])
    assert files_in(folder / "underlag") == ["gammal.xlsx"]
    assert len(run_folders(out)) == 1


def test_a_workbook_open_in_excel_waits_until_it_is_closed(tmp_path):
    folder, out = tmp_path / "inkorg", tmp_path / "ut"
    folder.mkdir()
    lock = folder / "~$a_oppen.xlsx"
    lock.write_bytes(b"owner")
    shutil.copy(DALARNA, folder / "a_oppen.xlsx")
    with watching(folder, out) as results:
        shutil.copy(STOCKHOLM, folder / "b_stangd.xlsx")
        [first] = results.take()
        assert first.name == "b_stangd.xlsx"
        assert (folder / "a_oppen.xlsx").exists()
        lock.unlink()
        [second] = results.take()
    assert second.name == "a_oppen.xlsx" and second.ok
    assert "Väntar: a_oppen.xlsx är öppen i Excel" in (folder / LOG_NAME).read_text(encoding="utf-8")


def test_a_bad_workbook_lands_in_fel_with_the_messages_validate_prints(tmp_path, workbook, cli):
    folder, out = tmp_path / "inkorg", tmp_path / "ut"
    folder.mkdir()
    bad = workbook("trasig.xlsx", recipients=None)
    _, _, validate_err = cli("validate", bad)
    with watching(folder, out) as results:
        shutil.copy(bad, folder / "trasig.xlsx")
        [result] = results.take()
    assert not result.ok
    assert files_in(folder / "fel") == ["trasig.fel.txt", "trasig.xlsx"]
    report = (folder / "fel" / "trasig.fel.txt").read_text(encoding="utf-8")
    assert report.startswith(validate_err)
    assert "Mottagare" in report and "lägg den i mappen" in report
    assert result.report == folder / "fel" / "trasig.fel.txt"
    assert sha256(folder / "fel" / "trasig.xlsx") == sha256(bad)
    assert not out.exists() or run_folders(out) == []


def test_a_file_that_is_no_workbook_and_one_cut_short_both_land_in_fel(tmp_path):
    folder, out = tmp_path / "inkorg", tmp_path / "ut"
    folder.mkdir()
    (folder / "text.xlsx").write_text("Mottagare;Befolkning\nAvesta;100\n", encoding="utf-8")
    (folder / "avbruten.xlsx").write_bytes(DALARNA.read_bytes()[:4000])
    with watching(folder, out, give_up_after=1.0) as results:
        found = {r.name: r for r in results.take(2)}
    assert not found["text.xlsx"].ok and not found["avbruten.xlsx"].ok
    assert "inte en Excel-arbetsbok" in (folder / "fel" / "text.fel.txt").read_text(encoding="utf-8")
    assert "ofullständig" in (folder / "fel" / "avbruten.fel.txt").read_text(encoding="utf-8")


def test_two_workbooks_dropped_at_once_are_both_run(tmp_path):
    folder, out = tmp_path / "inkorg", tmp_path / "ut"
    folder.mkdir()
    with watching(folder, out) as results:
        shutil.copy(DALARNA, folder / "dalarna_2020.xlsx")
        shutil.copy(STOCKHOLM, folder / "stockholm_2024.xlsx")
        found = results.take(2)
    assert sorted(r.name for r in found) == ["dalarna_2020.xlsx", "stockholm_2024.xlsx"]
    assert all(r.ok for r in found) and results.left() == []
    assert sorted(input_sha(d) for d in run_folders(out)) == sorted([sha256(DALARNA), sha256(STOCKHOLM)])
    assert files_in(folder / "behandlade") == ["dalarna_2020.xlsx", "stockholm_2024.xlsx"]


def test_on_start_it_takes_what_is_waiting_and_again_after_a_restart(tmp_path):
    folder, out = tmp_path / "inkorg", tmp_path / "ut"
    folder.mkdir()
    shutil.copy(DALARNA, folder / "dalarna_2020.xlsx")
    with watching(folder, out) as results:
        [first] = results.take()
    shutil.copy(STOCKHOLM, folder / "stockholm_2024.xlsx")
    with watching(folder, out) as results:
        [second] = results.take()
    assert (first.name, second.name) == ("dalarna_2020.xlsx", "stockholm_2024.xlsx")
    assert len(run_folders(out)) == 2
    log = (folder / LOG_NAME).read_text(encoding="utf-8")
    assert log.count("Bevakningen startade.") == 2 and log.count("Bevakningen avslutades.") == 2
    assert "KLAR  dalarna_2020.xlsx" in log and "KLAR  stockholm_2024.xlsx" in log


def test_the_same_file_name_dropped_twice_is_kept_twice(tmp_path, workbook):
    folder, out = tmp_path / "inkorg", tmp_path / "ut"
    folder.mkdir()
    bad = workbook("trasig.xlsx", case=None)
    with watching(folder, out) as results:
        for source in (DALARNA, DALARNA, bad, bad):
            shutil.copy(source, folder / source.name)
            results.take()
    assert files_in(folder / "behandlade") == ["dalarna_2020.xlsx", "dalarna_2020_2.xlsx"]
    assert files_in(folder / "fel") == ["trasig.fel.txt", "trasig.xlsx", "trasig_2.fel.txt", "trasig_2.xlsx"]
    assert "trasig_2.xlsx" in (folder / "fel" / "trasig_2.fel.txt").read_text(encoding="utf-8")
    assert len(run_folders(out)) == 2


def test_polling_mode_and_folder_names_with_spaces_and_swedish_letters(tmp_path):
    folder, out = tmp_path / "Stimulans medel åäö", tmp_path / "Utdata för år 2024"
    folder.mkdir()
    with watching(folder, out, poll=True) as results:
        shutil.copy(DALARNA, folder / "Dalarna välfärd 2020.XLSX")
        [result] = results.take()
    assert result.ok
    [run_dir] = run_folders(out)
    assert run_dir.name.startswith("Dalarna välfärd 2020_")
    assert files_in(folder / "behandlade") == ["Dalarna välfärd 2020.XLSX"]


def test_an_unexpected_failure_is_reported_in_fel_and_the_watcher_goes_on(tmp_path):
    folder, out = tmp_path / "inkorg", tmp_path / "ut"
    folder.mkdir()
    out.write_text("en fil där körmapparna skulle ligga", encoding="utf-8")
    with watching(folder, out) as results:
        shutil.copy(DALARNA, folder / "dalarna_2020.xlsx")
        [result] = results.take()
    assert not result.ok
    report = (folder / "fel" / "dalarna_2020.fel.txt").read_text(encoding="utf-8")
    assert "oväntat fel" in report and "processor run" in report


def test_watch_function_stops_on_its_stop_event(tmp_path):
    stop = threading.Event()
    stop.set()
    watch(tmp_path / "ny mapp", tmp_path / "ut", quiet=QUIET, stop_event=stop)
    assert (tmp_path / "ny mapp").is_dir()


def test_a_file_given_as_the_folder_is_an_input_error(tmp_path, cli):
    not_a_folder = tmp_path / "fil.txt"
    not_a_folder.write_text("x", encoding="utf-8")
    status, _, err = cli("watch", not_a_folder, "--quiet", "0,5")
    assert status == 2 and "inte en mapp" in err


@pytest.mark.skipif(os.name == "nt", reason="SIGTERM cannot be caught on Windows")
def test_sigterm_during_a_run_lets_it_finish_and_exits_0(tmp_path):
    folder, out = tmp_path / "Stimulans medel åäö", tmp_path / "ut"
    folder.mkdir()
    shutil.copy(DALARNA, folder / "dalarna_2020.xlsx")
    process = subprocess.Popen(processor_command() + ["watch", str(folder), "--out", str(out), "--quiet", str(QUIET)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)
    reader.start()
    try:
        while "Kör dalarna_2020.xlsx" not in lines.get(timeout=PATIENCE):
            pass
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=PATIENCE)
    finally:
        process.kill()
    reader.join(timeout=PATIENCE)
    console = "".join(lines.queue)
    assert status == 0, process.stderr.read()
    assert "Bevakningen avslutades." in console
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
    [run_dir] = run_folders(out)
    assert (run_dir / "manifest.json").is_file()
    assert files_in(folder / "behandlade") == ["dalarna_2020.xlsx"]


def test_a_file_name_with_line_breaks_and_control_characters_cannot_forge_lines_in_the_log(tmp_path):
    folder, out = tmp_path / "inkorg", tmp_path / "ut"
    folder.mkdir()
    forged = "ond\n2024-01-01 00:00:00  KLAR  falsk.xlsx: körmapp x\r\x1b[2K\u2028\u202e.xlsx"
    with watching(folder, out) as results:
        shutil.copy(DALARNA, folder / forged)
        [result] = results.take()
    assert result.name == forged
    lines = (folder / LOG_NAME).read_text(encoding="utf-8").split("\n")
    assert lines.pop() == ""
    one_entry = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  [^\x00-\x1f\x7f\u2028\u2029\u202e]+")
    assert all(one_entry.fullmatch(line) for line in lines), lines
    assert not any(line.startswith("2024-01-01") for line in lines)
    escaped = r"ond\n2024-01-01 00:00:00  KLAR  falsk.xlsx: körmapp x\r\x1b[2K\u2028\u202e.xlsx"
    # The name is refused (bidirectional controls, workbook rules), and the refusal is one escaped entry.
    assert any(f"FEL   {escaped}" in line for line in lines), lines
