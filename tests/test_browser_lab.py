"""End to end in a real browser, the Training lab: start a run of the three cells, watch the
page update while it trains, pause (the step holds), resume, stop; the downloaded CSV is
the run's history; closing the tab ends the run within seconds. Debian's Chromium, driven
by Playwright, against `streamlit run`; fails on a console error, a page error, a failed
request or a Streamlit exception box (testing.Session.tab). Screenshot:
docs/screenshots/lab.png.

Skips locally without /usr/bin/chromium or playwright; with CI=true it fails instead.
"""

from __future__ import annotations

import csv
import io
import re
import time

import pytest

import cells
from viz_app import testing

pytestmark = pytest.mark.browser

app, page = testing.browser_fixtures("streamlit-lab")  # one server and browser for the module, a tab per test
PROGRESS = '[data-testid="stProgress"]'


def progress(page) -> tuple[str, int]:
    """The progress bar's state word and step."""
    text = page.locator(PROGRESS).inner_text()
    m = re.match(r"(\w[\w ()]*?): step ([\d,]+) of", text)
    assert m, text
    return m.group(1), int(m.group(2).replace(",", ""))


def wait_progress(page, pred, timeout: float = 30.0) -> tuple[str, int]:
    page.wait_for_function(
        f"""() => {{ const e = document.querySelector('{PROGRESS}'); if (!e) return false;
            const m = e.innerText.match(/(\\w[\\w ()]*?): step ([\\d,]+) of/); return m && ({pred})(m[1], +m[2].replace(/,/g, '')); }}""",
        timeout=timeout * 1000, polling=100)
    return progress(page)


def set_number(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True)
    page.wait_for_function(f"() => document.querySelectorAll('input[aria-label=\"{label}\"]').length === 1",
                           timeout=30_000, polling=50)  # the form redrawn: no input of the previous task left
    box.fill(str(value))
    box.press("Tab")


def test_start_watch_pause_resume_stop_and_download(page, app, save_screenshot, tmp_path):
    page.goto(app.url("lab"))
    page.get_by_role("button", name="Start").wait_for(timeout=60_000)
    # The adding problem (its defaults), steps raised so the run outlasts the test.
    page.get_by_label("Lab task").click()
    page.get_by_role("option", name="adding problem").click()
    page.get_by_label("Sequence length T").wait_for()  # the form redrawn for the adding problem
    set_number(page, "Steps", 20_000)
    page.get_by_role("button", name="Start").click()
    state, first = wait_progress(page, "(s, t) => s === 'Training' && t > 0", 60)
    _, later = wait_progress(page, f"(s, t) => t > {first}")  # the page updates while it trains
    # The charts are drawn from the run's first record (its process starts first): wait for the three.
    page.wait_for_function(f"""() => {{ const gs = [...document.querySelectorAll('.js-plotly-plot')];
        return gs.length === 3 && gs.every(g => g.querySelector({testing.PNG_BUTTON!r})); }}""",
                           timeout=30_000, polling=100)

    page.get_by_role("button", name="Pause").click()
    state, held = wait_progress(page, "(s, t) => s === 'Paused'")
    page.wait_for_timeout(2_500)  # the test is about time: nothing may train while paused
    assert progress(page) == ("Paused", held)
    page.get_by_role("button", name="Resume").click()
    wait_progress(page, f"(s, t) => s === 'Training' && t > {held}")
    save_screenshot(page, "lab", full_page=True)
    page.get_by_role("button", name="Stop").click()
    state, stopped = wait_progress(page, "(s, t) => s === 'Stopped'")
    page.wait_for_timeout(1_500)
    assert progress(page) == ("Stopped", stopped) and stopped < 20_000

    # Stopped, the run opens its snapshots: the last one of the first cell, reading one example.
    page.get_by_text("Inside the models").wait_for(timeout=10_000)
    page.locator(".js-plotly-plot .heatmaplayer image, .js-plotly-plot .hm image").first.wait_for(timeout=10_000)

    page.get_by_text("Download the runs (JSON, CSV) and the models").click()
    name, data = testing.download(page, page.get_by_role("button", name="CSV", exact=True))
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert name == "rnnscope-lab-adding.csv"
    assert [sum(r["cell"] == c for r in rows) for c in ("RNN", "LSTM", "GRU")] == [stopped] * 3
    assert all(float(r["grad_norm_clipped"]) <= 1.0 + 1e-9 for r in rows)  # clipped at the default 1.0

    # The LSTM as files that cells.load_model reads: the model where the run stopped.
    for label in ("LSTM weights", "LSTM sidecar"):
        name, data = testing.download(page, page.get_by_role("button", name=label))
        (tmp_path / name).write_bytes(data)
    model = cells.load_model(tmp_path / "rnnscope-lab-adding-lstm")
    assert (model.settings.kind, model.settings.T, model.settings.steps) == ("lstm", 50, 20_000)
    assert max(model.state["rnn.weight_hh_l0"].shape) == 4 * model.settings.hidden_size

    # The snapshot opens in Compare for this tab, the three cells side by side on the example.
    page.get_by_role("button", name="Open the models at this checkpoint in Compare, Cell and Gradients").click()
    testing.drawn_scope(page, 60)
    body = page.locator("body").inner_text()
    assert "Your model: the lab's adding problem run at step" in body and "max |Δ| vs torch" in body
    assert page.locator(testing.SCOPE + " .rs-strip").count() == 3  # a token strip per cell


def test_a_closed_tab_ends_its_run(page, app):
    page.goto(app.url("lab"))
    page.get_by_role("button", name="Start").wait_for(timeout=60_000)
    set_number(page, "Steps", 20_000)
    page.get_by_role("button", name="Start").click()
    wait_progress(page, "(s, t) => s === 'Training' && t > 0", 60)
    assert "1 run training on this server now" in page.locator("body").inner_text()
    page.close()
    # Another tab sees the run end within seconds (the server checks its session every second);
    # the count is drawn when the page is, so it reloads until then.
    other = app.ctx.new_page()
    try:
        deadline = time.monotonic() + 15
        while True:
            other.goto(app.url("lab"))
            other.get_by_role("button", name="Start").wait_for(timeout=60_000)
            if "No run is training on this server now" in other.locator("body").inner_text():
                break
            assert time.monotonic() < deadline, "the closed tab's run is still training"
            other.wait_for_timeout(500)
    finally:
        other.close()


def test_the_other_views_task_and_text_survive_a_visit_to_the_lab(page, app):
    page.goto(app.url(task="trec", text="who is it ?"))
    testing.drawn_scope(page, 60)
    page.get_by_role("link", name="Training lab").click()
    page.get_by_role("button", name="Start").wait_for(timeout=60_000)
    assert page.get_by_label("Text (press Enter to read it)").count() == 0
    page.get_by_role("link", name="Compare").click()
    testing.drawn_scope(page, 60)
    assert page.get_by_label("Text (press Enter to read it)").input_value() == "who is it ?"
    assert page.locator('[data-testid="stSidebar"] input[aria-label="Task"]').input_value() == "Question type (TREC)"
