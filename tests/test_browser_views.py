"""End to end in a real browser, the Cell, Attention, Gradients and Language-model
views: Debian's Chromium, driven by Playwright, against `streamlit run`.

Opens each view from a URL, steps with the keyboard and by clicking a token, holds the
browser's formulas equal to Python's, flips the scoring-rule switch, steps into a
generated text, checks that messages stay plain text, the dark theme, and that every
view's CSV download reads back as the model's trace (the Gradients view's as its
gradients) and every chart has its PNG button. Every test fails on a console error, a
page error, a failed request or a Streamlit exception box (testing.Session.tab).
Screenshots go to $RNNSCOPE_ARTIFACTS (else a pytest temp dir) and to
docs/screenshots/{cell,attention,attention_dark,language_model,gradients}.png; so do
step latencies.

Skips locally without /usr/bin/chromium or playwright; with CI=true it fails instead.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import cells
from cells import export, readout
from viz_app import checks, testing
from viz_app.charts.equations import step_equations
from viz_app.charts.text import visible
from viz_app.tasks import KINDS, TASKS

pytestmark = pytest.mark.browser
SCOPE = testing.SCOPE


app, page = testing.browser_fixtures("streamlit-views")  # one server and browser for the module, a tab per test


def press(page, key: str, t: int) -> None:
    """Press a key (the page has the focus, not a field) and wait until step t is drawn."""
    page.keyboard.press(key)
    testing.drawn_step(page, t)


def brightness(colour: str) -> float:
    """Mean of r, g, b for 'rgb(r, g, b)' or '#rrggbb'."""
    if colour.startswith("#"):
        return sum(int(colour[i:i + 2], 16) for i in (1, 3, 5)) / 3
    return sum(float(v) for v in re.findall(r"[\d.]+", colour)[:3]) / 3


# -- Cell -----------------------------------------------------------------------------------

def test_cell_equations_in_the_browser_are_pythons(page, app, artifacts, save_screenshot):
    page.goto(app.url("cell", task="trec"))
    testing.drawn_scope(page, 60)
    key, _ = testing.stamp(page)
    formula, diagram = page.locator(SCOPE + " .rs-formula-body"), page.locator(SCOPE + " .rs-plotpanel .rs-plot")
    title, n_shapes = diagram.evaluate("g => [g._fullLayout.title.text, g._fullLayout.shapes.length]")
    unit = int(re.fullmatch(r"LSTM · layer 0 · unit (\d+)", title).group(1))  # LSTM, layer 0 forward by default
    assert page.get_by_role("combobox", name="Unit (the").input_value().startswith(f"unit {unit} ")
    assert n_shapes > 10  # boxes, circles and wires
    model = cells.load_model("trec-lstm")
    a = model.analyze(TASKS["trec"].example)
    T = a.trace.T

    def shows(t: int) -> None:
        assert formula.inner_text() == "\n".join(step_equations(model.recurrent, a.trace, 0, 0, t, unit)), t
        h = f"{a.trace.layer(0, 0).h[t, unit]:.2f}".replace("-", "−")  # the diagram's h_t box
        notes = diagram.evaluate("g => g._fullLayout.annotations.map(a => a.text)")
        assert h in notes, (t, h)

    shows(0)
    for key_, t in [("ArrowRight", 1), ("PageDown", 2), ("End", T - 1), ("PageUp", T - 2), ("Home", 0)]:
        press(page, key_, t)
        shows(t)
    for _ in range(5):  # quick presses: only the last step need be drawn
        page.keyboard.press("ArrowRight")
    testing.drawn_step(page, 5, key)
    shows(5)
    page.wait_for_url(re.compile(r"[?&]step=5(&|$)"), timeout=5_000)
    save_screenshot(page, "cell", full_page=True)
    assert testing.plots_without_png_button(page) == 0
    testing.check_trace_csv(page, "trec-lstm", TASKS["trec"].example)
    testing.save_step_latencies(page, artifacts / "latency_cell.json")


def test_cell_download_is_named_after_its_model(page, app):
    page.goto(app.url("cell", task="trec"))
    testing.drawn_scope(page, 60)
    assert testing.check_trace_csv(page, "trec-lstm", TASKS["trec"].example) == "trec-lstm.trace.csv"


# -- Attention ------------------------------------------------------------------------------

def test_attention_click_a_token_and_compare_rules(page, app, artifacts, save_screenshot):
    text = TASKS["trec"].example
    page.goto(app.url("attention", task="trec"))
    testing.drawn_scope(page, 60)
    key, _ = testing.stamp(page)
    tokens = cells.load_model("trec-rnn").analyze(text).tokens
    page.locator(SCOPE + " .rs-col").nth(1).locator(".rs-full .rs-tok").nth(4).click()  # "woman", in the LSTM's text
    testing.drawn_step(page, 4, key)
    at = f"at t = 4 «{visible(tokens[4])}»"
    firsts = [f.split("\n")[0] for f in page.locator(SCOPE + " .rs-formula-body").all_inner_texts()]
    assert len(firsts) == 3 and all(f.endswith(at) for f in firsts), firsts
    assert page.locator(SCOPE + " .rs-full .rs-cur").all_inner_texts() == ["woman"] * 3
    page.wait_for_url(re.compile(r"[?&]step=4(&|$)"), timeout=5_000)  # reported (debounced), and in the address bar

    page.get_by_text("Compare with other scoring rules").click()
    testing.drawn_scope(page, after=f"{key}:4")
    key2, t = testing.stamp(page)
    assert key2 != key and t == 4  # a new payload, at the same token
    for col in page.locator(SCOPE + " .rs-col").all():
        bodies = col.locator(".rs-formula-body").all_inner_texts()
        assert len(bodies) == 4 and all(at in b for b in bodies), bodies
        assert "untrained" in col.inner_text()
    assert page.locator(SCOPE + " .rs-plot").count() == 6  # the weights, and every rule's weights
    assert testing.plots_without_png_button(page) == 0
    page.locator(SCOPE + " .rs-controls").scroll_into_view_if_needed()
    save_screenshot(page, "attention")
    assert testing.check_trace_csv(page, "trec-lstm", text, pick="LSTM") == "trec-lstm.trace.csv"
    testing.save_step_latencies(page, artifacts / "latency_attention.json")


def test_attention_in_the_dark_theme(page, app, save_screenshot):
    page.goto(app.url("attention", task="trec", embed="true", embed_options="dark_theme"))
    testing.drawn_scope(page, 60)
    text = page.locator(SCOPE).evaluate("e => getComputedStyle(e).color")
    chart = page.locator(SCOPE + " .rs-plot").first.evaluate("g => g._fullLayout.font.color")
    assert brightness(text) > 150 and brightness(chart) > 150, (text, chart)
    save_screenshot(page, "attention_dark")


# -- Language model -------------------------------------------------------------------------

def marks(page) -> list[str | None]:
    """Each column's outlined bar label (the actual next character), or None."""
    return page.locator(SCOPE + " .rs-barpanel").evaluate_all(
        "(ps) => ps.map(p => { const m = p.querySelector('.rs-mark'); return m ? m.textContent : null; })")


