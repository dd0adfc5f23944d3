"""Realistic mistakes in the language_model assignment, used to build example submissions.

Each entry edits the concatenated SOLUTION code (old -> new, each ``old`` occurring exactly
once), lists exactly the grade_ids that must then score 0, and gives a phrase that the message
of every failing check must contain (and, under "visible", a shorter phrase that the first
failing visible test names, when it is not the feedback phrase).

``ALTERNATIVES`` edits the solution in the same way into answers that are right but computed
differently; each must keep full marks.

Not a mistake, checked here as an alternative: calling ``rng.random()`` once per row draws the
same numbers as one ``rng.random(N)`` (NumPy's generators fill an array one number at a time from
the same stream), and so does ``rng.choice(V, p=p[n])`` once per row (it inverts the cumulative
sum of p with one uniform number). Nor is pruning by the normalised score: every candidate of
one step has the same length, so sum / length ** alpha ranks them as the raw sum does.
"""

from __future__ import annotations

from typing import Any

LOSS_CHECKS = [
    "temporal_softmax_loss_value",
    "temporal_softmax_loss_dscores",
    "temporal_softmax_loss_mask",
    "temporal_softmax_loss_stability",
]
SAMPLE_CHECKS = ["sample_protocol", "sample_temperature"]
BEAM_CHECKS = [
    "beam_search_greedy",
    "beam_search_exhaustive",
    "beam_search_eos",
    "beam_search_pruning",
    "beam_search_length_normalisation",
    "beam_search_ties",
]

