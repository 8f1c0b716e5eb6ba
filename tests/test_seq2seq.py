"""The dates encoder–decoders: translate() equals the torch model it was trained as, its
invariants, beam search, held-out exact match, and a clear error for every bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import cells
from cells import attention as att
from cells import checkpoint, dates, seq2seq, zoo
from cells.train_seq2seq import TARGET_VOCAB, batch, exact_match, outputs, source_vocab

NAMES = [f"dates-{k}" for k in zoo.KINDS]
SOURCES = ["3 May 1998", "1998年5月3日", "05/03/98", "Sunday, May 3rd 1998", "May 3, 1998", "3.5.1998",
           "一九九八年五月三日星期日"]
TOL = 1e-5


@pytest.fixture(scope="module", params=NAMES)
def pair(request):
    """(numpy model, torch module) of one bundled dates model, from the same checkpoint."""
    return cells.load_model(request.param), checkpoint.load_module(zoo.WEIGHTS / request.param)[0]


def _torch_teacher(net, source, target):
    """The torch model's probs (T_out, V), attention (T_out, T_in), annotations and decoder states."""
    src, lengths, y = batch([dates.Example(source, target, "", None)], source_vocab())
    y_in = y[:, :-1]
    with torch.no_grad():
        enc = net.encode(src, lengths)
        state, probs, attn, states, ctx = enc["state"], [], [], [], []
        for i in range(y_in.shape[1]):
            z, state, a = net.step(y_in[:, i], state, enc)
            probs.append(torch.softmax(z, -1)[0])
            attn.append(a[0])
            states.append(state[0][0])
            ctx.append((a[:, None] @ enc["H"])[0, 0])
        logits, attn_fwd = net(src, lengths, y_in)
    np.testing.assert_allclose(torch.stack(attn).numpy(), attn_fwd[0].numpy(), atol=1e-7)  # step == forward
    return {"probs": torch.stack(probs).numpy(), "attention": torch.stack(attn).numpy(), "H": enc["H"][0].numpy(),
            "s": torch.stack(states).numpy(), "s0": enc["state"][0][0].numpy(), "context": torch.stack(ctx).numpy()}


# -- parity with torch --------------------------------------------------------------------------

@pytest.mark.parametrize("source, target", [("3 May 1998", "1998-05-03"), ("一九九八年五月三日星期日", "1998-05-03"),
                                            ("12/31/49", "2049-12-31"), ("3.5.1998", "1999-05-03")])
def test_teacher_forcing_equals_torch(pair, source, target):
    m, net = pair
    r = m.translate(source, target=target)
    want = _torch_teacher(net, source, target)
    np.testing.assert_allclose(r.encoder.output, want["H"], atol=TOL)
    np.testing.assert_allclose(r.decoder.layer(0).h0, want["s0"], atol=TOL)
    np.testing.assert_allclose(r.decoder.output, want["s"], atol=TOL)
    np.testing.assert_allclose(r.attention, want["attention"], atol=TOL)
    np.testing.assert_allclose(r.context, want["context"], atol=TOL)
    np.testing.assert_allclose(r.probs, want["probs"], atol=TOL)
    logp = np.log(want["probs"][np.arange(len(r.output_ids)), r.output_ids]).sum()
    assert r.logprob == pytest.approx(float(logp), abs=1e-4)
    assert r.mode == "teacher" and r.output == target and r.output_tokens == [*target, "</s>"]


