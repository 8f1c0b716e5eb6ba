"""A user's own PyTorch network read into cells: state dicts, files, and everything refused.

Parity is against torch itself (the module the tensors came from); the weights read must
equal the module's parameters exactly. Keras lives in tests/test_keras.py.
"""

import io
import os
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_safetensors

import cells
from cells import imports

KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
TOL = 1e-5


def make_module(kind: str, I: int = 3, H: int = 5, L: int = 1, bi: bool = False, bias: bool = True, dtype=torch.float32):
    kw = dict(bias=bias, bidirectional=bi, dtype=dtype)
    if kind.startswith("rnn"):
        return torch.nn.RNN(I, H, L, nonlinearity=kind[4:], **kw)
    return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](I, H, L, **kw)


def torch_run(m, x: np.ndarray) -> list[np.ndarray]:
    """output (T, D·H), h_n (L·D, H) and, for an LSTM, c_n: torch's own forward pass."""
    with torch.no_grad():
        out, state = m(torch.from_numpy(x)[:, None])
    states = state if isinstance(state, tuple) else (state,)
    return [out[:, 0].numpy()] + [s[:, 0].numpy() for s in states]


def ours(rec: cells.Recurrent, x: np.ndarray) -> list[np.ndarray]:
    tr = rec.trace(x)
    return [tr.output, tr.h_n] + ([tr.c_n] if tr.c_n is not None else [])


