"""Training lab: train an RNN, an LSTM and a GRU side by side on a small task and watch them learn.

The controls set one run (cells.lab.Settings, the same for the three cells); Start hands
it to a background job (viz_app/jobs.py), one per tab. A fragment redraws the progress
every `REDRAW` seconds while the job trains: the loss curves, the gradient norm before and after
clipping, per-layer gradient norms, steps per second and time left, and for the lyrics
the held-out perplexity and each model's latest continuation of "分开". The lab has its
own tasks: the page shows neither the other views' task nor their text box.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import streamlit as st
from .. import checks, sessions, sources, state
from ..charts import heatmaps
from ..charts import lab as charts
from ..i18n import N_, _, _n, engine
from ..tasks import KINDS
from .common import Selection

if TYPE_CHECKING:
    from cells import lab

    from .. import jobs

# cells.lab and jobs import torch (1.2 s): the functions below import them when the lab is
# opened, so that the app starts without it.

TITLE, URL_PATH, ICON = N_("Training lab"), "lab", ":material/model_training:"
READS_TASK = READS_TEXT = False  # the app draws neither the sidebar's task nor the text box here
NAMES = {k: k.upper() for k in KINDS}  # "rnn" -> "RNN", as every view labels its columns
LENGTHS = {  # the slider of each task's T: (label, lowest, highest)
    "sine_cosine": (N_("Window (steps)"), 10, 200),
    "adding": (N_("Sequence length T"), 10, 200),
    "copy": (N_("Delay before repeating (steps)"), 1, 100),
    "jaychou": (N_("Window (characters)"), 5, 100),
}
DEFAULTS = {  # per task, settings under which the cells that can learn it do so within 90 s (bench_lab.py)
    "sine_cosine": {"lr": 1e-2, "hidden_size": 32, "steps": 500, "batch_size": 32},
    "adding": {"lr": 3e-3, "hidden_size": 64, "steps": 3000, "batch_size": 32},
    "copy": {"lr": 3e-3, "hidden_size": 64, "steps": 3000, "batch_size": 32},
    "jaychou": {"lr": 3e-3, "hidden_size": 128, "steps": 2000, "batch_size": 32},
}
TASK_NAMES = {"sine_cosine": N_("sine → cosine"), "adding": N_("adding problem"), "copy": N_("copy after a delay"),
              "jaychou": N_("Jay Chou's lyrics")}
SUMMARIES = (  # cells.lab.TASKS' one-sentence summaries (cells/ stays English), marked here for the catalogue
    N_("Read sin(t) over a window and output cos(t) at every step."),
    N_("Read T (value, marker) pairs and output the sum of the two marked values."),
    N_("Remember 5 symbols out of 8, wait T steps, then repeat them."),
    N_("Predict each next character of Jay Chou's lyrics."),
)
BATCHING = {"random": N_("random"), "consecutive": N_("consecutive")}
REDRAW = 2.0  # seconds between redraws while training: each costs the server tens of ms of Python per tab
STATES = {"starting": N_("Starting…"), "running": N_("Training"), "paused": N_("Paused"), "done": N_("Done"),
          "stopped": N_("Stopped"), "failed": N_("Failed"), "closed": N_("Ended (the tab was closed)")}


def render(sel: Selection) -> None:
    from cells import lab

    from .. import jobs

    session = sessions.current()
    notes = st.container()
    # The task outside the form: changing it redraws the form with that task's sizes and defaults.
    top = st.columns([1, 3])
    task = top[0].selectbox(_("Lab task"), list(lab.TASKS), format_func=lambda t: _(TASK_NAMES[t]), key="lab_task")
    top[1].caption(_(lab.TASKS[task].summary))
    with st.form("lab"):
        settings = controls(task)
        started = st.form_submit_button(_("Start"), icon=":material/play_arrow:", type="primary")
    if started:
        try:
            jobs.start(session, settings)
        except lab.LabError as e:
            with notes:
                checks.show([checks.error(_("The lab cannot start this run: {reason}", reason=engine(e)))])
    job = jobs.get(session)
    cols = st.columns([1, 1, 1, 4])
    if job is not None:  # callbacks: the state changes before the page is drawn
        if job.state == "running":
            cols[0].button(_("Pause"), icon=":material/pause:", key="lab_pause", on_click=job.pause)
        elif job.state == "paused":
            cols[0].button(_("Resume"), icon=":material/play_arrow:", key="lab_resume", on_click=job.resume)
        if job.training:
            cols[1].button(_("Stop"), icon=":material/stop:", key="lab_stop", on_click=job.stop)
        cols[2].button(_("Reset"), key="lab_reset", on_click=jobs.reset, args=(session,),
                       help=_("Stop the run and clear its charts"))
    caps = _("Caps: hidden size ≤ {hidden}, layers ≤ {layers}, T ≤ {T}, batch ≤ {batch}, steps ≤ {steps:,}; one run "
             "per tab, on one CPU thread.", hidden=lab.LIMITS["hidden_size"][1], layers=lab.LIMITS["num_layers"][1],
             T=lab.LIMITS["T"][1], batch=lab.LIMITS["batch_size"][1], steps=lab.LIMITS["steps"][1])
    cols[3].caption(f"{caps} {training_now()}")
    if job is not None:
        live(job)
        if not job.training:
            inside(job)


def training_now() -> str:
    from .. import jobs

    n = jobs.count()[0]
    return _("No run is training on this server now.") if n == 0 else \
        _n("{n} run training on this server now.", "{n} runs training on this server now.", n)


def controls(task: str) -> list[lab.Settings]:
    """The form's widgets for `task`; one Settings per chosen cell."""
    from cells import lab

    a, b, c, d = st.columns(4)
    label, lo, hi = LENGTHS[task]
    T = a.slider(_(label), lo, hi, min(max(lab.TASKS[task].T, lo), hi), key=f"lab_T_{task}")
    kinds = [k for k in KINDS if b.checkbox(NAMES[k], True, key=f"lab_on_{k}")]
    d_ = DEFAULTS[task]
    hidden = b.number_input(_("Hidden size"), 1, lab.LIMITS["hidden_size"][1], d_["hidden_size"], key=f"lab_H_{task}")
    layers = b.number_input(_("Layers"), 1, lab.LIMITS["num_layers"][1], 1, key="lab_layers")
    optimizer = c.selectbox(_("Optimiser"), ["adam", "sgd"], format_func=str.capitalize, key="lab_opt")
    lr = c.number_input(_("Learning rate"), 0.0, 100.0, d_["lr"], format="%g", step=1e-3, key=f"lab_lr_{task}")
    batch = c.number_input(_("Batch size"), 1, lab.LIMITS["batch_size"][1], d_["batch_size"], key="lab_batch")
    steps = c.number_input(_("Steps"), 1, lab.LIMITS["steps"][1], d_["steps"], step=100, key=f"lab_steps_{task}")
    clip = d.number_input(_("Clip the gradient norm at (0 = off)"), 0.0, 1e6, 1.0, step=0.5, key="lab_clip")
    init_scale = d.number_input(_("Init scale"), 0.01, 10.0, 1.0, step=0.1, key="lab_init",
                                help=_("Multiplies torch's initial weights of the cells: small vanishes, large "
                                       "explodes"))
    forget_bias = d.number_input(_("Forget bias (LSTM only)"), -5.0, 5.0, 0.0, step=0.5, key="lab_fb")
    seed = d.number_input(_("Seed"), 0, 10_000, 0, key="lab_seed")
    batching = "random"
    if task == "jaychou":
        batching = a.radio(_("Batches"), list(BATCHING), format_func=lambda b: _(BATCHING[b]), horizontal=True,
                           key="lab_batching",
                           help=_("random windows, or consecutive ones that carry the state over (stateful)"))
    return [lab.Settings(task=task, kind=k, T=int(T), hidden_size=int(hidden), num_layers=int(layers),
                         optimizer=optimizer, lr=float(lr), batch_size=int(batch), steps=int(steps),
                         clip=float(clip) or None, init_scale=float(init_scale),
                         forget_bias=float(forget_bias) if k == "lstm" else 0.0, seed=int(seed), batching=batching)
            for k in kinds]


