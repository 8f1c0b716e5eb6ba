"""Backpropagation through time: cells' gradients against torch's autograd, per step too."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import cells

MODULES = {"rnn_tanh": torch.nn.RNN, "rnn_relu": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
TOL = {torch.float64: 1e-9, torch.float32: 1e-4}  # relative to the largest reference value


def module(kind: str, I: int, H: int, L: int, bi: bool, dtype) -> torch.nn.Module:
    extra = {"nonlinearity": kind[4:]} if kind.startswith("rnn") else {}
    return MODULES[kind](I, H, L, bidirectional=bi, dtype=dtype, **extra)


def rel(a, b) -> float:
    b = np.asarray(b, dtype=np.float64)
    return float(np.abs(np.asarray(a, np.float64) - b).max() / max(np.abs(b).max(), 1e-12))


def torch_grads(m, x, dout, dhn, dcn):
    """dx, dh0, dc0 and every parameter's gradient from torch for L = Σ dout·out + Σ dhn·h_n (+ Σ dcn·c_n)."""
    dt = next(m.parameters()).dtype
    xt = torch.tensor(x, dtype=dt, requires_grad=True)
    LD, H = dhn.shape
    h0 = torch.zeros(LD, H, dtype=dt, requires_grad=True)
    m.zero_grad()
    if isinstance(m, torch.nn.LSTM):
        c0 = torch.zeros(LD, H, dtype=dt, requires_grad=True)
        out, (hn, cn) = m(xt, (h0, c0))
        loss = (out * torch.tensor(dout, dtype=dt)).sum() + (hn * torch.tensor(dhn, dtype=dt)).sum() + \
            (cn * torch.tensor(dcn, dtype=dt)).sum()
    else:
        c0 = None
        out, hn = m(xt, h0)
        loss = (out * torch.tensor(dout, dtype=dt)).sum() + (hn * torch.tensor(dhn, dtype=dt)).sum()
    loss.backward()
    return xt.grad.numpy(), h0.grad.numpy(), None if c0 is None else c0.grad.numpy(), \
        {n: p.grad.numpy() for n, p in m.named_parameters()}


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(list(MODULES)), L=st.integers(1, 3), bi=st.booleans(), H=st.integers(1, 40),
       T=st.integers(1, 30), I=st.integers(1, 12), double=st.booleans(), engine=st.sampled_from(["fast", "reference"]),
       seed=st.integers(0, 2**16))
def test_gradients_equal_torch_autograd(kind, L, bi, H, T, I, double, engine, seed):
    torch.manual_seed(seed)
    dtype = torch.float64 if double else torch.float32
    m = module(kind, I, H, L, bi, dtype)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, I))
    rec = cells.from_torch(m)
    tr = rec.trace(x)
    dout, dhn = rng.standard_normal(tr.output.shape), rng.standard_normal(tr.h_n.shape)
    dcn = rng.standard_normal(tr.h_n.shape) if kind == "lstm" else None
    g = rec.backward(tr, dout, dhn, dcn, engine=engine)
    dx, dh0, dc0, params = torch_grads(m, x, dout, dhn, dcn)
    tol = TOL[dtype]
    assert rel(g.dx, dx) <= tol and rel(g.dh0, dh0) <= tol
    if kind == "lstm":
        assert rel(g.dc0, dc0) <= tol
    assert set(g.params) == set(params)
    for name, want in params.items():
        assert rel(g.params[name], want) <= tol, name


