"""The interface's two languages, English and 中文: everything a user reads goes through `_`.

    from viz_app.i18n import _, _n, N_
    st.button(_("Start"))
    _("The text has {n:,} characters; only the first {limit:,} are read.", n=len(text), limit=MAX_CHARS)
    _n("Removed {n:,} control character.", "Removed {n:,} control characters.", n)
    TITLE = N_("Compare")      # marked where it is defined (a constant); shown as _(TITLE)

English is the source language: a message id is the English text itself, shown as it is.
Each other language has one gettext catalogue, viz_app/locale/<lang>/LC_MESSAGES/rnnscope.po,
read with Babel. `python -m viz_app.i18n` extracts the ids from the code (Babel's Python
extractor: the calls of `_`, `_n` and `N_` in viz_app/, and of `msg` in cells/) and merges
them into each catalogue: new ids come in untranslated, ids nothing uses any more are dropped.
tests/test_i18n.py fails when an id has no translation, when a catalogue holds an entry nothing
uses, and when a translation's {placeholders} differ from its id's.

What cells/ says to a person (a refused input's reason, a parity report) is a
cells.messages.Message: the English text, keeping its template and params. Show it with
`engine(text_or_exception)`, which translates it like `_` (and any param that is itself a
Message); any other text passes through unchanged.

Placeholders are str.format's, named, filled by keyword; a message with keywords is formatted,
one without is shown as it is (so its braces are literal). A translation whose placeholders do
not fit (a hand-edited catalogue) never breaks a page: `_` shows the English text instead.

Which language: `current()`, in this order: `using(lang)` (a with-block, for notebooks and
tests), the session's choice in a Streamlit run (`session_state["lang"]`, set by
viz_app/state.py from `?lang=`, the browser's locale and the sidebar's switch), else
`DEFAULT` (`set_default` changes it for a notebook). Chart functions call `_` too, so a
figure drawn in a notebook is in the notebook's language. Anything cached across sessions
that holds text must take the language as an argument.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import logging
import string
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

LANGS = {"en": "English", "zh": "中文"}  # the switch's labels, each in its own language
DEFAULT = "en"
DOMAIN = "rnnscope"
LOCALE = Path(__file__).parent / "locale"
KEYWORDS = {"_": None, "N_": None, "_n": (1, 2)}  # Babel's extractor: what marks a message
SOURCES = Path(__file__).parent  # the code whose messages the catalogues translate
ENGINE = SOURCES.parent / "cells"  # the engine's messages: cells.messages.msg("…", …)
ENGINE_KEYWORDS = {"msg": None}
PLURAL = {"zh": lambda n: 0}  # each language's plural form for a count (gettext's Plural-Forms): Chinese has one

_log = logging.getLogger(__name__)
_forced: contextvars.ContextVar[str | None] = contextvars.ContextVar("rnnscope_lang", default=None)
_default = DEFAULT


def catalogue_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _table(lang: str) -> dict:
    """msgid (str, or (singular, plural)) -> translation (str, or tuple per plural form); an
    untranslated entry is left out, so it shows in English. Read once per process, never changed."""
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    with catalogue_path(lang).open("rb") as f:
        cat = read_po(f, locale=lang)
    out = {}
    for m in cat:
        if m.id and m.string and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else True):
            out[m.id] = m.string
    return out


def normalize(lang: str | None) -> str | None:
    """A language this app speaks from a URL value or a browser locale ("zh-CN", "en_US", "ZH"),
    or None."""
    if not isinstance(lang, str):
        return None
    base = lang.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGS else None


def current() -> str:
    if (lang := _forced.get()) is not None:
        return lang
    if "streamlit" in sys.modules:  # in a Streamlit script run: the session's choice
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        if (ctx := get_script_run_ctx(suppress_warning=True)) is not None:
            lang = ctx.session_state["lang"] if "lang" in ctx.session_state else None
            if lang in LANGS:
                return lang
    return _default


def set_default(lang: str) -> None:
    """The language outside a Streamlit session (a notebook)."""
    global _default
    if lang not in LANGS:
        raise ValueError(f"language must be one of {sorted(LANGS)}, got {lang!r}")
    _default = lang


@contextlib.contextmanager
def using(lang: str) -> Iterator[None]:
    if lang not in LANGS:
        raise ValueError(f"language must be one of {sorted(LANGS)}, got {lang!r}")
    token = _forced.set(lang)
    try:
        yield
    finally:
        _forced.reset(token)


def fields(text: str) -> set[str]:
    """The names of text's str.format placeholders ({n:,} -> "n")."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _format(english: str, translated: str, params: dict) -> str:
    if not params:
        return translated
    try:
        return translated.format(**params)
    except (KeyError, IndexError, ValueError, AttributeError) as e:
        if translated is english:
            raise  # a bug in the code, not in a catalogue
        _log.warning("translation of %r does not fit its placeholders (%s): shown in English", english, e)
        return english.format(**params)


