"""Batches of token sequences of different lengths, and greedy decoding (introduced in the
chapter Encoder-decoder networks).

:func:`pad_sequences` stacks sequences of integer tokens of different lengths into one array,
filling the end of the short ones with a padding token, and returns the boolean mask of the
real positions (``True`` = a token of the sequence, ``False`` = padding).

:func:`greedy_decode` runs a decoder one step at a time from a start token: a callable
``step(tokens, state) -> (logits, state)`` maps the previous token of every sequence, shape
``(N,)``, to the scores of the next one, shape ``(N, V)``; the token with the largest score is
fed back as the next input, until every sequence has emitted the stop token or ``max_len``
tokens have been produced. The callable holds the model; this module holds none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rnnbook.checks import callable_arg, positive_int


def _token(name: str, value: Any) -> int:
    """``value`` as an int after checking it is a non-negative integer (a token id)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer token id, got {value!r}")
    return int(value)


def pad_sequences(
    sequences: Sequence[Sequence[int]], pad: int, length: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Stack token sequences into ``tokens`` (N, T) int64 and ``mask`` (N, T) bool.

    ``T`` is ``length``, or the longest sequence when ``length`` is None. Row ``n`` holds
    sequence ``n`` followed by ``pad``; ``mask[n, t]`` is True exactly where ``tokens[n, t]``
    comes from the sequence. Every sequence must be non-empty and at most ``T`` long.
    """
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, Sequence):
        raise ValueError(f"sequences must be a list of token lists, got {type(sequences).__name__}")
    if len(sequences) == 0:
        raise ValueError("sequences must hold at least one sequence, got an empty list")
    pad = _token("pad", pad)
    rows = []
    for n, sequence in enumerate(sequences):
        row = np.asarray(sequence)
        if row.ndim != 1 or row.size == 0 or row.dtype.kind not in "iu":
            raise ValueError(
                f"sequences[{n}] must be a non-empty 1-D sequence of integer tokens, "
                f"got {np.asarray(sequence).dtype} of shape {row.shape}"
            )
        rows.append(row)
    longest = max(row.size for row in rows)
    width = longest if length is None else positive_int("length", length)
    if width < longest:
        raise ValueError(f"length must be at least the longest sequence, {longest}, got {width}")
    tokens = np.full((len(rows), width), pad, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=bool)
    for n, row in enumerate(rows):
        tokens[n, : row.size] = row
        mask[n, : row.size] = True
    return tokens, mask


def greedy_decode(
    step: Callable[[np.ndarray, Any], tuple[np.ndarray, Any]],
    state: Any,
    n: int,
    start: int,
    stop: int,
    pad: int,
    max_len: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy decoding of ``n`` sequences: returns ``tokens`` (n, max_len) and ``lengths`` (n,).

    The first input of every sequence is ``start``; at each step ``step(previous, state)``
    returns ``(logits, state)`` with ``logits`` of shape (n, V), and the arg-max token of each
    row is emitted and fed back. A sequence ends with its first ``stop`` token, which is kept
    (``lengths`` counts it); the positions after it hold ``pad``. A sequence that never emits
    ``stop`` has length ``max_len``. Decoding ends early once every sequence has stopped.
    """
    step = callable_arg("step", step)
    n = positive_int("n", n)
    start, stop, pad = _token("start", start), _token("stop", stop), _token("pad", pad)
    max_len = positive_int("max_len", max_len)
    tokens = np.full((n, max_len), pad, dtype=np.int64)
    lengths = np.full(n, max_len, dtype=np.int64)
    running = np.ones(n, dtype=bool)
    previous = np.full(n, start, dtype=np.int64)
    for t in range(max_len):
        logits, state = step(previous, state)
        logits = np.asarray(logits)
        if logits.ndim != 2 or logits.shape[0] != n:
            raise ValueError(f"step must return logits of shape (n={n}, V), got {logits.shape}")
        previous = np.argmax(logits, axis=1).astype(np.int64)
        tokens[running, t] = previous[running]
        stopped = running & (previous == stop)
        lengths[stopped] = t + 1
        running &= ~stopped
        if not running.any():
            break
    return tokens, lengths
