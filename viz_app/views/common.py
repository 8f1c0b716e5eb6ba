"""What every view receives, and what every view does the same way: load the models, check
the text, say what the models read, mount the component, offer the downloads."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from cells import export
from cells.checkpoint import CheckpointError

from .. import cache, checks, present, state
from ..i18n import _, _n, engine
from ..component.mount import patch, reported, scope
from ..tasks import TASKS, YOURS, UntrainedConfig


@dataclass(frozen=True)
class Selection:
    task: str
    cfg: UntrainedConfig
    text: str  # as typed (unchecked)


def load_models(sel: Selection) -> list | None:
    """RNN, LSTM, GRU for the task (YOURS: the models the session opened); None, with the
    reason on the page, if a checkpoint fails its checks or nothing is open."""
    if not cache.kinds(sel.task):
        checks.show([checks.info(_("No model of yours is open in this tab: upload one under \"Open your model\" in "
                                   "the sidebar, or train some in the Training lab and open them from there."))])
        return None
    if (shelf := cache.shelf() if sel.task == YOURS else None) is not None:
        # plain: a file name is the user's
        st.caption(checks.plain(_("Your model: {source}. {report}", source=shelf.source, report=engine(shelf.report))))
    try:
        return cache.models(sel.task, sel.cfg)
    except CheckpointError as e:  # the model's name and what is wrong, not the server's paths
        checks.show([checks.error(_("The bundled model {name} could not be loaded, so this view cannot be drawn: its "
                                    "checkpoint {problem}. Reinstall rnnscope to restore it.", name=e.name,
                                    problem=engine(e.problem)))])
        return None


def checked_text(sel: Selection, model) -> checks.Checked | None:
    """The text bounded for this task's models, its messages shown; None when there is nothing to read."""
    unit = {"char": "character", "word": "word token", "numeric": "step"}[model.level]  # a key of checks.TOO_LONG
    try:
        c = checks.check_text(sel.text, model.tokenize, unit)
    except ValueError as e:  # numbers that do not parse: where and why
        checks.show([checks.refusal(e)])
        return None
    checks.show(c.messages)
    return None if c.empty else c


def read(sel: Selection, notes, build: Callable[[str], tuple[str, str, int]]) -> tuple[str, tuple, list] | None:
    """The three models read the text: (checked text, build(text) -> (payload, key, T), their
    analyses), with every message shown in `notes`; None when there is nothing to draw."""
    with notes:
        models = load_models(sel)
        checked = models and checked_text(sel, models[0])
    if not checked:
        return None
    try:
        built, analyses = build(checked.text), cache.analyses(sel.task, sel.cfg, checked.text)
    except ValueError as e:  # a model refused the text, with its own clear message
        with notes:
            checks.show([checks.refusal(e)])
        return None
    with notes:
        checks.show(reading_notes(analyses[-1]))  # one model's reading: a task's models share tokens and vocabulary
    return checked.text, built, analyses


def reading_notes(a) -> list[checks.Message]:
    """What the model read differently from what was typed: <unk> tokens, base forms."""
    out = []
    if a.unknown and len(a.unknown) == len(a.tokens):
        out.append(checks.warning(_("None of these tokens are in the model's vocabulary: it reads ⟨unk⟩ at every "
                                    "step.")))
    elif a.unknown:
        out.append(checks.info(_n("{n} of {total} tokens is not in the vocabulary (dotted underline); the model reads "
                                  "⟨unk⟩ there.",
                                  "{n} of {total} tokens are not in the vocabulary (dotted underline); the model "
                                  "reads ⟨unk⟩ there.", len(a.unknown), total=len(a.tokens))))
    if a.read_as:
        words = ", ".join(f"{a.tokens[i]} → {w}" for i, w in sorted(a.read_as.items()))
        out.append(checks.info(_n("{n} word outside the vocabulary is read as a known base form: {words}",
                                  "{n} words outside the vocabulary are read as a known base form: {words}",
                                  len(a.read_as), words=words)))
    return out


