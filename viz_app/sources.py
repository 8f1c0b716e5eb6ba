"""The sidebar's inputs beyond the task and the text box: opening your own model, and the
numbers a numeric model reads. What they open goes to the session's shelf
(viz_app/yours.py), never to session_state; what they change in the page (the task, the
text) is set by callbacks, before the widgets are drawn.

Uploads are untrusted: each file is capped at MAX_UPLOAD_MB by the uploader (the browser
refuses a bigger file before sending it; `rnnscope` also sets the server's
`server.maxUploadSize` to it), parsed in memory by cells (safetensors, or
torch.load(weights_only=True); never unpickled), and nothing of it is written to disk.
A refused file changes nothing: the model already open stays open.
"""

from __future__ import annotations

import streamlit as st

from cells import own, sequences

from . import checks, sessions, yours
from .i18n import N_, _, _n, engine
from .tasks import YOURS

MAX_UPLOAD_MB = 50  # per file: a 2-layer bidirectional LSTM with input 128 and H = 512 is 34 MiB in float32
MODEL_TYPES = ["safetensors", "pt", "pth", "bin", "h5", "keras"]  # Keras files need h5py (the keras extra)
VOCAB_TYPES = ["txt", "json", "vocab"]
KIND_CHOICES = {"": N_("inferred from the weights"), "rnn_relu": N_("RNN with ReLU (its weights look like tanh's)"),
                "gru_reset_before": N_("GRU, the paper's (Keras reset_after=False; no torch GRU computes it)")}
SHAPES = {"sine": sequences.SHAPES["sine"], "steps": N_("a staircase of random levels"),
          "noise": N_("Gaussian noise, σ = 1")}  # cells.sequences.SHAPES, marked for translation (a formula is not)
assert SHAPES.keys() == sequences.SHAPES.keys(), "one label per generator shape"
GENERATED_T = (5, 500, 60)  # the generator's length slider: lowest, highest, default


def open_model_panel() -> None:
    """Upload a model (and optionally its vocabulary) and open it for this session."""
    shelf = yours.get(sessions.current())
    with st.sidebar.expander(_("Open your model"), expanded=shelf is None):
        with st.form("yours_upload", clear_on_submit=False, border=False):
            st.file_uploader(_("Weights: a state_dict of nn.RNN / nn.LSTM / nn.GRU, or Keras weights"), MODEL_TYPES,
                             key="yours_weights", max_upload_size=MAX_UPLOAD_MB,
                             help=_("torch.save(model.state_dict(), 'm.pt') or safetensors; read with "
                                    "torch.load(weights_only=True), never unpickled. Kind, sizes, layers and "
                                    "directions are read from the tensors' names and shapes."))
            st.file_uploader(_("Vocabulary (optional): one token per line, or JSON"), VOCAB_TYPES,
                             key="yours_vocab", max_upload_size=MAX_UPLOAD_MB,
                             help=_("With a vocabulary, the model reads text through the embedding matrix in "
                                    "the weights file; without one, it reads numbers."))
            st.selectbox(_("Cell"), list(KIND_CHOICES), format_func=lambda k: _(KIND_CHOICES[k]), key="yours_kind")
            st.form_submit_button(_("Open this model"), icon=":material/upload_file:", on_click=_open)
        checks.show(st.session_state.pop("_yours_said", []))
        if shelf is not None:
            # plain: the file's name is the user's
            st.caption(checks.plain(_("Open: {source}. {report}", source=shelf.source, report=engine(shelf.report))))
            st.button(_("Close it"), key="yours_close", on_click=yours.forget, args=(sessions.current(),))


def _open() -> None:
    """The Open button's callback (it runs before the page is drawn, so it may switch the task
    and the text); what it has to say waits in session state for the panel to show."""
    ss = st.session_state
    weights, vocab, kind = ss.get("yours_weights"), ss.get("yours_vocab"), ss.get("yours_kind") or None
    if weights is None:
        ss["_yours_said"] = [checks.error(_("Choose a weights file first."))]
        return
    try:
        shelf = read_upload(weights.name, weights.getvalue(), vocab.getvalue() if vocab else None, kind)
    except ValueError as e:
        ss["_yours_said"] = [checks.error(_("{name} could not be opened: {reason}", name=weights.name,
                                            reason=engine(e)))]
        return
    show(shelf)
    ss["_yours_said"] = [checks.info(_("Opened {source}. {report}", source=shelf.source, report=engine(shelf.report)))]


def show(shelf: yours.Shelf) -> None:
    """Open a shelf for this session and show it: the task becomes YOURS, the text its example.
    Call it from a callback, or before the task and text widgets are drawn."""
    yours.put(sessions.current(), shelf)
    ss = st.session_state
    ss["task"], ss["_task_prev"], ss["text"] = YOURS, YOURS, shelf.example


def read_upload(name: str, data: bytes, vocab_data: bytes | None = None, kind: str | None = None) -> yours.Shelf:
    """A shelf holding the uploaded model; ValueError with the reason for anything amiss."""
    import cells

    imported = cells.from_file(data, kind=kind)
    rec, E = imported.recurrent, imported.embedding
    if vocab_data is not None:
        v = own.read_vocab(vocab_data)
        if E is None:
            raise ValueError(_("a vocabulary was given, but the weights have no embedding matrix of {rows:,} × {cols} "
                               "(rows: the vocabulary, columns: the cell's input size)", rows=len(v),
                               cols=rec.input_size))
        model = own.OwnModel(name, rec, embedding=E, vocab=v, level="char" if own.char_level(v) else "word")
        example = "hello world" if model.level == "word" else "hello"
    else:
        model = own.OwnModel(name, rec)
        example = sequences.generate("sine", GENERATED_T[2], rec.input_size)
    return yours.Shelf((model,), f"{name} ({rec})", imported.report, example)


def numbers_panel(input_size: int) -> None:
    """For a model that reads numbers: fill the text box from a generator or a CSV file."""
    with st.sidebar.expander(_("Input sequence: generate or upload"), expanded=False):
        st.selectbox(_("Shape"), list(sequences.SHAPES), format_func=lambda s: f"{s}: {_(SHAPES[s])}", key="num_shape")
        st.slider(_("Steps"), *GENERATED_T, key="num_T")
        st.number_input(_("Seed"), 0, 10_000, 0, key="num_seed")
        st.button(_("Use this sequence"), key="num_use", on_click=_use, args=(input_size,))
        st.file_uploader(_n("or a CSV: one row per step, {n} column", "or a CSV: one row per step, {n} columns",
                            input_size), ["csv", "txt"], key="num_csv", max_upload_size=1)
        st.button(_("Read the CSV"), key="num_csv_use", on_click=_read_csv, args=(input_size,))
        checks.show(st.session_state.pop("_num_said", []))


def _use(input_size: int) -> None:
    ss = st.session_state  # the widgets' values as the click found them (a callback's args are the last run's)
    ss["text"] = sequences.generate(ss["num_shape"], ss["num_T"], input_size, int(ss["num_seed"]))


def _read_csv(input_size: int) -> None:
    ss = st.session_state
    f = ss.get("num_csv")
    if f is None:
        ss["_num_said"] = [checks.error(_("Choose a CSV file first."))]
        return
    try:
        ss["text"] = sequences.from_csv(f.getvalue(), input_size)
    except ValueError as e:
        ss["_num_said"] = [checks.error(_("{name}: {reason}", name=f.name, reason=engine(e)))]
