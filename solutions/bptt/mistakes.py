"""Realistic mistakes in the assignment *Backpropagation through time* (``bptt``).

Each entry edits the notebook's solution code (the text between BEGIN/END SOLUTION of every
solution cell, concatenated; each ``old`` occurs exactly once) to build an example submission.
``lost`` lists exactly the grade_ids that then score 0, and ``feedback`` is a phrase that the
message of each of those failing checks contains.

``ALTERNATIVES`` edits the solution in the same way into answers that are right but computed
differently (another order of the sums, a conventional epsilon); each must keep full marks.
"""

MISTAKES = {
    "bptt_no_carry": {
        "description": "rnn_backward forgets the carry: the gradient coming back from step t+1 "
        "(dh_prev of the next step) is never added to dh[:, t]",
        "edits": [("np.add(dh[:, t], dh_carry, out=da[t])", "da[t] = dh[:, t]")],
        "lost": [
            "rnn_backward_dx",
            "rnn_backward_dh0",
            "rnn_backward_dwx",
            "rnn_backward_dwh",
            "rnn_backward_db",
        ],
        "feedback": "carry",
    },
    "bptt_dh_in_place": {
        "description": "rnn_backward adds the carry into the caller's dh (dh[:, t] += ...) "
        "instead of into a new array",
        "edits": [
            (
                "np.add(dh[:, t], dh_carry, out=da[t])",
                "dh[:, t] += dh_carry\n        da[t] = dh[:, t]",
            )
        ],
        "lost": [
            "rnn_backward_dx",
            "rnn_backward_dh0",
            "rnn_backward_dwx",
            "rnn_backward_dwh",
            "rnn_backward_db",
        ],
        "feedback": "modified dh in place",
    },
    "dwh_transposed": {
        "description": "rnn_backward computes dWh with the wrong transpose (da.T @ h_prev)",
        "edits": [
            (
                "dWh = states[:-1].reshape(T * N, H).T @ da_rows",
                "dWh = da_rows.T @ states[:-1].reshape(T * N, H)",
            )
        ],
        "lost": ["rnn_backward_dwh"],
        "feedback": "transposed",
    },
    "db_mean_over_batch": {
        "description": "rnn_backward sums db over time but averages it over the batch instead "
        "of summing it",
        "edits": [("db = da.sum(axis=(0, 1))", "db = da.sum(axis=0).mean(axis=0)")],
        "lost": ["rnn_backward_db"],
        "feedback": "averaged over the batch",
    },
    "h_includes_h0": {
        "description": "rnn_forward returns the states h0 ... h_{T-1} instead of h_1 ... h_T "
        "(h includes h0: off by one in time)",
        "edits": [
            (
                "h = states[1:].transpose(1, 0, 2).copy()",
                "h = states[:-1].transpose(1, 0, 2).copy()",
            )
        ],
        "lost": ["rnn_forward_tanh", "rnn_forward_relu", "rnn_forward_t1"],
        "feedback": "off by one in time",
    },
    "h_float32": {
        "description": "rnn_forward returns the states as float32 (to save memory)",
        "edits": [
            (
                "h = states[1:].transpose(1, 0, 2).copy()",
                "h = states[1:].transpose(1, 0, 2).astype(np.float32)",
            )
        ],
        "lost": ["rnn_forward_tanh", "rnn_forward_relu", "rnn_forward_t1"],
        "feedback": "float64",
    },
    "activation_case_insensitive": {
        "description": "rnn_forward accepts any case of the activation's name ('Tanh' runs the "
        "ReLU network)",
        "edits": [
            (
                'if activation not in ("tanh", "relu"):',
                'if activation.lower() not in ("tanh", "relu"):',
            )
        ],
        "lost": ["rnn_forward_bad_activation"],
        "feedback": "without raising ValueError",
    },
    "no_activation_check": {
        "description": "rnn_forward does not validate activation: any name other than 'tanh' "
        "silently runs the ReLU network",
        "edits": [
            (
                '    if activation not in ("tanh", "relu"):\n'
                "        raise ValueError(f\"activation must be 'tanh' or 'relu', "
                'got {activation!r}")\n',
                "",
            )
        ],
        "lost": ["rnn_forward_bad_activation"],
        "feedback": "without raising ValueError",
    },
    "dbo_batch_only": {
        "description": "temporal_affine_backward sums dbo over the batch only, not over time",
        "edits": [("dbo = dout.sum(axis=(0, 1))", "dbo = dout.sum(axis=0)")],
        "lost": ["temporal_affine_backward_dbo"],
        "feedback": "sum dout over both the batch axis and the time axis",
    },
    "dout_flattened_in_place": {
        "description": "temporal_affine_backward flattens the caller's dout in place "
        "(dout.shape = ...) instead of taking a reshaped view",
        "edits": [
            (
                "dWo = h.reshape(N * T, H).T @ dout.reshape(N * T, -1)",
                "dout.shape = (N * T, -1)  # the steps as rows\n"
                "    dWo = h.reshape(N * T, H).T @ dout",
            ),
            ("dbo = dout.sum(axis=(0, 1))", "dbo = dout.sum(axis=0)"),
        ],
        "lost": [
            "temporal_affine_backward_dh",
            "temporal_affine_backward_dwo",
            "temporal_affine_backward_dbo",
        ],
        "feedback": "modified dout in place",
    },
    "mse_dpred_divides_by_n": {
        "description": "mse_loss scales dpred by 2/N (the batch size) instead of 2/(N*T*O)",
        "edits": [("dpred = 2.0 * diff / diff.size", "dpred = 2.0 * diff / diff.shape[0]")],
        "lost": ["mse_loss_dpred"],
        "feedback": "batch size",
    },
    "mse_loss_sum": {
        "description": "mse_loss returns the sum of squared errors instead of their mean",
        "edits": [("loss = float(np.mean(diff**2))", "loss = float(np.sum(diff**2))")],
        "lost": ["mse_loss_value"],
        "feedback": "sum of squares",
    },
    "clip_per_array": {
        "description": "clip_by_global_norm clips every array to max_norm separately instead "
        "of scaling all arrays by the global factor",
        "edits": [
            (
                "clipped = {name: g * scale for name, g in grads.items()}",
                "clipped = {name: g * min(1.0, max_norm / np.sqrt(np.sum(g**2))) "
                "for name, g in grads.items()}",
            )
        ],
        "lost": ["clip_by_global_norm_scaling"],
        "feedback": "clipped separately",
    },
    "clip_in_place": {
        "description": "clip_by_global_norm scales the caller's arrays in place (g *= scale) "
        "and returns the input dict",
        "edits": [
            (
                "clipped = {name: g * scale for name, g in grads.items()}",
                "for g in grads.values():\n        g *= scale\n    clipped = grads",
            )
        ],
        "lost": ["clip_by_global_norm_inputs_unchanged"],
        "feedback": "in place",
    },
    "numgrad_not_restored": {
        "description": "numerical_gradient perturbs x in place and never puts the original "
        "value back, so x is left modified and later entries see earlier perturbations",
        "edits": [("        x[index] = original\n", "")],
        "lost": ["numerical_gradient_x_unchanged"],
        "feedback": "modified x",
    },
    "numgrad_forward_difference": {
        "description": "numerical_gradient takes the forward difference (f(x + h e_i) - f(x)) / h "
        "instead of the central one",
        "edits": [
            (
                "        x[index] = original - h\n        f_minus = np.array(f(x), dtype=float)\n",
                "        x[index] = original\n        f_minus = np.array(f(x), dtype=float)\n",
            ),
            (
                "grad[index] = np.sum(df * (f_plus - f_minus)) / (2 * h)",
                "grad[index] = np.sum(df * (f_plus - f_minus)) / h",
            ),
        ],
        "lost": ["numerical_gradient_vjp"],
        "feedback": "forward difference",
        # The visible test says "did you divide by 2h?"; the hidden message says it too.
        "visible": "divide by 2h",
    },
    "numgrad_fixed_step": {
        "description": "numerical_gradient sets its own step inside the function and ignores "
        "the h it is given",
        "edits": [("grad = np.zeros(x.shape)", "grad = np.zeros(x.shape)\n    h = 1e-6  # small")],
        "lost": ["numerical_gradient_vjp"],
        "feedback": "step h is not used",
    },
    "dl_dw_new_symbol": {
        "description": "dL/dw by hand with h1 as a new symbol instead of tanh(w h0 + u x1)",
        "edits": [("h1 = sp.tanh(w * h0 + u * x1)", 'h1 = sp.Symbol("h1")  # the first state')],
        "lost": ["dl_dw_symbolic"],
        "feedback": "not defined",
    },
    "dl_dw_no_carry": {
        "description": "dL/dw by hand keeps only the direct term of step 2 and forgets the path "
        "through h1",
        "edits": [("dL_dw = dL_da2 * h1 + dL_da1 * h0", "dL_dw = dL_da2 * h1")],
        "lost": ["dl_dw_symbolic"],
        "feedback": "path through h1",
    },
}

