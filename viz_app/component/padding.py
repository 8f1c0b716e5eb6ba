"""The Padding view's input, reading and payload: sentences of different lengths as one
batch, read packed and padded. Pure: no Streamlit.

    s = check_sentences("a gem .\\nthe plot is thin but the actors make it sing .", m.tokenize)
    r = read(m, s.sentences)            # both modes, every number from cells
    payload.encode(padding_doc(m, r))   # what viz_app.views.padding mounts

A batch X (B, T, E) holds sentence b in rows 0 … T_b − 1 and the embedding of <pad>
after them. Packed (`pack_padded_sequence`), each sentence stops at its length: its
states and prediction are exactly what `m.analyze(sentence)` gives. Padded, the cell
reads the pads as input: the forward state keeps moving after the last token (h_n
drifts), the backward direction reads the pads first, and the attention pools over all
T states, pads included, because nothing masks them (cells/padding.py says why).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cells.params import readonly
from cells.tokens import Token
from cells.trace import Trace

from .. import checks
from ..charts import padding as pc
from ..charts.text import visible
from . import payload as p
from .columns import _timeline, describe

MAX_SENTENCES = 8  # a batch holds at most this many sentences (lines)
MAX_TOKENS = 40  # word tokens read per sentence
MAX_CHARS = 400  # characters read per sentence
PAD = "<pad>"  # the vocabulary entry the batch is padded with (id 0 in the bundled vocabularies)
MODES = ("packed", "padded (pads read)")  # the two columns' titles


# -- the input ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sentences:
    sentences: tuple[str, ...]  # what the batch holds, in order ((): nothing to read)
    messages: tuple[checks.Message, ...] = ()  # said on screen, in order


def check_sentences(raw: str, tokenize: Callable[[str], list[Token]], max_sentences: int = MAX_SENTENCES,
                    max_tokens: int = MAX_TOKENS, max_chars: int = MAX_CHARS) -> Sentences:
    """One sentence per line, each bounded like any text (checks.check_text); blank lines skipped."""
    raw = raw if isinstance(raw, str) else ""
    msgs: list[checks.Message] = []
    if len(raw) > checks.MAX_CHARS:
        msgs.append(checks.warning(f"The box has {len(raw):,} characters; only the first {checks.MAX_CHARS:,} "
                                   "are read."))
        raw = raw[: checks.MAX_CHARS]
    lines = [line for line in raw.splitlines() if line.strip()]
    if len(lines) > max_sentences:
        msgs.append(checks.warning(f"There are {len(lines)} sentences; a batch here holds {max_sentences}: "
                                   f"the first {max_sentences} are read."))
        lines = lines[:max_sentences]
    out = []
    for line in lines:
        c = checks.check_text(line, tokenize, "word token", max_chars=max_chars, max_tokens=max_tokens)
        if c.empty:  # control characters only: nothing the models read
            continue
        out.append(c.text)
        msgs += [checks.Message(m.level, f"Sentence {len(out)}: {m.text}") for m in c.messages]
    if not out:
        msgs.append(checks.info("Type some sentences, one per line, to read them as one batch."))
        return Sentences((), tuple(msgs))
    lengths = {len(tokenize(s)) for s in out}
    if len(out) == 1:
        msgs.append(checks.info("One sentence is a batch without pads: add sentences of other lengths, one per line."))
    elif len(lengths) == 1:
        msgs.append(checks.info(f"Every sentence has {lengths.pop()} tokens, so there are no pads and the two modes "
                                "agree: make them differ in length."))
    return Sentences(tuple(out), tuple(msgs))


# -- reading the batch ----------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Mode:
    """One way of reading the batch: a trace and the head's output per sentence."""

    traces: tuple[Trace, ...]  # packed: T_b steps each; padded: T steps each
    attention: tuple[np.ndarray, ...]  # (T_b,) or (T,) the pooling weights
    probs: np.ndarray  # (B, C)


@dataclass(frozen=True, eq=False)
class Reading:
    sentences: tuple[str, ...]
    tokens: tuple[tuple[str, ...], ...]  # each sentence's tokens as typed (T_b each)
    unknown: tuple[tuple[int, ...], ...]  # positions read as <unk>
    lengths: np.ndarray  # (B,) T_b
    X: np.ndarray  # (B, T, E) the padded batch
    packed: Mode
    padded: Mode
    drift: np.ndarray  # (B,) ‖h_n(packed) − h_n(padded)‖ over every layer and direction
    drift_dir: np.ndarray  # (B, D) the same, per direction of the last layer

    @property
    def T(self) -> int:
        return int(self.X.shape[1])


