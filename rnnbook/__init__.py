"""Helpers shared by the chapters of the RNN course.

One idea per module:

- :mod:`rnnbook.checks`    argument validation with errors that name the argument;
- :mod:`rnnbook.gradcheck` finite-difference and complex-step derivatives, relative error;
- :mod:`rnnbook.symbolic`  small sympy matrices of named symbols and entry-wise gradients;
- :mod:`rnnbook.plotting`  one plotting style for every figure of the book;
- :mod:`rnnbook.diagrams`  network diagrams drawn with matplotlib (unrolled RNN, gated cells);
- :mod:`rnnbook.jacobians` the Jacobians between states of the recurrence, and their products;
- :mod:`rnnbook.optim`     the Adam optimiser;
- :mod:`rnnbook.tasks`     synthetic sequence tasks with a known answer;
- :mod:`rnnbook.text`      text as integers, parallel streams, sampling, n-gram baselines;
- :mod:`rnnbook.sequences` batches of sequences of different lengths, greedy decoding;
- :mod:`rnnbook.decoding`  top-k and nucleus filters, exhaustive search, measures of an output;
- :mod:`rnnbook.memory`    freed memory kept in a training process, for the next step.

The names below are imported from their module on first use, so that
``from rnnbook import relative_error`` (in every graded notebook) loads NumPy only, not SymPy
and Matplotlib: half a second of every grading kernel's start.

Nothing here implements a graded function of the assignments.
"""

from importlib import import_module

_MODULE_OF = {
    "unrolled_rnn": "diagrams",
    "central_difference": "gradcheck",
    "complex_step": "gradcheck",
    "relative_error": "gradcheck",
    "COLORS": "plotting",
    "new_figure": "plotting",
    "use_course_style": "plotting",
    "gradient_matrix": "symbolic",
    "matrices_equal": "symbolic",
    "symbol_matrix": "symbolic",
    "symbol_row": "symbolic",
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> object:
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'rnnbook' has no attribute {name!r}")
    value = getattr(import_module(f"rnnbook.{_MODULE_OF[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULE_OF])
