"""Checkpoints: weights in safetensors, everything else in a JSON sidecar.

    name.safetensors   the state dict, stored as float16 to keep the repository small
    name.json          {"format", "task", "level", "config", "vocab", "labels",
                        "metrics", "data": {file: sha256}, "training_seconds",
                        "train": {the training arguments}, "weights_sha256"}

Nothing is ever unpickled. Training rounds its final weights to float16 before it
measures them, so the float32 model that `load` returns (upcast, exact) is the very
model the metrics describe and the one `cells.from_torch` traces.

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
REQUIRED = ("format", "task", "level", "config", "vocab", "labels", "metrics", "weights_sha256")


def paths(path: str | Path) -> tuple[Path, Path]:
    """(json, safetensors) for a checkpoint given by either file or their common stem."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".json", ".safetensors") else p
    return stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".safetensors")


def round_to_float16(model: nn.Module) -> None:
    """Round every float parameter to the nearest float16, in place (kept as float32)."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())


def save(path: str | Path, model: nn.Module, meta: dict) -> tuple[Path, Path]:
    """Write path.safetensors and path.json; meta holds the sidecar's fields but the hash."""
    jpath, wpath = paths(path)
    wpath.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
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
    model = build(cfg)
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    if want != got:
        diff = sorted(set(want.items()) ^ set(got.items()))[:6]
        raise ValueError(f"checkpoint {wpath} does not fit its config: tensors differ in {diff}")
    for k, v in tensors.items():
        if not torch.isfinite(v).all():
            raise ValueError(f"checkpoint {wpath}: tensor {k} holds NaN or infinite values")
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.eval(), meta
