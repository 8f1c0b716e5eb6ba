"""cells.readout and cells.attention_rules: what the views show at step t, from the trace alone."""

from __future__ import annotations

import numpy as np
import pytest

import cells
from cells import attention as att
from cells import attention_rules as rules_
from cells import readout

TEXT = "Who wrote the play Hamlet, and where?"


def lstm_trace(T: int = 12, H: int = 8, bidirectional: bool = False):
    rec = cells.init_recurrent("lstm", 5, H, bidirectional=bidirectional, seed=3)
    return rec, rec.trace(np.random.default_rng(0).standard_normal((T, 5)).astype(np.float32))


def test_running_perplexity_skips_unknown_and_last():
    vocab = ["<unk>", "a", "b"]
    probs = np.array([[0.1, 0.5, 0.4], [0.2, 0.2, 0.6], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]])  # (T, V)
    s = readout.next_steps(vocab, ["a", "b", "☃", "a"], probs, k=2)
    assert s.actual.tolist() == [2, -1, 1, -1]
    np.testing.assert_allclose(s.p_actual[[0, 2]], [0.4, 0.3])
    np.testing.assert_allclose(s.perplexity, [1 / 0.4, 1 / 0.4, np.exp(-(np.log(0.4) + np.log(0.3)) / 2),
                                              np.exp(-(np.log(0.4) + np.log(0.3)) / 2)])
    assert s.top.tolist()[0] == [1, 2]
    with pytest.raises(ValueError, match="len"):
        readout.next_steps(vocab, ["a"], probs)


def test_top_k_equals_a_full_sort():
    p = np.random.default_rng(1).random((40, 300))
    p[3, [7, 9]] = 2.0  # a tie: the lower id first
    ids, vals = readout.top_k(p, 10)
    want = np.argsort(-p, axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(ids, want)
    np.testing.assert_array_equal(vals, np.take_along_axis(p, want, axis=1))
    assert readout.top_k(p[:, :4], 10)[0].shape == (40, 4)


def test_language_model_steps_agree_with_the_model():
    m = cells.load_model("shakespeare-gru")
    a = m.analyze("ROMEO: soft")
    s = readout.next_steps(m.vocab, a.tokens, a.next_token_probs, k=5)
    t = 2  # after "ROM", the actual next is "E"
    assert s.actual[t] == m.vocab.index("E") and s.p_actual[t] == pytest.approx(float(a.next_token_probs[t][s.actual[t]]))
    assert s.top[t][0] == int(np.argmax(a.next_token_probs[t]))


@pytest.mark.parametrize("by", readout.UNIT_ORDERS)
def test_unit_orders_are_permutations(by):
    _, tr = lstm_trace(T=30, H=16)
    h = tr.layer(0, 0).h
    order = readout.unit_order(h, by)
    assert sorted(order.tolist()) == list(range(16))


def test_variance_and_pc1_orders_find_structure():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 6, 50)[:, None]
    X = 0.01 * rng.standard_normal((50, 6))
    X[:, [1, 4]] += np.sin(t)  # two units move together, strongly
    X[:, 2] -= 0.5 * np.sin(t)[:, 0]  # one moves against them
    assert set(readout.unit_order(X, "variance")[:2]) == {1, 4}
    pc = readout.unit_order(X, "pc1")
    assert set(pc[:2]) == {1, 4} and pc[-1] == 2  # together first; the opposite one last
    X[5, 0] = np.nan  # an overflowed state counts as 0 and does not break the sort
    assert sorted(readout.unit_order(X, "pc1").tolist()) == list(range(6))
    with pytest.raises(ValueError, match="unknown unit order"):
        readout.unit_order(X, "random")


