"""URL query parameters <-> session state: view, task, text and step round-trip.

Session state holds UI state only: the view, the task, the text and the step `t`.
"""

from __future__ import annotations

import streamlit as st

from .tasks import DEFAULT_TASK, TASKS

MAX_URL_TEXT = 2_000  # longer text is not put in the URL (it would not survive most browsers)


def load_query_params(views: tuple[str, ...]) -> None:
    """Once per session, before any widget: seed session state from the URL."""
    ss = st.session_state
    if ss.get("_qp_loaded"):
        return
    ss["_qp_loaded"] = True
    qp = st.query_params
    ss["view"] = qp.get("view") if qp.get("view") in views else views[0]
    ss["task"] = qp.get("task") if qp.get("task") in TASKS else DEFAULT_TASK
    ss["text"] = qp.get("text", TASKS[ss["task"]].example)
    try:
        ss["t"] = max(0, int(qp.get("step", 0)))
    except ValueError:
        ss["t"] = 0


def save_query_params() -> None:
    ss = st.session_state
    want = {"view": ss["view"], "task": ss["task"], "step": str(ss.get("t", 0))}
    if len(ss["text"]) <= MAX_URL_TEXT:
        want["text"] = ss["text"]
    if dict(st.query_params) != want:
        st.query_params.from_dict(want)


def set_step(t: int) -> None:
    st.session_state["t"] = int(t)
    if st.query_params.get("step") != str(int(t)):
        st.query_params["step"] = str(int(t))
