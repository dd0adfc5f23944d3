"""rnnbook.gradcheck against derivatives known in closed form, and its input validation."""

import numpy as np
import pytest

from rnnbook import central_difference, complex_step, relative_error

RNG = np.random.default_rng(1234)


def scalar_f(x):
    return np.sum(np.sin(x) * x**2)


def scalar_grad(x):
    return np.cos(x) * x**2 + 2 * x * np.sin(x)


@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (2, 3, 2)])
def test_central_difference_matches_closed_form_for_scalar_function(shape):
    x = RNG.normal(size=shape)
    assert relative_error(central_difference(scalar_f, x), scalar_grad(x)) < 1e-9


@pytest.mark.parametrize("shape", [(1,), (4,), (3, 2)])
def test_complex_step_is_exact_to_machine_precision(shape):
    x = RNG.normal(size=shape)
    assert relative_error(complex_step(scalar_f, x), scalar_grad(x)) < 1e-14


def test_a_contracted_array_function_gives_the_vector_jacobian_product():
    # g(W) = tanh(X W); d sum(u * g(W)) / dW = X^T (u * (1 - tanh(X W)^2)).
    X, W = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 2))
    u = RNG.normal(size=(4, 2))
    expected = X.T @ (u * (1 - np.tanh(X @ W) ** 2))
    contracted = lambda w: np.sum(u * np.tanh(X @ w))  # noqa: E731
    assert relative_error(central_difference(contracted, W), expected) < 1e-8
    assert relative_error(complex_step(contracted, W), expected) < 1e-13


def test_complex_step_is_exact_for_relu_away_from_the_kink():
    """NumPy orders complex numbers by their real part, so np.maximum keeps the right branch."""
    a = np.array([-1.3, -0.2, 0.4, 2.0])
    relu_sum = lambda v: np.sum(np.maximum(v, 0.0) * np.arange(1, 5))  # noqa: E731
    expected = (a > 0) * np.arange(1.0, 5.0)
    assert relative_error(complex_step(relu_sum, a), expected) < 1e-15
    near = np.array([1e-7])  # within one step of the kink the central difference is wrong
    assert abs(central_difference(lambda v: np.sum(np.maximum(v, 0.0)), near)[0] - 1) > 0.1


def test_central_difference_error_shrinks_like_h_squared():
    x = np.array([0.7])
    exact = scalar_grad(x)
    errors = [abs(central_difference(scalar_f, x, h=h) - exact)[0] for h in (1e-2, 1e-3)]
    assert 50 < errors[0] / errors[1] < 200  # a factor of 100 for a tenfold smaller step


def test_x_is_not_modified_even_by_a_function_that_writes_into_its_argument():
    x = RNG.normal(size=(3, 3))
    before = x.copy()

    def vandal(v):
        total = np.sum(np.tanh(v))
        v[...] = 99.0
        return total

    central_difference(vandal, x)
    complex_step(lambda v: np.sum(np.tanh(v)), x)
    np.testing.assert_array_equal(x, before)
    reference = central_difference(lambda v: np.sum(np.tanh(v)), x)
    assert relative_error(central_difference(vandal, x), reference) == 0.0


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: central_difference(scalar_f, np.arange(3)), "x"),
        (lambda: central_difference(scalar_f, np.ones(3, dtype=np.float32)), "x"),
        (lambda: central_difference(scalar_f, np.array([])), "x"),
        (lambda: central_difference(scalar_f, np.ones(3), h=0), "h"),
        (lambda: central_difference(scalar_f, np.ones(3), h=-1e-5), "h"),
        (lambda: central_difference(scalar_f, np.ones(3), h=float("nan")), "h"),
        (lambda: central_difference("not a function", np.ones(3)), "f"),
        (lambda: central_difference(np.tanh, np.ones(3)), "f"),
        (lambda: complex_step(scalar_f, np.arange(3)), "x"),
        (lambda: complex_step(scalar_f, np.ones(3), h=0.0), "h"),
        (lambda: complex_step(np.tanh, np.ones(2)), "f"),
    ],
)
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"\b{argument}\b"):
        call()


def test_relative_error_scale():
    a = RNG.normal(size=(3, 2))
    assert relative_error(a, a) == 0.0
    assert relative_error(a, np.zeros_like(a)) == pytest.approx(1.0)
    assert relative_error(a, -a) == pytest.approx(1.0)  # ||2a|| / (||a|| + ||a||)
    assert relative_error(a, 1.001 * a) == pytest.approx(0.001 / 2.001)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0


@pytest.mark.parametrize(
    "actual, expected, argument",
    [
        (np.ones(3), np.ones(4), "actual"),
        (np.ones(3, dtype=int), np.ones(3), "actual"),
        (np.ones(3), [True, False, True], "expected"),
    ],
)
def test_relative_error_rejects_bad_input(actual, expected, argument):
    with pytest.raises(ValueError, match=argument):
        relative_error(actual, expected)
