"""User text as chart labels: visible whitespace, and escaped for plotly, which reads markup."""

from __future__ import annotations

import unicodedata


def plotly_text(s: str) -> str:
    """Text for plotly labels: plotly reads <b>, <br>, <a> and entities, so escape them;
    make whitespace and control characters visible."""
    return visible(s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def visible(s: str) -> str:
    """Whitespace and control characters as visible symbols (␣ ⏎ ⇥ U+0007)."""
    return "".join(_visible(ch) for ch in s) or "␣"


def _visible(ch: str) -> str:
    if ch == " ":
        return "␣"
    if ch == "\n":
        return "⏎"
    if ch == "\t":
        return "⇥"
    # Only control characters (Cc): format characters such as the ZWJ inside 👨‍👩‍👧 or an
    # RTL mark belong to what the user wrote.
    return f"U+{ord(ch):04X}" if unicodedata.category(ch) == "Cc" else ch
