"""The Seq2seq view's input, reading and payload, and the Shapes view's live examples. Pure: no Streamlit.

    req = check_request("Thursday, November 9th 1989", FREE, 1, None, alphabet(m), writable(m))
    r = read(models, req.source, req.beam, req.target)   # RNN, LSTM, GRU encoder–decoders (cells/seq2seq.py)
    payload.encode(seq2seq_doc(models, r))              # what viz_app.views.seq2seq mounts

Stepping is over the decoder's output steps t = 0 … T − 1 (step t computes the
paper's s_{t+1}: it reads y_{t−1}, <s> first, attends, writes y_t). Free running
(greedy, or beam search of width k) each model writes its own output, and T is the
longest of the three: a column whose output ended earlier shows it finished. Teacher
forcing, every decoder reads the same target (and </s> after it), so T = its length + 1;
beside it each model's free-running output is scored against the same target, which is
where exposure bias shows: the decoder was trained reading the target, and on its own it
reads its own mistakes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from cells import readout
from cells.seq2seq import END, MAX_BEAM, MAX_OUTPUT, MAX_SOURCE, START, Result
from cells.tokens import chars

from .. import checks
from ..charts import seq2seq as sc
from ..charts.heatmaps import heatmap_spec, quantities
from ..charts.scales import NAMES
from ..charts.text import visible
from ..i18n import N_, _, _n
from . import payload as p
from .columns import _timeline, label

MODES = (N_("free running"), N_("teacher forcing"))  # the radio's values; shown as _(mode)
FREE, TEACHER = MODES
MODEL_NAMES = {kind: f"dates-{kind}" for kind in ("rnn", "lstm", "gru")}  # cells.load_model names, column order
DEFAULT_SOURCE = "Thursday, November 9th 1989"  # a test-split date: no model saw it in training, in any form
DEFAULT_TARGET = "1989-11-09"
MAX_TARGET = MAX_OUTPUT - 1  # characters before </s>
MAX_READ = 100_000  # longer boxes are counted, not cut into characters
TOP_K = 5  # next characters listed per step
HYPOTHESES = 5  # beam search candidates listed per model
SPECIALS = ("<pad>", "<unk>")
GATE_LINES = {  # the decoder's gates at step t, by its cell's gates (the 中文 names them: 遗忘门 f …)
    ("i", "f", "g", "o"): N_("i {i:3} · f {f:3} · g {g:3} · o {o:3}"),
    ("r", "z", "n"): N_("r {r:3} · z {z:3} · n {n:3}"),
}


# -- the input ------------------------------------------------------------------------------

def alphabet(model) -> frozenset[str]:
    """The characters a model read in training (its source vocabulary without <pad>, <unk>)."""
    return frozenset(v for v in model.vocab if v not in SPECIALS)


def writable(model) -> str:
    """The characters its decoder writes (for dates: "-0123456789"), </s> aside."""
    return "".join(s for s in model.target_vocab if s not in (START, END))


@dataclass(frozen=True)
class Request:
    source: str  # what the models read: the box without surrounding whitespace
    beam: int  # 1 (greedy) … MAX_BEAM; 1 under teacher forcing
    target: str | None  # teacher forcing: what the decoder reads; None: free running
    messages: tuple[checks.Message, ...] = ()  # said on screen, in order
    ready: bool = True  # False: nothing to draw (the messages say why)


def _chars(raw: str) -> list[str]:
    return [t.text for t in chars(raw)] if len(raw) <= MAX_READ else list(raw)


def _which(found: Sequence[tuple[int, str]], n: int = 10) -> str:
    said = _(", ").join(_("«{char}» (position {i})", char=visible(c), i=i) for i, c in found[:n])
    return _("{listed} and {n} more", listed=said, n=len(found) - n) if len(found) > n else said


def check_request(source: str, mode: str, beam, target: str | None, known: Collection[str], writes: str) -> Request:
    """The view's inputs, checked before any model reads them: the source (not empty, at most
    MAX_SOURCE characters, every one seen in training), the beam width (1 … MAX_BEAM, else
    the nearest, said) and under teacher forcing the target (at most MAX_TARGET characters,
    each one the decoder writes). known: alphabet(model); writes: writable(model). The
    messages are in the current language (viz_app.i18n)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    msgs: list[checks.Message] = []
    text = source.strip() if isinstance(source, str) else ""
    ready = True
    if not text:
        msgs.append(checks.info(_("Type a date to translate, written any way the models were trained on: e.g. "
                                  "{example}, 9.11.1989, 11/9/89 or 一九八九年十一月九日.", example=DEFAULT_SOURCE)))
        ready = False
    else:
        toks = _chars(text)
        if len(toks) > MAX_SOURCE:
            msgs.append(checks.error(_("The source has {n:,} characters; the models read at most {limit} (the "
                                       "longest date they were trained on has 30). Shorten it.",
                                       n=len(toks), limit=MAX_SOURCE)))
            ready = False
        unseen = [(i, c) for i, c in enumerate(toks[:MAX_READ]) if c not in known]
        if unseen:
            msgs.append(checks.error(_n(
                "The models never saw this character in training: {which}. They read dates written with these "
                "{known} characters only: {alphabet}",
                "The models never saw these characters in training: {which}. They read dates written with these "
                "{known} characters only: {alphabet}", len(unseen),
                which=_which(unseen), known=len(known), alphabet="".join(sorted(known)))))
            ready = False
    k = 1
    if mode == FREE:
        k, said = _beam(beam)
        msgs += said
    tgt = None
    if mode == TEACHER:
        tgt = target.strip() if isinstance(target, str) else ""
        if not tgt:
            msgs.append(checks.info(_("Type the target the decoders read under teacher forcing, e.g. {example}.",
                                      example=DEFAULT_TARGET)))
            ready = False
        else:
            toks = _chars(tgt)
            if len(toks) > MAX_TARGET:
                msgs.append(checks.error(_("The target has {n:,} characters; a decoder writes at most {limit} "
                                           "(then </s>), and an ISO date has 10.", n=len(toks), limit=MAX_TARGET)))
                ready = False
            bad = [(i, c) for i, c in enumerate(toks[:MAX_READ]) if c not in writes]
            if bad:
                msgs.append(checks.error(_n(
                    "The target holds a character the decoders never write: {which}. They write only {writes} (and "
                    "</s>, which ends every output).",
                    "The target holds characters the decoders never write: {which}. They write only {writes} (and "
                    "</s>, which ends every output).", len(bad), which=_which(bad), writes=writes)))
                ready = False
    return Request(text, k, tgt, tuple(msgs), ready)


