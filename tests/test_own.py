"""Models that are not the bundled twelve (cells/own.py) and the numbers they read (cells/sequences.py):
each equals torch on the same weights, and every bad input gets a clear ValueError."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

import cells
from cells import lab, own, sequences
from cells.tokens import Vocab


# -- numbers as text ------------------------------------------------------------------------------

@pytest.mark.parametrize("I", [1, 3])
@pytest.mark.parametrize("shape", list(sequences.SHAPES))
def test_generated_sequences_read_back_as_written(shape, I):
    text = sequences.generate(shape, 40, I, seed=3)
    x, toks = sequences.parse(text, I)
    assert x.shape == (40, I) and len(toks) == 40
    assert sequences.parse(sequences.write(x), I)[0].tolist() == x.tolist()
    for t in toks:  # each step's span is its own numbers
        assert [float(v) for v in text[t.start:t.end].replace(",", " ").split()] == x[toks.index(t)].tolist()


def test_steps_may_be_lines_or_semicolons_and_numbers_commas_or_spaces():
    want = [[0.5, 1.0], [-0.25, 3.0], [1e-3, 2.0]]
    for text in ("0.5, 1\n-0.25 3\n1e-3,2", "0.5 1; -0.25, 3;1e-3 2", "  0.5,1 ;\n\n -0.25  3 ; 1e-3 , 2 "):
        assert sequences.parse(text, 2)[0].tolist() == want
    assert sequences.parse("1 2, 3", 1)[0][:, 0].tolist() == [1, 2, 3]  # one line, one input: each number a step
    assert sequences.write([[-0.00001], [-0.5], [2.0]]) == "0, -0.5, 2"  # no "-0"


@pytest.mark.parametrize("text, I, says", [
    ("", 1, "no numbers"),
    ("   ;  \n", 2, "no numbers"),
    ("1, 2, x3", 1, "step 2: «x3» is not a number"),
    ("1, 2; 3", 2, "step 1 has 1 number(s) («3»); this model reads 2 per step"),
    ("1, nan", 1, "step 1: «nan» is not a finite number"),
    ("inf", 1, "not a finite number"),
    (", ".join(["1"] * (sequences.MAX_STEPS + 1)), 1, "at most 2,000"),
])
def test_bad_numbers_say_where_and_why(text, I, says):
    with pytest.raises(ValueError, match=None) as e:
        sequences.parse(text, I)
    assert says in str(e.value)


def test_csv_rows_become_steps_and_a_header_is_skipped():
    assert sequences.from_csv(b"sin,cos\n0,1\n0.5,-0.5\n", 2) == "0,1; 0.5,-0.5"
    assert sequences.from_csv("\ufeff1\n2\n\n3\n".encode(), 1) == "1, 2, 3"  # a BOM and blank lines


@pytest.mark.parametrize("data, I, says", [
    (b"1,2\n3\n", 2, "row 2 of the CSV has 1 column(s); this model reads 2"),
    (b"1,2\n3,x\n", 2, "«x» is not a number"),
    (b"a,b\n", 2, "no rows of numbers"),
    (b"\xff\xfe1,2", 2, "not a UTF-8 CSV"),
    (b"1\n" * (sequences.MAX_STEPS + 1), 1, "at most 2,000 steps"),
    (b"1" * (sequences.MAX_CSV_BYTES + 1), 1, "at most 1 MB"),
])
def test_bad_csv_files_are_refused_with_the_reason(data, I, says):
    with pytest.raises(ValueError) as e:
        sequences.from_csv(data, I)
    assert says in str(e.value)


# -- own models -----------------------------------------------------------------------------------

def _torch_lstm(I=3, H=8, L=2, bidirectional=True):
    torch.manual_seed(0)
    return nn.LSTM(I, H, L, bidirectional=bidirectional).eval()


def test_a_numeric_model_reads_numbers_exactly_as_torch_with_its_read_out():
    net, head = _torch_lstm(), nn.Linear(16, 2)
    rec = cells.from_torch(net)
    m = own.OwnModel("mine", rec, readout=(head.weight.detach().numpy(), head.bias.detach().numpy()))
    text = sequences.generate("noise", 25, 3, seed=1)
    a = m.analyze(text)
    x = torch.as_tensor(sequences.parse(text, 3)[0], dtype=torch.float32)
    with torch.no_grad():
        out, (h, c) = net(x)
        y = head(out)
    np.testing.assert_allclose(a.trace.output, out.numpy(), atol=1e-5)
    np.testing.assert_allclose(a.trace.h_n, h.numpy(), atol=1e-5)
    np.testing.assert_allclose(a.outputs, y.numpy(), atol=1e-5)
    assert a.next_token_probs is None and m.level == "numeric" and m.kind == "lstm" and not m.has_head
    assert m.num_params == sum(p.numel() for p in [*net.parameters(), *head.parameters()])
    assert [text[s:e] for s, e in a.spans] == a.tokens


def test_a_text_model_reads_through_its_embedding_and_vocabulary_as_torch():
    vocab = Vocab(("<pad>", "<unk>", "the", "cat", "sat"))
    emb, net = nn.Embedding(5, 3), _torch_lstm(bidirectional=False)
    m = own.OwnModel("mine", cells.from_torch(net), embedding=emb.weight.detach().numpy(), vocab=vocab)
    a = m.analyze("The cat sat on it")
    assert a.tokens == ["the", "cat", "sat", "on", "it"] and a.unknown == [3, 4]
    with torch.no_grad():
        out, _ = net(emb(torch.tensor([2, 3, 4, 1, 1])))
    np.testing.assert_allclose(a.trace.output, out.numpy(), atol=1e-5)
    assert a.outputs is None


def test_a_vocabulary_without_unk_refuses_unknown_words_by_name():
    m = own.OwnModel("mine", cells.from_torch(_torch_lstm(bidirectional=False)), embedding=np.zeros((2, 3)),
                     vocab=Vocab(("yes", "no"), unk=None))
    with pytest.raises(ValueError, match="not in the vocabulary.*maybe"):
        m.analyze("yes no maybe")


def test_an_embedding_that_does_not_fit_is_refused_with_both_sizes():
    rec = cells.from_torch(_torch_lstm(bidirectional=False))
    with pytest.raises(ValueError, match="5 × 4 but the vocabulary has 3 entries.*must be 3 × 3"):
        own.OwnModel("m", rec, embedding=np.zeros((5, 4)), vocab=Vocab(("a", "b", "<unk>")))
    with pytest.raises(ValueError, match="NaN"):
        own.OwnModel("m", rec, embedding=np.full((3, 3), np.nan), vocab=Vocab(("a", "b", "<unk>")))
    with pytest.raises(ValueError, match="both an embedding matrix and a vocabulary"):
        own.OwnModel("m", rec, embedding=np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"read-out must be W \(O, 8\)"):
        own.OwnModel("m", rec, readout=(np.zeros((2, 5)), np.zeros(2)))


@pytest.mark.parametrize("data, itos, unk", [
    (b"<unk>\nthe\ncat\n", ("<unk>", "the", "cat"), "<unk>"),
    (json.dumps(["a", "b"]).encode(), ("a", "b"), None),
    (json.dumps({"b": 1, "a": 0, "<unk>": 2}).encode(), ("a", "b", "<unk>"), "<unk>"),
])
def test_vocabulary_files_one_token_per_line_or_json(data, itos, unk):
    v = own.read_vocab(data)
    assert v.itos == itos and v.unk == unk


@pytest.mark.parametrize("data, says", [
    (b"the\ncat\nthe\n", "lists «the» twice (ids 0 and 2)"),
    (b"", "empty"),
    (b"[1, 2]", "list of tokens or an object"),
    (b'{"a": 0, "b": 5}', "ids must be 0, 1, …, V − 1"),
    (b"[\"a\",", "not valid JSON"),
    (b"\xff\xfe\x00", "not UTF-8"),
])
def test_bad_vocabulary_files_are_refused_with_the_reason(data, says):
    with pytest.raises(ValueError) as e:
        own.read_vocab(data)
    assert says in str(e.value)


def test_char_level_is_told_by_the_entries():
    assert own.char_level(Vocab(("<unk>", "分", "开", "a")))
    assert not own.char_level(Vocab(("<unk>", "the", "a")))


@pytest.mark.parametrize("kind", cells.zoo.KINDS)
def test_the_bundled_sine_models_output_the_cosine(kind):
    m = own.sine(kind)
    x = np.sin(0.25 * np.arange(80) + 1.0)
    a = m.analyze(sequences.write(x))
    err = a.outputs[lab.SINE_WARMUP:, 0] - np.cos(0.25 * np.arange(80) + 1.0)[lab.SINE_WARMUP:]
    assert float(np.mean(err ** 2)) < 0.01 and m.metrics["held_out_mse"] < 0.01
    lm = lab.load(cells.zoo.WEIGHTS / f"sine-{kind}")  # the same numbers as torch's module
    np.testing.assert_allclose(a.outputs, lm.predict(sequences.parse(sequences.write(x), 1)[0].astype(np.float32)),
                               atol=1e-5)


def test_a_lab_model_opens_with_its_read_out_as_torch_computes_it():
    run = lab.train("adding", kind="gru", T=12, steps=3, hidden_size=8, seed=0)
    m = own.from_lab(run.model, "adding-gru")
    x, *_ = lab.example(run.model.settings, 0)
    a = m.analyze(sequences.write(x))
    np.testing.assert_allclose(a.outputs[-1:], run.model.predict(x), atol=1e-5)  # adding reads out the last step
    assert m.kind == "gru" and m.input_size == 2
