"""What each view sends the browser component: its columns of panels. Pure: no Streamlit.

    doc = compare("who wrote hamlet ?", [(m, m.analyze(text), "") for m in models])
    payload.encode(doc)

Every number comes from cells (the model's analysis, cells.readout, cells.attention_rules);
the figures from viz_app.charts. One builder per view; each returns the envelope of
`viz_app.component.payload.document`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from cells import attention_rules, readout
from cells.explain import MAX_OCCLUSION, kendall_tau

from ..charts import gradients as gc
from ..charts import sequences as sc
from ..charts.diagram import diagram_spec
from ..charts.equations import equation_templates
from ..charts.heatmaps import MAX_COLS, heatmap_spec, quantities, stride_for
from ..charts.scales import NAMES
from ..charts.text import visible
from ..i18n import N_, _, _n
from . import payload as p

TOP_NEXT = {"compare": 5, "language_model": 10}  # next characters listed per step
METRICS = {"dev_accuracy": N_("dev accuracy"), "test_accuracy": N_("test accuracy"),
           "test_nats_per_char": N_("test nats per char"), "test_perplexity": N_("test perplexity"),
           "vocab_with_vectors": N_("vocab with vectors"), "held_out_mse": N_("held out mse"),
           "test_exact_match": N_("test exact match")}  # a model's metrics as the page names them
CLASS_LABELS = {"negative": N_("negative"), "positive": N_("positive")}  # SST-2's; TREC's are codes (ABBR, …)


def describe(model) -> str:
    """'LSTM · 12,345 parameters · dev accuracy 0.861'."""
    parts = [model.kind.upper(), _n("{n:,} parameter", "{n:,} parameters", int(model.num_params))]
    parts += [f"{_(METRICS[k]) if k in METRICS else k.replace('_', ' ')} {v:.3g}" for k, v in model.metrics.items()
              if not k.startswith("early_stopping")]
    return " · ".join(parts)


def label(name: str) -> str:
    """A class label as the page shows it: translated where it is a word, visible whitespace."""
    return _(CLASS_LABELS[name]) if name in CLASS_LABELS else visible(name)


ORDINALS = {1: N_("{k}st"), 2: N_("{k}nd"), 3: N_("{k}rd"), 0: N_("{k}th")}  # "every 4th step"


def _ordinal(k: int) -> str:
    return _(ORDINALS[0 if 10 <= k % 100 <= 20 else k % 10 if k % 10 in (1, 2, 3) else 0], k=k)


def _same_length(items: Sequence) -> int:
    T = items[0][1].trace.T
    if any(item[1].trace.T != T for item in items):
        raise ValueError("the models read different numbers of tokens; they must share a tokenizer")
    return T


def _timeline(fig) -> dict:
    """A time-axis figure as plotly JSON, without its static step marker (shapes[0]): the
    browser overlays a marker of its own, which moves without a redraw."""
    spec = fig if isinstance(fig, dict) else json.loads(fig.to_json())
    spec["layout"] = {k: v for k, v in spec["layout"].items() if k != "shapes"}
    return spec


def _overflow(a, warning: str) -> str:
    if a.trace.finite:
        return warning
    return (warning + " " if warning else "") + _("Some states overflowed to inf/NaN (shown blank).")


# -- Compare --------------------------------------------------------------------------------

def next_char_bars(model, a, k: int) -> dict:
    """The top k next characters at every step, the actual next one outlined and named."""
    s = readout.next_steps(model.vocab, a.tokens, a.next_token_probs, k)
    T = len(a.tokens)
    detail = []
    for t in range(T):
        tok = visible(a.tokens[t + 1]) if t + 1 < T else ""
        if t + 1 == T:
            detail.append(_("end of the text: nothing follows"))
        elif s.actual[t] < 0:
            detail.append(_("actual next «{tok}»: not in the vocabulary (read as <unk>; not scored)", tok=tok))
        elif (rank := np.flatnonzero(s.top[t] == s.actual[t])).size:
            detail.append(_("actual next «{tok}»: p = {p:.4f} (rank {rank}, outlined)", tok=tok, p=s.p_actual[t],
                            rank=rank[0] + 1))
        else:
            detail.append(_("actual next «{tok}»: p = {p:.4f} (not in the top {k})", tok=tok, p=s.p_actual[t],
                            k=len(s.top[t])))
    return p.bars(_("top {k} next characters", k=s.top.shape[1]), s.top_p, vocab=[visible(v) for v in model.vocab],
                  ids=s.top, mark=s.actual, detail=detail, digits=3)


def class_bars(model, a, per_prefix: np.ndarray | None = None) -> dict:
    """Class probabilities: after the whole text, or (per_prefix (T, C)) if the text ended at t."""
    detail = None if a.attention is None else [_("attention on this token: a_t = {w:.3f}", w=w) for w in a.attention]
    labels = [label(l) for l in model.labels]
    if per_prefix is None:
        return p.bars(_("class probabilities (after the whole text)"), [a.probs], labels=labels, detail=detail)
    return p.bars(_("class probabilities if the text ended at t"), per_prefix, labels=labels, detail=detail)


def io_curves(model, a) -> dict:
    """A numeric model's inputs and its read-out over time (cells.own models that have one)."""
    outputs = a.outputs
    captions = {  # (with outputs, more lines than drawn)
        (False, False): N_("the input x_t (grey)"),
        (True, False): N_("the input x_t (grey) and the output y_t = W h_t + b"),
        (False, True): N_("the input x_t (grey); the first {n} of each"),
        (True, True): N_("the input x_t (grey) and the output y_t = W h_t + b; the first {n} of each")}
    what = captions[outputs is not None, a.embeddings.shape[1] > sc.MAX_LINES]
    return p.plotly(_timeline(sc.sequence_spec(a.embeddings, outputs, gc.COLOURS.get(model.kind.upper(), "#1c83e1"))),
                    caption=_(what, n=sc.MAX_LINES))


