"""Traces export to JSON and .npz and load back unchanged."""

import io
import json

import numpy as np
import pytest

import cells


def assert_same(a: cells.Trace, b: cells.Trace) -> None:
    assert (a.kind, a.num_layers, a.num_directions, a.finite) == (b.kind, b.num_layers, b.num_directions, b.finite)
    for name in ("x", "output", "h_n", "c_n"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None)
        if x is not None:
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)
    for la, lb in zip(a.layers, b.layers, strict=True):
        assert (la.layer, la.direction) == (lb.layer, lb.direction)
        for name in ("x", "h", "c", "h0", "c0"):
            x, y = getattr(la, name), getattr(lb, name)
            if x is None:
                assert y is None
            else:
                np.testing.assert_array_equal(x, y)
        assert list(la.gates) == list(lb.gates)
        for g in la.gates:
            np.testing.assert_array_equal(la.gates[g], lb.gates[g])


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trips(kind, dtype, tmp_path):
    rec = cells.init_recurrent(kind, 3, 5, num_layers=2, bidirectional=True, seed=1, dtype=dtype)
    tr = rec.trace(np.random.default_rng(0).standard_normal((9, 3)))
    assert_same(tr, cells.Trace.from_json(tr.to_json()))
    path = tmp_path / "t.npz"
    tr.save_npz(path)
    back = cells.Trace.load_npz(path)
    assert_same(tr, back)
    assert not back.layer(1, 1).gates.get("f", back.output).flags.writeable
    buf = io.BytesIO()
    tr.save_npz(buf)
    buf.seek(0)
    assert_same(tr, cells.Trace.load_npz(buf))


def test_json_is_self_describing():
    tr = cells.init_recurrent("lstm", 2, 3).trace(np.ones((4, 2)))
    doc = json.loads(tr.to_json())
    assert doc["format"] == "rnnscope.trace" and doc["gates"] == ["i", "f", "g", "o"]
    assert np.array(doc["arrays"]["l0d0/gates/f"]).shape == (4, 3)


def test_non_finite_trace_round_trips():
    tr = cells.init_recurrent("rnn_relu", 4, 16, seed=0, init_scale=60.0).trace(np.ones((300, 4)))
    assert not tr.finite
    assert_same(tr, cells.Trace.from_json(tr.to_json()))


def test_corrupt_files(tmp_path):
    with pytest.raises(ValueError, match="not an rnnscope trace"):
        cells.Trace.from_json("{not json")
    with pytest.raises(ValueError, match="not an rnnscope trace"):
        cells.Trace.from_json(json.dumps({"format": "other", "version": 1, "dtype": "float32", "arrays": {}}))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="not an rnnscope trace .npz"):
        cells.Trace.load_npz(bad)
    tr = cells.init_recurrent("gru", 2, 3).trace(np.ones((4, 2)))
    doc = json.loads(tr.to_json())
    del doc["arrays"]["l0d0/h"]
    with pytest.raises(ValueError, match="missing array"):
        cells.Trace.from_json(json.dumps(doc))


def test_npz_never_unpickles(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, meta=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):
        cells.Trace.load_npz(path)
