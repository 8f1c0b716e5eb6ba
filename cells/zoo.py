"""The bundled trained models, and untrained ones to compare them with.

    m = load_model("sst2-lstm")           # or a path to a checkpoint
    a = m.analyze("this movie was not good")
    a.trace, a.attention, a.probs          # classifiers
    a.next_token_probs                     # language models: (T, V)
    m.generate("分开", n=50, seed=0)        # language models

`analyze` runs the recurrent part through the cells engine (`m.recurrent.trace`) and
computes everything after it in numpy from the trace, so a view shows exactly the
numbers that made the prediction. For a classifier (see cells/models.py):

    H   = trace.output                        (T, 2H)
    s_t = v · tanh(W h_t + b)                 (T,)    cells.attention.additive
    a   = softmax(s),  c = Σ_t a_t h_t        (T,), (2H,)
    p   = softmax(U c + d)                    (C,)

and for a language model p_t = softmax(U h_t + d), row t predicting token t + 1.

Loaded models are cached and shared by every session of the app: their arrays are
read-only, and their lists and dicts are handed out as copies.
"""

from __future__ import annotations

import functools
import hashlib
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import torch

from . import attention as att
from . import checkpoint
from .data import word_tokens
from .params import readonly
from .recurrent import Recurrent, from_torch, init_recurrent
from .tokens import Token, Vocab, chars
from .trace import Trace

WEIGHTS = Path(__file__).parent / "weights"
TASKS = ("sst2", "trec", "shakespeare", "jaychou")
KINDS = ("rnn", "lstm", "gru")
MAX_TOKENS = 2000  # analyze(): longer texts make traces too big to draw
MAX_GENERATE = 2000  # generate(): characters per call
START = "\n"  # a language model reads this first when the prefix is empty
UNTRAINED_EMBED = 16  # input size of untrained models


@dataclass(frozen=True, eq=False)  # eq=False: comparing arrays elementwise has no single truth value
class Analysis:
    """Everything a view needs about one text; arrays are read-only."""

    text: str
    tokens: list[str]
    spans: list[tuple[int, int]]  # text[start:end] of each token
    unknown: list[int]  # positions read as <unk>
    trace: Trace
    embeddings: np.ndarray  # (T, E)
    attention: np.ndarray | None = None  # (T,) a_t, sums to 1 (classifiers)
    attention_scores: np.ndarray | None = None  # (T,) s_t
    probs: np.ndarray | None = None  # (C,) class probabilities (classifiers)
    next_token_probs: np.ndarray | None = None  # (T, V) row t: p(token t+1 | tokens ≤ t) (language models)
    read_as: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))  # position -> word read instead (backoff)


