"""The Padding view: the batch reading and the payload builder (pure) on the bundled
classifiers, its input checks, and the page in AppTest.

The engine's packed and padded traces are held equal to torch in tests/test_padding.py;
here: that packed mode is exactly what `Model.analyze` reads, that the pads move h_n for
the short sentences only, and that the payload marks the pads exactly where the lengths say.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import cells
from cells import padding as cells_padding
from viz_app import testing
from viz_app.charts import padding as charts
from viz_app.charts.formula import fill
from viz_app.component import padding as pad
from viz_app.component import payload
from viz_app.views.padding import EXAMPLES

run, ok = testing.app_test, testing.assert_no_errors
SST2 = ["it works .", "a gem .", "not worth the price of the ticket .",
        "an astonishing , moving and very funny film that stays with you for days after ."]


def _panels(col: dict, kind: str) -> list[dict]:
    return [p for p in col["panels"] if p["type"] == kind]


def _filled(panel: dict, t: int, token: str = "") -> list[str]:
    return [fill(line, panel["values"], t, token, panel["digits"]) for line in panel["lines"]]


@pytest.fixture(scope="module")
def lstm():
    m = cells.load_model("sst2-lstm")
    return m, pad.read(m, SST2)


# -- cells: Model.classify_states and Model.embed ---------------------------------------------

@pytest.mark.parametrize("name", ["sst2-rnn", "sst2-gru", "trec-lstm"])
def test_classify_states_is_the_head_analyze_uses(name):
    m = cells.load_model(name)
    a = m.analyze("Who wrote the play Hamlet, and where?")
    out = m.classify_states(a.trace.output)
    np.testing.assert_allclose(out["probs"], a.probs, atol=1e-6)
    np.testing.assert_allclose(out["attention"], a.attention, atol=1e-6)
    np.testing.assert_allclose(out["attention_scores"], a.attention_scores, atol=1e-5)
    assert not out["probs"].flags.writeable


def test_classify_states_and_embed_refuse_what_they_cannot_read():
    m = cells.load_model("trec-gru")
    with pytest.raises(ValueError, match=r"shape \(T, 192\)"):
        m.classify_states(np.zeros((4, 96)))
    with pytest.raises(ValueError, match="T ≥ 1"):
        m.classify_states(np.zeros((0, 192)))
    with pytest.raises(ValueError, match="not a trained classifier"):
        cells.load_model("shakespeare-lstm").classify_states(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="untrained"):
        cells.untrained_model("lstm").embed(np.array([0, 1]))
    ids = m.encode("Who wrote Hamlet?")
    np.testing.assert_array_equal(m.embed(ids), m.analyze("Who wrote Hamlet?").embeddings)


# -- reading the batch ------------------------------------------------------------------------

@pytest.mark.parametrize("task", ["sst2", "trec"])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_packed_mode_is_what_analyze_reads(task, kind):
    m = cells.load_model(f"{task}-{kind}")
    sentences = SST2 if task == "sst2" else EXAMPLES["trec"].splitlines()
    r = pad.read(m, sentences)
    doc = pad.padding_doc(m, r)
    packed_bars = _panels(doc["columns"][0], "bars")
    assert len(packed_bars) == len(sentences)
    for b, s in enumerate(sentences):
        a = m.analyze(s)
        np.testing.assert_allclose(r.packed.probs[b], a.probs, atol=1e-5)
        np.testing.assert_allclose(r.packed.traces[b].output, a.trace.output, atol=1e-6)
        np.testing.assert_allclose(packed_bars[b]["values"][0], a.probs, atol=1e-4)
        assert r.tokens[b] == tuple(a.tokens) and r.unknown[b] == tuple(a.unknown)
    padded_bars = _panels(doc["columns"][1], "bars")
    np.testing.assert_allclose([p["values"][0] for p in padded_bars], r.padded.probs, atol=1e-4)


def test_the_batch_is_padded_with_the_pad_embedding(lstm):
    m, r = lstm
    assert m.vocab[0] == pad.PAD  # the bundled vocabularies' id 0
    row = m.embed(np.array(0))
    assert r.X.shape == (4, r.T, row.shape[0]) and r.T == max(r.lengths)
    for b, n in enumerate(r.lengths):
        np.testing.assert_array_equal(r.X[b, n:], np.broadcast_to(row, (r.T - n, row.shape[0])))
    # the bundled <pad> row is zeros, so the batch is also cells.padding.pad's with value 0
    X, lengths = cells_padding.pad([m.analyze(s).embeddings for s in SST2])
    np.testing.assert_array_equal(r.X, X)
    np.testing.assert_array_equal(r.lengths, lengths)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_pads_move_h_n_of_the_short_sentences_and_not_of_the_longest(kind):
    m = cells.load_model(f"sst2-{kind}")
    r = pad.read(m, SST2)
    longest = int(np.argmax(r.lengths))
    assert r.lengths.tolist() == [3, 3, 8, 16] and longest == 3
    for b, n in enumerate(r.lengths):
        pk, pd = r.packed.traces[b], r.padded.traces[b]
        assert pk.T == n and pd.T == r.T
        # forward: the same states up to the last token; backward: another start, other states
        np.testing.assert_allclose(pd.layer(0, 0).h[:n], pk.layer(0, 0).h, atol=1e-6)  # float32 rounding
        if b == longest:
            np.testing.assert_array_equal(pd.h_n, pk.h_n)
            assert r.drift[b] == 0 and np.all(r.drift_dir[b] == 0)
            np.testing.assert_array_equal(r.padded.probs[b], r.packed.probs[b])
        else:
            assert r.drift[b] > 0.1 and np.all(r.drift_dir[b] > 1e-3), (b, r.drift[b], r.drift_dir[b])
            assert np.abs(pd.layer(0, 1).h[:n] - pk.layer(0, 1).h).max() > 1e-3
            assert np.abs(r.padded.probs[b] - r.packed.probs[b]).max() > 1e-4
            # padded, the attention pools over all T states and some of it lands on the pads
            assert len(r.padded.attention[b]) == r.T and r.padded.attention[b][n:].sum() > 0
        np.testing.assert_allclose(r.drift[b], np.linalg.norm(np.asarray(pk.h_n, float) - np.asarray(pd.h_n, float)),
                                   rtol=1e-9)


# -- the payload ------------------------------------------------------------------------------

def test_pad_positions_are_marked_exactly_where_the_lengths_say(lstm):
    m, r = lstm
    doc = pad.padding_doc(m, r)
    payload.encode(doc)  # valid JSON: no NaN outside plotly's typed arrays
    T, lengths = r.T, r.lengths
    assert doc["view"] == "padding" and doc["T"] == T and [c["title"] for c in doc["columns"]] == list(pad.MODES)
    real = np.arange(T)[None, :] < lengths[:, None]  # (B, T)
    for t, label in enumerate(doc["tokens"]):  # the step's label: each sentence's token or ⟨pad⟩
        assert label.split(" · ") == [r.tokens[b][t] if real[b, t] else "⟨pad⟩" for b in range(4)]
    for c, (col, packed) in enumerate(zip(doc["columns"], (True, False))):
        chart = _panels(col, "plotly")[0]["fig"]
        heat = [tr for tr in chart["data"] if tr["type"] == "heatmap"]
        assert len(heat) == 2  # h→ and h←
        for tr in heat:
            z = testing.plotly_array(tr["z"])
            assert z.shape == (4, T)
            assert np.isfinite(z[real]).all()
            assert (np.isnan(z[~real]).all() if packed else np.isfinite(z[~real]).all())
        mode = r.packed if packed else r.padded
        np.testing.assert_allclose(testing.plotly_array(heat[1]["z"])[3], np.linalg.norm(mode.traces[3].layer(0, 1).h,
                                                                                          axis=1), rtol=1e-5)
        hatches = [tr for tr in chart["data"] if tr.get("fill") == "toself"]
        assert len(hatches) == 2
        xs = [x for x in hatches[0]["x"] if x is not None]
        assert sorted(set(xs)) == sorted({n - 0.5 for n in lengths if n < T} | {T - 0.5})  # one box per padded row
        marks = [tr for tr in chart["data"] if tr.get("mode") == "markers"]
        want = (lengths - 1) if packed else np.full(4, T - 1)
        assert [m_["marker"]["symbol"] for m_ in marks] == ["triangle-right", "triangle-left"]
        for mk in marks:
            np.testing.assert_array_equal(mk["x"], want)
        step = _panels(col, "formula")[0]
        for t in (0, 2, 3, 7, 8, T - 1):
            lines = _filled(step, t)[1:]
            for b in range(4):
                if real[b, t]:
                    assert lines[b].startswith(f"{b + 1}  {r.tokens[b][t]}   ‖h→_t‖ = "), (t, lines[b])
                else:
                    said = "not read" if packed else "read as input"
                    assert lines[b].startswith(f"{b + 1}  ⟨pad⟩ {said}"), lines[b]
                    assert ("‖h→_t‖ = —" in lines[b]) == packed


def test_summary_says_the_drift_and_both_predictions(lstm):
    m, r = lstm
    doc = pad.padding_doc(m, r)
    summary, change = doc["wide"]
    lines = _filled(summary, 0)
    assert lines[0].startswith("LSTM · ") and "T = 16 steps" in lines[0]
    def f(x) -> str:  # as the payload sends it (6 decimals) and the line prints it (3)
        return f"{round(float(x), 6):.3f}"

    for b, line in enumerate(lines[1:]):
        k0, k1 = r.packed.probs[b].argmax(), r.padded.probs[b].argmax()
        assert f"packed → {m.labels[k0]} {f(r.packed.probs[b, k0])}" in line
        assert f"padded → {m.labels[k1]} {f(r.padded.probs[b, k1])}" in line
        fwd, bwd = r.drift_dir[b]
        assert f"‖h_n(packed) − h_n(padded)‖ = {f(r.drift[b])} (→ {f(fwd)}, ← {f(bwd)})" in line
        assert line.endswith("flips") == (k0 != k1)
    fwd, bwd = (testing.plotly_array(tr["z"]) for tr in change["fig"]["data"] if tr["type"] == "heatmap")
    real = np.arange(r.T)[None, :] < r.lengths[:, None]
    assert np.all(fwd[real] < 1e-6) and np.isnan(fwd[~real]).all()  # h→ reaches the pads only after the real steps
    assert bwd[:3][real[:3]].min() > 0 and np.all(bwd[3] == 0)  # h← started on pads; the longest has none
    assert "h→ is unchanged" in _panels({"panels": doc["wide"]}, "plotly")[0]["caption"]


def test_user_text_stays_text(lstm):
    m, _ = lstm
    s = ["<b>bold</b> & <script>x</script> {w0} :smile:", "ok ."]
    r = pad.read(m, s)
    doc = pad.padding_doc(m, r)
    col = doc["columns"][0]
    assert _panels(col, "bars")[0]["title"] == "1 · " + s[0]  # set as textContent in the browser
    fig = _panels(col, "plotly")[0]["fig"]
    cells_text = [c for tr in fig["data"] if tr["type"] == "heatmap" for row in tr["text"] for c in row]
    assert {"&lt;", "&gt;", "&amp;"} <= set(cells_text) and not any("<" in c or ">" in c for c in cells_text)
    assert r.tokens[0][17:20] == ("{", "w0", "}")  # a token is a value of the formula, never part of its template
    assert [_filled(_panels(col, "formula")[0], t)[1][:6] for t in (17, 18, 19)] == ["1  {  ", "1  w0 ", "1  }  "]


def test_batch_heatmaps_is_a_pure_figure():
    z = np.arange(6, dtype=float).reshape(2, 3)
    z[0, 2] = np.nan
    fig = charts.batch_heatmaps([("A", z)], [2, 3], [["<i>x</i>", "y"], ["a", "b", "c"]], zmax=5.0, step=1,
                                marks=[(0, "→", "stop", [1, 2])])
    assert isinstance(fig, go.Figure) and fig.layout.shapes[0].x0 == 0.5 and len(fig.layout.shapes) == 1
    assert fig.data[0].text[0][0] == "&lt;i&gt;x&lt;/…" and fig.data[0].zmax == 5.0
    assert [tr.type for tr in fig.data] == ["heatmap", "scatter", "scatter"]
    assert list(fig.data[1].x) == [1.5, 2.5, 2.5, 1.5, 1.5, None]  # sentence 0's one pad, hatched


# -- the input --------------------------------------------------------------------------------

def _tok(text):
    return cells.tokens.words(text)


def test_bad_input_gives_clear_messages():
    many = "\n".join("word " * (i + 1) for i in range(11))
    s = pad.check_sentences(many, _tok)
    assert len(s.sentences) == pad.MAX_SENTENCES
    assert [m.level for m in s.messages] == ["warning"] and "11 sentences" in s.messages[0].text
    for empty in ("", "   ", "\n \n\t\n", "\x00\x07", None):
        s = pad.check_sentences(empty, _tok)
        assert s.sentences == () and s.messages[-1].level == "info" and "one per line" in s.messages[-1].text
    s = pad.check_sentences("\n  a gem .\n\n\nthe plot is thin but the actors make it sing .\n   \n", _tok)
    assert s.sentences == ("  a gem .", "the plot is thin but the actors make it sing .") and s.messages == ()
    s = pad.check_sentences("short .\n" + " ".join(["word"] * 100) + "\nbell\x07 here .", _tok)
    texts = [m.text for m in s.messages]
    assert any(t.startswith("Sentence 2: ") and "the first 40" in t for t in texts), texts
    assert any(t.startswith("Sentence 3: Removed 1 control character") for t in texts), texts
    assert len(_tok(s.sentences[1])) == pad.MAX_TOKENS
    assert "One sentence" in pad.check_sentences("only this one .", _tok).messages[0].text
    assert "no pads" in pad.check_sentences("a b .\nc d .", _tok).messages[0].text
    with pytest.raises(ValueError, match="no sentences"):
        pad.read(cells.load_model("sst2-rnn"), [])
    with pytest.raises(ValueError, match="not a classifier"):
        pad.read(cells.load_model("shakespeare-rnn"), ["abc"])


# -- the page ---------------------------------------------------------------------------------

def test_the_page_mounts_one_component_with_two_columns():
    at = run(view="padding", task="sst2")
    ok(at)
    doc = testing.component_payload(at)
    assert doc["view"] == "padding" and [c["title"] for c in doc["columns"]] == list(pad.MODES)
    assert at.radio(key="pad_kind").value == "lstm" and doc["wide"][0]["lines"][0].startswith("LSTM")
    assert at.text_area(key="pad_text").value == EXAMPLES["sst2"]
    assert {p["type"] for c in doc["columns"] for p in c["panels"]} <= {"text", "bars", "formula", "plotly", "heatmap"}
    m = cells.load_model("sst2-lstm")
    sentences = EXAMPLES["sst2"].splitlines()
    for b, s in enumerate(sentences):
        np.testing.assert_allclose(_panels(doc["columns"][0], "bars")[b]["values"][0], m.analyze(s).probs, atol=1e-4)

    at.radio(key="pad_kind").set_value("gru").run()
    ok(at)
    assert testing.component_payload(at)["wide"][0]["lines"][0].startswith("GRU")
    at.text_area(key="pad_text").set_value("a gem .\n\nnot worth the ticket , sadly .").run()
    ok(at)
    doc = testing.component_payload(at)
    assert doc["T"] == 7 and len(_panels(doc["columns"][1], "bars")) == 2
    testing.report_step(at, 4)
    ok(at)
    assert at.session_state["t"] == 4


def test_the_page_says_what_is_wrong_with_the_input():
    at = run(view="padding", task="trec")
    ok(at)
    assert at.text_area(key="pad_text").value == EXAMPLES["trec"]
    at.text_area(key="pad_text").set_value("\n".join(["Who?"] * 3 + ["Where is it?"] * 7)).run()
    ok(at)
    assert any("10 sentences" in s for s in testing.said(at, ("warning",)))
    assert len(testing.component_payload(at)["columns"][0]["panels"]) == 2 + pad.MAX_SENTENCES
    at.text_area(key="pad_text").set_value("  \n \n").run()
    ok(at)
    assert not testing.mounted(at) and any("one per line" in s for s in testing.said(at, ("info",)))


def test_other_tasks_point_to_the_classifiers():
    at = run(view="padding", task="shakespeare")
    ok(at)
    assert "classifiers" in testing.said(at)[0] and not testing.mounted(at)
    at.button(key="goto_sst2").click().run()
    ok(at)
    assert at.session_state["task"] == "sst2" and testing.component_payload(at)["view"] == "padding"


def test_the_page_shows_the_task_picker_but_not_the_sidebar_text_box():
    at = testing.app_test(view="padding", task="trec", text="kept for the other views")
    assert not at.exception and at.selectbox(key="task").value == "trec"
    assert [t.key for t in at.text_input] == [] and at.session_state["text"] == "kept for the other views"