@pytest.mark.parametrize("direction", [0, 1])
def test_unit_values_are_the_recorded_ones(direction):
    _, tr = lstm_trace(bidirectional=True)
    lt = tr.layer(0, direction)
    v = readout.unit_values(tr, 0, direction, 3)
    for t in range(tr.T):
        assert v["h_prev"][t] == pytest.approx(float(lt.h_prev(t)[3]))
        assert v["c_prev"][t] == pytest.approx(float(lt.c_prev(t)[3]))
    np.testing.assert_allclose(v["c"], v["f"] * v["c_prev"] + v["i"] * v["g"], atol=1e-5)
    np.testing.assert_allclose(v["h"], v["o"] * v["tanh_c"], atol=1e-5)
    np.testing.assert_allclose(v["x"], np.linalg.norm(lt.x, axis=1), rtol=1e-6)
    with pytest.raises(IndexError):
        readout.unit_values(tr, 0, direction, 99)


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_pre_activations_equal_step_terms_at_every_step(kind):
    rec = cells.init_recurrent(kind, 5, 6, num_layers=2, bidirectional=True, seed=2)
    tr = rec.trace(np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32))
    for l in range(2):
        for d in range(2):
            pre = rec.pre_activations(tr, l, d)
            for t in range(tr.T):
                for name, (xp, hp) in rec.step_terms(tr, l, d, t).items():
                    np.testing.assert_allclose(pre[name][0][t], xp, atol=1e-6)
                    np.testing.assert_allclose(pre[name][1][t], hp, atol=1e-6)


def test_value_ranges_name_sigmoids_and_tanhs_once():
    assert [cells.value_range("lstm", g) for g in "ifgo"] == [(0, 1), (0, 1), (-1, 1), (0, 1)]
    assert [cells.value_range("gru", g) for g in "rzn"] == [(0, 1), (0, 1), (-1, 1)]
    assert cells.value_range("lstm", "h") == (-1, 1) and cells.value_range("lstm", "c") is None
    assert cells.value_range("rnn_relu", "h") is None and cells.value_range("rnn_tanh", "h") == (-1, 1)
    with pytest.raises(ValueError):
        cells.value_range("transformer", "h")


# -- attention rules ---------------------------------------------------------------------------

def _analysis():
    m = cells.load_model("trec-lstm")
    return m, m.analyze(TEXT)


def test_untrained_rules_are_cells_attention_on_the_same_states():
    _, a = _analysis()
    H = np.asarray(a.trace.output, dtype=np.float64)
    rules = {r.key: r for r in rules_.untrained_rules(H, with_additive=True)}
    q = H.mean(axis=0)
    np.testing.assert_allclose(rules["dot"].scores, att.dot(H, q))
    np.testing.assert_allclose(rules["scaled_dot"].scores, att.scaled_dot(H, q))
    np.testing.assert_allclose(rules["concat_linear"].scores, att.concat_linear(H, rules["concat_linear"].left))
    assert not rules["additive"].trained and "seed" in rules["additive"].note
    for rule in rules.values():
        np.testing.assert_allclose(rule.weights, att.softmax(rule.scores), rtol=1e-12)
        assert abs(rule.weights.sum() - 1) < 1e-9


def test_formula_numbers_add_up_to_the_score():
    m, a = _analysis()
    for r in rules_.rules_for(m, a):
        bd = rules_.breakdown(r, k=3)
        s = r.scale * ((bd["left"] * bd["right"]).sum(axis=1) + bd["rest"]) + r.bias
        np.testing.assert_allclose(s, r.scores, atol=1e-4)
        assert bd["idx"].shape == (len(a.tokens), 3)


def test_trained_rule_reproduces_analyze():
    m = cells.load_model("trec-gru")
    a = m.analyze(TEXT)
    r = rules_.trained_rule(m, a)
    assert r is not None and r.trained
    np.testing.assert_allclose(r.terms.sum(axis=1), a.attention_scores, atol=1e-4)
    np.testing.assert_array_equal(r.weights, a.attention)
    assert rules_.rules_for(m, a)[0] is not None and rules_.rules_for(m, a)[0].trained
