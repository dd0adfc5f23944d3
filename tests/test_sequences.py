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
