"""Count models: the baselines a character language model has to beat.

    lm = KneserNey(order=2).fit(train_ids, vocab_size)
    lm.prob(context_ids, w)                   # p(w | the last order − 1 ids of the context)
    lm.losses(piece)                          # (len − 1,) −log p(x_{t+1} | x_≤t), as the neural models are scored

Interpolated modified Kneser–Ney (Chen & Goodman 1998, §3.5), with nothing tuned:

    p_n(w | h) = max(c_n(h, w) − D_n(c_n(h, w)), 0) / c_n(h)  +  γ_n(h) / c_n(h) · p_{n−1}(w | h')
    γ_n(h)     = D_n(1) N_1(h) + D_n(2) N_2(h) + D_n(3+) N_3+(h)
    p_0(w)     = 1 / V

h' is h without its oldest token, c_n(h) = Σ_w c_n(h, w), and N_k(h) counts the tokens w
with c_n(h, w) = k (3+: at least 3). A context never seen passes straight to p_{n−1}.
The highest order counts n-grams; every lower order counts continuations,
c_n(h, w) = |{v : v h w was seen}|: a token that follows many different histories is a
likely guess in a new one. The discounts come from the counts of counts n_k of each order:

    Y = n_1 / (n_1 + 2 n_2),  D(1) = 1 − 2Y n_2/n_1,  D(2) = 2 − 3Y n_3/n_2,  D(3+) = 3 − 4Y n_4/n_3

Every id, <unk> included, is an ordinary token, so a baseline scores exactly the targets
the neural models score (cells/evaluate.py reads both over the same pieces of text).
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np


def discounts(counts: Counter) -> tuple[float, float, float]:
    """(D(1), D(2), D(3+)) from the counts of counts; each kept within [0, k]."""
    n1, n2, n3, n4 = (sum(1 for c in counts.values() if c == k) for k in (1, 2, 3, 4))
    if not (n1 and n2 and n3):  # too few counts to estimate: plain absolute discounting
        return 0.5, 1.0, 1.5
    y = n1 / (n1 + 2 * n2)
    d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    return tuple(min(max(x, 0.0), k) for k, x in zip((1, 2, 3), d))


class KneserNey:
    def __init__(self, order: int):
        if order < 1:
            raise ValueError(f"order must be at least 1; got {order}")
        self.order = order
        self.vocab_size = 0
        # [n]: context h (n − 1 ids) -> (ids w seen after h, their c_n(h, w), c_n(h), γ_n(h)); index 0 unused
        self.tables: list[dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, int, float]]] = []
        self.discounts: list[tuple[float, float, float]] = []
        self.dist = functools.lru_cache(maxsize=4096)(self._dist)  # this model's own cache

    def fit(self, ids: Sequence[int], vocab_size: int) -> KneserNey:
        ids = [int(i) for i in ids]
        if not ids or min(ids) < 0 or max(ids) >= vocab_size:
            raise ValueError(f"ids must be a non-empty sequence in [0, {vocab_size})")
        N = self.order
        self.vocab_size = vocab_size
        grams = {n: Counter(tuple(ids[i : i + n]) for i in range(len(ids) - n + 1)) for n in range(1, N + 1)}
        self.tables, self.discounts = [{}], [(0.0, 0.0, 0.0)]
        for n in range(1, N + 1):
            # the highest order counts n-grams, the lower ones the distinct tokens seen before them
            counts = grams[n] if n == N else Counter(g[1:] for g in grams[n + 1])
            D = discounts(counts)
            by_context: dict[tuple[int, ...], dict[int, int]] = defaultdict(dict)
            for g, c in counts.items():
                by_context[g[:-1]][g[-1]] = c
            table = {}
            for h, ws in by_context.items():
                c = np.fromiter(ws.values(), dtype=np.float64, count=len(ws))
                table[h] = (np.fromiter(ws, dtype=np.int64, count=len(ws)), c, int(c.sum()),
                            float(np.take(D, np.minimum(c, 3).astype(int) - 1).sum()))
            self.tables.append(table)
            self.discounts.append(D)
        self.dist.cache_clear()
        return self

    def _dist(self, h: tuple[int, ...]) -> np.ndarray:
        """(V,) p_n(· | h) for a context of up to order − 1 ids (read-only)."""
        if not self.tables:
            raise ValueError("fit the model first")
        n = len(h) + 1
        lower = self.dist(h[1:]) if n > 1 else np.full(self.vocab_size, 1.0 / self.vocab_size)
        if h not in self.tables[n]:
            return lower
        ws, c, total, gamma = self.tables[n][h]
        p = gamma / total * lower
        p[ws] += np.maximum(c - np.take(self.discounts[n], np.minimum(c, 3).astype(int) - 1), 0) / total
        p.flags.writeable = False
        return p

    def context(self, ids: Sequence[int]) -> tuple[int, ...]:
        """The last order − 1 ids: all that the model reads of a history."""
        return tuple(int(i) for i in ids[max(0, len(ids) - self.order + 1) :]) if self.order > 1 else ()

    def prob(self, context: Sequence[int], w: int) -> float:
        """p(w | context)."""
        return float(self.dist(self.context(context))[w])

    def losses(self, piece: Sequence[int]) -> np.ndarray:
        """(len − 1,) −log p(piece[t+1] | piece[:t+1]): the piece read from its start, like a
        neural model from the zero state (its first targets have shorter histories)."""
        piece = [int(i) for i in piece]
        return np.array([-math.log(self.prob(piece[: t + 1], piece[t + 1])) for t in range(len(piece) - 1)])
