"""The dates task: a date written in one of many ways -> the same date in ISO 8601.

    "3 May 1998", "Sunday, May 3rd 1998", "05/03/98", "3.5.1998", "1998年5月3日",
    "一九九八年五月三日星期日", …  ->  "1998-05-03"

Everything is generated here from a seed; nothing is downloaded. Each surface form is a
function (date, rng) -> str in `FORMS`; the rng picks its small variations (zero padding,
a comma, upper or lower case), never the date it writes.

Conventions, so that every string names exactly one date (`parse` would be a function):
- dates run from FIRST (1950-01-01) to LAST (2049-12-31), so a two-digit year is
  unambiguous: 50–99 -> 19yy, 00–49 -> 20yy;
- a slash between day and month is the US order, month first ("05/03/98" is May 3rd); a
  dot is the European order, day first ("3.5.1998"); a four-digit year first means year,
  month, day ("1998/05/03", "19980503");
- a written weekday is always the date's real weekday.

Splits, disjoint by date and hence by (date, surface form) pair: `split_dates` shuffles
the 36,525 dates once with SPLIT_SEED (a constant, not the training seed) and cuts the
permutation into train (80 %), validation (10 %) and test (10 %). Examples of a split are
written only from that split's dates, so no validation or test date is ever seen in
training, in any form (not even as its ISO target). Because every string names exactly
one date, no source string of one split occurs in another either (tests/test_dates.py
checks both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

FIRST, LAST = dt.date(1950, 1, 1), dt.date(2049, 12, 31)
PIVOT = 50  # two-digit years: yy >= PIVOT is 19yy, else 20yy
SPLIT_SEED = 20150901  # fixes which dates are held out, whatever seed a model trains with
SPLITS = {"train": 0.8, "validation": 0.1, "test": 0.1}

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # date.weekday() order
ZH_DIGITS = "〇一二三四五六七八九"
ZH_WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")  # 星期一 … 星期日, date.weekday() order
TARGET_CHARS = "-0123456789"  # all an ISO date is written with


@dataclass(frozen=True)
class Example:
    source: str  # "Sunday, May 3rd 1998"
    target: str  # "1998-05-03"
    form: str  # a key of FORMS
    date: dt.date


def iso(d: dt.date) -> str:
    return d.isoformat()  # "1998-05-03"


# -- pieces ---------------------------------------------------------------------------------

def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, …, 21st, 22nd, 23rd, …"""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def zh_number(n: int) -> str:
    """A month or day in Chinese numerals: 3 -> 三, 10 -> 十, 12 -> 十二, 20 -> 二十, 31 -> 三十一."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else "十" if tens == 1 else ZH_DIGITS[tens] + "十"
    return head + (ZH_DIGITS[ones] if ones else "")


def zh_year(y: int) -> str:
    """A year digit by digit, as dates are read: 1998 -> 一九九八, 2008 -> 二〇〇八."""
    return "".join(ZH_DIGITS[int(c)] for c in str(y))


def _pad(n: int, rng: np.random.Generator) -> str:
    return f"{n:02d}" if rng.random() < 0.5 else str(n)


def _comma(rng: np.random.Generator) -> str:
    return "," if rng.random() < 0.5 else ""


def _case(s: str, rng: np.random.Generator) -> str:
    """English words as written (80 %), in capitals (10 %) or in lower case (10 %)."""
    u = rng.random()
    return s.upper() if u < 0.1 else s.lower() if u < 0.2 else s


def _month(d: dt.date) -> str:
    return MONTHS[d.month - 1]


def _mon(d: dt.date) -> str:
    return MONTHS[d.month - 1][:3]


def _wkd(d: dt.date, rng: np.random.Generator) -> str:
    return WEEKDAYS[d.weekday()] if rng.random() < 0.5 else WEEKDAYS[d.weekday()][:3]


# -- the surface forms ------------------------------------------------------------------------

Form = Callable[[dt.date, np.random.Generator], str]

FORMS: dict[str, Form] = {
    "d month yyyy": lambda d, r: _case(f"{_pad(d.day, r)} {_month(d)} {d.year}", r),  # 3 May 1998
    "d mon yyyy": lambda d, r: _case(f"{_pad(d.day, r)} {_mon(d)} {d.year}", r),  # 03 May 1998
    "month d, yyyy": lambda d, r: _case(f"{_month(d)} {d.day}{_comma(r)} {d.year}", r),  # May 3, 1998
    "mon d, yyyy": lambda d, r: _case(f"{_mon(d)} {d.day}{_comma(r)} {d.year}", r),  # May 3 1998
    "month dth, yyyy": lambda d, r: _case(f"{_month(d)} {ordinal(d.day)}{_comma(r)} {d.year}", r),  # May 3rd, 1998
    "weekday, month dth yyyy": lambda d, r: _case(f"{_wkd(d, r)}, {_month(d)} {ordinal(d.day)} {d.year}", r),
    "wkd, d mon yyyy": lambda d, r: _case(f"{_wkd(d, r)}, {d.day} {_mon(d)} {d.year}", r),  # Sun, 3 May 1998
    "the dth of month yyyy": lambda d, r: _case(("the " if r.random() < 0.5 else "")
                                                + f"{ordinal(d.day)} of {_month(d)}{_comma(r)} {d.year}", r),
    "mm/dd/yy": lambda d, r: f"{_pad(d.month, r)}/{_pad(d.day, r)}/{d.year % 100:02d}",  # 05/03/98 (US)
    "mm/dd/yyyy": lambda d, r: f"{_pad(d.month, r)}/{_pad(d.day, r)}/{d.year}",  # 5/3/1998 (US)
    "dd.mm.yyyy": lambda d, r: f"{_pad(d.day, r)}.{_pad(d.month, r)}.{d.year}",  # 3.5.1998
    "dd-mon-yy": lambda d, r: _case(f"{d.day:02d}-{_mon(d)}-{d.year % 100:02d}", r),  # 03-May-98
    "yyyy/mm/dd": lambda d, r: f"{d.year}/{_pad(d.month, r)}/{_pad(d.day, r)}",  # 1998/05/03
    "yyyymmdd": lambda d, r: f"{d.year}{d.month:02d}{d.day:02d}",  # 19980503
    "yyyy-mm-dd": lambda d, r: iso(d),  # already ISO: the model copies it
    "yyyy年m月d日": lambda d, r: f"{d.year}年{_pad(d.month, r)}月{_pad(d.day, r)}日",  # 1998年5月3日
    "中文数字": lambda d, r: f"{zh_year(d.year)}年{zh_number(d.month)}月{zh_number(d.day)}日",  # 一九九八年五月三日
    "年月日 星期": lambda d, r: (f"{d.year}年{d.month}月{d.day}日" if r.random() < 0.5 else
                             f"{zh_year(d.year)}年{zh_number(d.month)}月{zh_number(d.day)}日")
                            + (" " if r.random() < 0.5 else "") + f"星期{ZH_WEEKDAYS[d.weekday()]}",
}


def write(d: dt.date, form: str, rng: np.random.Generator) -> Example:
    """One example: date d written in the given form (variations drawn from rng)."""
    if form not in FORMS:
        raise ValueError(f"unknown date form {form!r}; expected one of {tuple(FORMS)}")
    if not FIRST <= d <= LAST:
        raise ValueError(f"{d} lies outside {FIRST} … {LAST}, where two-digit years are unambiguous")
    return Example(FORMS[form](d, rng), iso(d), form, d)


# -- splits -----------------------------------------------------------------------------------

@cache
def split_dates() -> dict[str, tuple[dt.date, ...]]:
    """{"train", "validation", "test"}: disjoint sets of dates that together are every date
    FIRST … LAST, cut from one permutation drawn with SPLIT_SEED (sorted within a split)."""
    n = (LAST - FIRST).days + 1
    perm = np.random.default_rng(SPLIT_SEED).permutation(n)  # (n,)
    cuts = np.cumsum([round(f * n) for f in SPLITS.values()])[:-1]
    return {name: tuple(sorted(FIRST + dt.timedelta(days=int(i)) for i in part))
            for name, part in zip(SPLITS, np.split(perm, cuts))}


def sample(split: str, n: int, seed: int | np.random.Generator) -> list[Example]:
    """n examples from a split's dates, dates and forms drawn uniformly (with replacement).
    seed: an int (the same examples every time) or a Generator (training's stream)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {tuple(SPLITS)}")
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a whole number ≥ 0; got {n!r}")
    dates, forms = split_dates()[split], tuple(FORMS)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng([seed, list(SPLITS).index(split)])
    days, kinds = rng.integers(0, len(dates), n), rng.integers(0, len(forms), n)  # (n,), (n,)
    return [write(dates[i], forms[k], rng) for i, k in zip(days, kinds)]


@cache
def alphabet() -> tuple[str, ...]:
    """Every character the forms write (sorted): the models' source vocabulary, read off
    20,000 training examples, which show each form's every variation many times over."""
    return tuple(sorted({c for e in sample("train", 20_000, SPLIT_SEED) for c in e.source}))


@cache
def held_out(split: str) -> tuple[Example, ...]:
    """The fixed examples of a held-out split: every date of the split once (3,652 or 3,653),
    its form dealt round-robin over a shuffled order of the dates, so that each form writes
    an equal share of them. "validation" is for early stopping, "test" is reported."""
    if split not in ("validation", "test"):
        raise ValueError(f"held-out splits are 'validation' and 'test'; got {split!r}")
    dates, forms = split_dates()[split], tuple(FORMS)
    rng = np.random.default_rng([SPLIT_SEED, list(SPLITS).index(split)])
    order = rng.permutation(len(dates))  # (n,)
    return tuple(write(dates[i], forms[j % len(forms)], rng) for j, i in enumerate(order))
