"""The 中文 interface in AppTest (viz_app/i18n.py): the core views, the sidebar and the component's
payload speak the session's language; the language lives in the URL and the share link, follows
the browser's locale by default, refuses a tampered value in both languages, and never reaches
another language's session through a cache."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from viz_app import cache, i18n, state, testing
from viz_app.tasks import TASKS, UntrainedConfig
from viz_app.testing import assert_no_errors as ok
from viz_app.testing import component_data, component_payload, said

run = testing.app_test


def run_in_browser(locale: str | None, **params) -> AppTest:
    """The app as a browser whose navigator.language is `locale` opens it."""
    at = AppTest.from_file(str(testing.APP), default_timeout=120)
    at.context = {"locale": locale, "url": "http://192.168.1.20:8501/"}  # a class's address: no localhost notice
    for k, v in params.items():
        at.query_params[k] = str(v)
    at.run()
    return at


def rerun(at, lang: str = "zh") -> None:
    """at.run() after a run in `lang`: AppTest formats the widgets' options again in the test's own
    thread (to send their values back), where the language is the notebook's; the script itself
    runs in a thread of its own, in the session's language."""
    with i18n.using(lang):
        at.run()


def strings_in(doc: dict) -> str:
    """Every text the payload carries, as one string (figures included)."""
    return json.dumps(doc, ensure_ascii=False)


def test_compare_in_chinese():
    at = run(lang="zh", task="sst2")
    ok(at)
    assert state.PAGES["compare"].title == "对比" and state.PAGES["cell"].title == "单元"
    assert at.sidebar.selectbox(key="task").label == "任务"
    assert at.sidebar.selectbox(key="task").options[0] == "情感（SST-2）"  # as the browser lists them
    assert at.text_input(key="text").label == "文本（按回车键读取）"
    assert at.text_input(key="text").value == TASKS["sst2"].example  # the user's text is never translated
    doc = component_payload(at)
    assert [c["title"] for c in doc["columns"]] == ["RNN", "LSTM", "GRU"]  # model names stay as they are
    lstm = doc["columns"][1]
    assert "个参数" in lstm["meta"] and "验证集准确率" in lstm["meta"]
    bars, _, heat = lstm["panels"]
    assert bars["title"] == "各类别的概率（读完整段文本后）" and bars["labels"] == ["负面", "正面"]
    titles = {r["name"]: r["title"] for r in heat["rows"]}
    assert titles["f"] == "遗忘门 f" and titles["c"] == "细胞状态 c" and titles["h"] == "隐藏状态 h"
    assert "遗忘门 f" in heat["fig"]["data"][3]["hovertemplate"]
    assert doc["strings"]["play"] == "▶ 播放" and doc["strings"]["not_drawn"] == "无法绘制图表：{error}"
    assert doc["unit_orders"][1] == ["variance", "按在文本上的方差"]
    patch = component_data(at, 1)["patches"][0]["set"]
    assert patch["title"] == "若文本在 t 处结束，各类别的概率"
    assert at.sidebar.toggle(key="present").label == "演示模式"


def test_english_is_unchanged():
    at = run(lang="en", task="sst2")
    ok(at)
    assert state.PAGES["compare"].title == "Compare" and at.sidebar.selectbox(key="task").label == "Task"
    doc = component_payload(at)
    assert doc["columns"][1]["panels"][0]["labels"] == ["negative", "positive"]
    assert doc["strings"]["play"] == "▶ Play" and not any("\u4e00" <= ch <= "\u9fff" for ch in strings_in(doc))


@pytest.mark.parametrize("text, message", [
    ("", "输入一些文本，看模型如何读取它。"),
    ("word " * 4_001, "文本有 20,005 个字符；只读取前 20,000 个。"),
    ("a\x00b\x07c", "已移除 2 个控制字符（替换为空格）。"),
])
def test_bad_input_is_said_in_chinese(text, message):
    at = run(lang="zh", task="sst2", text=text)
    assert not at.exception
    assert message in said(at)