def state_heatmap(a, max_cols: int = MAX_COLS) -> dict:
    tr = a.trace
    rows = quantities(tr)
    orders = {name: {by: readout.unit_order(arr, by) for by in readout.UNIT_ORDERS[1:]} for name, arr in rows}
    return p.heatmap(_timeline(heatmap_spec(tr, a.tokens, max_cols=max_cols)),
                     [{"name": name, "title": _(NAMES[name]), "H": int(arr.shape[1])} for name, arr in rows],
                     stride_for(tr.T, max_cols), orders)


def compare(text: str, items: Sequence[tuple[object, object, str]], max_cols: int = MAX_COLS) -> dict:
    """items: (model, analysis, warning) per column. Each column: the output at step t
    (class probabilities or the next characters; none for untrained cells), the token
    strip and the heatmaps of every recorded quantity."""
    T = _same_length(items)
    columns = []
    for model, a, warning in items:
        panels = []
        if model.is_classifier and a.probs is not None:
            panels.append(class_bars(model, a))
        elif a.next_token_probs is not None:
            panels.append(next_char_bars(model, a, TOP_NEXT["compare"]))
        elif model.level == "numeric":
            panels.append(io_curves(model, a))
        panels += [p.text("strip", unknown=a.unknown), state_heatmap(a, max_cols)]
        columns.append(p.Column(model.kind.upper(), describe(model), _overflow(a, warning), panels))
    k = stride_for(T, max_cols)
    note = "" if k == 1 else _("{T:,} steps: the heatmaps show every {ordinal} step (the marker covers {k} steps); "
                               "outputs and tokens follow every step.", T=T, ordinal=_ordinal(k), k=k)
    a0 = items[0][1]
    return p.document("compare", [visible(text[s:e]) for s, e in a0.spans], columns, note, unit_orders=True)


def prefix_patch(key: str, items: Sequence[tuple[object, object, np.ndarray]]) -> dict:
    """Swap each classifier's bars (panel 0) for its per-prefix probabilities: items are
    (model, analysis, model.prefix_probs(text)) per column."""
    return p.patches(key, [(c, 0, class_bars(m, a, probs)) for c, (m, a, probs) in enumerate(items)])


# -- Attention ------------------------------------------------------------------------------

RULES = {  # cells.attention_rules' rules by key, as the page names them: (label, row label, note)
    "trained": (N_("additive (trained)"), N_("additive"), N_("W, b, v learned with the classifier")),
    "additive": (N_("additive (untrained)"), N_("additive*"), N_("W, v ~ N(0, 1/fan_in) with seed {seed}, b = 0")),
    "dot": (N_("dot product (untrained)"), N_("dot*"), N_("q = mean of the states h_1 … h_T (no trained query)")),
    "scaled_dot": (N_("scaled dot product (untrained)"), N_("scaled dot*"),
                   N_("q = mean of the states h_1 … h_T (no trained query)")),
    "concat_linear": (N_("concat-linear (untrained)"), N_("concat-lin.*"), N_("w ~ N(0, 1/D) with seed {seed}, b = 0")),
}