def _beam(beam) -> tuple[int, list[checks.Message]]:
    """The beam width to search with, and what was changed."""
    if beam is None:
        return 1, [checks.info(_("No beam width given: decoding greedily (width 1)."))]
    try:
        k = int(beam)
    except (TypeError, ValueError, OverflowError):
        k = None
    if k is None or k != beam:
        return 1, [checks.warning(_("Beam width {beam} is not a whole number: decoding greedily (width 1).",
                                    beam=repr(beam)))]
    if k < 1:
        return 1, [checks.warning(_("Beam width {k} keeps no candidates: the width is at least 1, which is greedy "
                                    "decoding. Decoding greedily.", k=k))]
    if k > MAX_BEAM:
        return MAX_BEAM, [checks.warning(_("Beam width {k:,} is wider than this page searches: each step costs k "
                                           "decoder steps per model. Searching with width {limit}.",
                                           k=k, limit=MAX_BEAM))]
    return k, []


# -- reading --------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Reading:
    source: str
    beam: int
    target: str | None  # teacher forcing: the target read; None: free running
    runs: tuple[Result, ...]  # per model: what its column steps through
    free: tuple[Result, ...]  # per model: its free-running output (the runs themselves unless teacher forcing)

    @property
    def T(self) -> int:
        """The steps stepped through: the longest output (teacher forcing: the target and </s>)."""
        return max(len(r.output_tokens) for r in self.runs)

    @property
    def teacher(self) -> bool:
        return self.target is not None


def read(models: Sequence, source: str, beam: int = 1, target: str | None = None) -> Reading:
    """Each model translates the source: free running (greedy, or beam search of width `beam`)
    or, given a target, under teacher forcing, with its greedy output beside it."""
    if target is None:
        runs = tuple(m.translate(source, beam=beam) for m in models)
        return Reading(source, beam, None, runs, runs)
    return Reading(source, 1, target, tuple(m.translate(source, target=target) for m in models),
                   tuple(m.translate(source) for m in models))


# -- the payload ----------------------------------------------------------------------------

