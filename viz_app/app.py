"""rnnscope's entry: `streamlit run viz_app/app.py` or `rnnscope`. Routing, the sidebar, the URL.

Each view is a module in viz_app/views with `render(sel)`, TITLE, URL_PATH and ICON;
add a view by adding it to VIEWS. Streamlit's navigation gives each view its own path
(/cell, /attention, …); old links with `?view=cell` still open the right one. Imports
are absolute (`viz_app.…`) so this file runs from any working directory once the
package is installed.
"""

from __future__ import annotations

import streamlit as st

from viz_app.component.mount import preload

st.set_page_config(page_title="rnnscope", page_icon="🔁", layout="wide",  # a projector starts without the sidebar
                   initial_sidebar_state="collapsed" if st.query_params.get("present") == "1" else "auto")
with st.sidebar:
    preload()  # plotly.js (1.5 MB) loads in the browser while the views import and compute below

from viz_app import cache, checks, i18n, present, sources, state  # noqa: E402  (after the preload, on purpose: these imports take 0.2 s)
from viz_app.i18n import _  # noqa: E402
from viz_app.tasks import SINE, TASKS, UNTRAINED, YOURS, UntrainedConfig  # noqa: E402
from viz_app.views import attention, cell, compare, gradients, lab, language_model, padding, seq2seq, shapes  # noqa: E402
from viz_app.views.common import Selection  # noqa: E402

VIEWS = (compare, cell, attention, language_model, gradients, padding, seq2seq, shapes, lab)  # Compare is the landing view


def task_picker() -> tuple[str, UntrainedConfig]:
    """The task, and for the untrained cells their sliders' settings."""
    st.session_state.setdefault("_task_prev", st.session_state["task"])
    task = st.sidebar.selectbox(_("Task"), list(TASKS), format_func=lambda k: _(TASKS[k].label), key="task",
                                on_change=_task_changed, persist_state="session")
    cfg = UntrainedConfig()
    if task == UNTRAINED:
        cfg = UntrainedConfig(
            hidden_size=st.sidebar.slider(_("Hidden size"), 4, 128, cfg.hidden_size, step=4),
            init_scale=st.sidebar.slider(_("Init scale"), 0.1, 5.0, cfg.init_scale, step=0.1),
            forget_bias=st.sidebar.slider(_("Forget bias (LSTM only)"), -3.0, 3.0, cfg.forget_bias, step=0.5),
            seed=st.sidebar.number_input(_("Seed"), 0, 10_000, cfg.seed),
        )
    if task == YOURS:
        sources.open_model_panel()
    if (size := numbers_read(task)) is not None:
        sources.numbers_panel(size)
    return task, cfg


def numbers_read(task: str) -> int | None:
    """How many numbers per step the task's models read, or None if they read text."""
    if task == SINE:
        return 1
    shelf = cache.shelf() if task == YOURS else None
    return shelf.models[0].input_size if shelf is not None and shelf.models[0].level == "numeric" else None


def _task_changed() -> None:
    # A fresh task gets its own example unless the user has typed their own text.
    ss = st.session_state
    old = ss.get("_task_prev", ss["task"])
    if ss["text"].strip() in ("", cache.example(old)):
        ss["text"] = cache.example(ss["task"])
    ss["_task_prev"] = ss["task"]


def selection(view) -> Selection:
    """The sidebar's task and the text box, for the views that read them (a view says
    otherwise with READS_TASK / READS_TEXT = False); both keep their values for the session
    while a view without them (the lab; the Padding view has its own text) is open."""
    ss = st.session_state
    if not getattr(view, "READS_TASK", True):
        return Selection(ss["task"], UntrainedConfig(), ss["text"])
    task, cfg = task_picker()
    if not getattr(view, "READS_TEXT", True):
        return Selection(task, cfg, ss["text"])
    label = _("Text (press Enter to read it)") if numbers_read(task) is None else \
        _("Numbers: the steps separated by commas (by ; when a step has several numbers); press Enter to read them")
    return Selection(task, cfg, st.text_input(label, key="text", persist_state="session"))


def language_switch() -> None:
    """中文 / English at the top of the sidebar (also ?lang=zh|en); a link's unknown language is said once."""
    st.sidebar.segmented_control("语言 / Language", list(i18n.LANGS), format_func=i18n.LANGS.get, key="lang",
                                 persist_state="session", required=True)
    if (bad := st.session_state.pop("_lang_refused", None)) is not None:
        shown = i18n.LANGS[st.session_state["lang"]]
        checks.show([checks.info(f"语言 “{bad}” 不可用，显示{shown}。 / "
                                 f"The link's language \"{bad}\" is not available: showing {shown}.")])


old_view = state.load()
cache.watch_idle()  # once per process: the texts' computations are forgotten once no tab is open
language_switch()
chosen: dict[str, Selection] = {}  # filled once the page is known, before it runs
pages = {v.URL_PATH: st.Page(lambda v=v: v.render(chosen["sel"]), title=_(v.TITLE), icon=v.ICON, url_path=v.URL_PATH,
                             default=v is VIEWS[0]) for v in VIEWS}
page = st.navigation(list(pages.values()), position="top")
state.PAGES.update(pages)  # for views that send the user to another view (the lab's "open in Compare")
if old_view in pages and pages[old_view] is not page:
    st.switch_page(pages[old_view])
chosen["sel"] = selection(next(v for v in VIEWS if pages[v.URL_PATH] is page))
present.controls()
page.run()
present.share(state.query())
state.save()
