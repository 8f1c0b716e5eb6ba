"""The pure parts of the app: charts, formulas and payloads. A trace in, a figure, text or JSON out; no Streamlit."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import cells
from cells.readout import unit_values
from viz_app import testing
from viz_app.charts import diagram, equations, gradients, heatmaps
from viz_app.charts.formula import fill
from viz_app.charts.scales import SIGMOID, TANH
from viz_app.charts.text import plotly_text, visible
from viz_app.component import columns, payload


def lstm_trace(T: int = 12, H: int = 8, bidirectional: bool = False):
    rec = cells.init_recurrent("lstm", 5, H, bidirectional=bidirectional, seed=3)
    return rec, rec.trace(np.random.default_rng(0).standard_normal((T, 5)).astype(np.float32))


def test_heatmaps_show_every_quantity_on_fixed_scales():
    _, tr = lstm_trace()
    fig = heatmaps.state_heatmaps(tr, [f"w{i}" for i in range(tr.T)], step=4)
    spec = fig.to_plotly_json()
    layout = spec["layout"]
    lt = tr.layer(0, 0)
    want = [("h", lt.h, TANH), ("c", lt.c, None), *[(g, lt.gates[g], TANH if g == "g" else SIGMOID) for g in "ifgo"]]
    assert len(spec["data"]) == len(want)
    offset = 0
    for d, (name, a, sc) in zip(spec["data"], want):
        np.testing.assert_allclose(testing.plotly_array(d["z"]), np.asarray(a).T, rtol=1e-6)
        assert d["y0"] == offset and testing.plotly_array(d["customdata"])[:, 0].tolist() == list(range(8))  # each row's unit
        offset += 8 + heatmaps.GAP
        axis = layout[d["coloraxis"]]
        if sc is not None:  # the shared scales, as explicit stops (plotly.js has no "RdBu_r")
            assert (axis["cmin"], axis["cmax"]) == (sc.zmin, sc.zmax) and [list(s) for s in axis["colorscale"]] == sc.stops
        else:  # the cell state: symmetric, covering all of c
            assert axis["cmin"] == -axis["cmax"] and axis["cmax"] >= np.abs(lt.c).max()
    assert len({d["coloraxis"] for d in spec["data"]}) == 3  # one colour bar per scale: tanh, c, σ
    assert layout["shapes"][0]["x0"] == 3.5 and layout["shapes"][0]["x1"] == 4.5
    assert list(layout["yaxis"]["ticktext"]) == ["h", "c", "i", "f", "g", "o"]


def test_long_inputs_are_decimated_and_say_so():
    m = cells.load_model("sst2-lstm")
    text = "a " * 1000
    a = m.analyze(text)
    k = heatmaps.stride_for(a.trace.T)
    assert k == 3 and len(range(0, a.trace.T, k)) <= heatmaps.MAX_COLS
    doc = columns.compare(text, [(m, a, "")])
    assert "every 3rd step" in doc["note"]
    heat = doc["columns"][0]["panels"][2]
    assert heat["stride"] == 3 and testing.plotly_array(heat["fig"]["data"][0]["z"]).shape[1] == len(range(0, 1000, 3))


def test_equations_use_the_recorded_numbers():
    rec, tr = lstm_trace()
    lines = equations.step_equations(rec, tr, 0, 0, 5, 2)
    terms = rec.step_terms(tr, 0, 0, 5)
    f = float(tr.layer(0, 0).gates["f"][5][2])
    s = float(terms["f"][0][2] + terms["f"][1][2])
    assert abs(1 / (1 + np.exp(-s)) - f) < 1e-5
    assert lines[1].startswith("f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf) = σ(")
    assert f"σ({s:.2f}) = {f:.2f}".replace("-", "−") in lines[1]


def test_backward_equations_read_the_next_state():
    rec = cells.init_recurrent("gru", 5, 4, bidirectional=True, seed=1)
    tr = rec.trace(np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32))
    fwd, bwd = (equations.step_equations(rec, tr, 0, d, 2, 1) for d in (0, 1))
    assert "h_{t−1}" in fwd[-1] and "h_{t+1}" in bwd[-1]
    num = lambda v: f"{v:.2f}".replace("-", "−")  # noqa: E731
    assert bwd[-1].endswith(f"= {num(float(tr.layer(0, 1).h[2][1]))}")
    assert num(float(tr.layer(0, 1).h[3][1])) in bwd[-1]  # what the backward direction read at t = 2


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_diagram_colours_each_part_by_its_value_at_every_step(kind):
    rec = cells.init_recurrent(kind, 5, 8, seed=3)
    tr = rec.trace(np.random.default_rng(0).standard_normal((12, 5)).astype(np.float32))
    series = unit_values(tr, 0, 0, 1)
    fig, steps = diagram.diagram_spec(kind, series, tr.layer(0, 0).c)
    fills = [v for k, v in steps.items() if k.endswith("fillcolor")]
    texts = [v for k, v in steps.items() if k.endswith(".text")]
    assert fills and len(fills) == len(texts) == len(diagram.BOXES[diagram.family(kind)])
    assert all(len(v) == tr.T for v in fills + texts)
    h = f"{float(tr.layer(0, 0).h[4][1]):.2f}".replace("-", "−")
    assert any(v[4] == h for v in texts)  # h_t's box at step 4
    for path in steps:  # every path names an existing shape or annotation
        what, i = path.split("[")[0], int(path.split("[")[1].split("]")[0])
        assert i < len(fig["layout"][what])
    at4 = diagram.cell_diagram(kind, series, tr.layer(0, 0).c, t=4)
    assert h in [a.text for a in at4.layout.annotations]


def test_formula_fill_is_the_documented_language():
    values = {"a": [0.5, -0.25], "b": [-1.0, 2.0], "idx": [[3, 4], [5, 6]], "s": ["x", None]}
    assert fill("{a}{b:s} = {a:p}·{b:p}", values, 0) == "0.50 − 1.00 = 0.50·(−1.00)"
    assert fill("{idx.1:d} {t} «{tok}» {a:4} {s}", values, 1, "tok") == "6 1 «tok» −0.2500 —"
    assert fill("h_{t−1}", values, 0) == "h_{t−1}"  # not a field
    assert fill("{a:e} {b:e}", {"a": [1.9455e-05], "b": [-1234.5]}, 0) == "1.95e−5 −1.23e+3"  # as JS's toExponential(2)


def test_plotly_text_escapes_markup():
    assert plotly_text("<b>&") == "&lt;b&gt;&amp;"
    assert visible("a b\n\x00") == "a␣b⏎U+0000"


def test_payload_panels_are_checked_and_json_safe():
    with pytest.raises(ValueError):
        payload.bars("x", [[0.5]])  # neither labels nor ids
    with pytest.raises(ValueError):
        payload.text("popup")
    doc = payload.document("v", ["a", "b"], [payload.Column("C", panels=[payload.bars("t", [[np.nan, np.inf]], labels=["x", "y"])])])
    assert json.loads(payload.encode(doc))["columns"][0]["panels"][0]["values"] == [[None, None]]
    assert payload.pieces("  Don't  go!\n", [(2, 5), (5, 7), (9, 11), (11, 12)]) == \
        [["  ", -1], ["Don", 0], ["'t", 1], ["  ", -1], ["go", 2], ["!", 3], ["\n", -1]]


def test_gradient_specs_are_valid_plotly_and_show_overflow_as_gaps():
    import plotly.graph_objects as go

    tokens = ["a", "<b>", "c"]
    flow = gradients.gradient_flow_spec(np.arange(3), [("LSTM ‖dL/dh_t‖", np.array([1.0, np.inf, 0.0])),
                                                       ("LSTM ‖dL/dc_t‖", np.array([2.0, 3.0, 4.0]))],
                                        tokens, colours=gradients.COLOURS, step=1)
    rows = gradients.attribution_bars_spec(tokens, [("attention", np.array([0.2, 0.3, 0.5])),
                                                    ("occlusion", np.array([-2.0, 1.0, np.nan]))])
    units = gradients.unit_gradients_spec(np.array([[1.0, -4.0], [0.5, 2.0], [0.0, 0.0]]))
    for spec in (flow, rows, units):
        go.Figure(spec)  # plotly validates every property: raises on a misspelt one
    assert flow["data"][0]["y"] == [1.0, None, None]  # a log axis has no zero; overflow is a gap
    assert flow["data"][1]["line"]["dash"] == "dash" and flow["data"][0]["line"]["color"] == gradients.COLOURS["LSTM"]
    assert flow["layout"]["shapes"][0]["x0"] == 0.5 and flow["layout"]["xaxis"]["ticktext"][1] == "&lt;b&gt;"
    assert rows["data"][1]["y"] == [-1.0, 0.5, None] and rows["data"][1]["customdata"][0] == -2.0  # ÷ max |·|, gaps
    assert rows["data"][0]["y"] == [0.4, 0.6, 1.0] and rows["layout"]["barmode"] == "group"
    assert (units["data"][0]["zmin"], units["data"][0]["zmax"]) == (-4.0, 4.0) == (-gradients.symmetric_range([[np.inf, -4.0]]), 4.0)
    np.testing.assert_array_equal(testing.plotly_array(units["data"][0]["z"]), [[1.0, 0.5, 0.0], [-4.0, 2.0, 0.0]])
    assert gradients.unit_gradients(np.ones((3, 2))).layout.height == 240


def test_chart_and_payload_modules_do_not_import_streamlit():
    code = ("import sys, viz_app.charts.heatmaps, viz_app.charts.attention, viz_app.charts.lm, viz_app.charts.diagram, "
            "viz_app.charts.equations, viz_app.charts.gradients, viz_app.component.columns, viz_app.component.payload; "
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
