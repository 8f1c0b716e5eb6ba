"""Seeded stand-in models with the interface of CONTRACTS.md section 4.

Used only when `cells` cannot provide a model (before the model zoo lands, or when a
bundled checkpoint is missing): random weights from `cells.init_recurrent`, token
embeddings drawn from a seed and the token's text (so any text works and nothing is
unknown), and a random output head so that the views have something to show. The app
says on screen when it is showing one.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

import cells
from cells.tokens import Token, chars, words

try:  # the trained models' word tokenizer, so stand-ins and trained models agree on T
    from cells.data import word_tokens
except ImportError:  # before the model code lands
    word_tokens = words

EMBED = 16  # embedding size of the stand-ins
_CELL = {"rnn": "rnn_tanh", "lstm": "lstm", "gru": "gru"}
_CHARS = tuple(" etaoinshrdlucmfwypvbgkjqxz.,!?'\nETAOINSHRDLUCMFWYPVBGKJQXZ")


@dataclass(frozen=True)
class Analysis:
    tokens: list[str]
    spans: list[tuple[int, int]]
    unknown: list[int]
    trace: cells.Trace
    embeddings: np.ndarray  # (T, E)
    probs: np.ndarray | None = None  # (C,)
    step_probs: np.ndarray | None = None  # (T, C): the head applied at every step
    next_token_probs: np.ndarray | None = None  # (T, V)
    attention: np.ndarray | None = None
    attention_scores: np.ndarray | None = None
    read_as: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))  # stand-ins: every token is itself


def _softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class StandinModel:
    def __init__(self, task: str, kind: str, level: str = "word", labels: tuple[str, ...] = (),
                 hidden_size: int = 32, init_scale: float = 1.0, forget_bias: float = 0.0, seed: int = 0):
        self.name, self.task, self.kind, self.level = f"{task}-{kind} (untrained stand-in)", task, kind, level
        self.labels = list(labels)
        self.is_classifier = bool(labels)
        self.vocab = [] if level == "word" else list(_CHARS)
        self.recurrent = cells.init_recurrent(_CELL[kind], EMBED, hidden_size, seed=seed,
                                              init_scale=init_scale, forget_bias=forget_bias)
        self._seed = seed
        rng = np.random.default_rng(seed + 1)
        out = len(labels) if labels else len(self.vocab)
        self._head = (rng.standard_normal((out, hidden_size)) / np.sqrt(hidden_size)).astype(np.float32) if out else None
        self.num_params = sum(w.size for cw in self.recurrent.weights for w in (cw.w_ih, cw.w_hh, cw.b_ih, cw.b_hh))
        self.metrics: dict[str, float] = {}
        self.config = {"hidden_size": hidden_size, "init_scale": init_scale, "forget_bias": forget_bias, "seed": seed}

    def _embed(self, token: str) -> np.ndarray:
        rng = np.random.default_rng([self._seed, zlib.crc32(token.encode("utf-8"))])
        return rng.standard_normal(EMBED).astype(np.float32)

    def tokenize(self, text: str) -> list[Token]:
        return word_tokens(text) if self.level == "word" else chars(text)

    def analyze(self, text: str) -> Analysis:
        toks = self.tokenize(text)
        if not toks:
            raise ValueError("the text is empty: type a sentence")
        emb = np.stack([self._embed(t.text) for t in toks])  # (T, E)
        tr = self.recurrent.trace(emb)
        logits = tr.output @ self._head.T if self._head is not None else None  # (T, C)
        probs = _softmax(logits) if logits is not None else None
        return Analysis(
            tokens=[t.text for t in toks], spans=[(t.start, t.end) for t in toks], unknown=[], trace=tr,
            embeddings=emb,
            probs=probs[-1] if self.is_classifier else None,
            step_probs=probs if self.is_classifier else None,
            next_token_probs=probs if not self.is_classifier and probs is not None else None,
        )
