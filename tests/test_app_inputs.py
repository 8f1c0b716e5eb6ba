"""Bad input: each gets a clear message or a sensible rendering, never a traceback.

Every case runs through the Compare and Cell views with AppTest. User text never
reaches the page as markup: it goes to the component as data (set there with
textContent) and every message is shown as plain text (checks.plain).
"""

from __future__ import annotations

import re

import pytest

from viz_app import cache, checks, testing
from viz_app.checks import MAX_CHARS, MAX_TOKENS, check_text
from viz_app.testing import component_data, component_payload, said

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
HOSTILE = "**bold** <b>x</b> $x^2$ :smile: :red[boom] [link](http://x.y) `code`\nsecond line"


def run_views(text: str, task: str = "trec"):
    for view in ("compare", "cell"):
        at = testing.app_test(timeout=60, view=view, task=task)
        at.text_input[0].set_value(text).run()
        assert not at.exception, [e.message for e in at.exception]
        yield view, at


@pytest.mark.parametrize("task", ["trec", "untrained"])
@pytest.mark.parametrize("case", ["empty", "whitespace"])
def test_empty_text_asks_for_text(case, task):
    for _, at in run_views(CASES[case], task):
        assert "Type some text to see the models read it." in said(at, ("info",))
        assert not testing.mounted(at)


def test_20k_characters_are_bounded_with_a_message():
    for _, at in run_views(CASES["20k_chars"]):
        assert any(f"first {MAX_TOKENS:,}" in w for w in said(at, ("warning",)))
        doc = component_payload(at)
        assert doc["T"] == MAX_TOKENS
        if doc["view"] == "compare":
            assert "every 5th step" in doc["note"]  # says the heatmaps are decimated


def test_only_unknown_words_say_so():
    for _, at in run_views(CASES["unknown_words"]):
        assert any("None of these tokens are in the model's vocabulary" in w for w in said(at))
        assert component_payload(at)["T"] == 3


def test_words_read_as_their_base_form_are_named():
    for _, at in run_views("a warmly acted film", task="sst2"):
        assert any("read as a known base form: warmly → warm" in m for m in said(at))


@pytest.mark.parametrize("case", ["emoji_zwj", "mixed_zh_en", "rtl"])
@pytest.mark.parametrize("task", ["trec", "jaychou"])
def test_unicode_renders_as_tokens(case, task):
    for _, at in run_views(CASES[case], task):
        assert not at.error
        toks = [t.replace("␣", " ") for t in component_payload(at)["tokens"]]
        pos = 0
        for t in toks:  # the user's own characters, in order, none mangled
            pos = CASES[case].index(t, pos) + len(t)
        if task == "jaychou" and case == "emoji_zwj":
            assert "👨‍👩‍👧" in toks  # one grapheme, one token


def test_control_characters_are_removed_with_a_message():
    for _, at in run_views(CASES["control"]):
        assert any("control character" in w for w in said(at, ("warning",)))
        assert all(ch.isprintable() for t in component_payload(at)["tokens"] for ch in t)


def test_html_markup_is_data_never_markup():
    for _, at in run_views(CASES["html_script"]):
        assert not at.error
        for md in at.markdown:
            assert "<script" not in md.value and "<b>" not in md.value
        toks = component_payload(at)["tokens"]
        assert "<" in toks and "script" in toks  # text, set with textContent in the browser
    # plotly reads tick labels as HTML: the heatmaps escape the tokens.
    from viz_app.charts.heatmaps import heatmap_spec
    from viz_app.tasks import UntrainedConfig

    a = cache.analyze("trec", "lstm", UntrainedConfig(), CASES["html_script"])
    layout = heatmap_spec(a.trace, a.tokens)["layout"]
    labels = [t for k, ax in layout.items() if k.startswith("xaxis") for t in ax.get("ticktext", ())]
    assert "&lt;" in labels and "<" not in labels


def test_check_text_is_pure_and_bounded():
    c = check_text("x" * (MAX_CHARS + 5), cache.model("trec", "lstm").tokenize)
    assert len(c.text) == MAX_CHARS and "first 20,000" in c.messages[0].text and c.messages[0].level == "warning"
    assert check_text(" \x00 ", str.split).empty


def test_plain_messages_show_exactly_their_text():
    assert testing.shown(checks.plain(HOSTILE)) == HOSTILE
    escaped = checks.plain(HOSTILE)
    assert re.search(r"(?<!\\)[*<>$:`\[\]()_]", escaped) is None  # every markup character escaped
    with pytest.raises(ValueError):
        checks.Message("fatal", "no such level")


def test_a_model_refusing_the_text_is_a_plain_message_not_a_traceback(monkeypatch):
    def refuse(*args, **kwargs):
        raise ValueError(f"the text {HOSTILE!r} has no tokens the model can read")

    monkeypatch.setattr(cache, "compare_payload", refuse)
    monkeypatch.setattr(cache, "analyze", refuse)
    for view in ("compare", "cell"):
        at = testing.app_test(view=view, task="trec")
        assert not at.exception
        (err,) = at.error
        assert testing.shown(err.value) == f"The models could not read this text: the text {HOSTILE!r} has no tokens the model can read"


@pytest.mark.parametrize("task", ["trec", "jaychou"])
def test_a_single_token_has_one_step(task):
    for _, at in run_views("a", task):
        assert not at.error
        assert component_payload(at)["T"] == 1 and component_data(at)["start"] == 0