def rule_names(r: attention_rules.Rule) -> tuple[str, str, str]:
    """(label, row label, note) of a rule in the current language; cells' own words for a rule
    the page does not know."""
    if r.key not in RULES:
        return r.label, r.row_label, r.note
    lab, row, note = RULES[r.key]
    return _(lab), _(row), _(note, seed=attention_rules.SEED)


def rule_formula(r: attention_rules.Rule, k: int = 3) -> dict:
    """The rule's score at step t as a sum, its k largest terms named, and its softmax."""
    bd = attention_rules.breakdown(r, k)
    L, R, I = r.symbols
    k, more = bd["idx"].shape[1], bd["n"] - bd["idx"].shape[1]
    sc, close = ("1/√D × (", ")") if r.scale != 1 else ("", "")
    names = " + ".join(f"{L}[{{idx.{j}:d}}]·{R}[{{idx.{j}:d}}]" for j in range(k)) + (" + …" if more else "")
    vals = " + ".join(f"{{left.{j}:p}}×{{right.{j}:p}}" for j in range(k)) + \
        (" + {rest:p} " + _n("({n} more term)", "({n} more terms)", more) if more else "")
    s = np.asarray(r.scores, dtype=np.float64)
    Z = float(np.exp(s - s.max()).sum())
    total = f"s_t = {sc}Σ_{I} {L}_{I}·{R}_{I}{close}"
    lines = [_("{formula}   at t = {{t}} «{{tok}}»", formula=r.formula),
             _("{sum}, {n} terms; the {k} largest:", sum=total, n=bd["n"], k=k),
             f"    = {sc}{names}{close}",
             f"    = {sc}{vals}{close} = {{s}}",
             f"a_t = exp(s_t − max s) / Σ_u exp(s_u − max s) = exp({{sm}}) / {Z:.3f} = {{a:4}}"]
    values = {"idx": bd["idx"].tolist(), "left": p.nums(bd["left"], 3), "right": p.nums(bd["right"], 3),
              "rest": p.nums(bd["rest"], 3), "s": p.nums(s, 4), "sm": p.nums(s - s.max(), 4), "a": p.nums(r.weights, 6)}
    name, _row_label, note = rule_names(r)
    return p.formula(lines, values, title=f"{name} — {note}", digits=3, muted=not r.trained)


def attention(text: str, items: Sequence[tuple[object, object, str]], with_rules: bool = False) -> dict:
    """items: (model, analysis, warning) per classifier. Each column: the prediction, the text
    shaded by the attention, the weights as bars, and each rule's formula at step t."""
    from ..charts import attention as attention_charts  # plotly.graph_objects: only when this view is used

    _same_length(items)
    rules = [attention_rules.rules_for(m, a) for m, a, _warning in items]
    wmax = float(max(r[0].weights.max() for r in rules))  # one scale for the three columns
    a0 = items[0][1]
    columns = []
    for (m, a, warning), rs in zip(items, rules):
        shown = rs if with_rules else rs[:1]
        panels = [p.bars(_("prediction"), [a.probs], labels=[label(l) for l in m.labels]),
                  p.text("full", p.pieces(text, a.spans), a.unknown, rs[0].weights, wmax,
                         title=_("attention on the text ({rule})", rule=rule_names(rs[0])[0])),
                  p.plotly(_timeline(attention_charts.attention_bars(a.tokens, rs[0].weights, 0, wmax)))]
        if with_rules:
            heat = attention_charts.rules_heatmap(a.tokens, [(rule_names(r)[1], r.weights) for r in rs])
            panels.append(p.plotly(_timeline(heat), caption=_("Each rule's weights on the same states; * marks an "
                                                              "untrained scorer.")))
        panels += [rule_formula(r) for r in shown]
        if not rs[0].trained:
            warning = (warning + " " if warning else "") + _("This model has no trained attention: every rule here is "
                                                             "untrained.")
        columns.append(p.Column(m.kind.upper(), describe(m), _overflow(a, warning), panels))
    note = _("Bars and shading share one scale across the three models: 0 to {wmax:.3f}, the largest weight shown.",
             wmax=wmax)
    return p.document("attention", [visible(t) for t in a0.tokens], columns, note, step_label=_("token"))