ALTERNATIVES = {
    "pytorch-clip": {
        "edits": [
            (
                "scale = max_norm / total_norm if total_norm > max_norm else 1.0",
                "clip_coef = max_norm / (total_norm + 1e-6)  # as torch.nn.utils.clip_grad_norm_\n"
                "    scale = min(clip_coef, 1.0)",
            )
        ],
        "why": "PyTorch's clip_grad_norm_ adds 1e-6 to the norm and clamps the factor at 1, which "
        "changes the clipped arrays by about 1e-6 / total_norm.",
    },
    "clip-norm-of-norms": {
        "edits": [
            (
                "total_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))",
                "total_norm = float(np.sqrt(sum(np.linalg.norm(g) ** 2 for g in grads.values())))",
            )
        ],
        "why": "The squared norms of the arrays add up to the sum of all squared entries.",
    },
    "backward-parameters-in-loop": {
        "edits": [
            (
                "    dh_carry = np.zeros((N, H))",
                "    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)\n"
                "    dh_carry = np.zeros((N, H))",
            ),
            (
                "        np.matmul(da[t], Wh.T, out=dh_carry)",
                "        dWx += xs[t].T @ da[t]\n"
                "        dWh += states[t].T @ da[t]\n"
                "        db += da[t].sum(axis=0)\n"
                "        np.matmul(da[t], Wh.T, out=dh_carry)",
            ),
            (
                "    dWx = xs.reshape(T * N, D).T @ da_rows\n"
                "    dWh = states[:-1].reshape(T * N, H).T @ da_rows\n"
                "    db = da.sum(axis=(0, 1))\n",
                "",
            ),
        ],
        "why": "Accumulating the parameter gradients step by step inside the loop adds the same "
        "terms in another order (slower: many small products instead of one large one).",
    },
    "mse-sum-over-size": {
        "edits": [
            ("loss = float(np.mean(diff**2))", "loss = float(np.sum(diff * diff) / diff.size)"),
            ("dpred = 2.0 * diff / diff.size", "dpred = diff * (2.0 / diff.size)"),
        ],
        "why": "The mean is the sum over the size, and 2 / size is one factor.",
    },
    "numgrad-perturbed-copies": {
        "edits": [
            (
                "        original = x[index]\n"
                "        x[index] = original + h\n"
                "        f_plus = np.array(f(x), dtype=float)"
                "  # a copy, in case f returns a view of x\n"
                "        x[index] = original - h\n"
                "        f_minus = np.array(f(x), dtype=float)\n"
                "        x[index] = original\n",
                "        step = np.zeros(x.shape)\n"
                "        step[index] = h\n"
                "        f_plus = np.array(f(x + step), dtype=float)\n"
                "        f_minus = np.array(f(x - step), dtype=float)\n",
            )
        ],
        "why": "Evaluating f at perturbed copies of x gives the same differences and never "
        "modifies x.",
    },
    "dl-dw-by-sympy": {
        "edits": [("dL_dw = dL_da2 * h1 + dL_da1 * h0", "dL_dw = sp.diff((h2 - y) ** 2 / 2, w)")],
        "why": "SymPy's own derivative of the loss is dL/dw in another form.",
    },
}
