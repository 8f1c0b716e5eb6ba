"""Checkpoints round-trip exactly and refuse anything corrupt, truncated or mismatched."""

import hashlib
import json
import pickle
import subprocess
import sys
import tracemalloc

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


def reseal(jpath, blob: bytes | None = None, **changes) -> None:
    """Edit the sidecar (and optionally the weights) and recompute the checksum, as someone
    who knows the format could: what the field checks must catch on their own."""
    wpath = checkpoint.paths(jpath)[1]
    if blob is not None:
        wpath.write_bytes(blob)
    side = {**json.loads(jpath.read_text()), **changes}
    side = {k: v for k, v in side.items() if v is not _DROP}
    side["sha256"] = checkpoint.digest(side, wpath.read_bytes())
    jpath.write_text(json.dumps(side))


_DROP = object()


def test_round_trip_is_exact_after_float16_rounding(saved):
    model, jpath, wpath = saved
    weights, meta = checkpoint.load(jpath)
    assert meta["metrics"] == {"test_accuracy": 0.5} and meta["vocab"] == META["vocab"]
    assert meta["format"] == checkpoint.FORMAT
    for k, a in model.state_dict().items():
        assert weights[k].dtype == np.float32 and np.array_equal(a.numpy(), weights[k]) and not weights[k].flags.writeable
    loaded, _ = checkpoint.load_module(jpath)
    assert not loaded.training
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and b.dtype == torch.float32 and torch.equal(a, b)
    # any of the two files or the common stem names the checkpoint
    assert checkpoint.paths(wpath) == checkpoint.paths(jpath) == checkpoint.paths(jpath.with_suffix(""))


def test_loading_needs_no_torch(saved):
    _, jpath, _ = saved
    code = f"import sys; from cells import checkpoint; checkpoint.load({str(jpath)!r}); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_truncated_weights(saved):
    _, jpath, wpath = saved
    wpath.write_bytes(wpath.read_bytes()[:-40])
    with pytest.raises(checkpoint.CheckpointError, match="changed, truncated or swapped"):
        checkpoint.load(jpath)


def test_flipped_byte(saved):
    _, jpath, wpath = saved
    b = bytearray(wpath.read_bytes())
    b[-3] ^= 0xFF
    wpath.write_bytes(bytes(b))
    with pytest.raises(checkpoint.CheckpointError, match="sha256"):
        checkpoint.load(jpath)


def test_weights_of_another_model(saved, tmp_path):
    _, jpath, wpath = saved
    other = build(ModelConfig("gru", vocab_size=7, embed_size=4, hidden_size=6, num_classes=3, attention_size=3))
    _, w2 = checkpoint.save(tmp_path / "other", other, {**META, "config": other.cfg.to_dict()})
    wpath.write_bytes(w2.read_bytes())
    with pytest.raises(checkpoint.CheckpointError, match="swapped"):
        checkpoint.load(jpath)
    # even with a matching checksum, tensors that do not fit the config are refused
    reseal(jpath)
    with pytest.raises(checkpoint.CheckpointError, match="do not fit its config"):
        checkpoint.load(jpath)


@pytest.mark.parametrize("field, value", [
    ("vocab", ["<pad>", "<unk>", "e", "d", "c", "b", "a"]),  # reversed: would predict garbage
    ("labels", ["z", "y", "x"]),
    ("task", "sst2"),
    ("metrics", {"test_accuracy": 0.99}),
])
def test_an_edited_sidecar_fails_the_checksum(saved, field, value):
    _, jpath, _ = saved
    side = json.loads(jpath.read_text())
    jpath.write_text(json.dumps({**side, field: value}))
    with pytest.raises(checkpoint.CheckpointError, match="fails its sha256"):
        checkpoint.load(jpath)