def test_greedy_decoding_equals_torch(pair):
    m, net = pair
    ex = list(dates.held_out("test")[:: len(dates.held_out("test")) // 120])
    want = outputs(net, ex, source_vocab())
    got = [m.translate(e.source).output for e in ex]
    assert got == want
    for s in SOURCES:  # and each greedy step's numbers are torch's for that output
        r = m.translate(s)
        assert r.mode == "greedy" and r.finished
        t = _torch_teacher(net, s, r.output)
        np.testing.assert_allclose(r.probs, t["probs"], atol=TOL)
        np.testing.assert_allclose(r.attention, t["attention"], atol=TOL)
        np.testing.assert_allclose(r.decoder.output, t["s"], atol=TOL)
        assert (r.probs[:, TARGET_VOCAB.index("<s>")] < r.probs.max(1)).all()
        assert [TARGET_VOCAB[i] for i in r.probs.argmax(1)] == r.output_tokens


# -- the contract and its invariants ------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_result_shapes_and_invariants(name):
    m = cells.load_model(name)
    assert m.task == "dates" and m.kind in name and m.level == "char" and m.is_seq2seq
    r = m.translate("Sunday, May 3rd 1998")
    T_in, T_out, H2, V = 20, len(r.output_tokens), 2 * m.config["hidden_size"], len(m.target_vocab)
    assert r.source_tokens == list("Sunday, May 3rd 1998") and len(r.source_spans) == T_in
    assert r.output_tokens[-1] == "</s>" and r.output == "".join(r.output_tokens[:-1])
    assert r.attention.shape == r.scores.shape == (T_out, T_in) and r.context.shape == (T_out, H2)
    assert r.probs.shape == (T_out, V) and r.token_logprobs.shape == r.output_ids.shape == (T_out,)
    np.testing.assert_allclose(r.attention.sum(1), 1, atol=1e-6)
    np.testing.assert_allclose(r.probs.sum(1), 1, atol=1e-6)
    assert (r.attention >= 0).all()
    # the encoder: a bidirectional trace of the source embeddings; the decoder: one step per output token
    assert r.encoder.T == T_in and r.encoder.num_directions == 2 and r.encoder.output.shape == (T_in, H2)
    assert r.decoder.T == T_out and r.decoder.num_directions == 1 and r.decoder.output.shape == (T_out, H2)
    assert r.decoder.kind == zoo.CELL[m.kind] and r.decoder.gate_names == cells.GATES[r.decoder.kind]
    # the equations of cells/seq2seq.py, one by one
    H, p, w = np.asarray(r.encoder.output), m.attention_params, m._w
    prev = [TARGET_VOCAB.index("<s>"), *r.output_ids[:-1]]
    for i in range(T_out):
        s_prev = r.decoder.layer(0).h_prev(i)
        np.testing.assert_allclose(att.additive(H, p["W"], p["v"], p["b"], q=s_prev, W_q=p["W_q"]), r.scores[i], atol=1e-5)
        np.testing.assert_allclose(r.attention[i], att.softmax(r.scores[i]), atol=1e-6)
        np.testing.assert_allclose(r.context[i], r.attention[i] @ H, atol=1e-5)
        np.testing.assert_allclose(r.decoder.x[i], np.r_[w["dec_embedding.weight"][prev[i]], r.context[i]], atol=0)
    logits = np.c_[r.decoder.output, r.context] @ w["out.weight"].T + w["out.bias"]
    np.testing.assert_allclose(r.probs, zoo.softmax(logits), atol=1e-6)
    assert r.logprob == pytest.approx(np.log(r.probs[np.arange(T_out), r.output_ids]).sum(), abs=1e-4)
    assert r.logprob == pytest.approx(r.token_logprobs.sum(), abs=1e-12)
    # the decoder trace is what the cells engine computes from the same inputs and first state
    again = m.decoder.trace(r.decoder.x, h0=r.decoder.layer(0).h0[None],
                            c0=None if m.kind != "lstm" else r.decoder.layer(0).c0[None])
    np.testing.assert_allclose(again.output, r.decoder.output, atol=1e-6)
    for g in r.decoder.gate_names:
        np.testing.assert_allclose(again.layer(0).gates[g], r.decoder.layer(0).gates[g], atol=1e-6)
    assert m.encoder.trace(m._w["embedding.weight"][source_vocab().encode(r.source_tokens)[0]]).output.tolist() \
        == r.encoder.output.tolist()


def test_arrays_are_read_only_and_the_model_is_shared():
    m = cells.load_model("dates-gru")
    assert cells.load_model("dates-gru") is m
    r = m.translate("3 May 1998")
    for a in (r.attention, r.scores, r.context, r.probs, r.token_logprobs, r.output_ids, r.encoder.output,
              r.decoder.output, r.decoder.x, *m.attention_params.values()):
        with pytest.raises(ValueError):
            a[0] = 0
    m.vocab.append("x")
    m.target_vocab.clear()
    m.metrics.clear()
    assert m.vocab[-1] != "x" and m.target_vocab and m.metrics


def test_surrounding_whitespace_is_not_read():
    m = cells.load_model("dates-lstm")
    r = m.translate("  3 May 1998\n")
    assert r.source == "3 May 1998" and r.source_tokens[0] == "3"
    np.testing.assert_array_equal(r.attention, m.translate("3 May 1998").attention)


# -- beam search ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_beam_search(name):
    m = cells.load_model(name)
    for s in [*SOURCES, "2/29/00", "十二月", "Saturday, 3 May 1998"]:
        g = m.translate(s)
        one = m.beam_search(s, 1)
        assert (one[0].output, one[0].finished) == (g.output, g.finished)
        assert one[0].logprob == pytest.approx(g.logprob, abs=1e-9)
        for k in (2, 5):
            b = m.translate(s, beam=k)
            assert b.mode == "beam" and b.beam == k
            assert b.logprob >= g.logprob - 1e-9
            forced = m.translate(s, target=b.output)
            assert b.logprob == forced.logprob  # the result is its own output, teacher-forced
            np.testing.assert_array_equal(b.probs, forced.probs)
            np.testing.assert_array_equal(b.attention, forced.attention)
            assert b.hypotheses[0] == (b.output, pytest.approx(b.logprob, abs=1e-9))
            lps = [lp for _, lp in b.hypotheses]
            assert lps == sorted(lps, reverse=True) and len({o for o, _ in b.hypotheses}) == len(lps)
            for out, lp in b.hypotheses[:3]:  # every candidate's score is its teacher-forced log p
                assert lp == pytest.approx(m.translate(s, target=out).logprob, abs=1e-9)


# -- held-out accuracy ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_held_out_exact_match_is_what_the_sidecar_claims(name):
    m = cells.load_model(name)
    net = checkpoint.load_module(zoo.WEIGHTS / name)[0]
    acc = exact_match(net, list(dates.held_out("test")), source_vocab())
    assert acc == pytest.approx(m.metrics["test_exact_match"], abs=1e-12)
    assert acc >= (0.95 if m.kind != "rnn" else 0.5)  # the brief: LSTM and GRU ≥ 95 %; the RNN as it is


@pytest.mark.parametrize("name", ["dates-lstm", "dates-gru"])
def test_the_brief_s_examples(name):
    m = cells.load_model(name)
    for s in SOURCES:
        assert m.translate(s).output == "1998-05-03", s
        assert m.translate(s, beam=4).output == "1998-05-03", s


def test_every_dates_model_shares_its_vocabularies_with_today_s_code():
    for name in NAMES:
        meta = checkpoint.read_meta(zoo.WEIGHTS / name)
        assert meta["vocab"] == list(source_vocab().itos) and meta["target_vocab"] == list(TARGET_VOCAB)
        assert meta["storage"] == "float16" and meta["level"] == "char" and meta["task"] == "dates"


def test_the_three_checkpoints_are_small():
    size = sum((zoo.WEIGHTS / f"{n}{s}").stat().st_size for n in NAMES for s in (".json", ".safetensors"))
    assert size <= 1.5e6


# -- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(source=""), "empty"),
    (dict(source="  \n\t "), "empty"),
    (dict(source=None), "must be text"),
    (dict(source=b"3 May 1998"), "must be text"),
    (dict(source="3 Mäy 1998"), r"never saw in training: 'ä' \(position 3\)"),
    (dict(source="3 May 1998 🙂"), "'🙂' \\(position 11\\)"),
    (dict(source="1" * (seq2seq.MAX_SOURCE + 1)), f"at most {seq2seq.MAX_SOURCE}"),
    (dict(source="3 May 1998", target="1998/05/03"), r"never writes: '/' \(position 4\), '/' \(position 7\)"),
    (dict(source="3 May 1998", target="</s>"), "never writes"),
    (dict(source="3 May 1998", target="1" * seq2seq.MAX_OUTPUT), f"at most {seq2seq.MAX_OUTPUT - 1}"),
    (dict(source="3 May 1998", target="1" * 10**6), "at most"),
    (dict(source="3 May 1998", target=19980503), "must be text"),
    (dict(source="3 May 1998", beam=0), "beam must be a whole number from 1"),
    (dict(source="3 May 1998", beam=-3), "beam must be"),
    (dict(source="3 May 1998", beam=seq2seq.MAX_BEAM + 1), f"to {seq2seq.MAX_BEAM}"),
    (dict(source="3 May 1998", beam=10**9), "beam must be"),
    (dict(source="3 May 1998", beam=2.0), "beam must be"),
    (dict(source="3 May 1998", beam=True), "beam must be"),
    (dict(source="3 May 1998", beam=3, target="1998-05-03"), "teacher forcing"),
])
def test_bad_input_is_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cells.load_model("dates-lstm").translate(**kwargs)


