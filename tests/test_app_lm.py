"""The Language-model view: next-character bars, generation and bad input, in AppTest.

The bars are checked against `cells.load_model(...).analyze(...)`; sampling itself is
cells' (tests/test_zoo.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import cells
from cells import zoo
from viz_app import cache, checks, testing
from viz_app.charts.formula import fill
from viz_app.tasks import KINDS

ok, payload = testing.assert_no_errors, testing.component_payload
FAST = {"lm_n": 20}


def run(widgets: dict | None = None, **params):
    return testing.app_test({**FAST, **(widgets or {})}, **params)


def generated(at: AppTest) -> list[str]:
    return [c.value for c in at.main.code]  # the sidebar's code block is the share link


def _of(col: dict, kind: str) -> list[dict]:
    return [p for p in col["panels"] if p["type"] == kind]


@pytest.mark.parametrize("task,text", [("jaychou", "分开的时候"), ("shakespeare", "ROMEO: But soft")])
def test_next_character_bars_equal_next_token_probs(task, text):
    at = run(view="language_model", task=task, text=text)
    ok(at)
    doc = payload(at)
    assert doc["view"] == "language_model" and doc["T"] == len(text)
    for kind, col in zip(KINDS, doc["columns"]):
        m = cells.load_model(f"{task}-{kind}")
        probs = np.asarray(m.analyze(text).next_token_probs, dtype=np.float64)  # (T, V)
        bars, = _of(col, "bars")
        top = np.asarray(bars["ids"])  # (T, k)
        np.testing.assert_allclose(bars["values"], np.take_along_axis(probs, top, axis=1), atol=1e-4)
        assert (np.diff(np.asarray(bars["values"]), axis=1) <= 1e-9).all()  # likeliest first
        vocab = list(m.vocab)
        for t in range(len(text) - 1):  # the actual next character, outlined
            assert bars["mark"][t] == (vocab.index(text[t + 1]) if text[t + 1] in vocab else -1)
        assert bars["mark"][-1] == -1 and bars["detail"][-1] == "end of the text: nothing follows"


def test_generation_is_reproducible_with_a_seed_and_changes_with_it():
    at = run(view="language_model", task="shakespeare")
    ok(at)
    first = generated(at)
    assert len(first) == 3 and all(t.startswith("ROMEO:") and len(t) == len("ROMEO:") + 20 for t in first)
    assert generated(run(view="language_model", task="shakespeare")) == first
    at.session_state["lm_seed"] = 7
    at.run()
    ok(at)
    assert generated(at) != first


def test_each_generated_text_can_be_stepped_into():
    at = run(view="language_model", task="shakespeare")
    texts = generated(at)
    at.radio(key="lm_source").set_value("lstm").run()
    ok(at)
    full = _of(payload(at)["columns"][0], "text")[0]
    assert "".join(s for s, _ in full["pieces"]) == texts[1] and payload(at)["T"] == len(texts[1])


@pytest.mark.parametrize("widgets,expect", [
    ({"lm_prefix_shakespeare": "☃☃ 分"}, "never saw"),
    ({"lm_prefix_shakespeare": ""}, "Empty prefix"),
    ({"lm_n": 0}, "n = 0"),
    ({"lm_n": 100_000}, "n = 100,000"),
    ({"lm_temperature": 0.0}, "greedy"),
    ({"lm_temperature": 1e-320}, "greedy"),  # the field shows 0.00; it used to crash generation
    ({"lm_temperature": 1000.0}, "very high"),
])
def test_bad_generation_input_gives_a_message_not_a_traceback(widgets, expect):
    at = run(widgets, view="language_model", task="shakespeare")
    ok(at)
    assert any(expect in s for s in testing.said(at)), testing.said(at)
    texts = generated(at)
    assert len(texts) == 3
    if widgets.get("lm_n") == 0:
        assert texts == ["ROMEO:"] * 3
    if widgets.get("lm_n") == 100_000:
        assert len(texts[1]) == len("ROMEO:") + checks.MAX_GENERATE
    if widgets.get("lm_temperature", 1) < zoo.TEMPERATURE_FLOOR:
        greedy = cells.load_model("shakespeare-lstm").generate("ROMEO:", n=20, temperature=0)
        assert texts[1] == greedy
    if widgets.get("lm_prefix_shakespeare") == "":
        at.radio(key="lm_source").set_value("gru").run()
        ok(at)
        assert payload(at)["tokens"][0] == "⏎"  # the newline read first, made visible


def test_a_generation_the_model_refuses_is_a_message(monkeypatch):
    def refuse(*args):
        raise ValueError("n must be an integer from 0 to 2000; got 5000")

    monkeypatch.setattr(cache, "generate", refuse)
    at = run(view="language_model", task="shakespeare")
    assert not at.exception
    assert [testing.shown(e.value) for e in at.error] == [f"{k.upper()} could not generate: n must be an integer from 0 "
                                                           "to 2000; got 5000" for k in KINDS]


def test_classifier_task_points_to_the_language_models():
    at = run(view="language_model", task="sst2")
    ok(at)
    assert "character language models" in testing.said(at)[0] and not testing.mounted(at)


def test_request_bounds():
    r = checks.check_request("x" * 600, 10**9, float("nan"), 3, 0, ["x"])
    assert len(r.prefix) == checks.MAX_PREFIX and r.n == checks.MAX_GENERATE and r.temperature == 1.0
    assert r.top_k is None  # 3 ≥ a vocabulary of 1: no cut
    assert [m.level for m in r.messages] == ["info", "warning", "warning"]


def test_unknown_prefix_characters_are_marked_and_never_scored():
    at = run({"lm_prefix_shakespeare": "ab☃"}, view="language_model", task="shakespeare")
    text = generated(at)[1]
    assert text.startswith("ab☃") and "<unk>" not in text[3:]
    at.radio(key="lm_source").set_value("lstm").run()
    col = payload(at)["columns"][1]
    assert _of(col, "text")[0]["unknown"] == [2]
    bars, = _of(col, "bars")
    assert bars["mark"][1] == -1 and "not in the vocabulary" in bars["detail"][1]  # ☃ follows "b": not scored
    ppl, = [f for f in _of(col, "formula") if "perplexity" in f["lines"][0]]
    assert fill(ppl["lines"][0], ppl["values"], 0) == "running perplexity: " + f"{ppl['values']['ppl'][0]:.2f}"
