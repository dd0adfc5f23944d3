"""Example submissions: the solution, the untouched release, a partial answer, every mistake in
``solutions/<assignment>/mistakes.py``, and the broken and cheating notebooks the pipeline must
survive. ``write_examples`` lays them out as nbgrader expects:
``OUT/<student>/<assignment>/<assignment>.ipynb``.

Broken and cheating examples are built for the ``cells`` assignment (the mechanisms they test do
not depend on the assignment); solution, release, partial and mistakes for every assignment.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from autograder.course import SOLUTIONS
from autograder.release import release
from autograder.submission import nbgrader_cells

MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)
BAD_AND_CHEATING_ASSIGNMENT = "cells"

Notebook = dict


def load_mistakes(assignment: str) -> dict[str, dict]:
    """The ``MISTAKES`` table of ``solutions/<assignment>/mistakes.py``."""
    path = SOLUTIONS / assignment / "mistakes.py"
    spec = importlib.util.spec_from_file_location(f"mistakes_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.MISTAKES)


def _text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def solution_code(assignment: str) -> dict[str, str]:
    """grade_id -> instructor code (markers removed) of every solution cell of the source."""
    source = json.loads((SOLUTIONS / assignment / f"{assignment}.ipynb").read_text())
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: MARKER.sub("", _text(cell))
        for cell in nbgrader_cells(source)
        if cell["metadata"]["nbgrader"].get("solution") and cell["cell_type"] == "code"
    }


def fill(student: Notebook, code: dict[str, str]) -> Notebook:
    """The student notebook with the given solution cells' code filled in."""
    notebook = copy.deepcopy(student)
    for cell in nbgrader_cells(notebook):
        grade_id = cell["metadata"]["nbgrader"]["grade_id"]
        if grade_id in code:
            cell["source"] = code[grade_id]
    return notebook


def apply_edits(code: dict[str, str], edits: list[tuple[str, str]]) -> dict[str, str]:
    """Apply (old, new) replacements; each ``old`` must occur exactly once in all the code."""
    code = dict(code)
    for old, new in edits:
        places = [gid for gid, text in code.items() if old in text]
        total = sum(code[gid].count(old) for gid in places)
        if total != 1:
            raise ValueError(f"edit {old!r} must match exactly once, matched {total} times")
        code[places[0]] = code[places[0]].replace(old, new)
    return code


def _insert_code(notebook: Notebook, source: str, after: int = 1) -> Notebook:
    notebook = copy.deepcopy(notebook)
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": source,
    }
    notebook["cells"].insert(after, cell)
    return notebook


