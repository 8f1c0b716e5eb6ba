"""Models that are not among the twelve bundled ones, in the interface the views read.

    m = own.OwnModel("my-lstm", rec)                          # reads numbers: I per step
    m = own.OwnModel("my-lstm", rec, embedding=E, vocab=v)    # reads text through E (V, I) and v
    m = own.from_lab(run.model, "adding-lstm")                # a training-lab model, with its read-out
    a = m.analyze("0.1, 0.2, 0.3")                            # a cells.zoo.Analysis

A user's own network (cells.from_file, cells.from_keras), a training-lab run and the
bundled sine → cosine models are shown by the same views as the bundled classifiers and
language models. `OwnModel` gives them zoo.Model's reading interface: `analyze(text)`
returns the same `Analysis` (tokens, spans, trace, and `outputs` (T, O) when the model
has a linear read-out y_t = W h_t + b; `next_token_probs` when that read-out scores a
vocabulary, as the lab's lyrics model does).

A model reads text in one of three ways (`level`):
- "numeric": numbers, I per step, written as cells.sequences describes ("0.5, 1.0" per line);
- "char": one token per character, through a vocabulary and an embedding matrix;
- "word": English word tokens (cells.tokens.words), likewise.

It has no attention and no loss head of the bundled kind (`has_head` is False), so the
Gradients view follows L = Σ_i h_{T−1,i} back through it, as for untrained cells.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping

import numpy as np

from . import sequences
from .messages import msg
from .params import readonly
from .recurrent import Recurrent, from_state_dict
from .tokens import Token, Vocab, chars, words
from .zoo import KINDS, WEIGHTS, Analysis, read_tokens, softmax

SINE = "sine"  # the bundled numeric example: `rnnscope train sine KIND` writes cells/weights/sine-KIND
LEVELS = ("numeric", "char", "word")
KIND_OF = {"rnn_tanh": "rnn", "rnn_relu": "rnn", "lstm": "lstm", "gru": "gru", "gru_reset_before": "gru"}  # -> the views' kind
MAX_VOCAB_BYTES = 5_000_000
MAX_VOCAB = 500_000


class OwnModel:
    """A Recurrent, what it reads (numbers, or tokens through a vocabulary and an embedding)
    and optionally a linear read-out of its output, W (O, D·H) and b (O,)."""

    is_classifier = False
    labels: tuple[str, ...] = ()
    attention_params = None
    has_head = False

    def __init__(self, name: str, recurrent: Recurrent, *, embedding: np.ndarray | None = None,
                 vocab: Vocab | None = None, level: str | None = None,
                 readout: tuple[np.ndarray, np.ndarray] | None = None, scores_vocab: bool = False,
                 task: str = "yours", metrics: Mapping[str, float] | None = None, config: Mapping | None = None):
        if (embedding is None) != (vocab is None):
            raise ValueError("a model that reads text needs both an embedding matrix and a vocabulary; "
                             "a model that reads numbers needs neither")
        level = level or ("numeric" if vocab is None else "word")
        if level not in LEVELS or (level == "numeric") != (vocab is None):
            raise ValueError(f"level must be 'numeric' without a vocabulary, 'char' or 'word' with one; got {level!r}")
        if embedding is not None:
            embedding = readonly(np.asarray(embedding, dtype=recurrent.dtype))
            if embedding.shape != (len(vocab), recurrent.input_size):
                raise ValueError(msg("the embedding matrix is {rows:,} × {cols:,} but the vocabulary has {V:,} "
                                     "entries and the cell reads {I} numbers per step: it must be {V:,} × {I}",
                                     rows=embedding.shape[0], cols=embedding.shape[1], V=len(vocab),
                                     I=recurrent.input_size))
            if not np.isfinite(embedding).all():
                raise ValueError(msg("the embedding matrix holds NaN or infinite values"))
        if readout is not None:
            W, b = (readonly(np.asarray(a, dtype=recurrent.dtype)) for a in readout)
            if W.ndim != 2 or W.shape[1] != recurrent.num_directions * recurrent.hidden_size or b.shape != W.shape[:1]:
                raise ValueError(f"the read-out must be W (O, {recurrent.num_directions * recurrent.hidden_size}) and "
                                 f"b (O,); got {W.shape} and {b.shape}")
            readout = (W, b)
        if scores_vocab and (readout is None or vocab is None or readout[0].shape[0] != len(vocab)):
            raise ValueError("a read-out scores the vocabulary only when it has one output per entry")
        self.name, self.task, self.level = name, task, level
        self.kind = KIND_OF.get(recurrent.kind, recurrent.kind)
        self.recurrent, self.readout, self.scores_vocab = recurrent, readout, scores_vocab
        self._embedding, self._vocab = embedding, vocab
        self.metrics = dict(metrics or {})
        self.config = dict(config or {})
        parts = [w for cw in recurrent.weights for w in (cw.w_ih, cw.w_hh, cw.b_ih, cw.b_hh)]
        parts += [a for a in (embedding, *(readout or ())) if a is not None]
        self.num_params = int(sum(p.size for p in parts))

    def __repr__(self) -> str:
        return f"OwnModel({self.name!r}, {self.recurrent!r}, level={self.level})"

    @property
    def vocab(self) -> list[str]:
        return list(self._vocab.itos) if self._vocab is not None else []

    @property
    def input_size(self) -> int:
        return self.recurrent.input_size

    def tokenize(self, text: str) -> list[Token]:
        if self.level == "numeric":
            return sequences.parse(text, self.input_size)[1]
        return chars(text) if self.level == "char" else words(text)

    def inputs(self, text: str) -> tuple[np.ndarray, list[Token], list[int]]:
        """What the cell reads: x (T, I), the tokens, and the positions read as <unk>."""
        if self.level == "numeric":
            x, toks = sequences.parse(text, self.input_size)
            return x, toks, []
        toks = read_tokens(self.tokenize, text)
        ids, unknown = self._vocab.encode(toks)  # (T,)
        return self._embedding[ids], toks, list(unknown)  # (T, I)

    def analyze(self, text: str) -> Analysis:
        x, toks, unknown = self.inputs(text)
        tr = self.recurrent.trace(x)
        out: dict = {}
        if self.readout is not None:
            W, b = self.readout
            with np.errstate(over="ignore", invalid="ignore"):
                y = np.asarray(tr.output) @ W.T + b  # (T, O)
            out["next_token_probs" if self.scores_vocab else "outputs"] = readonly(softmax(y) if self.scores_vocab else y)
        return Analysis(text, [t.text for t in toks], [(t.start, t.end) for t in toks], unknown, tr,
                        readonly(np.array(x, dtype=self.recurrent.dtype)), **out)


def from_lab(model, name: str) -> OwnModel:
    """A training-lab model (cells.lab.LabModel): its cell, its read-out and, for the
    lyrics, its characters' embedding and vocabulary (the read-out then scores them)."""
    state = {k: v.detach().cpu().numpy() for k, v in model.state.items()}
    rec = from_state_dict(state, {"rnn": "rnn_tanh"}.get(model.settings.kind, model.settings.kind), prefix="rnn.")
    text = model.vocab is not None
    return OwnModel(name, rec, embedding=state["embedding.weight"] if text else None, vocab=model.vocab,
                    level="char" if text else "numeric", readout=(state["out.weight"], state["out.bias"]),
                    scores_vocab=text, task=model.settings.task)


