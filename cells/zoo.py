"""The bundled trained models, and untrained ones to compare them with.

    m = load_model("sst2-lstm")           # or a path to a checkpoint
    a = m.analyze("this movie was not good")
    a.trace, a.attention, a.probs          # classifiers
    a.next_token_probs                     # language models: (T, V)
    m.prefix_probs("this movie was not good")   # classifiers: (T, C), as if the text ended at t
    m.generate("分开", n=50, seed=0)        # language models

Everything runs in numpy: the recurrent part through the cells engine
(`m.recurrent.trace`), the rest from the trace, so a view shows exactly the numbers
that made the prediction, and loading needs no torch (checkpoint.load). For a
classifier (the torch modules are in cells/models.py; the tests hold both equal):

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
import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from . import attention as att
from . import batched
from . import checkpoint
from . import explain as explain_
from .data import word_tokens
from .messages import msg
from .params import readonly
from .recurrent import Recurrent, from_state_dict, init_recurrent
from .tokens import Token, Vocab, chars
from .trace import Trace

WEIGHTS = Path(__file__).parent / "weights"
CLASSIFIER_TASKS = ("sst2", "trec")  # word level: bidirectional cell + attention + classes
LM_TASKS = ("shakespeare", "jaychou")  # character level: next-character distribution
TASKS = CLASSIFIER_TASKS + LM_TASKS
SEQ2SEQ_TASKS = ("dates",)  # character level: an encoder–decoder writes another sequence (cells/seq2seq.py)
KINDS = checkpoint.KINDS  # ("rnn", "lstm", "gru"): the three cells every task is trained with, in this order
CELL = {"rnn": "rnn_tanh", "lstm": "lstm", "gru": "gru"}  # a model kind's cells.Recurrent kind
MAX_TOKENS = 2000  # analyze(): longer texts make traces too big to draw
MAX_PREFIXES = 128  # prefix_probs(): one trace per prefix, so quadratic in T
MAX_GENERATE = 2000  # generate(): characters per call
TEMPERATURE_FLOOR = 1e-4  # sampling below this temperature is greedy decoding (see `pick`)
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
    outputs: np.ndarray | None = None  # (T, O) a numeric read-out at every step (cells.own models that have one)


def read_tokens(tokenize: Callable[[str], list[Token]], text: str) -> list[Token]:
    """text's tokens, or ValueError when there is nothing to read or more than MAX_TOKENS."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(msg("nothing to analyze: the text is empty; type a sentence"))
    toks = tokenize(text)
    if not toks:
        raise ValueError(msg("the text has no tokens the model can read (only spaces or control characters)"))
    if len(toks) > MAX_TOKENS:
        raise ValueError(msg("the text has {n} tokens; at most {limit} can be analyzed at once", n=len(toks),
                             limit=MAX_TOKENS))
    return toks


def softmax(z: np.ndarray) -> np.ndarray:
    """Along the last axis; the maximum is subtracted first, so any finite z is safe."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def pick(z: np.ndarray, temperature: float, top_k: int | None, rng: np.random.Generator) -> int:
    """One id from logits z (V,): the sampler `Model.generate` uses, the only one in rnnscope.

    temperature < TEMPERATURE_FLOOR is greedy (argmax): at 1e-4 a logit 0.01 below the
    best is already e^-100 times less likely, and dividing by ever smaller numbers only
    overflows. Otherwise sample softmax(z / temperature), restricted to the top_k
    largest logits when top_k is given. −inf logits (e.g. <unk>) are never drawn.
    """
    if temperature < TEMPERATURE_FLOOR:
        return int(np.argmax(z))
    if top_k is not None and top_k < np.isfinite(z).sum():
        z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
    p = softmax((z - z.max()) / temperature)  # subtract first: (z − max) / T is never +inf or NaN
    return int(rng.choice(len(p), p=p))


class Sidecar:
    """A bundled model's metrics, config and training time, read from its sidecar (`_meta`): copies."""

    _meta: dict

    @property
    def metrics(self) -> dict:
        return dict(self._meta.get("metrics", {}))

    @property
    def config(self) -> dict:
        return dict(self._meta.get("config", {}))

    @property
    def training_seconds(self) -> float | None:
        return self._meta.get("training_seconds")


