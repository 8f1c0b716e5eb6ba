"""A padded batch traced packed equals torch on a PackedSequence; traced padded, torch on
the padded batch. Both equal rec.trace per sequence, and bad input gets a clear error."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import cells
from cells import padding

KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
TOL = 1e-5
I, H = 3, 5
LENGTHS = np.array([7, 3, 1, 5])  # unsorted, with 1 and T = 7: torch's enforce_sorted=False


def make_module(kind: str, L: int, bi: bool) -> torch.nn.Module:
    if kind.startswith("rnn"):
        return torch.nn.RNN(I, H, L, nonlinearity=kind[4:], bidirectional=bi, batch_first=True).eval()
    return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](I, H, L, bidirectional=bi, batch_first=True).eval()


def batch(seed: int = 0, pad_value: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return padding.pad([rng.standard_normal((n, I)).astype(np.float32) for n in LENGTHS], value=pad_value)


def split(hn) -> tuple[np.ndarray, np.ndarray | None]:
    """torch's h_n, or (h_n, c_n), (L·D, B, H) -> numpy arrays."""
    if isinstance(hn, tuple):
        return hn[0].numpy(), hn[1].numpy()
    return hn.numpy(), None


CASES = [(kind, L, bi) for kind in KINDS for L in (1, 2) for bi in (False, True)]
IDS = [f"{k}-L{L}-{'bi' if bi else 'uni'}" for k, L, bi in CASES]


@pytest.mark.parametrize("kind, L, bi", CASES, ids=IDS)
def test_packed_equals_torch_pack_padded_sequence(kind, L, bi):
    m = make_module(kind, L, bi)
    X, lengths = batch()
    packed = pack_padded_sequence(torch.from_numpy(X), torch.from_numpy(lengths), batch_first=True, enforce_sorted=False)
    with torch.no_grad():
        out, hn = m(packed)
    out, out_lengths = pad_packed_sequence(out, batch_first=True)
    h_n, c_n = split(hn)
    assert out_lengths.tolist() == lengths.tolist()
    trs = cells.from_torch(m).trace_batch(X, lengths, packed=True)
    for b, (tr, n) in enumerate(zip(trs, lengths)):
        assert tr.T == n
        np.testing.assert_allclose(tr.output, out[b, :n].numpy(), rtol=0, atol=TOL)
        np.testing.assert_allclose(tr.h_n, h_n[:, b], rtol=0, atol=TOL)
        if kind == "lstm":
            np.testing.assert_allclose(tr.c_n, c_n[:, b], rtol=0, atol=TOL)


