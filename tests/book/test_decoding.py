"""rnnbook.decoding: filters, exhaustive search and measures, against plain-Python references."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rnnbook.decoding import (
    best_output,
    distinct_ngram_ratio,
    exhaustive_search,
    nucleus_filter,
    sequence_log_prob,
    top_k_filter,
)


def kept_by_rank(row: list[float], k: int) -> set[int]:
    """The k indices a rank count keeps: i is kept when fewer than k entries come before it
    (larger, or equal with a smaller index)."""
    kept = set()
    for i, value in enumerate(row):
        ahead = sum(1 for j, other in enumerate(row) if other > value or (other == value and j < i))
        if ahead < k:
            kept.add(i)
    return kept


def nucleus_by_loop(row: list[float], p: float) -> set[int]:
    """The nucleus by a loop over the probabilities sorted by hand, in plain Python."""
    top = max(row)
    weights = [math.exp(value - top) for value in row]
    total = sum(weights)
    ranked = sorted(range(len(row)), key=lambda i: (-row[i], i))
    kept, mass = set(), 0.0
    for i in ranked:
        if mass >= p * total:
            break
        kept.add(i)
        mass += weights[i]
    return kept


@pytest.mark.parametrize("k", [1, 2, 3, 7, 20])
def test_top_k_keeps_the_k_largest_of_every_row(k):
    rows = np.random.default_rng(k).normal(size=(30, 7))
    rows[0, :3] = 1.5  # ties: the smaller indices first
    filtered = top_k_filter(rows, k)
    for row, out in zip(rows, filtered, strict=True):
        kept = set(np.flatnonzero(np.isfinite(out)).tolist())
        assert kept == kept_by_rank(row.tolist(), k)
        assert np.array_equal(out[list(kept)], row[list(kept)])  # kept logits unchanged
        assert np.all(out[np.isinf(out)] == -np.inf)


def test_top_k_on_a_hand_made_row_and_a_single_row():
    out = top_k_filter(np.array([0.1, 2.0, -1.0, 2.0]), 2)
    assert out.shape == (4,)
    assert out.tolist() == [-np.inf, 2.0, -np.inf, 2.0]


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.77, 0.9, 0.999, 1.0])
def test_nucleus_matches_a_plain_python_loop(p):
    rows = np.random.default_rng(int(p * 1000)).normal(scale=2.0, size=(40, 9))
    filtered = nucleus_filter(rows, p)
    for row, out in zip(rows, filtered, strict=True):
        kept = set(np.flatnonzero(np.isfinite(out)).tolist())
        assert kept == nucleus_by_loop(row.tolist(), p)
        assert np.array_equal(out[list(kept)], row[list(kept)])


def test_nucleus_on_hand_made_probabilities():
    z = np.log([0.5, 0.2, 0.15, 0.1, 0.05])
    assert np.isfinite(nucleus_filter(z, 0.4)).sum() == 1
    assert np.isfinite(nucleus_filter(z, 0.6)).sum() == 2
    assert np.isfinite(nucleus_filter(z, 0.8)).sum() == 3
    assert np.isfinite(nucleus_filter(z, 0.9)).sum() == 4
    assert np.isfinite(nucleus_filter(z, 1.0)).sum() == 5
    assert np.isfinite(nucleus_filter(np.array([[800.0, 0.0]]), 0.99)).sum() == 1  # no overflow


def test_nucleus_stops_as_soon_as_the_mass_reaches_p():
    # Four equal logits: two tokens hold exactly half of the mass, so p = 0.5 keeps two (the
    # smaller indices), not three.
    assert np.isfinite(nucleus_filter(np.zeros(4), 0.5)).tolist() == [True, True, False, False]
    assert np.isfinite(nucleus_filter(np.zeros(4), 0.75)).sum() == 3


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: top_k_filter(np.zeros(3), 0), "k"),
        (lambda: top_k_filter(np.zeros((2, 2, 2)), 1), "logits"),
        (lambda: nucleus_filter(np.zeros(3), 0.0), "p"),
        (lambda: nucleus_filter(np.zeros(3), 1.5), "p"),
        (lambda: nucleus_filter(np.array([np.nan, 0.0]), 0.5), "logits"),
        (lambda: distinct_ngram_ratio([1, 2], 3), "tokens"),
        (lambda: best_output([]), "outputs"),
        (lambda: exhaustive_search(None, None, 0, 1, 2), "step"),
    ],
)
def test_bad_arguments_are_refused_by_name(call, named):
    with pytest.raises(ValueError, match=named):
        call()


def table_model(seed: int, V: int, max_length: int):
    """A random model: log-probabilities per (position, previous token); row V is <bos>."""
    logits = np.random.default_rng(seed).normal(size=(max_length, V + 1, V))
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))

    def step(token, t):
        return log_probs[t, token], t + 1

    return step, log_probs


@pytest.mark.parametrize(("V", "max_length"), [(2, 1), (3, 3), (4, 4), (3, 4)])
def test_exhaustive_search_lists_every_output_once_with_its_log_probability(V, max_length):
    step, log_probs = table_model(V * 10 + max_length, V, max_length)
    eos = V - 1
    found = exhaustive_search(step, 0, V, eos, max_length)
    expected = {}  # the same outputs from itertools: cut at the first <eos>
    for sequence in itertools.product(range(V), repeat=max_length):
        cut = list(sequence[: sequence.index(eos) + 1]) if eos in sequence else list(sequence)
        total, previous = 0.0, V
        for t, token in enumerate(cut):
            total += log_probs[t, previous, token]
            previous = token
        expected[tuple(cut)] = total
    assert len(found) == len(expected) == len({tuple(t) for t, _ in found})
    for tokens, value in found:
        assert value == pytest.approx(expected[tuple(tokens)], abs=1e-12)
    assert sum(math.exp(value) for _, value in found) == pytest.approx(1.0, abs=1e-12)


def test_exhaustive_search_on_the_chapters_three_token_model():
    P = np.array([[0.4, 0.3, 0.3], [0.05, 0.05, 0.9], [1 / 3] * 3, [0.5, 0.4, 0.1]])
    found = exhaustive_search(lambda token, state: (np.log(P[token]), state), None, 3, 2, 3)
    probability = {tuple(t): math.exp(v) for t, v in found}
    assert len(found) == 15
    assert probability[(1, 2)] == pytest.approx(0.36)
    assert probability[(0, 0, 0)] == pytest.approx(0.08)
    assert best_output(found) == ([1, 2], pytest.approx(math.log(0.36)))


def test_best_output_normalises_by_length_to_the_power_alpha():
    outputs = [([0, 1, 2], -3.0), ([0] * 9, -6.3)]
    assert best_output(outputs, 0.0) == ([0, 1, 2], -3.0)
    assert best_output(outputs, 1.0) == ([0] * 9, pytest.approx(-0.7))
    assert best_output([([1], -1.0), ([2], -1.0)]) == ([1], -1.0)  # the first listed on a tie


def test_sequence_log_prob_sums_the_table():
    step, log_probs = table_model(5, 4, 3)
    tokens = [2, 0, 3]
    expected = log_probs[0, 4, 2] + log_probs[1, 2, 0] + log_probs[2, 0, 3]
    assert sequence_log_prob(step, 0, 4, tokens) == pytest.approx(expected, abs=1e-12)
    assert sequence_log_prob(step, 0, 4, []) == 0.0


def test_distinct_ngram_ratio_on_hand_made_texts():
    assert distinct_ngram_ratio([1, 2, 3, 4, 5], 2) == 1.0
    assert distinct_ngram_ratio([1, 2] * 5, 2) == pytest.approx(2 / 9)  # 12 and 21 repeat
    assert distinct_ngram_ratio([7, 7, 7, 7], 4) == 1.0
    assert distinct_ngram_ratio(np.array([0, 0, 0, 0, 0]), 1) == pytest.approx(1 / 5)