MISTAKES: dict[str, dict[str, Any]] = {
    # -- embedding ------------------------------------------------------------------------------
    "fancy_index_accumulate": {
        "description": "embedding_backward adds dout with an indexed update, dW[idx] += dout, "
        "which applies a repeated index once",
        "edits": [("np.add.at(dW, idx, dout)", "dW[idx] += dout")],
        "lost": ["embedding_backward_repeated"],
        "feedback": "repeated indices are not accumulated",
        "visible": "repeated indices",
    },
    "vocabulary_from_idx": {
        "description": "embedding_forward keeps the number of tokens as idx.max() + 1, so dW "
        "lacks the rows of the largest tokens when they do not occur",
        "edits": [
            (
                "cache = (idx, W.shape)",
                "cache = (idx, (int(idx.max()) + 1, W.shape[1]))",
            )
        ],
        "lost": ["embedding_backward_dw", "embedding_backward_repeated"],
        "feedback": "take V from W.shape",
    },
    "embedding_float32": {
        "description": "embedding_forward stores the embeddings in float32 to save memory",
        "edits": [("out = W[idx]", "out = W[idx].astype(np.float32)")],
        "lost": [
            "embedding_forward_values",
            "embedding_backward_dw",
            "embedding_backward_repeated",
        ],
        "feedback": "float64",
    },
    # -- temporal softmax loss ------------------------------------------------------------------
    "loss_scores_in_place": {
        "description": "temporal_softmax_loss subtracts the max from the caller's scores in "
        "place (scores -= ...)",
        "edits": [
            (
                "    scores = np.asarray(scores, dtype=np.float64)\n",
                "    scores -= np.max(scores, axis=2, keepdims=True)\n",
            )
        ],
        "lost": LOSS_CHECKS,
        "feedback": "modified scores in place",
    },
    "loss_mean_over_all_steps": {
        "description": "temporal_softmax_loss divides by N T, the number of steps, masked ones "
        "included",
        "edits": [("count = np.count_nonzero(kept)", "count = N * T")],
        "lost": ["temporal_softmax_loss_mask"],
        "feedback": "instead of over the unmasked steps",
    },
    "loss_mean_over_batch": {
        "description": "temporal_softmax_loss divides the sum by N (the mean over the batch, "
        "summed over time), as some course code does",
        "edits": [("count = np.count_nonzero(kept)", "count = N if kept.any() else 0")],
        "lost": [
            "temporal_softmax_loss_value",
            "temporal_softmax_loss_dscores",
            "temporal_softmax_loss_mask",
            "temporal_softmax_loss_stability",
        ],
        "feedback": "divided by N",
    },
    "mask_not_in_gradient": {
        "description": "temporal_softmax_loss masks the loss but not the gradient",
        "edits": [("dflat *= kept[:, None] / count", "dflat /= count")],
        "lost": ["temporal_softmax_loss_mask"],
        "feedback": "not to the gradient at masked steps",
        "visible": "gradient at masked steps",
    },
    "gradient_not_divided": {
        "description": "temporal_softmax_loss forgets to divide the gradient by the number of "
        "unmasked steps",
        "edits": [("dflat *= kept[:, None] / count", "dflat *= kept[:, None]")],
        "lost": [
            "temporal_softmax_loss_dscores",
            "temporal_softmax_loss_mask",
            "temporal_softmax_loss_stability",
        ],
        "feedback": "not divided by the number of unmasked steps",
        "visible": "divided by the number of unmasked steps",
    },
    "gradient_no_one_hot": {
        "description": "temporal_softmax_loss returns the softmax as the gradient, without "
        "subtracting the one-hot of the target",
        "edits": [("    dflat[rows, picked] -= 1.0\n", "")],
        "lost": [
            "temporal_softmax_loss_dscores",
            "temporal_softmax_loss_mask",
            "temporal_softmax_loss_stability",
        ],
        "feedback": "one-hot of the target is not subtracted",
        "visible": "one_hot",
    },
    "all_masked_nan": {
        "description": "temporal_softmax_loss does not treat the case of no unmasked step, and "
        "returns 0/0 = nan",
        "edits": [
            (
                "    if count == 0:\n        return 0.0, np.zeros_like(scores)\n",
                "",
            )
        ],
        "lost": ["temporal_softmax_loss_mask"],
        "feedback": "no unmasked step",
    },
    "loss_no_max_shift": {
        "description": "temporal_softmax_loss exponentiates the raw scores: exp(1000) overflows",
        "edits": [
            (
                "shifted = flat - np.max(flat, axis=1, keepdims=True)",
                "shifted = flat",
            )
        ],
        "lost": ["temporal_softmax_loss_stability"],
        "feedback": "overflows",
    },
    "loss_log_of_softmax": {
        "description": "temporal_softmax_loss takes the log of the (stable) softmax, which is "
        "-inf when the target's probability underflows",
        "edits": [
            (
                "log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))",
                "log_probs = np.log(np.exp(shifted) / np.sum(np.exp(shifted), axis=1, "
                "keepdims=True))",
            )
        ],
        "lost": ["temporal_softmax_loss_stability"],
        "feedback": "not as the log of the softmax",
        "visible": "the log of the softmax",
    },
    # -- sample ---------------------------------------------------------------------------------
    "temperature_multiplied": {
        "description": "sample multiplies the logits by the temperature",
        "edits": [("scaled = logits / temperature", "scaled = logits * temperature")],
        "lost": ["sample_temperature"],
        "feedback": "multiplied by the temperature",
        "visible": "do not multiply",
    },
    "sample_argmax": {
        "description": "sample returns the most likely token of each row instead of drawing",
        "edits": [
            (
                "return np.minimum(below, p.shape[1] - 1).astype(np.int64)",
                "return np.argmax(p, axis=1).astype(np.int64)",
            )
        ],
        "lost": SAMPLE_CHECKS,
        "feedback": "argmax",
    },
    "sample_fresh_generator": {
        "description": "sample draws from a new generator, np.random.default_rng(), instead of "
        "the one it is given",
        "edits": [("u = rng.random(len(p))", "u = np.random.default_rng().random(len(p))")],
        "lost": SAMPLE_CHECKS,
        "feedback": "generator it is given",
    },
    "sample_one_draw_for_batch": {
        "description": "sample draws one uniform number for the whole batch",
        "edits": [("u = rng.random(len(p))", "u = np.full(len(p), rng.random())")],
        "lost": SAMPLE_CHECKS,
        "feedback": "one per row",
    },
    "sample_no_max_shift": {
        "description": "sample exponentiates logits / temperature without subtracting the max",
        "edits": [
            (
                "shifted = scaled - np.max(scaled, axis=1, keepdims=True)",
                "shifted = scaled",
            )
        ],
        "lost": ["sample_temperature"],
        "feedback": "subtract the row's max",
        "visible": "subtract",
    },
    # -- beam search ----------------------------------------------------------------------------
    "beam_sums_probabilities": {
        "description": "beam_search adds the probabilities exp(log_probs) instead of the "
        "log-probabilities",
        "edits": [
            (
                "candidates.append((total + float(log_probs[token]), tokens + [token], new_state))",
                "candidates.append((total + float(np.exp(log_probs[token])), tokens + [token], "
                "new_state))",
            )
        ],
        "lost": BEAM_CHECKS,
        "feedback": "instead of the log-probabilities",
    },
    "beam_always_greedy": {
        "description": "beam_search keeps one candidate per step whatever beam_width",
        "edits": [
            (
                "for total, tokens, new_state in candidates[:beam_width]:",
                "for total, tokens, new_state in candidates[:1]:",
            )
        ],
        "lost": [
            "beam_search_exhaustive",
            "beam_search_eos",
            "beam_search_pruning",
            "beam_search_length_normalisation",
            "beam_search_ties",
        ],
        "feedback": "only one hypothesis whatever beam_width",
    },
    "beam_drops_eos": {
        "description": "beam_search leaves eos out of the tokens of a finished hypothesis",
        "edits": [
            (
                "                finished.append((total / len(tokens) ** alpha, tokens))\n",
                "                kept = tokens[:-1] if tokens[-1] == eos else tokens\n"
                "                finished.append((total / max(len(kept), 1) ** alpha, kept))\n",
            )
        ],
        "lost": BEAM_CHECKS,
        "feedback": "eos is dropped from the tokens",
    },
    "beam_extends_finished": {
        "description": "beam_search keeps extending the hypotheses that emitted eos (it "
        "records them as finished but leaves them in the beam)",
        "edits": [
            (
                "                finished.append((total / len(tokens) ** alpha, tokens))\n",
                "                finished.append((total / len(tokens) ** alpha, tokens))\n"
                "                if length < max_length:\n"
                "                    beam.append((tokens, total, tokens[-1], new_state))\n",
            )
        ],
        "lost": BEAM_CHECKS,
        "feedback": "never extended again",
    },
    "beam_eos_takes_no_place": {
        "description": "beam_search fills the beam with beam_width unfinished hypotheses, "
        "setting aside the eos candidates it meets on the way without counting them",
        "edits": [
            (
                "        for total, tokens, new_state in candidates[:beam_width]:\n",
                "        for total, tokens, new_state in candidates:\n"
                "            if len(beam) == beam_width:\n"
                "                break\n",
            )
        ],
        "lost": ["beam_search_eos"],
        "feedback": "does not take a place in the beam",
    },
    "beam_final_ignores_alpha": {
        "description": "beam_search chooses the finished hypothesis by its raw sum (alpha "
        "applied only to the score it returns)",
        "edits": [
            (
                "                finished.append((total / len(tokens) ** alpha, tokens))\n",
                "                finished.append((total, tokens))\n",
            ),
            (
                "    return best_tokens, float(best_score)",
                "    return best_tokens, float(best_score / len(best_tokens) ** alpha)",
            ),
        ],
        "lost": [
            "beam_search_exhaustive",
            "beam_search_eos",
            "beam_search_length_normalisation",
        ],
        "feedback": "the final choice ignores alpha",
    },
    "beam_score_not_normalised": {
        "description": "beam_search chooses by the normalised score but returns the raw sum",
        "edits": [
            (
                "                finished.append((total / len(tokens) ** alpha, tokens))\n",
                "                finished.append((total / len(tokens) ** alpha, tokens, total))\n",
            ),
            (
                "    best_score, best_tokens = max(finished, key=lambda done: done[0])",
                "    _, best_tokens, best_score = max(finished, key=lambda done: done[0])",
            ),
        ],
        "lost": [
            "beam_search_exhaustive",
            "beam_search_eos",
            "beam_search_length_normalisation",
            "beam_search_ties",
        ],
        "feedback": "the score returned is the raw sum",
    },
    "beam_length_counts_bos": {
        "description": "beam_search counts bos in the length of a hypothesis",
        "edits": [
            (
                "                finished.append((total / len(tokens) ** alpha, tokens))\n",
                "                finished.append((total / (len(tokens) + 1) ** alpha, tokens))\n",
            )
        ],
        "lost": [
            "beam_search_exhaustive",
            "beam_search_eos",
            "beam_search_length_normalisation",
            "beam_search_ties",
        ],
        "feedback": "the length counts bos",
    },
    "beam_ties_reversed": {
        "description": "beam_search ranks the candidates with np.argsort(scores)[::-1], which "
        "puts the later of equal candidates first",
        "edits": [
            (
                "        candidates.sort(key=lambda candidate: -candidate[0])"
                "  # stable: ties keep their order\n",
                "        order = np.argsort([candidate[0] for candidate in candidates], "
                'kind="stable")[::-1]\n'
                "        candidates = [candidates[i] for i in order]\n",
            )
        ],
        "lost": ["beam_search_ties"],
        "feedback": "ties are broken in reverse",
    },
    "beam_final_tie_last": {
        "description": "beam_search chooses the finished hypothesis with a loop keeping the "
        "last of equal scores (>=)",
        "edits": [
            (
                "    best_score, best_tokens = max(finished, key=lambda done: done[0])"
                "  # the first of equal ones\n",
                "    best_score, best_tokens = finished[0]\n"
                "    for done_score, done_tokens in finished:\n"
                "        if done_score >= best_score:\n"
                "            best_score, best_tokens = done_score, done_tokens\n",
            )
        ],
        "lost": ["beam_search_ties"],
        "feedback": "the later one wins",
    },
}

