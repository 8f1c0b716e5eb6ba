"""The tasks the sidebar offers and the settings of the untrained models."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("rnn", "lstm", "gru")  # the three columns, left to right


@dataclass(frozen=True)
class Task:
    key: str  # model names are f"{key}-{kind}", e.g. "sst2-lstm"
    label: str  # shown in the sidebar
    example: str  # prefills the text box
    level: str  # "word" | "char": only used by the stand-in models (viz_app.standin)
    labels: tuple[str, ...] = ()  # class names of a classifier, () for a language model


TASKS: dict[str, Task] = {t.key: t for t in (
    Task("sst2", "Sentiment (SST-2)", "The film is not bad at all, and the ending is quietly wonderful.",
         "word", ("negative", "positive")),
    Task("trec", "Question type (TREC)", "Who was the first woman to fly across the Atlantic?",
         "word", ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")),
    Task("shakespeare", "Shakespeare (characters)", "ROMEO: But soft, what light through yonder window breaks?", "char"),
    Task("jaychou", "Jay Chou lyrics (characters)", "分开的时候我的心在下雨", "char"),
    Task("untrained", "Untrained, seeded", "The cat sat on the mat.", "char"),
)}
DEFAULT_TASK = "sst2"


@dataclass(frozen=True)
class UntrainedConfig:
    hidden_size: int = 32  # units per cell
    init_scale: float = 1.0  # multiplies PyTorch's default U(−1/√H, 1/√H) weights
    forget_bias: float = 0.0  # added to the LSTM's forget-gate bias (1.0 is a common trick)
    seed: int = 0  # same seed, same weights, same pictures
