"""End to end in a real browser for the Attention and Language-model views.

Debian's Chromium, driven by Playwright, against `streamlit run` (viz_app.testing's
AppServer and browser). Opens each view from a URL, steps with the keyboard and by
clicking a token, downloads a CSV and reads it back, flips the scoring-rule switch, steps into a generated text,
checks the dark theme, and that every slider step is drawn; fails on any console error, page error or Streamlit
exception box. Screenshots go to $RNNSCOPE_ARTIFACTS (else a pytest temp dir) and to
docs/screenshots/{attention,language_model}.png.

Skips locally without /usr/bin/chromium or playwright; with CI=true it fails instead.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

import cells
from cells import export
from viz_app import testing
from viz_app.viewstepper import NAME

pytestmark = pytest.mark.browser


def view_frame(page, not_key: str | None = None, timeout: float = 60.0):
    """The view stepper's iframe once it has drawn a payload (other than `not_key`)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for f in page.frames:
            if NAME in f.url:
                try:
                    stamp = f.evaluate("document.body && document.body.dataset.drawn || ''")
                except Exception:
                    continue
                if stamp and (not_key is None or not stamp.startswith(not_key + ":")):
                    return f
        page.wait_for_timeout(25)
    raise TimeoutError("the view stepper never drew")


def stamp(frame) -> tuple[str, int]:
    key, step = frame.evaluate("document.body.dataset.drawn").split(":")
    return key, int(step)


def frame_for_screenshot(page, frame) -> None:
    page.set_viewport_size({"width": 1500, "height": 1500})
    frame.locator("#controls").scroll_into_view_if_needed()
    page.wait_for_timeout(800)  # let plotly finish drawing at the new size


def url(srv, **q) -> str:
    return srv.url + "?" + urllib.parse.urlencode(q)


def steps_drawn(frame, artifacts: Path, name: str) -> int:
    """Step 30 times; each press must be drawn (step_latencies waits for it). The
    latencies are saved as an artifact: speed is the benchmarks' business, not a test's."""
    lat = testing.step_latencies(frame, n=30)
    (artifacts / f"latency_{name}.json").write_text(json.dumps({"median_ms": statistics.median(lat), "all_ms": lat}))
    return len(lat)


def test_attention_and_language_model_views(artifacts, browser_ready, save_screenshot):
    with testing.AppServer(log=artifacts / "streamlit-views.log") as srv, testing.browser() as ctx:
        page = ctx.new_page()
        errors = testing.page_errors(page)
        srv.wait_healthy()

        # Attention, from a URL, with markup that must show as text.
        page.goto(url(srv, view="attention", task="trec", text="Who wrote <b>Hamlet</b>, and when?", step=1))
        frame = view_frame(page)
        key, t = stamp(frame)
        assert t == 1
        text = frame.locator(".col .text").first
        assert "<b>Hamlet</b>" in text.inner_text() and frame.locator(".col .text b").count() == 0
        formula = frame.locator(".formula").first
        assert "a_t =" in formula.inner_text() and "at t = 1" in formula.inner_text()
        frame.locator("#step").focus()
        frame.locator("#step").press("ArrowRight")
        frame.wait_for_function(f"document.body.dataset.drawn === '{key}:2'", timeout=5_000, polling=20)
        assert "at t = 2" in formula.inner_text()
        frame.locator(".col .text .tk").nth(4).click()  # choosing a token by clicking it
        frame.wait_for_function(f"document.body.dataset.drawn === '{key}:4'", timeout=5_000, polling=20)
        page.wait_for_url(re.compile(r"step=4\b"), timeout=5_000)  # reported back, debounced
        assert steps_drawn(frame, artifacts, "attention") == 30
        titles = frame.evaluate("[...document.querySelectorAll('.modebar-btn')].map(b => b.dataset.title)")
        assert "Download plot as a PNG" in titles and not any("Share" in t for t in titles)  # no upload
        # A download, read back with the documented reader: the RNN's trace of this text.
        page.get_by_text("Download the traces").click()
        with page.expect_download(timeout=20_000) as dl:
            page.get_by_role("button", name="CSV").click()
        back = export.read_csv(Path(dl.value.path()).read_bytes())
        a = cells.load_model("trec-rnn").analyze("Who wrote <b>Hamlet</b>, and when?") \
            if "trec-rnn" in cells.list_models() else None
        assert dl.value.suggested_filename == "trec-rnn.trace.csv" and back.tokens[:2] == ["who", "wrote"]
        if a is not None:
            np.testing.assert_array_equal(back.get("h", 0, 1), a.trace.layer(0, 1).h)
        page.get_by_text("Compare with other scoring rules").click()
        frame = view_frame(page, not_key=key)
        assert frame.locator(".col").first.locator(".formula").count() >= 4
        assert "untrained" in frame.locator(".col").first.inner_text()
        frame_for_screenshot(page, frame)
        save_screenshot(page, "attention")

        # Language model: step the typed text, then step into the LSTM's generated text.
        page.goto(url(srv, view="language_model", task="shakespeare", text="ROMEO: But soft"))
        frame = view_frame(page)
        key, _ = stamp(frame)
        bars = frame.locator(".col .bars").first
        assert bars.locator(".bar-label").count() == 10
        assert "running perplexity" in frame.locator(".col").first.inner_text()
        assert steps_drawn(frame, artifacts, "language_model") == 30
        page.get_by_text("LSTM's text").click()
        frame = view_frame(page, not_key=key)
        generated = page.locator('[data-testid="stCode"]').nth(1).inner_text()
        assert frame.locator(".col .text").first.inner_text().strip() == generated.strip()
        frame_for_screenshot(page, frame)
        save_screenshot(page, "language_model")
        assert page.locator('[data-testid="stException"]').count() == 0

        # The theme: the same view, forced dark by Streamlit's embed option, draws light text.
        page.goto(url(srv, view="attention", task="trec", embed="true", embed_options="dark_theme"))
        frame = view_frame(page)
        light = frame.evaluate("getComputedStyle(document.body).color")
        chart = frame.evaluate("document.querySelector('.plot')._fullLayout.font.color")
        assert _brightness(light) > 150 and _brightness(chart) > 150, (light, chart)
    assert not errors, "\n".join(errors)


def _brightness(colour: str) -> float:
    """Mean of r, g, b for 'rgb(r, g, b)' or '#rrggbb'."""
    if colour.startswith("#"):
        return sum(int(colour[i:i + 2], 16) for i in (1, 3, 5)) / 3
    return sum(float(v) for v in re.findall(r"[\d.]+", colour)[:3]) / 3
