"""Your own recurrent network, trained in PyTorch or Keras, as a `cells.Recurrent`.

    imp = cells.from_file("model.pt")          # a path, raw bytes or a file object
    imp.recurrent, imp.embedding, imp.ignored  # the network, its (V, I) embedding or None, what was not read
    imp.parity, imp.report                     # max |Δ| against the source framework's own forward pass
    rec = cells.from_keras(layer)              # keras.layers.LSTM / GRU / SimpleRNN, or Bidirectional of one
    rec = cells.from_keras_weights(layer.get_weights(), "gru", reset_after=False)
    rec = cells.from_tf1_lstm(kernel, bias, forget_bias=1.0)

Files are told apart by their first bytes, not their names:
- safetensors, or torch.save of a state dict (.pt / .pth, zip or legacy format), read
  with torch.load(weights_only=True) only: a file holding Python objects besides tensors
  (a pickled module, code) is refused, never unpickled. A checkpoint dict around the state
  dict ({"model": sd, "epoch": 3}) is read through; its tensors are named "model.rnn.…".
- Keras 3 `.weights.h5` (model.save_weights) and `.keras` (model.save), through h5py (the
  keras extra). A recurrent layer is named by its path in the file ("layers/gru"); a
  Bidirectional layer's two directions are one module ("layers/bidirectional").
Nothing is written to disk, and a file larger than MAX_UPLOAD_BYTES is refused before it
is read whole.

Where Keras differs from PyTorch, whose layout cells keeps (cells/params.py):
- kernel (I, k·H) and recurrent_kernel (H, k·H) are weight_ih and weight_hh transposed.
- LSTM gates i, f, c, o are torch's i, f, g, o (c is the candidate g). One bias (4H,):
  it becomes b_ih, and b_hh = 0 (only their sum enters the cell). SimpleRNN likewise.
- GRU gates z, r, h are reordered to torch's r, z, n. With reset_after=True (Keras'
  default) the bias (2, 3H) is [input bias; recurrent bias] = torch's b_ih, b_hh, and the
  cell is torch's GRU exactly. With reset_after=False the bias is (3H,) (→ b_ih, b_hh = 0)
  and the reset comes before the matrix product, n = tanh(W_in x + b_in + W_hn (r ⊙ h)):
  cell kind "gru_reset_before" (cells/gru.py), which no torch module computes.
- Only the default activations: tanh, with sigmoid gates (SimpleRNN: tanh or relu).
The weights alone cannot tell a relu SimpleRNN from a tanh one: name kind="rnn_relu".
"""

from __future__ import annotations

import fnmatch
import io
import math
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from .messages import msg
from .params import CellWeights, readonly
from .recurrent import CHUNKS, KINDS, Recurrent, float_arrays, read_state_dict

if TYPE_CHECKING:
    from torch import nn

MAX_UPLOAD_BYTES = 200 * 2**20  # larger files and uploads are refused before they are read
PARITY_STEPS = 16  # the seeded random input every import is checked on
PARITY_SEED = 0
PICKLED = msg("this file holds Python objects, not just tensors; rnnscope never unpickles them: "
              "save `model.state_dict()` with torch.save or safetensors")
HDF5 = b"\x89HDF\r\n\x1a\n"
KERAS_ORDER = {  # for each of torch's gate blocks, the Keras block it is
    "rnn_tanh": (0,), "rnn_relu": (0,), "lstm": (0, 1, 2, 3),  # i f c o = i f g o
    "gru": (1, 0, 2), "gru_reset_before": (1, 0, 2),  # z r h -> r z n
}


@dataclass(frozen=True)
class Imported:
    """What `from_file` read, and how closely it matches the framework that wrote it."""

    recurrent: Recurrent
    embedding: np.ndarray | None  # (V, input_size): the file's one embedding matrix, or None
    source: str  # "torch" | "keras"
    prefix: str  # the module read: "rnn." (torch) or "layers/gru" (Keras)
    ignored: tuple[str, ...]  # tensors not read, e.g. a classifier head
    parity: float  # max |Δ| of output, h_n (and c_n) against the source's forward pass; nan: not compared
    report: str  # "max |Δ| vs torch = 3.1e-07 over 16 steps (output, h_n, c_n)"


