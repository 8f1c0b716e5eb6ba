"""The training lab: train an RNN, an LSTM or a GRU on a small task and record how it learns.

    run = cells.lab.train("adding", kind="lstm", T=50, steps=2000, seed=0, clip=1.0)
    run.history      # per step: {"step", "loss", "grad_norm", "grad_norm_clipped", "layer_grad_norms"}
    run.evals        # [(step, loss on a fixed held-out batch)], every `eval_every` steps and at the end
    run.model        # LabModel: .recurrent (a cells.Recurrent: trace, backward), .predict(x)
    run.snapshots    # {step: LabModel}, every `snapshot_every` steps, step 0 included
    run.note         # why it ended early ("" when it ran every step)

The tasks (TASKS; `Task.summary` says each in one sentence):
    sine_cosine  x_t = sin(ω t + φ) → y_t = cos(ω t + φ), every step after a 4-step warm-up; MSE
    adding       T (value, marker) pairs, two of them marked → the sum of the marked values; MSE
                 (predicting the mean, 1, scores 1/6 ≈ 0.17)
    copy         k symbols, a delay of T blanks and a go marker → the k symbols again; cross-entropy
                 over the k answers (guessing scores log n)
    jaychou      Jay Chou's lyrics, one character after another; cross-entropy per character, and a
                 greedy continuation of "分开" every `sample_every` steps

The model is the cell (torch's nn.RNN / nn.LSTM / nn.GRU, batch first) with a linear read-out
of its last layer: at every step, or at the last step for `adding`; `jaychou` embeds its
characters first. Training is torch's autograd with one thread, so the same seed and
settings give the same history, bit for bit, on one machine.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import checkpoint, data, splits
from .messages import msg
from .recurrent import Recurrent, from_torch
from .tokens import Vocab, chars

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
LIMITS = {"hidden_size": (1, 256), "num_layers": (1, 3), "T": (1, 500), "batch_size": (1, 256),
          "steps": (1, 20_000), "lr": (1e-6, 10.0)}  # a run stays within a few hundred MB and minutes
OPTIMIZERS = ("adam", "sgd")
SINE_WARMUP = 4  # steps before sine_cosine scores: the first sin values cannot tell rising from falling
COPY_SYMBOLS = 8  # copy's alphabet
SEED_TEXT = "分开"  # jaychou's samples continue it, as the tutorial's do


class LabError(ValueError):
    """A setting the lab refuses; the message says which and what is allowed."""


@dataclass(frozen=True)
class Task:
    name: str
    summary: str  # one sentence, shown on screen
    T: int  # default length (sine_cosine's window, adding's pairs, copy's delay, jaychou's window)
    input_size: int  # per step; jaychou's is the vocabulary's size (ids, embedded)
    output_size: int
    loss: str  # "mse" or "xent"
    last_only: bool = False  # read out at the last step only (adding)


TASKS: Mapping[str, Task] = {
    "sine_cosine": Task("sine_cosine", "Read sin(t) over a window and output cos(t) at every step.", 50, 1, 1, "mse"),
    "adding": Task("adding", "Read T (value, marker) pairs and output the sum of the two marked values.",
                   50, 2, 1, "mse", last_only=True),
    "copy": Task("copy", f"Remember 5 symbols out of {COPY_SYMBOLS}, wait T steps, then repeat them.",
                 10, COPY_SYMBOLS + 2, COPY_SYMBOLS, "xent"),
    "jaychou": Task("jaychou", "Predict each next character of Jay Chou's lyrics.", 35, 0, 0, "xent"),
}


@dataclass(frozen=True)
class Settings:
    """One run's settings; `train`'s keyword arguments, checked by `check`."""

    task: str = "adding"
    kind: str = "lstm"
    T: int | None = None  # None: the task's default
    hidden_size: int = 64
    num_layers: int = 1
    optimizer: str = "adam"
    lr: float = 3e-3
    batch_size: int = 32
    steps: int = 1000
    clip: float | None = 1.0  # gradient norm threshold (torch's clip_grad_norm_), None = off
    init_scale: float = 1.0  # multiplies torch's U(−1/√H, 1/√H) initial weights of the cell
    forget_bias: float = 0.0  # added to the LSTM's b_if
    seed: int = 0
    batching: str = "random"  # jaychou: "random" windows, or "consecutive" (the state carries over)
    snapshot_every: int = 0  # 0: steps // 10
    eval_every: int = 0  # 0: steps // 20
    sample_every: int = 0  # jaychou; 0: steps // 5

    @property
    def length(self) -> int:
        return self.T if self.T is not None else TASKS[self.task].T


def check(s: Settings) -> Settings:
    """The settings if the lab can run them, else LabError naming the first bad one."""
    if s.task not in TASKS:
        raise LabError(msg("unknown task {task!r}; expected one of {tasks}", task=s.task, tasks=tuple(TASKS)))
    if s.kind not in CELLS:
        raise LabError(msg("unknown cell kind {kind!r}; expected one of {kinds}", kind=s.kind, kinds=tuple(CELLS)))
    if s.optimizer not in OPTIMIZERS:
        raise LabError(msg("unknown optimiser {optimizer!r}; expected one of {optimizers}", optimizer=s.optimizer,
                           optimizers=OPTIMIZERS))
    if s.batching not in ("random", "consecutive"):
        raise LabError(msg("batching must be 'random' or 'consecutive', got {batching!r}", batching=s.batching))
    values = {"hidden_size": s.hidden_size, "num_layers": s.num_layers, "T": s.length, "batch_size": s.batch_size,
              "steps": s.steps, "lr": s.lr}
    for name, v in values.items():
        lo, hi = LIMITS[name]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or not lo <= v <= hi:
            raise LabError(msg("{name} must be between {lo:g} and {hi:g}, got {value!r}", name=name, lo=lo, hi=hi,
                               value=v))
    if s.clip is not None and not (math.isfinite(s.clip) and s.clip > 0):
        raise LabError(msg("clip must be a positive gradient norm, or None for no clipping; got {clip!r}",
                           clip=s.clip))
    if not (math.isfinite(s.init_scale) and 0 < s.init_scale <= 10):
        raise LabError(msg("init_scale must be in (0, 10], got {init_scale!r}", init_scale=s.init_scale))
    if s.forget_bias and s.kind != "lstm":
        raise LabError(msg("forget_bias applies to LSTMs only"))
    if s.task == "adding" and s.length < 2:
        raise LabError(msg("the adding problem needs T ≥ 2: one marked pair in each half"))
    return s


# -- the tasks' batches: (x, y, mask) ----------------------------------------------------------

def sine_cosine(rng: np.random.Generator, B: int, T: int):
    omega = 0.25  # rad per step: a period of 25 steps
    t = omega * np.arange(T) + rng.uniform(0, 2 * np.pi, (B, 1))  # (B, T)
    mask = np.arange(T) >= min(SINE_WARMUP, T - 1)  # (T,)
    return np.sin(t)[..., None], np.cos(t)[..., None], np.tile(mask, (B, 1))


def adding(rng: np.random.Generator, B: int, T: int):
    v = rng.uniform(0, 1, (B, T))
    marks = np.zeros((B, T))
    rows = np.arange(B)
    first, second = rng.integers(0, T // 2, B), rng.integers(T // 2, T, B)
    marks[rows, first] = marks[rows, second] = 1
    y = (v[rows, first] + v[rows, second])[:, None, None]  # (B, 1, 1): read out at the last step
    return np.stack([v, marks], -1), y, np.ones((B, 1), bool)


def copy_task(rng: np.random.Generator, B: int, T: int, k: int = 5):
    n = COPY_SYMBOLS
    sym = rng.integers(0, n, (B, k))  # what to remember
    L = k + T + 1 + k  # symbols, delay, go marker, answers
    x = np.zeros((B, L, n + 2))  # one-hot: symbols 0..n−1, blank n, go n+1
    x[:, :, n] = 1
    x[np.arange(B)[:, None], np.arange(k), n] = 0
    x[np.arange(B)[:, None], np.arange(k), sym] = 1
    x[:, k + T, n], x[:, k + T, n + 1] = 0, 1
    y = np.zeros((B, L), np.int64)
    y[:, -k:] = sym
    mask = np.zeros((B, L), bool)
    mask[:, -k:] = True
    return x, y, mask


MAKERS = {"sine_cosine": sine_cosine, "adding": adding, "copy": copy_task}  # the generated tasks' batches
COPY_NAMES = [chr(ord("A") + i) for i in range(COPY_SYMBOLS)] + ["·", "→"]  # symbols, blank, go: on screen


@functools.cache
def lyrics(root: str | None = None) -> tuple[Vocab, np.ndarray, np.ndarray]:
    """The vocabulary (characters seen at least twice in training, else <unk>) and the ids of
    the first 90 % of the lyrics (training) and the last 10 % (held out)."""
    tokens = splits.tokenize(data.load_jaychou(root), "char")
    cut = int(len(tokens) * 0.9)
    vocab = Vocab(splits.make_vocab([tokens[:cut]], ["<unk>"], min_freq=2))
    ids = vocab.encode(tokens)[0]
    return vocab, ids[:cut], ids[cut:]


def windows(ids: np.ndarray, rng: np.random.Generator | None, B: int, T: int, step: int):
    """B windows of T+1 ids: random starts, or (rng None) B streams through the text, the
    `step`-th window of each following the previous one (consecutive batching)."""
    n = len(ids) - T - 1
    if rng is not None:
        starts = rng.integers(0, n, B)
    else:
        stream = n // B
        starts = np.arange(B) * stream + (step * T) % max(stream - T, 1)
    w = ids[starts[:, None] + np.arange(T + 1)]  # (B, T+1)
    return w[:, :-1], w[:, 1:], np.ones((B, T), bool)


# -- the model ---------------------------------------------------------------------------------

class LabNet(nn.Module):
    """x (B, T, I) or ids (B, T) → outputs (B, T, O) (adding: (B, 1, O)) and the state."""

    def __init__(self, s: Settings, input_size: int, output_size: int, vocab_size: int = 0):
        super().__init__()
        self.last_only = TASKS[s.task].last_only
        self.embedding = nn.Embedding(vocab_size, min(64, s.hidden_size)) if vocab_size else None
        size = self.embedding.embedding_dim if vocab_size else input_size
        self.rnn = CELLS[s.kind](size, s.hidden_size, s.num_layers, batch_first=True)
        self.out = nn.Linear(s.hidden_size, output_size)
        with torch.no_grad():
            for p in self.rnn.parameters():
                p.mul_(s.init_scale)
            if s.kind == "lstm":
                for l in range(s.num_layers):
                    getattr(self.rnn, f"bias_ih_l{l}")[s.hidden_size : 2 * s.hidden_size] += s.forget_bias

    def forward(self, x: torch.Tensor, state=None):
        h, state = self.rnn(self.embedding(x) if self.embedding is not None else x, state)  # (B, T, H)
        return self.out(h[:, -1:] if self.last_only else h), state


@dataclass(frozen=True)
class LabModel:
    """A trained (or snapshot) lab model: its settings and a copy of its weights."""

    settings: Settings
    state: Mapping[str, torch.Tensor] = field(repr=False)
    vocab: Vocab | None = field(default=None, repr=False)

    def module(self) -> LabNet:
        """The torch module in eval mode (built once per model: the lab page reads it on every rerun)."""
        return self._module

    @functools.cached_property
    def _module(self) -> LabNet:
        return self._build()

    def _build(self) -> LabNet:
        net = _net(self.settings, self.vocab)
        net.load_state_dict(self.state)
        return net.eval()

    @functools.cached_property
    def recurrent(self) -> Recurrent:
        """The cell as cells computes it: `.trace(x)` records every gate, `.backward` the gradients."""
        return from_torch(self.module().rnn)

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """What the cell reads: x (T, I) as float32, or for jaychou the embeddings of ids (T,)."""
        if self.vocab is not None:
            return self.state["embedding.weight"].numpy()[np.asarray(x)]  # (T, E)
        return np.asarray(x, dtype=np.float32)

    def trace(self, x: np.ndarray):
        """Every gate and state of the cell reading x (cells.Trace)."""
        return self.recurrent.trace(self.inputs(x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """x (T, I) (jaychou: ids (T,)) → outputs (T, O), adding (1, O); logits for xent tasks."""
        with torch.no_grad():
            return self.module()(torch.as_tensor(np.asarray(x)[None]))[0][0].numpy()

    def sample(self, prefix: str = SEED_TEXT, n: int = 20) -> str:
        """jaychou: the greedy continuation of `prefix` by n characters."""
        if self.vocab is None:
            raise LabError(f"only the jaychou task writes text; this model is for {self.settings.task!r}")
        net, ids = self._build(), self.vocab.encode(chars(prefix))[0]  # not cached: training samples every snapshot
        out = []
        with torch.no_grad():
            z, state = net(torch.as_tensor(ids)[None])
            for _ in range(n):
                nxt = int(z[0, -1].argmax())
                out.append(self.vocab.itos[nxt])
                z, state = net(torch.tensor([[nxt]]), state)
        return prefix + "".join(out)


def example(s: Settings, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """One held-out input of s's task, made as the held-out batch is: x (T, I) (jaychou: ids
    (T,)), y, the scored steps, and a label per step (the value, the symbol, the character)."""
    rng = np.random.default_rng(20_000 + seed)
    if s.task == "jaychou":
        vocab, _, held = lyrics()
        x, y, mask = windows(held, rng, 1, s.length, 0)
        return x[0], y[0], mask[0], [vocab.itos[i] for i in x[0]]
    x, y, mask = MAKERS[s.task](rng, 1, s.length)
    if s.task == "sine_cosine":
        labels = [f"{v:.2f}" for v in x[0, :, 0]]
    elif s.task == "adding":
        labels = [f"{v:.2f}" + ("*" if m else "") for v, m in x[0]]
    else:
        labels = [COPY_NAMES[i] for i in x[0].argmax(-1)]
    return x[0].astype(np.float32), y[0], mask[0], labels


def readout(model: LabModel, x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> dict:
    """What the model makes of one example: its loss there, and its answer beside the target —
    sine_cosine: outputs and targets (T,); adding: the two sums; copy: the symbols it
    repeats and those it was shown; jaychou: its most likely next character at each step."""
    out = model.predict(x)  # (T, O), adding (1, 1)
    task = TASKS[model.settings.task]
    o, yb, mb = tensors((out[None], np.asarray(y)[None], np.asarray(mask)[None]))
    loss = float(loss_fn(task, o, yb, mb))
    if model.settings.task == "sine_cosine":
        return {"loss": loss, "output": out[:, 0], "target": np.asarray(y)[:, 0]}
    if model.settings.task == "adding":
        return {"loss": loss, "output": float(out[0, 0]), "target": float(np.asarray(y).ravel()[0])}
    if model.settings.task == "copy":
        pick = lambda ids: " ".join(COPY_NAMES[i] for i in ids)  # noqa: E731
        return {"loss": loss, "output": pick(out[mask].argmax(-1)), "target": pick(np.asarray(y)[mask])}
    itos = model.vocab.itos
    return {"loss": loss, "output": "".join(itos[i] for i in out.argmax(-1)), "target": "".join(itos[i] for i in y)}


def _net(s: Settings, vocab: Vocab | None) -> LabNet:
    task = TASKS[s.task]
    if vocab is not None:
        return LabNet(s, 0, len(vocab), len(vocab))
    return LabNet(s, task.input_size, task.output_size)


# -- training ----------------------------------------------------------------------------------

@dataclass
class Run:
    settings: Settings
    history: list[dict] = field(default_factory=list)
    evals: list[tuple[int, float]] = field(default_factory=list)
    snapshots: dict[int, LabModel] = field(default_factory=dict)
    samples: dict[int, str] = field(default_factory=dict)  # jaychou
    seconds: list[float] = field(default_factory=list)  # seconds spent training, at each step's end
    note: str = ""

    @property
    def model(self) -> LabModel:
        """The model after the last step; after a divergence, the last finite snapshot."""
        return self.snapshots[max(self.snapshots)]


def loss_fn(task: Task, out: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean over the scored steps: squared error, or cross-entropy in nats."""
    if task.loss == "mse":
        return ((out - y) ** 2).sum(-1)[mask].mean()
    return nn.functional.cross_entropy(out[mask], y[mask])


