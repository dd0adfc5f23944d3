"""rnnbook.symbolic: named symbol matrices, entry-wise gradients, symbolic equality."""

import pytest
import sympy as sp

from rnnbook import gradient_matrix, matrices_equal, symbol_matrix, symbol_row


def test_symbol_matrix_names_entries_one_based_and_real():
    W = symbol_matrix("W", 2, 3)
    assert W.shape == (2, 3)
    assert str(W[0, 0]) == "W_{1,1}" and str(W[1, 2]) == "W_{2,3}"
    assert all(entry.is_real for entry in W)
    assert len(set(W)) == 6


def test_symbol_row_is_a_row_vector():
    x = symbol_row("x", 4)
    assert x.shape == (1, 4)
    assert [str(e) for e in x] == ["x_{1}", "x_{2}", "x_{3}", "x_{4}"]


def test_assumptions_are_passed_through():
    assert symbol_matrix("P", 1, 1, positive=True)[0, 0].is_positive


def test_gradient_matrix_matches_hand_derivatives():
    # L = x W W^T x^T  =>  dL/dW = 2 x^T x W (a textbook matrix-calculus identity).
    x, W = symbol_row("x", 2), symbol_matrix("W", 2, 3)
    loss = (x * W * W.T * x.T)[0, 0]
    grad = gradient_matrix(loss, W)
    assert grad.shape == W.shape
    assert matrices_equal(grad, 2 * x.T * x * W)


def test_matrices_equal_proves_identities_and_rejects_non_identities():
    A, B = symbol_matrix("A", 2, 2), symbol_matrix("B", 2, 2)
    assert matrices_equal((A * B).T, B.T * A.T)
    assert not matrices_equal(A * B, B * A)
    x = symbol_row("x", 2)
    assert matrices_equal(x.applyfunc(lambda e: sp.tanh(e) ** 2 + sp.sech(e) ** 2), sp.ones(1, 2))


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: symbol_matrix("W", 0, 2), "rows"),
        (lambda: symbol_matrix("W", 2, 1.5), "cols"),
        (lambda: symbol_matrix("W", True, 2), "rows"),
        (lambda: symbol_matrix("W x", 2, 2), "name"),
        (lambda: symbol_matrix(3, 2, 2), "name"),
        (lambda: symbol_row("x", -1), "size"),
        (lambda: gradient_matrix(symbol_matrix("W", 2, 2), symbol_matrix("W", 2, 2)), "loss"),
        (lambda: gradient_matrix(sp.Symbol("a"), [sp.Symbol("a")]), "wrt"),
        (lambda: gradient_matrix(sp.Symbol("a"), sp.Matrix([[sp.Symbol("a") + 1]])), "wrt"),
        (lambda: matrices_equal(symbol_matrix("A", 2, 2), symbol_matrix("A", 2, 3)), "shape"),
        (lambda: matrices_equal(symbol_matrix("A", 1, 1), 1), "b"),
    ],
)
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()
