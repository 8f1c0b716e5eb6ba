"""End to end in a real browser, the 中文 interface: Compare opened with ?lang=zh draws Chinese
titles, labels and hover text inside the component's charts with real glyphs (fonts-noto-cjk;
no tofu boxes), steps with the arrow keys and keeps lang in the URL. Debian's Chromium, driven
by Playwright, against `streamlit run`; fails on a console error, a page error, a failed
request or a Streamlit exception box. Screenshot: docs/screenshots/zh.png.

Skips locally without /usr/bin/chromium or playwright; with CI=true it fails instead.
"""

from __future__ import annotations

import re

import pytest

from viz_app import testing

pytestmark = pytest.mark.browser
SCOPE = testing.SCOPE

app, page = testing.browser_fixtures("streamlit-i18n")

# For an element: its Chinese characters that the page's fonts draw as nothing or as the
# missing-glyph box (tofu). Each character is drawn on a canvas in the element's own font
# and compared with characters no font draws (a private-use code point, a noncharacter).
TOFU = """(e) => {
  const css = getComputedStyle(e), c = document.createElement("canvas");
  c.width = c.height = 48;
  const g = c.getContext("2d");
  g.font = "32px " + css.fontFamily;
  const draw = (ch) => { g.clearRect(0, 0, 48, 48); g.fillText(ch, 4, 38); return g.getImageData(0, 0, 48, 48).data.join(); };
  const missing = [draw("\\u{10FFFD}"), draw("\\uFFFF"), draw(" ")];
  return [...e.textContent].filter((ch) => /[\\u3000-\\u9fff\\uff00-\\uffef]/.test(ch)).filter((ch) => missing.includes(draw(ch)));
}"""


def chinese(s: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", s))


def test_compare_in_chinese_steps_with_the_keys(page, app, save_screenshot):
    page.goto(app.url(task="sst2", lang="zh"))
    testing.drawn_scope(page, 90)
    key, t = testing.stamp(page)
    nav = page.get_by_role("link", name="对比")
    assert nav.count() >= 1 and page.get_by_role("link", name="语言模型").count() >= 1
    play = page.locator(SCOPE + " .rs-play")
    assert play.inner_text() == "▶ 播放" and play.get_attribute("aria-label") == "播放"
    assert page.locator(SCOPE + " .rs-order option").first.inner_text() == "按存储顺序"
    lstm = page.locator(SCOPE + " .rs-col").nth(1)
    assert "个参数" in lstm.locator(".rs-meta").first.inner_text()
    bars = lstm.locator(".rs-barpanel .rs-sub").first
    assert "各类别的概率" in bars.inner_text() and lstm.locator(".rs-bar-label").nth(0).inner_text() == "负面"
    # Hover text built in Python: a heatmap cell names its quantity in Chinese first (遗忘门 f, …).
    gd = lstm.locator(".rs-heatpanel .rs-plot").first
    box = gd.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.45)
    hover = page.locator(SCOPE + " .hoverlayer .hovertext").first
    hover.wait_for(timeout=10_000)
    label = hover.text_content()
    assert re.search(r"(隐藏状态 h|细胞状态 c|输入门 i|遗忘门 f|输出门 o|候选值 g)", label) and "单元" in label, label
    for el in (nav.first, play, bars, hover.locator("text").first):
        assert el.evaluate(TOFU) == [], f"tofu in {el.text_content()!r}"
    page.mouse.move(5, 5)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    testing.drawn_step(page, t + 3, key)
    page.wait_for_url(re.compile(rf"[?&]step={t + 3}(&|$)"), timeout=10_000)
    assert "lang=zh" in page.url
    assert page.locator(SCOPE + " .rs-step-text").inner_text().startswith(f"t = {t + 3} / ")
    page.wait_for_timeout(500)
    save_screenshot(page, "zh")


def test_chinese_axis_titles_render_in_the_charts(page, app):
    text = " ".join(["good"] * 45)  # more steps than token ticks: the time axis gets its title
    page.goto(app.url(task="sst2", lang="zh", text=text))
    testing.drawn_scope(page, 90)
    title = page.locator(SCOPE + " .rs-heatpanel .xtitle").first
    title.wait_for(timeout=10_000)
    assert title.text_content() == "时间步 t"
    assert title.evaluate(TOFU) == []
    box = title.bounding_box()
    assert box and box["width"] > 30  # drawn, with width (not collapsed to nothing)
    assert all(chinese(s) for s in page.locator(SCOPE + " .rs-order option").all_inner_texts())
