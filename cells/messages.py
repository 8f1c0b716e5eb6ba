"""Messages cells says to a person (a refused input, a parity report), translatable by whoever shows them.

    from .messages import msg
    raise ValueError(msg("step {t}: «{value}» is not a number", t=t, value=s[:20]))

A `Message` is the English text itself, `template.format(**params)` (a str: `str(e)`, logs
and tests read it as before), and keeps `.template` and `.params`, so an interface can show
it in another language: viz_app.i18n.engine looks `template` up in its catalogue (the
template is the message id; `python -m viz_app.i18n` extracts every `msg("…")` call in
cells/) and fills in the params, translating a param that is itself a Message.

Rules for a template: a literal string at the call (the extractor reads it there), a whole
sentence, placeholders by name with their format specs inside ("{n:,}", "{value!r}"); a
value that is the user's text (a file name, a token) is a param, never part of the
template. Without params the template is the text as it is (its braces are literal), as
with viz_app.i18n._. cells never imports the interface: it only marks its messages.
"""

from __future__ import annotations


class Message(str):
    """The English text of `template` filled from `params`, which it keeps."""

    template: str
    params: dict

    def __new__(cls, template: str, params: dict | None = None) -> Message:
        params = dict(params or {})
        self = super().__new__(cls, template.format(**params) if params else template)
        self.template, self.params = template, params
        return self

    def __reduce__(self):  # pickles (and copies) as a Message, not as the bare text
        return (Message, (self.template, self.params))


def msg(template: str, **params) -> Message:
    """A message for a person: the English text now, the template and params for a translation."""
    return Message(template, params)


def join(sep: str, parts) -> Message:
    """The parts (Messages or text) joined by sep, as one Message whose parts are its params:
    each part is translated where the whole is shown."""
    parts = list(parts)
    escaped = sep.replace("{", "{{").replace("}", "}}")
    return Message(escaped.join(f"{{p{i}}}" for i in range(len(parts))), {f"p{i}": p for i, p in enumerate(parts)})
