"""Keras 3 recurrent layers read into cells, and the reset-before GRU that Keras' reset_after=False needs.

Outputs and final states are checked against the Keras layer's own call; every gate against
Keras' cell maths written out in numpy in Keras' own layout (kernel (I, k·H), gates
z r h / i f c o), whose h is first checked against the layer. The reset-before GRU's
backward pass is checked against torch autograd and central differences.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported: there is no TensorFlow here

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import cells  # noqa: E402
from cells import imports  # noqa: E402

# Keras' torch backend converts tensors with np.array(x), which numpy 2 warns about (keras/src/backend/torch/core.py)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

TOL = 1e-5
I, H, T = 3, 4, 9


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def built(layer, seed: int = 0, I: int = I):
    """The layer built on (1, T, I) with every weight, biases too, drawn from U(−0.6, 0.6)."""
    layer(np.zeros((1, T, I), np.float32))
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.get_weights()])
    return layer


def keras_call(layer, x):
    """output (T, D·H) and the final states as Keras returns them: h (and c) per direction, forward first."""
    out = [keras.ops.convert_to_numpy(a) for a in layer(x[None])]
    return out[0][0], [s[0] for s in out[1:]]


def keras_steps(kind, weights, x):
    """Keras' cell, step by step, in its own layout: h (T, H) and the gates named as cells names them."""
    kernel, recurrent, bias = (list(weights) + [None])[:3]
    units = recurrent.shape[0]
    bias = np.zeros((2, 3 * units) if kind == "gru" else kernel.shape[1]) if bias is None else bias
    h, c, hs, gates = np.zeros(units), np.zeros(units), [], []
    for x_t in x:
        if kind == "lstm":
            i, f, g, o = np.split(x_t @ kernel + h @ recurrent + bias, 4)  # Keras: i f c o
            i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
            c = f * c + i * g
            h = o * np.tanh(c)
            gates.append({"i": i, "f": f, "g": g, "o": o})
        elif kind.startswith("gru"):
            b_in, b_rec = (bias[0], bias[1]) if kind == "gru" else (bias, np.zeros(3 * units))
            xz, xr, xh = np.split(x_t @ kernel + b_in, 3)  # Keras: z r h
            hz, hr, hh = np.split(h @ recurrent + b_rec, 3)
            z, r = sigmoid(xz + hz), sigmoid(xr + hr)
            if kind == "gru":  # reset_after=True
                n = np.tanh(xh + r * hh)
            else:  # reset_after=False: the reset before the recurrent matrix product
                n = np.tanh(xh + (r * h) @ recurrent[:, 2 * units :])
            h = z * h + (1 - z) * n
            gates.append({"r": r, "z": z, "n": n})
        else:
            a = x_t @ kernel + h @ recurrent + bias
            h = np.tanh(a) if kind == "rnn_tanh" else np.maximum(a, 0)
            gates.append({})
        hs.append(h)
    return np.array(hs), {k: np.array([g[k] for g in gates]) for k in gates[0]}


