"""How a run treats tasks that fail (autograder.pipeline.workers.run), on a real thread pool, and a
worker without bubblewrap refusing to grade (autograder.pipeline.task)."""

from __future__ import annotations

import concurrent.futures as cf
import threading

import pytest
from support import wait_until

from autograder.isolation import bubblewrap
from autograder.pipeline.task import grade_one
from autograder.pipeline.workers import run


class Flaky:
    """Fails the first ``failures`` calls for each task, then returns the task doubled."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: dict[int, int] = {}
        self._lock = threading.Lock()

    def __call__(self, task: int) -> int:
        with self._lock:
            self.calls[task] = self.calls.get(task, 0) + 1
            if self.calls[task] <= self.failures:
                raise RuntimeError(f"attempt {self.calls[task]} of {task} failed")
        return 2 * task


def collect(function, tasks, **options):
    done, failed = {}, {}
    with cf.ThreadPoolExecutor(2) as pool:
        run(
            pool,
            function,
            tasks,
            lambda key, output: done.setdefault(key, output),
            lambda key, errors: failed.setdefault(key, [str(e) for e in errors]),
            **options,
        )
    return done, failed


def test_every_task_is_handed_over_once():
    function = Flaky(failures=0)
    done, failed = collect(function, {f"t{i}": i for i in range(6)})
    assert done == {f"t{i}": 2 * i for i in range(6)} and failed == {}
    assert set(function.calls.values()) == {1}


def test_a_task_that_fails_once_is_sent_again_and_succeeds():
    function = Flaky(failures=1)
    done, failed = collect(function, {"a": 1, "b": 2})
    assert done == {"a": 2, "b": 4} and failed == {}
    assert function.calls == {1: 2, 2: 2}


def test_a_task_that_fails_twice_is_handed_over_as_failed_with_both_errors():
    function = Flaky(failures=2)
    done, failed = collect(function, {"a": 1})
    assert done == {}
    assert failed == {"a": ["attempt 1 of 1 failed", "attempt 2 of 1 failed"]}
    assert function.calls == {1: 2}, "a third attempt was made"


class Refusal(RuntimeError):
    pass


def test_a_fatal_error_stops_the_run_and_reaches_the_caller():
    def refuse(task: int) -> int:
        raise Refusal("no sandbox here")

    with pytest.raises(Refusal, match="no sandbox here"):
        collect(refuse, {"a": 1, "b": 2}, fatal=(Refusal,))


def test_a_worker_without_bubblewrap_refuses_to_grade(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on this worker's PATH
    bubblewrap.problem.cache_clear()
    try:
        with pytest.raises(bubblewrap.IsolationUnavailable, match="bubblewrap"):
            grade_one(
                {
                    "student": "ann",
                    "assignment": "cells",
                    "notebook": {},
                    "source": "{}",
                    "checks": "",
                }
            )
    finally:
        bubblewrap.problem.cache_clear()


def test_a_grader_process_validates_notebooks_without_compiling_the_iri_grammar():
    """Every grader process imports nbformat, whose jsonschema compiles rfc3987_syntax's grammar
    (about a second) only to check "iri" strings; the pipeline leaves it out, and notebooks are
    still validated (a cell whose execution count is text fails)."""
    import subprocess
    import sys

    code = (
        "import sys, autograder.pipeline.task, nbformat\n"
        "assert sys.modules['rfc3987_syntax'] is None\n"
        "nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')]))\n"
        "bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')])\n"
        "bad.cells[0].execution_count = 'one'\n"
        "try:\n    nbformat.validate(bad)\nexcept nbformat.ValidationError:\n    print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


def mark_worker(folder: str) -> None:
    """A warm-up that leaves a file named for its process."""
    import os
    from pathlib import Path

    (Path(folder) / str(os.getpid())).touch()


def test_the_warm_up_runs_on_every_local_worker_before_the_caller_needs_it(tmp_path):
    import functools
    import os

    from autograder.pipeline.workers import executor

    with executor(workers=2, warm_up=functools.partial(mark_worker, str(tmp_path))) as pool:
        workers = set(pool.map(lambda _: os.getpid(), range(8)))  # the caller's own tasks
        wait_until(lambda: len(list(tmp_path.iterdir())) >= 2, seconds=60)
    warmed = {int(path.name) for path in tmp_path.iterdir()}
    assert len(warmed) == 2
    assert workers <= warmed  # every worker that graded had been warmed up


def test_a_warmed_up_worker_has_its_course_ready():
    from autograder import assignments
    from autograder.pipeline import task

    source = assignments.get("cells").notebook.read_text()
    task._prepared_course.cache_clear()
    task.warm_up([("cells", source, 30)])
    before = task._prepared_course.cache_info()
    task._prepared_course("cells", source, 30)
    assert task._prepared_course.cache_info().hits == before.hits + 1
