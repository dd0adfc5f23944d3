"""rnnbook.optim.Adam against the textbook formulas worked by hand, and on quadratics."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from rnnbook.optim import Adam


def quadratic_grad(theta: np.ndarray) -> np.ndarray:
    """Gradient of f(theta) = (theta - 3)^2 / 2, whose minimum is at 3."""
    return theta - 3.0


def test_two_steps_on_a_one_dimensional_quadratic_match_the_hand_computation():
    # lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, theta_0 = 0, f = (theta - 3)^2 / 2.
    # Step 1: g = -3, m = -0.3, v = 0.009, m_hat = -3, v_hat = 9,
    #         theta_1 = 0 + 0.1 * 3 / (3 + 1e-8) = 0.1 - 3.3e-10 (a first step is lr * sign(g)).
    # Step 2: g = theta_1 - 3 = -2.9, m = 0.9 * -0.3 + 0.1 * -2.9 = -0.56,
    #         v = 0.999 * 0.009 + 0.001 * 2.9^2 = 0.017401,
    #         m_hat = -0.56 / (1 - 0.81) = -2.947368, v_hat = 0.017401 / (1 - 0.998001) = 8.704852,
    #         theta_2 = theta_1 + 0.1 * 2.947368 / sqrt(8.704852) = 0.1 + 0.0998973 = 0.1998973.
    theta = np.zeros(1)
    adam = Adam({"theta": theta}, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    adam.step({"theta": quadratic_grad(theta)})
    assert abs(theta[0] - (0.1 - 3.3333e-10)) < 1e-13
    assert abs(adam.m["theta"][0] + 0.3) < 1e-15 and abs(adam.v["theta"][0] - 0.009) < 1e-15
    adam.step({"theta": quadratic_grad(theta)})
    assert abs(adam.m["theta"][0] + 0.56) < 1e-9
    assert abs(adam.v["theta"][0] - 0.017401) < 1e-9
    assert abs(theta[0] - 0.1998973) < 1e-6
    assert adam.t == 2


def scalar_adam(grad, theta, steps, lr, beta1, beta2, eps):
    """The textbook update on one float, in plain Python: the reference for arrays."""
    m = v = 0.0
    for t in range(1, steps + 1):
        g = grad(theta)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        theta -= lr * (m / (1 - beta1**t)) / (math.sqrt(v / (1 - beta2**t)) + eps)
    return theta


def test_every_entry_follows_the_scalar_reference():
    rng = np.random.default_rng(0)
    scales = {"W": rng.uniform(0.1, 10, size=(3, 4)), "b": rng.uniform(0.1, 10, size=5)}
    params = {name: rng.normal(size=s.shape) for name, s in scales.items()}
    start = {name: value.copy() for name, value in params.items()}
    settings = dict(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-3)
    adam = Adam(params, **settings)
    for _ in range(25):
        adam.step({name: scales[name] * params[name] for name in params})
    for name, value in params.items():
        for index in np.ndindex(value.shape):
            expected = scalar_adam(
                lambda th, s=scales[name][index]: s * th, start[name][index], 25, **settings
            )
            assert abs(value[index] - expected) < 1e-12


def test_adam_converges_on_an_ill_conditioned_quadratic():
    rng = np.random.default_rng(1)
    curvature = np.array([100.0, 1.0, 0.01])  # condition number 10^4
    target = rng.normal(size=3)
    theta = np.zeros(3)
    adam = Adam({"theta": theta}, lr=0.05)
    for _ in range(3000):
        adam.step({"theta": curvature * (theta - target)})
    assert np.max(np.abs(theta - target)) < 1e-2


def test_parameters_are_updated_in_place_and_gradients_are_left_alone():
    W = np.ones((2, 3))
    g = np.full((2, 3), 0.5)
    adam = Adam({"W": W}, lr=0.01)
    adam.step({"W": g})
    assert adam.params["W"] is W
    assert np.allclose(W, 1 - 0.01) and np.all(g == 0.5)


def test_a_step_allocates_no_array_of_the_parameters_size():
    params = {"W": np.zeros(1_000_000)}  # 8 MB
    adam = Adam(params)
    grads = {"W": np.ones(1_000_000)}
    adam.step(grads)  # warm-up
    tracemalloc.start()
    adam.step(grads)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100_000


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"lr": -0.1}, "lr"),
        ({"lr": 0}, "lr"),
        ({"beta1": 1.0}, "beta1"),
        ({"beta2": -0.1}, "beta2"),
        ({"eps": 0.0}, "eps"),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Adam({"W": np.zeros(2)}, **kwargs)


def test_bad_parameters_and_gradients_are_refused_by_name():
    with pytest.raises(ValueError, match="params"):
        Adam({})
    with pytest.raises(ValueError, match=r"params\['W'\]"):
        Adam({"W": np.zeros(2, dtype=np.int64)})
    with pytest.raises(ValueError, match=r"params\['W'\]"):
        Adam({"W": [0.0, 1.0]})
    adam = Adam({"W": np.zeros(2), "b": np.zeros(1)})
    with pytest.raises(ValueError, match="grads must have the keys"):
        adam.step({"W": np.zeros(2)})
    with pytest.raises(ValueError, match=r"grads\['W'\]"):
        adam.step({"W": np.zeros(3), "b": np.zeros(1)})
    with pytest.raises(ValueError, match=r"grads\['b'\]"):
        adam.step({"W": np.zeros(2), "b": np.zeros(1, dtype=np.float32)})
    assert adam.t == 0
