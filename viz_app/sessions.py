"""Which browser session a script run serves, and whether a session is still open."""

from __future__ import annotations

from streamlit.runtime.scriptrunner import get_script_run_ctx


def current() -> str:
    """The id of the session this script run serves (one per browser tab)."""
    return get_script_run_ctx().session_id


def session_alive(session_id: str) -> bool:
    """Whether the browser session is still there; without a server (AppTest, a notebook)
    nothing can close it."""
    from streamlit.runtime import Runtime

    return not Runtime.exists() or Runtime.instance().is_active_session(session_id)



def sent_by_the_page() -> dict[str, object]:
    """The values of the widgets this run's request brought from the browser, by key (a
    component's state as its JSON).

    A fresh page brings none. A page that was open when its session expired (a network
    drop longer than `server.disconnectedSessionTTL`) gets a new session, and its first
    request brings every widget's current value: those must win over the page's URL, which
    is behind them (the sentence just typed, the step reported while the session was gone).
    Streamlit has no public API for this: it reads the request's widget states (Streamlit
    1.67), whose ids end with their keys; if that ever changes, nothing is found and the URL
    wins, as before.
    """
    try:
        from streamlit.runtime.state.common import unpack_widget_state_value, user_key_from_element_id
        from streamlit.runtime.state.session_state import Serialized

        states = get_script_run_ctx().session_state._state._new_widget_state.states
        return {k: unpack_widget_state_value(w.value) if isinstance(w, Serialized) else w.value
                for wid, w in states.items() if (k := user_key_from_element_id(wid))}
    except (AttributeError, TypeError, ValueError, ImportError):
        return {}


def connected() -> int | None:
    """How many tabs are connected to this server now; None without a server (AppTest, a
    notebook) or if Streamlit's session manager (1.67: Runtime's) cannot say."""
    from streamlit.runtime import Runtime

    try:
        return Runtime.instance()._session_mgr.num_active_sessions() if Runtime.exists() else None
    except (AttributeError, RuntimeError):
        return None


def reap_expired() -> int | None:
    """Drop the sessions kept for reconnection whose `server.disconnectedSessionTTL` has
    passed, and shut them down; returns how many (None without a server, or if Streamlit's
    internals moved).

    Streamlit 1.67 keeps a closed tab's session for the TTL, then forgets it only when a
    later tab disconnects (its TTL cache reaps expired entries on a write). After the last
    tab of a class closes, nothing disconnects again, so every session of the class stayed
    in memory (about 40 MB for fifty) until the next class. The storage is touched under
    the session manager's own lock, as Streamlit touches it."""
    from streamlit.runtime import Runtime

    try:
        if not Runtime.exists():
            return None
        mgr = Runtime.instance()._session_mgr
        with mgr._storage_lock:
            removed = mgr._session_storage._cache.expire()
    except AttributeError:
        return None
    for _, info in removed:
        info.session.shutdown()
    return len(removed)
