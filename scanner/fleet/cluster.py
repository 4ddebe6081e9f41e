"""Where the fleet's tasks run: Dask distributed, a LocalCluster of --workers processes (started and
shut down here) or an existing cluster at --scheduler (left running).

Like scanner/execution.py, a pool takes `task(state, item)` functions and a state every worker
needs; here the state is scattered to every worker once and each task gets a reference to it.
A worker that dies (killed, out of memory) loses its running task to the scheduler, which runs it
again on another worker; a task that raises is retried once (`RETRIES`). `InlinePool` runs the same
tasks in this process, one after the other: for embedding and for the fast tests.

Dask is an optional extra: `pip install 'keysweep[fleet]'`. It is imported only here, on use.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from scanner.errors import ScanIncomplete, UsageError

MISSING_DASK = "keysweep fleet runs on Dask, which is not installed: pip install 'keysweep[fleet]'"
RETRIES = 1  # a task that raised runs once more; a task whose worker died is rerun by the scheduler
CONNECT_TIMEOUT_S = 30
Done = tuple[Any, Any, BaseException | None]  # (tag given to submit, result, the error instead of a result)


class Pool(Protocol):
    workers: int

    def submit(self, task: Callable[[Any, Any], Any], item: Any, *, tag: Any, key: str) -> None: ...

    def completed(self) -> Iterator[Done]:
        """Each submitted task as it finishes, including tasks submitted while iterating."""
        ...


def require_dask() -> None:
    """Fail early when Dask is missing, without importing it (0.7 s): a rerun with nothing changed
    starts no cluster and never needs it."""
    import importlib.util

    try:
        found = importlib.util.find_spec("distributed") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise UsageError(MISSING_DASK)


class InlinePool:
    """The tasks run here, in submission order, when `completed` asks for them."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.workers = 1
        self._queue: deque[tuple[Callable[[Any, Any], Any], Any, Any]] = deque()

    def submit(self, task: Callable[[Any, Any], Any], item: Any, *, tag: Any, key: str) -> None:
        self._queue.append((task, item, tag))

    def completed(self) -> Iterator[Done]:
        while self._queue:
            task, item, tag = self._queue.popleft()
            try:
                yield tag, task(self.state, item), None
            except Exception as exc:  # noqa: BLE001 - reported per task, as Dask would
                yield tag, None, exc


class DaskPool:
    def __init__(self, client: Any, state: Any) -> None:
        self.client = client
        self.workers = max(1, len(client.scheduler_info().get("workers", {})))
        # One copy on every worker, sent once; tasks refer to it.
        self._state = client.scatter(state, broadcast=True, hash=False)
        self._tags: dict[str, Any] = {}
        self._done: Any = None  # distributed.as_completed, made with the first future (it needs its client)

    def submit(self, task: Callable[[Any, Any], Any], item: Any, *, tag: Any, key: str) -> None:
        future = self.client.submit(task, self._state, item, key=key, pure=False, retries=RETRIES)
        self._tags[future.key] = tag
        if self._done is None:
            from distributed import as_completed

            self._done = as_completed([future], loop=self.client.loop)
        else:
            self._done.add(future)

    def completed(self) -> Iterator[Done]:
        for future in self._done or ():
            tag = self._tags.pop(future.key)
            try:
                yield tag, future.result(), None
            except Exception as exc:  # noqa: BLE001 - KilledWorker after repeated deaths, a cancelled task
                yield tag, None, exc
            future.release()


@contextmanager
def dask_pool(state: Any, *, scheduler: str | None, workers: int) -> Iterator[DaskPool]:
    """A pool on an existing cluster (left running), or on a LocalCluster started and stopped here."""
    require_dask()
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # installed but broken
        raise UsageError(f"{MISSING_DASK} ({exc})") from None

    logging.getLogger("distributed").setLevel(logging.ERROR)  # a worker's death is handled, not news
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
            client = Client(cluster, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        where = f"the scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise ScanIncomplete(f"cannot connect to {where}: {exc}") from None
    try:
        yield DaskPool(client, state)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
