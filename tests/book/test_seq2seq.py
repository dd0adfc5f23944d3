"""The encoder-decoder book module (``chapters/seq2seq.py``): its batches against a hand-made
construction, its gradients against central differences, greedy decoding against the
teacher-forced forward pass, and masking against one example at a time."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import seq2seq as s2s  # noqa: E402

from rnnbook.gradcheck import central_difference, relative_error


def test_a_batch_written_by_hand():
    batch = s2s.reversal_batch([np.array([3, 1, 4]), np.array([7])])
    E, S, P = s2s.EOS, s2s.SOS, s2s.PAD
    assert batch.source.tolist() == [[3, 1, 4, E], [7, E, P, P]]
    assert batch.decoder_input.tolist() == [[S, 4, 1, 3], [S, 7, P, P]]
    assert batch.target.tolist() == [[4, 1, 3, E], [7, E, P, P]]
    assert batch.source_mask.sum(axis=1).tolist() == [4, 2]
    assert batch.target_mask.tolist() == batch.source_mask.tolist()


def test_random_batch_equals_reversal_batch_of_its_strings():
    rng = np.random.default_rng(3)
    for lengths in [(1, 6), (4, 4), (2, 12)]:
        batch = s2s.random_batch(rng, 50, lengths)
        strings = [
            row[mask][:-1] for row, mask in zip(batch.source, batch.source_mask, strict=True)
        ]
        assert all(lengths[0] <= len(s) <= lengths[1] for s in strings)
        again = s2s.reversal_batch(strings)
        for field in dataclasses.fields(s2s.Batch):
            np.testing.assert_array_equal(
                getattr(batch, field.name), getattr(again, field.name), err_msg=field.name
            )


def test_keys_tell_leading_zeros_apart_and_the_exclusion_holds():
    batch = s2s.reversal_batch([np.array([0, 7]), np.array([7]), np.array([0, 0, 7])])
    assert s2s.batch_keys(batch).tolist() == [107, 17, 1007]
    rng = np.random.default_rng(0)
    every_short = s2s.random_batch(rng, 2000, (2, 2))
    keys = np.unique(s2s.batch_keys(every_short))
    assert keys.size == 100  # all 100 strings of two digits were drawn
    exclude = keys[keys % 2 == 0]  # strings ending in an even digit
    kept = s2s.random_batch(rng, 500, (2, 2), exclude=exclude)
    assert not np.isin(s2s.batch_keys(kept), exclude).any()
    assert np.all(kept.source[:, 1] % 2 == 1)


def test_cross_entropy_against_a_per_position_reference():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 3, 5)) * 3
    target = rng.integers(0, 5, size=(2, 3))
    mask = np.array([[True, True, False], [True, False, False]])
    loss, dlogits = s2s.cross_entropy(logits, target, mask)
    terms = []
    for n, t in zip(*np.nonzero(mask), strict=True):
        row = [math.exp(v) for v in logits[n, t]]
        terms.append(-math.log(row[target[n, t]] / sum(row)))
    assert loss == pytest.approx(sum(terms) / len(terms), rel=1e-12)
    estimate = central_difference(
        lambda z: s2s.cross_entropy(z, target, mask)[0], logits.copy(), h=1e-6
    )
    assert relative_error(dlogits, estimate) < 1e-7
    assert np.all(dlogits[~mask] == 0)


@pytest.mark.parametrize("attend", [False, True])
def test_gradients_against_central_differences_on_a_padded_batch(attend):
    rng = np.random.default_rng(2)
    model = s2s.Seq2Seq(rng, hidden=5, embed=3, attend=attend)
    batch = s2s.reversal_batch([np.array([3, 1, 4]), np.array([1]), np.array([5, 9, 2, 6, 5])])
    _, grads = model.loss_and_grads(batch)
    for name, grad in grads.items():

        def loss_at(value, name=name):
            saved = model.params[name].copy()
            model.params[name][...] = value
            loss = model.loss_and_grads(batch)[0]
            model.params[name][...] = saved
            return loss

        estimate = central_difference(loss_at, model.params[name].copy(), h=1e-6)
        assert relative_error(grad, estimate) < 1e-6, name


def test_a_decoder_without_input_gets_no_embedding_gradient():
    model = s2s.Seq2Seq(np.random.default_rng(4), hidden=4, embed=3, feed=False)
    batch = s2s.reversal_batch([np.array([1, 2]), np.array([3])])
    _, grads = model.loss_and_grads(batch)
    assert np.all(grads["E_dec"] == 0) and np.any(grads["E_enc"] != 0)


@pytest.mark.parametrize("attend", [False, True])
def test_greedy_decoding_agrees_with_the_teacher_forced_pass_on_its_own_outputs(attend):
    """Fed its own greedy outputs as the shifted target, the teacher-forced pass must predict
    exactly those outputs: the two code paths compute the same decoder."""
    rng = np.random.default_rng(5)
    model = s2s.Seq2Seq(rng, hidden=8, embed=4, attend=attend)
    batch = s2s.random_batch(rng, 20, (2, 6))
    width = batch.target.shape[1]
    tokens, _, weights = model.greedy(batch.source, batch.source_mask, max_len=width)
    forced = dataclasses.replace(
        batch,
        decoder_input=np.concatenate([np.full((20, 1), s2s.SOS), tokens[:, :-1]], axis=1),
        target_mask=np.ones((20, width), dtype=bool),
    )
    logits, forced_weights, _ = model.forward(forced)
    running = np.cumsum(tokens == s2s.EOS, axis=1) - (tokens == s2s.EOS) == 0  # up to <eos>
    np.testing.assert_array_equal(logits.argmax(axis=-1)[running], tokens[running])
    if attend:
        steps = weights.shape[1]
        np.testing.assert_allclose(
            forced_weights[:, :steps][running[:, :steps]], weights[running[:, :steps]], atol=1e-12
        )


def test_a_padded_batch_decodes_like_each_example_alone():
    rng = np.random.default_rng(6)
    model = s2s.Seq2Seq(rng, hidden=8, embed=4, attend=True)
    batch = s2s.reversal_batch([np.array([3, 1, 4, 1, 5, 9]), np.array([2]), np.array([6, 5])])
    tokens, lengths, _ = model.greedy(batch.source, batch.source_mask, max_len=9)
    for n in range(3):
        mask = batch.source_mask[n : n + 1]
        alone = batch.source[n : n + 1, : mask.sum()]
        one, one_length, _ = model.greedy(alone, mask[:, : mask.sum()], max_len=9)
        np.testing.assert_array_equal(one[0], tokens[n])
        assert one_length[0] == lengths[n]


def test_wrong_feedback_options_change_the_decoding_and_bad_names_are_refused():
    rng = np.random.default_rng(7)
    model = s2s.Seq2Seq(rng, hidden=8, embed=4)
    batch = s2s.random_batch(rng, 30, (4, 6))
    right = model.greedy(batch.source, batch.source_mask, 8)[0]
    for option in ({"feedback": "logits"}, {"first_input": "zeros"}):
        assert not np.array_equal(
            model.greedy(batch.source, batch.source_mask, 8, **option)[0], right
        )
    with pytest.raises(ValueError, match="feedback"):
        model.greedy(batch.source, batch.source_mask, 8, feedback="probabilities")


def test_accuracy_counts_real_positions_only():
    batch = s2s.reversal_batch([np.array([1, 2]), np.array([3])])
    E, P = s2s.EOS, s2s.PAD
    tokens = np.array([[2, 1, E, P], [3, E, 7, 7]])  # right, right (the 7s are after <eos>)
    exact, per_token = s2s.accuracy(tokens, batch)
    assert exact.tolist() == [True, True] and per_token == 1.0
    tokens = np.array([[2, 0, E, P], [E, P, P, P]])
    exact, per_token = s2s.accuracy(tokens, batch)
    assert exact.tolist() == [False, False] and per_token == pytest.approx(2 / 5)


def test_evaluate_agrees_with_greedy_decoding_one_length_at_a_time():
    rng = np.random.default_rng(8)
    model = s2s.Seq2Seq(rng, hidden=8, embed=4, attend=True)
    sets = {n: s2s.random_batch(rng, 40, (n, n)) for n in (5, 2, 3)}
    result = s2s.evaluate(model, sets, max_len=8)
    for i, n in enumerate((2, 3, 5)):  # increasing length, whatever the order of `sets`
        tokens, _, weights = model.greedy(sets[n].source, sets[n].source_mask, 8)
        right = [np.array_equal(t[: n + 1], y) for t, y in zip(tokens, sets[n].target, strict=True)]
        assert result["exact"][i] == np.mean(right)
        assert result["per_token"][i] == np.mean(tokens[:, : n + 1] == sets[n].target)
        np.testing.assert_array_equal(result["tokens"][n], tokens)
        np.testing.assert_array_equal(result["weights"][n], weights)


def test_spread_reports_mean_min_and_max():
    assert s2s.spread([0.5, 0.25, 1.0]) == "0.583 (0.250 to 1.000)"
    assert s2s.spread(np.array([2.0]), digits=1) == "2.0 (2.0 to 2.0)"
