"""An encoder–decoder with additive attention, in numpy: one sequence in, another out.

    m = cells.load_model("dates-lstm")
    r = m.translate("3 May 1998")                   # greedy; beam=k: beam search
    r = m.translate("3 May 1998", target="1998-05-03")   # teacher forcing: the given output, scored
    r.output, r.attention (T_out, T_in), r.encoder, r.decoder (cells.Trace), r.probs, r.logprob

The architecture is Bahdanau et al. (2015, "RNNsearch"): the previous decoder state asks
where to look, and the context it gets is read by the cell together with the previous
output. With source characters x_1 … x_T (ids), annotations h_j of width 2H and a
decoder state s_i of the same width 2H:

    h_j  = [h→_j ; h←_j] = BiCell(E_src[x])_j          (T_in, 2H)   r.encoder.output
    s_0  = tanh(W_init [h→_T ; h←_1] + b_init)         (2H,)        r.decoder.layer(0).h0; c_0 = 0 (LSTM)
    for i = 1 … T_out, reading y_0 = <s>:
      e_ij = v · tanh(W h_j + b + W_q s_{i−1})         (T_in,)      r.scores[i−1]  (cells.attention.additive)
      α_ij = exp(e_ij) / Σ_k exp(e_ik)                 (T_in,)      r.attention[i−1]
      c_i  = Σ_j α_ij h_j                              (2H,)        r.context[i−1]
      x_i  = [E_tgt[y_{i−1}] ; c_i]                    (E + 2H,)    r.decoder.x[i−1]
      s_i  = Cell(x_i, s_{i−1})                        (2H,)        r.decoder.output[i−1]
      p_i  = softmax(U [s_i ; c_i] + d)                (V,)         r.probs[i−1]
    log p(y | x) = Σ_i log p_i[y_i]                                  r.logprob

Cell is the model's kind (RNN tanh, LSTM or GRU) on both sides, computed by the same
step functions as every trace (cells/{rnn,lstm,gru}.py). Where this differs from the
paper: the paper's s_0 reads h←_1 alone (here both directions' final states), and its
output layer is a maxout "deep output" over s_{i−1}, y_{i−1} and c_i (here one linear
layer over [s_i ; c_i]). It is not Luong et al. (2015), who query with the new state s_i
and do not feed the context into the cell.

Decoding writes symbols of the target vocabulary (for dates: "-", "0" … "9", and "</s>",
which ends the output; "<s>" is only read, never written):

    greedy       y_i = argmax p_i, until </s> or MAX_OUTPUT steps
    beam k       the k most likely prefixes (by Σ log p) kept at every step, those that
                 end set aside; it stops when no unfinished prefix can beat the best
                 ended one (log-probabilities only fall), or after MAX_OUTPUT steps.
                 No length normalisation. The greedy output competes too, so beam k
                 is never less likely than greedy.
    teacher      y_i given: target + </s>

A source is read character by character (cells.tokens.chars), after surrounding
whitespace is removed (no training example has any). A character the model never saw in
training is refused with a ValueError naming it, not read as <unk>: the models never
trained <unk>'s embedding, so what they would write after it means nothing.

torch is never imported: the weights come from checkpoint.load, as every bundled model's
(the torch twin is cells/train_seq2seq.py's Seq2seqNet; tests/test_seq2seq.py holds them equal).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

import numpy as np

from . import attention as att
from . import gru, lstm, rnn
from .messages import join, msg
from .params import CellWeights, readonly
from .recurrent import Recurrent, from_state_dict
from .tokens import Vocab, chars
from .trace import LayerTrace, Trace
from .zoo import CELL, Sidecar, softmax

START, END = "<s>", "</s>"  # read first by the decoder; written last
MAX_SOURCE = 64  # characters a source may have (the longest generated date has 30)
MAX_OUTPUT = 32  # decoder steps, </s> included (an ISO date takes 11)
MAX_BEAM = 16  # beam width cap: each step costs k decoder steps
CODE_POINTS = 8  # a text longer than this × its cap in code points is refused before it is split into characters


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value
class Result:
    """One translation; every array read-only. T_in source characters, T_out decoder steps."""

    source: str  # as read: surrounding whitespace removed
    source_tokens: list[str]  # (T_in,) characters (cells.tokens.chars)
    source_spans: list[tuple[int, int]]  # source[start:end] of each
    output: str  # what was written, without </s>
    output_tokens: list[str]  # (T_out,) one per decoder step; the last is </s> when the output ended
    output_ids: np.ndarray  # (T_out,) their ids in the target vocabulary
    attention: np.ndarray  # (T_out, T_in) α, rows sum to 1
    scores: np.ndarray  # (T_out, T_in) e, before the softmax
    context: np.ndarray  # (T_out, 2H) c_i
    encoder: Trace  # T_in steps, bidirectional: output (T_in, 2H) are the annotations h_j
    decoder: Trace  # T_out steps: x (T_out, E + 2H) = [E_tgt[y_{i−1}]; c_i], output (T_out, 2H) = s_i
    probs: np.ndarray  # (T_out, V) p_i over the target vocabulary
    token_logprobs: np.ndarray  # (T_out,) float64 log p_i[y_i]
    logprob: float  # log p(output | source) = Σ token_logprobs (with </s> when ended)
    finished: bool  # whether the output ended with </s> (False: cut at MAX_OUTPUT steps)
    mode: Literal["greedy", "beam", "teacher"]
    beam: int  # the width searched (1 for greedy and teacher forcing)
    hypotheses: tuple[tuple[str, float], ...] = field(default=())  # beam: candidates (output, logprob), best first


@dataclass(frozen=True)
class _Step:
    """What one decoder step computed (the record a step returns)."""

    attention: att.Attention  # scores (T_in,), weights (T_in,), context (2H,)
    x: np.ndarray  # (E + 2H,)
    h: np.ndarray  # (2H,)
    c: np.ndarray | None  # (2H,) LSTM
    gates: dict[str, np.ndarray]  # name -> (2H,)
    logits: np.ndarray  # (V,)

    @property
    def logp(self) -> np.ndarray:
        """(V,) float64 log p_i: log-softmax of the logits, the maximum subtracted first."""
        z = self.logits.astype(np.float64)
        z = z - z.max()
        return z - np.log(np.exp(z).sum())


@dataclass(frozen=True)
class Hypothesis:
    output: str
    ids: tuple[int, ...]  # written ids, </s> included when finished
    logprob: float
    finished: bool


class Seq2seq(Sidecar):
    """A trained encoder–decoder (cells.load_model gives one for a seq2seq checkpoint).

    weights: float32 arrays by torch name, as checkpoint.load returns them.
    """

    is_classifier = False
    is_seq2seq = True
    level = "char"

    def __init__(self, name: str, meta: dict, weights: dict[str, np.ndarray]):
        self.name, self.task, self.kind = name, meta["task"], meta["kind"]
        self._meta = meta
        self._src = Vocab(tuple(meta["vocab"]), unk="<unk>")
        self._tgt = Vocab(tuple(meta["target_vocab"]), unk=None)
        self.encoder = from_state_dict(weights, CELL[self.kind], prefix="rnn.")  # bidirectional, (E -> H) × 2
        dec = CellWeights(weights["dec.weight_ih"], weights["dec.weight_hh"], weights["dec.bias_ih"], weights["dec.bias_hh"])
        self.decoder = Recurrent(CELL[self.kind], [dec], num_layers=1, bidirectional=False)  # (E + 2H -> 2H)
        self._w = MappingProxyType(dict(weights))
        self.num_params = int(sum(w.size for w in weights.values()))
        self._start, self._end = self._tgt.stoi[START], self._tgt.stoi[END]
        self._alphabet = frozenset(t for t in self._src.itos if t not in ("<pad>", "<unk>"))

    def __repr__(self) -> str:
        return f"Seq2seq({self.name!r}, task={self.task}, kind={self.kind}, params={self.num_params:,})"

    # Copies, as zoo.Model hands out: the model is shared by every session.
    @property
    def recurrent(self) -> Recurrent:
        """The encoder (the views' "the model's Recurrent")."""
        return self.encoder

    @property
    def vocab(self) -> list[str]:
        return list(self._src.itos)

    @property
    def target_vocab(self) -> list[str]:
        return list(self._tgt.itos)

    @property
    def labels(self) -> list[str]:
        return []

    @property
    def attention_params(self) -> dict[str, np.ndarray]:
        """{"W" (A, 2H), "b" (A,), "v" (A,), "W_q" (A, 2H)} of e_ij = v · tanh(W h_j + b + W_q s_{i−1}), read-only."""
        w = self._w
        return {"W": w["attn_W.weight"], "b": w["attn_W.bias"], "v": w["attn_v.weight"][0], "W_q": w["attn_Wq.weight"]}

    # -- input checks -------------------------------------------------------------------

    def _source(self, source: str) -> tuple[str, list, np.ndarray]:
        if not isinstance(source, str):
            raise ValueError(msg("the source must be text (str); got {type}", type=type(source).__name__))
        text = source.strip()
        if not text:
            raise ValueError(msg("nothing to translate: the source is empty; type a date, e.g. 3 May 1998"))
        if len(text) > CODE_POINTS * MAX_SOURCE:  # before tokenizing all of a huge paste
            raise ValueError(msg("the source has {n:,} code points; at most {limit} characters are read", n=len(text),
                                 limit=MAX_SOURCE))
        toks = chars(text)
        if len(toks) > MAX_SOURCE:
            raise ValueError(msg("the source has {n} characters; at most {limit} are read", n=len(toks),
                                 limit=MAX_SOURCE))
        unseen = [(i, t.text) for i, t in enumerate(toks) if t.text not in self._alphabet]
        if unseen:
            raise ValueError(msg("characters {model} never saw in training: {which}. It reads only these {n}: "
                                 "{alphabet}", model=self.name, which=_which(unseen), n=len(self._alphabet),
                                 alphabet="".join(sorted(self._alphabet))))
        return text, toks, self._src.encode(toks)[0]

    def _target(self, target: str) -> list[int]:
        if not isinstance(target, str):
            raise ValueError(msg("the target must be text (str); got {type}", type=type(target).__name__))
        if len(target) > CODE_POINTS * MAX_OUTPUT:
            raise ValueError(msg("the target has {n:,} code points; at most {limit} characters (and </s>) are "
                                 "written", n=len(target), limit=MAX_OUTPUT - 1))
        toks = [t.text for t in chars(target)]
        if len(toks) > MAX_OUTPUT - 1:
            raise ValueError(msg("the target has {n} characters; at most {limit} (and </s>) are written", n=len(toks),
                                 limit=MAX_OUTPUT - 1))
        writable = [s for s in self._tgt.itos if s not in (START, END)]
        bad = [(i, c) for i, c in enumerate(toks) if c not in writable]
        if bad:
            raise ValueError(msg("the target holds characters {model} never writes: {which}; it writes only "
                                 "{writable}", model=self.name, which=_which(bad), writable="".join(writable)))
        return [self._tgt.stoi[c] for c in toks] + [self._end]

    # -- the two halves -------------------------------------------------------------------

    def _encode(self, ids: np.ndarray) -> tuple[Trace, np.ndarray, np.ndarray | None]:
        """The encoder's trace, s_0 (2H,) and c_0 (2H,) (LSTM; else None)."""
        tr = self.encoder.trace(self._w["embedding.weight"][ids])  # (T_in, E) -> output (T_in, 2H)
        final = np.concatenate([tr.h_n[0], tr.h_n[1]])  # [h→_T ; h←_1] (2H,)
        s0 = np.tanh(self._w["init.weight"] @ final + self._w["init.bias"])  # (2H,)
        return tr, s0, (np.zeros_like(s0) if self.kind == "lstm" else None)

    def _step(self, H: np.ndarray, y_prev: int, h: np.ndarray, c: np.ndarray | None) -> _Step:
        """Decoder step i: attention from s_{i−1} = h, then the cell, then p_i."""
        p = self.attention_params
        a = att.attend(H, att.additive(H, p["W"], p["v"], p["b"], q=h, W_q=p["W_q"]))
        x = np.concatenate([self._w["dec_embedding.weight"][y_prev], a.context])  # (E + 2H,)
        w = self.decoder.weights[0]
        if self.kind == "lstm":
            h, c, gates = lstm.step(x, h, c, w)
        elif self.kind == "gru":
            h, gates = gru.step(x, h, w)
        else:
            h, gates = rnn.step(x, h, w, "tanh"), {}
        logits = self._w["out.weight"] @ np.concatenate([h, a.context]) + self._w["out.bias"]  # (V,)
        return _Step(a, x, h, c, gates, logits)

    def _best(self, step: _Step) -> int:
        z = np.array(step.logits)
        z[self._start] = -np.inf  # <s> is read, never written
        return int(np.argmax(z))

    # -- decoding ---------------------------------------------------------------------------

    def _decode(self, H: np.ndarray, s0: np.ndarray, c0: np.ndarray | None,
                given: list[int] | None) -> list[tuple[int, _Step]]:
        """(y_i, step i) for each step: the given ids (teacher forcing) or greedy ones."""
        out: list[tuple[int, _Step]] = []
        y, h, c = self._start, s0, c0
        for i in range(len(given) if given is not None else MAX_OUTPUT):
            st = self._step(H, y, h, c)
            y, h, c = (given[i] if given is not None else self._best(st)), st.h, st.c
            out.append((y, st))
            if y == self._end:
                break
        return out

    def beam_search(self, source: str, beam: int) -> list[Hypothesis]:
        """The candidates of a width-`beam` search (see the module docstring), most likely first:
        the ended ones (or, if none ended within MAX_OUTPUT steps, the unfinished ones)."""
        beam = _check_beam(beam)
        _, _, ids = self._source(source)
        enc, s0, c0 = self._encode(ids)
        H = np.asarray(enc.output)  # (T_in, 2H)
        alive = [((), 0.0, s0, c0)]  # (written ids, Σ log p, s, c)
        ended: list[tuple[tuple[int, ...], float]] = []
        for _ in range(MAX_OUTPUT):
            cands = []
            for ys, lp, h, c in alive:
                st = self._step(H, ys[-1] if ys else self._start, h, c)
                logp = st.logp  # (V,)
                for y in np.argsort(-logp, kind="stable")[: beam + 1]:  # <s> may be among them
                    if y != self._start:
                        cands.append((ys + (int(y),), lp + float(logp[y]), st.h, st.c))
            cands.sort(key=lambda cd: -cd[1])
            alive = []
            for cd in cands[:beam]:
                if cd[0][-1] == self._end:
                    ended.append(cd[:2])
                else:
                    alive.append(cd)
            ended.sort(key=lambda e: -e[1])
            if not alive or (ended and ended[0][1] >= alive[0][1]):
                break
        pool = [Hypothesis(self._text(ys), ys, lp, True) for ys, lp in ended]
        pool = pool or [Hypothesis(self._text(ys), ys, lp, False) for ys, lp, _, _ in alive]
        return sorted(pool, key=lambda hy: -hy.logprob)

    def translate(self, source: str, beam: int = 1, target: str | None = None) -> Result:
        """The output for a source: greedy (beam=1), beam search (beam=k ≤ MAX_BEAM), or the
        given target scored under teacher forcing. ValueError for what cannot be read."""
        beam = _check_beam(beam)
        if target is not None and beam != 1:
            raise ValueError(msg("teacher forcing reads the given target; beam search does not apply (use beam=1)"))
        text, toks, ids = self._source(source)
        if beam > 1:
            found = self.beam_search(text, beam)
            greedy = self.translate(text)
            best = found[0]
            if greedy.logprob > best.logprob:  # beam search can lose the greedy path; never return worse
                best = Hypothesis(greedy.output, tuple(int(i) for i in greedy.output_ids), greedy.logprob, greedy.finished)
            r = self._run(text, toks, ids, list(best.ids), "beam", beam)
            hyps = {h.output: h.logprob for h in [best, *found]}
            return replace(r, hypotheses=tuple(sorted(hyps.items(), key=lambda kv: -kv[1])))
        return self._run(text, toks, ids, None if target is None else self._target(target),
                         "greedy" if target is None else "teacher", 1)

    def _run(self, text: str, toks: list, ids: np.ndarray, given: list[int] | None, mode: str, beam: int) -> Result:
        enc, s0, c0 = self._encode(ids)
        steps = self._decode(np.asarray(enc.output), s0, c0, given)
        ys = np.array([y for y, _ in steps], dtype=np.int64)  # (T_out,)
        logp = np.array([st.logp[y] for y, st in steps])  # (T_out,) float64
        a = [st.attention for _, st in steps]
        return Result(
            source=text, source_tokens=[t.text for t in toks], source_spans=[(t.start, t.end) for t in toks],
            output=self._text(ys), output_tokens=[self._tgt.itos[y] for y in ys], output_ids=readonly(ys),
            attention=_stack(x.weights for x in a), scores=_stack(x.scores for x in a),  # (T_out, T_in)
            context=_stack(x.context for x in a), encoder=enc, decoder=self._trace(steps, s0, c0),  # (T_out, 2H)
            probs=readonly(softmax(np.stack([st.logits for _, st in steps]))),  # (T_out, V)
            token_logprobs=readonly(logp), logprob=float(logp.sum()), finished=bool(ys[-1] == self._end),
            mode=mode, beam=beam,
        )

    def _trace(self, steps: list[tuple[int, _Step]], s0: np.ndarray, c0: np.ndarray | None) -> Trace:
        """The decoder's steps as a one-layer, one-direction cells.Trace, h0 = s_0."""
        x = _stack(st.x for _, st in steps)  # (T_out, E + 2H)
        h = _stack(st.h for _, st in steps)  # (T_out, 2H)
        c = _stack(st.c for _, st in steps) if c0 is not None else None  # (T_out, 2H)
        gates = {g: _stack(st.gates[g] for _, st in steps) for g in self.decoder.gate_names}  # (T_out, 2H) each
        lt = LayerTrace(0, 0, x, h, c, gates, readonly(s0), None if c0 is None else readonly(c0))
        finite = bool(np.isfinite(h).all() and (c is None or np.isfinite(c).all()))
        return Trace(self.decoder.kind, x, h, h[-1:], None if c is None else c[-1:], (lt,), 1, 1, finite)

    def _text(self, ids) -> str:
        return "".join(self._tgt.itos[i] for i in ids if i != self._end)


def _stack(rows) -> np.ndarray:
    return readonly(np.stack(list(rows)))


def _check_beam(beam) -> int:
    if isinstance(beam, bool) or not isinstance(beam, (int, np.integer)) or not 1 <= beam <= MAX_BEAM:
        raise ValueError(msg("beam must be a whole number from 1 (greedy) to {limit}; got {beam!r}", limit=MAX_BEAM,
                             beam=beam))
    return int(beam)


def _which(found: list[tuple[int, str]]) -> str:
    """The first ten (position, character) pairs, as "'x' (position 3), …" (the words translated where shown)."""
    return join(", ", [msg("{char!r} (position {i})", char=c, i=i) for i, c in found[:10]])

