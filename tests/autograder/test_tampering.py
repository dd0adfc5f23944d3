"""What a submission did to its test cells, and what its run left in the autograded notebook
(``autograder/pipeline/tampering.py``).

The source is a tiny nbgrader assignment (set-up, a solution cell, visible tests, one graded
test with hidden tests) and the student's notebook its release; each case edits the release as a
student would. Executed notebooks carry the error outputs nbgrader and nbclient write. Every
status tampering gives has a case here.
"""

from __future__ import annotations

import base64
import copy
import json
import os
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.preprocessors import Execute

from autograder.isolation.policy import MAX_OUTPUT_CHARS
from autograder.pipeline.tampering import (
    compare_with_source,
    execution_statuses,
    student_code_cells,
)

HIDDEN = '### BEGIN HIDDEN TESTS\nrun_check("demo", "step_values", globals())\n### END HIDDEN TESTS'
VISIBLE_TEST = '"""step: its values."""\nassert_answered(step)\n'
SOLUTION = "def step(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
STUB = "def step(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"


def nbgrader_cell(grade_id: str, source: str, *, points: float | None = None, **flags: bool):
    """A code cell with nbgrader's metadata: locked, neither graded nor a solution unless told."""
    meta = {"grade_id": grade_id, "grade": False, "solution": False, "locked": True, **flags}
    if points is not None:
        meta |= {"grade": True, "points": points}
    return new_code_cell(source, metadata={"nbgrader": {**meta, "schema_version": 3}})


SOURCE = new_notebook(
    cells=[
        new_markdown_cell("# Step"),
        nbgrader_cell("setup", "import numpy as np"),
        nbgrader_cell("step_code", SOLUTION, solution=True, locked=False),
        nbgrader_cell("step_visible_tests", "assert step(1) == 2"),
        nbgrader_cell("step_values", VISIBLE_TEST + HIDDEN, points=2),
    ]
)
RELEASED = copy.deepcopy(SOURCE)
RELEASED.cells[2].source = STUB
RELEASED.cells[4].source = VISIBLE_TEST


def cell(notebook: dict, grade_id: str) -> dict:
    """The first cell of ``notebook`` with this grade_id."""
    ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in notebook["cells"]]
    return notebook["cells"][ids.index(grade_id)]


def edited(edit: Callable[[dict], object]) -> dict:
    """The released notebook after ``edit``, as the student saved it."""
    notebook = copy.deepcopy(RELEASED)
    edit(notebook)
    return notebook


def flag(grade_id: str, key: str, value: object) -> Callable[[dict], None]:
    return lambda nb: cell(nb, grade_id)["metadata"]["nbgrader"].__setitem__(key, value)


def delete(grade_id: str) -> Callable[[dict], None]:
    return lambda nb: nb["cells"].remove(cell(nb, grade_id))


def rewrite(grade_id: str, source: str | list[str]) -> Callable[[dict], None]:
    return lambda nb: cell(nb, grade_id).__setitem__("source", source)


def duplicate(grade_id: str) -> Callable[[dict], None]:
    return lambda nb: nb["cells"].append(copy.deepcopy(cell(nb, grade_id)))


def every(*edits: Callable[[dict], None]) -> Callable[[dict], None]:
    def edit_all(notebook: dict) -> None:
        for edit in edits:
            edit(notebook)

    return edit_all


# --- compare_with_source ------------------------------------------------------------------------

