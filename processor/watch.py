"""The hot folder: each workbook dropped into a folder is run once, when it has stopped changing.

Filesystem events (watchdog; polling with ``poll=True`` for network shares) wake the watcher
promptly, and a sweep of the folder on every tick catches whatever events miss. A workbook is
run when it is ready by the rules in ``processor.readiness`` (unchanged for ``quiet`` seconds,
whole, not held open by another program). Then it moves to ``behandlade/``,
or to ``fel/`` with a ``<stem>.fel.txt`` report beside it. Nothing is deleted or overwritten.
Every result is appended to ``FOLDER/bevakning.log``. The watcher never sends e-mail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from processor.errors import InputError, Problem
from processor.readiness import (Readiness, Signature, held_open_by, is_not_a_zip, is_whole_workbook,
                                 is_workbook_name, signature)

DONE_FOLDER = "behandlade"
FAILED_FOLDER = "fel"
REPORT_SUFFIX = ".fel.txt"
LOG_NAME = "bevakning.log"
WAKING_EVENTS = {"created", "modified", "moved", "closed"}  # not "opened": our own checks open files
# Characters that would start a new line or change how a line shows: control characters, line and
# paragraph separators and the bidirectional controls.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

Echo = Callable[[str], None]


@dataclass(frozen=True)
class WatchResult:
    """What became of one workbook: run (``ok``) or failed, and where everything now lies."""

    name: str
    ok: bool
    workbook: Path | None
    run_dir: Path | None = None
    report: Path | None = None
    summary: str = ""
    messages: tuple[str, ...] = ()
    warnings: int = 0

    def line(self, folder: Path) -> str:
        """One Swedish line for the console and the log."""
        where = _relative(self.workbook, folder) if self.workbook else "kunde inte flyttas, ligger kvar"
        if self.ok:
            note = f", {self.warnings} varning{'ar' if self.warnings != 1 else ''}" if self.warnings else ""
            return f"KLAR  {self.name}: körmapp {self.run_dir}{note} (arbetsboken: {where})"
        if self.report:
            return f"FEL   {self.name}: {self.summary} Se {_relative(self.report, folder)}."
        return f"FEL   {self.name}: {self.summary} (arbetsboken: {where})"


class Watcher:
    """Watch ``folder`` and run each workbook that lands there once into ``out_dir``."""

    def __init__(self, folder: Path = Path("input"), out_dir: Path = Path("output"), *, quiet: float = 5.0,
                 poll: bool = False, on_result: Callable[[WatchResult], None] | None = None,
                 echo: Echo | None = None, give_up_after: float = 60.0):
        self.folder = Path(folder)
        self.out_dir = Path(out_dir)
        self.quiet = float(quiet)
        self.poll = poll
        self.readiness = Readiness(self.quiet, give_up_after)
        self.log_path = self.folder / LOG_NAME
        self._on_result = on_result or (lambda result: None)
        self._echo = echo or (lambda line: None)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._busy = False
        self._folder_error: str | None = None
        self._log_failed = False
        self._interval = min(1.0, max(0.1, self.quiet / 4))

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def busy(self) -> bool:
        """True while a workbook is being run."""
        return self._busy

    def stop(self) -> None:
        """Ask the watcher to end after the current run (safe from a signal handler or another thread)."""
        self._stop.set()
        self._wake.set()

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Take what is waiting, then watch until ``stop()`` or ``stop_event``; blocks."""
        if stop_event is not None:
            self._stop = stop_event
        self._prepare_folder()
        observer = self._start_observer()
        self._note(f"Bevakar {self.folder} (körmappar i {self.out_dir}; en arbetsbok körs när den varit "
                   f"oförändrad i {_seconds(self.quiet)} s). Avsluta med Ctrl-C.", log="Bevakningen startade.")
        try:
            while not self._stop.is_set():
                self._tick()
                self._wake.wait(self._interval)
                self._wake.clear()
                self._stop.wait(0.05)  # events come in bursts during a copy; do not spin on them
        finally:
            if observer is not None:
                observer.stop()
                observer.join(timeout=5)
            self._note("Bevakningen avslutades.", log="Bevakningen avslutades.")

    def _prepare_folder(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError([Problem(str(self.folder), "är en fil, inte en mapp. Ange mappen som ska bevakas.")])
        self.folder.mkdir(parents=True, exist_ok=True)

    def _start_observer(self):
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        wake = self._wake

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in WAKING_EVENTS and not event.is_directory:
                    wake.set()

        observer = PollingObserver(timeout=1.0) if self.poll else Observer()
        observer.schedule(Handler(), str(self.folder), recursive=False)
        try:
            observer.start()
        except OSError as error:
            self._echo(f"Varning: filhändelser går inte att få för {self.folder} ({error.strerror or error}); "
                       f"mappen gås igenom varje sekund i stället.")
            return None
        return observer

    def _tick(self) -> None:
        """Look at every workbook in the folder once; run those that are ready."""
        names = self._list_workbooks()
        if names is None:
            return
        self.readiness.keep_only(names)
        for name in sorted(names):
            if self._stop.is_set():
                return
            self._consider(self.folder / name)

    def _list_workbooks(self) -> set[str] | None:
        try:
            with os.scandir(self.folder) as entries:
                names = {e.name for e in entries if is_workbook_name(e.name) and _is_plain_file(e)}
        except OSError as error:
            if self._folder_error is None:
                self._folder_error = str(error.strerror or error)
                self._note(f"Varning: mappen {self.folder} går inte att läsa ({self._folder_error}); försöker igen.")
            return None
        if self._folder_error is not None:
            self._folder_error = None
            self._note(f"Mappen {self.folder} går att läsa igen.")
        return names

    def _consider(self, path: Path) -> None:
        current = signature(path)
        verdict = self.readiness.verdict(path.name, current, held_by=lambda: held_open_by(path),
                                         readable=lambda: is_whole_workbook(path) or is_not_a_zip(path))
        if verdict.held_by:
            self._note(f"Väntar: {path.name} är öppen i {verdict.held_by}. Den körs när den stängts.")
        if not verdict.run:
            return
        result = self._process(path, current)
        if result is None:
            self.readiness.forget(path.name)
            return
        if result.workbook is None:
            self.readiness.leave_until_changed(path.name)
        self._note(result.line(self.folder))
        self._on_result(result)

    def _process(self, path: Path, before: Signature) -> WatchResult | None:
        """Run one workbook and move it; None when it changed meanwhile (it will be checked again)."""
        from processor.pipeline import run

        self._echo(f"{_clock()}  Kör {one_line(path.name)} …")
        self._busy = True
        try:
            outcome = run(path, self.out_dir)
        except InputError as error:
            failure = error.report_lines(), f"{len(error.problems)} fel att rätta."
        except Exception as error:  # anything else must not stop the watcher; it is reported like a bad workbook
            failure = _unexpected(error), "oväntat fel."
        else:
            moved = self._move(path, self.folder / DONE_FOLDER, [path.suffix])
            return WatchResult(path.name, True, moved, run_dir=outcome.run_dir, warnings=len(outcome.case.warnings))
        finally:
            self._busy = False
        if signature(path) != before:
            return None
        return self._fail(path, *failure)

    def _fail(self, path: Path, lines: list[str], summary: str) -> WatchResult:
        """Move the workbook to ``fel/`` and write its report beside it under the same stem."""
        target = self.folder / FAILED_FOLDER
        suffixes = [path.suffix, REPORT_SUFFIX]
        moved = self._move(path, target, suffixes)
        report = target / f"{moved.stem if moved else _free_stem(target, path.stem, suffixes)}{REPORT_SUFFIX}"
        hint = (f"Arbetsboken ligger i {FAILED_FOLDER}/{moved.name}. Rätta den och lägg den i mappen {self.folder} "
                f"igen, så körs den på nytt." if moved else f"Arbetsboken ligger kvar i mappen {self.folder}.")
        try:
            with open(report, "x", encoding="utf-8") as file:
                file.write("\n".join([*lines, "", hint]) + "\n")
        except OSError as error:
            self._note(f"Varning: felrapporten för {path.name} kunde inte skrivas ({error.strerror or error}).")
            report = None
        return WatchResult(path.name, False, moved, report=report, summary=summary, messages=tuple(lines))

    def _move(self, path: Path, target: Path, suffixes: list[str]) -> Path | None:
        """Move the workbook into ``target`` under a name nothing has, or report why it stays."""
        try:
            target.mkdir(exist_ok=True)
            return _move_unique(path, target, suffixes)
        except OSError as error:
            self._note(f"Varning: {path.name} kunde inte flyttas till {target.name}/ ({error.strerror or error}); "
                       f"den ligger kvar och körs inte igen förrän den ändras.")
            return None

    def _note(self, text: str, log: str | None = None) -> None:
        """A line on the console and, with its date and time, in the log; names in it cannot break the line."""
        self._echo(f"{_clock()}  {one_line(text)}")
        self._append_log(one_line(log or text))

    def _append_log(self, text: str) -> None:
        stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
        try:
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(f"{stamp}  {text}\n")
        except OSError as error:
            if not self._log_failed:
                self._log_failed = True
                self._echo(f"Varning: loggen {self.log_path} går inte att skriva ({error.strerror or error}).")


def watch(folder: Path = Path("input"), out_dir: Path = Path("output"), quiet: float = 5.0, poll: bool = False,
          stop_event: threading.Event | None = None, on_result: Callable[[WatchResult], None] | None = None,
          echo: Echo | None = None) -> None:
    """Watch ``folder`` until ``stop_event`` is set (see ``Watcher``)."""
    Watcher(folder, out_dir, quiet=quiet, poll=poll, on_result=on_result, echo=echo).run(stop_event)


@contextmanager
def stop_on_signals(watcher: Watcher, echo: Echo) -> Iterator[None]:
    """Ctrl-C or SIGTERM ends the watcher after the current run; a second one abandons that run.

    An abandoned run leaves no run folder (it is published atomically) and its workbook stays
    in the folder, so it is run again on the next start.
    """
    def handle(signum: int, frame: FrameType | None) -> None:
        if not watcher.stopping:
            echo("Avslutar när pågående körning är klar (en gång till avbryter den) …" if watcher.busy
                 else "Avslutar …")
            watcher.stop()
        elif watcher.busy:
            raise KeyboardInterrupt

    names = ("SIGINT", "SIGTERM", "SIGBREAK")
    signals = [getattr(signal, name) for name in names if hasattr(signal, name)]
    previous = {number: signal.signal(number, handle) for number in signals}
    try:
        yield
    except KeyboardInterrupt:
        echo("Pågående körning avbröts; arbetsboken ligger kvar och körs nästa gång bevakningen startar.")
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _is_plain_file(entry: os.DirEntry) -> bool:
    try:
        if not entry.is_file():
            return False
        return not getattr(entry.stat(), "st_file_attributes", 0) & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0)
    except OSError:
        return False


