"""Checks of the assignment *attention*: softmax, attention_forward and attention_backward.

``CHECKS`` maps the grade_id of every graded test cell of ``attention.ipynb`` to its check. A
check treats the student's functions as black boxes (through
:class:`autograder.checking.api.Student`), draws fresh inputs from the generator it is given, and
compares the answers with the references below. The references are independent of the
notebook's solution and written differently from it: explicit loops over examples and positions,
masked positions left out of the sum instead of set to -inf, and an explicit softmax Jacobian
matrix. When an answer is wrong, the check compares it with known-wrong variants of the reference
to name the likely cause.

The backward checks run the student's attention_forward first, under
:func:`~autograder.checking.toolkit.prerequisite` (its cache is the backward pass's input): a
wrong forward pass fails them too, with the forward's diagnosis.

Every check calls the function it grades through
:func:`~autograder.checking.toolkit.call_leaving_inputs`, which fails when the call changed one of
its array arguments (``ARGUMENTS`` names them); a forward pass run for the cache of a
backward check, and a call that must raise, run on copies.

Properties the statement asks for, and the check that grades each ("mistakes": the entries of
``mistakes.py`` that break the property; besides, ``tests/autograder/test_checks.py`` changes
every array argument of every graded function in place, one at a time, and sees a check of that
function fail):

property                             grade_id                           mistakes
-----------------------------------  ---------------------------------  ----------------------------
every function: float64 arrays (not  every check of the function        softmax_float32
float32, not lists)
every function: outputs of the       every check of the function        -
stated shapes
every function: its arguments come   every check of the function        softmax_z_in_place
back unchanged (to RESTORED_ATOL)                                       dcontext_shape_in_place
every function: NumPy only (no       every check, in the sandbox        -
rnnbook)
softmax: exp(z) over its sum, along  softmax_values                     -
the last axis by default
softmax: finite and right for        softmax_stability                  softmax_unstable
scores of size 1e4
softmax: along any axis, negative    softmax_axis                       softmax_ignores_axis
ones included
attention_forward: weights =         attention_forward_weights          attention_softmax_over_batch
softmax of q . k over the positions
attention_forward: context = sum_t   attention_forward_context          -
w_t v_t
attention_forward: scores divided    attention_forward_scaled           scaled_ignored
by sqrt(d) when scaled=True, only                                       scaled_by_d
then
attention_forward: masked weights    attention_forward_masked           mask_after_softmax
exactly 0, the others sum to 1;
mask=None attends every position
attention_forward: a mask that is    attention_forward_mask_validation  mask_dtype_not_checked
not a bool (N, T) array raises                                          mask_shape_not_checked
ValueError naming mask
attention_forward: a row with no     attention_forward_fully_masked     no_fully_masked_check
True raises ValueError naming mask
attention_backward: dquery, dkeys,   attention_backward_<output>        dkeys_no_softmax_jacobian
dvalues through the softmax                                             dquery_wrong_contraction
Jacobian                                                                dvalues_without_weights
attention_backward: the 1/sqrt(d)    attention_backward_scaled          backward_scale_missing
factor when scaled=True
attention_backward: no gradient at   attention_backward_masked          mask_after_softmax
masked positions
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograder.checking.api import Check, CheckFailed, Student
from autograder.checking.toolkit import (
    Arrays,
    Variant,
    call_leaving_inputs,
    close,
    compare,
    diagnose,
    expect_value_error,
    float_array,
    gradient_checks,
    mismatch,
    prerequisite,
    unpack,
    wrong_sign,
)

# ---------------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------------


def reference_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``, one slice at a time with Python floats (max-shifted, fsum)."""
    moved = np.moveaxis(np.asarray(z, dtype=np.float64), axis, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        top = max(float(v) for v in row)
        exps = [math.exp(float(v) - top) for v in row]
        total = math.fsum(exps)
        out[i] = [e / total for e in exps]
    return np.moveaxis(out.reshape(moved.shape), -1, axis)


def _scale(d: int, scaled: bool) -> float:
    """The factor of the scores: 1 / sqrt(d) when ``scaled``, else 1."""
    return 1.0 / math.sqrt(d) if scaled else 1.0


def reference_attention_forward(
    query: np.ndarray,
    keys: np.ndarray,
    values: np.ndarray,
    mask: np.ndarray | None,
    scale: float,
) -> Arrays:
    """``context`` and ``weights`` by loops; masked positions are left out of the softmax
    altogether."""
    N, T, _ = keys.shape
    weights = np.zeros((N, T))
    context = np.zeros((N, values.shape[2]))
    for n in range(N):
        allowed = [t for t in range(T) if mask is None or mask[n, t]]
        scores = np.array([scale * math.fsum(query[n] * keys[n, t]) for t in allowed])
        for w, t in zip(reference_softmax(scores), allowed, strict=True):
            weights[n, t] = w
            context[n] += w * values[n, t]
    return {"context": context, "weights": weights}


def reference_attention_backward(
    query: np.ndarray,
    keys: np.ndarray,
    values: np.ndarray,
    mask: np.ndarray | None,
    scale: float,
    dcontext: np.ndarray,
) -> Arrays:
    """``dquery``, ``dkeys`` and ``dvalues`` by loops, with the explicit softmax Jacobian J.

    Also returns the intermediates ``weights``, ``dweights`` (dL/dweights) and ``jdw``
    (J^T dL/dweights): the gradient with respect to the scaled scores; the gradient with respect
    to the raw inner products q . k_t is ``scale * jdw``.
    """
    weights = reference_attention_forward(query, keys, values, mask, scale)["weights"]
    N, T, d = keys.shape
    dweights = np.zeros((N, T))
    jdw = np.zeros((N, T))
    for n in range(N):
        for t in range(T):
            dweights[n, t] = math.fsum(dcontext[n] * values[n, t])
        w = weights[n]
        jacobian = np.diag(w) - np.outer(w, w)  # J[t, u] = dw_t / ds_u (0 for masked t or u)
        jdw[n] = jacobian.T @ dweights[n]
    dscores = scale * jdw
    dquery = np.zeros((N, d))
    dkeys = np.zeros((N, T, d))
    dvalues = np.zeros((N, T, dcontext.shape[1]))
    for n in range(N):
        for t in range(T):
            dquery[n] += dscores[n, t] * keys[n, t]
            dkeys[n, t] = dscores[n, t] * query[n]
            dvalues[n, t] = weights[n, t] * dcontext[n]
    return {
        "dquery": dquery,
        "dkeys": dkeys,
        "dvalues": dvalues,
        "weights": weights,
        "dweights": dweights,
        "jdw": jdw,
    }


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def _random_mask(rng: np.random.Generator, N: int, T: int) -> np.ndarray:
    """A boolean (N, T) mask with at least one True per row and, when T > 1, one False."""
    mask = rng.random((N, T)) < 0.6
    for n in range(N):
        if not mask[n].any():
            mask[n, rng.integers(T)] = True
    if T > 1 and mask.all():
        mask[rng.integers(N), rng.integers(T)] = False
    return mask


def _shapes(rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    """(N, T, d, dv): N = 1, T = 1, d = dv, and a random general case; d >= 2 always."""
    general = (
        int(rng.integers(2, 5)),
        int(rng.integers(3, 7)),
        int(rng.integers(2, 6)),
        int(rng.integers(2, 6)),
    )
    return [(1, 4, 3, 2), (3, 1, 2, 4), (2, 5, 4, 4), general]


def _inputs(rng: np.random.Generator, shape: tuple[int, int, int, int]) -> tuple[np.ndarray, ...]:
    """Random ``(query, keys, values)`` of the shape (N, T, d, dv)."""
    N, T, d, dv = shape
    return (
        rng.standard_normal((N, d)),
        rng.standard_normal((N, T, d)),
        rng.standard_normal((N, T, dv)),
    )


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

CHAPTER_PRODUCTS = "the chapter Inner and outer products (chapters/inner_outer_products.md)"
CHAPTER_GRADIENTS = "the chapter Gradients (chapters/gradients.md)"
GRADIENTS = ("dquery", "dkeys", "dvalues")
# The positional parameters of the graded functions, as call_leaving_inputs names them; None for
# one it does not compare (a number, a flag, a cache).
ARGUMENTS = {
    "softmax": ("z", None),
    "attention_forward": ("query", "keys", "values", "mask", None),
    "attention_backward": ("dcontext", None),
}


def _case(keys: np.ndarray, values: np.ndarray, scaled: bool, mask: np.ndarray | None) -> str:
    N, T, d = keys.shape
    text = f"N={N}, T={T}, d={d}, dv={values.shape[2]}, scaled={scaled}"
    if mask is not None:
        text += f", mask={mask.astype(int).tolist()}"
    return text


# softmax -----------------------------------------------------------------------------------


def _call_softmax(student: Student, z: np.ndarray, *axis: int) -> np.ndarray:
    """softmax(z) or softmax(z, axis), checked to be a float64 array of z's shape."""
    result = call_leaving_inputs(student, "softmax", ARGUMENTS["softmax"], z, *axis)
    return float_array("softmax", "the result", result, z.shape)


def _softmax_variants(z: np.ndarray) -> list[Variant]:
    return [
        ("exp(z) is not divided by its sum: the entries must add up to 1", lambda: np.exp(z)),
        (
            "normalised over the whole array instead of along the last axis: sum along "
            "`axis` with keepdims=True",
            lambda: np.exp(z) / np.exp(z).sum(),
        ),
        (
            "normalised along the first axis instead of the last (the default axis=-1)",
            lambda: reference_softmax(z, axis=0),
        ),
        (
            "the exponential is missing: z / sum(z) is not the softmax",
            lambda: z / z.sum(axis=-1, keepdims=True),
        ),
        ("sign error: this is the softmax of -z", lambda: reference_softmax(-z)),
    ]


def check_softmax_values(student: Student, rng: np.random.Generator) -> None:
    """Ordinary inputs, default axis: 1-D (length 1 and 5) and 2-D (1 and 3 rows)."""
    inputs = [
        rng.standard_normal(1),
        2 * rng.standard_normal(5),
        2 * rng.standard_normal((1, 4)),
        3 * rng.standard_normal((3, 5)),
    ]
    for z in inputs:
        compare(
            "softmax",
            "the result",
            _call_softmax(student, z),
            reference_softmax(z),
            _softmax_variants(z),
            f"compare with the softmax in {CHAPTER_PRODUCTS}",
            f"z of shape {z.shape}",
        )


def _globally_shifted(z: np.ndarray) -> list[Variant]:
    return [
        (
            "the max was subtracted over the whole array instead of along `axis`",
            lambda: np.exp(z - z.max()) / np.exp(z - z.max()).sum(-1, keepdims=True),
        )
    ]


def check_softmax_stability(student: Student, rng: np.random.Generator) -> None:
    """Scores of size 1e4: exp overflows or underflows unless the max is subtracted first."""
    offsets = np.array([[1e4], [-1e4], [5e3]])
    inputs = [
        np.array([1e4, 1e4 - 1]),
        np.array([-1e4, -1e4 + 2]),
        np.array([1e4, 0.0, -1e4]),
        rng.standard_normal((3, 4)) + offsets,
    ]
    for z in inputs:
        got = _call_softmax(student, z)
        expected = reference_softmax(z)
        if close(got, expected):
            continue
        if not np.all(np.isfinite(got)):
            cause = (
                "exp(1e4) overflows to inf (and exp(-1e4) underflows to 0), giving inf/inf or "
                "0/0 = nan: subtract the max of z along `axis` (keepdims=True) before exp; see "
                f"'Computing the weights without overflow' in {CHAPTER_PRODUCTS}"
            )
        else:
            cause = diagnose(
                got,
                expected,
                _globally_shifted(z),
                f"subtract the max along `axis` before exp, as in {CHAPTER_PRODUCTS}",
            )
        shown = np.array2string(z, precision=1, separator=", ")
        raise mismatch("softmax", "the result", got, expected, cause, f"z = {shown}")


def _axis_variants(z: np.ndarray) -> list[Variant]:
    return [
        (
            "normalised along the last axis whatever `axis` is: pass axis=axis (with "
            "keepdims=True) to both the max and the sum",
            lambda: reference_softmax(z, axis=-1),
        ),
        (
            "normalised along the first axis whatever `axis` is: pass axis=axis to the sum",
            lambda: reference_softmax(z, axis=0),
        ),
        (
            "normalised over the whole array (axis=None) instead of along `axis`",
            lambda: np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
        ),
    ]


def check_softmax_axis(student: Student, rng: np.random.Generator) -> None:
    """softmax(z, axis=k) for every axis of a 3-D array, axis=0 of a 2-D and a 1-D array."""
    cube = rng.standard_normal((2, 3, 4)) * 2
    calls = [(cube, axis) for axis in (0, 1, 2, -1, -2, -3)]
    calls += [
        (rng.standard_normal((3, 5)) * 2, 0),
        (rng.standard_normal((4, 1)), 0),
        (rng.standard_normal(6), 0),
    ]
    for z, axis in calls:
        compare(
            f"softmax(z, axis={axis})",
            "the result",
            _call_softmax(student, z, axis),
            reference_softmax(z, axis=axis),
            _axis_variants(z),
            "the entries must sum to 1 along `axis` only",
            f"z of shape {z.shape}",
        )


# attention_forward -------------------------------------------------------------------------

WEIGHTS_FORMULA = f"compare with the attention weights w_t in {CHAPTER_PRODUCTS}"


def _weights_variants(
    query: np.ndarray,
    keys: np.ndarray,
    values: np.ndarray,
    mask: np.ndarray | None,
    scaled: bool,
) -> list[Variant]:
    """Known mistakes of the attention weights."""
    d = query.shape[1]
    scale = _scale(d, scaled)
    raw = np.einsum("nd,ntd->nt", query, keys)
    hidden = np.zeros(raw.shape, dtype=bool) if mask is None else ~mask

    def weights(scale: float, mask: np.ndarray | None = mask) -> np.ndarray:
        return reference_attention_forward(query, keys, values, mask, scale)["weights"]

    variants: list[Variant] = [
        (
            "the softmax runs over the batch axis (axis 0) instead of over the positions t: "
            "normalise each example's T scores (axis=-1)",
            lambda: reference_softmax(np.where(hidden, -np.inf, scale * raw), axis=0),
        ),
    ]
    if scaled:
        variants += [
            (
                "the scores are not divided by sqrt(d): scaled=True means q . k_t / sqrt(d)",
                lambda: weights(1.0),
            ),
            ("the scores are divided by d instead of by sqrt(d)", lambda: weights(1.0 / d)),
            (
                "the scores are multiplied by sqrt(d) instead of divided by it",
                lambda: weights(math.sqrt(d)),
            ),
        ]
    else:
        variants.append(
            (
                "the scores are divided by sqrt(d) although scaled=False (the default): scale "
                "only when scaled=True",
                lambda: weights(1.0 / math.sqrt(d)),
            )
        )
    if hidden.any():
        variants += [
            (
                "the mask is applied after the softmax: masked weights set to 0 but the others "
                "not renormalised, so a row no longer sums to 1; mask the scores (e.g. -inf) "
                "before the softmax",
                lambda: weights(scale, None) * ~hidden,
            ),
            ("the mask is ignored", lambda: weights(scale, None)),
            (
                "the mask is inverted: True means 'attend', False means 'hide'",
                lambda: weights(scale, ~mask),
            ),
        ]
    variants.append(
        (
            "the weights are exp(scores) without dividing by their sum",
            lambda: np.where(hidden, 0.0, np.exp(scale * raw)),
        )
    )
    return variants


def _context_variants(
    keys: np.ndarray, values: np.ndarray, expected_weights: np.ndarray
) -> list[Variant]:
    """Known mistakes of the context, given right weights."""
    variants = [
        (
            "the context is the plain mean of the values: weight each value by w_t",
            lambda: values.mean(axis=1),
        ),
        (
            "the context is the plain sum of the values: weight each value by w_t",
            lambda: values.sum(axis=1),
        ),
        (
            "the context mixes the examples of the batch: context[n] must use only "
            "weights[n] and values[n]",
            lambda: expected_weights @ values.sum(axis=0),
        ),
    ]
    if keys.shape == values.shape:
        variants.append(
            (
                "the context averages the keys instead of the values",
                lambda: np.einsum("nt,ntv->nv", expected_weights, keys),
            )
        )
    return variants


def _checked_attention_forward(
    student: Student,
    query: np.ndarray,
    keys: np.ndarray,
    values: np.ndarray,
    mask: np.ndarray | None,
    scaled: bool,
    outputs: tuple[str, ...] = ("weights", "context"),
    caller: str | None = None,
) -> Any:
    """Call attention_forward (mask and scaled passed only when not the defaults), check the
    named outputs, and return the cache. A wrong context is blamed on wrong weights first.
    ``caller`` names the function whose check runs attention_forward for its cache (None:
    attention_forward is under test, and its arguments must come back unchanged)."""
    args: tuple[Any, ...] = (query, keys, values)
    if scaled:
        args += (mask, True)
    elif mask is not None:
        args += (mask,)
    names = ARGUMENTS["attention_forward"]
    result = call_leaving_inputs(student, "attention_forward", names, *args, caller=caller)
    context, weights, cache = unpack("attention_forward", result, ("context", "weights", "cache"))
    N, T, _ = keys.shape
    context = float_array("attention_forward", "context", context, (N, values.shape[2]), "(N, dv)")
    weights = float_array("attention_forward", "weights", weights, (N, T), "(N, T)")
    reference = reference_attention_forward(
        query, keys, values, mask, _scale(query.shape[1], scaled)
    )
    expected, expected_weights = reference["context"], reference["weights"]
    case = _case(keys, values, scaled, mask)
    if "weights" in outputs:
        compare(
            "attention_forward",
            "weights",
            weights,
            expected_weights,
            _weights_variants(query, keys, values, mask, scaled),
            WEIGHTS_FORMULA,
            case,
        )
        if mask is not None and np.any(weights[~mask] != 0.0):
            leak = float(np.max(np.abs(weights[~mask])))
            raise CheckFailed(
                f"attention_forward: weights at masked positions must be exactly 0, got up to "
                f"{leak:.1e} ({case}): set the masked scores to -inf before the softmax (or "
                "leave them out)"
            )
    if "context" in outputs and not close(context, expected):
        if not close(weights, expected_weights):
            cause = "the weights are wrong too: " + diagnose(
                weights,
                expected_weights,
                _weights_variants(query, keys, values, mask, scaled),
                WEIGHTS_FORMULA,
            )
        else:
            cause = diagnose(
                context,
                expected,
                _context_variants(keys, values, expected_weights),
                f"context[n] = sum_t w[n, t] values[n, t], see {CHAPTER_PRODUCTS}",
            )
        raise mismatch("attention_forward", "context", context, expected, cause, case)
    return cache


def check_attention_forward_weights(student: Student, rng: np.random.Generator) -> None:
    """Unscaled, unmasked weights; N = 1, T = 1, d = dv and a general case."""
    for shape in _shapes(rng):
        _checked_attention_forward(student, *_inputs(rng, shape), None, False, ("weights",))


def check_attention_forward_context(student: Student, rng: np.random.Generator) -> None:
    """Unscaled, unmasked context; N = 1, T = 1, d = dv and a general case."""
    for shape in _shapes(rng):
        _checked_attention_forward(student, *_inputs(rng, shape), None, False, ("context",))


def check_attention_forward_scaled(student: Student, rng: np.random.Generator) -> None:
    """scaled=True: weights and context with scores q . k_t / sqrt(d)."""
    for shape in _shapes(rng):
        _checked_attention_forward(student, *_inputs(rng, shape), None, True)


def check_attention_forward_masked(student: Student, rng: np.random.Generator) -> None:
    """Masked weights exactly 0, the others renormalised; context; all-True mask == None."""
    for shape in _shapes(rng):
        inputs = _inputs(rng, shape)
        _checked_attention_forward(student, *inputs, _random_mask(rng, shape[0], shape[1]), False)
    everything = np.ones((2, 3), dtype=bool)
    _checked_attention_forward(student, *_inputs(rng, (2, 3, 2, 3)), everything, False)


def _expect_mask_error(
    student: Student, args: tuple[np.ndarray, ...], mask: np.ndarray, what: str, hint: str
) -> None:
    """attention_forward(*args, mask=mask) must raise ValueError naming `mask`."""
    expect_value_error(
        student, "attention_forward", args, {"mask": mask}, naming="mask", what=what, hint=hint
    )


def check_attention_forward_mask_validation(student: Student, rng: np.random.Generator) -> None:
    """A mask of the wrong shape or of a non-boolean dtype raises ValueError naming `mask`."""
    N, T, d, dv = 3, 4, 2, 3
    args = _inputs(rng, (N, T, d, dv))
    good = _random_mask(rng, N, T)
    shape_hint = f"check that mask.shape == (N, T) = {(N, T)}"
    for bad in (_random_mask(rng, N, T + 1), good.T.copy(), good[:1].copy(), good.ravel()):
        _expect_mask_error(
            student, args, bad, f"a mask of shape {bad.shape} (not (N, T) = {(N, T)})", shape_hint
        )
    for dtype in (np.int64, np.float64):
        bad = good.astype(dtype)
        _expect_mask_error(
            student,
            args,
            bad,
            f"a mask of dtype {bad.dtype}",
            "check that mask.dtype is bool: a 0/1 number array is not a mask",
        )


def check_attention_forward_fully_masked(student: Student, rng: np.random.Generator) -> None:
    """A row of the mask with no True raises ValueError naming `mask` (weights undefined)."""
    hint = (
        "the softmax over no position is undefined (0/0 = nan): raise ValueError naming "
        "`mask` when some row of mask has no True"
    )
    cases = [(3, 4, 2, 3), (1, 1, 2, 2), (2, 3, 3, 2)]
    for N, T, d, dv in cases:
        args = _inputs(rng, (N, T, d, dv))
        mask = _random_mask(rng, N, T)
        rows = list(range(N)) if N < 3 else [int(rng.integers(N))]
        mask[rows] = False
        _expect_mask_error(
            student, args, mask, f"a mask whose row(s) {rows} are fully masked (N={N}, T={T})", hint
        )


# attention_backward ------------------------------------------------------------------------


def _run_attention_backward(
    student: Student,
    shape: tuple[int, int, int, int],
    rng: np.random.Generator,
    mask: np.ndarray | None,
    scaled: bool,
) -> dict[str, Any]:
    """Run forward (checked first) then backward; return inputs, outputs and references."""
    query, keys, values = _inputs(rng, shape)
    dcontext = rng.standard_normal((shape[0], shape[3]))
    with prerequisite("attention_forward", "attention_backward"):
        cache = _checked_attention_forward(
            student, query, keys, values, mask, scaled, caller="attention_backward"
        )
    names = ARGUMENTS["attention_backward"]
    result = call_leaving_inputs(student, "attention_backward", names, dcontext, cache)
    dquery, dkeys, dvalues = unpack("attention_backward", result, GRADIENTS)
    N, T, d, dv = shape
    got = {
        "dquery": float_array("attention_backward", "dquery", dquery, (N, d), "(N, d)"),
        "dkeys": float_array("attention_backward", "dkeys", dkeys, (N, T, d), "(N, T, d)"),
        "dvalues": float_array("attention_backward", "dvalues", dvalues, (N, T, dv), "(N, T, dv)"),
    }
    scale = _scale(d, scaled)
    reference = reference_attention_backward(query, keys, values, mask, scale, dcontext)
    return {
        "query": query,
        "keys": keys,
        "values": values,
        "dcontext": dcontext,
        "reference": reference,
        "scale": scale,
        "scaled": scaled,
        "case": _case(keys, values, scaled, mask),
        "got": got,
    }


def _gradient_variants(output: str, run: dict[str, Any]) -> list[Variant]:
    """Known-wrong versions of one gradient, each with its likely cause."""
    query, keys, values = run["query"], run["keys"], run["values"]
    weights, dweights, jdw = (run["reference"][k] for k in ("weights", "dweights", "jdw"))
    scale, expected = run["scale"], run["reference"][output]
    variants: list[Variant] = []
    if output == "dquery":
        variants += [
            (
                "dquery mixes the examples of the batch: it contracts dscores with keys summed "
                "over the batch (e.g. einsum 'nt,mtd->nd'); dquery[n] = sum_t dscores[n, t] "
                "keys[n, t]",
                lambda: scale * jdw @ keys.sum(axis=0),
            ),
            (
                "dquery skips the softmax Jacobian (it uses dweights where dscores belongs)",
                lambda: scale * np.einsum("nt,ntd->nd", dweights, keys),
            ),
        ]
        if keys.shape == values.shape:
            variants.append(
                (
                    "dquery uses the values where the keys belong",
                    lambda: scale * np.einsum("nt,ntd->nd", jdw, values),
                )
            )
    elif output == "dkeys":
        variants += [
            (
                "dkeys treats the weights as constants and misses the softmax Jacobian: "
                "back-propagate dweights through the softmax, dscores = w * (dweights - "
                "sum_u w_u dweights_u)",
                lambda: scale * dweights[:, :, None] * query[:, None, :],
            ),
            (
                "dkeys keeps only the diagonal of the softmax Jacobian (w * dweights), missing "
                "the - w sum_u w_u dweights_u term",
                lambda: scale * (weights * dweights)[:, :, None] * query[:, None, :],
            ),
            (
                "dkeys mixes the examples of the batch: dkeys[n, t] = dscores[n, t] query[n]",
                lambda: scale * jdw[:, :, None] * query.sum(axis=0),
            ),
        ]
    else:
        dcontext = run["dcontext"]
        variants += [
            (
                "dvalues misses the weights: dvalues[n, t] = weights[n, t] dcontext[n]",
                lambda: np.broadcast_to(dcontext[:, None, :], expected.shape),
            ),
            (
                "dvalues mixes the examples of the batch: dvalues[n, t] = weights[n, t] "
                "dcontext[n]",
                lambda: weights[:, :, None] * dcontext.sum(axis=0),
            ),
        ]
    if output != "dvalues" and run["scaled"]:
        d = query.shape[1]
        variants += [
            (
                "the 1/sqrt(d) factor of the scores is missing from the backward pass "
                "(scaled=True)",
                lambda: expected / scale,
            ),
            (
                "the 1/sqrt(d) factor is applied twice in the backward pass",
                lambda: expected * scale,
            ),
            ("the backward pass divides by d instead of sqrt(d)", lambda: expected / scale / d),
        ]
    variants.append(wrong_sign(output, expected))
    return variants


def _compare_gradients(run: dict[str, Any], outputs: tuple[str, ...]) -> None:
    for output in outputs:
        compare(
            "attention_backward",
            output,
            run["got"][output],
            run["reference"][output],
            _gradient_variants(output, run),
            f"compare with the chain rule in {CHAPTER_GRADIENTS} and the softmax "
            "Jacobian dw_t/ds_u = w_t (delta_tu - w_u)",
            run["case"],
        )


def _check_attention_backward(
    student: Student,
    rng: np.random.Generator,
    *outputs: str,
    scaled: bool = False,
    masked: bool = False,
) -> None:
    """attention_backward: the named gradients match the reference (with scaled=True, with a
    random mask), on every shape of :func:`_shapes`."""
    for shape in _shapes(rng):
        mask = _random_mask(rng, shape[0], shape[1]) if masked else None
        _compare_gradients(_run_attention_backward(student, shape, rng, mask, scaled), outputs)


def check_attention_backward_scaled(student: Student, rng: np.random.Generator) -> None:
    """attention_backward: every gradient with scaled=True (scores q . k_t / sqrt(d))."""
    _check_attention_backward(student, rng, *GRADIENTS, scaled=True)


def check_attention_backward_masked(student: Student, rng: np.random.Generator) -> None:
    """attention_backward: every gradient with a random mask (masked positions get none)."""
    _check_attention_backward(student, rng, *GRADIENTS, masked=True)


CHECKS: dict[str, Check] = {
    "softmax_values": check_softmax_values,
    "softmax_stability": check_softmax_stability,
    "softmax_axis": check_softmax_axis,
    "attention_forward_weights": check_attention_forward_weights,
    "attention_forward_context": check_attention_forward_context,
    "attention_forward_scaled": check_attention_forward_scaled,
    "attention_forward_masked": check_attention_forward_masked,
    "attention_forward_mask_validation": check_attention_forward_mask_validation,
    "attention_forward_fully_masked": check_attention_forward_fully_masked,
    **gradient_checks("attention_backward", GRADIENTS, _check_attention_backward),
    "attention_backward_scaled": check_attention_backward_scaled,
    "attention_backward_masked": check_attention_backward_masked,
}
