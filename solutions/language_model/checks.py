"""Checks of the assignment *language_model*: embedding_forward/backward, temporal_softmax_loss,
sample and beam_search.

``CHECKS`` maps the grade_id of every graded test cell of ``language_model.ipynb`` to its check.
A check treats the student's functions as black boxes (through
:class:`autograder.checking.api.Student`), draws fresh inputs from the generator it is given, and
compares the answers with the references below. The references are independent of the
notebook's solution and written differently from it: explicit loops over the steps with Python
floats (``math.fsum``, ``math.exp``) for the embedding and the loss, a running sum over the
probabilities for sampling, and, for beam search, a ranking by explicit sort keys (score, parent
rank, token), an exhaustive search by recursion and a greedy loop. When an answer is wrong, the
check compares it with known-wrong variants of the reference to name the likely cause.

Two arguments are not arrays. ``sample`` receives a ``np.random.Generator``: the check builds it
beside the student's code with :meth:`Student.function` from the source
``np.random.default_rng(<seed>)`` (evaluated there, in the sandbox as in process), and draws the
expected uniform numbers from a generator seeded alike. To see a second call continue the
stream, the check gets the student's generator back from :meth:`Student.call_seeing_inputs` (a
handle in the sandbox) and passes it again. ``beam_search`` receives ``step``, a ``lambda`` built
the same way from :func:`_step_source`: a small random model whose state is the code of the
tokens generated so far, so that the log-probabilities it returns depend on every token the
search passed it, in order. If the search passes a wrong token or a wrong state, it sees another
model and its answer differs from the reference. A call ``step(eos, ...)`` (extending a finished
hypothesis) returns log-probabilities raised by POISON, which such a search then prefers, and the
result shows eos followed by more tokens.

The backward check of the embedding runs the student's embedding_forward first, under
:func:`~autograder.checking.toolkit.prerequisite` (its cache is the backward pass's input).

Every check calls the function it grades through
:func:`~autograder.checking.toolkit.call_leaving_inputs`, which fails when the call changed one of
its array arguments (``ARGUMENTS`` names them).

Properties the statement asks for, and the check that grades each ("mistakes": the entries of
``mistakes.py`` that break the property; besides, ``tests/autograder/test_checks.py`` changes
every float or bool array argument of every graded function in place, one at a time, and sees a
check of that function fail):

property                              grade_id                           mistakes
------------------------------------  ---------------------------------  -------------------------
every function: float64 arrays, int64 every check of the function        embedding_float32
token ids, ints and floats
every function: outputs of the        every check of the function        vocabulary_from_idx
stated shapes
every function: its arguments come    every check of the function        loss_scores_in_place
back unchanged (to RESTORED_ATOL)
every function: NumPy only (no        every check, in the sandbox        -
rnnbook, no scipy)
embedding_forward: out[n, t] =        embedding_forward_values           embedding_float32
W[idx[n, t]]
embedding_backward: dW of W's shape,  embedding_backward_dw              vocabulary_from_idx
zero rows for absent tokens
embedding_backward: repeated tokens   embedding_backward_repeated        fancy_index_accumulate
add up
temporal_softmax_loss: mean of        temporal_softmax_loss_value        loss_mean_over_batch
-log softmax[target], one float
temporal_softmax_loss: dscores =      temporal_softmax_loss_dscores      gradient_not_divided
(softmax - one_hot) / M; central                                         gradient_no_one_hot
differences agree
temporal_softmax_loss: mean over the  temporal_softmax_loss_mask         loss_mean_over_all_steps
unmasked steps, masked steps give                                        mask_not_in_gradient
nothing, all masked gives 0.0, zeros                                     all_masked_nan
temporal_softmax_loss: finite and     temporal_softmax_loss_stability    loss_no_max_shift
right for scores of size 1000 and a                                      loss_log_of_softmax
target 1000 below the max
sample: one rng.random(N), smallest   sample_protocol                    sample_argmax
i with cumsum > u, same seed same                                        sample_fresh_generator
draws, the stream continues                                              sample_one_draw_for_batch
sample: softmax(logits /              sample_temperature                 temperature_multiplied
temperature), stable for large                                           sample_no_max_shift
logits / temperature
beam_search: beam_width=1 is greedy   beam_search_greedy                 beam_sums_probabilities
beam_search: beam_width >= V ** L is  beam_search_exhaustive             beam_always_greedy
exhaustive search
beam_search: eos finishes, is kept,   beam_search_eos                    beam_drops_eos
takes a place at its step, never                                         beam_extends_finished
extended                                                                 beam_eos_takes_no_place
beam_search: pruning by raw summed    beam_search_pruning                beam_always_greedy
log-probability, beam_width kept
beam_search: final choice and score   beam_search_length_normalisation   beam_final_ignores_alpha
by sum / len(tokens) ** alpha                                            beam_score_not_normalised
                                                                         beam_length_counts_bos
beam_search: ties by parent rank,     beam_search_ties                   beam_ties_reversed
then token; the first finished wins                                      beam_final_tie_last
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checking.api import Check, CheckFailed, Student
from autograder.checking.toolkit import (
    ESTIMATE_TOL,
    Variant,
    call_leaving_inputs,
    close,
    compare,
    describe,
    float_array,
    float_scalar,
    mismatch,
    prerequisite,
    unpack,
    wrong_sign,
)

CHAPTER_LM = "the chapter A character-level language model (chapters/char_language_model.md)"
CHAPTER_PRACTICE = "the chapter Regularisation and training practice (chapters/regularisation.md)"
CHAPTER_DECODING = "the chapter Decoding: from greedy to beam search (chapters/decoding.md)"
# The positional parameters of the graded functions, as call_leaving_inputs names them; None for
# one it does not compare (a number, a cache, a generator, a function).
ARGUMENTS = {
    "embedding_forward": ("idx", "W"),
    "embedding_backward": ("dout", None),
    "temporal_softmax_loss": ("scores", "targets", "mask"),
    "sample": ("logits", None, None),
    "beam_search": (None, None, None, None, None, None, None),
}


def int_array(function: str, output: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` after checking it is an int64 ndarray of the given shape."""
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{function}: {output} must be a numpy array, got {describe(value)}")
    if value.dtype != np.int64:
        raise CheckFailed(
            f"{function}: {output} must have dtype int64 (token ids), got {value.dtype}"
        )
    if value.shape != tuple(shape):
        raise CheckFailed(f"{function}: {output} has shape {value.shape}, expected {shape}")
    return value


# ---------------------------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------------------------


