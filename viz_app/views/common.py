"""What every view receives, and the messages every view says the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import streamlit as st

from cells.tokens import chars, words

from .. import loaders, state
from ..inputs import Checked, check_text
from ..tasks import UntrainedConfig


@dataclass(frozen=True)
class Selection:
    task: str
    cfg: UntrainedConfig
    text: str  # as typed (unchecked)


def checked_text(sel: Selection) -> Checked | None:
    """Check the text for the task's models and show the messages; None when nothing to show."""
    models = loaders.load_models(sel.task, sel.cfg)
    missing = [m.kind.upper() for m, note in models if note]
    if missing:
        st.caption(f"Trained {', '.join(missing)} not available for this task yet: "
                   "those columns show a seeded untrained stand-in.")
    m0 = models[0][0]
    unit = "character" if m0.level == "char" else "word token"
    # Model.tokenize is not in CONTRACTS.md; without it, the contract's tokenizers by level.
    tokenize = getattr(m0, "tokenize", None) or (chars if m0.level == "char" else words)
    c = check_text(sel.text, tokenize, unit)
    for m in c.messages:
        (st.info if c.empty else st.warning)(m)
    return None if c.empty else c


def refused(e: ValueError) -> None:
    """A model's own clear message; shown as plain text, since it may quote the user's text."""
    st.error("The models could not read this text:")
    st.text(str(e))


def unknown_message(task: str, cfg: UntrainedConfig, kind: str, text: str) -> None:
    a = loaders.analyze(task, kind, cfg, text)
    if a.unknown and len(a.unknown) == len(a.tokens):
        st.warning("None of these tokens are in the model's vocabulary: it reads ⟨unk⟩ at every step.")
    elif a.unknown:
        st.caption(f"{len(a.unknown)} of {len(a.tokens)} tokens are not in the vocabulary (dotted underline); "
                   "the model reads ⟨unk⟩ there.")
    if a.read_as:
        st.caption(f"{len(a.read_as)} word(s) outside the vocabulary are read as a known base form:")
        st.text(", ".join(f"{a.tokens[i]} → {w}" for i, w in sorted(a.read_as.items())))  # plain text: user words


@st.fragment
def steps(mount: Callable[..., int], payload: str, key: str, T: int, component_key: str) -> None:
    """Mount a browser stepper. Only this fragment reruns when the browser reports a
    new step (debounced), and the step goes to session state and the URL."""
    t = min(st.session_state.get("t", 0), T - 1)
    reported = mount(payload, key, t, key=component_key)
    if reported != st.session_state.get("t"):
        state.set_step(min(reported, T - 1))