def read(model, sentences: Sequence[str]) -> Reading:
    """The sentences as one batch padded with the <pad> embedding, read packed and padded
    by the model's cell, each mode's states through the model's own head."""
    if not model.is_classifier:
        raise ValueError(f"{model.name} is not a classifier: the Padding view shows the classifiers' predictions")
    if not sentences:
        raise ValueError("no sentences to read: type at least one")
    vocab = model.vocab
    if PAD not in vocab:
        raise ValueError(f"{model.name}'s vocabulary has no {PAD} entry to pad with")
    pad_id, unk_id = vocab.index(PAD), vocab.index("<unk>")
    ids = [model.encode(s) for s in sentences]  # (T_b,) each
    if any(len(i) == 0 for i in ids):
        raise ValueError("every sentence needs at least one token")
    lengths = np.array([len(i) for i in ids], np.int64)  # (B,)
    batch = np.full((len(ids), lengths.max()), pad_id, np.int64)  # (B, T)
    for row, i in zip(batch, ids):
        row[: len(i)] = i
    X = model.embed(batch)  # (B, T, E)
    modes = {}
    for packed in (True, False):
        trs = model.recurrent.trace_batch(X, lengths, packed=packed)
        heads = [model.classify_states(np.asarray(tr.output)) for tr in trs]
        modes[packed] = Mode(tuple(trs), tuple(h["attention"] for h in heads),
                             readonly(np.stack([h["probs"] for h in heads])))  # (B, C)
    pk, pd = modes[True].traces, modes[False].traces
    diff = [np.asarray(a.h_n, np.float64) - np.asarray(b.h_n, np.float64) for a, b in zip(pk, pd)]  # (L·D, H) each
    D = pk[0].num_directions
    return Reading(tuple(sentences), tuple(tuple(t.text for t in model.tokenize(s)) for s in sentences),
                   tuple(tuple(np.flatnonzero(i == unk_id).tolist()) for i in ids), readonly(lengths), readonly(X),
                   modes[True], modes[False], readonly(np.array([np.linalg.norm(d) for d in diff])),  # (B,)
                   readonly(np.array([np.linalg.norm(d[-D:], axis=1) for d in diff])))  # (B, D)


def state_norms(mode: Mode, T: int, direction: int) -> np.ndarray:
    """(B, T) ‖h_t‖ of the last layer in one direction; NaN at the steps a trace has not (packed pads)."""
    out = np.full((len(mode.traces), T), np.nan)
    for b, tr in enumerate(mode.traces):
        h = np.asarray(tr.layer(-1, direction).h, np.float64)  # (T_b or T, H)
        out[b, : len(h)] = np.linalg.norm(h, axis=1)
    return out


def state_change(r: Reading, direction: int) -> np.ndarray:
    """(B, T) ‖h_t(padded) − h_t(packed)‖ of the last layer at the real steps; NaN at the pads."""
    out = np.full((len(r.sentences), r.T), np.nan)
    for b, (a, c) in enumerate(zip(r.packed.traces, r.padded.traces)):
        n = int(r.lengths[b])
        out[b, :n] = np.linalg.norm(np.asarray(c.layer(-1, direction).h[:n], np.float64)
                                    - np.asarray(a.layer(-1, direction).h, np.float64), axis=1)
    return out


# -- the payload ----------------------------------------------------------------------------

ARROWS = ("→", "←")
SAME = 1e-5  # states closer than this are the same up to float32 rounding (the engine batches each trace's matmuls)


def norm_range(r: Reading) -> float:
    """One colour range for ‖h_t‖ in both columns: the largest over the batch, rounded up to 0.5."""
    top = max(float(np.nanmax(state_norms(m, r.T, d))) for m in (r.packed, r.padded)
              for d in range(r.packed.traces[0].num_directions))
    return max(0.5, np.ceil(top * 2) / 2) if np.isfinite(top) else 1.0


def _states_chart(r: Reading, mode: Mode, packed: bool, zmax: float) -> dict:
    D = mode.traces[0].num_directions
    blocks = [(f"‖h{ARROWS[d]}_t‖, the {'forward' if d == 0 else 'backward'} direction", state_norms(mode, r.T, d))
              for d in range(D)]
    ends = [int(n) - 1 if packed else r.T - 1 for n in r.lengths]  # where h→ stops (its h_n) and h← starts
    marks = [(0, "→", "h→ stops here: its h_n", ends)] + ([(1, "←", "h← starts here", ends)] if D == 2 else [])
    fig = pc.batch_heatmaps(blocks, r.lengths, r.tokens, zmax=zmax, scale_label=f"‖h_t‖ ∈ [0, {zmax:g}]",
                            marks=marks)
    pads = "never read (empty cells)" if packed else "read as input"
    return p.plotly(_timeline(fig), caption=f"Rows: the sentences; hatched: their pads, {pads}. "
                                            "▶ where h→ stops (its h_n), ◀ where h← starts.")


def _step_lines(r: Reading, mode: Mode, packed: bool) -> tuple[list[str], dict]:
    """At step t, per sentence: the token it reads (or the pad) and each direction's ‖h_t‖."""
    D = mode.traces[0].num_directions
    norms = [state_norms(mode, r.T, d) for d in range(D)]
    pad = "⟨pad⟩ not read" if packed else "⟨pad⟩ read as input"
    lines, values = ["at t = {t}, what each sentence reads and its state:"], {}
    for b, n in enumerate(r.lengths):
        values[f"w{b}"] = [visible(r.tokens[b][t]) if t < n else pad for t in range(r.T)]
        line = f"{b + 1}  {{w{b}}}"
        for d in range(D):
            values[f"h{b}_{d}"] = p.nums(norms[d][b])
            line += f"   ‖h{ARROWS[d]}_t‖ = {{h{b}_{d}:3}}"
        lines.append(line)
    return lines, values


