"""Realistic mistakes in the assignment *cells*, used to build example submissions.

Each entry edits the instructor's solution code (``(old, new)`` replacements, applied in order;
each ``old`` occurs exactly once in the code of all solution cells) and lists the grade_ids that
must then score zero (every other graded cell keeps its points), plus a phrase that the message
of each lost check contains.

The backward checks run the student's forward function first, so a mistake in a forward pass
also loses the backward checks of that cell, with the forward's diagnosis in the message.

The first visible test cell that fails on a mistake must name it too, with the ``feedback``
phrase or, where the locked visible test words the cause differently, with an optional shorter
``visible`` phrase, which the hidden feedback then contains as well.

``ALTERNATIVES`` edits the solution in the same way into answers that are right but computed
differently (another order of the sums, another formula for the same value); each must keep
full marks.
"""

from __future__ import annotations

RNN_BACKWARD = [
    "rnn_step_backward_dx",
    "rnn_step_backward_dh_prev",
    "rnn_step_backward_dwx",
    "rnn_step_backward_dwh",
    "rnn_step_backward_db",
]
LSTM_BACKWARD = [
    "lstm_step_backward_dx",
    "lstm_step_backward_dh_prev",
    "lstm_step_backward_dc_prev",
    "lstm_step_backward_dwx",
    "lstm_step_backward_dwh",
    "lstm_step_backward_db",
]

