"""Where grading tasks run, and what happens when one fails: Dask, here or on a cluster.

:func:`executor` opens a :mod:`concurrent.futures` executor on a Dask distributed cluster: an
existing one (``scheduler``, e.g. ``tcp://host:8786``, on Kubernetes, Slurm or plain machines)
or a ``LocalCluster`` of worker processes on this machine, one task at a time each. Either
way, the scheduler re-runs a task whose worker died (its process killed, its machine gone).

:func:`run` sends every task, hands each result to the caller as soon as it arrives, and sends
a task that raised once more; one that fails twice is handed over as failed, and the run goes
on. An exception of a ``fatal`` type (a worker that refuses to grade unprotected, say) stops
the run: the tasks not yet finished are cancelled and the exception reaches the caller.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

ATTEMPTS = 2


class SchedulerUnavailable(RuntimeError):
    """The Dask scheduler given cannot be reached (the message is one line)."""


@contextmanager
def executor(
    scheduler: str | None = None,
    workers: int | None = None,
    warm_up: Callable[[], None] | None = None,
) -> Iterator[cf.Executor]:
    """An executor on the Dask cluster at ``scheduler``, or on ``workers`` local processes.
    ``warm_up`` is sent to every worker there is, as its first task, and the caller goes on
    (what it prepares, a task that fails on it prepares again, and reports)."""
    import distributed

    cluster = None
    if scheduler is None:
        cluster = distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit=0,  # the kernel and the sandbox cap their own memory
            silence_logs=logging.CRITICAL,
        )
        client = distributed.Client(cluster)
    else:
        client = _connect(scheduler, "20s")
    warming = []  # held until the end: Dask forgets a task whose future is dropped
    if warm_up is not None:
        for address in client.scheduler_info()["workers"]:
            warming.append(client.submit(warm_up, workers=[address], pure=False))
    pool = client.get_executor(pure=False)
    try:
        yield pool
    finally:
        pool.shutdown(wait=False)
        client.close()
        if cluster is not None:
            cluster.close()


def _connect(scheduler: str, timeout: str):
    import distributed

    try:
        return distributed.Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise SchedulerUnavailable(f"cannot reach {scheduler}: {first}") from None


def scheduler_problem(scheduler: str) -> str | None:
    """Why the Dask scheduler at ``scheduler`` cannot take tasks, in one line, or None."""
    if "://" not in scheduler:
        return f"expected an address like tcp://host:8786, got {scheduler!r}"
    try:
        client = _connect(scheduler, "10s")
    except SchedulerUnavailable as error:
        return str(error)
    client.close()
    return None


def run(
    pool: cf.Executor,
    function: Callable[[Any], Any],
    tasks: dict[Hashable, Any],
    done: Callable[[Hashable, Any], None],
    failed: Callable[[Hashable, list[BaseException]], None],
    *,
    fatal: tuple[type[BaseException], ...] = (),
) -> None:
    """Run ``function(task)`` for every task of ``tasks`` (see the module docstring).

    ``done(key, output)`` and ``failed(key, errors)`` run in this thread, as results arrive.
    """
    errors: dict[Hashable, list[BaseException]] = {key: [] for key in tasks}
    running = {pool.submit(function, task): key for key, task in tasks.items()}
    try:
        while running:
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                key = running.pop(future)
                try:
                    output = future.result()
                except fatal:
                    raise
                except Exception as error:  # noqa: BLE001 - the grader's fault, never the student's
                    errors[key].append(error)
                    if len(errors[key]) < ATTEMPTS:
                        running[pool.submit(function, tasks[key])] = key
                    else:
                        failed(key, errors[key])
                    continue
                done(key, output)
    finally:
        for future in running:
            future.cancel()
