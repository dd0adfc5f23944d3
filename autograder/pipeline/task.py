"""Grade one submission: from plain inputs to plain results, on any machine with this package.

:func:`grade_one` is the task every grading worker runs, a local worker process or a Dask worker on
another machine alike. Its input, a :class:`Task` as a dict, carries everything a grade depends on:
the student's notebook, the assignment's instructor files (the source notebook and ``checks.py``),
the options and the due date. It returns a dict of plain data: the
:class:`~autograder.pipeline.results.Result`, the autograded notebook, the feedback page and where
the time went. It reads no course file from disk and writes only in a private folder that it
removes, so workers need no shared file system; the client alone writes the gradebook.

For one submission it

1. copies a course prepared once per worker process and assignment (``generate_assignment``)
   into a private folder, so that nothing is shared with another task;
2. runs nbgrader's autograde there, in the isolated, memory-capped kernel of
   :mod:`autograder.isolation.kernel`, with a per-cell timeout;
3. runs every check of every graded cell again against the student's code in the sandbox of
   :mod:`autograder.isolation.sandbox`, on fresh random inputs, comparing in this process; a graded
   cell earns its points only when nbgrader's run passed it *and* the sandboxed check passed;
4. stores the final scores and the late penalty in that private gradebook and makes the
   feedback page from it, as the client's gradebook will hold them.

With ``isolated`` (the default) a worker without a working bubblewrap refuses the task
(:class:`~autograder.isolation.bubblewrap.IsolationUnavailable`) instead of grading unprotected.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np
from nbgrader.api import Gradebook, MissingEntry

from autograder.assignments import graded_cells
from autograder.checking.api import CheckFailed, StudentRaised, checks_in
from autograder.isolation import bubblewrap, cgroups
from autograder.isolation.kernel import GRADER_KERNEL, install_kernelspec
from autograder.isolation.policy import CELL_SECONDS, KERNEL_MEMORY, MAX_PROCESSES, SANDBOX_MEMORY
from autograder.isolation.sandbox import SandboxBroken, SandboxStudent
from autograder.pipeline import late, outputs
from autograder.pipeline.execute import AUTOGRADE_PREPROCESSORS
from autograder.pipeline.feedback_exporter import FeedbackExporter
from autograder.pipeline.nbgrader_course import (
    create_gradebook,
    environment,
    nbgrader_api,
    write_config,
)
from autograder.pipeline.results import CellResult, Result
from autograder.pipeline.tampering import (
    compare_with_source,
    execution_statuses,
    student_code_cells,
)

# The one student of a private course, whatever the student's folder is called: nbgrader builds
# glob patterns and regular expressions from student ids, so a name as learning-management systems
# write it (``Lee, Ann [2]``) would match another folder or none. The name is the client's alone.
NBGRADER_ID = "student"
STAGES = ("setup", "kernel_start", "execution", "autograde_other", "verification", "database")
STAGES += ("feedback",)
_ONE_AT_A_TIME = threading.Lock()  # a worker with several threads still grades one at a time


@dataclass
class Task:
    """Everything one grade depends on, as plain data (JSON types only)."""

    student: str
    assignment: str
    notebook: dict  # the submitted notebook
    source: str  # the assignment's source notebook (JSON text), solutions and tests included
    checks: str  # the assignment's checks.py (Python source)
    cell_timeout: int = CELL_SECONDS
    isolated: bool = True
    statuses: list[str] = field(default_factory=list)  # found while locating the notebook
    timestamp: str | None = None  # nbgrader's timestamp.txt
    digest: str = ""
    duedate: str | None = None  # the assignment's due date, naive UTC, ISO format
    extension_hours: float | None = None  # this student's extension
    late_penalty: dict = field(default_factory=dict)  # the [late_penalty] table of the config


def course_environment(root: Path) -> dict[str, str]:
    """The environment nbgrader runs in for the course at ``root`` (its kernelspecs first)."""
    return environment({"JUPYTER_PATH": str(root / "jupyter")})


def ungraded(
    student: str, assignment: str, source: dict, statuses: list[str], isolated: bool, **details
) -> Result:
    """The result of a submission with nothing graded yet: every test at 0, and why."""
    cells = [
        CellResult(grade_id, points, 0.0, False, 0.0, "not graded")
        for grade_id, points in graded_cells(source).items()
    ]
    return Result(
        student, assignment, statuses=list(statuses), cells=cells, isolated=isolated, **details
    )


class _Clock:
    """Wall-clock seconds by stage. (CPU is not counted here: what runs under bubblewrap never
    reaches this process's rusage; the benchmark reads the machine's counters instead.)"""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] += now - self._last
        self._last = now


@functools.cache
def _worker_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="rnn-grading-worker-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@functools.cache
def _prepared_course(assignment: str, source: str, cell_timeout: int) -> Path:
    """A course whose gradebook knows the assignment, made once per worker process."""
    digest = hashlib.sha256(f"{cell_timeout}\0{source}".encode()).hexdigest()[:16]
    root = _worker_folder() / f"template-{assignment}-{digest}"
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    write_config(root, db_url, cell_timeout=cell_timeout)
    (root / "source" / assignment).mkdir(parents=True)
    (root / "source" / assignment / f"{assignment}.ipynb").write_text(source)
    os.environ.update(course_environment(root))  # this interpreter's bin first on PATH
    create_gradebook(db_url)  # before nbgrader, which would start `alembic` to make it
    api = nbgrader_api(root, db_url, cell_timeout=cell_timeout)
    response = api.generate_assignment(assignment, force=True, create=True)
    if not response["success"]:
        raise RuntimeError(f"generate_assignment {assignment}: {response.get('log', '')[-2000:]}")
    return root


def warm_up(courses: list[tuple[str, str, int]]) -> None:
    """Ready this worker for a run's tasks while the client prepares: nbgrader imported (with
    this module) and each ``(assignment, source, cell timeout)`` course prepared."""
    with _ONE_AT_A_TIME:
        for assignment, source, cell_timeout in courses:
            _prepared_course(assignment, source, cell_timeout)


def grade_one(task: dict) -> dict:
    """Grade one submission (see the module docstring).

    Returns ``{"result": Result as a dict, "autograded": the executed notebook with its summary
    (a dict) or None, "feedback": the feedback page (HTML), "seconds": wall-clock seconds by
    stage}``.
    """
    task = Task(**task)
    if task.isolated:
        bubblewrap.require()
    with _ONE_AT_A_TIME, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat's and SQLAlchemy's notes are not the grade's
        clock = _Clock()
        job = Path(tempfile.mkdtemp(prefix="job-", dir=_worker_folder()))
        try:
            result, autograded, feedback = _grade(task, job, clock)
        finally:
            shutil.rmtree(job, ignore_errors=True)
        return {
            "result": asdict(result),
            "autograded": autograded,
            "feedback": feedback,
            "seconds": clock.seconds,
        }


def _grade(task: Task, job: Path, clock: _Clock) -> tuple[Result, dict | None, str]:
    student, assignment = task.student, task.assignment
    source = json.loads(task.source)
    checks_folder = job / "checks"
    (checks_folder / assignment).mkdir(parents=True)
    (checks_folder / assignment / "checks.py").write_text(task.checks)
    checks = checks_in(checks_folder / assignment / "checks.py", assignment)  # before any
    # student code runs anywhere
    result = ungraded(
        student,
        assignment,
        source,
        task.statuses,
        task.isolated,
        digest=task.digest,
        timestamp=task.timestamp,
    )
    result.statuses += compare_with_source(task.notebook, source)

    course = job / "course"
    shutil.copytree(_prepared_course(assignment, task.source, task.cell_timeout), course)
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    write_config(course, db_url, cell_timeout=task.cell_timeout, kernel=GRADER_KERNEL)
    target = course / "submitted" / NBGRADER_ID / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(drop_duplicate_cells(task.notebook)))
    if task.timestamp:
        (target.parent / "timestamp.txt").write_text(task.timestamp)
    room, scratch, report = job / "room", job / "scratch", job / "kernel-limits.json"
    room.mkdir()
    scratch.mkdir()
    cgroup = cgroups.create(MAX_PROCESSES, KERNEL_MEMORY) if task.isolated else None
    install_kernelspec(
        course / "jupyter",
        room=room,
        checks=checks_folder,
        isolated=task.isolated,
        scratch=scratch,
        report=report,
        cgroup=cgroup,
    )
    clock.lap("setup")
    try:
        nbgrader_points = _autograde(course, task, result, room, clock)
    finally:
        seen = [cgroups.limits_seen(report, cgroup)] if task.isolated else []
        if cgroup is not None:
            cgroup.remove()
    autograded = course / "autograded" / NBGRADER_ID / assignment / f"{assignment}.ipynb"
    if autograded.is_file():
        result.statuses += execution_statuses(autograded)

    cells = student_code_cells(task.notebook, source)
    verdicts = verify(cells, checks, task.cell_timeout, task.isolated, seen)
    for usage in seen:
        result.statuses += usage.get("limits", [])
        for key, value in usage.items():
            if key.startswith("peak_"):
                result.usage[key] = max(result.usage.get(key, 0), value)
    result.cells = []
    for grade_id, max_points in graded_cells(source).items():
        passed, message = verdicts[grade_id]
        got = nbgrader_points.get(grade_id, 0.0)
        if got > 0 and not passed:
            result.statuses.append("verification_failed")
        result.cells.append(
            CellResult(grade_id, max_points, got, passed, got if passed else 0.0, message)
        )
    result.statuses = sorted(set(result.statuses), key=result.statuses.index)
    clock.lap("verification")

    due = datetime.fromisoformat(task.duedate) if task.duedate else None
    policy = late.Policy({assignment: due}, {}, late.load_plugin(task.late_penalty), source=None)
    result, feedback = _private_feedback(
        course, result, policy, task.extension_hours, task.cell_timeout, clock
    )
    notebook = json.loads(autograded.read_text()) if autograded.is_file() else None
    return result, notebook, feedback


def _private_feedback(
    course: Path,
    result: Result,
    policy: late.Policy,
    extension_hours: float | None,
    cell_timeout: int,
    clock: _Clock | None = None,
) -> tuple[Result, str]:
    """Store ``result`` and its late penalty in the private ``course`` (its autograded notebook,
    if any, already under :data:`NBGRADER_ID`), annotate that notebook, and make the feedback
    page; return the result with its lateness, and the page."""
    assignment = result.assignment
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        gradebook.update_or_create_assignment(assignment, duedate=policy.due[assignment])
    if extension_hours:
        policy = replace(policy, extensions={assignment: {NBGRADER_ID: extension_hours}})
    private = replace(result, student=NBGRADER_ID)
    outputs.record(db_url, private, policy)
    if clock is not None:
        clock.lap("database")
    autograded = course / "autograded" / NBGRADER_ID / assignment / f"{assignment}.ipynb"
    if autograded.is_file():
        source = course / "source" / assignment / f"{assignment}.ipynb"
        graded_ids = set(graded_cells(json.loads(source.read_text())))
        outputs.annotate_autograded(autograded, private, graded_ids)
    exporter = {"GenerateFeedback.exporter_class": FeedbackExporter}
    api = nbgrader_api(
        course, db_url, hooks=exporter, cell_timeout=cell_timeout, kernel=GRADER_KERNEL
    )
    graded = replace(private, student=result.student)
    feedback = outputs.feedback_page(api, course, graded, student_id=NBGRADER_ID)
    if clock is not None:
        clock.lap("feedback")
    return graded, feedback


def feedback_again(
    result: Result,
    notebook: dict | None,
    source: str,
    policy: late.Policy,
    cell_timeout: int = CELL_SECONDS,
) -> str:
    """The feedback page of a result graded before, whose lateness has changed: made as the
    task makes it, in a private course, from the autograded ``notebook`` (its summary first)."""
    if notebook is None or result.problem:
        return outputs.problem_page(result)
    job = Path(tempfile.mkdtemp(prefix="feedback-", dir=_worker_folder()))
    try:
        course = job / "course"
        shutil.copytree(_prepared_course(result.assignment, source, cell_timeout), course)
        folder = course / "autograded" / NBGRADER_ID / result.assignment
        folder.mkdir(parents=True)
        cells = notebook["cells"]
        if cells and cells[0].get("metadata", {}).get(outputs.SUMMARY_KEY):
            notebook = {**notebook, "cells": cells[1:]}  # the summary is made again
        (folder / f"{result.assignment}.ipynb").write_text(json.dumps(notebook))
        hours = policy.extensions.get(result.assignment, {}).get(result.student)
        return _private_feedback(course, result, policy, hours, cell_timeout)[1]
    finally:
        shutil.rmtree(job, ignore_errors=True)


def drop_duplicate_cells(notebook: dict) -> dict:
    """The notebook with only the first cell of each nbgrader grade_id (nbgrader refuses copies)."""
    seen: set[str] = set()
    cells = []
    for cell in notebook["cells"]:
        nbgrader = cell.get("metadata", {}).get("nbgrader")
        grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
        if grade_id is not None and grade_id in seen:
            continue
        seen.add(grade_id)
        cells.append(cell)
    return {**notebook, "cells": cells}


def _autograde(
    course: Path, task: Task, result: Result, room: Path, clock: _Clock
) -> dict[str, float]:
    """Run nbgrader's autograde (in this worker); return grade_id -> points it awarded."""
    os.environ.update(course_environment(course))  # alembic on PATH, the kernelspec
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    hooks = {
        "Autograde.autograde_preprocessors": AUTOGRADE_PREPROCESSORS,
        "Execute.on_notebook_start": lambda **_: clock.lap("kernel_start"),
        "Execute.on_cell_complete": lambda **_: clock.lap("execution"),
    }
    api = nbgrader_api(
        course,
        db_url,
        hooks=hooks,
        cell_timeout=task.cell_timeout,
        kernel=GRADER_KERNEL,
        room=room,
    )
    response = api.autograde(task.assignment, NBGRADER_ID, force=True, create=True)
    if not response["success"]:
        log = f"{response.get('error') or ''}{response.get('log') or ''}"
        died = "DeadKernelError" in log or "Kernel died" in log
        result.statuses.append("kernel_died" if died else "autograde_failed")
    with Gradebook(db_url) as gradebook:
        try:
            submission = gradebook.find_submission_notebook(
                task.assignment, task.assignment, NBGRADER_ID
            )
        except MissingEntry:
            submission = None
        points = {g.name: float(g.auto_score or 0) for g in getattr(submission, "grades", [])}
    clock.lap("autograde_other")
    return points


