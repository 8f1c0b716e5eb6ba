"""cells.dates: the generated dates task, its conventions and its disjoint splits."""

import datetime as dt
import re
from collections import Counter

import numpy as np
import pytest

from cells import dates

SPLITS = dates.split_dates()
ALL_DAYS = (dates.LAST - dates.FIRST).days + 1


def _year(yy: str) -> int:
    y = int(yy)
    return y if len(yy) == 4 else (1900 + y if y >= dates.PIVOT else 2000 + y)


# A reference reader for the numeric forms: the conventions the module docstring states.
NUMERIC = {
    "mm/dd/yy": (r"(\d{1,2})/(\d{1,2})/(\d{2})", lambda m, d, y: (y, m, d)),
    "mm/dd/yyyy": (r"(\d{1,2})/(\d{1,2})/(\d{4})", lambda m, d, y: (y, m, d)),
    "dd.mm.yyyy": (r"(\d{1,2})\.(\d{1,2})\.(\d{4})", lambda d, m, y: (y, m, d)),
    "yyyy/mm/dd": (r"(\d{4})/(\d{1,2})/(\d{1,2})", lambda y, m, d: (y, m, d)),
    "yyyymmdd": (r"(\d{4})(\d{2})(\d{2})", lambda y, m, d: (y, m, d)),
    "yyyy-mm-dd": (r"(\d{4})-(\d{2})-(\d{2})", lambda y, m, d: (y, m, d)),
    "yyyy年m月d日": (r"(\d{4})年(\d{1,2})月(\d{1,2})日", lambda y, m, d: (y, m, d)),
}


def test_the_splits_partition_every_date_80_10_10():
    sets = {k: set(v) for k, v in SPLITS.items()}
    assert sum(map(len, sets.values())) == ALL_DAYS == len(set().union(*sets.values()))
    assert not (sets["train"] & sets["validation"] or sets["train"] & sets["test"] or sets["validation"] & sets["test"])
    assert {k: round(len(v) / ALL_DAYS, 3) for k, v in sets.items()} == {"train": 0.8, "validation": 0.1, "test": 0.1}
    assert dates.split_dates() is SPLITS  # fixed by SPLIT_SEED, whatever a model trains with


@pytest.mark.parametrize("split", ["validation", "test"])
def test_held_out_sets_write_each_of_their_dates_once_in_balanced_forms(split):
    ex = dates.held_out(split)
    assert sorted(e.date for e in ex) == list(SPLITS[split])
    counts = Counter(e.form for e in ex)
    assert set(counts) == set(dates.FORMS) and max(counts.values()) - min(counts.values()) <= 1
    assert all(e.target == e.date.isoformat() for e in ex)
    assert dates.held_out(split) == ex


def test_no_test_date_is_seen_in_training_in_any_form():
    train = dates.sample("train", 30_000, 0)
    test = dates.held_out("test")
    assert {e.date for e in train} <= set(SPLITS["train"])
    assert not {e.target for e in train} & {e.target for e in test}  # not even as the ISO target
    assert not {e.source for e in train} & {e.source for e in test}
    assert not {e.source for e in train} & {e.source for e in dates.held_out("validation")}


def test_every_string_names_exactly_one_date():
    seen: dict[str, str] = {}
    for e in dates.sample("train", 20_000, 1) + list(dates.held_out("test")) + list(dates.held_out("validation")):
        assert seen.setdefault(e.source, e.target) == e.target, e.source


@pytest.mark.parametrize("form", NUMERIC)
def test_numeric_forms_follow_the_stated_conventions(form):
    pattern, order = NUMERIC[form]
    rng = np.random.default_rng(0)
    for d in SPLITS["test"][::37]:
        s = dates.write(d, form, rng).source
        m = re.fullmatch(pattern, s)
        assert m, s
        y, mo, da = order(*m.groups())
        assert dt.date(_year(y), int(mo), int(da)) == d, s


def test_two_digit_years_pivot_at_50():
    rng = np.random.default_rng(0)
    assert dates.write(dt.date(1950, 1, 2), "mm/dd/yy", rng).source.endswith("/50")
    assert dates.write(dt.date(2049, 12, 31), "dd-mon-yy", rng).source.lower() == "31-dec-49"
    with pytest.raises(ValueError, match="two-digit years"):
        dates.write(dt.date(1949, 12, 31), "yyyy-mm-dd", rng)


def test_written_weekdays_are_the_real_ones():
    rng = np.random.default_rng(3)
    for d in SPLITS["validation"][::53]:
        en = dates.write(d, "weekday, month dth yyyy", rng).source
        assert en.split(",")[0].lower() in (d.strftime("%A").lower(), d.strftime("%a").lower()), en
        zh = dates.write(d, "年月日 星期", rng).source
        assert zh.endswith("星期" + dates.ZH_WEEKDAYS[d.weekday()]), zh
    assert dates.write(dt.date(1998, 5, 3), "weekday, month dth yyyy", np.random.default_rng(1)).source in (
        "Sunday, May 3rd 1998", "Sun, May 3rd 1998", "SUNDAY, MAY 3RD 1998", "sunday, may 3rd 1998",
        "SUN, MAY 3RD 1998", "sun, may 3rd 1998")


@pytest.mark.parametrize("n, want", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
                                     (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (30, "30th"), (31, "31st")])
def test_ordinals(n, want):
    assert dates.ordinal(n) == want


@pytest.mark.parametrize("n, want", [(1, "一"), (3, "三"), (10, "十"), (12, "十二"), (20, "二十"), (23, "二十三"),
                                     (30, "三十"), (31, "三十一")])
def test_chinese_numerals(n, want):
    assert dates.zh_number(n) == want


def test_chinese_years_are_read_digit_by_digit():
    assert dates.zh_year(1998) == "一九九八" and dates.zh_year(2008) == "二〇〇八"
    e = dates.write(dt.date(1998, 5, 3), "中文数字", np.random.default_rng(0))
    assert (e.source, e.target) == ("一九九八年五月三日", "1998-05-03")


def test_the_brief_s_examples_are_among_the_forms():
    d, rng = dt.date(1998, 5, 3), np.random.default_rng(0)
    written = {dates.write(d, f, rng).source for f in dates.FORMS for _ in range(40)}
    for s in ("3 May 1998", "1998年5月3日", "05/03/98", "Sunday, May 3rd 1998", "May 3, 1998", "3.5.1998",
              "1998-05-03", "一九九八年五月三日"):
        assert s in written, s


def test_sampling_is_seeded():
    assert dates.sample("train", 50, 7) == dates.sample("train", 50, 7) != dates.sample("train", 50, 8)
    rng = np.random.default_rng(0)
    a, b = dates.sample("train", 20, rng), dates.sample("train", 20, rng)  # a stream: fresh examples
    assert a != b


def test_the_alphabet_covers_every_held_out_character():
    a = set(dates.alphabet())
    for split in ("validation", "test"):
        assert {c for e in dates.held_out(split) for c in e.source} <= a
    assert {"年", "月", "日", "〇", "星", "期"} <= a and set("0123456789-/.,") <= a


@pytest.mark.parametrize("call, message", [
    (lambda: dates.write(dt.date(2000, 1, 1), "klingon", np.random.default_rng(0)), "unknown date form"),
    (lambda: dates.sample("dev", 3, 0), "unknown split"),
    (lambda: dates.sample("train", -1, 0), "whole number"),
    (lambda: dates.held_out("train"), "held-out splits"),
])
def test_bad_arguments_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
