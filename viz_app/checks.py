"""Input checks: the user's text and a generation request, bounded and cleaned before any
model reads them, with what the page should say. Pure, but for `show`.

Whatever the input, the app shows either a clear message or a picture, never a
traceback. A message carries its own level; `show` draws every message the same way,
as plain text: messages may quote the user's text, which must never become markup.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cells import zoo
from cells.tokens import Token, chars

from .i18n import N_, _, _n, engine

MAX_CHARS = 20_000  # longer text is cut here before tokenizing
MAX_TOKENS = zoo.MAX_TOKENS  # the models read at most this many tokens
MAX_GENERATE = 1000  # characters per model per request; the page says when it cuts n
MAX_PREFIX = 500  # characters of prefix read before generating
HOT = 5.0  # temperatures above this sample almost uniformly; the page says so
LEVELS = ("info", "warning", "error")


@dataclass(frozen=True)
class Message:
    level: str  # "info" | "warning" | "error"
    text: str  # plain text; may quote the user

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"message level must be one of {LEVELS}, got {self.level!r}")


def info(text: str) -> Message:
    return Message("info", text)


def warning(text: str) -> Message:
    return Message("warning", text)


def error(text: str) -> Message:
    return Message("error", text)


_MARKDOWN = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def plain(text: str) -> str:
    """Markdown that Streamlit displays as exactly `text`: every ASCII punctuation character
    backslash-escaped (CommonMark's escapes, which also defuse Streamlit's :emoji:,
    :color[…] and $math$), each newline a hard line break."""
    return "\\\n".join(_MARKDOWN.sub(r"\\\1", line) for line in text.split("\n"))


def show(messages: Iterable[Message]) -> None:
    """Each message in its level's colour, as plain text."""
    import streamlit as st

    for m in messages:
        getattr(st, m.level)(plain(m.text))


def refusal(e: Exception) -> Message:
    """A model's own clear message about the text it was given (cells' words, translated by engine)."""
    return error(_("The models could not read this text: {reason}", reason=engine(e)))


# -- the text -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checked:
    text: str  # what the models will read ("" when there is nothing to read)
    messages: tuple[Message, ...] = ()  # said on screen, in order
    empty: bool = False


TOO_LONG = {  # what the models read (check_text's unit) -> what the page says when there is too much of it
    "token": N_("The text has {n:,} tokens; the models read the first {limit:,}."),
    "character": N_("The text has {n:,} characters; the models read the first {limit:,}."),
    "word token": N_("The text has {n:,} word tokens; the models read the first {limit:,}."),
    "step": N_("The text has {n:,} steps; the models read the first {limit:,}."),
}


def check_text(raw: str, tokenize: Callable[[str], list[Token]], unit: str = "token",
               max_chars: int = MAX_CHARS, max_tokens: int = MAX_TOKENS) -> Checked:
    """Remove control characters, bound the length, and say what was done.

    tokenize: the models' own tokenizer (`model.tokenize`), so the bound is in their tokens;
    unit: what they read, a key of TOO_LONG.
    """
    msgs = []
    text = raw if isinstance(raw, str) else ""
    if len(text) > max_chars:
        msgs.append(warning(_("The text has {n:,} characters; only the first {limit:,} are read.", n=len(text),
                              limit=max_chars)))
        text = text[:max_chars]
    # Control characters (other than newline and tab) carry no meaning for the models and
    # draw as nothing, so they become spaces; their count is reported.
    n_ctrl = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t")
    if n_ctrl:
        text = "".join(" " if unicodedata.category(ch) == "Cc" and ch not in "\n\t" else ch for ch in text)
        msgs.append(warning(_n("Removed {n:,} control character (replaced by spaces).",
                               "Removed {n:,} control characters (replaced by spaces).", n_ctrl)))
    toks = tokenize(text) if text.strip() else []
    if not toks:
        return Checked("", tuple(msgs) + (info(_("Type some text to see the models read it.")),), empty=True)
    if len(toks) > max_tokens:
        msgs.append(warning(_(TOO_LONG[unit], n=len(toks), limit=max_tokens)))
        text = text[: toks[max_tokens - 1].end]
    return Checked(text, tuple(msgs))


# -- a generation request -------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    prefix: str
    n: int  # 0 … MAX_GENERATE
    temperature: float  # below cells.zoo.TEMPERATURE_FLOOR: greedy
    top_k: int | None  # None: the whole vocabulary
    seed: int
    messages: tuple[Message, ...] = ()  # said on screen, in order
    unknown: tuple[str, ...] = ()  # prefix characters the model never saw


def check_request(prefix: str, n: int, temperature: float, top_k: int, seed: int, vocab: list[str],
                  limit: int = MAX_GENERATE) -> Request:
    msgs = []
    prefix = prefix if isinstance(prefix, str) else ""
    if len(prefix) > MAX_PREFIX:
        msgs.append(info(_("The prefix has {n:,} characters; the models read the last {limit:,}.", n=len(prefix),
                           limit=MAX_PREFIX)))
        prefix = prefix[-MAX_PREFIX:]
    if not prefix:
        msgs.append(info(_("Empty prefix: each model starts from its start state (zero state), reading a newline "
                           "first.")))
    n = int(n)
    if n <= 0:
        msgs.append(info(_("n = 0: nothing to generate; each text below is the prefix alone.")))
        n = 0
    elif n > limit:
        msgs.append(warning(_("n = {n:,} is more than this page generates at once: each model writes {limit:,} "
                              "characters.", n=n, limit=limit)))
        n = limit
    t = float(temperature)
    if not math.isfinite(t) or t < 0:
        msgs.append(warning(_("temperature {value} is not a number ≥ 0: using 1.", value=temperature)))
        t = 1.0
    if t < zoo.TEMPERATURE_FLOOR:
        shown = "0" if t == 0 else f"{t:.3g}"
        msgs.append(info(_("temperature {value} is below {floor:g}: greedy decoding, the likeliest character every "
                           "time (the seed has no effect).", value=shown, floor=zoo.TEMPERATURE_FLOOR)))
    elif t > HOT:
        msgs.append(warning(_("temperature {value:g} is very high: every character is almost equally likely, so the "
                              "text is noise.", value=t)))
    k = int(top_k) if top_k and int(top_k) > 0 else None
    if k is not None and vocab and k >= len(vocab):
        k = None
    known = set(vocab)
    unknown = tuple(dict.fromkeys(c.text for c in chars(prefix) if vocab and c.text not in known))
    if unknown:
        shown = " ".join(repr(u) for u in unknown[:20]) + (" …" if len(unknown) > 20 else "")
        msgs.append(warning(_n("{n} prefix character the model never saw is read as <unk>: {chars}",
                               "{n} prefix characters the model never saw are read as <unk>: {chars}",
                               len(unknown), chars=shown)))
    return Request(prefix, n, t, k, int(seed), tuple(msgs), unknown)