def test_the_longest_source_and_target_are_accepted():
    m = cells.load_model("dates-rnn")
    assert m.translate("1" * seq2seq.MAX_SOURCE).encoder.T == seq2seq.MAX_SOURCE
    r = m.translate("3 May 1998", target="1" * (seq2seq.MAX_OUTPUT - 1))
    assert r.decoder.T == seq2seq.MAX_OUTPUT and r.finished
    assert m.translate("3 May 1998", target="").output_tokens == ["</s>"]  # how likely the empty output is


def test_beam_search_checks_its_width_too():
    with pytest.raises(ValueError, match="beam must be"):
        cells.load_model("dates-gru").beam_search("3 May 1998", 0)


# -- the checkpoint and loading ------------------------------------------------------------------

def test_list_models_and_load_model_know_the_dates_models():
    assert cells.list_models()[-3:] == NAMES
    assert isinstance(cells.load_model("dates-rnn"), seq2seq.Seq2seq)


def test_a_seq2seq_sidecar_is_checked_like_any_other(tmp_path):
    src = zoo.WEIGHTS / "dates-rnn"
    for suffix in (".json", ".safetensors"):
        (tmp_path / f"mine{suffix}").write_bytes(src.with_suffix(suffix).read_bytes())
    m = cells.load_model(tmp_path / "mine")
    assert m.name == "mine" and m.translate("3 May 1998").output == cells.load_model("dates-rnn").translate("3 May 1998").output
    jpath = tmp_path / "mine.json"
    blob = (tmp_path / "mine.safetensors").read_bytes()
    good = json.loads(jpath.read_text())

    def reseal(**changes):
        side = {k: v for k, v in {**good, **changes}.items() if v is not None}
        side["sha256"] = checkpoint.digest(side, blob)
        jpath.write_text(json.dumps(side))

    for changes, message in [(dict(target_vocab=None), "target vocabulary if and only if"),
                             (dict(target_vocab=good["target_vocab"][:-1]), "distinct non-empty strings"),
                             (dict(target_vocab=["<s>", "x", *good["target_vocab"][2:]]), "start and end markers"),
                             (dict(config={**good["config"], "num_classes": 2}), "no classes and one layer"),
                             (dict(config={**good["config"], "target_vocab_size": 14},
                                   target_vocab=[*good["target_vocab"], "/"]), "do not fit its config")]:
        reseal(**changes)
        with pytest.raises(checkpoint.CheckpointError, match=message):
            checkpoint.load(jpath)
    other = checkpoint.read_meta(zoo.WEIGHTS / "trec-rnn")
    with pytest.raises(checkpoint.CheckpointError, match="target vocabulary if and only if"):
        checkpoint.check_meta({**other, "target_vocab": ["<s>", "</s>"]}, "x.json")


def test_translating_needs_no_torch():
    code = ("import sys, cells; m = cells.load_model('dates-lstm'); r = m.translate('3 May 1998', beam=3); "
            "m.translate('3 May 1998', target='1998-05-03'); print(r.output, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1998-05-03", "False"]
