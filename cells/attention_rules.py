"""Attention scoring rules on one classifier's hidden states: the trained one and untrained ones.

Numpy over `cells.attention`. H = trace.output, (T, D) with D = 2·hidden for the
bidirectional classifiers. Every rule here is a sum of products, so a view can show
its formula with the numbers at token t (`breakdown`):

    additive (trained)   s_t = v · tanh(W h_t + b)  = Σ_a v_a · tanh(W h_t + b)_a
    dot                  s_t = q · h_t              = Σ_i q_i · h_t,i
    scaled dot           s_t = q · h_t / √D         = (1/√D) Σ_i q_i · h_t,i
    concat-linear        s_t = w · h_t + b          = Σ_i w_i · h_t,i + b

    a_t = exp(s_t − m) / Σ_u exp(s_u − m),  m = max_u s_u   (the same softmax for all)

The untrained rules have no learned query or parameters, so (the app says so on screen):
q is the sentence's mean state (1/T) Σ_t h_t; w, and W, v of an untrained additive
rule, are drawn from N(0, 1/fan_in) with a fixed seed; b = 0 (a constant b would cancel
in the softmax anyway, as would a query term w_q · q in concat-linear).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import attention as att

SEED = 0  # the untrained parameters' seed
ATTENTION_SIZE = 64  # A of the untrained additive rule (the trained models' size)


@dataclass(frozen=True)
class Rule:
    key: str  # "trained" | "additive" | "dot" | "scaled_dot" | "concat_linear"
    label: str  # shown on screen; untrained rules say so
    formula: str  # plain text, e.g. "s_t = v · tanh(W h_t + b)"
    trained: bool
    note: str  # where the parameters come from
    left: np.ndarray  # (T, n) or (n,): the first factor of each term (v_a, q_i, w_i)
    right: np.ndarray  # (T, n): the second factor (tanh(u)_a, h_t,i)
    symbols: tuple[str, str, str]  # (left, right, index) names for the formula, e.g. ("v", "tanh(u)", "a")
    scale: float = 1.0  # s_t = scale · Σ left·right + bias
    bias: float = 0.0
    scores: np.ndarray | None = None  # (T,) s_t; computed from the terms unless given
    weights: np.ndarray | None = None  # (T,) a_t = softmax(s)
    short: str = ""  # a chart's row label; defaults to the label

    @property
    def row_label(self) -> str:
        return self.short or self.label

    def __post_init__(self) -> None:
        if self.scores is None:
            object.__setattr__(self, "scores", self.scale * self.terms.sum(axis=1) + self.bias)
        if self.weights is None:
            object.__setattr__(self, "weights", att.softmax(self.scores))

    @property
    def terms(self) -> np.ndarray:
        return np.broadcast_to(self.left, self.right.shape) * self.right  # (T, n)


def trained_params(model) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(W (A, D), b (A,), v (A,)) of a trained classifier's additive attention, or None."""
    p = model.attention_params
    return None if p is None else tuple(np.asarray(a) for a in p)


def _additive(H: np.ndarray, W: np.ndarray, b: np.ndarray, v: np.ndarray, trained: bool, note: str,
              **given) -> Rule:
    u = H @ W.T + b  # (T, A)
    label = "additive (trained)" if trained else "additive (untrained)"
    return Rule("trained" if trained else "additive", label, "s_t = v · tanh(W h_t + b)", trained, note,
                v, np.tanh(u), ("v", "tanh(u)", "a"), short="additive" if trained else "additive*", **given)


def trained_rule(model, analysis) -> Rule | None:
    """The model's own attention, checked against what `analyze` reported; None if it has none."""
    p = trained_params(model)
    if p is None or getattr(analysis, "attention_scores", None) is None:
        return None
    H = np.asarray(analysis.trace.output, dtype=np.float64)  # (T, D)
    W, b, v = p
    # The scores and weights shown are exactly the ones analyze() reported.
    r = _additive(H, W, b, v, trained=True, note="W, b, v learned with the classifier",
                  scores=np.asarray(analysis.attention_scores), weights=np.asarray(analysis.attention))
    terms = r.terms.sum(axis=1)  # (T,)
    if not np.allclose(terms, analysis.attention_scores, atol=1e-4, rtol=1e-4):
        return None  # the parameters are not the ones analyze used: show nothing rather than wrong numbers
    return r


def untrained_rules(H: np.ndarray, seed: int = SEED, with_additive: bool = False) -> list[Rule]:
    """Dot, scaled dot and concat-linear (and optionally additive) on the same states, untrained."""
    H = np.asarray(H, dtype=np.float64)  # (T, D)
    T, D = H.shape
    rng = np.random.default_rng(seed)
    q = H.mean(axis=0)  # (D,) the sentence's mean state stands in for a learned query
    w = rng.standard_normal(D) / np.sqrt(D)  # (D,)
    qn = "q = mean of the states h_1 … h_T (no trained query)"
    rules = [
        Rule("dot", "dot product (untrained)", "s_t = q · h_t", False, qn, q, H, ("q", "h_t", "i"),
             short="dot*"),
        Rule("scaled_dot", "scaled dot product (untrained)", "s_t = q · h_t / √D", False, qn, q, H,
             ("q", "h_t", "i"), scale=1 / np.sqrt(D), short="scaled dot*"),
        Rule("concat_linear", "concat-linear (untrained)", "s_t = w · h_t + b", False,
             f"w ~ N(0, 1/D) with seed {seed}, b = 0", w, H, ("w", "h_t", "i"), short="concat-lin.*"),
    ]
    if with_additive:
        W = rng.standard_normal((ATTENTION_SIZE, D)) / np.sqrt(D)  # (A, D)
        v = rng.standard_normal(ATTENTION_SIZE) / np.sqrt(ATTENTION_SIZE)  # (A,)
        rules.insert(0, _additive(H, W, np.zeros(ATTENTION_SIZE), v, trained=False,
                                  note=f"W, v ~ N(0, 1/fan_in) with seed {seed}, b = 0"))
    return rules


def rules_for(model, analysis, seed: int = SEED) -> list[Rule]:
    """The trained rule first when there is one, else an untrained additive rule first."""
    tr = trained_rule(model, analysis)
    rest = untrained_rules(analysis.trace.output, seed, with_additive=tr is None)
    return ([tr] if tr else []) + rest


def breakdown(rule: Rule, k: int = 3) -> dict:
    """The formula's numbers at every step: the k largest terms by |left·right| and the rest.

    idx (T, k), left (T, k), right (T, k), rest (T,), with
    s_t = scale · (Σ_j left[t, j] · right[t, j] + rest[t]) + bias.
    """
    terms = rule.terms  # (T, n)
    k = min(k, terms.shape[1])
    idx = np.argsort(-np.abs(terms), axis=1, kind="stable")[:, :k]  # (T, k)
    left = np.broadcast_to(rule.left, terms.shape)
    top = np.take_along_axis(terms, idx, axis=1)  # (T, k)
    return {"idx": idx, "left": np.take_along_axis(left, idx, axis=1),
            "right": np.take_along_axis(rule.right, idx, axis=1),
            "rest": terms.sum(axis=1) - top.sum(axis=1), "n": terms.shape[1]}
