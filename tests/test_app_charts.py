"""The pure chart functions: trace in, figure or text out, no Streamlit."""

from __future__ import annotations

import base64

import numpy as np

import cells
from viz_app import charts, diagram, equations, payload
from viz_app.scales import SIGMOID, TANH
from viz_app.standin import StandinModel


def array(v) -> np.ndarray:
    """A plotly JSON array: a list, or plotly ≥ 6's base64 {dtype, bdata, shape}."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        return a.reshape([int(s) for s in str(v.get("shape", a.size)).split(",")])
    return np.asarray(v, dtype=float)


def lstm_trace(T: int = 12, H: int = 8) -> cells.Trace:
    rec = cells.init_recurrent("lstm", 5, H, seed=3)
    return rec, rec.trace(np.random.default_rng(0).standard_normal((T, 5)).astype(np.float32))


def test_heatmaps_show_every_quantity_on_fixed_scales():
    _, tr = lstm_trace()
    fig = charts.state_heatmaps(tr, [f"w{i}" for i in range(tr.T)], step=4)
    spec = fig.to_plotly_json()
    lt = tr.layer(0, 0)
    want = [("h", lt.h, TANH), ("c", lt.c, None), *[(g, lt.gates[g], TANH if g == "g" else SIGMOID) for g in "ifgo"]]
    assert len(spec["data"]) == len(want)
    for d, (name, a, sc) in zip(spec["data"], want):
        np.testing.assert_allclose(array(d["z"]), np.asarray(a).T, rtol=1e-6)
        if sc is not None:
            assert (d["zmin"], d["zmax"]) == (sc.zmin, sc.zmax)
        else:  # the cell state: symmetric, covering all of c
            assert d["zmin"] == -d["zmax"] and d["zmax"] >= np.abs(lt.c).max()
    assert spec["layout"]["shapes"][0]["x0"] == 3.5 and spec["layout"]["shapes"][0]["x1"] == 4.5


def test_long_inputs_are_decimated_and_say_so():
    rec, tr = lstm_trace(T=1000)
    k = charts.stride_for(tr.T)
    assert k == 3 and len(range(0, tr.T, k)) <= charts.MAX_COLS
    m = StandinModel("sst2", "lstm", labels=("neg", "pos"))
    text = "a " * 1000
    doc = payload.compare_payload(text, [payload.Column(m, m.analyze(text))])
    assert "show every 3rd step" in doc


def test_equations_use_the_recorded_numbers():
    rec, tr = lstm_trace()
    lines = equations.step_equations(rec, tr, 0, 0, 5, 2)
    terms = rec.step_terms(tr, 0, 0, 5)
    f = float(tr.layer(0, 0).gates["f"][5][2])
    s = float(terms["f"][0][2] + terms["f"][1][2])
    assert abs(1 / (1 + np.exp(-s)) - f) < 1e-5
    assert lines[1].startswith("f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf) = σ(")
    assert f"σ({s:.2f}) = {f:.2f}" in lines[1]


def test_backward_equations_read_the_next_state():
    rec = cells.init_recurrent("gru", 5, 4, bidirectional=True, seed=1)
    tr = rec.trace(np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32))
    fwd, bwd = (equations.step_equations(rec, tr, 0, d, 2, 1) for d in (0, 1))
    assert "h_{t−1}" in fwd[-1] and "h_{t+1}" in bwd[-1]
    h_next = float(tr.layer(0, 1).h[3][1])  # what the backward direction read at t = 2
    assert bwd[-1].rstrip().endswith(f"= {float(tr.layer(0, 1).h[2][1]):.2f}")
    assert f"{h_next:.2f}" in bwd[-1]


def test_diagram_colours_parts_by_value():
    _, tr = lstm_trace()
    v = diagram.cell_values(tr, 0, 0, 3, 1)
    fig = diagram.cell_diagram(tr.kind, v, tr.layer(0, 0).c)
    fills = {s.fillcolor for s in fig.layout.shapes}
    assert len(fills) > 3  # gates with different values get different colours
    assert set("ifgo") <= set(v) and "c" in v and "h" in v


def test_lm_output_is_top_k_sorted_with_the_actual_next_token():
    m = StandinModel("jaychou", "gru", level="char")
    a = m.analyze("abc")
    out = charts.step_outputs(m, a, k=5)
    assert out.values.shape == (3, 5) and np.all(np.diff(out.values, axis=1) <= 0)
    assert out.detail[0].startswith("actual next: b") and out.detail[-1] == "end of the text"
    bars = charts.output_bars(out, step=1)
    np.testing.assert_allclose(array(bars.to_plotly_json()["data"][0]["x"]), out.values[1])
    assert bars.layout.xaxis.range == (0, 1)  # fixed, so bars compare across steps


def test_plotly_text_escapes_markup():
    assert charts.plotly_text("<b>&") == "&lt;b&gt;&amp;"
    assert charts.visible("a b\n\x00") == "a␣b⏎U+0000"


def test_chart_modules_do_not_import_streamlit():
    """The charts work in a notebook: importing them must not pull in Streamlit."""
    import subprocess
    import sys

    code = ("import sys, viz_app.charts, viz_app.diagram, viz_app.equations, viz_app.payload, viz_app.inputs; "
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
