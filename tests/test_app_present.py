"""Presentation mode and the share link (viz_app/present.py): from the URL to the component,
back into the URL, and a QR code that holds the link."""

from __future__ import annotations

import pytest

from viz_app import present
from viz_app.testing import app_test, component_data, said, share_link
from viz_app.testing import assert_no_errors as ok


def test_present_in_the_url_reaches_the_component_and_the_share_link():
    at = app_test(task="trec", present=1, show="lstm", step=2)
    ok(at)
    assert component_data(at)["present"] == {"only": "LSTM"}
    assert at.toggle(key="present").value and at.selectbox(key="present_show").value == "lstm"
    link = share_link(at)
    assert "present=1" in link and "show=lstm" in link and "task=trec" in link and "step=2" in link
    assert at.query_params["present"] == "1"


def test_off_by_default_and_switched_on_in_the_sidebar():
    at = app_test(task="trec")
    assert "present" not in component_data(at) and "present" not in share_link(at)
    at.toggle(key="present").set_value(True).run()
    ok(at)
    assert component_data(at)["present"] == {"only": None} and "present=1" in share_link(at)


@pytest.mark.parametrize("value", ["yes", "2", "<script>alert(1)</script>", ""])
def test_a_tampered_present_value_means_off(value):
    at = app_test(task="trec", present=value, show="<b>gru</b>")
    ok(at)
    assert "present" not in component_data(at) and not at.toggle(key="present").value
    assert present.from_url({"present": value, "show": "<b>gru</b>"}) == (False, "")


def test_the_qr_code_is_a_png_of_the_link_and_a_link_too_long_for_one_is_said():
    png = present.qr_png("http://localhost:8501/cell?task=trec&step=3")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert present.qr_png("http://localhost:8501/?text=" + "x" * 5000) is None
    # in the URL (≤ 2,000 characters), 6,300 bytes URL-encoded: no QR code
    at = app_test({"share_open": True}, task="trec", text="分" * 700)
    assert not at.exception and any("too long for a QR code" in m for m in said(at, ("info",)))


@pytest.mark.parametrize("url, local", [("http://localhost:8501/cell?step=3", True), ("http://127.0.0.1:8501/", True),
                                        ("http://[::1]:8501/", True), ("http://app.localhost/", True),
                                        ("http://192.168.1.20:8501/?lang=zh", False),
                                        ("https://rnnscope.school.example/compare", False), ("?task=trec", False)])
def test_a_link_to_localhost_is_said_to_work_on_this_machine_only(url, local):
    # A teacher who opened the app as localhost would otherwise hand the class a QR code none can open.
    assert present.local_only(url) is local
