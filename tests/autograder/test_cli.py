"""Instructor mistakes on the command line: one clear line naming the argument, exit status 2,
never a traceback; and a grader failure on one notebook that does not stop the class."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import ROOT, autograder_cli


def cli(*args: str):
    return autograder_cli(*args, check=False, timeout=300)


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    (tmp_path / "submitted" / "ann" / "cells").mkdir(parents=True)
    (tmp_path / "a-file.txt").write_text("not a folder")
    (tmp_path / "bad.toml").write_text('[due]\ncells = "2026-10-05 23:59"\n')
    return tmp_path


CASES = {
    "missing submissions": (["grade", "{t}/nowhere"], "SUBMITTED"),
    "submissions are a file": (["grade", "{t}/a-file.txt"], "SUBMITTED"),
    "out is a file": (["grade", "{t}/submitted", "--out", "{t}/a-file.txt"], "--out"),
    "out inside submitted": (["grade", "{t}/submitted", "--out", "{t}/submitted/g"], "--out"),
    "submitted inside out": (["grade", "{t}/submitted", "--out", "{t}"], "--out"),
    "db not a url": (["grade", "{t}/submitted", "--out", "{t}/o", "--db", "grades"], "--db"),
    "db without driver": (
        ["grade", "{t}/submitted", "--out", "{t}/o", "--db", "postgresql://u@127.0.0.1/x"],
        "--db",
    ),
    "db unreachable": (
        [
            "grade",
            "{t}/submitted",
            "--out",
            "{t}/o",
            "--db",
            "postgresql+psycopg://u@127.0.0.1:1/x",
        ],
        "--db",
    ),
    "unknown assignment": (["grade", "{t}/submitted", "--assignment", "rnn"], "assignment"),
    "zero workers": (["grade", "{t}/submitted", "--workers", "0"], "--workers"),
    "workers not a number": (["grade", "{t}/submitted", "--workers", "two"], "--workers"),
    "scheduler not an address": (["grade", "{t}/submitted", "--scheduler", "host"], "--scheduler"),
    "scheduler unreachable": (
        ["grade", "{t}/submitted", "--out", "{t}/o", "--scheduler", "tcp://127.0.0.1:1"],
        "--scheduler",
    ),
    "workers with a scheduler": (
        ["grade", "{t}/submitted", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
        "--scheduler",
    ),
    "zero timeout": (["grade", "{t}/submitted", "--cell-timeout", "0"], "--cell-timeout"),
    "config missing": (["grade", "{t}/submitted", "--config", "{t}/course.toml"], "--config"),
    "config not toml": (["grade", "{t}/submitted", "--config", "{t}/a-file.txt"], "--config"),
    "config bad date": (["grade", "{t}/submitted", "--config", "{t}/bad.toml"], "due.cells"),
    "release out is a file": (["release", "--out", "{t}/a-file.txt", "--no-validate"], "--out"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_command_line_mistake_is_one_line(folders, case):
    args, name = CASES[case]
    result = cli(*(arg.replace("{t}", str(folders)) for arg in args))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("python -m autograder") and name in last, result.stderr
    assert not (folders / "o").exists()


def broken_grader(task: dict) -> dict:
    """Stands in for the workers' grading function: the grader's own failure, every time."""
    raise RuntimeError("the grader broke")


@pytest.mark.slow
def test_a_grader_failure_is_a_row_a_log_and_an_error_count(tmp_path):
    """A task that fails is sent again; failing twice, it becomes a row that says so."""
    from autograder.pipeline.class_run import grade

    for student in ("ann", "bob"):
        target = tmp_path / "submitted" / student / "cells" / "cells.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / "cells" / "cells.ipynb", target)
    (tmp_path / "submitted" / "cat").mkdir()
    outcome = grade(
        tmp_path / "submitted",
        tmp_path / "out",
        assignments=["cells"],
        workers=1,
        progress=False,
        grader=broken_grader,
    )
    rows = {r.student: r for r in outcome}
    assert outcome.errors == 2
    failed_twice = "grader_error: failed 2 times (RuntimeError, RuntimeError)"
    assert rows["ann"].statuses == [failed_twice] and rows["ann"].score == 0
    assert rows["cat"].statuses == ["not_submitted"]
    assert "the grader broke" in (tmp_path / "out" / "logs" / "ann__cells.log").read_text()
    assert (tmp_path / "out" / "grades.csv").read_text().count("grader_error") == 2
