"""End to end in a real browser, presentation mode: ?present=1 draws larger type and marks
with the sidebar collapsed, one model's column when asked, and a clicker's Page Down /
Page Up step. Debian's Chromium, driven by Playwright, against `streamlit run`; fails on
a console error, a page error, a failed request or a Streamlit exception box.
Screenshot: docs/screenshots/present.png.

Skips locally without /usr/bin/chromium or playwright; with CI=true it fails instead.
"""

from __future__ import annotations

import pytest

from viz_app import testing

pytestmark = pytest.mark.browser
SCOPE = testing.SCOPE

app, page = testing.browser_fixtures("streamlit-present")


def test_presentation_mode_shows_one_column_large_and_a_clicker_steps(page, app, save_screenshot):
    page.goto(app.url(task="sst2", present=1, show="lstm"))
    testing.drawn_scope(page, 90)
    key, t = testing.stamp(page)
    assert page.locator(SCOPE + ".rs-present").count() == 1
    cols = page.locator(SCOPE + " .rs-col")
    visible = [cols.nth(i).is_visible() for i in range(cols.count())]
    assert visible == [False, True, False] and cols.nth(1).locator("h3").inner_text() == "LSTM"
    bar = page.locator('[data-testid="stSidebar"]').bounding_box()
    assert bar is None or bar["x"] + bar["width"] <= 1 or bar["width"] <= 1  # collapsed: off screen
    size = lambda sel: float(page.locator(sel).first.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)"))  # noqa: E731
    assert size(SCOPE + " h3") >= 26 and size(SCOPE + " .rs-strip .rs-tok") >= 20
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(3):
        page.keyboard.press("PageDown")  # what a presentation clicker sends
    testing.drawn_step(page, t + 3, key)
    page.keyboard.press("PageUp")
    testing.drawn_step(page, t + 2, key)
    page.wait_for_timeout(500)
    save_screenshot(page, "present")
