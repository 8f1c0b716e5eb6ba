"""rnnscope's entry: `streamlit run viz_app/app.py` or `rnnscope`. Routing only.

Each view is a module in viz_app/views with `render(sel)`; add a view by adding it to
VIEWS. Imports are absolute (`viz_app.…`) so this file runs from any working directory
once the package is installed.
"""

from __future__ import annotations

import streamlit as st

from viz_app import controls, state
from viz_app.views import attention, cell, compare, language_model
from viz_app.views.common import Selection

VIEWS = {"compare": ("Compare", compare.render), "cell": ("Cell", cell.render),
         "attention": ("Attention", attention.render), "language_model": ("Language model", language_model.render)}

st.set_page_config(page_title="rnnscope", page_icon="🔁", layout="wide")
state.load_query_params(tuple(VIEWS))
view = controls.view_picker({k: label for k, (label, _) in VIEWS.items()})
task, cfg = controls.task_picker()
st.title("rnnscope")
text = controls.text_box()
VIEWS[view][1](Selection(task, cfg, text))
state.save_query_params()