def test_language_model_steps_typed_and_generated_text(page, app, artifacts, save_screenshot):
    text = TASKS["jaychou"].example
    page.goto(app.url("language_model", task="jaychou"))
    testing.drawn_scope(page, 60)
    models = [cells.load_model(f"jaychou-{kind}") for kind in KINDS]
    nexts = []
    for m in models:
        a = m.analyze(text)
        nexts.append(readout.next_steps(m.vocab, a.tokens, a.next_token_probs, 10))
    vocab = models[0].vocab
    seen = 0
    for t in range(4):
        if t:
            press(page, "ArrowRight", t)
        want = [visible(vocab[s.actual[t]]) if s.actual[t] in s.top[t] else None for s in nexts]
        assert marks(page) == want, t
        seen += sum(w is not None for w in want)
    assert seen, "no actual next character in any top 10: pick steps where one is"
    page.wait_for_url(re.compile(r"[?&]step=3(&|$)"), timeout=5_000)
    testing.save_step_latencies(page, artifacts / "latency_language_model.json")

    # A generated text, stepped like typed text; the downloads follow it.
    typed = page.locator(SCOPE).get_attribute("data-drawn")
    page.get_by_text("LSTM's text").click()
    testing.drawn_scope(page, after=typed)
    page.get_by_label("LSTM's text").blur()  # the keys step the text, not the radio buttons
    generated = models[1].generate("分开", n=200, temperature=0.8, top_k=None, seed=0)
    shown = page.locator(SCOPE + " .rs-full .rs-tokens").evaluate_all("(ts) => ts.map(t => t.textContent)")
    assert shown == [generated] * 3
    press(page, "End", len(models[0].tokenize(generated)) - 1)
    assert all("end of the text" in d for d in page.locator(SCOPE + " .rs-barpanel .rs-line").all_inner_texts())
    press(page, "Home", 0)
    press(page, "ArrowRight", 1)
    page.locator(SCOPE + " .rs-controls").scroll_into_view_if_needed()
    save_screenshot(page, "language_model")
    assert testing.plots_without_png_button(page) == 0
    assert testing.check_trace_csv(page, "jaychou-rnn", generated) == "jaychou-rnn.trace.csv"


