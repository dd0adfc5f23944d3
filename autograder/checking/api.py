"""The checks that decide a grade, and the two ways of running them.

Every graded test cell of an assignment runs one *check*: a function ``check(student, rng)``
defined in ``solutions/<assignment>/checks.py`` under the cell's ``grade_id``. A check treats
the student's functions as black boxes through a :class:`Student` and raises
:class:`CheckFailed` with a message that names the function, the output, the size of the error
and the likely cause.

The same check runs twice:

- inside the student's notebook, during nbgrader's autograde, through
  :class:`InProcessStudent` (:func:`run_check`): immediate, readable feedback, but student code
  shares that kernel and could tamper with it;
- in the grading pipeline, through ``autograder.isolation.sandbox.SandboxStudent``: the student's
  code runs in a separate, isolated process, and every comparison happens in the grader's own
  process on fresh random inputs. A test cell earns its points only when both agree.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import numpy as np

# The checks modules: solutions/ of the repository, or the copies a grading worker made of them
# (a worker need not have the course's files: its task carries them; see autograder.pipeline.task).
SOLUTIONS = Path(
    os.environ.get("AUTOGRADER_SOLUTIONS") or Path(__file__).resolve().parents[2] / "solutions"
)

Check = Callable[["Student", np.random.Generator], None]


class CheckFailed(AssertionError):
    """A check found a wrong answer; the message is shown to the student."""


class StudentRaised(Exception):
    """The student's function raised an exception (type name and message kept as text)."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.message = message


class Student(Protocol):
    """What a check may do with a submission (nothing else: no access to its internals)."""

    def has(self, name: str) -> bool:
        """True when the submission defines a callable ``name``."""

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the student's function ``name``; raise :class:`StudentRaised` if it raises.

        Arrays, numbers, strings, None, and tuples, lists and dicts of them come back as
        values; any other object (a cache, say) comes back as an opaque handle that can be
        passed to a later call.
        """

    def call_seeing_inputs(self, name: str, *args: Any) -> tuple[Any, list[Any]]:
        """Like ``call``, and also return the positional arguments as they are after the call.

        Use it to check that a function leaves its inputs alone: the arguments come back
        as the function left them, whether it ran here or in another process.
        """

    def function(self, source: str, **arrays: np.ndarray) -> Any:
        """A callable living beside the student's code, built from a ``lambda`` source.

        ``source`` sees ``np`` and the given arrays, e.g.
        ``student.function("lambda W: np.tanh(X @ W)", X=X)``; use it to pass a function to a
        student function such as ``numerical_gradient``.
        """

    def value(self, name: str) -> Any:
        """The value of the submission's global variable ``name`` (same rules as ``call``)."""

    def sympy_value(self, name: str) -> Any:
        """The submission's global ``name`` as a SymPy expression (rebuilt safely)."""


class InProcessStudent:
    """A :class:`Student` over the namespace of the notebook being graded (the kernel's)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace

    def has(self, name: str) -> bool:
        return callable(self._namespace.get(name))

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not self.has(name):
            raise CheckFailed(f"{name} is not defined: run the cell that defines it")
        try:
            return self._namespace[name](*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - the student's code may raise anything
            raise StudentRaised(type(error).__name__, str(error)) from error

    def call_seeing_inputs(self, name: str, *args: Any) -> tuple[Any, list[Any]]:
        return self.call(name, *args), list(args)

    def function(self, source: str, **arrays: np.ndarray) -> Any:
        return eval(source, {"np": np, **arrays})  # noqa: S307 - trusted source, from a check

    def value(self, name: str) -> Any:
        if name not in self._namespace:
            raise CheckFailed(f"{name} is not defined: run the cell that defines it")
        return self._namespace[name]

    def sympy_value(self, name: str) -> Any:
        import sympy as sp

        value = self.value(name)
        if not isinstance(value, sp.Basic):
            raise CheckFailed(f"{name} must be a SymPy expression, got {type(value).__name__}")
        return value


@functools.cache
def load_checks(assignment: str) -> dict[str, Check]:
    """The ``CHECKS`` table of ``solutions/<assignment>/checks.py``: grade_id -> check.

    Cached: the grader reads each checks module once, before any student code runs.
    """
    path = SOLUTIONS / assignment / "checks.py"
    if not path.is_file():
        raise ValueError(f"assignment {assignment!r} has no checks module at {path}")
    return checks_in(path, assignment)


def checks_in(path: Path, assignment: str) -> dict[str, Check]:
    """The ``CHECKS`` table of the checks module at ``path`` (a copy on a grading worker)."""
    spec = importlib.util.spec_from_file_location(f"checks_{assignment}", path)
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.CHECKS)


def fixed_rng(grade_id: str) -> np.random.Generator:
    """A generator seeded from the grade_id: the notebook's tests repeat exactly."""
    return np.random.default_rng(int(hashlib.sha256(grade_id.encode()).hexdigest()[:16], 16))


def run_check(assignment: str, grade_id: str, namespace: dict[str, Any]) -> None:
    """Run one check on the notebook's own functions (called from a graded test cell)."""
    checks = load_checks(assignment)
    if grade_id not in checks:
        raise ValueError(f"{assignment} has no check named {grade_id!r}")
    try:
        checks[grade_id](InProcessStudent(namespace), fixed_rng(grade_id))
    except StudentRaised as error:
        raise CheckFailed(f"your code raised {error}") from None
    print(f"passed: {grade_id}")
