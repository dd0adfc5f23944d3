"""Grade a class: find every submission, grade what is new, keep everything, report.

``OUT`` persists between runs: ``course/`` (nbgrader's course: sources, autograded notebooks),
the gradebook (SQLite ``gradebook.db`` by default, any SQLAlchemy URL with ``db_url``),
``records/<student>/<assignment>.json`` (each result, with the digest of what was graded) and
the outputs, ``grades.csv``, ``feedback/``, ``report.html`` (and ``.json``) and
``similarity.html`` (and ``.csv``). A run

1. finds each student's notebook for each assignment (:mod:`autograder.pipeline.intake`);
2. sends the submissions whose content, or whose grader (sources, checks, options), changed
   since they were last graded (or all of them with ``regrade``) to the grading workers
   (:mod:`autograder.pipeline.workers`: worker processes here, or a Dask cluster), each a task of
   plain data that :func:`autograder.pipeline.task.grade_one` grades, feedback page included;
3. records each result as soon as it arrives (this process alone writes the gradebook):
   gradebook first, then the autograded notebook, the feedback page and the record, so a run
   that is interrupted or killed loses only the submissions in flight and the next run grades
   just those;
4. applies the due dates and the late penalty (:mod:`autograder.pipeline.late`) to every record, so
   a changed due date changes grades without grading again, and rewrites the feedback it changed;
5. writes ``grades.csv`` from every record and the gradebook (:mod:`autograder.pipeline.outputs`):
   every student and assignment graded so far, whatever this run graded;
6. compares the code of every submission with every other and with the public solution
   (:mod:`autograder.pipeline.similarity`), then writes the class report
   (:mod:`autograder.pipeline.class_report`), both over every record.

A submission the grader itself failed on twice (not the student's fault) gets ``grader_error``;
the run goes on, and :func:`grade` reports it so that the command exits non-zero.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import time
import traceback
import warnings
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from tqdm import tqdm

from autograder import assignments as registry
from autograder.isolation import bubblewrap
from autograder.isolation.kernel import GRADER_KERNEL
from autograder.isolation.policy import CELL_SECONDS
from autograder.pipeline import class_report, late, outputs, similarity
from autograder.pipeline import workers as pools
from autograder.pipeline.intake import Submission, find_submission
from autograder.pipeline.nbgrader_course import (
    NbgraderFailed,
    copy_sources,
    create_gradebook,
    nbgrader_api,
    write_config,
)
from autograder.pipeline.results import Result
from autograder.pipeline.task import (
    STAGES,
    Task,
    course_environment,
    feedback_again,
    grade_one,
    ungraded,
    warm_up,
)

__all__ = ["grade", "Outcome"]


class Outcome(list):
    """The results of every student and assignment in ``grades.csv``, and what this run did."""

    graded: int = 0
    absent: int = 0  # rows of students with nothing for an assignment
    reused: int = 0
    errors: int = 0
    seconds: float = 0.0  # wall-clock time of the run
    stages: dict[str, float]  # worker seconds by stage, summed over the tasks
    client_cpu: float = 0.0  # CPU seconds of this process (orchestration, gradebook, files)
    summary: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.stages = dict.fromkeys((*STAGES, "recording"), 0.0)


def quiet() -> None:
    """No warnings or log lines from nbgrader, nbformat or Jupyter in the console."""
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)


# The grader's code that decides a grade: the check API, isolation (its policy included), the
# registry, and the modules that grade one submission. Not the command line, the workers, the
# late penalty (applied again on every run), the outputs or the authoring tools.
GRADE_DECIDING = ("assignments.py", "checking/*.py", "isolation/*.py", "pipeline/task.py")
GRADE_DECIDING += ("pipeline/intake.py", "pipeline/tampering.py", "pipeline/nbgrader_course.py")
GRADE_DECIDING += ("pipeline/execute.py",)


def fingerprint(assignment: str, cell_timeout: int, isolated: bool) -> str:
    """What a grade depends on besides the notebook: the assignment's sources, the grader's
    code that decides grades (:data:`GRADE_DECIDING`) and the options. A change to any of them
    re-grades the assignment."""
    hasher = hashlib.sha256(f"{cell_timeout}:{isolated}".encode())
    known = registry.get(assignment)
    files = [known.notebook, known.checks]
    package = registry.REPO / "autograder"
    files += sorted(path for pattern in GRADE_DECIDING for path in package.glob(pattern))
    for path in files:
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def prepare_course(root: Path, assignments: list[str], db_url: str, cell_timeout: int) -> None:
    """A course at ``root`` whose gradebook knows every assignment (generate_assignment)."""
    write_config(root, db_url, cell_timeout=cell_timeout, kernel=GRADER_KERNEL)
    copy_sources(root, assignments)
    os.environ.update(course_environment(root))  # this interpreter's bin first on PATH
    create_gradebook(db_url)  # before nbgrader, which would start `alembic` to make it
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


def load_records(out: Path) -> dict[tuple[str, str], Result]:
    """Every result recorded in the grading folder ``out`` (``records/<student>/<a>.json``),
    by (student, assignment)."""
    results = {}
    for path in sorted((out / "records").glob("*/*.json")):
        result = Result.load(path)
        results[(result.student, result.assignment)] = result
    return results


def _lateness(db_url: str, policy: late.Policy, assignments: list[str]) -> dict[str, str | None]:
    """Each assignment's due date (naive UTC, ISO) as the gradebook holds it after
    :func:`autograder.pipeline.late.set_due_dates`: configured, or set with nbgrader's own tools."""
    due = {}
    with Gradebook(db_url) as gradebook:
        for name in assignments:
            try:
                moment = gradebook.find_assignment(name).duedate
            except MissingEntry:
                moment = None
            due[name] = moment.isoformat() if moment else None
    return due


