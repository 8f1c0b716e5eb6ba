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
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

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