TAMPERING = {  # case: (what the student did, statuses)
    "nothing": (lambda nb: None, []),
    "solved it": (rewrite("step_code", "def step(x):\n    return x + x"), []),
    "added cells": (lambda nb: nb["cells"].append(new_code_cell("print(step(3))")), []),
    "blank lines around the test": (rewrite("step_values", f"\n{VISIBLE_TEST}\n\n"), []),
    "the test as lines": (rewrite("step_values", VISIBLE_TEST.splitlines(keepends=True)), []),
    "edited the visible tests": (rewrite("step_visible_tests", "pass"), []),
    "deleted the test": (delete("step_values"), ["test_cell_deleted"]),
    "deleted the visible tests": (delete("step_visible_tests"), ["test_cell_deleted"]),
    "deleted the set-up": (delete("setup"), ["test_cell_deleted"]),
    "renamed the test": (flag("step_values", "grade_id", "mine"), ["test_cell_deleted"]),
    "edited the test": (rewrite("step_values", "assert True\n"), ["test_cell_modified"]),
    "more points": (flag("step_values", "points", 200), ["metadata_tampered"]),
    "unlocked the test": (flag("step_values", "locked", False), ["metadata_tampered"]),
    "ungraded the test": (flag("step_values", "grade", False), ["metadata_tampered"]),
    "made the test a solution": (flag("step_values", "solution", True), ["metadata_tampered"]),
    "unlocked the set-up": (flag("setup", "locked", False), ["metadata_tampered"]),
    "copied the test": (duplicate("step_values"), ["duplicate_cells"]),
    "copied the solution": (duplicate("step_code"), ["duplicate_cells"]),
    "everything": (
        every(
            delete("step_visible_tests"),
            rewrite("step_values", "assert True"),
            flag("step_values", "points", 5),
            duplicate("setup"),
        ),
        ["duplicate_cells", "test_cell_deleted", "metadata_tampered", "test_cell_modified"],
    ),
}


@pytest.mark.parametrize("case", TAMPERING)
def test_what_the_student_did_to_the_test_cells_gets_its_status(case):
    edit, statuses = TAMPERING[case]
    assert compare_with_source(edited(edit), SOURCE) == statuses


def test_an_edit_behind_a_hidden_tests_marker_is_a_modification():
    edit = rewrite("step_values", f"{VISIBLE_TEST}### BEGIN HIDDEN TESTS\nmark_all_passed()\n")
    assert compare_with_source(edited(edit), SOURCE) == ["test_cell_modified"]


# --- execution_statuses -------------------------------------------------------------------------

TIMEOUT = Execute.class_traits()["error_on_timeout"].default()  # as nbgrader writes it


def error(ename: str, evalue: str = "", traceback: list[str] | None = None) -> dict:
    return new_output("error", ename=ename, evalue=evalue, traceback=traceback or [])


def stream(text: str) -> dict:
    return new_output("stream", name="stdout", text=text)


def display(mime: str, value: str) -> dict:
    return new_output("display_data", data={mime: value})


def executed(tmp_path: Path, *outputs: dict) -> Path:
    """An autograded notebook whose code cells produced ``outputs``, one cell each."""
    cells = [new_markdown_cell("# Step")]
    cells += [new_code_cell("run()", outputs=[output]) for output in outputs]
    path = tmp_path / "autograded.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    return path


LONG = "x" * (MAX_OUTPUT_CHARS + 1)
RUNS = {  # case: (outputs, statuses)
    "clean": ([stream("ok\n"), display("text/plain", "2")], []),
    "an ordinary error": ([error("ValueError", "bad shape")], []),
    "nbgrader's timeout": ([new_output("error", **TIMEOUT)], ["cell_timeout"]),
    "a timeout in the traceback": (
        [error("RuntimeError", "", ["CellTimeoutError: no reply"])],
        ["cell_timeout"],
    ),
    "a dead kernel": ([error("DeadKernelError", "Kernel died")], ["kernel_died"]),
    "a kernel that died mid-cell": ([error("RuntimeError", "Kernel died")], ["kernel_died"]),
    "out of memory": ([error("MemoryError")], ["memory_limit"]),
    "two timeouts": ([new_output("error", **TIMEOUT)] * 2, ["cell_timeout"]),
    "a long print": ([stream(LONG)], ["output_truncated"]),
    "a long value": ([display("text/plain", LONG)], ["output_truncated"]),
    "a long page": ([display("text/html", LONG)], ["output_truncated"]),
    "exactly the limit": ([stream(LONG[1:])], []),
    "all of it, in order": (
        [error("MemoryError"), stream(LONG), new_output("error", **TIMEOUT), error("MemoryError")],
        ["memory_limit", "cell_timeout", "output_truncated"],
    ),
}


