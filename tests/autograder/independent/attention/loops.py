"""Independent solution of the assignment *attention*, written step by step with explicit loops.

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
    # Bring the softmax axis to the end, then normalise one vector of scores at a time.
    scores_last = np.moveaxis(np.asarray(z, dtype=np.float64), axis, -1)
    weights_last = np.empty_like(scores_last)
    for index in np.ndindex(scores_last.shape[:-1]):
        scores = scores_last[index]
        shifted = scores - np.max(scores)  # every exponent is now at most 0
        exponentials = np.exp(shifted)
        weights_last[index] = exponentials / np.sum(exponentials)
    return np.moveaxis(weights_last, -1, axis)


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
    N, T, d = keys.shape
    dv = values.shape[2]
    if mask is not None:
        if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
            raise ValueError(f"mask must be a boolean numpy array, got {type(mask).__name__}")
        if mask.shape != (N, T):
            raise ValueError(f"mask must have shape (N, T) = {(N, T)}, got {mask.shape}")
        for n in range(N):
            if not np.any(mask[n]):
                raise ValueError(f"mask hides every position of example {n}")
    c = np.sqrt(d) if scaled else 1.0

    weights = np.zeros((N, T))
    context = np.zeros((N, dv))
    for n in range(N):
        q_n = query[n]
        s_n = np.empty(T)
        for t in range(T):
            attended = mask is None or mask[n, t]
            s_n[t] = np.dot(q_n, keys[n, t]) / c if attended else -np.inf
        w_n = softmax(s_n)
        for t in range(T):
            context[n] += w_n[t] * values[n, t]
        weights[n] = w_n

    cache = {"query": query, "keys": keys, "values": values, "weights": weights, "c": c}
    return context, weights, cache


# %% attention_backward_code
def attention_backward(
    dcontext: np.ndarray, cache: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the loss with respect to query, keys and values.

    dcontext (N, dv) is the upstream gradient dL/dcontext; cache is what attention_forward
    returned. Returns (dquery (N, d), dkeys (N, T, d), dvalues (N, T, dv)).
    """
    query, keys, values = cache["query"], cache["keys"], cache["values"]
    weights, c = cache["weights"], cache["c"]
    N, T, _ = keys.shape

    dquery = np.zeros(query.shape)
    dkeys = np.zeros(keys.shape)
    dvalues = np.zeros(values.shape)
    for n in range(N):
        w_n = weights[n]
        # 1. context_n = sum_t w_t v_t.
        dweights = np.empty(T)
        for t in range(T):
            dvalues[n, t] = w_n[t] * dcontext[n]
            dweights[t] = np.dot(dcontext[n], values[n, t])
        # 2. Softmax Jacobian: ds_u = sum_t dw_t w_t (delta_tu - w_u) = w_u (dw_u - sum_t w_t dw_t).
        expected_dweight = np.dot(w_n, dweights)
        dscores = np.empty(T)
        for u in range(T):
            dscores[u] = w_n[u] * (dweights[u] - expected_dweight)
        # 3. s_t = q . k_t / c.
        for t in range(T):
            dquery[n] += dscores[t] * keys[n, t] / c
            dkeys[n, t] = dscores[t] * query[n] / c
    return dquery, dkeys, dvalues
