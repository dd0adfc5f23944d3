"""The encoder-decoder of the chapters Encoder-decoder networks and Attention.

The task is to reverse a string of digits. The vocabulary holds the ten digits and three
special tokens: ``<sos>`` (start of the output), ``<eos>`` (end of a sequence) and ``<pad>``
(filling after the end). The encoder reads the digits followed by ``<eos>``; its state at
``<eos>``, the context, is the decoder's initial state; the decoder reads ``<sos>`` and then the
previous target token (teacher forcing) and predicts the reversed digits followed by ``<eos>``.
With ``attend=True`` the decoder state of every step also queries all encoder states by
dot-product attention, and the output layer reads the decoder state next to the context.

This is a book module, not part of ``rnnbook``: the recurrences, the output layer, the softmax,
the attention and the clipping run through the instructor's graded functions, loaded by
``chapters/instructor.py`` and never shown; this file holds only the model around them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from instructor import load

from rnnbook.memory import keep_freed_memory
from rnnbook.optim import Adam
from rnnbook.sequences import greedy_decode, pad_sequences

bptt = load("bptt")
keep_freed_memory()  # every training step allocates arrays of the same sizes again
attention = load("attention")

DIGITS = 10
SOS, EOS, PAD = 10, 11, 12
VOCAB = 13
NAMES = [str(d) for d in range(DIGITS)] + ["<sos>", "<eos>", "<pad>"]


@dataclass(frozen=True)
class Batch:
    """A padded batch: tokens (N, S) or (N, T) int64 and masks (True = a real position)."""

    source: np.ndarray  # digits, then <eos>, then <pad>
    source_mask: np.ndarray
    decoder_input: np.ndarray  # <sos>, then the reversed digits, then <pad>
    target: np.ndarray  # the reversed digits, then <eos>, then <pad>
    target_mask: np.ndarray


def reversal_batch(strings: list[np.ndarray]) -> Batch:
    """The batch of the reversal task for a list of digit arrays."""
    reverse = [s[::-1] for s in strings]
    source, source_mask = pad_sequences([np.append(s, EOS) for s in strings], PAD)
    decoder_input, _ = pad_sequences([np.append(SOS, r) for r in reverse], PAD)
    target, target_mask = pad_sequences([np.append(r, EOS) for r in reverse], PAD)
    return Batch(source, source_mask, decoder_input, target, target_mask)


def _keys(digits: np.ndarray, size: np.ndarray) -> np.ndarray:
    """One integer per digit string ``digits[n, :size[n]]``: 10**size plus the string read as
    a number, so that different strings (leading zeros included) have different keys."""
    places = size[:, None] - 1 - np.arange(digits.shape[1])  # the power of ten of each digit
    value = np.where(places >= 0, digits * 10 ** np.maximum(places, 0), 0).sum(axis=1)
    return 10**size + value


def batch_keys(batch: Batch) -> np.ndarray:
    """The key of every source string of ``batch`` (see :func:`random_batch`'s ``exclude``)."""
    size = batch.source_mask.sum(axis=1) - 1
    return _keys(np.where(batch.source < DIGITS, batch.source, 0), size)


def random_batch(
    rng: np.random.Generator,
    n: int,
    lengths: tuple[int, int],
    exclude: np.ndarray | None = None,
) -> Batch:
    """A batch of ``n`` uniform digit strings with lengths uniform in ``lengths`` (inclusive),
    none of whose keys (:func:`batch_keys`) is in ``exclude``: the same batch as
    :func:`reversal_batch` of those strings, built without a loop over the examples."""
    low, high = lengths
    digits = rng.integers(0, DIGITS, size=(n, high))
    size = rng.integers(low, high + 1, size=n)
    redraw = np.zeros(n, dtype=bool) if exclude is None else np.isin(_keys(digits, size), exclude)
    while redraw.any():  # replace the excluded strings by new ones
        count = int(redraw.sum())
        digits[redraw] = rng.integers(0, DIGITS, size=(count, high))
        size[redraw] = rng.integers(low, high + 1, size=count)
        redraw[redraw] = np.isin(_keys(digits[redraw], size[redraw]), exclude)
    width = size.max() + 1
    position = np.arange(width)
    inside = position < size[:, None]
    source = np.where(inside, np.pad(digits, ((0, 0), (0, 1)))[:, :width], PAD)
    source[np.arange(n), size] = EOS
    backwards = np.take_along_axis(digits, np.clip(size[:, None] - 1 - position, 0, None), 1)
    reverse = np.where(inside, backwards, PAD)
    target = reverse.copy()
    target[np.arange(n), size] = EOS
    decoder_input = np.concatenate([np.full((n, 1), SOS), reverse[:, :-1]], axis=1)
    mask = position <= size[:, None]
    return Batch(source, mask, decoder_input, target, mask.copy())


def one_hot(tokens: np.ndarray) -> np.ndarray:
    """The one-hot rows of all tokens, flattened: shape (tokens.size, VOCAB)."""
    return np.eye(VOCAB)[tokens.ravel()]


def cross_entropy(
    logits: np.ndarray, target: np.ndarray, mask: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean of -log softmax(logits)[target] over the positions where ``mask`` is True, and its
    gradient with respect to ``logits``: (softmax - one-hot) / count on those positions."""
    probs = attention.softmax(logits, axis=-1)
    picked = np.take_along_axis(probs, target[..., None], axis=-1)
    count = mask.sum()
    loss = -np.sum(np.log(np.maximum(picked[..., 0][mask], 1e-300))) / count
    np.put_along_axis(probs, target[..., None], picked - 1.0, axis=-1)
    return float(loss), probs * (mask[..., None] / count)


def attend_each_step(
    queries: np.ndarray, states: np.ndarray, mask: np.ndarray, scaled: bool
) -> tuple[np.ndarray, np.ndarray, list]:
    """Contexts (N, T, H) and weights (N, T, S) of the queries (N, T, H) over the encoder
    states (N, S, H), which serve as keys and values; one attention call per decoder step."""
    contexts, weights, caches = np.empty(queries.shape), [], []
    for t in range(queries.shape[1]):
        contexts[:, t], w, cache = attention.attention_forward(
            queries[:, t], states, states, mask=mask, scaled=scaled
        )
        weights.append(w)
        caches.append(cache)
    return contexts, np.stack(weights, axis=1), caches


def attend_each_step_backward(dcontexts: np.ndarray, caches: list) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of the queries (N, T, H) and of the encoder states (N, S, H), which receive
    one contribution as keys and one as values from every decoder step."""
    dqueries = np.empty(dcontexts.shape)
    dstates = 0.0
    for t, cache in enumerate(caches):
        dqueries[:, t], dkeys, dvalues = attention.attention_backward(dcontexts[:, t], cache)
        dstates = dstates + dkeys + dvalues
    return dqueries, dstates


class Seq2Seq:
    """A tanh encoder-decoder; ``attend`` adds dot-product attention to the decoder, ``feed``
    (default True) feeds the decoder the embedding of the previous token (False: zero inputs,
    the decoder recursion without input)."""

    def __init__(
        self,
        rng: np.random.Generator,
        hidden: int = 64,
        embed: int = 16,
        attend: bool = False,
        scaled: bool = True,
        feed: bool = True,
    ) -> None:
        self.attend, self.scaled, self.feed = attend, scaled, feed
        H, E = hidden, embed
        features = 2 * H if attend else H

        def orthogonal(size: int) -> np.ndarray:
            q, r = np.linalg.qr(rng.normal(size=(size, size)))
            return q * np.sign(np.diag(r))

        self.params = {
            "E_enc": rng.normal(size=(VOCAB, E)),
            "Wx_enc": rng.normal(size=(E, H)) / np.sqrt(E),
            "Wh_enc": orthogonal(H),
            "b_enc": np.zeros(H),
            "E_dec": rng.normal(size=(VOCAB, E)),
            "Wx_dec": rng.normal(size=(E, H)) / np.sqrt(E),
            "Wh_dec": orthogonal(H),
            "b_dec": np.zeros(H),
            "Wo": rng.normal(size=(features, VOCAB)) / np.sqrt(features),
            "bo": np.zeros(VOCAB),
        }

    @property
    def hidden(self) -> int:
        """The state size H."""
        return self.params["Wh_enc"].shape[0]

    def encode(self, source: np.ndarray, source_mask: np.ndarray) -> tuple:
        """Encoder states (N, S, H), the context (N, H): the state at each source's last real
        position (its <eos>), and the cache of the encoder's forward pass."""
        p = self.params
        h0 = np.zeros((source.shape[0], self.hidden))
        states, cache = bptt.rnn_forward(
            p["E_enc"][source], h0, p["Wx_enc"], p["Wh_enc"], p["b_enc"]
        )
        last = source_mask.sum(axis=1) - 1
        return states, states[np.arange(source.shape[0]), last], cache

    def decoder_inputs(self, tokens: np.ndarray) -> np.ndarray:
        """Embeddings of the decoder's input tokens (N, T, E), or zeros when ``feed`` is off."""
        if self.feed:
            return self.params["E_dec"][tokens]
        return np.zeros((*tokens.shape, self.params["E_dec"].shape[1]))

    def forward(self, batch: Batch) -> tuple[np.ndarray, np.ndarray | None, tuple]:
        """Teacher-forced logits (N, T, V), attention weights (N, T, S) or None, and caches."""
        p = self.params
        states, context, enc_cache = self.encode(batch.source, batch.source_mask)
        s, dec_cache = bptt.rnn_forward(
            self.decoder_inputs(batch.decoder_input), context, p["Wx_dec"], p["Wh_dec"], p["b_dec"]
        )
        weights, att_caches, features = None, None, s
        if self.attend:
            contexts, weights, att_caches = attend_each_step(
                s, states, batch.source_mask, self.scaled
            )
            features = np.concatenate([s, contexts], axis=-1)  # [s_t, c_t]
        logits, out_cache = bptt.temporal_affine_forward(features, p["Wo"], p["bo"])
        return logits, weights, (states, enc_cache, dec_cache, att_caches, out_cache)

    def loss_and_grads(self, batch: Batch) -> tuple[float, dict[str, np.ndarray]]:
        """Cross-entropy of the teacher-forced predictions and its gradient for every
        parameter."""
        H = self.hidden
        logits, _, (states, enc_cache, dec_cache, att_caches, out_cache) = self.forward(batch)
        loss, dlogits = cross_entropy(logits, batch.target, batch.target_mask)
        dfeatures, dWo, dbo = bptt.temporal_affine_backward(dlogits, out_cache)
        dstates = np.zeros(states.shape)
        ds = dfeatures[..., :H]
        if self.attend:
            dqueries, dstates = attend_each_step_backward(dfeatures[..., H:], att_caches)
            ds = ds + dqueries
        dy, dcontext, dWx_dec, dWh_dec, db_dec = bptt.rnn_backward(ds, dec_cache)
        N = batch.source.shape[0]
        dstates[np.arange(N), batch.source_mask.sum(axis=1) - 1] += dcontext
        dx, _, dWx_enc, dWh_enc, db_enc = bptt.rnn_backward(dstates, enc_cache)
        dE_enc = one_hot(batch.source).T @ dx.reshape(-1, dx.shape[-1])  # rows of used tokens
        dE_dec = one_hot(batch.decoder_input).T @ dy.reshape(-1, dy.shape[-1])
        if not self.feed:  # the inputs are zeros, not embeddings
            dE_dec = np.zeros_like(dE_dec)
        grads = {
            "E_enc": dE_enc,
            "Wx_enc": dWx_enc,
            "Wh_enc": dWh_enc,
            "b_enc": db_enc,
            "E_dec": dE_dec,
            "Wx_dec": dWx_dec,
            "Wh_dec": dWh_dec,
            "b_dec": db_dec,
            "Wo": dWo,
            "bo": dbo,
        }
        return loss, grads

    def greedy(
        self,
        source: np.ndarray,
        source_mask: np.ndarray,
        max_len: int,
        feedback: str = "embedding",
        first_input: str = "sos",
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Greedy decoding until <eos> (or ``max_len`` tokens): tokens (N, max_len), lengths
        (N,) and, with attention, the weights (N, steps, S).

        The decoder's input is the embedding of the previous token (``feedback="embedding"``)
        or, as a wrong alternative, the previous logits times the embedding matrix
        (``"logits"``: the logits take the place of the one-hot row); the first input is the
        embedding of <sos> (``first_input="sos"``) or, wrongly, a zero vector (``"zeros"``).
        """
        if feedback not in ("embedding", "logits") or first_input not in ("sos", "zeros"):
            raise ValueError(f"unknown feedback {feedback!r} or first_input {first_input!r}")
        p = self.params
        states, context, _ = self.encode(source, source_mask)
        recorded: list[np.ndarray] = []

        def step(previous: np.ndarray, carried: tuple) -> tuple[np.ndarray, tuple]:
            s, logits_before, t = carried
            x = self.decoder_inputs(previous[:, None])
            if t == 0 and first_input == "zeros":
                x = np.zeros_like(x)
            elif t > 0 and feedback == "logits":
                x = (logits_before @ p["E_dec"])[:, None]
            s_new = bptt.rnn_forward(x, s, p["Wx_dec"], p["Wh_dec"], p["b_dec"])[0]
            features = s_new
            if self.attend:
                c, w, _ = attention.attention_forward(
                    s_new[:, 0], states, states, mask=source_mask, scaled=self.scaled
                )
                recorded.append(w)
                features = np.concatenate([s_new, c[:, None]], axis=-1)
            logits = bptt.temporal_affine_forward(features, p["Wo"], p["bo"])[0][:, 0]
            return logits, (s_new[:, 0], logits, t + 1)

        start = (context, None, 0)
        tokens, lengths = greedy_decode(step, start, source.shape[0], SOS, EOS, PAD, max_len)
        weights = np.stack(recorded, axis=1) if recorded else None
        return tokens, lengths, weights


def train(
    model: Seq2Seq,
    rng: np.random.Generator,
    steps: int,
    lengths: tuple[int, int],
    exclude: np.ndarray | None = None,
    batch_size: int = 128,
    lr: float = 3e-3,
    max_norm: float = 1.0,
    transform: Callable[[Batch], Batch] | None = None,
) -> np.ndarray:
    """Adam on fresh random batches, gradients clipped to a global norm of ``max_norm``; returns
    the loss of every step. The strings of a batch have one length, drawn uniformly from
    ``lengths`` at every step (batches by length need no padding); ``transform``, if given,
    changes every batch before use."""
    adam = Adam(model.params, lr=lr)
    losses = np.empty(steps)
    for i in range(steps):
        length = int(rng.integers(lengths[0], lengths[1] + 1))  # one length per batch
        batch = random_batch(rng, batch_size, (length, length), exclude)
        if transform is not None:
            batch = transform(batch)
        losses[i], grads = model.loss_and_grads(batch)
        clipped, _ = bptt.clip_by_global_norm(grads, max_norm)
        adam.step(clipped)
    return losses


# The experiment both chapters run: the same held-out sets, the same seeds, the same budget.
LENGTHS = (3, 12)
STEPS = 1000


def held_out_sets(seed: int = 1, per_length: int = 300) -> dict[int, Batch]:
    """For every length in ``LENGTHS``, a batch of ``per_length`` random strings of that
    length, kept out of training (see :func:`train_reversal`)."""
    rng = np.random.default_rng(seed)
    return {n: random_batch(rng, per_length, (n, n)) for n in range(LENGTHS[0], LENGTHS[1] + 1)}


def train_reversal(
    attend: bool, sets: dict[int, Batch], seed: int = 0, steps: int = STEPS
) -> tuple[Seq2Seq, np.ndarray]:
    """A model with H = 64 and embeddings of size 16, trained for ``steps`` Adam steps on
    batches of 128 strings of lengths in ``LENGTHS``, none of them in ``sets``."""
    rng = np.random.default_rng(seed)
    model = Seq2Seq(rng, hidden=64, embed=16, attend=attend)
    exclude = np.concatenate([batch_keys(batch) for batch in sets.values()])
    return model, train(model, rng, steps, LENGTHS, exclude)


def accuracy(tokens: np.ndarray, batch: Batch) -> tuple[np.ndarray, float]:
    """Whole-sequence exact match of every example (N,) bool, and the per-token accuracy: the
    fraction of real target positions (<eos> included) where ``tokens`` equals the target."""
    hits = tokens[:, : batch.target.shape[1]] == batch.target
    exact = np.all(hits | ~batch.target_mask, axis=1)
    return exact, float(hits[batch.target_mask].mean())


def evaluate(model: Seq2Seq, sets: dict[int, Batch], max_len: int = 15) -> dict[str, object]:
    """Greedy decoding of every set of ``sets`` (as made by :func:`held_out_sets`): the exact
    match and the per-token accuracy of each length, as arrays in increasing length, and the
    tokens and attention weights (or None) of each length, as dicts by length."""
    lengths = sorted(sets)
    exact, per_token, tokens, weights = np.empty(len(lengths)), np.empty(len(lengths)), {}, {}
    for i, n in enumerate(lengths):
        tokens[n], _, weights[n] = model.greedy(sets[n].source, sets[n].source_mask, max_len)
        right, per_token[i] = accuracy(tokens[n], sets[n])
        exact[i] = right.mean()
    return {"exact": exact, "per_token": per_token, "tokens": tokens, "weights": weights}


def spread(values: np.ndarray, digits: int = 3) -> str:
    """``values`` (one per seed) as "mean (min to max)", for tables over seeds."""
    values = np.asarray(values, dtype=np.float64)
    return f"{values.mean():.{digits}f} ({values.min():.{digits}f} to {values.max():.{digits}f})"