def _per_step(values: Sequence, T: int, fill=None) -> list:
    """values (≤ T entries) padded to T with `fill`."""
    return list(values) + [fill] * (T - len(values))


def _own_choice(m, run: Result) -> np.ndarray:
    """(T_out,) the id the model itself would write at each step (argmax, never <s>)."""
    p = np.array(run.probs, dtype=np.float64)
    p[:, m.target_vocab.index(START)] = -1.0
    return p.argmax(axis=1)


def _text(run: Result, teacher: bool, beam: int) -> dict:
    pieces = [[visible(t), i] for i, t in enumerate(run.output_tokens)]
    how = _("the target, read by the decoder (teacher forcing)") if teacher else \
        _("what it writes, greedy") if beam == 1 else _("what it writes, beam search of width {k}", k=beam)
    return p.text("full", pieces, title=how)


def _step_formula(m, run: Result, free: Result, teacher: bool, T: int) -> dict:
    """At step t: what the decoder reads and writes (or the target and its own choice), and
    where it looks (the three largest α)."""
    T_out, T_in = run.attention.shape
    toks = [visible(s) for s in run.source_tokens]
    read_ = [START] + list(run.output_tokens[:-1])  # y_{t−1}
    values = {"inp": _per_step(read_, T), "out": _per_step(run.output_tokens, T),
              "p": _per_step(p.nums(np.exp(run.token_logprobs)), T)}
    k = min(3, T_in)
    order = np.argsort(-run.attention, axis=1, kind="stable")[:, :k]  # (T_out, k)
    for j in range(k):
        values[f"a{j}"] = _per_step([toks[i] for i in order[:, j]], T)
        values[f"j{j}"] = _per_step(order[:, j].tolist(), T)
        values[f"w{j}"] = _per_step(p.nums(run.attention[np.arange(T_out), order[:, j]]), T)
    fields = [{"char": "{a%d}" % j, "position": "{j%d:d}" % j, "weight": "{w%d:3}" % j} for j in range(k)]
    looks = " · ".join(_("«{char}» at {position} α = {weight}", **f) for f in fields)  # fields the browser fills
    if teacher:
        own = _own_choice(m, run)
        vocab = m.target_vocab
        values["own"] = _per_step([vocab[i] for i in own], T)
        values["pown"] = _per_step(p.nums(run.probs[np.arange(T_out), own]), T)
        right, wrong = _("✓ the target"), _("✗ not the target")
        values["ok"] = _per_step([right if own[t] == run.output_ids[t] else wrong for t in range(T_out)], T)
        values["fout"] = _per_step(free.output_tokens, T)
        lines = [_("t = {t}: reads «{inp}» (the target's y_{t−1}); the target «{out}» has p = {p:4}"),
                 _("its own choice here: «{own}» p = {pown:4}, {ok}"),
                 _("free running, it wrote «{fout}» at this step"),
                 _("looks at {places}", places=looks)]
    else:
        lines = [_("t = {t}: reads «{inp}» (y_{t−1}), writes «{out}» with p = {p:4}"),
                 _("looks at {places}", places=looks)]
    if T_out < T or not run.finished:
        done = _("finished: it wrote </s> at step {t}", t=T_out - 1) if run.finished else \
            _n("cut after {n} step: no </s> within {limit}", "cut after {n} steps: no </s> within {limit}", T_out,
               limit=MAX_OUTPUT)
        values["done"] = ["" if t < T_out - 1 else done for t in range(T)]
        lines.append("{done}")
    return p.formula(lines, values, digits=3)


def _top_bars(m, run: Result, teacher: bool, T: int) -> dict:
    """The k likeliest next characters at each step, the one written (or the target's) outlined."""
    ids, vals = readout.top_k(run.probs, TOP_K)  # (T_out, k)
    T_out = len(ids)
    detail = []
    for t in range(T_out):
        y = int(run.output_ids[t])
        rank = np.flatnonzero(ids[t] == y)
        said = {"char": run.output_tokens[t], "p": float(run.probs[t, y])}
        if rank.size:
            detail.append(_("target «{char}»: p = {p:.4f} (rank {rank})", rank=rank[0] + 1, **said) if teacher else
                          _("wrote «{char}»: p = {p:.4f} (rank {rank})", rank=rank[0] + 1, **said))
        else:
            detail.append(_("target «{char}»: p = {p:.4f} (not in the top {k})", k=TOP_K, **said) if teacher else
                          _("wrote «{char}»: p = {p:.4f} (not in the top {k})", k=TOP_K, **said))
    detail = _per_step(detail, T, _n("finished after {n} step", "finished after {n} steps", T_out))
    ids_all = np.concatenate([ids, np.repeat(ids[-1:], T - T_out, axis=0)])  # (T, k): after the end, labels stay
    vals_all = np.concatenate([vals, np.zeros((T - T_out, ids.shape[1]))])  # … and the bars empty
    mark = _per_step(run.output_ids.tolist(), T, -1)
    return p.bars(_("top {k} next characters p(y_t | …)", k=ids.shape[1]), vals_all,
                  vocab=[visible(v) for v in m.target_vocab], ids=ids_all, mark=mark, detail=detail, digits=3)


