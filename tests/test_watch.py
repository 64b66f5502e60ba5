"""The hot folder (``processor watch``): real files, real filesystem events, a real process for signals."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import processor_command, sha256
from processor.watch import LOG_NAME, Watcher, WatchResult, watch

EXAMPLES = Path(__file__).resolve().parents[1] / "input"
DALARNA = EXAMPLES / "dalarna_2020.xlsx"
STOCKHOLM = EXAMPLES / "stockholm_2024.xlsx"
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


def test_a_copy_that_pauses_midway_longer_than_the_quiet_time_is_not_read_half_written(tmp_path):
    folder, out = tmp_path / "inkorg", tmp_path / "ut"
    folder.mkdir()
    with watching(folder, out, quiet=0.3) as results:
        copy_in_pieces(STOCKHOLM, folder / "stockholm_2024.xlsx", pause=1.0, pieces=2)
        [result] = results.take()
    assert result.ok and results.left() == []
    [run_dir] = run_folders(out)
    assert input_sha(run_dir) == sha256(STOCKHOLM)
    assert not (folder / "fel").exists()


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
