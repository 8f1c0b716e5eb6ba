"""Cached loaders: the only place the app computes. Top-level functions keyed by plain values.

Everything returned here lives in `st.cache_resource`, shared by every session: treat
it as read-only (the traces' arrays are read-only numpy already).
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

import cells

from . import payload
from .standin import StandinModel
from .tasks import KINDS, TASKS, UntrainedConfig

# What a missing model zoo or checkpoint raises; anything else is a bug and should show.
_MISSING = (ImportError, AttributeError, LookupError, OSError, ValueError)


@st.cache_resource(max_entries=48, show_spinner=False)
def load_model(task: str, kind: str, cfg: UntrainedConfig = UntrainedConfig()):
    """(model, note): the bundled model, or a seeded stand-in with a short note saying so."""
    try:
        if task == "untrained":
            return cells.untrained_model(kind, hidden_size=cfg.hidden_size, init_scale=cfg.init_scale,
                                         forget_bias=cfg.forget_bias, seed=cfg.seed), ""
        return cells.load_model(f"{task}-{kind}"), ""
    except _MISSING:
        t = TASKS[task]
        note = "" if task == "untrained" else "untrained stand-in: the trained model is not bundled yet"
        m = StandinModel(task, kind, t.level, t.labels, hidden_size=cfg.hidden_size, init_scale=cfg.init_scale,
                         forget_bias=cfg.forget_bias, seed=cfg.seed)
        return m, note


def model(task: str, kind: str, cfg: UntrainedConfig) -> tuple[object, str]:
    """(model, note); the sliders' settings only matter for the untrained task."""
    return load_model(task, kind, cfg if task == "untrained" else UntrainedConfig())


def load_models(task: str, cfg: UntrainedConfig) -> list[tuple[object, str]]:
    return [model(task, kind, cfg) for kind in KINDS]


@st.cache_resource(max_entries=96, show_spinner=False)
def analyze(task: str, kind: str, cfg: UntrainedConfig, text: str):
    return model(task, kind, cfg)[0].analyze(text)


PREFIX_MAX = 64  # classifiers: per-step outputs (one analysis per prefix) up to this many tokens


@st.cache_resource(max_entries=96, show_spinner=False)
def prefix_probs(task: str, kind: str, cfg: UntrainedConfig, text: str):
    """(T, C): a classifier's class probabilities if the text ended after token t.

    One analysis per prefix (a bidirectional reader changes its mind about earlier
    tokens too), so only for texts up to PREFIX_MAX tokens; None otherwise or for
    models without class probabilities.
    """
    m = model(task, kind, cfg)[0]
    a = analyze(task, kind, cfg, text)
    if not m.is_classifier or a.probs is None or a.trace.T > PREFIX_MAX:
        return None
    rows = [m.analyze(text[:end]).probs for _, end in a.spans[:-1]] + [a.probs]
    out = np.stack(rows)  # (T, C)
    out.setflags(write=False)
    return out


def prefix_pending(task: str, cfg: UntrainedConfig, text: str) -> bool:
    """Whether `compare_payload(..., per_step=True)` would add anything."""
    return any(m.is_classifier for m, _ in load_models(task, cfg)) and analyze(task, KINDS[0], cfg, text).trace.T <= PREFIX_MAX


@st.cache_resource(max_entries=16, show_spinner=False)
def compare_payload(task: str, cfg: UntrainedConfig, text: str, per_step: bool = False) -> tuple[str, str, int]:
    """(payload JSON, its key, T): the key changes exactly when the payload does.

    per_step: add classifiers' per-prefix probabilities (slower; see `prefix_probs`).
    """
    cols = []
    for kind, (m, note) in zip(KINDS, load_models(task, cfg)):
        steps = prefix_probs(task, kind, cfg, text) if per_step else None
        cols.append(payload.Column(m, analyze(task, kind, cfg, text), note, steps))
    key = hashlib.sha1(repr((task, cfg, text, per_step)).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return payload.compare_payload(text, cols), key, cols[0].analysis.trace.T
