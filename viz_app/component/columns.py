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
from . import payload as p

TOP_NEXT = {"compare": 5, "language_model": 10}  # next characters listed per step


def describe(model) -> str:
    """'LSTM · 12,345 parameters · dev accuracy 0.861'."""
    parts = [model.kind.upper(), f"{int(model.num_params):,} parameters"]
    parts += [f"{k.replace('_', ' ')} {v:.3g}" for k, v in model.metrics.items() if not k.startswith("early_stopping")]
    return " · ".join(parts)


def _ordinal(k: int) -> str:
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


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
    return (warning + " " if warning else "") + "Some states overflowed to inf/NaN (shown blank)."


# -- Compare --------------------------------------------------------------------------------

def next_char_bars(model, a, k: int) -> dict:
    """The top k next characters at every step, the actual next one outlined and named."""
    s = readout.next_steps(model.vocab, a.tokens, a.next_token_probs, k)
    T = len(a.tokens)
    detail = []
    for t in range(T):
        if t + 1 == T:
            detail.append("end of the text: nothing follows")
        elif s.actual[t] < 0:
            detail.append(f"actual next «{visible(a.tokens[t + 1])}»: not in the vocabulary (read as <unk>; not scored)")
        else:
            rank = np.flatnonzero(s.top[t] == s.actual[t])
            where = f"rank {rank[0] + 1}, outlined" if rank.size else f"not in the top {len(s.top[t])}"
            detail.append(f"actual next «{visible(a.tokens[t + 1])}»: p = {s.p_actual[t]:.4f} ({where})")
    return p.bars(f"top {s.top.shape[1]} next characters", s.top_p, vocab=[visible(v) for v in model.vocab],
                  ids=s.top, mark=s.actual, detail=detail, digits=3)


def class_bars(model, a, per_prefix: np.ndarray | None = None) -> dict:
    """Class probabilities: after the whole text, or (per_prefix (T, C)) if the text ended at t."""
    detail = [f"attention on this token: a_t = {w:.3f}" for w in a.attention] if a.attention is not None else None
    if per_prefix is None:
        return p.bars("class probabilities (after the whole text)", [a.probs], labels=[visible(l) for l in model.labels],
                      detail=detail)
    return p.bars("class probabilities if the text ended at t", per_prefix, labels=[visible(l) for l in model.labels],
                  detail=detail)


def io_curves(model, a) -> dict:
    """A numeric model's inputs and its read-out over time (cells.own models that have one)."""
    outputs = a.outputs
    what = "the input x_t (grey)" + (" and the output y_t = W h_t + b" if outputs is not None else "")
    return p.plotly(_timeline(sc.sequence_spec(a.embeddings, outputs, gc.COLOURS.get(model.kind.upper(), "#1c83e1"))),
                    caption=what + (f"; the first {sc.MAX_LINES} of each" if a.embeddings.shape[1] > sc.MAX_LINES else ""))


