"""The three cells of the chapter Gated cells, run over a sequence and back.

The chapter *Gated cells: LSTM and GRU* introduces this module, and its Going further page
*Inside the LSTM and the GRU* uses it too. It holds the GRU step (not graded, so the chapter
shows its source), PyTorch's default initialisation of the vanilla cell, the LSTM and the GRU,
and ``forward`` and ``backward``, which run any of them over a sequence from zero states and
back from a gradient on the last state.

This is a book module, not part of ``rnnbook``: the vanilla recurrence and the LSTM step are
the instructor's graded functions, loaded by ``chapters/instructor.py`` and never shown;
this file holds only the code around them.
"""

from __future__ import annotations

import numpy as np
from instructor import load

from rnnbook.memory import keep_freed_memory

cells = load("cells")  # lstm_step_forward, lstm_step_backward
bptt = load("bptt")  # rnn_forward, rnn_backward
keep_freed_memory()  # every training step allocates arrays of the same sizes again

BLOCKS = {"vanilla": 1, "lstm": 4, "gru": 3}  # gate sets per cell


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-z)), written with tanh to avoid overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def gru_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    bx: np.ndarray,
    bh: np.ndarray,
) -> tuple[np.ndarray, tuple]:
    """One GRU step, blocks in PyTorch's order r, z, n; returns h_next and a cache."""
    H = h_prev.shape[1]
    from_x = x @ Wx + bx  # A_x (N, 3H)
    from_h = h_prev @ Wh + bh  # A_h (N, 3H)
    rz = sigmoid(from_x[:, : 2 * H] + from_h[:, : 2 * H])
    r, z = rz[:, :H], rz[:, H:]
    n = np.tanh(from_x[:, 2 * H :] + r * from_h[:, 2 * H :])
    h_next = n + z * (h_prev - n)  # (1 - z) n + z h_prev
    return h_next, (x, h_prev, Wx, Wh, r, z, n, from_h[:, 2 * H :])


def gru_step_backward(dh_next: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    """Gradients of one GRU step, named like the arguments of gru_step_forward."""
    x, h_prev, Wx, Wh, r, z, n, from_h_n = cache
    H = h_prev.shape[1]
    d_from_x = np.empty((x.shape[0], 3 * H))  # dA_x, blocks r, z, n
    d_from_x[:, 2 * H :] = dh_next * (1 - z) * (1 - n * n)
    d_from_x[:, H : 2 * H] = dh_next * (h_prev - n) * z * (1 - z)
    d_from_x[:, :H] = d_from_x[:, 2 * H :] * from_h_n * r * (1 - r)
    d_from_h = d_from_x.copy()  # dA_h: the same, but the n block passes through r first
    d_from_h[:, 2 * H :] *= r
    return {
        "x": d_from_x @ Wx.T,
        "h_prev": dh_next * z + d_from_h @ Wh.T,
        "Wx": x.T @ d_from_x,
        "bx": d_from_x.sum(axis=0),
        "Wh": h_prev.T @ d_from_h,
        "bh": d_from_h.sum(axis=0),
    }


def init_params(
    kind: str, rng: np.random.Generator, D: int, H: int, gate_bias: float | None = None
) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation, uniform in (-1/sqrt(H), 1/sqrt(H)); gate_bias,
    if given, is the bias of the LSTM's forget gate (block 2 of b) or of the GRU's
    update gate (block 2 of bx, with bh's block set to 0)."""
    k, width = 1 / np.sqrt(H), BLOCKS[kind] * H
    p = {"Wx": rng.uniform(-k, k, (D, width)), "Wh": rng.uniform(-k, k, (H, width))}
    if kind == "gru":
        p["bx"], p["bh"] = rng.uniform(-k, k, width), rng.uniform(-k, k, width)
        if gate_bias is not None:
            p["bx"][H : 2 * H], p["bh"][H : 2 * H] = gate_bias, 0.0
    else:
        p["b"] = rng.uniform(-k, k, width)
        if kind == "lstm" and gate_bias is not None:
            p["b"][H : 2 * H] = gate_bias
    return p


def forward(
    kind: str,
    p: dict[str, np.ndarray],
    x: np.ndarray,
) -> tuple[np.ndarray, object]:
    """The last state h_T over x (N, T, D) from zero states, and the caches."""
    N, H = x.shape[0], p["Wh"].shape[0]
    if kind == "vanilla":
        states, cache = bptt.rnn_forward(x, np.zeros((N, H)), p["Wx"], p["Wh"], p["b"])
        return states[:, -1], cache
    h, c, caches = np.zeros((N, H)), np.zeros((N, H)), []
    for x_t in x.transpose(1, 0, 2):  # x_1 ... x_T, each (N, D)
        if kind == "lstm":
            h, c, cache = cells.lstm_step_forward(x_t, h, c, p["Wx"], p["Wh"], p["b"])
        else:
            h, cache = gru_step_forward(x_t, h, p["Wx"], p["Wh"], p["bx"], p["bh"])
        caches.append(cache)
    return h, caches


def backward(
    kind: str,
    caches: object,
    dh_last: np.ndarray,
    x_shape: tuple[int, int, int],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Gradients of the parameters and of every input x_t, given dL/dh_T alone."""
    N, T, _ = x_shape
    if kind == "vanilla":
        dh = np.zeros((N, T, dh_last.shape[1]))
        dh[:, -1] = dh_last
        dx, _, dWx, dWh, db = bptt.rnn_backward(dh, caches)
        return {"Wx": dWx, "Wh": dWh, "b": db}, dx
    grads: dict[str, np.ndarray] = {}  # sums over the steps
    dx, dh, dc = np.empty(x_shape), dh_last, np.zeros_like(dh_last)
    for t in reversed(range(T)):
        if kind == "lstm":
            dx[:, t], dh, dc, dWx, dWh, db = cells.lstm_step_backward(dh, dc, caches[t])
            step = {"Wx": dWx, "Wh": dWh, "b": db}
        else:
            step = gru_step_backward(dh, caches[t])
            dx[:, t], dh = step.pop("x"), step.pop("h_prev")
        for name, value in step.items():
            grads[name] = grads.get(name, 0.0) + value
    return grads, dx
