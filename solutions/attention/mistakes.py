"""Realistic mistakes in the attention assignment, used to build example submissions.

Each entry edits the concatenated SOLUTION code (old -> new, each ``old`` occurring exactly
once), lists exactly the grade_ids that must then score 0, and gives a phrase that the message
of every failing check must contain.

``ALTERNATIVES`` edits the solution in the same way into answers that are right but computed
differently (another order of the sums, a conventional epsilon); each must keep full marks.
"""

from __future__ import annotations

from typing import Any

MISTAKES: dict[str, dict[str, Any]] = {
    "softmax_unstable": {
        "description": "softmax exponentiates the raw scores (no max subtraction): exp(1e4) "
        "overflows and the weights become nan",
        "edits": [
            (
                "shifted = z - np.max(z, axis=axis, keepdims=True)",
                "shifted = z",
            )
        ],
        "lost": ["softmax_stability"],
        "feedback": "subtract the max",
    },
    "softmax_z_in_place": {
        "description": "softmax subtracts the max from the caller's z in place (z -= ...)",
        "edits": [
            (
                "shifted = z - np.max(z, axis=axis, keepdims=True)",
                "z -= np.max(z, axis=axis, keepdims=True)\n    shifted = z",
            )
        ],
        "lost": ["softmax_values", "softmax_stability", "softmax_axis"],
        "feedback": "modified z in place",
    },
    "softmax_float32": {
        "description": "softmax computes the exponentials in float32 (to save memory), so the "
        "weights come back as float32",
        "edits": [
            ("    exps = np.exp(shifted)\n", "    exps = np.exp(shifted).astype(np.float32)\n")
        ],
        "lost": [
            "softmax_values",
            "softmax_stability",
            "softmax_axis",
            "attention_forward_weights",
            "attention_forward_context",
            "attention_forward_scaled",
            "attention_forward_masked",
            *[
                "attention_backward_dquery",
                "attention_backward_dkeys",
                "attention_backward_dvalues",
                "attention_backward_scaled",
                "attention_backward_masked",
            ],
        ],
        "feedback": "float64",
    },
    "softmax_ignores_axis": {
        "description": "softmax always normalises along the last axis, whatever `axis` is",
        "edits": [
            (
                "    z = np.asarray(z, dtype=np.float64)\n",
                "    z = np.asarray(z, dtype=np.float64)\n    axis = -1\n",
            )
        ],
        "lost": ["softmax_axis"],
        "feedback": "last axis",
    },
    "attention_softmax_over_batch": {
        "description": "attention_forward takes the softmax over the batch axis (axis=0) "
        "instead of over the positions t",
        "edits": [("weights = softmax(scores, axis=-1)", "weights = softmax(scores, axis=0)")],
        "lost": [
            "attention_forward_weights",
            "attention_forward_context",
            "attention_forward_scaled",
            "attention_forward_masked",
            "attention_backward_dquery",
            "attention_backward_dkeys",
            "attention_backward_dvalues",
            "attention_backward_scaled",
            "attention_backward_masked",
        ],
        "feedback": "batch axis",
    },
    "mask_after_softmax": {
        "description": "attention_forward zeroes the masked weights after the softmax and does "
        "not renormalise the others",
        "edits": [
            (
                "    scores = np.where(mask, scores, -np.inf)"
                "  # masked before the softmax: exp(-inf) = 0 exactly\n"
                "    weights = softmax(scores, axis=-1)\n",
                "    weights = softmax(scores, axis=-1)\n"
                "    weights = np.where(mask, weights, 0.0)\n",
            )
        ],
        "lost": ["attention_forward_masked", "attention_backward_masked"],
        "feedback": "not renormalised",
    },
    "no_fully_masked_check": {
        "description": "attention_forward does not refuse a fully masked row and returns nan "
        "weights for it",
        "edits": [
            (
                "        hidden = ~mask.any(axis=1)\n"
                "        if hidden.any():\n"
                "            rows = np.flatnonzero(hidden).tolist()\n"
                "            raise ValueError(\n"
                '                f"mask hides every position of example(s) {rows}: their weights '
                'are undefined"\n'
                "            )\n",
                "",
            )
        ],
        "lost": ["attention_forward_fully_masked"],
        "feedback": "has no true",
    },
    "mask_shape_not_checked": {
        "description": "attention_forward does not check the mask's shape and relies on "
        "broadcasting (a (1, T) mask is accepted)",
        "edits": [
            (
                "        if mask.shape != (N, T):\n"
                '            raise ValueError(f"mask must have shape (N, T) = {(N, T)}, '
                'got {mask.shape}")\n',
                "",
            )
        ],
        "lost": ["attention_forward_mask_validation"],
        "feedback": "mask of shape",
    },
    "mask_dtype_not_checked": {
        "description": "attention_forward casts the mask to bool instead of refusing a 0/1 "
        "number array",
        "edits": [("mask = np.asarray(mask)\n", "mask = np.asarray(mask).astype(bool)\n")],
        "lost": ["attention_forward_mask_validation"],
        "feedback": "dtype",
    },
    "scaled_ignored": {
        "description": "attention_forward never divides the scores by sqrt(d), even when "
        "scaled=True",
        "edits": [("scale = 1.0 / np.sqrt(d) if scaled else 1.0", "scale = 1.0")],
        "lost": ["attention_forward_scaled", "attention_backward_scaled"],
        "feedback": "not divided by sqrt(d)",
    },
    "scaled_by_d": {
        "description": "attention_forward divides the scores by d instead of sqrt(d)",
        "edits": [
            (
                "scale = 1.0 / np.sqrt(d) if scaled else 1.0",
                "scale = 1.0 / d if scaled else 1.0",
            )
        ],
        "lost": ["attention_forward_scaled", "attention_backward_scaled"],
        "feedback": "divided by d instead of by sqrt(d)",
    },
    "backward_scale_missing": {
        "description": "attention_backward forgets the 1/sqrt(d) factor of the scaled scores",
        "edits": [
            (
                "    dscores = scale * dscores"
                "  # back through the 1/sqrt(d) factor (scale = 1 when unscaled)\n",
                "",
            )
        ],
        "lost": ["attention_backward_scaled"],
        "feedback": "missing from the backward pass",
    },
    "dkeys_no_softmax_jacobian": {
        "description": "attention_backward computes dkeys from dweights, treating the weights "
        "as constants (no softmax Jacobian)",
        "edits": [
            (
                "dkeys = dscores[:, :, None] * query[:, None, :]",
                "dkeys = scale * dweights[:, :, None] * query[:, None, :]",
            )
        ],
        "lost": [
            "attention_backward_dkeys",
            "attention_backward_scaled",
            "attention_backward_masked",
        ],
        "feedback": "softmax Jacobian",
    },
    "dquery_wrong_contraction": {
        "description": "attention_backward contracts dscores with the keys of every example "
        "(einsum index typo 'nt,mtd->nd')",
        "edits": [
            (
                'dquery = np.einsum("nt,ntd->nd", dscores, keys)',
                'dquery = np.einsum("nt,mtd->nd", dscores, keys)',
            )
        ],
        "lost": [
            "attention_backward_dquery",
            "attention_backward_scaled",
            "attention_backward_masked",
        ],
        "feedback": "mixes the examples of the batch",
    },
    "dcontext_shape_in_place": {
        "description": "attention_backward gives the caller's dcontext a time axis in place "
        "(dcontext.shape = (N, 1, dv)) to broadcast it over the positions",
        "edits": [
            (
                "    dcontext = np.asarray(dcontext, dtype=np.float64)\n",
                "    dcontext.shape = (len(dcontext), 1, -1)  # (N, 1, dv)\n",
            ),
            (
                "dvalues = weights[:, :, None] * dcontext[:, None, :]",
                "dvalues = weights[:, :, None] * dcontext",
            ),
            (
                'dweights = np.einsum("nv,ntv->nt", dcontext, values)',
                'dweights = np.einsum("nsv,ntv->nt", dcontext, values)',
            ),
        ],
        "lost": [
            "attention_backward_dquery",
            "attention_backward_dkeys",
            "attention_backward_dvalues",
            "attention_backward_scaled",
            "attention_backward_masked",
        ],
        "feedback": "modified dcontext in place",
    },
    "dvalues_without_weights": {
        "description": "attention_backward hands every value the whole dcontext (forgets the "
        "weights)",
        "edits": [
            (
                "dvalues = weights[:, :, None] * dcontext[:, None, :]",
                "dvalues = np.repeat(dcontext[:, None, :], weights.shape[1], axis=1)",
            )
        ],
        "lost": [
            "attention_backward_dvalues",
            "attention_backward_scaled",
            "attention_backward_masked",
        ],
        "feedback": "misses the weights",
    },
}