def test_language_model_messages_are_plain_text(page, app):
    page.goto(app.url("language_model", task="jaychou"))
    testing.drawn_scope(page, 60)
    prefix = "**☃** <b>$x$</b> :smile: [a](b)"
    box = page.get_by_label("Prefix to continue")
    box.fill(prefix)
    box.press("Enter")
    req = checks.check_request(prefix, 200, 0.8, 0, 0, cells.load_model("jaychou-rnn").vocab)
    (said,) = [m.text for m in req.messages if "never saw" in m.text]
    alert = page.locator('[data-testid="stAlert"]', has_text="never saw")
    alert.wait_for(timeout=20_000)
    assert alert.locator('[data-testid="stMarkdownContainer"]').text_content() == said  # exactly, as DOM text
    main = page.locator('[data-testid="stMain"]')
    assert main.locator("b").count() == 0 and alert.locator("strong, em, a, img, .katex").count() == 0


# -- Gradients ----------------------------------------------------------------------------

def test_gradients_view_steps_and_fills_its_numbers_as_python_does(page, app, artifacts, save_screenshot):
    text = "The film is not bad at all, and the ending is quietly wonderful."
    page.goto(app.url("gradients", task="sst2", text=text))
    testing.drawn_scope(page, 60)
    key, _ = testing.stamp(page)
    from viz_app.charts.formula import fill
    from viz_app.component import columns

    items = [(m, m.analyze(text), "", m.explain(text)) for m in (cells.load_model(f"sst2-{k}") for k in KINDS)]
    doc = columns.gradients(text, items)
    formulas = page.locator(SCOPE + " .rs-formula-body")
    assert formulas.count() == 3 and page.locator(SCOPE + " .rs-wide .rs-plot").count() == 1  # the overlay of the three
    for t in (0, 4, 7):
        if t:
            page.keyboard.press("Home")
            for _ in range(t):
                page.keyboard.press("ArrowRight")
            testing.drawn_step(page, t, key)
        tok = doc["tokens"][t]
        for n, col in enumerate(doc["columns"]):
            f = [p for p in col["panels"] if p["type"] == "formula"][0]
            want = "\n".join(fill(l, f["values"], t, tok, f["digits"]) for l in f["lines"])
            assert formulas.nth(n).inner_text() == want, (t, n)
    page.wait_for_url(re.compile(r"[?&]step=7(&|$)"), timeout=5_000)
    assert testing.plots_without_png_button(page) == 0
    save_screenshot(page, "gradients", full_page=True)
    testing.save_step_latencies(page, artifacts / "latency_gradients.json")

    # The LSTM's gradients download as the CSV that cells.export reads back: explain's dh and dc.
    box = page.locator('[data-testid="stExpander"]', has_text="Download the gradients")
    box.get_by_text("Download the gradients").click()
    box.get_by_text("LSTM", exact=True).click()
    name, data = testing.download(page, box.get_by_role("button", name="CSV"))
    back, e = export.read_csv(data), items[1][3]
    assert name == "sst2-lstm.gradients.csv" and back.tokens == list(e.tokens)
    for (l, d), dh in e.dh.items():
        np.testing.assert_allclose(back.get("dh", l, d), dh, rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(back.get("dc", l, d), e.dc[(l, d)], rtol=1e-5, atol=1e-9)