def _hypothesis_bars(run: Result) -> dict:
    hyps = run.hypotheses[:HYPOTHESES]
    return p.bars(_n("beam search's best {n} candidate: p(output | source)",
                     "beam search's best {n} candidates: p(output | source)", len(hyps)),
                  [[np.exp(lp) for _o, lp in hyps]], labels=[o or _("(empty)") for o, _lp in hyps], digits=4)


def _gate_formula(m, run: Result, T: int) -> dict:
    """The decoder's gates at step t, each as its mean over the 2H units, and the state sizes."""
    lt = run.decoder.layer(0, 0)
    units = lt.h.shape[1]
    values = {"sn": _per_step(p.nums(np.linalg.norm(lt.h, axis=1)), T),
              "ctx": _per_step(p.nums(np.linalg.norm(run.context, axis=1)), T)}
    lines = [_("the decoder's gates at t, each the mean over its {n} units:", n=units)]
    if lt.gates:
        for g, a in lt.gates.items():
            values[g] = _per_step(p.nums(np.asarray(a).mean(axis=1)), T)
        gates = tuple(lt.gates)
        lines.append(_(GATE_LINES[gates]) if gates in GATE_LINES else " · ".join(f"{g} {{{g}:3}}" for g in gates))
    else:
        lines.append(_("none: the RNN rewrites its state, s_t = tanh(W x_t + b_x + U s_{t−1} + b_s)"))
    if lt.c is None:
        lines.append(_("‖s_t‖ = {sn:3} · ‖context‖ = {ctx:3}"))
    else:
        values["cn"] = _per_step(p.nums(np.linalg.norm(lt.c, axis=1)), T)
        lines.append(_("‖s_t‖ = {sn:3} · ‖c_t‖ (cell) = {cn:3} · ‖context‖ = {ctx:3}"))
    return p.formula(lines, values, digits=3)


def _decoder_heatmap(run: Result, T: int) -> dict:
    """The decoder's s_t, (c_t) and gates over the steps, unit by unit, in stored order: the
    other unit orders cost an eigendecomposition per quantity (a third of the time a new
    source may take), and 11 steps say little about a unit's variance."""
    tr = run.decoder
    fig = _timeline(heatmap_spec(tr, [visible(t) for t in run.output_tokens]))
    fig["layout"]["xaxis"]["range"] = [-0.5, T - 0.5]  # every column spans the same steps
    rows = [{"name": name, "title": _(NAMES[name]), "H": int(a.shape[1])} for name, a in quantities(tr)]
    return p.heatmap(fig, rows, 1, {})


def _target_probs(run: Result, free: Result) -> tuple[dict, str]:
    """The exposure-bias chart, and what it shows in words."""
    y = run.output_ids  # (T,) the target's ids, </s> last
    T = len(y)
    teacher = np.exp(run.token_logprobs)  # (T,) p(y_t | the target's y_{<t})
    n = min(T, len(free.output_ids))
    on_own = np.full(T, np.nan)  # p(y_t | its own y_{<t}); NaN after it stopped
    on_own[:n] = free.probs[np.arange(n), y[:n]]
    wrong = [t for t in range(T) if t >= len(free.output_ids) or free.output_ids[t] != y[t]]
    if not wrong:
        say = _("Free running, it writes the target exactly: both readings agree at every step.")
    else:
        say = _n("Free running, it leaves the target at step {t} and differs at {wrong} of {n} step.",
                 "Free running, it leaves the target at step {t} and differs at {wrong} of {n} steps.", T,
                 t=wrong[0], wrong=len(wrong))
    fig = sc.target_probs_spec([visible(t) for t in run.output_tokens], teacher, on_own)
    return p.plotly(fig, caption=say), say