@pytest.mark.parametrize("kind, L, bi", CASES, ids=IDS)
def test_padded_equals_torch_on_the_padded_batch(kind, L, bi):
    m = make_module(kind, L, bi)
    X, lengths = batch()
    with torch.no_grad():
        out, hn = m(torch.from_numpy(X))
    h_n, c_n = split(hn)
    trs = cells.from_torch(m).trace_batch(X, lengths, packed=False)
    for b, tr in enumerate(trs):
        assert tr.T == X.shape[1]
        np.testing.assert_allclose(tr.output, out[b].numpy(), rtol=0, atol=TOL)
        np.testing.assert_allclose(tr.h_n, h_n[:, b], rtol=0, atol=TOL)
        if kind == "lstm":
            np.testing.assert_allclose(tr.c_n, c_n[:, b], rtol=0, atol=TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_each_trace_is_rec_trace_of_its_sequence(kind):
    rec = cells.init_recurrent(kind, I, H, num_layers=2, bidirectional=True, seed=1)
    X, lengths = batch(seed=1)
    for b, tr in enumerate(rec.trace_batch(X, lengths, packed=True)):
        one = rec.trace(X[b, : lengths[b]])
        for a, want in ((tr.x, one.x), (tr.output, one.output), (tr.h_n, one.h_n)):
            np.testing.assert_array_equal(a, want)
    for b, tr in enumerate(rec.trace_batch(X, lengths, packed=False)):
        np.testing.assert_array_equal(tr.output, rec.trace(X[b]).output)


def test_pads_make_h_n_drift_and_reach_the_backward_direction():
    # the lesson: a zero pad is still read, W_ih·0 + b + W_hh h moves the state
    rec = cells.init_recurrent("lstm", I, H, bidirectional=True, seed=2)
    X, lengths = batch(seed=2)
    packed, padded = rec.trace_batch(X, lengths, packed=True), rec.trace_batch(X, lengths, packed=False)
    for p, q, n in zip(packed, padded, lengths):
        fw, bw = q.layer(0, 0), q.layer(0, 1)
        np.testing.assert_allclose(fw.h[:n], p.layer(0, 0).h, rtol=0, atol=1e-6)  # forward: the same until the pads
        if n == X.shape[1]:
            np.testing.assert_array_equal(q.output, p.output)  # no pads, nothing differs
            continue
        assert not np.allclose(q.h_n[0], p.h_n[0])  # forward h_n drifted over the pads
        assert not np.allclose(bw.h[0], p.layer(0, 1).h[0])  # backward read the pads first


def test_nan_pads_are_never_read_when_packed():
    rec = cells.init_recurrent("gru", I, H, bidirectional=True)
    X, lengths = batch(pad_value=np.nan)
    trs = rec.trace_batch(X, lengths, packed=True)
    assert all(tr.finite and np.isfinite(tr.output).all() for tr in trs)
    with pytest.raises(ValueError, match=r"padding of sequence 1 \(step\(s\) \[3, 4, 5, 6\], past its length 3\); "
                                         r"packed=False reads the pads"):
        rec.trace_batch(X, lengths, packed=False)


def test_bidirectional_packed_starts_backward_at_its_own_last_step():
    rec = cells.init_recurrent("rnn_tanh", I, H, bidirectional=True, seed=3)
    X, lengths = batch(seed=3)
    tr = rec.trace_batch(X, lengths)[1]  # length 3 of T = 7
    bw = tr.layer(0, 1)
    np.testing.assert_allclose(bw.h[2], np.tanh(rec.weights[1].w_ih @ X[1, 2] + rec.weights[1].b_ih + rec.weights[1].b_hh),
                               rtol=0, atol=1e-6)  # step T_b − 1 read h0 = 0
    np.testing.assert_array_equal(tr.h_n[1], bw.h[0])


# -- pad -------------------------------------------------------------------------------

def test_pad_stacks_and_counts():
    seqs = [np.ones((2, 3)), np.arange(12.0).reshape(4, 3), np.full((1, 3), 7.0)]
    X, lengths = padding.pad(seqs, value=-1.0)
    assert X.shape == (3, 4, 3) and lengths.tolist() == [2, 4, 1] and lengths.dtype == np.int64
    for x, s, n in zip(X, seqs, lengths):
        np.testing.assert_array_equal(x[:n], s)
        assert (x[n:] == -1.0).all()
    assert padding.pad([np.ones((2, 3), np.float32)])[0].dtype == np.float32
    assert padding.pad([np.ones((2, 3), np.int64)])[0].dtype == np.float64


def test_pad_then_trace_batch_gives_back_each_sequence():
    rec = cells.init_recurrent("lstm", I, H)
    seqs = [np.random.default_rng(b).standard_normal((n, I)) for b, n in enumerate((4, 9, 2))]
    trs = rec.trace_batch(*padding.pad(seqs))
    for tr, s in zip(trs, seqs):
        np.testing.assert_array_equal(tr.output, rec.trace(s).output)


@pytest.mark.parametrize(
    "seqs, message",
    [
        ([], "at least one sequence"),
        ([np.ones((2, 3)), np.ones(3)], r"sequence 1 must have shape \(T_b, I\)"),
        ([np.ones((2, 3)), np.ones((0, 3))], "sequence 1 is empty"),
        ([np.ones((2, 3)), np.ones((2, 4))], "sequence 1 has 4 features per step but sequence 0 has 3"),
        ([np.array([["a", "b"]])], "real numbers"),
    ],
)
def test_pad_bad_input(seqs, message):
    with pytest.raises(ValueError, match=message):
        padding.pad(seqs)


# -- bad input -------------------------------------------------------------------------

@pytest.fixture
def rec():
    return cells.init_recurrent("lstm", I, H, bidirectional=True)


@pytest.mark.parametrize("packed", [True, False])
@pytest.mark.parametrize(
    "X, lengths, message",
    [
        (np.zeros((7, I)), [7], r"padded batch of shape \(B, T, 3\); got shape \(7, 3\)"),
        (np.zeros((2, 4, 7, I)), [7, 7], r"padded batch of shape \(B, T, 3\)"),
        (np.zeros((2, 7, I + 1)), [7, 7], "4 features per step but this lstm expects input_size=3"),
        (np.zeros((0, 7, I)), [], r"empty batch \(B = 0"),
        (np.zeros((2, 7, I)), [7], r"lengths must have shape \(B,\) = \(2,\).*got shape \(1,\)"),
        (np.zeros((2, 7, I)), [[7, 7]], r"lengths must have shape \(B,\) = \(2,\)"),
        (np.zeros((2, 7, I)), 7, r"lengths must have shape \(B,\) = \(2,\).*got shape \(\)"),
        (np.zeros((2, 7, I)), [7, 0], r"1 … T = 7; sequence 1 has length 0"),
        (np.zeros((2, 7, I)), [-1, 3], r"1 … T = 7; sequence 0 has length -1"),
        (np.zeros((2, 7, I)), [8, 3], r"1 … T = 7; sequence 0 has length 8"),
        (np.zeros((2, 7, I)), [7.0, 2.5], "lengths must be integers.*float64"),
        (np.zeros((2, 7, I)), ["7", "3"], "lengths must be integers"),
        (np.array([[["a"] * I]]), [1], "real numbers"),
    ],
)
def test_bad_input(rec, X, lengths, message, packed):
    with pytest.raises(ValueError, match=message):
        rec.trace_batch(X, lengths, packed=packed)


@pytest.mark.parametrize("packed", [True, False])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_within_a_sequence(rec, bad, packed):
    X, lengths = batch()
    X[3, 4, 0] = bad  # sequence 3 has length 5: step 4 is real
    with pytest.raises(ValueError, match=r"in sequence 3 at step\(s\) \[4\], within its length 5"):
        rec.trace_batch(X, lengths, packed=packed)


def test_lengths_may_be_any_integer_type(rec):
    X, lengths = batch()
    for n in (lengths.tolist(), lengths.astype(np.uint8), torch.from_numpy(lengths)):
        assert [tr.T for tr in rec.trace_batch(X, n)] == lengths.tolist()


def test_padding_needs_no_torch():
    code = "import sys, numpy, cells; from cells import padding; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
