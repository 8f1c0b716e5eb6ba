"""AppTest of the app: routing, every view on the one component, the URL, and the defects fixed.

AppTest cannot run the component's JavaScript, so these tests read the data the
component receives (`testing.component_data`) and simulate the step it reports back
(`testing.report_step`). tests/test_browser*.py drive the same pages in Chromium.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import streamlit as st

import cells
from cells import zoo
from viz_app import cache, sources, testing
from viz_app.tasks import KINDS, TASKS, YOURS, UntrainedConfig
from viz_app.testing import assert_no_errors as ok
from viz_app.testing import component_data, component_payload, report_step

run = testing.app_test
VIEWS = {"compare": "sst2", "cell": "sst2", "attention": "trec", "language_model": "shakespeare", "gradients": "trec"}


def heatmap_rows(panel: dict) -> dict[str, np.ndarray]:
    """A heatmap panel's quantities as (T', H) arrays, by name."""
    out = {}
    for row, tr in zip(panel["rows"], panel["fig"]["data"]):
        z = tr["z"]
        H, T = map(int, z["shape"].split(","))
        out[row["name"]] = np.frombuffer(base64.b64decode(z["bdata"]), np.float32).reshape(H, T).T
    return out


def panels(doc: dict, col: int, kind: str) -> list[dict]:
    return [p for p in doc["columns"][col]["panels"] if p["type"] == kind]


def test_compare_draws_each_models_trace_on_fixed_scales():
    at = run(task="trec")
    ok(at)
    doc = component_payload(at)
    text = TASKS["trec"].example
    assert doc["view"] == "compare" and [c["title"] for c in doc["columns"]] == ["RNN", "LSTM", "GRU"]
    for c, kind in enumerate(KINDS):
        a = cache.analyze("trec", kind, UntrainedConfig(), text)
        assert doc["T"] == a.trace.T == len(doc["tokens"])
        (heat,) = panels(doc, c, "heatmap")
        rows = heatmap_rows(heat)
        lt = a.trace.layer(-1, 0)
        np.testing.assert_allclose(rows["h"], lt.h, rtol=1e-6)
        for g, values in lt.gates.items():
            np.testing.assert_allclose(rows[g], values, rtol=1e-6)
        layout = heat["fig"]["layout"]
        scales = {r["name"]: (layout[t["coloraxis"]]["cmin"], layout[t["coloraxis"]]["cmax"])
                  for r, t in zip(heat["rows"], heat["fig"]["data"])}
        assert scales["h"] == (-1, 1) and all(scales[g] == ((0, 1) if g in "ifozr" else (-1, 1)) for g in lt.gates)
        for name, arr in rows.items():  # every unit order is a permutation of the units
            for by, perm in heat["orders"][name].items():
                assert sorted(perm) == list(range(arr.shape[1])), (name, by)
        (bars,) = panels(doc, c, "bars")
        np.testing.assert_allclose(bars["values"][-1], a.probs, atol=1e-4)


def test_classifier_outputs_follow_the_step_in_a_patch_of_their_own():
    """The columns come first; per-prefix probabilities follow as a small patch, not a new payload."""
    at = run(task="trec", text="who wrote hamlet ?")
    ok(at)
    main, update = component_data(at, 0), component_data(at, 1)
    assert update["update_for"] == main["key"] and len(update["patches"]) == 3
    for patch, kind in zip(update["patches"], KINDS):
        m = cache.model("trec", kind)
        want = [m.analyze(p).probs for p in ("who", "who wrote", "who wrote hamlet", "who wrote hamlet ?")]
        assert patch["panel"] == 0 and patch["set"]["title"] == "class probabilities if the text ended at t"
        np.testing.assert_allclose(patch["set"]["values"], want, atol=1e-4)
    assert len(str(update)) < len(main["payload"]) / 20


def test_a_reported_step_moves_state_and_url_and_never_resends_the_payload():
    at = run(task="sst2")
    ok(at)
    before = component_data(at)
    assert before["start"] == 0
    report_step(at, 4)
    ok(at)
    assert at.session_state["t"] == 4 and at.query_params["step"] in ("4", ["4"])
    assert component_data(at) == before  # identical data: Streamlit sends a hash reference, not the payload
    at.run()  # a later full run starts the component where the browser left it
    assert component_data(at)["start"] == 4 and component_data(at)["key"] == before["key"]


def test_a_new_text_starts_at_the_step_the_page_was_on_though_its_report_had_no_run():
    """A sentence typed right after a step: its full run overtakes the report's fragment run,
    and brings the reported step with the page's widget states."""
    at = run(task="sst2")
    key = component_data(at)["key"]
    at.session_state["scope"] = {"step": [key, 3]}
    at.text_input[0].set_value("the film was a long and quiet joy from start to end").run()
    ok(at)
    assert component_data(at)["key"] != key and component_data(at)["start"] == 3 and at.session_state["t"] == 3


