"""Padding: sentences of different lengths as one batch, read packed and padded, side by side.

Packing (`pack_padded_sequence`, TensorFlow's `sequence_length`) stops each sentence at
its length. Without it the pads are read as input: the forward state keeps moving
after the last token (h_n drifts), and a bidirectional cell's backward direction reads
the pads first, so its whole reading of the real tokens starts from a state the pads
made. The classifiers' predictions show what that costs.
"""

from __future__ import annotations

import streamlit as st

from types import SimpleNamespace

from .. import cache, checks, i18n
from ..component.padding import MAX_SENTENCES, PAD, check_sentences
from ..i18n import N_, _
from ..tasks import CLASSIFIER_TASKS, KINDS
from .common import Selection, downloads, load_models, stepped, task_hint

TITLE, URL_PATH, ICON = N_("Padding"), "padding", ":material/padding:"
READS_TEXT = False  # the sidebar's task picks the models; the sentences have their own box here
EXAMPLES = {  # clearly different lengths: the short ones get many pads
    "sst2": "it works .\na gem .\nnot worth the price of the ticket .\n"
            "an astonishing , moving and very funny film that stays with you for days after , with a cast that never "
            "hits a false note and a score you will hum on the way home .",
    "trec": "Who wrote Hamlet?\nWhat does NASA stand for?\nHow far is it from Denver to Aspen?\n"
            "What is the name of the river that flows through the capital of the country where the first modern "
            "Olympic Games were held?",
}


def sentences_box(task: str) -> str:
    """The sentences, one per line; a task's own examples until the user types their own."""
    ss = st.session_state
    if ss.get("_pad_task") != task:
        if ss.get("pad_text", "").strip() in ("", *EXAMPLES.values()):
            ss["pad_text"] = EXAMPLES[task]
        ss["_pad_task"] = task
    ss.setdefault("pad_text", EXAMPLES[task])
    return st.text_area(_("Sentences, one per line (up to {n}): read together as one batch", n=MAX_SENTENCES),
                        key="pad_text", height=150,
                        help=_("This view reads these lines, not the text box above. Blank lines are skipped."))


def render(sel: Selection) -> None:
    if sel.task not in CLASSIFIER_TASKS:
        task_hint(CLASSIFIER_TASKS, _("The Padding view shows the classifiers, whose predictions the pads change."))
        return
    models = load_models(sel)
    if not models:
        return
    c1, c2 = st.columns([4, 1])
    with c1:
        raw = sentences_box(sel.task)
    kind = c2.radio(_("Cell"), KINDS, index=KINDS.index("lstm"), format_func=str.upper, key="pad_kind")
    notes = st.container()
    batch = check_sentences(raw, models[0].tokenize)
    with notes:
        checks.show(batch.messages)
    if not batch.sentences:
        return
    try:
        payload, key, T = cache.padding_payload(sel.task, kind, batch.sentences, lang=i18n.current())
    except ValueError as e:  # the model's own clear message about what it was given
        with notes:
            checks.show([checks.refusal(e)])
        return
    stepped(payload, key, T)
    r = cache.padding_reading(sel.task, kind, batch.sentences)
    traces = {}  # labelled in English: the download's file name is made from the label
    for b, toks in enumerate(r.tokens):
        traces[f"{b + 1} packed"] = SimpleNamespace(trace=r.packed.traces[b], tokens=list(toks))
        traces[f"{b + 1} padded"] = SimpleNamespace(trace=r.padded.traces[b], tokens=[*toks, *[PAD] * (r.T - len(toks))])
    downloads(traces, f"{sel.task}-{kind}-padding", "pad", pick=_("Sentence, read packed or padded"))