def _first_test_cell(notebook: Notebook) -> int:
    for index, cell in enumerate(notebook["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            return index
    raise ValueError("the notebook has no graded test cell")


READ_SOLUTION = f"""\
# Cheat: read the instructor's code for this cell from the course folder and run it.
import json, pathlib, re
_path = pathlib.Path({str(SOLUTIONS)!r}) / "{{a}}" / "{{a}}.ipynb"
for _cell in json.loads(_path.read_text())["cells"]:
    if _cell["metadata"].get("nbgrader", {{}}).get("grade_id") == "{{grade_id}}":
        exec(re.sub(r"### (BEGIN|END) SOLUTION", "", "".join(_cell["source"])))
"""


CHEATS: dict[str, str] = {
    # Patch NumPy's comparison helpers so that every comparison in the tests passes.
    "cheat-patch-numpy": (
        "import numpy as np\n"
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, bool)\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "np.array_equal = lambda *args, **kwargs: True\n"
    ),
    # Replace the grading harness's entry point, which the hidden tests call, and the
    # notebook's own stub detector.
    "cheat-patch-harness": (
        "import sys, types\n"
        "_fake = types.ModuleType('autograder.harness')\n"
        "_fake.run_check = lambda *args, **kwargs: print('passed')\n"
        "sys.modules['autograder'] = types.ModuleType('autograder')\n"
        "sys.modules['autograder.harness'] = _fake\n"
        "assert_answered = lambda *answers: None\n"
    ),
    # Make every later cell run as `pass`, so the hidden tests never execute.
    "cheat-ipython-transformer": (
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
    ),
    # Patch builtins so that failing asserts are swallowed.
    "cheat-patch-builtins": (
        "import builtins\n"
        "class _Never(Exception):\n    pass\n"
        "builtins.AssertionError = _Never\n"
        "import autograder.harness as _h\n"
        "_h.CheckFailed = _Never\n"
        "_orig = _h.run_check\n"
        "def _quiet(*args, **kwargs):\n"
        "    try:\n        _orig(*args, **kwargs)\n    except Exception:\n        print('passed')\n"
        "_h.run_check = _quiet\n"
    ),
}


def bad_examples(student: Notebook, solved: Notebook) -> dict[str, Callable[[Path], None]]:
    """name -> writer of the notebook path, for every broken-submission case."""

    def write(notebook: Notebook) -> Callable[[Path], None]:
        return lambda path: path.write_text(json.dumps(notebook))

    test_index = _first_test_cell(solved)
    deleted = copy.deepcopy(solved)
    del deleted["cells"][test_index]
    edited = copy.deepcopy(solved)
    edited["cells"][test_index]["source"] = '"""Edited by the student."""\nprint("ok")\n'
    tampered = copy.deepcopy(solved)
    tampered["cells"][test_index]["metadata"]["nbgrader"]["points"] = 100
    duplicated = copy.deepcopy(solved)
    duplicated["cells"].insert(test_index, copy.deepcopy(solved["cells"][test_index]))
    return {
        "bad-invalid-json": lambda path: path.write_text('{"cells": [ this is not json'),
        "bad-missing-notebook": lambda path: (path.parent / "renamed.ipynb").write_text(
            json.dumps(solved)
        ),
        "bad-deleted-test-cell": write(deleted),
        "bad-edited-test-cell": write(edited),
        "bad-tampered-metadata": write(tampered),
        "bad-duplicated-cells": write(duplicated),
        "bad-infinite-loop": write(_insert_code(solved, "while True:\n    pass\n")),
        "bad-kernel-dies": write(
            _insert_code(solved, "import os\nos._exit(1)\n", after=len(solved["cells"]))
        ),
        "bad-memory-hog": write(
            _insert_code(
                solved,
                "import numpy as np\nhog = np.ones((1024, 1024, 1024, 4))\n",
                after=len(solved["cells"]),
            )
        ),
        "bad-huge-output": write(
            _insert_code(
                solved, "for _ in range(20000):\n    print('x' * 200)\n", after=len(solved["cells"])
            )
        ),
    }


def write_examples(out: Path, assignments: list[str]) -> list[Path]:
    """Write every example submission under ``out``; return the notebook paths written."""
    out = Path(out)
    written = []

    def put(student_id: str, assignment: str, writer: Callable[[Path], None]) -> None:
        path = out / student_id / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        writer(path)
        written.append(path)

    with tempfile.TemporaryDirectory() as tmp:
        released = release(Path(tmp), assignments, validate=False)
        for assignment in assignments:
            student = json.loads(released[assignment].read_text())
            code = solution_code(assignment)
            solved = fill(student, code)
            first = next(iter(code))
            as_json = lambda nb: lambda path: path.write_text(json.dumps(nb))  # noqa: E731
            put("solution", assignment, as_json(solved))
            put("untouched", assignment, as_json(student))
            put("partial", assignment, as_json(fill(student, {first: code[first]})))
            for name, mistake in load_mistakes(assignment).items():
                wrong = fill(student, apply_edits(code, mistake["edits"]))
                put(f"mistake-{assignment}-{name}", assignment, as_json(wrong))
            if assignment == BAD_AND_CHEATING_ASSIGNMENT:
                for name, writer in bad_examples(student, solved).items():
                    put(name, assignment, writer)
                for name, cheat in CHEATS.items():
                    cheat = cheat.replace("{a}", assignment)
                    put(name, assignment, as_json(_insert_code(student, cheat, after=2)))
                # Every answer cell reads the instructor's code for itself from the disk.
                reading = {
                    gid: READ_SOLUTION.replace("{a}", assignment).replace("{grade_id}", gid)
                    for gid in code
                }
                put("cheat-read-solution", assignment, as_json(fill(student, reading)))
    return written