def state_heatmap(a, max_cols: int = MAX_COLS) -> dict:
    tr = a.trace
    rows = quantities(tr)
    orders = {name: {by: readout.unit_order(arr, by) for by in readout.UNIT_ORDERS[1:]} for name, arr in rows}
    return p.heatmap(_timeline(heatmap_spec(tr, a.tokens, max_cols=max_cols)),
                     [{"name": name, "title": NAMES[name], "H": int(arr.shape[1])} for name, arr in rows],
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
    note = "" if k == 1 else (f"{T:,} steps: the heatmaps show every {_ordinal(k)} step (the marker covers {k} steps); "
                              "outputs and tokens follow every step.")
    a0 = items[0][1]
    return p.document("compare", [visible(text[s:e]) for s, e in a0.spans], columns, note, unit_orders=True)


def prefix_patch(key: str, items: Sequence[tuple[object, object, np.ndarray]]) -> dict:
    """Swap each classifier's bars (panel 0) for its per-prefix probabilities: items are
    (model, analysis, model.prefix_probs(text)) per column."""
    return p.patches(key, [(c, 0, class_bars(m, a, probs)) for c, (m, a, probs) in enumerate(items)])


# -- Attention ------------------------------------------------------------------------------

def rule_formula(r: attention_rules.Rule, k: int = 3) -> dict:
    """The rule's score at step t as a sum, its k largest terms named, and its softmax."""
    bd = attention_rules.breakdown(r, k)
    L, R, I = r.symbols
    k, more = bd["idx"].shape[1], bd["n"] - bd["idx"].shape[1]
    sc, close = ("1/√D × (", ")") if r.scale != 1 else ("", "")
    names = " + ".join(f"{L}[{{idx.{j}:d}}]·{R}[{{idx.{j}:d}}]" for j in range(k)) + (" + …" if more else "")
    vals = " + ".join(f"{{left.{j}:p}}×{{right.{j}:p}}" for j in range(k)) + (f" + {{rest:p}} ({more} more terms)" if more else "")
    s = np.asarray(r.scores, dtype=np.float64)
    Z = float(np.exp(s - s.max()).sum())
    lines = [r.formula + "   at t = {t} «{tok}»",
             f"s_t = {sc}Σ_{I} {L}_{I}·{R}_{I}{close}, {bd['n']} terms; the {k} largest:",
             f"    = {sc}{names}{close}",
             f"    = {sc}{vals}{close} = {{s}}",
             f"a_t = exp(s_t − max s) / Σ_u exp(s_u − max s) = exp({{sm}}) / {Z:.3f} = {{a:4}}"]
    values = {"idx": bd["idx"].tolist(), "left": p.nums(bd["left"], 3), "right": p.nums(bd["right"], 3),
              "rest": p.nums(bd["rest"], 3), "s": p.nums(s, 4), "sm": p.nums(s - s.max(), 4), "a": p.nums(r.weights, 6)}
    return p.formula(lines, values, title=f"{r.label} — {r.note}", digits=3, muted=not r.trained)


def attention(text: str, items: Sequence[tuple[object, object, str]], with_rules: bool = False) -> dict:
    """items: (model, analysis, warning) per classifier. Each column: the prediction, the text
    shaded by the attention, the weights as bars, and each rule's formula at step t."""
    from ..charts import attention as attention_charts  # plotly.graph_objects: only when this view is used

    _same_length(items)
    rules = [attention_rules.rules_for(m, a) for m, a, _ in items]
    wmax = float(max(r[0].weights.max() for r in rules))  # one scale for the three columns
    a0 = items[0][1]
    columns = []
    for (m, a, warning), rs in zip(items, rules):
        shown = rs if with_rules else rs[:1]
        panels = [p.bars("prediction", [a.probs], labels=[visible(l) for l in m.labels]),
                  p.text("full", p.pieces(text, a.spans), a.unknown, rs[0].weights, wmax,
                         title=f"attention on the text ({rs[0].label})"),
                  p.plotly(_timeline(attention_charts.attention_bars(a.tokens, rs[0].weights, 0, wmax)))]
        if with_rules:
            heat = attention_charts.rules_heatmap(a.tokens, [(r.row_label, r.weights) for r in rs])
            panels.append(p.plotly(_timeline(heat), caption="Each rule's weights on the same states; * marks an untrained scorer."))
        panels += [rule_formula(r) for r in shown]
        if not rs[0].trained:
            warning = (warning + " " if warning else "") + "This model has no trained attention: every rule here is untrained."
        columns.append(p.Column(m.kind.upper(), describe(m), _overflow(a, warning), panels))
    note = f"Bars and shading share one scale across the three models: 0 to {wmax:.3f}, the largest weight shown."
    return p.document("attention", [visible(t) for t in a0.tokens], columns, note, step_label="token")


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
                  p.formula(["after «{tok}» (t = {t}), the next character:"], {}),
                  next_char_bars(m, a, TOP_NEXT["language_model"]),
                  p.formula(["running perplexity: {ppl}"], {"ppl": p.nums(s.perplexity, 3)}),
                  p.plotly(_timeline(lm_charts.surprise_chart(a.tokens, s)))]
        columns.append(p.Column(m.kind.upper(), describe(m), _overflow(a, warning), panels))
    return p.document("language_model", [visible(t) for t in a0.tokens], columns, note, step_label="character")


# -- Cell -----------------------------------------------------------------------------------

def cell(text: str, model, a, layer: int, direction: int, unit: int, warning: str = "") -> dict:
    """One model, one unit: the token strip, its cell diagram and its equations at step t."""
    tr = a.trace
    lt = tr.layer(layer, direction)
    series = readout.unit_values(tr, layer, direction, unit)
    where = f"layer {layer}{' backward' if direction else ''} · unit {unit}"
    fig, steps = diagram_spec(tr.kind, series, lt.c, title=f"{model.kind.upper()} · {where}", reverse=direction == 1)
    lines, values = equation_templates(model.recurrent, tr, layer, direction, unit)
    panels = [p.text("strip", unknown=a.unknown), p.plotly(fig, marker=False, steps=steps),
              p.formula(lines, values, title=f"This step, in numbers ({where})")]
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
            series.append((f"{K} mean Π f after t{arrow[d]}", readout.forget_products(a.trace, l, d).mean(axis=1)))
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


SHADES = {"integrated_gradients": "integrated gradients", "grad_x_input": "grad × input", "occlusion": "occlusion",
          "attention": "attention"}  # what a classifier's text can be shaded by in the Gradients view


