"""The Seq2seq and Shapes views: the payload builder (pure) on the bundled dates
encoder–decoders, the input checks and their messages, and both pages in AppTest.

The encoder–decoder itself is held equal to its torch twin in tests/test_seq2seq.py;
here: that what the payload sends is what `translate` computed (each attention row, the
alignment matrix, the top-k, the decoder's gates and states), checked against numpy
rather than against the builder's own helpers, and that teacher forcing and free
running differ where they should.
"""

from __future__ import annotations

import json
import re

import numpy as np
import plotly.graph_objects as go
import pytest

import cells
from viz_app import testing
from viz_app.charts import seq2seq as charts
from viz_app.charts.formula import fill
from viz_app.charts.text import visible
from viz_app.component import payload
from viz_app.component import seq2seq as s2s

run, ok = testing.app_test, testing.assert_no_errors
KINDS = tuple(s2s.MODEL_NAMES)
SOURCE = "Thursday, November 9th 1989"
WRONG = "1989-11-19"  # the right answer is 1989-11-09: a target the models would not write


@pytest.fixture(scope="module")
def models():
    return [cells.load_model(s2s.MODEL_NAMES[k]) for k in KINDS]


@pytest.fixture(scope="module")
def greedy(models):
    r = s2s.read(models, SOURCE)
    return r, s2s.seq2seq_doc(models, r)


@pytest.fixture(scope="module")
def teacher(models):
    r = s2s.read(models, SOURCE, target=WRONG)
    return r, s2s.seq2seq_doc(models, r)


def _panels(col: dict, kind: str) -> list[dict]:
    return [p for p in col["panels"] if p["type"] == kind]


def _filled(panel: dict, t: int, token: str = "") -> list[str]:
    return [fill(line, panel["values"], t, token, panel["digits"]) for line in panel["lines"]]


def _num(x: float, digits: int = 3) -> str:
    """A number as a formula shows it: sent with 6 decimals, printed with `digits`, a real minus sign."""
    return f"{round(float(x), 6):.{digits}f}".replace("-", "−")


def _alignment(col: dict) -> dict:
    """The alignment matrix with the row at step t beside it (bars that change with the step)."""
    return next(p for p in _panels(col, "plotly") if p["fig"]["data"][0]["type"] == "heatmap")


# -- the payload: every number is translate()'s ------------------------------------------------

def test_the_envelope_steps_through_the_longest_output(models, greedy):
    r, doc = greedy
    payload.encode(doc)  # valid JSON: no NaN outside plotly's typed arrays
    outs = [m.translate(SOURCE) for m in models]
    assert [run.output for run in r.runs] == [o.output for o in outs]
    assert doc["view"] == "seq2seq" and doc["T"] == max(len(o.output_tokens) for o in outs)
    assert [c["title"] for c in doc["columns"]] == ["RNN", "LSTM", "GRU"]
    for m, col in zip(models, doc["columns"]):
        assert col["meta"] == f"{m.kind.upper()} · {m.num_params:,} parameters · test exact match " \
                              f"{100 * m.metrics['test_exact_match']:.2f} %"
    assert all(o.output == "1989-11-09" for o in outs), [o.output for o in outs]  # a test date, never seen in training
    for t, label in enumerate(doc["tokens"]):
        assert label.split(" · ") == [o.output_tokens[t] if t < len(o.output_tokens) else "—" for o in outs]
    summary = _filled(doc["wide"][0], 0)
    assert summary[0] == f"«{SOURCE}» (27 characters) → greedy decoding:"
    for line, m, o in zip(summary[1:], models, outs):
        assert line.startswith(f"{m.kind.upper()}: «{o.output}» · log p = {_num(o.logprob)} · 11 steps")