def one_line(text: str) -> str:
    """``text`` with every character that could start a line or disguise one escaped as Python writes it (``\\n``)."""
    return UNPRINTABLE.sub(lambda match: repr(match.group())[1:-1], text)


def _free_stem(folder: Path, stem: str, suffixes: list[str]) -> str:
    """``stem``, or ``stem_2``, ``stem_3`` … the first with no file for any of ``suffixes``."""
    candidate, n = stem, 1
    while any((folder / f"{candidate}{suffix}").exists() for suffix in suffixes):
        n += 1
        candidate = f"{stem}_{n}"
    return candidate


def _move_unique(path: Path, folder: Path, suffixes: list[str]) -> Path:
    """Claim a free name in ``folder`` (exclusive create), then move the file onto the claim."""
    while True:
        target = folder / f"{_free_stem(folder, path.stem, suffixes)}{path.suffix}"
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        try:
            os.replace(path, target)
        except OSError:
            target.unlink(missing_ok=True)  # only our own empty claim
            raise
        return target


def _unexpected(error: Exception) -> list[str]:
    detail = f"{type(error).__name__}: {error}"
    return [f"Ett oväntat fel inträffade när arbetsboken kördes ({detail}).",
            "Det beror troligen inte på innehållet i arbetsboken. Kör den med `processor run ARBETSBOK` för att se "
            "felet, och visa meddelandet för den som sköter programmet om det kvarstår."]


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def _seconds(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _clock() -> str:
    return dt.datetime.now().strftime("%H:%M:%S")