class Model(Sidecar):
    """A trained (or untrained) model: metadata, its Recurrent, analyze and generate.

    embed: token ids -> vectors, an (V, E) matrix for a trained model, or for an
    untrained one a function from a token's text to its vector (no vocabulary).
    head: the trained output layers by torch parameter name (attn_W.weight, …, out.bias).
    """

    def __init__(self, name: str, meta: dict, recurrent: Recurrent, embed: np.ndarray | Callable[[str], np.ndarray],
                 head: Mapping[str, np.ndarray] | None = None):
        self.name = name
        self.task: str = meta["task"]
        self.kind: str = meta["kind"]
        self.level: str = meta["level"]
        self._meta = meta
        self._labels = tuple(meta.get("labels", ()))
        self._vocab = Vocab(tuple(meta["vocab"]), unk="<unk>", backoff=meta.get("backoff")) if meta["vocab"] else None
        self.recurrent = recurrent
        self.is_classifier = bool(self._labels)
        self._embed = embed
        self._head = dict(head or {})
        parts = [w for cw in recurrent.weights for w in (cw.w_ih, cw.w_hh, cw.b_ih, cw.b_hh)]
        parts += list(self._head.values()) + ([embed] if isinstance(embed, np.ndarray) else [])
        self.num_params = int(sum(p.size for p in parts))

    def __repr__(self) -> str:
        return f"Model({self.name!r}, task={self.task}, kind={self.kind}, params={self.num_params:,})"

    @property
    def has_head(self) -> bool:
        """Whether it has trained output layers (class probabilities or next characters) to explain."""
        return bool(self._head)

    # Copies, so that no caller can change what every other session sees.
    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    @property
    def vocab(self) -> list[str]:
        return list(self._vocab.itos) if self._vocab else []

    @property
    def attention_params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(W (A, 2H), b (A,), v (A,)) of the classifier's s_t = v · tanh(W h_t + b), read-only; None otherwise."""
        if not self.is_classifier or not self._head:
            return None
        return self._head["attn_W.weight"], self._head["attn_W.bias"], self._head["attn_v.weight"][0]

    # -- analysis -----------------------------------------------------------------------

    def tokenize(self, text: str) -> list[Token]:
        return word_tokens(text) if self.level == "word" else chars(text)

    def encode(self, text: str) -> np.ndarray:
        """The ids the model reads for a text (T,): its tokens through the vocabulary and its backoff."""
        if self._vocab is None:
            raise ValueError(f"{self.name} is untrained: it has no vocabulary")
        return self._vocab.encode(self.tokenize(text))[0]

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """The vectors the model reads for token ids (…,) -> (…, E): e.g. a batch of ids
        padded with the <pad> id (B, T) -> (B, T, E); a new array."""
        if not isinstance(self._embed, np.ndarray):
            raise ValueError(f"{self.name} is untrained: it embeds characters, not ids")
        return self._embed[np.asarray(ids)]

    def _tokens(self, text: str) -> list[Token]:
        return read_tokens(self.tokenize, text)

    def _classify(self, H: np.ndarray) -> dict:
        """Attention pooling and class probabilities over the states H (T, 2H)."""
        W, b, v = self.attention_params
        a = att.attend(H, att.additive(H, W, v, b))  # scores (T,), weights (T,), context (2H,)
        p = softmax(self._head["out.weight"] @ a.context + self._head["out.bias"])  # (C,)
        return {"attention": a.weights, "attention_scores": a.scores, "probs": readonly(p)}

    def classify_states(self, H: np.ndarray) -> dict:
        """The classifier's head on any states H (T, 2H), e.g. a padded batch's: pooled over
        all T rows, so pads among them are attended to (nothing masks them).
        -> {"attention" (T,), "attention_scores" (T,), "probs" (C,)}; analyze() uses the same head."""
        if not self.is_classifier or not self._head:
            raise ValueError(f"{self.name} is not a trained classifier: it has no class probabilities")
        H = np.asarray(H)
        D = self.attention_params[0].shape[1]
        if H.ndim != 2 or H.shape[0] == 0 or H.shape[1] != D:
            raise ValueError(f"H must be the states of a text, shape (T, {D}) with T ≥ 1; got shape {H.shape}")
        return self._classify(H)

    def analyze(self, text: str) -> Analysis:
        toks = self._tokens(text)
        out: dict = {}
        if self._vocab is None:  # untrained: an open vocabulary
            unknown: list[int] = []
            x = np.stack([self._embed(t.text) for t in toks])  # (T, E)
        else:
            ids, unknown = self._vocab.encode(toks)  # (T,)
            out["read_as"] = MappingProxyType(self._vocab.read_as(toks))
            x = self._embed[ids]  # (T, E)
        tr = self.recurrent.trace(x)
        H = np.asarray(tr.output)  # (T, D·H)
        if self._head and self.is_classifier:
            out.update(self._classify(H))
        elif self._head:
            out["next_token_probs"] = readonly(softmax(H @ self._head["out.weight"].T + self._head["out.bias"]))  # (T, V)
        return Analysis(text, [t.text for t in toks], [(t.start, t.end) for t in toks], list(unknown), tr,
                        readonly(np.array(x)), **out)

    def prefix_probs(self, text: str) -> np.ndarray:
        """(T, C): the class probabilities the classifier gives tokens 0 … t alone, for every t.

        A bidirectional reader changes its mind about earlier tokens too, so each prefix is
        read afresh: T traces, which is why texts are limited to MAX_PREFIXES tokens.
        Row T − 1 equals analyze(text).probs.
        """
        if not self.is_classifier or not self._head:
            raise ValueError(f"{self.name} is not a trained classifier: it has no class probabilities")
        x = self.analyze(text).embeddings  # (T, E)
        if len(x) > MAX_PREFIXES:
            raise ValueError(msg("the text has {n} tokens; per-prefix probabilities are computed up to {limit}",
                                 n=len(x), limit=MAX_PREFIXES))
        rows = [self._classify(np.asarray(self.recurrent.trace(x[: t + 1]).output))["probs"] for t in range(len(x))]
        return readonly(np.stack(rows))  # (T, C)

    # -- attribution -------------------------------------------------------------------

    def explain(self, text: str, target: int | None = None, position: int | None = None) -> explain_.Explanation:
        """Which tokens the prediction rests on (cells/explain.py): grad × input, integrated
        gradients and occlusion for L = −log p(target), and ‖dL/dh_t‖ per layer and direction.

        A classifier: target is a class index, default the predicted one. A language model:
        position is the step whose next character is predicted (0 ≤ position ≤ T − 2); only
        characters 0 … position can matter, so the saliencies have position + 1 entries."""
        if not self._head:
            raise ValueError(f"{self.name} is untrained: it predicts nothing to explain")
        a = self.analyze(text)
        ids, _ = self._vocab.encode(self.tokenize(text))
        unk = self._vocab.stoi["<unk>"]
        U, d = self._head["out.weight"], self._head["out.bias"]
        if self.is_classifier:
            if position is not None:
                raise ValueError("position is for language models; a classifier explains a target class")
            target = int(np.argmax(a.probs)) if target is None else target
            if not isinstance(target, (int, np.integer)) or not 0 <= target < len(self._labels):
                raise ValueError(f"target must be a class index from 0 to {len(self._labels) - 1}; got {target!r}")
            W, b, v = self.attention_params
            label, tokens, x = self._labels[target], a.tokens, np.asarray(a.embeddings)

            def head(H: np.ndarray) -> tuple[float, np.ndarray]:
                return explain_.classifier_head_backward(np.asarray(H, np.float64), W, b, v, U, d, target)
        else:
            if target is not None:
                raise ValueError("target is for classifiers; a language model explains the character after `position`")
            T = len(a.tokens)
            if not isinstance(position, (int, np.integer)) or not 0 <= position <= T - 2:
                raise ValueError(msg("position must be a step from 0 to {last} (the last one with a next character); "
                                     "got {position!r}", last=T - 2, position=position))
            target = int(ids[position + 1])
            if target == unk:
                raise ValueError(msg("the character after position {position} is not in the vocabulary: nothing to "
                                     "explain", position=position))
            label, tokens, x = self._vocab.itos[target], a.tokens[: position + 1], np.asarray(a.embeddings[: position + 1])

            def head(H: np.ndarray) -> tuple[float, np.ndarray]:
                return explain_.lm_head_backward(np.asarray(H, np.float64), U, d, position, target)

        tr = self.recurrent.trace(x)
        logp, dH = head(tr.output)
        g = self.recurrent.backward(tr, dH)
        sal, base = explain_.saliencies(self.recurrent, x, head, logp, np.asarray(g.dx, np.float64), self._embed[unk])
        norms = {(lg.layer, lg.direction): np.linalg.norm(np.asarray(lg.dh, np.float64), axis=1) for lg in g.layers}
        dh = {(lg.layer, lg.direction): lg.dh for lg in g.layers}
        dc = {(lg.layer, lg.direction): lg.dc for lg in g.layers if lg.dc is not None}
        clip = float(np.sqrt(sum(float((np.asarray(v, np.float64) ** 2).sum()) for v in g.params.values())))
        return explain_.Explanation(list(tokens), target, label, logp, base, sal, norms, dh, dc, clip)

    def probs_with_attention(self, text: str, weights: np.ndarray) -> np.ndarray:
        """(C,): the classifier's probabilities when it pools its states with these attention
        weights (T,) instead of its own: e.g. uniform ones, to see how much attention matters."""
        if not self.is_classifier or not self._head:
            raise ValueError(f"{self.name} is not a trained classifier: it has no attention to replace")
        H = np.asarray(self.analyze(text).trace.output)
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(H),) or not np.isfinite(w).all() or abs(w.sum() - 1) > 1e-6 or (w < 0).any():
            raise ValueError(f"weights must be {len(H)} non-negative numbers that sum to 1")
        return readonly(softmax(self._head["out.weight"] @ (w @ H) + self._head["out.bias"]))

    def connectivity(self, text: str, max_positions: int = explain_.MAX_OCCLUSION) -> np.ndarray:
        """(P, P + 1), P = T − 1 (at most max_positions): row p is ‖∂ log p(x_{p+1}) / ∂e_t‖ for
        every t ≤ p (0 after p): how much predicting each next character depends on each earlier one.
        One forward pass; the P backward passes, one loss per position, run batched."""
        if self.is_classifier or not self._head:
            raise ValueError(f"{self.name} is not a trained language model: it predicts no next character")
        a = self.analyze(text)
        ids = self._vocab.encode(self.tokenize(text))[0]
        P = min(len(ids) - 1, max_positions)
        U, d = self._head["out.weight"], self._head["out.bias"]
        x = np.asarray(a.embeddings[: P + 1])  # causal: position p sees 0 … p only
        Y, tape = batched.forward(self.recurrent, x[:, None])  # one forward pass, under P losses
        H = np.asarray(Y[:, 0], np.float64)
        out = np.zeros((P, P + 1))
        for s in explain_.batches(P + 1, P):
            dY = np.stack([explain_.lm_head_backward(H, U, d, p, int(ids[p + 1]))[1] for p in range(s.start, s.stop)], axis=1)
            dX = batched.input_gradients(self.recurrent, tape, dY)  # (P + 1, positions, E)
            out[s] = np.linalg.norm(np.asarray(dX, np.float64), axis=2).T
        return readonly(out)

    # -- generation ---------------------------------------------------------------------

    def generate(self, prefix: str = "", n: int = 50, temperature: float = 0.8, top_k: int | None = None,
                 seed: int = 0) -> str:
        """The prefix followed by n sampled characters (`pick` draws each one).

        temperature below TEMPERATURE_FLOOR (0 included) is greedy. top_k keeps the k
        likeliest characters. Prefix characters outside the vocabulary are read as
        <unk> (with a warning); <unk> itself is never generated. An empty prefix
        starts from a newline.
        """
        if not self._head or self.is_classifier:
            raise ValueError(f"{self.name} is not a language model; only shakespeare-* and jaychou-* models generate")
        if not isinstance(n, (int, np.integer)) or not 0 <= n <= MAX_GENERATE:
            raise ValueError(msg("n must be an integer from 0 to {limit}; got {n!r}", limit=MAX_GENERATE, n=n))
        if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature >= 0):
            raise ValueError(msg("temperature must be a finite number ≥ 0; got {temperature!r}",
                                 temperature=temperature))
        if top_k is not None and (not isinstance(top_k, (int, np.integer)) or top_k < 1):
            raise ValueError(msg("top_k must be None or an integer ≥ 1; got {top_k!r}", top_k=top_k))
        toks = chars(prefix) or [Token(START, 0, 0)]
        ids, unknown = self._vocab.encode(toks)
        if unknown and prefix:
            missing = sorted({toks[i].text for i in unknown})
            warnings.warn(f"{self.name}: prefix characters not in the vocabulary were read as <unk>: {missing}",
                          stacklevel=2)
        rng = np.random.default_rng(seed)
        U, d = self._head["out.weight"].astype(np.float64), self._head["out.bias"].astype(np.float64)
        unk = self._vocab.stoi["<unk>"]
        # The state carries over, so each new character costs one step, not a re-read of the prefix.
        tr = self.recurrent.trace(self._embed[ids])
        h, c = np.asarray(tr.h_n), None if tr.c_n is None else np.asarray(tr.c_n)  # (L, H)
        out: list[str] = []
        for _ in range(n):
            z = U @ h[-1] + d  # (V,)
            z[unk] = -np.inf
            nxt = pick(z, temperature, top_k, rng)
            out.append(self._vocab.itos[nxt])
            h, c = self.recurrent.advance(self._embed[nxt], h, c)
        return prefix + "".join(out)