def live(job: jobs.Job) -> None:
    """The job's progress, redrawn every REDRAW seconds while it trains."""
    training, shown = job.training, job.state

    @st.fragment(run_every=REDRAW if training else None)
    def progress() -> None:
        if job.state != shown:
            st.rerun()  # it started or ended: redraw the page once, with the buttons (and timer) of its state
        draw(job.view(), job)

    progress()


def draw(p: jobs.Progress, job: jobs.Job) -> None:
    if p.steps_done == 0:  # nothing to chart yet: the run's process is starting (it imports torch)
        st.progress(0.0, text=_(STATES[p.state]))
        checks.show([checks.error(_("The run failed: {reason}", reason=p.error))] if p.error else [])
        return
    s0 = p.settings[0]
    names = [NAMES[s.kind] for s in p.settings]
    done, total = p.steps_done, p.steps_total
    rate = done / p.seconds if p.seconds > 0 else 0.0
    said = {"state": _(STATES[p.state]), "done": done, "total": total, "rate": rate}
    if rate and p.state == "running":
        text = _("{state}: step {done:,} of {total:,} · {rate:.0f} steps/s · about {left} s left",
                 left=math.ceil((total - done) / rate), **said)
    else:
        text = _("{state}: step {done:,} of {total:,} · {rate:.0f} steps/s", **said)
    st.progress(min(done / total, 1.0), text=text)
    messages = [checks.warning(_("{name}: {reason}", name=n, reason=engine(note)))
                for n, note in zip(names, p.notes) if note.startswith("diverged")]
    if p.error:
        messages.append(checks.error(_("The run failed: {reason}", reason=p.error)))
    checks.show(messages)

    histories = dict(zip(names, p.histories))
    lm = s0.task == "jaychou"
    log = st.toggle(_("Log scale"), True, key="lab_log")
    st.markdown(_("**Loss** (thin: each training batch; thick dashed: the same held-out batch, in nats per character)")
                if lm else _("**Loss** (thin: each training batch; thick dashed: the same held-out batch)"))
    chart(charts.loss_curves(histories, dict(zip(names, p.evals)), log=log), "lab_loss")
    left_col, right_col = st.columns(2)
    with left_col:
        st.markdown(_("**Gradient norm**, before clipping (solid) and after (dotted)"))
        chart(charts.gradient_norms(histories, s0.clip), "lab_grad")
    with right_col:
        st.markdown(_("**Gradient norm per layer**, before clipping"))
        chart(charts.layer_norms(histories), "lab_layers_chart")
    columns = (_("cell"), _("step"), _("held-out loss"), _("perplexity"))
    rows = [dict(zip(columns, (n, e[-1][0], e[-1][1]) + ((math.exp(min(e[-1][1], 700.0)),) if lm else ())))
            for n, e in zip(names, p.evals) if e]
    st.dataframe(rows, hide_index=True, width="content")
    if lm:
        for n, samples in zip(names, p.samples):
            if samples:
                step = max(samples)
                st.text(_("{model}, step {step}: {sample}", model=n, step=step, sample=samples[step]))
    downloads(p, names, job)


