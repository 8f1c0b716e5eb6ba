"""Which tokens a prediction rests on: gradients through the whole model, exactly as autograd gives them.

    e = cells.load_model("sst2-lstm").explain("the film is not bad at all")   # target: the predicted class
    e.saliency["grad_x_input"], e.saliency["integrated_gradients"], e.saliency["occlusion"]   # (T,) each
    e.grad_norms[(0, 1)]         # ‖dL/dh_t‖ of layer 0's backward direction, (T,)
    lm = cells.load_model("jaychou-gru")
    e = lm.explain("分开的时候我的心在下雨", position=5)   # which earlier characters predicted character 6

The loss is L = −log p(target): for a classifier, the target class given the whole
text; for a language model, the character at position + 1 given characters 0 … position.
With e_t the embedding the model read at t (T, E):

    grad_x_input_t          Σ_k ∂ log p / ∂e_t,k · e_t,k
    integrated_gradients_t  e_t · ∫_0^1 ∂ log p(α e) / ∂e_t dα, midpoint rule in `STEPS` steps from the
                            baseline of zero embeddings; complete: Σ_t ≈ log p(x) − log p(baseline)
    occlusion_t             log p(target) − log p(target | token t read as <unk>); one forward pass per
                            token, so only for texts up to MAX_OCCLUSION tokens (absent beyond)

The classifier's head, backwards (cells/zoo.py has it forwards): with u_t = W h_t + b,
s_t = v · tanh(u_t), a = softmax(s), c = Σ_t a_t h_t, p = softmax(U c + d),

    dL/dz = p − onehot(target)                 dL/dc = Uᵀ dL/dz
    dL/da_t = dL/dc · h_t                      dL/ds = a ⊙ (dL/da − Σ_u a_u dL/da_u)
    dL/dh_t = a_t dL/dc + Wᵀ ((1 − tanh² u_t) ⊙ v) dL/ds_t

then backpropagation through time (cells.gradients) carries dL/dh to the embeddings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import batched
from .params import readonly
from .recurrent import Recurrent

STEPS = 32  # integrated gradients' midpoint-rule steps
MAX_OCCLUSION = 200  # occlusion re-reads the text once per token: quadratic in T
ROWS = 1 << 14  # sequences × steps in one batched pass (cells.batched)


@dataclass(frozen=True, eq=False)
class Explanation:
    tokens: list[str]  # the tokens the prediction could use (a language model: 0 … position)
    target: int  # the class, or the id of the character predicted
    target_label: str
    logprob: float  # log p(target | text)
    baseline_logprob: float  # log p(target | zero embeddings)
    saliency: Mapping[str, np.ndarray] = field(default_factory=dict)  # name -> (T,)
    grad_norms: Mapping[tuple[int, int], np.ndarray] = field(default_factory=dict)  # (layer, direction) -> (T,)
    dh: Mapping[tuple[int, int], np.ndarray] = field(default_factory=dict)  # (layer, direction) -> (T, H) dL/dh_t
    dc: Mapping[tuple[int, int], np.ndarray] = field(default_factory=dict)  # the same for dL/dc_t (LSTM), else empty
    recurrent_grad_norm: float = 0.0  # ‖dL/dθ‖ over the recurrent weights: what clip_grad_norm_ would clip

    def __post_init__(self) -> None:
        for name in ("saliency", "grad_norms", "dh", "dc"):
            m = {k: readonly(np.asarray(v)) for k, v in getattr(self, name).items()}
            object.__setattr__(self, name, MappingProxyType(m))


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


def classifier_head_backward(H: np.ndarray, W: np.ndarray, b: np.ndarray, v: np.ndarray, U: np.ndarray,
                             d: np.ndarray, target: int) -> tuple[float, np.ndarray]:
    """(log p(target), dL/dH (T, D)) for L = −log p(target), through attention and the output layer."""
    u = np.tanh(H @ W.T + b)  # (T, A)
    s = u @ v  # (T,)
    a = np.exp(s - s.max())
    a /= a.sum()
    c = a @ H  # (D,)
    logp = log_softmax(U @ c + d)  # (C,)
    dz = np.exp(logp)
    dz[target] -= 1  # dL/dz for L = −log p(target)
    dc = U.T @ dz  # (D,)
    da = H @ dc  # (T,)
    ds = a * (da - a @ da)  # (T,)
    dH = np.outer(a, dc) + (ds[:, None] * (1 - u * u) * v) @ W  # (T, D)
    return float(logp[target]), dH


def lm_head_backward(H: np.ndarray, U: np.ndarray, d: np.ndarray, position: int, target: int) -> tuple[float, np.ndarray]:
    """(log p(target at position + 1), dL/dH (T, D)): only row `position` of H feeds this loss."""
    logp = log_softmax(U @ H[position] + d)  # (V,)
    dz = np.exp(logp)
    dz[target] -= 1
    dH = np.zeros_like(H)
    dH[position] = U.T @ dz
    return float(logp[target]), dH


def batches(T: int, B: int) -> list[slice]:
    """Slices of B sequences of T steps, each at most ROWS steps in all: bounds a batched pass's memory."""
    size = max(1, ROWS // T)
    return [slice(i, min(i + size, B)) for i in range(0, B, size)]


def saliencies(rec: Recurrent, x: np.ndarray, head: Callable[[np.ndarray], tuple[float, np.ndarray]],
               logp: float, dx: np.ndarray, unk: np.ndarray) -> tuple[dict[str, np.ndarray], float]:
    """The three saliencies for embeddings x (T, E) read by rec, given head(H) -> (log p,
    dL/dH) on rec's output H (T, D·H), and log p and dx = dL/dx at x itself; unk is the
    embedding occlusion reads in a token's place. Returns them with the baseline's log p.
    The many passes run batched (cells.batched): the STEPS scaled copies of x and the
    baseline in one, the occluded copies in another."""
    T = len(x)
    alphas = np.r_[(np.arange(STEPS) + 0.5) / STEPS, 0.0]  # the midpoints, then the baseline (zero embeddings)
    total, base = np.zeros(x.shape, np.float64), 0.0
    for s in batches(T, len(alphas)):
        Y, tape = batched.forward(rec, alphas[s][None, :, None] * x[:, None, :])
        scored = [head(Y[:, b]) for b in range(Y.shape[1])]
        dX = batched.input_gradients(rec, tape, np.stack([dH for _, dH in scored], axis=1))
        mids = np.arange(s.start, s.stop) < STEPS
        total += dX[:, mids].sum(axis=1, dtype=np.float64)
        if not mids[-1]:
            base = scored[-1][0]
    out = {"grad_x_input": -(dx * x).sum(axis=1),  # log p = −L
           "integrated_gradients": -(total / STEPS * x).sum(axis=1)}
    if T <= MAX_OCCLUSION:
        occluded = np.empty(T)
        for s in batches(T, T):
            X = np.repeat(x[:, None, :], s.stop - s.start, axis=1)
            X[np.arange(s.start, s.stop), np.arange(s.stop - s.start)] = unk  # copy b reads token s.start + b as <unk>
            Y, _ = batched.forward(rec, X)
            occluded[s] = [head(Y[:, b])[0] for b in range(Y.shape[1])]
        out["occlusion"] = logp - occluded
    return out, base


def kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's τ-b rank correlation of two score vectors (ties counted as neither); NaN for
    fewer than two entries or a constant vector."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    i, j = np.triu_indices(len(a), k=1)
    sa, sb = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
    n_a, n_b = np.count_nonzero(sa), np.count_nonzero(sb)
    return float((sa * sb).sum() / np.sqrt(n_a * n_b)) if n_a and n_b else float("nan")
