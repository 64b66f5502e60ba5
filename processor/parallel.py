"""Per-recipient work on every core: chunks of recipient indices handed to forked workers.

Workers are forked so that they inherit the run's prepared templates and contexts instead of
receiving them pickled. Forking is used only where it is safe and pays: enough items, more than
one core, a platform that forks, and a single-threaded process (forking a threaded one, such as
the watcher, risks deadlocks); otherwise the chunks run here, one after the other.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
Job = Callable[[Sequence[int]], list[T]]

PARALLEL_FROM = 200
CHUNK = 100

_inherited: Callable | None = None  # what a forked worker calls: set by the parent just before it forks


def for_chunks(job: Job, indices: Sequence[int], each: Callable[[list[T], int], None]) -> None:
    """``job`` over ``indices`` in chunks; ``each(results, done)`` takes every chunk's results, in order, with
    the number of indices done so far. Nothing is collected: a run holds one chunk's results at a time."""
    global _inherited
    chunks = [indices[i:i + CHUNK] for i in range(0, len(indices), CHUNK)]
    workers = min(os.cpu_count() or 1, len(chunks))
    done = 0
    if not forking_pays(len(indices), workers):
        for chunk in chunks:
            done += len(chunk)
            each(job(chunk), done)
        return
    _inherited = job
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for chunk, results in zip(chunks, pool.map(_call_inherited, chunks)):
                done += len(chunk)
                each(results, done)
    finally:
        _inherited = None


@contextmanager
def beside(work: Callable[[], T], items: int) -> Iterator[Callable[[], T]]:
    """Start ``work`` on another core while the caller goes on; the function yielded waits for its result.

    Where forking does not pay for ``items`` (or is not safe), ``work`` runs when its result is
    asked for. Leaving the block waits for the worker, so nothing outlives it.
    """
    global _inherited
    if not forking_pays(items, os.cpu_count() or 1):
        yield work
        return
    _inherited = work
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    try:
        future = pool.submit(_call_inherited)  # the worker is forked here, before the pool starts its thread
        yield future.result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _inherited = None


def forking_pays(items: int, workers: int) -> bool:
    return (items >= PARALLEL_FROM and workers >= 2 and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


def _call_inherited(*args):
    """In a forked worker: the parent's job or work, inherited rather than pickled."""
    return _inherited(*args)
