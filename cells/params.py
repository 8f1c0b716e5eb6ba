"""The parameters of one direction of one recurrent layer, in PyTorch's layout.

PyTorch fuses the k per-gate matrices of a layer into one tensor, stacked along
the first axis in a fixed order (LSTM: i, f, g, o; GRU: r, z, n; RNN: k = 1):

    weight_ih  (k·H, I)      bias_ih  (k·H,)
    weight_hh  (k·H, H)      bias_hh  (k·H,)

Gate k of H units is rows k·H … (k+1)·H − 1, e.g. W_if = weight_ih[H:2H] for the LSTM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def readonly(a: np.ndarray) -> np.ndarray:
    """Mark an array read-only in place and return it (traces are shared by every viewer)."""
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class CellWeights:
    """Weights of one (layer, direction); arrays are read-only."""

    w_ih: np.ndarray  # (k·H, I)
    w_hh: np.ndarray  # (k·H, H)
    b_ih: np.ndarray  # (k·H,)
    b_hh: np.ndarray  # (k·H,)

    def __post_init__(self) -> None:
        kh, _ = self.w_ih.shape
        if self.w_hh.shape[0] != kh or self.b_ih.shape != (kh,) or self.b_hh.shape != (kh,):
            raise ValueError(
                "inconsistent weight shapes: "
                f"weight_ih {self.w_ih.shape}, weight_hh {self.w_hh.shape}, "
                f"bias_ih {self.b_ih.shape}, bias_hh {self.b_hh.shape}"
            )
        for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
            a = getattr(self, name)
            if not np.isfinite(a).all():
                bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
                raise ValueError(f"{name} holds {bad} NaN or infinite value(s); refusing to trace it")
            readonly(a)

    @property
    def hidden_size(self) -> int:
        return self.w_hh.shape[1]

    @property
    def input_size(self) -> int:
        return self.w_ih.shape[1]