def _manual(m, x):
    """torch's forward written out step by step for one layer in each direction, keeping every
    h_t, c_t and gate pre-activation so that autograd gives their gradients."""
    H = m.hidden_size
    keep = {}
    inp = torch.tensor(x, requires_grad=False)
    outs = []
    for d in range(2 if m.bidirectional else 1):
        sfx = "_l0" + ("_reverse" if d else "")
        W_ih, W_hh, b_ih, b_hh = (getattr(m, n + sfx) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        h = torch.zeros(H, dtype=W_ih.dtype)
        c = torch.zeros(H, dtype=W_ih.dtype)
        hs = [None] * len(x)
        for t in (range(len(x) - 1, -1, -1) if d else range(len(x))):
            ax, ah = W_ih @ inp[t] + b_ih, W_hh @ h + b_hh
            if isinstance(m, torch.nn.LSTM):
                a = ax + ah
                a.retain_grad()
                i, f, g, o = torch.sigmoid(a[:H]), torch.sigmoid(a[H:2 * H]), torch.tanh(a[2 * H:3 * H]), torch.sigmoid(a[3 * H:])
                c = f * c + i * g
                c.retain_grad()
                h = o * torch.tanh(c)
                keep[(d, t)] = {"a": a, "c": c}
            elif isinstance(m, torch.nn.GRU):
                a_rz = ax[:2 * H] + ah[:2 * H]
                a_rz.retain_grad()
                r, z = torch.sigmoid(a_rz[:H]), torch.sigmoid(a_rz[H:])
                a_n = ax[2 * H:] + r * ah[2 * H:]
                a_n.retain_grad()
                h = (1 - z) * torch.tanh(a_n) + z * h
                keep[(d, t)] = {"a_rz": a_rz, "a_n": a_n}
            else:
                a = ax + ah
                a.retain_grad()
                h = torch.tanh(a)
                keep[(d, t)] = {"a": a}
            h.retain_grad()
            keep[(d, t)]["h"] = h
            hs[t] = h
        outs.append(torch.stack(hs))
    return torch.cat(outs, dim=1), keep


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_every_step_and_every_gate_equals_autograd(kind):
    torch.manual_seed(1)
    m = module(kind, 4, 6, 1, True, torch.float64)
    x = np.random.default_rng(0).standard_normal((7, 4))
    out, keep = _manual(m, x)
    rec = cells.from_torch(m)
    tr = rec.trace(x)
    np.testing.assert_allclose(tr.output, out.detach().numpy(), atol=1e-12)  # the manual loop is torch's forward
    dout = np.random.default_rng(1).standard_normal(tr.output.shape)
    (out * torch.tensor(dout)).sum().backward()
    g = rec.backward(tr, dout)
    H = 6
    for d in range(2):
        lg = g.layer(0, d)
        for t in range(7):
            k = keep[(d, t)]
            np.testing.assert_allclose(lg.dh[t], k["h"].grad.numpy(), rtol=1e-10, atol=1e-12)
            if kind == "lstm":
                np.testing.assert_allclose(lg.dc[t], k["c"].grad.numpy(), rtol=1e-10, atol=1e-12)
                for j, name in enumerate("ifgo"):
                    np.testing.assert_allclose(lg.dgates[name][t], k["a"].grad.numpy()[j * H:(j + 1) * H], atol=1e-12)
            elif kind == "gru":
                np.testing.assert_allclose(lg.dgates["r"][t], k["a_rz"].grad.numpy()[:H], atol=1e-12)
                np.testing.assert_allclose(lg.dgates["z"][t], k["a_rz"].grad.numpy()[H:], atol=1e-12)
                np.testing.assert_allclose(lg.dgates["n"][t], k["a_n"].grad.numpy(), atol=1e-12)
            else:
                np.testing.assert_allclose(lg.dgates["h"][t], k["a"].grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("direction", [0, 1])
def test_jacobian_norms_equal_autograds_jacobian(kind, direction):
    torch.manual_seed(2)
    m = module(kind, 3, 5, 1, True, torch.float64)
    x = np.random.default_rng(0).standard_normal((6, 3))
    rec = cells.from_torch(m)
    tr = rec.trace(x)
    t_end = 1 if direction else 4
    norms = cells.jacobian_norms(rec, tr, 0, direction, t_end)
    out, keep = _manual(m, x)
    steps = range(t_end, 6) if direction else range(t_end, -1, -1)
    for n, t in enumerate(steps):
        rows = [torch.autograd.grad(keep[(direction, t_end)]["h"][u], keep[(direction, t)]["h"], retain_graph=True,
                                    allow_unused=True)[0] for u in range(5)]
        J = np.stack([np.zeros(5) if r is None else r.numpy() for r in rows]) if t != t_end else np.eye(5)
        assert norms[n] == pytest.approx(np.linalg.norm(J, 2), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("kind", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_gradcheck_agrees(kind):
    rec = cells.init_recurrent(kind, 4, 5, num_layers=2, bidirectional=True, seed=3)
    assert cells.gradcheck(rec, np.random.default_rng(0).standard_normal((6, 4))) < 1e-6


def test_vanishing_and_exploding_show_in_the_norms():
    x = np.random.default_rng(0).standard_normal((40, 8))
    small = cells.init_recurrent("rnn_tanh", 8, 32, seed=0, init_scale=0.5)
    norms = cells.jacobian_norms(small, small.trace(x), 0, 0, 39)
    assert norms[0] == pytest.approx(1) and norms[-1] < 1e-6  # a small RNN forgets geometrically
    big = cells.init_recurrent("rnn_relu", 8, 32, seed=0, init_scale=8.0)
    tr = big.trace(x)
    g = big.backward(tr, np.ones(tr.output.shape))
    assert not g.finite or np.abs(g.dx).max() > 1e6  # an exploding one: huge, or reported as overflowed


def test_a_single_step_and_read_only_results():
    rec = cells.init_recurrent("lstm", 3, 4, seed=0)
    tr = rec.trace(np.ones((1, 3)))
    g = rec.backward(tr, np.ones((1, 4)))
    assert g.dx.shape == (1, 3) and g.layer(0).dc.shape == (1, 4) and g.finite
    for a in (g.dx, g.dh0, g.params["weight_hh_l0"], g.layer(0).dgates["f"]):
        with pytest.raises(ValueError):
            a[0] = 0


def test_bad_input_is_a_clear_error():
    rec = cells.init_recurrent("gru", 3, 4, seed=0)
    tr = rec.trace(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"d_output must have shape \(5, 4\)"):
        rec.backward(tr, np.ones((5, 5)))
    with pytest.raises(ValueError, match="NaN"):
        rec.backward(tr, np.full((5, 4), np.nan))
    with pytest.raises(ValueError, match="dc_n is only for LSTMs"):
        rec.backward(tr, np.ones((5, 4)), dc_n=np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"dh_n must have shape \(1, 4\)"):
        rec.backward(tr, np.ones((5, 4)), dh_n=np.ones((2, 4)))
    other = cells.init_recurrent("gru", 3, 4, seed=1)
    with pytest.raises(ValueError, match="not recorded by this model"):
        other.backward(tr, np.ones((5, 4)))
    with pytest.raises(ValueError, match="not recorded by this model"):
        cells.init_recurrent("lstm", 3, 4).backward(tr, np.ones((5, 4)))
    with pytest.raises(ValueError, match="unknown engine"):
        rec.backward(tr, np.ones((5, 4)), engine="magic")
    with pytest.raises(IndexError):
        cells.jacobian_norms(rec, tr, 0, 0, 5)
