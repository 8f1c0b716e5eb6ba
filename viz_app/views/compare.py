"""Compare: RNN | LSTM | GRU reading the same text, one shared step, stepped in the browser."""

from __future__ import annotations

import streamlit as st

from .. import cache, i18n
from ..i18n import N_
from .common import Selection, downloads, read, stepped

TITLE, URL_PATH, ICON = N_("Compare"), "compare", ":material/view_column:"


def render(sel: Selection) -> None:
    # Messages come and go with the text; inside one container they never move the
    # component to another place in the page, which would make the browser rebuild it.
    notes = st.container()
    lang = i18n.current()
    done = read(sel, notes, lambda text: cache.compare_payload(sel.task, sel.cfg, text, lang=lang))
    if done is None:
        return
    text, (payload, key, T), analyses = done
    # The classifiers' probabilities "if the text ended at t" need one analysis per
    # prefix: they follow as a small patch, after the columns are on screen.
    later = (lambda: cache.prefix_update(sel.task, text, key, lang=lang)) if cache.prefix_pending(sel.task, text) \
        else None
    stepped(payload, key, T, later)
    downloads(analyses, sel.task, "compare")
