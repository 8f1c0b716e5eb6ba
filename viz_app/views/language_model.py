"""Language model: each character model's next-character distribution, step by step, and generation.

Step through the typed text (or any model's generated text) and see, for RNN, LSTM and
GRU, the top next characters after each one, the actual next character, its
probability and the running perplexity. Generation samples n characters from a
prefix with temperature, top-k and a seed, side by side.
"""

from __future__ import annotations

import streamlit as st

from cells import zoo

from .. import cache, checks, i18n
from ..i18n import N_, _, engine
from ..tasks import KINDS, LM_TASKS
from .common import Selection, checked_text, downloads, load_models, stepped, task_hint

TITLE, URL_PATH, ICON = N_("Language model"), "language_model", ":material/edit_note:"
DEFAULT_PREFIX = {"shakespeare": "ROMEO:", "jaychou": "分开"}
TYPED = N_("the text above")  # the source to step through that is not generated


def generation_request(task: str, vocab: list[str]) -> checks.Request:
    """The generation widgets, in one row; returns the checked request and says what was adjusted."""
    c = st.columns([3, 1, 1, 1, 1])
    prefix = c[0].text_input(_("Prefix to continue"), DEFAULT_PREFIX[task], key=f"lm_prefix_{task}")
    n = c[1].number_input(_("n characters"), 0, 100_000, 200, step=50, key="lm_n")
    temp = c[2].number_input(_("temperature"), 0.0, 1000.0, 0.8, step=0.1, key="lm_temperature", format="%g",
                             help=_("below {floor:g} greedy; 1 samples the model's own distribution; high values "
                                    "flatten it", floor=zoo.TEMPERATURE_FLOOR))
    top_k = c[3].number_input(_("top-k (0 = all)"), 0, 10_000, 0, key="lm_top_k")
    seed = c[4].number_input(_("seed"), 0, 2**31 - 1, 0, key="lm_seed")
    req = checks.check_request(prefix, n, temp, top_k, seed, vocab)
    checks.show(req.messages)
    return req


def render(sel: Selection) -> None:
    if sel.task not in LM_TASKS:
        task_hint(LM_TASKS, _("The Language-model view shows the character language models."))
        return
    models = load_models(sel)
    if not models:
        return
    step_box, gen_box = st.container(), st.container()  # stepping shows first; it steps generated text too
    with gen_box:
        st.subheader(_("Generate"))
        req = generation_request(sel.task, models[0].vocab)
        texts = {}
        for col, kind in zip(st.columns(len(KINDS)), KINDS):
            try:
                texts[kind] = cache.generate(sel.task, kind, req)
            except ValueError as e:  # the model's own bounds; the request checks should have caught it
                with col:
                    checks.show([checks.error(_("{model} could not generate: {reason}", model=kind.upper(),
                                                reason=engine(e)))])
                continue
            col.markdown(_("**{model}** writes:", model=kind.upper()))
            col.code(texts[kind], language=None, wrap_lines=True, height=160)  # user text as code: never markdown or HTML
    with step_box:
        _step_section(sel, models[0], texts, req)


def _step_section(sel: Selection, model, texts: dict[str, str], req: checks.Request) -> None:
    st.subheader(_("Step through"))
    sources = [TYPED] + [k for k in KINDS if k in texts]
    source = st.radio(_("Text to step through"), sources, horizontal=True, key="lm_source",
                      format_func=lambda s: _(TYPED) if s == TYPED else _("{model}'s text", model=s.upper()),
                      help=_("A generated text is read by all three models, like typed text."))
    note = ""
    if source == TYPED:
        checked = checked_text(sel, model)
        if checked is None:
            return
        text = checked.text
    else:
        text = texts[source]
        if not req.prefix:
            text = zoo.START + text  # what the model read first; shown as ⏎
            note = _("Empty prefix: the text starts with the newline the models read first (⏎).")
    if not text.strip():
        checks.show([checks.info(_("Nothing to step through: the text is empty or only spaces."))])
        return
    try:
        payload, key, T = cache.lm_payload(sel.task, text, note, lang=i18n.current())
    except ValueError as e:  # a model refused the text, with its own clear message
        checks.show([checks.refusal(e)])
        return
    stepped(payload, key, T)
    downloads(cache.analyses(sel.task, sel.cfg, text), sel.task, "lm")