LAYERS = {  # id -> (cells kind, bidirectional, a fresh layer that returns every step and its states)
    "lstm": ("lstm", False, lambda: keras.layers.LSTM(H, return_sequences=True, return_state=True)),
    "gru": ("gru", False, lambda: keras.layers.GRU(H, return_sequences=True, return_state=True)),
    "gru-reset-before": ("gru_reset_before", False,
                         lambda: keras.layers.GRU(H, reset_after=False, return_sequences=True, return_state=True)),
    "simple-rnn": ("rnn_tanh", False, lambda: keras.layers.SimpleRNN(H, return_sequences=True, return_state=True)),
    "simple-rnn-relu": ("rnn_relu", False, lambda: keras.layers.SimpleRNN(H, activation="relu", return_sequences=True,
                                                                          return_state=True)),
    "lstm-no-bias": ("lstm", False, lambda: keras.layers.LSTM(H, use_bias=False, return_sequences=True, return_state=True)),
    "gru-no-bias": ("gru", False, lambda: keras.layers.GRU(H, use_bias=False, return_sequences=True, return_state=True)),
    "gru-reset-before-no-bias": ("gru_reset_before", False, lambda: keras.layers.GRU(
        H, reset_after=False, use_bias=False, return_sequences=True, return_state=True)),
    "bidirectional-lstm": ("lstm", True, lambda: keras.layers.Bidirectional(
        keras.layers.LSTM(H, return_sequences=True, return_state=True))),
    "bidirectional-gru-reset-before": ("gru_reset_before", True, lambda: keras.layers.Bidirectional(
        keras.layers.GRU(H, reset_after=False, return_sequences=True, return_state=True))),
    "rnn-around-a-gru-cell": ("gru", False, lambda: keras.layers.RNN(keras.layers.GRUCell(H), return_sequences=True,
                                                                     return_state=True)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_a_keras_layer_equals_keras(name):
    kind, bi, make = LAYERS[name]
    layer = built(make())
    rec = cells.from_keras(layer)
    assert (rec.kind, rec.bidirectional, rec.input_size, rec.hidden_size, rec.num_layers) == (kind, bi, I, H, 1)
    x = np.random.default_rng(1).standard_normal((T, I)).astype(np.float32)
    tr = rec.trace(x)
    out, states = keras_call(layer, x)
    D, per = (2 if bi else 1), (2 if kind == "lstm" else 1)
    assert np.abs(tr.output - out).max() <= TOL
    assert np.abs(tr.h_n - np.stack(states[0::per])).max() <= TOL
    if kind == "lstm":
        assert np.abs(tr.c_n - np.stack(states[1::per])).max() <= TOL
    weights = layer.get_weights()
    n = len(weights) // D
    for d in range(D):  # every gate, against Keras' maths in Keras' layout
        xs = x[::-1] if d else x
        h, gates = keras_steps(kind, [w.astype(np.float64) for w in weights[d * n : (d + 1) * n]], xs.astype(np.float64))
        h, gates = (h[::-1], {k: g[::-1] for k, g in gates.items()}) if d else (h, gates)  # row t is input position t
        assert np.abs(h - out[:, d * H : (d + 1) * H]).max() <= TOL  # the reference is Keras' own forward
        assert set(tr.layer(0, d).gates) == set(gates) == set(cells.GATES[kind])
        for g in gates:
            assert np.abs(tr.layer(0, d).gates[g] - gates[g]).max() <= TOL, (g, d)
    assert imports.keras_parity(rec, weights) <= TOL


@pytest.mark.parametrize("name", ["lstm", "gru", "gru-reset-before", "simple-rnn-relu", "bidirectional-lstm", "gru-no-bias"])
def test_from_keras_weights_reads_what_from_keras_reads(name):
    kind, bi, make = LAYERS[name]
    layer = built(make(), seed=2)
    keras_kind, reset_after = ("gru", kind == "gru") if kind.startswith("gru") else (kind, True)
    a = cells.from_keras_weights(layer.get_weights(), keras_kind, reset_after=reset_after, bidirectional=bi)
    b = cells.from_keras(layer)
    assert a.kind == b.kind == kind
    for wa, wb in zip(a.weights, b.weights, strict=True):
        for f in ("w_ih", "w_hh", "b_ih", "b_hh"):
            np.testing.assert_array_equal(getattr(wa, f), getattr(wb, f))


def test_the_layouts_are_torchs():
    """Keras LSTM: kernel transposed, one bias in b_ih; GRU reset_after: z r h -> r z n, bias rows -> b_ih, b_hh."""
    lstm = built(keras.layers.LSTM(H))
    kernel, recurrent, bias = lstm.get_weights()
    w = cells.from_keras(lstm).weights[0]
    np.testing.assert_array_equal(w.w_ih, kernel.T)
    np.testing.assert_array_equal(w.w_hh, recurrent.T)
    np.testing.assert_array_equal(w.b_ih, bias)
    assert not w.b_hh.any()
    gru = built(keras.layers.GRU(H))
    kernel, recurrent, bias = gru.get_weights()
    w = cells.from_keras(gru).weights[0]
    np.testing.assert_array_equal(w.w_ih[:H], kernel[:, H : 2 * H].T)  # torch's r is Keras' second block
    np.testing.assert_array_equal(w.w_hh[H : 2 * H], recurrent[:, :H].T)  # torch's z is Keras' first
    np.testing.assert_array_equal(w.b_hh[2 * H :], bias[1, 2 * H :])


def test_reset_before_and_after_are_different_networks():
    layer = built(keras.layers.GRU(H, reset_after=False))
    before = cells.from_keras(layer)
    after = cells.Recurrent("gru", before.weights, 1, False)  # the same numbers through torch's GRU
    x = np.random.default_rng(3).standard_normal((T, I)).astype(np.float32)
    assert np.abs(before.trace(x).output - after.trace(x).output).max() > 1e-3
    with pytest.raises(ValueError, match="no torch module computes a GRU with the reset before W_hn"):
        before.to_torch()


# -- files ------------------------------------------------------------------------------------


def model(rnn, vocab: int = 12):
    m = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(vocab, I), rnn,
                          keras.layers.Dense(2)])
    rng = np.random.default_rng(4)
    m.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in m.get_weights()])
    return m