def assert_same_weights(rec: cells.Recurrent, m) -> None:
    """Every array read equals the module's parameter (zeros where bias=False)."""
    D = 2 if m.bidirectional else 1
    for i, w in enumerate(rec.weights):
        sfx = f"_l{i // D}" + ("_reverse" if i % D else "")
        for ours_, theirs in (("w_ih", "weight_ih"), ("w_hh", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh")):
            p = getattr(m, theirs + sfx, None) if m.bias or theirs.startswith("weight") else None
            want = np.zeros_like(w.b_ih) if p is None else p.detach().numpy()
            np.testing.assert_array_equal(getattr(w, ours_), want)


def state_dict(m, prefix: str = "", as_numpy: bool = False) -> dict:
    return {prefix + k: (v.numpy() if as_numpy else v) for k, v in m.state_dict().items()}


# -- state dicts ------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("bi", [False, True])
@pytest.mark.parametrize("L", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_equals_torch(kind, L, bi, bias):
    m = make_module(kind, L=L, bi=bi, bias=bias)
    # rnn_relu has rnn_tanh's weights: it can only be named; the other kinds are read from the shapes
    rec = cells.from_state_dict(state_dict(m, as_numpy=bias), kind="rnn_relu" if kind == "rnn_relu" else None)
    assert (rec.kind, rec.num_layers, rec.bidirectional, rec.input_size, rec.hidden_size) == (kind, L, bi, 3, 5)
    assert_same_weights(rec, m)
    x = np.random.default_rng(L).standard_normal((11, 3)).astype(np.float32)
    for a, b in zip(ours(rec, x), torch_run(m, x), strict=True):
        assert np.abs(a - b).max() <= TOL
    assert imports.torch_parity(rec, m) <= TOL


def test_the_old_signature_still_reads_the_bundled_layout():
    m = make_module("gru", L=2)
    sd = state_dict(m, "rnn.", as_numpy=True) | {"embedding.weight": np.zeros((7, 3), np.float32)}
    rec = cells.from_state_dict(sd, "gru", prefix="rnn.")
    assert_same_weights(rec, m)
    assert cells.from_state_dict(sd, "gru", "rnn.").kind == "gru"


def test_the_prefix_of_a_bigger_model_is_found():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(20, 4)
            self.encoder = torch.nn.Module()
            self.encoder.lstm = torch.nn.LSTM(4, 6, 2, bidirectional=True)
            self.head = torch.nn.Linear(12, 3)

    net = Net()
    rec = cells.from_state_dict(net.state_dict())
    assert (rec.kind, rec.num_layers, rec.bidirectional) == ("lstm", 2, True)
    assert_same_weights(rec, net.encoder.lstm)
    imp = cells.from_file(save_safetensors(net.state_dict()))
    assert imp.prefix == "encoder.lstm."
    assert imp.ignored == ("head.bias", "head.weight")
    np.testing.assert_array_equal(imp.embedding, net.embedding.weight.detach().numpy())
    assert not imp.embedding.flags.writeable
    assert imp.parity <= TOL


def test_several_recurrent_modules_ask_for_a_prefix():
    enc, dec = make_module("lstm", I=3, H=4), make_module("gru", I=4, H=4)
    sd = state_dict(enc, "encoder.rnn.") | state_dict(dec, "decoder.rnn.")
    with pytest.raises(ValueError, match=r"2 recurrent modules, under prefixes 'decoder.rnn.', 'encoder.rnn.'; pick one with prefix="):
        cells.from_state_dict(sd)
    assert cells.from_state_dict(sd, prefix="decoder.rnn.").kind == "gru"
    imp = cells.from_file(save_safetensors(sd), prefix="encoder.rnn.")
    assert imp.recurrent.kind == "lstm" and imp.ignored == tuple(sorted(k for k in sd if k.startswith("decoder.")))
    with pytest.raises(ValueError, match="no recurrent layers named encoder.weight_ih_l0.*under prefix"):
        cells.from_state_dict(state_dict(enc, "rnn."), prefix="encoder.")


def test_a_named_kind_is_checked_against_the_shapes():
    sd = state_dict(make_module("gru"))
    with pytest.raises(ValueError, match=r"kind='lstm' has 4 gate block\(s\).*these are a GRU's weights"):
        cells.from_state_dict(sd, "lstm")
    with pytest.raises(ValueError, match="unknown cell kind 'transformer'"):
        cells.from_state_dict(sd, "transformer")
    assert cells.from_state_dict(sd, "gru_reset_before").kind == "gru_reset_before"


def test_a_reset_before_gru_from_torch_tensors_is_read_but_not_compared():
    imp = cells.from_file(save_safetensors(make_module("gru").state_dict()), kind="gru_reset_before")
    assert imp.recurrent.kind == "gru_reset_before" and np.isnan(imp.parity)
    assert imp.report == "not compared: no torch module computes a GRU with the reset before W_hn"


def test_half_and_double_precision():
    m = make_module("lstm", dtype=torch.float64)
    rec = cells.from_state_dict(state_dict(m))
    assert rec.dtype == np.float64 and imports.torch_parity(rec, m) < 1e-12
    half = {k: v.to(torch.bfloat16) for k, v in make_module("gru").state_dict().items()}
    rec = cells.from_state_dict(half)
    assert rec.dtype == np.float32
    np.testing.assert_array_equal(rec.weights[0].w_hh, half["weight_hh_l0"].float().numpy())


# -- files ------------------------------------------------------------------------------------


def torch_save(obj, legacy: bool = False) -> bytes:
    b = io.BytesIO()
    torch.save(obj, b, _use_new_zipfile_serialization=not legacy)
    return b.getvalue()


@pytest.mark.parametrize("how", ["path", "bytes", "file object"])
@pytest.mark.parametrize("fmt", ["safetensors", "torch zip", "torch legacy"])
def test_file_round_trips(tmp_path, fmt, how):
    m = make_module("lstm", L=2, bi=True)
    sd = {f"model.rnn.{k}": v for k, v in m.state_dict().items()} | {"model.decoder.weight": torch.zeros(9, 10)}
    data = save_safetensors(sd) if fmt == "safetensors" else torch_save(sd, legacy=fmt == "torch legacy")
    path = tmp_path / "weights.bin"  # no telling extension: the format is read from the content
    path.write_bytes(data)
    imp = cells.from_file({"path": path, "bytes": data, "file object": io.BytesIO(data)}[how])
    assert imp.source == "torch" and imp.prefix == "model.rnn."
    assert imp.ignored == ("model.decoder.weight",) and imp.embedding is None
    assert_same_weights(imp.recurrent, m)
    assert 0 <= imp.parity <= TOL
    assert re.fullmatch(r"max \|Δ\| vs torch = \d\.\de-\d\d over 16 steps \(output, h_n, c_n\)", imp.report)


def test_a_checkpoint_dict_around_the_state_dict_is_read_through():
    m = make_module("gru")
    imp = cells.from_file(torch_save({"epoch": 3, "model_state_dict": m.state_dict(), "loss": 0.5}))
    assert imp.prefix == "model_state_dict." and imp.report.endswith("(output, h_n)")
    assert_same_weights(imp.recurrent, m)


def test_parity_tells_a_wrong_kind():
    # a relu RNN named as one agrees with torch; read as tanh (the default) it is a different network
    m = make_module("rnn_relu")
    relu = cells.from_file(save_safetensors(m.state_dict()), kind="rnn_relu")
    assert relu.parity <= TOL
    assert imports.torch_parity(cells.from_state_dict(m.state_dict()), m) > 1e-2


# -- refused ----------------------------------------------------------------------------------


class MakesADirectory:
    """A pickle that runs code when loaded: os.mkdir(path)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_a_pickle_with_code_is_refused_and_never_run(tmp_path):
    proof = tmp_path / "ran"
    pickle.loads(pickle.dumps(MakesADirectory(proof)))  # the payload is live: plain unpickling runs it
    assert proof.exists()
    marker = tmp_path / "marker"
    sd = make_module("gru").state_dict()
    refusal = (r"this file holds Python objects, not just tensors; rnnscope never unpickles them: "
               r"save `model.state_dict\(\)` with torch.save or safetensors")
    for data, named in [(torch_save({**sd, "x": MakesADirectory(marker)}), r" \(it asks for (os|posix).mkdir\)"),
                        (pickle.dumps(MakesADirectory(marker), protocol=2), r" \(it asks for (os|posix).mkdir\)"),
                        (pickle.dumps(MakesADirectory(marker)), "")]:  # protocol 5: refused at its first opcode
        with pytest.raises(ValueError, match=f"^{refusal}{named}$"):
            cells.from_file(data)
    assert not marker.exists()


def test_a_whole_pickled_module_is_refused_with_the_hint():
    with pytest.raises(ValueError, match=r"never unpickles them: save `model.state_dict\(\)`.*torch.nn.modules.rnn.LSTM"):
        cells.from_file(torch_save(make_module("lstm")))


@pytest.mark.parametrize("fmt", ["safetensors", "torch zip", "torch legacy"])
def test_a_truncated_file_is_a_clear_error(fmt):
    sd = make_module("lstm", H=32).state_dict()
    data = save_safetensors(sd) if fmt == "safetensors" else torch_save(sd, legacy=fmt == "torch legacy")
    for cut in (len(data) // 3, len(data) - 10):
        with pytest.raises(ValueError, match="the file is truncated or damaged"):
            cells.from_file(data[:cut])


def test_unknown_and_empty_files():
    with pytest.raises(ValueError, match=r"not a file rnnscope can read \(it starts with b'\{\"weight'\)"):
        cells.from_file(b'{"weight_ih_l0": [[1, 2]]}')
    with pytest.raises(ValueError, match=r"truncated or damaged \(0 bytes\)"):
        cells.from_file(b"")
    with pytest.raises(TypeError, match="expected a path, bytes or a binary file object"):
        cells.from_file(42)


def test_a_state_dict_without_recurrent_weights():
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"no recurrent weights: nn.RNN, nn.LSTM and nn.GRU name theirs weight_ih_l0.*"
                                         r"holds 4 tensor\(s\) with none of those names \(") as e:
        cells.from_file(save_safetensors(cnn.state_dict()))
    assert all(name in str(e.value) for name in cnn.state_dict())


def test_mismatched_shapes_name_the_tensor():
    sd = state_dict(make_module("lstm", L=2), as_numpy=True)
    sd["weight_hh_l1"] = sd["weight_hh_l1"][:, :4]
    with pytest.raises(ValueError, match=r"weight_hh_l1 has shape \(20, 4\); layer 1 of this lstm .* needs \(20, 5\)"):
        cells.from_state_dict(sd)
    sd = state_dict(make_module("gru"), as_numpy=True)
    sd["bias_ih_l0"] = sd["bias_ih_l0"][:-1]
    with pytest.raises(ValueError, match=r"bias_ih_l0 has shape \(14,\).* needs \(15,\)"):
        cells.from_state_dict(sd)
    sd["weight_ih_l0"] = np.zeros((7, 3), np.float32)
    with pytest.raises(ValueError, match=r"not the fused weights of an RNN, GRU or LSTM"):
        cells.from_state_dict(sd)


def test_missing_layers_and_tensors_are_named():
    sd = state_dict(make_module("gru", L=3, bi=True))
    for drop, message in [("weight_ih_l1", r"_l[12]\w* is there but weight_ih_l1 is missing: a module's layers run 0, 1, 2"),
                          ("weight_hh_l2_reverse", r"weight_hh_l2_reverse is missing: a 3-layer bidirectional module"),
                          ("weight_ih_l0_reverse", r"_reverse is there but weight_ih_l0_reverse is missing"),
                          ("bias_hh_l1", r"bias_hh_l1 is missing while bias_ih_l0 is there: a torch module has both "
                                         r"biases in every layer \(bias=True\) or none"),
                          ("bias_ih_l0", r"bias_ih_l0 is missing while bias_hh_l0 is there")]:
        with pytest.raises(ValueError, match=message):
            cells.from_state_dict({k: v for k, v in sd.items() if k != drop})
    with pytest.raises(ValueError, match=r"bias_ih_l2 is missing while bias_ih_l0 is there"):  # a layer without biases
        cells.from_state_dict({k: v for k, v in sd.items() if not k.startswith("bias") or "_l2" not in k})


def test_nan_and_integer_weights_are_refused():
    sd = state_dict(make_module("lstm"), "rnn.")
    sd["rnn.weight_hh_l0"] = sd["rnn.weight_hh_l0"].clone()
    sd["rnn.weight_hh_l0"][3, :2] = float("nan")
    with pytest.raises(ValueError, match=r"rnn.weight_hh_l0 holds 2 NaN or infinite value\(s\)"):
        cells.from_file(save_safetensors(sd))
    sd["rnn.weight_hh_l0"] = torch.ones(20, 5, dtype=torch.int64)
    with pytest.raises(ValueError, match="rnn.weight_hh_l0 has dtype int64; recurrent weights must be floating point"):
        cells.from_state_dict(sd)


def test_proj_size_is_refused():
    sd = torch.nn.LSTM(3, 6, proj_size=2).state_dict()
    with pytest.raises(ValueError, match=r"weight_hr_l0 is an LSTM's projection \(nn.LSTM proj_size > 0\)"):
        cells.from_file(save_safetensors(sd))


class CountingReader(io.RawIOBase):
    """An endless file object that counts the bytes asked of it."""

    def __init__(self):
        self.given = 0

    def readable(self):
        return True

    def read(self, n=-1):
        assert n >= 0, "read the whole stream"
        self.given += n
        return b"\0" * n


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "MAX_UPLOAD_BYTES", 1000)
    big = tmp_path / "big.pt"
    with open(big, "wb") as f:
        f.truncate(50 * 2**30)  # sparse: 50 GB that take no disk
    opened = []
    monkeypatch.setattr(type(big), "open", lambda self, *a, **k: opened.append(self))
    with pytest.raises(ValueError, match=r"big.pt is 51200.0 MB; rnnscope reads files up to 1,000 bytes "
                                         r"\(cells.imports.MAX_UPLOAD_BYTES\)"):
        cells.from_file(big)
    assert opened == []
    stream = CountingReader()
    with pytest.raises(ValueError, match="the file is larger than 1,000 bytes"):
        cells.from_file(stream)
    assert stream.given == 1001
    with pytest.raises(ValueError, match="the file is 1,001 bytes"):
        cells.from_file(bytes(1001))
    with pytest.raises(ValueError, match="larger than 10 bytes"):
        cells.from_file(CountingReader(), max_bytes=10)  # max_bytes wins over the module's cap


def test_a_zip_that_unpacks_past_the_cap_is_refused(monkeypatch):
    import zipfile

    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", bytes(10**6))  # 1 MB of zeros packs into about 1 kB
    monkeypatch.setattr(imports, "MAX_UPLOAD_BYTES", 100_000)
    assert len(b.getvalue()) < 100_000
    with pytest.raises(ValueError, match=r"the archive unpacks to 1,000,000 bytes; rnnscope reads up to 100,000 bytes"):
        cells.from_file(b.getvalue())


# -- TensorFlow 1 -----------------------------------------------------------------------------


def tf1_basic_lstm(kernel, bias, x, forget_bias):
    """TF1's BasicLSTMCell.call as documented, in numpy: h for every step, and the gates."""
    H = kernel.shape[1] // 4
    h, c, hs, gates = np.zeros(H), np.zeros(H), [], []
    sigmoid = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    for x_t in x:
        i, j, f, o = np.split(np.concatenate([x_t, h]) @ kernel + bias, 4)
        c = c * sigmoid(f + forget_bias) + sigmoid(i) * np.tanh(j)
        h = np.tanh(c) * sigmoid(o)
        hs.append(h)
        gates.append({"i": sigmoid(i), "f": sigmoid(f + forget_bias), "g": np.tanh(j), "o": sigmoid(o)})
    return np.array(hs), c, gates


@pytest.mark.parametrize("forget_bias", [1.0, 0.0, 2.5])
def test_tf1_basic_lstm_cell(forget_bias):
    rng = np.random.default_rng(0)
    I, H = 3, 4
    kernel = rng.uniform(-0.5, 0.5, (I + H, 4 * H)).astype(np.float32)
    bias = rng.uniform(-0.5, 0.5, 4 * H).astype(np.float32)
    rec = cells.from_tf1_lstm(kernel, bias, forget_bias=forget_bias)
    assert (rec.kind, rec.input_size, rec.hidden_size) == ("lstm", I, H)
    np.testing.assert_array_equal(rec.weights[0].b_ih[H : 2 * H], bias[2 * H : 3 * H] + np.float32(forget_bias))
    x = rng.standard_normal((12, I)).astype(np.float32)
    h, c, gates = tf1_basic_lstm(kernel.astype(np.float64), bias.astype(np.float64), x, forget_bias)
    tr = rec.trace(x)
    assert np.abs(tr.output - h).max() <= TOL and np.abs(tr.c_n[0] - c).max() <= TOL
    for name in "ifgo":
        assert np.abs(tr.layers[0].gates[name] - np.array([g[name] for g in gates])).max() <= TOL, name


def test_tf1_shapes_are_checked():
    with pytest.raises(ValueError, match=r"kernel has shape \(4, 16\); BasicLSTMCell's is \(input_size \+ H, 4H\)"):
        cells.from_tf1_lstm(np.zeros((4, 16)), np.zeros(16))
    with pytest.raises(ValueError, match=r"bias has shape \(12,\); a BasicLSTMCell of 4 units has \(16,\)"):
        cells.from_tf1_lstm(np.zeros((7, 16)), np.zeros(12))


# -- the package --------------------------------------------------------------------------------


def test_cells_imports_neither_keras_nor_h5py():
    code = "import sys, cells; print(sorted(m for m in ('keras', 'h5py', 'tensorflow') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
