"""The 中文 interface of the Gradients, Padding, Seq2seq, Shapes and Training-lab views.

With ?lang=zh each page reads in Chinese: its labels, its messages about bad input and what
the browser component receives. A payload is the same in both languages but for its words:
every number equal, the text different. The caches that hold payloads are keyed by the
language, so a 中文 session never gets an English payload, nor the reverse.

AppTest formats a selectbox's value with its format_func outside the script run when it
runs the page again, where only `i18n.using` says the language: the 中文 pages run in it.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import cells
from cells import lab
from viz_app import cache, i18n, jobs, testing
from viz_app.charts import lab as lab_charts
from viz_app.charts import seq2seq as s2s_charts
from viz_app.charts.formula import fill
from viz_app.component import padding as pad
from viz_app.component import seq2seq as s2s
from viz_app.views import gradients, padding, seq2seq, shapes
from viz_app.views import lab as lab_view

ok, said = testing.assert_no_errors, testing.said


def chinese(s: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in s)


def zh(widgets: dict | None = None, **params):
    """A page opened with ?lang=zh (and these widgets set)."""
    with i18n.using("zh"):
        return testing.app_test(widgets, lang="zh", **params)


def rerun(at):
    with i18n.using("zh"):
        return at.run()


def split(doc) -> tuple[list, list[str]]:
    """A payload's leaves in order: (everything but strings, the strings)."""
    other, words = [], []

    def walk(x):
        if isinstance(x, dict):
            for k in sorted(x):
                other.append(k)
                walk(x[k])
        elif isinstance(x, (list, tuple)):
            other.append(len(x))
            for v in x:
                walk(v)
        elif isinstance(x, str):
            words.append(x)
        else:
            other.append(x)

    walk(doc)
    return other, words


def same_numbers_other_words(en: dict, zh_: dict) -> None:
    (n_en, w_en), (n_zh, w_zh) = split(en), split(zh_)
    assert n_en == n_zh  # the same keys, lengths and numbers, in the same places
    assert len(w_en) == len(w_zh) and w_en != w_zh
    assert not any(chinese(w) for w in w_en if w not in set(w_zh))  # the English payload has no Chinese of ours
    assert any(chinese(w) for w in w_zh)


@pytest.mark.parametrize("view, title", [(gradients, "梯度"), (padding, "填充"), (seq2seq, "序列到序列"),
                                         (shapes, "输入输出形状"), (lab_view, "训练实验室")])
def test_each_views_title_follows_the_glossary(view, title):
    assert i18n._(view.TITLE) == view.TITLE
    with i18n.using("zh"):
        assert i18n._(view.TITLE) == title


# -- Gradients ------------------------------------------------------------------------------------

def test_the_gradients_page_in_chinese():
    at = zh(view="gradients", task="sst2", text="a moving , funny film")
    ok(at)
    target = at.selectbox(key="grad_target")
    assert target.label == "解释哪个类别的概率" and target.options == ["各模型自己的预测", "负面", "正面"]
    assert at.toggle(key="grad_uniform").label == "均匀注意力"
    assert at.number_input(key="grad_clip").label == "梯度范数裁剪阈值（0 = 不裁剪）"
    assert "下载梯度（JSON、NPZ、CSV）" in [e.label for e in at.expander]
    doc = testing.component_payload(at)
    unit_axes = [p["fig"]["layout"]["yaxis"]["title"]["text"] for c in doc["columns"] for p in c["panels"]
                 if p["type"] == "plotly" and p["fig"]["data"][0]["type"] == "heatmap"]
    assert unit_axes and set(unit_axes) == {"单元"}
    target.set_value("negative")
    rerun(at)
    ok(at)
    assert testing.component_payload(at)["columns"][1]["meta"].startswith("L = −log p(负面 |")


@pytest.mark.parametrize("text, says", [("分", "语言模型的损失需要一个下一字符：请至少输入两个字符"),
                                        ("分开了", "位置 5 之后没有字符：文本的位置从 0 到 2，请在 0 到 1 之间选择")])
def test_the_gradients_page_refuses_in_chinese(text, says):
    at = zh({"grad_position": 5}, view="gradients", task="jaychou", text=text)
    assert not at.exception, [e.message for e in at.exception]
    assert any(says in s for s in said(at, ("error",))), said(at)
    assert not testing.mounted(at)


def test_the_gradients_payload_is_cached_per_language():
    args = ("trec", cache.UntrainedConfig(), "who wrote hamlet ?", None, 0.0)
    en, _, T = cache.gradients_payload(*args, lang="en")
    with i18n.using("en"):  # the cache key, not the caller's language, says which
        zh_, _, T_zh = cache.gradients_payload(*args, lang="zh")
    assert T == T_zh
    same_numbers_other_words(json.loads(en), json.loads(zh_))


# -- Padding --------------------------------------------------------------------------------------