@pytest.mark.parametrize("suffix", [".weights.h5", ".keras"])
@pytest.mark.parametrize("rnn, kind, path", [
    (lambda: keras.layers.GRU(H, reset_after=False, return_sequences=True), "gru_reset_before", "layers/gru"),
    (lambda: keras.layers.GRU(H), "gru", "layers/gru"),
    (lambda: keras.layers.Bidirectional(keras.layers.LSTM(H, return_sequences=True)), "lstm", "layers/bidirectional"),
])
def test_keras_files(tmp_path, suffix, rnn, kind, path):
    m = model(rnn())
    file = tmp_path / ("model" + suffix)
    m.save_weights(file) if suffix == ".weights.h5" else m.save(file)
    for source in (file, file.read_bytes()):
        imp = cells.from_file(source)
        assert (imp.source, imp.prefix, imp.recurrent.kind) == ("keras", path, kind)
        assert imp.ignored == ("layers/dense/vars/0", "layers/dense/vars/1")
        np.testing.assert_array_equal(imp.embedding, m.layers[0].get_weights()[0])
        assert imp.parity <= TOL and imp.report.startswith("max |Δ| vs keras = ")
    ids = np.array([[3, 1, 4, 1, 5, 9, 2, 6]])
    want = keras.ops.convert_to_numpy(m.layers[1](m.layers[0](ids)))[0]  # the model's own recurrent layer
    got = imp.recurrent.trace(imp.embedding[ids[0]]).output
    assert np.abs((got if want.ndim == 2 else got[-1]) - want).max() <= TOL  # GRU(H) returns its last step only


def test_a_keras_file_with_two_recurrent_layers_asks_for_one(tmp_path):
    m = keras.Sequential([keras.Input((None, I)), keras.layers.LSTM(H, return_sequences=True),
                          keras.layers.SimpleRNN(H, activation="relu", name="relu_rnn")])
    built_weights = [np.random.default_rng(5).uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in m.get_weights()]
    m.set_weights(built_weights)
    file = tmp_path / "two.weights.h5"
    m.save_weights(file)
    # Keras names a layer's group by its class ("simple_rnn"), not by the name it was given
    with pytest.raises(ValueError, match=r"2 recurrent layers, 'layers/lstm', 'layers/simple_rnn'; pick one with prefix="):
        cells.from_file(file)
    imp = cells.from_file(file, prefix="layers/simple_rnn", kind="rnn_relu")  # relu cannot be read from weights
    assert imp.recurrent.kind == "rnn_relu" and imp.parity <= TOL
    x = np.random.default_rng(6).standard_normal((T, H)).astype(np.float32)
    want = keras.ops.convert_to_numpy(m.layers[1](x[None]))[0]
    assert np.abs(imp.recurrent.trace(x).h_n[0] - want).max() <= TOL
    with pytest.raises(ValueError, match="no recurrent layer 'layers/gru' in the file; "
                                         "it has 'layers/lstm', 'layers/simple_rnn'"):
        cells.from_file(file, prefix="layers/gru")


