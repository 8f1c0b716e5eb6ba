"""Checkpoints: weights in safetensors, everything else in a JSON sidecar.

    name.safetensors   the state dict, stored small to keep the repository small
    name.json          {"format", "task", "level", "config", "vocab", "labels",
                        "metrics", "data": {file: sha256}, "training_seconds",
                        "train": {the training arguments}, "storage", "weights_sha256"}

Storage ("storage" in the sidecar; float16 when absent):
    float16   every tensor as float16
    int8      every matrix as int8 rows, each with a power-of-two scale:
              W[r] = q[r] · s[r], q in [-127, 127], stored as `name` (int8) and
              `name.scale` (float32, (R, 1)); vectors (biases) as float16

Nothing is ever unpickled. Training rounds its final weights to their storage
(`round_to_stored`) before it measures them, so the float32 model that `load`
returns is exactly the model the metrics describe and the one `cells.from_torch`
traces. Power-of-two scales make that rounding exact and idempotent: saving a
rounded model stores the same q and s again.

`load` checks everything it reads and raises ValueError naming the file and the
problem: unreadable JSON, a weights file whose sha256 differs from the sidecar's
(corrupt, truncated or swapped), tensors missing, extra or of the wrong shape,
non-finite values, a vocabulary that does not fit the embedding.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import safetensors.torch
import torch
from torch import nn

from .models import ModelConfig, build

FORMAT = "rnnscope-checkpoint/1"
STORAGES = ("float16", "int8")
REQUIRED = ("format", "task", "level", "config", "vocab", "labels", "metrics", "weights_sha256")


def paths(path: str | Path) -> tuple[Path, Path]:
    """(json, safetensors) for a checkpoint given by either file or their common stem."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".json", ".safetensors") else p
    return stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".safetensors")


def int8_rows(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(q int8 (R, C), s float32 (R, 1)) with w ≈ q · s: s is the smallest power of two
    that keeps every |w[r]| / s[r] ≤ 127 (1 for an all-zero row)."""
    m = w.detach().float().abs().amax(dim=1, keepdim=True) / 127
    mant, exp = torch.frexp(m)  # m = mant · 2^exp, mant in [0.5, 1)
    exp = torch.where(mant == 0.5, exp - 1, exp)  # m itself is a power of two
    s = torch.where(m > 0, torch.ldexp(torch.ones_like(m), exp), torch.ones_like(m))
    q = torch.round(w.detach().float() / s).clamp_(-127, 127).to(torch.int8)
    return q, s


def _stored(storage: str, w: torch.Tensor) -> dict[str, torch.Tensor]:
    if storage not in STORAGES:
        raise ValueError(f"unknown checkpoint storage {storage!r}; expected one of {STORAGES}")
    if storage == "int8" and w.ndim == 2:
        q, s = int8_rows(w)
        return {"": q, ".scale": s}
    return {"": w.detach().to(torch.float16).contiguous()}


def round_to_stored(model: nn.Module, storage: str = "float16") -> None:
    """Replace every parameter, in place, by the float32 value `load` will give back."""
    with torch.no_grad():
        for p in model.parameters():
            t = _stored(storage, p)
            p.copy_(t[""].float() * t[".scale"] if ".scale" in t else t[""].float())


def save(path: str | Path, model: nn.Module, meta: dict) -> tuple[Path, Path]:
    """Write path.safetensors and path.json; meta holds the sidecar's fields but the hash.
    meta["storage"] (default float16) says how the weights are stored."""
    jpath, wpath = paths(path)
    wpath.parent.mkdir(parents=True, exist_ok=True)
    storage = meta.get("storage", "float16")
    tensors = {k + suffix: t for k, v in model.state_dict().items() for suffix, t in _stored(storage, v).items()}
    blob = safetensors.torch.save(tensors, metadata={"format": FORMAT})
    wpath.write_bytes(blob)
    side = {"format": FORMAT, **meta, "weights_sha256": hashlib.sha256(blob).hexdigest()}
    jpath.write_text(json.dumps(side, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return jpath, wpath


def read_meta(path: str | Path) -> dict:
    jpath, _ = paths(path)
    if not jpath.is_file():
        raise FileNotFoundError(f"checkpoint sidecar {jpath} not found (a checkpoint is a .json next to a .safetensors)")
    try:
        meta = json.loads(jpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"checkpoint sidecar {jpath} is not valid JSON ({e}); the file is corrupt or truncated") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{jpath} is not an rnnscope checkpoint sidecar (expected format {FORMAT!r})")
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise ValueError(f"checkpoint sidecar {jpath} lacks the field(s) {missing}")
    return meta


def load(path: str | Path) -> tuple[nn.Module, dict]:
    """The float32 model in eval mode and its sidecar; ValueError on anything amiss."""
    meta = read_meta(path)
    jpath, wpath = paths(path)
    if not wpath.is_file():
        raise FileNotFoundError(f"checkpoint weights {wpath} not found (next to its sidecar {jpath.name})")
    blob = wpath.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta["weights_sha256"]:
        raise ValueError(
            f"checkpoint weights {wpath} do not match the sha256 in {jpath.name}: "
            "the file is corrupt, truncated, or belongs to another checkpoint"
        )
    try:
        tensors = safetensors.torch.load(blob)
        cfg = ModelConfig(**meta["config"])
    except Exception as e:  # safetensors raises its own error type; TypeError for unknown config keys
        raise ValueError(f"cannot read checkpoint {wpath}: {e}") from e
    if len(meta["vocab"]) != cfg.vocab_size:
        raise ValueError(f"{jpath.name}: vocabulary has {len(meta['vocab'])} entries, config says {cfg.vocab_size}")
    if cfg.is_classifier and len(meta["labels"]) != cfg.num_classes:
        raise ValueError(f"{jpath.name}: {len(meta['labels'])} labels for {cfg.num_classes} classes")
    weights = _dequantize(tensors, wpath)
    model = build(cfg)
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in weights.items()}
    if want != got:
        diff = sorted(set(want.items()) ^ set(got.items()))[:6]
        raise ValueError(f"checkpoint {wpath} does not fit its config: tensors differ in {diff}")
    for k, v in weights.items():
        if not torch.isfinite(v).all():
            raise ValueError(f"checkpoint {wpath}: tensor {k} holds NaN or infinite values")
    model.load_state_dict(weights)
    return model.eval(), meta


def _dequantize(tensors: dict[str, torch.Tensor], wpath: Path) -> dict[str, torch.Tensor]:
    """float32 weights from stored tensors: float16 upcast, int8 rows times their scale."""
    out = {}
    for k, v in tensors.items():
        if k.endswith(".scale"):
            base = tensors.get(k.removesuffix(".scale"))
            if base is None or base.dtype != torch.int8:
                raise ValueError(f"checkpoint {wpath}: scale {k} belongs to no int8 tensor")
            continue
        if v.dtype == torch.int8:
            s = tensors.get(k + ".scale")
            if s is None or s.dtype != torch.float32 or v.ndim != 2 or tuple(s.shape) != (v.shape[0], 1):
                raise ValueError(f"checkpoint {wpath}: int8 tensor {k} lacks a float32 ({v.shape[0]}, 1) scale")
            out[k] = v.float() * s
        elif v.dtype in (torch.float16, torch.float32):
            out[k] = v.float()
        else:
            raise ValueError(f"checkpoint {wpath}: tensor {k} has unsupported dtype {v.dtype}")
    return out