def test_the_padding_page_in_chinese():
    at = zh(view="padding", task="sst2")
    ok(at)
    assert at.text_area(key="pad_text").label == "句子，每行一个（最多 8 个）：作为一个批次一起读取"
    assert at.radio(key="pad_kind").label == "单元"
    doc = testing.component_payload(at)
    assert [c["title"] for c in doc["columns"]] == ["打包", "填充（读入填充符）"]
    assert doc["wide"][0]["lines"][0].startswith("LSTM · ") and "个句子组成一个 T = " in doc["wide"][0]["lines"][0]
    at.text_area(key="pad_text").set_value("  \n \n")
    rerun(at)
    ok(at)
    assert not testing.mounted(at) and said(at, ("info",)) == ["请输入几个句子，每行一个，它们会作为一个批次读取。"]
    at.text_area(key="pad_text").set_value("\n".join(["good ."] * 9))
    rerun(at)
    ok(at)
    assert "共有 9 个句子；这里一个批次最多容纳 8 个，只读取前 8 个。" in said(at, ("warning",))


def test_a_task_without_a_classifier_is_pointed_to_them_in_chinese():
    at = zh(view="padding", task="shakespeare")
    ok(at)
    assert said(at)[0].startswith("填充视图展示分类器，填充符会改变它们的预测。")


def test_the_padding_payload_differs_only_in_its_words():
    m = cells.load_model("sst2-gru")
    r = pad.read(m, ["a gem .", "not worth the price of the ticket ."])
    en = pad.padding_doc(m, r)
    with i18n.using("zh"):
        zh_ = pad.padding_doc(m, r)
        says = pad.check_sentences("a b .\nc d .", m.tokenize).messages[0].text
    same_numbers_other_words(en, zh_)
    assert [c["title"] for c in zh_["columns"]] == ["打包", "填充（读入填充符）"]
    line = zh_["wide"][0]["lines"][1]  # a formula line: its fields stay for the browser to fill
    assert line.startswith("1  3 个词元 + 5 个填充符：") and "{a0}" in line and "{d0:3}" in line
    assert fill(line, zh_["wide"][0]["values"], 0, digits=3).count("{") == 0
    assert says == "每个句子都有 3 个词元，因此没有填充符，两种模式结果相同：请让句子长短不一。"


# -- Seq2seq --------------------------------------------------------------------------------------

def test_the_seq2seq_page_in_chinese():
    at = zh(view="seq2seq")
    ok(at)
    assert at.text_input(key="s2s_source").label == "源文本：任意写法的日期（按回车读取）"
    assert at.radio(key="s2s_mode").options == ["自由生成", "教师强制"]
    assert at.number_input(key="s2s_beam").label.startswith("束宽（1 = 贪心解码，最大 ")
    doc = testing.component_payload(at)
    assert doc["step_label"] == "输出时间步" and "个参数 · 测试集完全匹配率" in doc["columns"][1]["meta"]
    head = fill(doc["wide"][0]["lines"][0], doc["wide"][0]["values"], 0)
    assert head == "«Thursday, November 9th 1989»（27 个字符）→ 贪心解码："
    gates = next(p for p in doc["columns"][1]["panels"] if p["type"] == "formula" and "o" in p["values"])
    assert gates["lines"][1] == "输入门 i {i:3} · 遗忘门 f {f:3} · 候选值 g {g:3} · 输出门 o {o:3}"


@pytest.mark.parametrize("widgets, level, says", [
    ({"s2s_source": ""}, "info", "请输入要转换的日期"),
    ({"s2s_source": "3 May 1998 ü"}, "error", "模型在训练中从未见过以下字符：«ü»（位置 11）"),
    ({"s2s_mode": s2s.TEACHER, "s2s_target": "1998/05/03"}, "error", "目标中有解码器从不写出的字符"),
    ({"s2s_beam": 0}, "warning", "束宽 0 不保留任何候选"),
])
def test_the_seq2seq_page_says_what_is_wrong_in_chinese(widgets, level, says):
    at = zh(widgets, view="seq2seq")
    assert not at.exception, [e.message for e in at.exception]
    assert any(says in s for s in said(at, (level,))), said(at)


def test_the_seq2seq_payload_differs_only_in_its_words():
    models = [cells.load_model(s2s.MODEL_NAMES[k]) for k in s2s.MODEL_NAMES]
    for r in (s2s.read(models, "5/3/98", beam=3), s2s.read(models, "5/3/98", target="1998-05-04")):
        en = s2s.seq2seq_doc(models, r)
        with i18n.using("zh"):
            zh_ = s2s.seq2seq_doc(models, r)
        same_numbers_other_words(en, zh_)
    assert "教师强制" in zh_["wide"][0]["lines"][0]


def test_the_seq2seq_cache_keeps_each_language_apart():
    en = json.loads(cache.seq2seq_payload("9.11.1989", 1, None, lang="en")[0])
    zh_ = json.loads(cache.seq2seq_payload("9.11.1989", 1, None, lang="zh")[0])
    assert en["step_label"] == "output step" and zh_["step_label"] == "输出时间步"
    assert json.loads(cache.seq2seq_payload("9.11.1989", 1, None, lang="en")[0]) == en


# -- Shapes ---------------------------------------------------------------------------------------

def _titles(at) -> list[str]:
    return [next(a["text"] for a in json.loads(c.proto.spec)["layout"]["annotations"] if a["text"].startswith("<b>"))
            for c in at.get("plotly_chart")]