def test_a_gru_without_bias_in_a_file_needs_its_kind(tmp_path):
    layer = built(keras.layers.GRU(H, reset_after=False, use_bias=False))
    m = keras.Sequential([keras.Input((None, I)), layer])
    file = tmp_path / "gru.weights.h5"
    m.save_weights(file)
    with pytest.raises(ValueError, match="a GRU without biases .* name kind='gru' .* or kind='gru_reset_before'"):
        cells.from_file(file)
    assert cells.from_file(file, kind="gru_reset_before").parity <= TOL


def test_a_keras_file_without_recurrent_layers(tmp_path):
    m = keras.Sequential([keras.Input((I,)), keras.layers.Dense(2)])
    file = tmp_path / "dense.weights.h5"
    m.save_weights(file)
    with pytest.raises(ValueError, match=r"no recurrent weights: a Keras LSTM, GRU or SimpleRNN keeps them in "
                                         r"<layer>/cell/vars/…, and this file has none \(layers/dense/vars/0"):
        cells.from_file(file)


def test_a_truncated_keras_file(tmp_path):
    file = tmp_path / "m.weights.h5"
    model(keras.layers.LSTM(32)).save_weights(file)
    data = file.read_bytes()
    for cut in (len(data) // 2, len(data) - 100):
        with pytest.raises(ValueError, match="the file is truncated or damaged"):
            cells.from_file(data[:cut])


# -- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize("layer, error, message", [
    (lambda: keras.layers.SimpleRNN(H, activation="sigmoid"), ValueError, "uses activation 'sigmoid'; rnnscope computes "
                                                                          "SimpleRNN with tanh or relu"),
    (lambda: keras.layers.LSTM(H, recurrent_activation="hard_sigmoid"), ValueError,
     "recurrent_activation='hard_sigmoid'; rnnscope computes Keras' defaults, tanh and sigmoid"),
    (lambda: keras.layers.GRU(H, activation="relu"), ValueError, "uses activation='relu'"),
    (lambda: keras.layers.Bidirectional(keras.layers.LSTM(H), merge_mode="sum"), ValueError,
     "merge_mode='sum' mixes its two directions"),
    (lambda: keras.layers.LSTM(H, go_backwards=True), ValueError, "has go_backwards=True: it reads the sequence backwards"),
    (lambda: keras.layers.Dense(H), TypeError, "cannot read a Dense: expected keras.layers.LSTM, GRU, SimpleRNN"),
])
def test_what_rnnscope_does_not_compute_is_refused(layer, error, message):
    with pytest.raises(error, match=message):
        cells.from_keras(built(layer()))


def test_an_unbuilt_layer_is_refused():
    with pytest.raises(ValueError, match="has no weights yet: call it on an input, or build it, first"):
        cells.from_keras(keras.layers.LSTM(H))


