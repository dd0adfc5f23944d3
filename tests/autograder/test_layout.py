"""The package's public paths and what decides a grade.

- ``autograder.harness`` is the path the assignment notebooks import the check API by (released
  notebooks and stock nbgrader use it): it must stay, and be the check API itself.
- ``class_run.fingerprint`` re-grades an assignment when what decides its grades changes (its
  notebook, its checks, the check API, isolation, grading one task), and only then: editing the
  command line's help or an example attack must not re-grade a class.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from support import ROOT

from autograder import assignments
from autograder.checking import api
from autograder.pipeline import class_run


def test_the_notebooks_import_path_is_the_check_api():
    from autograder import harness

    assert harness.run_check is api.run_check and harness.CheckFailed is api.CheckFailed
    for name in assignments.names():
        source = assignments.get(name).notebook.read_text()
        assert "from autograder.harness import run_check" in source, name


@pytest.fixture
def course(tmp_path, monkeypatch) -> Path:
    """A copy of the grader and the solutions that ``fingerprint`` reads instead of the repo's."""
    for name in ("autograder", "solutions"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    copy = SimpleNamespace(
        REPO=tmp_path, get=lambda name: assignments.get(name, tmp_path / "solutions")
    )
    monkeypatch.setattr(class_run, "registry", copy)
    return tmp_path


DECIDING = [
    "solutions/cells/cells.ipynb",
    "solutions/cells/checks.py",
    "autograder/checking/toolkit.py",
    "autograder/isolation/policy.py",
    "autograder/isolation/sandbox_child.py",
    "autograder/pipeline/task.py",
    "autograder/pipeline/tampering.py",
]
NOT_DECIDING = [
    "autograder/cli.py",
    "autograder/authoring/examples.py",
    "autograder/pipeline/outputs.py",
    "autograder/pipeline/late.py",
    "solutions/bptt/checks.py",  # another assignment's
    "solutions/cells/mistakes.py",
]


@pytest.mark.parametrize("path", DECIDING)
def test_a_change_to_what_decides_grades_regrades(course, path):
    before = class_run.fingerprint("cells", 30, True)
    with (course / path).open("a") as handle:
        handle.write("\n")
    assert class_run.fingerprint("cells", 30, True) != before


@pytest.mark.parametrize("path", NOT_DECIDING)
def test_a_change_elsewhere_regrades_nothing(course, path):
    before = class_run.fingerprint("cells", 30, True)
    with (course / path).open("a") as handle:
        handle.write("\n")
    assert class_run.fingerprint("cells", 30, True) == before


def test_the_options_are_part_of_the_fingerprint(course):
    marks = {class_run.fingerprint("cells", t, i) for t in (30, 60) for i in (True, False)}
    assert len(marks) == 4
