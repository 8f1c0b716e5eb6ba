"""The Attention and Language-model views' browser payloads. Pure (no Streamlit).

`attention_payload` and `lm_payload` return the JSON string that `viz_app.viewstepper`
sends to the browser once per text; the browser then steps on its own (see
viewstepper/frontend/viewstepper.js). Figures are plotly JSON made by the pure chart
functions, so a notebook draws the same pictures. User text reaches the browser only
as JSON strings, which the component sets as textContent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from cells import attention_rules as scorers

from . import charts_attention, charts_lm
from .charts import visible
from .payload import describe

DIGITS = 6  # decimals sent for weights and probabilities
TOP_K = 10  # next characters listed per step


@dataclass(frozen=True)
class Column:
    model: object  # a cells model (CONTRACTS.md section 4) or a viz_app.standin.StandinModel
    analysis: object  # model.analyze(text)
    warning: str = ""


def _nums(a, digits: int = DIGITS) -> list:
    """A float array as a JSON list, NaN and ±inf as null."""
    a = np.round(np.asarray(a, dtype=np.float64), digits)
    return [None if not np.isfinite(v) else float(v) for v in a.ravel()] if a.ndim == 1 else \
        [_nums(row, digits) for row in a]


def pieces(text: str, spans: list[tuple[int, int]], limit: int = 20_000) -> list[list]:
    """The text cut into [string, t] pieces: t is the token index, −1 for the gaps between tokens."""
    out, at = [], 0
    for t, (s, e) in enumerate(spans):
        if s > at:
            out.append([text[at:s], -1])
        out.append([text[s:e], t])
        at = e
    if at < len(text):
        out.append([text[at:limit], -1])
    return out


def _rule(r: scorers.Rule) -> dict:
    s = r.scores  # (T,)
    m = float(s.max())
    bd = scorers.breakdown(r)
    return {"label": r.label, "trained": r.trained, "note": r.note, "formula": r.formula,
            "sym": list(r.symbols), "scale": r.scale, "scale_text": "1/√D" if r.scale != 1 else "",
            "bias": r.bias, "n": bd["n"], "m": round(m, 4), "Z": round(float(np.exp(s - m).sum()), 4),
            "s": _nums(s, 4), "a": _nums(r.weights), "idx": bd["idx"].tolist(),
            "left": _nums(bd["left"], 3), "right": _nums(bd["right"], 3), "rest": _nums(bd["rest"], 3)}


def attention_column(col: Column, rules: list[scorers.Rule], compare: bool, wmax: float, step: int = 0) -> dict:
    """rules: `scorers.rules_for(col.model, col.analysis)`; the first is drawn as bars and shading."""
    m, a = col.model, col.analysis
    shown = rules if compare else rules[:1]
    bars = charts_attention.attention_bars(a.tokens, rules[0].weights, step, wmax)
    plots = [{"fig": json.loads(bars.to_json())}]
    if compare:
        heat = charts_attention.rules_heatmap(a.tokens, [(r.row_label, r.weights) for r in rules], step)
        plots.append({"fig": json.loads(heat.to_json()),
                      "caption": "Each rule's weights on the same states; * marks an untrained scorer."})
    probs = getattr(a, "probs", None)
    warning = col.warning
    if not rules[0].trained:
        warning = (warning + " " if warning else "") + "This model has no trained attention: every rule here is untrained."
    return {"title": m.kind.upper(), "meta": describe(m), "warning": warning,
            "unknown": [int(i) for i in a.unknown],
            "prediction": None if probs is None else {"labels": [visible(str(l)) for l in m.labels],
                                                      "probs": _nums(probs, 4)},
            "rules": [_rule(r) for r in shown], "plots": plots}


def attention_payload(text: str, columns: list[Column], compare: bool = False, step: int = 0) -> str:
    """JSON for the stepper in attention mode: T, tokens, the text in pieces, one entry per column."""
    a0 = columns[0].analysis
    T = a0.trace.T
    if any(c.analysis.trace.T != T for c in columns):
        raise ValueError("the three models read different numbers of tokens; they must share a tokenizer")
    rules = [scorers.rules_for(c.model, c.analysis) for c in columns]
    wmax = float(max(r[0].weights.max() for r in rules))  # one scale for the three columns' bars and shading
    doc = {"mode": "attention", "T": T, "tokens": [visible(t) for t in a0.tokens],
           "pieces": pieces(text, a0.spans), "wmax": wmax, "compare": compare,
           "note": f"Bars and shading share one scale across the three models: 0 to {wmax:.3f}, the largest weight shown.",
           "columns": [attention_column(c, r, compare, wmax, step) for c, r in zip(columns, rules)]}
    return json.dumps(doc, allow_nan=False, separators=(",", ":"))


def lm_column(col: Column, step: int = 0) -> dict:
    m, a = col.model, col.analysis
    vocab = list(m.vocab)
    s = charts_lm.next_steps(vocab, a.tokens, a.next_token_probs, TOP_K)
    T = len(a.tokens)
    actual = [visible(a.tokens[t + 1]) if t + 1 < T else None for t in range(T)]
    return {"title": m.kind.upper(), "meta": describe(m), "warning": col.warning,
            "unknown": [int(i) for i in a.unknown], "vocab": [visible(v) for v in vocab],
            "top": s.top.tolist(), "top_p": _nums(s.top_p), "actual": actual,
            "actual_id": s.actual.tolist(), "p_actual": _nums(s.p_actual), "ppl": _nums(s.perplexity, 3),
            "plots": [{"fig": json.loads(charts_lm.surprise_chart(a.tokens, s, step).to_json())}]}


def lm_payload(text: str, columns: list[Column], step: int = 0, note: str = "") -> str:
    """JSON for the stepper in language-model mode."""
    a0 = columns[0].analysis
    T = a0.trace.T
    if any(c.analysis.trace.T != T for c in columns):
        raise ValueError("the three models read different numbers of characters")
    doc = {"mode": "lm", "T": T, "tokens": [visible(t) for t in a0.tokens], "pieces": pieces(text, a0.spans),
           "note": note, "columns": [lm_column(c, step) for c in columns]}
    return json.dumps(doc, allow_nan=False, separators=(",", ":"))
