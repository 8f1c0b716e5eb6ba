"""Checkpoints: weights in safetensors, everything else in a JSON sidecar.

    name.safetensors   the state dict, stored small to keep the repository small
    name.json          {"format", "task", "kind", "level", "config", "vocab", "labels",
                        "metrics", "backoff", "storage", "data": {file: sha256},
                        "training_seconds", "threads", "seed", "train", "torch",
                        "num_params", "target_vocab", "sha256"}

Three architectures share the format, told apart by the config: a classifier
(num_classes > 0, word level), a character language model, and an encoder–decoder
(target_vocab_size > 0, character level, cells/seq2seq.py), whose sidecar also lists
the symbols it writes ("target_vocab").

Storage ("storage" in the sidecar; float16 when absent):
    float16   every tensor as float16
    int8      every matrix as int8 rows, each with a power-of-two scale:
              W[r] = q[r] · s[r], q in [-127, 127], stored as `name` (int8) and
              `name.scale` (float32, (R, 1)); vectors (biases) as float16

Integrity. "sha256" covers both files: the sidecar's other fields (canonical JSON)
and the weights' bytes, so an edited vocabulary, label or size is caught like a
corrupt weights file. It is a checksum, not a signature, so `load` also checks
every field on its own before it allocates anything: types, ranges, that the kind,
sizes, vocabulary and labels agree, and that every stored tensor has exactly the
shape the config implies (read from the safetensors header, before its data).
Anything amiss raises `CheckpointError`, naming the file and the problem.

Nothing is ever unpickled, and loading needs no torch: `load` gives numpy arrays
(what `cells.zoo` runs). `load_module` builds the torch module from them, for
training, evaluation and the parity tests. Training rounds its final weights to
their storage (`round_to_stored`) before it measures them, so the float32 model
that `load` returns is exactly the model the metrics describe. Power-of-two scales
make that rounding exact and idempotent: saving a rounded model stores the same q
and s again.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .messages import msg
from .params import readonly
from .tokens import BACKOFFS

if TYPE_CHECKING:
    import torch
    from torch import nn

FORMAT = "rnnscope-checkpoint/2"  # the sidecar; /1 had a checksum over the weights only
WEIGHTS_FORMAT = "rnnscope-checkpoint/1"  # the safetensors layout, unchanged since /1
LAB_FORMAT = "rnnscope-lab/1"  # a training-lab model's sidecar (cells/lab.py reads and writes it)
STORAGES = ("float16", "int8")
KINDS = ("rnn", "lstm", "gru")  # a model's cell kind (the one list: cells.zoo.KINDS is this)
LEVELS = ("word", "char")
CHUNKS = {"rnn": 1, "lstm": 4, "gru": 3}  # fused gates per cell kind (weight_ih is (k·H, I))
MAX_WEIGHTS_BYTES = 512 * 2**20  # a checkpoint larger than this is refused before it is read

REQUIRED = {"format": str, "task": str, "kind": str, "level": str, "config": dict, "vocab": list,
            "labels": list, "metrics": dict, "sha256": str}
OPTIONAL = {"backoff": (str, type(None)), "storage": str, "data": dict, "training_seconds": (int, float),
            "threads": int, "seed": int, "train": dict, "torch": str, "num_params": int,
            "target_vocab": list}  # target_vocab: the symbols an encoder–decoder writes (only there)


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded: missing, corrupt, inconsistent or not ours.

    `name` is the checkpoint's stem ("sst2-lstm") and `problem` what is wrong with it, for
    messages that should not show a server's paths; str() gives the full path too."""

    def __init__(self, path: str | Path, problem: str):
        self.path, self.problem = Path(path), problem
        super().__init__(f"checkpoint {self.path}: {problem}")

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(".json").removesuffix(".safetensors")


