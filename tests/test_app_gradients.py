"""The Gradients view in AppTest: its numbers are cells' (Model.explain, Recurrent.backward)."""

from __future__ import annotations

import numpy as np
import pytest

import cells
from viz_app import testing
from viz_app.charts.formula import fill
from viz_app.tasks import KINDS, TASKS

run, ok, payload = testing.app_test, testing.assert_no_errors, testing.component_payload


def _of(col: dict, kind: str) -> list[dict]:
    return [p for p in col["panels"] if p["type"] == kind]


def test_a_classifiers_gradients_and_attributions_are_its_explanation():
    at = run(view="gradients", task="trec", text="who wrote hamlet ?")
    ok(at)
    doc = payload(at)
    assert doc["view"] == "gradients" and len(doc["wide"]) == 1 and doc["T"] == 4
    for kind, col in zip(KINDS, doc["columns"]):
        e = cells.load_model(f"trec-{kind}").explain("who wrote hamlet ?")
        assert col["meta"] == f"L = −log p({e.target_label} | text) = {-e.logprob:.4f}"
        (text,) = _of(col, "text")
        np.testing.assert_allclose(text["shade"], e.saliency["integrated_gradients"], atol=1e-6)
        formula = _of(col, "formula")[0]
        np.testing.assert_allclose(formula["values"]["gh0"], e.grad_norms[(0, 0)], rtol=1e-5, atol=1e-9)
        assert fill(formula["lines"][1], formula["values"], 2).startswith("→  ‖dL/dh_t‖ = ")
        assert any("with uniform attention" in l for l in formula["lines"])
        assert sum("Kendall τ" in l for l in formula["lines"]) == 3


def test_the_target_picker_and_the_clipping_threshold():
    at = run(view="gradients", task="sst2", text="a moving , funny film")
    at.selectbox(key="grad_target").set_value("negative").run()
    ok(at)
    col = payload(at)["columns"][1]
    e = cells.load_model("sst2-lstm").explain("a moving , funny film", target=0)
    assert col["meta"].startswith("L = −log p(negative | text)") and e.target_label == "negative"
    at.number_input(key="grad_clip").set_value(0.01).run()
    ok(at)
    lines = _of(payload(at)["columns"][1], "formula")[0]["lines"]
    clip = [l for l in lines if l.startswith("clip_grad_norm_")][0]
    assert f"{e.recurrent_grad_norm:.4g} → 0.01" in clip


def test_a_language_models_connectivity_follows_the_step():
    text = "分开的时候"
    at = run(view="gradients", task="jaychou", text=text)
    ok(at)
    col = payload(at)["columns"][2]
    (shade,) = _of(col, "text")
    C = cells.load_model("jaychou-gru").connectivity(text)
    np.testing.assert_allclose(shade["shade"], C / C.max(axis=1, keepdims=True), atol=1e-4)
    assert col["meta"].startswith("L = −log p(«候» | the 4 characters before it)")


def test_untrained_cells_follow_the_last_state_back():
    at = run(view="gradients", task="untrained", text="The cat sat on the mat.")
    ok(at)
    col = payload(at)["columns"][0]
    m = cells.untrained_model("rnn")
    a = m.analyze("The cat sat on the mat.")
    d = np.zeros(a.trace.output.shape)
    d[-1] = 1
    g = m.recurrent.backward(a.trace, d)
    np.testing.assert_allclose(_of(col, "formula")[0]["values"]["gh0"], np.linalg.norm(g.layer(0).dh, axis=1), rtol=1e-5)
    at.sidebar.slider[1].set_value(5.0).run()  # init scale: an exploding RNN
    ok(at)


@pytest.mark.parametrize("text, expect", [("分", "at least two"), ("", "Type some text")])
def test_bad_input_in_the_gradients_view(text, expect):
    at = run(view="gradients", task="jaychou", text=text)
    assert not at.exception
    assert any(expect in s for s in testing.said(at)), testing.said(at)


def test_the_text_is_shaded_by_the_chosen_measure_and_attention_can_be_uniform():
    text = "a moving , funny film"
    at = run(view="gradients", task="sst2", text=text)
    m = cells.load_model("sst2-gru")
    e, a = m.explain(text), m.analyze(text)
    col = payload(at)["columns"][2]
    (chart,) = [p for p in _of(col, "plotly") if p["fig"]["data"][0]["type"] == "bar"]
    shown = {d["name"]: d["customdata"] for d in chart["fig"]["data"]}
    assert list(shown) == ["attention", "grad × input", "integrated gradients", "occlusion"]
    np.testing.assert_allclose(shown["occlusion"], e.saliency["occlusion"], rtol=1e-6)
    np.testing.assert_allclose(shown["attention"], a.attention, rtol=1e-6)
    for shade, want in [("occlusion", e.saliency["occlusion"]), ("attention", a.attention)]:
        at.selectbox(key="grad_shade").set_value(shade).run()
        ok(at)
        (panel,) = _of(payload(at)["columns"][2], "text")
        np.testing.assert_allclose(panel["shade"], want, atol=1e-6)
    at.toggle(key="grad_uniform").set_value(True).run()
    ok(at)
    (bars,) = _of(payload(at)["columns"][2], "bars")
    uniform = m.probs_with_attention(text, np.full(len(a.tokens), 1 / len(a.tokens)))
    np.testing.assert_allclose(bars["values"][0], uniform, atol=1e-4)
    assert bars["title"] == "prediction with uniform attention" and f"{uniform[e.target]:.3f}" in bars["detail"][0]


def test_a_language_model_explains_the_character_after_a_chosen_position():
    text = "分开的时候我"
    at = run(view="gradients", task="jaychou", text=text)
    at.number_input(key="grad_position").set_value(2).run()
    ok(at)
    col = payload(at)["columns"][1]
    e = cells.load_model("jaychou-lstm").explain(text, position=2)
    assert col["meta"].startswith(f"L = −log p(«{text[3]}» | the 3 characters before it)") and e.target_label == text[3]
    norms = _of(col, "formula")[0]["values"]["gh0"]
    np.testing.assert_allclose(norms[:3], e.grad_norms[(0, 0)], rtol=1e-5)
    assert norms[3:] == [0.0, 0.0, 0.0]  # the loss does not depend on the steps after the position
    at.number_input(key="grad_position").set_value(5).run()
    assert not at.exception
    assert any("no character after position 5" in s and "from 0 to 4" in s for s in testing.said(at)), testing.said(at)
