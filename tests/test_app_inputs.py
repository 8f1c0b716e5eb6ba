"""Bad input: each gets a clear message or a sensible rendering, never a traceback.

Every case runs through both views with AppTest; user text must never reach the page
as HTML (it goes to the stepper as data, set there with textContent).
"""

from __future__ import annotations

import json

import pytest

from viz_app import testing
from viz_app.inputs import MAX_CHARS, MAX_TOKENS, check_text
from viz_app.payload import strip_tokens

LONG = "word " * 4_000  # 20,000 characters, 4,000 word tokens
CASES = {
    "empty": "",
    "whitespace": "   \n\t  ",
    "20k_chars": LONG,
    "unknown_words": "zxqv blorptang qqqqfrob",
    "emoji_zwj": "family 👨‍👩‍👧 flag 🇨🇳 wave 👋🏽",
    "mixed_zh_en": "我爱 Streamlit 和 RNN, really 分开",
    "rtl": "שלום עולם and مرحبا بالعالم",
    "control": "abc\x00def\x07 ghi\x1b[31m red\x7f",
    "html_script": "<script>alert('x')</script><b>bold</b> <img src=x onerror=alert(1)>",
}


def run_views(text: str, task: str = "trec"):
    for view in ("compare", "cell"):
        at = testing.app_test(timeout=60, view=view, task=task)
        at.text_input[0].set_value(text).run()
        assert not at.exception, [e.message for e in at.exception]
        yield view, at


def stepper_payload(at) -> dict | None:
    comps = at.get("component_instance")
    return json.loads(json.loads(comps[0].proto.json_args)["payload"]) if comps else None


def no_user_html(at, text: str) -> None:
    # No markdown/HTML element may carry the user's markup; it only appears in the text
    # box itself, in st.text/st.code (rendered as text) and in the stepper's data.
    for md in at.markdown:
        assert "<script" not in md.value and "<b>" not in md.value


@pytest.mark.parametrize("task", ["trec", "untrained"])
@pytest.mark.parametrize("case", ["empty", "whitespace"])
def test_empty_text_asks_for_text(case, task):
    for _, at in run_views(CASES[case], task):
        assert any("Type some text" in i.value for i in at.info)
        assert not at.get("component_instance") and not at.get("plotly_chart")


def test_20k_characters_are_bounded_with_a_message():
    for view, at in run_views(CASES["20k_chars"]):
        warnings = " ".join(w.value for w in at.warning)
        assert f"first {MAX_TOKENS:,}" in warnings
        if view == "compare":
            assert stepper_payload(at)["T"] == MAX_TOKENS
            assert "every" in stepper_payload(at)["note"]  # says the heatmaps are decimated


def test_only_unknown_words_say_so():
    for view, at in run_views(CASES["unknown_words"]):
        msgs = " ".join(w.value for w in at.warning) + " ".join(c.value for c in at.caption)
        # Trained TREC models read <unk>; stand-ins have an open vocabulary and say nothing.
        if "stand-in" not in msgs:
            assert "vocabulary" in msgs
        if view == "compare":
            assert stepper_payload(at)["T"] == 3


def test_words_read_as_their_base_form_are_named_as_plain_text():
    for _, at in run_views("a warmly acted film", task="sst2"):
        assert any("read as a known base form" in c.value for c in at.caption)
        assert "warmly → warm" in [t.value for t in at.text]  # st.text: never markdown or HTML


@pytest.mark.parametrize("case", ["emoji_zwj", "mixed_zh_en", "rtl"])
@pytest.mark.parametrize("task", ["trec", "jaychou"])
def test_unicode_renders_as_tokens(case, task):
    for view, at in run_views(CASES[case], task):
        assert not at.error
        if view == "compare":
            toks = [t.replace("␣", " ") for t in stepper_payload(at)["tokens"]]
            assert toks, "nothing shown"
            pos = 0
            for t in toks:  # the user's own characters, in order, none mangled
                pos = CASES[case].index(t, pos) + len(t)
        if task == "jaychou" and case == "emoji_zwj" and view == "compare":
            assert "👨‍👩‍👧" in stepper_payload(at)["tokens"]  # one grapheme, one token


def test_control_characters_are_removed_with_a_message():
    for view, at in run_views(CASES["control"]):
        assert any("control character" in w.value for w in at.warning)
        if view == "compare":
            assert all(ch.isprintable() for t in stepper_payload(at)["tokens"] for ch in t)


def test_html_markup_is_shown_as_text():
    for view, at in run_views(CASES["html_script"]):
        assert not at.error
        no_user_html(at, CASES["html_script"])
        if view == "compare":
            p = stepper_payload(at)
            assert "<" in p["tokens"] and "script" in p["tokens"]

    # plotly reads tick labels as HTML: the notebook heatmaps escape the tokens.
    from viz_app.charts import state_heatmaps
    from viz_app.loaders import analyze
    from viz_app.tasks import UntrainedConfig

    a = analyze("trec", "lstm", UntrainedConfig(), CASES["html_script"])
    fig = state_heatmaps(a.trace, a.tokens)
    labels = [t for ax in fig.layout if ax.startswith("xaxis") for t in (fig.layout[ax].ticktext or ())]
    assert "&lt;" in labels and "<" not in labels


def test_check_text_is_pure_and_bounded():
    c = check_text("x" * (MAX_CHARS + 5))
    assert len(c.text) == MAX_CHARS and "first 20,000" in c.messages[0]
    assert check_text(" \x00 ").empty
    assert strip_tokens("a\tb", [(0, 1), (1, 2), (2, 3)]) == ["a", "⇥", "b"]


def test_a_model_refusing_the_text_is_a_message_not_a_traceback(monkeypatch):
    from viz_app import loaders

    def refuse(*args):
        raise ValueError("the text '**<b>x</b>**' has no tokens the model can read")

    monkeypatch.setattr(loaders, "analyze", refuse)
    monkeypatch.setattr(loaders, "compare_payload", refuse)
    for _, at in run_views("**<b>x</b>**"):
        assert at.error and "could not read" in at.error[0].value
        assert any("**<b>x</b>**" in t.value for t in at.text)  # quoted as plain text


@pytest.mark.parametrize("task", ["trec", "jaychou"])
def test_a_single_token_has_one_step(task):
    for view, at in run_views("a", task):
        assert not at.error
        if view == "compare":
            assert stepper_payload(at)["T"] == 1
        else:
            assert not at.slider and at.code[0].value
