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
