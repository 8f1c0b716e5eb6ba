"""Attention over the states of a trace: scores, weights and the context vector.

For states h_1 … h_T (rows of H, (T, D)) and an optional query q, a scoring rule
gives one score s_t per position; softmax turns the scores into weights; the
context is their weighted sum:

    dot             s_t = q · h_t
    scaled dot      s_t = q · h_t / √D                      (Vaswani et al. 2017)
    general         s_t = q · (W h_t)                       (Luong et al. 2015, "general")
    additive        s_t = v · tanh(W h_t + W_q q + b)       (Bahdanau et al. 2015, "concat" -> tanh -> v)
    concat-linear   s_t = w · h_t + w_q · q + b             ([h_t; q] -> linear, no tanh)

    a_t = exp(s_t) / Σ_u exp(s_u)       over unmasked positions; masked a_t = 0 exactly
    context = Σ_t a_t h_t

Without a query, additive and concat-linear score each position on its own: the
self-attention pooling of the BiLSTM+attention classifier (Yang et al. 2016 learn the
query as v). Masks are boolean (T,), True where a position may be attended to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import readonly


@dataclass(frozen=True)
class Attention:
    scores: np.ndarray  # (T,)  s_t
    weights: np.ndarray  # (T,)  a_t, sums to 1
    context: np.ndarray  # (D,)  Σ a_t h_t


def _states(H: np.ndarray) -> np.ndarray:
    H = np.asarray(H)
    if H.ndim != 2 or H.shape[0] == 0:
        raise ValueError(f"attention needs states of shape (T, D) with T ≥ 1; got {H.shape}")
    return H


def _query(H: np.ndarray, q: np.ndarray, width: int | None = None) -> np.ndarray:
    q = np.asarray(q)
    want = H.shape[1] if width is None else width
    if q.shape != (want,):
        raise ValueError(f"query must have shape ({want},) to match states of width {H.shape[1]}; got {q.shape}")
    return q


def softmax(scores: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Weights (T,) that sum to 1; stable for scores of any size (max subtracted)."""
    s = np.asarray(scores, dtype=np.result_type(scores, np.float32))
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"scores must be a non-empty vector, got shape {s.shape}")
    keep = np.ones(s.shape, bool) if mask is None else np.asarray(mask, bool)
    if keep.shape != s.shape:
        raise ValueError(f"mask shape {keep.shape} does not match scores {s.shape}")
    if not keep.any():
        raise ValueError("every position is masked; there is nothing to attend to")
    if not np.isfinite(s[keep]).all():
        raise ValueError("attention scores hold NaN or infinite values")
    e = np.where(keep, np.exp(s - s[keep].max(), where=keep, out=np.zeros_like(s)), 0.0)
    return e / e.sum()


def dot(H: np.ndarray, q: np.ndarray) -> np.ndarray:
    H = _states(H)
    return H @ _query(H, q)  # (T,)


def scaled_dot(H: np.ndarray, q: np.ndarray) -> np.ndarray:
    H = _states(H)
    return H @ _query(H, q) / np.sqrt(H.shape[1])  # (T,)


def general(H: np.ndarray, q: np.ndarray, W: np.ndarray) -> np.ndarray:
    """s_t = q · (W h_t); W (Dq, D)."""
    H = _states(H)
    return (H @ np.asarray(W).T) @ _query(H, q, np.shape(W)[0])  # (T,)


def additive(H: np.ndarray, W: np.ndarray, v: np.ndarray, b: np.ndarray | None = None,
             q: np.ndarray | None = None, W_q: np.ndarray | None = None) -> np.ndarray:
    """s_t = v · tanh(W h_t + W_q q + b); W (A, D), v (A,), W_q (A, Dq)."""
    H = _states(H)
    u = H @ np.asarray(W).T  # (T, A)
    if b is not None:
        u = u + b
    if q is not None:
        u = u + np.asarray(W_q) @ np.asarray(q)
    return np.tanh(u) @ v  # (T,)


def concat_linear(H: np.ndarray, w: np.ndarray, b: float = 0.0,
                  q: np.ndarray | None = None, w_q: np.ndarray | None = None) -> np.ndarray:
    """s_t = w · h_t + w_q · q + b; w (D,), w_q (Dq,)."""
    H = _states(H)
    s = H @ np.asarray(w) + b  # (T,)
    if q is not None:
        s = s + np.asarray(w_q) @ np.asarray(q)
    return s


def attend(H: np.ndarray, scores: np.ndarray, mask: np.ndarray | None = None) -> Attention:
    """Scores -> weights -> context, all read-only."""
    H = _states(H)
    if np.shape(scores) != (H.shape[0],):
        raise ValueError(f"one score per position expected: {H.shape[0]}, got shape {np.shape(scores)}")
    a = softmax(scores, mask)
    return Attention(readonly(np.array(scores)), readonly(a), readonly(a @ H))
