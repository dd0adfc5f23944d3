"""Independent solution of the `cells` assignment, "loops" style.

Written from the released statement only (not from the instructor's solution): step by step from
the maths, intermediate variables named after it, small helper functions. One block per solution
cell, each opened by `# %% <grade_id>`; the import above the first block only mirrors the
notebook's setup cell so that the file lints, and is not part of any cell.
"""

import numpy as np


# %% rnn_step_forward_code
def check_activation(activation: str) -> None:
    """Raise ValueError unless activation is one of the two supported names."""
    if activation not in ("tanh", "relu"):
        raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")


def phi(a_t: np.ndarray, activation: str) -> np.ndarray:
    """The element-wise nonlinearity: tanh or relu."""
    check_activation(activation)
    if activation == "tanh":
        return np.tanh(a_t)
    return np.maximum(a_t, 0.0)


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
    a_t = x @ Wx + h_prev @ Wh + b
    h_next = phi(a_t, activation)
    cache = (x, h_prev, Wx, Wh, a_t, h_next, activation)
    return h_next, cache


# %% rnn_step_backward_code
def phi_prime(a_t: np.ndarray, h_t: np.ndarray, activation: str) -> np.ndarray:
    """phi'(a_t): 1 - h_t**2 for tanh, 1 where a_t > 0 and 0 elsewhere for relu."""
    if activation == "tanh":
        return 1.0 - h_t * h_t
    return np.where(a_t > 0, 1.0, 0.0)


def rnn_step_backward(
    dh_next: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of one vanilla RNN step, given dh_next = dL/dh_next of shape (N, H).

    Returns (dx, dh_prev, dWx, dWh, db), each with the shape of its variable.
    """
    x, h_prev, Wx, Wh, a_t, h_next, activation = cache
    da = dh_next * phi_prime(a_t, h_next, activation)
    dx = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = np.sum(da, axis=0)
    return dx, dh_prev, dWx, dWh, db


# %% stack_weights_code
def stack_weights(Wx: np.ndarray, Wh: np.ndarray) -> np.ndarray:
    """W of shape (D + H, H): Wx (D, H) on top of Wh (H, H)."""
    D, H = Wx.shape
    W = np.zeros((D + H, H))
    W[:D, :] = Wx
    W[D:, :] = Wh
    return W


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
    xh = np.concatenate([x, h_prev], axis=1)  # [x_t, h_(t-1)], shape (N, D + H)
    a_t = xh @ W + b
    return phi(a_t, activation)


# %% lstm_step_forward_code
def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic sigmoid 1 / (1 + exp(-z)), written with tanh to avoid overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


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
    H = h_prev.shape[1]
    a_t = x @ Wx + h_prev @ Wh + b
    i = sigmoid(a_t[:, 0:H])
    f = sigmoid(a_t[:, H : 2 * H])
    g = np.tanh(a_t[:, 2 * H : 3 * H])
    o = sigmoid(a_t[:, 3 * H : 4 * H])
    c_next = f * c_prev + i * g
    tanh_c = np.tanh(c_next)
    h_next = o * tanh_c
    cache = (x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c)
    return h_next, c_next, cache


# %% lstm_step_backward_code
def lstm_step_backward(
    dh_next: np.ndarray, dc_next: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of one LSTM step, given dh_next = dL/dh_next and dc_next = dL/dc_next.

    Returns (dx, dh_prev, dc_prev, dWx, dWh, db), each with the shape of its variable.
    """
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c = cache
    # 1. c_t reaches the loss directly and through h_t = o * tanh(c_t).
    dc = dc_next + dh_next * o * (1.0 - tanh_c * tanh_c)
    # 2. The element-wise products c_t = f * c_prev + i * g and h_t = o * tanh(c_t).
    dc_prev = dc * f
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    do = dh_next * tanh_c
    # 3. Through each gate's nonlinearity, blocks side by side in the order i, f, g, o.
    da_i = di * i * (1.0 - i)
    da_f = df * f * (1.0 - f)
    da_g = dg * (1.0 - g * g)
    da_o = do * o * (1.0 - o)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
    # 4. The affine map a_t = x Wx + h_prev Wh + b, as in the vanilla cell.
    dx = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = np.sum(da, axis=0)
    return dx, dh_prev, dc_prev, dWx, dWh, db
