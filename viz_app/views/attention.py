"""Attention: where each classifier looks, as bars and as shading on the text, stepped in the browser.

The classifiers (SST-2, TREC) pool a bidirectional cell's states with additive
attention. Choosing a token shows the scoring formula with its numbers there; a
switch adds other scoring rules computed on the same hidden states (untrained).
"""

from __future__ import annotations

import hashlib

import streamlit as st

from .. import loaders, payloads
from ..tasks import KINDS, UntrainedConfig
from ..viewstepper import view_stepper
from . import panels
from .common import Selection, checked_text, unknown_message, steps

CLASSIFIERS = ("sst2", "trec")

RULES_LATEX = {
    "additive (trained)": r"s_t = v^\top \tanh(W h_t + b)",
    "dot product": r"s_t = q^\top h_t,\quad q = \tfrac{1}{T}\textstyle\sum_u h_u",
    "scaled dot product": r"s_t = q^\top h_t / \sqrt{D}",
    "concat-linear": r"s_t = w^\top h_t + b,\quad w \sim \mathcal{N}(0, 1/D)",
    "softmax": r"a_t = \frac{\exp s_t}{\sum_u \exp s_u},\qquad c = \textstyle\sum_t a_t h_t",
}


@st.cache_resource(max_entries=16, show_spinner=False)
def attention_payload(task: str, text: str, compare: bool) -> tuple[str, str, int]:
    """(payload JSON, its key, T) for the three classifiers reading `text`."""
    cols = []
    for kind in KINDS:
        model, note = loaders.load_model(task, kind)
        cols.append(payloads.Column(model, loaders.analyze(task, kind, UntrainedConfig(), text), note))
    key = hashlib.sha1(repr(("attention", task, text, compare)).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return payloads.attention_payload(text, cols, compare), key, cols[0].analysis.trace.T


def render(sel: Selection) -> None:
    if sel.task not in CLASSIFIERS:
        panels.task_hint(CLASSIFIERS, "The Attention view shows the classifiers, which pool their states with attention.")
        return
    checked = checked_text(sel)
    if checked is None:
        return
    compare = st.toggle("Compare with other scoring rules on the same hidden states (untrained scorers)",
                        key="att_compare")
    with st.expander("The scoring rules", expanded=False):
        for name, tex in RULES_LATEX.items():
            if compare or name in ("additive (trained)", "softmax"):
                st.caption(name)
                st.latex(tex)
        st.caption("h_t is the bidirectional state [h→_t ; h←_t] (D = 2 × hidden size). Only the additive rule "
                   "was trained with each classifier; the others have no trained parameters, so q is the "
                   "sentence's mean state and w is drawn from N(0, 1/D) with seed 0 (b = 0). "
                   "Click a token or move the slider to see the numbers at that token.")
    try:
        unknown_message(sel.task, sel.cfg, KINDS[1], checked.text)
        payload, key, T = attention_payload(sel.task, checked.text, compare)
    except ValueError as e:  # a model refused the text, with its own clear message
        st.error(str(e))
        return
    steps(view_stepper, payload, key, T, "attention_stepper")
    panels.downloads({k.upper(): loaders.analyze(sel.task, k, UntrainedConfig(), checked.text) for k in KINDS},
                    sel.task, "att")
