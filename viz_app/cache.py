"""Every cache of the app, in one place: models, analyses, payloads, generated text.

For the bundled tasks all of it lives in `st.cache_resource` (or `st.cache_data`),
shared by every session: read-only by construction (cells' arrays are read-only numpy,
models hand out copies, payloads are strings). Keys are plain values and frozen
dataclasses. For YOURS (what a session uploaded or trained) the same functions keep
their results in that session's own memo (viz_app.yours), never in a shared cache, so
no other session can reach them and they go when the session does.

What holds interface text (a payload's titles, labels, notes) is made in one language and
keyed by it: the caller passes `lang=i18n.current()` and `speaks` runs the function in that
language, so a 中文 session never gets an English payload from a cache, nor the reverse.
Numbers need no language.

A model that cannot be loaded raises cells.checkpoint.CheckpointError, which the
view shows as a clear error: there are no stand-ins.

The caches keyed by a text are bounded (max_entries), and once no tab has been open for
IDLE_FORGET seconds a watch thread forgets them (`forget_texts`; the models stay) and hands
the freed memory back to the system: after a class has gone, the server returns to what it
took before the class came, instead of keeping its last few hundred sentences.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import gc
import hashlib
import threading
import time

import numpy as np
import streamlit as st

import cells
from cells import zoo

from cells import own

from . import checks, i18n, sessions, yours
from .component import columns, padding, payload
from .i18n import _
from .tasks import KINDS, SINE, TASKS, UNTRAINED, YOURS, UntrainedConfig


def settings(task: str, cfg: UntrainedConfig) -> UntrainedConfig:
    """The sliders' settings matter only for the untrained task; elsewhere one cache key."""
    return cfg if task == UNTRAINED else UntrainedConfig()


