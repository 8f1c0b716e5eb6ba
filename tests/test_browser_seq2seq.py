"""End to end in a real browser, the Seq2seq and Shapes views: Debian's Chromium, driven by
Playwright, against `streamlit run`.

Opens /seq2seq, types a source, steps with the keyboard and holds each column's step
(its formula, its top-k bars) equal to what Python computes with cells; switches to
teacher forcing with a target and holds that equal too; downloads a decoder's trace;
refuses a source with markup as plain text; opens /shapes and follows a link. The test
fails on a console error, a page error, a failed request or a Streamlit exception box
(testing.Session.tab). The screenshot goes to $RNNSCOPE_ARTIFACTS (else a pytest temp
dir) and to docs/screenshots/seq2seq.png.

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
from viz_app.component import seq2seq as s2s

pytestmark = pytest.mark.browser
SCOPE = testing.SCOPE
SOURCE_BOX = "Source: a date, written any way (press Enter to read it)"
SOURCE = "9.11.1989"
WRONG = "1989-11-19"

app, page = testing.browser_fixtures("streamlit-seq2seq")  # one server and browser for the module, a tab per test


@pytest.fixture(scope="module")
def models():
    return [cells.load_model(n) for n in s2s.MODEL_NAMES.values()]


def _check_step(page, doc: dict, runs, t: int) -> None:
    """Column by column: the step's formula as Python fills it, and the top-k bars' numbers
    as cells computed them (the probabilities of translate(), printed with 3 decimals)."""
    cols = page.locator(SCOPE + " .rs-col")
    for c, (col, run) in enumerate(zip(doc["columns"], runs)):
        f = next(p for p in col["panels"] if p["type"] == "formula")
        want = "\n".join(fill(line, f["values"], t, doc["tokens"][t], f["digits"]) for line in f["lines"])
        assert cols.nth(c).locator(".rs-formula-body").first.inner_text() == want, (t, c)
        if t < len(run.output_tokens):
            top = np.sort(run.probs[t])[::-1][: s2s.TOP_K]
            shown = cols.nth(c).locator(".rs-barpanel").first.locator(".rs-bar-value").all_inner_texts()
            # sent with 4 decimals, shown with 3
            np.testing.assert_allclose([float(v) for v in shown], top, atol=5.6e-4, err_msg=f"{t}, {c}")
    T = doc["T"]
    assert page.locator(SCOPE + " .rs-step-text").inner_text() == f"output step = {t} / {T - 1} · {doc['tokens'][t]}"


def test_seq2seq_view_steps_through_the_output(page, app, models, save_screenshot):
    page.goto(app.url("seq2seq"))
    testing.drawn_scope(page, 120)
    key, t = testing.stamp(page)
    cols = page.locator(SCOPE + " .rs-col")
    assert cols.count() == 3 and cols.locator("h3").all_inner_texts() == ["RNN", "LSTM", "GRU"]
    assert page.locator(SCOPE + " .rs-plot").count() == 6  # per column: the alignment and row t, the decoder
    r = s2s.read(models, s2s.DEFAULT_SOURCE)
    doc = s2s.seq2seq_doc(models, r)
    _check_step(page, doc, r.runs, t)
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    testing.drawn_step(page, 5, key)  # the month's second digit: the decoders look at "November"
    _check_step(page, doc, r.runs, 5)
    assert testing.plots_without_png_button(page) == 0
    page.set_viewport_size({"width": 1500, "height": 1900})
    page.locator(SCOPE + " .rs-controls").scroll_into_view_if_needed()
    page.wait_for_timeout(800)  # plotly follows the new size
    save_screenshot(page, "seq2seq")

    box = page.get_by_role("textbox", name=SOURCE_BOX)
    box.fill(SOURCE)
    box.press("Enter")
    testing.drawn_scope(page, 60, after=f"{key}:5")
    box.blur()  # the arrow keys step the scope unless a field has the focus
    key, t = testing.stamp(page)
    assert t == 5  # the step is kept for a new source
    r = s2s.read(models, SOURCE)
    doc = s2s.seq2seq_doc(models, r)
    assert [run.output for run in r.runs] == ["1989-11-09"] * 3
    _check_step(page, doc, r.runs, t)
    for key_, t in [("ArrowRight", 6), ("End", doc["T"] - 1), ("Home", 0), ("PageDown", 1), ("ArrowRight", 2)]:
        page.keyboard.press(key_)
        testing.drawn_step(page, t, key)
        _check_step(page, doc, r.runs, t)
    summary = page.locator(SCOPE + " .rs-wide .rs-formula-body").inner_text().split("\n")
    assert summary[0] == f"«{SOURCE}» (9 characters) → greedy decoding:"
    page.wait_for_url(re.compile(r"[?&]step=2(&|$)"), timeout=5_000)  # reported (debounced), and in the address bar

    page.get_by_text("teacher forcing", exact=True).click()  # the default target first
    testing.drawn_scope(page, 60, after=f"{key}:2")
    key, _ = testing.stamp(page)
    target = page.get_by_role("textbox", name="Target the decoders read")
    target.fill(WRONG)
    target.press("Enter")
    testing.drawn_scope(page, 60, after=f"{key}:2")
    target.blur()
    key, t = testing.stamp(page)
    r = s2s.read(models, SOURCE, target=WRONG)
    doc = s2s.seq2seq_doc(models, r)
    assert doc["tokens"] == list(WRONG) + ["</s>"] and t == 2  # the step is kept
    _check_step(page, doc, r.runs, t)
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    testing.drawn_step(page, 8, key)
    _check_step(page, doc, r.runs, 8)
    first = cols.nth(1).locator(".rs-formula-body").first.inner_text().split("\n")
    p8 = float(np.exp(r.runs[1].token_logprobs[8]))
    assert first[0] == f"t = 8: reads «-» (the target's y_{{t−1}}); the target «1» has p = {round(p8, 6):.4f}"
    assert first[1].startswith("its own choice here: «0»") and first[2] == "free running, it wrote «0» at this step"
    assert page.locator(SCOPE + " .rs-plot").count() == 9  # and p(target) under both readings, per column
    assert "leaves the target at step 8" in cols.nth(0).locator(".rs-plotpanel .rs-meta").first.inner_text()


def test_seq2seq_view_downloads_a_decoders_trace(page, app, models):
    page.goto(app.url("seq2seq"))
    testing.drawn_scope(page, 120)
    box = page.locator('[data-testid="stExpander"]', has_text="Download the traces (JSON, NPZ, CSV)")
    box.get_by_text("Download the traces (JSON, NPZ, CSV)").click()
    box.get_by_text("LSTM decoder", exact=True).click()
    name, data = testing.download(page, box.get_by_role("button", name="CSV"))
    res = models[1].translate(s2s.DEFAULT_SOURCE)
    back = export.read_csv(data)
    assert name == "dates-seq2seq-lstm-decoder.trace.csv"
    assert back.tokens == list(res.output_tokens)
    np.testing.assert_allclose(back.get("h", 0, 0), res.decoder.layer(0, 0).h, rtol=1e-5, atol=1e-6)


def test_seq2seq_view_refuses_markup_as_plain_text(page, app):
    page.goto(app.url("seq2seq"))
    testing.drawn_scope(page, 120)
    box = page.get_by_role("textbox", name=SOURCE_BOX)
    box.fill("<b>9 Nov</b> 1989")
    box.press("Enter")
    alert = page.locator('[data-testid="stAlert"]', has_text="The models never saw these characters")
    alert.wait_for(timeout=30_000)
    assert "«<» (position 0), «>» (position 2), «<» (position 8), «>» (position 11)" in alert.inner_text()
    assert page.locator('[data-testid="stMain"] b').count() == 0
    assert page.locator(SCOPE).count() == 0  # nothing drawn for a source the models cannot read


def test_shapes_view_draws_four_families_and_links_to_their_views(page, app):
    page.goto(app.url("shapes"))
    page.wait_for_function("(() => { const ps = [...document.querySelectorAll('.js-plotly-plot')]; "
                           "return ps.length === 4 && ps.every((p) => p.querySelector('.annotation-text')); })()",
                           timeout=120_000)
    titles = page.locator(".js-plotly-plot .annotation-text").evaluate_all("(es) => es.map((e) => e.textContent)")
    for t in ("N vs 1 · a classifier", "N vs N · a label per step", "1 vs N · generation",
              "N vs M · an encoder–decoder"):
        assert any(s.startswith(t) for s in titles), (t, titles)
    page.get_by_role("link", name=re.compile("Seq2seq: the dates encoder")).click()
    page.wait_for_url(re.compile(r"/seq2seq"), timeout=30_000)
    testing.drawn_scope(page, 120)
