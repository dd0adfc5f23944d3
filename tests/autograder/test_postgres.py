"""The gradebook in PostgreSQL: ``grade --db postgresql+psycopg://...`` against a real server.

Starts a private PostgreSQL server for this module (see postgres_server.py), grades a small
class of example submissions twice through the command line, once with the default SQLite
gradebook and once with the PostgreSQL one, and asserts that both runs agree row for row and
that the PostgreSQL gradebook holds every graded submission's score.

Needs Debian's `postgresql`, which `make test` installs through tools/system-packages. Without
it the test fails, so a missing server can never pass unnoticed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from support import autograder_cli, read_grades

pytestmark = pytest.mark.slow
ASSIGNMENT = "cells"
COMPARED = ["student", "assignment", "score", "max_score", "status", "failed_tests"]


@pytest.fixture(scope="module")
def small_class(tmp_path_factory) -> Path:
    """The example submissions of `cells` for solution, untouched, partial and one mistake."""
    submitted = tmp_path_factory.mktemp("submitted")
    autograder_cli("examples", "--assignment", ASSIGNMENT, "--out", str(submitted))
    mistakes = sorted(p.name for p in submitted.glob(f"mistake-{ASSIGNMENT}-*"))
    assert mistakes, "the examples have no mistake for the assignment"
    keep = {"solution", "untouched", "partial", mistakes[0]}
    assert keep <= {p.name for p in submitted.iterdir()}, "an expected example is missing"
    for student in submitted.iterdir():
        if student.name not in keep:
            shutil.rmtree(student)
    return submitted


def grade(submitted: Path, out: Path, *options: str) -> list[dict[str, str]]:
    """Grade through the command line; grades.csv's rows, sorted."""
    autograder_cli(
        "grade",
        str(submitted),
        "--out",
        str(out),
        "--assignment",
        ASSIGNMENT,
        "--workers",
        "2",
        *options,
    )
    return [row for _, row in sorted(read_grades(out).items())]


def test_postgres_gradebook_matches_sqlite(postgres, small_class, tmp_path):
    sqlite_rows = grade(small_class, tmp_path / "sqlite")
    assert (tmp_path / "sqlite" / "gradebook.db").is_file()
    url = postgres.url()
    postgres_rows = grade(small_class, tmp_path / "postgres", "--db", url)
    assert not (tmp_path / "postgres" / "gradebook.db").exists(), "--db was not used"

    students = sorted(p.name for p in small_class.iterdir())
    assert [row["student"] for row in sqlite_rows] == students
    assert [{key: row[key] for key in COMPARED} for row in postgres_rows] == [
        {key: row[key] for key in COMPARED} for row in sqlite_rows
    ]
    scores = {row["student"]: float(row["score"]) for row in sqlite_rows}
    assert scores["solution"] == float(
        next(row["max_score"] for row in sqlite_rows if row["student"] == "solution")
    )
    assert scores["untouched"] == 0
    (mistake,) = (student for student in students if student.startswith("mistake-"))
    assert 0 < scores["partial"] < scores["solution"]
    assert 0 < scores[mistake] < scores["solution"]

    graded = [row for row in postgres_rows if row["status"] != "not_submitted"]
    assert len(graded) == len(students)
    with Gradebook(url) as gradebook:
        assert sorted(s.id for s in gradebook.students) == students
        for row in graded:
            submission = gradebook.find_submission(row["assignment"], row["student"])
            assert submission.score == pytest.approx(float(row["score"])), row["student"]
            assert submission.max_score == pytest.approx(float(row["max_score"])), row["student"]
