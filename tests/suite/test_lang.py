"""Language has one home: every learner-visible string exists in every language, with the same
fields; one resolver picks the language; a message travels as data."""

from __future__ import annotations

import ast
import json
import re

import pytest
from helpers import ROOT

from backprop_katas import lang as L
from backprop_katas.catalog import load_catalog
from backprop_katas.lang import Msg, catalogue, fields_of, keys, msg, resolve, say

SOURCES = sorted((ROOT / "src" / "backprop_katas").rglob("*.py")) + sorted((ROOT / "tests").glob("test_k*.py"))
HANGUL = re.compile("[\uac00-\ud7a3]")
SECTIONS = ("messages", "phrases")


def test_english_and_korean_have_a_catalogue_and_both_is_english_then_korean():
    assert L.LANGS[0] == "en" and "ko" in L.LANGS
    assert L.MODES == (*L.LANGS, "both")


@pytest.mark.parametrize("language", [code for code in L.LANGS if code != "en"])
@pytest.mark.parametrize("section", SECTIONS)
def test_every_language_has_exactly_the_english_keys(language, section):
    english, other = catalogue("en")[section], catalogue(language)[section]
    assert sorted(set(english) - set(other)) == [], f"missing in {language}.toml [{section}]"
    assert sorted(set(other) - set(english)) == [], f"only in {language}.toml [{section}]"


@pytest.mark.parametrize("key", keys())
def test_every_message_has_the_same_fields_in_every_language(key):
    for language in L.LANGS:
        text = catalogue(language)["messages"][key]
        assert text.strip(), f"{key} is empty in {language}.toml"
        assert fields_of(text) == fields_of(L.template(key, "en")), f"{key}: {language} uses other fields"
    assert not HANGUL.search(L.template(key, "en")), f"{key}: en.toml has Korean"


def test_korean_messages_are_korean():
    # A key whose "ko" is a copy of "en" is a missing translation (code words alone excepted).
    ko, en = catalogue("ko"), catalogue("en")
    untranslated = [
        f"[{section}] {k}"
        for section in SECTIONS
        for k, text in en[section].items()
        if ko[section][k] == text and re.search(r"[a-z]{4,} [a-z]{4,}", text)
    ]
    assert not untranslated


def _said_keys():
    """Every literal key passed to say()/msg()/Msg() in the tool and the kata tests."""
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("say", "msg", "Msg")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                yield path, node.lineno, node.args[0].value


def test_every_key_the_code_says_exists():
    missing = [f"{p.relative_to(ROOT)}:{line}: {key}" for p, line, key in _said_keys() if key not in keys()]
    assert not missing


def test_every_cli_status_has_a_word():
    from backprop_katas.tool.check import STATUSES

    for status in STATUSES:
        assert f"cli_status_{status}" in keys()


@pytest.mark.parametrize("language", ["en", "ko", "both"])
def test_say_renders_in_the_language_it_is_given(language):
    text = say("cli_hint", lang=language, n=1, total=3, hint="h")
    assert ("Hint 1/3" in text) == (language in ("en", "both"))
    assert ("힌트 1/3" in text) == (language in ("ko", "both"))
    if language == "both":
        assert text.index("Hint 1/3") < text.index("\n") < text.index("힌트 1/3")


def test_every_kata_has_title_task_and_hints_in_both_languages():
    for kata in load_catalog(ROOT):
        for language in ("en", "ko"):
            assert kata.title[language].strip() and kata.task[language].strip(), f"{kata.id}: {language}"
            assert all(h.strip() for h in kata.hints[language]), f"{kata.id}: an empty {language} hint"
        assert len(kata.hints["en"]) == len(kata.hints["ko"]) >= 2, f"{kata.id}: hints differ in number"
        assert HANGUL.search(kata.title["ko"] + kata.task["ko"]), f"{kata.id}: the Korean task is not Korean"
        assert not HANGUL.search(kata.title["en"] + kata.task["en"] + "".join(kata.hints["en"]))
        for ko in kata.hints["ko"]:
            assert HANGUL.search(ko), f"{kata.id}: hint {ko!r} is not Korean"


def test_a_known_phrase_is_rendered_in_the_language():
    assert all(text.strip() for language in L.LANGS for text in catalogue(language)["phrases"].values())
    text = say("not_equal", lang="ko", what="The count", got=3, expected=9)
    assert "개수" in text and "The count" not in text
    assert "The count is 3" in say("not_equal", lang="en", what="The count", got=3, expected=9)


# --- one resolver ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "environ", "expected"),
    [
        ("ko", {}, "ko"),
        ("both", {"KATAS_LANG": "ko"}, "both"),
        (None, {"KATAS_LANG": "ko", "LANG": "C"}, "ko"),
        (None, {"KATAS_LANG": "both"}, "both"),
        (None, {"KATAS_LANG": "klingon", "LANG": "ko_KR.UTF-8"}, "ko"),
        (None, {"LANG": "ko_KR.UTF-8"}, "ko"),
        (None, {"LC_ALL": "en_US.UTF-8", "LANG": "ko_KR.UTF-8"}, "en"),
        (None, {"LANG": "C.UTF-8"}, "en"),
        (None, {}, "en"),
    ],
    ids=["flag", "flag-over-env", "env", "env-both", "bad-env-then-locale", "locale", "lc_all-first",
         "c-locale", "nothing-english"],
)
def test_the_flag_then_katas_lang_then_the_locale_then_english(flag, environ, expected):
    assert resolve(flag, environ) == expected


def test_a_command_that_shows_one_language_passes_over_both():
    assert resolve(None, {"KATAS_LANG": "both", "LANG": "ko_KR.UTF-8"}, modes=L.LANGS) == "ko"


def test_the_process_language_is_set_once_and_not_read_from_the_environment_again(monkeypatch):
    monkeypatch.setattr(L, "_current", None)
    monkeypatch.setenv("KATAS_LANG", "ko")
    assert L.current() == "ko"
    monkeypatch.setenv("KATAS_LANG", "en")
    assert L.current() == "ko" and "힌트" in str(msg("cli_hint", n=1, total=2, hint="h"))
    L.use("en")
    assert L.current() == "en"
    with pytest.raises(ValueError, match="klingon"):
        L.use("klingon")
    assert L.child_environ("ko", {"PATH": "/bin"}) == {"PATH": "/bin", "KATAS_LANG": "ko"}


# --- a message travels as data ----------------------------------------------------------------


def test_a_message_survives_json_with_nested_messages_and_renders_the_same():
    original = msg(
        "likely_cause",
        cause=msg("cause_for", name="w1", cause=msg("cause_missing_mean", n=4)),
    )
    wire = json.loads(json.dumps(original.to_data()))
    back = Msg.from_data(wire)
    assert back == original
    for language in L.MODES:
        assert back.render(language) == original.render(language)
    mismatch = msg("not_close", what="The result", index=[1, 2], got="1", expected="2", rel=0.5, rtol=1e-5, atol=0.0)
    assert Msg.from_data(json.loads(json.dumps(mismatch.to_data()))).render("ko") == mismatch.render("ko")


def test_an_unknown_key_is_refused():
    with pytest.raises(KeyError, match="no_such_key"):
        msg("no_such_key")
