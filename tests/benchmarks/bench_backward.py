"""Benchmark: trace + backward through time against torch's forward + backward (autograd), same run.

    python tests/benchmarks/bench_backward.py [--repeat 9]
    OPENBLAS_NUM_THREADS=1 python tests/benchmarks/bench_backward.py --threads 1   # both sides on one core

CPU, batch 1, input size 64, float32. The loss is Σ d_output ⊙ output for a fixed
random d_output. torch: `out = module(x); out.backward(d_output)` with x and the
parameters requiring gradients. cells: `rec.backward(rec.trace(x), d_output)`: every
gate, h and c recorded, then dx, dh0, every parameter's gradient and, per step, dh,
dc and every gate's pre-activation gradient. Prints a markdown table for the README.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

import cells
from timing import compare


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--threads", type=int, default=0, help="torch's threads (0: its default); numpy's BLAS "
                                                            "follows OPENBLAS_NUM_THREADS")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    def case(kind, module, x, rng):
        rec = cells.from_torch(module)
        d_out = rng.standard_normal((x.shape[0], module.hidden_size)).astype(np.float32)
        xt, dt = torch.from_numpy(x)[:, None].requires_grad_(), torch.from_numpy(d_out)[:, None]

        def torch_both():
            module.zero_grad(set_to_none=True)
            xt.grad = None
            module(xt)[0].backward(dt)

        return torch_both, lambda: rec.backward(rec.trace(x), d_out)

    compare(("torch forward + backward", "cells trace + backward", "ratio"), args.repeat, max(3, args.repeat // 2), case)


if __name__ == "__main__":
    sys.exit(main())
