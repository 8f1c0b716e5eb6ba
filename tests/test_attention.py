"""Attention weights sum to 1, masked positions get exactly 0, and the scoring rules match torch."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cells import attention as att


@settings(max_examples=100)
@given(
    scores=arrays(np.float64, st.integers(1, 50), elements=st.floats(-1e4, 1e4)),
    data=st.data(),
)
def test_softmax_sums_to_one_and_masks_exactly(scores, data):
    mask = data.draw(arrays(bool, scores.shape))
    if not mask.any():
        mask[0] = True
    w = att.softmax(scores, mask)
    assert np.isfinite(w).all()
    assert abs(w.sum() - 1) < 1e-12
    assert (w[~mask] == 0).all()
    assert (w >= 0).all()


def test_softmax_extremes_and_torch():
    s = np.array([1e4, -1e4, 0.0, 1e4 - 1])
    np.testing.assert_allclose(att.softmax(s), torch.softmax(torch.tensor(s), 0).numpy(), atol=1e-15)
    with pytest.raises(ValueError, match="every position is masked"):
        att.softmax(s, np.zeros(4, bool))
    with pytest.raises(ValueError, match="NaN or infinite"):
        att.softmax(np.array([np.nan, 1.0]))


def test_scoring_rules_against_torch():
    rng = np.random.default_rng(0)
    T, D, A = 7, 6, 5
    H, q = rng.standard_normal((T, D)), rng.standard_normal(D)
    W, Wg, v, b = rng.standard_normal((A, D)), rng.standard_normal((D, D)), rng.standard_normal(A), rng.standard_normal(A)
    W_q = rng.standard_normal((A, D))
    Ht, qt = torch.tensor(H), torch.tensor(q)
    np.testing.assert_allclose(att.dot(H, q), (Ht @ qt).numpy())
    np.testing.assert_allclose(att.scaled_dot(H, q), (Ht @ qt / D**0.5).numpy())
    np.testing.assert_allclose(att.general(H, q, Wg), (Ht @ torch.tensor(Wg).T @ qt).numpy())
    bahdanau = torch.tanh(Ht @ torch.tensor(W).T + torch.tensor(W_q) @ qt + torch.tensor(b)) @ torch.tensor(v)
    np.testing.assert_allclose(att.additive(H, W, v, b, q, W_q), bahdanau.numpy())
    lin = torch.nn.Linear(2 * D, 1, dtype=torch.float64)
    concat = lin(torch.cat([Ht, qt.expand(T, D)], dim=1))[:, 0]
    w = lin.weight.detach().numpy()[0]
    np.testing.assert_allclose(
        att.concat_linear(H, w[:D], lin.bias.item(), q, w[D:]), concat.detach().numpy(), atol=1e-12
    )


def test_attend_context_and_shapes():
    rng = np.random.default_rng(1)
    H = rng.standard_normal((4, 3))
    s = att.additive(H, rng.standard_normal((2, 3)), rng.standard_normal(2))
    mask = np.array([True, True, False, True])
    a = att.attend(H, s, mask)
    assert a.weights[2] == 0 and abs(a.weights.sum() - 1) < 1e-12
    np.testing.assert_allclose(a.context, (a.weights[:, None] * H).sum(0))
    assert not a.weights.flags.writeable
    with pytest.raises(ValueError, match="one score per position"):
        att.attend(H, s[:3])
    with pytest.raises(ValueError, match=r"shape \(T, D\)"):
        att.dot(np.zeros((0, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"query must have shape \(3,\)"):
        att.dot(H, np.zeros(4))