def _np(t: torch.Tensor) -> np.ndarray:
    return readonly(t.detach().numpy().copy())


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Model:
    """A trained (or untrained) model: metadata, its Recurrent, analyze and generate."""

    def __init__(self, name: str, module: torch.nn.Module | None, meta: dict, recurrent: Recurrent | None = None,
                 embed=None):
        self.name = name
        self.task: str = meta["task"]
        self.kind: str = meta["kind"]
        self.level: str = meta["level"]
        self._meta = meta
        self._labels = tuple(meta.get("labels", ()))
        self._vocab = Vocab(tuple(meta["vocab"]), unk="<unk>", backoff=meta.get("backoff")) if meta["vocab"] else None
        self._module = module
        self.recurrent = recurrent if recurrent is not None else from_torch(module.rnn)
        self.is_classifier = bool(self._labels)
        if module is not None:
            self.num_params = sum(p.numel() for p in module.parameters())
            self._E = _np(module.embedding.weight)  # (V, E)
            self._U, self._d = _np(module.out.weight), _np(module.out.bias)  # (C, 2H) or (V, H); (C,) or (V,)
            if self.is_classifier:
                self._W, self._b = _np(module.attn_W.weight), _np(module.attn_W.bias)  # (A, 2H), (A,)
                self._v = _np(module.attn_v.weight[0])  # (A,)
        else:
            self.num_params = sum(w.w_ih.size + w.w_hh.size + w.b_ih.size + w.b_hh.size for w in self.recurrent.weights)
            self._embed = embed

    def __repr__(self) -> str:
        return f"Model({self.name!r}, task={self.task}, kind={self.kind}, params={self.num_params:,})"

    # Copies, so that no caller can change what every other session sees.
    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    @property
    def vocab(self) -> list[str]:
        return list(self._vocab.itos) if self._vocab else []

    @property
    def attention_params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(W (A, 2H), b (A,), v (A,)) of the classifier's s_t = v · tanh(W h_t + b), read-only; None for LMs."""
        return (self._W, self._b, self._v) if self.is_classifier and self._module is not None else None

    @property
    def metrics(self) -> dict:
        return dict(self._meta.get("metrics", {}))

    @property
    def config(self) -> dict:
        return dict(self._meta.get("config", {}))

    @property
    def training_seconds(self) -> float | None:
        return self._meta.get("training_seconds")

    # -- analysis -----------------------------------------------------------------------

    def tokenize(self, text: str) -> list[Token]:
        return word_tokens(text) if self.level == "word" else chars(text)

    def encode(self, text: str) -> np.ndarray:
        """The ids the model reads for a text (T,): its tokens through the vocabulary and its backoff."""
        if self._vocab is None:
            raise ValueError(f"{self.name} is untrained: it has no vocabulary")
        return self._vocab.encode(self.tokenize(text))[0]

    def analyze(self, text: str) -> Analysis:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("nothing to analyze: the text is empty; type a sentence")
        toks = self.tokenize(text)
        if not toks:
            raise ValueError(f"the text {text[:40]!r} has no tokens the model can read (only spaces or control characters)")
        if len(toks) > MAX_TOKENS:
            raise ValueError(f"the text has {len(toks)} tokens; at most {MAX_TOKENS} can be analyzed at once")
        out: dict = {}
        if self._vocab is None:  # untrained: an open vocabulary
            unknown: list[int] = []
            x = np.stack([self._embed(t.text) for t in toks])  # (T, E)
        else:
            ids, unknown = self._vocab.encode(toks)  # (T,)
            out["read_as"] = MappingProxyType(self._vocab.read_as(toks))
            x = self._E[ids]  # (T, E)
        tr = self.recurrent.trace(x)
        H = np.asarray(tr.output)  # (T, D·H)
        if self._module is not None and self.is_classifier:
            scores = att.additive(H, self._W, self._v, self._b)  # (T,)
            a = att.attend(H, scores)
            out.update(attention=a.weights, attention_scores=a.scores,
                       probs=readonly(_softmax(self._U @ a.context + self._d)))  # (C,)
        elif self._module is not None:
            out.update(next_token_probs=readonly(_softmax(H @ self._U.T + self._d)))  # (T, V)
        return Analysis(text, [t.text for t in toks], [(t.start, t.end) for t in toks], list(unknown), tr,
                        readonly(np.array(x)), **out)

    # -- generation ---------------------------------------------------------------------

    def generate(self, prefix: str = "", n: int = 50, temperature: float = 0.8, top_k: int | None = None,
                 seed: int = 0) -> str:
        """The prefix followed by n sampled characters.

        temperature 0 is greedy (argmax). top_k keeps the k likeliest characters.
        Prefix characters outside the vocabulary are read as <unk> (with a warning);
        <unk> itself is never generated. An empty prefix starts from a newline.
        """
        if self._module is None or self.is_classifier:
            raise ValueError(f"{self.name} is not a language model; only shakespeare-* and jaychou-* models generate")
        if not isinstance(n, (int, np.integer)) or not 0 <= n <= MAX_GENERATE:
            raise ValueError(f"n must be an integer from 0 to {MAX_GENERATE}; got {n!r}")
        if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature >= 0):
            raise ValueError(f"temperature must be a finite number ≥ 0; got {temperature!r}")
        if top_k is not None and (not isinstance(top_k, (int, np.integer)) or top_k < 1):
            raise ValueError(f"top_k must be None or an integer ≥ 1; got {top_k!r}")
        toks = chars(prefix) or [Token(START, 0, 0)]
        ids, unknown = self._vocab.encode(toks)
        if unknown and prefix:
            missing = sorted({toks[i].text for i in unknown})
            warnings.warn(f"{self.name}: prefix characters not in the vocabulary were read as <unk>: {missing}",
                          stacklevel=2)
        rng = np.random.default_rng(seed)
        unk = self._vocab.stoi["<unk>"]
        out: list[str] = []
        m = self._module
        with torch.inference_mode():
            # The state carries over, so each new character costs one step, not a re-read of the prefix.
            logits, state = m(torch.from_numpy(ids)[None])  # (1, T, V)
            z = logits[0, -1].double().numpy()  # (V,)
            for _ in range(n):
                z[unk] = -np.inf
                nxt = self._pick(z, temperature, top_k, rng)
                out.append(self._vocab.itos[nxt])
                logits, state = m(torch.tensor([[nxt]]), state)
                z = logits[0, -1].double().numpy()
        return prefix + "".join(out)

    @staticmethod
    def _pick(z: np.ndarray, temperature: float, top_k: int | None, rng: np.random.Generator) -> int:
        if temperature == 0:
            return int(np.argmax(z))
        if top_k is not None and top_k < np.isfinite(z).sum():
            z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
        p = _softmax(z / temperature)
        return int(rng.choice(len(p), p=p))


