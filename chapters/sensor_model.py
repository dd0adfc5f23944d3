"""The many-to-one RNN and the logistic baselines of the chapter on sensor sequences.

Introduced in ``chapters/sensor_sequences.md``, which shows and explains each function;
its Going further page on the amount of training data (``sensor_data_size.md``) trains
the same models. The vanilla RNN reads a normalised window of sensor readings, its last
state gives one logit, and the loss is the mean cross-entropy of the labels; training is
Adam on balanced batches with the gradient clipped by its global norm. The baselines are
class-weighted logistic regressions fitted by Adam until the gradient's norm is small.

This is a book module, not part of ``rnnbook``: the recurrence and the clipping are the
instructor's graded functions, loaded by ``chapters/instructor.py`` and never shown;
this file holds only the model around them.
"""

from __future__ import annotations

import numpy as np
from instructor import load

from rnnbook.memory import keep_freed_memory
from rnnbook.optim import Adam

bptt = load("bptt")
keep_freed_memory()  # every training step allocates arrays of the same sizes again


def sigmoid(z):
    """The logistic function, through tanh so that no exponential overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def init_params(rng, D=3, H=16):
    """Weights Gaussian over sqrt(fan-in), Wh times 0.9; zero biases; one output."""
    return {
        "Wx": rng.normal(size=(D, H)) / np.sqrt(D),
        "Wh": 0.9 * rng.normal(size=(H, H)) / np.sqrt(H),
        "b": np.zeros(H),
        "Wo": rng.normal(size=(H, 1)) / np.sqrt(H),
        "bo": np.zeros(1),
    }


def logits(params, x):
    """z (N,) for windows x (N, T, D), and what the backward pass needs."""
    h0 = np.zeros((len(x), params["Wh"].shape[0]))
    states, cache = bptt.rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
    return (states[:, -1] @ params["Wo"] + params["bo"])[:, 0], (states, cache)


def loss_and_gradients(params, x, y):
    """The cross-entropy (eq-sensors-loss) and its gradient for every parameter."""
    z, (states, cache) = logits(params, x)
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    dz = ((sigmoid(z) - y) / len(y))[:, None]  # (N, 1), eq-sensors-dz
    upstream = np.zeros_like(states)
    upstream[:, -1] = dz @ params["Wo"].T  # the only output is read from h_T
    _, _, dWx, dWh, db = bptt.rnn_backward(upstream, cache)
    dWo, dbo = states[:, -1].T @ dz, dz.sum(axis=0)
    return loss, {"Wx": dWx, "Wh": dWh, "b": db, "Wo": dWo, "bo": dbo}


def train(x, y, seed, H=16, steps=1500, batch=128, lr=0.01, lr_end=0.001, max_norm=1.0):
    """Adam on balanced batches, gradients clipped by global norm; returns the
    parameters, the loss of every step and the share of the steps that were clipped."""
    rng = np.random.default_rng(seed)
    params = init_params(rng, D=x.shape[2], H=H)
    optimiser = Adam(params, lr=lr)
    positives, negatives = np.flatnonzero(y), np.flatnonzero(~y)
    losses, clipped_steps = [], 0
    for step in range(steps):
        optimiser.lr = lr * (lr_end / lr) ** (step / (steps - 1))  # lr down to lr_end
        rows = np.concatenate(
            [rng.choice(positives, batch // 2), rng.choice(negatives, batch // 2)]
        )
        loss, grads = loss_and_gradients(params, x[rows], y[rows].astype(float))
        clipped, norm = bptt.clip_by_global_norm(grads, max_norm)
        optimiser.step(clipped)
        losses.append(loss)
        clipped_steps += norm > max_norm
    return params, np.array(losses), clipped_steps / steps


def fit_logistic(features, y, lr=0.02, tolerance=1e-4, max_steps=20_000):
    """Class-weighted logistic regression by Adam, run until the gradient's norm is
    below `tolerance`; returns a function giving test logits."""
    centre, scale = features.mean(axis=0), features.std(axis=0)
    standard = (features - centre) / scale
    weights = np.where(y, 0.5 / y.sum(), 0.5 / (~y).sum())  # each class weighs one half
    params = {"w": np.zeros(features.shape[1]), "c": np.zeros(1)}
    optimiser = Adam(params, lr=lr)
    for _ in range(max_steps):
        residual = weights * (sigmoid(standard @ params["w"] + params["c"]) - y)
        grads = {"w": standard.T @ residual, "c": np.array([residual.sum()])}
        norm = np.sqrt(np.sum(grads["w"] ** 2) + grads["c"][0] ** 2)
        if norm < tolerance:
            break
        optimiser.step(grads)
    assert norm < tolerance, f"no convergence in {max_steps} steps: gradient {norm:.1e}"
    return lambda test: ((test - centre) / scale) @ params["w"] + params["c"][0]