def test_the_shapes_page_in_chinese_and_in_english_from_one_cache():
    at = zh(view="shapes")
    ok(at)
    assert at.radio(key="shapes_kind").label == "单元" and chinese(at.caption[0].value)
    assert [t.split("</b>")[0][3:] for t in _titles(at)] == ["N 对 1 · 分类器", "N 对 N · 每个时间步一个输出",
                                                            "1 对 N · 生成", "N 对 M · 编码器–解码器"]
    assert "sst2-lstm 读入 6 个词元" in _titles(at)[0]
    assert [l.proto.label for l in at.get("page_link")][0] == "注意力：逐步查看分类器（SST-2、TREC）"
    notes = json.loads(at.get("plotly_chart")[3].proto.spec)["layout"]["annotations"]
    assert {"编码器", "解码器（关注编码器的每个状态）"} <= {n["text"] for n in notes}
    en = testing.app_test(view="shapes")  # the same process, so the same cache: keyed by the language
    ok(en)
    assert _titles(en)[0].startswith("<b>N vs 1 · a classifier</b>")


def test_an_unrolled_diagram_is_drawn_in_the_current_language():
    u = s2s_charts.Unrolled("t", ("a", "b"), (1.0, 2.0), (None, "c"), split=1)
    with i18n.using("zh"):
        texts = [a.text for a in s2s_charts.unrolled(u).layout.annotations]
    assert "每个单元中：‖h_t‖" in texts and "编码器" in texts


# -- Training lab ---------------------------------------------------------------------------------

BEFORE: set[str] = set()  # sessions with a job before the test's page opened


@pytest.fixture
def lab_page():
    BEFORE.clear()
    BEFORE.update(jobs.sessions())
    at = zh(view="lab")
    ok(at)
    yield at
    for sid in set(jobs.sessions()) - BEFORE:
        jobs.reset(sid)


def start(at, **widgets):
    for key, value in widgets.items():
        at.session_state[key] = value
    rerun(at)
    with i18n.using("zh"):
        at.button(key="FormSubmitter:lab-开始").click().run()
    assert not at.exception, [e.message for e in at.exception]


def test_the_lab_in_chinese_refuses_a_setting_and_trains(lab_page):
    at = lab_page
    assert [s.label for s in at.selectbox] == ["实验任务", "优化器"]
    assert at.selectbox(key="lab_task").options == ["正弦 → 余弦", "加法问题", "延迟复制", "周杰伦歌词"]
    captions = [c.value for c in at.caption]
    assert "在一个窗口内读入 sin(t)，并在每个时间步输出 cos(t)。" in captions
    assert any(c.startswith("上限：隐藏层大小 ≤ 256，") and c.endswith("此服务器上目前没有正在进行的训练。") for c in captions)
    start(at, lab_task="adding", lab_lr_adding=0.0)
    # the sentence is ours, the reason the engine's (cells.lab), both in Chinese
    assert said(at, ("error",)) == ["实验室无法开始这次训练：lr 必须在 1e-06 到 10 之间，实际为 0.0"]
    start(at, lab_lr_adding=3e-3, lab_steps_adding=4, lab_H_adding=8, lab_on_rnn=False, lab_on_lstm=False)
    (sid,) = set(jobs.sessions()) - BEFORE
    job = jobs.get(sid)
    end = time.monotonic() + 120
    while job.state != "done":
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)
    rerun(at)
    ok(at)
    assert at.get("progress")[0].proto.text.startswith("已完成：第 4 / 4 步 · ")
    assert list(at.dataframe[0].value.columns) == ["单元", "训练步", "留出损失"]
    loss = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in loss["data"]] == ["GRU 训练批次", "GRU 留出批次"]
    assert loss["layout"]["yaxis"]["title"]["text"] == "损失（对数）"
    assert at.subheader[0].value == "模型内部"


def test_the_lab_charts_differ_only_in_their_words():
    rows = [{"step": s, "loss": 1.0 / (s + 1), "grad_norm": 2.0, "grad_norm_clipped": 1.0,
             "layer_grad_norms": {"layer 0": 1.5, "read-out": 0.5}} for s in range(5)]
    draw = lambda: [lab_charts.loss_curves({"LSTM": rows}, {"LSTM": [(4, 0.3)]}), lab_charts.gradient_norms(
        {"LSTM": rows}, 1.0), lab_charts.layer_norms({"LSTM": rows}), lab_charts.example_outputs([0.1, 0.2], [0.0, 1.0])]
    en = draw()
    with i18n.using("zh"):
        zh_ = draw()
    for a, b in zip(en, zh_):
        same_numbers_other_words(json.loads(json.dumps(a, default=np.ndarray.tolist)),
                                 json.loads(json.dumps(b, default=np.ndarray.tolist)))
    assert [t["name"] for t in zh_[2]["data"]] == ["LSTM 第 0 层", "LSTM 读出层"]


def test_the_labs_task_summaries_are_all_marked():
    assert {t.summary for t in lab.TASKS.values()} == set(lab_view.SUMMARIES)
