"""rnnscope's computing core: recurrent cells that record every value they compute.

    import cells
    rec = cells.from_torch(module)   # nn.RNN / nn.LSTM / nn.GRU or a *Cell
    imp = cells.from_file(path)      # your own: safetensors, torch.save(state_dict), Keras .weights.h5
    tr = rec.trace(x)                # x: (T, input_size) -> Trace (see cells/trace.py)

This package never imports streamlit or plotly.
"""

import importlib

from . import attention, padding, tokens
from .gradients import Gradients, LayerGradients, gradcheck, jacobian_norms
from .imports import Imported, from_file, from_keras, from_keras_weights, from_tf1_lstm
from .params import CellWeights
from .recurrent import GATES, KINDS, Recurrent, from_state_dict, from_torch, init_recurrent, value_range
from .trace import LayerTrace, Trace

__all__ = [
    "GATES", "KINDS", "CellWeights", "Gradients", "Imported", "LayerGradients", "LayerTrace", "Recurrent", "Trace",
    "attention", "from_file", "from_keras", "from_keras_weights", "from_state_dict", "from_tf1_lstm", "from_torch",
    "gradcheck", "init_recurrent", "jacobian_norms", "padding", "tokens", "value_range",
    "lab", "list_models", "load_model", "untrained_model",
]

_ZOO = ("list_models", "load_model", "untrained_model")


def __getattr__(name: str):
    # The model zoo and the lab pull in torch, checkpoints and data code; import them only when asked for.
    if name == "lab":
        return importlib.import_module(".lab", __name__)
    if name in _ZOO:
        from . import zoo

        return getattr(zoo, name)
    raise AttributeError(f"module 'cells' has no attribute {name!r}")