def test_keras_weights_that_do_not_fit_their_kind():
    lstm = built(keras.layers.LSTM(H)).get_weights()
    with pytest.raises(ValueError, match=r"kind='gru' has 3 gate block\(s\), but recurrent_kernel \(4, 16\) stacks 4"):
        cells.from_keras_weights(lstm, "gru")
    gru_after = built(keras.layers.GRU(H)).get_weights()
    with pytest.raises(ValueError, match=r"bias has shape \(2, 12\); a Keras gru_reset_before of 4 units has \(12,\) "
                                         r"\(a reset_after=True GRU: kind='gru'\)"):
        cells.from_keras_weights(gru_after, "gru", reset_after=False)
    with pytest.raises(ValueError, match=r"expected \[kernel, recurrent_kernel, bias\] .* for each of 2 direction\(s\)"):
        cells.from_keras_weights(lstm, "lstm", bidirectional=True)
    bad = [w.copy() for w in lstm]
    bad[1][0, 0] = np.inf
    with pytest.raises(ValueError, match=r"recurrent_kernel holds 1 NaN or infinite value\(s\)"):
        cells.from_keras_weights(bad, "lstm")


# -- the reset-before GRU's engine ------------------------------------------------------------------


def reset_before(L=2, bi=True, seed=0, dtype=np.float64):
    return cells.Recurrent("gru_reset_before", cells.init_recurrent("gru", I, H, L, bi, seed=seed, dtype=dtype).weights, L, bi)


def test_the_fast_engine_equals_the_reference_and_one_step():
    rec = reset_before()
    x = np.random.default_rng(0).standard_normal((T, I))
    fast, ref = rec.trace(x), rec.trace(x, engine="reference")
    np.testing.assert_allclose(fast.output, ref.output, atol=1e-14)
    for a, b in zip(fast.layers, ref.layers, strict=True):
        for g in "rzn":
            np.testing.assert_allclose(a.gates[g], b.gates[g], atol=1e-14)
    uni = reset_before(bi=False)
    tr, h = uni.trace(x), np.zeros((2, H))
    for t in range(T):
        h, _ = uni.advance(x[t], h)
    np.testing.assert_allclose(h, tr.h_n, atol=1e-14)


def test_step_terms_are_the_reset_before_pre_activations():
    rec = reset_before(L=1, bi=False)
    tr = rec.trace(np.random.default_rng(1).standard_normal((T, I)))
    lt, w = tr.layer(0), rec.weights[0]
    pre = rec.pre_activations(tr, 0, 0)
    for t in range(T):
        terms = rec.step_terms(tr, 0, 0, t)
        x_n, h_n = terms["n"]
        np.testing.assert_allclose(h_n, w.w_hh[2 * H :] @ (lt.gates["r"][t] * lt.h_prev(t)) + w.b_hh[2 * H :], atol=1e-14)
        np.testing.assert_allclose(np.tanh(x_n + h_n), lt.gates["n"][t], atol=1e-14)
        np.testing.assert_allclose(sigmoid(sum(terms["z"])), lt.gates["z"][t], atol=1e-14)
        np.testing.assert_allclose(pre["n"][1][t], h_n, atol=1e-14)
    assert [cells.value_range("gru_reset_before", g) for g in "rzn"] == [(0, 1), (0, 1), (-1, 1)]


def autograd_reset_before(rec, x, h0):
    """The reset-before GRU stack in torch ops: output, h_n, leaf tensors and each step's pre-activations."""
    D, leaves, keep = rec.num_directions, {}, {}
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    inp = xt
    finals = []
    for l in range(rec.num_layers):
        outs = []
        for d in range(D):
            i, sfx = l * D + d, f"_l{l}" + ("_reverse" if d else "")
            w = {n: leaves.setdefault(n + sfx, torch.tensor(np.array(getattr(rec.weights[i], a)), requires_grad=True))
                 for n, a in (("weight_ih", "w_ih"), ("weight_hh", "w_hh"), ("bias_ih", "b_ih"), ("bias_hh", "b_hh"))}
            h, hs = h0t[i], [None] * len(x)
            for t in reversed(range(len(x))) if d else range(len(x)):
                ax = w["weight_ih"] @ inp[t] + w["bias_ih"]
                a_r = ax[:H] + w["weight_hh"][:H] @ h + w["bias_hh"][:H]
                a_z = ax[H : 2 * H] + w["weight_hh"][H : 2 * H] @ h + w["bias_hh"][H : 2 * H]
                r, z = torch.sigmoid(a_r), torch.sigmoid(a_z)
                a_n = ax[2 * H :] + w["weight_hh"][2 * H :] @ (r * h) + w["bias_hh"][2 * H :]
                for a in (a_r, a_z, a_n):
                    a.retain_grad()
                h = (1 - z) * torch.tanh(a_n) + z * h
                keep[(l, d, t)] = {"r": a_r, "z": a_z, "n": a_n}
                hs[t] = h
            outs.append(torch.stack(hs))
            finals.append(h)
        inp = torch.cat(outs, dim=1)
    return inp, torch.stack(finals), xt, h0t, leaves, keep