def test_attention_rows_and_alignment_are_the_results(models, greedy):
    r, doc = greedy
    for m, col in zip(models, doc["columns"]):
        want = m.translate(SOURCE).attention  # (T_out, T_in)
        np.testing.assert_allclose(want.sum(axis=1), 1.0, atol=1e-5)
        panel = _alignment(col)
        heat = panel["fig"]["data"][0]
        np.testing.assert_allclose(testing.plotly_array(heat["z"]), want.T, rtol=1e-6, atol=1e-7)
        assert panel["marker"] and panel["stride"] == 1  # the browser marks step t on the matrix
        frames = panel["steps"]["shapes"]  # per step: the bars as one path, then the largest one's label
        T_out, T_in = want.shape
        assert len(frames) == doc["T"] and all(len(f) == 2 and f[0]["type"] == "path" for f in frames[:T_out])
        rects = [re.findall(r"M0,([-\d.e]+)H([-\d.e]+)V([-\d.e]+)H0Z", f[0]["path"]) for f in frames[:T_out]]
        assert all("".join(f"M0,{y0}H{x}V{y1}H0Z" for y0, x, y1 in r) == f[0]["path"] for r, f in zip(rects, frames))
        bars = np.array([[float(x) for _, x, _ in r] for r in rects])  # (T_out, T_in)
        np.testing.assert_allclose(bars, want, atol=5e-5)  # sent with 4 decimals
        np.testing.assert_allclose([[(float(y0), float(y1)) for y0, _, y1 in r] for r in rects],
                                   [[(j - 0.4, j + 0.4) for j in range(T_in)]] * T_out)
        assert {(s_["xref"], s_["yref"]) for f in frames[:T_out] for s_ in f} == {("x2", "y")}  # beside the matrix
        tops = [f[1]["label"]["text"] for f in frames[:T_out]]
        assert tops == [f"{round(float(a.max()), 4):.2f}" for a in want]
        step = _panels(col, "formula")[0]
        for t in range(T_out):
            top = np.argsort(-want[t], kind="stable")[:3]
            line = _filled(step, t)[1]
            assert line == "looks at " + " · ".join(f"«{visible(SOURCE[j])}» at {j} α = {_num(want[t, j])}"
                                                    for j in top), line
        assert _filled(step, 0)[0] == f"t = 0: reads «<s>» (y_{{t−1}}), writes «1» with p = " \
                                      f"{round(float(np.exp(m.translate(SOURCE).token_logprobs[0])), 6):.4f}"


def test_the_top_k_is_the_largest_probabilities(models, greedy):
    r, doc = greedy
    for m, col in zip(models, doc["columns"]):
        res = m.translate(SOURCE)
        bars = _panels(col, "bars")[0]
        order = np.argsort(-res.probs, axis=1, kind="stable")[:, : s2s.TOP_K]  # numpy's, not readout.top_k
        T_out = len(res.output_tokens)
        np.testing.assert_array_equal(np.array(bars["ids"])[:T_out], order)
        np.testing.assert_allclose(np.array(bars["values"])[:T_out], np.take_along_axis(res.probs, order, 1), atol=5e-5)
        assert bars["vocab"] == m.target_vocab and bars["mark"][:T_out] == res.output_ids.tolist()
        assert np.all(np.array(bars["ids"])[:T_out, 0] == res.output_ids)  # greedy writes the top one
        assert bars["detail"][0].startswith(f"wrote «{res.output_tokens[0]}»: p = ")
        assert bars["detail"][0].endswith("(rank 1)")


def test_gates_and_states_are_the_decoder_trace(models, greedy):
    r, doc = greedy
    for m, col in zip(models, doc["columns"]):
        lt = m.translate(SOURCE).decoder.layer(0, 0)
        heat = _panels(col, "heatmap")[0]
        names = [row["name"] for row in heat["rows"]]
        assert names == ["h"] + (["c"] if m.kind == "lstm" else []) + list(cells.GATES[cells.seq2seq.CELL[m.kind]])
        for row, tr in zip(heat["rows"], heat["fig"]["data"]):
            want = lt.h if row["name"] == "h" else lt.c if row["name"] == "c" else lt.gates[row["name"]]
            np.testing.assert_allclose(testing.plotly_array(tr["z"]), np.asarray(want).T, rtol=1e-6)
        gates = _panels(col, "formula")[1]
        line = _filled(gates, 4)[1]
        if m.kind == "rnn":
            assert line.startswith("none: the RNN rewrites its state")
        else:
            assert line == " · ".join(f"{g} {_num(np.mean(lt.gates[g][4]))}" for g in lt.gates), line
        assert _filled(gates, 4)[2].startswith(f"‖s_t‖ = {round(float(np.linalg.norm(lt.h[4])), 6):.3f}")


