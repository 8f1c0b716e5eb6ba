"""cells.batched against the per-sequence engine (which tests/test_gradients.py holds to autograd)."""

from __future__ import annotations

import numpy as np
import pytest

import cells
from cells import batched

KINDS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, True)])
def test_a_batch_is_each_sequence_on_its_own(kind, layers, bidirectional):
    rec = cells.init_recurrent(kind, 5, 7, num_layers=layers, bidirectional=bidirectional, seed=1, dtype=np.float64)
    rng = np.random.default_rng(0)
    T, B, DH = 9, 4, 7 * rec.num_directions
    X, dY = rng.standard_normal((T, B, 5)), rng.standard_normal((T, B, DH))
    Y, tape = batched.forward(rec, X)
    dX = batched.input_gradients(rec, tape, dY)
    for b in range(B):
        tr = rec.trace(X[:, b])
        np.testing.assert_allclose(Y[:, b], tr.output, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dX[:, b], rec.backward(tr, dY[:, b]).dx, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_one_forward_pass_under_many_losses(kind):
    rec = cells.init_recurrent(kind, 3, 6, bidirectional=True, seed=2)  # float32, as the bundled models
    rng = np.random.default_rng(1)
    x, dY = rng.standard_normal((8, 1, 3)).astype(np.float32), rng.standard_normal((8, 5, 12)).astype(np.float32)
    Y, tape = batched.forward(rec, x)
    dX = batched.input_gradients(rec, tape, dY)
    assert dX.shape == (8, 5, 3) and dX.dtype == np.float32
    tr = rec.trace(x[:, 0])
    for b in range(5):
        np.testing.assert_allclose(dX[:, b], rec.backward(tr, dY[:, b]).dx, rtol=1e-4, atol=1e-6)


def test_bad_shapes_and_values_are_refused():
    rec = cells.init_recurrent("lstm", 3, 4, seed=0)
    with pytest.raises(ValueError, match=r"shape \(T ≥ 1, B, 3\)"):
        batched.forward(rec, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        batched.forward(rec, np.full((2, 1, 3), np.nan))
    _, tape = batched.forward(rec, np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"dY must have shape \(T, B, 4\)"):
        batched.input_gradients(rec, tape, np.zeros((4, 2, 4)))
    with pytest.raises(ValueError, match="not made by this model"):
        batched.input_gradients(cells.init_recurrent("gru", 3, 4, seed=0), tape, np.zeros((5, 2, 4)))


def test_the_papers_gru_is_refused_not_misread():
    rec = cells.init_recurrent("gru_reset_before", 3, 4)
    with pytest.raises(ValueError, match="not gru_reset_before"):
        batched.forward(rec, np.zeros((5, 2, 3)))