@pytest.mark.parametrize("case", RUNS)
def test_what_the_run_left_gets_its_status(tmp_path, case):
    outputs, statuses = RUNS[case]
    assert execution_statuses(executed(tmp_path, *outputs)) == statuses


@pytest.mark.parametrize(
    "output", [stream(LONG), display("text/html", LONG)], ids=["print", "page"]
)
def test_a_long_output_is_cut_short_in_the_notebook(tmp_path, output):
    path = executed(tmp_path, output)
    execution_statuses(path)
    kept = nbformat.read(path, as_version=4).cells[1].outputs[0]
    text = kept.get("text") or kept["data"]["text/html"]
    assert text == "x" * MAX_OUTPUT_CHARS + "\n[output truncated by the grader]"


def test_a_notebook_without_long_outputs_is_left_as_it_was(tmp_path):
    path = executed(tmp_path, stream("ok\n"), error("MemoryError"))
    before = path.read_bytes()
    os.utime(path, (0, 0))
    execution_statuses(path)
    assert path.read_bytes() == before and path.stat().st_mtime == 0


def test_a_plot_is_never_cut_into_a_broken_image(tmp_path):
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + os.urandom(MAX_OUTPUT_CHARS)).decode()
    path = executed(tmp_path, display("image/png", png))
    execution_statuses(path)
    kept = nbformat.read(path, as_version=4).cells[1].outputs[0]["data"]
    assert kept.get("image/png") in (None, png)


def test_a_long_error_is_cut_short_too(tmp_path):
    path = executed(tmp_path, error("ValueError", LONG * 3, [LONG, LONG]))
    assert execution_statuses(path) == ["output_truncated"]
    kept = nbformat.read(path, as_version=4).cells[1].outputs[0]
    assert len(json.dumps(kept)) < 2 * MAX_OUTPUT_CHARS


# --- student_code_cells -------------------------------------------------------------------------

CODE = {  # case: (what the student did, the code the sandbox runs)
    "the release": (
        lambda nb: None,
        ["import numpy as np", STUB, "assert step(1) == 2"],
    ),
    "added cells": (
        lambda nb: nb["cells"].extend([new_code_cell("y = 1"), new_markdown_cell("z = 2")]),
        ["import numpy as np", STUB, "assert step(1) == 2", "y = 1"],
    ),
    "code as lines": (
        rewrite("step_code", ["def step(x):\n", "    return 2 * x"]),
        ["import numpy as np", "def step(x):\n    return 2 * x", "assert step(1) == 2"],
    ),
    "ungraded the test": (
        every(flag("step_values", "grade", False), rewrite("step_values", "leak()")),
        ["import numpy as np", STUB, "assert step(1) == 2"],
    ),
    "renamed the test": (
        every(rewrite("step_values", "mine()"), flag("step_values", "grade_id", "mine")),
        ["import numpy as np", STUB, "assert step(1) == 2", "mine()"],
    ),
    "junk cells and metadata": (
        lambda nb: nb.__setitem__(
            "cells",
            [
                "not a cell",
                {"cell_type": "code", "metadata": "none", "source": "a = 1"},
                {"cell_type": "code", "metadata": {"nbgrader": 5}, "source": ["b = ", "2"]},
                {"cell_type": "code", "source": 3},
                {"cell_type": "raw", "source": "c = 3"},
            ],
        ),
        ["a = 1", "b = 2", "3"],
    ),
}


@pytest.mark.parametrize("case", CODE)
def test_the_sandbox_runs_every_code_cell_but_the_graded_tests(case):
    edit, cells = CODE[case]
    assert student_code_cells(edited(edit), SOURCE) == cells