def chart(spec: dict, key: str) -> None:
    """st.plotly_chart with an empty template. Streamlit's theme writes its own layout into
    the template in the browser; plotly.py would first copy its default one (7 kB) into every
    redraw and send it, a quarter of what a redraw of these charts costs the server."""
    st.plotly_chart({**spec, "layout": {**spec["layout"], "template": {}}}, key=key)


def downloads(p: jobs.Progress, names: list[str], job: jobs.Job) -> None:
    from cells import lab

    runs = {n: lab.Run(s, h, e, samples=sm, note=note)
            for n, s, h, e, sm, note in zip(names, p.settings, p.histories, p.evals, p.samples, p.notes)}
    stem = f"rnnscope-lab-{p.settings[0].task}"
    with st.expander(_("Download the runs (JSON, CSV) and the models (safetensors + JSON)")):
        c1, c2 = st.columns(2)
        c1.download_button("JSON", lambda: lab.history_json(runs), f"{stem}.json", "application/json",
                           key="lab_dl_json", on_click="ignore")
        c2.download_button("CSV", lambda: lab.history_csv({n: r.history for n, r in runs.items()}), f"{stem}.csv",
                           "text/csv", key="lab_dl_csv", on_click="ignore")
        st.caption(_("JSON: each cell's settings, every step's record, the held-out losses, samples and note. "
                     "CSV: one row per cell and step, with the loss, the gradient norm before and after clipping "
                     "and each layer's. Each chart's camera icon saves it as PNG."))
        cols = st.columns(len(names))
        for i, (n, s, col) in enumerate(zip(names, p.settings, cols)):
            model = job.model(i)  # its latest snapshot: the model so far, or the last finite one
            name = f"{stem}-{s.kind}"
            col.download_button(_("{model} weights", model=n), lambda m=model: lab.files(m)[1],
                                f"{name}.safetensors", "application/octet-stream", key=f"lab_dl_w_{s.kind}",
                                on_click="ignore")
            col.download_button(_("{model} sidecar", model=n), lambda m=model: lab.files(m)[0], f"{name}.json",
                                "application/json", key=f"lab_dl_s_{s.kind}", on_click="ignore")
        st.caption(_("Each model as of its latest snapshot (every tenth of the run, and where it stopped). Put a "
                     "model's two files in one folder and read them with `cells.load_model(\"{name}\")`: its "
                     "`.recurrent` traces and backpropagates, its `.predict(x)` runs it.", name=stem + "-lstm"))


