"""The character-level RNN language model of the chapter A character-level language model.

Introduced in ``chapters/char_language_model.md``, which shows and explains each function;
its Going further pages (the "hello" toy and sampling, and the amount of training text) use
the same model. Characters enter as one-hot rows, the vanilla RNN and the output layer give
the logits, and the loss is the mean softmax cross-entropy. Training is truncated
backpropagation through time over parallel streams (``rnnbook.text.stream_windows``), the
gradient clipped by its global norm and the step taken by Adam.

This is a book module, not part of ``rnnbook``: the recurrence, the output layer, the softmax
and the clipping are the instructor's graded functions, loaded by ``chapters/instructor.py``
and never shown; this file holds only the model around them.
"""

from __future__ import annotations

import numpy as np
from instructor import load

from rnnbook.memory import keep_freed_memory
from rnnbook.optim import Adam
from rnnbook.text import stream_windows

bptt = load("bptt")
keep_freed_memory()  # every training step allocates arrays of the same sizes again
attention = load("attention")


def one_hot(indices, V):
    """One-hot rows for an integer array of any shape: shape (..., V)."""
    return np.eye(V)[indices]


def forward(params, inputs, h0):
    """Logits (N, T, V) and states (N, T, H) for integer inputs (N, T), from h0."""
    x = one_hot(inputs, params["Wx"].shape[0])
    states, rnn_cache = bptt.rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
    logits, out_cache = bptt.temporal_affine_forward(states, params["Wo"], params["bo"])
    return logits, states, (rnn_cache, out_cache)


def cross_entropy(logits, targets):
    """Mean cross-entropy of all predictions, in nats, and its gradient (logits)."""
    probs = attention.softmax(logits)
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)
    dlogits = (probs - one_hot(targets, logits.shape[-1])) / targets.size
    return -np.mean(np.log(picked)), dlogits


def backward(dlogits, caches):
    """Gradients of the five parameters; that of h0 is not used (see truncation)."""
    rnn_cache, out_cache = caches
    dstates, dWo, dbo = bptt.temporal_affine_backward(dlogits, out_cache)
    _, _, dWx, dWh, db = bptt.rnn_backward(dstates, rnn_cache)
    return {"Wx": dWx, "Wh": dWh, "b": db, "Wo": dWo, "bo": dbo}


def entropy_bits(counts):
    """Entropy in bits of the frequencies given by counts."""
    q = counts[counts > 0] / counts.sum()
    return float(-np.sum(q * np.log2(q)))


def bits_per_character(params, eval_ids):
    """Held-out cross-entropy in bits: the text read in one pass from a zero state."""
    H = params["Wh"].shape[0]
    logits, _, _ = forward(params, eval_ids[None, :-1], np.zeros((1, H)))
    return cross_entropy(logits, eval_ids[None, 1:])[0] / np.log(2)


def initial_weights(seed, V, H):
    """Wx (V, H), Wh (H, H), b, Wo (H, V), bo drawn from the seed (also the regularisation
    chapter's model)."""
    init = np.random.default_rng(seed)
    return {
        "Wx": 0.1 * init.normal(size=(V, H)),
        "Wh": 0.5 * init.normal(size=(H, H)) / np.sqrt(H),
        "b": np.zeros(H),
        "Wo": 0.1 * init.normal(size=(H, V)) / np.sqrt(H),
        "bo": np.zeros(V),
    }


def start(seed, train_ids, V, H=64, held_ids=None, streams=32, window=32, lr=5e-3):
    """A run from the seed's initial weights: weights, optimiser, windows, history.

    Wo is small and bo = 0, so that the first predictions are nearly uniform (the states
    lie in [-1, 1] whatever Wx is). With held_ids, the history starts with the held-out
    bpc of the initial weights.
    """
    params = initial_weights(seed, V, H)
    history = {"train": [], "norm": [], "resets": [], "eval_step": [], "held": []}
    run = {
        "params": params,
        "adam": Adam(params, lr=lr),
        "step": 0,
        "history": history,
        "windows": stream_windows(train_ids, streams, window),
        "held_ids": held_ids,
    }
    if held_ids is not None:
        history["eval_step"].append(0)
        history["held"].append(bits_per_character(params, held_ids))
    return run


def train(run, steps, max_norm=0.25, eval_every=100):
    """Continue the run for `steps` steps; held-out bpc every `eval_every` steps."""
    params, history = run["params"], run["history"]
    for _ in range(steps):
        inputs, targets, starts_over = next(run["windows"])
        if starts_over:
            run["state"] = np.zeros((inputs.shape[0], params["Wh"].shape[0]))
            history["resets"].append(run["step"])
        logits, states, caches = forward(params, inputs, run["state"])
        loss, dlogits = cross_entropy(logits, targets)
        clipped, norm = bptt.clip_by_global_norm(backward(dlogits, caches), max_norm)
        history["train"].append(loss / np.log(2))
        history["norm"].append(norm)
        run["adam"].step(clipped)
        run["state"] = states[:, -1]  # carried to the next window; the gradient is not
        run["step"] += 1
        if run["held_ids"] is not None and run["step"] % eval_every == 0:
            history["eval_step"].append(run["step"])
            history["held"].append(bits_per_character(params, run["held_ids"]))
