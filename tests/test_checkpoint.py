"""Checkpoints round-trip exactly and refuse anything corrupt, truncated or mismatched."""

import json
import pickle

import pytest
import torch

from cells import checkpoint
from cells.models import ModelConfig, build

CFG = ModelConfig("gru", vocab_size=7, embed_size=4, hidden_size=5, num_classes=3, attention_size=3)
META = {"task": "trec", "kind": "gru", "level": "word", "config": CFG.to_dict(),
        "vocab": ["<pad>", "<unk>", "a", "b", "c", "d", "e"], "labels": ["x", "y", "z"], "metrics": {"test_accuracy": 0.5}}


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = build(CFG)
    checkpoint.round_to_float16(model)
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
    side["weights_sha256"] = __import__("hashlib").sha256(payload).hexdigest()
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
