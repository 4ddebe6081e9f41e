"""One execution layer for parallel work: a task function, the items, and a state every worker needs.

    results = run_parallel(scan_batch, batches, state=FileScanState(scanner), jobs=4)

The state (a Scanner, a repository, …) reaches each worker once, through the pool's initializer:
inherited for free under `fork` (Linux), pickled once per worker under `spawn` (macOS, Windows, and
programs that embed keysweep and cannot fork). Nothing is kept in a module global of the calling
process; a worker keeps its copy in this module's worker slot for its lifetime. With one job, or
few items, the same task runs in-process, with the same state.

The CLI's file and history scans and the fleet's Dask tasks call the same per-item functions.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

S = TypeVar("S")  # the state every worker needs
T = TypeVar("T")  # one item of work
R = TypeVar("R")  # its result

START_METHOD_ENV = "KEYSWEEP_START_METHOD"  # fork | spawn | forkserver: for embedding, and for tests
_WORKER: dict[str, Any] = {}  # in a worker process only: the task and its state, set by _start_worker


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def start_method() -> str:
    """fork where the platform has it and it is safe (Linux), else spawn; KEYSWEEP_START_METHOD decides."""
    chosen = os.environ.get(START_METHOD_ENV)
    if chosen:
        return chosen
    return "fork" if sys.platform.startswith("linux") else "spawn"


def run_parallel(
    task: Callable[[S, T], R], items: Iterable[T], *, state: S, jobs: int, ordered: bool = False,
    method: str | None = None,
) -> Iterator[R]:
    """task(state, item) for every item, in `jobs` worker processes (in this one when jobs is 1).

    `task` must be a module-level function (spawned workers import it by name). Results come as they
    are done, or in the items' order with `ordered`."""
    if jobs <= 1:
        for item in items:
            yield task(state, item)
        return
    import multiprocessing  # ~10 ms of start-up that a staged or single-file scan does not need

    context = multiprocessing.get_context(method or start_method())
    with context.Pool(processes=jobs, initializer=_start_worker, initargs=(task, state)) as pool:
        mapper = pool.imap if ordered else pool.imap_unordered
        yield from mapper(_run_in_worker, items)


def _start_worker(task: Callable[[Any, Any], Any], state: Any) -> None:
    _WORKER["task"], _WORKER["state"] = task, state


def _run_in_worker(item: Any) -> Any:
    return _WORKER["task"](_WORKER["state"], item)