ALTERNATIVES: dict[str, dict[str, Any]] = {
    "softmax-epsilon": {
        "edits": [
            (
                "return exps / np.sum(exps, axis=axis, keepdims=True)",
                "return exps / (np.sum(exps, axis=axis, keepdims=True) + 1e-8)",
            )
        ],
        "why": "An epsilon of 1e-8 in the denominator, a common guard against division by zero, "
        "changes the weights by about 1e-8 (the sum is at least 1 after the max shift).",
    },
    "softmax-logsumexp": {
        "edits": [
            (
                "return exps / np.sum(exps, axis=axis, keepdims=True)",
                "return np.exp(shifted - np.log(np.sum(exps, axis=axis, keepdims=True)))",
            )
        ],
        "why": "exp(z - logsumexp(z)) is the softmax, computed through the log of the sum.",
    },
    "scale-on-query": {
        "edits": [
            (
                'scores = scale * np.einsum("nd,ntd->nt", query, keys)',
                'scores = np.einsum("nd,ntd->nt", scale * query, keys)',
            )
        ],
        "why": "Scaling the query before the inner products is scaling the scores after them.",
    },
    "context-matmul": {
        "edits": [
            (
                'context = np.einsum("nt,ntv->nv", weights, values)',
                "context = (weights[:, None, :] @ values)[:, 0, :]",
            )
        ],
        "why": "A batched matrix product sums the same weighted values as the einsum.",
    },
    "softmax-jacobian-expanded": {
        "edits": [
            (
                "dscores = weights * (dweights - np.sum(weights * dweights, axis=1, "
                "keepdims=True))",
                "dscores = weights * dweights - weights * np.sum(weights * dweights, axis=1, "
                "keepdims=True)",
            )
        ],
        "why": "Multiplying out w * (dw - sum w dw) reassociates the softmax Jacobian product.",
    },
    "dquery-broadcast-sum": {
        "edits": [
            (
                'dquery = np.einsum("nt,ntd->nd", dscores, keys)',
                "dquery = (dscores[:, :, None] * keys).sum(axis=1)",
            )
        ],
        "why": "Broadcasting and summing over t adds the same products as the einsum.",
    },
}
