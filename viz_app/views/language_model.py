"""Language model: each character model's next-character distribution, step by step, and generation.

Step through the typed text (or any model's generated text) and see, for RNN, LSTM and
GRU, the top next characters after each one, the actual next character, its
probability and the running perplexity. Generation samples n characters from a
prefix with temperature, top-k and a seed, side by side.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from .. import generation, loaders, payloads
from ..tasks import KINDS, UntrainedConfig
from ..viewstepper import view_stepper
from . import panels
from .common import Selection, checked_text, steps

LANGUAGE_MODELS = ("shakespeare", "jaychou")
DEFAULT_PREFIX = {"shakespeare": "ROMEO:", "jaychou": "分开"}
TYPED = "the text above"


@st.cache_resource(max_entries=16, show_spinner=False)
def lm_payload(task: str, text: str, note: str = "") -> tuple[str, str, int]:
    """(payload JSON, its key, T) for the three language models reading `text`."""
    cols = []
    for kind in KINDS:
        model, warn = loaders.load_model(task, kind)
        cols.append(payloads.Column(model, loaders.analyze(task, kind, UntrainedConfig(), text), warn))
    key = hashlib.sha1(repr(("lm", task, text, note)).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return payloads.lm_payload(text, cols, note=note), key, cols[0].analysis.trace.T


@st.cache_data(max_entries=64, show_spinner=False)
def generate(task: str, kind: str, req: generation.Request) -> str:
    return generation.generate(loaders.load_model(task, kind)[0], req)


def generation_request(task: str, vocab: list[str], limit: int) -> generation.Request:
    """The generation widgets, in one row; returns the checked request and says what was adjusted."""
    c = st.columns([3, 1, 1, 1, 1])
    prefix = c[0].text_input("Prefix to continue", DEFAULT_PREFIX[task], key=f"lm_prefix_{task}")
    n = c[1].number_input("n characters", 0, 100_000, 200, step=50, key="lm_n")
    temp = c[2].number_input("temperature", 0.0, 1000.0, 0.8, step=0.1, key="lm_temperature",
                             help="0 is greedy; 1 samples the model's own distribution; high values flatten it")
    top_k = c[3].number_input("top-k (0 = all)", 0, 10_000, 0, key="lm_top_k")
    seed = c[4].number_input("seed", 0, 2**31 - 1, 0, key="lm_seed")
    req = generation.check_request(prefix, n, temp, top_k, seed, vocab, limit)
    for m in req.messages:
        (st.warning if "never saw" in m or "more than" in m or "very high" in m else st.info)(m)
    return req


def render(sel: Selection) -> None:
    if sel.task not in LANGUAGE_MODELS:
        panels.task_hint(LANGUAGE_MODELS, "The Language-model view shows the character language models.")
        return
    models = loaders.load_models(sel.task, sel.cfg)
    step_box, gen_box = st.container(), st.container()  # stepping shows first; it steps generated text too
    with gen_box:
        st.subheader("Generate")
        req = generation_request(sel.task, list(models[0][0].vocab), min(generation.max_n(m) for m, _ in models))
        texts = {}
        for col, kind in zip(st.columns(len(KINDS)), KINDS):
            texts[kind] = generate(sel.task, kind, req)
            col.markdown(f"**{kind.upper()}** writes:")
            col.code(texts[kind], language=None, wrap_lines=True, height=160)  # user text as code: never markdown or HTML
    with step_box:
        _step_section(sel, texts, req)


def _step_section(sel: Selection, texts: dict[str, str], req: generation.Request) -> None:
    st.subheader("Step through")
    sources = [TYPED] + [f"{k.upper()}'s text" for k in KINDS]
    source = st.radio("Text to step through", sources, horizontal=True, key="lm_source",
                      help="A generated text is read by all three models, like typed text.")
    note = ""
    if source == TYPED:
        checked = checked_text(sel)
        if checked is None:
            return
        text = checked.text
    else:
        text = texts[KINDS[sources.index(source) - 1]]
        if not req.prefix:
            text = generation.START + text  # what the model read first; shown as ⏎
            note = "Empty prefix: the text starts with the newline the models read first (⏎)."
    if not text.strip():
        st.info("Nothing to step through: the text is empty or only spaces.")
        return
    try:
        payload, key, T = lm_payload(sel.task, text, note)
    except ValueError as e:  # a model refused the text, with its own clear message
        st.error(str(e))
        return
    steps(view_stepper, payload, key, T, "lm_stepper")
    panels.downloads({k.upper(): loaders.analyze(sel.task, k, UntrainedConfig(), text) for k in KINDS},
                     sel.task, "lm")