MISTAKES: dict[str, dict] = {
    "rnn_forward_missing_bias": {
        "description": "rnn_step_forward forgets the bias: a = x Wx + h_prev Wh",
        "edits": [
            (
                "a = x @ Wx + h_prev @ Wh + b  # pre-activation (N, H)",
                "a = x @ Wx + h_prev @ Wh  # pre-activation (N, H)",
            )
        ],
        "lost": ["rnn_step_forward_tanh_values", "rnn_step_forward_relu_values", *RNN_BACKWARD],
        "feedback": "bias",
    },
    "rnn_forward_float32": {
        "description": "rnn_step_forward returns h_next as float32 (to save memory)",
        "edits": [("    return h_next, cache\n", "    return h_next.astype(np.float32), cache\n")],
        "lost": ["rnn_step_forward_tanh_values", "rnn_step_forward_relu_values", *RNN_BACKWARD],
        "feedback": "float64",
    },
    "rnn_forward_any_activation": {
        "description": "rnn_step_forward does not validate activation: any name other than "
        "'tanh' runs the ReLU cell",
        "edits": [
            (
                '    if activation not in ("tanh", "relu"):\n'
                "        raise ValueError(f\"activation must be 'tanh' or 'relu', "
                'got {activation!r}")\n'
                "    a = x @ Wx + h_prev @ Wh + b",
                "    a = x @ Wx + h_prev @ Wh + b",
            )
        ],
        "lost": ["rnn_step_forward_bad_activation"],
        "feedback": "without raising ValueError",
    },
    "rnn_forward_relu_np_max": {
        "description": "rnn_step_forward computes ReLU as np.max(a, 0) (a reduction)",
        "edits": [("h_next = np.maximum(a, 0.0)", "h_next = np.max(a, 0)")],
        "lost": ["rnn_step_forward_relu_values", *RNN_BACKWARD],
        "feedback": "np.maximum",
    },
    "rnn_dwh_transposed": {
        "description": "rnn_step_backward returns dWh transposed (da^T h_prev)",
        "edits": [("dWh = h_prev.T @ da", "dWh = da.T @ h_prev")],
        "lost": ["rnn_step_backward_dwh"],
        "feedback": "transposed",
    },
    "rnn_dwh_uses_h_next": {
        "description": "rnn_step_backward computes dWh from h_next instead of h_prev",
        "edits": [("dWh = h_prev.T @ da", "dWh = h_next.T @ da")],
        "lost": ["rnn_step_backward_dwh"],
        "feedback": "h_next instead of h_prev",
    },
    "rnn_dh_prev_wh_not_transposed": {
        "description": "rnn_step_backward computes dh_prev = da Wh instead of da Wh^T",
        "edits": [("dh_prev = da @ Wh.T", "dh_prev = da @ Wh")],
        "lost": ["rnn_step_backward_dh_prev"],
        "feedback": "not transposed",
    },
    "rnn_db_mean": {
        "description": "rnn_step_backward averages db over the batch instead of summing",
        "edits": [("db = da.sum(axis=0)", "db = da.mean(axis=0)")],
        "lost": ["rnn_step_backward_db"],
        "feedback": "mean over the batch",
    },
    "rnn_missing_tanh_derivative": {
        "description": "rnn_step_backward uses dh_next directly as da (no tanh derivative)",
        "edits": [("da = dh_next * (1.0 - h_next**2)", "da = dh_next")],
        "lost": RNN_BACKWARD,
        "feedback": "derivative of the activation is missing",
    },
    "rnn_relu_uses_tanh_derivative": {
        # The classic "relu derivative taken on h instead of a" is no mistake: h > 0 exactly
        # where a > 0. The realistic slip is a backward pass that ignores the activation.
        "description": "rnn_step_backward applies tanh's derivative 1 - h**2 also for relu",
        "edits": [("da = dh_next * (a > 0)", "da = dh_next * (1.0 - h_next**2)")],
        "lost": RNN_BACKWARD,
        "feedback": "tanh derivative",
    },
    "rnn_relu_on_upstream_gradient": {
        "description": "rnn_step_backward computes relu's backward as max(dh_next, 0)",
        "edits": [("da = dh_next * (a > 0)", "da = np.maximum(dh_next, 0.0)")],
        "lost": RNN_BACKWARD,
        "feedback": "upstream gradient",
    },
    "rnn_dh_next_in_place": {
        "description": "rnn_step_backward multiplies the caller's dh_next by tanh' in place "
        "(dh_next *= ...) and uses it as da",
        "edits": [
            ("da = dh_next * (1.0 - h_next**2)", "dh_next *= 1.0 - h_next**2\n        da = dh_next")
        ],
        "lost": RNN_BACKWARD,
        "feedback": "modified dh_next in place",
    },
    "rnn_dh_next_multiply_out": {
        "description": "rnn_step_backward computes da = dh_next * tanh' into dh_next itself "
        "(np.multiply(..., out=dh_next))",
        "edits": [
            (
                "da = dh_next * (1.0 - h_next**2)",
                "da = np.multiply(dh_next, 1.0 - h_next**2, out=dh_next)",
            )
        ],
        "lost": RNN_BACKWARD,
        "feedback": "modified dh_next in place",
    },
    "rnn_relu_mask_in_place": {
        "description": "rnn_step_backward applies relu's mask by zeroing the caller's dh_next "
        "where a <= 0 (da = dh_next; da[a <= 0] = 0)",
        "edits": [("da = dh_next * (a > 0)", "da = dh_next\n        da[a <= 0] = 0.0")],
        "lost": RNN_BACKWARD,
        "feedback": "modified dh_next in place",
    },
    "stack_side_by_side": {
        "description": "stack_weights places Wx and Wh side by side (np.hstack)",
        "edits": [("W = np.vstack([Wx, Wh])", "W = np.hstack([Wx, Wh])")],
        "lost": ["stack_weights_values"],
        "feedback": "side by side",
    },
    "stack_wh_on_top": {
        "description": "stack_weights puts Wh on top of Wx",
        "edits": [("W = np.vstack([Wx, Wh])", "W = np.vstack([Wh, Wx])")],
        "lost": ["stack_weights_values"],
        "feedback": "Wh on top",
    },
    "concat_wrong_order": {
        "description": "concat_step_forward concatenates [h_prev, x] instead of [x, h_prev]",
        "edits": [
            (
                "np.concatenate([x, h_prev], axis=1)",
                "np.concatenate([h_prev, x], axis=1)",
            )
        ],
        "lost": ["concat_step_forward_values"],
        "feedback": "wrong order",
    },
    "concat_any_activation": {
        "description": "concat_step_forward does not validate activation: any name other than "
        "'tanh' runs the ReLU cell",
        "edits": [
            (
                '    if activation not in ("tanh", "relu"):\n'
                "        raise ValueError(f\"activation must be 'tanh' or 'relu', "
                'got {activation!r}")\n'
                "    xh = np.concatenate",
                "    xh = np.concatenate",
            )
        ],
        "lost": ["concat_step_forward_values"],
        "feedback": "without raising ValueError",
    },
    "lstm_gates_i_f_swapped": {
        "description": "lstm_step_forward reads the input and forget gates in swapped blocks",
        "edits": [
            ("i = s[:, :H]", "i = s[:, H : 2 * H]"),
            ("f = s[:, H : 2 * H]", "f = s[:, :H]"),
        ],
        "lost": ["lstm_step_forward_h_next", "lstm_step_forward_c_next", *LSTM_BACKWARD],
        "feedback": "gate blocks are in the wrong order",
    },
    "lstm_h_without_tanh": {
        "description": "lstm_step_forward computes h_next = o * c_next (no tanh)",
        "edits": [("h_next = o * np.tanh(c_next)", "h_next = o * c_next")],
        "lost": ["lstm_step_forward_h_next", *LSTM_BACKWARD],
        "feedback": "missing the tanh",
    },
    "lstm_dc_prev_missing_forget": {
        "description": "lstm_step_backward returns dc_prev = dc, without the forget gate",
        "edits": [("dc_prev = dc * f", "dc_prev = dc")],
        "lost": ["lstm_step_backward_dc_prev"],
        "feedback": "forget-gate factor",
    },
    "lstm_missing_dc_next": {
        "description": "lstm_step_backward ignores the incoming cell gradient dc_next",
        "edits": [
            (
                "dc = dc_next + dh_next * o * (1.0 - tanh_c**2)",
                "dc = dh_next * o * (1.0 - tanh_c**2)",
            )
        ],
        "lost": LSTM_BACKWARD,
        "feedback": "dc_next is not added",
    },
    "lstm_missing_tanh_c_derivative": {
        "description": "lstm_step_backward forgets the derivative of tanh(c_next) in dc",
        "edits": [
            (
                "dc = dc_next + dh_next * o * (1.0 - tanh_c**2)",
                "dc = dc_next + dh_next * o",
            )
        ],
        "lost": LSTM_BACKWARD,
        "feedback": "derivative of tanh(c_next)",
    },
    "lstm_dc_next_in_place": {
        "description": "lstm_step_backward accumulates both paths into the caller's dc_next "
        "(dc = dc_next; dc += ...)",
        "edits": [
            (
                "dc = dc_next + dh_next * o * (1.0 - tanh_c**2)",
                "dc = dc_next\n    dc += dh_next * o * (1.0 - tanh_c**2)",
            )
        ],
        "lost": LSTM_BACKWARD,
        "feedback": "dc_next in place",
    },
}

