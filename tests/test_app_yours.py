"""Your own model in the app: the bundled numeric example, an upload (good and bad), and a
training-lab run opened in the other views; all of it session-scoped (viz_app/yours.py)."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
import safetensors.torch
import torch
from torch import nn

from cells import sequences
from viz_app import cache, sessions, yours
from viz_app.checks import plain
from viz_app.tasks import TASKS, YOURS
from viz_app.testing import app_test, component_payload, said, shown
from viz_app.testing import assert_no_errors as ok

SESSION = "test session id"  # AppTest's one session


@pytest.fixture(autouse=True)
def nothing_open():
    yours.forget(SESSION)
    yield
    yours.forget(SESSION)


def _lstm_file(bidirectional=False, **extra) -> tuple[nn.LSTM, bytes]:
    torch.manual_seed(0)
    net = nn.LSTM(2, 6, 2, bidirectional=bidirectional).eval()
    sd = {f"rnn.{k}": v for k, v in net.state_dict().items()} | extra
    return net, safetensors.torch.save(sd)


def _upload(at, name: str, data: bytes, vocab: bytes | None = None):
    at.file_uploader(key="yours_weights").upload(name, data)
    if vocab is not None:
        at.file_uploader(key="yours_vocab").upload("vocab.txt", vocab)
    at.button(key="FormSubmitter:yours_upload-Open this model").click().run()
    return at


def test_the_sine_models_read_numbers_and_show_input_and_output_curves():
    at = app_test(task="sine")
    ok(at)
    assert "Numbers" in at.text_input(key="text").label
    doc = component_payload(at)
    assert [c["title"] for c in doc["columns"]] == ["RNN", "LSTM", "GRU"]
    curves = doc["columns"][1]["panels"][0]
    assert curves["type"] == "plotly" and [d["name"] for d in curves["fig"]["data"]] == ["x", "y"]
    a = cache.analyze("sine", "lstm", cache.settings("sine", None), TASKS["sine"].example)
    np.testing.assert_allclose(np.array(curves["fig"]["data"][1]["y"], float), a.outputs[:, 0], atol=1e-6)
    assert doc["T"] == 60 and "held out mse" in doc["columns"][1]["meta"]


def test_a_generated_sequence_replaces_the_text_and_bad_numbers_are_refused():
    at = app_test(task="sine")
    at.selectbox(key="num_shape").set_value("steps")
    at.slider(key="num_T").set_value(30)
    at.button(key="num_use").click().run()
    ok(at)
    assert at.text_input(key="text").value == sequences.generate("steps", 30, 1, 0) and component_payload(at)["T"] == 30
    at.text_input(key="text").set_value("0.1, 0.2, oops").run()
    assert not at.exception and any("«oops» is not a number" in m for m in said(at))


def test_a_csv_becomes_the_sequence_and_a_bad_one_changes_nothing():
    at = app_test(task="sine")
    at.file_uploader(key="num_csv").upload("x.csv", b"x\n0.5\n-0.5\n0.25\n")
    at.button(key="num_csv_use").click().run()
    ok(at)
    assert at.text_input(key="text").value == "0.5, -0.5, 0.25"
    at.file_uploader(key="num_csv").upload("y.csv", b"1,2\n3,4\n")
    at.button(key="num_csv_use").click().run()
    assert not at.exception and any("row 1 of the CSV has 2 column(s); this model reads 1" in m for m in said(at))
    assert at.text_input(key="text").value == "0.5, -0.5, 0.25"  # kept


def test_nothing_open_says_how_to_open_a_model():
    at = app_test(task=YOURS)
    assert not at.exception and any("No model of yours is open in this tab" in m for m in said(at))


def test_an_uploaded_state_dict_opens_in_compare_cell_and_gradients_with_its_parity():
    net, data = _lstm_file(bidirectional=True)
    at = _upload(app_test(task=YOURS), "mine.safetensors", data)
    ok(at)
    assert any("max |Δ| vs torch" in m for m in said(at, ("info",)))
    doc = component_payload(at)
    assert [c["title"] for c in doc["columns"]] == ["LSTM"]
    x = sequences.parse(at.text_input(key="text").value, 2)[0]
    with torch.no_grad():
        out, _ = net(torch.as_tensor(x, dtype=torch.float32))
    a = yours.get(SESSION).model("lstm").analyze(at.text_input(key="text").value)
    np.testing.assert_allclose(a.trace.output, out.numpy(), atol=1e-5)
    at2 = app_test(task=YOURS)  # a new AppTest run in the same session id: the shelf is still there
    assert component_payload(at2)["columns"][0]["title"] == "LSTM"
    assert any("Your model: mine.safetensors" in shown(c.value) and "max |Δ| vs torch" in shown(c.value)
               for c in at2.caption)


def test_a_file_name_is_shown_as_plain_text():
    _, data = _lstm_file()
    name = "<img src=x onerror=alert(1)>**bold**.safetensors"
    at = _upload(app_test(task=YOURS), name, data)
    ok(at)
    (line,) = [c.value for c in at.caption if "Your model:" in shown(c.value)]
    assert line.startswith(plain(f"Your model: {name}"))  # every markup character escaped: shown as typed


@pytest.mark.parametrize("view", ["cell", "gradients"])
def test_the_cell_and_gradients_views_work_on_an_uploaded_model(view):
    _, data = _lstm_file()
    at = _upload(app_test(task=YOURS), "mine.safetensors", data)
    at = app_test(view=view, task=YOURS)
    ok(at)
    doc = component_payload(at)
    assert doc["view"] == view and [c["title"] for c in doc["columns"]] == ["LSTM"]


def test_a_text_model_with_a_vocabulary_reads_words():
    torch.manual_seed(1)
    emb, net = nn.Embedding(4, 2), nn.GRU(2, 5).eval()
    data = safetensors.torch.save({"embedding.weight": emb.weight.detach(),
                                   **{f"rnn.{k}": v for k, v in net.state_dict().items()}})
    at = _upload(app_test(task=YOURS), "words.safetensors", data, b"<pad>\n<unk>\ngood\nbad\n")
    at.text_input(key="text").set_value("good bad ugly").run()
    ok(at)
    doc = component_payload(at)
    assert doc["tokens"] == ["good", "bad", "ugly"] and doc["columns"][0]["title"] == "GRU"


class Boom:
    def __reduce__(self):
        import os

        return os.system, ("touch /tmp/rnnscope-pwned",)


@pytest.mark.parametrize("name, data, says", [
    ("evil.pt", pickle.dumps(Boom()), "never unpickles"),
    ("cut.safetensors", _lstm_file()[1][:200], "truncated"),
    ("cnn.safetensors", safetensors.torch.save({"conv.weight": torch.zeros(3, 3, 3)}), "recurrent"),
    ("nan.safetensors", safetensors.torch.save({"weight_ih_l0": torch.full((8, 2), float("nan")),
                                                "weight_hh_l0": torch.zeros(8, 2)}), "NaN"),
])
def test_a_bad_upload_is_refused_with_the_reason_and_the_open_model_stays(name, data, says, tmp_path):
    _, good = _lstm_file()
    at = _upload(app_test(task=YOURS), "good.safetensors", good)
    before = yours.get(SESSION)
    at = _upload(at, name, data)
    assert not at.exception
    errors = said(at, ("error",))
    assert any(name in m and says in m for m in errors), errors
    assert yours.get(SESSION) is before and component_payload(at)["columns"][0]["title"] == "LSTM"
    import os

    assert not os.path.exists("/tmp/rnnscope-pwned")


def test_a_vocabulary_that_does_not_fit_the_embedding_is_refused():
    torch.manual_seed(1)
    emb, net = nn.Embedding(4, 2), nn.GRU(2, 5).eval()
    data = safetensors.torch.save({"embedding.weight": emb.weight.detach(),
                                   **{f"rnn.{k}": v for k, v in net.state_dict().items()}})
    at = _upload(app_test(task=YOURS), "words.safetensors", data, b"<unk>\na\nb\n")
    assert any("4 × 2 but the vocabulary has 3 entries" in m for m in said(at, ("error",)))
    at = _upload(at, "words.safetensors", data, b"<unk>\na\na\nb\n")
    assert any("lists «a» twice" in m for m in said(at, ("error",)))
    assert yours.get(SESSION) is None


def test_one_sessions_model_is_not_anothers_and_goes_when_the_session_ends():
    _, data = _lstm_file()
    _upload(app_test(task=YOURS), "mine.safetensors", data)
    assert yours.get(SESSION) is not None and yours.get("another session") is None
    yours.memo(SESSION, ("k",), lambda: 1)
    yours._sweep_once(alive=lambda s: s != SESSION)  # the runtime says the tab closed
    assert yours.get(SESSION) is None and SESSION not in yours.sessions()


def test_uploads_are_capped_and_never_written_to_disk(tmp_path, monkeypatch):
    from viz_app import sources

    at = app_test(task=YOURS)
    (w,) = [u for u in at.get("file_uploader") if u.key == "yours_weights"]
    assert w.proto.max_upload_size_mb == sources.MAX_UPLOAD_MB
    monkeypatch.chdir(tmp_path)
    _, data = _lstm_file()
    _upload(at, "mine.safetensors", data)
    assert list(tmp_path.iterdir()) == []


def test_a_lab_run_opens_in_the_other_views(monkeypatch):
    from cells import lab, own
    from viz_app.views import lab as lab_view

    class Job:  # the finished job's interface the lab view reads
        def __init__(self):
            self.runs = [lab.train("sine_cosine", kind=k, steps=4, hidden_size=8, seed=0) for k in ("rnn", "gru")]

        def view(self):
            return type("P", (), {"settings": tuple(r.settings for r in self.runs),
                                  "snapshot_steps": tuple(tuple(r.snapshots) for r in self.runs)})()

        def model(self, i, step=None):
            snaps = self.runs[i].snapshots
            return snaps[max(snaps) if step is None else step]

    job = Job()
    x, _, _, labels = lab.example(job.runs[0].settings, 0)
    shelf = lab_view.shelf(job, 4, x, labels)
    assert shelf.kinds == ("rnn", "gru") and "max |Δ| vs torch" in shelf.report
    assert float(shelf.report.split("= ")[1].split()[0]) < 1e-5
    yours.put(SESSION, shelf)
    at = app_test(task=YOURS, text=shelf.example)
    ok(at)
    assert [c["title"] for c in component_payload(at)["columns"]] == ["RNN", "GRU"]
    assert isinstance(shelf.models[0], own.OwnModel) and sessions is not None


def test_a_keras_gru_of_the_papers_form_opens_with_its_own_equation(tmp_path):
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((None, 2)), keras.layers.GRU(4, reset_after=False, return_sequences=True)])
    m.save_weights(tmp_path / "gru.weights.h5")
    at = _upload(app_test(task=YOURS), "gru.weights.h5", (tmp_path / "gru.weights.h5").read_bytes())
    ok(at)
    assert any("max |Δ| vs keras" in shown(c.value) for c in at.caption)
    assert yours.get(SESSION).model("gru").recurrent.kind == "gru_reset_before"
    at = app_test(view="cell", task=YOURS)
    ok(at)
    (formula,) = [p for p in component_payload(at)["columns"][0]["panels"] if p["type"] == "formula"]
    assert formula["lines"][2].startswith("n_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t−1}) + b_hn)")
    tr = yours.get(SESSION).model("gru").analyze(at.text_input(key="text").value).trace
    np.testing.assert_allclose(formula["values"]["n"], tr.layer(0, 0).gates["n"][:, at.selectbox(key="cell_unit").value],
                               atol=1e-4)
