"""Tokens keep their spans; characters are user-perceived characters."""

import pytest

from cells.tokens import NEVER_DROPPED, SUFFIXES, Token, Vocab, chars, english_bases, words


def texts(tokens):
    return [t.text for t in tokens]


def assert_spans(text, tokens, lower=False):
    for t in tokens:
        piece = text[t.start : t.end]
        assert (piece.lower().replace("’", "'") if lower else piece) == t.text


def test_words_ptb_style():
    s = "This movie wasn't good, it's BAD!"
    toks = words(s)
    assert texts(toks) == ["this", "movie", "was", "n't", "good", ",", "it", "'s", "bad", "!"]
    assert_spans(s, toks, lower=True)


def test_words_keep_hyphens_numbers_and_split_cjk():
    s = "A well-made film 3.5 stars 分开 ok"
    assert texts(words(s)) == ["a", "well-made", "film", "3.5", "stars", "分", "开", "ok"]


def test_words_markup_is_just_text():
    s = "<script>alert(1)</script>"
    toks = words(s)
    assert "".join(texts(toks)) == "<script>alert(1)</script>"
    assert_spans(s, toks)


def test_words_keep_emoji_sequences():
    s = "love it 👨‍👩‍👧 🇨🇳👍🏽"
    toks = words(s)
    assert texts(toks) == ["love", "it", "👨‍👩‍👧", "🇨🇳", "👍🏽"]
    assert_spans(s, toks)


def test_words_skip_space_and_control_characters():
    assert texts(words("  a\x00\x07b \t\n c\u200f ")) == ["a", "b", "c"]
    assert words("") == [] and words(" \n\t ") == []


@pytest.mark.parametrize(
    "s, expected",
    [
        ("分开", ["分", "开"]),
        ("👨‍👩‍👧‍👦!", ["👨‍👩‍👧‍👦", "!"]),  # ZWJ family: one character
        ("e\u0301a", ["e\u0301", "a"]),  # combining acute accent
        ("🇨🇳🇺🇸", ["🇨🇳", "🇺🇸"]),  # flags: regional-indicator pairs
        ("👍🏽x", ["👍🏽", "x"]),  # skin-tone modifier
        ("a\r\nb", ["a", "\r\n", "b"]),
        ("שלום", ["ש", "ל", "ו", "ם"]),
    ],
)
def test_chars_are_graphemes(s, expected):
    toks = chars(s)
    assert texts(toks) == expected
    assert_spans(s, toks)
    assert toks[-1].end == len(s)


def test_vocab_reports_unknowns():
    v = Vocab(["<pad>", "<unk>", "good", "movie"])
    ids, unknown = v.encode(words("Good zzz movie qqq"))
    assert ids.tolist() == [2, 1, 3, 1] and unknown == [1, 3]
    assert len(v) == 4 and v.stoi["movie"] == 3
    with pytest.raises(ValueError, match="not in the vocabulary"):
        Vocab(["a", "b"], unk=None).encode(["a", "c"])
    with pytest.raises(ValueError, match="duplicate"):
        Vocab(["a", "a", "<unk>"])
    with pytest.raises(ValueError, match="is not in the vocabulary"):
        Vocab(["a"], unk="<unk>")
    assert Token("a", 0, 1) == Token("a", 0, 1)


@pytest.mark.parametrize(
    "word, base",
    [("warmly", "warm"), ("dizzying", "dizzy"), ("escaping", "escape"), ("ripping", "rip"),
     ("abilities", "ability"), ("taxes", "tax"), ("monkeys", "monkey"), ("playfulness", "playful"),
     ("rehashed", "rehash"), ("warm", "warm"), ("ring", None), ("qqqly", None), ("ly", None),
     ("heartless", None), ("laughless", None), ("laughable", None), ("carefree", None), ("heartlessly", None)],
)
def test_backoff_reads_a_known_base_form(word, base):
    v = Vocab(["<pad>", "<unk>", "warm", "dizzy", "escape", "rip", "ability", "tax", "monkey", "playful",
               "rehash", "r", "heart", "laugh", "care"], backoff="english-suffixes")
    assert v.lookup(word) == base
    ids, unknown = v.encode([word])
    assert ids.tolist() == [v.stoi[base] if base else 1] and unknown == ([] if base else [0])
    assert v.read_as([word]) == ({0: base} if base and base != word else {})
    # without a backoff the same word is simply unknown
    assert Vocab(v.itos).lookup(word) == (word if word in v.stoi else None)


def test_backoff_never_reads_a_word_as_unk_and_names_must_exist():
    v = Vocab(["<unk>", "x"], backoff="english-suffixes")
    assert v.lookup("<unk>ly") is None  # the base form "<unk>" is the unknown token itself
    with pytest.raises(ValueError, match="unknown vocabulary backoff"):
        Vocab(["<unk>"], backoff="stemmer-of-doom")


# Every ending the backoff may drop, and why dropping it keeps the word's meaning and sign.
ALLOWED = {
    "ly": "adverb of the base: warmly is warm",
    "ness": "noun of the base: sadness is sad",
    "ing": "inflection: dizzying is dizzy",
    "ed": "inflection: rehashed is rehash",
    "es": "inflection: taxes is tax",
    "s": "inflection: monkeys is monkey",
    "er": "comparative or doer: warmer is warm, a thriller thrills",
    "est": "superlative: warmest is warm",
    "ful": "full of the base, the same sign: painful is pain",
    "ity": "noun of the base: stupidity is stupid",
    "ment": "noun of the verb: enjoyment is enjoy",
    "ish": "somewhat the base: foolish is fool",
}


def test_the_backoff_drops_exactly_the_allowed_endings():
    assert set(SUFFIXES) == set(ALLOWED)
    assert not set(SUFFIXES) & set(NEVER_DROPPED)
    assert set(NEVER_DROPPED) >= {"less"}  # "-less" negates: heartless is not heart


@pytest.mark.parametrize("ending", sorted(NEVER_DROPPED))
@pytest.mark.parametrize("stem", ["heart", "laugh", "point", "care", "tooth"])
@pytest.mark.parametrize("tail", ["", "ly", "ness", "s", "es", "ed"])
def test_a_negating_ending_is_never_dropped(stem, ending, tail):
    word = stem + ending + tail
    for base in english_bases(word):  # heartlessly -> heartless, heartlessness -> heartless, never heart
        assert base.startswith(stem + ending[:3]), (word, base)
    assert Vocab(("<unk>", stem, stem + "e"), backoff="english-suffixes").lookup(word) is None


def test_a_heartless_laughless_movie_is_not_read_as_heart_and_laugh():
    v = Vocab(("<pad>", "<unk>", "a", "heart", "laugh", "movie", ",", "."), backoff="english-suffixes")
    ids, unknown = v.encode(words("a heartless , laughless movie ."))
    assert unknown == [1, 3] and v.read_as(words("a heartless , laughless movie .")) == {}
