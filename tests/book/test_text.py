"""rnnbook.text against references written with plain loops over characters and positions."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from rnnbook.text import CharVocabulary, WittenBell, sample, stream_windows

TEXT = "hello, world: the quick brown fox jumps over the lazy dog!"


def test_the_vocabulary_numbers_the_characters_in_sorted_order():
    vocab = CharVocabulary(TEXT)
    distinct = []
    for char in TEXT:  # the reference: a list of the distinct characters, then sorted
        if char not in distinct:
            distinct.append(char)
    distinct.sort()
    assert vocab.chars == tuple(distinct) and vocab.size == len(distinct)
    ids = vocab.encode(TEXT)
    assert ids.dtype == np.int64
    assert [int(i) for i in ids] == [distinct.index(char) for char in TEXT]
    assert vocab.decode(ids[::-1]) == TEXT[::-1]
    assert vocab.encode("hello").tolist() == [distinct.index(c) for c in "hello"]


def test_the_vocabulary_refuses_what_it_cannot_convert():
    vocab = CharVocabulary("abc")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        vocab.encode("abz")
    with pytest.raises(ValueError, match="indices"):
        vocab.decode(np.array([0, 3]))
    with pytest.raises(ValueError, match="integer"):
        vocab.decode(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="text"):
        CharVocabulary("")


def test_windows_follow_each_stream_and_start_over():
    ids = np.arange(103) * 7 % 101  # distinct values, so any misplaced entry shows
    n_streams, window = 4, 6
    length = len(ids) // n_streams  # 25: windows 0-5, 6-11, 12-17, 18-23 (24 is only a target)
    per_pass = (length - 1) // window
    got = list(itertools.islice(stream_windows(ids, n_streams, window), 2 * per_pass + 1))
    for number, (inputs, targets, starts_over) in enumerate(got):
        j = number % per_pass
        assert starts_over == (j == 0)
        assert inputs.shape == targets.shape == (n_streams, window)
        for k in range(n_streams):
            for t in range(window):
                position = k * length + j * window + t
                assert inputs[k, t] == ids[position]
                assert targets[k, t] == ids[position + 1]
    # within a pass, each window starts where the previous one ended
    for (_, previous, _), (current, _, starts_over) in itertools.pairwise(got[:per_pass]):
        assert not starts_over and np.array_equal(previous[:, -1], current[:, 0])
    assert not got[0][0].flags.writeable


def test_windows_refuse_a_text_too_short_for_one_window():
    with pytest.raises(ValueError, match="too short"):
        next(stream_windows(np.arange(10), n_streams=3, window=3))
    with pytest.raises(ValueError, match="window"):
        next(stream_windows(np.arange(10), n_streams=1, window=0))
    with pytest.raises(ValueError, match="ids"):
        next(stream_windows(np.linspace(0, 1, 10), n_streams=1, window=2))


def constant_logits(z: np.ndarray, n: int):
    """A step that ignores its input and always returns the logits z for each of n sequences."""

    def step(indices, state):
        return np.tile(z, (n, 1)), state

    return step


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_draws_follow_the_softmax_of_the_scaled_logits(temperature):
    z = np.array([1.0, 0.0, -1.0, 2.0])
    scaled = [math.exp(value / temperature) for value in z]
    expected = np.array([value / sum(scaled) for value in scaled])  # reference probabilities
    n, length = 200, 100
    rng = np.random.default_rng(0)
    drawn = sample(
        constant_logits(z, n), None, np.zeros(n, dtype=int), length, rng, temperature=temperature
    )
    frequencies = np.bincount(drawn.ravel(), minlength=len(z)) / drawn.size
    # 20,000 draws: the standard error of each frequency is below 0.0036
    assert np.abs(frequencies - expected).max() < 0.015


def test_each_draw_is_fed_back_as_the_next_input():
    V = 5

    def successor(indices, state):
        logits = np.full((len(indices), V), -50.0)
        logits[np.arange(len(indices)), (indices + 1) % V] = 50.0  # the next index, surely
        return logits, state + 1

    counter = []

    def counting(indices, state):
        counter.append(state)
        return successor(indices, state)

    drawn = sample(counting, 0, np.array([0, 3]), 7, np.random.default_rng(1))
    assert drawn.tolist() == [[1, 2, 3, 4, 0, 1, 2], [4, 0, 1, 2, 3, 4, 0]]
    assert counter == list(range(7))  # the state is threaded through every step


def test_sampling_checks_its_arguments():
    step = constant_logits(np.zeros(3), 2)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="temperature"):
        sample(step, None, np.zeros(2, dtype=int), 3, rng, temperature=0.0)
    with pytest.raises(ValueError, match="rng"):
        sample(step, None, np.zeros(2, dtype=int), 3, 0)
    with pytest.raises(ValueError, match="step"):
        sample(step, None, np.zeros(3, dtype=int), 3, rng)
    with pytest.raises(ValueError, match="step"):
        sample("not callable", None, np.zeros(2, dtype=int), 3, rng)


# "abcab" over the vocabulary a, b, c, d (0 .. 3), order 2, worked by hand with fractions.
# Unigram counts a: 2, b: 2, c: 1, d: 0, N = 5, with 3 distinct characters: the empty context
# gives (C(c) + 3 / 4) / (5 + 3), that is a, b: 11/32, c: 7/32, d: 3/32. The context "a" occurs
# twice, followed by "b" both times (1 distinct): p(b | a) = (2 + 11/32) / 3 = 25/32, and
# p(x | a) = p(x) / 3 otherwise. The context "c" occurs once, followed by "a": p(a | c) =
# (1 + 11/32) / 2 = 43/64. The context "d" never occurs: p(. | d) is the unigram distribution.
UNIGRAM = [Fraction(11, 32), Fraction(11, 32), Fraction(7, 32), Fraction(3, 32)]
BY_HAND = {
    (): UNIGRAM,
    (0,): [UNIGRAM[0] / 3, Fraction(25, 32), UNIGRAM[2] / 3, UNIGRAM[3] / 3],
    (2,): [Fraction(43, 64), UNIGRAM[1] / 2, UNIGRAM[2] / 2, UNIGRAM[3] / 2],
    (3,): UNIGRAM,
    (1, 0): [UNIGRAM[0] / 3, Fraction(25, 32), UNIGRAM[2] / 3, UNIGRAM[3] / 3],  # order 2: "a"
}


def test_witten_bell_gives_the_probabilities_worked_by_hand():
    model = WittenBell(np.array([0, 1, 2, 0, 1]), order=2, vocab_size=4)
    for context, expected in BY_HAND.items():
        assert sum(expected) == 1
        assert np.allclose(model.distribution(context), [float(p) for p in expected], atol=1e-15)
    # bits per character of "cab": -log2 p(a | c) - log2 p(b | a), averaged over 2 positions
    expected_bits = -(math.log2(43 / 64) + math.log2(25 / 32)) / 2
    assert math.isclose(model.bits_per_character(np.array([2, 0, 1])), expected_bits)


def test_every_witten_bell_distribution_sums_to_one():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 6, size=300) * (rng.random(300) < 0.7)  # skewed, index 0 common
    for order in (1, 2, 3, 5):
        model = WittenBell(ids, order=order, vocab_size=7)  # index 6 never occurs
        contexts = [(), (0,), (6, 6), tuple(ids[:4]), tuple(ids[100:110])]
        for context in contexts:
            probs = model.distribution(context)
            assert probs.shape == (7,) and probs.min() > 0
            assert math.isclose(probs.sum(), 1.0, rel_tol=1e-12)


def test_order_one_is_the_unigram_mixed_with_the_uniform_distribution():
    ids = np.array([0, 0, 0, 1, 2, 0])
    model = WittenBell(ids, order=1, vocab_size=4)
    counts = [4, 1, 1, 0]  # N = 6, 3 distinct characters
    expected = [(c + 3 / 4) / (6 + 3) for c in counts]
    for context in [(), (1,), (0, 2)]:  # order 1 ignores the context
        assert np.allclose(model.distribution(context), expected, atol=1e-15)


def test_witten_bell_checks_its_arguments():
    with pytest.raises(ValueError, match="vocab_size"):
        WittenBell(np.array([0, 5]), order=2, vocab_size=3)
    with pytest.raises(ValueError, match="order"):
        WittenBell(np.array([0, 1]), order=0, vocab_size=3)
    with pytest.raises(ValueError, match="at least 2"):
        WittenBell(np.array([0, 1]), order=2, vocab_size=3).bits_per_character(np.array([1]))