def test_teacher_forcing_reads_the_target_and_free_running_does_not(models, teacher):
    r, doc = teacher
    payload.encode(doc)
    assert doc["T"] == len(WRONG) + 1 and doc["tokens"] == list(WRONG) + ["</s>"]
    for m, col, run, free in zip(models, doc["columns"], r.runs, r.free):
        tf = m.translate(SOURCE, target=WRONG)
        assert run.output == WRONG and run.mode == "teacher"
        assert free.output == m.translate(SOURCE).output == "1989-11-09" != WRONG
        np.testing.assert_allclose(run.logprob, tf.logprob)
        step = _panels(col, "formula")[0]
        assert _filled(step, 3)[0].startswith("t = 3: reads «8» (the target's y_{t−1}); the target «9» has p = ")
        # at step 8 the target says 1, the model's own choice (reading the same target prefix) is 0
        own = _filled(step, 8)[1]
        assert own.startswith("its own choice here: «0» p = ") and own.endswith("✗ not the target")
        chart = next(p for p in _panels(col, "plotly") if p["fig"]["data"][0]["type"] == "scatter"
                     and p["fig"]["data"][0]["name"].startswith("teacher"))
        teach, own = (np.array(tr["y"], dtype=float) for tr in chart["fig"]["data"])
        y = np.array([m.target_vocab.index(c) for c in WRONG] + [m.target_vocab.index("</s>")])
        np.testing.assert_allclose(teach, tf.probs[np.arange(len(y)), y], rtol=1e-6)
        np.testing.assert_allclose(own, free.probs[np.arange(len(y)), y], rtol=1e-6)  # both 11 steps long
        assert teach[8] < 0.5 and own[8] < 0.5  # neither reading believes the wrong day …
        assert np.all(teach[:8] > 0.5) and "leaves the target at step 8" in chart["caption"]
        assert _panels(col, "bars")[0]["mark"] == y.tolist()  # the target's character is outlined
    summary = _filled(doc["wide"][0], 0)
    assert summary[0] == f"«{SOURCE}» (27 characters), the decoders reading the target «{WRONG}» (teacher forcing):"
    assert all("free running it writes «1989-11-09»" in line for line in summary[1:])


def test_beam_search_lists_its_candidates(models):
    r = s2s.read(models, SOURCE, beam=5)
    doc = s2s.seq2seq_doc(models, r)
    assert _filled(doc["wide"][0], 0)[0].endswith("beam search of width 5:")
    for m, col in zip(models, doc["columns"]):
        res = m.translate(SOURCE, beam=5)
        hyp = _panels(col, "bars")[1]
        assert hyp["labels"] == [o for o, _ in res.hypotheses[: s2s.HYPOTHESES]]
        np.testing.assert_allclose(hyp["values"][0], [np.exp(lp) for _, lp in res.hypotheses[: s2s.HYPOTHESES]],
                                   atol=5e-5)
        assert res.logprob >= m.translate(SOURCE).logprob - 1e-9  # never less likely than greedy


