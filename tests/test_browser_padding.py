"""End to end in a real browser, the Padding view: Debian's Chromium, driven by Playwright,
against `streamlit run`.

Opens /padding, steps with the keyboard and the slider, holds the step's formulas (each
sentence's token or pad, and its states) equal to Python's, checks the two columns,
their charts and PNG buttons, and that a sentence typed with markup stays text. The test
fails on a console error, a page error, a failed request or a Streamlit exception box
(testing.Session.tab). The screenshot goes to $RNNSCOPE_ARTIFACTS (else a pytest temp
dir) and to docs/screenshots/padding.png.

Skips locally without /usr/bin/chromium or playwright; with CI=true it fails instead.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import cells
from cells import export
from viz_app import testing
from viz_app.charts.formula import fill
from viz_app.component import padding as pad
from viz_app.views.padding import EXAMPLES

pytestmark = pytest.mark.browser
SCOPE = testing.SCOPE

app, page = testing.browser_fixtures("streamlit-padding")  # one server and browser for the module, a tab per test


def test_padding_view_steps_through_the_batch(page, app, save_screenshot):
    page.goto(app.url("padding", task="sst2"))
    testing.drawn_scope(page, 90)
    key, t = testing.stamp(page)
    assert t == 0
    m = cells.load_model("sst2-lstm")
    doc = pad.padding_doc(m, pad.read(m, EXAMPLES["sst2"].splitlines()))
    T = doc["T"]
    cols = page.locator(SCOPE + " .rs-col")
    assert cols.count() == 2 and cols.locator("h3").all_inner_texts() == list(pad.MODES)
    assert page.locator(SCOPE + " .rs-plot").count() == 3  # what the pads moved, and each column's states
    assert page.locator(SCOPE + " .rs-barpanel").count() == 2 * len(EXAMPLES["sst2"].splitlines())
    formulas = page.locator(SCOPE + " .rs-col .rs-formula-body")

    def shows(t: int) -> None:
        for c, col in enumerate(doc["columns"]):
            f = [p for p in col["panels"] if p["type"] == "formula"][0]
            want = "\n".join(fill(line, f["values"], t, doc["tokens"][t], f["digits"]) for line in f["lines"])
            assert formulas.nth(c).inner_text() == want, (t, c)
        assert page.locator(SCOPE + " .rs-step-text").inner_text() == f"t = {t} / {T - 1} · {doc['tokens'][t]}"

    shows(0)
    for key_, t in [("ArrowRight", 1), ("ArrowRight", 2), ("ArrowRight", 3), ("End", T - 1)]:
        page.keyboard.press(key_)
        testing.drawn_step(page, t, key)
        shows(t)
    last = [formulas.nth(c).inner_text().split("\n")[1] for c in range(2)]  # the shortest sentence, at the last step
    assert last[0].startswith("1  ⟨pad⟩ not read") and last[1].startswith("1  ⟨pad⟩ read as input"), last
    page.keyboard.press("Home")
    testing.drawn_step(page, 0, key)
    slider = page.locator(SCOPE + " .rs-slider")
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")
    testing.drawn_step(page, 5, key)
    shows(5)
    page.wait_for_url(re.compile(r"[?&]step=5(&|$)"), timeout=5_000)  # reported (debounced), and in the address bar
    assert testing.plots_without_png_button(page) == 0
    slider.blur()  # no focus ring in the picture
    page.set_viewport_size({"width": 1500, "height": 2000})  # the whole view: Streamlit scrolls inside the page
    page.locator(SCOPE + " .rs-controls").scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # plotly follows the new width
    save_screenshot(page, "padding")


def test_padding_view_keeps_typed_markup_as_text(page, app):
    page.goto(app.url("padding", task="sst2"))
    testing.drawn_scope(page, 90)
    key, _ = testing.stamp(page)
    box = page.get_by_role("textbox", name="Sentences, one per line")
    box.fill("<b>bold</b> & <i>x</i> .\nok .")
    box.press("Control+Enter")  # a text area submits on Ctrl+Enter
    testing.drawn_scope(page, 60, after=f"{key}:0")
    titles = page.locator(SCOPE + " .rs-barpanel .rs-sub").all_inner_texts()
    assert titles[:2] == ["1 · <b>bold</b> & <i>x</i> .", "2 · ok ."]
    assert page.locator('[data-testid="stMain"] b').count() == 0


def test_padding_view_downloads_a_sentences_padded_trace(page, app):
    page.goto(app.url("padding", task="sst2"))
    testing.drawn_scope(page, 90)
    box = page.locator('[data-testid="stExpander"]', has_text="Download the traces (JSON, NPZ, CSV)")
    box.get_by_text("Download the traces (JSON, NPZ, CSV)").click()
    box.get_by_text("2 padded", exact=True).click()
    name, data = testing.download(page, box.get_by_role("button", name="CSV"))
    m, sentences = cells.load_model("sst2-lstm"), EXAMPLES["sst2"].splitlines()
    r = pad.read(m, sentences)
    back = export.read_csv(data)
    assert name == "sst2-lstm-padding-2-padded.trace.csv"
    assert back.tokens == list(r.tokens[1]) + [pad.PAD] * (r.T - r.lengths[1])  # the pads were read
    for lt in r.padded.traces[1].layers:
        np.testing.assert_allclose(back.get("h", lt.layer, lt.direction), lt.h, rtol=1e-5, atol=1e-6)