def test_a_stale_report_for_another_text_is_ignored():
    at = run(task="sst2")
    at.session_state["scope"] = {"step": ["some-older-text", 7]}
    at.run()
    ok(at)
    assert at.session_state["t"] == 0


@pytest.mark.parametrize("view, task", VIEWS.items())
def test_every_view_runs_on_the_one_component_and_offers_downloads(view, task):
    at = run(view=view, task=task)
    ok(at)
    data = component_data(at)
    doc = component_payload(at)
    assert doc["view"] == view and doc["v"] == 1 and data["start"] == 0
    assert {p["type"] for c in doc["columns"] for p in c["panels"]} <= {"text", "bars", "formula", "plotly", "heatmap"}
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["JSON", "NPZ", "CSV"], labels


@pytest.mark.parametrize("view, task", VIEWS.items())
def test_an_out_of_range_step_in_the_url_is_clamped_like_the_view(view, task):
    at = run(view=view, task=task, step=999999)
    ok(at)
    T = component_payload(at)["T"]
    assert component_data(at)["start"] == T - 1
    assert at.query_params["step"] in (str(T - 1), [str(T - 1)])


def test_old_view_links_open_the_views_own_page():
    at = run(view="cell", task="trec", step=3)
    ok(at)
    assert component_payload(at)["view"] == "cell" and component_data(at)["start"] == 3
    assert "view" not in at.query_params  # the page's path says it now


@pytest.mark.parametrize("task", [t for t in TASKS if t != YOURS])  # YOURS: tests/test_app_yours.py
def test_every_task_and_model_loads_in_compare_and_cell(task):
    at = run(task=task)
    ok(at)
    assert len(component_payload(at)["columns"]) == 3
    at = run(view="cell", task=task)
    for kind in KINDS:
        at.radio(key="cell_kind").set_value(kind).run()
        ok(at)
        doc = component_payload(at)
        (formula,) = panels(doc, 0, "formula")
        assert formula["lines"][-1].startswith("h_t = ") and doc["columns"][0]["title"] == kind.upper()


def test_cell_view_numbers_are_the_traces():
    at = run(view="cell", task="trec")
    at.radio(key="cell_kind").set_value("lstm").run()
    ok(at)
    unit, layer = at.selectbox(key="cell_unit").value, at.selectbox(key="cell_layer").value
    doc = component_payload(at)
    (formula,) = panels(doc, 0, "formula")
    (diagram,) = panels(doc, 0, "plotly")
    a = cache.analyze("trec", "lstm", UntrainedConfig(), TASKS["trec"].example)
    lt = a.trace.layer(layer, 0)
    np.testing.assert_allclose(formula["values"]["f"], lt.gates["f"][:, unit], atol=1e-4)
    np.testing.assert_allclose(formula["values"]["c"], lt.c[:, unit], atol=1e-4)
    assert [l.split(" =")[0] for l in formula["lines"]] == ["i_t", "f_t", "g_t", "o_t", "c_t", "h_t"]
    texts = [v for k, v in diagram["steps"].items() if k.startswith("annotations")]
    assert any(vals[3] == f"{float(lt.gates['f'][3, unit]):.2f}".replace("-", "−") for vals in texts)
    at.selectbox(key="cell_unit").set_value(at.selectbox(key="cell_unit").options[-1]).run()
    ok(at)
    assert component_payload(at) != doc  # another unit, another payload


def test_untrained_sliders_change_the_models():
    at = run(task="untrained")
    ok(at)
    assert heatmap_rows(panels(component_payload(at), 1, "heatmap")[0])["h"].shape[1] == UntrainedConfig().hidden_size
    at.sidebar.slider[0].set_value(16).run()  # hidden size
    ok(at)
    assert heatmap_rows(panels(component_payload(at), 1, "heatmap")[0])["h"].shape[1] == 16


@pytest.mark.parametrize("view", ["compare", "cell"])
def test_the_forget_bias_moves_the_lstm_and_the_others_say_they_have_none(view):
    """It used to reach the RNN and GRU, which cannot take it, and crash both views."""
    at = run(view=view, task="untrained")
    at.sidebar.slider[2].set_value(1.5).run()  # hidden size, init scale, forget bias
    ok(at)
    if view == "cell":
        for kind in KINDS:
            at.radio(key="cell_kind").set_value(kind).run()
            ok(at)
            assert ("no forget gate" in component_payload(at)["columns"][0]["warning"]) == (kind != "lstm")
        return
    doc = component_payload(at)
    warnings = [c["warning"] for c in doc["columns"]]
    assert "no forget gate" in warnings[0] and "no forget gate" in warnings[2] and "no forget gate" not in warnings[1]
    lstm = cache.model("untrained", "lstm", UntrainedConfig(forget_bias=1.5))
    base = cache.model("untrained", "lstm", UntrainedConfig())
    H = lstm.recurrent.hidden_size
    np.testing.assert_allclose(lstm.recurrent.weights[0].b_ih[H:2 * H] - base.recurrent.weights[0].b_ih[H:2 * H], 1.5,
                               atol=1e-6)


