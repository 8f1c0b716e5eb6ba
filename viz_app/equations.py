"""The step's equations with the actual numbers filled in. Pure: returns text lines.

    f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf) = σ(0.51 + 0.32) = σ(0.83) = 0.70

The two halves of each pre-activation come from `Recurrent.step_terms`; the results
are the values the trace recorded (so the numbers are exactly what the model computed).
GRU follows PyTorch: the reset gate multiplies (W_hn h + b_hn), after the matmul.
"""

from __future__ import annotations

import math

import cells

_LSTM = {"i": ("σ", "ii", "hi"), "f": ("σ", "if", "hf"), "g": ("tanh", "ig", "hg"), "o": ("σ", "io", "ho")}
_GRU = {"r": ("σ", "ir", "hr"), "z": ("σ", "iz", "hz")}


def _n(v: float) -> str:
    return f"{v:.2f}" if math.isfinite(v) else str(v)


def _p(v: float) -> str:
    """A factor in a product: negatives in parentheses."""
    return f"({_n(v)})" if v < 0 else _n(v)


def _plus(a: float, b: float) -> str:
    return f"{_n(a)} − {_n(-b)}" if b < 0 else f"{_n(a)} + {_n(b)}"


def _gate(name: str, f: str, wi: str, wh: str, xp: float, hp: float, value: float) -> str:
    return (f"{name}_t = {f}(W_{wi} x_t + b_{wi} + W_{wh} h_{{t−1}} + b_{wh}) "
            f"= {f}({_plus(xp, hp)}) = {f}({_n(xp + hp)}) = {_n(value)}")


def step_equations(rec: cells.Recurrent, trace: cells.Trace, layer: int, direction: int, t: int, unit: int) -> list[str]:
    """One line per equation of this cell kind at step t, for one unit.

    A backward direction reads its state from step t+1, and the lines say so.
    """
    lines = _lines(rec, trace, layer, direction, t, unit)
    return [l.replace("t−1", "t+1") for l in lines] if direction == 1 else lines


def _lines(rec: cells.Recurrent, trace: cells.Trace, layer: int, direction: int, t: int, unit: int) -> list[str]:
    terms = rec.step_terms(trace, layer, direction, t)  # name -> (x_part (H,), h_part (H,))
    lt = trace.layer(layer, direction)
    u = unit
    h_prev = float(lt.h_prev(t)[u])
    h = float(lt.h[t][u])
    if trace.kind == "lstm":
        g = {k: float(v[t][u]) for k, v in lt.gates.items()}
        lines = [_gate(k, *_LSTM[k], float(terms[k][0][u]), float(terms[k][1][u]), g[k]) for k in "ifgo"]
        c_prev, c = float(lt.c_prev(t)[u]), float(lt.c[t][u])
        lines.append(f"c_t = f_t ⊙ c_{{t−1}} + i_t ⊙ g_t = {_p(g['f'])}·{_p(c_prev)} + {_p(g['i'])}·{_p(g['g'])} = {_n(c)}")
        lines.append(f"h_t = o_t ⊙ tanh(c_t) = {_p(g['o'])}·tanh({_n(c)}) = {_n(h)}")
        return lines
    if trace.kind == "gru":
        g = {k: float(v[t][u]) for k, v in lt.gates.items()}
        lines = [_gate(k, *_GRU[k], float(terms[k][0][u]), float(terms[k][1][u]), g[k]) for k in "rz"]
        xn, hn = float(terms["n"][0][u]), float(terms["n"][1][u])
        lines.append(f"n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{{t−1}} + b_hn)) "
                     f"= tanh({_n(xn)} + {_p(g['r'])}·{_p(hn)}) = tanh({_n(xn + g['r'] * hn)}) = {_n(g['n'])}")
        lines.append(f"h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{{t−1}} = {_p(1 - g['z'])}·{_p(g['n'])} + "
                     f"{_p(g['z'])}·{_p(h_prev)} = {_n(h)}")
        return lines
    f = "tanh" if trace.kind == "rnn_tanh" else "relu"
    xp, hp = float(terms["h"][0][u]), float(terms["h"][1][u])
    return [f"h_t = {f}(W_ih x_t + b_ih + W_hh h_{{t−1}} + b_hh) = {f}({_plus(xp, hp)}) "
            f"= {f}({_n(xp + hp)}) = {_n(h)}"]
