"""Every check of every assignment, in process (no nbgrader, no kernel, no sandbox).

The notebook's code runs in a fresh namespace with the instructor's solution, a catalogued
mistake or an alternative of ``solutions/<assignment>/mistakes.py`` in its solution cells; then
every check runs on it, with the notebook's ``fixed_rng(grade_id)`` and with other seeds (the
grader draws fresh inputs). The solution and every alternative pass every check and every
visible test; each mistake fails exactly the checks it lists under "lost", and names its
"feedback" phrase.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder import assignments
from autograder.authoring.examples import (
    apply_edits,
    fill,
)
from autograder.checking.api import (
    CheckFailed,
    InProcessStudent,
    StudentRaised,
    fixed_rng,
    load_checks,
)

SEEDS = (None, 0, 1, 2)  # None: the notebook's fixed_rng(grade_id)
VISIBLE_TESTS = "_visible_tests"  # the grade_id suffix of the notebooks' ungraded test cells


def run_notebook(
    assignment: str, code: dict[str, str], messages: dict[str, str] | None = None
) -> tuple[dict, list[str]]:
    """The globals of the source notebook run with ``code`` in its solution cells, and the
    grade_ids of the visible test cells that failed, in notebook order.

    Graded test cells are left out (they call the checks); a failing visible test cell does
    not stop the cells after it, as in a notebook; any other failing cell is an error. When
    ``messages`` is given, it receives grade_id -> "ExceptionType: message" of every failing
    visible test cell (what the student reads under the cell).
    """
    source = assignments.get(assignment).source()
    globals_: dict = {"__name__": "__main__"}
    failed_visible = []
    for cell in fill(source, code)["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        name = meta.get("grade_id", "cell")
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        try:
            exec(compile(text, f"<{assignment}:{name}>", "exec"), globals_)  # noqa: S102
        except Exception as error:
            if not name.endswith(VISIBLE_TESTS):
                raise
            failed_visible.append(name)
            if messages is not None:
                messages[name] = f"{type(error).__name__}: {error}"
    return globals_, failed_visible


def failures(assignment: str, edits: list[tuple[str, str]]) -> tuple[list[str], dict]:
    """The visible test cells that fail on the edited solution, and seed -> {grade_id: message}
    of the checks that fail on it."""
    code = apply_edits(assignments.get(assignment).solution_code(), edits)
    globals_, failed_visible = run_notebook(assignment, code)
    student = InProcessStudent(globals_)
    failed: dict[int | None, dict] = {seed: {} for seed in SEEDS}
    for grade_id, check in load_checks(assignment).items():
        for seed in SEEDS:
            rng = fixed_rng(grade_id) if seed is None else np.random.default_rng(seed)
            try:
                check(student, rng)
            except StudentRaised as error:
                failed[seed][grade_id] = f"your code raised {error}"
            except CheckFailed as error:
                failed[seed][grade_id] = str(error)
    return failed_visible, failed


MISTAKES = [(a, name) for a in assignments.names() for name in assignments.get(a).mistakes()]
ALTERNATIVES = [
    (a, name) for a in assignments.names() for name in assignments.get(a).alternatives()
]


@pytest.mark.parametrize("assignment", assignments.names())
def test_solution_passes_every_check(assignment):
    assert failures(assignment, []) == ([], {seed: {} for seed in SEEDS})


@pytest.mark.parametrize(
    ("assignment", "name"), ALTERNATIVES, ids=[f"{a}-{n}" for a, n in ALTERNATIVES]
)
def test_alternative_passes_every_check(assignment, name):
    alternative = assignments.get(assignment).alternatives()[name]
    assert set(alternative) == {"edits", "why"} and alternative["why"].strip()
    code = assignments.get(assignment).solution_code()
    assert apply_edits(code, alternative["edits"]) != code
    assert failures(assignment, alternative["edits"]) == ([], {seed: {} for seed in SEEDS})


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a wrong softmax overflows, say
@pytest.mark.parametrize(("assignment", "name"), MISTAKES, ids=[f"{a}-{n}" for a, n in MISTAKES])
def test_mistake_fails_exactly_its_lost_checks(assignment, name):
    mistake = assignments.get(assignment).mistakes()[name]
    for seed, failed in failures(assignment, mistake["edits"])[1].items():
        assert set(failed) == set(mistake["lost"]), f"seed {seed}: {failed}"
        named = [m for m in failed.values() if mistake["feedback"].lower() in m.lower()]
        assert named, f"seed {seed}: no message names {mistake['feedback']!r}: {failed}"


def test_every_assignment_catalogues_alternatives():
    assert {a for a, _ in ALTERNATIVES} == set(assignments.names())
    assert {"pytorch-clip", "softmax-epsilon"} <= {name for _, name in ALTERNATIVES}
