"""Grade a class's submissions: nbgrader's autograde, then an independent verification.

For every (student, assignment) a worker process

1. copies a prepared course (sources and a gradebook that knows the assignment) into a private
   folder, so that parallel workers never share a database;
2. runs ``nbgrader autograde`` there, with a per-cell timeout and a memory-capped kernel;
3. re-runs every check of every graded cell against the student's code in a sandbox
   (:mod:`autograder.sandbox`) on fresh random inputs, comparing in this process.

A graded cell earns its points only when nbgrader's run passed it *and* the sandboxed check
passed. The parent then records the final scores in the course gradebook (SQLite by default,
any SQLAlchemy URL with ``db_url``), writes ``grades.csv`` and the feedback pages.
"""

from __future__ import annotations

import csv
import html
import json
import os
import shutil
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from tqdm import tqdm

from autograder import isolation
from autograder.course import (
    GRADER_KERNEL,
    SOLUTIONS,
    NbgraderFailed,
    copy_sources,
    environment,
    nbgrader_api,
    run_nbgrader,
    write_config,
)
from autograder.harness import CheckFailed, StudentRaised, load_checks
from autograder.kernel import install_kernelspec
from autograder.sandbox import SandboxBroken, SandboxStudent
from autograder.submission import (
    compare_with_source,
    execution_statuses,
    nbgrader_cells,
    read_submission,
    student_code_cells,
)

KERNEL_MEMORY = 3 * 1024**3
warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own session noise
SANDBOX_MEMORY = 2 * 1024**3


@dataclass
class CellResult:
    grade_id: str
    max_points: float
    nbgrader_points: float
    verified: bool
    points: float
    message: str = ""


@dataclass
class Result:
    student: str
    assignment: str
    statuses: list[str] = field(default_factory=list)
    cells: list[CellResult] = field(default_factory=list)
    autograded: str | None = None
    isolated: bool = True

    @property
    def score(self) -> float:
        return sum(cell.points for cell in self.cells)

    @property
    def status(self) -> str:
        return ";".join(self.statuses) or "ok"


def graded_cells(assignment: str) -> dict[str, float]:
    """grade_id -> points of every graded cell of the assignment's source notebook."""
    source = json.loads((SOLUTIONS / assignment / f"{assignment}.ipynb").read_text())
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: float(cell["metadata"]["nbgrader"]["points"])
        for cell in nbgrader_cells(source)
        if cell["metadata"]["nbgrader"].get("grade")
    }


def prepare_course(root: Path, assignments: list[str], db_url: str, cell_timeout: int) -> None:
    """A course at ``root`` whose gradebook knows every assignment (generate_assignment)."""
    write_config(root, db_url, cell_timeout=cell_timeout, kernel=GRADER_KERNEL)
    copy_sources(root, assignments)
    os.environ.update(_env(root))  # nbgrader runs `alembic` from PATH
    api = nbgrader_api(root, db_url, cell_timeout=cell_timeout, kernel=GRADER_KERNEL)
    for name in assignments:
        response = api.generate_assignment(name, force=True, create=True)
        if not response["success"]:
            raise NbgraderFailed(f"generate_assignment {name}:\n{response.get('log', '')[-4000:]}")


def _env(root: Path) -> dict[str, str]:
    return environment({"JUPYTER_PATH": str(root / "jupyter")})


# -- one submission, in a worker process ---------------------------------------------------
def grade_one(
    template: Path,
    submitted: Path,
    student: str,
    assignment: str,
    cell_timeout: int,
    isolated: bool,
) -> Result:
    """Grade one student's notebook for one assignment (see the module docstring)."""
    result = Result(student, assignment, isolated=isolated)
    points = graded_cells(assignment)
    zero = {gid: CellResult(gid, p, 0.0, False, 0.0, "not graded") for gid, p in points.items()}
    notebook_path = submitted / student / assignment / f"{assignment}.ipynb"
    if not notebook_path.parent.is_dir():
        result.statuses.append("not_submitted")
        result.cells = list(zero.values())
        return result
    notebook, result.statuses = read_submission(notebook_path)
    if notebook is None:
        result.cells = list(zero.values())
        return result
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
    for grade_id, max_points in points.items():
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
    os.environ.update(_env(course))  # PATH for alembic, the kernelspec, the harness import
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


def _grade_job(args: tuple) -> Result:
    return grade_one(*args)


