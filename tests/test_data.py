"""The data loaders against the counts and quirks that shared/data/README.md documents."""

from collections import Counter

import pytest

from cells import data


def test_sst2_counts_and_labels():
    train, dev = data.load_sst2("train"), data.load_sst2("dev")
    assert len(train) == 67_349 and len(dev) == 872
    assert Counter(e.label for e in train) == {1: 37_569, 0: 29_780}
    assert Counter(e.label for e in dev) == {1: 444, 0: 428}
    assert train[0].text == "hide new secretions from the parental units"  # trailing space gone
    assert not any(e.text != e.text.strip() for e in train + dev)


def test_trec_counts_and_the_latin1_byte():
    train, test = data.load_trec("train"), data.load_trec("test")
    assert len(train) == 5_452 and len(test) == 500
    names = data.TREC_LABELS
    assert Counter(names[e.label] for e in train) == {
        "ENTY": 1250, "HUM": 1223, "DESC": 1162, "NUM": 896, "LOC": 835, "ABBR": 86}
    assert Counter(names[e.label] for e in test) == {
        "DESC": 138, "NUM": 113, "ENTY": 94, "LOC": 81, "HUM": 65, "ABBR": 9}
    # line 66 holds the one byte 0xF0 ("sister\xf0city"); it is read as a space
    assert "sister city" in train[65].text
    assert all(e.text.isascii() for e in train)


def test_character_corpora():
    sh, jay = data.load_shakespeare(), data.load_jaychou()
    assert len(sh) == 1_115_394 and len(set(sh)) == 65
    assert len(jay) == 63_282 and len(set(jay)) == 2_583
    assert jay.startswith("想要有直升机\n")


def test_missing_file_names_the_file_and_where_to_put_it(tmp_path):
    with pytest.raises(data.DataFileMissing) as e:
        data.load_trec("train", root=tmp_path)
    msg = str(e.value)
    assert "trec/train_5500.label" in msg and str(tmp_path) in msg and data.ENV in msg
    assert isinstance(e.value, FileNotFoundError)


def test_environment_variable_overrides_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV, str(tmp_path))
    assert data.data_root() == tmp_path
    (tmp_path / "tinyshakespeare").mkdir()
    (tmp_path / "tinyshakespeare" / "input.txt").write_text("ROMEO:\nhi\n")
    assert data.load_shakespeare() == "ROMEO:\nhi\n"
    with pytest.raises(data.DataFileMissing, match="jaychou_lyrics.txt"):
        data.load_jaychou()


def test_split_text_is_contiguous_and_test_is_last():
    text = "".join(chr(65 + i % 26) for i in range(1000))
    tr, va, te = data.split_text(text, 0.05, 0.10)
    assert tr + va + te == text
    assert (len(tr), len(va), len(te)) == (850, 50, 100)


def test_ptb_and_typed_clitics_give_the_same_tokens():
    ptb = [t.text for t in data.word_tokens("it 's not funny , they do n't care")]
    typed = [t.text for t in data.word_tokens("It's not funny, they don't care")]
    assert ptb == typed == ["it", "'s", "not", "funny", ",", "they", "do", "n't", "care"]
    text = "It's fine"
    assert [text[t.start:t.end] for t in data.word_tokens(text)] == ["It", "'s", "fine"]
