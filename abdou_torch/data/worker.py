"""DataLoader workers: daemon threads that fetch batches while the training step runs.

PyTorch's workers are processes; these are threads, for three measured reasons (see
``benchmarks/RESULTS.md``, "DataLoader workers"): a batch comes back without being pickled
and copied between processes, a worker starts in microseconds instead of forking the
interpreter, and NumPy releases the GIL while it copies, gathers and stacks arrays, which is
what fetching mostly is. A dataset whose ``__getitem__`` is pure Python gains little.

The threads are *daemon* threads: one stuck in ``__getitem__`` (a dead network file system,
a deadlock in user code) never keeps the interpreter from exiting after the DataLoader's
``timeout`` has raised, or after Ctrl-C. Each worker has its own task queue and all answer
into one result queue; the main thread draws the indices, hands tasks out round-robin and
reorders the answers, so the batches and their order are those of ``num_workers=0``.

``get_worker_info()`` works as in PyTorch: inside a worker it returns the worker's id, the
number of workers, its seed (the iterator's base seed + id) and the dataset; elsewhere
None. An error in ``worker_init_fn`` or in the dataset is raised again in the main thread
as the same exception, with a note naming the worker.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["WorkerInfo", "get_worker_info", "WorkerThreads", "EXHAUSTED"]

_local = threading.local()


class WorkerInfo:
    """What a worker knows about itself: ``id``, ``num_workers``, ``seed``, ``dataset``."""

    id: int  # the fields __init__ sets (the DataLoader gives these four)
    num_workers: int
    seed: int
    dataset: Any
    __initialized = False

    def __init__(self, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self, name, value)
        self.__keys = tuple(fields)
        self.__initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(name, value)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{type(self).__name__}({fields})"


def get_worker_info() -> WorkerInfo | None:
    """This worker's :class:`WorkerInfo` in a DataLoader worker thread, else None."""
    return getattr(_local, "info", None)


class _Exhausted:
    def __repr__(self) -> str:
        return "EXHAUSTED"


#: what a worker answers once its iterable dataset has no more batches
EXHAUSTED = _Exhausted()
_INIT_FAILED = -1


class WorkerThreads:
    """``num_workers`` daemon threads. ``make_job(worker_id)`` runs in each thread after
    ``worker_init_fn`` and returns the function that turns a task's payload into a result
    (StopIteration from it answers :data:`EXHAUSTED`)."""

    def __init__(self, num_workers: int, make_job: Callable[[int], Callable[[Any], Any]],
                 worker_init_fn: Callable[[int], Any] | None, base_seed: int,
                 dataset: Any) -> None:
        self.num_workers = num_workers
        self._tasks: list[queue.SimpleQueue] = [queue.SimpleQueue() for _ in range(num_workers)]
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        for worker_id in range(num_workers):
            info = WorkerInfo(id=worker_id, num_workers=num_workers,
                              seed=base_seed + worker_id, dataset=dataset)
            thread = threading.Thread(target=self._work, name=f"DataLoader-worker-{worker_id}",
                                      args=(info, make_job, worker_init_fn), daemon=True)
            thread.start()

    def _work(self, info: WorkerInfo, make_job: Callable, worker_init_fn: Callable | None) -> None:
        _local.info = info
        try:
            if worker_init_fn is not None:
                worker_init_fn(info.id)
            job = make_job(info.id)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            self._results.put((_INIT_FAILED, info.id, error))
            return
        tasks = self._tasks[info.id]
        while True:
            task = tasks.get()
            if task is None:
                return
            task_id, payload = task
            try:
                self._results.put((task_id, True, job(payload)))
            except StopIteration:
                self._results.put((task_id, True, EXHAUSTED))
            except BaseException as error:  # noqa: BLE001 - handed to the main thread
                self._results.put((task_id, False, _noted(error, info.id)))

    def submit(self, worker_id: int, task_id: int, payload: Any) -> None:
        self._tasks[worker_id].put((task_id, payload))

    def result(self, timeout: float) -> tuple[int, Any]:
        """The next answer as ``(task_id, value)``; raises a worker's error, or
        RuntimeError after ``timeout`` seconds (0: wait as long as it takes)."""
        try:
            task_id, ok, value = self._results.get(timeout=timeout or None)
        except queue.Empty:
            raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None
        if task_id == _INIT_FAILED:
            raise _noted(value, ok, "in worker_init_fn")
        if not ok:
            raise value
        return task_id, value

    def shutdown(self) -> None:
        """Ask every worker to stop; one stuck in the dataset is left behind (a daemon)."""
        for tasks in self._tasks:
            tasks.put(None)


def _noted(error: BaseException, worker_id: int, where: str = "") -> BaseException:
    note = f"raised {where + ' ' if where else ''}in DataLoader worker thread {worker_id}"
    if hasattr(error, "add_note"):  # Python 3.11+
        error.add_note(note)
    return error
