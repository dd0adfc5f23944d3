"""The sandbox that re-runs student code for verification, and the safe SymPy reader."""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy as sp

from autograder.checking.api import CheckFailed, StudentRaised
from autograder.isolation.safe_sympy import UnsafeExpression, parse_srepr
from autograder.isolation.sandbox import SandboxBroken, SandboxStudent

DEFINE = "import numpy as np\ndef step(x, W):\n    return np.tanh(x @ W), object()\n"


def test_arrays_come_back_as_arrays_and_other_objects_as_handles():
    with SandboxStudent([DEFINE, "def first(cache):\n    return cache is not None\n"]) as s:
        x, W = np.ones((2, 3)), np.eye(3)
        out, cache = s.call("step", x, W)
        assert out.dtype == np.float64 and np.allclose(out, np.tanh(x))
        assert s.call("first", cache) is True
        assert s.has("step") and not s.has("missing")


def test_student_exceptions_and_missing_functions_are_reported():
    with SandboxStudent([DEFINE]) as s:
        with pytest.raises(StudentRaised) as raised:
            s.call("step", np.ones((2, 3)), np.ones((2, 2)))
        assert raised.value.type_name == "ValueError"
        with pytest.raises(CheckFailed, match="not defined"):
            s.call("rnn_step_forward")


def test_functions_built_from_trusted_source_run_in_the_sandbox():
    code = "def apply(f, x):\n    return f(x)\n"
    with SandboxStudent([code]) as s:
        f = s.function("lambda W: np.tanh(X @ W)", X=np.eye(2))
        assert np.allclose(s.call("apply", f, np.ones((2, 2))), np.tanh(np.ones((2, 2))))


def test_patching_numpy_in_the_sandbox_does_not_reach_the_grader():
    cheat = "import numpy as np\nnp.allclose = lambda *a, **k: True\nflag = np.allclose(1, 2)\n"
    with SandboxStudent([cheat]) as s:
        assert s.value("flag") is True
    assert not np.allclose(1, 2)


def test_a_failing_cell_does_not_stop_the_others():
    with SandboxStudent(["1 / 0", DEFINE, "%matplotlib inline\nx = 3\n"]) as s:
        assert s.cell_errors and "ZeroDivisionError" in s.cell_errors[0]
        assert s.has("step") and s.value("x") == 3


def test_a_cell_past_its_time_limit_is_interrupted_and_the_rest_still_runs():
    start = time.monotonic()
    with SandboxStudent(["while True:\n    pass\n", DEFINE], cell_seconds=1) as s:
        assert "CellTimeout" in s.cell_errors[0] and s.has("step")
    assert time.monotonic() - start < 10


@pytest.mark.slow
def test_code_that_swallows_the_interruption_is_stopped_anyway():
    stubborn = (
        "while True:\n    try:\n        while True:\n            pass\n"
        "    except BaseException:\n        pass\n"
    )
    start = time.monotonic()
    with pytest.raises(SandboxBroken, match="did not finish"):
        SandboxStudent([stubborn], cell_seconds=1)
    assert time.monotonic() - start < 30


def test_hanging_call_times_out_and_marks_the_sandbox_broken():
    with SandboxStudent(["def hang():\n    while True:\n        pass\n"], call_timeout=1) as s:
        with pytest.raises(SandboxBroken):
            s.call("hang")
        assert s.broken


def test_process_exit_is_reported():
    with pytest.raises(SandboxBroken, match="stopped"):
        SandboxStudent(["import os\nos._exit(3)\n"])


def test_memory_hog_meets_the_cap():
    hog = "import numpy as np\nx = np.ones((1024, 1024, 1024, 4))\n"
    with SandboxStudent([DEFINE, hog], memory_bytes=1024**3) as s:
        assert any("MemoryError" in e for e in s.cell_errors)
        assert s.has("step")


def test_sympy_answers_are_rebuilt_without_evaluation():
    code = "import sympy as sp\nw = sp.Symbol('w', real=True)\nanswer = 1 - sp.tanh(w)**2\n"
    with SandboxStudent([code]) as s:
        w = sp.Symbol("w", real=True)
        assert sp.simplify(s.sympy_value("answer") - sp.sech(w) ** 2) == 0
        with pytest.raises(CheckFailed, match="SymPy expression"):
            s.sympy_value("sp")


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "Symbol.__class__",
        "(lambda: 1)()",
        "Add(*[1])",
        "Symbol('x', **{'real': True})",
        "open('/etc/passwd')",
    ],
)
def test_safe_sympy_rejects_anything_but_an_expression_tree(text):
    with pytest.raises(UnsafeExpression):
        parse_srepr(text)


def test_safe_sympy_reads_what_srepr_writes():
    x = sp.Symbol("x", real=True)
    for expression in [sp.tanh(x) ** 2 / 2 - 1, sp.exp(-x) * sp.pi, sp.Heaviside(x) * x]:
        assert parse_srepr(sp.srepr(expression)) == expression


def test_in_place_changes_to_inputs_are_visible_across_the_process_boundary():
    code = "def scale(grads):\n    grads['a'] *= 2\n    return grads\n"
    with SandboxStudent([code]) as s:
        grads = {"a": np.ones(3)}
        _, (after,) = s.call_seeing_inputs("scale", grads)
        assert np.array_equal(after["a"], 2 * np.ones(3))
        assert np.array_equal(grads["a"], np.ones(3))  # the grader's own copy is untouched
