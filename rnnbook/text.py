"""Text as integers, long texts as parallel streams, and sampling (introduced in the chapter
A character-level language model).

:class:`CharVocabulary` numbers the distinct characters of a text in sorted order and converts
between strings and arrays of indices. :func:`stream_windows` cuts a long index sequence into
``n_streams`` contiguous streams read side by side, and yields consecutive windows of inputs and
next-character targets for truncated backpropagation through time: the state at the end of one
window is the right initial state of the next, except when the streams start over.
:func:`sample` draws a sequence from a model given as a ``step`` callable, at a temperature; it
uses the Gumbel-max trick, so it needs no softmax of its own. :class:`WittenBell` is the
baseline a character-level RNN must beat: an interpolated n-gram model with Witten-Bell
smoothing, counted with dictionaries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from rnnbook.checks import callable_arg, positive_int, positive_number


def _index_array(name: str, value: Any, *, ndim: int) -> np.ndarray:
    """``value`` as an int64 array of ``ndim`` dimensions with entries >= 0."""
    array = np.asarray(value)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an integer array, got dtype {array.dtype}")
    if array.ndim != ndim or array.size == 0:
        raise ValueError(f"{name} must be a non-empty {ndim}-d array, got shape {array.shape}")
    if array.min() < 0:
        raise ValueError(f"{name} must hold indices >= 0, got {array.min()}")
    return array.astype(np.int64, copy=False)


class CharVocabulary:
    """The distinct characters of ``text``, numbered 0, 1, ... in sorted (code point) order.

    ``chars[i]`` is the character of index ``i``; :meth:`encode` maps a string to its indices
    and :meth:`decode` maps indices back to a string.
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty string, got {text!r:.40}")
        self.chars: tuple[str, ...] = tuple(sorted(set(text)))
        self._index = {char: i for i, char in enumerate(self.chars)}

    @property
    def size(self) -> int:
        """The number of distinct characters, V."""
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The indices of the characters of ``text``, an int64 array of ``len(text)``."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a string, got {type(text).__name__}")
        unknown = sorted(set(text) - self._index.keys())
        if unknown:
            raise ValueError(f"text holds characters outside the vocabulary: {unknown[:10]}")
        return np.fromiter((self._index[char] for char in text), dtype=np.int64, count=len(text))

    def decode(self, indices: Any) -> str:
        """The string of the 1-d integer array ``indices`` (each below :attr:`size`)."""
        indices = _index_array("indices", indices, ndim=1)
        if indices.max() >= self.size:
            raise ValueError(f"indices must be below the vocabulary size {self.size}")
        return "".join(self.chars[i] for i in indices)


def stream_windows(
    ids: Any, n_streams: int, window: int
) -> Iterator[tuple[np.ndarray, np.ndarray, bool]]:
    """Endless ``(inputs, targets, starts_over)`` windows over ``n_streams`` parallel streams.

    ``ids`` (1-d, integer) is cut into ``n_streams`` contiguous streams of ``L = len(ids) //
    n_streams`` entries (the remainder is dropped): stream ``k`` is ``ids[k L : (k + 1) L]``.
    Window ``j`` holds, for every stream, the inputs ``stream[j w : (j + 1) w]`` and the targets
    one position later, ``stream[j w + 1 : (j + 1) w + 1]`` (``w`` = ``window``); both are
    read-only int64 arrays of shape ``(n_streams, window)``. A pass has ``(L - 1) // w``
    windows; then the streams start over from their beginnings, and ``starts_over`` is True on
    the first window of every pass (there, a state carried from the previous window belongs to
    the end of the stream, not to the text before the window, and should be reset).
    """
    ids = _index_array("ids", ids, ndim=1)
    n_streams = positive_int("n_streams", n_streams)
    window = positive_int("window", window)
    length = len(ids) // n_streams
    if length < window + 1:
        raise ValueError(
            f"ids is too short: {len(ids)} entries give streams of {length}, and a window of "
            f"{window} needs {window + 1}"
        )
    streams = ids[: n_streams * length].reshape(n_streams, length).copy()
    streams.flags.writeable = False
    per_pass = (length - 1) // window
    while True:
        for j in range(per_pass):
            start = j * window
            yield (
                streams[:, start : start + window],
                streams[:, start + 1 : start + window + 1],
                j == 0,
            )


