"""The bundled models: analyze() equals the torch forward, invariants, generation, sharing."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import cells
from cells import checkpoint, evaluate, splits, zoo

NAMES = [f"{t}-{k}" for t in ("sst2", "trec", "shakespeare", "jaychou") for k in ("rnn", "lstm", "gru")]
DATES = [f"dates-{k}" for k in ("rnn", "lstm", "gru")]  # the encoder–decoders (cells.seq2seq; tests/test_seq2seq.py)
CLASSIFIERS = [n for n in NAMES if n.startswith(("sst2", "trec"))]
LMS = [n for n in NAMES if n not in CLASSIFIERS]
TEXT = {"sst2": "it's not a bad film -- (really) , though the plot ca n't hold warmly", "trec": "Who wrote Hamlet in 1600 ?",
        "shakespeare": "ROMEO:\nWhat light through yonder window breaks? 分", "jaychou": "分开后我不能再想你 ok"}


def test_the_twelve_models_and_the_dates_models_are_bundled():
    assert cells.list_models() == NAMES + DATES


def test_bundled_weights_fit_in_25_mb():
    files = [p for p in zoo.WEIGHTS.iterdir() if p.suffix in (".safetensors", ".json")]
    sine = [f"sine-{k}" for k in zoo.KINDS]  # the numeric example (cells.own.sine)
    assert sorted({p.stem for p in files}) == sorted(NAMES + sine + DATES) and len(files) == 2 * len(NAMES + sine + DATES)
    assert sum(p.stat().st_size for p in files) <= 25e6


def _torch_ids(m, a):
    return torch.from_numpy(m.encode(a.text))[None]  # (1, T): through the vocabulary and its backoff


def _module(name):
    """The torch module behind a bundled model, built from the same checkpoint."""
    return checkpoint.load_module(zoo.WEIGHTS / name)[0]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_analysis_equals_torch_forward(name):
    m = cells.load_model(name)
    a = m.analyze(TEXT[m.task])
    ids = _torch_ids(m, a)
    module = _module(name)
    with torch.no_grad():
        logits, attn = module(ids, torch.tensor([ids.shape[1]]))
        h, _ = module.rnn(module.embedding(ids))
    np.testing.assert_allclose(a.trace.output, h[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(a.attention, attn[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(a.probs, torch.softmax(logits, 1)[0].numpy(), atol=1e-5)
    assert a.attention.shape == a.attention_scores.shape == (len(a.tokens),)
    assert a.probs.shape == (len(m.labels),) and a.next_token_probs is None
    assert a.attention.sum() == pytest.approx(1, abs=1e-6) and a.probs.sum() == pytest.approx(1, abs=1e-6)
    assert a.embeddings.shape == (len(a.tokens), m.config["embed_size"])
    assert a.trace.num_directions == 2 and m.kind in a.trace.kind


@pytest.mark.parametrize("name", LMS)
def test_language_model_analysis_equals_torch_forward(name):
    m = cells.load_model(name)
    a = m.analyze(TEXT[m.task])
    ids = _torch_ids(m, a)
    with torch.no_grad():
        logits, _ = _module(name)(ids)
    p = a.next_token_probs
    assert p.shape == (len(a.tokens), len(m.vocab)) and a.probs is None and a.attention is None
    np.testing.assert_allclose(p, torch.softmax(logits, -1)[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-6)


def test_tokens_spans_and_unknowns():
    lm = cells.load_model("shakespeare-gru")
    text = TEXT["shakespeare"]
    a = lm.analyze(text)
    assert [text[s:e] for s, e in a.spans] == a.tokens
    assert a.unknown == [len(a.tokens) - 1]  # 分 is not English
    sst = cells.load_model("sst2-lstm")
    b = sst.analyze("Don't  miss it!")
    assert b.tokens == ["do", "n't", "miss", "it", "!"] and b.spans[1] == (2, 5)


@pytest.mark.parametrize("name", ["sst2-rnn", "sst2-lstm", "sst2-gru"])
def test_unseen_inflections_read_as_their_base_form(name):
    m = cells.load_model(name)
    assert "warm" in m.vocab and "warmly" not in m.vocab
    a, b = m.analyze("a warmly acted film"), m.analyze("a warm acted film")
    assert dict(a.read_as) == {1: "warm"} and a.unknown == [] and a.tokens[1] == "warmly"
    assert np.array_equal(a.embeddings, b.embeddings) and np.array_equal(a.probs, b.probs)
    with pytest.raises(TypeError):
        a.read_as[0] = "x"  # shared with every session: read-only
    assert cells.load_model("trec-gru").analyze("a warmly acted film").read_as == {}  # no backoff there


@pytest.mark.parametrize("name", ["sst2-rnn", "sst2-lstm", "sst2-gru"])
def test_a_negating_ending_is_read_not_dropped(name):
    a = cells.load_model(name).analyze("a heartless , laughless movie .")
    assert a.tokens[1] == "heartless" and a.tokens[3] == "laughless"
    assert set(a.read_as.values()).isdisjoint({"heart", "laugh"})  # known words, or <unk>, never the opposite


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_text_is_a_clear_error(text):
    with pytest.raises(ValueError, match="empty"):
        cells.load_model("trec-gru").analyze(text)


def test_sentiment_models_read_obvious_reviews():
    for name in ("sst2-rnn", "sst2-lstm", "sst2-gru"):
        m = cells.load_model(name)
        pos = m.labels.index("positive")
        assert m.analyze("a moving , funny and beautifully acted film").probs[pos] > 0.8, name
        assert m.analyze("a boring , stupid mess").probs[pos] < 0.2, name


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_held_out_accuracy_is_what_the_sidecar_claims(name):
    m = cells.load_model(name)
    _, _, held, _ = splits.classifier_data(m.task, None, 0, 0.0)
    seqs = [m.encode(e.text) for e in held]
    acc = evaluate.accuracy(_module(name), seqs, np.array([e.label for e in held]))
    key = "dev_accuracy" if m.task == "sst2" else "test_accuracy"
    assert acc == pytest.approx(m.metrics[key], abs=1e-9)
    # Floors guard against regressions. TREC meets issue 12's target (LSTM, GRU ≥ 88 %); SST-2 reaches
    # 82.8-83.4 % with GloVe vectors, short of the 85.5 % (LSTM, GRU) and 83 % (RNN) asked (docs/MODELS.md).
    floor = {"sst2": 0.82, "trec": 0.85 if m.kind == "rnn" else 0.88}[m.task]
    assert acc >= floor


@pytest.mark.parametrize("task", zoo.TASKS)
def test_a_task_s_models_share_the_vocabulary_today_s_code_builds(task):
    metas = [checkpoint.read_meta(zoo.WEIGHTS / f"{task}-{k}") for k in zoo.KINDS]
    first = metas[0]
    assert all(m["vocab"] == first["vocab"] and m.get("backoff") == first.get("backoff") for m in metas)
    if first["level"] == "word":
        train = splits.classifier_data(task, None, first["seed"])[0]
    else:
        train = splits.lm_data(task, None)[0][0]
    assert splits.vocab_of(train, first["train"]["min_freq"], first["train"]["max_vocab"]) == first["vocab"]


@pytest.mark.parametrize("kind", zoo.KINDS)
def test_every_trec_model_reads_numbers_as_one_known_word(kind):
    # "2.5" and "8/28/1941" became one token each; models built before that read them as <unk>
    m = cells.load_model(f"trec-{kind}")
    a = m.analyze("What happened on 8/28/1941 to 2.5 million people ?")
    assert a.tokens[3:6] == ["8/28/1941", "to", "2.5"] and 3 not in a.unknown and 5 not in a.unknown


def test_arrays_are_read_only_and_metadata_is_copied():
    m = cells.load_model("sst2-gru")
    assert cells.load_model("sst2-gru") is m  # cached, shared
    a = m.analyze("not good")
    for arr in (a.attention, a.attention_scores, a.probs, a.embeddings, a.trace.output):
        with pytest.raises(ValueError):
            arr[0] = 0
    m.vocab.append("zzz")
    m.labels.clear()
    m.metrics.clear()
    assert m.vocab[-1] != "zzz" and m.labels == ["negative", "positive"] and m.metrics
    for w in m.recurrent.weights:
        assert not w.w_ih.flags.writeable


def test_generation_is_seeded():
    lm = cells.load_model("jaychou-lstm")
    a = lm.generate("分开", n=50, temperature=0.8, seed=0)
    assert a == lm.generate("分开", n=50, temperature=0.8, seed=0)
    assert a.startswith("分开") and len(a) == 52 and "<unk>" not in a
    assert a != lm.generate("分开", n=50, temperature=0.8, seed=1)


@pytest.mark.parametrize("name", ["shakespeare-lstm", "jaychou-gru"])
def test_temperature_zero_is_greedy(name):
    lm = cells.load_model(name)
    prefix = "ROMEO:" if "shake" in name else "分开"
    g = lm.generate(prefix, n=8, temperature=0, seed=3)
    assert g == lm.generate(prefix, n=8, temperature=0, seed=99)  # no randomness
    unk = lm.vocab.index("<unk>")
    for i in range(8):  # each character is the argmax of analyze() on everything before it
        p = np.array(lm.analyze(g[: len(prefix) + i]).next_token_probs[-1])
        p[unk] = 0
        assert lm.vocab[int(p.argmax())] == g[len(prefix) + i]


def test_top_k_one_is_greedy_too():
    lm = cells.load_model("shakespeare-gru")
    assert lm.generate("KING", n=20, temperature=1.0, top_k=1, seed=5) == lm.generate("KING", n=20, temperature=0)


def test_empty_and_unknown_prefixes():
    lm = cells.load_model("shakespeare-rnn")
    g = lm.generate("", n=30, seed=0)
    assert len(g) == 30
    with pytest.warns(UserWarning, match="分"):
        g = lm.generate("分 said", n=10, seed=0)
    assert g.startswith("分 said") and len(g) == 16


@pytest.mark.parametrize("kwargs", [dict(n=2001), dict(n=-1), dict(n=2.5), dict(temperature=-0.1),
                                    dict(temperature=float("nan")), dict(top_k=0)])
def test_generation_arguments_are_bounded(kwargs):
    with pytest.raises(ValueError):
        cells.load_model("jaychou-rnn").generate("分开", **kwargs)


def test_classifiers_do_not_generate():
    with pytest.raises(ValueError, match="not a language model"):
        cells.load_model("trec-lstm").generate("What", n=5)


def test_untrained_model_reads_any_text():
    u = cells.untrained_model("lstm", hidden_size=12, forget_bias=1.0, seed=4)
    a = u.analyze("分开 👨‍👩‍👧 ok")
    assert a.tokens == ["分", "开", " ", "👨‍👩‍👧", " ", "o", "k"] and a.unknown == []
    assert a.trace.output.shape == (7, 12) and a.probs is None and a.next_token_probs is None
    assert u.task == "untrained" and u.kind == "lstm" and not u.is_classifier
    np.testing.assert_array_equal(a.trace.output, cells.untrained_model("lstm", 12, forget_bias=1.0, seed=4)
                                  .analyze("分开 👨‍👩‍👧 ok").trace.output)
    assert a.embeddings[0].tolist() == u.analyze("分").embeddings[0].tolist()  # one vector per character
    b_if = u.recurrent.weights[0].b_ih[12:24]
    assert (b_if > 0.5).all()  # forget_bias = 1 added to U(−k, k), k = 1/√12
    with pytest.raises(ValueError):
        u.generate("a")
    with pytest.raises(ValueError, match="unknown cell kind"):
        cells.untrained_model("transformer")


def test_a_checkpoint_path_loads_too(tmp_path):
    src = zoo.WEIGHTS / "trec-rnn"
    for suffix in (".json", ".safetensors"):
        (tmp_path / f"mine{suffix}").write_bytes(src.with_suffix(suffix).read_bytes())
    m = cells.load_model(tmp_path / "mine.json")
    assert m.name == "mine" and m.task == "trec" and m.kind == "rnn"
    assert m.analyze("Who is it ?").probs.shape == (6,)


def test_unknown_model_name_lists_the_bundled_ones():
    with pytest.raises(checkpoint.CheckpointError, match="sst2-lstm"):
        cells.load_model("sst3-lstm")


def test_attention_params_rebuild_the_attention():
    m = cells.load_model("trec-lstm")
    W, b, v = m.attention_params
    a = m.analyze("who wrote hamlet ?")
    np.testing.assert_allclose(np.tanh(a.trace.output @ W.T + b) @ v, a.attention_scores, atol=1e-5)
    assert not W.flags.writeable
    assert cells.load_model("jaychou-gru").attention_params is None


@pytest.mark.parametrize("temperature", [1e-320, 1e-12, zoo.TEMPERATURE_FLOOR / 2])
def test_a_temperature_below_the_floor_is_greedy(temperature):
    lm = cells.load_model("shakespeare-lstm")
    g = lm.generate("ROMEO:", n=20, temperature=temperature, seed=7)
    assert g == lm.generate("ROMEO:", n=20, temperature=0)


def test_the_sampler_never_divides_before_subtracting_the_maximum():
    rng = np.random.default_rng(0)
    z = np.array([-np.inf, 3.0, 1e300, 1e300 - 1e290])
    assert zoo.pick(z, zoo.TEMPERATURE_FLOOR, None, rng) in (2, 3)  # finite, no NaN, never the −inf one
    counts = np.bincount([zoo.pick(np.log([0.2, 0.8]), 1.0, None, rng) for _ in range(4000)], minlength=2)
    assert abs(counts[1] / 4000 - 0.8) < 0.03  # temperature 1 samples the model's own distribution


def test_prefix_probs_read_each_prefix_afresh():
    m = cells.load_model("trec-gru")
    p = m.prefix_probs("who wrote hamlet ?")
    want = [m.analyze(t).probs for t in ("who", "who wrote", "who wrote hamlet", "who wrote hamlet ?")]
    np.testing.assert_allclose(p, want, atol=1e-6)
    assert not p.flags.writeable
    with pytest.raises(ValueError, match="not a trained classifier"):
        cells.load_model("jaychou-gru").prefix_probs("分开")
    with pytest.raises(ValueError, match=str(zoo.MAX_PREFIXES)):
        m.prefix_probs("a " * (zoo.MAX_PREFIXES + 1))


def test_loading_and_using_a_model_needs_no_torch():
    code = ("import sys, cells; m = cells.load_model('jaychou-lstm'); m.analyze('分开'); m.generate('分开', n=5); "
            "cells.load_model('sst2-gru').prefix_probs('not bad'); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
