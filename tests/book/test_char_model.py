"""The character language model book module (``chapters/char_model.py``): its forward pass
against a step-by-step loop, its loss against a per-prediction sum, its gradients against
central differences on a tiny model, and its training loop against the windows it reads."""

from __future__ import annotations

import math

import char_model as cm  # noqa: E402
import numpy as np
import pytest

from rnnbook.gradcheck import central_difference, relative_error
from rnnbook.text import stream_windows

V, H = 5, 4


def tiny_params(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = {"Wx": (V, H), "Wh": (H, H), "b": (H,), "Wo": (H, V), "bo": (V,)}
    return {name: 0.7 * rng.normal(size=shape) for name, shape in shapes.items()}


def test_one_hot_rows():
    rows = cm.one_hot(np.array([[2, 0], [4, 2]]), V)
    assert rows.shape == (2, 2, V)
    for index, row in zip([2, 0, 4, 2], rows.reshape(-1, V), strict=True):
        assert row.tolist() == [1.0 if k == index else 0.0 for k in range(V)]


def test_forward_against_a_loop_over_characters():
    params = tiny_params()
    rng = np.random.default_rng(1)
    inputs = rng.integers(0, V, size=(2, 3))
    h0 = rng.normal(size=(2, H))
    logits, states, _ = cm.forward(params, inputs, h0)
    for n in range(2):
        h = h0[n]
        for t in range(3):  # the row of Wx of the character read is its one-hot product
            h = np.tanh(params["Wx"][inputs[n, t]] + h @ params["Wh"] + params["b"])
            np.testing.assert_allclose(states[n, t], h, rtol=1e-12)
            expected = h @ params["Wo"] + params["bo"]
            np.testing.assert_allclose(logits[n, t], expected, rtol=1e-12)


def test_cross_entropy_against_a_per_prediction_sum_and_central_differences():
    rng = np.random.default_rng(2)
    logits = 3 * rng.normal(size=(2, 3, V))
    targets = rng.integers(0, V, size=(2, 3))
    loss, dlogits = cm.cross_entropy(logits, targets)
    terms = [
        -math.log(math.exp(z[c]) / sum(math.exp(v) for v in z))
        for z, c in zip(logits.reshape(-1, V), targets.ravel(), strict=True)
    ]
    assert loss == pytest.approx(sum(terms) / len(terms), rel=1e-12)
    estimate = central_difference(lambda z: cm.cross_entropy(z, targets)[0], logits, h=1e-6)
    assert relative_error(dlogits, estimate) < 1e-8


def test_the_gradients_of_all_five_parameters_against_central_differences():
    params = tiny_params(3)
    rng = np.random.default_rng(4)
    inputs, targets = rng.integers(0, V, size=(2, 5)), rng.integers(0, V, size=(2, 5))
    h0 = rng.normal(size=(2, H))

    def loss(p):
        return cm.cross_entropy(cm.forward(p, inputs, h0)[0], targets)[0]

    logits, _, caches = cm.forward(params, inputs, h0)
    grads = cm.backward(cm.cross_entropy(logits, targets)[1], caches)
    assert set(grads) == set(params)
    for name, value in params.items():
        estimate = central_difference(lambda v, name=name: loss({**params, name: v}), value)
        assert relative_error(grads[name], estimate) < 1e-7, name


def test_entropy_bits_by_hand():
    assert cm.entropy_bits(np.array([3, 3, 3, 3])) == pytest.approx(2.0)
    hello = 3 / 5 * math.log2(5) + 2 / 5 * math.log2(5 / 2)  # h, e, o once; l twice
    assert cm.entropy_bits(np.array([1, 1, 2, 0, 1])) == pytest.approx(hello, rel=1e-12)
    assert cm.entropy_bits(np.array([0, 7, 0])) == 0.0


def test_bits_per_character_reads_the_text_one_character_at_a_time():
    params = tiny_params(5)
    text = np.random.default_rng(6).integers(0, V, size=12)
    bits, state = [], np.zeros((1, H))
    for t in range(len(text) - 1):
        logits, states, _ = cm.forward(params, text[None, t : t + 1], state)
        state = states[:, -1]
        z = logits[0, 0]
        bits.append(-math.log2(math.exp(z[text[t + 1]]) / sum(math.exp(v) for v in z)))
    assert cm.bits_per_character(params, text) == pytest.approx(np.mean(bits), rel=1e-12)


def test_a_run_is_the_same_whether_trained_in_one_call_or_several():
    text = np.random.default_rng(7).integers(0, V, size=300)
    held = np.random.default_rng(8).integers(0, V, size=40)
    whole = cm.start(0, text, V, H, held, streams=3, window=8)
    cm.train(whole, 30, eval_every=10)
    parts = cm.start(0, text, V, H, held, streams=3, window=8)
    for steps in (7, 13, 10):
        cm.train(parts, steps, eval_every=10)
    for name in whole["params"]:
        np.testing.assert_array_equal(whole["params"][name], parts["params"][name])
    assert whole["history"]["eval_step"] == [0, 10, 20, 30] == parts["history"]["eval_step"]
    assert whole["history"]["held"] == parts["history"]["held"]
    starts = [j for j, w in zip(range(30), stream_windows(text, 3, 8), strict=False) if w[2]]
    assert whole["history"]["resets"] == starts == [0, 12, 24]  # streams of 100: 12 a pass
    other = cm.start(1, text, V, H)
    assert not np.array_equal(other["params"]["Wx"], whole["params"]["Wx"])
    assert other["history"]["held"] == []  # no held-out text, no evaluation


class Recorder:
    """Adam as the run has it, recording the global norm of every gradient it is given."""

    def __init__(self, adam):
        self.adam, self.norms = adam, []

    def step(self, grads):
        self.norms.append(math.sqrt(sum(np.sum(g * g) for g in grads.values())))
        self.adam.step(grads)


def test_training_clips_the_gradient_and_learns_a_repeated_word():
    word = np.tile(np.array([1, 0, 2, 2, 3]), 40)  # "hello" over and over
    run = cm.start(0, word, V, 8, word[:50], streams=2, window=10, lr=0.02)
    run["adam"] = Recorder(run["adam"])
    cm.train(run, 200, max_norm=0.2, eval_every=50)
    history, given = run["history"], np.array(run["adam"].norms)
    assert np.mean(np.array(history["norm"]) > 0.2) > 0.1  # recorded before clipping
    np.testing.assert_allclose(given, np.minimum(history["norm"], 0.2), rtol=1e-9)
    assert history["held"][-1] < 0.3 < np.log2(V) - 0.1 < history["held"][0]
