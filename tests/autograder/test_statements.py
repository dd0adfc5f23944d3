"""The statements and visible tests say what the grade depends on.

The visible test cells of each notebook (grade_ids ending in ``_visible_tests``) are the
student's only feedback before grading, so they must not blame the wrong thing. For every
catalogued mistake of ``solutions/<assignment>/mistakes.py``, either every visible test passes,
or the first visible test cell that fails names the mistake's cause: its message contains the
mistake's "feedback" phrase (the phrase the hidden feedback contains), or, when the mistake has
one, its shorter "visible" phrase, which the hidden feedback must then contain too. The
instructor's solution and every alternative pass every visible test, and every visible test
cell fails on at least one mistake: none is a test that can never fail.

The notebooks run in process, as in ``test_checks.py`` (whose ``run_notebook`` and
``failures`` this reuses).
"""

from __future__ import annotations

import functools

import pytest
from test_checks import ALTERNATIVES, MISTAKES, VISIBLE_TESTS, failures, run_notebook

from autograder import assignments
from autograder.authoring.examples import (
    apply_edits,
)

MISTAKE_FIELDS = {"description", "edits", "lost", "feedback"}
OPTIONAL_FIELDS = {"visible"}

# Visible test cells that no catalogued mistake makes fail, kept as pure sanity checks, each
# with the reason: assignment -> {grade_id: why}. Empty: every visible test cell is exercised.
SANITY_CHECKS: dict[str, dict[str, str]] = {}


@functools.cache
def visible_failures(assignment: str, edits: tuple) -> tuple[tuple[str, ...], dict[str, str]]:
    """The visible test cells that fail on the edited solution, in notebook order, and their
    messages (cached: several tests ask about the same mistake)."""
    messages: dict[str, str] = {}
    code = apply_edits(assignments.get(assignment).solution_code(), list(edits))
    _, failed = run_notebook(assignment, code, messages)
    return tuple(failed), messages


def mistake_failures(assignment: str, name: str) -> tuple[tuple[str, ...], dict[str, str]]:
    edits = assignments.get(assignment).mistakes()[name]["edits"]
    return visible_failures(assignment, tuple(map(tuple, edits)))


def visible_cells(assignment: str) -> list[str]:
    """The grade_ids of the notebook's visible test cells, in order."""
    source = assignments.get(assignment).source()
    grade_ids = [
        cell["metadata"].get("nbgrader", {}).get("grade_id", "") for cell in source["cells"]
    ]
    return [grade_id for grade_id in grade_ids if grade_id.endswith(VISIBLE_TESTS)]


@pytest.mark.parametrize("assignment", assignments.names())
def test_solution_passes_every_visible_test(assignment):
    failed, messages = visible_failures(assignment, ())
    assert not failed, messages


@pytest.mark.parametrize(
    ("assignment", "name"), ALTERNATIVES, ids=[f"{a}-{n}" for a, n in ALTERNATIVES]
)
def test_alternative_passes_every_visible_test(assignment, name):
    edits = assignments.get(assignment).alternatives()[name]["edits"]
    failed, messages = visible_failures(assignment, tuple(map(tuple, edits)))
    assert not failed, messages


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a wrong softmax overflows, say
@pytest.mark.parametrize(("assignment", "name"), MISTAKES, ids=[f"{a}-{n}" for a, n in MISTAKES])
def test_first_failing_visible_test_names_the_cause(assignment, name):
    mistake = assignments.get(assignment).mistakes()[name]
    assert MISTAKE_FIELDS <= set(mistake) <= MISTAKE_FIELDS | OPTIONAL_FIELDS, sorted(mistake)
    phrase = mistake.get("visible", mistake["feedback"])
    assert isinstance(phrase, str) and phrase.strip(), f"{name}: empty cause phrase"
    if "visible" in mistake:  # the hidden feedback names the same cause with the same words
        for seed, failed in failures(assignment, mistake["edits"])[1].items():
            named = [m for m in failed.values() if phrase.lower() in m.lower()]
            assert named, f"seed {seed}: no hidden message contains {phrase!r}: {failed}"
    failed, messages = mistake_failures(assignment, name)
    if failed:  # else every visible test passes: allowed, the hidden tests catch the mistake
        first = messages[failed[0]]
        assert phrase.lower() in first.lower(), (
            f"the first failing visible test, {failed[0]}, does not name {phrase!r}: {first}"
        )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("assignment", assignments.names())
def test_every_visible_test_cell_fails_on_some_mistake(assignment):
    cells = visible_cells(assignment)
    assert cells, f"{assignment} has no visible test cell"
    failing = set()
    for name in assignments.get(assignment).mistakes():
        failing |= set(mistake_failures(assignment, name)[0])
    sanity = SANITY_CHECKS.get(assignment, {})
    never = [cell for cell in cells if cell not in failing and cell not in sanity]
    assert not never, f"no catalogued mistake makes these visible test cells fail: {never}"
    stale = sorted(set(sanity) - (set(cells) - failing))
    assert not stale, f"SANITY_CHECKS lists cells that do not exist or do fail: {stale}"


@pytest.mark.parametrize("assignment", assignments.names())
def test_statements_and_visible_tests_quote_no_solution_line(assignment):
    """No line of a solution (longer than 12 characters, not a comment) appears in a markdown
    cell or a visible test cell: they say what is required, they give no answer away."""
    source = assignments.get(assignment).source()
    public = "\n".join(
        "".join(cell["source"])
        for cell in source["cells"]
        if cell["cell_type"] == "markdown"
        or cell["metadata"].get("nbgrader", {}).get("grade_id", "").endswith(VISIBLE_TESTS)
    )
    lines = {
        line.strip()
        for code in assignments.get(assignment).solution_code().values()
        for line in code.splitlines()
    }
    quoted = sorted(
        line for line in lines if len(line) > 12 and not line.startswith("#") and line in public
    )
    assert not quoted, f"solution lines quoted in the statements or visible tests: {quoted}"
