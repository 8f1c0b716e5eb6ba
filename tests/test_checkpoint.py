"""Checkpoints round-trip exactly and refuse anything corrupt, truncated or mismatched."""

import hashlib
import json
import pickle

import hypothesis.strategies as st
import numpy as np
import pytest
import safetensors.torch
import torch
from hypothesis import given, settings
from hypothesis.extra.numpy import arrays

from cells import checkpoint
from cells.models import ModelConfig, build

CFG = ModelConfig("gru", vocab_size=7, embed_size=4, hidden_size=5, num_classes=3, attention_size=3)
META = {"task": "trec", "kind": "gru", "level": "word", "config": CFG.to_dict(),
        "vocab": ["<pad>", "<unk>", "a", "b", "c", "d", "e"], "labels": ["x", "y", "z"], "metrics": {"test_accuracy": 0.5}}


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = build(CFG)
    checkpoint.round_to_stored(model)
    jpath, wpath = checkpoint.save(tmp_path / "m", model, META)
    return model, jpath, wpath


def test_round_trip_is_exact_after_float16_rounding(saved):
    model, jpath, wpath = saved
    loaded, meta = checkpoint.load(jpath)
    assert meta["metrics"] == {"test_accuracy": 0.5} and meta["vocab"] == META["vocab"]
    assert not loaded.training
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and b.dtype == torch.float32 and torch.equal(a, b)
    # any of the two files or the common stem names the checkpoint
    assert checkpoint.paths(wpath) == checkpoint.paths(jpath) == checkpoint.paths(jpath.with_suffix(""))


def test_truncated_weights(saved):
    _, jpath, wpath = saved
    wpath.write_bytes(wpath.read_bytes()[:-40])
    with pytest.raises(ValueError, match="corrupt, truncated"):
        checkpoint.load(jpath)


def test_flipped_byte(saved):
    _, jpath, wpath = saved
    b = bytearray(wpath.read_bytes())
    b[-3] ^= 0xFF
    wpath.write_bytes(bytes(b))
    with pytest.raises(ValueError, match="sha256"):
        checkpoint.load(jpath)


def test_weights_of_another_model(saved, tmp_path):
    _, jpath, wpath = saved
    other = build(ModelConfig("gru", vocab_size=7, embed_size=4, hidden_size=6, num_classes=3, attention_size=3))
    _, w2 = checkpoint.save(tmp_path / "other", other, {**META, "config": other.cfg.to_dict()})
    wpath.write_bytes(w2.read_bytes())
    with pytest.raises(ValueError, match="another checkpoint"):
        checkpoint.load(jpath)
    # even with a matching hash, tensors that do not fit the config are refused
    side = json.loads(jpath.read_text())
    side["weights_sha256"] = json.loads((tmp_path / "other.json").read_text())["weights_sha256"]
    jpath.write_text(json.dumps(side))
    with pytest.raises(ValueError, match="does not fit its config"):
        checkpoint.load(jpath)


def test_pickle_is_never_unpickled(saved, tmp_path):
    _, jpath, wpath = saved
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Boom(str(marker)))
    wpath.write_bytes(payload)
    side = json.loads(jpath.read_text())
    side["weights_sha256"] = hashlib.sha256(payload).hexdigest()
    jpath.write_text(json.dumps(side))
    with pytest.raises(ValueError, match="cannot read checkpoint"):
        checkpoint.load(jpath)
    assert not marker.exists()


