"""Independent solution of the assignment *language_model*, vectorised and terse.

Written from the student's statement only (the released notebook), without reading the
instructor's solution. One block per solution cell, each opened by `# %% <grade_id>`.
"""

import numpy as np


# %% embedding_forward_code
def embedding_forward(idx: np.typing.NDArray[np.int64], W: np.ndarray) -> tuple[np.ndarray, object]:
    """Embedding lookup: out[n, t] = W[idx[n, t]].

    idx: integer array (N, T) of token ids in 0..V-1; W: float64 array (V, D).
    Returns (out, cache): out (N, T, D) and what embedding_backward needs.
    """
    return np.take(W, idx, axis=0), (np.array(idx), W.shape)


# %% embedding_backward_code
def embedding_backward(dout: np.ndarray, cache: object) -> np.ndarray:
    """Gradient of the loss with respect to the embedding matrix W.

    dout: upstream gradient (N, T, D); cache: what embedding_forward returned.
    Returns dW (V, D): row i is the sum of dout over every step where token i occurs.
    """
    idx, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, idx.ravel(), dout.reshape(-1, shape[1]))
    return dW


# %% temporal_softmax_loss_code
def temporal_softmax_loss(
    scores: np.ndarray, targets: np.typing.NDArray[np.int64], mask: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over the unmasked steps, and its gradient.

    scores (N, T, V) float64; targets (N, T) int64 in 0..V-1; mask (N, T) bool (True = counts).
    Returns (loss, dscores): loss a float (0.0 when no step is unmasked), dscores (N, T, V),
    zero at masked steps.
    """
    count = mask.sum()
    if count == 0:
        return 0.0, np.zeros_like(scores, dtype=np.float64)
    log_probs = scores - np.logaddexp.reduce(scores, axis=-1, keepdims=True)
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    loss = -np.where(mask, picked, 0.0).sum() / count
    one_hot = targets[..., None] == np.arange(scores.shape[-1])
    dscores = (np.exp(log_probs) - one_hot) * (mask[..., None] / count)
    return float(loss), dscores


# %% sample_code
def sample(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """Draw one token per row from softmax(logits / temperature).

    logits (N, V) float64; temperature > 0; rng a np.random.Generator, from which exactly one
    rng.random(N) is drawn. Returns an int64 array (N,): for row n, the smallest i with
    cumsum(p[n])[i] > u[n].
    """
    z = logits / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(logits))
    below = (cdf <= u[:, None]).sum(axis=1)  # cdf is non-decreasing: count = first index above
    return np.minimum(below, logits.shape[1] - 1).astype(np.int64)


# %% beam_search_code
def beam_search(
    step, state: object, bos: int, eos: int, beam_width: int, max_length: int, alpha: float = 0.0
) -> tuple[list[int], float]:
    """Beam search over a model seen through step(token, state) -> (log_probs (V,), new_state).

    Starts from [bos] with score 0; keeps the beam_width best candidates of each step by raw
    summed log-probability (ties: earlier parent, then smaller token); a kept candidate ending
    with eos, or of max_length tokens, is finished. Returns (tokens, score) of the finished
    hypothesis with the highest sum / len(tokens) ** alpha (tokens without bos, with eos).
    """
    import heapq

    beam = [((), 0.0, bos, state)]  # (tokens, summed log-probability, last token, state)
    done = []  # (tokens, summed log-probability), in the order they finish
    for length in range(1, max_length + 1):
        stepped = [step(last, s) for _, _, last, s in beam]
        totals = np.array([h[1] for h in beam])[:, None] + np.array([lp for lp, _ in stepped])
        # nlargest is stable: among equal sums the earlier flat index (parent, then token) wins.
        best = heapq.nlargest(beam_width, range(totals.size), key=totals.flat.__getitem__)
        parents, beam = beam, []
        for parent, token in (divmod(i, totals.shape[1]) for i in best):
            tokens, total = (*parents[parent][0], token), float(totals[parent, token])
            if token == eos or length == max_length:
                done.append((tokens, total))
            else:
                beam.append((tokens, total, token, stepped[parent][1]))
        if not beam:
            break
    tokens, total = max(done, key=lambda h: h[1] / len(h[0]) ** alpha)  # first of equals wins
    return list(tokens), total / len(tokens) ** alpha
