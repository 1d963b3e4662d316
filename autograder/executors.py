"""Where grading jobs run: this process, local worker processes, or a Dask cluster.

All three are `concurrent.futures` executors running `autograder.core.grade_submission`,
so the coordinator (`autograder.grading`) has one code path and the same results
wherever the jobs ran.
"""
from __future__ import annotations

import logging
import multiprocessing
import pickle
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Iterator

from autograder.core import GradingError, WorkerError, prepare

# Seconds to wait for the Dask scheduler to answer before giving up with one sentence.
CONNECT_TIMEOUT = 20


class InProcess(ThreadPoolExecutor):
    """Jobs one after the other in a thread of this process, which meanwhile records the previous one."""

    def __init__(self):
        super().__init__(max_workers=1, thread_name_prefix="grading")


def _worker_init(assignments: list[str]) -> None:
    """Quiet logs, and everything grading `assignments` needs loaded once per process, now.

    Workers start while the coordinator records the assignments in the
    gradebook, so this costs no time of its own.
    """
    logging.disable(logging.WARNING)
    for assignment in assignments:
        try:
            prepare(assignment)
        except WorkerError:
            pass  # only a head start: the job reports the same sentence


def local_pool(workers: int, assignments: list[str]) -> ProcessPoolExecutor:
    """A pool of `workers` processes, already starting (spawned: no state shared with the coordinator)."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init, initargs=(assignments,))
    for _ in range(workers):  # the pool spawns a process per pending task
        pool.submit(int)
    return pool


class ImportOnWorker(Executor):
    """Sends every call to `inner` (a Dask executor) as a builtin that imports the function there.

    Dask reads a task's function and arguments as soon as the worker receives
    them; a worker that cannot import the course would fail there, outside any
    task, and the job would wait forever. Sent as `eval` of one line with the
    job pickled to bytes, the import happens inside the task, whose error
    (say, No module named 'autograder') comes back as the job's result.
    """

    def __init__(self, inner: Executor):
        self.inner = inner

    def submit(self, fn, /, *args, **kwargs):
        call = (f"__import__({fn.__module__!r}, fromlist=['_']).{fn.__qualname__}"
                "(*__import__('pickle').loads(args), **__import__('pickle').loads(kwargs))")
        return self.inner.submit(eval, call, {"args": pickle.dumps(args), "kwargs": pickle.dumps(kwargs)})

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait)


@contextmanager
def dask_executor(address: str) -> Iterator[Executor]:
    """The executor of a Dask distributed cluster, through a client of its scheduler at `address`.

    A job whose worker dies (killed, out of memory, machine lost) is run again on
    another worker by the scheduler.
    """
    try:
        from distributed import Client
    except ImportError:
        raise GradingError("Grading on a Dask cluster needs the distributed package "
                           "(pip install distributed).") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise GradingError(f"Could not reach the Dask scheduler at {address} ({err}); check the address "
                           "and that the scheduler is running.") from None
    try:
        # pure=False: every job is its own task, never merged with an identical one.
        yield ImportOnWorker(client.get_executor(pure=False))
    finally:
        client.close()


@contextmanager
def executor(workers: int, scheduler: str | None, assignments: list[str]) -> Iterator[Executor]:
    """The executor of a batch: the Dask cluster at `scheduler`, else `workers` local processes
    (just this process for one). Jobs still running at the end of the block are cancelled."""
    if scheduler:
        with dask_executor(scheduler) as pool:
            yield pool
        return
    pool = local_pool(workers, assignments) if workers > 1 else InProcess()
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)
