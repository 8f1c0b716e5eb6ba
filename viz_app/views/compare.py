"""Compare: RNN | LSTM | GRU reading the same text, one shared step, stepped in the browser."""

from __future__ import annotations

import streamlit as st

from .. import cache, checks
from ..tasks import KINDS
from .common import Selection, checked_text, downloads, load_models, reading_notes, stepped

TITLE, URL_PATH, ICON = "Compare", "compare", ":material/view_column:"


def render(sel: Selection) -> None:
    # Messages come and go with the text; inside one container they never move the
    # component to another place in the page, which would make the browser rebuild it.
    notes = st.container()
    with notes:
        models = load_models(sel)
        checked = models and checked_text(sel, models[0])
    if not checked:
        return
    try:
        payload, key, T = cache.compare_payload(sel.task, sel.cfg, checked.text)
        analyses = cache.analyses(sel.task, sel.cfg, checked.text)
    except ValueError as e:  # a model refused the text, with its own clear message
        with notes:
            checks.show([checks.refusal(e)])
        return
    with notes:
        checks.show(reading_notes(analyses[1]))
    # The classifiers' probabilities "if the text ended at t" need one analysis per
    # prefix: they follow as a small patch, after the columns are on screen.
    later = (lambda: cache.prefix_update(sel.task, checked.text, key)) if cache.prefix_pending(sel.task, checked.text) else None
    stepped(payload, key, T, later)
    downloads(dict(zip((k.upper() for k in KINDS), analyses)), sel.task, "compare")
