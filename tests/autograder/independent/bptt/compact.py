"""Independent solution of the `bptt` assignment, "compact" style.

Written from the released statement only (not from the instructor's solution): vectorised and
terse, with the work outside the recurrence done for all steps at once (input projections before
the loop, weight gradients with `np.einsum` after it). One block per solution cell, each opened
by `# %% <grade_id>`; the lines above the first block only mirror the notebook's setup and
`symbols` cells so that the file lints, and are not part of any cell.
"""

import numpy as np
import sympy as sp

w, u, h0, x1, x2, y = sp.symbols("w u h0 x1 x2 y", real=True)


# %% rnn_forward_code
ACTIVATIONS = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}


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
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
    phi = ACTIVATIONS[activation]
    a = x.dot(Wx) + b  # the input part of every pre-activation, all steps at once
    h = np.empty(a.shape)
    for t in range(x.shape[1]):
        a[:, t] += (h0 if t == 0 else h[:, t - 1]).dot(Wh)
        h[:, t] = phi(a[:, t])
    return h, {"x": x, "h0": h0, "Wx": Wx, "Wh": Wh, "a": a, "h": h, "activation": activation}


# %% temporal_affine_code
def temporal_affine_forward(
    h: np.ndarray, Wo: np.ndarray, bo: np.ndarray
) -> tuple[np.ndarray, object]:
    """Output layer at every step: out[:, t] = h[:, t] @ Wo + bo.

    h: (N, T, H); Wo: (H, O); bo: (O,). Returns (out, cache) with out of shape (N, T, O).
    """
    return np.einsum("nth,ho->nto", h, Wo) + bo, (h, Wo)


def temporal_affine_backward(
    dout: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the output layer: returns (dh, dWo, dbo) for dout of shape (N, T, O)."""
    h, Wo = cache
    return (
        np.einsum("nto,ho->nth", dout, Wo),
        np.einsum("nth,nto->ho", h, dout),
        dout.sum(axis=(0, 1)),
    )


# %% mse_loss_code
def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over all entries, and its gradient with respect to pred."""
    diff = pred - target
    return float(np.mean(np.square(diff))), diff * (2.0 / diff.size)


# %% numerical_gradient_code
def numerical_gradient(f, x: np.ndarray, df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference estimate of sum(df * f(x)) differentiated with respect to x.

    Entry i is sum(df * (f(x + h e_i) - f(x - h e_i))) / (2h). x is left unmodified.
    """
    grad = np.empty(np.shape(x))
    for i in range(grad.size):
        e = np.zeros(grad.shape)
        e.flat[i] = h  # x + e and x - e are new arrays, each with one entry moved
        grad.flat[i] = np.vdot(df, f(x + e) - f(x - e)) / (2 * h)
    return grad


# %% rnn_backward_code
def rnn_backward(
    dh: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for rnn_forward.

    dh: (N, T, H), the upstream gradient of every hidden state h_1 ... h_T.
    Returns (dx, dh0, dWx, dWh, db) with the shapes of x, h0, Wx, Wh and b.
    """
    c = cache
    h, Wh = c["h"], c["Wh"]
    dphi = 1.0 - h**2 if c["activation"] == "tanh" else (c["a"] > 0).astype(float)
    da = np.empty(h.shape)
    carry = np.zeros(c["h0"].shape)
    for t in range(h.shape[1] - 1, -1, -1):
        da[:, t] = (dh[:, t] + carry) * dphi[:, t]
        carry = da[:, t].dot(Wh.T)
    h_prev = np.concatenate([c["h0"][:, None], h[:, :-1]], axis=1)  # h_0 ... h_(T-1)
    return (
        da.dot(c["Wx"].T),
        carry,
        np.einsum("ntd,nth->dh", c["x"], da),
        np.einsum("ntk,nth->kh", h_prev, da),
        da.sum(axis=(0, 1)),
    )


# %% clip_by_global_norm_code
def clip_by_global_norm(
    grads: dict[str, np.ndarray], max_norm: float
) -> tuple[dict[str, np.ndarray], float]:
    """Scale all arrays by max_norm / total_norm when their global norm exceeds max_norm.

    Returns (clipped, total_norm): a new dict of new arrays, and the norm before clipping.
    """
    total_norm = float(np.sqrt(sum(np.vdot(g, g) for g in grads.values())))
    scale = max_norm / total_norm if total_norm > max_norm else 1.0
    return {k: g * scale for k, g in grads.items()}, total_norm


# %% dl_dw_code
# dL_dw = ...  (a SymPy expression in w, u, h0, x1, x2, y)
a1 = w * h0 + u * x1
a2 = w * sp.tanh(a1) + u * x2
# Chain rule through h2 = tanh(a2), where a2 depends on w directly and through h1 = tanh(a1).
dL_dw = (sp.tanh(a2) - y) * sp.sech(a2) ** 2 * (sp.tanh(a1) + w * sp.sech(a1) ** 2 * h0)
