"""rnnbook.sequences: padding with a mask, and greedy decoding, against plain-Python references."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.sequences import greedy_decode, pad_sequences


def test_pad_sequences_matches_a_hand_written_batch():
    tokens, mask = pad_sequences([[3, 1, 4], [1], [5, 9]], pad=12)
    assert tokens.tolist() == [[3, 1, 4], [1, 12, 12], [5, 9, 12]]
    assert mask.tolist() == [[True, True, True], [True, False, False], [True, True, False]]
    assert tokens.dtype == np.int64 and mask.dtype == bool


def test_pad_sequences_to_a_given_length_and_keeps_pad_values_inside_sequences():
    tokens, mask = pad_sequences([np.array([0, 0]), [7]], pad=0, length=4)
    assert tokens.tolist() == [[0, 0, 0, 0], [7, 0, 0, 0]]
    assert mask.sum(axis=1).tolist() == [2, 1]  # the mask, not the token, says what is real


@pytest.mark.parametrize(
    ("sequences", "kwargs", "named"),
    [
        ([], {"pad": 0}, "sequences"),
        ([[1, 2], []], {"pad": 0}, "sequences[1]"),
        ([[1.5, 2.0]], {"pad": 0}, "sequences[0]"),
        ([[1, 2, 3]], {"pad": 0, "length": 2}, "length"),
        ([[1]], {"pad": -1}, "pad"),
        ("123", {"pad": 0}, "sequences"),
    ],
)
def test_pad_sequences_refuses_bad_arguments_by_name(sequences, kwargs, named):
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        pad_sequences(sequences, **kwargs)


V, START, STOP, PAD = 6, 4, 5, 0


def counting_step(stops_after):
    """A decoder whose next token is previous + 1 (1 after the start token), and that
    emits STOP after ``stops_after[n]`` tokens for sequence n; the state counts the steps."""
    calls = []

    def step(previous, t):
        calls.append(previous.copy())
        following = (1 if t == 0 else previous + 1) % STOP
        following = np.where(t >= np.asarray(stops_after), STOP, following)
        logits = np.full((previous.size, V), -1.0)
        logits[np.arange(previous.size), following] = 2.0
        return logits, t + 1

    return step, calls


def reference(stops_after, max_len):
    """The same decoding, one sequence at a time, in plain Python."""
    rows, lengths = [], []
    for stop_at in stops_after:
        row, previous = [], 0
        for t in range(max_len):
            token = STOP if t >= stop_at else (previous + 1) % STOP
            row.append(token)
            previous = token
            if token == STOP:
                break
        lengths.append(len(row))
        rows.append(row + [PAD] * (max_len - len(row)))
    return rows, lengths


@pytest.mark.parametrize("stops_after", [[2, 0, 5], [3, 3], [9, 1]])
def test_greedy_decode_matches_the_per_sequence_reference(stops_after):
    max_len = 7
    step, calls = counting_step(stops_after)
    tokens, lengths = greedy_decode(step, 0, len(stops_after), START, STOP, PAD, max_len)
    rows, expected_lengths = reference(stops_after, max_len)
    assert tokens.tolist() == rows
    assert lengths.tolist() == expected_lengths
    assert calls[0].tolist() == [START] * len(stops_after)  # the first input is the start token
    assert len(calls) == max(expected_lengths)  # stops once every sequence has stopped


def test_greedy_decode_feeds_back_the_arg_max():
    step, calls = counting_step([4])
    tokens, _ = greedy_decode(step, 0, 1, START, STOP, PAD, 6)
    assert [c[0] for c in calls[1:]] == tokens[0, : len(calls) - 1].tolist()


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"step": 3}, "step"),
        ({"n": 0}, "n"),
        ({"max_len": 0}, "max_len"),
        ({"start": -2}, "start"),
        ({"step": lambda previous, state: (np.zeros(V), state)}, "step"),
    ],
)
def test_greedy_decode_refuses_bad_arguments_by_name(kwargs, named):
    arguments = {"step": counting_step([1])[0], "state": 0, "n": 1, "start": START}
    arguments |= {"stop": STOP, "pad": PAD, "max_len": 3} | kwargs
    with pytest.raises(ValueError, match=named):
        greedy_decode(**arguments)


# --- sensor sequences (chapter sensor_sequences) ---------------------------------------------

from itertools import product  # noqa: E402

from rnnbook.sequences import (  # noqa: E402
    autocorrelation,
    average_precision,
    band_log_power,
    bootstrap_by_group,
    correlated_noise,
    cut_windows,
    machine_record,
    order_features,
    recent_trend,
    roc_auc,
)


def pairs_auc(score, y):
    """The fraction of (positive, negative) pairs in the right order, ties counted half."""
    wins = [1.0 if p > n else 0.5 if p == n else 0.0 for p, n in product(score[y], score[~y])]
    return sum(wins) / len(wins)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_is_the_fraction_of_correctly_ordered_pairs(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(60) < 0.3
    score = rng.normal(size=60).round(1) + y  # with ties
    assert abs(roc_auc(score, y) - pairs_auc(score, y)) < 1e-12


def test_average_precision_on_a_hand_worked_ranking():
    # ranking + - + - - : precision at the two positives 1/1 and 2/3, recall steps 1/2 each
    score = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    y = np.array([True, False, True, False, False])
    assert abs(average_precision(score, y) - (1 + 2 / 3) / 2) < 1e-12
    # a tie of a positive and a negative at the top is one threshold: precision 1/2 there
    tied = np.array([0.9, 0.9, 0.5])
    assert abs(average_precision(tied, np.array([True, False, True])) - (0.5 + 2 / 3) / 2) < 1e-12
    assert average_precision(np.arange(4.0), np.array([False, False, True, True])) == 1.0


def test_metrics_refuse_labels_of_one_class():
    with pytest.raises(ValueError, match="both classes"):
        roc_auc(np.arange(3.0), np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="positive"):
        average_precision(np.arange(3.0), np.zeros(3, dtype=bool))


def test_window_features_against_loops():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 40, 2))
    for n, d in product(range(4), range(2)):
        v = x[n, :, d] - x[n, :, d].mean()
        for i, k in enumerate((1, 2, 3)):
            expected = sum(v[t] * v[t + k] for t in range(40 - k)) / sum(v**2)
            assert abs(autocorrelation(x)[n, 2 * i + d] - expected) < 1e-12
        # the periodogram by its definition, a sum of cosines and sines
        t = np.arange(40)
        power = [abs(np.sum(v * np.exp(-2j * np.pi * k * t / 40))) ** 2 for k in range(21)]
        for i, (a, b) in enumerate([(1, 4), (4, 6), (6, 11), (11, 21)]):
            got = band_log_power(x, [(1, 4), (4, 6), (6, 11), (11, 21)])[n, 2 * i + d]
            assert abs(got - np.log(np.mean(power[a:b]))) < 1e-10
        slope, _ = np.polyfit(np.arange(20), x[n, -20:, d], 1)
        assert abs(recent_trend(x)[n, 2 + d] - slope) < 1e-12
        assert abs(recent_trend(x)[n, d] - np.std(x[n, -20:, d])) < 1e-12
    assert order_features(x).shape == (4, 36)
    with pytest.raises(ValueError, match="shape"):
        order_features(x[:, :30])


def test_a_rhythm_shows_in_its_band():
    t = np.arange(40)
    wave = np.sin(2 * np.pi * t / 5)[None, :, None]  # 8 cycles per window
    power = band_log_power(wave, [(1, 4), (4, 6), (6, 11), (11, 21)])[0]
    assert np.argmax(power) == 2


def test_correlated_noise_has_unit_variance_and_lag_one_correlation_phi():
    u = correlated_noise(np.random.default_rng(4), 100_000, phi=0.7)
    assert abs(u.var() - 1) < 0.03
    assert abs(np.corrcoef(u[1:], u[:-1])[0, 1] - 0.7) < 0.01


def test_cut_windows_labels_by_the_distance_to_the_next_failure():
    rng = np.random.default_rng(5)
    _, failures, _ = machine_record(rng)
    record = np.arange(1200.0)[:, None] * np.ones(3)  # each reading is its own index
    x, y = cut_windows(record, failures)
    ends = x[:, -1, 0].astype(int)
    assert np.all(np.diff(x[:, :, 0], axis=1) == 1)
    for t, label in zip(ends, y, strict=True):
        ahead = [last - t for last in failures if last >= t]
        assert label == (bool(ahead) and min(ahead) < 20)
        assert not any(t - 40 < last < t for last in failures)  # never straddles a failure
        if not ahead:
            assert t <= 1199 - 20  # the censored end is left out


def test_bootstrap_by_group_resamples_whole_groups():
    y = np.array([True, False, False, True, False, False])
    groups = np.array([0, 0, 0, 1, 1, 1])
    score = np.array([2.0, 1.0, 0.0, 0.5, 1.5, 0.0])
    draws = bootstrap_by_group(roc_auc, {"m": score}, y, groups, np.random.default_rng(0), 200)
    # a resample holds group 0 twice, group 1 twice, or one of each: three possible values
    possible = {
        roc_auc(score[rows], y[rows])
        for rows in ([0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5], [0, 1, 2, 3, 4, 5])
    }
    assert set(np.round(draws["m"], 12)) <= set(np.round(list(possible), 12))
    assert len(set(np.round(draws["m"], 12))) == 3
