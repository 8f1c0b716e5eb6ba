"""End to end in a real browser: Debian's Chromium, driven by Playwright, against `streamlit run`.

Types a sentence, steps, plays, switches views; fails on any console error, page error
or Streamlit exception box. Screenshots go to $RNNSCOPE_ARTIFACTS (else a pytest temp
dir) and to docs/screenshots/ for the README.

Skips locally without /usr/bin/chromium or playwright; with CI=true it fails instead.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from viz_app import testing

pytestmark = pytest.mark.browser


def _stamp(frame) -> tuple[str, int]:
    key, step = frame.evaluate("document.body.dataset.drawn").split(":")
    return key, int(step)


def test_type_step_play_switch(artifacts, browser_ready, save_screenshot):
    with testing.AppServer(log=artifacts / "streamlit.log") as srv, testing.browser() as ctx:
        page = ctx.new_page()
        errors = testing.page_errors(page)
        srv.wait_healthy()
        page.goto(srv.url)
        frame = testing.stepper_frame(page)
        key0, _ = _stamp(frame)

        # A new sentence, with markup that must show as text.
        box = page.get_by_label("Text (press Enter to read it)")
        box.fill("A <b>bold</b> move, and a rather good one.")
        box.press("Enter")
        frame.wait_for_function(f"!document.body.dataset.drawn.startsWith('{key0}')", timeout=20_000, polling=50)
        # ... and its per-prefix class probabilities, which a second payload brings.
        frame.wait_for_function("""() => [...document.querySelectorAll('.col .strip .tok')].some(s => s.textContent === 'bold')
            && [...document.querySelectorAll('.out-title')].every(e => e.textContent.includes('ended at t'))""",
                                timeout=20_000, polling=50)
        strip = frame.locator(".col .strip").first.inner_text()
        assert "<" in strip and "b" in strip and frame.locator(".col .strip b").count() == 0

        # Step with the keyboard, on a sentence worth a screenshot.
        key1, _ = _stamp(frame)
        box.fill("The film is not bad at all, and the ending is quietly wonderful.")
        box.press("Enter")
        frame.wait_for_function(f"""() => !document.body.dataset.drawn.startsWith('{key1}')
            && [...document.querySelectorAll('.out-title')].every(e => e.textContent.includes('ended at t'))""",
                                timeout=20_000, polling=50)
        _, t = _stamp(frame)
        left = frame.evaluate("[...document.querySelectorAll('.marker')].map(m => m.style.left)")
        frame.locator("#step").focus()
        for _ in range(4 - t):  # to "bad"
            frame.locator("#step").press("ArrowRight")
        frame.wait_for_function("document.body.dataset.drawn.endsWith(':4')", timeout=5_000, polling=20)
        moved = frame.evaluate("[...document.querySelectorAll('.marker')].map(m => m.style.left)")
        assert len(moved) == 3 and all(a != b for a, b in zip(left, moved)), (left, moved)
        cur = frame.locator(".tok.cur")
        assert cur.count() == 3 and all(cur.nth(i).inner_text() == "bad" for i in range(3))
        page.wait_for_url(re.compile(r"step=4\b"), timeout=5_000)  # reported back, debounced
        save_screenshot(page, "compare", full_page=True)
        t = 4

        # Play, then pause.
        frame.locator("#play").click()
        page.wait_for_timeout(1_200)
        frame.locator("#play").click()
        _, t_played = _stamp(frame)
        assert t_played != t

        # The Cell view: diagram and equations with numbers.
        page.get_by_text("Cell", exact=True).click()
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=20_000)
        page.get_by_text("c_t = f_t").first.wait_for(timeout=10_000)  # the LSTM by default
        page.wait_for_timeout(500)  # let plotly finish drawing before the screenshot
        save_screenshot(page, "cell", full_page=True)
        assert "view=cell" in page.url

        # Back to Compare: the stepper draws again.
        page.get_by_text("Compare", exact=True).click()
        testing.stepper_frame(page)
        assert page.locator('[data-testid="stException"]').count() == 0
    assert not errors, "\n".join(errors)


def test_rnnscope_command_serves_the_app_from_any_directory(artifacts, browser_ready, save_screenshot):
    exe = Path(sys.executable).with_name("rnnscope")
    if not exe.exists():
        pytest.fail(f"the rnnscope console command is not installed next to {sys.executable}; run `pip install -e .`")
    errors: list[str] = []
    with testing.AppServer(log=artifacts / "rnnscope.log", command=[str(exe)]) as srv, testing.browser() as ctx:
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        srv.wait_healthy()
        page.goto(srv.url)
        frame = testing.stepper_frame(page)  # the Compare view drew its first step
        assert frame.locator(".col").count() == 3
        assert page.locator('[data-testid="stException"]').count() == 0
    assert not errors, "\n".join(errors)
