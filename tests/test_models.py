"""The torch models, the cells engine on their recurrent parts, and tiny training runs."""

import json

import numpy as np
import pytest
import torch

import cells
from cells import checkpoint, evaluate, splits, train
from cells.models import ModelConfig, build, num_params


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_classifier_ignores_padding(kind):
    torch.manual_seed(0)
    m = build(ModelConfig(kind, vocab_size=20, embed_size=6, hidden_size=5, num_classes=3, attention_size=4)).eval()
    short, long = torch.tensor([3, 4, 5]), torch.tensor([6, 7, 8, 9, 10, 11])
    batch = torch.zeros(2, 6, dtype=torch.long)
    batch[0, :3], batch[1] = short, long
    with torch.no_grad():
        alone, a_alone = m(short[None], torch.tensor([3]))
        both, a_both = m(batch, torch.tensor([3, 6]))
    # packing keeps the padding out of the backward direction and the attention
    torch.testing.assert_close(both[0], alone[0], rtol=0, atol=1e-6)
    assert torch.all(a_both[0, 3:] == 0)
    torch.testing.assert_close(a_both.sum(1), torch.ones(2))


@pytest.mark.parametrize("kind,layers", [("rnn", 1), ("lstm", 2), ("gru", 2)])
def test_cells_engine_traces_the_language_model(kind, layers):
    torch.manual_seed(1)
    m = build(ModelConfig(kind, vocab_size=11, embed_size=4, hidden_size=6, num_layers=layers)).eval()
    ids = torch.tensor([[1, 5, 2, 9, 9, 0, 3]])
    with torch.no_grad():
        logits, _ = m(ids)
        h, _ = m.rnn(m.embedding(ids))
    tr = cells.from_torch(m.rnn).trace(m.embedding.weight.detach().numpy()[ids[0].numpy()])
    assert tr.num_layers == layers and tr.output.shape == (7, 6)
    np.testing.assert_allclose(tr.output, h[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(tr.output @ m.out.weight.detach().numpy().T + m.out.bias.detach().numpy(),
                               logits[0].numpy(), atol=1e-5)


def test_equal_sizes_give_the_expected_parameter_counts():
    E, H, V = 8, 10, 30
    counts = {k: num_params(build(ModelConfig(k, V, E, H))) for k in ("rnn", "lstm", "gru")}
    shared = V * E + H * V + V  # embedding, output layer
    for k, blocks in (("rnn", 1), ("gru", 3), ("lstm", 4)):
        assert counts[k] == shared + blocks * (H * E + H * H + 2 * H)


def _train(tmp_path, name, *extra):
    out = tmp_path / name
    assert train.main([*extra, "--out", str(out), "--threads", "1"]) == 0
    return json.loads(out.with_suffix(".json").read_text())


def test_tiny_classifier_training_is_reproducible(tmp_path):
    args = ["trec", "gru", "--limit", "300", "--epochs", "2", "--embed-size", "8", "--hidden-size", "8"]
    a = _train(tmp_path, "a", *args)
    b = _train(tmp_path, "b", *args)
    weights = {n: (tmp_path / f"{n}.safetensors").read_bytes() for n in "ab"}
    assert weights["a"] == weights["b"]
    assert a["metrics"] == b["metrics"]
    assert 0 <= a["metrics"]["test_accuracy"] <= 1
    assert set(a["data"]) == {"trec/train_5500.label", "trec/TREC_10.label"}
    assert all(len(h) == 64 for h in a["data"].values())
    assert a["labels"] == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"] and a["vocab"][:2] == ["<pad>", "<unk>"]
    model, _ = checkpoint.load_module(tmp_path / "a")
    assert model.cfg.hidden_size == 8 and model.cfg.num_classes == 6
    c = _train(tmp_path, "c", *args, "--seed", "1")
    assert (tmp_path / "c.safetensors").read_bytes() != weights["a"]


def test_tiny_language_model_learns(tmp_path):
    meta = _train(tmp_path, "lm", "shakespeare", "lstm", "--limit", "20000", "--epochs", "2",
                  "--steps-per-epoch", "15", "--hidden-size", "32", "--embed-size", "8")
    m = meta["metrics"]
    # from log(V) ≈ 4.1 nats for a uniform guess, even 30 steps learn the letter frequencies
    assert m["test_nats_per_char"] < np.log(len(meta["vocab"])) - 0.5
    assert m["test_perplexity"] == pytest.approx(np.exp(m["test_nats_per_char"]))
    assert meta["vocab"][0] == "<unk>" and "\n" in meta["vocab"]


def test_sst2_early_stopping_sentences_do_not_leak_into_training():
    from cells.data import Example

    sents = ["a good film", "a bad film", "not a good idea", "the end", "so so"]
    phrases = []
    for s in sents:
        w = s.split()
        phrases += [Example(" ".join(w[i:j]), 1) for i in range(len(w)) for j in range(i + 1, len(w) + 1)]
    assert sorted(e.text for e in splits.sentences(phrases)) == sorted(sents)
    kept, val = splits.sst2_sentence_split(phrases, seed=0, frac=0.4)
    assert len(val) == 2 and all(e.text in sents for e in val)
    for v in val:  # no phrase of a held-out sentence is trained on, even one shared with another sentence
        assert not any(k.text in v.text.split() or f" {k.text} " in f" {v.text} " for k in kept)
    assert len(kept) > 0


def test_eval_recomputes_the_metric_and_writes_the_card(tmp_path, capsys):
    meta = _train(tmp_path, "tiny", "trec", "lstm", "--limit", "200", "--epochs", "1", "--embed-size", "4",
                  "--hidden-size", "4")
    card = tmp_path / "MODELS.md"
    assert evaluate.main([str(tmp_path / "tiny"), "--markdown", str(card), "--threads", "1"]) == 0
    row = f"{100 * meta['metrics']['test_accuracy']:.1f} % accuracy"
    assert row in capsys.readouterr().out
    text = card.read_text()
    assert "| tiny | LSTM |" in text and row in text and "## trec" in text