# -- the zoo ----------------------------------------------------------------------------------

def list_models() -> list[str]:
    """Names of the bundled models whose files are present, task by task, rnn/lstm/gru;
    the encoder–decoders (SEQ2SEQ_TASKS) last."""
    return [f"{t}-{k}" for t in TASKS + SEQ2SEQ_TASKS for k in KINDS if (WEIGHTS / f"{t}-{k}.safetensors").is_file()]


def load_model(name_or_path: str | Path) -> Model:
    """A bundled model by name ("sst2-lstm") or a checkpoint by path; cached and shared.
    A training-lab model's files (cells.lab.save, or the lab's download) give a
    cells.lab.LabModel instead, read afresh each time; an encoder–decoder's ("dates-lstm")
    a cells.seq2seq.Seq2seq.

    Raises checkpoint.CheckpointError (a ValueError) when the files are missing or do
    not pass every check.
    """
    s = str(name_or_path)
    if s in {f"{t}-{k}" for t in TASKS + SEQ2SEQ_TASKS for k in KINDS}:
        return _load(str(WEIGHTS / s))
    path = Path(s).expanduser().resolve()
    if not checkpoint.paths(path)[0].is_file():
        raise checkpoint.CheckpointError(path, f"no model {s!r}: not a bundled name ({', '.join(list_models())}) "
                                               "and no checkpoint (.json + .safetensors) at that path")
    if _is_lab(path):
        from . import lab

        return lab.load(path)
    return _load(str(path))


