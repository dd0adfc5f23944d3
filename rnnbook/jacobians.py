"""Jacobians of the recurrence between states, read off stored states.

Introduced in the chapter *Vanishing and exploding gradients*, which derives
``dh_t/dh_k = J_t J_(t-1) ... J_(k+1)`` with ``J_j = diag(phi'(a_j)) Wh^T``; its Going further
page *measured Jacobian norms* uses them again.
"""

from __future__ import annotations

from itertools import accumulate

import numpy as np


def phi_prime(states: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """phi'(a_j) read off h_j = phi(a_j): 1 - h_j**2 for tanh, [h_j > 0] for ReLU."""
    if activation == "tanh":
        return 1 - states**2
    if activation == "relu":
        return (states > 0).astype(float)
    raise ValueError(f"activation: expected 'tanh' or 'relu', got {activation!r}")


def step_jacobians(states: np.ndarray, Wh: np.ndarray, activation: str = "tanh") -> list:
    """[J_1, ..., J_T], J_j = diag(phi'(a_j)) Wh^T, for one example whose states
    h_1 ... h_T are the rows of ``states``."""
    return [np.diag(slope) @ Wh.T for slope in phi_prime(states, activation)]


def jacobians_to_last(jacobians: list) -> list:
    """[dh_T/dh_(T-1), ..., dh_T/dh_0]: J_T on the left, each earlier Jacobian multiplying
    the product on the right."""
    return list(accumulate(reversed(jacobians), lambda product, J: product @ J))
