"""Independent solution of the `bptt` assignment, "loops" style.

Written from the released statement only (not from the instructor's solution): explicit loops
over time, intermediate variables named after the maths. One block per solution cell, each opened
by `# %% <grade_id>`; the lines above the first block only mirror the notebook's setup and
`symbols` cells so that the file lints, and are not part of any cell.
"""

import numpy as np
import sympy as sp

w, u, h0, x1, x2, y = sp.symbols("w u h0 x1 x2 y", real=True)


# %% rnn_forward_code
def phi(a_t: np.ndarray, activation: str) -> np.ndarray:
    """The element-wise nonlinearity: tanh or relu."""
    if activation == "tanh":
        return np.tanh(a_t)
    if activation == "relu":
        return np.maximum(0.0, a_t)
    raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")


def rnn_forward(
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str = "tanh",
) -> tuple[np.ndarray, object]:
    """Run the vanilla RNN cell over a whole sequence.

    x: (N, T, D) inputs; h0: (N, H) initial state; Wx: (D, H); Wh: (H, H); b: (H,).
    Returns (h, cache): h of shape (N, T, H) holds h_1 ... h_T (not h0); cache is anything
    rnn_backward needs. Raises ValueError unless activation is "tanh" or "relu".
    """
    if activation not in ("tanh", "relu"):
        raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    a = np.zeros((N, T, H))
    h_prev = h0
    for t in range(T):
        x_t = x[:, t, :]
        a_t = x_t @ Wx + h_prev @ Wh + b
        h_t = phi(a_t, activation)
        a[:, t, :] = a_t
        h[:, t, :] = h_t
        h_prev = h_t
    cache = (x, h0, Wx, Wh, h, a, activation)
    return h, cache


# %% temporal_affine_code
def temporal_affine_forward(
    h: np.ndarray, Wo: np.ndarray, bo: np.ndarray
) -> tuple[np.ndarray, object]:
    """Output layer at every step: out[:, t] = h[:, t] @ Wo + bo.

    h: (N, T, H); Wo: (H, O); bo: (O,). Returns (out, cache) with out of shape (N, T, O).
    """
    N, T, _ = h.shape
    out = np.zeros((N, T, Wo.shape[1]))
    for t in range(T):
        out[:, t, :] = h[:, t, :] @ Wo + bo
    cache = (h, Wo)
    return out, cache


def temporal_affine_backward(
    dout: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the output layer: returns (dh, dWo, dbo) for dout of shape (N, T, O)."""
    h, Wo = cache
    T = h.shape[1]
    dh = np.zeros(h.shape)
    dWo = np.zeros(Wo.shape)
    dbo = np.zeros(Wo.shape[1])
    for t in range(T):
        dout_t = dout[:, t, :]
        dh[:, t, :] = dout_t @ Wo.T
        dWo += h[:, t, :].T @ dout_t
        dbo += dout_t.sum(axis=0)
    return dh, dWo, dbo


# %% mse_loss_code
def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over all entries, and its gradient with respect to pred."""
    n_entries = pred.size  # N * T * O
    error = pred - target
    loss = float(np.sum(error**2) / n_entries)
    dpred = 2.0 * error / n_entries
    return loss, dpred


# %% numerical_gradient_code
def numerical_gradient(f, x: np.ndarray, df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference estimate of sum(df * f(x)) differentiated with respect to x.

    Entry i is sum(df * (f(x + h e_i) - f(x - h e_i))) / (2h). x is left unmodified.
    """
    x_work = np.array(x, dtype=np.float64)  # a copy: the caller's x is never touched
    grad = np.zeros(x_work.shape)
    for i in np.ndindex(x_work.shape):
        original = x_work[i]
        x_work[i] = original + h
        f_plus = f(x_work)
        x_work[i] = original - h
        f_minus = f(x_work)
        x_work[i] = original
        grad[i] = np.sum(df * (f_plus - f_minus)) / (2.0 * h)
    return grad


# %% rnn_backward_code
def phi_prime(a_t: np.ndarray, h_t: np.ndarray, activation: str) -> np.ndarray:
    """phi'(a_t): 1 - h_t**2 for tanh, the indicator of a_t > 0 for relu."""
    if activation == "tanh":
        return 1.0 - h_t * h_t
    return (a_t > 0).astype(np.float64)


def rnn_backward(
    dh: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for rnn_forward.

    dh: (N, T, H), the upstream gradient of every hidden state h_1 ... h_T.
    Returns (dx, dh0, dWx, dWh, db) with the shapes of x, h0, Wx, Wh and b.
    """
    x, h0, Wx, Wh, h, a, activation = cache
    T = x.shape[1]
    dx = np.zeros(x.shape)
    dWx = np.zeros(Wx.shape)
    dWh = np.zeros(Wh.shape)
    db = np.zeros(Wh.shape[1])
    carry = np.zeros(h0.shape)  # the gradient reaching h_t from step t + 1
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1, :]
        dh_t = dh[:, t, :] + carry
        da_t = dh_t * phi_prime(a[:, t, :], h[:, t, :], activation)
        dx[:, t, :] = da_t @ Wx.T
        dWx += x[:, t, :].T @ da_t
        dWh += h_prev.T @ da_t
        db += da_t.sum(axis=0)
        carry = da_t @ Wh.T
    dh0 = carry
    return dx, dh0, dWx, dWh, db


# %% clip_by_global_norm_code
def clip_by_global_norm(
    grads: dict[str, np.ndarray], max_norm: float
) -> tuple[dict[str, np.ndarray], float]:
    """Scale all arrays by max_norm / total_norm when their global norm exceeds max_norm.

    Returns (clipped, total_norm): a new dict of new arrays, and the norm before clipping.
    """
    sum_of_squares = 0.0
    for g in grads.values():
        sum_of_squares += float(np.sum(g * g))
    total_norm = float(np.sqrt(sum_of_squares))
    if total_norm > max_norm:
        scale = max_norm / total_norm
    else:
        scale = 1.0
    clipped = {}
    for name, g in grads.items():
        clipped[name] = np.asarray(g, dtype=np.float64) * scale
    return clipped, total_norm


# %% dl_dw_code
# dL_dw = ...  (a SymPy expression in w, u, h0, x1, x2, y)
h1 = sp.tanh(w * h0 + u * x1)
h2 = sp.tanh(w * h1 + u * x2)
# Backwards through step 2: dL/dh2, then through its tanh.
dL_dh2 = h2 - y
dL_da2 = dL_dh2 * (1 - h2**2)
# Step 2 uses w directly (a2 = w h1 + u x2), and h1 carries the gradient back to step 1.
dL_dh1 = dL_da2 * w
dL_da1 = dL_dh1 * (1 - h1**2)
# w is shared: its gradient is the sum over the two steps of h_(t-1) * dL/da_t.
dL_dw = dL_da2 * h1 + dL_da1 * h0
