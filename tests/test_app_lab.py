"""The training lab page in AppTest: start, watch, pause, resume, stop and reset a run; what
it draws is the job's history; bad settings get a message and start nothing."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from cells import lab
from viz_app import jobs, testing

ok, said = testing.assert_no_errors, testing.said


BEFORE: set[str] = set()  # sessions with a job before the test's page opened


def session_of(at) -> str | None:
    """The page's session, once it has a job (AppTest runs every script run in one session)."""
    (sid,) = [s for s in jobs.sessions() if s not in BEFORE] or [None]
    return sid


@pytest.fixture
def lab_page():
    BEFORE.clear()
    BEFORE.update(jobs.sessions())
    at = testing.app_test(view="lab")
    ok(at)
    yield at
    for sid in set(jobs.sessions()) - BEFORE:
        jobs.reset(sid)


def labels(at) -> list[str]:
    """The run's controls (not the button that opens its models in the other views)."""
    return [b.label for b in at.button if b.key != "lab_open"]


def start(at, **widgets):
    for key, value in widgets.items():
        at.session_state[key] = value
    at.run()
    at.button(key="FormSubmitter:lab-Start").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return jobs.get(session_of(at) or "")


def until(cond, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_a_run_trains_the_three_cells_and_the_page_draws_its_history(lab_page):
    at = lab_page
    assert labels(at) == ["Start"] and "one run per tab" in at.caption[-1].value
    job = start(at, lab_task="adding", lab_steps_adding=40, lab_H_adding=8)
    ok(at)
    # Its process imports torch before it sends a record: until then the page says so, and can stop it.
    assert at.get("progress")[0].proto.text == "Starting…" and labels(at) == ["Start", "Stop", "Reset"]
    assert job is not None and [s.kind for s in job.view().settings] == ["rnn", "lstm", "gru"]
    assert job.view().settings[0].T == 50 and job.view().settings[0].clip == 1.0
    until(lambda: job.state == "done")
    at.run()
    ok(at)
    (bar,) = at.get("progress")
    assert bar.proto.text.startswith("Done: step 40 of 40")
    loss, grad, layers = (c.proto.spec for c in at.get("plotly_chart")[:3])  # then "Inside the models"
    p = job.view()
    loss = json.loads(loss)
    training = [t for t in loss["data"] if t["name"].endswith("training")]
    assert [t["name"] for t in training] == ["RNN training", "LSTM training", "GRU training"]
    for t, h in zip(training, p.histories):
        np.testing.assert_array_equal(testing.plotly_array(t["y"]), [r["loss"] for r in h])
    # Redrawn every 2 s per tab: without plotly's default template (7 kB, replaced by Streamlit's theme)
    assert len(json.dumps(loss["layout"]["template"])) < 100
    table = at.dataframe[0].value
    assert list(table["cell"]) == ["RNN", "LSTM", "GRU"] and list(table["step"]) == [40] * 3
    assert labels(at) == ["Start", "Reset"]  # nothing to pause or stop once done


def test_pause_resume_stop_and_reset(lab_page):
    at = lab_page
    job = start(at, lab_task="copy", lab_steps_copy=20_000, lab_H_copy=8)
    until(lambda: job.view().steps_done > 2)
    at.run()
    assert labels(at) == ["Start", "Pause", "Stop", "Reset"]
    at.button(key="lab_pause").click().run()
    ok(at)
    assert job.state == "paused" and labels(at) == ["Start", "Resume", "Stop", "Reset"]
    assert at.get("progress")[0].proto.text.startswith("Paused: step")
    at.button(key="lab_resume").click().run()
    assert job.state == "running"
    at.button(key="lab_stop").click().run()
    ok(at)
    assert job.state == "stopped" and labels(at) == ["Start", "Reset"]
    assert at.get("progress")[0].proto.text.startswith("Stopped: step")
    at.button(key="lab_reset").click().run()
    ok(at)
    assert jobs.get(session_of(at) or "") is None and not at.get("progress") and labels(at) == ["Start"]


@pytest.mark.parametrize("widgets, message", [
    ({"lab_lr_adding": 0.0}, "lr must be between 1e-06 and 10, got 0.0"),
    ({"lab_lr_adding": 50.0}, "lr must be between 1e-06 and 10, got 50.0"),
    ({"lab_on_rnn": False, "lab_on_lstm": False, "lab_on_gru": False}, "choose at least one cell"),
])
def test_bad_settings_get_a_message_and_start_nothing(lab_page, widgets, message):
    at = lab_page
    job = start(at, lab_task="adding", **widgets)
    assert job is None and any(message in m for m in said(at, ("error",))), said(at)
    assert not at.get("progress")


def test_start_twice_says_one_run_per_tab(lab_page):
    at = lab_page
    job = start(at, lab_task="copy", lab_steps_copy=20_000, lab_H_copy=8)
    at.button(key="FormSubmitter:lab-Start").click().run()
    assert any("already going in this tab" in m for m in said(at, ("error",)))
    assert jobs.get(session_of(at)) is job and job.training


def test_the_lyrics_run_shows_perplexity_and_a_continuation_of_fen_kai(lab_page):
    at = lab_page
    job = start(at, lab_task="jaychou", lab_steps_jaychou=4, lab_H_jaychou=16, lab_on_rnn=False, lab_on_lstm=False)
    until(lambda: job.state == "done")
    at.run()
    ok(at)
    table = at.dataframe[0].value
    assert list(table["cell"]) == ["GRU"] and table["perplexity"][0] > 1
    (sample,) = [t.value for t in at.text if t.value.startswith("GRU, step 4: 分开")]
    assert sample == "GRU, step 4: " + job.view().samples[0][4]


def test_the_lab_shows_no_text_box_and_keeps_the_other_views_task_and_text():
    at = testing.app_test(view="lab", task="trec", text="who is it ?")
    ok(at)
    assert not at.text_input and [s.label for s in at.selectbox] == ["Lab task", "Optimiser"]
    at.run()
    assert at.session_state["task"] == "trec" and at.session_state["text"] == "who is it ?"
    assert at.query_params["task"] == "trec" and at.query_params["text"] == "who is it ?"


def test_a_diverging_run_says_so_and_keeps_its_last_finite_snapshot(lab_page):
    at = lab_page
    job = start(at, lab_task="sine_cosine", lab_opt="sgd", lab_lr_sine_cosine=10.0, lab_init=10.0, lab_clip=0.0,
                lab_on_lstm=False, lab_on_gru=False, lab_steps_sine_cosine=500)
    until(lambda: job.state == "done")
    at.run()
    assert not at.exception and not at.error  # a diverged run is a warning
    (note,) = [m for m in said(at, ("warning",)) if m.startswith("RNN: diverged at step")]
    assert "the model is the last finite snapshot" in note
    assert job.view().settings[0].clip is None  # 0 = off
    assert at.get("progress")[0].proto.text.startswith("Done: step")


@pytest.mark.parametrize("widgets", [
    {"lab_H_adding": 256, "lab_layers": 3, "lab_T_adding": 200, "lab_batch": 256},
])
def test_settings_at_the_caps_run(lab_page, widgets):
    at = lab_page
    job = start(at, lab_task="adding", lab_steps_adding=2, lab_on_rnn=False, lab_on_lstm=False, **widgets)
    ok(at)
    until(lambda: job.state == "done", timeout=120)
    s = job.view().settings[0]
    assert (s.hidden_size, s.num_layers, s.T, s.batch_size) == (256, 3, 200, 256)


def test_a_finished_run_opens_a_checkpoint_of_each_cell_on_an_example(lab_page):
    at = lab_page
    job = start(at, lab_task="sine_cosine", lab_steps_sine_cosine=30, lab_H_sine_cosine=8)
    until(lambda: job.state == "done")
    at.run()
    ok(at)
    assert at.select_slider(key="lab_in_step_0").options == [str(s) for s in (0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30)]
    at.radio(key="lab_in_cell").set_value("LSTM").run()
    at.select_slider(key="lab_in_step_1").set_value(3).run()
    ok(at)
    model = job.model(1, 3)
    x, y, mask, labels = lab.example(model.settings, 0)
    r = lab.readout(model, x, y, mask)
    assert any(m.value == f"**LSTM at step 3** on held-out example 0: loss {r['loss']:.4f}" for m in at.markdown)
    heat = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert [t["name"] for t in heat["data"]] == ["h", "c", "i", "f", "g", "o"]
    out = json.loads(at.get("plotly_chart")[-2].proto.spec)
    np.testing.assert_allclose(testing.plotly_array(out["data"][1]["y"]), r["output"], rtol=1e-6)
