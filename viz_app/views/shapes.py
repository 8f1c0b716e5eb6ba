"""Shapes: N vs 1, N vs N, 1 vs N and N vs M as one unrolled row of cells, each fed by a bundled model.

The same recurrent cell, read four ways: a classifier reads N tokens and gives one
class; a character model gives an output after every input; a language model given
one character writes N, reading each one back; an encoder–decoder reads N characters
and writes M. The numbers in the cells are the models' own (‖h_t‖), and each diagram
links to the view that shows that family step by step.
"""

from __future__ import annotations

import streamlit as st

from cells.checkpoint import CheckpointError

from .. import cache, checks, i18n, state
from ..charts.seq2seq import unrolled
from ..i18n import N_, _, engine
from ..tasks import KINDS
from .common import Selection

TITLE, URL_PATH, ICON = N_("Shapes"), "shapes", ":material/account_tree:"
READS_TASK = READS_TEXT = False  # every family at once: no task, no text

LINKS = (  # per diagram, in cache.shapes order: the view it opens and what that view shows
    ("attention", N_("Attention: the classifiers (SST-2, TREC) step by step")),
    ("language_model", N_("Language model: the next character after each one (Shakespeare, Jay Chou)")),
    ("language_model", N_("Language model: generation, with temperature and top-k")),
    ("seq2seq", N_("Seq2seq: the dates encoder–decoders, attention and decoding")),
)


def render(sel: Selection) -> None:
    kind = st.radio(_("Cell"), KINDS, index=KINDS.index("lstm"), format_func=str.upper, horizontal=True,
                    key="shapes_kind")
    try:
        diagrams = cache.shapes(kind, lang=i18n.current())
    except CheckpointError as e:
        checks.show([checks.error(_("The bundled model {name} could not be loaded, so this view cannot be drawn: its "
                                    "checkpoint {problem}. Reinstall rnnscope to restore it.", name=e.name,
                                    problem=engine(e.problem)))])
        return
    st.caption(_("Each row is one cell unrolled in time (left to right): inputs below, outputs above, and in each "
                 "cell the size of its state ‖h_t‖, darker when larger. The same cell makes all four shapes; what "
                 "differs is where the inputs come from and which steps give an output."))
    for i, (u, (path, label)) in enumerate(zip(diagrams, LINKS)):
        st.plotly_chart(unrolled(u), key=f"shapes_{i}", config={"displaylogo": False})
        st.page_link(state.PAGES[path], label=_(label), icon=":material/arrow_forward:")
