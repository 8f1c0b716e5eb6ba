"""Train the bundled models: `rnnscope train …`.

    rnnscope train sst2 lstm                 # -> cells/weights/sst2-lstm.{safetensors,json}
    rnnscope train shakespeare gru --out /tmp/sh-gru --max-minutes 2

A checkpoint's sidecar keeps what made it: the TaskSpec, the vocabulary, the metrics
and the sha256 of the data files. What each task trains on, stops early on and
reports is in cells/splits.py; the validation scores (accuracy, nats per character)
and `rnnscope eval`, which remeasures checkpoints, are in cells/evaluate.py.

Runs are seeded (torch, numpy) and single-process; with the same seed, data and
thread count they repeat exactly, unless --max-minutes cuts one short. Every cell
kind of a task gets the same TaskSpec: same sizes, epochs and optimiser.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from . import checkpoint, data
from .evaluate import accuracy, nats_per_char
from .models import ModelConfig, build, num_params
from .ngram import KneserNey
from .splits import batches, classifier_data, lm_data, tokenize, vocab_of
from .tokens import Vocab
from .zoo import WEIGHTS

UNK = "<unk>"


@dataclass(frozen=True)
class TaskSpec:
    level: str  # "word" (classifier) | "char" (language model)
    embed_size: int
    hidden_size: int
    num_layers: int = 1
    attention_size: int = 64
    dropout: float = 0.3
    min_freq: int = 1  # rarer tokens become <unk>
    max_vocab: int = 0  # 0: no cap
    epochs: int = 10
    patience: int = 2  # epochs without a better validation score before stopping
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.0  # AdamW's decoupled decay; 0: plain Adam
    clip: float = 1.0  # gradient norm
    word_dropout: float = 0.0  # replace input tokens by <unk> with this probability
    backoff: str | None = None  # classifier: tokens.BACKOFFS entry for words outside the vocabulary
    vectors: str | None = None  # classifier: "glove-6b-50d" starts the embedding from pretrained vectors
    average: float = 0.0  # keep and score a moving average of the weights with this decay (0: the weights themselves)
    lr_decay: float = 1.0  # classifier: learning rate × this per epoch
    teacher: float = 0.0  # language model: share of the training target taken from the Kneser–Ney bigram
    tie: bool = False  # language model: train the output layer and the embedding as one matrix (embed = hidden)
    seq_len: int = 100  # language model: characters per training window
    steps_per_epoch: int = 0  # language model: windows per epoch is steps × batch
    refit: bool = False  # language model: once early stopping has fixed the epochs, train afresh on the training
    #                      text and the early-stopping slice for that many (the count models then fit on both too)
    storage: str = "float16"  # how the checkpoint stores weights: checkpoint.STORAGES


TASKS = {
    "sst2": TaskSpec("word", embed_size=50, hidden_size=96, min_freq=1, epochs=6,
                     patience=2, batch_size=32, lr=2e-3, lr_decay=0.85, word_dropout=0.1, dropout=0.4,
                     backoff="english-suffixes", vectors="glove-6b-50d", average=0.999),
    "trec": TaskSpec("word", embed_size=96, hidden_size=96, min_freq=1, epochs=20, patience=4,
                     batch_size=32, lr=2e-3, word_dropout=0.1, dropout=0.4),
    "shakespeare": TaskSpec("char", embed_size=64, hidden_size=256, dropout=0.1, epochs=10, patience=10,
                            batch_size=64, lr=3e-3, seq_len=100, steps_per_epoch=400),
    "jaychou": TaskSpec("char", embed_size=256, hidden_size=256, min_freq=2, dropout=0.1, epochs=30,
                        patience=4, batch_size=32, lr=4e-3, teacher=0.8, tie=True, seq_len=64, steps_per_epoch=50),
}
LABELS = {"sst2": list(data.SST2_LABELS), "trec": list(data.TREC_LABELS)}


# -- classifier ---------------------------------------------------------------------------

def train_classifier(task: str, kind: str, spec: TaskSpec,
                     args: argparse.Namespace) -> tuple[nn.Module, dict, list[str], dict[str, str]]:
    train, val, held, files = classifier_data(task, args.data, args.seed, limit=args.limit)
    vocab = vocab_of(train, spec.min_freq, spec.max_vocab)
    words = Vocab(tuple(vocab), UNK, spec.backoff)  # reads text exactly as the loaded model will

    def enc(exs):
        seqs = [words.encode(tokenize(e.text, "word"))[0] for e in exs]
        keep = [i for i, s in enumerate(seqs) if len(s)]  # a sentence must have a token
        return [seqs[i] for i in keep], np.array([exs[i].label for i in keep], dtype=np.int64)

    tr, va, ho = enc(train), enc(val), enc(held)
    cfg = ModelConfig(kind, len(vocab), spec.embed_size, spec.hidden_size, spec.num_layers,
                      len(LABELS[task]), spec.attention_size, spec.dropout)
    model = build(cfg)
    shas = data.file_shas(files)
    if spec.vectors:
        wv = init_vectors(model, vocab, spec)
        shas |= wv.files
    opt = optimizer(model, spec)
    rng = np.random.default_rng(args.seed)
    loss_fn = nn.CrossEntropyLoss()
    unk = words.stoi[UNK]

    def step(ids, lens, y):
        if spec.word_dropout:
            drop = (torch.rand(ids.shape) < spec.word_dropout) & (ids != 0)
            ids = ids.masked_fill(drop, unk)
        logits, _ = model(ids, lens)
        return loss_fn(logits, y)

    n_batches = math.ceil(len(tr[0]) / spec.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: spec.lr_decay ** (s / n_batches))
    fit(model, opt, spec, args, n_batches, lambda: batches(*tr, spec.batch_size, rng), step,
        lambda: accuracy(model, *va), "val_acc", higher=True, sched=sched)
    checkpoint.round_to_stored(model, spec.storage)
    metric = "dev_accuracy" if task == "sst2" else "test_accuracy"
    metrics = {metric: accuracy(model, *ho), "early_stopping_accuracy": accuracy(model, *va)}
    if spec.vectors:
        metrics["vocab_with_vectors"] = float(wv.found.mean())
    return model.eval(), metrics, vocab, shas


def init_vectors(model: nn.Module, vocab: list[str], spec: TaskSpec) -> data.WordVectors:
    """Start the embedding from pretrained vectors: words without one get random rows of the
    same spread, <pad> zeros. Returns the vectors looked up (which words had one, and the
    sha256 of the files read)."""
    if spec.vectors != data.GLOVE["name"]:
        raise ValueError(f"unknown word vectors {spec.vectors!r}; expected {data.GLOVE['name']!r}")
    wv = data.word_vectors(vocab)
    if wv.vectors.shape[1] != spec.embed_size:
        raise ValueError(f"{spec.vectors} has {wv.vectors.shape[1]} dimensions; the embedding has {spec.embed_size}")
    rows = torch.from_numpy(wv.vectors)  # (V, E)
    found = torch.from_numpy(wv.found)
    with torch.no_grad():
        w = model.embedding.weight
        w.normal_(0.0, float(rows[found].std()))
        w[found] = rows[found]
        w[0] = 0.0  # <pad>
    return wv


# -- language model -----------------------------------------------------------------------

def train_lm(task: str, kind: str, spec: TaskSpec,
             args: argparse.Namespace) -> tuple[nn.Module, dict, list[str], dict[str, str]]:
    """Early stopping on the slice before the held-out text picks the epochs; with spec.refit
    the model is then trained again from the same seed on the training text and that slice
    together, for exactly that many epochs (the slice is then training text, so nothing can
    be scored on it), and the bigram it distils from is fitted on the same, longer text."""
    (train, val, test), files = lm_data(task, args.data, args.limit)
    vocab = vocab_of(train, spec.min_freq, spec.max_vocab)  # the vocabulary early stopping chose with
    alphabet = Vocab(tuple(vocab), UNK)
    tr, va, te = (alphabet.encode(tokenize(t, "char"))[0] for t in (train, val, test))
    model, best_epoch = _fit_lm(kind, spec, args, len(vocab), tr, alphabet.stoi[UNK], lambda m: nats_per_char(m, va))
    checkpoint.round_to_stored(model, spec.storage)
    metrics = {"early_stopping_nats_per_char": nats_per_char(model, va), "early_stopping_epochs": best_epoch}
    if spec.refit:
        both = alphabet.encode(tokenize(train + val, "char"))[0]  # contiguous: the text before the held-out 10 %
        model, _ = _fit_lm(kind, spec, args, len(vocab), both, alphabet.stoi[UNK], None, epochs=best_epoch)
        checkpoint.round_to_stored(model, spec.storage)
        metrics["refit_epochs"] = best_epoch  # trained on the training text and the slice (spec.refit)
    test_nats = nats_per_char(model, te)
    metrics = {"test_nats_per_char": test_nats, "test_perplexity": math.exp(test_nats), **metrics}
    return model.eval(), metrics, vocab, data.file_shas(files)


def _fit_lm(kind: str, spec: TaskSpec, args: argparse.Namespace, V: int, tr: np.ndarray, unk: int,
            score: Callable[[nn.Module], float] | None, epochs: int = 0) -> tuple[nn.Module, int]:
    """A language model trained on the ids `tr` from the seed: early-stopped on `score`, or,
    with score None, for `epochs` epochs and kept as it ends. Returns it and its epochs."""
    torch.manual_seed(args.seed)
    cfg = ModelConfig(kind, V, spec.embed_size, spec.hidden_size, spec.num_layers, 0,
                      spec.attention_size, spec.dropout)
    model = build(cfg)
    if spec.tie:  # Press & Wolf 2017: a rare character's row learns from its inputs and its targets
        if spec.embed_size != spec.hidden_size:
            raise ValueError(f"tying needs embed_size = hidden_size; got {spec.embed_size} and {spec.hidden_size}")
        model.out.weight = model.embedding.weight  # (V, H); the checkpoint stores it twice, loading needs no tie
    opt = optimizer(model, spec)
    total = spec.epochs * spec.steps_per_epoch  # the same schedule in both runs: a refit follows the first's steps
    # cosine decay to a tenth: the last epochs polish instead of bouncing
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    rng = np.random.default_rng(args.seed)
    L = spec.seq_len
    bigram = bigram_table(tr, V) if spec.teacher else None  # (V, V)

    def windows():
        for _ in range(spec.steps_per_epoch):
            starts = rng.integers(0, len(tr) - L - 1, spec.batch_size)
            w = torch.from_numpy(np.stack([tr[s : s + L + 1] for s in starts]))  # (B, L+1)
            yield (w,)

    def step(w):
        x, y = w[:, :-1], w[:, 1:].reshape(-1)
        if spec.word_dropout:  # Xie et al. 2017's blank noising: the model learns to back off, as counts do
            x = x.masked_fill(torch.rand(x.shape) < spec.word_dropout, unk)
        logits, _ = model(x)  # every window starts from the zero state, as analyze() does
        logits = logits.reshape(-1, V)  # (B·L, V)
        if bigram is None:
            return nn.functional.cross_entropy(logits, y)
        a = spec.teacher
        target = (1 - a) * nn.functional.one_hot(y, V) + a * bigram[w[:, :-1].reshape(-1)]  # (B·L, V), clean inputs
        return nn.functional.cross_entropy(logits, target)

    fixed = replace(spec, epochs=epochs, patience=epochs + 1) if score is None else spec
    best = fit(model, opt, fixed, args, spec.steps_per_epoch, windows, step,
               None if score is None else (lambda: score(model)), "val_nats" if score else "refit", higher=False, sched=sched,
               epochs=epochs or None)
    return model, best


def bigram_table(ids: np.ndarray, V: int) -> torch.Tensor:
    """(V, V) float32: row v is the Kneser–Ney bigram's p(· | v) fitted on `ids`, the
    distillation target (Hinton et al. 2015) that spreads mass over characters the
    training text shows too rarely for the network to learn on its own."""
    counts = KneserNey(2).fit(ids, V)
    return torch.from_numpy(np.stack([counts.dist((v,)) for v in range(V)])).float()


# -- the loop -----------------------------------------------------------------------------

def optimizer(model: nn.Module, spec: TaskSpec) -> torch.optim.Optimizer:
    if spec.weight_decay:
        return torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
    return torch.optim.Adam(model.parameters(), lr=spec.lr)


def fit(model: nn.Module, opt: torch.optim.Optimizer, spec: TaskSpec, args: argparse.Namespace, n_batches: int,
        make_batches: Callable[[], Iterable[tuple]], step: Callable[..., torch.Tensor], evaluate: Callable[[], float],
        name: str, higher: bool, sched: torch.optim.lr_scheduler.LRScheduler | None = None,
        epochs: int | None = None) -> int:
    """Epochs of clipped Adam steps; keep the weights of the best validation score, and
    return the epoch they come from. With `evaluate` None, run exactly `epochs` epochs
    (a refit: nothing left to score) and keep the last weights.

    With spec.average = β, what is scored and kept is the moving average of the weights,
    w̄ ← β w̄ + (1 − β) w after every step (Polyak averaging), not the last step's weights.
    The time cap (--max-minutes) applies to each call, so a refit has a cap of its own.
    """
    best, best_state, bad, best_epoch = None, None, 0, 0
    deadline = time.monotonic() + 60 * args.max_minutes if args.max_minutes else math.inf
    epochs = epochs or args.epochs or spec.epochs
    params = list(model.parameters())
    avg = [p.detach().clone() for p in params] if spec.average else None
    for epoch in range(1, epochs + 1):
        model.train()
        bar = tqdm(make_batches(), total=n_batches, desc=f"epoch {epoch}/{epochs}", file=sys.stderr,
                   leave=True, dynamic_ncols=True, mininterval=1.0)
        smooth = None  # running mean of the loss, for the progress bar
        for i, b in enumerate(bar):
            loss = step(*b)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, spec.clip)
            opt.step()
            if sched is not None:
                sched.step()
            if avg is not None:
                with torch.no_grad():
                    for a, p in zip(avg, params):
                        a.lerp_(p, 1 - spec.average)
            smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
            if i % 20 == 0:
                bar.set_postfix(loss=f"{smooth:.3f}", **({name: f"{best:.4f}"} if best is not None else {}))
            if time.monotonic() > deadline:
                break
        live = swap(params, avg) if avg is not None else None  # score the average
        score = evaluate() if evaluate is not None else (epoch if higher else -epoch)  # a refit keeps the last
        bar.set_postfix(loss=f"{smooth:.3f}", **{name: f"{score:.4f}"})
        bar.close()
        if best is None or (score > best if higher else score < best):
            best, best_state, bad, best_epoch = score, copy.deepcopy(model.state_dict()), 0, epoch
        else:
            bad += 1
        if live is not None:
            swap(params, live)  # and train on from the last step's weights
        tqdm.write(f"epoch {epoch}: loss {smooth:.4f}  {name} {score:.4f}  best {best:.4f}", file=sys.stderr)
        if bad >= spec.patience or time.monotonic() > deadline:
            break
    model.load_state_dict(best_state)
    return best_epoch


def swap(params: list[nn.Parameter], values: list[torch.Tensor]) -> list[torch.Tensor]:
    """Load `values` into the parameters; returns what they held."""
    old = [p.detach().clone() for p in params]
    with torch.no_grad():
        for p, v in zip(params, values):
            p.copy_(v)
    return old


def train(task: str, kind: str, args: argparse.Namespace) -> tuple[Path, Path]:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    spec = TASKS[task]
    overrides = {k: getattr(args, k) for k in ("embed_size", "hidden_size", "num_layers", "steps_per_epoch") if getattr(args, k)}
    if getattr(args, "refit", False):
        if spec.level != "char":
            raise ValueError("--refit is for the language models (shakespeare, jaychou)")
        overrides["refit"] = True
    spec = replace(spec, **overrides)
    t0 = time.monotonic()
    fn = train_classifier if spec.level == "word" else train_lm
    model, metrics, vocab, shas = fn(task, kind, spec, args)
    seconds = time.monotonic() - t0
    meta = {
        "task": task, "kind": kind, "level": spec.level, "config": model.cfg.to_dict(), "vocab": vocab,
        "backoff": spec.backoff, "storage": spec.storage,
        "labels": LABELS.get(task, []), "metrics": metrics, "num_params": num_params(model),
        "data": shas,
        "training_seconds": round(seconds, 1), "threads": args.threads, "seed": args.seed,
        "train": asdict(spec), "torch": torch.__version__,
    }
    out = args.out or WEIGHTS / f"{task}-{kind}"
    return checkpoint.save(out, model, meta)


SINE = "sine"  # the numeric example: cells.lab's sine → cosine task, saved in the lab's format
SINE_SETTINGS = {"hidden_size": 32, "steps": 1500, "lr": 3e-3}  # reaches an MSE below 0.01 in seconds


def train_sine(kind: str, args: argparse.Namespace) -> int:
    """The bundled sine → cosine model of one cell kind (cells.own.sine reads it)."""
    from . import lab

    settings = {**SINE_SETTINGS, **({"hidden_size": args.hidden_size} if args.hidden_size else {})}
    run = lab.train("sine_cosine", kind=kind, seed=args.seed, **settings)
    jpath, wpath = lab.save(run.model, args.out or WEIGHTS / f"{SINE}-{kind}")
    print(f"wrote {wpath} ({wpath.stat().st_size / 1e3:.1f} kB) and {jpath.name}: held-out MSE "
          f"{run.evals[-1][1]:.5f} after {len(run.history)} steps in {run.seconds[-1]:.1f} s")
    return 0


DATES = "dates"  # the encoder–decoders (cells/seq2seq.py), trained by cells/train_seq2seq.py


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="rnnscope train", description="Train one bundled model on its data set.")
    p.add_argument("task", choices=sorted(TASKS) + [SINE, DATES])
    p.add_argument("kind", choices=["rnn", "lstm", "gru"])
    p.add_argument("--out", type=Path, help="checkpoint path without suffix (default cells/weights/TASK-KIND)")
    p.add_argument("--data", type=Path, help=f"data directory (default ${data.ENV} or ../shared/data)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, help="override the task's epoch count")
    p.add_argument("--max-minutes", type=float, default=0, help="stop early after this long (breaks exact repeatability)")
    p.add_argument("--limit", type=int, default=0, help="smoke tests: the first N training examples (classifiers) or characters (language models)")
    p.add_argument("--embed-size", type=int)
    p.add_argument("--hidden-size", type=int)
    p.add_argument("--num-layers", type=int)
    p.add_argument("--steps-per-epoch", type=int)
    p.add_argument("--refit", action="store_true",
                   help="language models: after early stopping, train afresh on the training text and the "
                        "early-stopping slice for the epochs it chose (the count models fit on both too)")
    args = p.parse_args(argv)
    if args.task == SINE:
        return train_sine(args.kind, args)
    if args.task == DATES:
        from . import train_seq2seq

        return train_seq2seq.main(args.kind, args)
    jpath, wpath = train(args.task, args.kind, args)
    meta = checkpoint.read_meta(jpath)
    print(f"wrote {wpath} ({wpath.stat().st_size / 1e6:.2f} MB) and {jpath.name}: "
          f"{meta['metrics']} in {meta['training_seconds']:.0f} s")
    return 0