# -- Language model -------------------------------------------------------------------------

def language_model(text: str, items: Sequence[tuple[object, object, str]], note: str = "") -> dict:
    """items: (model, analysis, warning) per language model. Each column: the text, the next
    characters after step t with the actual one outlined, the running perplexity, and
    p(actual next) over the whole text."""
    from ..charts import lm as lm_charts  # plotly.subplots costs 0.3 s to import: only when this view is used

    _same_length(items)
    a0 = items[0][1]
    columns = []
    for m, a, warning in items:
        s = readout.next_steps(m.vocab, a.tokens, a.next_token_probs, TOP_NEXT["language_model"])
        panels = [p.text("full", p.pieces(text, a.spans), a.unknown),
                  p.formula([_("after «{tok}» (t = {t}), the next character:")], {}),
                  next_char_bars(m, a, TOP_NEXT["language_model"]),
                  p.formula([_("running perplexity: {ppl}")], {"ppl": p.nums(s.perplexity, 3)}),
                  p.plotly(_timeline(lm_charts.surprise_chart(a.tokens, s)))]
        columns.append(p.Column(m.kind.upper(), describe(m), _overflow(a, warning), panels))
    return p.document("language_model", [visible(t) for t in a0.tokens], columns, note, step_label=_("character"))


# -- Cell -----------------------------------------------------------------------------------

def cell(text: str, model, a, layer: int, direction: int, unit: int, warning: str = "") -> dict:
    """One model, one unit: the token strip, its cell diagram and its equations at step t."""
    tr = a.trace
    lt = tr.layer(layer, direction)
    series = readout.unit_values(tr, layer, direction, unit)
    where = _("layer {layer} backward · unit {unit}", layer=layer, unit=unit) if direction else \
        _("layer {layer} · unit {unit}", layer=layer, unit=unit)
    fig, steps = diagram_spec(tr.kind, series, lt.c, title=f"{model.kind.upper()} · {where}", reverse=direction == 1)
    lines, values = equation_templates(model.recurrent, tr, layer, direction, unit)
    panels = [p.text("strip", unknown=a.unknown), p.plotly(fig, marker=False, steps=steps),
              p.formula(lines, values, title=_("This step, in numbers ({where})", where=where))]
    if model.level == "numeric":
        panels.insert(1, io_curves(model, a))
    column = p.Column(model.kind.upper(), describe(model), _overflow(a, warning), panels)
    return p.document("cell", [visible(text[s:e]) for s, e in a.spans], [column])


# -- Gradients ------------------------------------------------------------------------------

def _zero_padded(v: np.ndarray, T: int) -> np.ndarray:
    """(T, H): v's rows, then zeros."""
    v = np.asarray(v)
    return v if len(v) == T else np.concatenate([v, np.zeros((T - len(v),) + v.shape[1:], v.dtype)])


def _flow_series(model, a, e_dh: dict, e_dc: dict) -> list[tuple[str, np.ndarray]]:
    """A column's lines for the gradient-flow chart: ‖dL/dh_t‖ of the last layer per direction,
    and for an LSTM ‖dL/dc_t‖ and the mean product of its forget gates after t."""
    K, top, D = model.kind.upper(), a.trace.num_layers - 1, a.trace.num_directions
    arrow = {0: " →" if D > 1 else "", 1: " ←"}
    series = [(f"{K} ‖dL/dh_t‖{arrow[d]}", np.linalg.norm(np.asarray(dh, np.float64), axis=1))
              for (l, d), dh in sorted(e_dh.items()) if l == top]
    for (l, d), dc in sorted(e_dc.items()):
        if l == top:
            series.append((f"{K} ‖dL/dc_t‖{arrow[d]}", np.linalg.norm(np.asarray(dc, np.float64), axis=1)))
            # gradient_flow_spec reads the colour, the dashes and the width from K, "Π f" and "←"
            series.append((_("{model} mean Π f after t{arrow}", model=K, arrow=arrow[d]),
                           readout.forget_products(a.trace, l, d).mean(axis=1)))
    return series