ALTERNATIVES: dict[str, dict[str, Any]] = {
    "embedding-one-hot-matmul": {
        "edits": [
            (
                "    np.add.at(dW, idx, dout)  # unbuffered: a row that occurs k times receives k "
                "gradients\n",
                "    one_hot = np.eye(shape[0])[idx.ravel()]  # (N T, V)\n"
                "    dW += one_hot.T @ dout.reshape(-1, shape[1])\n",
            )
        ],
        "why": "The lookup is a product with one-hot rows, so dW is their transpose times dout: "
        "the matrix product sums the repeated rows.",
    },
    "embedding-bincount": {
        "edits": [
            (
                "    np.add.at(dW, idx, dout)  # unbuffered: a row that occurs k times receives k "
                "gradients\n",
                "    flat = dout.reshape(-1, shape[1])\n"
                "    for d in range(shape[1]):\n"
                "        dW[:, d] = np.bincount(idx.ravel(), weights=flat[:, d], "
                "minlength=shape[0])\n",
            )
        ],
        "why": "np.bincount with weights sums the upstream gradients of each token, one "
        "embedding coordinate at a time.",
    },
    "loss-logsumexp-form": {
        "edits": [
            (
                "log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))",
                "log_probs = flat - (np.max(flat, axis=1, keepdims=True) + "
                "np.log(np.sum(np.exp(shifted), axis=1, keepdims=True)))",
            )
        ],
        "why": "s - (m + log sum exp(s - m)) is the same log-softmax, written with the "
        "log-sum-exp of the raw scores.",
    },
    "sample-choice-per-row": {
        "edits": [
            (
                "    u = rng.random(len(p))  # one uniform number per row, drawn at once\n"
                "    cdf = np.cumsum(p, axis=1)\n"
                "    below = np.sum(cdf <= u[:, None], axis=1)"
                "  # entries with cdf <= u come before the draw\n"
                "    return np.minimum(below, p.shape[1] - 1).astype(np.int64)\n",
                "    return np.array([rng.choice(len(row), p=row) for row in p], dtype=np.int64)\n",
            )
        ],
        "why": "rng.choice(V, p=row) draws one uniform number and inverts the cumulative sum, "
        "row after row from the same stream: the stated protocol.",
    },
    "sample-random-per-row": {
        "edits": [
            (
                "    u = rng.random(len(p))  # one uniform number per row, drawn at once\n",
                "    u = np.array([rng.random() for _ in range(len(p))])\n",
            )
        ],
        "why": "N calls of rng.random() draw the same N numbers as one rng.random(N).",
    },
    "sample-searchsorted": {
        "edits": [
            (
                "    below = np.sum(cdf <= u[:, None], axis=1)"
                "  # entries with cdf <= u come before the draw\n",
                '    below = np.array([np.searchsorted(c, x, side="right") for c, x in '
                "zip(cdf, u)])\n",
            )
        ],
        "why": "searchsorted(side='right') finds the smallest i with cdf[i] > u, row by row.",
    },
    "beam-heap": {
        "edits": [
            (
                "        candidates.sort(key=lambda candidate: -candidate[0])"
                "  # stable: ties keep their order\n",
                "        import heapq\n\n"
                "        candidates = heapq.nlargest(beam_width, candidates, "
                "key=lambda candidate: candidate[0])\n",
            )
        ],
        "why": "heapq.nlargest is documented to equal sorted(..., reverse=True)[:n], which "
        "keeps the first of equal candidates: the stated order, without sorting them all.",
    },
    "beam-prune-normalised": {
        "edits": [
            (
                "        candidates.sort(key=lambda candidate: -candidate[0])"
                "  # stable: ties keep their order\n",
                "        candidates.sort(key=lambda candidate: -candidate[0] / length**alpha)\n",
            )
        ],
        "why": "Every candidate of one step has `length` tokens, so dividing all the sums by "
        "length ** alpha ranks them alike.",
    },
}
