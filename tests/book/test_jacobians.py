"""rnnbook.jacobians against central differences of the recurrence itself."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook import central_difference
from rnnbook.jacobians import jacobians_to_last, phi_prime, step_jacobians


def run(h0, xs, Wx, Wh, activation):
    phi = np.tanh if activation == "tanh" else (lambda a: np.maximum(a, 0))
    states, h = [], h0
    for x in xs:
        h = phi(x @ Wx + h @ Wh)
        states.append(h)
    return np.array(states)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_the_product_to_the_last_state_is_its_jacobian(activation):
    rng = np.random.default_rng(3)
    D, H, T = 2, 3, 4
    Wx, Wh = rng.normal(size=(D, H)), rng.normal(size=(H, H)) / np.sqrt(H)
    xs, h0 = rng.normal(size=(T, D)), rng.normal(size=H)
    states = run(h0, xs, Wx, Wh, activation)
    products = jacobians_to_last(step_jacobians(states, Wh, activation))
    for distance in range(1, T + 1):
        k = T - distance  # d h_T / d h_k, with h_k the state before input k + 1
        h_k = states[k - 1] if k else h0
        for i in range(H):
            row = central_difference(
                lambda v, k=k, i=i: run(v, xs[k:], Wx, Wh, activation)[-1, i], h_k
            )
            assert np.allclose(products[distance - 1][i], row, atol=1e-7), (distance, i)


def test_an_unknown_activation_is_named():
    with pytest.raises(ValueError, match="activation"):
        phi_prime(np.zeros(2), "sigmoid")
