"""The tasks the sidebar offers, as the page names them: cells' four trained tasks, the
bundled sine → cosine models (they read numbers), the untrained cells, and "your model"
(an upload or a training-lab run, held for the session by viz_app/yours.py).

Which tasks exist, which are classifiers and which are language models is cells'
to say (cells.zoo.TASKS, CLASSIFIER_TASKS, LM_TASKS, KINDS); this module only adds
what the page shows: a label and an example text for each.
"""

from __future__ import annotations

from dataclasses import dataclass

from cells import sequences
from cells.own import SINE
from cells.zoo import CLASSIFIER_TASKS, KINDS, LM_TASKS
from cells.zoo import TASKS as TRAINED

from .i18n import N_

__all__ = ["CLASSIFIER_TASKS", "DEFAULT_TASK", "KINDS", "LM_TASKS", "NUMERIC_TASKS", "SINE", "TASKS", "Task",
           "UNTRAINED", "UntrainedConfig", "YOURS"]

UNTRAINED = "untrained"
YOURS = "yours"  # what the session opened itself: its models come from viz_app.yours, not from cells' bundle


@dataclass(frozen=True)
class Task:
    key: str  # model names are f"{key}-{kind}", e.g. "sst2-lstm"
    label: str  # shown in the sidebar, as _(label)
    example: str  # prefills the text box


TASKS: dict[str, Task] = {t.key: t for t in (
    Task("sst2", N_("Sentiment (SST-2)"), "The film is not bad at all, and the ending is quietly wonderful."),
    Task("trec", N_("Question type (TREC)"), "Who was the first woman to fly across the Atlantic?"),
    Task("shakespeare", N_("Shakespeare (characters)"), "ROMEO: But soft, what light through yonder window breaks?"),
    Task("jaychou", N_("Jay Chou lyrics (characters)"), "分开的时候我的心在下雨"),
    Task(SINE, N_("Sine → cosine (numbers)"), sequences.generate("sine", 60)),
    Task(UNTRAINED, N_("Untrained, seeded"), "The cat sat on the mat."),
    Task(YOURS, N_("Your model (upload, or the lab's)"), ""),
)}
assert tuple(TASKS)[:len(TRAINED)] == TRAINED, "one entry per cells task, in cells' order"
NUMERIC_TASKS = (SINE,)  # read numbers, not text (so may YOURS: its models say)
DEFAULT_TASK = "sst2"


@dataclass(frozen=True)
class UntrainedConfig:
    """The untrained task's sliders; frozen, so it keys the caches."""

    hidden_size: int = 32  # units per cell
    init_scale: float = 1.0  # multiplies PyTorch's default U(−1/√H, 1/√H) weights
    forget_bias: float = 0.0  # added to the LSTM's forget-gate bias (1.0 is a common trick); the LSTM only
    seed: int = 0  # same seed, same weights, same pictures

    def for_kind(self, kind: str) -> UntrainedConfig:
        """The settings a cell of this kind takes: the forget bias is the LSTM's alone."""
        return self if kind == "lstm" or not self.forget_bias else UntrainedConfig(self.hidden_size, self.init_scale, 0.0,
                                                                                   self.seed)
