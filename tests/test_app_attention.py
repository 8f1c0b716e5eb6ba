"""The Attention view: AppTest of the page, and the scoring rules against cells.attention.

AppTest cannot run the browser stepper's JavaScript, so the page tests read the payload
the stepper receives (the component's JSON arguments) and check it against
`cells.load_model(...).analyze(...)`.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest

import cells
from cells import attention as att
from cells import attention_rules as scorers
from viz_app import charts_attention, payloads, testing
from viz_app.standin import StandinModel
from viz_app.tasks import KINDS, TASKS

run, ok, payload = testing.app_test, testing.assert_no_errors, testing.component_payload
TEXT = "Who wrote the play Hamlet, and where?"


def trained(name: str):
    return cells.load_model(name) if name in cells.list_models() else None


@pytest.mark.parametrize("task", ["trec", "sst2"])
def test_weights_shown_equal_the_models_attention(task):
    at = run(view="attention", task=task, text=TEXT)
    ok(at)
    p = payload(at)
    assert p["mode"] == "attention" and [c["title"] for c in p["columns"]] == ["RNN", "LSTM", "GRU"]
    for kind, col in zip(KINDS, p["columns"]):
        m = trained(f"{task}-{kind}")
        if m is None:  # a stand-in: no trained attention, and the page says so
            assert not col["rules"][0]["trained"] and "no trained attention" in col["warning"]
            continue
        a = m.analyze(TEXT)
        assert p["T"] == len(a.tokens)
        r = col["rules"][0]
        assert r["trained"] and r["label"] == "additive (trained)"
        np.testing.assert_allclose(r["a"], a.attention, atol=1e-6)
        np.testing.assert_allclose(r["s"], a.attention_scores, atol=1e-4)
        np.testing.assert_allclose(col["prediction"]["probs"], a.probs, atol=1e-4)
        bars = col["plots"][0]["fig"]["data"][0]["y"]
        np.testing.assert_allclose(_array(bars), a.attention, rtol=1e-6)
    assert [b.proto.label for b in at.get("download_button")] == ["JSON", "NPZ", "CSV"]


def _array(v) -> np.ndarray:
    """A plotly JSON array: a list, or plotly ≥ 6's base64 {dtype, bdata, shape}."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v, dtype=float)


def test_editing_the_sentence_updates_everything_and_the_switch_adds_untrained_rules():
    at = run(view="attention", task="trec", text=TEXT)
    ok(at)
    before = payload(at)
    at.text_input(key="text").set_value("How far is the Moon?").run()
    ok(at)
    after = payload(at)
    assert after["tokens"] == ["how", "far", "is", "the", "moon", "?"] and after["T"] == 6
    assert len(after["columns"][1]["rules"]) == 1 and before["T"] != after["T"]
    at.toggle(key="att_compare").set_value(True).run()
    ok(at)
    cmp = payload(at)
    labels = [r["label"] for r in cmp["columns"][1]["rules"]]
    assert all("untrained" in l for l in labels[1:]) and len(labels) >= 4
    assert len(cmp["columns"][1]["plots"]) == 2  # bars and the rules heatmap
    assert at.query_params["view"] == "attention" and at.query_params["text"] == "How far is the Moon?"  # the URL


@pytest.mark.parametrize("text", ["", "   ", "<script>alert(1)</script> <b>bold</b>", "zzqx qqxz", "分开 👨‍👩‍👧 and مرحبا"])
def test_bad_text_gives_a_message_or_a_picture(text):
    at = run(view="attention", task="trec", text=text)
    ok(at)
    comps = at.get("component_instance")
    if not text.strip():
        assert not comps and at.info
    else:
        p = payload(at)
        assert "".join(s for s, _ in p["pieces"]) == text  # the user's own text, sent as data


def test_language_model_task_points_to_the_classifiers():
    at = run(view="attention", task="jaychou")
    ok(at)
    assert "classifiers" in at.info[0].value and not at.get("component_instance")
    at.button(key="goto_trec").click().run()
    ok(at)
    assert at.session_state["task"] == "trec" and payload(at)["T"] == len(cells.tokens.words(TASKS["trec"].example))


# -- the rules, pure -------------------------------------------------------------------------

def _analysis():
    m = trained("trec-lstm")
    if m is None:
        m = StandinModel("trec", "lstm", "word", TASKS["trec"].labels)
    return m, m.analyze(TEXT)


def test_charts_are_pure_and_themeable():
    m, a = _analysis()
    w = scorers.rules_for(m, a)[0].weights
    fig = charts_attention.attention_bars(a.tokens, w, step=2)
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)" and fig.layout.shapes[0].x0 == 1.5
    heat = charts_attention.rules_heatmap(a.tokens, [("x", w), ("y", w[::-1])])
    assert np.asarray(heat.data[0].z).shape == (2, len(a.tokens))
    # markup in tokens is escaped for plotly, which would otherwise read <b> as bold
    fig = charts_attention.attention_bars(["<b>x</b>"], np.ones(1))
    assert "<b>" not in fig.layout.xaxis.ticktext[0]


def test_payload_pieces_cover_the_text_exactly():
    text = "  Don't  go!\n"
    toks = cells.tokens.words(text)
    p = payloads.pieces(text, [(t.start, t.end) for t in toks])
    assert "".join(s for s, _ in p) == text
    assert [i for _, i in p if i >= 0] == list(range(len(toks)))