def from_file(source: str | os.PathLike | bytes | BinaryIO, kind: str | None = None, prefix: str | None = None,
              max_bytes: int | None = None) -> Imported:
    """Read a recurrent network from a safetensors, torch.save or Keras weights file.

    source: a path, the file's bytes (an upload) or a binary file object.
    kind, prefix: as in `cells.from_state_dict`, None to read them from the file; a Keras
        prefix is a layer's path ("layers/gru").
    max_bytes: the size limit, MAX_UPLOAD_BYTES when None.
    ValueError with the reason for a file too large, truncated, of an unknown format,
    holding pickled objects, or without one readable recurrent module.
    """
    cap = MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    data = _read(source, cap)
    fmt = _format(data)
    if fmt == "zip":  # torch.save's, or a Keras .keras archive around its weights file
        data, fmt = _unzip_keras(data, cap)
    if fmt == "hdf5":
        return _from_keras_file(data, kind, prefix, cap)
    tensors = _load_safetensors(data) if fmt == "safetensors" else _load_torch(data)
    return _from_tensors(tensors, kind, prefix)


# -- bytes in ---------------------------------------------------------------------------------


def _size(n: int) -> str:
    return msg("{mb:.1f} MB", mb=n / 2**20) if n >= 2**20 else msg("{n:,} bytes", n=n)


