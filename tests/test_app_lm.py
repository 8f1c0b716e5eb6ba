"""The Language-model view: next-character bars, generation and bad input.

AppTest reads the payload the browser stepper receives; where a trained character
model is bundled the bars are checked against `cells.load_model(...).analyze(...)`,
else against the seeded stand-in the page shows (and says it shows).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import cells
from viz_app import charts_lm, generation, loaders, payloads, testing
from viz_app.tasks import KINDS

ok, payload = testing.assert_no_errors, testing.component_payload
FAST = {"lm_n": 20}  # keeps the stand-ins' re-reading generation quick


def run(widgets: dict | None = None, **params):
    return testing.app_test({**FAST, **(widgets or {})}, **params)


def reference(task: str, kind: str):
    """The model the page uses: the bundled one, else the stand-in."""
    name = f"{task}-{kind}"
    return cells.load_model(name) if name in cells.list_models() else loaders.load_model(task, kind)[0]


def generated(at: AppTest) -> list[str]:
    return [c.value for c in at.code]


@pytest.mark.parametrize("task,text", [("jaychou", "分开的时候"), ("shakespeare", "ROMEO: But soft")])
def test_next_character_bars_equal_next_token_probs(task, text):
    at = run(view="language_model", task=task, text=text)
    ok(at)
    p = payload(at)
    assert p["mode"] == "lm" and p["T"] == len(text)
    for kind, col in zip(KINDS, p["columns"]):
        m = reference(task, kind)
        a = m.analyze(text)
        probs = np.asarray(a.next_token_probs, dtype=np.float64)  # (T, V)
        top = np.asarray(col["top"])  # (T, k)
        np.testing.assert_allclose(col["top_p"], np.take_along_axis(probs, top, axis=1), atol=1e-6)
        assert (np.diff(np.asarray(col["top_p"]), axis=1) <= 1e-9).all()  # likeliest first
        assert np.take_along_axis(probs, top, axis=1)[:, -1].min() >= np.sort(probs, axis=1)[:, -top.shape[1]].min() - 1e-7
        vocab = list(m.vocab)
        for t in range(len(text) - 1):  # the actual next character and its probability
            j = vocab.index(text[t + 1]) if text[t + 1] in vocab else -1
            assert col["actual_id"][t] == j
            if j >= 0:
                assert abs(col["p_actual"][t] - probs[t, j]) < 1e-6
        assert col["actual"][-1] is None


def test_generation_is_reproducible_with_a_seed_and_changes_with_it():
    at = run(view="language_model", task="shakespeare")
    ok(at)
    first = generated(at)
    assert len(first) == 3 and all(t.startswith("ROMEO:") for t in first)
    assert all(len(t) == len("ROMEO:") + 20 for t in first)
    again = run(view="language_model", task="shakespeare")
    assert generated(again) == first
    at.session_state["lm_seed"] = 7
    at.run()
    ok(at)
    assert generated(at) != first


def test_each_generated_text_can_be_stepped_into():
    at = run(view="language_model", task="shakespeare")
    texts = generated(at)
    at.radio(key="lm_source").set_value("LSTM's text").run()
    ok(at)
    p = payload(at)
    assert "".join(s for s, _ in p["pieces"]) == texts[1] and p["T"] == len(texts[1])


@pytest.mark.parametrize("widgets,expect", [
    ({"lm_prefix_shakespeare": "☃☃ 分"}, "never saw"),
    ({"lm_prefix_shakespeare": ""}, "Empty prefix"),
    ({"lm_n": 0}, "n = 0"),
    ({"lm_n": 100_000}, "n = 100,000"),
    ({"lm_temperature": 0.0}, "greedy"),
    ({"lm_temperature": 1000.0}, "very high"),
])
def test_bad_generation_input_gives_a_message_not_a_traceback(widgets, expect):
    at = run(widgets, view="language_model", task="shakespeare")
    ok(at)
    said = [m.value for m in list(at.info) + list(at.warning)]
    assert any(expect in s for s in said), said
    texts = generated(at)
    assert len(texts) == 3
    if widgets.get("lm_n") == 0:
        assert texts == ["ROMEO:"] * 3
    if widgets.get("lm_n") == 100_000:
        m = loaders.load_model("shakespeare", "lstm")[0]
        assert len(texts[1]) == len("ROMEO:") + generation.max_n(m)
    if widgets.get("lm_prefix_shakespeare") == "":
        at.radio(key="lm_source").set_value("GRU's text").run()
        ok(at)
        assert payload(at)["tokens"][0] == "⏎"  # the newline read first, made visible


def test_greedy_is_the_argmax_and_ignores_the_seed():
    m = loaders.load_model("shakespeare", "gru")[0]
    reqs = [generation.check_request("ROMEO:", 5, 0.0, 0, seed, list(m.vocab)) for seed in (0, 1)]
    a, b = (generation.generate(m, r) for r in reqs)
    assert a == b
    vocab = list(m.vocab)
    probs = np.array(m.analyze("ROMEO:").next_token_probs[-1], dtype=np.float64)  # (V,)
    if "<unk>" in vocab:
        probs[vocab.index("<unk>")] = -1  # never generated
    assert a[6] == vocab[int(np.argmax(probs))]


def test_classifier_task_points_to_the_language_models():
    at = run(view="language_model", task="sst2")
    ok(at)
    assert "character language models" in at.info[0].value and not at.get("component_instance")


# -- pure parts ------------------------------------------------------------------------------

def test_pick_respects_top_k_and_temperature():
    rng = np.random.default_rng(0)
    z = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    assert {generation.pick(z, 1.0, 1, rng) for _ in range(50)} == {0}
    assert {generation.pick(z, 1.0, 2, rng) for _ in range(200)} == {0, 1}
    assert len({generation.pick(z, 1e6, None, rng) for _ in range(400)}) == 4


def test_request_bounds():
    r = generation.check_request("x" * 600, 10**9, float("nan"), 3, 0, ["x"])
    assert len(r.prefix) == generation.MAX_PREFIX and r.n == generation.MAX_N and r.temperature == 1.0
    assert r.top_k is None  # 3 ≥ a vocabulary of 1: no cut
    assert len(r.messages) == 3


def test_lm_payload_marks_unknown_and_is_json():
    m = loaders.load_model("jaychou", "lstm")[0]
    text = "分开☃"
    doc = json.loads(payloads.lm_payload(text, [payloads.Column(m, m.analyze(text))]))
    assert doc["columns"][0]["actual"] == ["开", "☃", None]


def test_zoo_model_path_generates_and_marks_unknown_prefix_characters():
    m = cells.load_model("shakespeare-lstm")
    vocab = list(m.vocab)
    req = generation.check_request("ab☃", 30, 0.8, 5, 3, vocab)
    assert req.unknown == ("☃",) and any("never saw" in s for s in req.messages)
    text = generation.generate(m, req)
    assert text.startswith("ab☃") and len(text) == 33 and text == generation.generate(m, req)
    assert "<unk>" not in text[3:]
    doc = json.loads(payloads.lm_payload(text, [payloads.Column(m, m.analyze(text))]))
    col = doc["columns"][0]
    assert col["unknown"] == [2] and col["actual_id"][1] == -1  # ☃ is read as <unk> and not scored
    empty = generation.check_request("", 10, 0.0, 0, 0, vocab)
    greedy = generation.generate(m, empty)
    assert len(greedy) == 10 and greedy == generation.generate(m, generation.check_request("", 10, 0.0, 0, 9, vocab))
    a = m.analyze(generation.START + greedy)  # the view steps the newline the model read first
    p = np.array(a.next_token_probs[0], dtype=np.float64)
    p[vocab.index("<unk>")] = -1
    assert greedy[0] == vocab[int(np.argmax(p))]


def test_lm_charts_are_pure_figures():
    vocab = ["<unk>", "a", "b", "<"]
    probs = np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]])  # (T, V)
    s = charts_lm.next_steps(vocab, ["a", "<"], probs, k=3)
    fig = charts_lm.surprise_chart(["a", "<"], s, step=1)
    assert fig.layout.shapes[0].x0 == 0.5 and fig.layout.paper_bgcolor == "rgba(0,0,0,0)"
    bars = charts_lm.next_bars(vocab, s, 0)
    assert list(bars.data[0].y) == ["&lt;", "b", "a"]  # markup escaped for plotly
    assert list(bars.data[0].marker.line.width) == [2.5, 0, 0]  # the actual next one outlined
