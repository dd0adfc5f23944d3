"""Independent solution of the `cells` assignment, "compact" style.

Written from the released statement only (not from the instructor's solution): vectorised and
terse, with the concatenated form doing the work (one product on [x, h_prev] and the stacked
weights, gates split with `np.split`, caches as dicts). One block per solution cell, each opened
by `# %% <grade_id>`; the import above the first block only mirrors the notebook's setup cell so
that the file lints, and is not part of any cell.
"""

import numpy as np

# %% rnn_step_forward_code
PHI = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}


def rnn_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str = "tanh",
) -> tuple[np.ndarray, object]:
    """One step of the vanilla RNN cell: h_next = phi(x Wx + h_prev Wh + b).

    x (N, D), h_prev (N, H), Wx (D, H), Wh (H, H), b (H,); activation is "tanh" or "relu".
    Returns h_next (N, H) and a cache for rnn_step_backward.
    """
    if activation not in PHI:
        raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
    a = b + x.dot(Wx) + h_prev.dot(Wh)
    h_next = PHI[activation](a)
    cache = {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "a": a, "h": h_next}
    return h_next, {**cache, "activation": activation}


# %% rnn_step_backward_code
def rnn_step_backward(
    dh_next: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of one vanilla RNN step, given dh_next = dL/dh_next of shape (N, H).

    Returns (dx, dh_prev, dWx, dWh, db), each with the shape of its variable.
    """
    c = cache
    da = dh_next * (1 - c["h"] ** 2 if c["activation"] == "tanh" else c["a"] > 0)
    return (
        da.dot(c["Wx"].T),
        da.dot(c["Wh"].T),
        c["x"].T.dot(da),
        c["h_prev"].T.dot(da),
        da.sum(axis=0),
    )


# %% stack_weights_code
def stack_weights(Wx: np.ndarray, Wh: np.ndarray) -> np.ndarray:
    """W of shape (D + H, H): Wx (D, H) on top of Wh (H, H)."""
    return np.vstack((Wx, Wh)).astype(np.float64)


# %% concat_step_forward_code
def concat_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    activation: str = "tanh",
) -> np.ndarray:
    """One vanilla RNN step with one matrix: h_next = phi([x, h_prev] W + b).

    x (N, D), h_prev (N, H), W (D + H, H), b (H,); returns h_next (N, H).
    """
    if activation not in PHI:
        raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
    return PHI[activation](np.hstack((x, h_prev)).dot(W) + b)


# %% lstm_step_forward_code
def lstm_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, object]:
    """One LSTM step; gate blocks in PyTorch's order i, f, g, o.

    x (N, D), h_prev (N, H), c_prev (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).
    Returns h_next (N, H), c_next (N, H) and a cache for lstm_step_backward.
    """
    xh, W = np.hstack((x, h_prev)), np.vstack((Wx, Wh))
    a = xh.dot(W) + b
    z_i, z_f, z_g, z_o = np.split(a, 4, axis=1)
    i, f, o = (0.5 + 0.5 * np.tanh(0.5 * z) for z in (z_i, z_f, z_o))
    g = np.tanh(z_g)
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, {"xh": xh, "W": W, "c_prev": c_prev, "c": c_next, "gates": (i, f, g, o)}


# %% lstm_step_backward_code
def lstm_step_backward(
    dh_next: np.ndarray, dc_next: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of one LSTM step, given dh_next = dL/dh_next and dc_next = dL/dc_next.

    Returns (dx, dh_prev, dc_prev, dWx, dWh, db), each with the shape of its variable.
    """
    i, f, g, o = cache["gates"]
    tanh_c = np.tanh(cache["c"])
    dc = dc_next + dh_next * o * (1 - tanh_c**2)
    da = np.hstack(
        (
            dc * g * i * (1 - i),
            dc * cache["c_prev"] * f * (1 - f),
            dc * i * (1 - g**2),
            dh_next * tanh_c * o * (1 - o),
        )
    )
    xh, W = cache["xh"], cache["W"]
    dxh, dW = da.dot(W.T), xh.T.dot(da)  # the stacked form: split back into x and h_prev parts
    D = xh.shape[1] - i.shape[1]
    return dxh[:, :D], dxh[:, D:], dc * f, dW[:D], dW[D:], da.sum(axis=0)
