"""The Padding view's cache: a batch's payload, shared by every session (a string, read-only).

Keyed by plain values (task, cell kind, the sentences as a tuple); the models come from
viz_app.cache. Kept beside cache.py rather than in it: the view reads only the bundled
classifiers, so it needs none of cache.py's per-session memo for YOURS.
"""

from __future__ import annotations

import streamlit as st

from . import cache
from .component import padding, payload


@st.cache_resource(max_entries=16, show_spinner=False)
def padding_payload(task: str, kind: str, sentences: tuple[str, ...]) -> tuple[str, str, int]:
    """(payload JSON, its key, T) for the Padding view: the sentences as one batch, read
    packed and padded by the task's `kind` cell."""
    m = cache.model(task, kind)
    r = padding.read(m, sentences)
    return payload.encode(padding.padding_doc(m, r)), cache._key("padding", task, kind, sentences), r.T
