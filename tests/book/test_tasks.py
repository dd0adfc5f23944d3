"""rnnbook.tasks.recall_task against a loop-built reference and the statistics it promises."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.tasks import recall_task


def reference(seed: int, n: int, lag: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The batch built entry by entry from the same draws: targets, then distractors."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    distractors = rng.integers(0, k, size=(n, lag))
    x = np.zeros((n, lag + 1, 2 * k))
    for i in range(n):
        x[i, 0, y[i]] = 1.0
        for t in range(lag):
            x[i, t + 1, k + distractors[i, t]] = 1.0
    return x, y


@pytest.mark.parametrize(("n", "lag", "k"), [(1, 1, 1), (5, 3, 4), (7, 10, 2)])
def test_the_batch_matches_the_loop_built_reference(n, lag, k):
    x, y = recall_task(np.random.default_rng(3), n, lag, k)
    x_ref, y_ref = reference(3, n, lag, k)
    assert x.dtype == np.float64 and x.shape == (n, lag + 1, 2 * k)
    assert np.array_equal(x, x_ref) and np.array_equal(y, y_ref)


def test_the_first_step_shows_the_target_and_the_others_only_distractors():
    k = 5
    x, y = recall_task(np.random.default_rng(0), 200, 6, k)
    assert np.all(x.sum(axis=2) == 1)  # one-hot at every step
    assert np.array_equal(np.argmax(x[:, 0], axis=1), y)
    assert np.all(x[:, 1:, :k] == 0) and np.all(x[:, 0, k:] == 0)


def test_targets_are_uniform_and_the_last_step_tells_nothing_about_them():
    k, n = 4, 40_000
    x, y = recall_task(np.random.default_rng(1), n, 2, k)
    frequencies = np.bincount(y, minlength=k) / n
    assert np.max(np.abs(frequencies - 1 / k)) < 0.01
    last = np.argmax(x[:, -1, k:], axis=1)  # guessing from the last input: chance accuracy
    assert abs(np.mean(last == y) - 1 / k) < 0.01


def test_the_same_seed_gives_the_same_batch():
    a = recall_task(np.random.default_rng(7), 3, 4, 3)
    b = recall_task(np.random.default_rng(7), 3, 4, 3)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((None, 2, 3, 4), "rng"),
        ((0, 2, 3, 4), "rng"),
        (("rng", 0, 3, 4), "n"),
        (("rng", 2, 0, 4), "lag"),
        (("rng", 2, 3, 2.0), "n_symbols"),
        (("rng", 2, True, 4), "lag"),
    ],
)
def test_bad_arguments_are_refused_by_name(args, name):
    args = tuple(np.random.default_rng(0) if a == "rng" else a for a in args)
    with pytest.raises(ValueError, match=name):
        recall_task(*args)
