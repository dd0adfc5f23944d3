"""Check one notebook as grading would, before it is handed in: ``python -m autograder check``.

For a reader of the book or a student, who has the notebook but no course folder. :func:`check`

1. reads the notebook and finds its assignment (:func:`assignment_of`);
2. where the registry holds that assignment's hidden checks, grades the notebook with
   :func:`autograder.pipeline.task.grade_one`, the task every grading worker runs (bubblewrap,
   the hidden checks on fresh inputs, the verification outside the kernel, a private course
   and gradebook it removes), and writes the feedback page it made, with the copy of MathJax
   the page loads, into the output folder;
3. where it does not (a release from a private course, whose checks are not published), runs
   the visible tests only: the notebook executed by nbgrader's executor in the same isolated
   grading kernel (:mod:`autograder.isolation.kernel`), each cell that raised named with its
   error.

It returns plain data (:class:`Checked`); :func:`summary` says it in a few lines of text.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from nbclient.exceptions import DeadKernelError

from autograder import assignments as registry
from autograder.assignments import SOLUTIONS, nbgrader_cells
from autograder.isolation import bubblewrap, cgroups
from autograder.isolation.kernel import GRADER_KERNEL, install_kernelspec
from autograder.isolation.policy import CELL_SECONDS, KERNEL_MEMORY, MAX_PROCESSES
from autograder.pipeline import outputs
from autograder.pipeline.execute import GradingExecute
from autograder.pipeline.intake import read_notebook
from autograder.pipeline.nbgrader_course import nbgrader_api
from autograder.pipeline.results import Result
from autograder.pipeline.task import Task, course_environment, grade_one


class BadInput(ValueError):
    """An argument that cannot be checked; the message names it, in one line."""


@dataclass
class Failure:
    """A test that failed: its cell (grade_id, or ``cell N`` counting from 1) and why."""

    cell: str
    cause: str


@dataclass
class Checked:
    """What checking one notebook found."""

    notebook: Path
    assignment: str | None  # None: no hidden checks here for it, the visible tests only ran
    isolated: bool
    failures: list[Failure] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    score: float | None = None  # with the hidden checks only
    max_score: float | None = None
    page: Path | None = None  # the feedback page written (with the hidden checks only)
    seconds: float = 0.0


def default_out(notebook: Path) -> Path:
    """Where the feedback page goes unless told: ``<name>-check/`` beside the notebook."""
    return notebook.parent / f"{notebook.stem}-check"


def read(path: Path) -> dict:
    """The notebook at ``path``; :class:`BadInput` naming NOTEBOOK when there is none."""
    if not path.exists():
        raise BadInput(f"NOTEBOOK: no such file: {path}")
    if path.is_dir():
        raise BadInput(f"NOTEBOOK must be a notebook file (.ipynb), got the folder {path}")
    notebook, problem = read_notebook(path)
    if notebook is None:
        raise BadInput(f"NOTEBOOK: {path} is not a Jupyter notebook: {problem}")
    return notebook


def assignment_of(
    notebook: dict, path: Path, asked: str | None = None, root: Path = SOLUTIONS
) -> str | None:
    """The assignment of ``root`` to grade ``notebook`` (read from ``path``) as: ``asked``, else
    the one whose graded cells include every graded cell of the notebook, else the one named
    like the file. None when the notebook has graded cells of an assignment ``root`` has no
    checks for. :class:`BadInput` when ``asked`` is unknown, or none or several match."""
    known = registry.discover(root)
    choose = "choose one with --assignment"
    if asked is not None:
        if asked not in known:
            raise BadInput(
                f"--assignment must be one of {', '.join(known) or 'none'}; got {asked!r}"
            )
        return asked
    graded = {
        cell["metadata"]["nbgrader"].get("grade_id")
        for cell in nbgrader_cells(notebook)
        if cell["metadata"]["nbgrader"].get("grade")
    }
    matching = [name for name, a in known.items() if graded and graded <= set(a.graded_cells())]
    if len(matching) > 1:
        raise BadInput(
            f"NOTEBOOK: the graded cells of {path.name} match several assignments "
            f"({', '.join(matching)}): {choose}"
        )
    if matching:
        return matching[0]
    if path.stem in known:
        return path.stem
    if graded:
        return None
    raise BadInput(
        f"NOTEBOOK: {path.name} is none of the assignments ({', '.join(known) or 'none'}): it has "
        f"no graded cells of one and is not named after one; {choose}"
    )


def check(
    path: Path,
    *,
    assignment: str | None = None,
    out: Path | None = None,
    isolated: bool = True,
    root: Path = SOLUTIONS,
) -> Checked:
    """Check the notebook at ``path`` against ``assignment`` (by default the one it is, see
    :func:`assignment_of`) of the registry at ``root`` (see the module docstring); the feedback
    page goes to ``out`` (by default :func:`default_out`). Raises :class:`BadInput` for a bad
    argument and :class:`~autograder.isolation.bubblewrap.IsolationUnavailable` when
    ``isolated`` and bubblewrap cannot run here."""
    started = time.monotonic()
    path = Path(path)
    notebook = read(path)
    name = assignment_of(notebook, path, assignment, root)
    out = default_out(path) if out is None else Path(out)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out must be a folder, got the file {out}")
    if name is None:
        checked = Checked(path, None, isolated)
        executed, checked.statuses = run_visible_tests(notebook, isolated)
        checked.failures = [Failure(cell, cause) for cell, cause in errors(executed).items()]
    else:
        checked = _grade(path, notebook, registry.discover(root)[name], out, isolated)
    checked.seconds = time.monotonic() - started
    return checked


def _grade(
    path: Path, notebook: dict, assignment: registry.Assignment, out: Path, isolated: bool
) -> Checked:
    """Grade ``notebook`` as a grading worker does; write its feedback page under ``out``."""
    task = Task(
        student=path.name,
        assignment=assignment.name,
        notebook=notebook,
        source=assignment.notebook.read_text(),
        checks=assignment.checks.read_text(),
        isolated=isolated,
    )
    graded = grade_one(asdict(task))
    result = Result.from_dict(graded["result"])
    outputs.install_mathjax(out)  # the page loads ../mathjax/, as in OUT/feedback/<student>/
    page = out / "feedback" / f"{assignment.name}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(graded["feedback"])
    raised = errors(graded["autograded"]) if graded["autograded"] else {}
    failures = [
        Failure(cell.grade_id, cell.message or raised.get(cell.grade_id, "failed in the notebook"))
        for cell in result.cells
        if cell.points < cell.max_points
    ]
    return Checked(
        path,
        assignment.name,
        isolated,
        failures=failures,
        statuses=result.statuses,
        score=result.score,
        max_score=result.max_score,
        page=page,
    )


def run_visible_tests(notebook: dict, isolated: bool = True) -> tuple[dict, list[str]]:
    """``notebook`` executed as nbgrader's autograde executes it, in the grading kernel
    (isolated and capped unless ``isolated`` is false), and the statuses of what went wrong
    beyond a cell's error (``kernel_died``, the caps reached)."""
    if isolated:
        bubblewrap.require()
    with tempfile.TemporaryDirectory(prefix="rnn-check-") as folder:
        job = Path(folder)
        room, scratch, no_checks = job / "room", job / "scratch", job / "checks"
        for made in (room, scratch, no_checks):
            made.mkdir()
        report = job / "kernel-limits.json"
        cgroup = cgroups.create(MAX_PROCESSES, KERNEL_MEMORY) if isolated else None
        install_kernelspec(
            job / "jupyter",
            room=room,
            checks=no_checks,
            isolated=isolated,
            scratch=scratch,
            report=report,
            cgroup=cgroup,
        )
        os.environ.update(course_environment(job))  # the kernelspec above, as grade_one does
        api = nbgrader_api(
            job, "sqlite://", cell_timeout=CELL_SECONDS, kernel=GRADER_KERNEL, room=room
        )
        executed = nbformat.reads(json.dumps(notebook), as_version=4)  # sources joined
        statuses = []
        try:
            run = GradingExecute(config=api.config)
            run.preprocess(executed, {"metadata": {"path": str(room)}})
        except DeadKernelError:
            statuses.append("kernel_died")
        finally:
            if isolated:
                statuses += cgroups.limits_seen(report, cgroup)["limits"]
            if cgroup is not None:
                cgroup.remove()
    return executed, statuses