def test_query_params_round_trip():
    params = {"task": "shakespeare", "text": "ROMEO: soft!", "step": "4"}
    at = run(view="cell", **params)
    ok(at)
    assert at.sidebar.selectbox[0].value == "shakespeare" and at.text_input[0].value == "ROMEO: soft!"
    assert component_data(at)["start"] == 4
    assert {k: at.query_params[k] for k in params} in (params, {k: [v] for k, v in params.items()})


def test_bad_query_params_fall_back_to_defaults():
    at = run(view="nope", task="nope", step="abc")
    ok(at)
    assert component_payload(at)["view"] == "compare" and at.session_state["t"] == 0
    assert at.sidebar.selectbox[0].value == "sst2"


def test_changing_task_swaps_the_example_text():
    at = run(task="sst2")
    at.sidebar.selectbox[0].set_value("jaychou").run()
    ok(at)
    assert at.text_input[0].value == TASKS["jaychou"].example


@pytest.fixture
def broken_weights(tmp_path, monkeypatch):
    """A copy of the bundled weights in which trec-lstm's sidecar was edited (or a file is gone)."""
    for f in zoo.WEIGHTS.iterdir():
        shutil.copy(f, tmp_path / f.name)
    monkeypatch.setattr(zoo, "WEIGHTS", tmp_path)
    zoo._load.cache_clear()
    st.cache_resource.clear()
    yield tmp_path
    zoo._load.cache_clear()
    st.cache_resource.clear()


@pytest.mark.parametrize("damage", ["edited", "missing"])
def test_a_broken_or_missing_checkpoint_is_a_clear_error_not_a_random_model(broken_weights, damage):
    side = broken_weights / "trec-lstm.json"
    if damage == "edited":
        side.write_text(side.read_text(encoding="utf-8").replace('"HUM"', '"HUMAN"'), encoding="utf-8")
    else:
        (broken_weights / "trec-lstm.safetensors").unlink()
    with pytest.raises(cells.checkpoint.CheckpointError):
        cells.load_model("trec-lstm")
    for view in ("compare", "cell", "attention"):
        at = run(view=view, task="trec")
        assert not at.exception, [e.message for e in at.exception]
        (err,) = at.error
        message = testing.shown(err.value)
        assert "The bundled model trec-lstm could not be loaded" in message and str(broken_weights) not in message
        assert not testing.mounted(at)


def test_the_launcher_and_the_config_file_set_the_same_deployment_settings():
    """`rnnscope` passes flags, `streamlit run viz_app/app.py` reads .streamlit/config.toml:
    both must hide tracebacks (they would show the server's paths), bind to localhost and
    send no telemetry."""
    import tomllib

    from cells.cli import APP_FLAGS

    flags = dict(zip(APP_FLAGS[::2], APP_FLAGS[1::2]))
    config = tomllib.loads((Path(__file__).parents[1] / ".streamlit" / "config.toml").read_text())
    from_file = {f"--{section}.{k}": str(v).lower() for section, opts in config.items() for k, v in opts.items()}
    assert flags["--client.showErrorDetails"] == "none" and flags["--server.address"] == "localhost"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--server.maxUploadSize"] == str(sources.MAX_UPLOAD_MB)  # the server refuses what the uploader would
    assert {k: v for k, v in from_file.items() if k in flags} == flags


def test_the_launcher_runs_one_blas_thread_and_two_malloc_arenas_unless_told_otherwise(monkeypatch):
    """Sessions share the server's cores: `rnnscope` starts it with OPENBLAS_NUM_THREADS=1,
    and with MALLOC_ARENA_MAX=2 (memory freed after a class goes back to the system); a value
    the user set wins."""
    from cells import cli

    calls = []
    monkeypatch.setattr(cli.os, "execve", lambda path, argv, env: calls.append((argv, env)))
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    cli.main(["--server.port", "8999"])
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    cli.main([])
    (argv, env), (_, env_user) = calls
    assert argv[-2:] == ["--server.port", "8999"] and str(cli.app_path()) in argv
    assert env["OPENBLAS_NUM_THREADS"] == "1" and env_user["OPENBLAS_NUM_THREADS"] == "2"
    assert env["MALLOC_ARENA_MAX"] == "2" and env_user["MALLOC_ARENA_MAX"] == "8"


