"""Presentation mode, for projecting in class, and the link that shares what is on screen.

    ?present=1            larger type and marks, the sidebar collapsed at first; step with the
                          arrow keys or a clicker's Page Up / Page Down (the component's keys)
    &show=lstm            one model's column instead of all three (rnn | lstm | gru)

Both live in the URL (viz_app/state.py), so the "Share this view" link and its QR code
(drawn by segno) open the same task, text, step and presentation on a student's machine.
A value other than these (a tampered link) is read as the default: off, all three.
"""

from __future__ import annotations

import base64
import io
from urllib.parse import urlencode, urlsplit

import streamlit as st

from . import checks
from .i18n import N_, _

SHOW = {"": N_("all three"), "rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}  # the "show" values and their labels


def from_url(qp) -> tuple[bool, str]:
    """(presenting, show) from query parameters: anything unexpected means off, all three."""
    return qp.get("present") == "1", qp.get("show") if qp.get("show") in SHOW else ""


def mount_options() -> dict | None:
    """What the component needs to present: None when not presenting; else the title of the
    only column to show ("LSTM"), or None for all of them."""
    ss = st.session_state
    if not ss.get("present"):
        return None
    return {"only": SHOW[ss["present_show"]] if ss.get("present_show") else None}


def controls() -> None:
    """The sidebar's presentation switch, the model to show, and the share link."""
    sb = st.sidebar
    sb.toggle(_("Presentation mode"), key="present", help=_("Larger type for a projector; step with the arrow keys "
                                                            "or a clicker's Page Up / Page Down. Also ?present=1 in "
                                                            "the link."))
    if st.session_state.get("present"):
        sb.selectbox(_("Show"), list(SHOW), format_func=lambda k: _(SHOW[k]), key="present_show")


def share(query: dict[str, str]) -> None:
    """The link to this view in its current state, and its QR code for students' phones.
    Made only while its expander is open: the QR code cost every run 17 ms on the server,
    and the browser the image's decoding, on every new sentence of every student."""
    with st.sidebar.expander(_("Share this view"), key="share_open", on_change="rerun") as box:
        if not box.open:
            return
        url = f"{(st.context.url or '').split('?')[0]}?{urlencode(query)}"  # no URL without a browser (AppTest)
        st.code(url, language=None, wrap_lines=True)
        if local_only(url):
            checks.show([checks.warning(_("This link names this computer only (localhost): other machines cannot "
                                          "open it. Open rnnscope by its network address, the one the students "
                                          "will use, and share that link."))])
        png = qr_png(url)
        if png is None:
            checks.show([checks.info(_("The link is too long for a QR code (the text is long): copy it instead."))])
        else:
            # As a data URI, not a media file: a media file is dropped when the next run makes its
            # own, and a page still drawing the last run then asks for it in vain (HTTP 404).
            st.image(f"data:image/png;base64,{base64.b64encode(png).decode()}",
                     caption=_("Scan to open this view, at this step"), width=220)


def local_only(url: str) -> bool:
    """Whether a URL's host is this machine's loopback name, which no other machine can open."""
    host = (urlsplit(url).hostname or "").lower()
    return host == "localhost" or host.endswith(".localhost") or host.startswith("127.") or host == "::1"


def qr_png(url: str) -> bytes | None:
    """The QR code of a URL as PNG bytes, or None when the URL is too long for one."""
    import segno
    from segno import DataOverflowError

    try:
        qr = segno.make(url, error="m", micro=False)
    except DataOverflowError:
        return None
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=5, border=2)
    return buf.getvalue()
