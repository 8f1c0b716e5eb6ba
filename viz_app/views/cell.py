"""Cell: one model at step t, drawn as its cell diagram, with the step's equations in numbers."""

from __future__ import annotations

import streamlit as st

from .common import Selection, checked_text


def render(sel: Selection) -> None:
    checked = checked_text(sel)
    if checked is None:
        return
    st.write("cell view: coming")
