"""Benchmark: trace + backward through time against torch's forward + backward (autograd), same run.

    python tests/benchmarks/bench_backward.py [--repeat 9]

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
from timing import CASES, header, median_time, torch_module

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    print(header(args.repeat))
    print("| cell | T | H | torch forward + backward | cells trace + backward | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, T, H in CASES:
        module = torch_module(kind, 64, H)
        rec = cells.from_torch(module)
        x = rng.standard_normal((T, 64)).astype(np.float32)
        d_out = rng.standard_normal((T, H)).astype(np.float32)
        xt, dt = torch.from_numpy(x)[:, None].requires_grad_(), torch.from_numpy(d_out)[:, None]

        def torch_both():
            module.zero_grad(set_to_none=True)
            xt.grad = None
            module(xt)[0].backward(dt)

        repeat = args.repeat if T < 1000 else max(3, args.repeat // 2)
        tt, tc = [], []
        for _ in range(3):  # interleaved, so that machine load hits both sides alike
            tt.append(median_time(torch_both, repeat))
            tc.append(median_time(lambda: rec.backward(rec.trace(x), d_out), repeat))
        a, b = min(tt), min(tc)
        print(f"| {kind.upper()} | {T} | {H} | {a * 1e3:.2f} ms | {b * 1e3:.2f} ms | {b / a:.2f}× |")


if __name__ == "__main__":
    sys.exit(main())