def _column(m, run: Result, free: Result, r: Reading, T: int) -> p.Column:
    panels = [_text(run, r.teacher, r.beam), _step_formula(m, run, free, r.teacher, T)]
    if r.teacher:
        panels.append(_target_probs(run, free)[0])
    fig, steps = sc.alignment_spec([visible(s) for s in run.source_tokens], [visible(t) for t in run.output_tokens],
                                   run.attention, T)
    panels.append(p.plotly(fig, steps=steps, caption=_("where it looks: α at every output step (x) over the source "
                                                       "(y), step t marked; right, the row at step t")))
    panels.append(_top_bars(m, run, r.teacher, T))
    if run.mode == "beam":
        panels.append(_hypothesis_bars(run))
    panels += [_gate_formula(m, run, T), _decoder_heatmap(run, T)]
    warning = "" if run.decoder.finite and run.encoder.finite else _("Some states overflowed to inf/NaN (shown blank).")
    return p.Column(m.kind.upper(), _describe(m), warning, panels)


def _describe(m) -> str:
    """'LSTM · 237,901 parameters · test exact match 100.00 %' (greedy, on the test dates: cells.evaluate)."""
    score = m.metrics.get("test_exact_match")
    if score is None:
        return _("{model} · {n:,} parameters", model=m.kind.upper(), n=int(m.num_params))
    return _("{model} · {n:,} parameters · test exact match {score:.2f} %", model=m.kind.upper(),
             n=int(m.num_params), score=100 * score)


def _summary(models: Sequence, r: Reading, T: int) -> dict:
    """Above the columns: the source, how it is decoded, and each model's output."""
    values = {"src": [r.source] * T, "n": [len(r.runs[0].source_tokens)] * T}
    if r.teacher:
        values["tgt"] = [r.target] * T
        lines = [_("«{src}» ({n:d} characters), the decoders reading the target «{tgt}» (teacher forcing):")]
    elif r.beam == 1:
        lines = [_("«{src}» ({n:d} characters) → greedy decoding:")]
    else:
        lines = [_("«{{src}}» ({{n:d}} characters) → beam search of width {k}:", k=r.beam)]
    for c, (m, run, free) in enumerate(zip(models, r.runs, r.free)):
        values[f"lp{c}"] = [p.nums(run.logprob)] * T
        fields = {"model": m.kind.upper(), "lp": "{lp%d:3}" % c, "own": "{own%d}" % c, "free": "{free%d}" % c,
                  "out": "{out%d}" % c}  # but the model, the formula's own fields: the browser fills them
        if r.teacher:
            own = _own_choice(m, run)
            values[f"own{c}"] = ["".join(m.target_vocab[i] for i in own if i != m.target_vocab.index(END))] * T
            values[f"free{c}"] = [free.output] * T
            lines.append(_("{model}: log p(target) = {lp} · its own choice at each step «{own}» ({right} of {n} steps "
                           "the target's) · free running it writes «{free}»", right=int((own == run.output_ids).sum()),
                           n=len(own), **fields))
        else:
            values[f"out{c}"] = [run.output] * T
            n = len(run.output_tokens)
            lines.append(_n("{model}: «{out}» · log p = {lp} · {n} step, ended with </s>",
                            "{model}: «{out}» · log p = {lp} · {n} steps, ended with </s>", n, **fields)
                         if run.finished else
                         _n("{model}: «{out}» · log p = {lp} · cut after {n} step without </s>",
                            "{model}: «{out}» · log p = {lp} · cut after {n} steps without </s>", n, **fields))
    return p.formula(lines, values, digits=3)


def seq2seq_doc(models: Sequence, r: Reading) -> dict:
    """The envelope: a summary above the columns; one column per model with its output (or
    the target), the step's reading and attention, the top next characters, the alignment
    matrix, the decoder's gates and states. The step label is each column's output at t
    (teacher forcing: the target's character). Its text is in the current language
    (viz_app.i18n; cache.seq2seq_payload keys it by the language), its numbers the same in
    every language."""
    T = r.T
    columns = [_column(m, run, free, r, T) for m, run, free in zip(models, r.runs, r.free)]
    if r.teacher:
        tokens = [visible(t) for t in r.runs[0].output_tokens]
    else:
        tokens = [" · ".join(visible(run.output_tokens[t]) if t < len(run.output_tokens) else "—" for run in r.runs)
                  for t in range(T)]
    return p.document("seq2seq", tokens, columns, step_label=_("output step"), wide=[_summary(models, r, T)])