def test_a_column_that_ended_early_says_so(models):
    r = s2s.read(models, SOURCE)
    forced = s2s.Reading(r.source, 1, None, (r.runs[0], r.runs[1], models[2].translate(SOURCE, target="1989")),
                         r.free)  # a shorter third column: 5 steps where the others take 11
    doc = s2s.seq2seq_doc(models, forced)
    col = doc["columns"][2]
    assert doc["T"] == 11 and doc["tokens"][6].endswith(" · —")
    assert _filled(_panels(col, "formula")[0], 7)[-1] == "finished: it wrote </s> at step 4"
    assert _panels(col, "bars")[0]["detail"][7] == "finished after 5 steps"
    frames = _alignment(col)["steps"]["shapes"]
    assert len(frames) == 11 and [s_["type"] for s_ in frames[4]] == ["path", "rect"]  # the bars and their label
    assert [s_["label"]["text"] for s_ in frames[7]] == ["finished after 5 steps"]
    assert _alignment(col)["fig"]["layout"]["xaxis"]["range"] == [-0.5, 10.5]  # the same steps in every column


# -- the input: each bad one has its own message -------------------------------------------------

def _check(models, source=SOURCE, mode=s2s.FREE, beam=1, target=None):
    m = models[0]
    return s2s.check_request(source, mode, beam, target, s2s.alphabet(m), s2s.writable(m))


def _said(req) -> list[tuple[str, str]]:
    return [(msg.level, msg.text) for msg in req.messages]


def test_a_good_request_passes_unchanged(models):
    req = _check(models, "  " + SOURCE + "\n")
    assert req == s2s.Request(SOURCE, 1, None, (), True)
    req = _check(models, "9.11.1989", s2s.TEACHER, beam=7, target=" 1989-11-09 ")
    assert req == s2s.Request("9.11.1989", 1, "1989-11-09", (), True)  # the beam width is free running's


@pytest.mark.parametrize("empty", ["", "   ", "\n\t", None])
def test_empty_source(models, empty):
    req = _check(models, empty)
    assert not req.ready and [lvl for lvl, _ in _said(req)] == ["info"] and "Type a date" in req.messages[0].text


def test_characters_the_models_never_saw(models):
    req = _check(models, "3 Mai 1998 ü\x07<b>")
    assert not req.ready
    (level, text), = _said(req)
    assert level == "error"
    assert text.startswith("The models never saw these characters in training: «ü» (position 11), «U+0007» "
                           "(position 12), «<» (position 13), «>» (position 15).")
    assert "These" not in text and "They read dates written with these 75 characters only: " in text
    assert "«M»" not in text and "«i»" not in text  # "Mai" is spelled with characters it knows
    one = _check(models, "3 May 1998!")
    assert one.messages[0].text.startswith("The models never saw this character in training: «!» (position 10).")
    with pytest.raises(ValueError, match="never saw in training"):  # cells refuses them too
        models[0].translate("3 May 1998!")


def test_a_source_longer_than_the_cap(models):
    long = "Thursday, November 9th 1989 " * 3  # 84 characters
    req = _check(models, long)
    assert not req.ready and _said(req) == [("error", "The source has 83 characters; the models read at most 64 "
                                                      "(the longest date they were trained on has 30). Shorten it.")]
    huge = _check(models, "9" * 2_000_000)  # counted, not split into characters
    assert not huge.ready and "2,000,000 characters" in huge.messages[0].text


def test_a_teacher_forcing_target_with_unknown_characters_or_absurd_length(models):
    req = _check(models, mode=s2s.TEACHER, target="1989/11/09")
    assert not req.ready and _said(req) == [("error", "The target holds characters the decoders never write: «/» "
                                                      "(position 4), «/» (position 7). They write only -0123456789 "
                                                      "(and </s>, which ends every output).")]
    req = _check(models, mode=s2s.TEACHER, target="1" * 500)
    assert not req.ready and _said(req) == [("error", "The target has 500 characters; a decoder writes at most 31 "
                                                      "(then </s>), and an ISO date has 10.")]
    req = _check(models, mode=s2s.TEACHER, target="  ")
    assert not req.ready and _said(req)[0][0] == "info" and "Type the target" in _said(req)[0][1]
    assert _check(models, mode=s2s.TEACHER, target="1" * 31).ready  # 31 + </s> = MAX_OUTPUT steps


