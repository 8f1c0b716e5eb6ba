"""The data splits and vocabularies the bundled models are trained and measured on.

    train, val, held, files = classifier_data("sst2", root, seed=0)
    (train, val, test), files = lm_data("shakespeare", root)
    vocab = vocab_of(train, min_freq=2)      # "<pad>", "<unk>", then words by falling frequency

Splits. Nothing reported is used for training or model selection:

    sst2         train.tsv minus 10 % of its sentences and their phrases (early stopping); dev.tsv reported
    trec         train_5500 minus a seeded 10 % slice (early stopping); TREC_10 reported
    shakespeare  first 85 % train, next 5 % early stopping, last 10 % reported
    jaychou      first 80 % train, next 10 % early stopping, last 10 % reported

Training (cells/train.py) and evaluation (cells/evaluate.py) both read their data
from here, so the reported split is the same one training never saw. `batches` pads
a split's id sequences for the torch models, shuffled for training or in a fixed
order for scoring.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from . import data
from .data import Example
from .tokens import chars

VAL_FRAC = 0.10  # classifiers: the share of the training file held out for early stopping


def tokenize(text: str, level: str) -> list[str]:
    toks = data.word_tokens(text) if level == "word" else chars(text)
    return [t.text for t in toks]


def make_vocab(seqs: Iterable[Sequence[str]], specials: list[str], min_freq: int, max_vocab: int = 0) -> list[str]:
    """specials first, then tokens by falling frequency (ties alphabetically: deterministic)."""
    c = Counter(t for s in seqs for t in s)
    kept = sorted((t for t, n in c.items() if n >= min_freq and t not in specials), key=lambda t: (-c[t], t))
    if max_vocab:
        kept = kept[: max_vocab - len(specials)]
    return specials + kept


def vocab_of(train: list[Example] | str, min_freq: int, max_vocab: int = 0) -> list[str]:
    """The vocabulary of a training split: a classifier's ("<pad>", "<unk>", then words) from
    its Examples, a language model's ("<unk>", then characters) from its text. Every model
    of a task reads this one list; training builds it here, and a test rebuilds it."""
    if isinstance(train, str):
        return make_vocab([tokenize(train, "char")], ["<unk>"], min_freq, max_vocab)
    return make_vocab([tokenize(e.text, "word") for e in train], ["<pad>", "<unk>"], min_freq, max_vocab)


# -- classifiers: word level ------------------------------------------------------------

def classifier_data(task: str, root: str | Path | None, seed: int = 0, frac: float = VAL_FRAC,
                    limit: int = 0) -> tuple[list[Example], list[Example], list[Example], list[Path]]:
    """(train, early-stopping, reported) lists of Examples, and the data files used."""
    if task == "sst2":
        full, held = data.load_sst2("train", root), data.load_sst2("dev", root)
        files = [data.data_file("sst2", s, root) for s in ("train", "dev")]
    else:
        full, held = data.load_trec("train", root), data.load_trec("test", root)
        files = [data.data_file("trec", s, root) for s in ("train", "test")]
    if limit:  # smoke tests: less training data, the same held-out set
        full = full[:limit]
    if task == "sst2":
        train, val = sst2_sentence_split(full, seed, frac)
        return train, val, held, files
    order = np.random.default_rng(seed).permutation(len(full))
    n_val = int(len(full) * frac)
    val = [full[i] for i in order[:n_val]]
    train = [full[i] for i in order[n_val:]]
    return train, val, held, files


def sentences(phrases: list[Example]) -> list[Example]:
    """The phrases that occur inside no other phrase: SST-2's whole sentences."""
    inner = set()
    for e in phrases:
        w = e.text.split()
        inner.update(" ".join(w[i:j]) for i in range(len(w)) for j in range(i + 1, len(w) + 1) if j - i < len(w))
    return [e for e in phrases if e.text not in inner]


def sst2_sentence_split(phrases: list[Example], seed: int, frac: float) -> tuple[list[Example], list[Example]]:
    """Hold out whole sentences, as dev has them, and every phrase inside them.

    SST-2's train.tsv lists each sentence and all the phrases of its parse tree. A
    random slice of phrases would mostly be pieces of sentences still in training, so
    it would keep improving long after dev stops; instead hold out a `frac` of the
    sentences and drop from training every phrase that occurs in a held-out sentence.
    """
    roots = sentences(phrases)
    order = np.random.default_rng(seed).permutation(len(roots))
    val = [roots[i] for i in order[: int(len(roots) * frac)]]
    gone = set()
    for e in val:
        w = e.text.split()
        gone.update(" ".join(w[i:j]) for i in range(len(w)) for j in range(i + 1, len(w) + 1))
    return [e for e in phrases if e.text not in gone], val


def batches(seqs: list[np.ndarray], labels: np.ndarray, size: int,
            rng: np.random.Generator | None) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Padded (ids (B, T), lengths (B,), labels (B,)); shuffled, similar lengths batched together.

    With rng None the order is fixed, for scoring.
    """
    idx = np.arange(len(seqs)) if rng is None else rng.permutation(len(seqs))
    pool = size * 50
    groups = []
    for s in range(0, len(idx), pool):
        chunk = sorted(idx[s : s + pool], key=lambda i: len(seqs[i]))  # less padding per batch
        groups += [chunk[j : j + size] for j in range(0, len(chunk), size)]
    if rng is not None:
        groups = [groups[i] for i in rng.permutation(len(groups))]
    for g in groups:
        lens = np.array([len(seqs[i]) for i in g])
        ids = np.zeros((len(g), lens.max()), dtype=np.int64)  # (B, T), 0 = <pad>
        for r, i in enumerate(g):
            ids[r, : lens[r]] = seqs[i]
        yield torch.from_numpy(ids), torch.from_numpy(lens), torch.from_numpy(labels[g])


# -- language models: character level ---------------------------------------------------

def lm_data(task: str, root: str | Path | None, limit: int = 0) -> tuple[tuple[str, str, str], list[Path]]:
    """(train, early-stopping, reported) pieces of the text, in order, and the data file used."""
    text = data.load_shakespeare(root) if task == "shakespeare" else data.load_jaychou(root)
    text = text[:limit] if limit else text
    val_frac = 0.05 if task == "shakespeare" else 0.10
    file = data.data_file(task, "all", root)
    return data.split_text(text, val_frac, 0.10), [file]
