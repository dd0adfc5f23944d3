"""The instructor's graded functions, for chapters that need one at work.

The book never shows the code of a graded function (students write it in the assignments). A
chapter that needs, say, backpropagation through time to run an experiment loads the
instructor's implementation from ``solutions/<assignment>/<assignment>.ipynb`` and shows only the
call::

    from instructor import load

    bptt = load("bptt")
    h, cache = bptt.rnn_forward(x, h0, Wx, Wh, b)

This module belongs to the book, not to ``rnnbook``: students import ``rnnbook``, and the
released assignments do not ship ``solutions/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import FunctionType, SimpleNamespace

import numpy as np

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"
MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def _solution_cells(assignment: str) -> list[str]:
    path = SOLUTIONS / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        known = sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").is_file())
        raise ValueError(f"assignment: expected one of {known}, got {assignment!r}")
    cells = json.loads(path.read_text())["cells"]
    return [
        MARKER.sub("", "".join(cell["source"]))
        for cell in cells
        if cell["cell_type"] == "code"
        and cell["metadata"].get("nbgrader", {}).get("solution")
        and re.search(r"^def \w+", "".join(cell["source"]), re.MULTILINE)
    ]


def load(assignment: str) -> SimpleNamespace:
    """The functions the instructor's solution of ``assignment`` defines, as attributes.

    Only the solution cells that define functions run, in a namespace holding ``np``; nothing is
    printed, so a page that calls ``load`` shows the call and not the code.
    """
    namespace: dict = {"np": np}
    for source in _solution_cells(assignment):
        exec(compile(source, f"solutions/{assignment}", "exec"), namespace)  # noqa: S102
    functions = {
        name: value for name, value in namespace.items() if isinstance(value, FunctionType)
    }
    return SimpleNamespace(**functions)