def layer_norms(net: LabNet) -> dict[str, float]:
    """‖gradient‖₂ of each recurrent layer's parameters and of the rest (embedding, read-out)."""
    groups: dict[str, list[torch.Tensor]] = {}
    for name, p in net.named_parameters():
        key = f"layer {name.rsplit('_l', 1)[1]}" if name.startswith("rnn.") else "read-out"
        if p.grad is not None:
            groups.setdefault(key, []).append(p.grad)
    return {k: float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in gs])))
            for k, gs in groups.items()}


def train(task: str = "adding", *, on_step: Callable[[dict], bool | None] | None = None, **settings) -> Run:
    """Train one cell on `task` (keyword settings as in `Settings`); on_step(record) after each
    step may return True to stop. Same settings → same history on one machine."""
    trainer = Trainer(check(Settings(task=task, **settings)))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a lab run takes one core, and is deterministic
    try:
        while not trainer.done:
            record = trainer.step()
            if on_step is not None and on_step(record):
                trainer.stop()
    finally:
        torch.set_num_threads(threads)
    return trainer.run


class Trainer:
    """One run, a step at a time (`train` loops over it; the app interleaves three cells').

    Its torch RNG is used only while constructing it, and its data come from its own numpy
    generator, so trainers stepped in turn give the histories each would give alone."""

    def __init__(self, s: Settings):
        self.task, T, B = TASKS[s.task], s.length, s.batch_size
        rng = np.random.default_rng(s.seed)
        self.vocab = None
        if s.task == "jaychou":
            self.vocab, train_ids, held_ids = lyrics()
            self.batch = lambda step: windows(train_ids, rng if s.batching == "random" else None, B, T, step)
            held = windows(held_ids, np.random.default_rng(10_000 + s.seed), 64, T, 0)
        else:
            make = MAKERS[s.task]
            self.batch = lambda step: make(rng, B, T)
            held = make(np.random.default_rng(10_000 + s.seed), 256, T)  # the same batch at every evaluation
        self.held = tensors(held)
        torch.manual_seed(s.seed)
        self.net = _net(s, self.vocab)
        self.params = list(self.net.parameters())
        self.opt = (torch.optim.Adam if s.optimizer == "adam" else torch.optim.SGD)(self.params, lr=s.lr)
        self.every = {"snapshot": s.snapshot_every or max(1, s.steps // 10),
                      "eval": s.eval_every or max(1, s.steps // 20), "sample": s.sample_every or max(1, s.steps // 5)}
        self.settings, self.run, self.state, self.busy = s, Run(s), None, 0.0
        self.keep(0)
        self.evaluate(0)

    @property
    def steps_done(self) -> int:
        return len(self.run.history)

    @property
    def done(self) -> bool:
        return bool(self.run.note) or self.steps_done >= self.settings.steps

    def step(self) -> dict:
        """One optimisation step; its record (also appended to run.history)."""
        t0, s, step = time.perf_counter(), self.settings, self.steps_done + 1
        x, y, mask = tensors(self.batch(step))
        out, self.state = self.net(x, _carry(self.state, s))
        loss = loss_fn(self.task, out, y, mask)
        self.opt.zero_grad()
        loss.backward()
        layers = layer_norms(self.net)
        norm = float(nn.utils.clip_grad_norm_(self.params, s.clip if s.clip is not None else math.inf))
        record = {"step": step, "loss": loss.item(), "grad_norm": norm,
                  "grad_norm_clipped": min(norm, s.clip) if s.clip is not None else norm, "layer_grad_norms": layers}
        self.run.history.append(record)
        if not (math.isfinite(record["loss"]) and math.isfinite(norm)):
            last = max(self.run.snapshots)
            if not math.isfinite(record["loss"]):
                self.run.note = msg("diverged at step {step}: the loss became {value}; the model is the last finite "
                                    "snapshot (step {last})", step=step, value=record["loss"], last=last)
            else:
                self.run.note = msg("diverged at step {step}: the gradient norm became {value}; the model is the last "
                                    "finite snapshot (step {last})", step=step, value=norm, last=last)
            return record
        self.opt.step()
        if step % self.every["snapshot"] == 0 or step == s.steps:
            self.keep(step)
        elif self.vocab is not None and step % self.every["sample"] == 0:
            self.keep(step, snapshot=False)
        if step % self.every["eval"] == 0 or step == s.steps:
            self.evaluate(step)
        self.busy += time.perf_counter() - t0
        self.run.seconds.append(self.busy)
        return record

    def stop(self) -> None:
        """End the run here, keeping a snapshot of where it got to."""
        if not self.done:
            self.run.note = msg("stopped at step {step} of {steps}", step=self.steps_done, steps=self.settings.steps)
            if self.steps_done not in self.run.snapshots:
                self.keep(self.steps_done)

    def keep(self, step: int, snapshot: bool = True) -> None:
        model = LabModel(self.settings, copy.deepcopy(self.net.state_dict()), self.vocab)
        if snapshot:
            self.run.snapshots[step] = model
        if self.vocab is not None and (step % self.every["sample"] == 0 or step == self.settings.steps):
            self.run.samples[step] = model.sample()

    def evaluate(self, step: int) -> None:
        self.net.eval()
        with torch.no_grad():
            x, y, mask = self.held
            self.run.evals.append((step, float(loss_fn(self.task, self.net(x)[0], y, mask))))
        self.net.train()


def tensors(b: tuple[np.ndarray, ...]) -> tuple[torch.Tensor, ...]:
    """A batch's arrays as torch wants them: float32 values, int64 ids, a bool mask."""
    return tuple(torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32 if a.dtype.kind == "f" else None)
                 for a in b)


def _carry(state, s: Settings):
    """Consecutive batching carries the state over (detached: backpropagation stops at the
    batch's start); otherwise every batch starts from zeros."""
    if state is None or s.batching != "consecutive" or s.task != "jaychou":
        return None
    return tuple(t.detach() for t in state) if isinstance(state, tuple) else state.detach()


# -- what the lab downloads --------------------------------------------------------------------

def history_csv(histories: Mapping[str, list[dict]]) -> bytes:
    """One row per (cell, step): cell, step, loss, grad_norm, grad_norm_clipped, then each
    layer group's gradient norm ("layer 0", …, "read-out"; empty where a cell has none)."""
    groups = list(dict.fromkeys(g for h in histories.values() for r in h[:1] for g in r["layer_grad_norms"]))
    lines = [",".join(["cell", "step", "loss", "grad_norm", "grad_norm_clipped", *groups])]
    for cell, h in histories.items():
        for r in h:
            norms = [repr(r["layer_grad_norms"][g]) if g in r["layer_grad_norms"] else "" for g in groups]
            lines.append(",".join([cell, str(r["step"]), repr(r["loss"]), repr(r["grad_norm"]),
                                   repr(r["grad_norm_clipped"]), *norms]))
    return ("\n".join(lines) + "\n").encode()


def history_json(runs: Mapping[str, Run]) -> bytes:
    """Every run's settings, history, held-out losses, samples and note; non-finite numbers as strings."""
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    doc = {cell: {"settings": asdict(r.settings), "history": r.history, "evals": r.evals, "samples": r.samples,
                  "note": r.note} for cell, r in runs.items()}
    return json.dumps(clean(doc), ensure_ascii=False, allow_nan=False).encode()


# -- a lab model as files: safetensors weights and a JSON sidecar ----------------------------

FORMAT = checkpoint.LAB_FORMAT  # the sidecar: {"format", "settings", "vocab", "sha256"}
MAX_VOCAB = 50_000  # a sidecar's vocabulary is refused above this, before anything is allocated


def files(model: LabModel) -> tuple[bytes, bytes]:
    """(sidecar JSON, safetensors weights) of a lab model: float32, exactly the model. The
    sidecar's sha256 covers its own fields and the weights (as bundled checkpoints' does)."""
    import safetensors.torch

    blob = safetensors.torch.save({k: v.detach().contiguous() for k, v in model.state.items()},
                                  metadata={"format": FORMAT})
    side = {"format": FORMAT, "settings": asdict(model.settings),
            "vocab": list(model.vocab.itos) if model.vocab is not None else None}
    side["sha256"] = checkpoint.digest(side, blob)
    return (json.dumps(side, ensure_ascii=False, indent=1) + "\n").encode(), blob


def save(model: LabModel, path: str | Path) -> tuple[Path, Path]:
    """Write path.json and path.safetensors; `cells.load_model(path)` reads them back."""
    jpath, wpath = checkpoint.paths(path)
    side, blob = files(model)
    wpath.parent.mkdir(parents=True, exist_ok=True)
    wpath.write_bytes(blob)
    jpath.write_bytes(side)
    return jpath, wpath


def load(path: str | Path) -> LabModel:
    """A lab model saved by `save` (or downloaded from the lab); CheckpointError on anything
    amiss, found before the model is built. Nothing is unpickled."""
    jpath, wpath = checkpoint.paths(path)
    try:
        side, blob = jpath.read_bytes(), wpath.read_bytes()
    except FileNotFoundError as e:
        raise checkpoint.CheckpointError(e.filename, "not found (a lab model is a .json next to a .safetensors)") from None
    return from_files(side, blob, path)


def from_files(side_bytes: bytes, blob: bytes, path: str | Path = "lab-model") -> LabModel:
    """The lab model whose `files` are (side_bytes, blob), read as `load` reads them from disk
    (the training worker's snapshots arrive this way); errors name `path`'s two files."""
    import safetensors.numpy

    jpath, wpath = checkpoint.paths(path)
    try:
        side = json.loads(side_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise checkpoint.CheckpointError(jpath, f"sidecar is not valid JSON ({e})") from None
    bad = lambda msg: checkpoint.CheckpointError(jpath, f"sidecar {msg}")  # noqa: E731
    if not isinstance(side, dict) or side.get("format") != FORMAT:
        raise bad(f"is not a lab model's (format {FORMAT!r})")
    if set(side) != {"format", "settings", "vocab", "sha256"}:
        raise bad("must hold exactly format, settings, vocab and sha256")
    try:
        intact = len(blob) <= checkpoint.MAX_WEIGHTS_BYTES and checkpoint.digest(side, blob) == side["sha256"]
    except ValueError:  # NaN or infinity in the sidecar: JSON has none, so we never wrote it
        intact = False
    if not intact:
        raise bad("fails its sha256: the sidecar or the weights were changed since they were saved")
    try:
        s = check(Settings(**side["settings"]))
    except (TypeError, LabError) as e:
        raise bad(f"settings are not the lab's: {e}") from None
    vocab = side["vocab"]
    if (s.task == "jaychou") != (vocab is not None):
        raise bad("has a vocabulary if and only if its task is jaychou")
    if vocab is not None:
        if not (isinstance(vocab, list) and 0 < len(vocab) <= MAX_VOCAB and all(isinstance(v, str) for v in vocab)):
            raise bad(f"vocabulary must be a list of at most {MAX_VOCAB:,} strings")
        try:
            vocab = Vocab(vocab)
        except ValueError as e:
            raise bad(str(e)) from None
    want = {k: (list(v.shape), "F32") for k, v in _net(s, vocab).state_dict().items()}
    head = checkpoint.header(blob, wpath)
    got = {k: (v["shape"], v["dtype"]) for k, v in head.items() if k != "__metadata__"}
    if got != want:
        raise checkpoint.CheckpointError(wpath, "weights do not fit the sidecar's settings")
    state = {k: torch.from_numpy(v.copy()) for k, v in safetensors.numpy.load(blob).items()}
    if not all(torch.isfinite(v).all() for v in state.values()):
        raise checkpoint.CheckpointError(wpath, "weights hold NaN or infinite values")
    return LabModel(s, state, vocab)
