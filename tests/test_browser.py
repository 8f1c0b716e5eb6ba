"""End to end in a real browser, the Compare view: Debian's Chromium, driven by Playwright, against `streamlit run`.

Types a sentence with markup, steps with the keyboard, plays and pauses (also while the
per-prefix patch arrives), reorders the heatmaps' units and clicks one, downloads a CSV
and a chart's PNG; follows an old ?view= link; starts the app with the `rnnscope`
command. Every test fails on a console error, a page error, a failed request or a
Streamlit exception box (testing.Session.tab). Screenshots go to $RNNSCOPE_ARTIFACTS
(else a pytest temp dir) and to docs/screenshots/ for the README; so do step latencies.

Skips locally without /usr/bin/chromium or playwright; with CI=true it fails instead.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

import cells
from cells import readout
from viz_app import testing
from viz_app.charts.heatmaps import quantities
from viz_app.charts.text import visible
from viz_app.tasks import KINDS, TASKS

pytestmark = pytest.mark.browser
SCOPE = testing.SCOPE
PATCHED = "ended at t"  # in each classifier column's bars title once the per-prefix probabilities arrived
# TREC questions, 116 tokens: their per-prefix probabilities take a moment (one analysis
# per prefix, up to cells.zoo.MAX_PREFIXES), and Play steps ~100 ms at a time (12 s a text).
QUESTIONS = ("Who wrote the first novel about a whale ? What is the capital city of Australia ? How many miles "
             "is it from the Earth to the Moon ? When did the Berlin Wall fall ? Why is the sky blue on a clear "
             "day ? Which river runs through Cairo ? Where is the tallest mountain in Africa ? What does a "
             "barometer measure ? Who painted the ceiling of the Sistine Chapel ? How far can a kangaroo jump ? "
             "What year did the Titanic sink ? Who invented the telephone and in which year did he patent it ? "
             "What is the boiling point of water on top of a high mountain ?")


app, page = testing.browser_fixtures("streamlit-compare")  # one server and browser for the module, a tab per test


def patched(page, timeout: float = 30.0) -> None:
    """Wait for the per-prefix probabilities in every column of the payload on screen."""
    page.wait_for_function(f"""() => {{
        const t = [...document.querySelectorAll('{SCOPE} .rs-barpanel .rs-sub')].map(e => e.textContent);
        return t.length === 3 && t.every(s => s.includes({PATCHED!r})); }}""", timeout=timeout * 1000, polling=20)


def is_patched(page) -> bool:
    return all(PATCHED in s for s in page.locator(SCOPE + " .rs-barpanel .rs-sub").all_inner_texts())


def strip_tokens(page) -> list[list[str]]:
    """The token strip of each column, as shown."""
    return page.locator(SCOPE + " .rs-strip").evaluate_all(
        "(ss) => ss.map(s => [...s.querySelectorAll('.rs-tok')].map(t => t.textContent))")


def markers(page) -> list[str]:
    return page.locator(SCOPE + " .rs-heatpanel > .rs-plot-wrap > .rs-marker").evaluate_all(
        "(ms) => ms.map(m => m.style.transform)")


def read(page, text: str) -> None:
    """Type `text` in the text box and press Enter; wait until it is drawn and patched."""
    before = page.locator(SCOPE).get_attribute("data-drawn")
    box = page.get_by_label("Text (press Enter to read it)")
    box.fill(text)
    box.press("Enter")
    testing.drawn_scope(page, after=before)
    patched(page)


def test_type_a_sentence_and_step_with_the_keyboard(page, app, artifacts, save_screenshot):
    page.goto(app.url())
    testing.drawn_scope(page, 60)
    patched(page)

    # Markup in the text is text: tokens in the strips, no <b> element.
    marked = "A <b>bold</b> move, and a rather good one."
    read(page, marked)
    a = cells.load_model("sst2-rnn").analyze(marked)
    assert strip_tokens(page) == [[visible(marked[s:e]) for s, e in a.spans]] * 3
    assert page.locator(SCOPE + " b").count() == 0

    # The keyboard steps from anywhere in the page once the text box is left.
    text = TASKS["sst2"].example
    read(page, text)
    key, t = testing.stamp(page)
    assert t == 0
    left = markers(page)
    page.get_by_label("Text (press Enter to read it)").blur()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    testing.drawn_step(page, 4, key)
    cur = page.locator(SCOPE + " .rs-strip .rs-cur")
    assert cur.all_inner_texts() == ["bad"] * 3
    moved = markers(page)
    assert len(moved) == 3 and all(was != now for was, now in zip(left, moved)), (left, moved)
    page.wait_for_url(re.compile(r"[?&]step=4(&|$)"), timeout=5_000)  # reported (debounced), and in the address bar
    save_screenshot(page, "compare", full_page=True)
    testing.save_step_latencies(page, artifacts / "latency_compare.json")


class HeldPatch:
    """Holds the server's messages from the first one carrying a patch ({update_for, ...})
    until `release`, in order: the network made slow at the moment that matters, so the
    patch arrives exactly when the test wants it, however fast the server computes it."""

    def __init__(self, page):
        self.held, self.holding, self.page_side = [], True, None
        page.route_web_socket(re.compile(r"/_stcore/stream"), self.route)

    def route(self, ws) -> None:
        self.page_side, server = ws, ws.connect_to_server()
        server.on_message(self.from_server)

    def from_server(self, message) -> None:
        raw = message if isinstance(message, bytes) else message.encode()
        if self.holding and (self.held or b'"update_for"' in raw):
            self.held.append(message)
        else:
            self.page_side.send(message)

    def release(self) -> None:
        self.holding = False
        for message in self.held:
            self.page_side.send(message)


def test_play_pauses_even_when_the_patch_arrives_while_playing(page, app):
    # Regression: Play could not be paused once a second message for the component arrived.
    patch = HeldPatch(page)
    page.goto(app.url(task="trec", text=QUESTIONS))
    page.locator(SCOPE + " .rs-barpanel").first.wait_for(timeout=60_000)
    play = page.locator(SCOPE + " .rs-play")
    play.click()
    page.wait_for_timeout(300)  # playing, without the patch
    assert patch.held and not is_patched(page)
    patch.release()
    testing.drawn_scope(page, 60)
    key, _ = testing.stamp(page)
    patched(page)
    assert page.locator(SCOPE).get_attribute("data-playing") == "1"
    play.click()
    assert play.inner_text() == "▶ Play" and page.locator(SCOPE).get_attribute("data-playing") is None
    paused = testing.stamp(page)
    assert paused[0] == key and paused[1] < len(cells.load_model("trec-rnn").tokenize(QUESTIONS)) - 1
    page.wait_for_timeout(2_000)  # the test is about time: nothing may step
    assert testing.stamp(page) == paused

    # Play, then pause later: the step moved meanwhile, and goes back to the URL once paused.
    play.click()
    page.wait_for_function(f"+document.querySelector('{SCOPE}').dataset.drawn.split(':')[1] >= {paused[1] + 3}",
                           timeout=5_000, polling=20)
    play.click()
    _, t = testing.stamp(page)
    assert t >= paused[1] + 3
    page.wait_for_timeout(200)  # a step drawn after the click (already scheduled) would be a defect
    assert testing.stamp(page) == (key, t)
    page.wait_for_url(re.compile(rf"[?&]step={t}(&|$)"), timeout=5_000)


# Each column's heatmap: per quantity (a trace, a block of rows), each row's unit (its
# customdata, which hover and click read) and its values, top row first.
ROWS = f"""() => [...document.querySelectorAll('{SCOPE} .rs-heatpanel > .rs-plot-wrap > .rs-plot')].map(g =>
    g.data.map(tr => ({{units: tr.customdata.map(r => r[0]), z: tr.z.map(r => Array.from(r))}})))"""


def test_unit_order_and_a_unit_over_time(page, app):
    page.goto(app.url())
    testing.drawn_scope(page, 60)
    units = f"JSON.stringify(({ROWS})().map(c => c.map(q => q.units)))"
    stored = page.evaluate(units)
    page.locator(SCOPE + " .rs-order select").select_option(label="by variance over the text")
    page.wait_for_function(f"(before) => {units} !== before", arg=stored, timeout=10_000, polling=50)
    text = TASKS["sst2"].example
    for kind, blocks in zip(KINDS, page.evaluate(ROWS)):
        rows = quantities(cells.load_model(f"sst2-{kind}").analyze(text).trace)
        assert len(rows) == len(blocks)
        for (name, arr), shown in zip(rows, blocks):  # arr (T, H)
            order = readout.unit_order(arr, "variance")
            assert shown["units"] == order.tolist() != sorted(order.tolist()), (kind, name)
            np.testing.assert_allclose(shown["z"], np.asarray(arr).T[order], rtol=1e-6, atol=1e-7)

    # A click on a heatmap row (in the RNN's h block, a third of the way down): that unit
    # over time, in every column.
    # Rows are about 2 px high, so the row is the one plotly says was clicked.
    gd = page.locator(SCOPE + " .rs-heatpanel .rs-plot").first
    box = gd.bounding_box()
    x, y = gd.evaluate("""g => { const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
        g.on("plotly_click", (ev) => { window.__row = ev.points[0].y; });
        return [xa._offset + xa._length / 2, ya._offset + ya._length / 3]; }""")
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function(f"[...document.querySelectorAll('{SCOPE} .rs-unit .rs-plot')].length === 3",
                           timeout=5_000, polling=20)
    row = page.evaluate("window.__row")
    assert 0 < row < len(quantities(cells.load_model("sst2-rnn").analyze(text).trace)[0][1].T) - 1
    h = quantities(cells.load_model("sst2-rnn").analyze(text).trace)[0][1]
    unit = readout.unit_order(h, "variance")[row]
    notes = page.locator(SCOPE + " .rs-heatpanel > .rs-meta").all_inner_texts()
    assert len(notes) == 3 and all(f"hidden state, unit {unit} over time" in n for n in notes), (unit, notes)
    assert testing.plots_without_png_button(page) == 0


def test_downloads_a_trace_and_a_chart(page, app):
    page.goto(app.url())
    testing.drawn_scope(page, 60)
    assert page.locator(SCOPE + " .rs-plot").count() == 3
    assert testing.plots_without_png_button(page) == 0
    assert testing.check_trace_csv(page, "sst2-gru", TASKS["sst2"].example, pick="GRU") == "sst2-gru.trace.csv"
    gd = page.locator(SCOPE + " .rs-plot").first
    gd.hover()  # the modebar shows on hover
    name, data = testing.download(page, gd.locator(testing.PNG_BUTTON))
    assert name.endswith(".png") and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_heatmaps_show_their_colour_scales_in_html_and_in_their_png(page, app):
    # Plotly draws no colour bars on screen (each is an axis it lays out again for every new
    # text); HTML ones stand in its right margin, and the PNG button puts plotly's back.
    from viz_app.charts.heatmaps import heatmap_spec

    text = TASKS["sst2"].example
    page.goto(app.url())
    testing.drawn_scope(page, 60)
    shown = page.locator(SCOPE + " .rs-heatpanel").evaluate_all(
        "ps => ps.map(p => [...p.querySelectorAll('.rs-plot-wrap > .rs-scales > .rs-scale')].map(s => "
        "[s.querySelector('.rs-scale-max').textContent, s.querySelector('.rs-scale-title').textContent, "
        "s.querySelector('.rs-scale-min').textContent]))")
    want = []
    for kind in KINDS:
        a = cells.load_model(f"sst2-{kind}").analyze(text)
        layout = heatmap_spec(a.trace, a.tokens)["layout"]
        want.append([[f"{ca['cmax']:g}".replace("-", "−"), ca["colorbar"]["title"]["text"],
                      f"{ca['cmin']:g}".replace("-", "−")] for ca in (layout[k] for k in layout if k.startswith("coloraxis"))])
    assert shown == want and [len(w) for w in want] == [1, 3, 2]  # h · h, c, gates · h, gates
    assert page.locator(SCOPE + " .rs-heatpanel .colorbar").count() == 0
    page.evaluate("""() => { const d = Plotly.downloadImage;
      Plotly.downloadImage = (fig, opts) => { window.__png = fig; return d(fig, opts); }; }""")
    gd = page.locator(SCOPE + " .rs-heatpanel .rs-plot").nth(1)  # the LSTM's
    gd.hover()
    name, data = testing.download(page, gd.locator(testing.PNG_BUTTON))
    assert name.endswith(".png") and data[:8] == b"\x89PNG\r\n\x1a\n"
    fig = page.evaluate("window.__png.layout")
    assert [fig[k]["showscale"] for k in sorted(fig) if k.startswith("coloraxis")] == [True] * 3


def test_an_old_link_opens_its_view_at_its_step(page, app):
    page.goto(app.url(view="cell", task="trec", step=3))
    testing.drawn_step(page, 3, timeout=60)
    assert re.search(r"/cell\?", page.url), page.url
    assert page.locator(SCOPE + " .rs-strip .rs-cur").all_inner_texts() == ["first"]


def test_rnnscope_command_serves_the_app_from_any_directory(page, artifacts):
    exe = Path(sys.executable).with_name("rnnscope")
    if not exe.exists():
        pytest.fail(f"the rnnscope console command is not installed next to {sys.executable}; run `pip install -e .`")
    with testing.AppServer(log=artifacts / "rnnscope.log", command=[str(exe)]) as srv:  # from a temporary directory
        srv.wait_healthy()
        page.goto(srv.url)
        testing.drawn_scope(page, 60)  # the Compare view drew its first step
        assert page.locator(SCOPE + " .rs-col").count() == 3
