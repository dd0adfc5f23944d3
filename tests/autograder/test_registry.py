"""The assignment registry (``autograder.assignments``): assignments are discovered from
``solutions/*/``, and a new one needs nothing but its own files.

The end-to-end test copies the grader, ``rnnbook`` and ``solutions/`` into a temporary folder,
adds a tiny throw-away assignment there (a notebook, ``checks.py`` and ``mistakes.py``, as
docs/contributing.md says) and releases, builds the examples of and grades it with the copy.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from support import ROOT, read_grades, run_module

from autograder import assignments

TINY = "tiny"


def _cell(kind: str, source: str, **nbgrader) -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell |= {"execution_count": None, "outputs": []}
    if nbgrader:
        defaults = {"grade": False, "locked": True, "schema_version": 3, "solution": False}
        cell["metadata"]["nbgrader"] = {"task": False, **defaults, **nbgrader}
    return cell


def _graded_test(grade_id: str, points: int) -> dict:
    source = (
        f'"""{grade_id}."""\n### BEGIN HIDDEN TESTS\nfrom autograder.harness import run_check\n\n'
        f'run_check("{TINY}", "{grade_id}", globals())\n### END HIDDEN TESTS'
    )
    return _cell("code", source, grade=True, grade_id=grade_id, points=points)


def _solution(grade_id: str, code: str) -> dict:
    source = f"### BEGIN SOLUTION\n{code}\n### END SOLUTION"
    return _cell("code", source, grade_id=grade_id, locked=False, solution=True)


TINY_NOTEBOOK = {
    "cells": [
        _cell("markdown", "# Assignment: tiny\n\nWrite `double(x)` and `square(x)` in NumPy."),
        _cell("code", "import numpy as np", grade_id="setup"),
        _solution("double_code", "def double(x):\n    return 2 * x"),
        _graded_test("double_values", 2),
        _solution("square_code", "def square(x):\n    return x * x"),
        _graded_test("square_values", 3),
    ],
    "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}

TINY_CHECKS = '''\
"""Checks of the throw-away assignment tiny."""

import numpy as np

from autograder.checking.api import CheckFailed


def _values(function, reference):
    def check(student, rng):
        x = rng.standard_normal(5)
        if not np.allclose(student.call(function, x), reference(x)):
            raise CheckFailed(f"{function}: wrong values")

    return check


CHECKS = {
    "double_values": _values("double", lambda x: x + x),
    "square_values": _values("square", np.square),
}
'''

TINY_MISTAKES = """\
MISTAKES = {
    "square_doubles": {
        "description": "square returns 2 x",
        "edits": [("return x * x", "return 2 * x")],
        "lost": ["square_values"],
        "feedback": "square: wrong values",
    },
}
ALTERNATIVES = {"square_power": {"edits": [("return x * x", "return x**2")]}}
"""


def write_tiny(solutions: Path) -> Path:
    """The throw-away assignment's three files under ``solutions/tiny/``."""
    folder = solutions / TINY
    folder.mkdir(parents=True)
    (folder / f"{TINY}.ipynb").write_text(json.dumps(TINY_NOTEBOOK, indent=1))
    (folder / "checks.py").write_text(TINY_CHECKS)
    (folder / "mistakes.py").write_text(TINY_MISTAKES)
    return folder


# -- Fast: discovery and the Assignment object ---------------------------------------------------
def test_the_course_assignments_are_discovered_from_solutions():
    assert assignments.names() == ["attention", "bptt", "cells", "language_model"]
    for name in assignments.names():
        known = assignments.get(name)
        assert known.notebook == ROOT / "solutions" / name / f"{name}.ipynb"
        assert known.checks.is_file() and known.mistakes() and known.alternatives()


def test_a_new_folder_is_an_assignment_with_its_cells_code_and_mistakes(tmp_path):
    write_tiny(tmp_path)
    (tmp_path / "notes").mkdir()  # a folder without <name>/<name>.ipynb is not an assignment
    tiny = assignments.get(TINY, tmp_path)
    assert assignments.names(tmp_path) == [TINY]
    assert tiny.graded_cells() == {"double_values": 2.0, "square_values": 3.0}
    assert tiny.solution_code() == {
        "double_code": "def double(x):\n    return 2 * x\n",
        "square_code": "def square(x):\n    return x * x\n",
    }
    assert list(tiny.mistakes()) == ["square_doubles"]
    assert list(tiny.alternatives()) == ["square_power"]


def test_mistakes_are_optional(tmp_path):
    (write_tiny(tmp_path) / "mistakes.py").unlink()
    tiny = assignments.get(TINY, tmp_path)
    assert tiny.mistakes() == {} and tiny.alternatives() == {}


def test_an_unknown_assignment_is_one_line_naming_the_known_ones(tmp_path):
    write_tiny(tmp_path)
    with pytest.raises(ValueError, match=r"^assignment must be one of tiny; got \['rnn'\]$"):
        assignments.select(["rnn"], tmp_path)
    assert assignments.select(None, tmp_path) == [TINY]


# -- Slow: a throw-away assignment released, exemplified and graded -----------------------------
@pytest.fixture(scope="module")
def course_copy(tmp_path_factory) -> Path:
    """The grader, rnnbook and solutions/ copied, with the throw-away assignment added."""
    root = tmp_path_factory.mktemp("course")
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("autograder", "rnnbook", "solutions"):
        shutil.copytree(ROOT / name, root / name, ignore=ignore)
    write_tiny(root / "solutions")
    return root


def _run(root: Path, *args: str):
    env = {**os.environ, "PYTHONPATH": str(root)}  # the copy, not the installed package
    result = run_module("autograder", args, cwd=root, timeout=1800, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_a_throw_away_assignment_is_released_and_graded(course_copy, tmp_path):
    root = course_copy
    _run(root, "release", "--out", str(tmp_path / "release"), "--assignment", TINY)
    released = (tmp_path / "release" / TINY / f"{TINY}.ipynb").read_text()
    assert "def double" not in released and "run_check" not in released
    assert "raise NotImplementedError()" in released

    examples, graded = tmp_path / "examples", tmp_path / "graded"
    _run(root, "examples", "--out", str(examples), "--assignment", TINY)
    config = str(root / "autograder" / "course.example.toml")
    _run(
        root, "grade", str(examples), "--out", str(graded), "--assignment", TINY, "--config", config
    )
    rows = {student: row for (student, a), row in read_grades(graded).items() if a == TINY}
    scores = {student: float(row["score"]) for student, row in rows.items()}
    assert scores["solution"] == float(rows["solution"]["max_score"]) == 5.0
    assert scores["untouched"] == 0.0
    assert scores["partial"] == 2.0  # the first answer only
    assert scores[f"mistake-{TINY}-square_doubles"] == 2.0
    assert scores[f"alternative-{TINY}-square_power"] == 5.0
    assert scores["late-solution"] == 5.0  # no due date: never late
    page = (graded / "feedback" / f"mistake-{TINY}-square_doubles" / f"{TINY}.html").read_text()
    assert "square: wrong values" in page
