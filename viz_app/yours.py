"""The models a browser session opened itself: an upload, or a training-lab run. Session-scoped.

    yours.put(session_id, Shelf(models, "my_lstm.pt", "max |Δ| vs torch = 2e-07 …"))
    yours.get(session_id) -> Shelf | None
    yours.memo(session_id, key, compute)    # a view's result for this shelf, computed once

Unlike the bundled models, which every session shares through `st.cache_resource`, what
one session uploads is never put where another could reach it: the shelf and everything
computed from it live in this module's registry under the session's id, in memory only
(nothing is written to disk), and are dropped within `WATCH` seconds of the session
ending (a sweeper thread asks Streamlit's runtime), when the session opens another
model, or when it asks to forget it. Shelves are frozen and their models read-only,
so a rerun reading one while another replaces it sees the old shelf or the new, whole.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from cells.own import OwnModel

from .sessions import session_alive

WATCH = 2.0  # seconds between sweeps for ended sessions
MEMO_ENTRIES = 24  # results kept per session (payloads, analyses); the oldest go first
_SHELVES: dict[str, Shelf] = {}
_MEMOS: dict[str, OrderedDict] = {}
_LOCK = threading.Lock()  # guards both dicts
_SWEEPER: list[threading.Thread] = []  # at most one, started with the first shelf


@dataclass(frozen=True)
class Shelf:
    models: tuple[OwnModel, ...]  # one column each, at most one per cell kind
    source: str  # what the page says they came from: a file's name, "the lab's run at step 400"
    report: str = ""  # the parity check made when they were opened (max |Δ| vs torch/keras)
    example: str = ""  # an input they read, to start from
    kinds: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        kinds = tuple(m.kind for m in self.models)
        if not kinds or len(set(kinds)) != len(kinds):
            raise ValueError("a shelf holds one to three models, at most one of each cell kind")
        if len({(m.level, m.input_size) for m in self.models}) != 1:
            raise ValueError("the models of one shelf must read the same inputs (level and input size)")
        object.__setattr__(self, "kinds", kinds)

    def model(self, kind: str) -> OwnModel:
        return self.models[self.kinds.index(kind)]


def put(session_id: str, shelf: Shelf) -> None:
    """Open `shelf` for the session, replacing what it had open (and everything computed from it)."""
    with _LOCK:
        _SHELVES[session_id] = shelf
        _MEMOS[session_id] = OrderedDict()
        if not _SWEEPER:
            _SWEEPER.append(threading.Thread(target=_sweep, name="rnnscope-yours", daemon=True))
            _SWEEPER[0].start()


def get(session_id: str) -> Shelf | None:
    with _LOCK:
        return _SHELVES.get(session_id)


def forget(session_id: str) -> None:
    with _LOCK:
        _SHELVES.pop(session_id, None)
        _MEMOS.pop(session_id, None)


def memo(session_id: str, key: tuple, compute: Callable[[], object]):
    """compute() once per key while the session's shelf stays the same."""
    with _LOCK:
        shelf, cache = _SHELVES.get(session_id), _MEMOS.get(session_id)
        if cache is not None and key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = compute()  # outside the lock: other sessions go on meanwhile
    with _LOCK:
        if cache is not None and _SHELVES.get(session_id) is shelf:  # not replaced meanwhile
            cache[key] = value
            while len(cache) > MEMO_ENTRIES:
                cache.popitem(last=False)
    return value


def sessions() -> list[str]:
    with _LOCK:
        return list(_SHELVES)


def _sweep() -> None:
    while True:
        time.sleep(WATCH)
        _sweep_once()


def _sweep_once(alive: Callable[[str], bool] = session_alive) -> None:
    """Forget every session that has ended."""
    for s in sessions():
        if not alive(s):
            forget(s)