@dataclass(frozen=True)
class ModelConfig:
    """The sizes of a bundled model (cells/models.py builds it); stored as the sidecar's "config"."""

    kind: str  # "rnn" (tanh) | "lstm" | "gru"
    vocab_size: int
    embed_size: int = 64
    hidden_size: int = 128  # per direction
    num_layers: int = 1
    num_classes: int = 0  # > 0: a classifier; 0: a language model over the vocabulary
    attention_size: int = 64  # A, rows of W in s_t = v · tanh(W h_t + b)
    dropout: float = 0.3  # on embeddings and before the output layer (training only)
    target_vocab_size: int = 0  # > 0: an encoder–decoder (cells/seq2seq.py) writing this many symbols

    # Bounds a checkpoint must respect, checked before anything is allocated.
    LIMITS = {"vocab_size": (1, 1_000_000), "embed_size": (1, 4096), "hidden_size": (1, 4096),
              "num_layers": (1, 8), "num_classes": (0, 100_000), "attention_size": (1, 4096),
              "target_vocab_size": (0, 100_000)}

    @property
    def is_classifier(self) -> bool:
        return self.num_classes > 0

    @property
    def is_seq2seq(self) -> bool:
        return self.target_vocab_size > 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """A checked config; raises ValueError saying which field is wrong."""
        names = {f.name for f in fields(cls)}
        if not isinstance(d, dict) or set(d) - names or "kind" not in d or "vocab_size" not in d:
            raise ValueError(f"config must hold kind, vocab_size and only the fields {sorted(names)}")
        if d["kind"] not in KINDS:
            raise ValueError(f"config kind {d['kind']!r} is not one of {KINDS}")
        for k, (lo, hi) in cls.LIMITS.items():
            v = d.get(k, getattr(cls, k, None))
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError(f"config {k} must be an integer from {lo:,} to {hi:,}; got {v!r}")
        dropout = d.get("dropout", cls.dropout)
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout < 1:
            raise ValueError(f"config dropout must be a number in [0, 1); got {dropout!r}")
        if d.get("target_vocab_size", 0) and (d.get("num_classes", cls.num_classes) or d.get("num_layers", 1) != 1):
            raise ValueError("an encoder–decoder config (target_vocab_size > 0) has no classes and one layer")
        return cls(**d)

    def shapes(self, storage: str = "float16") -> dict[str, tuple[tuple[int, ...], str]]:
        """Every stored tensor: name -> (shape, safetensors dtype), as `save` writes them."""
        H, E, V, k = self.hidden_size, self.embed_size, self.vocab_size, CHUNKS[self.kind]
        D = 2 if self.is_classifier or self.is_seq2seq else 1  # classifiers and encoders read both ways
        mats = {"embedding.weight": (V, E)}
        vecs = {}
        for l in range(self.num_layers):
            for d in range(D):
                sfx = f"_l{l}" + ("_reverse" if d else "")
                mats[f"rnn.weight_ih{sfx}"] = (k * H, E if l == 0 else D * H)
                mats[f"rnn.weight_hh{sfx}"] = (k * H, H)
                vecs[f"rnn.bias_ih{sfx}"] = vecs[f"rnn.bias_hh{sfx}"] = (k * H,)
        if self.is_classifier:
            mats |= {"attn_W.weight": (self.attention_size, 2 * H), "attn_v.weight": (1, self.attention_size),
                     "out.weight": (self.num_classes, 2 * H)}
            vecs |= {"attn_W.bias": (self.attention_size,), "out.bias": (self.num_classes,)}
        elif self.is_seq2seq:  # cells/seq2seq.py: the decoder's state is 2H wide, as the annotations are
            A, Vt = self.attention_size, self.target_vocab_size
            mats |= {"dec_embedding.weight": (Vt, E), "dec.weight_ih": (k * 2 * H, E + 2 * H),
                     "dec.weight_hh": (k * 2 * H, 2 * H), "init.weight": (2 * H, 2 * H),
                     "attn_W.weight": (A, 2 * H), "attn_Wq.weight": (A, 2 * H), "attn_v.weight": (1, A),
                     "out.weight": (Vt, 4 * H)}
            vecs |= {"dec.bias_ih": (k * 2 * H,), "dec.bias_hh": (k * 2 * H,), "init.bias": (2 * H,),
                     "attn_W.bias": (A,), "out.bias": (Vt,)}
        else:
            mats["out.weight"], vecs["out.bias"] = (V, H), (V,)
        out = {n: (s, "F16") for n, s in vecs.items()}
        for n, s in mats.items():
            if storage == "int8":
                out[n], out[n + ".scale"] = (s, "I8"), ((s[0], 1), "F32")
            else:
                out[n] = (s, "F16")
        return out


def paths(path: str | Path) -> tuple[Path, Path]:
    """(json, safetensors) for a checkpoint given by either file or their common stem."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".json", ".safetensors") else p
    return stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".safetensors")


def digest(meta: dict, blob: bytes) -> str:
    """sha256 over the sidecar's fields but "sha256" (canonical JSON) and the weights' bytes."""
    body = {k: v for k, v in meta.items() if k != "sha256"}
    canon = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canon.encode("utf-8") + b"\0" + blob).hexdigest()


# -- writing (training: torch) ------------------------------------------------------------

def int8_rows(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(q int8 (R, C), s float32 (R, 1)) with w ≈ q · s: s is the smallest power of two
    that keeps every |w[r]| / s[r] ≤ 127 (1 for an all-zero row)."""
    import torch

    m = w.detach().float().abs().amax(dim=1, keepdim=True) / 127
    mant, exp = torch.frexp(m)  # m = mant · 2^exp, mant in [0.5, 1)
    exp = torch.where(mant == 0.5, exp - 1, exp)  # m itself is a power of two
    s = torch.where(m > 0, torch.ldexp(torch.ones_like(m), exp), torch.ones_like(m))
    q = torch.round(w.detach().float() / s).clamp_(-127, 127).to(torch.int8)
    return q, s


