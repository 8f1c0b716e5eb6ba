"""AppTest for each view: loads, steps, every task and model, query parameters round-trip.

AppTest reruns the whole script (it does not isolate fragments) and cannot run the
browser stepper's JavaScript: the Compare tests read the payload the stepper receives
and simulate the step it reports back by setting the component's session-state value.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from viz_app import loaders, testing
from viz_app.testing import assert_no_errors as ok
from viz_app.testing import component_payload as payload
from viz_app.tasks import KINDS, TASKS, UntrainedConfig



def run(timeout: float = 60, **params):
    return testing.app_test(timeout=timeout, **params)


def rows(col: dict) -> list[np.ndarray]:
    """A stepper column's heatmap rows as (T', H) arrays."""
    return [np.frombuffer(base64.b64decode(r["data"]), np.float32).reshape(-1, r["H"]) for r in col["rows"]]


def test_compare_loads_and_draws_each_models_trace():
    at = run(task="trec")
    ok(at)
    p = payload(at)
    text = TASKS["trec"].example
    assert [c["title"] for c in p["columns"]] == ["RNN", "LSTM", "GRU"]
    for kind, col in zip(KINDS, p["columns"]):
        a = loaders.analyze("trec", kind, UntrainedConfig(), text)
        assert p["T"] == a.trace.T
        h = rows(col)[0]  # row 1: h of the top layer, forward, (T, H)
        np.testing.assert_allclose(h, np.asarray(a.trace.layer(-1, 0).h), rtol=1e-6)
        names = [r["name"] for r in col["rows"]]
        lt = a.trace.layer(-1, 0)
        assert names[: 1 + (lt.c is not None) + len(lt.gates)] == ["h", *(["c"] if lt.c is not None else []), *lt.gates]
        if a.probs is not None:  # a classifier: its probabilities, as the bars will show them
            np.testing.assert_allclose(col["output"]["values"][-1], a.probs, atol=1e-4)


def test_step_reported_by_the_browser_moves_state_and_url():
    at = run(task="sst2")
    ok(at)
    assert json.loads(at.get("component_instance")[0].proto.json_args)["step"] == 0
    at.session_state["stepper"] = 4  # what stepper.js sends after the user stepped to 4
    at.run()
    ok(at)
    at.run()  # a later run (another user action) starts the stepper where the browser left it
    assert json.loads(at.get("component_instance")[0].proto.json_args)["step"] == 4
    assert at.session_state["t"] == 4
    assert at.query_params["step"] == ["4"] or at.query_params["step"] == "4"
    at.sidebar.radio[0].set_value("cell").run()  # the Cell view opens at the same step
    ok(at)
    assert at.slider(key="cell_step").value == 4


def _diagram(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_cell_view_slider_changes_diagram_and_equations():
    at = run(view="cell", task="trec", step=0)
    ok(at)
    at.radio(key="cell_kind").set_value("lstm").run()
    ok(at)
    before, eq0 = _diagram(at), at.code[0].value
    assert eq0.splitlines()[0].startswith("i_t = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi) = σ(")
    assert [l.split(" =")[0] for l in eq0.splitlines()] == ["i_t", "f_t", "g_t", "o_t", "c_t", "h_t"]
    at.slider(key="cell_step").set_value(3).run()
    ok(at)
    after, eq3 = _diagram(at), at.code[0].value
    assert eq3 != eq0 and before["layout"]["shapes"] != after["layout"]["shapes"]
    assert "t = 3" in after["layout"]["title"]["text"]
    # The numbers are the trace's: f_t's value for the chosen unit at t = 3.
    a = loaders.analyze("trec", "lstm", UntrainedConfig(), TASKS["trec"].example)
    unit = at.session_state["unit"]
    layer = at.selectbox(key="cell_layer").value
    f = float(a.trace.layer(layer, 0).gates["f"][3][unit])
    assert eq3.splitlines()[1].endswith(f"= {f:.2f}")
    assert at.query_params["step"] in ("3", ["3"])


@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_and_model_loads(task):
    at = run(task=task)
    ok(at)
    assert len(payload(at)["columns"]) == 3
    at.sidebar.radio[0].set_value("cell").run()
    for kind in KINDS:
        at.radio(key="cell_kind").set_value(kind).run()
        ok(at)
        assert at.code[0].value.splitlines()[-1].startswith("h_t = ")


def test_untrained_sliders_change_the_models():
    at = run(task="untrained")
    ok(at)
    assert rows(payload(at)["columns"][1])[0].shape[1] == UntrainedConfig().hidden_size
    at.sidebar.slider[0].set_value(16).run()  # hidden size
    ok(at)
    assert rows(payload(at)["columns"][1])[0].shape[1] == 16


def test_query_params_round_trip():
    params = {"view": "cell", "task": "shakespeare", "text": "ROMEO: soft!", "step": "4"}
    at = run(**params)
    ok(at)
    assert at.sidebar.radio[0].value == "cell"
    assert at.sidebar.selectbox[0].value == "shakespeare"
    assert at.text_input[0].value == "ROMEO: soft!"
    assert at.slider(key="cell_step").value == 4
    assert {k: at.query_params[k] for k in params} in (params, {k: [v] for k, v in params.items()})


def test_bad_query_params_fall_back_to_defaults():
    at = run(view="nope", task="nope", step="abc")
    ok(at)
    assert at.sidebar.radio[0].value == "compare"
    assert at.session_state["t"] == 0


def test_changing_task_swaps_the_example_text():
    at = run(task="sst2")
    at.sidebar.selectbox[0].set_value("jaychou").run()
    ok(at)
    assert at.text_input[0].value == TASKS["jaychou"].example


def test_classifier_outputs_follow_the_step():
    """After the first paint, a rerun adds each prefix's probabilities to the stepper."""
    at = run(task="trec", text="who wrote hamlet ?")
    ok(at)
    for kind, col in zip(KINDS, payload(at)["columns"]):
        m, _ = loaders.model("trec", kind, UntrainedConfig())
        want = [m.analyze(p).probs for p in ("who", "who wrote", "who wrote hamlet", "who wrote hamlet ?")]
        assert col["output"]["title"] == "class probabilities if the text ended at t"
        np.testing.assert_allclose(col["output"]["values"], want, atol=1e-4)