def stepped(payload: str, key: str, T: int, later: Callable[[], dict] | None = None) -> None:
    """Mount the component; later() (if given) makes a patch sent once the columns are on screen.

    The start step is fixed here, once per full run, so the component's data stays the
    same on the fragment's reruns: a step reported back never re-sends the payload. A new
    payload (a sentence typed right after a step) starts at the step the page was on, even
    if that step's report has not had its own run yet: this run overtook it."""
    ss = st.session_state
    if key != ss.get("_scope_key"):
        shown = reported(ss.get("scope"))
        if shown is not None and shown[0] == ss.get("_scope_key"):
            ss["t"] = shown[1]
        ss["_scope_key"] = key
    ss["_scope_start"] = state.clamp_step(T)
    _stepper(payload, key, T, later)


@st.fragment
def _stepper(payload: str, key: str, T: int, later: Callable[[], dict] | None) -> None:
    """Only this fragment reruns when the browser reports a step (debounced)."""
    t = scope(payload, key, st.session_state["_scope_start"], present=present.mount_options())
    if later is not None:
        patch(later())
    if t is not None and t != st.session_state.get("t"):
        state.set_step(min(t, T - 1))


def downloads(analyses: dict[str, object] | list, stem: str, key: str, pick: str | None = None) -> None:
    """analyses: label -> what model.analyze(text) returned (anything with .trace and .tokens),
    or the task's models' analyses in cache.kinds(task) order (stem is the task then); `pick`
    names what the labels are (default "Model", translated). Files are made on click."""
    if isinstance(analyses, list):
        analyses = dict(zip((k.upper() for k in cache.kinds(stem)), analyses))
    with st.expander(_("Download the traces (JSON, NPZ, CSV)")):
        label = next(iter(analyses)) if len(analyses) == 1 else \
            st.radio(pick or _("Model"), list(analyses), horizontal=True, key=f"{key}_dl_model")
        a = analyses[label]
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{stem}-{label}".lower())
        c1, c2, c3 = st.columns(3)
        c1.download_button("JSON", lambda: export.to_json(a.trace), f"{name}.trace.json", "application/json",
                           key=f"{key}_dl_json", on_click="ignore")
        c2.download_button("NPZ", lambda: export.to_npz(a.trace), f"{name}.trace.npz", "application/zip",
                           key=f"{key}_dl_npz", on_click="ignore")
        c3.download_button("CSV", lambda: export.to_csv(a.trace, a.tokens), f"{name}.trace.csv", "text/csv",
                           key=f"{key}_dl_csv", on_click="ignore")
        st.caption(_("JSON and NPZ hold every array of the trace: read them back with `cells.Trace.from_json` "
                     "and `cells.Trace.load_npz`. The CSV has one row per (layer, direction, step, unit) with "
                     "columns layer, direction, step, token, unit, h, then c and the gates (LSTM i f g o, GRU r z n); "
                     "read it with `cells.export.read_csv`. Each chart's camera icon saves it as PNG."))


def switch_task(task: str) -> None:
    """Callback: pick another task (and its example, unless the user typed their own text)."""
    ss = st.session_state
    old = ss.get("task")
    if old in TASKS and ss.get("text", "").strip() in ("", TASKS[old].example):
        ss["text"] = TASKS[task].example  # task_hint offers bundled tasks only
    ss["task"] = task
    ss["_task_prev"] = task


def task_hint(wanted: tuple[str, ...], what: str) -> None:
    """Say which tasks this view is for (`what`: a sentence, translated), with a button for each."""
    checks.show([checks.info(_("{what} Pick one of these tasks:", what=what))])
    for c, task in zip(st.columns(len(wanted) + 2), wanted):
        c.button(_(TASKS[task].label), key=f"goto_{task}", on_click=switch_task, args=(task,))