def grade(
    submitted: Path,
    out: Path,
    *,
    assignments: list[str],
    workers: int | None = None,
    scheduler: str | None = None,
    db_url: str | None = None,
    cell_timeout: int = CELL_SECONDS,
    progress: bool = True,
    isolated: bool = True,
    regrade: bool = False,
    students: list[str] | None = None,
    policy: late.Policy | None = None,
    grader=grade_one,
) -> Outcome:
    """Grade the submissions in ``submitted`` into ``out`` (see the module docstring).

    Tasks run on ``workers`` local processes, or on the Dask cluster whose scheduler is at
    ``scheduler``. ``students`` limits the run to those student folders. ``policy`` (due dates,
    extensions, late penalty: :mod:`autograder.pipeline.late`) is applied to every row, graded now
    or before. With ``isolated`` (the default) student code runs only under bubblewrap, and grading
    stops with :class:`~autograder.isolation.bubblewrap.IsolationUnavailable` where bubblewrap
    cannot run, here or on a worker. ``grader`` is the function the workers run (tests swap it).
    """
    started, cpu_started = time.monotonic(), time.process_time()
    if isolated and scheduler is None:
        bubblewrap.require()
    submitted, out = Path(submitted).resolve(), Path(out).resolve()
    quiet()
    course = out / "course"
    db_url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    shutil.rmtree(out / "work", ignore_errors=True)  # left by versions before 2026-11
    marks = {a: fingerprint(a, cell_timeout, isolated) for a in assignments}
    sources = {a: registry.get(a).notebook.read_text() for a in assignments}
    checks = {a: registry.get(a).checks.read_text() for a in assignments}
    previous = load_records(out)
    chosen = student_folders(submitted, out)
    if students is not None:
        chosen = [s for s in chosen if s in students]

    todo: list[Submission] = []
    outcome = Outcome()
    for student in chosen:
        for assignment in assignments:
            submission = find_submission(submitted, student, assignment)
            old = previous.get((submission.student, assignment))  # a stand-in for a bad name
            fresh = old and old.digest == submission.digest
            if fresh and old.fingerprint == marks[assignment] and not regrade:
                outcome.reused += 1
            else:
                todo.append(submission)

    with ExitStack() as running:
        gradable = sum(s.notebook is not None for s in todo)
        pool = None
        if gradable:  # the workers start, and prepare their courses, while this process does
            courses = [(a, sources[a], cell_timeout) for a in assignments]
            pool = running.enter_context(
                pools.executor(
                    scheduler,
                    workers_count(workers, gradable),
                    warm_up=functools.partial(warm_up, courses),
                )
            )
        prepare_course(course, assignments, db_url, cell_timeout)
        policy = policy or late.Policy()
        late.set_due_dates(db_url, policy, assignments)
        kept = late.keep_policy(policy, out)
        due = _lateness(db_url, policy, assignments)
        outputs.install_mathjax(out / "feedback")
        bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress)

        def keep(
            result: Result, autograded: dict | None = None, feedback: str | None = None
        ) -> None:
            began = time.perf_counter()
            result.fingerprint = marks[result.assignment]
            outputs.record(db_url, result, policy)
            folder = course / "autograded" / result.student / result.assignment
            shutil.rmtree(folder, ignore_errors=True)
            if autograded is not None:
                folder.mkdir(parents=True)
                notebook = json.dumps(autograded, indent=1)
                (folder / f"{result.assignment}.ipynb").write_text(notebook)
            target = outputs.feedback_path(out, result)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(outputs.problem_page(result) if feedback is None else feedback)
            result.save(_record_path(out, result.student, result.assignment))
            if any(s.startswith("not_submitted") for s in result.statuses):
                outcome.absent += 1
            else:
                outcome.graded += 1
            outcome.errors += any(s.startswith("grader_error") for s in result.statuses)
            outcome.stages["recording"] += time.perf_counter() - began
            bar.update()

        def done(key: tuple[str, str], output: dict) -> None:
            for stage, seconds in output["seconds"].items():
                outcome.stages[stage] = outcome.stages.get(stage, 0.0) + seconds
            keep(Result.from_dict(output["result"]), output["autograded"], output["feedback"])

        def failed(key: tuple[str, str], errors: list[BaseException]) -> None:
            submission = todo_by_key[key]
            log = out / "logs" / f"{submission.student}__{submission.assignment}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("\n".join("".join(traceback.format_exception(e)) for e in errors))
            result = _nothing(submission, isolated, sources[submission.assignment])
            names = ", ".join(type(e).__name__ for e in errors)
            result.statuses.append(f"grader_error: failed {len(errors)} times ({names})")
            result.problem = "The grader failed on this notebook; your instructor has been told."
            keep(result)

        tasks: dict[tuple[str, str], dict] = {}
        todo_by_key = {(s.student, s.assignment): s for s in todo}
        for submission in todo:
            if submission.notebook is None:
                keep(_nothing(submission, isolated, sources[submission.assignment]))
                continue
            hours = policy.extensions.get(submission.assignment, {}).get(submission.student)
            task = Task(
                student=submission.student,
                assignment=submission.assignment,
                notebook=submission.notebook,
                source=sources[submission.assignment],
                checks=checks[submission.assignment],
                cell_timeout=cell_timeout,
                isolated=isolated,
                statuses=submission.statuses,
                timestamp=submission.timestamp,
                digest=submission.digest,
                duedate=due[submission.assignment],
                extension_hours=hours,
                late_penalty=policy.penalty,
            )
            tasks[(submission.student, submission.assignment)] = asdict(task)
        try:
            if tasks:
                pools.run(
                    pool, grader, tasks, done, failed, fatal=(bubblewrap.IsolationUnavailable,)
                )
        finally:
            bar.close()

    everything = load_records(out)
    for result in late.assess_all(db_url, list(everything.values()), policy):
        outputs.refresh_summary(course, result)  # a due date, extension or policy changed
        path = course / "autograded" / result.student / result.assignment
        path = path / f"{result.assignment}.ipynb"
        notebook = json.loads(path.read_text()) if path.is_file() else None
        page = feedback_again(result, notebook, sources[result.assignment], policy, cell_timeout)
        outputs.feedback_path(out, result).write_text(page)
        result.save(_record_path(out, result.student, result.assignment))
    scores = outputs.gradebook_scores(db_url, sorted({a for _, a in everything}))
    outputs.write_csv(out / "grades.csv", list(everything.values()), scores)
    found = similarity.write_similarity(out, sorted({a for _, a in everything}))
    links = {"similarity report": similarity.SIMILARITY_HTML, "grades.csv": "grades.csv"}
    class_report.write_report(out, list(everything.values()), links)
    outcome.extend(sorted(everything.values(), key=lambda r: (r.student, r.assignment)))
    outcome.seconds = time.monotonic() - started
    outcome.client_cpu = time.process_time() - cpu_started
    outcome.summary = outputs.closing_table(
        list(everything.values()),
        outcome.graded,
        outcome.absent,
        outcome.reused,
        outcome.seconds,
        out,
        kept,
        flagged=sum(map(len, found.values())),
    )
    return outcome


def workers_count(asked: int | None, tasks: int) -> int:
    """Local worker processes: as asked, or one per core; never more than there are tasks."""
    return max(1, min(asked or os.cpu_count() or 1, tasks))


def _nothing(submission: Submission, isolated: bool, source: str) -> Result:
    """The result of a submission nothing could be graded of (or the grader failed on)."""
    return ungraded(
        submission.student,
        submission.assignment,
        json.loads(source),
        submission.statuses,
        isolated,
        problem=submission.problem,
        digest=submission.digest,
        timestamp=submission.timestamp,
    )
