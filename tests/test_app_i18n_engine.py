"""The engine's reasons in the 中文 interface: what cells/ says about a refused upload, lab
setting, seq2seq source or numbers file reaches the page in the session's language (through
viz_app.i18n.engine), as plain text, and in English exactly as before."""

from __future__ import annotations

import pickle

import pytest

from viz_app import i18n, jobs, testing, yours
from viz_app.checks import plain
from viz_app.component import seq2seq as s2s
from viz_app.tasks import YOURS
from viz_app.testing import said

SESSION = "test session id"  # AppTest's one session
NAME = "**evil** <b>x</b> :red[y].pt"  # markup in a file's name stays literal


class Boom:
    def __reduce__(self):
        import os

        return os.system, ("touch /tmp/rnnscope-pwned",)


def run(lang: str, **params):
    with i18n.using(lang):  # AppTest formats widget options in the test's thread too
        return testing.app_test(lang=lang, **params)


def rerun(at, lang: str):
    with i18n.using(lang):
        at.run()
    return at


def errors(at) -> list[str]:
    return [m.value for m in at.error]


def submit(at, form: str, lang: str):
    """Click the form's submit button (its key holds its label, in the session's language)."""
    (button,) = [b for b in at.button if b.key.startswith(f"FormSubmitter:{form}-")]
    with i18n.using(lang):
        button.click().run()
    return at


@pytest.fixture(autouse=True)
def nothing_open():
    yours.forget(SESSION)
    yield
    yours.forget(SESSION)


UPLOAD = {
    "en": f"{NAME} could not be opened: this file holds Python objects, not just tensors; rnnscope never unpickles "
          "them: save `model.state_dict()` with torch.save or safetensors",
    "zh": f"无法打开 {NAME}：此文件含有 Python 对象，而不只是张量；rnnscope 从不反序列化（unpickle）它们：请用 "
          "torch.save 或 safetensors 保存 `model.state_dict()`",
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_refused_upload_says_why_in_the_sessions_language(lang):
    at = run(lang, task=YOURS)
    at.file_uploader(key="yours_weights").upload(NAME, pickle.dumps(Boom()))
    submit(at, "yours_upload", lang)
    assert not at.exception
    said_ = [m for m in said(at, ("error",)) if m.startswith(UPLOAD[lang][:10])]
    assert said_ and said_[0].startswith(UPLOAD[lang]), said(at, ("error",))
    assert any(raw.startswith(plain(UPLOAD[lang])) for raw in errors(at))  # plain text: the name's markup escaped
    assert yours.get(SESSION) is None


CSV = {
    "en": "y<i>.csv: row 1 of the CSV has 2 column(s); this model reads 1 number(s) per step (one row per step, one "
          "column per input)",
    "zh": "y<i>.csv：CSV 的第 1 行有 2 列；此模型每个时间步读取 1 个数（每个时间步一行，每个输入一列）",
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_bad_numbers_csv_says_why_in_the_sessions_language(lang):
    at = run(lang, task="sine")
    text = at.text_input(key="text").value
    at.file_uploader(key="num_csv").upload("y<i>.csv", b"1,2\n3,4\n")
    with i18n.using(lang):
        at.button(key="num_csv_use").click().run()
    assert not at.exception
    assert CSV[lang] in said(at, ("error",)) and plain(CSV[lang]) in errors(at)
    assert at.text_input(key="text").value == text  # kept


@pytest.mark.parametrize("lang, says", [
    ("en", "The models could not read this text: step 2: «1e999» is not a finite number; a model cannot read it"),
    ("zh", "第 2 个时间步：「1e999」不是有限的数；模型无法读取它"),
])
def test_bad_numbers_in_the_text_box_say_why(lang, says):
    at = run(lang, task="sine", text="0.1, 0.2, 1e999")
    assert not at.exception and any(says in m for m in said(at, ("error",))), said(at)


@pytest.fixture
def lab_sessions():
    before = set(jobs.sessions())
    yield
    for sid in set(jobs.sessions()) - before:
        jobs.reset(sid)


@pytest.mark.parametrize("lang, widgets, says", [
    ("en", {"lab_lr_adding": 0.0}, "The lab cannot start this run: lr must be between 1e-06 and 10, got 0.0"),
    ("zh", {"lab_lr_adding": 0.0}, "lr 必须在 1e-06 到 10 之间，实际为 0.0"),
    ("en", {"lab_on_rnn": False, "lab_on_lstm": False, "lab_on_gru": False},
     "The lab cannot start this run: choose at least one cell to train"),
    ("zh", {"lab_on_rnn": False, "lab_on_lstm": False, "lab_on_gru": False}, "请至少选择一个单元来训练"),
])
def test_a_refused_lab_setting_says_why_in_the_sessions_language(lab_sessions, lang, widgets, says):
    at = run(lang, view="lab")
    for key, value in {"lab_task": "adding", **widgets}.items():
        at.session_state[key] = value
    submit(rerun(at, lang), "lab", lang)
    assert not at.exception
    assert any(says in m for m in said(at, ("error",))), said(at)
    assert not at.get("progress")


@pytest.mark.parametrize("lang, says", [
    ("en", "The models could not read this text: characters dates-rnn never saw in training: '¤' (position 4)."),
    ("zh", "在训练中从未见过这些字符：'¤'（位置 4）。"),
])
def test_a_source_the_seq2seq_models_refuse_says_why(monkeypatch, lang, says):
    # The view's own checks catch an unseen character first; without them the engine refuses it.
    monkeypatch.setattr(s2s, "check_request", lambda source, *a, **k: s2s.Request(source.strip(), 1, None))
    at = run(lang, view="seq2seq")
    at.text_input(key="s2s_source").set_value("1998¤")
    rerun(at, lang)
    assert not at.exception
    assert any(says in m for m in said(at, ("error",))), said(at)