@pytest.mark.parametrize("beam, k, level, says", [
    (0, 1, "warning", "Beam width 0 keeps no candidates"),
    (-3, 1, "warning", "Beam width -3 keeps no candidates"),
    (10**9, cells.seq2seq.MAX_BEAM, "warning", "Beam width 1,000,000,000 is wider than this page searches"),
    (2.5, 1, "warning", "Beam width 2.5 is not a whole number"),
    (None, 1, "info", "No beam width given"),
    (5, 5, None, None),
    (5.0, 5, None, None),
])
def test_beam_width_zero_or_huge(models, beam, k, level, says):
    req = _check(models, beam=beam)
    assert req.ready and req.beam == k
    assert [lvl for lvl, _ in _said(req)] == ([level] if level else [])
    if says:
        assert req.messages[0].text.startswith(says)
    if k == cells.seq2seq.MAX_BEAM:
        assert req.messages[0].text.endswith(f"Searching with width {cells.seq2seq.MAX_BEAM}.")


def test_every_problem_is_said_at_once(models):
    req = _check(models, "x" * 70 + "!", s2s.TEACHER, target="19/89")
    assert [lvl for lvl, _ in _said(req)] == ["error", "error", "error"]


# -- Shapes -----------------------------------------------------------------------------------

def test_shapes_carry_the_models_numbers(models):
    clf, lm, lyrics = (cells.load_model(n) for n in ("sst2-lstm", "shakespeare-lstm", "jaychou-lstm"))
    n1 = s2s.shape_n_to_1(clf)
    a = clf.analyze(s2s.SHAPE_INPUTS["classifier"])
    k = int(np.argmax(a.probs))
    assert n1.inputs == tuple(a.tokens) and n1.outputs[:-1] == (None,) * (len(a.tokens) - 1)
    assert n1.outputs[-1] == f"{clf.labels[k]} {a.probs[k]:.2f}"
    np.testing.assert_allclose(n1.values, np.linalg.norm(a.trace.layer(0, 0).h, axis=1), rtol=1e-6)
    nn = s2s.shape_n_to_n(lm)
    a = lm.analyze("ROMEO:")
    assert len(nn.outputs) == len(nn.inputs) == 6
    assert nn.outputs[0] == f"{lm.vocab[int(a.next_token_probs[0].argmax())]} {a.next_token_probs[0].max():.2f}"
    gen = s2s.shape_1_to_n(lyrics)
    text = lyrics.generate("分", n=s2s.GENERATE, temperature=0.0)
    assert gen.feedback and gen.inputs == tuple(visible(c) for c in text[:-1])
    assert [o.split(" ")[0] for o in gen.outputs] == [visible(c) for c in text[1:]]
    nm = s2s.shape_n_to_m(models[1])
    res = models[1].translate("5/3/98")
    assert res.output == "1998-05-03" and nm.split == 6
    assert nm.outputs == (None,) * 6 + tuple(res.output_tokens)
    assert nm.inputs[6:] == ("<s>", *res.output_tokens[:-1])  # each decoder step reads the one before
    np.testing.assert_allclose(nm.values[6:], np.linalg.norm(res.decoder.layer(0, 0).h, axis=1), rtol=1e-6)


def test_unrolled_is_a_pure_figure():
    u = charts.Unrolled("<b>t</b>", ("<i>", "b"), (1.0, 2.0), ("a", "&x"), caption="c", feedback=True)
    fig = charts.unrolled(u)
    assert isinstance(fig, go.Figure)
    texts = [a.text for a in fig.layout.annotations]
    assert "&lt;i&gt;" in texts and "&amp;x" in texts and "<i>" not in texts
    assert any(t.startswith("<b>&lt;b&gt;t&lt;/b&gt;</b>") for t in texts)
    assert sorted(s.type for s in fig.layout.shapes) == ["path", "rect", "rect"]  # two cells, one read-back
    with pytest.raises(ValueError, match="one input, value and output per cell"):
        charts.unrolled(charts.Unrolled("x", ("a",), (1.0, 2.0), (None, None)))