def test_a_long_text_is_bounded_in_its_units():
    at = run(lang="zh", task="trec", text="word " * 3_000)
    assert "文本有 3,000 个词；模型只读取前 2,000 个。" in said(at, ("warning",))


def test_unknown_words_are_said_in_chinese():
    at = run(lang="zh", task="trec", text="who qwzx frobnicated")
    ok(at)
    assert any("不在词表中" in m for m in said(at, ("info", "warning")))


def test_cell_view_names_its_gates_in_chinese_first():
    at = run(lang="zh", view="cell", task="sst2", step=2)
    ok(at)
    assert at.radio(key="cell_kind").label == "模型" and at.selectbox(key="cell_layer").label == "层"
    assert at.radio(key="cell_direction").options == ["正向 →", "反向 ←"]
    assert at.selectbox(key="cell_unit").label == "单元（按平均 |h| 排序，最活跃的 8 个在前）"
    doc = component_payload(at)
    (col,) = doc["columns"]
    diagram = next(p for p in col["panels"] if p["type"] == "plotly")
    labels = [a["text"] for a in diagram["fig"]["layout"]["annotations"]]
    assert "遗忘门 f σ" in labels and "候选值 g tanh" in labels and "c<sub>t−1</sub>" in labels
    formula = next(p for p in col["panels"] if p["type"] == "formula")
    assert formula["title"].startswith("这一步的具体数值（第 ") and formula["lines"][1].startswith("f_t = σ(")
    assert component_data(at)["start"] == 2


def test_attention_view_in_chinese():
    at = run(lang="zh", view="attention", task="trec")
    ok(at)
    assert at.toggle(key="att_compare").label.startswith("与同一组隐藏状态上的其他打分规则对比")
    at.toggle(key="att_compare").set_value(True)
    rerun(at)
    ok(at)
    doc = component_payload(at)
    assert doc["step_label"] == "词元"
    panels = doc["columns"][0]["panels"]
    assert panels[0]["title"] == "预测" and panels[1]["title"] == "文本上的注意力（加性（已训练））"
    formulas = [p for p in panels if p["type"] == "formula"]
    assert formulas[0]["title"] == "加性（已训练） — W、b、v 与分类器一起学习得到"
    assert formulas[0]["lines"][0].endswith("在 t = {t}“{tok}”处")  # the browser fills {t} and {tok}
    assert "点积*" in strings_in(doc) and doc["note"].startswith("三个模型的柱形和底色使用同一标尺")


def test_a_view_for_other_tasks_says_so_in_chinese():
    at = run(lang="zh", view="attention", task="shakespeare")
    ok(at)
    assert said(at) == ["注意力视图展示分类器，它们用注意力汇聚各时间步的状态。请选择以下任务之一："]
    assert [b.label for b in at.button][:2] == ["情感（SST-2）", "问题类型（TREC）"]


def test_language_model_view_in_chinese():
    at = run(lang="zh", view="language_model", task="shakespeare")
    ok(at)
    assert [s.value for s in at.subheader] == ["逐步查看", "生成"]
    assert at.radio(key="lm_source").options == ["上面的文本", "RNN 写出的文本", "LSTM 写出的文本", "GRU 写出的文本"]
    doc = component_payload(at)
    assert doc["step_label"] == "字符" and doc["columns"][0]["panels"][1]["lines"] == ["在“{tok}”（t = {t}）之后，下一个字符："]
    at.number_input(key="lm_temperature").set_value(9.0)
    rerun(at)
    assert any(m.startswith("温度 9 非常高") for m in said(at, ("warning",)))


def test_switching_the_language_keeps_task_text_and_step():
    at = run(lang="en", task="trec", text="who wrote hamlet ?", step=2)
    ok(at)
    en = component_data(at)
    at.session_state["lang"] = "zh"  # the sidebar's switch
    at.run()
    ok(at)
    zh = component_data(at)
    assert at.session_state["task"] == "trec" and at.text_input(key="text").value == "who wrote hamlet ?"
    assert zh["start"] == 2 and at.session_state["t"] == 2 and zh["key"] != en["key"]
    assert json.loads(zh["payload"])["tokens"] == json.loads(en["payload"])["tokens"]
    assert at.query_params["lang"] in ("zh", ["zh"]) and at.query_params["step"] in ("2", ["2"])
    assert state.PAGES["compare"].title == "对比"
    at.session_state["lang"] = "en"
    rerun(at, "zh")  # the options on screen are still Chinese
    assert component_data(at)["key"] == en["key"] and at.sidebar.selectbox(key="task").label == "Task"


