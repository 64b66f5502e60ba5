"""Per-recipient work on every core: chunks of recipient indices handed to forked workers.

Workers are forked so that they inherit the run's prepared templates and contexts instead of
receiving them pickled. Forking is used only where it is safe and pays: enough items, more than
one core, a platform that forks, and a single-threaded process (forking a threaded one, such as
the watcher, risks deadlocks); otherwise the chunks run here, one after the other.

Workers die with their parent: killed outright (SIGKILL) it cannot stop them, so each asks the
kernel to kill it when the parent goes (Linux) or watches for the parent to go (elsewhere); a
worker would otherwise wait on the pool's pipe for good. An interrupted parent cancels the chunks
not started and waits only for those under way, so nothing writes into a folder being removed.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
Job = Callable[[Sequence[int]], list[T]]

PARALLEL_FROM = 200
CHUNK = 100

PR_SET_PDEATHSIG = 1

_inherited: Callable | None = None  # what a forked worker calls: set in the worker as it starts


def for_chunks(job: Job, indices: Sequence[int], each: Callable[[list[T], int], None]) -> None:
    """``job`` over ``indices`` in chunks; ``each(results, done)`` takes every chunk's results, in order, with
    the number of indices done so far. Nothing is collected: a run holds one chunk's results at a time."""
    chunks = [indices[i:i + CHUNK] for i in range(0, len(indices), CHUNK)]
    workers = min(os.cpu_count() or 1, len(chunks))
    done = 0
    if not forking_pays(len(indices), workers):
        for chunk in chunks:
            done += len(chunk)
            each(job(chunk), done)
        return
    pool = _pool(workers, job)
    try:
        for chunk, results in zip(chunks, pool.map(_call_inherited, chunks)):
            done += len(chunk)
            each(results, done)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def beside(work: Callable[[], T], items: int) -> Iterator[Callable[[], T]]:
    """Start ``work`` on another core while the caller goes on; the function yielded waits for its result.

    Where forking does not pay for ``items`` (or is not safe), ``work`` runs when its result is
    asked for. Leaving the block waits for the worker, so nothing outlives it.
    """
    if not forking_pays(items, os.cpu_count() or 1):
        yield work
        return
    pool = _pool(1, work)
    try:
        future = pool.submit(_call_inherited)  # the worker is forked here, before the pool starts its thread
        yield future.result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def forking_pays(items: int, workers: int) -> bool:
    return (items >= PARALLEL_FROM and workers >= 2 and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


def _pool(workers: int, work: Callable) -> ProcessPoolExecutor:
    """Forked workers that call ``work``, handed over by the fork itself (never pickled)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(work, os.getpid()))


def _start_worker(work: Callable, parent: int) -> None:
    """In a new worker: die with the parent, leave interrupts to the parent, and keep ``work`` to call."""
    global _inherited
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops the pool
    if not _die_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent went before the worker could ask
        os._exit(1)
    _inherited = work


def _die_with_parent() -> bool:
    """Ask Linux to kill this process when its parent dies; False where that cannot be asked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    """Where the kernel cannot be asked: end this worker once its parent is gone."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _call_inherited(*args):
    """In a forked worker: the parent's job or work, inherited rather than pickled."""
    return _inherited(*args)
