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

The chapter Sequences that are not text (``sensor_sequences``) and its Going further page
introduce the rest: a simulated fleet of machines whose vibration carries a growing
oscillation before each failure (:func:`machine_record`), many-to-one windows cut from a record
(:func:`cut_windows`), order-aware window features for a logistic baseline
(:func:`autocorrelation`, :func:`band_log_power`, :func:`recent_trend`, :func:`order_features`),
ranking measures under class imbalance (:func:`roc_auc`, :func:`average_precision`) and their
bootstrap over machines (:func:`bootstrap_by_group`).
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


# --- Sensor sequences (chapter sensor_sequences) --------------------------------------------


def slow_drift(rng: np.random.Generator, length: int, scale: float) -> np.ndarray:
    """A smooth random curve: three sine waves with periods of 200 to 800 readings."""
    s = np.arange(length)
    waves = [
        rng.normal() * np.sin(2 * np.pi * s / rng.uniform(200, 800) + rng.uniform(0, 2 * np.pi))
        for _ in range(3)
    ]
    return scale * np.sum(waves, axis=0) / np.sqrt(3)


def correlated_noise(rng: np.random.Generator, length: int, phi: float = 0.7) -> np.ndarray:
    """Autoregressive noise ``u_s = phi u_(s-1) + e_s`` with unit variance."""
    e = rng.normal(size=length) * np.sqrt(1 - phi**2)
    u = np.empty(length)
    u[0] = rng.normal()
    for s in range(1, length):
        u[s] = phi * u[s - 1] + e[s]
    return u


def machine_record(
    rng: np.random.Generator, length: int = 1200, precursor: int = 40, amplitude: float = 0.35
) -> tuple[np.ndarray, list[int], np.ndarray]:
    """One simulated machine: readings (length, 3) of temperature (degrees C), vibration (mm/s)
    and pressure (kPa); the index of the last reading before each failure; and the boolean mask
    of the harmless rough-running readings (vibration noise two to three times larger).

    Runs last 150 to 450 readings; over the last ``precursor`` readings before a failure the
    vibration carries an oscillation with a period of 4 to 7 readings (fixed per machine) whose
    amplitude grows linearly to ``amplitude``. Temperature and pressure carry no information
    about failures.
    """
    temperature = rng.uniform(62, 78) + slow_drift(rng, length, 3.0)
    temperature = temperature + 0.3 * rng.normal(size=length)
    pressure = rng.uniform(120, 280) + slow_drift(rng, length, 15.0)
    pressure = pressure + 3.0 * rng.normal(size=length)
    rough = np.ones(length)  # the factor on the vibration noise, 2 to 3 while running rough
    start = int(rng.integers(60, 200))
    while start < length:
        stop = start + int(rng.integers(20, 60))
        rough[start:stop] = rng.uniform(2.0, 3.0)
        start = stop + int(rng.integers(60, 200))
    vibration = (
        rng.uniform(0.5, 1.1)
        + slow_drift(rng, length, 0.15)
        + rng.uniform(0.06, 0.14) * rough * correlated_noise(rng, length)
    )
    failures, end = [], 0  # the last run is cut by the end of the record
    while (end := end + int(rng.integers(150, 450))) <= length:
        failures.append(end - 1)
    period = rng.uniform(4.0, 7.0)
    for last in failures:
        s = np.arange(precursor)
        grow = amplitude * (s + 1) / precursor
        vibration[last - precursor + 1 : last + 1] += grow * np.sin(
            2 * np.pi * s / period + rng.uniform(0, 2 * np.pi)
        )
    readings = np.stack([temperature, np.abs(vibration), pressure], axis=1)
    return readings, failures, rough > 1