def reference_embedding_forward(idx: np.ndarray, W: np.ndarray) -> np.ndarray:
    """out[n, t] = W[idx[n, t]], one step at a time."""
    N, T = idx.shape
    out = np.empty((N, T, W.shape[1]))
    for n in range(N):
        for t in range(T):
            out[n, t] = W[int(idx[n, t])]
    return out


def reference_embedding_backward(idx: np.ndarray, dout: np.ndarray, V: int) -> np.ndarray:
    """dW[i] = the sum of dout[n, t] over the steps with idx[n, t] = i, one step at a time."""
    N, T, D = dout.shape
    dW = np.zeros((V, D))
    for n in range(N):
        for t in range(T):
            dW[int(idx[n, t])] += dout[n, t]
    return dW


def _embedding_inputs(
    rng: np.random.Generator, N: int, T: int, V: int, D: int, repeated: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``(idx, W)``: with ``repeated``, some token occurs at least twice; without, no token
    occurs twice (V >= N T). In both, token V - 1 never occurs (dW's shape comes from W)."""
    if repeated:
        idx = rng.integers(0, V - 1, size=(N, T))
        while len(np.unique(idx)) == idx.size:
            idx = rng.integers(0, V - 1, size=(N, T))
    else:
        idx = rng.permutation(V - 1)[: N * T].reshape(N, T)
    return idx.astype(np.int64), rng.standard_normal((V, D))


def _checked_embedding_forward(
    student: Student, idx: np.ndarray, W: np.ndarray, caller: str | None = None
) -> Any:
    """Call embedding_forward, check out against the reference, return the cache."""
    result = call_leaving_inputs(
        student, "embedding_forward", ARGUMENTS["embedding_forward"], idx, W, caller=caller
    )
    out, cache = unpack("embedding_forward", result, ("out", "cache"))
    N, T = idx.shape
    out = float_array("embedding_forward", "out", out, (N, T, W.shape[1]), "(N, T, D)")
    expected = reference_embedding_forward(idx, W)
    compare(
        "embedding_forward",
        "out",
        out,
        expected,
        [
            ("out[n, t] must be the row idx[n, t] of W, not a column", lambda: W.T[idx]),
            ("out is all zeros: copy the rows of W", lambda: np.zeros_like(expected)),
        ],
        f"out[n, t] must be W[idx[n, t]]; see {CHAPTER_LM}",
        f"N={N}, T={T}, V={W.shape[0]}, D={W.shape[1]}",
    )
    return cache


SHAPES = ((1, 1, 3, 2), (2, 3, 5, 4))  # (N, T, V, D) besides a random one


def _embedding_shapes(rng: np.random.Generator, repeated: bool) -> list[tuple[int, ...]]:
    N, T = int(rng.integers(2, 5)), int(rng.integers(2, 6))
    V = int(rng.integers(3, 7)) if repeated else N * T + int(rng.integers(1, 4))
    shapes = [(N, T, V, int(rng.integers(1, 5)))]
    if repeated:
        return [(2, 3, 3, 2), (1, 4, 4, 3), *shapes]
    return [(1, 1, 3, 2), (2, 3, 8, 4), *shapes]


def check_embedding_forward_values(student: Student, rng: np.random.Generator) -> None:
    """out = W[idx] for N = 1, T = 1, with and without repeated tokens, and a random shape."""
    for repeated in (False, True):
        for N, T, V, D in _embedding_shapes(rng, repeated):
            _checked_embedding_forward(student, *_embedding_inputs(rng, N, T, V, D, repeated))


def _check_embedding_backward(student: Student, rng: np.random.Generator, repeated: bool) -> None:
    for N, T, V, D in _embedding_shapes(rng, repeated):
        idx, W = _embedding_inputs(rng, N, T, V, D, repeated)
        dout = rng.standard_normal((N, T, D))
        with prerequisite("embedding_forward", "embedding_backward"):
            cache = _checked_embedding_forward(student, idx, W, caller="embedding_backward")
        result = call_leaving_inputs(
            student, "embedding_backward", ARGUMENTS["embedding_backward"], dout, cache
        )
        largest = int(idx.max()) + 1
        dW = float_array(
            "embedding_backward",
            "dW",
            result,
            (V, D),
            "(V, D), the shape of W",
            hints={
                (largest, D): "take V from W.shape (a token may not occur in idx), not from the "
                "largest index in idx",
                (N * T, D): "dW has one row per token of the vocabulary, not one per step",
            },
        )
        expected = reference_embedding_backward(idx, dout, V)

        def last_wins(idx: np.ndarray = idx, dout: np.ndarray = dout, V: int = V) -> np.ndarray:
            dW = np.zeros((V, dout.shape[2]))
            for n in range(idx.shape[0]):
                for t in range(idx.shape[1]):
                    dW[int(idx[n, t])] = dout[n, t]
            return dW

        def averaged(
            expected: np.ndarray = expected, idx: np.ndarray = idx, V: int = V
        ) -> np.ndarray:
            counts = np.array([np.count_nonzero(idx == i) for i in range(V)], dtype=float)
            return expected / np.maximum(counts, 1.0)[:, None]

        compare(
            "embedding_backward",
            "dW",
            dW,
            expected,
            [
                (
                    "repeated indices are not accumulated: with dW[idx] += dout a token that "
                    "occurs several times receives only one of its upstream gradients; use "
                    "np.add.at(dW, idx, dout) or a loop",
                    last_wins,
                ),
                (
                    "the gradients of a repeated token are averaged: they must be summed",
                    averaged,
                ),
                wrong_sign("dW", expected),
            ],
            f"dW[i] is the sum of dout[n, t] over the steps where idx[n, t] = i; see {CHAPTER_LM}",
            f"N={N}, T={T}, V={V}, D={D}, idx={idx.tolist()}",
        )


def check_embedding_backward_dw(student: Student, rng: np.random.Generator) -> None:
    """dW without repeated tokens; the rows of absent tokens (V - 1 included) are 0."""
    _check_embedding_backward(student, rng, repeated=False)


def check_embedding_backward_repeated(student: Student, rng: np.random.Generator) -> None:
    """dW with tokens that occur several times: their upstream gradients add up."""
    _check_embedding_backward(student, rng, repeated=True)


# ---------------------------------------------------------------------------------------------
# Temporal softmax loss
# ---------------------------------------------------------------------------------------------


def _log_softmax(row: np.ndarray) -> list[float]:
    """log softmax of one row with Python floats: s_v - (m + log sum_u exp(s_u - m))."""
    values = [float(v) for v in row]
    top = max(values)
    log_total = top + math.log(math.fsum(math.exp(v - top) for v in values))
    return [v - log_total for v in values]


def reference_loss(
    scores: np.ndarray, targets: np.ndarray, mask: np.ndarray
) -> tuple[float, np.ndarray]:
    """The mean cross-entropy over the unmasked steps, and its gradient, one step at a time."""
    N, T, V = scores.shape
    steps = [(n, t) for n in range(N) for t in range(T) if mask[n, t]]
    dscores = np.zeros((N, T, V))
    if not steps:
        return 0.0, dscores
    terms = []
    for n, t in steps:
        log_probs = _log_softmax(scores[n, t])
        target = int(targets[n, t])
        terms.append(-log_probs[target])
        for v in range(V):
            dscores[n, t, v] = (math.exp(log_probs[v]) - (1.0 if v == target else 0.0)) / len(steps)
    return math.fsum(terms) / len(steps), dscores


def _loss_inputs(
    rng: np.random.Generator, N: int, T: int, V: int, masked: bool, scale: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(scores, targets, mask)``; the mask is all True unless ``masked``, and then has at least
    one True and one False."""
    scores = scale * rng.standard_normal((N, T, V))
    targets = rng.integers(0, V, size=(N, T)).astype(np.int64)
    mask = np.ones((N, T), dtype=bool)
    if masked:
        mask = rng.random((N, T)) < 0.6
        mask[rng.integers(N), rng.integers(T)] = True
        mask[rng.integers(N), rng.integers(T)] = False
    return scores, targets, mask


def _loss_case(scores: np.ndarray, mask: np.ndarray) -> str:
    N, T, V = scores.shape
    text = f"N={N}, T={T}, V={V}"
    if not mask.all():
        text += f", mask={mask.astype(int).tolist()}"
    return text


def _call_loss(
    student: Student, scores: np.ndarray, targets: np.ndarray, mask: np.ndarray
) -> tuple[float, np.ndarray]:
    result = call_leaving_inputs(
        student, "temporal_softmax_loss", ARGUMENTS["temporal_softmax_loss"], scores, targets, mask
    )
    loss, dscores = unpack("temporal_softmax_loss", result, ("loss", "dscores"))
    loss = float_scalar("temporal_softmax_loss", "loss", loss)
    dscores = float_array("temporal_softmax_loss", "dscores", dscores, scores.shape, "(N, T, V)")
    return loss, dscores


def _loss_variants(
    scores: np.ndarray, targets: np.ndarray, mask: np.ndarray, expected: float
) -> list[Variant]:
    N, T, _ = scores.shape
    count = int(mask.sum())
    variants: list[Variant] = []
    if not mask.all():
        every = np.ones_like(mask)
        variants += [
            (
                "the mean is over all N T steps instead of over the unmasked steps: divide the "
                "sum by the number of True entries of mask",
                lambda: expected * count / (N * T),
            ),
            (
                "the mask is ignored: masked steps must contribute nothing",
                lambda: reference_loss(scores, targets, every)[0],
            ),
            (
                "the mask is inverted: True means the step counts",
                lambda: reference_loss(scores, targets, ~mask)[0],
            ),
        ]
    variants += [
        (
            "the loss is the sum over the steps, not the mean over the unmasked steps",
            lambda: expected * count,
        ),
        (
            "the sum is divided by N (the mean over the batch) instead of by the number of "
            "unmasked steps",
            lambda: expected * count / N,
        ),
        ("the loss has the wrong sign: it is -log p of the target", lambda: -expected),
    ]
    return variants


def _dscores_variants(
    scores: np.ndarray, targets: np.ndarray, mask: np.ndarray, expected: np.ndarray
) -> list[Variant]:
    N, T, _ = scores.shape
    count = int(mask.sum())
    variants: list[Variant] = []
    if not mask.all():
        every = np.ones_like(mask)
        variants += [
            (
                "the mask is applied to the loss but not to the gradient at masked steps: "
                "dscores must be 0 there",
                lambda: reference_loss(scores, targets, every)[1] * (N * T) / count,
            ),
            (
                "dscores is divided by N T instead of by the number of unmasked steps",
                lambda: expected * count / (N * T),
            ),
        ]
    onehot = np.zeros_like(expected)
    for n in range(N):
        for t in range(T):
            onehot[n, t, int(targets[n, t])] = 1.0
    variants += [
        (
            "dscores is not divided by the number of unmasked steps (the loss is a mean)",
            lambda: expected * count,
        ),
        (
            "dscores is divided by N instead of by the number of unmasked steps",
            lambda: expected * count / N,
        ),
        (
            "the one-hot of the target is not subtracted: dscores = softmax - one_hot(target)",
            lambda: expected + onehot * mask[:, :, None] / count,
        ),
        wrong_sign("dscores", expected),
    ]
    return variants


def _compare_loss(
    student: Student,
    scores: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    outputs: tuple[str, ...] = ("loss", "dscores"),
) -> np.ndarray:
    loss, dscores = _call_loss(student, scores, targets, mask)
    expected_loss, expected_dscores = reference_loss(scores, targets, mask)
    case = _loss_case(scores, mask)
    fallback = f"compare with the cross-entropy of {CHAPTER_LM} and the masks of {CHAPTER_PRACTICE}"
    if "loss" in outputs:
        compare(
            "temporal_softmax_loss",
            "loss",
            loss,
            expected_loss,
            _loss_variants(scores, targets, mask, expected_loss),
            fallback,
            case,
        )
    if "dscores" in outputs:
        compare(
            "temporal_softmax_loss",
            "dscores",
            dscores,
            expected_dscores,
            _dscores_variants(scores, targets, mask, expected_dscores),
            "dscores at an unmasked step is (softmax - one_hot(target)) / (number of unmasked "
            f"steps), 0 at a masked step; {fallback}",
            case,
        )
    return dscores


def _loss_shapes(rng: np.random.Generator) -> list[tuple[int, int, int]]:
    general = (int(rng.integers(2, 5)), int(rng.integers(2, 6)), int(rng.integers(2, 7)))
    return [(1, 1, 2), (1, 4, 3), (3, 1, 5), general]


def check_temporal_softmax_loss_value(student: Student, rng: np.random.Generator) -> None:
    """The loss with every step unmasked."""
    for N, T, V in _loss_shapes(rng):
        _compare_loss(student, *_loss_inputs(rng, N, T, V, masked=False), outputs=("loss",))


def check_temporal_softmax_loss_dscores(student: Student, rng: np.random.Generator) -> None:
    """dscores with every step unmasked, against the reference, and the reference's and the
    answer's directional derivatives against central differences of the reference loss."""
    eps = 1e-5
    for N, T, V in _loss_shapes(rng):
        scores, targets, mask = _loss_inputs(rng, N, T, V, masked=False)
        dscores = _compare_loss(student, scores, targets, mask, outputs=("dscores",))
        for _ in range(2):
            direction = rng.standard_normal(scores.shape)
            plus = reference_loss(scores + eps * direction, targets, mask)[0]
            minus = reference_loss(scores - eps * direction, targets, mask)[0]
            estimate = (plus - minus) / (2 * eps)
            analytic = float(np.sum(dscores * direction))
            if abs(analytic - estimate) > ESTIMATE_TOL * max(1.0, abs(estimate)):
                raise CheckFailed(
                    f"temporal_softmax_loss: dscores disagrees with central differences of the "
                    f"loss along a random direction ({analytic:.6f} against {estimate:.6f}; "
                    f"{_loss_case(scores, mask)})"
                )


def check_temporal_softmax_loss_mask(student: Student, rng: np.random.Generator) -> None:
    """Random masks (a fully masked sequence among them), then no unmasked step at all."""
    for N, T, V in [(2, 4, 3), (3, 3, 4), (int(rng.integers(2, 5)), 5, int(rng.integers(2, 6)))]:
        scores, targets, mask = _loss_inputs(rng, N, T, V, masked=True)
        _compare_loss(student, scores, targets, mask)
    scores, targets, mask = _loss_inputs(rng, 3, 4, 3, masked=True)
    mask[1] = False  # a sequence of length 0
    mask[0, 0] = True
    _compare_loss(student, scores, targets, mask)
    scores, targets, _ = _loss_inputs(rng, 2, 3, 4, masked=False)
    nothing = np.zeros((2, 3), dtype=bool)
    loss, dscores = _call_loss(student, scores, targets, nothing)
    if not (loss == 0.0 and np.all(dscores == 0.0)):
        nan = not (np.isfinite(loss) and np.all(np.isfinite(dscores)))
        raise CheckFailed(
            f"temporal_softmax_loss: with no unmasked step (mask all False, N=2, T=3) the loss "
            f"must be 0.0 and dscores zeros, got loss {loss}"
            + (": no unmasked step gives 0/0 = nan; return 0.0 and zeros first" if nan else "")
        )


def check_temporal_softmax_loss_stability(student: Student, rng: np.random.Generator) -> None:
    """Scores near 1000 (exp overflows), then targets 1000 below the largest score (their
    probability underflows to 0, the loss is about 1000)."""
    cases = []
    scores, targets, mask = _loss_inputs(rng, 2, 3, 4, masked=False, scale=1.0)
    cases.append(("scores near 1000", scores + 1000.0, targets, mask))
    scores, targets, mask = _loss_inputs(rng, 2, 3, 4, masked=False, scale=1.0)
    low = scores.copy()
    for n in range(2):
        for t in range(3):
            low[n, t, int(targets[n, t])] -= 1000.0
    cases.append(("every target 1000 below the other scores", low, targets, mask))
    for what, scores, targets, mask in cases:
        loss, dscores = _call_loss(student, scores, targets, mask)
        expected_loss, expected_dscores = reference_loss(scores, targets, mask)
        if close(loss, expected_loss) and close(dscores, expected_dscores):
            continue
        if not np.isfinite(loss) or not np.all(np.isfinite(dscores)):
            if what == "scores near 1000":
                cause = (
                    "exp(1000) overflows to inf: subtract the largest score of each step before "
                    "exp (log-sum-exp)"
                )
            else:
                cause = (
                    "the target's probability e^-1000 underflows to 0 and its log is -inf: "
                    "compute log-probabilities as s - (m + log sum exp(s - m)), not as the log "
                    "of the softmax"
                )
        else:
            cause = f"compute the loss with log-sum-exp, as in {CHAPTER_LM}"
        output, got, expected = (
            ("loss", loss, expected_loss)
            if not close(loss, expected_loss)
            else ("dscores", dscores, expected_dscores)
        )
        raise mismatch("temporal_softmax_loss", output, got, expected, cause, what)


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------


def reference_sample(logits: np.ndarray, temperature: float, u: np.ndarray) -> np.ndarray:
    """For every row, a running sum of p = softmax(logits / temperature) until it exceeds u."""
    tokens = []
    for row, draw in zip(logits, u, strict=True):
        z = [float(v) / temperature for v in row]
        top = max(z)
        e = [math.exp(v - top) for v in z]
        total = math.fsum(e)
        running, chosen = 0.0, len(e) - 1
        for i, v in enumerate(e):
            running += v / total
            if running > draw:
                chosen = i
                break
        tokens.append(chosen)
    return np.array(tokens, dtype=np.int64)


def _generator(student: Student, seed: int) -> Any:
    """A fresh np.random.Generator seeded with ``seed``, built beside the student's code."""
    return student.function(f"np.random.default_rng({seed})")


def _sample_variants(
    logits: np.ndarray, temperature: float, u: np.ndarray, expected: np.ndarray
) -> list[Variant]:
    N = len(logits)
    variants: list[Variant] = []
    if temperature != 1.0:
        variants += [
            (
                "the logits are multiplied by the temperature: divide them by it (do not multiply)",
                lambda: reference_sample(logits, 1.0 / temperature, u),
            ),
            (
                "the temperature is ignored: p = softmax(logits / temperature)",
                lambda: reference_sample(logits, 1.0, u),
            ),
        ]
    variants.append(
        (
            "these are the argmax of each row: sample must draw from the probabilities, not "
            "take the most likely token",
            lambda: np.argmax(logits, axis=1),
        )
    )
    if N > 1:
        variants.append(
            (
                "every row uses the same uniform number: draw one per row at once, "
                "u = rng.random(N)",
                lambda: reference_sample(logits, temperature, np.full(N, u[0])),
            )
        )
    return variants


def _sample_causes(
    got: np.ndarray, expected: np.ndarray, variants: list[Variant], fallback: str
) -> str:
    """The causes of every known mistake giving ``got`` (a few tokens can match two)."""
    return _causes(
        variants,
        lambda wrong: np.array_equal(wrong, got) and not np.array_equal(wrong, expected),
        fallback,
    )


def _call_sample(student: Student, logits: np.ndarray, temperature: float, rng: Any) -> np.ndarray:
    result = call_leaving_inputs(student, "sample", ARGUMENTS["sample"], logits, temperature, rng)
    return int_array("sample", "the result", result, (len(logits),))


PROTOCOL = (
    "draw u = rng.random(N) once from the rng given (nothing else), and return for row n the "
    "smallest i with cumsum(p[n])[i] > u[n]"
)


def _check_sample(
    student: Student, rng: np.random.Generator, logits: np.ndarray, temperature: float
) -> None:
    """sample(logits, temperature, fresh generator) against the reference on the same draws;
    a second fresh generator with the same seed must give the same tokens."""
    seed = int(rng.integers(2**31))
    u = np.random.default_rng(seed).random(len(logits))
    expected = reference_sample(logits, temperature, u)
    got = _call_sample(student, logits, temperature, _generator(student, seed))
    case = f"N={logits.shape[0]}, V={logits.shape[1]}, temperature={temperature}, u={u.round(3)}"
    if np.array_equal(got, expected):
        return
    # Uniform probabilities over 8 tokens for 32 rows: two generators seeded alike must give
    # the same tokens, which a generator of its own (unseeded) almost never does.
    probe = np.zeros((32, 8))
    first = _call_sample(student, probe, 1.0, _generator(student, seed))
    if not np.array_equal(first, _call_sample(student, probe, 1.0, _generator(student, seed))):
        cause = (
            "two generators seeded alike gave different tokens: sample does not draw from the "
            f"generator it is given ({PROTOCOL})"
        )
    else:
        cause = _sample_causes(
            got,
            expected,
            _sample_variants(logits, temperature, u, expected),
            f"the tokens do not follow the stated protocol: {PROTOCOL}; if the generator it is "
            "given is not used, the draws differ",
        )
    raise CheckFailed(
        f"sample: expected tokens {expected.tolist()}, got {got.tolist()} ({case}): {cause}"
    )


def check_sample_protocol(student: Student, rng: np.random.Generator) -> None:
    """Temperature 1: the stated protocol, the same seed gives the same draws, and two calls on
    one generator continue its stream."""
    shapes = [(1, 2), (4, 3), (int(rng.integers(5, 9)), int(rng.integers(4, 8)))]
    for N, V in shapes:
        _check_sample(student, rng, rng.standard_normal((N, V)) * 1.5, 1.0)
    peaked = rng.standard_normal((6, 5))
    peaked[:, 2] += 4.0
    _check_sample(student, rng, peaked, 1.0)
    # Two calls on one generator: the second continues the stream.
    seed = int(rng.integers(2**31))
    first_logits, second_logits = rng.standard_normal((5, 4)), rng.standard_normal((3, 4))
    reference = np.random.default_rng(seed)
    u1, u2 = reference.random(5), reference.random(3)
    result, after = student.call_seeing_inputs(
        "sample", first_logits.copy(), 1.0, _generator(student, seed)
    )
    first = int_array("sample", "the result", result, (5,))
    expected_first = reference_sample(first_logits, 1.0, u1)
    if not np.array_equal(first, expected_first):
        raise CheckFailed(
            f"sample: expected tokens {expected_first.tolist()}, got {first.tolist()} (first "
            f"of two calls on one generator): {PROTOCOL}"
        )
    second = _call_sample(student, second_logits, 1.0, after[2])
    expected_second = reference_sample(second_logits, 1.0, u2)
    if not np.array_equal(second, expected_second):
        raise CheckFailed(
            f"sample: the second of two calls on one generator gave {second.tolist()}, expected "
            f"{expected_second.tolist()}: draw from the generator it is given and continue its "
            f"stream, without copying or re-seeding it ({PROTOCOL})"
        )


def check_sample_temperature(student: Student, rng: np.random.Generator) -> None:
    """Temperatures 0.5, 2 and 5, then logits of size 1000 with temperature 0.1."""
    for temperature in (0.5, 2.0, 5.0):
        logits = rng.standard_normal((int(rng.integers(4, 8)), int(rng.integers(3, 6)))) * 2
        _check_sample(student, rng, logits, temperature)
    # Rows near 1000 whose largest logit is not the first (0 is what nan probabilities give).
    big = rng.standard_normal((4, 3)) + 1000.0
    big[np.arange(4), rng.integers(1, 3, size=4)] += 3.0
    seed = int(rng.integers(2**31))
    u = np.random.default_rng(seed).random(4)
    expected = reference_sample(big, 0.1, u)
    got = _call_sample(student, big, 0.1, _generator(student, seed))
    if not np.array_equal(got, expected):
        cause = _sample_causes(
            got,
            expected,
            _sample_variants(big, 0.1, u, expected),
            "logits / temperature of size 1e4 overflow exp: subtract the row's max after "
            "dividing by the temperature",
        )
        raise CheckFailed(
            f"sample: expected tokens {expected.tolist()}, got {got.tolist()} (logits near 1000, "
            f"temperature 0.1): {cause}"
        )


# ---------------------------------------------------------------------------------------------
# Beam search
# ---------------------------------------------------------------------------------------------

# Added to the log-probabilities that step returns when it is called with eos: a search that
# extends finished hypotheses then prefers them, and its answer continues after eos.
POISON = 50.0


class Model:
    """A random next-token model over V tokens, as the ``step`` lambda of beam_search.

    The state is an integer code of the tokens generated so far (0 before bos); step(token,
    state) returns the log-softmax of C cos(code * A + B) for the code after ``token``, plus
    POISON when ``token`` is eos, and that code. ``Q`` (a fixed (V,) vector of log-probabilities)
    replaces the cosine when given: every hypothesis then sees the same distribution, which
    makes exact ties.
    """

    def __init__(
        self,
        rng: np.random.Generator | None,
        V: int,
        eos: int,
        *,
        eos_boost: float = 0.0,
        Q: np.ndarray | None = None,
    ) -> None:
        self.V, self.eos = V, eos
        if Q is not None:
            self.source = (
                f"lambda token, state: (Q + {POISON!r} * (int(token) == {eos}), "
                f"state * {V + 1} + int(token) + 1)"
            )
            self.arrays = {"Q": np.asarray(Q, dtype=np.float64)}
            return
        A = rng.uniform(0.3, 3.0, V)
        B = rng.uniform(0.0, 2 * np.pi, V)
        C = float(rng.uniform(1.0, 2.5))
        code = f"(state * {V + 1} + int(token) + 1)"
        logits = f"({C!r} * np.cos({code} * A + B) + BOOST)"
        self.source = (
            f"lambda token, state: ({logits} - np.log(np.sum(np.exp({logits}))) + "
            f"{POISON!r} * (int(token) == {eos}), {code})"
        )
        boost = np.zeros(V)
        boost[eos] = eos_boost
        self.arrays = {"A": A, "B": B, "BOOST": boost}

    def local(self) -> Callable[[int, Any], tuple[np.ndarray, Any]]:
        """The step function in the grader's process (for the references)."""
        return eval(self.source, {"np": np, **self.arrays})  # noqa: S307 - the check's own source

    def remote(self, student: Student) -> Any:
        """The step function beside the student's code."""
        return student.function(self.source, **self.arrays)

    def score(self, tokens: list[int], bos: int, alpha: float) -> float:
        """sum of the log-probabilities of ``tokens`` after bos, over len(tokens) ** alpha."""
        step = self.local()
        log_probs, state = step(bos, 0)
        total = 0.0
        for token in tokens:
            total += float(log_probs[token])
            log_probs, state = step(token, state)
        return total / len(tokens) ** alpha


def reference_beam_search(
    model: Model,
    bos: int,
    beam_width: int,
    max_length: int,
    alpha: float,
    *,
    eos_takes_place: bool = True,
    order: int = 1,
    final_last: bool = False,
    probabilities: bool = False,
    drop_eos: bool = False,
    final_raw: bool = False,
    raw_score: bool = False,
    extra_length: int = 0,
) -> tuple[list[int], float]:
    """Beam search ranking each step's candidates by an explicit key (-score, order * parent
    rank, order * token). The keyword arguments make the known wrong versions: finished
    hypotheses that take no place (``eos_takes_place=False``), ties reversed (``order=-1``), the
    last of equal finished hypotheses (``final_last``), probabilities summed, eos left out of the
    tokens, the final choice by the raw sum (``final_raw``), the raw sum returned as the score
    (``raw_score``), a length counting bos (``extra_length=1``)."""
    step, eos = model.local(), model.eos
    alive: list[tuple[tuple[int, ...], float, int, Any]] = [((), 0.0, bos, 0)]
    done: list[tuple[tuple[int, ...], float]] = []
    for length in range(1, max_length + 1):
        pool = []
        for rank, (tokens, total, last, state) in enumerate(alive):
            log_probs, new_state = step(last, state)
            for token, value in enumerate(np.asarray(log_probs, dtype=float).tolist()):
                gain = math.exp(value) if probabilities else value
                pool.append((total + gain, rank, token, tokens + (token,), new_state))
        pool.sort(key=lambda c: (-c[0], order * c[1], order * c[2]))
        alive, places = [], 0
        for total, _, token, tokens, new_state in pool:
            if (places if eos_takes_place else len(alive)) >= beam_width:
                break
            places += 1
            if token == eos or length == max_length:
                done.append((tokens[:-1] if drop_eos and token == eos else tokens, total))
            else:
                alive.append((tokens, total, token, new_state))
        if not alive:
            break

    def normalised(entry: tuple[tuple[int, ...], float]) -> float:
        tokens, total = entry
        return total / max(len(tokens) + extra_length, 1) ** alpha

    best = None
    for entry in done:
        key = entry[1] if final_raw else normalised(entry)
        if best is None or key > best[0] or (final_last and key == best[0]):
            best = (key, entry)
    tokens, total = best[1]
    return list(tokens), (total if raw_score else normalised(best[1]))


def exhaustive_search(
    model: Model, bos: int, max_length: int, alpha: float
) -> tuple[list[int], float]:
    """The best of every sequence a search can finish (ending at its first eos, or of
    max_length tokens), by recursion over the tokens."""
    step, eos = model.local(), model.eos
    best: list[Any] = [None, -math.inf]

    def visit(tokens: list[int], total: float, last: int, state: Any) -> None:
        log_probs, new_state = step(last, state)
        for token in range(model.V):
            value = total + float(log_probs[token])
            sequence = [*tokens, token]
            if token == eos or len(sequence) == max_length:
                score = value / len(sequence) ** alpha
                if score > best[1]:
                    best[0], best[1] = sequence, score
            else:
                visit(sequence, value, token, new_state)

    visit([], 0.0, bos, 0)
    return best[0], best[1]


def greedy_search(model: Model, bos: int, max_length: int, alpha: float) -> tuple[list[int], float]:
    """The most likely token at every step (the first of equal ones) until eos or max_length."""
    step, eos = model.local(), model.eos
    tokens: list[int] = []
    total, last, state = 0.0, bos, 0
    while len(tokens) < max_length and (not tokens or tokens[-1] != eos):
        log_probs, state = step(last, state)
        values = np.asarray(log_probs, dtype=float).tolist()
        last = max(range(len(values)), key=lambda v: (values[v], -v))
        total += values[last]
        tokens.append(last)
    return tokens, total / len(tokens) ** alpha


def _beam_variants(
    model: Model, bos: int, beam_width: int, max_length: int, alpha: float
) -> list[tuple[str, Callable[[], tuple[list[int], float]]]]:
    """Known-wrong versions of the search, each with its likely cause."""

    def run(**wrong: Any) -> Callable[[], tuple[list[int], float]]:
        return lambda: reference_beam_search(model, bos, beam_width, max_length, alpha, **wrong)

    return [
        (
            "it sums the probabilities instead of the log-probabilities: the log-probability of "
            "a sequence is the sum of its tokens' log-probabilities",
            run(probabilities=True),
        ),
        (
            "the final choice ignores alpha: choose the finished hypothesis by sum / "
            "len(tokens) ** alpha",
            run(final_raw=True),
        ),
        (
            "the score returned is the raw sum: return sum / len(tokens) ** alpha",
            run(raw_score=True),
        ),
        ("the length counts bos: len(tokens) excludes bos", run(extra_length=1)),
        (
            "it keeps only one hypothesis whatever beam_width",
            lambda: reference_beam_search(model, bos, 1, max_length, alpha),
        ),
        (
            "eos is dropped from the tokens: keep eos in the tokens of the hypothesis that "
            "emitted it (and count it in len(tokens))",
            run(drop_eos=True),
        ),
        (
            "a finished hypothesis does not take a place in the beam: a candidate that ends "
            "with eos takes one of the beam_width places at its step, then leaves",
            run(eos_takes_place=False),
        ),
        (
            "ties are broken in reverse (later parent or larger token first): on ties the "
            "earlier parent, then the smaller token, comes first (a stable sort)",
            run(order=-1),
        ),
        (
            "on a tie between finished hypotheses the later one wins: the hypothesis finished "
            "first wins a tie",
            run(final_last=True),
        ),
    ]


def _call_beam(
    student: Student,
    model: Model,
    bos: int,
    beam_width: int,
    max_length: int,
    alpha: float,
) -> tuple[list[int], float]:
    """beam_search on the model, checked to return (list of ints in 0..V-1, float)."""
    args: tuple[Any, ...] = (model.remote(student), 0, bos, model.eos, beam_width, max_length)
    if alpha != 0.0:
        args += (alpha,)
    result = call_leaving_inputs(student, "beam_search", ARGUMENTS["beam_search"], *args)
    tokens, score = unpack("beam_search", result, ("tokens", "score"))
    if isinstance(tokens, np.ndarray):
        tokens = tokens.tolist()
    if not isinstance(tokens, (list, tuple)) or not all(
        isinstance(t, (int, np.integer)) and not isinstance(t, bool) for t in tokens
    ):
        raise CheckFailed(f"beam_search: tokens must be a list of ints, got {describe(tokens)}")
    tokens = [int(t) for t in tokens]
    score = float_scalar("beam_search", "score", score)
    return tokens, score


def _compare_beam(
    student: Student,
    model: Model,
    bos: int,
    beam_width: int,
    max_length: int,
    alpha: float,
    expected: tuple[list[int], float],
    what: str,
) -> None:
    tokens, score = _call_beam(student, model, bos, beam_width, max_length, alpha)
    case = (
        f"{what}: V={model.V}, bos={bos}, eos={model.eos}, beam_width={beam_width}, "
        f"max_length={max_length}, alpha={alpha}"
    )
    eos = model.eos
    if eos in tokens[:-1]:
        raise CheckFailed(
            f"beam_search returned {tokens}, which continues after eos ({case}): a hypothesis "
            "that emits eos is finished and never extended again"
        )
    if not tokens:
        raise CheckFailed(
            f"beam_search returned no token ({case}): eos is dropped from the tokens; a "
            "hypothesis that emits eos at once has the tokens [eos]"
        )
    if len(tokens) > max_length or any(not 0 <= t < model.V for t in tokens):
        raise CheckFailed(
            f"beam_search returned {tokens} ({case}): a result has 1 to max_length tokens, each "
            "in 0..V-1 (bos is not part of it)"
        )
    variants = _beam_variants(model, bos, beam_width, max_length, alpha)
    if tokens != expected[0]:
        cause = _causes(
            [(c, lambda f=f: f()[0]) for c, f in variants],
            lambda wrong: wrong == tokens and wrong != expected[0],
            f"compare with the rules of the statement and {CHAPTER_DECODING}",
        )
        raise CheckFailed(
            f"beam_search returned {tokens}, expected {expected[0]} ({case}): {cause}"
        )
    if not close(score, expected[1]):
        cause = _causes(
            [(c, lambda f=f: f()) for c, f in variants],
            lambda wrong: (
                wrong[0] == tokens and close(score, wrong[1]) and not close(wrong[1], expected[1])
            ),
            "the score is the sum of the log-probabilities of the tokens (eos included) over "
            "len(tokens) ** alpha",
        )
        raise mismatch("beam_search", "score", score, expected[1], cause, case)


def _causes(
    variants: list[tuple[str, Callable[[], Any]]], matches: Callable[[Any], bool], fallback: str
) -> str:
    """The causes of every variant whose answer ``matches`` (joined by "or": on small models
    two mistakes can give the same answer), else ``fallback``."""
    found = []
    for cause, thunk in variants:
        try:
            with np.errstate(all="ignore"):
                wrong = thunk()
        except (ValueError, ArithmeticError):
            continue
        if matches(wrong):
            found.append(cause)
    return "; or ".join(found) if found else fallback


def _random_case(rng: np.random.Generator, V: int) -> tuple[int, int]:
    """(bos, eos): two different tokens."""
    bos, eos = (int(t) for t in rng.choice(V, size=2, replace=False))
    return bos, eos


def _model_where(
    rng: np.random.Generator,
    V: int,
    boost: tuple[float, float],
    condition: Callable[[Model, int], bool],
) -> tuple[Model, int]:
    """A random model (and its bos) for which ``condition(model, bos)`` holds: a case where the
    property the check grades changes the answer (a search that keeps one hypothesis, say,
    must give another answer than the right one)."""
    for _ in range(5000):
        bos, eos = _random_case(rng, V)
        model = Model(rng, V, eos, eos_boost=float(rng.uniform(*boost)))
        if condition(model, bos):
            return model, bos
    raise RuntimeError("could not draw a model where the property matters")  # never in practice


# In every beam-search check the answer of the first case ends with eos before max_length (so
# that a search that drops eos, or extends finished hypotheses, cannot pass it by luck).


def _ends_early(tokens: list[int], model: Model, max_length: int) -> bool:
    """True when ``tokens`` ends with eos and is shorter than ``max_length``."""
    return tokens[-1] == model.eos and len(tokens) < max_length


def check_beam_search_greedy(student: Student, rng: np.random.Generator) -> None:
    """beam_width=1 is greedy decoding, on random models, alpha = 0 (with one hypothesis and
    alpha > 0, letting eos take no place would keep searching after eos: beam_search_eos
    grades that rule)."""
    cases = [(3, 4), (5, 6), (4, 5), (6, 3)]
    for case, (V, max_length) in enumerate(cases):

        def matters(model: Model, bos: int, L: int = max_length, first: bool = case == 0) -> bool:
            return not first or _ends_early(greedy_search(model, bos, L, 0.0)[0], model, L)

        model, bos = _model_where(rng, V, (-1.0, 0.5), matters)
        expected = greedy_search(model, bos, max_length, 0.0)
        _compare_beam(student, model, bos, 1, max_length, 0.0, expected, "greedy")


def check_beam_search_exhaustive(student: Student, rng: np.random.Generator) -> None:
    """beam_width >= V ** max_length equals exhaustive search (alpha 0 and > 0), on models where
    greedy decoding misses the best sequence and, for alpha > 0, where the best sequence by the
    raw sum is another one."""
    cases = [(3, 3, 0.0), (3, 4, 1.0), (4, 3, 1.0), (4, 4, 0.0), (3, 3, 0.6)]
    for case, (V, max_length, alpha) in enumerate(cases):

        def matters(
            model: Model, bos: int, L: int = max_length, a: float = alpha, first: bool = case == 0
        ) -> bool:
            best = exhaustive_search(model, bos, L, a)[0]
            raw = exhaustive_search(model, bos, L, 0.0)[0]
            return (
                best != greedy_search(model, bos, L, a)[0]
                and (a == 0 or best != raw)
                and (not first or _ends_early(best, model, L))
            )

        model, bos = _model_where(rng, V, (-1.0, 1.0), matters)
        expected = exhaustive_search(model, bos, max_length, alpha)
        width = V**max_length + int(rng.integers(0, 3))
        _compare_beam(student, model, bos, width, max_length, alpha, expected, "exhaustive")


def check_beam_search_eos(student: Student, rng: np.random.Generator) -> None:
    """Models where eos is likely, alpha > 0 (with alpha = 0 a finished hypothesis outranks
    every later one that its place could have kept, so the rule cannot change the answer):
    finished hypotheses keep eos, take a place at their step, and are never extended. Every
    answer has two tokens or more, ends with eos before max_length, and differs from greedy
    decoding's; in the
    first two cases letting finished hypotheses take no place changes it, in the third choosing
    by the raw sum does."""
    cases = [(5, 2, 5, 1.0, False), (4, 2, 4, 1.0, False), (4, 3, 5, 0.8, True)]
    for V, width, max_length, alpha, by_raw_sum in cases:

        def matters(
            model: Model,
            bos: int,
            W: int = width,
            L: int = max_length,
            a: float = alpha,
            by_raw_sum: bool = by_raw_sum,
        ) -> bool:
            right = reference_beam_search(model, bos, W, L, a)[0]
            if by_raw_sum:
                wrong = reference_beam_search(model, bos, W, L, a, final_raw=True)[0]
            else:
                wrong = reference_beam_search(model, bos, W, L, a, eos_takes_place=False)[0]
            return (
                len(right) > 1
                and _ends_early(right, model, L)
                and right != wrong
                and right != greedy_search(model, bos, L, a)[0]
            )

        model, bos = _model_where(rng, V, (-1.0, 1.0), matters)
        expected = reference_beam_search(model, bos, width, max_length, alpha)
        _compare_beam(student, model, bos, width, max_length, alpha, expected, "eos likely")


def check_beam_search_pruning(student: Student, rng: np.random.Generator) -> None:
    """Intermediate beam widths, alpha = 0, against the reference, on models where greedy
    decoding gives another answer."""
    cases = [(4, 2, 5), (5, 3, 5), (6, 4, 4), (3, 2, 6)]
    for case, (V, width, max_length) in enumerate(cases):

        def matters(
            model: Model, bos: int, W: int = width, L: int = max_length, first: bool = case == 0
        ) -> bool:
            right = reference_beam_search(model, bos, W, L, 0.0)[0]
            return right != greedy_search(model, bos, L, 0.0)[0] and (
                not first or _ends_early(right, model, L)
            )

        model, bos = _model_where(rng, V, (-1.5, 0.5), matters)
        expected = reference_beam_search(model, bos, width, max_length, 0.0)
        _compare_beam(student, model, bos, width, max_length, 0.0, expected, "pruning")


def check_beam_search_length_normalisation(student: Student, rng: np.random.Generator) -> None:
    """alpha > 0 with intermediate beam widths: the final choice and the score returned are
    sum / len(tokens) ** alpha. The models are ones where the raw sum would choose another
    hypothesis, and where the place of finished hypotheses (graded by beam_search_eos) does
    not change the answer."""
    cases = [(4, 3, 5, 1.0), (5, 2, 5, 0.7), (3, 3, 6, 1.0)]
    for case, (V, width, max_length, alpha) in enumerate(cases):

        def matters(
            model: Model,
            bos: int,
            W: int = width,
            L: int = max_length,
            a: float = alpha,
            first: bool = case == 0,
        ) -> bool:
            def run(**wrong: Any) -> list[int]:
                return reference_beam_search(model, bos, W, L, a, **wrong)[0]

            right = run()
            return (
                right != run(final_raw=True)
                and right == run(eos_takes_place=False)
                and right != greedy_search(model, bos, L, a)[0]
                and (not first or _ends_early(right, model, L))
            )

        model, bos = _model_where(rng, V, (0.0, 1.5), matters)
        expected = reference_beam_search(model, bos, width, max_length, alpha)
        _compare_beam(student, model, bos, width, max_length, alpha, expected, "alpha > 0")


def check_beam_search_ties(student: Student, rng: np.random.Generator) -> None:
    """Every hypothesis sees the same distribution, with equal probabilities: candidates and
    finished hypotheses tie exactly, and the stated order decides."""
    V = 4
    eos = V - 1
    bos = int(rng.integers(0, V - 1))
    cases = [
        ([0.3, 0.3, 0.3, 0.1], 2, 2, 0.0),  # step 2 ties everywhere; [0, 0] and [0, 1] finish
        ([0.3, 0.3, 0.3, 0.1], 2, 3, 0.0),
        ([0.25, 0.25, 0.25, 0.25], 3, 2, 1.0),  # every finished hypothesis ties
        ([0.35, 0.35, 0.1, 0.2], 3, 3, 0.0),
    ]
    for p, width, max_length, alpha in cases:
        model = Model(None, V, eos, Q=np.log(np.array(p)))
        expected = reference_beam_search(model, bos, width, max_length, alpha)
        what = f"every hypothesis's next token has the probabilities {p} (exact ties)"
        _compare_beam(student, model, bos, width, max_length, alpha, expected, what)


CHECKS: dict[str, Check] = {
    "embedding_forward_values": check_embedding_forward_values,
    "embedding_backward_dw": check_embedding_backward_dw,
    "embedding_backward_repeated": check_embedding_backward_repeated,
    "temporal_softmax_loss_value": check_temporal_softmax_loss_value,
    "temporal_softmax_loss_dscores": check_temporal_softmax_loss_dscores,
    "temporal_softmax_loss_mask": check_temporal_softmax_loss_mask,
    "temporal_softmax_loss_stability": check_temporal_softmax_loss_stability,
    "sample_protocol": check_sample_protocol,
    "sample_temperature": check_sample_temperature,
    "beam_search_greedy": check_beam_search_greedy,
    "beam_search_exhaustive": check_beam_search_exhaustive,
    "beam_search_eos": check_beam_search_eos,
    "beam_search_pruning": check_beam_search_pruning,
    "beam_search_length_normalisation": check_beam_search_length_normalisation,
    "beam_search_ties": check_beam_search_ties,
}