# -- the zoo ----------------------------------------------------------------------------------

def list_models() -> list[str]:
    """Names of the bundled models whose files are present, task by task, rnn/lstm/gru."""
    return [f"{t}-{k}" for t in TASKS for k in KINDS if (WEIGHTS / f"{t}-{k}.safetensors").is_file()]


def load_model(name_or_path: str | Path) -> Model:
    """A bundled model by name ("sst2-lstm") or a checkpoint by path; cached and shared."""
    s = str(name_or_path)
    if s in {f"{t}-{k}" for t in TASKS for k in KINDS}:
        return _load(str(WEIGHTS / s))
    path = Path(s).expanduser().resolve()
    if not checkpoint.paths(path)[0].is_file():
        raise FileNotFoundError(f"no model {s!r}: not a bundled name ({', '.join(list_models())}) "
                                "and no checkpoint (.json + .safetensors) at that path")
    return _load(str(path))


@functools.lru_cache(maxsize=32)
def _load(path: str) -> Model:
    module, meta = checkpoint.load(path)
    for p in module.parameters():
        p.requires_grad_(False)
    return Model(checkpoint.paths(path)[0].stem, module, meta)


def untrained_model(kind: str, hidden_size: int = 32, init_scale: float = 1.0, forget_bias: float = 0.0,
                    seed: int = 0) -> Model:
    """A randomly initialised one-layer cell that reads any text character by character.

    Each character's embedding is a fixed pseudo-random vector (from its sha256 and the
    seed), so there is no vocabulary and no <unk>. It has no attention, no class
    probabilities and no next-character distribution: it is for comparing states and
    gates with a trained model's.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown cell kind {kind!r}; expected one of {KINDS}")
    rec = init_recurrent("rnn_tanh" if kind == "rnn" else kind, UNTRAINED_EMBED, hidden_size,
                         seed=seed, init_scale=init_scale, forget_bias=forget_bias)

    def embed(token: str) -> np.ndarray:
        h = hashlib.sha256(f"{seed}:{token}".encode()).digest()
        return np.random.default_rng(list(h)).standard_normal(UNTRAINED_EMBED).astype(np.float32)  # (E,)

    meta = {"task": "untrained", "kind": kind, "level": "char", "vocab": [], "labels": [], "metrics": {},
            "config": {"kind": kind, "embed_size": UNTRAINED_EMBED, "hidden_size": hidden_size,
                       "init_scale": init_scale, "forget_bias": forget_bias, "seed": seed}}
    return Model(f"untrained-{kind}", None, meta, recurrent=rec, embed=embed)
