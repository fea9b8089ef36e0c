"""Language has one home: every learner-visible string exists in every language, with the same
fields; one resolver picks the language; a message travels as data."""

from __future__ import annotations

import ast
import json
import re
import zipfile

import pytest
from helpers import ROOT, read_toml

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
    from backprop_katas.kinds import Status as STATUSES

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
    assert "The count: yours 3" in say("not_equal", lang="en", what="The count", got=3, expected=9)


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
    ids=[
        "flag",
        "flag-over-env",
        "env",
        "env-both",
        "bad-env-then-locale",
        "locale",
        "lc_all-first",
        "c-locale",
        "nothing-english",
    ],
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
        cause=msg("cause_for", name="w1", cause=msg("cause_missing_mean", n=4, letter="N")),
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


# --- self-checks: Korean only in the catalogue, no key in one language only, no English-only string


def catalogue_problems(english: dict, other: dict, name: str) -> list[str]:
    """What keeps ``other`` from matching the English catalogue: a key in one only, other fields."""
    problems = []
    for section in SECTIONS:
        mine, theirs = english.get(section, {}), other.get(section, {})
        problems += [f"{name} [{section}] lacks {k}" for k in sorted(set(mine) - set(theirs))]
        problems += [f"{name} [{section}] has {k}, English has not" for k in sorted(set(theirs) - set(mine))]
        problems += [
            f"{name} [{section}] {k}: fields {sorted(fields_of(theirs[k]))}, English {sorted(fields_of(mine[k]))}"
            for k in sorted(set(mine) & set(theirs))
            if fields_of(mine[k]) != fields_of(theirs[k])
        ]
    return problems


@pytest.mark.parametrize("language", [code for code in L.LANGS if code != "en"])
def test_no_key_exists_in_one_language_only_and_no_field_differs(language):
    assert catalogue_problems(catalogue("en"), catalogue(language), f"{language}.toml") == []


@pytest.mark.parametrize(
    ("ko_text", "problem"),
    [
        ('[messages]\ncalled = "{call} 을(를) 호출했습니다."\n', None),
        ("[messages]\n", "lacks called"),
        ('[messages]\ncalled = "{call}"\nextra = "하나 더"\n', "has extra, English has not"),
        ('[messages]\ncalled = "{함수} 을(를) 호출했습니다."\n', "fields ['함수'], English ['call']"),
    ],
    ids=["matching", "key-missing", "key-extra", "fields-differ"],
)
def test_the_catalogue_check_catches_an_injected_violation(tmp_path, ko_text, problem):
    english = {"messages": {"called": "Called {call}."}, "phrases": {}}
    (tmp_path / "ko.toml").write_text(ko_text, encoding="utf-8")
    other = read_toml(tmp_path / "ko.toml")
    found = catalogue_problems(english, other, "ko.toml")
    assert found == [] if problem is None else any(problem in p for p in found), found


# Where Korean may be written as a literal: the catalogues and the language layer's particle rule
# (lang/josa.py: the particles themselves), katas.toml, solutions/ (the reference's
# bilingual docstrings) and katas/ (the stubs generate.py makes from solutions/; test_self_checks
# keeps them equal). The tool's own tests (tests/suite/) assert Korean output and are not shown
# to learners. Everything else a learner, instructor or grader runs is scanned.
SCANNED = sorted(
    {
        *(ROOT / "src").rglob("*.py"),
        *(ROOT / "tests").glob("*.py"),
        *(ROOT / "examples").rglob("*.py"),
        *(ROOT / "benchmarks").rglob("*.py"),
        ROOT / "conftest.py",
        ROOT / "setup.py",
    }
    - {ROOT / "src" / "backprop_katas" / "lang" / "josa.py"}
)