def _prediction_bars(model, r: Reading, mode: Mode, packed: bool, b: int) -> dict:
    n, labels = int(r.lengths[b]), [visible(l) for l in model.labels]
    pads = r.T - n
    if packed:
        detail = f"attention over its {n} tokens: the pads are not read"
    elif pads:
        detail = f"attention over all {r.T} states: {float(mode.attention[b][n:].sum()):.3f} of it on the {pads} pads"
    else:
        detail = "no pads: the longest sentence reads the same in both modes"
    return p.bars(f"{b + 1} · {_short(r.sentences[b])}", [mode.probs[b]], labels=labels, detail=[detail] * r.T)


def _short(s: str, n: int = 60) -> str:
    """A sentence on one line (its whitespace runs as single spaces), cut to n characters."""
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _summary(model, r: Reading) -> dict:
    """Per sentence: tokens and pads, both predictions, the drift of h_n."""
    lines, values = [f"{describe(model)}: {len(r.sentences)} sentences as one batch of T = {r.T} steps. "
                     "What the pads change, sentence by sentence:"], {}
    T = r.T
    for b, n in enumerate(r.lengths):
        k0, k1 = int(np.argmax(r.packed.probs[b])), int(np.argmax(r.padded.probs[b]))
        values[f"a{b}"], values[f"c{b}"] = [visible(model.labels[k0])] * T, [visible(model.labels[k1])] * T
        values[f"pa{b}"], values[f"pc{b}"] = [p.nums(r.packed.probs[b, k0])] * T, [p.nums(r.padded.probs[b, k1])] * T
        values[f"d{b}"] = [p.nums(r.drift[b])] * T
        parts = "(" + ", ".join(f"{ARROWS[d]} {{d{b}_{d}:3}}" for d in range(r.drift_dir.shape[1])) + ")"
        for d in range(r.drift_dir.shape[1]):
            values[f"d{b}_{d}"] = [p.nums(r.drift_dir[b, d])] * T
        flip = "  ← the prediction flips" if k0 != k1 else ""
        lines.append(f"{b + 1}  {n} tokens + {T - n} pads:  packed → {{a{b}}} {{pa{b}:3}}  ·  "
                     f"padded → {{c{b}}} {{pc{b}:3}}  ·  ‖h_n(packed) − h_n(padded)‖ = {{d{b}:3}} {parts}{flip}")
    return p.formula(lines, values, digits=3)


def _change_chart(r: Reading) -> dict:
    D = r.packed.traces[0].num_directions
    blocks = [(f"‖h{ARROWS[d]}_t(padded) − h{ARROWS[d]}_t(packed)‖ at the real steps", state_change(r, d))
              for d in range(D)]
    top = max(float(np.nanmax(z)) if np.isfinite(z).any() else 0.0 for _, z in blocks)
    zmax = max(top, 1e-6)
    fig = pc.batch_heatmaps(blocks, r.lengths, r.tokens, zmax=zmax, colorscale=pc.CHANGE_SCALE,
                            scale_label=f"‖Δh_t‖ ∈ [0, {zmax:.3g}]")
    says = ["How far reading the pads moved each real step's state (full colour at " f"{zmax:.3g})."]
    if np.nanmax(blocks[0][1]) < SAME:
        says.append("h→ is unchanged at every real step (up to float32 rounding): it comes to the pads only "
                    "after them.")
    if D == 2:
        says.append("h← read the pads first and carries what they did to it back towards t = 0.")
    return p.plotly(_timeline(fig), caption=" ".join(says))


def padding_doc(model, r: Reading) -> dict:
    """The envelope: above the columns, what the pads change (predictions, h_n drift, the
    states they moved); one column per mode with the batch's states over time, what each
    sentence reads at step t, and each sentence's class probabilities."""
    zmax = norm_range(r)
    columns = []
    metas = ("pack_padded_sequence: each sentence stops at its length; h← starts at its own last token",
             "the padded batch alone: the pads are read as input, the attention pools over them too")
    for (packed, mode), title, meta in zip(((True, r.packed), (False, r.padded)), MODES, metas):
        lines, values = _step_lines(r, mode, packed)
        panels = [_states_chart(r, mode, packed, zmax), p.formula(lines, values, digits=3)]
        panels += [_prediction_bars(model, r, mode, packed, b) for b in range(len(r.sentences))]
        warning = "" if all(tr.finite for tr in mode.traces) else "Some states overflowed to inf/NaN (shown blank)."
        columns.append(p.Column(title, meta, warning, panels))
    steps = [" · ".join(visible(r.tokens[b][t]) if t < n else "⟨pad⟩" for b, n in enumerate(r.lengths))
             for t in range(r.T)]
    return p.document("padding", steps, columns, wide=[_summary(model, r), _change_chart(r)])
