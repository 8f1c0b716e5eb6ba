"""The interface's languages (viz_app/i18n.py): the catalogues cover exactly what the code
shows, placeholders agree, and a broken or unknown language never breaks a page."""

from __future__ import annotations

import pytest

from viz_app import i18n
from viz_app.i18n import _, _n

OTHER = [lang for lang in i18n.LANGS if lang != "en"]


@pytest.fixture(scope="module")
def ids():
    return i18n.extract()


def catalogue(lang):
    from babel.messages.pofile import read_po

    with i18n.catalogue_path(lang).open("rb") as f:
        return {m.id: m.string for m in read_po(f, locale=lang) if m.id}


def test_the_code_marks_messages(ids):
    # The extractor sees the views' messages (a wrong keyword table would find none).
    assert len(ids) > 100 and "Compare" in ids


@pytest.mark.parametrize("lang", OTHER)
def test_every_message_shown_has_a_translation(lang, ids):
    cat = catalogue(lang)
    missing = {k: v[0] for k, v in ids.items() if not cat.get(k) or (isinstance(k, tuple) and not all(cat[k]))}
    assert not missing, f"{len(missing)} messages have no {lang} translation (run python -m viz_app.i18n, then " \
                        f"translate): {list(missing.items())[:10]}"


@pytest.mark.parametrize("lang", OTHER)
def test_the_catalogue_holds_nothing_unused(lang, ids):
    unused = set(catalogue(lang)) - set(ids)
    assert not unused, f"{len(unused)} {lang} entries that no code shows: {sorted(map(str, unused))[:10]}"


@pytest.mark.parametrize("lang", OTHER)
def test_translations_keep_their_placeholders(lang):
    bad = []
    for k, v in catalogue(lang).items():
        for eng, tr in zip((k,) if isinstance(k, str) else k, (v,) if isinstance(v, str) else v):
            if tr and i18n.fields(tr) != i18n.fields(k if isinstance(k, str) else k[0]) | i18n.fields(eng):
                bad.append((eng, tr))
    assert not bad, bad[:10]


def test_translation_follows_the_language():
    assert _("Compare") == "Compare"
    with i18n.using("zh"):
        assert _("Compare") != "Compare" and _("Compare")
    assert i18n.current() == "en"


def test_a_translation_missing_a_placeholder_shows_english(monkeypatch, caplog):
    msg = "The text has {n:,} characters; only the first {limit:,} are read."
    monkeypatch.setitem(i18n._table("zh"), msg, "文本过长，只读取前 {limit:,} 个字符（共 {count} 个）。")
    with i18n.using("zh"), caplog.at_level("WARNING"):
        assert _(msg, n=30_000, limit=20_000) == "The text has 30,000 characters; only the first 20,000 are read."
    assert "does not fit its placeholders" in caplog.text


def test_a_broken_placeholder_in_the_code_is_a_bug():
    with pytest.raises(KeyError):
        _("{missing} here", other=1)


def test_plurals():
    one, many = "Removed {n:,} control character.", "Removed {n:,} control characters."
    assert _n(one, many, 1) == "Removed 1 control character." and _n(one, many, 3) == "Removed 3 control characters."


@pytest.mark.parametrize("raw, lang", [("zh", "zh"), ("zh-CN", "zh"), ("zh_TW", "zh"), ("EN", "en"), ("en-GB", "en"),
                                       ("fr", None), ("", None), (None, None), ("<script>", None), ("zh" * 500, None)])
def test_normalize(raw, lang):
    assert i18n.normalize(raw) == lang


def test_unknown_languages_are_refused():
    with pytest.raises(ValueError):
        i18n.set_default("fr")
    with pytest.raises(ValueError), i18n.using("xx"):
        pass
