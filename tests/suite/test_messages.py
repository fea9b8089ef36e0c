"""Every learner-visible string exists in English and Korean, with the same fields."""

from __future__ import annotations

import ast
import re

import pytest
from helpers import ROOT

from backprop_katas.catalog import LANGS, load_catalog
from backprop_katas.messages import MESSAGES, fields_of, say

SOURCES = sorted((ROOT / "src" / "backprop_katas").rglob("*.py")) + sorted((ROOT / "tests").glob("test_k*.py"))
HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_english_and_korean_with_the_same_fields(key):
    entry = MESSAGES[key]
    assert sorted(entry) == sorted(LANGS), f"{key}: languages {sorted(entry)}"
    for lang in LANGS:
        assert entry[lang].strip(), f"{key}.{lang} is empty"
    assert fields_of(entry["en"]) == fields_of(entry["ko"]), f"{key}: the two languages use different fields"
    assert not HANGUL.search(entry["en"]), f"{key}.en contains Korean"


def test_korean_messages_are_korean():
    # A key whose "ko" is a copy of "en" is a missing translation (code words alone excepted).
    untranslated = [k for k, v in MESSAGES.items() if v["ko"] == v["en"] and re.search(r"[a-z]{4,} [a-z]{4,}", v["en"])]
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
    missing = [f"{p.relative_to(ROOT)}:{line}: {key}" for p, line, key in _said_keys() if key not in MESSAGES]
    assert not missing


def test_every_cli_status_has_a_word():
    from backprop_katas.kinds import Status

    for status in Status:
        assert f"cli_status_{status}" in MESSAGES


@pytest.mark.parametrize("lang", ["en", "ko", "both"])
def test_say_renders_in_the_chosen_language(lang, monkeypatch):
    monkeypatch.setenv("KATAS_LANG", lang)
    text = say("cli_hint", n=1, total=3, hint="h")
    assert ("Hint 1/3" in text) == (lang in ("en", "both"))
    assert ("힌트 1/3" in text) == (lang in ("ko", "both"))


def test_every_kata_has_title_task_and_hints_in_both_languages():
    for kata in load_catalog(ROOT):
        for lang in LANGS:
            assert kata.title[lang].strip() and kata.task[lang].strip(), f"{kata.id}: {lang}"
            assert all(h.strip() for h in kata.hints[lang]), f"{kata.id}: an empty {lang} hint"
        assert len(kata.hints["en"]) == len(kata.hints["ko"]) >= 2, f"{kata.id}: hints differ in number"
        assert HANGUL.search(kata.title["ko"] + kata.task["ko"]), f"{kata.id}: the Korean task is not Korean"
        assert not HANGUL.search(kata.title["en"] + kata.task["en"] + "".join(kata.hints["en"]))
        for ko in kata.hints["ko"]:
            assert HANGUL.search(ko), f"{kata.id}: hint {ko!r} is not Korean"


def test_every_phrase_has_korean_and_korean_mode_uses_it(monkeypatch):
    from backprop_katas.messages import PHRASES, say

    assert all(en.strip() and ko.strip() for en, ko in PHRASES.items())
    monkeypatch.setenv("KATAS_LANG", "ko")
    text = say("not_equal", what="The count", got=3, expected=9)
    assert "개수" in text and "The count" not in text
