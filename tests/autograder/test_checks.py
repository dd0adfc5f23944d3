"""Every check of every assignment, in process (no nbgrader, no kernel, no sandbox).

The notebook's code runs in a fresh namespace with the instructor's solution, a catalogued
mistake or an alternative of ``solutions/<assignment>/mistakes.py`` in its solution cells; then
every check runs on it, with the notebook's ``fixed_rng(grade_id)`` and with other seeds (the
grader draws fresh inputs). The solution and every alternative pass every check and every
visible test; each mistake fails exactly the checks it lists under "lost", and names its
"feedback" phrase. Beyond the catalogue, a graded function that changes any one of its array
arguments in place fails a check of its own that names the argument.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re

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


def array_parameters(assignment: str) -> list[tuple[str, str]]:
    """(function, parameter) for every parameter annotated as an array (or a dict of arrays) of
    every function that the solution cells define: the graded functions' array arguments."""
    found = []
    for code in assignments.get(assignment).solution_code().values():
        for node in ast.parse(code).body:
            if isinstance(node, ast.FunctionDef):
                found += [
                    (node.name, arg.arg)
                    for arg in node.args.args
                    if arg.annotation is not None
                    and re.search(r"np\.ndarray|NDArray", ast.unparse(arg.annotation))
                ]
    return found


ARRAY_PARAMETERS = [(a, f, p) for a in assignments.names() for f, p in array_parameters(a)]


@functools.cache
def solution_namespace(assignment: str) -> dict:
    """The globals of the notebook run with the solution (each test changes a copy)."""
    return run_notebook(assignment, assignments.get(assignment).solution_code())[0]


def change_in_place(value: object) -> None:
    """Change an array, or every array of a dict, in place (a bool array is negated, a number
    array gets 1 added)."""
    for array in value.values() if isinstance(value, dict) else [value]:
        if isinstance(array, np.ndarray) and array.dtype == bool:
            np.logical_not(array, out=array)
        elif isinstance(array, np.ndarray):
            array += 1


@pytest.mark.parametrize(
    ("assignment", "function", "parameter"),
    ARRAY_PARAMETERS,
    ids=[f"{a}-{f}-{p}" for a, f, p in ARRAY_PARAMETERS],
)
def test_changing_an_array_argument_in_place_fails_a_check_of_the_function(
    assignment, function, parameter
):
    """The solution, changed to modify one argument after computing its (right) answer, fails
    a check of that function (grade_id ``<function>_...``), whose message names the argument."""
    namespace = dict(solution_namespace(assignment))
    solution = namespace[function]
    position = list(inspect.signature(solution).parameters).index(parameter)

    def changing(*args, **kwargs):
        result = solution(*args, **kwargs)
        change_in_place(args[position] if position < len(args) else kwargs.get(parameter))
        return result

    namespace[function] = changing
    student = InProcessStudent(namespace)
    messages = []
    for grade_id, check in load_checks(assignment).items():
        if grade_id.startswith(f"{function}_"):
            try:
                check(student, fixed_rng(grade_id))
            except CheckFailed as error:
                messages.append(str(error))
    assert any(f"{function} modified {parameter} in place" in m for m in messages), messages


def test_every_assignment_has_array_parameters():
    assert {a for a, _, _ in ARRAY_PARAMETERS} == set(assignments.names())
    assert ("bptt", "clip_by_global_norm", "grads") in ARRAY_PARAMETERS  # a dict of arrays
    assert ("attention", "attention_forward", "mask") in ARRAY_PARAMETERS  # a bool array or None
    assert ("language_model", "embedding_forward", "idx") in ARRAY_PARAMETERS  # integers