def _is_lab(path: Path) -> bool:
    """Whether the sidecar says a training-lab model (anything unreadable is `_load`'s to report)."""
    try:
        side = json.loads(checkpoint.paths(path)[0].read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(side, dict) and side.get("format") == checkpoint.LAB_FORMAT


@functools.lru_cache(maxsize=32)
def _load(path: str) -> Model:
    weights, meta = checkpoint.load(path)
    if "target_vocab" in meta:  # an encoder–decoder
        from .seq2seq import Seq2seq

        return Seq2seq(checkpoint.paths(path)[0].stem, meta, weights)
    rec = from_state_dict(weights, CELL[meta["kind"]], prefix="rnn.")
    head = {k: v for k, v in weights.items() if k.startswith(("attn_", "out."))}
    return Model(checkpoint.paths(path)[0].stem, meta, rec, weights["embedding.weight"], head)


def untrained_model(kind: str, hidden_size: int = 32, init_scale: float = 1.0, forget_bias: float = 0.0,
                    seed: int = 0) -> Model:
    """A randomly initialised one-layer cell that reads any text character by character.

    Each character's embedding is a fixed pseudo-random vector (from its sha256 and the
    seed), so there is no vocabulary and no <unk>. It has no attention, no class
    probabilities and no next-character distribution: it is for comparing states and
    gates with a trained model's. forget_bias applies to the LSTM only (cells.init_recurrent).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown cell kind {kind!r}; expected one of {KINDS}")
    rec = init_recurrent(CELL[kind], UNTRAINED_EMBED, hidden_size, seed=seed, init_scale=init_scale,
                         forget_bias=forget_bias)

    def embed(token: str) -> np.ndarray:
        h = hashlib.sha256(f"{seed}:{token}".encode()).digest()
        return np.random.default_rng(list(h)).standard_normal(UNTRAINED_EMBED).astype(np.float32)  # (E,)

    meta = {"task": "untrained", "kind": kind, "level": "char", "vocab": [], "labels": [], "metrics": {},
            "config": {"kind": kind, "embed_size": UNTRAINED_EMBED, "hidden_size": hidden_size,
                       "init_scale": init_scale, "forget_bias": forget_bias, "seed": seed}}
    return Model(f"untrained-{kind}", meta, rec, embed)
