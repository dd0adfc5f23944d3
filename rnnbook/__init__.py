"""Helpers shared by the chapters of the RNN course.

One idea per module:

- :mod:`rnnbook.checks`    argument validation with errors that name the argument;
- :mod:`rnnbook.gradcheck` finite-difference and complex-step derivatives, relative error;
- :mod:`rnnbook.symbolic`  small sympy matrices of named symbols and entry-wise gradients;
- :mod:`rnnbook.plotting`  one plotting style for every figure of the book;
- :mod:`rnnbook.diagrams`  network diagrams drawn with matplotlib (the unrolled RNN).

Nothing here implements a graded function of the assignments.
"""

from rnnbook.diagrams import unrolled_rnn
from rnnbook.gradcheck import central_difference, complex_step, relative_error
from rnnbook.plotting import COLORS, new_figure, use_course_style
from rnnbook.symbolic import gradient_matrix, matrices_equal, symbol_matrix, symbol_row

__all__ = [
    "COLORS",
    "central_difference",
    "complex_step",
    "gradient_matrix",
    "matrices_equal",
    "new_figure",
    "relative_error",
    "symbol_matrix",
    "symbol_row",
    "unrolled_rnn",
    "use_course_style",
]
