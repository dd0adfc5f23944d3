"""The book's loader of the instructor's graded functions (``chapters/instructor.py``)."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from instructor import load  # noqa: E402

from autograder import assignments


def graded_functions(assignment: str) -> set[str]:
    """Names of the functions the solution cells of the source notebook define (from the AST)."""
    source = assignments.get(assignment).source()
    names = set()
    for cell in source["cells"]:
        if cell["cell_type"] == "code" and cell["metadata"].get("nbgrader", {}).get("solution"):
            tree = ast.parse("".join(cell["source"]))
            names |= {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return names


@pytest.mark.parametrize("assignment", assignments.names())
def test_loads_every_graded_function_and_nothing_else(assignment):
    loaded = set(vars(load(assignment)))
    assert loaded == graded_functions(assignment)


def test_the_loaded_functions_work():
    """mse_loss on a case computed by hand: mean of (1, 4) is 2.5, gradient 2 (pred - y) / 2."""
    loss, dpred = load("bptt").mse_loss(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))
    assert loss == pytest.approx(2.5)
    np.testing.assert_allclose(dpred, [[1.0, 2.0]])


def test_an_unknown_assignment_is_one_clear_error():
    known = "attention, bptt, cells, language_model"
    with pytest.raises(ValueError, match=f"assignment must be one of {known}; got"):
        load("lstm")


def test_loading_prints_nothing(capsys):
    load("cells")
    assert capsys.readouterr() == ("", "")