# -- the whole class, in the parent --------------------------------------------------------
def grade(
    submitted: Path,
    out: Path,
    *,
    assignments: list[str],
    workers: int | None = None,
    db_url: str | None = None,
    cell_timeout: int = 30,
    progress: bool = True,
    isolated: bool = True,
) -> list[Result]:
    """Grade every student folder in ``submitted``; write grades.csv and feedback in ``out``.

    With ``isolated`` (the default) student code runs only under bubblewrap, and grading stops
    with :class:`~autograder.isolation.IsolationUnavailable` where bubblewrap cannot run.
    """
    if isolated:
        isolation.require()
    submitted, out = Path(submitted).resolve(), Path(out).resolve()
    if not submitted.is_dir():
        raise ValueError(f"SUBMITTED must be a folder of student folders, got {submitted}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    students = sorted(
        p.name for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    course = out / "course"
    db_url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    work = out / "work"
    for folder in (course, work):
        if folder.exists():
            shutil.rmtree(folder)
    prepare_course(course, assignments, db_url, cell_timeout)
    template_db = f"sqlite:///{work / 'template' / 'gradebook.db'}"
    prepare_course(work / "template", assignments, template_db, cell_timeout)
    for name in assignments:
        load_checks(name)  # read (and cache) the checks before any student code runs

    jobs = [
        (work / "template", submitted, s, a, cell_timeout, isolated)
        for s in students
        for a in assignments
    ]
    results = []
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = [pool.submit(_grade_job, job) for job in jobs]
        for future in tqdm(
            as_completed(futures),
            total=len(futures),
            desc="grading",
            unit="submission",
            disable=not progress,
        ):
            results.append(future.result())
    results.sort(key=lambda r: (r.student, r.assignment))
    record(course, db_url, results)
    write_feedback(course, out, results)
    write_csv(out / "grades.csv", results)
    shutil.rmtree(work, ignore_errors=True)
    return results


def record(course: Path, db_url: str, results: list[Result]) -> None:
    """Store final scores in the course gradebook and the autograded notebooks in the course."""
    with Gradebook(db_url) as gradebook:
        for result in results:
            if "not_submitted" in result.statuses:
                continue
            gradebook.update_or_create_student(result.student)
            gradebook.update_or_create_submission(result.assignment, result.student)
            for cell in result.cells:
                grade = gradebook.find_grade(
                    cell.grade_id, result.assignment, result.assignment, result.student
                )
                grade.auto_score = cell.points
                grade.manual_score = None
            gradebook.db.commit()
            if result.autograded:
                target = course / "autograded" / result.student / result.assignment
                target.mkdir(parents=True, exist_ok=True)
                notebook = nbformat.read(result.autograded, as_version=4)
                notebook.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(result)))
                nbformat.write(notebook, target / f"{result.assignment}.ipynb")


def summary_markdown(result: Result) -> str:
    """The grading summary shown at the top of a student's feedback."""
    lines = [
        f"## Grading summary: {result.score:g} / {sum(c.max_points for c in result.cells):g}",
        "",
        f"Status: **{result.status}**. Each graded test was run twice: in this notebook, and "
        "again on your functions alone, in a separate clean process, on fresh random inputs. "
        "A test earns its points only when both runs pass.",
        "",
        "| test | points | verification |",
        "|---|---|---|",
    ]
    for cell in result.cells:
        verdict = "passed" if cell.verified else cell.message.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{cell.grade_id}` | {cell.points:g} / {cell.max_points:g} | {verdict} |")
    return "\n".join(lines)


def write_feedback(course: Path, out: Path, results: list[Result]) -> None:
    """HTML feedback per student and assignment, in ``out/feedback/<student>/<assignment>.html``."""
    for assignment in sorted({r.assignment for r in results}):
        if any(r.autograded for r in results if r.assignment == assignment):
            run_nbgrader(course, "generate_feedback", assignment, "--force", env=_env(course))
    for result in results:
        target = out / "feedback" / result.student / f"{result.assignment}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        produced = (
            course / "feedback" / result.student / result.assignment / f"{result.assignment}.html"
        )
        if result.autograded and produced.is_file():
            shutil.copy(produced, target)
        else:
            rows = "".join(
                f"<tr><td>{html.escape(c.grade_id)}</td><td>0 / {c.max_points:g}</td></tr>"
                for c in result.cells
            )
            target.write_text(
                f"<html><body><h1>{html.escape(result.assignment)}: "
                f"{html.escape(result.student)}</h1><p>Score 0: status "
                f"<b>{html.escape(result.status)}</b>. The notebook could not be graded.</p>"
                f"<table>{rows}</table></body></html>"
            )


def write_csv(path: Path, results: list[Result]) -> None:
    """One row per student and assignment: score, max score, status and what failed."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["student", "assignment", "score", "max_score", "status", "failed_tests", "isolation"]
        )
        for r in results:
            failed = [c.grade_id for c in r.cells if c.points < c.max_points]
            writer.writerow(
                [
                    r.student,
                    r.assignment,
                    f"{r.score:g}",
                    f"{sum(c.max_points for c in r.cells):g}",
                    r.status,
                    " ".join(failed),
                    "bubblewrap" if r.isolated else "none",
                ]
            )
