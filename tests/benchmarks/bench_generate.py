"""Benchmark: generating characters with RNN, LSTM and GRU, the way the Language-model view does.

    python tests/benchmarks/bench_generate.py [--n 200] [--repeat 7]

For each character task, the three bundled models generate n characters one after
another (`model.generate(prefix, n, temperature=0.8, seed=0)`: numpy, one step per
character with the state carried over, `Recurrent.advance`); the table gives the
median wall time of all three together, the cost per character, and the time to
build the view's payload for a generated text (analyze + JSON).
"""

from __future__ import annotations

import argparse
import os
import platform

import cells
from cells import zoo
from viz_app.component import columns, payload
from timing import median_time

PREFIX = {"shakespeare": "ROMEO:", "jaychou": "分开"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}, n = {args.n}, median of {args.repeat}\n")
    print("| task | hidden | RNN+LSTM+GRU, as the view generates | per char per model | payload for the generated text |")
    print("|---|---|---|---|---|")
    for task in zoo.LM_TASKS:
        models = [cells.load_model(f"{task}-{k}") for k in zoo.KINDS]
        t_gen = median_time(lambda: [m.generate(PREFIX[task], n=args.n, temperature=0.8, seed=0) for m in models],
                            args.repeat)
        text = models[1].generate(PREFIX[task], n=args.n, temperature=0.8, seed=0)
        t_pay = median_time(lambda: payload.encode(columns.language_model(text, [(m, m.analyze(text), "") for m in models])),
                            max(3, args.repeat // 2))
        print(f"| {task} | {models[0].recurrent.hidden_size} | **{t_gen * 1e3:.0f} ms** "
              f"| {t_gen / 3 / max(1, args.n) * 1e6:.0f} µs | {t_pay * 1e3:.0f} ms |")
    print("\nbar: generate 200 characters with all three models in ≤ 1 s")


if __name__ == "__main__":
    main()