def test_backward_equals_torch_autograd():
    rec = reset_before(seed=3)
    rng = np.random.default_rng(2)
    x, h0 = rng.standard_normal((T, I)), rng.standard_normal((4, H))
    tr = rec.trace(x, h0)
    d_out, dh_n = rng.standard_normal(tr.output.shape), rng.standard_normal(tr.h_n.shape)
    out, h_n, xt, h0t, leaves, keep = autograd_reset_before(rec, x, h0)
    np.testing.assert_allclose(tr.output, out.detach().numpy(), atol=1e-12)  # the torch loop is the same network
    ((out * torch.tensor(d_out)).sum() + (h_n * torch.tensor(dh_n)).sum()).backward()
    for engine in ("fast", "reference"):
        g = rec.backward(tr, d_out, dh_n, engine=engine)
        np.testing.assert_allclose(g.dx, xt.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(g.dh0, h0t.grad.numpy(), atol=1e-12)
        assert set(g.params) == set(leaves)
        for name, leaf in leaves.items():
            np.testing.assert_allclose(g.params[name], leaf.grad.numpy(), atol=1e-12, err_msg=name)
        for (l, d, t), pre in keep.items():
            for gate, a in pre.items():
                np.testing.assert_allclose(g.layer(l, d).dgates[gate][t], a.grad.numpy(), atol=1e-12)


def test_gradcheck_and_jacobian_norms():
    # test_gradients.py's sizes and seed; the worst relative error there is a gradient of 1.7e-6 that central
    # differences miss by 3e-11, their noise floor (the autograd test above is the exact check, to 1e-12)
    rec = cells.init_recurrent("gru", 4, 5, num_layers=2, bidirectional=True, seed=3)
    rec = cells.Recurrent("gru_reset_before", rec.weights, 2, True)
    assert cells.gradcheck(rec, np.random.default_rng(0).standard_normal((6, 4))) < 1e-4
    uni = reset_before(L=1, bi=False, seed=5)
    x = np.random.default_rng(1).standard_normal((6, I))
    tr = uni.trace(x)
    w = {k: torch.tensor(np.array(getattr(uni.weights[0], k))) for k in ("w_ih", "w_hh", "b_ih", "b_hh")}

    def step(t):  # h_{t−1} -> h_t in torch
        def f(h):
            ax = w["w_ih"] @ torch.tensor(x[t]) + w["b_ih"]
            r = torch.sigmoid(ax[:H] + w["w_hh"][:H] @ h + w["b_hh"][:H])
            z = torch.sigmoid(ax[H : 2 * H] + w["w_hh"][H : 2 * H] @ h + w["b_hh"][H : 2 * H])
            n = torch.tanh(ax[2 * H :] + w["w_hh"][2 * H :] @ (r * h) + w["b_hh"][2 * H :])
            return (1 - z) * n + z * h
        return f

    norms = cells.jacobian_norms(uni, tr, 0, 0, 5)
    M = np.eye(H)
    for n, t in enumerate(range(5, -1, -1)):
        assert norms[n] == pytest.approx(np.linalg.norm(M, 2), rel=1e-9)
        M = M @ torch.autograd.functional.jacobian(step(t), torch.tensor(np.array(tr.layer(0).h_prev(t)))).numpy()
