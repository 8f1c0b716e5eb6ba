"""The trace equals what torch computes: outputs, final states and every gate.

Gates are not exposed by torch, so they are checked against a step-by-step torch
computation (`torch_gates`) whose h is first checked against the module itself.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import cells

KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
TOL = {torch.float32: 1e-5, torch.float64: 1e-10}


def make_module(kind: str, I: int, H: int, L: int, bi: bool, dtype, batch_first: bool = False):
    if kind == "lstm":
        return torch.nn.LSTM(I, H, L, bidirectional=bi, batch_first=batch_first, dtype=dtype)
    if kind == "gru":
        return torch.nn.GRU(I, H, L, bidirectional=bi, batch_first=batch_first, dtype=dtype)
    return torch.nn.RNN(I, H, L, nonlinearity=kind[4:], bidirectional=bi, batch_first=batch_first, dtype=dtype)


def torch_forward(m, x, h0=None, c0=None):
    """module(x) for one sequence, as (output (T, D·H), h_n (L·D, H), c_n or None)."""
    xt = torch.from_numpy(x)
    xt = xt[None] if m.batch_first else xt[:, None]
    hx = None
    if h0 is not None:
        hx = torch.from_numpy(h0)[:, None]
        if c0 is not None:
            hx = (hx, torch.from_numpy(c0)[:, None])
    with torch.no_grad():
        out, hn = m(xt, hx)
    out = out[0] if m.batch_first else out[:, 0]
    if isinstance(hn, tuple):
        return out.numpy(), hn[0][:, 0].numpy(), hn[1][:, 0].numpy()
    return out.numpy(), hn[:, 0].numpy(), None


def torch_gates(kind, w_ih, w_hh, b_ih, b_hh, x, h_prev):
    """Gates for all t from torch ops: x (T, I), h_prev (T, H) the states read at each step."""
    ax = x @ w_ih.T + b_ih
    ah = h_prev @ w_hh.T + b_hh
    H = h_prev.shape[1]
    if kind == "lstm":
        a = ax + ah
        i, f, g, o = a.split(H, dim=1)
        return {"i": i.sigmoid(), "f": f.sigmoid(), "g": g.tanh(), "o": o.sigmoid()}
    if kind == "gru":
        r = (ax[:, :H] + ah[:, :H]).sigmoid()
        z = (ax[:, H : 2 * H] + ah[:, H : 2 * H]).sigmoid()
        return {"r": r, "z": z, "n": (ax[:, 2 * H :] + r * ah[:, 2 * H :]).tanh()}
    return {}


def check(m, kind, x, tol, h0=None, c0=None, engine="fast"):
    tr = cells.from_torch(m).trace(x, h0, c0, engine=engine)
    out, h_n, c_n = torch_forward(m, x, h0, c0)
    assert tr.output.shape == out.shape
    assert np.abs(tr.output - out).max() <= tol
    assert np.abs(tr.h_n - h_n).max() <= tol
    if kind == "lstm":
        assert np.abs(tr.c_n - c_n).max() <= tol
    else:
        assert tr.c_n is None
    D = 2 if m.bidirectional else 1
    for lt in tr.layers:
        sfx = f"_l{lt.layer}" + ("_reverse" if lt.direction else "")
        p = {n: getattr(m, n + sfx).detach() for n in ("weight_ih", "weight_hh")}
        for n in ("bias_ih", "bias_hh"):
            p[n] = getattr(m, n + sfx).detach() if m.bias else torch.zeros(p["weight_ih"].shape[0], dtype=p["weight_ih"].dtype)
        h = torch.from_numpy(np.array(lt.h))
        h0_ = torch.from_numpy(np.array(lt.h0))[None]
        h_prev = torch.cat([h[1:], h0_]) if lt.reverse else torch.cat([h0_, h[:-1]])
        ref = torch_gates(kind, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"],
                          torch.from_numpy(np.array(lt.x)), h_prev)
        assert set(lt.gates) == set(ref) == set(cells.GATES[kind])
        for name, g in ref.items():
            assert lt.gates[name].shape == (tr.T, m.hidden_size)
            assert np.abs(lt.gates[name] - g.numpy()).max() <= tol, (name, lt.layer, lt.direction)
    assert len(tr.layers) == m.num_layers * D
    return tr


configs = st.fixed_dictionaries({
    "kind": st.sampled_from(KINDS),
    "L": st.integers(1, 3),
    "bi": st.booleans(),
    "H": st.integers(1, 300),
    "I": st.integers(1, 80),
    "T": st.integers(1, 500),
    "dtype": st.sampled_from([torch.float32, torch.float64]),
    "batch_first": st.booleans(),
    "seed": st.integers(0, 2**16),
    "engine": st.sampled_from(["fast", "reference"]),
})


@settings(max_examples=60)
@given(configs)
def test_trace_equals_torch(cfg):
    torch.manual_seed(cfg["seed"])
    m = make_module(cfg["kind"], cfg["I"], cfg["H"], cfg["L"], cfg["bi"], cfg["dtype"], cfg["batch_first"])
    x = np.random.default_rng(cfg["seed"]).standard_normal((cfg["T"], cfg["I"])).astype(np.float64 if cfg["dtype"] == torch.float64 else np.float32)
    check(m, cfg["kind"], x, TOL[cfg["dtype"]], engine=cfg["engine"])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_given_initial_states(kind, dtype):
    m = make_module(kind, 6, 9, 2, True, dtype)
    rng = np.random.default_rng(1)
    npdt = np.float64 if dtype == torch.float64 else np.float32
    x = rng.standard_normal((23, 6)).astype(npdt)
    h0 = rng.uniform(-1, 1, (4, 9)).astype(npdt)
    c0 = rng.uniform(-2, 2, (4, 9)).astype(npdt) if kind == "lstm" else None
    for engine in ("fast", "reference"):
        tr = check(m, kind, x, TOL[dtype], h0, c0, engine)
        np.testing.assert_array_equal(tr.layer(0, 1).h0, h0[1])


def test_extreme_sizes():
    """The corners hypothesis may miss: H = 1, T = 1, and the largest sizes together."""
    for kind in KINDS:
        for (I, H, L, T) in [(1, 1, 1, 1), (3, 1, 3, 7), (64, 300, 3, 500)]:
            m = make_module(kind, I, H, L, True, torch.float32)
            x = np.random.default_rng(0).standard_normal((T, I)).astype(np.float32)
            check(m, kind, x, 1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_cells_forms(kind):
    """nn.RNNCell / LSTMCell / GRUCell stepped over a sequence by hand."""
    I, H, T = 5, 8, 12
    cell = {"lstm": torch.nn.LSTMCell(I, H), "gru": torch.nn.GRUCell(I, H)}.get(kind) or torch.nn.RNNCell(
        I, H, nonlinearity=kind[4:]
    )
    x = np.random.default_rng(2).standard_normal((T, I)).astype(np.float32)
    tr = cells.from_torch(cell).trace(x)
    h = torch.zeros(1, H)
    c = torch.zeros(1, H)
    with torch.no_grad():
        for t in range(T):
            xt = torch.from_numpy(x[t : t + 1])
            if kind == "lstm":
                h, c = cell(xt, (h, c))
                assert np.abs(tr.layer(0).c[t] - c[0].numpy()).max() <= 1e-5
            else:
                h = cell(xt, h)
            assert np.abs(tr.output[t] - h[0].numpy()).max() <= 1e-5


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_to_torch(kind):
    rec = cells.init_recurrent(kind, 4, 6, num_layers=2, bidirectional=True, seed=3)
    m = rec.to_torch()
    assert isinstance(m, {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(kind, torch.nn.RNN))
    x = np.random.default_rng(3).standard_normal((9, 4)).astype(np.float32)
    check(m, kind, x, 1e-5)
    back = cells.from_torch(m)
    for a, b in zip(rec.weights, back.weights):
        np.testing.assert_array_equal(a.w_hh, b.w_hh)
        np.testing.assert_array_equal(a.b_ih, b.b_ih)


def test_no_bias_module():
    m = torch.nn.LSTM(3, 4, bias=False)
    x = np.random.default_rng(4).standard_normal((5, 3)).astype(np.float32)
    check(m, "lstm", x, 1e-5)


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_from_state_dict_reads_what_from_torch_reads(kind):
    m = make_module(kind, 5, 6, 2, True, torch.float32)
    sd = {f"rnn.{k}": v.detach().numpy() for k, v in m.state_dict().items()}
    a, b = cells.from_state_dict(sd, kind, prefix="rnn."), cells.from_torch(m)
    assert (a.num_layers, a.bidirectional, a.hidden_size) == (2, True, 6)
    for wa, wb in zip(a.weights, b.weights):
        for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
            np.testing.assert_array_equal(getattr(wa, name), getattr(wb, name))
    with pytest.raises(ValueError, match="no recurrent layers"):
        cells.from_state_dict(sd, kind, prefix="encoder.")


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_advance_is_one_step_of_the_trace(kind):
    rec = cells.init_recurrent(kind, 4, 5, num_layers=2, seed=1)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    tr = rec.trace(x)
    h = np.zeros((2, 5), np.float32)
    c = np.zeros((2, 5), np.float32) if kind == "lstm" else None
    for t in range(6):
        h, c = rec.advance(x[t], h, c)
    np.testing.assert_allclose(h, tr.h_n, atol=1e-6)
    if kind == "lstm":
        np.testing.assert_allclose(c, tr.c_n, atol=1e-6)
    with pytest.raises(ValueError, match="bidirectional"):
        cells.init_recurrent(kind, 4, 5, bidirectional=True).advance(x[0], h[:1], None)