def _flow_lines(e_dh: dict, e_dc: dict, top: int) -> tuple[list[str], dict]:
    """The step's numbers: ‖dL/dh_t‖ (and ‖dL/dc_t‖) of the top layer, per direction."""
    lines, values = [], {}
    for (l, d), dh in sorted(e_dh.items()):
        if l != top:
            continue
        arrow = "←" if d else "→"
        values[f"gh{d}"] = p.nums(np.linalg.norm(np.asarray(dh, np.float64), axis=1), 6, significant=True)
        line = f"{arrow}  ‖dL/dh_t‖ = {{gh{d}:e}}"
        if (l, d) in e_dc:
            values[f"gc{d}"] = p.nums(np.linalg.norm(np.asarray(e_dc[(l, d)], np.float64), axis=1), 6, significant=True)
            line += f"    ‖dL/dc_t‖ = {{gc{d}:e}}"
        lines.append(line)
    return lines, values


SHADES = {"integrated_gradients": N_("integrated gradients"), "grad_x_input": N_("grad × input"),
          "occlusion": N_("occlusion"), "attention": N_("attention")}  # what a classifier's text can be shaded by
# in the Gradients view (shown as _(SHADES[k]))


UNIT_GRADIENTS = {  # the caption of dL/dh_t per unit, by whether the model has two directions
    False: N_("dL/dh_t per unit, the last layer; red +, blue −, full colour at ±{range:.3g}"),
    True: N_("dL/dh_t per unit, the last layer (forward direction); red +, blue −, full colour at ±{range:.3g}")}


def _attributions(m, a, e, text: str, shade: str, uniform: bool) -> tuple[list[dict], list[str]]:
    """A classifier's panels in the Gradients view: its prediction (or, with uniform=True, the
    prediction with uniform attention), the text shaded by one measure, every measure as
    bars; and the notes: Kendall τ of each saliency with the attention, what uniform
    attention changes."""
    notes = []
    p_uniform = m.probs_with_attention(text, np.full(len(a.tokens), 1 / len(a.tokens)))
    p_trained = np.exp(e.logprob)
    moved = _("p({label}) = {trained:.3f} with the trained attention, {uniform:.3f} with uniform attention "
              "({change:+.3f})", label=label(e.target_label), trained=p_trained, uniform=p_uniform[e.target],
              change=p_uniform[e.target] - p_trained)
    labels = [label(l) for l in m.labels]
    bars = p.bars(_("prediction with uniform attention"), [p_uniform], labels=labels, detail=[moved] * len(a.tokens)) \
        if uniform else p.bars(_("prediction"), [a.probs], labels=labels)
    if "occlusion" not in e.saliency:
        notes.append(_("occlusion left out: the text is longer than {n} tokens (one forward pass each)",
                       n=MAX_OCCLUSION))
        shade = "integrated_gradients" if shade == "occlusion" else shade
    if shade == "attention":
        text_panel = p.text("full", p.pieces(text, a.spans), a.unknown, a.attention, float(a.attention.max()),
                            title=_("attention on the text"))
    else:
        v = e.saliency[shade]
        text_panel = p.text("full", p.pieces(text, a.spans), a.unknown, v, float(np.abs(v).max()) or 1.0, diverging=True,
                            title=_("{measure} on the text: red raises p({label}), blue lowers it",
                                    measure=_(SHADES[shade]), label=label(e.target_label)))
    rows = [(_(SHADES["attention"]), a.attention)] + [(_(SHADES[k]), v) for k, v in e.saliency.items()]
    colours = ", ".join(_("{colour} {measure}", colour=_(c), measure=name)
                        for c, (name, _values) in zip(gc.MEASURE_COLOUR_NAMES, rows))
    chart = p.plotly(_timeline(gc.attribution_bars_spec(a.tokens, rows)),
                     caption=_("{colours}; each ÷ its largest |value|: up raises p(target) or draws attention, down "
                               "lowers it", colours=colours))
    notes += [_("Kendall τ(attention, |{measure}|) = {tau:.2f}", measure=_(SHADES[k]),
                tau=kendall_tau(a.attention, np.abs(v))) for k, v in e.saliency.items()]
    notes.append(moved)
    return [bars, text_panel, chart], notes


