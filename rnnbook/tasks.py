"""Synthetic sequence tasks with a known answer (introduced in the chapter Gated cells).

:func:`recall_task` makes batches for a memory test: the first step of every sequence shows one
of ``n_symbols`` symbols, the next ``lag`` steps show distractors, and the target is the first
symbol. A model that cannot carry information over ``lag`` steps scores the chance accuracy
``1 / n_symbols``.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks import positive_int


def recall_task(
    rng: np.random.Generator, n: int, lag: int, n_symbols: int
) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the recall task: inputs ``x`` (n, lag + 1, 2 n_symbols) and targets ``y`` (n,).

    Every step is a one-hot row. Step 0 shows the symbol to remember, ``y``, in the first
    ``n_symbols`` columns; steps 1 to ``lag`` show distractor symbols drawn uniformly from a
    second alphabet, the last ``n_symbols`` columns. ``y`` holds integers in
    ``[0, n_symbols)``, drawn uniformly; ``x`` is float64.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    n = positive_int("n", n)
    lag = positive_int("lag", lag)
    n_symbols = positive_int("n_symbols", n_symbols)
    y = rng.integers(0, n_symbols, size=n)
    distractors = rng.integers(0, n_symbols, size=(n, lag))
    columns = np.concatenate([y[:, None], n_symbols + distractors], axis=1)  # (n, lag + 1)
    x = np.zeros((n, lag + 1, 2 * n_symbols))
    np.put_along_axis(x, columns[:, :, None], 1.0, axis=2)
    return x, y