def _read(source, cap: int) -> bytes:
    """The bytes of a path, bytes or file object; ValueError, before reading more, when over cap."""
    limit = msg("rnnscope reads files up to {size} (cells.imports.MAX_UPLOAD_BYTES)", size=_size(cap))
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > cap:
            raise ValueError(msg("the file is {size}; {limit}", size=_size(len(source)), limit=limit))
        return source if isinstance(source, bytes) else bytes(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(msg("no file at {path}", path=str(path)))
        size = path.stat().st_size
        if size > cap:
            raise ValueError(msg("{name} is {size}; {limit}", name=path.name, size=_size(size), limit=limit))
        with path.open("rb") as f:
            return _read_capped(f, cap, limit)
    if hasattr(source, "read"):
        return _read_capped(source, cap, limit)
    raise TypeError(f"expected a path, bytes or a binary file object, got {type(source).__name__}")


def _read_capped(f: BinaryIO, cap: int, limit: str) -> bytes:
    data = f.read(cap + 1)  # one byte more tells "too large" without reading the rest
    if len(data) > cap:
        raise ValueError(msg("the file is larger than {size}; {limit}", size=_size(cap), limit=limit))
    return bytes(data)


def _truncated(detail: object) -> str:
    return msg("the file is truncated or damaged ({detail}); upload it again, or save it anew", detail=detail)


def _format(data: bytes) -> str:
    """"safetensors" | "torch" (a legacy torch.save pickle) | "zip" | "hdf5", from the first bytes."""
    if len(data) < 9:
        raise ValueError(_truncated(msg("{n:,} bytes", n=len(data))))
    if data.startswith(HDF5):
        return "hdf5"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data[0] == 0x80:  # pickle's PROTO opcode: torch.save's legacy format
        return "torch"
    if data[8:9] == b"{":  # safetensors: an 8-byte little-endian header length, then the JSON header
        return "safetensors"
    raise ValueError(msg("not a file rnnscope can read (it starts with {start!r}): expected safetensors, "
                         "torch.save of a state_dict (.pt, .pth), or a Keras .weights.h5 / .keras file",
                         start=data[:8]))


def _unzip_keras(data: bytes, cap: int) -> tuple[bytes, str]:
    """A .keras archive's weights (model.weights.h5) and "hdf5"; any other zip stays as it is, for torch."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except zipfile.BadZipFile as e:
        raise ValueError(_truncated(e)) from None
    unpacked = sum(i.file_size for i in infos)
    if unpacked > cap:
        raise ValueError(msg("the archive unpacks to {size}; rnnscope reads up to {cap}", size=_size(unpacked),
                             cap=_size(cap)))
    if "model.weights.h5" not in z.namelist():
        return data, "torch"
    try:
        return z.read("model.weights.h5"), "hdf5"
    except (zipfile.BadZipFile, EOFError) as e:
        raise ValueError(_truncated(e)) from None


# -- torch ------------------------------------------------------------------------------------


def _load_safetensors(data: bytes) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load

    if int.from_bytes(data[:8], "little") > len(data) - 8:
        raise ValueError(_truncated(msg("the safetensors header runs past the end of the file")))
    try:
        return load(data)  # torch tensors: numpy has no bfloat16
    except SafetensorError as e:
        raise ValueError(_truncated(e)) from None


def _load_torch(data: bytes) -> dict:
    """Every tensor torch.save wrote, read with weights_only=True: tensors and plain containers, nothing else."""
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols; the errors below say what matters
            obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        named = re.search(r"GLOBAL ([\w.]+)", str(e))
        raise ValueError(msg("this file holds Python objects, not just tensors; rnnscope never unpickles them: "
                             "save `model.state_dict()` with torch.save or safetensors (it asks for {name})",
                             name=named[1]) if named else PICKLED) from None
    except Exception as e:  # zip, EOF and struct errors of a cut-off file: one message for them all
        first = str(e).splitlines()[0] if str(e) else "unexpected end"
        raise ValueError(_truncated(f"{type(e).__name__}: {first}")) from None
    return _tensors(obj)


def _tensors(obj: object, name: str = "") -> dict:
    """The tensors in what torch.load returned, by their path: a state dict's own names, or
    "model.rnn.weight_ih_l0" for a state dict inside a checkpoint dict."""
    if hasattr(obj, "detach"):
        return {name: obj}
    items = obj.items() if isinstance(obj, Mapping) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    out: dict = {}
    for k, v in items:
        out.update(_tensors(v, f"{name}.{k}" if name else str(k)))
    return out


def _from_tensors(tensors: Mapping, kind: str | None, prefix: str | None) -> Imported:
    rec, prefix, used = read_state_dict(tensors, kind, prefix)
    emb_name = _embedding_name(tensors, rec.input_size, used)
    embedding = _embedding(emb_name, tensors.get(emb_name))
    ignored = tuple(sorted(set(tensors) - set(used) - {emb_name}))
    if rec.kind == "gru_reset_before":
        return Imported(rec, embedding, "torch", prefix, ignored, math.nan,
                        msg("not compared: no torch module computes a GRU with the reset before W_hn"))
    delta = torch_parity(rec, _torch_twin(rec, {k[len(prefix):]: tensors[k] for k in used}))
    return Imported(rec, embedding, "torch", prefix, ignored, delta, _report(delta, "torch", rec))


def _torch_twin(rec: Recurrent, tensors: Mapping) -> nn.Module:
    """The torch module the tensors came from, rebuilt with load_state_dict (strict)."""
    import torch
    from torch import nn

    dtype = torch.float64 if rec.dtype == np.float64 else torch.float32
    kw = dict(bias=any(k.startswith("bias") for k in tensors), bidirectional=rec.bidirectional, dtype=dtype)
    args = (rec.input_size, rec.hidden_size, rec.num_layers)
    with torch.device("meta"):  # no storage and no random init: the file's tensors are assigned below
        if rec.kind.startswith("rnn"):
            m = nn.RNN(*args, nonlinearity=rec.kind[4:], **kw)
        else:
            m = {"lstm": nn.LSTM, "gru": nn.GRU}[rec.kind](*args, **kw)
    m.load_state_dict({k: torch.as_tensor(v).to(dtype) for k, v in tensors.items()}, assign=True)
    return m.eval()


# -- Keras ------------------------------------------------------------------------------------


def _keras():
    try:
        import keras
    except ImportError as e:
        raise ValueError(msg("reading Keras weights needs keras (pip install 'rnnscope[keras]') and a backend for "
                             "it; KERAS_BACKEND=torch uses the torch rnnscope already has ({error})",
                             error=e)) from None
    return keras


def from_keras(layer) -> Recurrent:
    """Read a built keras.layers.LSTM, GRU (reset_after True or False), SimpleRNN (tanh or
    relu), a keras.layers.RNN around one of their cells, or a Bidirectional of one
    (merge_mode "concat", which is torch's layout). See the module docstring for the layouts."""
    keras = _keras()
    bidirectional = isinstance(layer, keras.layers.Bidirectional)
    if bidirectional and layer.merge_mode != "concat":
        raise ValueError(f"a Bidirectional layer with merge_mode={layer.merge_mode!r} mixes its two directions; "
                         "rnnscope reads merge_mode='concat' (forward and backward side by side, as torch)")
    parts = [layer.forward_layer, layer.backward_layer] if bidirectional else [layer]
    kinds = {_keras_kind_of_layer(keras, p, backwards=d == 1) for d, p in enumerate(parts)}
    if len(kinds) > 1:
        raise ValueError(f"the two directions are different cells ({', '.join(sorted(kinds))}); rnnscope reads one kind")
    weights = [w for p in parts for w in p.get_weights()]
    return _keras_recurrent(weights, kinds.pop(), bidirectional, _keras_labels(len(weights), bidirectional))


def _keras_kind_of_layer(keras, layer, backwards: bool) -> str:
    """The cell kind of one Keras recurrent layer, refusing what rnnscope does not compute."""
    if not isinstance(layer, keras.layers.RNN):
        raise TypeError(f"cannot read a {type(layer).__name__}: expected keras.layers.LSTM, GRU, SimpleRNN "
                        "or a Bidirectional of one")
    cell = layer.cell
    if not layer.built:
        raise ValueError(f"{layer.name} has no weights yet: call it on an input, or build it, first")
    if layer.go_backwards != backwards:
        raise ValueError(f"{layer.name} has go_backwards={layer.go_backwards}: it reads the sequence backwards and "
                         "returns its steps in reverse; wrap the forward layer in keras.layers.Bidirectional instead")
    act = getattr(cell.activation, "__name__", repr(cell.activation))
    if isinstance(cell, keras.layers.SimpleRNNCell):
        if act not in ("tanh", "relu"):
            raise ValueError(f"{layer.name} uses activation {act!r}; rnnscope computes SimpleRNN with tanh or relu")
        return f"rnn_{act}"
    if not isinstance(cell, (keras.layers.LSTMCell, keras.layers.GRUCell)):
        raise TypeError(f"cannot read a {type(cell).__name__}: expected an LSTM, GRU or SimpleRNN cell")
    gate = getattr(cell.recurrent_activation, "__name__", repr(cell.recurrent_activation))
    if (act, gate) != ("tanh", "sigmoid"):
        raise ValueError(f"{layer.name} uses activation={act!r}, recurrent_activation={gate!r}; rnnscope computes "
                         "Keras' defaults, tanh and sigmoid, as torch does")
    if isinstance(cell, keras.layers.LSTMCell):
        return "lstm"
    return "gru" if cell.reset_after else "gru_reset_before"


def from_keras_weights(weights: Sequence[np.ndarray], kind: str, reset_after: bool = True,
                       bidirectional: bool = False) -> Recurrent:
    """A Recurrent from a Keras layer's `get_weights()`: [kernel, recurrent_kernel, bias]
    (no bias when use_bias=False), forward then backward for a Bidirectional layer.

    kind: "lstm", "gru", "rnn_tanh" or "rnn_relu" (SimpleRNN); for "gru", reset_after says
    which GRU (kind "gru_reset_before" is "gru" with reset_after=False)."""
    if kind not in KINDS:
        raise ValueError(f"unknown cell kind {kind!r}; expected one of {KINDS}")
    if kind == "gru" and not reset_after:
        kind = "gru_reset_before"
    return _keras_recurrent(list(weights), kind, bidirectional, _keras_labels(len(weights), bidirectional))


def _keras_labels(n: int, bidirectional: bool) -> list[str]:
    names = ["kernel", "recurrent_kernel", "bias"]
    if not bidirectional:
        return names[:n]
    return [f"{side} {name}" for side in ("forward", "backward") for name in names[: n // 2]]


def _keras_recurrent(weights: list, kind: str | None, bidirectional: bool, labels: list[str]) -> Recurrent:
    """One Keras layer's weights, [kernel, recurrent_kernel(, bias)] per direction, as a Recurrent."""
    D = 2 if bidirectional else 1
    n = len(weights) // D
    if n not in (2, 3) or n * D != len(weights):
        raise ValueError(msg("expected [kernel, recurrent_kernel, bias] (bias only with use_bias=True) for each of "
                             "{D} direction(s), in get_weights() order; got {n} array(s)", D=D, n=len(weights)))
    arrays = float_arrays(dict(zip(labels, weights)))
    ws = []
    for d in range(D):
        names = labels[d * n : (d + 1) * n]
        kernel, recurrent = arrays[names[0]], arrays[names[1]]
        bias = arrays[names[2]] if n == 3 else None
        kind = _keras_kind(kind, kernel.shape, recurrent.shape, None if bias is None else bias.shape, names)
        ws.append(_keras_cell(kind, kernel, recurrent, bias))
    return Recurrent(kind, ws, 1, bidirectional)


def _keras_kind(kind: str | None, kernel: tuple, recurrent: tuple, bias: tuple | None, names: list[str]) -> str:
    """The kind Keras' shapes kernel (I, k·H), recurrent_kernel (H, k·H) and bias say, checked against a named one."""
    H = recurrent[0] if len(recurrent) == 2 else 0
    k = recurrent[1] // H if H and len(kernel) == 2 and recurrent[1] % H == 0 and kernel[1] == recurrent[1] else 0
    if k not in (1, 3, 4):
        raise ValueError(msg("{kernel_name} {kernel} and {recurrent_name} {recurrent} are not a SimpleRNN's, GRU's or "
                             "LSTM's: both need k·H columns for H = recurrent_kernel's rows, k = 1, 3 or 4",
                             kernel_name=names[0], kernel=kernel, recurrent_name=names[1], recurrent=recurrent))
    gru = {(2, 3 * H): "gru", (3 * H,): "gru_reset_before"}.get(bias) if k == 3 else None
    said = {1: "rnn_tanh", 4: "lstm"}.get(k, gru)
    if kind is None and said is None:
        raise ValueError(msg("a GRU without biases computes differently with reset_after=True and False, and its "
                             "weights do not say which: name kind='gru' (Keras' default, reset_after=True) or "
                             "kind='gru_reset_before'"))
    kind = said if kind is None else kind
    if CHUNKS[kind] != k:
        raise ValueError(msg("kind={kind!r} has {chunks} gate block(s), but {name} {recurrent} stacks {k} of hidden "
                             "size {H}", kind=kind, chunks=CHUNKS[kind], name=names[1], recurrent=recurrent, k=k, H=H))
    want = {"gru": (2, 3 * H)}.get(kind, (k * H,))
    if bias is not None and bias != want:
        hint = {"gru": "gru_reset_before", "gru_reset_before": "gru"}.get(kind) if gru else None
        if hint is None:
            raise ValueError(msg("{name} has shape {bias}; a Keras {kind} of {H} units has {want}", name=names[2],
                                 bias=bias, kind=kind, H=H, want=want))
        raise ValueError(msg("{name} has shape {bias}; a Keras {kind} of {H} units has {want} (a reset_after={after} "
                             "GRU: kind={other!r})", name=names[2], bias=bias, kind=kind, H=H, want=want,
                             after=kind == "gru_reset_before", other=hint))
    return kind


def _keras_cell(kind: str, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray | None) -> CellWeights:
    """torch's layout from Keras': transposed, gate blocks reordered, the bias split into b_ih and b_hh."""
    H = recurrent.shape[0]

    def torch_order(a: np.ndarray) -> np.ndarray:  # (…, k·H) Keras blocks -> torch's, along the last axis
        return np.concatenate([a[..., j * H : (j + 1) * H] for j in KERAS_ORDER[kind]], axis=-1)

    w_ih, w_hh = torch_order(kernel).T, torch_order(recurrent).T  # (k·H, I), (k·H, H)
    zeros = np.zeros(w_hh.shape[0], w_hh.dtype)
    if bias is None:
        b_ih, b_hh = zeros, zeros.copy()
    elif bias.ndim == 2:  # reset_after GRU: [input bias; recurrent bias]
        b_ih, b_hh = torch_order(bias)
    else:
        b_ih, b_hh = torch_order(bias), zeros
    return CellWeights(*(np.ascontiguousarray(a) for a in (w_ih, w_hh, b_ih, b_hh)))


def _h5_datasets(f, cap: int) -> dict:
    """name -> h5py.Dataset for every array in the file; links to other files or paths are refused,
    so nothing outside the uploaded bytes is ever opened."""
    import h5py

    out = {}

    def walk(group, path: str) -> None:
        for name in group:
            if not isinstance(group.get(name, getlink=True), h5py.HardLink):
                raise ValueError(msg("{name} is a link to another file or path; rnnscope reads only arrays the file "
                                     "holds", name=path + name))
            obj = group[name]
            if isinstance(obj, h5py.Group):
                walk(obj, f"{path}{name}/")
            elif obj.is_virtual or obj.external:
                raise ValueError(msg("{name} keeps its data in another file; rnnscope reads only arrays the file "
                                     "holds", name=path + name))
            elif obj.dtype.kind in "fiub":
                out[path + name] = obj

    walk(f, "")
    declared = sum(ds.size * ds.dtype.itemsize for ds in out.values())
    if declared > cap:
        raise ValueError(msg("the file's arrays unpack to {size}; rnnscope reads up to {cap}", size=_size(declared),
                             cap=_size(cap)))
    return out


def _keras_modules(names) -> dict[str, list[list[str]]]:
    """The recurrent layers of a Keras weights file: layer path -> for each direction its
    [kernel, recurrent_kernel(, bias)] dataset names (Keras keeps them in <layer>/cell/vars/0, 1, 2)."""
    cells: dict[str, dict[int, str]] = {}
    for n in names:
        m = re.fullmatch(r"(.+)/cell/vars/(\d+)", n)
        if m:
            cells.setdefault(m[1], {})[int(m[2])] = n
    modules: dict[str, list[list[str]]] = {}
    for path, found in sorted(cells.items()):
        parent, _, side = path.rpartition("/")
        both = f"{parent}/forward_layer" in cells and f"{parent}/backward_layer" in cells
        if side in ("forward_layer", "backward_layer") and both:
            modules.setdefault(parent, [[], []])[side == "backward_layer"] = [found[i] for i in sorted(found)]
        else:
            modules[path] = [[found[i] for i in sorted(found)]]
    return modules


def _pick_layer(modules: Mapping[str, list], prefix: str | None, names) -> str:
    """The one recurrent layer of a Keras file, or the one named by prefix."""
    if prefix is not None:
        if prefix.rstrip("/") in modules:
            return prefix.rstrip("/")
        if not modules:
            raise ValueError(msg("no recurrent layer {prefix!r} in the file; it has none", prefix=prefix))
        raise ValueError(msg("no recurrent layer {prefix!r} in the file; it has {layers}", prefix=prefix,
                             layers=", ".join(map(repr, modules))))
    if len(modules) == 1:
        return next(iter(modules))
    if modules:
        raise ValueError(msg("this file holds {n} recurrent layers, {layers}; pick one with prefix=", n=len(modules),
                             layers=", ".join(map(repr, modules))))
    some = ", ".join(list(names)[:5]) or msg("nothing")
    raise ValueError(msg("no recurrent weights: a Keras LSTM, GRU or SimpleRNN keeps them in <layer>/cell/vars/…, "
                         "and this file has none ({some})", some=some))


def _read_h5(datasets: Mapping, names: list[str]) -> list[np.ndarray]:
    try:
        return [datasets[n][()] for n in names]
    except OSError as e:  # a cut-off file fails only when the missing chunk is read
        raise ValueError(_truncated(e)) from None


def _from_keras_file(data: bytes, kind: str | None, prefix: str | None, cap: int) -> Imported:
    try:
        import h5py
    except ImportError:
        raise ValueError(msg("reading a Keras .weights.h5 or .keras file needs h5py, which comes with keras: "
                             "pip install 'rnnscope[keras]'")) from None
    try:
        f = h5py.File(io.BytesIO(data), "r")
    except OSError as e:
        raise ValueError(_truncated(e)) from None
    with f:
        datasets = _h5_datasets(f, cap)
        modules = _keras_modules(datasets)
        path = _pick_layer(modules, prefix, datasets)
        used = [n for direction in modules[path] for n in direction]
        weights = _read_h5(datasets, used)
        rec = _keras_recurrent(weights, kind, len(modules[path]) == 2, used)
        emb_name = _embedding_name(datasets, rec.input_size, used)
        embedding = _embedding(emb_name, _read_h5(datasets, [emb_name])[0]) if emb_name else None
        ignored = tuple(sorted(set(datasets) - set(used) - {emb_name}))
    delta = keras_parity(rec, weights)
    return Imported(rec, embedding, "keras", path, ignored, delta, _report(delta, "keras", rec))


# -- TensorFlow 1 -----------------------------------------------------------------------------


def from_tf1_lstm(kernel: np.ndarray, bias: np.ndarray, forget_bias: float = 1.0) -> Recurrent:
    """TensorFlow 1's BasicLSTMCell (tf.nn.rnn_cell / tf.contrib.rnn), from its two variables.

    TF1 multiplies one kernel (I+H, 4H) with the concatenation [x_t, h_{t−1}]:

        i, j, f, o = split([x_t, h_{t−1}] @ kernel + bias, 4)        bias (4H,)
        c_t = σ(f + forget_bias) ⊙ c_{t−1} + σ(i) ⊙ tanh(j)
        h_t = tanh(c_t) ⊙ σ(o)

    That is torch's LSTM with W_ih = kernel[:I]ᵀ, W_hh = kernel[I:]ᵀ, the blocks i, j, f, o
    reordered to i, f, g, o (j is the candidate g), b_ih = bias and b_hh = 0. TF1 adds
    forget_bias inside the sigmoid at every step instead of storing it; here it is folded
    into b_if once: σ(W_f [x, h] + b_f + forget_bias) = σ(W_f [x, h] + (b_f + forget_bias)),
    exact in real arithmetic (float32 rounds the two sums in another order, about 1e-7).
    Only BasicLSTMCell's tanh: LSTMCell with peepholes or num_proj is another cell.
    """
    arrays = float_arrays({"kernel": kernel, "bias": bias})
    kernel, bias = arrays["kernel"], arrays["bias"]
    if kernel.ndim != 2 or kernel.shape[1] % 4 or kernel.shape[0] <= kernel.shape[1] // 4:
        raise ValueError(f"kernel has shape {kernel.shape}; BasicLSTMCell's is (input_size + H, 4H)")
    H = kernel.shape[1] // 4
    I = kernel.shape[0] - H
    if bias.shape != (4 * H,):
        raise ValueError(f"bias has shape {bias.shape}; a BasicLSTMCell of {H} units has ({4 * H},)")
    order = np.r_[0:H, 2 * H : 3 * H, H : 2 * H, 3 * H : 4 * H]  # i j f o -> i f g o
    b_ih = bias[order]
    b_ih[H : 2 * H] += forget_bias
    w = CellWeights(np.ascontiguousarray(kernel[:I, order].T), np.ascontiguousarray(kernel[I:, order].T),  # (4H, I) (4H, H)
                    b_ih, np.zeros(4 * H, kernel.dtype))
    return Recurrent("lstm", [w], 1, False)


# -- parity -----------------------------------------------------------------------------------


def probe(rec: Recurrent) -> np.ndarray:
    """The fixed input every import is checked on: (PARITY_STEPS, input_size), N(0, 1), seeded."""
    return np.random.default_rng(PARITY_SEED).standard_normal((PARITY_STEPS, rec.input_size)).astype(rec.dtype)


def _max_delta(ours: list[np.ndarray], theirs: list[np.ndarray]) -> float:
    return max(float(np.abs(a - b).max()) for a, b in zip(ours, theirs, strict=True))


def _ours(rec: Recurrent, x: np.ndarray) -> list[np.ndarray]:
    tr = rec.trace(x)
    return [tr.output, tr.h_n] + ([tr.c_n] if tr.c_n is not None else [])


def torch_parity(rec: Recurrent, module) -> float:
    """max |Δ| of output, h_n (and c_n) between rec's trace of `probe(rec)` and the torch
    module's own forward pass on it (batch_first either way)."""
    import torch

    x = probe(rec)
    first = getattr(module, "batch_first", False)
    t = torch.from_numpy(x)[None] if first else torch.from_numpy(x)[:, None]  # (1, T, I) or (T, 1, I)
    with torch.no_grad():
        out, state = module(t.to(next(module.parameters()).dtype))
    h_n, c_n = state if isinstance(state, tuple) else (state, None)
    theirs = [(out[0] if first else out[:, 0]), h_n[:, 0]] + ([c_n[:, 0]] if c_n is not None else [])
    return _max_delta(_ours(rec, x), [a.double().numpy() for a in theirs])


def keras_parity(rec: Recurrent, weights: Sequence[np.ndarray]) -> float:
    """max |Δ| of output, h_n (and c_n) between rec's trace of `probe(rec)` and a Keras layer
    of rec's kind given these get_weights() arrays, called with return_sequences and
    return_state (a Bidirectional layer returns h (and c) forward, then backward)."""
    keras = _keras()
    D = rec.num_directions
    x = probe(rec)
    layer = _keras_layer(keras, rec, use_bias=len(weights) // D == 3)
    layer(x[None])  # builds it
    layer.set_weights([np.asarray(w) for w in weights])
    out = [keras.ops.convert_to_numpy(a) for a in layer(x[None])]
    per = 2 if rec.kind == "lstm" else 1  # states per direction: h, then c for the LSTM
    states = [np.stack([out[1 + d * per + s][0] for d in range(D)]) for s in range(per)]  # (D, H) each
    return _max_delta(_ours(rec, x), [out[0][0], *states])


def _keras_layer(keras, rec: Recurrent, use_bias: bool):
    """A fresh Keras layer that computes rec's kind, returning every step and the final states."""
    kw = dict(return_sequences=True, return_state=True, use_bias=use_bias, dtype=rec.dtype.name)
    if rec.kind == "lstm":
        layer = keras.layers.LSTM(rec.hidden_size, **kw)
    elif rec.kind.startswith("gru"):
        layer = keras.layers.GRU(rec.hidden_size, reset_after=rec.kind == "gru", **kw)
    else:
        layer = keras.layers.SimpleRNN(rec.hidden_size, activation=rec.kind[4:], **kw)
    return keras.layers.Bidirectional(layer) if rec.bidirectional else layer


def _report(delta: float, source: str, rec: Recurrent) -> str:
    names = "output, h_n, c_n" if rec.kind == "lstm" else "output, h_n"
    return msg("max |Δ| vs {source} = {delta:.1e} over {steps} steps ({names})", source=source, delta=delta,
               steps=PARITY_STEPS, names=names)


# -- embeddings -------------------------------------------------------------------------------


def _embedding_name(arrays: Mapping, input_size: int, used) -> str | None:
    """The one 2-D array named like an embedding (torch `*embed*.weight`, Keras `*embed*/vars/0`)
    whose columns equal the input size, or None."""
    found = [n for n, a in arrays.items()
             if n not in used and len(a.shape) == 2 and a.shape[1] == input_size
             and any(fnmatch.fnmatchcase(n.lower(), p) for p in ("*embed*.weight", "*embed*/vars/0"))]
    return found[0] if len(found) == 1 else None


def _embedding(name: str | None, a) -> np.ndarray | None:
    """The embedding as a read-only float (V, input_size) array."""
    return None if name is None else readonly(float_arrays({name: a})[name])
