"""Grade a class: find every submission, grade what is new, keep everything, report.

``OUT`` persists between runs: ``course/`` (nbgrader's course: sources, autograded notebooks),
the gradebook (SQLite ``gradebook.db`` by default, any SQLAlchemy URL with ``db_url``),
``records/<student>/<assignment>.json`` (each result, with the digest of what was graded) and
the outputs, ``grades.csv`` and ``feedback/``. A run

1. finds each student's notebook for each assignment (:mod:`autograder.intake`);
2. grades, in a pool of worker processes (:mod:`autograder.autograde`), only the submissions
   whose content, or whose grader (sources, checks, options), changed since they were last
   graded, or all of them with ``regrade``;
3. records each result as soon as it arrives: gradebook first, then the record, so a run that
   is interrupted or killed loses only the submissions in flight and the next run grades just
   those;
4. applies the due dates and the late penalty (:mod:`autograder.late`) to every record, so a
   changed due date changes grades without grading again, and rewrites the feedback it changed;
5. writes ``grades.csv`` from every record and the gradebook: every student and assignment
   graded so far, whatever this run graded.

A submission the grader itself failed on (not the student's fault) gets ``grader_error``; the
run goes on, and :func:`grade` reports it so that the command exits non-zero.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import time
import traceback
import warnings
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from autograder import isolation, late, report
from autograder.autograde import (
    course_environment,
    grade_submission,
    graded_cells,
    ungraded,
)
from autograder.course import (
    GRADER_KERNEL,
    REPO,
    SOLUTIONS,
    NbgraderFailed,
    copy_sources,
    nbgrader_api,
    write_config,
)
from autograder.harness import load_checks
from autograder.intake import Submission, find_submission
from autograder.results import Result

__all__ = ["grade", "graded_cells", "Outcome"]


class Outcome(list):
    """The results of every student and assignment in ``grades.csv``, and what this run did."""

    graded: int = 0
    absent: int = 0  # rows of students with nothing for an assignment
    reused: int = 0
    errors: int = 0
    summary: str = ""


def quiet() -> None:
    """No warnings or log lines from nbgrader, nbformat or Jupyter in the console."""
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)


def _worker_start() -> None:
    quiet()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C


def fingerprint(assignment: str, cell_timeout: int, isolated: bool) -> str:
    """What a grade depends on besides the notebook: the assignment's sources, the grader's
    code and the options. A change to any of them re-grades the assignment."""
    hasher = hashlib.sha256(f"{cell_timeout}:{isolated}".encode())
    files = [SOLUTIONS / assignment / f"{assignment}.ipynb", SOLUTIONS / assignment / "checks.py"]
    files += sorted((REPO / "autograder").glob("*.py"))
    for path in files:
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def prepare_course(root: Path, assignments: list[str], db_url: str, cell_timeout: int) -> None:
    """A course at ``root`` whose gradebook knows every assignment (generate_assignment)."""
    write_config(root, db_url, cell_timeout=cell_timeout, kernel=GRADER_KERNEL)
    copy_sources(root, assignments)
    os.environ.update(course_environment(root))  # nbgrader runs `alembic` from PATH
    api = nbgrader_api(root, db_url, cell_timeout=cell_timeout, kernel=GRADER_KERNEL)
    for name in assignments:
        response = api.generate_assignment(name, force=True, create=True)
        if not response["success"]:
            raise NbgraderFailed(f"generate_assignment {name}:\n{response.get('log', '')[-4000:]}")


def student_folders(submitted: Path, out: Path) -> list[str]:
    """The student folders of ``submitted``: real folders (no links), not hidden, not ``out``."""
    return sorted(
        p.name
        for p in submitted.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and p != out
    )


def _record_path(out: Path, student: str, assignment: str) -> Path:
    return out / "records" / student / f"{assignment}.json"


def _previous(out: Path) -> dict[tuple[str, str], Result]:
    results = {}
    for path in sorted((out / "records").glob("*/*.json")):
        result = Result.load(path)
        results[(result.student, result.assignment)] = result
    return results


def _grader_error(submission: Submission, isolated: bool, error: BaseException) -> Result:
    result = ungraded(submission, isolated)
    result.statuses.append(f"grader_error: {type(error).__name__}")
    result.problem = "The grader failed on this notebook; your instructor has been told."
    return result


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
    regrade: bool = False,
    students: list[str] | None = None,
    policy: late.Policy | None = None,
) -> Outcome:
    """Grade the submissions in ``submitted`` into ``out`` (see the module docstring).

    ``students`` limits the run to those student folders. ``policy`` (due dates, extensions,
    late penalty: :mod:`autograder.late`) is applied to every row, graded now or before. With
    ``isolated`` (the default) student code runs only under bubblewrap, and grading stops with
    :class:`~autograder.isolation.IsolationUnavailable` where bubblewrap cannot run.
    """
    started = time.monotonic()
    if isolated:
        isolation.require()
    submitted, out = Path(submitted).resolve(), Path(out).resolve()
    quiet()
    course = out / "course"
    db_url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    work = out / "work" / f"{os.getpid()}"
    shutil.rmtree(out / "work", ignore_errors=True)
    prepare_course(course, assignments, db_url, cell_timeout)
    policy = policy or late.Policy()
    late.set_due_dates(db_url, policy, assignments)
    kept = late.keep_policy(policy, out)
    template = work / "template"
    prepare_course(template, assignments, f"sqlite:///{template / 'gradebook.db'}", cell_timeout)
    for name in assignments:
        load_checks(name)  # read (and cache) the checks before any student code runs
    marks = {a: fingerprint(a, cell_timeout, isolated) for a in assignments}
    previous = _previous(out)
    chosen = student_folders(submitted, out)
    if students is not None:
        chosen = [s for s in chosen if s in students]

    todo: list[Submission] = []
    outcome = Outcome()
    for student in chosen:
        for assignment in assignments:
            submission = find_submission(submitted, student, assignment)
            old = previous.get((student, assignment))
            fresh = old and old.digest == submission.digest
            if fresh and old.fingerprint == marks[assignment] and not regrade:
                outcome.reused += 1
            else:
                todo.append(submission)

    api = nbgrader_api(course, db_url, cell_timeout=cell_timeout, kernel=GRADER_KERNEL)
    graded_ids = {a: set(graded_cells(a)) for a in assignments}

    def keep(result: Result) -> None:
        result.fingerprint = marks[result.assignment]
        report.record(db_url, result, policy)
        report.keep_autograded(course, result, graded_ids[result.assignment])
        report.write_feedback(api, course, out, result)
        result.save(_record_path(out, result.student, result.assignment))
        if any(s.startswith("not_submitted") for s in result.statuses):
            outcome.absent += 1
        else:
            outcome.graded += 1
        outcome.errors += any(s.startswith("grader_error") for s in result.statuses)

    report.install_mathjax(out / "feedback")
    pool = ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1, initializer=_worker_start
    )
    bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress)
    try:
        futures: dict[Future, Submission] = {}
        for submission in todo:
            if submission.notebook is None:
                keep(ungraded(submission, isolated))
                bar.update()
                continue
            job = (template, submission, cell_timeout, isolated)
            futures[pool.submit(grade_submission, *job)] = submission
        for future in as_completed(futures):
            submission = futures[future]
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - the grader's fault, not the student's
                log = out / "logs" / f"{submission.student}__{submission.assignment}.log"
                log.parent.mkdir(parents=True, exist_ok=True)
                log.write_text("".join(traceback.format_exception(error)))
                result = _grader_error(submission, isolated, error)
            result.digest = submission.digest
            keep(result)
            bar.update()
    except KeyboardInterrupt:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        bar.close()
        raise
    pool.shutdown()
    bar.close()

    everything = _previous(out)
    for result in late.assess_all(db_url, list(everything.values()), policy):
        report.refresh_summary(course, result)  # a due date, extension or policy changed
        report.write_feedback(api, course, out, result)
        result.save(_record_path(out, result.student, result.assignment))
    scores = report.gradebook_scores(db_url, sorted({a for _, a in everything}))
    report.write_csv(out / "grades.csv", list(everything.values()), scores)
    shutil.rmtree(out / "work", ignore_errors=True)
    outcome.extend(sorted(everything.values(), key=lambda r: (r.student, r.assignment)))
    outcome.summary = report.closing_table(
        list(everything.values()),
        outcome.graded,
        outcome.absent,
        outcome.reused,
        time.monotonic() - started,
        out,
        kept,
    )
    return outcome