@functools.cache
def sine(kind: str) -> OwnModel:
    """The bundled sine → cosine model of a cell kind: it reads sin(0.25 t + φ), one number per
    step, and outputs cos(0.25 t + φ) at every step (cells.lab's sine_cosine task). Shared and
    read-only; its metric is the MSE on the lab's held-out example. Needs torch (cells.lab)."""
    from . import lab

    if kind not in KINDS:
        raise ValueError(f"unknown cell kind {kind!r}; expected one of {KINDS}")
    lm = lab.load(WEIGHTS / f"{SINE}-{kind}")
    x, y, mask, _ = lab.example(lm.settings, seed=1)
    m = from_lab(lm, f"{SINE}-{kind}")
    m.metrics["held_out_mse"] = float(lab.readout(lm, x, y, mask)["loss"])
    return m


def read_vocab(data: bytes) -> Vocab:
    """A vocabulary file: one token per line (line i is id i), or a JSON list of tokens or
    object {token: id} with ids 0 … V−1. "<unk>", if present, is where unknown tokens go;
    without it, a text with a token outside the vocabulary is refused."""
    if len(data) > MAX_VOCAB_BYTES:
        raise ValueError(msg("the vocabulary file is {mb:.1f} MB; at most {limit:.0f} MB", mb=len(data) / 1e6,
                             limit=MAX_VOCAB_BYTES / 1e6))
    try:
        s = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(msg("the vocabulary file is not UTF-8 text")) from None
    itos = _json_vocab(s) if s.lstrip()[:1] in ("[", "{") else s.splitlines()
    if not itos:
        raise ValueError(msg("the vocabulary file is empty"))
    if len(itos) > MAX_VOCAB:
        raise ValueError(msg("the vocabulary has {n:,} entries; at most {limit:,}", n=len(itos), limit=MAX_VOCAB))
    seen: dict[str, int] = {}
    for i, tok in enumerate(itos):
        if tok in seen:
            raise ValueError(msg("the vocabulary lists «{token}» twice (ids {first} and {second}); each token must "
                                 "appear once, since its line number is its id", token=tok[:30], first=seen[tok],
                                 second=i))
        seen[tok] = i
    return Vocab(tuple(itos), unk="<unk>" if "<unk>" in seen else None)


def _json_vocab(s: str) -> list[str]:
    try:
        v = json.loads(s)
    except json.JSONDecodeError as e:
        raise ValueError(msg("the vocabulary file is not valid JSON ({error} at line {line})", error=e.msg,
                             line=e.lineno)) from None
    if isinstance(v, list) and all(isinstance(t, str) for t in v):
        return v
    if isinstance(v, dict) and all(isinstance(t, str) and isinstance(i, int) for t, i in v.items()):
        if sorted(v.values()) != list(range(len(v))):
            raise ValueError(msg("the vocabulary's ids must be 0, 1, …, V − 1, each once"))
        return [t for t, _ in sorted(v.items(), key=lambda kv: kv[1])]
    raise ValueError(msg("a JSON vocabulary must be a list of tokens or an object {token: id}"))


def char_level(vocab: Vocab) -> bool:
    """Whether a vocabulary's entries are single characters (besides <…> markers): read text by characters."""
    entries = [t for t in vocab.itos if not (t.startswith("<") and t.endswith(">"))]
    return bool(entries) and all(len(chars(t)) == 1 for t in entries)

