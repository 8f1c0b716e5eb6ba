"""Benchmark: what the Training lab's three live charts cost the server per redraw.

    python tests/benchmarks/bench_lab_charts.py [--steps 2000]

A lab tab redraws its loss, gradient-norm and per-layer charts every `views.lab.REDRAW`
seconds while it trains, on the server's one Python interpreter. This times each chart as
the page draws it: built from three cells' histories of --steps records
(`viz_app.charts.lab`), then handed to `st.plotly_chart` through `views.lab.chart` (which
validates and serialises it; outside a running app nothing is sent). Prints the best of 5
means of 30, in ms.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from viz_app.charts import lab as charts  # noqa: E402
from viz_app.views import lab as view  # noqa: E402


def histories(steps: int) -> dict[str, list[dict]]:
    rng = random.Random(0)
    row = lambda i: {"step": i, "loss": rng.random(), "grad_norm": rng.random(),  # noqa: E731
                     "grad_norm_clipped": rng.random(), "layer_grad_norms": {"layer 0": rng.random(),
                                                                              "read-out": rng.random()}}
    return {cell: [row(i) for i in range(steps)] for cell in ("RNN", "LSTM", "GRU")}


def best_ms(f, n: int = 30, rounds: int = 5) -> float:
    f()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        times.append((time.perf_counter() - t0) / n * 1e3)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=2000, help="records per cell (drawn thinned to charts.POINTS)")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # "no runtime", "no ScriptRunContext": nothing is sent, as meant
    import streamlit as st

    # views.lab.chart; versions before it drew with st.plotly_chart itself (to compare with them)
    draw = getattr(view, "chart", lambda spec, key: st.plotly_chart(spec, key=key))
    h = histories(args.steps)
    evals = {c: [(i * 100, 0.5) for i in range(args.steps // 100)] for c in h}
    figures = {"loss": lambda: charts.loss_curves(h, evals), "gradient norm": lambda: charts.gradient_norms(h, 1.0),
               "per layer": lambda: charts.layer_norms(h)}
    print(f"three cells × {args.steps:,} steps; ms per redraw (best of 5 means of 30)\n")
    print("| chart | build | build + st.plotly_chart |")
    print("|---|---:|---:|")
    total = 0.0
    for name, build in figures.items():
        drawn = best_ms(lambda: draw(build(), f"bench_{name}"))
        total += drawn
        print(f"| {name} | {best_ms(build):.1f} | {drawn:.1f} |")
    print(f"| all three | | {total:.1f} |")


if __name__ == "__main__":
    main()
