"""Benchmark: the full trace against the plain torch forward, in the same run.

    python tests/benchmarks/bench_trace.py [--repeat 15]

CPU, batch 1, input size 64. Prints a markdown table for the README: the median
time of `torch_module(x)` and of `rec.trace(x)` (every gate, h and c, for every t),
their ratio, and the memory of a T=10,000, H=512 LSTM trace.
"""

from __future__ import annotations

import argparse
import resource
import sys

import numpy as np
import torch

import cells
from timing import CASES, header, median_time, torch_module

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    print(header(args.repeat))
    print("| cell | T | H | torch forward | full trace | trace / forward |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, T, H in CASES:
        module = torch_module(kind, 64, H).eval()
        rec = cells.from_torch(module)
        x = rng.standard_normal((T, 64)).astype(np.float32)
        xt = torch.from_numpy(x)[:, None]

        def forward():
            with torch.inference_mode():
                module(xt)

        repeat = args.repeat if T < 1000 else max(5, args.repeat // 2)
        # interleave so that machine load hits both sides alike
        tf, tt = [], []
        for _ in range(3):
            tf.append(median_time(forward, repeat))
            tt.append(median_time(lambda: rec.trace(x), repeat))
        f, t = min(tf), min(tt)
        print(f"| {kind.upper()} | {T} | {H} | {f * 1e3:.2f} ms | {t * 1e3:.2f} ms | {t / f:.2f}× |")

    T, H = 10_000, 512
    rec = cells.from_torch(torch.nn.LSTM(64, H).eval())
    x = rng.standard_normal((T, 64)).astype(np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tr = rec.trace(x)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\nLSTM trace, T={T}, H={H}: arrays {tr.nbytes / 2**20:.0f} MiB; "
          f"peak resident memory grew {(after - before) / 1024:.0f} MiB while tracing")


if __name__ == "__main__":
    sys.exit(main())