def gradients(text: str, items: Sequence[tuple], clip: float = 0.0, shade: str = "integrated_gradients",
              uniform: bool = False) -> dict:
    """items: (model, analysis, warning, e) per column, e the model's explanation (cells.explain)
    or, for untrained cells, the Gradients of L = Σ_i h_{T−1,i}. Each column: what the loss is,
    the attributions (classifiers: beside the attention, the text shaded by `shade`, one of
    SHADES; uniform: the prediction with uniform attention; language models: connectivity
    at t), dL/dh_t per unit, the step's numbers and clipping; one chart across the columns
    shows the gradient flow on a log axis."""
    if shade not in SHADES:
        raise ValueError(f"shade must be one of {', '.join(SHADES)}; got {shade!r}")
    T = _same_length(items)
    a0 = items[0][1]
    tokens = [visible(text[s:e]) for s, e in a0.spans]
    columns, overlay = [], []
    for m, a, warning, e in items:
        top = a.trace.num_layers - 1
        panels, notes = [], []
        if hasattr(e, "saliency"):  # a trained model's explanation
            # a language model's stop at the position explained: the loss does not depend on later steps
            dh, dc = ({k: _zero_padded(v, T) for k, v in d.items()} for d in (e.dh, e.dc))
            meta = _("L = −log p({label} | text) = {loss:.4f}", label=label(e.target_label), loss=-e.logprob) \
                if m.is_classifier else \
                _("L = −log p(«{char}» | the {n} characters before it) = {loss:.4f}", char=visible(e.target_label),
                  n=len(e.tokens), loss=-e.logprob)
            if m.is_classifier:
                panels, notes = _attributions(m, a, e, text, shade, uniform)
            else:
                C = m.connectivity(text)  # (P, P + 1), P = T − 1 unless capped; steps after P: no shading
                rows = C / np.maximum(C.max(axis=1, keepdims=True), 1e-30)
                if len(C) < T - 1:
                    notes.append(_("connectivity shown for the first {n} steps (one backward pass each)", n=len(C)))
                panels.append(p.text("full", p.pieces(text, a.spans), a.unknown, rows, 1.0,
                                     title=_("connectivity: how much predicting the character after t depends on each "
                                             "earlier one (‖∂ log p / ∂e‖, row-scaled)")))
            grad_norm = e.recurrent_grad_norm
        else:  # untrained cells: no output, so the loss is the last state's sum
            g = e
            dh = {(lg.layer, lg.direction): lg.dh for lg in g.layers}
            dc = {(lg.layer, lg.direction): lg.dc for lg in g.layers if lg.dc is not None}
            meta = _("L = Σ_i h_{T−1,i}: this model has no class or next-character output to explain, so this "
                     "follows the last state back")
            grad_norm = float(np.sqrt(sum(float((np.asarray(v, np.float64) ** 2).sum()) for v in g.params.values())))
            if not g.finite:
                warning = (warning + " " if warning else "") + _("Some gradients overflowed to inf/NaN: the cell "
                                                                 "explodes.")
        overlay += _flow_series(m, a, dh, dc)
        panels.append(p.plotly(_timeline(gc.unit_gradients_spec(dh[(top, 0)])),
                               caption=_(UNIT_GRADIENTS[len(dh) > 1], range=gc.symmetric_range(dh[(top, 0)]))))
        lines, values = _flow_lines(dh, dc, top)
        if clip > 0:
            scale = min(1.0, clip / grad_norm) if grad_norm > 0 else 1.0
            notes.append(_("clip_grad_norm_(max_norm={clip:g}): ‖∇L‖ of the recurrent weights {norm:.4g} → "
                           "{clipped:.4g} (× {scale:.3g})", clip=clip, norm=grad_norm, clipped=grad_norm * scale,
                           scale=scale))
        else:
            notes.append(_("‖∇L‖ of the recurrent weights = {norm:.4g} (set a clipping threshold to see it "
                           "clipped)", norm=grad_norm))
        panels.append(p.formula([_("at t = {t} «{tok}», the last layer:")] + lines + notes, values, digits=4))
        columns.append(p.Column(m.kind.upper(), meta, _overflow(a, warning), panels))
    wide = [p.plotly(_timeline(gc.gradient_flow_spec(np.arange(T), overlay, tokens, colours=gc.COLOURS, height=320,
                                                title=_("gradient norm (log)"))),
                     caption=_("How far the loss's gradient reaches back: a line that falls steeply to the "
                               "left vanishes. Dashed: ‖dL/dc_t‖ (the LSTM's cell-state path); dotted: how much its "
                               "forget gates keep."))]
    return p.document("gradients", tokens, columns, step_label="t", wide=wide)

