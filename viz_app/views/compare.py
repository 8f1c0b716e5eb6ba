"""Compare: RNN | LSTM | GRU reading the same text, one shared step, stepped in the browser."""

from __future__ import annotations

import streamlit as st

from .. import loaders
from ..stepper import stepper
from ..tasks import KINDS
from .common import Selection, checked_text, refused, unknown_message, steps


def render(sel: Selection) -> None:
    # Messages come and go with the text; inside one container they never move the
    # stepper to another place in the page, which would make the browser reload it.
    notes = st.container()
    with notes:
        checked = checked_text(sel)
    if checked is None:
        return
    try:
        with notes:
            unknown_message(sel.task, sel.cfg, KINDS[1], checked.text)
        # First the columns as fast as possible; then, for short classified texts, the
        # per-prefix probabilities (one analysis per prefix), swapped in by a rerun.
        job = (sel.task, sel.cfg, checked.text)
        done = st.session_state.get("_prefix_done") == job
        payload, key, T = loaders.compare_payload(*job, per_step=done)
    except ValueError as e:  # a model refused the text, with its own clear message
        with notes:
            refused(e)
        return
    steps(stepper, payload, key, T, "stepper")
    if not done and loaders.prefix_pending(*job):
        loaders.compare_payload(*job, per_step=True)
        st.session_state["_prefix_done"] = job
        st.rerun()