def hangul_literals(path) -> list[str]:
    """Every string literal (docstrings and f-strings included) holding Hangul; comments are not literals."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.name}:{node.lineno}: {node.value[:60]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and HANGUL.search(node.value)
    ]


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: str(p.relative_to(ROOT)))
def test_korean_is_written_only_in_the_catalogue(path):
    assert hangul_literals(path) == [], "move the sentence into src/backprop_katas/lang/*.toml and say() it"


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ('print("결과")\n', True),
        ('name = "x"\nprint(f"{name} 가 없습니다")\n', True),
        ('def f():\n    """두 배."""\n', True),
        ('print(say("called", call=c))  # 호출\n', False),
    ],
    ids=["literal", "f-string", "docstring", "comment-only"],
)
def test_the_hangul_check_catches_an_injected_literal(tmp_path, source, flagged):
    path = tmp_path / "injected.py"
    path.write_text(source, encoding="utf-8")
    assert bool(hangul_literals(path)) == flagged


# A learner-visible string in one language only: prose (two words in a row) in a literal the
# judge shows (a call description, a field of a message, a part of fail(), a `what`). Code
# ("k05_backprop.manual_gradients(net, x, t)", "x = 0") and the catalogue's phrases pass.
PROSE = re.compile(r"[A-Za-z]{2,} [A-Za-z]+\b|\b[A-Za-z]+ [A-Za-z]{2,}")
SHOWN_BY = re.compile(r"^(fail|say|msg|Msg|Call|expect_\w+)$")
CODE_ARGUMENTS = {"nonfinite_cause", "dtype", "function", "key"}
KATA_SOURCES = [
    *sorted((ROOT / "tests").glob("test_k*.py")),
    *sorted((ROOT / "examples").rglob("test_k*.py")),  # instructors' hidden tests use the same kit
    *sorted((ROOT / "src" / "backprop_katas" / "kit").rglob("*.py")),
]


def _literal_text(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def english_only_strings(path) -> list[str]:
    phrases = set(catalogue("en")["phrases"].values())
    found = []

    def check(node, where):
        text = _literal_text(node)
        if text is not None and text not in phrases and PROSE.search(text.replace("{}", "")):
            found.append(f"{path.name}:{where.lineno}: {text[:70]!r}")

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if not SHOWN_BY.match(name):
                continue
            args = node.args[1:] if name in ("say", "msg", "Msg") else node.args
            for arg in args:
                check(arg, node)
            for keyword in node.keywords:
                if keyword.arg not in CODE_ARGUMENTS:
                    check(keyword.value, node)
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and (t.id == "call" or t.id.endswith("_call")) for t in targets):
                check(node.value, node)
    return found


@pytest.mark.parametrize("path", KATA_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_what_the_judge_shows_exists_in_every_language(path):
    assert english_only_strings(path) == [], (
        "a call description, message field or `what` in English only: build it from the catalogue "
        "(backprop_katas.kit.call, msg(...), a [phrases] entry)"
    )


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ('call = f"{KATA}.prime_function(x) with x a {dtype} tensor"\n', True),
        ('fail(say("called", call=c), say("wrong_type", got="something else", expected=e))\n', True),
        ('expect_equal(a, b, call, "the sizes after the call")\n', True),
        ('fail(msg("called", call=c), "y has no grad_fn: forward must return a tensor.")\n', True),
        ('call = C.Call(f"{KATA}.prime_function(x)", C.tensor("x", dtype, shape))\n', False),
        ('call += f"; net(x) with x of shape (7, 2)"\n', True),
        ('fail(msg("called", call=c), msg("wrong_type", got=g, expected="a pair (x, t)"))\n', True),
        ('expect_equal(a, b, call, "The count")\n', False),
        ('call = f"torch.manual_seed({seed}); {KATA}.Network(2, 2, 1)"\n', False),
        ('expect_close(y, e, tol, call, nonfinite_cause="cause_overflow")\n', False),
    ],
    ids=[
        "english-call",
        "english-field",
        "english-what",
        "english-part",
        "call-data",
        "english-call-appended",
        "one-letter-word",
        "known-phrase",
        "code",
        "cause-key",
    ],
)
def test_the_english_only_check_catches_an_injected_string(tmp_path, source, flagged):
    path = tmp_path / "test_k09_injected.py"
    path.write_text(source, encoding="utf-8")
    assert bool(english_only_strings(path)) == flagged


def test_the_wheel_ships_every_catalogue(tmp_path):
    # pyproject's package-data: a wheel without the .toml files would fail at the first message.
    from backprop_katas.grading.gradescope import build_wheel

    wheel = build_wheel(ROOT, tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"backprop_katas/lang/{path.name}" for path in (ROOT / "src" / "backprop_katas" / "lang").glob("*.toml")}
    assert {"backprop_katas/lang/en.toml", "backprop_katas/lang/ko.toml"} <= shipped
    assert shipped <= names, sorted(shipped - names)
    assert "backprop_katas/grading/learner_readme.md" in names


# --- every kata test has a title in every language ---------------------------------------------


def kata_test_names() -> dict[str, list[str]]:
    """{kata id: its test functions' names}, read from tests/test_kNN_*.py."""
    return {
        path.stem.removeprefix("test_"): [
            node.name
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        ]
        for path in sorted((ROOT / "tests").glob("test_k*.py"))
    }


def title_problems(tests: dict[str, list[str]], titles: dict[str, dict[str, str]], language: str) -> list[str]:
    problems = [
        f"{language}.toml [tests.{kata}] lacks {name.removeprefix('test_')}"
        for kata, names in tests.items()
        for name in names
        if not titles.get(kata, {}).get(name.removeprefix("test_"), "").strip()
    ]
    known = {(kata, name.removeprefix("test_")) for kata, names in tests.items() for name in names}
    problems += [
        f"{language}.toml [tests.{kata}] {name}: no such test"
        for kata, table in titles.items()
        for name in table
        if (kata, name) not in known
    ]
    return problems


@pytest.mark.parametrize("language", L.LANGS)
def test_every_kata_test_has_a_title_in_every_language(language):
    assert title_problems(kata_test_names(), L.test_titles(language), language) == []
    if language != "en":
        # a title another language copied from English is a missing translation
        same = [
            f"{kata}.{name}"
            for kata, table in L.test_titles(language).items()
            for name, title in table.items()
            if title == L.test_titles("en")[kata][name]
        ]
        assert same == []


def test_the_title_check_catches_a_missing_and_a_stale_title():
    tests = {"k01_derivatives": ["test_a", "test_b"]}
    assert title_problems(tests, {"k01_derivatives": {"a": "A", "b": "B"}}, "xx") == []
    assert title_problems(tests, {"k01_derivatives": {"a": "A"}}, "xx") == ["xx.toml [tests.k01_derivatives] lacks b"]
    assert title_problems(tests, {"k01_derivatives": {"a": "A", "b": "B", "c": "C"}}, "xx") == [
        "xx.toml [tests.k01_derivatives] c: no such test"
    ]


@pytest.mark.parametrize("language", [code for code in L.LANGS if code != "en"])
def test_a_failing_test_is_headed_by_its_title_never_its_raw_name(language):
    from backprop_katas.names import test_sentence

    for kata, names in kata_test_names().items():
        for name in names:
            shown = test_sentence(f"tests/test_{kata}.py::{name}[float32]", language)
            assert name not in shown and shown.endswith(" [float32]"), shown
            assert say("cli_first_failure", lang=language, passed=1, total=2, test=shown).endswith(shown)


def test_a_stubs_bilingual_task_is_shown_in_the_learners_language():
    task = "k01_derivatives.function: Return f(x) = x², elementwise (원래 함수 f(x) = x²를 원소별로 계산하세요)."
    assert L.beside(task, L.SECOND) == "k01_derivatives.function: 원래 함수 f(x) = x²를 원소별로 계산하세요."
    assert L.beside(task, "en") == task
    code_only = "k02_parameters.Network.forward: Return σ(linear_ho(σ(linear_ih(x))))"
    assert L.beside(code_only, L.SECOND) == code_only  # a call's parentheses are not a translation


def test_a_language_the_kata_catalog_lacks_falls_back_to_english(monkeypatch):
    # An added lang/xx.toml makes "xx" a language; katas.toml need not have it yet.
    from backprop_katas import catalog

    monkeypatch.setattr(catalog, "LANGS", (*L.LANGS, "xx"))
    katas = catalog.load_catalog(ROOT)
    assert all(L.pick(k.title, "xx") == k.title["en"] for k in katas)
    assert all(L.pick_each(k.hints, "xx") == list(k.hints["en"]) for k in katas)
    assert L.particles("xx") is False and L.fonts("xx") == ()


def test_the_language_list_and_its_properties_come_from_the_catalogue_files():
    assert set(L.LANGS) == {p.stem for p in (ROOT / "src" / "backprop_katas" / "lang").glob("*.toml")}
    from backprop_katas import catalog

    assert catalog.LANGS is L.LANGS
    assert L.SECOND == next(code for code in L.LANGS if L.language_table(code).get("with_english") is True)
    assert L.particles("ko") and not L.particles("en")


# `what` is a noun phrase of any number ("The count", "The logged losses", "The dict's keys"): a
# template that makes it the subject of a verb ("{what} does not match") is wrong for one of them.
AGREEING_VERB = re.compile(r"\{what\} (is|are|does|do|has|have|was|were)\b")


def test_no_english_template_makes_a_noun_phrase_of_any_number_the_subject_of_a_verb():
    templates = catalogue("en")["messages"]
    slips = {key: text for key, text in templates.items() if AGREEING_VERB.search(text)}
    assert not slips, slips
    assert AGREEING_VERB.search("{what} does not match: ...")  # the check sees the slip it is for
