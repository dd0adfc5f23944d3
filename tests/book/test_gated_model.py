"""The gated-cells book module (``chapters/gated_model.py``): the GRU step against its equations
computed one scalar at a time, its backward step and the sequence backward of every cell
against central differences, and the initialisation against the parameter counts."""

from __future__ import annotations

import math

import gated_model as gm  # noqa: E402
import numpy as np
import pytest

from rnnbook.gradcheck import central_difference, relative_error

N, D, H = 3, 2, 4  # distinct sizes, so that a transposed product cannot pass


def gru_arguments(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "x": rng.normal(size=(N, D)),
        "h_prev": np.tanh(rng.normal(size=(N, H))),
        "Wx": rng.normal(size=(D, 3 * H)),
        "Wh": rng.normal(size=(H, 3 * H)) / 2,
        "bx": rng.normal(size=3 * H),
        "bh": rng.normal(size=3 * H),
    }


def logistic(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_sigmoid_is_the_logistic_function_and_does_not_overflow():
    z = np.linspace(-30, 30, 61)
    expected = np.array([logistic(v) for v in z])
    assert relative_error(gm.sigmoid(z), expected) < 1e-14
    with np.errstate(all="raise"):
        assert gm.sigmoid(np.array([-1e4, 1e4])).tolist() == [0.0, 1.0]


def test_gru_step_forward_against_the_equations_one_scalar_at_a_time():
    a = gru_arguments(np.random.default_rng(0))
    h_next, _ = gm.gru_step_forward(**a)
    for n in range(N):
        for j in range(H):
            x_part, h_part = [], []
            for k in range(3):  # blocks r, z, n
                column = k * H + j
                x_part.append(sum(a["x"][n, d] * a["Wx"][d, column] for d in range(D)))
                x_part[-1] += a["bx"][column]
                h_part.append(sum(a["h_prev"][n, i] * a["Wh"][i, column] for i in range(H)))
                h_part[-1] += a["bh"][column]
            r = logistic(x_part[0] + h_part[0])
            z = logistic(x_part[1] + h_part[1])
            new = math.tanh(x_part[2] + r * h_part[2])  # PyTorch: reset after the product
            expected = (1 - z) * new + z * a["h_prev"][n, j]
            assert abs(h_next[n, j] - expected) < 1e-13


def test_gru_step_backward_against_central_differences():
    rng = np.random.default_rng(1)
    a = gru_arguments(rng)
    upstream = rng.normal(size=(N, H))
    _, cache = gm.gru_step_forward(**a)
    analytic = gm.gru_step_backward(upstream, cache)
    assert set(analytic) == set(a)
    for name, value in a.items():
        numeric = central_difference(
            lambda v, name=name: np.sum(upstream * gm.gru_step_forward(**{**a, name: v})[0]),
            value,
        )
        assert analytic[name].shape == value.shape, name
        assert relative_error(analytic[name], numeric) < 1e-7, name


@pytest.mark.parametrize("kind", ["vanilla", "lstm", "gru"])
def test_sequence_backward_against_central_differences(kind):
    """A loss on the last state, sum(u * h_T), over T = 4 steps of a tiny model."""
    rng = np.random.default_rng(2)
    T = 4
    p = gm.init_params(kind, rng, D, H, gate_bias=1.0)
    x = rng.normal(size=(N, T, D))
    u = rng.normal(size=(N, H))
    _, caches = gm.forward(kind, p, x)
    grads, dx = gm.backward(kind, caches, u, x.shape)
    assert set(grads) == set(p)

    def loss(params: dict[str, np.ndarray], inputs: np.ndarray) -> float:
        return float(np.sum(u * gm.forward(kind, params, inputs)[0]))

    for name, value in p.items():
        numeric = central_difference(lambda v, name=name: loss({**p, name: v}, x), value)
        assert relative_error(grads[name], numeric) < 1e-7, name
    assert relative_error(dx, central_difference(lambda v: loss(p, v), x)) < 1e-7


def test_forward_runs_the_loaded_lstm_step_from_zero_states():
    rng = np.random.default_rng(3)
    p = gm.init_params("lstm", rng, D, H)
    x = rng.normal(size=(N, 5, D))
    h, c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(5):
        h, c, _ = gm.cells.lstm_step_forward(x[:, t], h, c, p["Wx"], p["Wh"], p["b"])
    h_last, caches = gm.forward("lstm", p, x)
    assert len(caches) == 5
    np.testing.assert_array_equal(h_last, h)


@pytest.mark.parametrize(("D_c", "H_c"), [(3, 5), (10, 20), (100, 256)])
def test_init_params_counts_ranges_and_gate_bias(D_c, H_c):
    rng = np.random.default_rng(4)
    counted = {
        kind: sum(v.size for v in gm.init_params(kind, rng, D_c, H_c).values())
        for kind in gm.BLOCKS
    }
    assert counted == {
        "vanilla": H_c * (D_c + H_c + 1),
        "lstm": 4 * H_c * (D_c + H_c + 1),
        "gru": 3 * H_c * (D_c + H_c + 2),  # PyTorch's two biases
    }
    bound = 1 / math.sqrt(H_c)
    for kind in gm.BLOCKS:
        for value in gm.init_params(kind, rng, D_c, H_c).values():
            assert np.all(np.abs(value) <= bound)
    lstm = gm.init_params("lstm", rng, D_c, H_c, gate_bias=3.0)
    assert np.all(lstm["b"][H_c : 2 * H_c] == 3.0)  # the forget block, second of i, f, g, o
    assert np.all(np.abs(np.delete(lstm["b"], np.s_[H_c : 2 * H_c])) <= bound)
    gru = gm.init_params("gru", rng, D_c, H_c, gate_bias=3.0)
    assert np.all(gru["bx"][H_c : 2 * H_c] == 3.0)  # the update block, second of r, z, n
    assert np.all(gru["bh"][H_c : 2 * H_c] == 0.0)
