"""URL query parameters <-> session state: task, text, step, language and presentation
round-trip; the view is the page's path.

Session state holds UI state only: the task, the text, the step `t`, the language `lang`
(viz_app/i18n.py: `?lang=zh|en`, else the browser's locale, else English) and presentation
mode (viz_app/present.py). Links from before the views had paths (`?view=cell`) still
open the right view (app.py).
"""

from __future__ import annotations

import streamlit as st

from . import cache, i18n, present, sessions
from .component import mount
from .tasks import DEFAULT_TASK, TASKS

MAX_URL_TEXT = 2_000  # longer text is not put in the URL (it would not survive most browsers)
PAGES: dict = {}  # URL path -> st.Page, filled by app.py on every run


def load() -> str | None:
    """Once per session, before any widget: seed session state from the URL. Returns the
    `view` of an old-style link (`?view=cell`) the first time, else None."""
    ss = st.session_state
    if ss.get("_qp_loaded"):
        return None
    ss["_qp_loaded"] = True
    qp = st.query_params
    ss["task"] = qp.get("task") if qp.get("task") in TASKS else DEFAULT_TASK
    page = sessions.sent_by_the_page()  # a page that outlived its session: its text box and step win over its URL
    if not isinstance(page.get("text"), str):
        ss["text"] = qp.get("text", cache.example(ss["task"]))
    try:
        reported = mount.reported(page.get("scope"))
        ss["t"] = max(0, int(qp.get("step", 0) if reported is None else reported[1]))
    except ValueError:
        ss["t"] = 0
    ss["present"], ss["present_show"] = present.from_url(qp)
    ss["lang"] = i18n.normalize(qp.get("lang")) or i18n.normalize(st.context.locale) or i18n.DEFAULT
    if "lang" in qp and i18n.normalize(qp.get("lang")) is None:  # a tampered or mistyped link: said once, as text
        ss["_lang_refused"] = qp.get("lang")[:40]
    return qp.get("view")


def query() -> dict[str, str]:
    """The query parameters that say the session's state (a shared link opens the same)."""
    ss = st.session_state
    want = {"task": ss["task"], "step": str(ss.get("t", 0)), "lang": ss.get("lang", i18n.DEFAULT)}
    if len(ss["text"]) <= MAX_URL_TEXT:
        want["text"] = ss["text"]
    if ss.get("present"):
        want["present"] = "1"
        if ss.get("present_show"):
            want["show"] = ss["present_show"]
    return want


def save() -> None:
    want = query()
    if dict(st.query_params) != want:
        st.query_params.from_dict(want)


def set_step(t: int) -> None:
    st.session_state["t"] = int(t)
    if st.query_params.get("step") != str(int(t)):
        st.query_params["step"] = str(int(t))


def clamp_step(T: int) -> int:
    """Keep the step (and the URL's) inside a text of T steps, as the view shows it."""
    t = min(max(0, int(st.session_state.get("t", 0))), T - 1)
    set_step(t)
    return t
