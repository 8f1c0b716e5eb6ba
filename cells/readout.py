"""Reading a trace or a model's outputs step by step: what a view shows at step t.

    s = next_steps(model.vocab, a.tokens, a.next_token_probs, k=10)   # language models
    s.top[t], s.top_p[t], s.actual[t], s.p_actual[t], s.perplexity[t]
    order = unit_order(trace.layer(0, 0).h, "variance")              # rows of a heatmap
    v = unit_values(trace, layer=0, direction=0, unit=5)             # one unit, every step

Row t of `next_token_probs` is p(x_{t+1} | x_0 … x_t): the distribution after reading
token t, judged against the token actually at t + 1. The running perplexity after step
t is exp of the mean of −ln p_s(x_{s+1}) over s ≤ t, skipping next tokens the model
cannot name (not in the vocabulary, or <unk>) and the last step (nothing follows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .trace import Trace

UNIT_ORDERS = ("stored", "variance", "pc1")  # how `unit_order` can sort a heatmap's rows


@dataclass(frozen=True)
class NextSteps:
    top: np.ndarray  # (T, k) vocabulary ids, likeliest first
    top_p: np.ndarray  # (T, k) their probabilities
    actual: np.ndarray  # (T,) id of token t + 1; −1 when it is unknown or t is the last step
    p_actual: np.ndarray  # (T,) its probability; NaN where actual is −1
    perplexity: np.ndarray  # (T,) running perplexity after step t; NaN before any scored step


def top_k(p: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest entries of each row of p (T, V), largest first: (ids (T, k), values (T, k)).

    Ties keep the lower id first. argpartition first: V may be thousands of characters.
    """
    k = min(k, p.shape[1])
    part = np.argpartition(-p, k - 1, axis=1)[:, :k]  # (T, k), unordered
    vals = np.take_along_axis(p, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)  # by value, then id
    ids = np.take_along_axis(part, order, axis=1)
    return ids, np.take_along_axis(p, ids, axis=1)


def next_steps(vocab: list[str], tokens: list[str], probs: np.ndarray, k: int = 10) -> NextSteps:
    p = np.asarray(probs, dtype=np.float64)  # (T, V)
    T = p.shape[0]
    if len(tokens) != T or p.shape[1] != len(vocab):
        raise ValueError(f"probs {p.shape} must be (len(tokens), len(vocab)) = ({len(tokens)}, {len(vocab)})")
    top, top_p = top_k(p, k)
    stoi = {s: i for i, s in enumerate(vocab)}
    actual = np.array([stoi.get(tokens[t + 1], -1) if t + 1 < T else -1 for t in range(T)])  # (T,)
    if "<unk>" in stoi:
        actual[actual == stoi["<unk>"]] = -1
    known = actual >= 0
    p_actual = np.where(known, p[np.arange(T), np.maximum(actual, 0)], np.nan)  # (T,)
    nll = np.where(known, -np.log(np.maximum(p_actual, 1e-300)), 0.0)
    count = np.cumsum(known)
    with np.errstate(invalid="ignore", divide="ignore"):
        ppl = np.where(count > 0, np.exp(np.cumsum(nll) / np.maximum(count, 1)), np.nan)  # (T,)
    return NextSteps(top, top_p, actual, p_actual, ppl)


def unit_order(states: np.ndarray, by: str = "stored") -> np.ndarray:
    """A permutation of the units (columns of states (T, H)) that shows patterns:

    stored    0 … H−1, as the weights store them (looks like noise: units have no order)
    variance  most variable over the text first: the units that react to it
    pc1       by each unit's loading on the states' first principal component, so units
              that rise and fall together sit together (the sign of a component is
              arbitrary; here the largest loading comes first)

    Non-finite values (an overflowed state) count as 0.
    """
    X = np.nan_to_num(np.asarray(states, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)  # (T, H)
    H = X.shape[1]
    if by == "stored":
        return np.arange(H)
    if by == "variance":
        return np.argsort(-X.var(axis=0), kind="stable")
    if by == "pc1":
        Xc = X - X.mean(axis=0)
        _, vecs = np.linalg.eigh(Xc.T @ Xc)  # (H, H), eigenvalues ascending
        pc = vecs[:, -1]
        pc = pc if pc[np.argmax(np.abs(pc))] > 0 else -pc
        return np.argsort(-pc, kind="stable")
    raise ValueError(f"unknown unit order {by!r}; expected one of {UNIT_ORDERS}")


def unit_values(trace: Trace, layer: int, direction: int, unit: int) -> dict[str, np.ndarray]:
    """Every recorded value of one unit at every step, name -> (T,), as a cell diagram labels them:

    x          ‖x_t‖, the norm of the input vector (the diagram's input is a vector)
    h_prev, h  the state read at step t and the one written
    c_prev, c, tanh_c   (LSTM) the cell state read and written, and tanh(c_t)
    i f g o / r z n     the gates
    """
    lt = trace.layer(layer, direction)
    if not 0 <= unit < lt.h.shape[1]:
        raise IndexError(f"unit {unit} out of range for a hidden size of {lt.h.shape[1]}")
    prev = slice(1, None) if lt.reverse else slice(None, -1)

    def before(a: np.ndarray, first: np.ndarray) -> np.ndarray:  # (T,): the value read at each step
        rows = np.asarray(a[prev, unit], dtype=np.float64)
        return np.append(rows, first[unit]) if lt.reverse else np.insert(rows, 0, first[unit])

    out = {"x": np.linalg.norm(np.asarray(lt.x, dtype=np.float64), axis=1),
           "h_prev": before(lt.h, lt.h0), "h": np.asarray(lt.h[:, unit], dtype=np.float64)}
    if lt.c is not None:
        out |= {"c_prev": before(lt.c, lt.c0), "c": np.asarray(lt.c[:, unit], dtype=np.float64)}
        out["tanh_c"] = np.tanh(out["c"])
    out |= {k: np.asarray(g[:, unit], dtype=np.float64) for k, g in lt.gates.items()}
    return out


def forget_products(trace: Trace, layer: int, direction: int) -> np.ndarray:
    """(T, H): Π f_s over the steps after t, to the end of the text (an LSTM's layer): how much
    of the cell state c_t survives to the last step, and how much of the last step's gradient
    reaches c_t along the cell-state line. Row T − 1 (row 0 backwards) is 1."""
    lt = trace.layer(layer, direction)
    if "f" not in lt.gates:
        raise ValueError(f"a {trace.kind} has no forget gate")
    f = np.asarray(lt.gates["f"], dtype=np.float64)[::-1] if not lt.reverse else np.asarray(lt.gates["f"], np.float64)
    after = np.vstack([np.ones((1, f.shape[1])), np.cumprod(f[:-1], axis=0)])  # in processing order, last first
    return after[::-1] if not lt.reverse else after
