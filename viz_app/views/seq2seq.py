"""Seq2seq: encoder–decoders with attention turn a date written any way into ISO 8601, output step by output step.

RNN | LSTM | GRU (cells/seq2seq.py: a bidirectional encoder, Bahdanau's additive
attention, a decoder cell) read the same source. Stepping through the output shows
where each decoder looks (the attention row at step t and the whole alignment matrix),
its gates and the likeliest next characters. Free running each writes its own output
(greedy, or beam search); teacher forcing each reads a given target instead, and the
two side by side show exposure bias.
"""

from __future__ import annotations

from types import SimpleNamespace

import streamlit as st

from cells.checkpoint import CheckpointError
from cells.seq2seq import MAX_BEAM

from .. import cache, checks, i18n
from ..component import seq2seq as s2s
from ..i18n import N_, _, engine
from .common import Selection, downloads, stepped

TITLE, URL_PATH, ICON = N_("Seq2seq"), "seq2seq", ":material/translate:"
READS_TASK = READS_TEXT = False  # its own source box; the dates models are not a sidebar task

EQUATIONS = r"""
\begin{aligned}
h_j &= [\overrightarrow{h}_j ; \overleftarrow{h}_j] \quad\text{%s} &
s_0 &= \tanh(W_{init} [\overrightarrow{h}_T ; \overleftarrow{h}_1] + b_{init}) \\
e_{tj} &= v^\top \tanh(W h_j + b + W_q s_{t-1}) & \alpha_{tj} &= \mathrm{softmax}_j(e_{tj}),\quad
c_t = \textstyle\sum_j \alpha_{tj} h_j \\
s_t &= \mathrm{Cell}([E y_{t-1} ; c_t],\ s_{t-1}) & p(y_t \mid \dots) &= \mathrm{softmax}(U [s_t ; c_t] + d)
\end{aligned}
"""  # %s: the words in \text, in the reader's language


def inputs(known: frozenset[str], writes: str) -> s2s.Request:
    """The source box, the decoding mode and its setting (beam width or target), checked."""
    ss = st.session_state
    ss.setdefault("s2s_source", s2s.DEFAULT_SOURCE)
    ss.setdefault("s2s_target", s2s.DEFAULT_TARGET)
    ss.setdefault("s2s_beam", 1)
    c1, c2, c3 = st.columns([4, 2, 2])
    source = c1.text_input(_("Source: a date, written any way (press Enter to read it)"), key="s2s_source",
                           help=_("This view reads this box, not the sidebar's. The models were trained on 18 ways of "
                                  "writing a date between 1950 and 2049, in English and Chinese."))
    mode = c2.radio(_("Decoding"), s2s.MODES, format_func=_, key="s2s_mode", horizontal=True,
                    help=_("Free running: each decoder reads what it wrote itself. Teacher forcing: each reads the "
                           "target instead, as in training."))
    beam, target = 1, None
    if mode == s2s.FREE:
        beam = c3.number_input(_("Beam width (1 = greedy, up to {n})", n=MAX_BEAM), step=1, key="s2s_beam",
                               help=_("Beam search keeps the k likeliest prefixes at every step."))
    else:
        target = c3.text_input(_("Target the decoders read"), key="s2s_target")
    return s2s.check_request(source, mode, beam, target, known, writes)


def render(sel: Selection) -> None:
    try:
        models = cache.seq2seq_models()
    except CheckpointError as e:  # the model's name and what is wrong, not the server's paths
        checks.show([checks.error(_("The bundled model {name} could not be loaded, so this view cannot be drawn: its "
                                    "checkpoint {problem}. Reinstall rnnscope to restore it.", name=e.name,
                                    problem=engine(e.problem)))])
        return
    req = inputs(s2s.alphabet(models[0]), s2s.writable(models[0]))
    checks.show(req.messages)
    if not req.ready:
        return
    try:
        payload, key, T = cache.seq2seq_payload(req.source, req.beam, req.target, lang=i18n.current())
    except ValueError as e:  # the model's own clear message about what it was given
        checks.show([checks.refusal(e)])
        return
    stepped(payload, key, T)
    r = cache.seq2seq_reading(req.source, req.beam, req.target)
    traces = {}  # labelled in English: the download's file name is made from the label
    for m, run in zip(models, r.runs):
        traces[f"{m.kind.upper()} encoder"] = SimpleNamespace(trace=run.encoder, tokens=list(run.source_tokens))
        traces[f"{m.kind.upper()} decoder"] = SimpleNamespace(trace=run.decoder, tokens=list(run.output_tokens))
    downloads(traces, "dates-seq2seq", "s2s", pick=_("Model and side"))
    with st.expander(_("What each decoder step computes")):
        st.latex(EQUATIONS % _("(the encoder reads the source both ways)"))
        st.caption(_("Step t reads the previous character y_{t−1} (<s> first), asks with its previous state where to "
                     "look (α over the source), reads that context with the character, and writes p over the 13 target "
                     "symbols; </s> ends the output. The encoder's trace holds h_j (both directions); the decoder's "
                     "holds s_t, its gates, and as x_t the input [E y_{t−1} ; c_t]. Under teacher forcing y_{t−1} is "
                     "the target's, as in training; free running it is the model's own, so one wrong character can "
                     "lead to more (exposure bias)."))
