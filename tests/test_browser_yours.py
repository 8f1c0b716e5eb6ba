"""End to end in a real browser, your own model: upload an nn.LSTM's state_dict, see it in
Compare with its parity line, step it; a file over the cap is refused by the uploader before
it is sent. Debian's Chromium, driven by Playwright, against `streamlit run`; fails on a
console error, a page error, a failed request or a Streamlit exception box. Screenshot:
docs/screenshots/yours.png.

Skips locally without /usr/bin/chromium or playwright; with CI=true it fails instead.
"""

from __future__ import annotations

import pytest
import safetensors.torch
import torch
from torch import nn

from viz_app import sources, testing

pytestmark = pytest.mark.browser

app, page = testing.browser_fixtures("streamlit-yours")
UPLOAD = '[data-testid="stSidebar"] input[type="file"]'


def test_upload_an_lstm_and_step_through_it(page, app, save_screenshot, tmp_path):
    torch.manual_seed(0)
    net = nn.LSTM(3, 16, 2, bidirectional=True)
    path = tmp_path / "my_lstm.safetensors"
    path.write_bytes(safetensors.torch.save({f"encoder.{k}": v for k, v in net.state_dict().items()}))
    page.goto(app.url(task="yours"))
    page.get_by_text("No model of yours is open in this tab").wait_for(timeout=60_000)
    page.locator(UPLOAD).first.set_input_files(str(path))
    page.get_by_text("my_lstm.safetensors").first.wait_for(timeout=10_000)  # uploaded
    page.get_by_role("button", name="Open this model").click()
    testing.drawn_scope(page, 60)
    body = page.locator("body").inner_text()
    assert "Your model: my_lstm.safetensors" in body and "max |Δ| vs torch" in body
    key, t = testing.stamp(page)
    assert t == 0
    page.evaluate("document.activeElement && document.activeElement.blur()")  # keys step once no field has the focus
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    testing.drawn_step(page, 5, key)
    save_screenshot(page, "yours", full_page=True)


def test_a_file_over_the_cap_is_refused_before_it_is_sent(page, app, tmp_path):
    big = tmp_path / "big.pt"
    with open(big, "wb") as f:  # sparse: no disk is spent on it
        f.truncate((sources.MAX_UPLOAD_MB + 1) * 2**20)
    page.goto(app.url(task="yours"))
    page.get_by_text("No model of yours is open in this tab").wait_for(timeout=60_000)
    page.locator(UPLOAD).first.set_input_files(str(big))
    page.get_by_text(f"File must be {sources.MAX_UPLOAD_MB:.1f}MB or smaller").wait_for(timeout=10_000)
    page.get_by_role("button", name="Open this model").click()
    page.get_by_text("Choose a weights file first").wait_for(timeout=10_000)  # nothing reached the server