def errors(notebook: dict) -> dict[str, str]:
    """The cells of an executed notebook that raised, in order: their grade_id (or ``cell N``)
    -> the first line of the error."""
    raised = {}
    for number, cell in enumerate(notebook["cells"], 1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                meta = cell.get("metadata", {}).get("nbgrader", {})
                name, value = output.get("ename", "Error"), str(output.get("evalue", "")).strip()
                line = f"{name}: {value.splitlines()[0]}" if value else name
                raised[meta.get("grade_id") or f"cell {number}"] = line
    return raised


def summary(checked: Checked) -> str:
    """What ``python -m autograder check`` prints: the score or the visible tests' outcome,
    each failed test and its cause, the statuses, and where the feedback page is."""
    how = "isolated (bubblewrap)" if checked.isolated else "NOT isolated (--no-isolation)"
    if checked.assignment is not None:
        lines = [
            f"{checked.notebook}: {checked.assignment}, graded with the hidden checks, {how}, "
            f"in {checked.seconds:.0f} s",
            f"score: {checked.score:g} / {checked.max_score:g}",
        ]
        failed = "failed tests"
    else:
        lines = [
            f"{checked.notebook}: the hidden checks of its assignment are not available here "
            "(no assignment in this installation's solutions/ has its graded cells): ran the "
            f"visible tests only, {how}, in {checked.seconds:.0f} s"
        ]
        failed = "cells that raised"
    lines.append(f"{failed}: {len(checked.failures)}")
    lines += [f"  {failure.cell}: {failure.cause}" for failure in checked.failures]
    if checked.statuses:
        lines.append(f"status: {';'.join(checked.statuses)}")
    if checked.page is not None:
        lines.append(f"feedback page: {checked.page}")
    return "\n".join(lines)
