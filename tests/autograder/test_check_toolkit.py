"""The shared toolkit of the checks (autograder/checking/toolkit.py), piece by piece."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checking import toolkit
from autograder.checking.api import CheckFailed, InProcessStudent
from autograder.checking.toolkit import (
    ATOL,
    NEW_ARRAYS,
    RTOL,
    activation,
    activation_derivative,
    averaged,
    call_leaving_inputs,
    call_on_copies,
    close,
    compare,
    copy_arrays,
    describe,
    diagnose,
    expect_value_error,
    float_array,
    float_scalar,
    gradient_checks,
    mismatch,
    prerequisite,
    prerequisite_on_failure,
    rnn_inputs,
    transposed,
    unpack,
    wrong_sign,
)

TOLERANCE = ATOL + RTOL  # the tolerance of an entry of size 1


def fails(call, *args, **kwargs) -> str:
    """The message of the CheckFailed that ``call(*args, **kwargs)`` raises."""
    with pytest.raises(CheckFailed) as failure:
        call(*args, **kwargs)
    return str(failure.value)


def test_describe_names_type_length_shape_and_dtype():
    assert describe(np.zeros((2, 3), dtype=np.int64)) == "an array of shape (2, 3) and dtype int64"
    assert describe((1, 2)) == "a tuple of length 2"
    assert describe([1]) == "a list of length 1"
    assert describe({"a": 1}) == "a dict of length 1"
    assert describe(None) == "a NoneType"
    assert describe(3) == "an int"


def test_unpack_returns_a_tuple_and_refuses_another_length_or_type():
    assert unpack("f", [1, 2], ("h", "cache")) == (1, 2)
    assert fails(unpack, "f", (1, 2, 3), ("h", "cache")) == (
        "f must return (h, cache), got a tuple of length 3"
    )
    assert "got an array of shape (2,)" in fails(unpack, "f", np.zeros(2), ("h", "cache"))


def test_float_array_accepts_a_float64_array_of_the_shape():
    value = np.ones((2, 3))
    assert float_array("f", "h", value, (2, 3)) is value


def test_float_array_refuses_a_non_array_and_another_dtype():
    assert fails(float_array, "f", "h", [[1.0]], (1, 1)) == (
        "f: h must be a numpy array, got a list of length 1"
    )
    message = fails(float_array, "f", "h", np.ones((1, 1), dtype=np.float32), (1, 1))
    assert message.startswith("f: h must have dtype float64, got float32")


def test_float_array_shape_message_names_the_shape_and_the_likely_cause():
    assert fails(float_array, "f", "h", np.ones((3, 2)), (2, 3), "(N, H)") == (
        "f: h has shape (3, 2), expected (2, 3) = (N, H): it looks transposed"
    )
    hints = {(3,): "sum over the batch"}
    assert fails(float_array, "f", "db", np.ones(3), (2, 3), "(N, H)", hints, "else") == (
        "f: db has shape (3,), expected (2, 3) = (N, H): sum over the batch"
    )
    assert fails(float_array, "f", "h", np.ones((2, 4)), (2, 3), hint="one state per step") == (
        "f: h has shape (2, 4), expected (2, 3): one state per step"
    )


def test_float_scalar_accepts_one_float_only():
    assert float_scalar("f", "loss", np.float64(2.5)) == 2.5
    assert float_scalar("f", "loss", np.array(1.5)) == 1.5
    assert fails(float_scalar, "f", "loss", 2) == "f: loss must be a float (one number), got an int"
    assert "got an array of shape (1,)" in fails(float_scalar, "f", "loss", np.ones(1))


def test_close_needs_the_same_shape_and_matches_nan_with_nan():
    assert close(np.ones(3), np.ones(3) * (1 + RTOL / 2))
    assert not close(np.ones(3), np.ones((3, 1)))
    assert close(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    assert not close("text", np.ones(2))


def test_compare_passes_round_off_and_epsilons_within_tolerance():
    expected = np.array([[1.0, -2.0], [0.0, 3.0]])
    near = expected * (1 + 0.4 * RTOL) + 0.4 * ATOL  # an epsilon-sized difference
    compare("f", "h", near, expected, [("never called", pytest.fail)], "fallback")


def test_compare_fails_outside_tolerance_with_sizes_case_and_cause():
    expected = np.array([1.0, 2.0])
    message = fails(
        compare, "f", "h", expected + 3 * TOLERANCE, expected, [], "see the formula", "N=2"
    )
    assert message == (
        "f: h is off (max abs error 3.3e-05, relative error 1.0e-05; N=2): see the formula"
    )
    assert "contains nan or inf" in fails(
        compare, "f", "h", np.array([np.nan, 2.0]), expected, [], ""
    )


def test_diagnose_names_the_first_matching_variant():
    expected, actual = np.array([1.0, 2.0]), np.array([-1.0, -2.0])
    variants = [
        ("doubled", lambda: 2 * expected),
        ("wrong sign", lambda: -expected),
        ("also negative", lambda: -expected),
    ]
    assert diagnose(actual, expected, variants, "fallback") == "wrong sign"
    assert diagnose(actual, expected, variants[:1], "fallback") == "fallback"


def test_diagnose_skips_a_variant_that_coincides_with_the_right_answer():
    expected = np.array([1.0])
    actual = expected + 1.8 * TOLERANCE  # wrong, but within tolerance of the variant below
    right_here = [("a mean over a batch of one", lambda: expected + 0.9 * TOLERANCE)]
    assert not close(actual, expected)
    assert diagnose(actual, expected, right_here, "fallback") == "fallback"


def test_diagnose_skips_a_variant_undefined_on_the_inputs():
    def undefined():
        raise ZeroDivisionError("no such mistake here")

    variants = [("undefined", undefined), ("wrong sign", lambda: -np.ones(2))]
    assert diagnose(-np.ones(2), np.ones(2), variants, "fallback") == "wrong sign"


def test_mismatch_reports_a_non_finite_answer():
    failure = mismatch("f", "w", np.array([np.inf]), np.array([1.0]), "overflow", "z = 1e4")
    assert str(failure) == "f: w is off (contains nan or inf; z = 1e4): overflow"


def test_prerequisite_tells_why_the_caller_cannot_be_checked():
    with pytest.raises(CheckFailed, match=r"^forward: wrong$"), prerequisite("forward", None):
        raise CheckFailed("forward: wrong")
    with pytest.raises(CheckFailed) as failure, prerequisite("forward", "backward"):
        raise CheckFailed("forward: wrong")
    assert str(failure.value) == (
        "backward cannot be checked until forward is right (the backward pass starts from its "
        "cache). forward: wrong"
    )


def _forward_wrong():
    raise CheckFailed("forward: wrong")


def test_prerequisite_on_failure_blames_a_wrong_function_only_when_the_caller_fails():
    with prerequisite_on_failure("forward", "backward", _forward_wrong):
        pass  # a right backward pass passes whatever the forward pass does
    with pytest.raises(CheckFailed, match=r"^backward: wrong$"):
        with prerequisite_on_failure("forward", "backward", lambda: None):
            raise CheckFailed("backward: wrong")
    with pytest.raises(CheckFailed) as failure:
        with prerequisite_on_failure("forward", "backward", _forward_wrong):
            raise CheckFailed("backward: wrong")
    assert str(failure.value) == (
        "backward cannot be checked until forward is right (the backward pass starts from its "
        "cache). forward: wrong"
    )


SQUARE = np.array([[1.0, 2.0], [3.0, 4.0]])


def test_variant_builders_compute_the_mistake_and_name_it():
    assert wrong_sign("dx", SQUARE)[0] == "dx has the wrong sign"
    assert (
        wrong_sign("dx", SQUARE, "dL/dh2 = h2 - y")[0] == "dx has the wrong sign: dL/dh2 = h2 - y"
    )
    assert transposed("dWh", SQUARE, "dWh = h^T da")[0] == "dWh is transposed: dWh = h^T da"
    assert averaged("db", SQUARE, "the batch", 4)[0] == (
        "db is averaged over the batch (the mean over the batch instead of the sum)"
    )
    assert np.array_equal(wrong_sign("dx", SQUARE)[1](), -SQUARE)
    assert np.array_equal(transposed("dWh", SQUARE)[1](), SQUARE.T)
    assert np.array_equal(averaged("db", SQUARE, "time", 4)[1](), SQUARE / 4)
    assert wrong_sign("loss", 2.5)[1]() == -2.5


def test_variant_builders_name_the_mistake_through_diagnose():
    def cause(actual, expected):
        variants = [wrong_sign("g", expected), transposed("g", expected)]
        variants.append(averaged("g", expected, "the batch", 3))
        return diagnose(actual, expected, variants, "fallback")

    assert cause(-SQUARE, SQUARE) == "g has the wrong sign"
    assert cause(SQUARE.T, SQUARE) == "g is transposed"
    assert cause(SQUARE / 3, SQUARE).startswith("g is averaged over the batch")
    assert cause(SQUARE + 1.0, SQUARE) == "fallback"


def test_gradient_checks_give_one_check_per_output_under_its_grade_id():
    seen = []
    checks = gradient_checks("rnn_backward", ("dx", "dWh"), lambda s, r, out: seen.append(out))
    assert list(checks) == ["rnn_backward_dx", "rnn_backward_dwh"]
    for check in checks.values():
        check(STUDENT, np.random.default_rng(0))
    assert seen == ["dx", "dWh"]
    assert checks["rnn_backward_dwh"].__name__ == "check_rnn_backward_dwh"


def _relu_preactivations(x, h0, Wx, Wh, b):
    """Every a_t of a ReLU RNN, for x of shape (N, T, D)."""
    h, steps = h0, []
    for t in range(x.shape[1]):
        steps.append(x[:, t] @ Wx + h @ Wh + b)
        h = np.maximum(steps[-1], 0.0)
    return np.array(steps)


def test_rnn_inputs_have_the_shapes_of_a_step_a_sequence_and_an_lstm():
    rng = np.random.default_rng(0)
    x, h0, Wx, Wh, b = rnn_inputs(rng, 2, 3, 4)
    assert (x.shape, h0.shape, Wx.shape, Wh.shape, b.shape) == (
        (2, 3),
        (2, 4),
        (3, 4),
        (4, 4),
        (4,),
    )
    assert np.all(np.abs(h0) < 1)
    assert rnn_inputs(rng, 2, 3, 4, "relu", T=5)[0].shape == (2, 5, 3)
    shapes = [a.shape for a in rnn_inputs(rng, 2, 3, 4, gates=4)]
    assert shapes == [(2, 3), (2, 4), (3, 16), (4, 16), (16,)]


def test_rnn_inputs_keep_relu_preactivations_of_both_signs_away_from_the_kink(monkeypatch):
    monkeypatch.setattr(toolkit, "RELU_MARGIN", 0.3)  # wide, so that a first draw often fails
    for seed in range(30):
        rng = np.random.default_rng(seed)
        a = _relu_preactivations(*rnn_inputs(rng, 1, 2, 1, "relu", T=3))
        assert np.min(np.abs(a)) > 0.3 and np.any(a > 0) and np.any(a < 0), seed
        x, *rest = rnn_inputs(rng, 1, 2, 2, "relu")  # one step: a sequence of length 1
        a = _relu_preactivations(x[:, np.newaxis], *rest)
        assert np.min(np.abs(a)) > 0.3 and np.any(a > 0) and np.any(a < 0), seed


def test_rnn_inputs_refuse_an_unknown_activation_and_relu_gates():
    with pytest.raises(ValueError, match=r"^rnn_inputs: activation must be 'tanh' or 'relu'"):
        rnn_inputs(np.random.default_rng(0), 1, 2, 3, "sigmoid")
    with pytest.raises(ValueError, match=r"^rnn_inputs: activation='relu' needs gates=1"):
        rnn_inputs(np.random.default_rng(0), 1, 2, 3, "relu", gates=4)


def _validating(activation: str = "tanh"):
    if activation not in ("tanh", "relu"):
        raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
    return np.zeros(2)


def _vague(activation: str = "tanh"):
    raise ValueError("bad value")


def _wrong_type(activation: str = "tanh"):
    raise KeyError(activation)


def _accepting(activation: str = "tanh"):
    return np.full(2, np.nan), None


STUDENT = InProcessStudent(
    {"validating": _validating, "vague": _vague, "wrong_type": _wrong_type, "accepting": _accepting}
)


def test_expect_value_error_passes_a_value_error_naming_the_argument():
    expect_value_error(
        STUDENT, "validating", (), {"activation": "sigmoid"}, naming="activation", what="x", hint=""
    )


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (
            "vague",
            "vague: activation='sigmoid' raised ValueError, but its message does not name "
            "`activation`: 'bad value'",
        ),
        (
            "wrong_type",
            "wrong_type: activation='sigmoid' must raise ValueError naming `activation`, but it "
            "raised KeyError: 'sigmoid'",
        ),
        (
            "accepting",
            "accepting accepted activation='sigmoid' without raising ValueError (it returned "
            "arrays containing nan or inf): accept only 'tanh' and 'relu'",
        ),
    ],
)
def test_expect_value_error_says_what_is_wrong(function, message):
    assert message == fails(
        expect_value_error,
        STUDENT,
        function,
        (),
        {"activation": "sigmoid"},
        naming="activation",
        what="activation='sigmoid'",
        hint="accept only 'tanh' and 'relu'",
    )


def _in_place(x, grads, cache, scale=None):
    x *= 0
    grads["W"] += 1
    scale[0] = -1
    return cache


def test_call_on_copies_keeps_the_callers_arrays_and_passes_other_objects_as_they_are():
    x, grads, scale, cache = np.ones(2), {"W": np.zeros((2, 2))}, np.ones(1), object()
    student = InProcessStudent({"in_place": _in_place})
    assert call_on_copies(student, "in_place", x, grads, cache, scale=scale) is cache
    assert np.array_equal(x, np.ones(2)) and np.array_equal(grads["W"], np.zeros((2, 2)))
    assert np.array_equal(scale, np.ones(1))


def _restores(x, grads, cache):
    x[0] += 1e-5  # a perturbation put back: x differs from before by round-off at most
    x[0] -= 1e-5
    cache["seen"] = True  # a cache is the function's own business
    return float(x.sum() + grads["W"].sum())


def _overwrites(x, grads, cache):
    x *= 2.0


def _reshapes(x, grads, cache):
    x.shape = (x.size,)


def _flips(x, grads, cache):
    np.logical_not(x, out=x)


def _changes_an_entry(x, grads, cache):
    grads["b"][0] += 0.5


def _drops_a_key(x, grads, cache):
    del grads["b"]


def _replaces_an_array(x, grads, cache):
    grads["W"] = [1.0]


CHANGING = InProcessStudent(
    {
        "restores": _restores,
        "overwrites": _overwrites,
        "reshapes": _reshapes,
        "flips": _flips,
        "changes_an_entry": _changes_an_entry,
        "drops_a_key": _drops_a_key,
        "replaces_an_array": _replaces_an_array,
    }
)


def _arguments(x=None):
    return (
        np.ones((2, 2)) if x is None else x,
        {"W": np.zeros((2, 2)), "b": np.zeros(2)},
        {"kept": np.ones(1)},
    )


def test_call_leaving_inputs_returns_the_result_when_the_arguments_come_back_unchanged():
    args = _arguments()
    assert call_leaving_inputs(CHANGING, "restores", ("x", "grads", None), *args) == 4.0
    assert set(args[2]) == {"kept"}  # the caller's cache is untouched too (the call got a copy)


@pytest.mark.parametrize(
    ("function", "x", "name", "change"),
    [
        ("overwrites", None, "x", "entries of x changed by up to 1.0e+00"),
        ("reshapes", None, "x", "the shape of x became (4,) instead of (2, 2)"),
        ("flips", np.ones(3, dtype=bool), "x", "entries of x changed by up to 1.0e+00"),
        ("changes_an_entry", None, "grads", "entries of grads['b'] changed by up to 5.0e-01"),
        ("drops_a_key", None, "grads", "the keys of grads, ['W', 'b'], became ['W']"),
        ("replaces_an_array", None, "grads", "grads['W'] became a list of length 1"),
    ],
)
def test_call_leaving_inputs_names_the_argument_changed_and_keeps_the_callers(
    function, x, name, change
):
    x, grads, cache = _arguments(x)
    saved_x, saved_grads = x.copy(), copy_arrays(grads)
    message = fails(call_leaving_inputs, CHANGING, function, ("x", "grads", None), x, grads, cache)
    assert message == f"{function} modified {name} in place ({change}): {NEW_ARRAYS}"
    assert np.array_equal(x, saved_x) and set(grads) == set(saved_grads)
    assert all(np.array_equal(grads[key], saved_grads[key]) for key in saved_grads)


def test_call_leaving_inputs_for_a_caller_compares_nothing_and_keeps_the_callers():
    x, grads, cache = _arguments()
    names = ("x", "grads", None)
    assert call_leaving_inputs(CHANGING, "overwrites", names, x, grads, cache, caller="g") is None
    assert np.array_equal(x, np.ones((2, 2)))


class _SeparateProcess(InProcessStudent):
    """Like the sandbox: the arguments come back as new copies, and anything else as a handle."""

    def call_seeing_inputs(self, name, *args):
        result, after = super().call_seeing_inputs(name, *args)
        return result, [
            copy_arrays(a) if isinstance(a, (np.ndarray, dict)) else object() for a in after
        ]


def test_call_leaving_inputs_compares_values_not_objects():
    student = _SeparateProcess({"restores": _restores, "overwrites": _overwrites})
    names = ("x", "grads", None)
    assert call_leaving_inputs(student, "restores", names, *_arguments()) == 4.0
    assert "modified x in place" in fails(
        call_leaving_inputs, student, "overwrites", names, *_arguments()
    )
    how = "put it back"
    assert fails(
        call_leaving_inputs, student, "overwrites", names, *_arguments(), how=how
    ).endswith(": put it back")


def test_copy_arrays_copies_nested_arrays_and_keeps_container_types():
    value = ({"a": [np.ones(1)]}, 3)
    copy = copy_arrays(value)
    assert type(copy) is tuple and type(copy[0]["a"]) is list and copy[1] == 3
    assert np.array_equal(copy[0]["a"][0], value[0]["a"][0])
    assert copy[0]["a"][0] is not value[0]["a"][0]


def test_activations_and_their_derivatives():
    a = np.array([-2.0, -0.5, 0.5, 2.0])
    assert np.allclose(activation(a, "tanh"), np.tanh(a))
    assert np.allclose(activation_derivative(a, "tanh"), 1 - np.tanh(a) ** 2)
    assert np.array_equal(activation(a, "relu"), [0.0, 0.0, 0.5, 2.0])
    assert np.array_equal(activation_derivative(a, "relu"), [0.0, 0.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("message", "shown"),
    [("shapes (2,3) and (2,2) not aligned", "ValueError: shapes (2,3) and (2,2) not aligned"),
     ("", "ValueError")],
)  # fmt: skip
def test_a_student_s_exception_reads_as_its_type_and_its_message_if_any(message, shown):
    from autograder.checking.api import StudentRaised

    assert str(StudentRaised("ValueError", message)) == shown
