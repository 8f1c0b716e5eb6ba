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
from ..i18n import N_, _, _n
from . import payload as p
from .columns import _timeline, describe, label

MAX_SENTENCES = 8  # a batch holds at most this many sentences (lines)
MAX_TOKENS = 40  # word tokens read per sentence
MAX_CHARS = 400  # characters read per sentence
PAD = "<pad>"  # the vocabulary entry the batch is padded with (id 0 in the bundled vocabularies)
MODES = (N_("packed"), N_("padded (pads read)"))  # the two columns' titles (the payload's: translated)


# -- the input ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sentences:
    sentences: tuple[str, ...]  # what the batch holds, in order ((): nothing to read)
    messages: tuple[checks.Message, ...] = ()  # said on screen, in order


def check_sentences(raw: str, tokenize: Callable[[str], list[Token]], max_sentences: int = MAX_SENTENCES,
                    max_tokens: int = MAX_TOKENS, max_chars: int = MAX_CHARS) -> Sentences:
    """One sentence per line, each bounded like any text (checks.check_text); blank lines skipped.
    The messages are in the current language (viz_app.i18n)."""
    raw = raw if isinstance(raw, str) else ""
    msgs: list[checks.Message] = []
    if len(raw) > checks.MAX_CHARS:
        msgs.append(checks.warning(_("The box has {n:,} characters; only the first {limit:,} are read.",
                                     n=len(raw), limit=checks.MAX_CHARS)))
        raw = raw[: checks.MAX_CHARS]
    lines = [line for line in raw.splitlines() if line.strip()]
    if len(lines) > max_sentences:
        msgs.append(checks.warning(_("There are {n} sentences; a batch here holds {limit}: the first {limit} are read.",
                                     n=len(lines), limit=max_sentences)))
        lines = lines[:max_sentences]
    out = []
    for line in lines:
        c = checks.check_text(line, tokenize, "word token", max_chars=max_chars, max_tokens=max_tokens)
        if c.empty:  # control characters only: nothing the models read
            continue
        out.append(c.text)
        msgs += [checks.Message(m.level, _("Sentence {i}: {said}", i=len(out), said=m.text))
                 for m in c.messages]
    if not out:
        msgs.append(checks.info(_("Type some sentences, one per line, to read them as one batch.")))
        return Sentences((), tuple(msgs))
    lengths = {len(tokenize(s)) for s in out}
    if len(out) == 1:
        msgs.append(checks.info(_("One sentence is a batch without pads: add sentences of other lengths, one per "
                                  "line.")))
    elif len(lengths) == 1:
        msgs.append(checks.info(_n("Every sentence has {n} token, so there are no pads and the two modes agree: "
                                   "make them differ in length.",
                                   "Every sentence has {n} tokens, so there are no pads and the two modes agree: "
                                   "make them differ in length.", lengths.pop())))
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
        raise ValueError(_("{model} is not a classifier: the Padding view shows the classifiers' predictions",
                           model=model.name))
    if not sentences:
        raise ValueError(_("no sentences to read: type at least one"))
    vocab = model.vocab
    if PAD not in vocab:
        raise ValueError(_("{model}'s vocabulary has no {pad} entry to pad with", model=model.name, pad=PAD))
    pad_id, unk_id = vocab.index(PAD), vocab.index("<unk>")
    ids = [model.encode(s) for s in sentences]  # (T_b,) each
    if any(len(i) == 0 for i in ids):
        raise ValueError(_("every sentence needs at least one token"))
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
    titles = (_("‖h→_t‖, the forward direction"), _("‖h←_t‖, the backward direction"))
    blocks = [(titles[d], state_norms(mode, r.T, d)) for d in range(D)]
    ends = [int(n) - 1 if packed else r.T - 1 for n in r.lengths]  # where h→ stops (its h_n) and h← starts
    marks = [(0, "→", _("h→ stops here: its h_n"), ends)] + ([(1, "←", _("h← starts here"), ends)] if D == 2 else [])
    fig = pc.batch_heatmaps(blocks, r.lengths, r.tokens, zmax=zmax, scale_label=f"‖h_t‖ ∈ [0, {zmax:g}]",
                            marks=marks)
    caption = _("Rows: the sentences; hatched: their pads, never read (empty cells). ▶ where h→ stops (its h_n), "
                "◀ where h← starts.") if packed else \
        _("Rows: the sentences; hatched: their pads, read as input. ▶ where h→ stops (its h_n), ◀ where h← starts.")
    return p.plotly(_timeline(fig), caption=caption)


def _step_lines(r: Reading, mode: Mode, packed: bool) -> tuple[list[str], dict]:
    """At step t, per sentence: the token it reads (or the pad) and each direction's ‖h_t‖."""
    D = mode.traces[0].num_directions
    norms = [state_norms(mode, r.T, d) for d in range(D)]
    pad = _("⟨pad⟩ not read") if packed else _("⟨pad⟩ read as input")
    lines, values = [_("at t = {t}, what each sentence reads and its state:")], {}
    for b, n in enumerate(r.lengths):
        values[f"w{b}"] = [visible(r.tokens[b][t]) if t < n else pad for t in range(r.T)]
        line = f"{b + 1}  {{w{b}}}"
        for d in range(D):
            values[f"h{b}_{d}"] = p.nums(norms[d][b])
            line += f"   ‖h{ARROWS[d]}_t‖ = {{h{b}_{d}:3}}"
        lines.append(line)
    return lines, values