def _key(*parts) -> str:
    """A payload's identity: it changes exactly when the payload does."""
    return hashlib.sha1(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


IDLE_FORGET = 60.0  # seconds with no tab open before the texts' computations are forgotten
IDLE_CHECK = 5.0  # seconds between the watch's looks at the server
_TEXT_CACHES: list = []  # every cache keyed by a text (the models' caches are not in it)
_WATCH: list[threading.Thread] = []  # at most one, started by the first script run
_WATCH_LOCK = threading.Lock()


def forgettable(cache):
    """Registers a shared cache keyed by a text, for `forget_texts`; returns it unchanged."""
    _TEXT_CACHES.append(cache)
    return cache


def forget_texts() -> None:
    """Forget every text's computations (analyses, payloads, generated text); the models
    stay. Then hand the freed memory back to the system."""
    for c in _TEXT_CACHES:
        c.clear()
    release_memory()


def release_memory() -> None:
    """The collector, then glibc's malloc_trim: a freed small block otherwise stays in the
    process's heap."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory is reused, not returned
        pass


@dataclasses.dataclass
class Idle:
    """When to forget: after `after` seconds with no tab connected, once per such stretch."""

    after: float = IDLE_FORGET
    since: float | None = None  # when the server last became idle; None while tabs are open
    done: bool = False  # forgotten in this idle stretch

    def tick(self, connected: int | None, now: float) -> bool:
        """A look at the server (connected tabs, None if unknown); True when it is time to forget."""
        if connected is None or connected > 0:
            self.since, self.done = None, False
            return False
        if self.since is None:
            self.since = now
        if not self.done and now - self.since >= self.after:
            self.done = True
            return True
        return False


def watch_idle() -> None:
    """Start the watch that forgets the texts once the server is idle (once per process)."""
    with _WATCH_LOCK:
        if not _WATCH:
            _WATCH.append(threading.Thread(target=_watch, name="rnnscope-idle", daemon=True))
            _WATCH[0].start()


def _watch() -> None:
    idle = Idle()
    while True:
        time.sleep(IDLE_CHECK)
        if idle.tick(sessions.connected(), time.monotonic()):
            forget_texts()
        if sessions.reap_expired():
            release_memory()  # the closed tabs' sessions, past their TTL


def cached(max_entries: int, data: bool = False):
    """st.cache_resource (st.cache_data if `data`) for the bundled tasks; for YOURS, the
    session's memo. The decorated function's first argument is the task."""
    def wrap(fn):
        shared = forgettable((st.cache_data if data else st.cache_resource)(max_entries=max_entries,
                                                                             show_spinner=False)(fn))

        @functools.wraps(fn)
        def call(task: str, *args, **kwargs):
            if task == YOURS:
                key = (fn.__name__, *args, *sorted(kwargs.items()))
                return yours.memo(sessions.current(), key, lambda: fn(task, *args, **kwargs))
            return shared(task, *args, **kwargs)

        return call

    return wrap


def speaks(fn):
    """For a cached function whose result holds interface text: its keyword `lang` is part of
    the cache key, and it runs in that language. Callers pass lang=i18n.current(); a caller
    that does not (written before the key) gets the session's language, which is the same."""
    @functools.wraps(fn)
    def call(*args, lang: str | None = None, **kwargs):
        lang = lang if lang in i18n.LANGS else i18n.current()
        with i18n.using(lang):
            return fn(*args, lang=lang, **kwargs)

    return call


def shelf() -> yours.Shelf | None:
    """What this session opened (an upload or a lab run), if anything."""
    return yours.get(sessions.current())


def example(task: str) -> str:
    """The text a task starts from: its example, or what the session's own models read."""
    s = shelf() if task == YOURS else None
    return s.example if s is not None else TASKS[task].example


def kinds(task: str) -> tuple[str, ...]:
    """The cells a task's columns show: RNN, LSTM, GRU, or those the session opened."""
    if task != YOURS:
        return KINDS
    s = shelf()
    return s.kinds if s is not None else ()


def model(task: str, kind: str, cfg: UntrainedConfig = UntrainedConfig()):
    if task == YOURS:
        s = shelf()
        if s is None:
            raise LookupError("this session has no model open (views check cache.kinds(YOURS) first)")
        return s.model(kind)
    return _bundled(task, kind, cfg)


@st.cache_resource(max_entries=64, show_spinner=False)
def _bundled(task: str, kind: str, cfg: UntrainedConfig) -> zoo.Model | own.OwnModel:
    if task == UNTRAINED:
        return cells.untrained_model(kind, **dataclasses.asdict(cfg.for_kind(kind)))
    if task == SINE:
        return own.sine(kind)
    return cells.load_model(f"{task}-{kind}")


def models(task: str, cfg: UntrainedConfig) -> list:
    """The task's models, one per column: RNN, LSTM and GRU, in that order (YOURS: those opened)."""
    return [model(task, kind, settings(task, cfg)) for kind in kinds(task)]


@cached(max_entries=128)
def analyze(task: str, kind: str, cfg: UntrainedConfig, text: str) -> zoo.Analysis:
    return model(task, kind, settings(task, cfg)).analyze(text)


def analyses(task: str, cfg: UntrainedConfig, text: str) -> list[zoo.Analysis]:
    return [analyze(task, kind, settings(task, cfg), text) for kind in kinds(task)]


def _warning(task: str, cfg: UntrainedConfig, kind: str) -> str:
    if task == UNTRAINED and cfg.forget_bias and kind != "lstm":
        return _("A {kind} has no forget gate: the forget-bias slider changes only the LSTM.", kind=kind.upper())
    return ""


def _columns(task: str, cfg: UntrainedConfig, text: str) -> list[tuple]:
    """(model, analysis, warning) for each of the three columns."""
    cfg = settings(task, cfg)
    return [(m, a, _warning(task, cfg, m.kind)) for m, a in zip(models(task, cfg), analyses(task, cfg, text))]


@speaks
@cached(max_entries=16)
def compare_payload(task: str, cfg: UntrainedConfig, text: str, *, lang: str) -> tuple[str, str, int]:
    """(payload JSON, its key, T) for the Compare view."""
    cols = _columns(task, cfg, text)
    return payload.encode(columns.compare(text, cols)), _key("compare", task, settings(task, cfg), text, lang), \
        cols[0][1].trace.T


def prefix_pending(task: str, text: str) -> bool:
    """Whether the Compare view's classifiers get per-prefix probabilities for this text."""
    return task in zoo.CLASSIFIER_TASKS and analyze(task, KINDS[0], UntrainedConfig(), text).trace.T <= zoo.MAX_PREFIXES


@speaks
@cached(max_entries=16)
def prefix_update(task: str, text: str, key: str, *, lang: str) -> dict:
    """The patch that swaps the classifiers' final probabilities for per-prefix ones:
    one analysis per prefix, so it is sent after the columns are on screen."""
    cols = _columns(task, UntrainedConfig(), text)
    return columns.prefix_patch(key, [(m, a, m.prefix_probs(text)) for m, a, _warning in cols])


@speaks
@cached(max_entries=16)
def attention_payload(task: str, text: str, with_rules: bool, *, lang: str) -> tuple[str, str, int]:
    cols = _columns(task, UntrainedConfig(), text)
    doc = columns.attention(text, cols, with_rules)
    return payload.encode(doc), _key("attention", task, text, with_rules, lang), cols[0][1].trace.T


@speaks
@cached(max_entries=16)
def lm_payload(task: str, text: str, note: str = "", *, lang: str) -> tuple[str, str, int]:
    cols = _columns(task, UntrainedConfig(), text)
    return payload.encode(columns.language_model(text, cols, note)), _key("lm", task, text, note, lang), \
        cols[0][1].trace.T


@speaks
@cached(max_entries=16)
def cell_payload(task: str, cfg: UntrainedConfig, kind: str, layer: int, direction: int, unit: int,
                 text: str, *, lang: str) -> tuple[str, str, int]:
    cfg = settings(task, cfg)
    m, a = model(task, kind, cfg), analyze(task, kind, cfg, text)
    doc = columns.cell(text, m, a, layer, direction, unit, _warning(task, cfg, kind))
    return payload.encode(doc), _key("cell", task, cfg, kind, layer, direction, unit, text, lang), a.trace.T


@cached(max_entries=64, data=True)
def generate(task: str, kind: str, req: checks.Request) -> str:
    """The prefix and req.n characters the model samples (cells.zoo.Model.generate)."""
    if req.n == 0:
        return req.prefix
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown prefix characters: the page already says so
        return model(task, kind).generate(req.prefix, n=req.n, temperature=req.temperature, top_k=req.top_k,
                                          seed=req.seed)


@cached(max_entries=16)
def gradients(task: str, cfg: UntrainedConfig, text: str, target: str | int | None) -> list:
    """Per model: its explanation of L = −log p(target) (classifiers: target a label, or None
    for its own prediction; language models: the character after position `target`, None
    for the last one), or for untrained cells the Gradients of L = Σ_i h_{T−1,i}."""
    cfg = settings(task, cfg)

    def one(m, a):
        if not m.has_head:
            d = np.zeros(a.trace.output.shape)
            d[-1] = 1.0  # dL/dh_{T−1} for L = Σ_i h_{T−1,i}
            return m.recurrent.backward(a.trace, d)
        if m.is_classifier:
            return m.explain(text, target=None if target is None else m.labels.index(target))
        return m.explain(text, position=a.trace.T - 2 if target is None else target)

    return [one(m, a) for m, a in zip(models(task, cfg), analyses(task, cfg, text))]


@speaks
@cached(max_entries=16)
def gradients_payload(task: str, cfg: UntrainedConfig, text: str, target: str | int | None, clip: float,
                      shade: str = "integrated_gradients", uniform: bool = False, *, lang: str) -> tuple[str, str, int]:
    cols = [(m, a, w, e) for (m, a, w), e in zip(_columns(task, cfg, text), gradients(task, cfg, text, target))]
    doc = columns.gradients(text, cols, clip, shade, uniform)
    return payload.encode(doc), _key("gradients", task, settings(task, cfg), text, target, clip, shade, uniform,
                                     lang), cols[0][1].trace.T


@forgettable
@st.cache_resource(max_entries=16, show_spinner=False)
def padding_reading(task: str, kind: str, sentences: tuple[str, ...]) -> padding.Reading:
    """The sentences as one batch, read packed and padded by the task's `kind` classifier
    (the Padding view reads only the bundled classifiers)."""
    return padding.read(model(task, kind), sentences)


@speaks
@forgettable
@st.cache_resource(max_entries=16, show_spinner=False)
def padding_payload(task: str, kind: str, sentences: tuple[str, ...], *, lang: str) -> tuple[str, str, int]:
    r = padding_reading(task, kind, sentences)
    return payload.encode(padding.padding_doc(model(task, kind), r)), _key("padding", task, kind, sentences, lang), r.T


# -- Seq2seq and Shapes: the bundled dates encoder–decoders, read with the views' own inputs
# (not the sidebar's task), so keyed by plain values alone.

from .component import seq2seq as s2s  # noqa: E402  (beside the only functions that use it)


@st.cache_resource(max_entries=4, show_spinner=False)
def seq2seq_model(kind: str):
    """The bundled dates encoder–decoder of one cell kind (a cells.seq2seq.Seq2seq)."""
    return cells.load_model(s2s.MODEL_NAMES[kind])


def seq2seq_models() -> list:
    """RNN, LSTM and GRU encoder–decoders, in column order."""
    return [seq2seq_model(kind) for kind in s2s.MODEL_NAMES]


@forgettable
@st.cache_resource(max_entries=16, show_spinner=False)
def seq2seq_reading(source: str, beam: int, target: str | None) -> s2s.Reading:
    """The three models on one source: free running (greedy or beam) or, given a target, teacher-forced."""
    return s2s.read(seq2seq_models(), source, beam, target)


@speaks
@forgettable
@st.cache_resource(max_entries=16, show_spinner=False)
def seq2seq_payload(source: str, beam: int, target: str | None, *, lang: str) -> tuple[str, str, int]:
    r = seq2seq_reading(source, beam, target)
    return payload.encode(s2s.seq2seq_doc(seq2seq_models(), r)), _key("seq2seq", source, beam, target, lang), r.T


@speaks
@st.cache_resource(max_entries=8, show_spinner=False)
def shapes(kind: str, *, lang: str) -> tuple:
    """The Shapes view's four diagrams for one cell kind, each fed by a bundled model:
    N vs 1 (SST-2), N vs N (Shakespeare), 1 vs N (Jay Chou lyrics), N vs M (dates)."""
    return (s2s.shape_n_to_1(model("sst2", kind)), s2s.shape_n_to_n(model("shakespeare", kind)),
            s2s.shape_1_to_n(model("jaychou", kind)), s2s.shape_n_to_m(seq2seq_model(kind)))