def _(message: str, **params) -> str:
    """message in the current language, its placeholders filled from params."""
    translated = _table(current()).get(message, message) if message else message
    return _format(message, translated, params)


def _n(singular: str, plural: str, n: int, **params) -> str:
    """The singular or plural message for count n (n is also a placeholder)."""
    params = {"n": n, **params}
    english = singular if n == 1 else plural
    lang = current()
    forms = _table(lang).get((singular, plural))
    if not forms:
        return _format(english, english, params)
    return _format(english, forms[min(PLURAL[lang](n), len(forms) - 1)], params)


def N_(message: str) -> str:
    """Marks a message for the catalogues where it is defined; `_` translates it where it is shown."""
    return message


def engine(text: object) -> object:
    """What cells said, in the current language: a cells.messages.Message (or an exception
    raised with one) translated with its params (a param that is a Message too); anything
    else as it is (an exception: its text)."""
    from cells.messages import Message

    if isinstance(text, BaseException):
        first = text.args[0] if len(text.args) == 1 else None
        text = first if isinstance(first, Message) else str(text)
    if not isinstance(text, Message):
        return text
    return _(text.template, **{k: engine(v) if isinstance(v, Message) else v for k, v in text.params.items()})


# -- the catalogues: extract, merge, check --------------------------------------------------

def extract(roots: dict[Path, dict] | None = None) -> dict:
    """Every message id the code marks (by default `_`, `_n`, `N_` in viz_app/ and `msg` in
    cells/; roots: folder -> Babel keywords): id -> [(path, line), …] in the order found."""
    found: dict = {}
    for root, keywords in (roots or {SOURCES: KEYWORDS, ENGINE: ENGINE_KEYWORDS}).items():
        _extract(root, keywords, found)
    return found


def _extract(root: Path, keywords: dict, found: dict) -> None:
    from babel.messages.extract import extract_from_file

    for path in sorted(root.rglob("*.py")):
        for lineno, message, _comments, _context in extract_from_file("python", str(path), keywords=keywords):
            if not message or (isinstance(message, tuple) and not all(message)):
                continue
            key = message if isinstance(message, str) else tuple(message[:2])
            found.setdefault(key, []).append((str(path.relative_to(root.parent)), lineno))


def update(lang: str) -> tuple[int, int]:
    """Merge the code's ids into lang's catalogue: (ids added untranslated, entries dropped)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    path = catalogue_path(lang)
    old, dates = {}, {}
    if path.exists():
        with path.open("rb") as f:
            before = read_po(f, locale=lang)
        old = {m.id: m.string for m in before if m.id}
        dates = {"creation_date": before.creation_date}  # kept: a rerun changes nothing but the entries
    ids = extract()
    cat = Catalog(locale=lang, domain=DOMAIN, project="rnnscope", version="", fuzzy=False, **dates)
    for key, where in sorted(ids.items(), key=lambda kv: kv[1][0]):
        cat.add(key, old.get(key, "" if isinstance(key, str) else ("",)),
                locations=where)
    buf = io.BytesIO()
    write_po(buf, cat, width=0, omit_header=False, include_previous=False)  # whole before the file is touched
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return len(set(ids) - set(old)), len(set(old) - set(ids))


if __name__ == "__main__":
    for lang in LANGS:
        if lang != "en":
            added, dropped = update(lang)
            print(f"{catalogue_path(lang)}: {added} new (untranslated), {dropped} dropped")