def cut_windows(
    readings: np.ndarray, failures: Sequence[int], T: int = 40, F: int = 20, stride: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Windows (n, T, D) of one record and labels (n,) bool: a failure within the next F readings.

    A window ends at reading t and holds readings t - T + 1 .. t; it never straddles a failure
    (a repaired machine starts a new run). In the last run, which the record's end cuts, the
    windows ending in the last F readings are left out: whether a failure follows is unknown.
    """
    starts = [0] + [last + 1 for last in failures]
    stops = list(failures) + [len(readings) - 1]
    xs, ys = [], []
    for run, (first, last) in enumerate(zip(starts, stops, strict=True)):
        censored = run == len(failures)
        for t in range(first + T - 1, last - (F if censored else 0) + 1, stride):
            xs.append(readings[t - T + 1 : t + 1])
            ys.append(not censored and last - t < F)
    return np.array(xs), np.array(ys, dtype=bool)


def autocorrelation(x: np.ndarray, lags: Sequence[int] = (1, 2, 3)) -> np.ndarray:
    """Sample autocorrelation of every window and channel at each lag: x (N, T, D) -> (N, L*D).

    Columns are ordered lag by lag, channel inside lag. For lag k it is
    sum_t c_t c_(t+k) / sum_t c_t^2 with c the window minus its mean.
    """
    c = x - x.mean(axis=1, keepdims=True)
    energy = np.sum(c**2, axis=1)
    return np.concatenate([np.sum(c[:, k:] * c[:, :-k], axis=1) / energy for k in lags], axis=1)


def band_log_power(x: np.ndarray, bands: Sequence[tuple[int, int]]) -> np.ndarray:
    """Log of the mean periodogram power in frequency bands: x (N, T, D) -> (N, B*D).

    Band (a, b) covers the discrete frequencies k = a .. b-1 cycles per window (a period of
    T/k readings) of the window minus its mean. Columns are ordered band by band.
    """
    c = x - x.mean(axis=1, keepdims=True)
    power = np.abs(np.fft.rfft(c, axis=1)) ** 2
    return np.concatenate([np.log(power[:, a:b].mean(axis=1)) for a, b in bands], axis=1)


def recent_trend(x: np.ndarray, last: int = 20) -> np.ndarray:
    """Standard deviation and least-squares slope (per reading) of the last ``last`` readings:
    x (N, T, D) -> (N, 2*D), the spreads first."""
    recent = x[:, -last:]
    s = np.arange(last) - (last - 1) / 2
    slope = np.einsum("t,ntd->nd", s, recent) / np.sum(s**2)
    return np.concatenate([recent.std(axis=1), slope], axis=1)


def order_features(x: np.ndarray) -> np.ndarray:
    """The order-aware features of the sensor chapter for windows of T = 40 readings, per
    channel: the last reading, the window's mean and standard deviation; autocorrelations at
    lags 1 to 3; the log power at 1-3, 4-5, 6-10 and 11-20 cycles per window (periods of 13 to
    40, 8 to 10, 4 to 6.7 and 2 to 3.6 readings); over the last 20 readings the same
    autocorrelations and the log power at 1-2, 3-5 and 6-10 cycles (periods of 10 to 20, 4 to
    6.7 and 2 to 3.3 readings), their spread and their slope. x (N, 40, D) -> (N, 18*D)."""
    if x.ndim != 3 or x.shape[1] != 40:
        raise ValueError(f"x must have shape (N, 40, D), got {x.shape}")
    recent = x[:, -20:]
    return np.concatenate(
        [
            x[:, -1],
            x.mean(axis=1),
            x.std(axis=1),
            autocorrelation(x),
            band_log_power(x, [(1, 4), (4, 6), (6, 11), (11, 21)]),
            autocorrelation(recent),
            band_log_power(recent, [(1, 3), (3, 6), (6, 11)]),
            recent_trend(x),
        ],
        axis=1,
    )


def roc_auc(score: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve from average ranks (the Mann-Whitney statistic; ties half)."""
    score, y = np.asarray(score, dtype=float), np.asarray(y, dtype=bool)
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2  # ranks start at 1
    positives, negatives = y.sum(), (~y).sum()
    if positives == 0 or negatives == 0:
        raise ValueError("y must hold both classes")
    rank_sum = average_rank[inverse][y].sum()
    return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(score: np.ndarray, y: np.ndarray) -> float:
    """Area under the precision-recall curve as a step sum: sum_k (R_k - R_(k-1)) P_k over the
    distinct thresholds, from the highest score down (tied scores form one threshold)."""
    score, y = np.asarray(score, dtype=float), np.asarray(y, dtype=bool)
    if y.sum() == 0:
        raise ValueError("y must hold at least one positive")
    order = np.argsort(-score, kind="stable")
    ranked, hits = score[order], y[order]
    ends = np.append(ranked[1:] != ranked[:-1], True)  # the last row of each group of ties
    true_pos = np.cumsum(hits)[ends]
    flagged = np.flatnonzero(ends) + 1
    recall_steps = np.diff(np.concatenate([[0], true_pos])) / y.sum()
    return float(np.sum(recall_steps * true_pos / flagged))


def bootstrap_by_group(
    metric: Callable[[np.ndarray, np.ndarray], float],
    scores: dict[str, np.ndarray],
    y: np.ndarray,
    groups: np.ndarray,
    rng: np.random.Generator,
    draws: int = 500,
) -> dict[str, np.ndarray]:
    """``metric`` of every model on ``draws`` bootstrap resamples of whole groups (machines).

    Each draw picks as many groups as there are, with replacement, and keeps all their
    examples; all models share the draws, so differences between models are paired.
    """
    labels = np.unique(groups)
    members = [np.flatnonzero(groups == g) for g in labels]
    out: dict[str, list[float]] = {name: [] for name in scores}
    while len(next(iter(out.values()))) < draws:
        rows = np.concatenate([members[i] for i in rng.integers(len(labels), size=len(labels))])
        if y[rows].all() or not y[rows].any():
            continue
        for name, score in scores.items():
            out[name].append(metric(score[rows], y[rows]))
    return {name: np.array(values) for name, values in out.items()}
