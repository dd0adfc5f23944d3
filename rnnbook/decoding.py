"""Tools around decoding: filters for sampling, exhaustive search, and measures of an output
(introduced in chapter decoding).

:func:`top_k_filter` and :func:`nucleus_filter` keep the most likely tokens of every row of
logits and set the others to ``-inf``, so that a sampler draws only among the kept ones.
:func:`exhaustive_search` lists every finished output of a tiny model, the reference a beam
search is checked against. :func:`sequence_log_prob` scores a given output under a model, and
:func:`distinct_ngram_ratio` measures how repetitive a text is.

A model is given, as in the ``language_model`` assignment, by a callable
``step(token, state) -> (log_probs, new_state)``: ``token`` is an int, ``log_probs`` a float
array (V,) of the log-probabilities of the next token. Nothing here implements a graded function
of the assignments (neither sampling nor beam search).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rnnbook.checks import callable_arg, positive_int

Step = Callable[[int, Any], tuple[np.ndarray, Any]]


def _logit_rows(logits: Any) -> np.ndarray:
    """``logits`` as a float array of shape (N, V) with V >= 1 (a 1-d array is one row)."""
    array = np.asarray(logits, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] == 0:
        raise ValueError(f"logits must have shape (N, V) or (V,), got {np.shape(logits)}")
    if np.isnan(array).any():
        raise ValueError("logits must not hold NaN")
    return array


def _descending(rows: np.ndarray) -> np.ndarray:
    """Column indices of every row from the largest value down; ties by smaller index first."""
    return np.argsort(-rows, axis=1, kind="stable")


def top_k_filter(logits: Any, k: int) -> np.ndarray:
    """Keep the ``k`` largest logits of every row and set the others to ``-inf`` (introduced in
    chapter decoding; top-k sampling, Fan et al. 2018).

    ``logits`` has shape (N, V) or (V,); the result has the same shape. Exactly ``min(k, V)``
    entries of a row are kept; between equal logits the smaller index is kept first.
    """
    k = positive_int("k", k)
    rows = _logit_rows(logits)
    keep = np.zeros(rows.shape, dtype=bool)
    np.put_along_axis(keep, _descending(rows)[:, :k], True, axis=1)
    return np.where(keep, rows, -np.inf).reshape(np.shape(logits))


def nucleus_filter(logits: Any, p: float) -> np.ndarray:
    """Keep the nucleus of every row: the fewest most likely tokens whose probabilities, under
    the softmax of the row, sum to at least ``p``; set the others to ``-inf`` (introduced in
    chapter decoding; nucleus or top-p sampling, Holtzman et al. 2020).

    ``p`` is in (0, 1]; at least one token (the most likely) is always kept. Tokens are taken
    from the most likely down, between equal logits the smaller index first.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p <= 1:
        raise ValueError(f"p must be a number in (0, 1], got {p!r}")
    rows = _logit_rows(logits)
    order = _descending(rows)
    ranked = np.take_along_axis(rows, order, axis=1)
    weights = np.exp(ranked - ranked[:, :1])  # the softmax of the row, up to its sum
    mass = np.cumsum(weights, axis=1)
    before = np.concatenate([np.zeros((len(rows), 1)), mass[:, :-1]], axis=1)  # ranked above
    inside = before < p * mass[:, -1:]
    keep = np.zeros(rows.shape, dtype=bool)
    np.put_along_axis(keep, order, inside, axis=1)
    return np.where(keep, rows, -np.inf).reshape(np.shape(logits))


def exhaustive_search(
    step: Step, state: Any, bos: int, eos: int, max_length: int
) -> list[tuple[list[int], float]]:
    """Every finished output of the model ``step`` and its log-probability (introduced in
    chapter decoding).

    Outputs start after ``bos``; one ends at its first ``eos`` (kept) or after ``max_length``
    tokens. Returns ``(tokens, log_prob)`` pairs, outputs in the order of a depth-first walk
    that tries smaller tokens first. The number of outputs grows like V ** max_length: this is a
    reference for tiny models only.
    """
    step = callable_arg("step", step)
    max_length = positive_int("max_length", max_length)
    found: list[tuple[list[int], float]] = []

    def walk(prefix: list[int], log_prob: float, token: int, carried: Any) -> None:
        log_probs, carried = step(token, carried)
        for next_token, value in enumerate(np.asarray(log_probs, dtype=np.float64).tolist()):
            tokens = [*prefix, next_token]
            if next_token == eos or len(tokens) == max_length:
                found.append((tokens, log_prob + value))
            else:
                walk(tokens, log_prob + value, next_token, carried)

    walk([], 0.0, bos, state)
    return found


def best_output(
    outputs: Sequence[tuple[list[int], float]], alpha: float = 0.0
) -> tuple[list[int], float]:
    """The output of ``outputs`` (as from :func:`exhaustive_search`) with the largest
    ``log_prob / len(tokens) ** alpha``, and that score (introduced in chapter decoding); the
    first listed wins a tie."""
    if len(outputs) == 0:
        raise ValueError("outputs must hold at least one (tokens, log_prob) pair")
    scores = [log_prob / len(tokens) ** alpha for tokens, log_prob in outputs]
    best = int(np.argmax(scores))
    return list(outputs[best][0]), float(scores[best])


def sequence_log_prob(step: Step, state: Any, bos: int, tokens: Sequence[int]) -> float:
    """The log-probability of ``tokens`` after ``bos`` under the model ``step``: the sum of the
    log-probability of each token given those before it (introduced in chapter decoding)."""
    step = callable_arg("step", step)
    total, previous = 0.0, bos
    for token in tokens:
        log_probs, state = step(previous, state)
        total += float(np.asarray(log_probs)[token])
        previous = int(token)
    return total


def distinct_ngram_ratio(tokens: Sequence[int], n: int = 4) -> float:
    """The number of distinct n-grams of ``tokens`` divided by the number of its n-grams: 1.0
    when no n-gram repeats, small for a text that loops (introduced in chapter decoding)."""
    n = positive_int("n", n)
    items = [int(t) for t in tokens]
    if len(items) < n:
        raise ValueError(f"tokens must hold at least n = {n} entries, got {len(items)}")
    grams = [tuple(items[i : i + n]) for i in range(len(items) - n + 1)]
    return len(set(grams)) / len(grams)
