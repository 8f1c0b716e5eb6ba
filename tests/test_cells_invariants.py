"""Properties every trace obeys, whatever the weights."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cells
from cells.lstm import sigmoid


@settings(max_examples=30)
@given(
    kind=st.sampled_from(["lstm", "gru", "rnn_tanh"]),
    H=st.integers(1, 64),
    T=st.integers(1, 80),
    scale=st.sampled_from([0.1, 1.0, 3.0, 10.0]),
    bi=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_ranges_and_update_rules(kind, H, T, scale, bi, seed):
    rec = cells.init_recurrent(kind, 7, H, num_layers=2, bidirectional=bi, seed=seed, init_scale=scale, dtype=np.float64)
    x = np.random.default_rng(seed).standard_normal((T, 7)) * scale
    tr = rec.trace(x)
    assert tr.finite
    for lt in tr.layers:
        for name, g in lt.gates.items():
            lo = -1.0 if name in ("g", "n") else 0.0  # candidates are tanh, gates sigmoid
            assert g.min() >= lo and g.max() <= 1.0, name
        assert np.abs(lt.h).max() <= 1.0
        order = range(T - 1, -1, -1) if lt.reverse else range(T)
        for t in order:
            if kind == "lstm":
                G = {k: v[t] for k, v in lt.gates.items()}
                np.testing.assert_allclose(lt.c[t], G["f"] * lt.c_prev(t) + G["i"] * G["g"], atol=1e-12)
                np.testing.assert_allclose(lt.h[t], G["o"] * np.tanh(lt.c[t]), atol=1e-12)
            elif kind == "gru":
                z, n = lt.gates["z"][t], lt.gates["n"][t]
                np.testing.assert_allclose(lt.h[t], (1 - z) * n + z * lt.h_prev(t), atol=1e-12)


def test_relu_rnn_overflow_is_flagged_not_raised():
    rec = cells.init_recurrent("rnn_relu", 4, 32, seed=0, init_scale=40.0)
    tr = rec.trace(np.ones((400, 4), np.float32))
    assert not tr.finite
    ok = cells.init_recurrent("rnn_relu", 4, 32, seed=0).trace(np.ones((400, 4), np.float32))
    assert ok.finite


def test_init_distribution_and_knobs():
    H = 200
    rec = cells.init_recurrent("lstm", 30, H, seed=5)
    w = rec.weights[0].w_hh
    k = 1 / np.sqrt(H)
    assert w.min() >= -k and w.max() <= k
    # U(-k, k) has variance k²/3
    assert abs(w.var() - k * k / 3) < 0.05 * k * k / 3
    again = cells.init_recurrent("lstm", 30, H, seed=5)
    np.testing.assert_array_equal(w, again.weights[0].w_hh)
    assert not np.array_equal(w, cells.init_recurrent("lstm", 30, H, seed=6).weights[0].w_hh)
    big = cells.init_recurrent("lstm", 30, H, seed=5, init_scale=3.0)
    np.testing.assert_allclose(big.weights[0].w_hh, 3.0 * w, rtol=1e-6)
    fb = cells.init_recurrent("lstm", 30, H, seed=5, forget_bias=1.0)
    np.testing.assert_allclose(fb.weights[0].b_ih[H : 2 * H] - rec.weights[0].b_ih[H : 2 * H], 1.0, rtol=1e-6)
    np.testing.assert_array_equal(fb.weights[0].b_ih[:H], rec.weights[0].b_ih[:H])


def test_init_scale_shows_vanishing_and_saturation():
    x = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    small = cells.init_recurrent("rnn_tanh", 8, 64, seed=1, init_scale=0.05).trace(x)
    large = cells.init_recurrent("rnn_tanh", 8, 64, seed=1, init_scale=5.0).trace(x)
    assert np.abs(small.output).mean() < 0.05
    assert np.abs(large.output).mean() > 0.8  # saturated tanh units


def test_forget_bias_keeps_memory():
    x = np.random.default_rng(0).standard_normal((30, 8)).astype(np.float32)
    f0 = cells.init_recurrent("lstm", 8, 64, seed=1).trace(x).layer(0).gates["f"].mean()
    f1 = cells.init_recurrent("lstm", 8, 64, seed=1, forget_bias=1.0).trace(x).layer(0).gates["f"].mean()
    assert f1 > f0 + 0.15


def test_arrays_are_read_only_and_input_is_copied():
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    rec = cells.init_recurrent("lstm", 3, 4, num_layers=2, bidirectional=True)
    tr = rec.trace(x)
    arrays = [tr.x, tr.output, tr.h_n, tr.c_n]
    for lt in tr.layers:
        arrays += [lt.x, lt.h, lt.c, lt.h0, lt.c0, *lt.gates.values()]
    for a in arrays:
        with pytest.raises(ValueError):
            a[...] = 0
    with pytest.raises(TypeError):
        tr.layer(0).gates["i"] = None
    x[0, 0] = 123.0  # the caller's array is still theirs
    assert x.flags.writeable and tr.x[0, 0] != 123.0
    for w in rec.weights:
        assert not w.w_hh.flags.writeable


def test_layer_lookup_and_backward_rows():
    rec = cells.init_recurrent("gru", 3, 4, num_layers=2, bidirectional=True, seed=2)
    x = np.random.default_rng(0).standard_normal((5, 3))
    tr = rec.trace(x)
    assert tr.layer(-1, 1) is tr.layer(1, 1)
    with pytest.raises(IndexError, match="layer 2"):
        tr.layer(2, 0)
    with pytest.raises(IndexError, match="direction 2"):
        tr.layer(0, 2)
    # backward row t is the state after reading x_t … x_{T−1}: tracing the suffix alone agrees
    suffix = rec.trace(x[2:]).layer(0, 1)
    np.testing.assert_allclose(tr.layer(0, 1).h[2:], suffix.h, atol=1e-6)
    np.testing.assert_array_equal(tr.h_n[1], tr.layer(0, 1).h[0])
    np.testing.assert_array_equal(tr.output[:, 4:], tr.layer(1, 1).h)


def test_step_terms_rebuild_the_gates():
    for kind in ("lstm", "gru", "rnn_tanh"):
        rec = cells.init_recurrent(kind, 3, 5, num_layers=2, bidirectional=True, seed=4, dtype=np.float64)
        tr = rec.trace(np.random.default_rng(1).standard_normal((7, 3)))
        for l, d, t in [(0, 0, 0), (1, 1, 6), (1, 0, 3)]:
            terms = rec.step_terms(tr, l, d, t)
            lt = tr.layer(l, d)
            if kind == "lstm":
                for name in "ifo":
                    xp, hp = terms[name]
                    np.testing.assert_allclose(sigmoid(xp + hp), lt.gates[name][t], atol=1e-12)
                np.testing.assert_allclose(np.tanh(sum(terms["g"])), lt.gates["g"][t], atol=1e-12)
            elif kind == "gru":
                xp, hp = terms["n"]
                np.testing.assert_allclose(np.tanh(xp + lt.gates["r"][t] * hp), lt.gates["n"][t], atol=1e-12)
            else:
                np.testing.assert_allclose(np.tanh(sum(terms["h"])), lt.h[t], atol=1e-12)


def test_long_lstm_trace_fits_in_300_mb():
    """T = 10,000, H = 512: every gate, h and c for every step."""
    rec = cells.init_recurrent("lstm", 64, 512, seed=0)
    x = np.random.default_rng(0).standard_normal((10_000, 64)).astype(np.float32)
    tr = rec.trace(x)
    assert tr.layer(0).gates["f"].shape == (10_000, 512)
    assert tr.nbytes <= 300 * 2**20
    # and nbytes counts what is really there: 4 gates + c + h (+ input) at least
    assert tr.nbytes >= 6 * 10_000 * 512 * 4


def test_layer_outputs_chain_the_layers():
    rec = cells.init_recurrent("lstm", 3, 4, num_layers=3, bidirectional=True, seed=1)
    tr = rec.trace(np.random.default_rng(0).standard_normal((6, 3)))
    for l in range(3):
        out = tr.layer_output(l)
        assert out.shape == (6, 8)
        np.testing.assert_array_equal(out, np.concatenate([tr.layer(l, 0).h, tr.layer(l, 1).h], axis=1))
    assert tr.layer_output(-1) is tr.output