@pytest.mark.parametrize("changes, message", [
    ({"kind": _DROP}, "lacks the field 'kind'"),
    ({"kind": "lstm"}, "disagrees with config kind"),
    ({"level": "char"}, "must be a classifier|must be a language model"),
    ({"level": "sentence"}, "not among"),
    ({"config": {**CFG.to_dict(), "hidden_size": 5.5}}, "hidden_size must be an integer"),
    ({"config": {**CFG.to_dict(), "hidden_size": "5"}}, "hidden_size must be an integer"),
    ({"config": {**CFG.to_dict(), "hidden_size": 10**9}}, "hidden_size must be an integer from 1 to 4,096"),
    ({"config": {**CFG.to_dict(), "layers": 2}}, "only the fields"),
    ({"vocab": ["<pad>", "<unk>", "a", "a", "c", "d", "e"]}, "distinct"),
    ({"vocab": ["<unk>", "<pad>", "a", "b", "c", "d", "e"]}, "<pad> at id 0"),
    ({"labels": ["x", "y"]}, "2 labels for 3 classes"),
    ({"labels": ["x", "y", 3]}, "labels for 3 classes"),
    ({"metrics": {"test_accuracy": "high"}}, "finite numbers"),
    ({"storage": "int4"}, "storage"),
    ({"backoff": "french"}, "backoff"),
    ({"extra": 1}, "unknown field"),
    ({"format": "rnnscope-checkpoint/1"}, "older rnnscope"),
    ({"format": "something-else"}, "format is 'something-else'"),
])
def test_every_sidecar_field_is_checked_even_with_a_valid_checksum(saved, changes, message):
    _, jpath, _ = saved
    reseal(jpath, **changes)
    with pytest.raises(checkpoint.CheckpointError, match=message):
        checkpoint.load(jpath)


def test_sizes_are_checked_against_the_file_before_anything_is_allocated(saved):
    _, jpath, _ = saved
    reseal(jpath, config={**CFG.to_dict(), "hidden_size": 4096, "vocab_size": 7})
    tracemalloc.start()
    with pytest.raises(checkpoint.CheckpointError, match="do not fit its config"):
        checkpoint.load(jpath)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2e6  # a (12288, 4096) float32 matrix alone would be 200 MB


def test_pickle_is_never_unpickled(saved, tmp_path):
    _, jpath, wpath = saved
    marker = tmp_path / "pwned"
    reseal(jpath, blob=pickle.dumps(_Boom(str(marker))))
    with pytest.raises(checkpoint.CheckpointError, match="not a safetensors file"):
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
    with pytest.raises(checkpoint.CheckpointError, match="not valid JSON"):
        checkpoint.load(jpath)
    jpath.write_text("[1, 2]")
    with pytest.raises(checkpoint.CheckpointError, match="not a JSON object"):
        checkpoint.load(jpath)


def test_missing_files(saved):
    _, jpath, wpath = saved
    wpath.unlink()
    with pytest.raises(checkpoint.CheckpointError, match="safetensors"):
        checkpoint.load(jpath)
    jpath.unlink()
    with pytest.raises(checkpoint.CheckpointError, match="sidecar"):
        checkpoint.load(jpath)


def test_non_finite_weights_are_refused(tmp_path):
    model = build(CFG)
    with torch.no_grad():
        model.out.bias[0] = float("nan")
    jpath, _ = checkpoint.save(tmp_path / "nan", model, META)
    with pytest.raises(checkpoint.CheckpointError, match="NaN"):
        checkpoint.load(jpath)


def test_save_refuses_what_load_would_refuse(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="labels"):
        checkpoint.save(tmp_path / "bad", build(CFG), {**META, "labels": ["x"]})
    assert not list(tmp_path.iterdir())


@pytest.fixture
def saved_int8(tmp_path):
    torch.manual_seed(1)
    model = build(CFG)
    checkpoint.round_to_stored(model, "int8")
    jpath, wpath = checkpoint.save(tmp_path / "q", model, {**META, "storage": "int8"})
    return model, jpath, wpath


def test_int8_round_trip_is_exact_after_rounding(saved_int8):
    model, jpath, wpath = saved_int8
    loaded, meta = checkpoint.load_module(jpath)
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
        reseal(jpath, blob=safetensors.torch.save(ts, metadata={"format": checkpoint.WEIGHTS_FORMAT}))

    rewrite({k: v for k, v in tensors.items() if k != "embedding.weight.scale"})
    with pytest.raises(checkpoint.CheckpointError, match="do not fit its config"):
        checkpoint.load(jpath)
    rewrite({**tensors, "out.bias.scale": torch.ones(3, 1)})
    with pytest.raises(checkpoint.CheckpointError, match="do not fit its config"):
        checkpoint.load(jpath)
    rewrite({**tensors, "out.bias": torch.zeros(3, dtype=torch.int64)})
    with pytest.raises(checkpoint.CheckpointError, match="do not fit its config"):
        checkpoint.load(jpath)
    rewrite(tensors)  # the same tensors, resealed: loads
    checkpoint.load(jpath)


def test_every_bundled_checkpoint_passes_its_checks():
    from cells import zoo

    for name in zoo.list_models():
        checkpoint.load(zoo.WEIGHTS / name)