# -- Shapes: the four families, unrolled, with live numbers -----------------------------------
# Their titles and captions are in the current language (cache.shapes keys them by it).

SHAPE_INPUTS = {"classifier": "a gem of a film .", "tagger": "ROMEO:", "generator": "分", "seq2seq": "5/3/98"}
GENERATE = 6  # characters the 1 vs N example writes


def _norms(h) -> tuple[float, ...]:
    return tuple(float(v) for v in np.linalg.norm(np.asarray(h, np.float64), axis=1))


def shape_n_to_1(model, text: str = SHAPE_INPUTS["classifier"]) -> sc.Unrolled:
    """N vs 1: a classifier reads the sentence, then gives one class."""
    a = model.analyze(text)
    k = int(np.argmax(a.probs))
    outputs = [None] * (len(a.tokens) - 1) + [f"{label(model.labels[k])} {a.probs[k]:.2f}"]
    return sc.Unrolled(_("N vs 1 · a classifier"), tuple(a.tokens), _norms(a.trace.layer(-1, 0).h), tuple(outputs),
                       _n("{model} reads {n} token (both ways, pooled by attention), then gives one class",
                          "{model} reads {n} tokens (both ways, pooled by attention), then gives one class",
                          len(a.tokens), model=model.name),
                       value_label="‖h→_t‖")


def shape_n_to_n(model, text: str = SHAPE_INPUTS["tagger"]) -> sc.Unrolled:
    """N vs N: a character model gives an output at every step: here its likeliest next character."""
    a = model.analyze(text)
    ids, vals = readout.top_k(a.next_token_probs, 1)
    outputs = tuple(f"{visible(model.vocab[i])} {v:.2f}" for i, v in zip(ids[:, 0], vals[:, 0]))
    return sc.Unrolled(_("N vs N · a label per step"), tuple(visible(t) for t in a.tokens),
                       _norms(a.trace.layer(-1, 0).h), outputs,
                       _n("{model} reads {n} character and after each gives the likeliest next one",
                          "{model} reads {n} characters and after each gives the likeliest next one",
                          len(a.tokens), model=model.name))


def shape_1_to_n(model, prefix: str = SHAPE_INPUTS["generator"], n: int = GENERATE) -> sc.Unrolled:
    """1 vs N: a language model given one character writes n, reading each one it wrote."""
    text = model.generate(prefix, n=n, temperature=0.0)  # greedy
    a = model.analyze(text)
    ids = model.encode(text)  # (T,)
    p_next = a.next_token_probs[np.arange(len(ids) - 1), ids[1:]]  # (T − 1,) p of each written character
    outputs = tuple(f"{visible(a.tokens[t + 1])} {p_next[t]:.2f}" for t in range(len(ids) - 1))
    return sc.Unrolled(_("1 vs N · generation"), tuple(visible(t) for t in a.tokens[:-1]),
                       _norms(a.trace.layer(-1, 0).h[:-1]), outputs,
                       _n("{model} is given «{prefix}» and writes {n} character, each read back as the next input "
                          "(greedy)",
                          "{model} is given «{prefix}» and writes {n} characters, each read back as the next input "
                          "(greedy)", n, model=model.name, prefix=prefix), feedback=True)


def shape_n_to_m(model, source: str = SHAPE_INPUTS["seq2seq"]) -> sc.Unrolled:
    """N vs M: an encoder–decoder reads N characters, then writes M."""
    r = model.translate(source)
    N, M = len(r.source_tokens), len(r.output_tokens)
    inputs = tuple(visible(s) for s in r.source_tokens) + (START, *r.output_tokens[:-1])
    values = _norms(r.encoder.layer(0, 0).h) + _norms(r.decoder.layer(0, 0).h)
    outputs = (None,) * N + tuple(r.output_tokens)
    return sc.Unrolled(_("N vs M · an encoder–decoder"), inputs, values, outputs,
                       _n("{model} reads {n} character, then writes {m} ({end} included)",
                          "{model} reads {n} characters, then writes {m} ({end} included)", N, model=model.name, m=M,
                          end=END),
                       feedback=True, split=N, value_label=_("‖h→_j‖, then ‖s_t‖"))
