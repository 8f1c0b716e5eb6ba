"""Attention: where each classifier looks, as bars and as shading on the text, stepped in the browser.

The classifiers (SST-2, TREC) pool a bidirectional cell's states with additive
attention. Choosing a token shows the scoring formula with its numbers there; a
switch adds other scoring rules computed on the same hidden states (untrained).
"""

from __future__ import annotations

import streamlit as st

from .. import cache, i18n
from ..i18n import N_, _
from ..tasks import CLASSIFIER_TASKS
from .common import Selection, downloads, read, stepped, task_hint

TITLE, URL_PATH, ICON = N_("Attention"), "attention", ":material/target:"

TRAINED, SOFTMAX = N_("additive (trained)"), N_("softmax")  # shown without the switch
RULES_LATEX = {
    TRAINED: r"s_t = v^\top \tanh(W h_t + b)",
    N_("dot product"): r"s_t = q^\top h_t,\quad q = \tfrac{1}{T}\textstyle\sum_u h_u",
    N_("scaled dot product"): r"s_t = q^\top h_t / \sqrt{D}",
    N_("concat-linear"): r"s_t = w^\top h_t + b,\quad w \sim \mathcal{N}(0, 1/D)",
    SOFTMAX: r"a_t = \frac{\exp s_t}{\sum_u \exp s_u},\qquad c = \textstyle\sum_t a_t h_t",
}


def render(sel: Selection) -> None:
    if sel.task not in CLASSIFIER_TASKS:
        task_hint(CLASSIFIER_TASKS, _("The Attention view shows the classifiers, which pool their states with "
                                      "attention."))
        return
    notes = st.container()
    with_rules = st.toggle(_("Compare with other scoring rules on the same hidden states (untrained scorers)"),
                           key="att_compare")
    with st.expander(_("The scoring rules"), expanded=False):
        for name, tex in RULES_LATEX.items():
            if with_rules or name in (TRAINED, SOFTMAX):
                st.caption(_(name))
                st.latex(tex)
        st.caption(_("h_t is the bidirectional state [h→_t ; h←_t] (D = 2 × hidden size). Only the additive rule "
                     "was trained with each classifier; the others have no trained parameters, so q is the "
                     "sentence's mean state and w is drawn from N(0, 1/D) with seed 0 (b = 0). "
                     "Click a token or step to see the numbers at that token."))
    lang = i18n.current()
    done = read(sel, notes, lambda text: cache.attention_payload(sel.task, text, with_rules, lang=lang))
    if done is None:
        return
    _text, (payload, key, T), analyses = done
    stepped(payload, key, T)
    downloads(analyses, sel.task, "att")
