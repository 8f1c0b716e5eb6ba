"""The downloads load back with the documented readers and equal the trace."""

import io

import numpy as np
import pytest

import cells
from cells import export


def _trace(kind: str, layers: int = 1, bidirectional: bool = False, T: int = 7, H: int = 5):
    rec = cells.init_recurrent(kind, 4, H, num_layers=layers, bidirectional=bidirectional, seed=3)
    x = np.random.default_rng(0).standard_normal((T, 4)).astype(np.float32)  # (T, I)
    return rec.trace(x), [f"tok{t}" for t in range(T)]


CASES = [("rnn_tanh", 1, False), ("lstm", 2, True), ("gru", 1, True)]


def _same(a: cells.Trace, b: cells.Trace) -> None:
    assert (a.kind, a.num_layers, a.num_directions) == (b.kind, b.num_layers, b.num_directions)
    np.testing.assert_array_equal(a.output, b.output)
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_array_equal(la.h, lb.h)
        assert set(la.gates) == set(lb.gates)
        for g in la.gates:
            np.testing.assert_array_equal(la.gates[g], lb.gates[g])
        if la.c is not None:
            np.testing.assert_array_equal(la.c, lb.c)


@pytest.mark.parametrize("kind,layers,bi", CASES)
def test_json_and_npz_round_trip(kind, layers, bi):
    tr, _ = _trace(kind, layers, bi)
    _same(tr, cells.Trace.from_json(export.to_json(tr).decode("utf-8")))
    _same(tr, cells.Trace.load_npz(io.BytesIO(export.to_npz(tr))))


@pytest.mark.parametrize("kind,layers,bi", CASES)
def test_csv_round_trip(kind, layers, bi):
    tr, toks = _trace(kind, layers, bi)
    data = export.to_csv(tr, toks)
    header = data.decode().splitlines()[0].split(",")
    assert header == list(export.KEYS) + list(export.quantity_names(tr))
    back = export.read_csv(data)
    assert back.tokens == toks
    assert set(back.arrays) == {(lt.layer, lt.direction) for lt in tr.layers}
    for lt in tr.layers:
        np.testing.assert_array_equal(back.get("h", lt.layer, lt.direction), lt.h)
        if lt.c is not None:
            np.testing.assert_array_equal(back.get("c", lt.layer, lt.direction), lt.c)
        for g, a in lt.gates.items():
            np.testing.assert_array_equal(back.get(g, lt.layer, lt.direction), a)


def test_csv_one_row_per_layer_direction_step_unit():
    tr, toks = _trace("lstm", 2, True, T=3, H=4)
    lines = export.to_csv(tr, toks).decode().splitlines()
    assert len(lines) == 1 + 2 * 2 * 3 * 4
    assert lines[1].split(",")[:5] == ["0", "0", "0", "tok0", "0"]


def test_csv_keeps_awkward_tokens_and_nonfinite_values():
    rec = cells.init_recurrent("rnn_relu", 2, 3, seed=0, init_scale=50.0)
    x = np.full((40, 2), 100.0, dtype=np.float32)
    tr = rec.trace(x)
    toks = ['a,"b"', "\n", "分", "👨‍👩‍👧", "<script>"] + ["x"] * 35
    back = export.read_csv(export.to_csv(tr, toks))
    assert back.tokens == toks
    np.testing.assert_array_equal(back.get("h"), tr.layer(0, 0).h)  # NaN/inf compare equal position-wise


def test_trained_model_trace_round_trips():
    name = next((n for n in cells.list_models() if n.startswith(("trec", "sst2"))), None)
    if name is None:
        pytest.skip("no trained classifier in cells/weights yet")
    a = cells.load_model(name).analyze("Who wrote Hamlet, and why?")
    back = export.read_csv(export.to_csv(a.trace, a.tokens))
    np.testing.assert_array_equal(back.get("h", 0, 1), a.trace.layer(0, 1).h)
    _same(a.trace, cells.Trace.load_npz(io.BytesIO(export.to_npz(a.trace))))


def test_read_csv_refuses_other_files():
    with pytest.raises(ValueError, match="not an rnnscope trace CSV"):
        export.read_csv(b"a,b,c\n1,2,3\n")
    with pytest.raises(ValueError):
        export.to_csv(_trace("gru")[0], ["only one"])
