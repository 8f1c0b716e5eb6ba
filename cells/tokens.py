"""Tokens that remember where they came from.

Every token keeps its character span [start, end) in the original text, so a view
can highlight exactly what the model read.

- `words(text)`: English word level. Lower-cased, punctuation split off, and PTB-style
  clitics split as in the SST-2 data (don't -> do n't, it's -> it 's). Han, kana and
  other unspaced scripts give one token per character, so mixed Chinese and English
  text still splits sensibly.
- `chars(text)`: one token per user-perceived character (Unicode extended grapheme
  cluster): 分, é written as e + U+0301, 👨‍👩‍👧 (a ZWJ sequence) and 🇨🇳 are one token each.

`Vocab.encode` maps tokens to ids and reports which were unknown. A vocabulary may
back off: an English word it lacks is read as a base form it has (warmly -> warm,
dizzying -> dizzy), so rare inflections do not all collapse into one unknown token. It
never drops an ending that negates or reverses the base: heartless is not read as heart.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import regex

from .messages import msg

# A word: letters/digits with inner apostrophes or hyphens (well-made, o'clock, don't);
# a number keeps its separators (3.5, 1,000, 9/11).
# Unspaced scripts: one character each. Anything else that is not space: one grapheme.
_WORD = regex.compile(
    r"(?P<cjk>[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}])"
    r"|(?P<num>\p{N}+(?:[.,:/]\p{N}+)+)"
    r"|(?P<word>[\p{L}\p{M}\p{N}_]+(?:['’\-][\p{L}\p{M}\p{N}_]+)*)"
    r"|(?P<other>\X)"
)
_CLITIC = regex.compile(r"(?i)(n['’]t|['’](?:s|re|ve|ll|d|m))$")


@dataclass(frozen=True)
class Token:
    text: str  # as the model sees it (lower-cased for words)
    start: int  # span in the original text: text[start:end]
    end: int


def words(text: str) -> list[Token]:
    out: list[Token] = []
    for m in _WORD.finditer(text):
        s, e = m.span()
        if m.lastgroup == "other":
            if all(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in m.group()):
                continue  # whitespace, control and lone format characters separate tokens
            out.append(Token(m.group(), s, e))
            continue
        w = m.group()
        c = _CLITIC.search(w)
        if c and c.start() > 0:
            out.append(Token(w[: c.start()].lower(), s, s + c.start()))
            out.append(Token(c.group().lower().replace("’", "'"), s + c.start(), e))
        else:
            out.append(Token(w.lower().replace("’", "'"), s, e))
    return out


def chars(text: str) -> list[Token]:
    return [Token(m.group(), *m.span()) for m in regex.finditer(r"\X", text)]


# Endings a word may lose when the vocabulary lacks it, tried in this order; the first
# that leaves a known base form wins. Each keeps the base word's meaning and its sign:
# an inflection (-s, -es, -ed, -ing, -er, -est), an adverb or a noun made from the base
# (-ly, -ness, -ity, -ment), "full of" (-ful) or "somewhat" (-ish).
SUFFIXES = ("ly", "ness", "ing", "ed", "es", "s", "er", "est", "ful", "ity", "ment", "ish")
# Endings never dropped, because the base means something else, often the opposite.
NEVER_DROPPED = {
    "less": "negates: heartless is without heart",
    "free": "negates: carefree is without care",
    "able": "can reverse: a laughable film is not one to laugh with",
}
_DOUBLING = ("ing", "ed", "er", "est", "ish")  # endings after which a final consonant doubles: ripping


def english_bases(word: str) -> Iterator[str]:
    """Candidate base forms of an English word, by stripping one ending of SUFFIXES and
    undoing the usual spelling changes: warmly -> warm, dizzying -> dizzy (dizzi+ing),
    escaping -> escape, ripping -> rip, abilities -> ability. At least 3 letters stay.
    No candidate loses an ending of NEVER_DROPPED: heartlessly -> heartless, never heart."""
    for suf in SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            b = word[: -len(suf)]
            yield b
            yield b + "e"
            if suf in _DOUBLING and len(b) > 3 and b[-1] == b[-2]:
                yield b[:-1]
            if b.endswith("i"):
                yield b[:-1] + "y"


# name (stored in a checkpoint) -> candidate base forms of a token, best first
BACKOFFS: dict[str, Callable[[str], Iterator[str]]] = {"english-suffixes": english_bases}


@dataclass(frozen=True)
class Vocab:
    """itos: id -> token; unk names the id unknown tokens map to (it must be in itos);
    backoff names an entry of BACKOFFS that reads a missing token as a known base form."""

    itos: tuple[str, ...]
    unk: str | None = "<unk>"
    backoff: str | None = None
    stoi: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "itos", tuple(self.itos))
        object.__setattr__(self, "stoi", {s: i for i, s in enumerate(self.itos)})
        if len(self.stoi) != len(self.itos):
            raise ValueError("vocabulary has duplicate entries")
        if self.unk is not None and self.unk not in self.stoi:
            raise ValueError(f"unknown-token symbol {self.unk!r} is not in the vocabulary")
        if self.backoff is not None and self.backoff not in BACKOFFS:
            raise ValueError(f"unknown vocabulary backoff {self.backoff!r}; expected one of {tuple(BACKOFFS)}")

    def __len__(self) -> int:
        return len(self.itos)

    def lookup(self, token: str) -> str | None:
        """The vocabulary entry a token is read as: itself, its backoff base form, or None."""
        if token in self.stoi:
            return token
        if self.backoff is not None:
            for base in BACKOFFS[self.backoff](token):
                if base in self.stoi and base != self.unk:
                    return base
        return None

    def encode(self, tokens: list[Token] | list[str]) -> tuple[np.ndarray, list[int]]:
        """ids (T,) int64 and the positions whose token is not in the vocabulary.

        Unknown tokens map to `unk`; without one, they raise ValueError. Tokens read
        through the backoff count as known; `read_as` names them.
        """
        texts = [t.text if isinstance(t, Token) else t for t in tokens]
        found = [self.lookup(s) for s in texts]
        unknown = [i for i, f in enumerate(found) if f is None]
        if unknown and self.unk is None:
            raise ValueError(msg("tokens not in the vocabulary: {tokens}", tokens=[texts[i] for i in unknown[:10]]))
        u = self.stoi.get(self.unk, -1)
        return np.array([u if f is None else self.stoi[f] for f in found], dtype=np.int64), unknown

    def read_as(self, tokens: list[Token] | list[str]) -> dict[int, str]:
        """{position: base form} for the tokens the backoff reads as another entry."""
        if self.backoff is None:
            return {}
        texts = [t.text if isinstance(t, Token) else t for t in tokens]
        return {i: f for i, s in enumerate(texts) if (f := self.lookup(s)) is not None and f != s}