def test_the_share_link_carries_the_language():
    at = run_in_browser("en-US", lang="zh", task="trec", step=1)
    ok(at)
    link = testing.share_link(at, run=lambda: rerun(at, "zh"))
    assert link.startswith("http://192.168.1.20:8501?") and "lang=zh" in link and "step=1" in link
    assert at.sidebar.expander[-1].label == "分享此视图"


@pytest.mark.parametrize("value", ["fr", "<b>x</b>", "zh" * 30])
def test_an_unknown_language_falls_back_and_is_said_in_both_languages_as_text(value):
    at = run(lang=value, task="trec")
    ok(at)
    shown = f"语言 “{value[:40]}” 不可用，显示English。 / The link's language \"{value[:40]}\" is not available: " \
            "showing English."
    assert said(at, ("info",))[0] == shown
    assert "<b>" not in at.info[0].value  # escaped: markdown would render it as bold
    assert at.session_state["lang"] == "en" and at.query_params["lang"] in ("en", ["en"])
    assert component_payload(at)["view"] == "compare" and state.PAGES["compare"].title == "Compare"
    at.run()  # said once (the page is English: the test's thread formats like the script)
    assert not any("不可用" in m for m in said(at))


def test_an_unknown_language_falls_back_to_the_browsers():
    at = run_in_browser("zh-CN", lang="fr", task="trec")
    ok(at)
    assert at.session_state["lang"] == "zh" and said(at, ("info",))[0].startswith("语言 “fr” 不可用，显示中文。")


@pytest.mark.parametrize("locale, lang", [("zh-CN", "zh"), ("zh-TW", "zh"), ("en-GB", "en"), ("fr-FR", "en"),
                                          (None, "en")])
def test_the_default_follows_the_browsers_locale(locale, lang):
    at = run_in_browser(locale, task="sst2")
    ok(at)
    assert at.session_state["lang"] == lang and at.query_params["lang"] in (lang, [lang])
    assert state.PAGES["compare"].title == {"zh": "对比", "en": "Compare"}[lang]


def test_the_link_wins_over_the_browser():
    at = run_in_browser("zh-CN", lang="en", task="sst2")
    assert at.session_state["lang"] == "en" and not said(at)


def test_a_payload_built_for_one_language_is_never_served_to_another():
    text = "who wrote hamlet ?"
    zh = run(lang="zh", task="trec", text=text)  # fills the shared cache in Chinese first
    en = run(lang="en", task="trec", text=text)
    ok(en)
    doc_zh, doc_en = component_payload(zh), component_payload(en)
    assert component_data(zh)["key"] != component_data(en)["key"]
    assert doc_en["strings"]["play"] == "▶ Play" and doc_zh["strings"]["play"] == "▶ 播放"
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in strings_in(doc_en))
    assert component_data(en, 1)["patches"][0]["set"]["title"] == "class probabilities if the text ended at t"
    # The same in code: the language is part of every text-holding cache's key, and a caller
    # that does not pass it gets the session's (here: the notebook's) language.
    cfg = UntrainedConfig()
    assert cache.compare_payload("trec", cfg, text, lang="zh") != cache.compare_payload("trec", cfg, text, lang="en")
    with i18n.using("zh"):
        assert cache.compare_payload("trec", cfg, text) == cache.compare_payload("trec", cfg, text, lang="zh")
        assert cache.cell_payload("trec", cfg, "lstm", 0, 1, 3, text, lang="en")[0].count("遗忘门") == 0
    assert cache.compare_payload("trec", cfg, text) == cache.compare_payload("trec", cfg, text, lang="en")
