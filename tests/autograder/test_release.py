"""The release: nbgrader-valid sources, and student versions with no solution and no hidden test."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from support import ROOT, toc_files

from autograder import assignments
from autograder.authoring.release import release
from autograder.pipeline.nbgrader_course import environment

SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def cell_text(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def significant_lines(region: str) -> set[str]:
    """Lines of a region that would give an answer away (not blank, not a bare keyword)."""
    return {
        line.strip()
        for line in region.splitlines()
        if len(line.strip()) > 12 and not line.strip().startswith("#")
    }


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """Release every assignment (this validates the sources with nbgrader first)."""
    out = tmp_path_factory.mktemp("release")
    return out, release(out, list(assignments.names()), validate=True)


def secret_lines(assignment: str) -> set[str]:
    """The significant lines of every solution and hidden-test region of the source."""
    source = assignments.get(assignment).source()
    secret = set()
    for cell in source["cells"]:
        text = cell_text(cell)
        for region in SOLUTION_REGION.findall(text) + HIDDEN_REGION.findall(text):
            secret |= significant_lines(region)
    assert secret, "the source notebook has no solution or hidden-test region"
    return secret


@pytest.mark.slow
def test_release_folder_holds_only_what_students_receive(released):
    """Every file under --out, read as text: the student notebooks and nothing with a secret."""
    out, _ = released
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == sorted(f"{a}/{a}.ipynb" for a in assignments.names()), files
    secret = set().union(*(secret_lines(a) for a in assignments.names()))
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            leaked = sorted(line for line in secret if line in text)
            assert not leaked, f"{path} leaks {leaked[:3]}"


@pytest.mark.slow
def test_the_instructor_course_folder_may_not_lie_inside_the_release(tmp_path):
    with pytest.raises(ValueError, match="outside"):
        release(tmp_path, ["cells"], validate=False, course=tmp_path / "course")
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "release", "--out", str(tmp_path / "out")]
        + ["--course", str(tmp_path / "out" / "course"), "--no-validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment(),
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--course" in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "out" / "course").exists()


@pytest.mark.slow
def test_an_instructor_course_folder_outside_keeps_the_sources(tmp_path):
    release(tmp_path / "out", ["cells"], validate=False, course=tmp_path / "course")
    kept = tmp_path / "course" / "source" / "cells" / "cells.ipynb"
    assert kept.read_bytes() == (assignments.get("cells").notebook).read_bytes()
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["cells", "cells.ipynb"]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", assignments.names())
def test_release_contains_no_solution_and_no_hidden_test(released, assignment):
    _, notebooks = released
    student = json.loads(notebooks[assignment].read_text())
    student_text = "\n".join(cell_text(c) for c in student["cells"])
    secret = secret_lines(assignment)
    leaked = sorted(line for line in secret if line in student_text)
    assert not leaked, f"the release of {assignment} leaks: {leaked[:5]}"
    assert "BEGIN SOLUTION" not in student_text and "BEGIN HIDDEN TESTS" not in student_text
    assert all(not c.get("outputs") for c in student["cells"] if c["cell_type"] == "code")


@pytest.mark.slow
@pytest.mark.parametrize("assignment", assignments.names())
def test_release_fails_its_tests_as_nbgrader_validate_invert_expects(released, assignment):
    _, notebooks = released
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", "--invert", str(notebooks[assignment])],
        capture_output=True,
        text=True,
        env=environment(),
        cwd=notebooks[assignment].parent,
        timeout=600,
    )
    assert result.returncode == 0 and "Success!" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("assignment", assignments.names())
def test_source_notebooks_are_committed_without_outputs(assignment):
    source = assignments.get(assignment).source()
    for cell in source["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None


@pytest.mark.parametrize("assignment", assignments.names())
def test_graded_cells_and_checks_match(assignment):
    from autograder.checking.api import load_checks

    assert set(assignments.get(assignment).graded_cells()) == set(load_checks(assignment))


def test_unknown_assignment_is_a_clear_error():
    with pytest.raises(ValueError, match="assignment must be one of"):
        assignments.select(["rnn"])
    assert ROOT.is_dir()


@pytest.mark.parametrize("assignment", assignments.names())
def test_a_statement_names_only_chapters_of_the_book(assignment):
    """Statements point to chapters by path; each path is a page of the table of contents."""
    source = assignments.get(assignment).source()
    text = "".join(cell_text(cell) for cell in source["cells"] if cell["cell_type"] == "markdown")
    named = set(re.findall(r"`(chapters/\w+)\.md`", text))
    assert named, "the statement says where its topic is taught"
    assert named <= set(toc_files()), sorted(named - set(toc_files()))