ALTERNATIVES: dict[str, dict] = {
    "preactivation-reordered": {
        "edits": [
            (
                "a = x @ Wx + h_prev @ Wh + b  # pre-activation (N, H)",
                "a = b + h_prev @ Wh + x @ Wx  # pre-activation (N, H)",
            )
        ],
        "why": "The same sum in another order differs from the reference by round-off only.",
    },
    "tanh-derivative-from-a": {
        "edits": [("da = dh_next * (1.0 - h_next**2)", "da = dh_next / np.cosh(a) ** 2")],
        "why": "tanh'(a) = 1 / cosh(a)**2 = 1 - tanh(a)**2: the same derivative, another formula.",
    },
    "relu-where": {
        "edits": [("h_next = np.maximum(a, 0.0)", "h_next = np.where(a > 0, a, 0.0)")],
        "why": "np.where(a > 0, a, 0) is ReLU element by element, like np.maximum(a, 0).",
    },
    "backward-einsum": {
        "edits": [
            (
                "    dx = da @ Wx.T\n"
                "    dh_prev = da @ Wh.T\n"
                "    dWx = x.T @ da\n"
                "    dWh = h_prev.T @ da\n"
                "    db = da.sum(axis=0)\n",
                '    dx = np.einsum("nk,dk->nd", da, Wx)\n'
                '    dh_prev = np.einsum("nk,jk->nj", da, Wh)\n'
                '    dWx = np.einsum("nd,nk->dk", x, da)\n'
                '    dWh = np.einsum("nj,nk->jk", h_prev, da)\n'
                '    db = np.einsum("nk->k", da)\n',
            )
        ],
        "why": "einsum sums the same products as the matrix products, in another order.",
    },
    "stack-concatenate": {
        "edits": [("W = np.vstack([Wx, Wh])", "W = np.concatenate([Wx, Wh], axis=0)")],
        "why": "Concatenating along axis 0 is stacking Wx on top of Wh.",
    },
    "lstm-logistic-exp": {
        "edits": [
            (
                "s = 0.5 * (1.0 + np.tanh(0.5 * a))",
                "s = 1.0 / (1.0 + np.exp(-a))",
            )
        ],
        "why": "1 / (1 + exp(-a)) is the logistic sigmoid that 0.5 (1 + tanh(a / 2)) computes.",
    },
}