class _Boom:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_broken_sidecars(saved):
    _, jpath, _ = saved
    good = jpath.read_text()
    jpath.write_text(good[: len(good) // 2])
    with pytest.raises(ValueError, match="not valid JSON"):
        checkpoint.load(jpath)
    side = json.loads(good)
    jpath.write_text(json.dumps({**side, "vocab": side["vocab"][:-1]}))
    with pytest.raises(ValueError, match="vocabulary has 6 entries"):
        checkpoint.load(jpath)
    jpath.write_text(json.dumps({k: v for k, v in side.items() if k != "config"}))
    with pytest.raises(ValueError, match="lacks"):
        checkpoint.load(jpath)
    jpath.write_text(json.dumps({**side, "format": "something-else"}))
    with pytest.raises(ValueError, match="not an rnnscope checkpoint"):
        checkpoint.load(jpath)


def test_missing_files(saved):
    _, jpath, wpath = saved
    wpath.unlink()
    with pytest.raises(FileNotFoundError, match="safetensors"):
        checkpoint.load(jpath)
    jpath.unlink()
    with pytest.raises(FileNotFoundError, match="sidecar"):
        checkpoint.load(jpath)


def test_non_finite_weights_are_refused(tmp_path):
    model = build(CFG)
    with torch.no_grad():
        model.out.bias[0] = float("nan")
    jpath, _ = checkpoint.save(tmp_path / "nan", model, META)
    with pytest.raises(ValueError, match="NaN"):
        checkpoint.load(jpath)


@pytest.fixture
def saved_int8(tmp_path):
    torch.manual_seed(1)
    model = build(CFG)
    checkpoint.round_to_stored(model, "int8")
    jpath, wpath = checkpoint.save(tmp_path / "q", model, {**META, "storage": "int8"})
    return model, jpath, wpath


def test_int8_round_trip_is_exact_after_rounding(saved_int8):
    model, jpath, wpath = saved_int8
    loaded, meta = checkpoint.load(jpath)
    assert meta["storage"] == "int8"
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert b.dtype == torch.float32 and torch.equal(a, b), k
    stored = safetensors.torch.load(wpath.read_bytes())
    assert stored["embedding.weight"].dtype == torch.int8 and stored["out.bias"].dtype == torch.float16
    # rounding again changes nothing: saving a loaded model stores the same bytes
    before = [v.clone() for v in loaded.state_dict().values()]
    checkpoint.round_to_stored(loaded, "int8")
    assert all(torch.equal(a, b) for a, b in zip(before, loaded.state_dict().values()))
    _, w2 = checkpoint.save(jpath.parent / "again", loaded, {**META, "storage": "int8"})
    assert w2.read_bytes() == wpath.read_bytes()


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 9)),
              elements=st.floats(-1e4, 1e4, width=32, allow_subnormal=False)))
def test_int8_rows_error_is_at_most_half_a_step(w):
    w = torch.from_numpy(w)
    q, s = checkpoint.int8_rows(w)
    assert q.dtype == torch.int8 and s.shape == (w.shape[0], 1)
    m = w.abs().amax(dim=1, keepdim=True)
    assert bool((m <= 127 * s).all())  # every row fits in [-127, 127] ...
    assert bool(((m == 0) | (m > 127 * s / 2)).all())  # ... with the smallest power-of-two scale
    assert bool(torch.equal(torch.exp2(torch.round(torch.log2(s))), s))
    assert bool(((q.float() * s - w).abs() <= s / 2).all())


def test_broken_int8_tensors_are_refused(saved_int8):
    _, jpath, wpath = saved_int8
    tensors = safetensors.torch.load(wpath.read_bytes())

    def rewrite(ts):
        blob = safetensors.torch.save(ts)
        wpath.write_bytes(blob)
        side = json.loads(jpath.read_text())
        jpath.write_text(json.dumps({**side, "weights_sha256": hashlib.sha256(blob).hexdigest()}))

    rewrite({k: v for k, v in tensors.items() if k != "embedding.weight.scale"})
    with pytest.raises(ValueError, match="lacks a float32"):
        checkpoint.load(jpath)
    rewrite({**tensors, "out.bias.scale": torch.ones(3, 1)})
    with pytest.raises(ValueError, match="belongs to no int8 tensor"):
        checkpoint.load(jpath)
    rewrite({**tensors, "out.bias": torch.zeros(3, dtype=torch.int64)})
    with pytest.raises(ValueError, match="unsupported dtype"):
        checkpoint.load(jpath)
