"""The grading pipeline on the example submissions (see autograder/examples.py).

Builds the examples, grades them all once with two workers through the command line, and
asserts the exact outcome of each: full marks for the solution, nothing for the untouched
release, the targeted points lost (and named) for each mistake, a status for each broken
notebook, nothing for each cheat, and everybody else unaffected.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

from autograder.course import ASSIGNMENTS
from autograder.examples import CHEATS, load_mistakes
from autograder.grade import graded_cells

BAD = "cells"


def run_cli(*args, cwd=ROOT):
    result = subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def grade_rows(submitted, out, *options):
    """Grade through the command line; return grades.csv as {(student, assignment): row}."""
    run_cli("grade", str(submitted), "--out", str(out), "--cell-timeout", "10", *options)
    with (out / "grades.csv").open() as handle:
        return {(row["student"], row["assignment"]): row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    run_cli("examples", "--out", str(root / "submitted"))
    return root, grade_rows(root / "submitted", root / "out", "--workers", "2")


def max_score(assignment):
    return sum(graded_cells(assignment).values())


def failed(row):
    return set(row["failed_tests"].split())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks(graded, assignment):
    _, rows = graded
    row = rows[("solution", assignment)]
    assert float(row["score"]) == max_score(assignment) == float(row["max_score"]), row
    assert row["status"] == "ok"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_gets_zero(graded, assignment):
    _, rows = graded
    assert float(rows[("untouched", assignment)]["score"]) == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_partial_answer_gets_partial_marks(graded, assignment):
    _, rows = graded
    assert 0 < float(rows[("partial", assignment)]["score"]) < max_score(assignment)


MISTAKE_CASES = [(a, name, m) for a in ASSIGNMENTS for name, m in load_mistakes(a).items()]


@pytest.mark.parametrize(
    "assignment, name, mistake", MISTAKE_CASES, ids=[f"{a}-{n}" for a, n, _ in MISTAKE_CASES]
)
def test_each_mistake_loses_exactly_its_points_and_is_named(graded, assignment, name, mistake):
    root, rows = graded
    student = f"mistake-{assignment}-{name}"
    row = rows[(student, assignment)]
    points = graded_cells(assignment)
    assert failed(row) == set(mistake["lost"]), row
    expected = max_score(assignment) - sum(points[g] for g in mistake["lost"])
    assert float(row["score"]) == expected
    feedback = (root / "out" / "feedback" / student / f"{assignment}.html").read_text()
    assert mistake["feedback"].lower() in feedback.lower()


EXPECTED_STATUS = {
    "bad-invalid-json": "invalid_notebook",
    "bad-missing-notebook": "missing_notebook",
    "bad-deleted-test-cell": "test_cell_deleted",
    "bad-edited-test-cell": "test_cell_modified",
    "bad-tampered-metadata": "metadata_tampered",
    "bad-duplicated-cells": "duplicate_cells",
    "bad-infinite-loop": "cell_timeout",
    "bad-kernel-dies": "kernel_died",
    "bad-memory-hog": "memory_limit",
    "bad-huge-output": "output_truncated",
}
UNGRADABLE = {"bad-invalid-json", "bad-missing-notebook"}


@pytest.mark.parametrize("student", sorted(EXPECTED_STATUS))
def test_bad_submission_gets_its_status_and_a_row(graded, student):
    root, rows = graded
    row = rows[(student, BAD)]
    assert EXPECTED_STATUS[student] in row["status"].split(";"), row
    assert (root / "out" / "feedback" / student / f"{BAD}.html").is_file()
    if student in UNGRADABLE:
        assert float(row["score"]) == 0


HARMLESS = [
    "bad-edited-test-cell",
    "bad-tampered-metadata",
    "bad-duplicated-cells",
    "bad-huge-output",
    "bad-memory-hog",
    "bad-infinite-loop",
]


@pytest.mark.parametrize("student", HARMLESS)
def test_harmless_tampering_changes_nothing_but_the_status(graded, student):
    """Test cells and metadata come from the source, and the answers themselves are right."""
    _, rows = graded
    assert float(rows[(student, BAD)]["score"]) == max_score(BAD)


def test_a_deleted_test_cell_loses_exactly_its_points(graded):
    _, rows = graded
    row = rows[("bad-deleted-test-cell", BAD)]
    first = next(iter(graded_cells(BAD)))
    assert failed(row) == {first}
    assert float(row["score"]) == max_score(BAD) - graded_cells(BAD)[first]


CHEATERS = sorted([*CHEATS, "cheat-read-solution"])


@pytest.mark.parametrize("student", CHEATERS)
def test_cheating_earns_nothing(graded, student):
    _, rows = graded
    row = rows[(student, BAD)]
    assert float(row["score"]) == 0, row


def test_cheats_that_fooled_the_notebook_are_flagged(graded):
    _, rows = graded
    flagged = [s for s in CHEATERS if "verification_failed" in rows[(s, BAD)]["status"]]
    assert set(flagged) >= {
        "cheat-patch-harness",
        "cheat-ipython-transformer",
        "cheat-read-solution",
    }


def test_every_student_and_assignment_has_a_row(graded):
    root, rows = graded
    students = {p.name for p in (root / "submitted").iterdir()}
    assert set(rows) == {(s, a) for s in students for a in ASSIGNMENTS}


def test_gradebook_holds_the_final_scores(graded):
    from nbgrader.api import Gradebook

    root, rows = graded
    with Gradebook(f"sqlite:///{root / 'out' / 'gradebook.db'}") as gradebook:
        for (student, assignment), row in rows.items():
            if row["status"] == "not_submitted":
                continue
            submission = gradebook.find_submission(assignment, student)
            assert submission.score == pytest.approx(float(row["score"])), (student, assignment)


def test_one_worker_gives_the_same_grades_and_rerunning_is_idempotent(graded, tmp_path):
    root, rows = graded
    subset = tmp_path / "submitted"
    for student in [
        "solution",
        "partial",
        f"mistake-cells-{next(iter(load_mistakes('cells')))}",
        "cheat-read-solution",
    ]:
        shutil.copytree(root / "submitted" / student / "cells", subset / student / "cells")
    for _ in range(2):  # the second run re-grades into the same folder
        again = grade_rows(subset, tmp_path / "out", "--workers", "1", "--assignment", "cells")
        for key, row in again.items():
            assert (row["score"], row["status"], row["failed_tests"]) == (
                rows[key]["score"],
                rows[key]["status"],
                rows[key]["failed_tests"],
            ), key
