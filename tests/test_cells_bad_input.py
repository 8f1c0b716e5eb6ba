"""Bad input gets a clear error that names what is wrong."""

import numpy as np
import pytest
import torch

import cells


@pytest.fixture
def rec():
    return cells.init_recurrent("lstm", 4, 6, num_layers=2, bidirectional=True)


def test_wrong_input_width(rec):
    with pytest.raises(ValueError, match="expects input_size=4"):
        rec.trace(np.zeros((5, 3)))


def test_wrong_rank(rec):
    with pytest.raises(ValueError, match=r"shape \(T, 4\)"):
        rec.trace(np.zeros((2, 5, 4)))


def test_empty_sequence(rec):
    with pytest.raises(ValueError, match="empty sequence"):
        rec.trace(np.zeros((0, 4)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_input(rec, bad):
    x = np.zeros((5, 4))
    x[3, 1] = bad
    with pytest.raises(ValueError, match=r"NaN or infinite values at time step\(s\) \[3\]"):
        rec.trace(x)


def test_non_numeric_input(rec):
    with pytest.raises(ValueError, match="real numbers"):
        rec.trace(np.array([["a"] * 4]))


def test_nan_weights():
    m = torch.nn.GRU(3, 4)
    with torch.no_grad():
        m.weight_hh_l0[0, 0] = float("nan")
    with pytest.raises(ValueError, match="w_hh holds 1 NaN"):
        cells.from_torch(m)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: torch.nn.LSTM(3, 4, proj_size=2), "proj_size"),
        (lambda: torch.nn.TransformerEncoderLayer(d_model=8, nhead=2), "cannot trace a TransformerEncoderLayer"),
        (lambda: torch.nn.Linear(3, 4), "cannot trace a Linear"),
    ],
)
def test_unsupported_modules(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        cells.from_torch(make())


def test_half_precision_module():
    with pytest.raises(ValueError, match="float32 or float64"):
        cells.from_torch(torch.nn.LSTM(3, 4).half())


def test_mismatched_states(rec):
    x = np.zeros((5, 4))
    with pytest.raises(ValueError, match=r"h0 must have shape .* \(4, 6\); got \(2, 6\)"):
        rec.trace(x, h0=np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"c0 must have shape"):
        rec.trace(x, c0=np.zeros((4, 5)))
    with pytest.raises(ValueError, match="c0 is only for LSTMs"):
        cells.init_recurrent("gru", 4, 6).trace(x, c0=np.zeros((1, 6)))
    with pytest.raises(ValueError, match="h0 holds NaN"):
        rec.trace(x, h0=np.full((4, 6), np.nan))


def test_torch_shaped_states_are_accepted(rec):
    x = np.random.default_rng(0).standard_normal((5, 4))
    h0 = np.random.default_rng(1).standard_normal((4, 1, 6))
    np.testing.assert_array_equal(rec.trace(x, h0=h0).layer(1, 1).h0, h0[3, 0].astype(np.float32))


def test_inconsistent_weights():
    w = cells.init_recurrent("lstm", 4, 6).weights[0]
    with pytest.raises(ValueError, match="do not fit"):
        cells.Recurrent("gru", [w], 1, False)
    with pytest.raises(ValueError, match="expected 2 weight sets"):
        cells.Recurrent("lstm", [w], 1, True)
    with pytest.raises(ValueError, match="unknown cell kind"):
        cells.Recurrent("transformer", [w], 1, False)


def test_unknown_engine(rec):
    with pytest.raises(ValueError, match="unknown engine"):
        rec.trace(np.zeros((2, 4)), engine="cuda")
