"""Grade one submission, in a worker process: from plain inputs to a plain :class:`Result`.

1. The worker copies a prepared course (sources, and a gradebook that knows the assignment)
   into a private folder, so that parallel workers never share a database.
2. nbgrader's autograde runs the notebook there, in the isolated, memory-capped kernel of
   :mod:`autograder.kernel`, with a per-cell timeout.
3. Every check of every graded cell runs again against the student's code in the sandbox of
   :mod:`autograder.sandbox`, on fresh random inputs, comparing in this process.

A graded cell earns its points only when nbgrader's run passed it *and* the sandboxed check
passed. Nothing here writes outside the worker's folder; the parent records the result.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from nbgrader.api import Gradebook, MissingEntry

from autograder.course import GRADER_KERNEL, SOLUTIONS, environment, nbgrader_api, write_config
from autograder.harness import CheckFailed, StudentRaised, load_checks
from autograder.intake import Submission
from autograder.kernel import install_kernelspec
from autograder.results import CellResult, Result
from autograder.sandbox import SandboxBroken, SandboxStudent
from autograder.submission import (
    compare_with_source,
    execution_statuses,
    nbgrader_cells,
    student_code_cells,
)

KERNEL_MEMORY = 3 * 1024**3
SANDBOX_MEMORY = 2 * 1024**3


def graded_cells(assignment: str) -> dict[str, float]:
    """grade_id -> points of every graded cell of the assignment's source notebook."""
    source = json.loads((SOLUTIONS / assignment / f"{assignment}.ipynb").read_text())
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: float(cell["metadata"]["nbgrader"]["points"])
        for cell in nbgrader_cells(source)
        if cell["metadata"]["nbgrader"].get("grade")
    }


def course_environment(root: Path) -> dict[str, str]:
    """The environment nbgrader runs in for the course at ``root`` (its kernelspecs first)."""
    return environment({"JUPYTER_PATH": str(root / "jupyter")})


def ungraded(submission: Submission, isolated: bool) -> Result:
    """The result of a submission with nothing to grade: every test at 0, and why."""
    cells = [
        CellResult(grade_id, points, 0.0, False, 0.0, "not graded")
        for grade_id, points in graded_cells(submission.assignment).items()
    ]
    return Result(
        submission.student,
        submission.assignment,
        statuses=list(submission.statuses),
        cells=cells,
        isolated=isolated,
        problem=submission.problem,
        digest=submission.digest,
        timestamp=submission.timestamp,
    )


def grade_submission(
    template: Path, submission: Submission, cell_timeout: int, isolated: bool
) -> Result:
    """Grade one student's notebook for one assignment (see the module docstring)."""
    student, assignment = submission.student, submission.assignment
    result = ungraded(submission, isolated)
    if submission.notebook is None:
        return result
    notebook = submission.notebook
    source = json.loads((SOLUTIONS / assignment / f"{assignment}.ipynb").read_text())
    checks = load_checks(assignment)  # before the student's code runs anywhere
    result.statuses += compare_with_source(notebook, source)

    course = template.parent / "jobs" / f"{student}__{assignment}"
    if course.exists():
        shutil.rmtree(course)
    shutil.copytree(template, course)
    write_config(
        course,
        f"sqlite:///{course / 'gradebook.db'}",
        cell_timeout=cell_timeout,
        kernel=GRADER_KERNEL,
    )
    target = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(drop_duplicate_cells(notebook)))
    if submission.timestamp:
        (target.parent / "timestamp.txt").write_text(submission.timestamp)
    room = Path(tempfile.mkdtemp(prefix="rnn-kernel-"))
    try:
        install_kernelspec(
            course / "jupyter", KERNEL_MEMORY, room=room, assignment=assignment, isolated=isolated
        )
        nbgrader_points = _autograde(course, student, assignment, result, cell_timeout, room)
    finally:
        shutil.rmtree(room, ignore_errors=True)
    autograded = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    if autograded.is_file():
        result.statuses += execution_statuses(autograded)
        result.autograded = str(autograded)

    verdicts = verify(student_code_cells(notebook, source), checks, cell_timeout, isolated)
    result.cells = []
    for grade_id, max_points in graded_cells(assignment).items():
        passed, message = verdicts[grade_id]
        got = nbgrader_points.get(grade_id, 0.0)
        if got > 0 and not passed:
            result.statuses.append("verification_failed")
        result.cells.append(
            CellResult(grade_id, max_points, got, passed, got if passed else 0.0, message)
        )
    result.statuses = sorted(set(result.statuses), key=result.statuses.index)
    return result


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
    course: Path, student: str, assignment: str, result: Result, cell_timeout: int, room: Path
) -> dict[str, float]:
    """Run nbgrader's autograde (in this worker); return grade_id -> points it awarded."""
    os.environ.update(course_environment(course))  # alembic on PATH, the kernelspec
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    api = nbgrader_api(course, db_url, cell_timeout=cell_timeout, kernel=GRADER_KERNEL, room=room)
    response = api.autograde(assignment, student, force=True, create=True)
    if not response["success"]:
        report = f"{response.get('error') or ''}{response.get('log') or ''}"
        died = "DeadKernelError" in report or "Kernel died" in report
        result.statuses.append("kernel_died" if died else "autograde_failed")
    with Gradebook(db_url) as gradebook:
        try:
            submission = gradebook.find_submission_notebook(assignment, assignment, student)
        except MissingEntry:
            return {}
        return {grade.name: float(grade.auto_score or 0) for grade in submission.grades}


def verify(
    cells: list[str], checks: dict, cell_timeout: int = 30, isolated: bool = True
) -> dict[str, tuple[bool, str]]:
    """Run every check of the assignment against the code in a sandbox, on fresh inputs.

    A check that kills or hangs the sandbox fails, and the next check gets a new sandbox; if
    the code cannot even be loaded (a top-level infinite loop, say), every check fails.
    """
    verdicts: dict[str, tuple[bool, str]] = {}
    rng = np.random.default_rng()  # fresh entropy: answers cannot be known in advance
    student: SandboxStudent | None = None
    try:
        for grade_id, check in checks.items():
            if student is None or student.broken:
                if student is not None:
                    student.close()
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
    return verdicts
