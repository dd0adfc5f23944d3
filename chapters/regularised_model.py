"""The character model of the chapter Regularisation and training practice, with its options.

Introduced in ``chapters/regularisation.md``, which shows and explains it. It is the model of
``char_model.py`` (chapter *A character-level language model*: one-hot characters, a vanilla
RNN, an output layer, the mean softmax cross-entropy) with three options:

- dropout on the states fed to the output layer, a fresh mask at every step;
- dropout on the recurrent connection, the state ``h_{t-1}`` multiplied by a mask before it
  enters step ``t``: one mask per sequence for all steps (variational dropout), or a fresh mask
  at every step;
- an output matrix tied to the input one, ``Wo = Wx.T`` (``Wx`` is the embedding of size ``H``).

Masks are inverted-dropout masks, entries ``0`` or ``1 / keep``, drawn by the caller. Training is
truncated backpropagation through time over parallel streams, as in ``char_model.py``, with Adam
and optional clipping by global norm; the held-out curve is kept with a copy of the weights at
every evaluation, so that early stopping can go back to them.

This is a book module, not part of ``rnnbook``: the recurrence, the output layer and the
clipping are the instructor's graded functions, loaded by ``chapters/instructor.py`` and never
shown; this file holds only the model around them.
"""

from __future__ import annotations

import char_model
import numpy as np
from char_model import cross_entropy, one_hot
from instructor import load

from rnnbook.optim import Adam
from rnnbook.text import stream_windows

bptt = load("bptt")


def dropout_mask(rng, shape, keep):
    """An inverted-dropout mask: 1 / keep with probability keep, else 0 (mean 1)."""
    return (rng.random(shape) < keep) / keep


def initial_weights(seed, V, H, tied=False):
    """The initial weights of char_model.start; a tied model has no Wo of its own."""
    params = char_model.initial_weights(seed, V, H)
    if tied:
        del params["Wo"]
    return params


def output_weights(params):
    """Wo, or the transposed embedding Wx.T of a tied model."""
    return params["Wo"] if "Wo" in params else params["Wx"].T


def forward(params, inputs, h0, out_mask=None, rec_mask=None):
    """Logits (N, T, V) and undropped states (N, T, H) for integer inputs (N, T), from h0.

    out_mask (N, T, H) multiplies the states the output layer sees. rec_mask multiplies the
    state entering every step: shape (N, H) for one mask at all steps, (T, N, H) for one per
    step. Without masks this is char_model.forward.
    """
    x = one_hot(inputs, params["Wx"].shape[0])
    weights = params["Wx"], params["Wh"], params["b"]
    if rec_mask is None:
        states, rnn_cache = bptt.rnn_forward(x, h0, *weights)
        rnn_caches = [rnn_cache]
    else:  # one step at a time: the state is masked on its way into every step
        masks = np.broadcast_to(rec_mask, (x.shape[1], *h0.shape))
        rnn_caches, states = [], np.empty((*h0.shape[:1], x.shape[1], h0.shape[1]))
        carried = h0
        for t, mask in enumerate(masks):
            h_step, rnn_cache = bptt.rnn_forward(x[:, t : t + 1], carried * mask, *weights)
            rnn_caches.append(rnn_cache)
            carried = states[:, t] = h_step[:, 0]
    seen = states if out_mask is None else states * out_mask
    logits, out_cache = bptt.temporal_affine_forward(seen, output_weights(params), params["bo"])
    return logits, states, (rnn_caches, rec_mask, out_mask, out_cache)


def backward(dlogits, params, caches):
    """Gradients of the parameters (those of params, tied or not) from dlogits."""
    rnn_caches, rec_mask, out_mask, out_cache = caches
    dseen, dWo, dbo = bptt.temporal_affine_backward(dlogits, out_cache)
    dstates = dseen if out_mask is None else dseen * out_mask
    if rec_mask is None:
        dWx, dWh, db = bptt.rnn_backward(dstates, rnn_caches[0])[2:]
    else:  # back through the steps; the gradient into a step's h0 passes back through its mask
        masks = np.broadcast_to(rec_mask, (dstates.shape[1], *dstates[:, 0].shape))
        total = [0.0, 0.0, 0.0]
        into_next = np.zeros_like(dstates[:, :1])
        for t in reversed(range(dstates.shape[1])):
            _, dmasked, *step_grads = bptt.rnn_backward(
                dstates[:, t : t + 1] + into_next, rnn_caches[t]
            )
            total = [acc + g for acc, g in zip(total, step_grads, strict=True)]
            into_next = (dmasked * masks[t])[:, None]
        dWx, dWh, db = total
    grads = {"Wx": dWx, "Wh": dWh, "b": db, "bo": dbo}
    if "Wo" in params:
        grads["Wo"] = dWo
    else:  # Wx is used twice, at the input and (transposed) at the output
        grads["Wx"] = dWx + dWo.T
    return grads


def bits_per_character(params, ids, pieces=8, out_mask=None):
    """Cross-entropy in bits of ids, cut into equal pieces read in parallel from zero states.

    Without out_mask (the evaluation of a model), no dropout; out_mask, of shape
    (pieces, (len(ids) - 1) // pieces, H), multiplies the states fed to the output layer.
    """
    length = (len(ids) - 1) // pieces
    rows = np.arange(pieces)[:, None] * length + np.arange(length)
    h0 = np.zeros((pieces, params["Wh"].shape[0]))
    logits, _, _ = forward(params, ids[rows], h0, out_mask)
    return cross_entropy(logits, ids[rows + 1])[0] / np.log(2)


def train_run(
    seed,
    train_ids,
    valid_ids,
    V,
    H,
    steps,
    *,
    keep_out=1.0,
    keep_rec=1.0,
    fresh=False,
    tied=False,
    max_norm=np.inf,
    lr=1e-2,
    streams=16,
    window=32,
    eval_every=25,
):
    """Train one model from the seed's weights; return its history.

    keep_out < 1: dropout on the states fed to the output layer; keep_rec < 1: dropout on the
    recurrent connection, one mask per window (the same at every step) or, with fresh=True, a
    fresh mask at every step. The history holds the training loss (bits) and the global
    gradient norm (before clipping) of every step, and at every eval_every steps the
    validation loss (bits) and a copy of the weights.
    """
    params = initial_weights(seed, V, H, tied)
    adam = Adam(params, lr=lr)
    masks = np.random.default_rng([seed, 1])  # dropout masks: their own stream of the seed
    windows = stream_windows(train_ids, streams, window)
    history = {"train": [], "norm": [], "eval_step": [0], "valid": [], "weights": []}

    def evaluate():
        history["valid"].append(bits_per_character(params, valid_ids))
        history["weights"].append({name: w.copy() for name, w in params.items()})

    evaluate()
    state = np.zeros((streams, H))
    for step in range(1, steps + 1):
        inputs, targets, starts_over = next(windows)
        if starts_over:
            state = np.zeros((streams, H))
        out_mask = rec_mask = None
        if keep_out < 1:
            out_mask = dropout_mask(masks, (streams, window, H), keep_out)
        if keep_rec < 1:
            rec_mask = dropout_mask(masks, (window,) * fresh + (streams, H), keep_rec)
        logits, states, caches = forward(params, inputs, state, out_mask, rec_mask)
        loss, dlogits = cross_entropy(logits, targets)
        clipped, norm = bptt.clip_by_global_norm(backward(dlogits, params, caches), max_norm)
        adam.step(clipped)
        history["train"].append(loss / np.log(2))
        history["norm"].append(norm)
        state = states[:, -1]
        if step % eval_every == 0:
            history["eval_step"].append(step)
            evaluate()
    return history
