"""The Attention view: AppTest of the page against cells.load_model(...).analyze(...).

AppTest cannot run the component's JavaScript, so these tests read the payload the
component receives. The rules themselves are tested in tests/test_readout.py.
"""

from __future__ import annotations


import numpy as np
import pytest

import cells
from cells import attention_rules
from viz_app import testing
from viz_app.charts import attention as attention_charts
from viz_app.charts.formula import fill
from viz_app.tasks import KINDS, TASKS

run, ok, payload = testing.app_test, testing.assert_no_errors, testing.component_payload
TEXT = "Who wrote the play Hamlet, and where?"


def _of(col: dict, kind: str) -> list[dict]:
    return [p for p in col["panels"] if p["type"] == kind]


@pytest.mark.parametrize("task", ["trec", "sst2"])
def test_weights_shown_equal_the_models_attention(task):
    at = run(view="attention", task=task, text=TEXT)
    ok(at)
    doc = payload(at)
    assert doc["view"] == "attention" and [c["title"] for c in doc["columns"]] == ["RNN", "LSTM", "GRU"]
    for kind, col in zip(KINDS, doc["columns"]):
        m = cells.load_model(f"{task}-{kind}")
        a = m.analyze(TEXT)
        assert doc["T"] == len(a.tokens)
        prediction, = _of(col, "bars")
        np.testing.assert_allclose(prediction["values"][0], a.probs, atol=1e-4)
        text, = _of(col, "text")
        np.testing.assert_allclose(text["shade"], a.attention, atol=1e-6)
        bars = _of(col, "plotly")[0]["fig"]["data"][0]["y"]
        np.testing.assert_allclose(testing.plotly_array(bars), a.attention, rtol=1e-6)
        formula, = _of(col, "formula")
        assert formula["title"].startswith("additive (trained)") and not formula["muted"]
        np.testing.assert_allclose(formula["values"]["a"], a.attention, atol=1e-6)
        np.testing.assert_allclose(formula["values"]["s"], a.attention_scores, atol=1e-4)


def test_the_formula_adds_up_at_every_step():
    at = run(view="attention", task="trec", text=TEXT)
    formula = _of(payload(at)["columns"][1], "formula")[0]
    for t in range(len(formula["values"]["s"])):
        lines = [fill(l, formula["values"], t, "tok", formula["digits"]) for l in formula["lines"]]
        assert lines[0].endswith(f"at t = {t} «tok»") and lines[3].endswith(f"= {formula['values']['s'][t]:.3f}".replace("-", "−"))


def test_editing_the_sentence_updates_everything_and_the_switch_adds_untrained_rules():
    at = run(view="attention", task="trec", text=TEXT)
    ok(at)
    before = payload(at)
    at.text_input(key="text").set_value("How far is the Moon?").run()
    ok(at)
    after = payload(at)
    assert after["tokens"] == ["how", "far", "is", "the", "moon", "?"] and after["T"] == 6
    assert len(_of(after["columns"][1], "formula")) == 1 and before["T"] != after["T"]
    at.toggle(key="att_compare").set_value(True).run()
    ok(at)
    col = payload(at)["columns"][1]
    titles = [f["title"] for f in _of(col, "formula")]
    assert all("untrained" in t for t in titles[1:]) and len(titles) >= 4
    assert all(f["muted"] for f in _of(col, "formula")[1:])
    assert len(_of(col, "plotly")) == 2  # bars and the rules heatmap
    assert at.query_params["text"] in ("How far is the Moon?", ["How far is the Moon?"])


@pytest.mark.parametrize("text", ["", "   ", "<script>alert(1)</script> <b>bold</b>", "zzqx qqxz", "分开 👨‍👩‍👧 and مرحبا"])
def test_bad_text_gives_a_message_or_a_picture(text):
    at = run(view="attention", task="trec", text=text)
    ok(at)
    if not text.strip():
        assert not testing.mounted(at) and at.info
        return
    full = _of(payload(at)["columns"][0], "text")[0]
    assert "".join(s for s, _ in full["pieces"]) == text  # the user's own text, sent as data


def test_language_model_task_points_to_the_classifiers():
    at = run(view="attention", task="jaychou")
    ok(at)
    assert "classifiers" in testing.said(at)[0] and not testing.mounted(at)
    at.button(key="goto_trec").click().run()
    ok(at)
    assert at.session_state["task"] == "trec" and payload(at)["T"] == len(cells.tokens.words(TASKS["trec"].example))


def test_charts_are_pure_and_themeable():
    m = cells.load_model("trec-lstm")
    a = m.analyze(TEXT)
    w = attention_rules.rules_for(m, a)[0].weights
    fig = attention_charts.attention_bars(a.tokens, w, step=2)
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)" and fig.layout.shapes[0].x0 == 1.5
    heat = attention_charts.rules_heatmap(a.tokens, [("x", w), ("y", w[::-1])])
    assert np.asarray(heat.data[0].z).shape == (2, len(a.tokens))
    # markup in tokens is escaped for plotly, which would otherwise read <b> as bold
    fig = attention_charts.attention_bars(["<b>x</b>"], np.ones(1))
    assert "<b>" not in fig.layout.xaxis.ticktext[0]