def test_the_cartesian_plotly_js_is_served_only_when_it_is_the_installed_version(monkeypatch, tmp_path):
    """The component serves plotly.js's cartesian bundle when it matches the plotly package's
    own plotly.js, and that package's full bundle otherwise."""
    import plotly

    from viz_app.component import mount

    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    shipped = mount._HERE / mount.CARTESIAN / "plotly.min.js"
    assert mount.plotly_js_version(shipped) and mount.plotly_js_version(full)
    root, assets = mount.plotly_js_dir()
    want = (mount._HERE, mount.CARTESIAN) if mount.plotly_js_version(shipped) == mount.plotly_js_version(full) \
        else (full.parents[1], "package_data")
    assert (root, assets) == want and (root / assets / "plotly.min.js").is_file()
    other = tmp_path / "plotly"
    (other / "package_data").mkdir(parents=True)
    (other / "package_data" / "plotly.min.js").write_text("/**\n* plotly.js v0.0.1\n*/\n")
    monkeypatch.setattr(plotly, "__file__", str(other / "__init__.py"))
    assert mount.plotly_js_dir() == (other, "package_data")
    assert mount.plotly_js_version(tmp_path / "missing.js") is None


def test_the_app_starts_without_torch():
    # torch takes 1.2 s to import: the views load it only when a page needs it (the lab, on opening).
    code = ("import sys, viz_app.cache, viz_app.views.compare, viz_app.views.cell, viz_app.views.attention, "
            "viz_app.views.language_model, viz_app.views.gradients, viz_app.views.lab; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_server_forgets_the_texts_once_no_tab_has_been_open_for_a_while():
    # After a class has gone the server returns to its baseline memory: the texts'
    # computations go, the models stay. When: after IDLE_FORGET s with no tab, once.
    idle = cache.Idle(after=60)
    assert [idle.tick(n, t) for n, t in [(3, 0), (0, 10), (0, 69), (0, 70), (0, 200), (1, 201), (0, 202),
                                         (None, 203), (0, 204), (0, 264)]] == \
        [False, False, False, True, False, False, False, False, False, True]
    models = cache.model("trec", "gru")
    before = cache.analyze("trec", "gru", UntrainedConfig(), "who wrote hamlet ?")
    assert cache.analyze("trec", "gru", UntrainedConfig(), "who wrote hamlet ?") is before  # cached until then
    cache.forget_texts()
    after = cache.analyze("trec", "gru", UntrainedConfig(), "who wrote hamlet ?")
    assert after is not before and after.probs.tolist() == before.probs.tolist()  # computed again, the same
    assert cache.model("trec", "gru") is models  # the model stayed


def test_the_closed_tabs_sessions_are_shut_down_once_their_ttl_has_passed(monkeypatch):
    # Streamlit keeps a closed tab's session for server.disconnectedSessionTTL and reaps it
    # only when another tab disconnects: after a class, fifty sessions stayed in memory.
    # Streamlit's own session manager and storage, with two stored sessions.
    from streamlit.runtime import Runtime
    from streamlit.runtime.caching.ttl_cache import TTLCache
    from streamlit.runtime.memory_session_storage import MemorySessionStorage
    from streamlit.runtime.session_manager import SessionInfo
    from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

    from viz_app import sessions

    class Closed:
        def __init__(self, id):
            self.id, self.shut = id, False

        def shutdown(self):
            self.shut = True

    # Its TTL cache reads a clock the test moves: a busy machine's sleeps overshoot (CI's did).
    now = [0.0]
    storage = MemorySessionStorage(ttl_seconds=1)
    storage._cache = TTLCache(maxsize=128, ttl=1, timer=lambda: now[0])
    mgr = WebsocketSessionManager(storage, uploaded_file_manager=None, script_cache=None,
                                  message_enqueued_callback=None)
    old, new = Closed("old"), Closed("new")
    storage.save(SessionInfo(client=None, session=old, script_run_count=1))
    monkeypatch.setattr(Runtime, "exists", lambda: True)
    monkeypatch.setattr(Runtime, "instance", lambda: type("Rt", (), {"_session_mgr": mgr})())
    assert sessions.reap_expired() == 0 and not old.shut  # within its TTL: a tab may come back to it
    now[0] = 0.6
    storage.save(SessionInfo(client=None, session=new, script_run_count=1))
    now[0] = 1.2
    assert sessions.reap_expired() == 1 and old.shut and not new.shut
    assert [i.session for i in mgr.list_sessions()] == [new]
    monkeypatch.setattr(Runtime, "exists", lambda: False)
    assert sessions.reap_expired() is None  # no server (AppTest, a notebook): nothing to reap
