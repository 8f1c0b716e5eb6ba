"""What cells says to a person (cells/messages.py): the English text as before, its template and
params kept, so that viz_app.i18n.engine shows it in the session's language."""

from __future__ import annotations

import copy
import io
import pickle

import pytest

from cells import lab, lab_worker, sequences
from cells.messages import Message, join, msg
from viz_app import i18n
from viz_app.i18n import engine


def test_a_message_is_its_english_text_and_keeps_template_and_params():
    m = msg("step {t}: «{value}» is not a number", t=3, value="oops")
    assert m == "step 3: «oops» is not a number" and isinstance(m, str)
    assert str(m) == m and f"{m}" == m and repr(m) == repr("step 3: «oops» is not a number")
    assert m.template == "step {t}: «{value}» is not a number" and m.params == {"t": 3, "value": "oops"}
    assert msg("{n:,} bytes", n=1234) == "1,234 bytes"  # format specs in the template


def test_without_params_the_template_is_the_text_braces_and_all():
    m = msg("a JSON vocabulary must be a list of tokens or an object {token: id}")
    assert m == m.template and m.params == {}


def test_a_message_survives_pickling_and_copying():
    m = msg("{name} must be between {lo:g} and {hi:g}, got {value!r}", name="lr", lo=1e-6, hi=10, value=0.0)
    for again in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert again == m and isinstance(again, Message) and again.template == m.template and again.params == m.params


def test_an_exception_raised_with_a_message_reads_as_before():
    with pytest.raises(ValueError, match="row 1 of the CSV has 2 column") as e:
        sequences.from_csv(b"1,2\n3,4\n", 1)
    assert str(e.value) == ("row 1 of the CSV has 2 column(s); this model reads 1 number(s) per step (one row per "
                            "step, one column per input)")
    assert isinstance(e.value.args[0], Message)


def test_engine_translates_a_message_and_leaves_other_text_alone():
    m = msg("step {t}: «{value}» is not a number", t=3, value="<b>x</b>")
    assert engine(m) == m
    with i18n.using("zh"):
        assert engine(m) == "第 3 个时间步：「<b>x</b>」不是数字"  # the user's text stays a param, as typed
        assert engine(ValueError(m)) == "第 3 个时间步：「<b>x</b>」不是数字"
        assert engine("plain text") == "plain text" and engine(ValueError("plain text")) == "plain text"
        assert engine(ValueError("two", "args")) == str(ValueError("two", "args"))


def test_a_nested_message_is_translated_too():
    from cells import imports

    with pytest.raises(ValueError) as e:
        imports.from_file(b"\x01" * 5)
    assert str(e.value) == "the file is truncated or damaged (5 bytes); upload it again, or save it anew"
    with i18n.using("zh"):
        assert engine(e.value) == "文件已被截断或损坏（5 字节）；请重新上传，或重新保存"


def test_joined_parts_are_translated_each():
    which = join(", ", [msg("{char!r} (position {i})", char=c, i=i) for i, c in [(0, "x"), (3, "{")]])
    assert which == "'x' (position 0), '{' (position 3)"
    with i18n.using("zh"):
        assert engine(which) == "'x'（位置 0）, '{'（位置 3）"
    assert join(", ", []) == ""


def test_a_lab_note_crosses_the_worker_pipe_as_a_message():
    note = msg("diverged at step {step}: the loss became {value}; the model is the last finite snapshot "
               "(step {last})", step=7, value=float("nan"), last=5)
    buf = io.BytesIO()
    lab_worker.write(buf, {"kind": "round", "cells": [{"note": note}, {"note": ""}]})
    buf.seek(0)
    message, _ = lab_worker.read(buf)
    got = message["cells"][0]["note"]
    assert isinstance(got, Message) and got == note and got.template == note.template
    with i18n.using("zh"):
        assert engine(got) == "在第 7 步发散：损失变为 nan；模型是最后一个有限值快照（第 5 步）"
    assert message["cells"][1]["note"] == ""


def test_a_refused_lab_setting_says_why_in_either_language():
    with pytest.raises(lab.LabError) as e:
        lab.check(lab.Settings(task="adding", kind="lstm", lr=0.0))
    assert str(e.value) == "lr must be between 1e-06 and 10, got 0.0"
    with i18n.using("zh"):
        assert engine(e.value) == "lr 必须在 1e-06 到 10 之间，实际为 0.0"


def test_the_engine_messages_are_extracted_for_the_catalogue():
    ids = i18n.extract()
    engine_ids = {k for k, where in ids.items() if any(path.startswith("cells/") for path, _line in where)}
    assert "step {t}: «{value}» is not a number" in engine_ids
    assert "max |Δ| vs {source} = {delta:.1e} over {steps} steps ({names})" in engine_ids
    assert len(engine_ids) > 80
