"""Gradients: how the loss's gradient flows back through time in RNN | LSTM | GRU, and which tokens it rests on.

The loss is the model's own: −log p(target class) for the classifiers, −log p(the
character after a chosen position, by default the last) for the language models,
Σ h_{T−1} for cells without such an output (untrained cells, the sine models, your own). One chart across the columns shows the three
cells' ‖dL/dh_t‖ on a log axis (the LSTM's also ‖dL/dc_t‖ and how much its forget gates
keep); each column dL/dh_t per unit, the step's numbers, clipping, and the attributions:
for a classifier beside its attention (the text shaded by a chosen measure, all of them
as bars, their rank correlation, and a switch to uniform attention); for a language
model the connectivity of each step to the characters before it.
"""

from __future__ import annotations

import streamlit as st

from cells import export

from .. import cache, i18n
from ..component.columns import SHADES, label
from ..i18n import N_, _
from ..tasks import CLASSIFIER_TASKS, LM_TASKS
from .common import Selection, read, stepped

TITLE, URL_PATH, ICON = N_("Gradients"), "gradients", ":material/trending_down:"
OWN = N_("each model's prediction")  # the target picker's first option: a value, shown as _(OWN)


def render(sel: Selection) -> None:
    notes = st.container()
    controls = st.columns([2, 2, 1.6, 1.8] if sel.task in CLASSIFIER_TASKS else [2, 1])
    target, shade, uniform = None, "integrated_gradients", False
    if sel.task in CLASSIFIER_TASKS:
        labels = cache.model(sel.task, "lstm").labels
        choice = controls[0].selectbox(_("Explain the probability of"), [OWN, *labels], key="grad_target",
                                       format_func=lambda c: _(OWN) if c == OWN else label(c),
                                       help=_("L = −log p(target | text); the gradients are dL/d…"))
        target = None if choice == OWN else choice
        shade = controls[1].selectbox(_("Shade the text by"), list(SHADES), format_func=lambda k: _(SHADES[k]),
                                      key="grad_shade")
        uniform = controls[2].toggle(_("Uniform attention"), key="grad_uniform",
                                     help=_("Pool the hidden states with equal weights instead of the trained "
                                            "attention: how far does the prediction move?"))
    elif sel.task in LM_TASKS:
        target = controls[0].number_input(_("Explain the character after position (empty: the last)"), min_value=0,
                                          value=None, step=1, key="grad_position",
                                          help=_("L = −log p(the next character | the characters up to this "
                                                 "position)"))
    clip = controls[-1].number_input(_("Clip the gradient norm at (0 = off)"), 0.0, 1e6, 0.0, step=0.5, key="grad_clip",
                                     help=_("What torch.nn.utils.clip_grad_norm_ would do to the recurrent weights' "
                                            "gradient"))
    done = read(sel, notes, lambda text: _payload(sel, text, target, clip, shade, uniform))
    if done is None:
        return
    text, (payload, key, T), analyses = done
    stepped(payload, key, T)
    _downloads(sel, text, target, analyses)


def _payload(sel: Selection, text: str, target: str | int | None, clip: float, shade: str,
             uniform: bool) -> tuple[str, str, int]:
    T = cache.analyze(sel.task, cache.kinds(sel.task)[0], cache.settings(sel.task, sel.cfg), text).trace.T
    if sel.task in LM_TASKS:
        if T < 2:
            raise ValueError(_("a language model's loss needs a next character: type at least two"))
        if target is not None and target > T - 2:
            raise ValueError(_("there is no character after position {position}: the text's positions run from 0 to "
                               "{last}, so pick one from 0 to {highest}", position=target, last=T - 1, highest=T - 2))
    return cache.gradients_payload(sel.task, sel.cfg, text, target, float(clip), shade, uniform, lang=i18n.current())


def _downloads(sel: Selection, text: str, target: str | int | None, analyses: list) -> None:
    with st.expander(_("Download the gradients (JSON, NPZ, CSV)")):
        grads = cache.gradients(sel.task, sel.cfg, text, target)
        labels = [k.upper() for k in cache.kinds(sel.task)]
        label = st.radio(_("Model"), labels, horizontal=True, key="grad_dl_model")
        i = labels.index(label)
        e, a = grads[i], analyses[i]
        dh = dict(e.dh) if hasattr(e, "dh") else {(g.layer, g.direction): g.dh for g in e.layers}
        dc = dict(e.dc) if hasattr(e, "dc") else {(g.layer, g.direction): g.dc for g in e.layers if g.dc is not None}
        arrays = export.gradient_arrays(dh, dc, getattr(e, "saliency", None))
        tokens = list(getattr(e, "tokens", a.tokens))  # a language model's: up to the position explained
        meta = {"model": f"{sel.task}-{label.lower()}", "tokens": tokens,
                "loss": getattr(e, "target_label", "sum of the last hidden state")}
        name = f"{sel.task}-{label.lower()}.gradients"
        c1, c2, c3 = st.columns(3)
        c1.download_button("JSON", lambda: export.gradients_to_json(arrays, meta), f"{name}.json", "application/json",
                           key="grad_dl_json", on_click="ignore")
        c2.download_button("NPZ", lambda: export.gradients_to_npz(arrays), f"{name}.npz", "application/zip",
                           key="grad_dl_npz", on_click="ignore")
        c3.download_button("CSV", lambda: export.gradients_to_csv(dh, dc, tokens), f"{name}.csv", "text/csv",
                           key="grad_dl_csv", on_click="ignore")
        st.caption(_("The CSV has one row per (layer, direction, step, unit): dh, and dc for an LSTM; read it with "
                     "`cells.export.read_csv`. The NPZ and JSON add the saliencies."))
