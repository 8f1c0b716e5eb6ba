"""Checking the user's text before any model reads it. Pure: returns text and messages.

Whatever the text, the app shows either a clear message or a picture, never a traceback.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from typing import Callable

from cells.tokens import Token, words

MAX_CHARS = 20_000  # longer text is cut here before tokenizing
MAX_TOKENS = 2_000  # the models read at most this many tokens


@dataclass(frozen=True)
class Checked:
    text: str  # what the models will read ("" when there is nothing to read)
    messages: tuple[str, ...] = ()  # said on screen, in order
    empty: bool = False


def check_text(raw: str, tokenize: Callable[[str], list[Token]] = words, unit: str = "token",
               max_chars: int = MAX_CHARS, max_tokens: int = MAX_TOKENS) -> Checked:
    """Remove control characters, bound the length, and say what was done.

    tokenize: the models' own tokenizer (`model.tokenize`), so the bound is in their tokens.
    """
    msgs = []
    text = raw if isinstance(raw, str) else ""
    if len(text) > max_chars:
        msgs.append(f"The text has {len(text):,} characters; only the first {max_chars:,} are read.")
        text = text[:max_chars]
    # Control characters (other than newline and tab) carry no meaning for the models and
    # draw as nothing, so they become spaces; their count is reported.
    n_ctrl = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t")
    if n_ctrl:
        text = "".join(" " if unicodedata.category(ch) == "Cc" and ch not in "\n\t" else ch for ch in text)
        msgs.append(f"Removed {n_ctrl:,} control character{'s' if n_ctrl > 1 else ''} (replaced by spaces).")
    toks = tokenize(text) if text.strip() else []
    if not toks:
        return Checked("", tuple(msgs) + ("Type some text to see the models read it.",), empty=True)
    if len(toks) > max_tokens:
        msgs.append(f"The text has {len(toks):,} {unit}s; the models read the first {max_tokens:,}.")
        text = text[: toks[max_tokens - 1].end]
    return Checked(text, tuple(msgs))
