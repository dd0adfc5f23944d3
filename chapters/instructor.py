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

import re
from types import FunctionType, SimpleNamespace

import numpy as np

from autograder import assignments


def _solution_cells(assignment: str) -> list[str]:
    """The instructor's solution cells of ``assignment`` that define functions."""
    code = assignments.get(assignment).solution_code().values()
    return [source for source in code if re.search(r"^def \w+", source, re.MULTILINE)]


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