def _stored(storage: str, w: torch.Tensor) -> dict[str, torch.Tensor]:
    import torch

    if storage not in STORAGES:
        raise ValueError(f"unknown checkpoint storage {storage!r}; expected one of {STORAGES}")
    if storage == "int8" and w.ndim == 2:
        q, s = int8_rows(w)
        return {"": q, ".scale": s}
    return {"": w.detach().to(torch.float16).contiguous()}


def round_to_stored(model: nn.Module, storage: str = "float16") -> None:
    """Replace every parameter, in place, by the float32 value `load` will give back."""
    import torch

    with torch.no_grad():
        for p in model.parameters():
            t = _stored(storage, p)
            p.copy_(t[""].float() * t[".scale"] if ".scale" in t else t[""].float())


def save(path: str | Path, model: nn.Module, meta: dict) -> tuple[Path, Path]:
    """Write path.safetensors and path.json; meta holds the sidecar's fields but format
    and sha256. meta["storage"] (default float16) says how the weights are stored."""
    import safetensors.torch

    jpath, wpath = paths(path)
    wpath.parent.mkdir(parents=True, exist_ok=True)
    storage = meta.get("storage", "float16")
    tensors = {k + suffix: t for k, v in model.state_dict().items() for suffix, t in _stored(storage, v).items()}
    blob = safetensors.torch.save(tensors, metadata={"format": WEIGHTS_FORMAT})
    side = {"format": FORMAT, **{k: v for k, v in meta.items() if k not in ("format", "sha256")}}
    check_meta(side | {"sha256": ""}, jpath)
    side["sha256"] = digest(side, blob)
    wpath.write_bytes(blob)
    jpath.write_text(json.dumps(side, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return jpath, wpath


# -- reading (no torch) -------------------------------------------------------------------

def check_meta(meta: dict, where: Path | str) -> ModelConfig:
    """Every sidecar field checked for type, range and agreement; returns the config."""

    def bad(msg: str) -> CheckpointError:
        return CheckpointError(where, f"sidecar {msg}")

    if not isinstance(meta, dict):
        raise bad("is not a JSON object")
    if meta.get("format") != FORMAT:
        old = " (written by an older rnnscope; retrain it with `rnnscope train`)" if str(meta.get("format", "")).startswith(
            "rnnscope-checkpoint/") else ""
        raise bad(f"format is {meta.get('format')!r}, expected {FORMAT!r}{old}")
    for k, t in REQUIRED.items():
        if k not in meta:
            raise bad(f"lacks the field {k!r}")
        if not isinstance(meta[k], t):
            raise bad(f"field {k!r} must be a {t.__name__}; got {type(meta[k]).__name__}")
    for k, t in OPTIONAL.items():
        if k in meta and (not isinstance(meta[k], t) or isinstance(meta[k], bool)):
            raise bad(f"field {k!r} has the wrong type ({type(meta[k]).__name__})")
    unknown = set(meta) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        raise bad(f"has unknown field(s) {sorted(unknown)}")
    if meta["kind"] not in KINDS or meta["level"] not in LEVELS:
        raise bad(f"kind {meta['kind']!r} / level {meta['level']!r} not among {KINDS} / {LEVELS}")
    if meta.get("storage", "float16") not in STORAGES:
        raise bad(f"storage {meta['storage']!r} is not one of {STORAGES}")
    if meta.get("backoff") is not None and meta["backoff"] not in BACKOFFS:
        raise bad(f"backoff {meta['backoff']!r} is not one of {tuple(BACKOFFS)}")
    try:
        cfg = ModelConfig.from_dict(meta["config"])
    except (TypeError, ValueError) as e:
        raise bad(str(e)) from None
    if cfg.kind != meta["kind"]:
        raise bad(f"kind {meta['kind']!r} disagrees with config kind {cfg.kind!r}")
    if cfg.is_classifier != (meta["level"] == "word"):
        raise bad(f"a {meta['level']}-level model must be a {'classifier' if meta['level'] == 'word' else 'language model'}")
    vocab, labels = meta["vocab"], meta["labels"]
    if not all(isinstance(v, str) for v in vocab) or len(set(vocab)) != len(vocab):
        raise bad("vocabulary entries must be distinct strings")
    if len(vocab) != cfg.vocab_size:
        raise bad(f"vocabulary has {len(vocab)} entries, config says {cfg.vocab_size}")
    if "<unk>" not in vocab or (cfg.is_classifier and vocab[0] != "<pad>"):
        raise bad("vocabulary lacks <unk> (or, for a classifier, <pad> at id 0)")
    if not all(isinstance(v, str) and v for v in labels) or len(labels) != cfg.num_classes:
        raise bad(f"{len(labels)} labels for {cfg.num_classes} classes")
    if not all(isinstance(k, str) and isinstance(v, (int, float)) and math.isfinite(v) for k, v in meta["metrics"].items()):
        raise bad("metrics must map names to finite numbers")
    if cfg.is_seq2seq != ("target_vocab" in meta):
        raise bad("has a target vocabulary if and only if its config is an encoder–decoder's (target_vocab_size > 0)")
    if cfg.is_seq2seq:
        tv = meta["target_vocab"]
        if not all(isinstance(v, str) and v for v in tv) or len(set(tv)) != len(tv) or len(tv) != cfg.target_vocab_size:
            raise bad(f"target vocabulary must be {cfg.target_vocab_size} distinct non-empty strings")
        if not {"<s>", "</s>"} <= set(tv):
            raise bad("target vocabulary lacks the start and end markers <s> and </s>")
    return cfg


def read_meta(path: str | Path) -> dict:
    """The sidecar, checked field by field (not yet against the weights)."""
    jpath, _ = paths(path)
    if not jpath.is_file():
        raise CheckpointError(jpath, msg("sidecar not found (a checkpoint is a .json next to a .safetensors)"))
    try:
        meta = json.loads(jpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(jpath, msg("sidecar is not valid JSON ({error}); the file is corrupt or truncated",
                                         error=e)) from None
    check_meta(meta, jpath)
    return meta


def header(blob: bytes, wpath: Path) -> dict:
    """The safetensors header (name -> {dtype, shape, data_offsets}), read without the data."""
    try:
        (n,) = struct.unpack("<Q", blob[:8])
        head = json.loads(blob[8 : 8 + n]) if 8 + n <= len(blob) else None
    except (struct.error, UnicodeDecodeError, json.JSONDecodeError):
        head = None
    if not isinstance(head, dict):
        raise CheckpointError(wpath, msg("weights are not a safetensors file"))
    return head


def load(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """(float32 weights by torch parameter name, read-only; the sidecar). No torch needed.

    Raises CheckpointError on anything amiss, before allocating the model's arrays.
    """
    import safetensors.numpy

    meta = read_meta(path)
    jpath, wpath = paths(path)
    if not wpath.is_file():
        raise CheckpointError(wpath, msg("weights (.safetensors) not found next to the sidecar {name}",
                                         name=jpath.name))
    if wpath.stat().st_size > MAX_WEIGHTS_BYTES:
        raise CheckpointError(wpath, msg("weights are larger than {limit} MiB", limit=MAX_WEIGHTS_BYTES // 2**20))
    blob = wpath.read_bytes()
    if digest(meta, blob) != meta["sha256"]:
        raise CheckpointError(jpath, msg("fails its sha256: the sidecar or the weights were changed, truncated or "
                                         "swapped since it was saved"))
    cfg = ModelConfig.from_dict(meta["config"])
    head = header(blob, wpath)
    if head.get("__metadata__", {}).get("format") != WEIGHTS_FORMAT:
        raise CheckpointError(wpath, msg("weights are not in the {layout!r} layout", layout=WEIGHTS_FORMAT))
    want = cfg.shapes(meta.get("storage", "float16"))
    got = {k: (tuple(v["shape"]), v["dtype"]) for k, v in head.items() if k != "__metadata__"}
    if want != got:
        diff = sorted(set(want.items()) ^ set(got.items()))[:6]
        raise CheckpointError(wpath, msg("weights do not fit its config: tensors differ in {diff}", diff=diff))
    try:
        tensors = safetensors.numpy.load(blob)
    except Exception as e:  # safetensors raises its own error type
        raise CheckpointError(wpath, msg("cannot read the weights: {error}", error=e)) from None
    weights = {}
    for k, v in tensors.items():
        if k.endswith(".scale"):
            continue
        w = v.astype(np.float32) * tensors[k + ".scale"] if v.dtype == np.int8 else v.astype(np.float32)
        if not np.isfinite(w).all():
            raise CheckpointError(wpath, msg("tensor {name} holds NaN or infinite values", name=k))
        weights[k] = readonly(w)
    return weights, meta


def load_module(path: str | Path) -> tuple[nn.Module, dict]:
    """The torch module in eval mode and its sidecar (training, evaluation, parity tests)."""
    import torch

    from .models import build
    from .train_seq2seq import Seq2seqNet  # the encoder–decoder's torch module

    weights, meta = load(path)
    cfg = ModelConfig.from_dict(meta["config"])
    model = Seq2seqNet(cfg) if cfg.is_seq2seq else build(cfg)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    return model.eval(), meta
