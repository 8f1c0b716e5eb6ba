"""Generating text for the Language-model view: the request checked, then the models sample. Pure.

    req = check_request("分开", n=200, temperature=0.8, top_k=0, seed=0, vocab=m.vocab)
    for msg in req.messages: ...           # what the page says about the request
    text = generate(m, req)                # prefix + n characters

A trained model samples with its own `generate` (state carried over, one step per
character). A seeded stand-in (viz_app.standin) has no `generate`, so it re-reads the
text for every character: slower, but only used until the trained models land.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass

import numpy as np

from cells.tokens import chars

MAX_N = 1000  # characters per model per request; the page says when it cuts n
MAX_N_REREADING = 200  # the same for stand-ins, which re-read the whole text per character
MAX_PREFIX = 500  # characters of prefix read before generating
HOT = 5.0  # temperatures above this sample almost uniformly; the page says so
START = "\n"  # what a model reads first when the prefix is empty (as cells.zoo does)


@dataclass(frozen=True)
class Request:
    prefix: str
    n: int  # 0 … MAX_N
    temperature: float  # 0 is greedy
    top_k: int | None  # None: the whole vocabulary
    seed: int
    messages: tuple[str, ...] = ()  # said on screen, in order
    unknown: tuple[str, ...] = ()  # prefix characters the model never saw


def max_n(model) -> int:
    return MAX_N if hasattr(model, "generate") else MAX_N_REREADING


def check_request(prefix: str, n: int, temperature: float, top_k: int, seed: int, vocab: list[str],
                  limit: int = MAX_N) -> Request:
    msgs = []
    prefix = prefix if isinstance(prefix, str) else ""
    if len(prefix) > MAX_PREFIX:
        msgs.append(f"The prefix has {len(prefix):,} characters; the models read the last {MAX_PREFIX:,}.")
        prefix = prefix[-MAX_PREFIX:]
    if not prefix:
        msgs.append("Empty prefix: each model starts from its start state (zero state), reading a newline first.")
    n = int(n)
    if n <= 0:
        msgs.append("n = 0: nothing to generate; each text below is the prefix alone.")
        n = 0
    elif n > limit:
        msgs.append(f"n = {n:,} is more than this page generates at once: each model writes {limit:,} characters.")
        n = limit
    t = float(temperature)
    if not math.isfinite(t) or t < 0:
        msgs.append(f"temperature {temperature} is not a number ≥ 0: using 1.")
        t = 1.0
    if t == 0:
        msgs.append("temperature 0: greedy decoding, the likeliest character every time (the seed has no effect).")
    elif t > HOT:
        msgs.append(f"temperature {t:g} is very high: every character is almost equally likely, so the text is noise.")
    k = int(top_k) if top_k and int(top_k) > 0 else None
    if k is not None and vocab and k >= len(vocab):
        k = None
    known = set(vocab)
    unknown = tuple(dict.fromkeys(c.text for c in chars(prefix) if vocab and c.text not in known))
    if unknown:
        shown = " ".join(repr(u) for u in unknown[:20]) + (" …" if len(unknown) > 20 else "")
        msgs.append(f"{len(unknown)} prefix character(s) the model never saw are read as <unk>: {shown}")
    return Request(prefix, n, t, k, int(seed), tuple(msgs), unknown)


def generate(model, req: Request) -> str:
    """The prefix followed by req.n sampled characters."""
    if req.n == 0:
        return req.prefix
    if hasattr(model, "generate"):
        with warnings.catch_warnings(), one_torch_thread():
            warnings.simplefilter("ignore")  # unknown prefix characters: the page already says so
            return model.generate(req.prefix, n=req.n, temperature=req.temperature, top_k=req.top_k, seed=req.seed)
    return _generate_by_rereading(model, req)


@contextlib.contextmanager
def one_torch_thread():
    """Batch-1, one-character steps are tiny: torch's thread pool only adds hand-off cost, which
    grows to seconds per 200 characters when another process keeps the cores busy. (Measured in
    tests/benchmarks/bench_generate.py.) The setting is process-wide, so it is restored after."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def _generate_by_rereading(model, req: Request) -> str:
    vocab = list(model.vocab)
    rng = np.random.default_rng(req.seed)
    text = req.prefix or START
    out = []
    for _ in range(req.n):
        p = np.asarray(model.analyze(text + "".join(out)).next_token_probs[-1], dtype=np.float64)  # (V,)
        out.append(vocab[pick(np.log(np.maximum(p, 1e-300)), req.temperature, req.top_k, rng)])
    return req.prefix + "".join(out)


def pick(z: np.ndarray, temperature: float, top_k: int | None, rng: np.random.Generator) -> int:
    """One id from logits z (V,): argmax at temperature 0, else a sample of softmax(z / T) over the top k."""
    if temperature == 0:
        return int(np.argmax(z))
    if top_k is not None and top_k < len(z):
        z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
    e = np.exp((z - z.max()) / temperature)
    return int(rng.choice(len(e), p=e / e.sum()))