def shelf(job: jobs.Job, step: int, x, labels: list[str]):
    """Each cell of the run at its snapshot nearest before `step`, for the other views, with
    the parity of their numpy reading against torch's on the example x."""
    import numpy as np

    from cells import own, sequences, zoo

    from ..yours import Shelf

    p, models, worst = job.view(), [], 0.0
    for i, s in enumerate(p.settings):
        at = max((k for k in p.snapshot_steps[i] if k <= step), default=p.snapshot_steps[i][0])
        lm = job.model(i, at)
        m = own.from_lab(lm, f"lab-{s.task}-{s.kind}-step{at}")
        text = "".join("□" if c == "<unk>" else c for c in labels) if lm.vocab is not None else sequences.write(x)
        a, want = m.analyze(text), lm.predict(x)  # ours (numpy) and torch's
        got = a.next_token_probs if lm.vocab is not None else a.outputs
        want = zoo.softmax(want) if lm.vocab is not None else want
        if len(got) == len(want):  # adding's torch read-out is the last step's only
            worst = max(worst, float(np.abs(got - want).max()))
        else:
            worst = max(worst, float(np.abs(got[-1:] - want).max()))
        models.append(m)
    report = _("max |Δ| vs torch = {worst:.1e} on the example (outputs)", worst=worst)
    return Shelf(tuple(models), _("the lab's {task} run at step {step:,}", task=_(TASK_NAMES[p.settings[0].task]),
                                  step=step), report, text)


def inside(job: jobs.Job) -> None:
    """A finished run's snapshots: one cell at a chosen checkpoint reading one held-out example."""
    from cells import lab

    p = job.view()
    if not all(p.snapshot_steps):  # it ended before its first snapshot
        return
    names = [NAMES[s.kind] for s in p.settings]
    st.subheader(_("Inside the models"))
    c = st.columns([1.2, 3, 1])
    name = c[0].radio(_("Cell"), names, horizontal=True, key="lab_in_cell")
    i = names.index(name)
    steps = p.snapshot_steps[i]
    step = c[1].select_slider(_("Checkpoint (training step)"), steps, value=steps[-1], key=f"lab_in_step_{i}",
                              help=_("Snapshots every tenth of the run: drag to see the same input read before, "
                                     "during and after training"))
    seed = c[2].number_input(_("Example"), 0, 1000, 0, key="lab_in_example")
    model = job.model(i, step)
    x, y, mask, labels = lab.example(model.settings, int(seed))
    if st.button(_("Open the models at this checkpoint in Compare, Cell and Gradients"), key="lab_open",
                 icon=":material/open_in_new:", help=_("As \"Your model\": for this tab only, on this example input")):
        sources.show(shelf(job, step, x, labels))
        st.switch_page(state.PAGES["compare"])
    r = lab.readout(model, x, y, mask)
    st.markdown(_("**{model} at step {step:,}** on held-out example {example}: loss {loss:.4f}", model=name, step=step,
                  example=int(seed), loss=r["loss"]))
    if model.settings.task == "sine_cosine":
        st.plotly_chart(charts.example_outputs(r["output"], r["target"]), key="lab_in_out")
    else:
        st.text(_("answer: {output}\ntarget: {target}", output=r["output"], target=r["target"]))
    st.plotly_chart(heatmaps.state_heatmaps(model.trace(x), labels, step=len(labels) - 1), key="lab_in_heat")
    st.caption(_("Every state and gate of the last layer over the example's steps (x), unit by unit (y), on the "
                 "shared scales; the box marks the last step."))
