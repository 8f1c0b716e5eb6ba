"""The training lab's API (cells/lab.py): the tasks' batches, the recorded history, snapshots,
clipping, divergence, stopping, determinism and every refused setting."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest
import torch

import cells
from cells import checkpoint, lab
from cells.checkpoint import CheckpointError

SHORT = dict(steps=12, batch_size=8, hidden_size=8)


def test_adding_marks_one_pair_in_each_half_and_asks_for_their_sum():
    x, y, mask = lab.adding(np.random.default_rng(0), 4000, 20)
    v, marks = x[..., 0], x[..., 1]
    assert (marks.sum(1) == 2).all() and (marks[:, :10].sum(1) == 1).all()
    np.testing.assert_allclose(y[:, 0, 0], (v * marks).sum(1))
    assert mask.shape == (4000, 1) and mask.all()
    # Predicting the mean sum scores the variance of a sum of two U(0, 1): 1/6.
    assert abs(((y - 1.0) ** 2).mean() - 1 / 6) < 0.01


def test_copy_answers_with_the_symbols_it_was_shown_after_the_go_marker():
    k, T, n = 5, 7, lab.COPY_SYMBOLS
    x, y, mask = lab.copy_task(np.random.default_rng(1), 16, T, k)
    assert x.shape == (16, k + T + 1 + k, n + 2) and (x.sum(-1) == 1).all()  # one-hot
    shown = x[:, :k, :n].argmax(-1)
    np.testing.assert_array_equal(y[:, -k:], shown)
    assert (x[:, k + T, n + 1] == 1).all() and x[:, :, n + 1].sum() == 16  # one go marker each
    assert mask[:, -k:].all() and not mask[:, :-k].any()


def test_sine_cosine_scores_after_the_warm_up():
    x, y, mask = lab.sine_cosine(np.random.default_rng(2), 3, 30)
    np.testing.assert_allclose(x**2 + y**2, 1.0)
    assert not mask[:, : lab.SINE_WARMUP].any() and mask[:, lab.SINE_WARMUP :].all()


def test_consecutive_windows_continue_each_other():
    ids = np.arange(1000)
    a_x, a_y, _ = lab.windows(ids, None, 4, 10, 1)
    b_x, _, _ = lab.windows(ids, None, 4, 10, 2)
    np.testing.assert_array_equal(b_x[:, 0], a_y[:, -1])  # each stream reads on
    np.testing.assert_array_equal(a_y, a_x + 1)  # targets are the next ids


def test_the_same_seed_gives_the_same_history_bit_for_bit():
    a, b = (lab.train("adding", kind="gru", seed=3, **SHORT) for _ in range(2))
    assert a.history == b.history and a.evals == b.evals
    c = lab.train("adding", kind="gru", seed=4, **SHORT)
    assert c.history != a.history


def test_trainers_stepped_in_turn_give_what_each_gives_alone():
    kinds = ("rnn", "lstm", "gru")
    alone = [lab.train("copy", kind=k, **SHORT).history for k in kinds]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        trainers = [lab.Trainer(lab.check(lab.Settings(task="copy", kind=k, **SHORT))) for k in kinds]
        while not all(t.done for t in trainers):
            for t in trainers:
                if not t.done:
                    t.step()
    finally:
        torch.set_num_threads(threads)
    assert [t.run.history for t in trainers] == alone


def test_each_layers_gradient_norm_makes_up_the_total_and_clipping_caps_it():
    run = lab.train("sine_cosine", kind="lstm", num_layers=2, clip=1e-3, **SHORT)
    for r in run.history:
        assert set(r["layer_grad_norms"]) == {"layer 0", "layer 1", "read-out"}
        total = math.sqrt(sum(v**2 for v in r["layer_grad_norms"].values()))
        assert r["grad_norm"] == pytest.approx(total, rel=1e-5)
        assert r["grad_norm"] > 1e-3 and r["grad_norm_clipped"] == 1e-3
    free = lab.train("sine_cosine", kind="lstm", num_layers=2, clip=None, **SHORT)
    assert all(r["grad_norm_clipped"] == r["grad_norm"] for r in free.history)


def test_training_lowers_the_held_out_loss():
    run = lab.train("sine_cosine", kind="lstm", steps=150, hidden_size=16, lr=1e-2)
    first, last = run.evals[0][1], run.evals[-1][1]
    assert run.evals[-1][0] == 150 and last < first / 5, run.evals


def test_snapshots_hold_the_weights_of_their_step_and_trace_like_torch():
    run = lab.train("adding", kind="lstm", snapshot_every=4, init_scale=0.5, forget_bias=1.0, **SHORT)
    assert sorted(run.snapshots) == [0, 4, 8, 12] and run.model is run.snapshots[12]
    w0, w12 = (run.snapshots[s].state["rnn.weight_hh_l0"] for s in (0, 12))
    assert not torch.equal(w0, w12)
    H = SHORT["hidden_size"]
    assert w0.abs().max() <= 0.5 / math.sqrt(H)  # init_scale shrinks torch's U(−1/√H, 1/√H)
    plain = lab.train("adding", kind="lstm", init_scale=0.5, **SHORT).snapshots[0].state["rnn.bias_ih_l0"]
    np.testing.assert_allclose(run.snapshots[0].state["rnn.bias_ih_l0"][H : 2 * H] - plain[H : 2 * H], 1.0, atol=1e-6)

    x, _, _ = lab.adding(np.random.default_rng(5), 1, 20)
    tr = run.model.recurrent.trace(x[0].astype(np.float32))
    with torch.no_grad():
        h, _ = run.model.module().rnn(torch.as_tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(tr.output, h[0].numpy(), rtol=1e-5, atol=1e-6)
    out = run.model.predict(x[0].astype(np.float32))
    assert out.shape == (1, 1)


@pytest.mark.parametrize("task", list(lab.TASKS))
def test_a_snapshots_trace_of_an_example_is_what_its_torch_module_computes(task):
    kw = dict(SHORT, T=8) if task != "jaychou" else dict(SHORT, T=8, steps=2)
    run = lab.train(task, kind="gru", **kw)
    x, y, mask, labels = lab.example(run.settings, seed=1)
    tr = run.model.trace(x)
    assert tr.T == len(labels) == len(x)
    net = run.model.module()
    with torch.no_grad():
        e = net.embedding(torch.as_tensor(x)[None]) if net.embedding is not None else torch.as_tensor(x)[None]
        h, _ = net.rnn(e)
    np.testing.assert_allclose(tr.output, h[0].numpy(), rtol=1e-5, atol=1e-6)
    # Its loss on the example is the training loss function's on a batch of one.
    r = lab.readout(run.model, x, y, mask)
    out, y1, m1 = lab.tensors((x[None], y[None], mask[None]))
    with torch.no_grad():
        want = lab.loss_fn(lab.TASKS[task], net(out)[0], y1, m1).item()
    assert r["loss"] == pytest.approx(want, rel=1e-6)


def test_a_diverging_run_stops_with_a_note_and_keeps_the_last_finite_snapshot():
    run = lab.train("sine_cosine", kind="rnn", optimizer="sgd", lr=10.0, clip=None, init_scale=10.0, steps=200,
                    snapshot_every=1, hidden_size=16)
    assert len(run.history) < 200 and run.note.startswith("diverged at step")
    assert not math.isfinite(run.history[-1]["loss"]) or not math.isfinite(run.history[-1]["grad_norm"])
    assert max(run.snapshots) < len(run.history)
    assert all(torch.isfinite(t).all() for t in run.model.state.values())


def test_on_step_can_stop_a_run():
    run = lab.train("copy", kind="rnn", on_step=lambda r: r["step"] == 5, **SHORT)
    assert len(run.history) == 5 and run.note == "stopped at step 5 of 12" and max(run.snapshots) == 5


def test_a_run_uses_one_thread_and_gives_the_others_back():
    before = torch.get_num_threads()
    seen = []
    lab.train("copy", kind="gru", on_step=lambda r: seen.append(torch.get_num_threads()), **SHORT)
    assert set(seen) == {1} and torch.get_num_threads() == before


def test_jaychou_continues_fen_kai_and_carries_the_state_when_consecutive():
    run = lab.train("jaychou", kind="gru", batching="consecutive", steps=6, batch_size=4, hidden_size=16, T=10,
                    snapshot_every=6, sample_every=4)
    assert set(run.samples) == {0, 4, 6} and set(run.snapshots) == {0, 6} and all(s.startswith(lab.SEED_TEXT) and len(s) == 22 for s in run.samples.values())
    vocab, train_ids, held_ids = lab.lyrics()
    assert vocab.itos[0] == "<unk>" and len(train_ids) > 9 * len(held_ids) - 10
    with pytest.raises(lab.LabError, match="only the jaychou task"):
        lab.train("copy", kind="gru", **SHORT).model.sample()


@pytest.mark.parametrize("bad, match", [
    (dict(lr=0.0), "lr must be between"),
    (dict(lr=1e9), "lr must be between"),
    (dict(lr=float("nan")), "lr must be between"),
    (dict(clip=0.0), "clip must be a positive"),
    (dict(clip=-1.0), "clip must be a positive"),
    (dict(hidden_size=10_000), "hidden_size must be between 1 and 256"),
    (dict(hidden_size=True), "hidden_size must be between"),
    (dict(T=0), "T must be between"),
    (dict(T=100_000), "T must be between"),
    (dict(steps=0), "steps must be between"),
    (dict(batch_size=1000), "batch_size must be between"),
    (dict(num_layers=9), "num_layers must be between"),
    (dict(kind="transformer"), "unknown cell kind"),
    (dict(optimizer="lbfgs"), "unknown optimiser"),
    (dict(batching="shuffled"), "batching must be"),
    (dict(kind="gru", forget_bias=1.0), "forget_bias applies to LSTMs only"),
    (dict(init_scale=0.0), "init_scale must be"),
    (dict(T=1), "adding problem needs T ≥ 2"),
])
def test_bad_settings_are_refused_before_anything_runs(bad, match):
    calls = []
    with pytest.raises(lab.LabError, match=match):
        lab.train("adding", on_step=calls.append, **bad)
    assert calls == []


def test_the_downloads_hold_every_record():
    run = lab.train("adding", kind="lstm", num_layers=2, **SHORT)
    rows = list(csv.DictReader(io.StringIO(lab.history_csv({"LSTM": run.history}).decode())))
    assert len(rows) == len(run.history)
    for row, r in zip(rows, run.history):
        assert (row["cell"], int(row["step"]), float(row["loss"]), float(row["grad_norm"])) == \
            ("LSTM", r["step"], r["loss"], r["grad_norm"])
        assert float(row["layer 1"]) == r["layer_grad_norms"]["layer 1"]
    doc = json.loads(lab.history_json({"LSTM": run}))
    assert doc["LSTM"]["history"] == json.loads(json.dumps(run.history)) and doc["LSTM"]["settings"]["num_layers"] == 2
    diverged = lab.train("sine_cosine", kind="rnn", optimizer="sgd", lr=10.0, clip=None, init_scale=10.0, steps=200,
                         hidden_size=16)
    last = json.loads(lab.history_json({"RNN": diverged}))["RNN"]["history"][-1]
    assert "nan" in (last["loss"], last["grad_norm"]) or "inf" in (last["loss"], last["grad_norm"])


def test_a_saved_lab_model_loads_back_exactly_through_load_model(tmp_path):
    run = lab.train("adding", kind="lstm", num_layers=2, **SHORT)
    lab.save(run.model, tmp_path / "adding-lstm")
    back = cells.load_model(tmp_path / "adding-lstm")
    assert isinstance(back, lab.LabModel) and back.settings == run.model.settings
    assert all(torch.equal(back.state[k], v) for k, v in run.model.state.items())
    x = lab.adding(np.random.default_rng(0), 1, 50)[0][0].astype(np.float32)
    np.testing.assert_array_equal(back.predict(x), run.model.predict(x))
    lm = lab.train("jaychou", kind="gru", steps=3, batch_size=4, hidden_size=16, T=10).model
    lab.save(lm, tmp_path / "lm.json")
    assert cells.load_model(tmp_path / "lm").sample() == lm.sample()


def _tampered(tmp_path, change) -> str:
    run = lab.train("copy", kind="gru", **SHORT)
    jpath, wpath = lab.save(run.model, tmp_path / "m")
    side = json.loads(jpath.read_text())
    change(side, wpath)
    jpath.write_text(json.dumps(side))
    with pytest.raises(CheckpointError) as e:
        cells.load_model(tmp_path / "m")
    return e.value.problem


def test_a_changed_lab_model_is_refused_with_a_clear_error(tmp_path):
    def lr(side, w):
        side["settings"]["lr"] = 0.5

    def weights(side, w):
        blob = bytearray(w.read_bytes())
        blob[-1] ^= 1
        w.write_bytes(bytes(blob))

    def extra(side, w):
        side["note"] = "hi"

    def resigned(side, w):  # settings the lab refuses, with a matching checksum: caught all the same
        side["settings"]["hidden_size"] = 10_000
        side["sha256"] = checkpoint.digest(side, w.read_bytes())

    def vocab(side, w):
        side["vocab"] = ["a", "b"]
        side["sha256"] = checkpoint.digest(side, w.read_bytes())

    assert "fails its sha256" in _tampered(tmp_path, lr)
    assert "fails its sha256" in _tampered(tmp_path, weights)
    assert "exactly format, settings, vocab and sha256" in _tampered(tmp_path, extra)
    assert "hidden_size must be between 1 and 256" in _tampered(tmp_path, resigned)
    assert "vocabulary if and only if" in _tampered(tmp_path, vocab)
    with pytest.raises(CheckpointError, match="not found"):
        lab.load(tmp_path / "nothing")


def test_an_unknown_task_is_refused():
    with pytest.raises(lab.LabError, match="unknown task 'mnist'"):
        lab.train("mnist")


def test_the_lab_is_cells_lab_with_its_four_tasks():
    assert cells.lab is lab and list(cells.lab.TASKS) == ["sine_cosine", "adding", "copy", "jaychou"]
    assert issubclass(lab.LabError, ValueError)
