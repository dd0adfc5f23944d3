"""Independent solution of the assignment *language_model*, written step by step with loops.

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
    N, T = idx.shape
    V, D = W.shape
    out = np.empty((N, T, D), dtype=np.float64)
    for n in range(N):
        for t in range(T):
            out[n, t] = W[idx[n, t]]
    cache = {"idx": idx.copy(), "vocab_size": V}
    return out, cache


# %% embedding_backward_code
def embedding_backward(dout: np.ndarray, cache: object) -> np.ndarray:
    """Gradient of the loss with respect to the embedding matrix W.

    dout: upstream gradient (N, T, D); cache: what embedding_forward returned.
    Returns dW (V, D): row i is the sum of dout over every step where token i occurs.
    """
    idx = cache["idx"]
    N, T, D = dout.shape
    dW = np.zeros((cache["vocab_size"], D))
    for n in range(N):
        for t in range(T):
            token = idx[n, t]
            dW[token] = dW[token] + dout[n, t]  # one occurrence at a time, so repeats add up
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
    N, T, V = scores.shape
    dscores = np.zeros((N, T, V))
    M = int(np.count_nonzero(mask))
    if M == 0:
        return 0.0, dscores

    total = 0.0
    for n in range(N):
        for t in range(T):
            if not mask[n, t]:
                continue
            s = scores[n, t]
            y = targets[n, t]
            m = np.max(s)
            log_sum_exp = m + np.log(np.sum(np.exp(s - m)))
            log_probs = s - log_sum_exp
            total += -log_probs[y]
            gradient = np.exp(log_probs)  # softmax(s)
            gradient[y] -= 1.0
            dscores[n, t] = gradient / M
    return float(total / M), dscores


# %% sample_code
def sample(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """Draw one token per row from softmax(logits / temperature).

    logits (N, V) float64; temperature > 0; rng a np.random.Generator, from which exactly one
    rng.random(N) is drawn. Returns an int64 array (N,): for row n, the smallest i with
    cumsum(p[n])[i] > u[n].
    """
    N, V = logits.shape
    u = rng.random(N)
    tokens = np.empty(N, dtype=np.int64)
    for n in range(N):
        z = logits[n] / temperature
        exponentials = np.exp(z - np.max(z))
        p = exponentials / np.sum(exponentials)
        token = V - 1  # if round-off keeps the whole sum at or below u[n]
        cumulative = 0.0
        for i in range(V):
            cumulative += p[i]
            if cumulative > u[n]:
                token = i
                break
        tokens[n] = token
    return tokens


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

    def raw_sum(hypothesis: dict) -> float:
        return hypothesis["log_prob"]

    def normalised_score(hypothesis: dict) -> float:
        return hypothesis["log_prob"] / len(hypothesis["tokens"]) ** alpha

    beam = [{"tokens": [], "log_prob": 0.0, "last": bos, "state": state}]
    finished = []  # in the order they finish: by step, then by rank
    for length in range(1, max_length + 1):
        candidates = []
        for hypothesis in beam:  # parents in rank order
            log_probs, new_state = step(hypothesis["last"], hypothesis["state"])
            for v in range(len(log_probs)):  # then smaller token ids first
                candidates.append(
                    {
                        "tokens": hypothesis["tokens"] + [v],
                        "log_prob": hypothesis["log_prob"] + float(log_probs[v]),
                        "last": v,
                        "state": new_state,
                    }
                )
        # sorted() is stable, so ties keep the order parent, then token.
        kept = sorted(candidates, key=raw_sum, reverse=True)[:beam_width]
        beam = []
        for candidate in kept:
            if candidate["last"] == eos or length == max_length:
                finished.append(candidate)
            else:
                beam.append(candidate)
        if not beam:
            break

    best = finished[0]
    for hypothesis in finished[1:]:
        if normalised_score(hypothesis) > normalised_score(best):  # ties: the earlier one
            best = hypothesis
    return best["tokens"], float(normalised_score(best))
