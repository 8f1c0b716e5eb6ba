"""Benchmark: generating characters with RNN, LSTM and GRU, the way the Language-model view does.

    python tests/benchmarks/bench_generate.py [--n 200] [--repeat 7]

For each character task, the three models generate n characters one after another,
as the view does (`viz_app.generation.generate`: `model.generate(prefix, n,
temperature=0.8, seed=0)`, one step per character with the state carried over, on one
torch thread); the table gives the median wall time of all three together, the same
with torch's default thread count, and the time to build the view's payload for the
generated text (analyze + JSON).

The bundled models are used when cells/weights has them; otherwise a model of the
same architecture as cells/train.py's (same sizes, random weights, a vocabulary of
the task's size) is timed instead, and the table says so — the cost of a step does
not depend on what the weights learned.
"""

from __future__ import annotations

import argparse
import os
import platform
import warnings

import torch

import cells
from cells import zoo
from cells.models import CharLM, ModelConfig
from viz_app import generation, payloads
from timing import median_time

PREFIX = {"shakespeare": "ROMEO:", "jaychou": "分开"}
VOCAB_SIZE = {"shakespeare": 67, "jaychou": 2600}  # about what the training data gives


def same_shape_model(task: str, kind: str) -> zoo.Model:
    """A random-weight model with the bundled one's architecture (cells/train.py's TaskSpec)."""
    from cells.train import TASKS as SPECS

    spec = SPECS[task]
    base = [chr(c) for c in range(32, 127)] if task == "shakespeare" else [chr(0x4E00 + i) for i in range(3000)]
    vocab = ["<pad>", "<unk>", "\n"] + base[: VOCAB_SIZE[task] - 3]
    torch.manual_seed(0)
    module = CharLM(ModelConfig(kind, len(vocab), spec.embed_size, spec.hidden_size, spec.num_layers)).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    meta = {"task": task, "kind": kind, "level": "char", "vocab": vocab, "labels": [], "metrics": {}, "config": {}}
    return zoo.Model(f"{task}-{kind} (same shape, random weights)", module, meta)


def models_for(task: str) -> tuple[list, str]:
    names = [f"{task}-{k}" for k in zoo.KINDS]
    if all(n in cells.list_models() for n in names):
        return [cells.load_model(n) for n in names], "bundled"
    return [same_shape_model(task, k) for k in zoo.KINDS], "same shape, random weights"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # prefixes outside a random model's vocabulary
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}, torch {torch.__version__} ({torch.get_num_threads()} threads by default), "
          f"n = {args.n}, median of {args.repeat}\n")
    print("| task | models | hidden | RNN+LSTM+GRU, as the view generates | per char per model "
          "| plain `model.generate`, torch's default threads | payload for the generated text |")
    print("|---|---|---|---|---|---|---|")
    for task in ("shakespeare", "jaychou"):
        models, source = models_for(task)
        req = generation.check_request(PREFIX[task], args.n, 0.8, 0, 0, list(models[0].vocab))
        t_view = median_time(lambda: [generation.generate(m, req) for m in models], args.repeat)
        t_raw = median_time(lambda: [m.generate(PREFIX[task], n=args.n, temperature=0.8, seed=0) for m in models],
                       max(1, args.repeat // 3))
        text = generation.generate(models[1], req)
        t_pay = median_time(lambda: payloads.lm_payload(text, [payloads.Column(m, m.analyze(text)) for m in models]),
                       max(3, args.repeat // 2))
        print(f"| {task} | {source} | {models[0].recurrent.hidden_size} | **{t_view * 1e3:.0f} ms** "
              f"| {t_view / 3 / max(1, args.n) * 1e6:.0f} µs | {t_raw * 1e3:.0f} ms | {t_pay * 1e3:.0f} ms |")
    print(f"\nbar: generate 200 characters with all three models in ≤ 1 s")


if __name__ == "__main__":
    main()