def _attributions(m, a, e, text: str, shade: str, uniform: bool) -> tuple[list[dict], list[str]]:
    """A classifier's panels in the Gradients view: its prediction (or, with uniform=True, the
    prediction with uniform attention), the text shaded by one measure, every measure as
    bars; and the notes: Kendall τ of each saliency with the attention, what uniform
    attention changes."""
    notes = []
    p_uniform = m.probs_with_attention(text, np.full(len(a.tokens), 1 / len(a.tokens)))
    moved = f"p({e.target_label}) = {np.exp(e.logprob):.3f} with the trained attention, {p_uniform[e.target]:.3f} " \
            f"with uniform attention ({p_uniform[e.target] - np.exp(e.logprob):+.3f})"
    labels = [visible(l) for l in m.labels]
    bars = p.bars("prediction with uniform attention", [p_uniform], labels=labels, detail=[moved] * len(a.tokens)) \
        if uniform else p.bars("prediction", [a.probs], labels=labels)
    if "occlusion" not in e.saliency:
        notes.append(f"occlusion left out: the text is longer than {MAX_OCCLUSION} tokens (one forward pass each)")
        shade = "integrated_gradients" if shade == "occlusion" else shade
    if shade == "attention":
        text_panel = p.text("full", p.pieces(text, a.spans), a.unknown, a.attention, float(a.attention.max()),
                            title="attention on the text")
    else:
        v = e.saliency[shade]
        text_panel = p.text("full", p.pieces(text, a.spans), a.unknown, v, float(np.abs(v).max()) or 1.0, diverging=True,
                            title=f"{SHADES[shade]} on the text: red raises p({visible(e.target_label)}), blue lowers it")
    rows = [("attention", a.attention)] + [(SHADES[k], v) for k, v in e.saliency.items()]
    colours = ", ".join(f"{c} {label}" for c, (label, _) in zip(gc.MEASURE_COLOUR_NAMES, rows))
    chart = p.plotly(_timeline(gc.attribution_bars_spec(a.tokens, rows)),
                     caption=f"{colours}; each ÷ its largest |value|: up raises p(target) or draws attention, down lowers it")
    notes += [f"Kendall τ(attention, |{SHADES[k]}|) = {kendall_tau(a.attention, np.abs(v)):.2f}" for k, v in e.saliency.items()]
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
            meta = f"L = −log p({e.target_label} | text) = {-e.logprob:.4f}" if m.is_classifier else \
                f"L = −log p(«{visible(e.target_label)}» | the {len(e.tokens)} characters before it) = {-e.logprob:.4f}"
            if m.is_classifier:
                panels, notes = _attributions(m, a, e, text, shade, uniform)
            else:
                C = m.connectivity(text)  # (P, P + 1), P = T − 1 unless capped; steps after P: no shading
                rows = C / np.maximum(C.max(axis=1, keepdims=True), 1e-30)
                if len(C) < T - 1:
                    notes.append(f"connectivity shown for the first {len(C)} steps (one backward pass each)")
                panels.append(p.text("full", p.pieces(text, a.spans), a.unknown, rows, 1.0,
                                     title="connectivity: how much predicting the character after t depends on each "
                                           "earlier one (‖∂ log p / ∂e‖, row-scaled)"))
            grad_norm = e.recurrent_grad_norm
        else:  # untrained cells: no output, so the loss is the last state's sum
            g = e
            dh = {(lg.layer, lg.direction): lg.dh for lg in g.layers}
            dc = {(lg.layer, lg.direction): lg.dc for lg in g.layers if lg.dc is not None}
            meta = "L = Σ_i h_{T−1,i}: this model has no class or next-character output to explain, so this follows " \
                "the last state back"
            grad_norm = float(np.sqrt(sum(float((np.asarray(v, np.float64) ** 2).sum()) for v in g.params.values())))
            if not g.finite:
                warning = (warning + " " if warning else "") + "Some gradients overflowed to inf/NaN: the cell explodes."
        overlay += _flow_series(m, a, dh, dc)
        panels.append(p.plotly(_timeline(gc.unit_gradients_spec(dh[(top, 0)])),
                               caption="dL/dh_t per unit, the last layer" + (" (forward direction)" if len(dh) > 1 else "") +
                                       f"; red +, blue −, full colour at ±{gc.symmetric_range(dh[(top, 0)]):.3g}"))
        lines, values = _flow_lines(dh, dc, top)
        if clip > 0:
            scale = min(1.0, clip / grad_norm) if grad_norm > 0 else 1.0
            notes.append(f"clip_grad_norm_(max_norm={clip:g}): ‖∇L‖ of the recurrent weights {grad_norm:.4g} → "
                         f"{grad_norm * scale:.4g} (× {scale:.3g})")
        else:
            notes.append(f"‖∇L‖ of the recurrent weights = {grad_norm:.4g} (set a clipping threshold to see it clipped)")
        panels.append(p.formula(["at t = {t} «{tok}», the last layer:"] + lines + notes, values, digits=4))
        columns.append(p.Column(m.kind.upper(), meta, _overflow(a, warning), panels))
    wide = [p.plotly(_timeline(gc.gradient_flow_spec(np.arange(T), overlay, tokens, colours=gc.COLOURS, height=320,
                                                title="gradient norm (log)")),
                     caption="How far the loss's gradient reaches back: a line that falls steeply to the left vanishes. "
                             "Dashed: ‖dL/dc_t‖ (the LSTM's cell-state path); dotted: how much its forget gates keep.")]
    return p.document("gradients", tokens, columns, step_label="t", wide=wide)