def _prediction_bars(model, r: Reading, mode: Mode, packed: bool, b: int) -> dict:
    n, labels = int(r.lengths[b]), [label(l) for l in model.labels]
    pads = r.T - n
    if packed:
        detail = _n("attention over its {n} token: the pads are not read",
                    "attention over its {n} tokens: the pads are not read", n)
    elif pads:
        detail = _n("attention over all {T} states: {share:.3f} of it on the {n} pad",
                    "attention over all {T} states: {share:.3f} of it on the {n} pads", pads,
                    T=r.T, share=float(mode.attention[b][n:].sum()))
    else:
        detail = _("no pads: the longest sentence reads the same in both modes")
    return p.bars(f"{b + 1} · {_short(r.sentences[b])}", [mode.probs[b]], labels=labels, detail=[detail] * r.T)


def _short(s: str, n: int = 60) -> str:
    """A sentence on one line (its whitespace runs as single spaces), cut to n characters."""
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _summary(model, r: Reading) -> dict:
    """Per sentence: tokens and pads, both predictions, the drift of h_n."""
    lines, values = [_n("{model}: {n} sentence as one batch of T = {T} steps. What the pads change, sentence by "
                        "sentence:",
                        "{model}: {n} sentences as one batch of T = {T} steps. What the pads change, sentence by "
                        "sentence:", len(r.sentences), model=describe(model), T=r.T)], {}
    T = r.T
    for b, n in enumerate(r.lengths):
        k0, k1 = int(np.argmax(r.packed.probs[b])), int(np.argmax(r.padded.probs[b]))
        values[f"a{b}"], values[f"c{b}"] = [label(model.labels[k0])] * T, [label(model.labels[k1])] * T
        values[f"pa{b}"], values[f"pc{b}"] = [p.nums(r.packed.probs[b, k0])] * T, [p.nums(r.padded.probs[b, k1])] * T
        values[f"d{b}"] = [p.nums(r.drift[b])] * T
        parts = "(" + ", ".join(f"{ARROWS[d]} {{d{b}_{d}:3}}" for d in range(r.drift_dir.shape[1])) + ")"
        for d in range(r.drift_dir.shape[1]):
            values[f"d{b}_{d}"] = [p.nums(r.drift_dir[b, d])] * T
        fields = {"a": "{a%d}" % b, "pa": "{pa%d:3}" % b, "c": "{c%d}" % b, "pc": "{pc%d:3}" % b, "d": "{d%d:3}" % b,
                  "parts": parts}  # the formula's own fields: the browser fills them at each step
        line = _("{i}  {n} tokens + {pads} pads:  packed → {a} {pa}  ·  padded → {c} {pc}  ·  "
                 "‖h_n(packed) − h_n(padded)‖ = {d} {parts}", i=b + 1, n=int(n), pads=T - n, **fields)
        lines.append(line + ("  " + _("← the prediction flips") if k0 != k1 else ""))
    return p.formula(lines, values, digits=3)


def _change_chart(r: Reading) -> dict:
    D = r.packed.traces[0].num_directions
    titles = (_("‖h→_t(padded) − h→_t(packed)‖ at the real steps"),
              _("‖h←_t(padded) − h←_t(packed)‖ at the real steps"))
    blocks = [(titles[d], state_change(r, d)) for d in range(D)]
    top = max(float(np.nanmax(z)) if np.isfinite(z).any() else 0.0 for _, z in blocks)
    zmax = max(top, 1e-6)
    fig = pc.batch_heatmaps(blocks, r.lengths, r.tokens, zmax=zmax, colorscale=pc.CHANGE_SCALE,
                            scale_label=f"‖Δh_t‖ ∈ [0, {zmax:.3g}]")
    says = [_("How far reading the pads moved each real step's state (full colour at {zmax:.3g}).", zmax=zmax)]
    if np.nanmax(blocks[0][1]) < SAME:
        says.append(_("h→ is unchanged at every real step (up to float32 rounding): it comes to the pads only "
                      "after them."))
    if D == 2:
        says.append(_("h← read the pads first and carries what they did to it back towards t = 0."))
    return p.plotly(_timeline(fig), caption=" ".join(says))


def padding_doc(model, r: Reading) -> dict:
    """The envelope: above the columns, what the pads change (predictions, h_n drift, the
    states they moved); one column per mode with the batch's states over time, what each
    sentence reads at step t, and each sentence's class probabilities. Its text is in the
    current language (viz_app.i18n; cache.padding_payload keys it by the language), its
    numbers the same in every language."""
    zmax = norm_range(r)
    columns = []
    metas = (_("pack_padded_sequence: each sentence stops at its length; h← starts at its own last token"),
             _("the padded batch alone: the pads are read as input, the attention pools over them too"))
    for (packed, mode), title, meta in zip(((True, r.packed), (False, r.padded)), map(_, MODES), metas):
        lines, values = _step_lines(r, mode, packed)
        panels = [_states_chart(r, mode, packed, zmax), p.formula(lines, values, digits=3)]
        panels += [_prediction_bars(model, r, mode, packed, b) for b in range(len(r.sentences))]
        warning = "" if all(tr.finite for tr in mode.traces) else _("Some states overflowed to inf/NaN (shown blank).")
        columns.append(p.Column(title, meta, warning, panels))
    steps = [" · ".join(visible(r.tokens[b][t]) if t < n else "⟨pad⟩" for b, n in enumerate(r.lengths))
             for t in range(r.T)]
    return p.document("padding", steps, columns, wide=[_summary(model, r), _change_chart(r)])
