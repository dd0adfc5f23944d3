"""Independent solution of the assignment *attention*, vectorised and terse (einsum).

Written from the student's statement only (the released notebook), without reading the
instructor's solution. One block per solution cell, each opened by `# %% <grade_id>`.
"""

import numpy as np


# %% softmax_code
def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax of z along `axis`.

    z: float64 array of any shape. Returns an array of the same shape whose entries are
    positive and sum to 1 along `axis`. Must stay finite and correct for |z| of 1e4.
    """
    shifted = z - z.max(axis=axis, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return np.exp(shifted - log_norm)


# %% attention_forward_code
def attention_forward(
    query: np.ndarray,
    keys: np.ndarray,
    values: np.ndarray,
    mask: np.ndarray | None = None,
    scaled: bool = False,
) -> tuple[np.ndarray, np.ndarray, object]:
    """Dot-product attention of one query per example over T key/value pairs.

    query (N, d), keys (N, T, d), values (N, T, dv), mask (N, T) boolean (True = attend) or None.
    Returns (context, weights, cache): context (N, dv), weights (N, T), and a cache holding
    anything attention_backward needs. Raises ValueError naming `mask` when the mask is not a
    boolean array of shape (N, T), or when it hides every position of some example.
    """
    shape = keys.shape[:2]
    mask = np.ones(shape, dtype=bool) if mask is None else mask
    if np.asarray(mask).dtype != bool or np.shape(mask) != shape:
        raise ValueError(f"mask must be a bool array of shape (N, T) = {shape}")
    if not np.all(np.any(mask, axis=1)):
        raise ValueError("mask hides every position of some example")
    scale = np.sqrt(query.shape[1]) if scaled else 1.0
    scores = np.where(mask, np.einsum("nd,ntd->nt", query, keys) / scale, -np.inf)
    weights = softmax(scores)
    return np.einsum("nt,ntv->nv", weights, values), weights, (query, keys, values, weights, scale)


# %% attention_backward_code
def attention_backward(
    dcontext: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the loss with respect to query, keys and values.

    dcontext (N, dv) is the upstream gradient dL/dcontext; cache is what attention_forward
    returned. Returns (dquery (N, d), dkeys (N, T, d), dvalues (N, T, dv)).
    """
    query, keys, values, weights, scale = cache
    dweights = np.einsum("nv,ntv->nt", dcontext, values)
    dscores = weights * (dweights - np.einsum("nt,nt->n", weights, dweights)[:, None]) / scale
    return (
        np.einsum("nt,ntd->nd", dscores, keys),
        np.einsum("nt,nd->ntd", dscores, query),
        np.einsum("nt,nv->ntv", weights, dcontext),
    )