# -- the pages ----------------------------------------------------------------------------------

def test_the_seq2seq_page_mounts_three_columns():
    at = run(view="seq2seq")
    ok(at)
    doc = testing.component_payload(at)
    assert doc["view"] == "seq2seq" and [c["title"] for c in doc["columns"]] == ["RNN", "LSTM", "GRU"]
    assert at.text_input(key="s2s_source").value == s2s.DEFAULT_SOURCE
    assert {p["type"] for c in doc["columns"] for p in c["panels"]} <= {"text", "bars", "formula", "plotly", "heatmap"}
    assert not [s for s in at.selectbox if s.key == "task"] and "text" not in [t.key for t in at.text_input]
    at.text_input(key="s2s_source").set_value("一九九八年五月三日").run()
    ok(at)
    doc = testing.component_payload(at)
    assert _filled(doc["wide"][0], 0)[1].startswith("RNN: «1998-05-03»")
    testing.report_step(at, 4)
    ok(at)
    assert at.session_state["t"] == 4
    at.number_input(key="s2s_beam").set_value(5).run()
    ok(at)
    assert _filled(testing.component_payload(at)["wide"][0], 0)[0].endswith("beam search of width 5:")
    at.radio(key="s2s_mode").set_value(s2s.TEACHER).run()
    ok(at)
    doc = testing.component_payload(at)
    assert doc["tokens"] == list(s2s.DEFAULT_TARGET) + ["</s>"]
    assert [e.label for e in at.expander][:1] == ["Download the traces (JSON, NPZ, CSV)"]


@pytest.mark.parametrize("widgets, level, says", [
    ({"s2s_source": ""}, "info", "Type a date"),
    ({"s2s_source": "3 May 1998 ü"}, "error", "never saw this character"),
    ({"s2s_source": "9" * 65}, "error", "The source has 65 characters"),
    ({"s2s_mode": s2s.TEACHER, "s2s_target": "1998/05/03"}, "error", "never write"),
    ({"s2s_mode": s2s.TEACHER, "s2s_target": "1" * 40}, "error", "The target has 40 characters"),
])
def test_the_page_says_what_is_wrong_and_draws_nothing(widgets, level, says):
    at = run(widgets, view="seq2seq")
    assert not at.exception, [e.message for e in at.exception]
    assert any(says in s for s in testing.said(at, (level,))), testing.said(at)
    assert not testing.mounted(at)


@pytest.mark.parametrize("beam, says", [(0, "Beam width 0 keeps no candidates"), (1000, "Beam width 1,000 is wider")])
def test_the_page_searches_a_sensible_beam_and_says_so(beam, says):
    at = run({"s2s_beam": beam}, view="seq2seq")
    ok(at)
    assert any(s.startswith(says) for s in testing.said(at, ("warning",))), testing.said(at)
    width = 1 if beam == 0 else cells.seq2seq.MAX_BEAM
    head = _filled(testing.component_payload(at)["wide"][0], 0)[0]
    assert head.endswith("greedy decoding:" if width == 1 else f"beam search of width {width}:"), head


def test_the_shapes_page_links_each_family_to_its_view():
    at = run(view="shapes")
    ok(at)
    charts_ = at.get("plotly_chart")
    assert len(charts_) == 4
    titles = [next(a["text"] for a in json.loads(c.proto.spec)["layout"]["annotations"] if a["text"].startswith("<b>"))
              for c in charts_]
    assert [t.split("</b>")[0][3:] for t in titles] == ["N vs 1 · a classifier", "N vs N · a label per step",
                                                       "1 vs N · generation", "N vs M · an encoder–decoder"]
    links = at.get("page_link")
    assert [l.proto.page for l in links] == ["attention", "language_model", "language_model", "seq2seq"]
    at.radio(key="shapes_kind").set_value("gru").run()
    ok(at)
    notes = json.loads(at.get("plotly_chart")[3].proto.spec)["layout"]["annotations"]
    assert "dates-gru reads 6 characters" in notes[-2]["text"]