def verify(
    cells: list[str],
    checks: dict,
    cell_timeout: int = CELL_SECONDS,
    isolated: bool = True,
    seen: list[dict] | None = None,
) -> dict[str, tuple[bool, str]]:
    """Run every check of the assignment against the code in a sandbox, on fresh inputs.

    A check that kills or hangs the sandbox fails, and the next check gets a new sandbox; if
    the code cannot even be loaded (a top-level infinite loop, say), every check fails. What
    each sandbox's supervisor saw (caps reached, peaks) is appended to ``seen``.
    """
    verdicts: dict[str, tuple[bool, str]] = {}
    rng = np.random.default_rng()  # fresh entropy: answers cannot be known in advance
    student: SandboxStudent | None = None
    try:
        for grade_id, check in checks.items():
            if student is None or student.broken:
                if student is not None:
                    student.close()
                    if seen is not None:
                        seen.append(student.usage)
                try:
                    student = SandboxStudent(
                        cells,
                        isolated=isolated,
                        memory_bytes=SANDBOX_MEMORY,
                        cell_seconds=cell_timeout,
                        call_timeout=cell_timeout,
                    )
                except SandboxBroken as error:
                    return {gid: (False, str(error)) for gid in checks}
            try:
                check(student, rng)
                verdicts[grade_id] = (True, "")
            except StudentRaised as error:
                verdicts[grade_id] = (False, f"your code raised {error}")
            except CheckFailed as error:
                verdicts[grade_id] = (False, str(error))
            except Exception as error:  # noqa: BLE001 - e.g. a return value of the wrong kind
                verdicts[grade_id] = (False, f"{type(error).__name__}: {error}"[:300])
    finally:
        if student is not None:
            student.close()
            if seen is not None:
                seen.append(student.usage)
    return verdicts