def sample(
    step: Callable[[np.ndarray, Any], tuple[np.ndarray, Any]],
    state: Any,
    first: Any,
    length: int,
    rng: np.random.Generator,
    *,
    temperature: float = 1.0,
) -> np.ndarray:
    """Draw ``length`` indices after the indices ``first`` (shape ``(N,)``), N sequences at once.

    ``step(indices, state)`` must return ``(logits, new_state)``, with ``logits`` of shape
    ``(N, V)``: the model's scores for the index after ``indices``. Each draw divides the logits
    by ``temperature`` and picks ``argmax(logits / temperature + g)`` with ``g`` standard Gumbel
    noise from ``rng``, which is a draw from the softmax of ``logits / temperature`` (the
    Gumbel-max trick). The drawn indices are fed back as the next inputs. Returns an int64
    array of shape ``(N, length)``; ``first`` is not included.
    """
    step = callable_arg("step", step)
    first = _index_array("first", first, ndim=1)
    length = positive_int("length", length)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    temperature = positive_number("temperature", temperature)
    drawn = np.empty((len(first), length), dtype=np.int64)
    current = first
    for t in range(length):
        logits, state = step(current, state)
        logits = np.asarray(logits)
        if logits.ndim != 2 or logits.shape[0] != len(first) or logits.dtype.kind != "f":
            raise ValueError(
                f"step must return float logits of shape ({len(first)}, V), "
                f"got {logits.dtype} {logits.shape}"
            )
        current = np.argmax(logits / temperature + rng.gumbel(size=logits.shape), axis=1)
        drawn[:, t] = current
    return drawn


class WittenBell:
    """An interpolated Witten-Bell n-gram model of indices ``0 .. vocab_size - 1``.

    Introduced in the chapter A character-level language model, as the baseline of the RNN.
    ``order`` is n: the next index is predicted from the ``order - 1`` indices before it. For a
    context ``u`` seen in training, with ``C(u)`` occurrences followed by ``d(u)`` distinct
    indices, ``C(u c)`` of them by ``c``, and ``u'`` the context ``u`` without its first index,

        p(c | u) = (C(u c) + d(u) p(c | u')) / (C(u) + d(u)),

    down to the empty context, whose lower order is the uniform distribution ``1 / V``; an
    unseen context takes the distribution of ``u'`` unchanged (Witten and Bell 1991, in the
    interpolated form of Chen and Goodman 1999). Every distribution is positive and sums to
    one over the vocabulary.
    """

    def __init__(self, ids: Any, order: int, vocab_size: int) -> None:
        ids = _index_array("ids", ids, ndim=1)
        self.order = positive_int("order", order)
        self.vocab_size = positive_int("vocab_size", vocab_size)
        if ids.max() >= self.vocab_size:
            raise ValueError(f"ids must be below vocab_size {self.vocab_size}, got {ids.max()}")
        self.counts: dict[tuple[int, ...], np.ndarray] = {}
        seq = ids.tolist()
        for t, char in enumerate(seq):
            for k in range(min(self.order - 1, t) + 1):  # the contexts of lengths 0 .. n - 1
                context = tuple(seq[t - k : t])
                if context not in self.counts:
                    self.counts[context] = np.zeros(self.vocab_size)
                self.counts[context][char] += 1

    def distribution(self, context: Any) -> np.ndarray:
        """The probabilities, shape ``(V,)``, of the index after ``context`` (a sequence of
        indices; only its last ``order - 1`` entries are used, fewer if it is shorter)."""
        context = tuple(int(i) for i in context)
        context = context[len(context) - min(len(context), self.order - 1) :]
        probs = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for k in range(len(context) + 1):  # from the empty context to the longest
            counts = self.counts.get(context[len(context) - k :])
            if counts is None:  # unseen: so are all longer contexts
                break
            distinct = np.count_nonzero(counts)
            probs = (counts + distinct * probs) / (counts.sum() + distinct)
        return probs

    def bits_per_character(self, ids: Any) -> float:
        """Mean of ``-log2 p(ids[t] | ids[:t])`` over ``t = 1 .. len(ids) - 1``: the text is read
        from its start, as an RNN reads it from a zero state, and ``ids[0]`` is not scored."""
        ids = _index_array("ids", ids, ndim=1)
        if len(ids) < 2 or ids.max() >= self.vocab_size:
            raise ValueError("ids must hold at least 2 indices, each below vocab_size")
        seq = ids.tolist()
        bits = [
            -np.log2(self.distribution(seq[max(0, t - self.order + 1) : t])[seq[t]])
            for t in range(1, len(seq))
        ]
        return float(np.mean(bits))
