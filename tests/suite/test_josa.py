"""Korean particles follow the word before them: the josa rule, and the catalogue written for it.

The rule (backprop_katas/lang/josa.py) is checked on many words whose Korean reading is known;
the catalogue is checked without the rule: no fixed pair (을(를)), no space before a particle,
every particle after code written right, and every message rendered with values whose
particles a table below spells out by hand.
"""

from __future__ import annotations

import itertools
import re
import string

import pytest
from helpers import ROOT

from backprop_katas import lang as L
from backprop_katas.catalog import load_catalog
from backprop_katas.lang import catalogue, josa

# --- the rule on words whose reading a Korean reader knows -------------------------------------

# (word, its reading, the right 을/를): the reading is what decides, and is written out for the reviewer.
SAMPLES = [
    # Hangul with and without a 받침, ㄹ받침
    ("함수", "함수", "를"),
    ("결과", "결과", "를"),
    ("텐서", "텐서", "를"),
    ("책", "책", "을"),
    ("기울기", "기울기", "를"),
    ("손실값", "손실값", "을"),
    ("파일", "파일", "을"),
    ("길", "길", "을"),
    ("가중치와 편향", "가중치와 편향", "을"),
    ("빈 틀", "빈 틀", "을"),
    # digits 0-9, and whole numbers as they are said
    ("0", "영", "을"),
    ("1", "일", "을"),
    ("2", "이", "를"),
    ("3", "삼", "을"),
    ("4", "사", "를"),
    ("5", "오", "를"),
    ("6", "육", "을"),
    ("7", "칠", "을"),
    ("8", "팔", "을"),
    ("9", "구", "를"),
    ("10", "십", "을"),
    ("20", "이십", "을"),
    ("100", "백", "을"),
    ("1000", "천", "을"),
    ("10000", "만", "을"),
    ("12", "십이", "를"),
    ("55", "오십오", "를"),
    ("101", "백일", "을"),
    ("0.25", "영점이오", "를"),
    ("1e-05", "일이 마이너스 영오", "를"),
    ("2.00e-03", "이점영영이 마이너스 영삼", "을"),
    # single letters by their names
    ("x", "엑스", "를"),
    ("y", "와이", "를"),
    ("t", "티", "를"),
    ("h", "에이치", "를"),
    ("k", "케이", "를"),
    ("l", "엘", "을"),
    ("m", "엠", "을"),
    ("n", "엔", "을"),
    ("r", "알", "을"),
    ("W", "더블유", "를"),
    # words by their usual reading
    ("function", "펑션", "을"),
    ("backward", "백워드", "를"),
    ("forward", "포워드", "를"),
    ("sigmoid", "시그모이드", "를"),
    ("tensor", "텐서", "를"),
    ("train", "트레인", "을"),
    ("step", "스텝", "을"),
    ("net", "넷", "을"),
    ("module", "모듈", "을"),
    ("model", "모델", "을"),
    ("name", "네임", "을"),
    ("type", "타입", "을"),
    ("shape", "셰이프", "를"),
    ("list", "리스트", "를"),
    ("index", "인덱스", "를"),
    ("output", "아웃풋", "을"),
    ("float", "플로트", "를"),
    ("stack", "스택", "을"),
    ("padding", "패딩", "을"),
    ("n_out", "엔 아웃", "을"),
    ("__name__", "네임", "을"),
    ("gradcheck", "그래드체크", "를"),
    ("check", "체크", "를"),
    ("Network", "네트워크", "를"),
    ("numpy", "넘파이", "를"),
    # abbreviations letter by letter
    ("BCE", "비씨이", "를"),
    ("SGD", "에스지디", "를"),
    ("URL", "유알엘", "을"),
    ("NaN", "난", "을"),
    # code: the last part is said last; brackets, quotes and backticks are not said
    ("prime_function", "프라임 펑션", "을"),
    ("k01", "케이영일", "을"),
    ("k02", "케이영이", "를"),
    ("k01_derivatives.py", "…파이", "를"),
    ("k01_derivatives.py:37", "…삼십칠", "을"),
    ("katas/k01_derivatives.py:24", "…이십사", "를"),
    ("`katas hint`", "카타스 힌트", "를"),
    ("`prime_function`", "프라임 펑션", "을"),
    ("`katas solution k03`", "…케이영삼", "을"),
    ("SigmoidFunction.backward", "…백워드", "를"),
    ("SigmoidFunction", "…펑션", "을"),
    ("net(x)", "넷 엑스", "를"),
    ("loss.item()", "로스 아이템", "을"),
    ("Network(2, 2, 1)", "…일", "을"),
    ("(3, 4)", "삼 사", "를"),
    ("torch.float32", "…삼십이", "를"),
    ("x²", "엑스 제곱(2)", "를"),
    ("σ(x)", "시그마 엑스", "를"),
    ("'katas'", "카타스", "를"),
    ("δᵀ", "델타 티", "를"),
]


@pytest.mark.parametrize(("word", "reading", "object_particle"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_the_particle_follows_the_last_sound_of_the_word(word, reading, object_particle):
    batchim = object_particle == "을"
    assert josa.particle(word, "를") == josa.particle(word, "을") == object_particle, reading
    assert josa.particle(word, "가") == ("이" if batchim else "가"), reading
    assert josa.particle(word, "은") == ("은" if batchim else "는"), reading
    assert josa.particle(word, "와") == ("과" if batchim else "와"), reading
    assert josa.particle(word, "나") == ("이나" if batchim else "나"), reading


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("길", "로"),
        ("파일", "로"),
        ("k01", "로"),
        ("7", "로"),
        ("model", "로"),
        ("l", "로"),
        ("URL", "로"),
        ("책", "으로"),
        ("step", "으로"),
        ("3", "으로"),
        ("function", "으로"),
        ("10", "으로"),
        ("함수", "로"),
        ("x", "로"),
        ("2", "로"),
        ("backward", "로"),
    ],
)
def test_euro_ro_takes_ro_after_a_rieul_batchim_as_after_a_vowel(word, expected):
    assert josa.particle(word, "으로") == josa.particle(word, "로") == expected


def test_a_template_is_filled_with_each_particle_chosen_for_its_value():
    template = "{a}을 보세요. {b}이 {c}과 같고 {d}으로 {e}은 {n:g}초, {p!r}를"
    values = {"a": "k01_derivatives.py:37", "b": "x", "c": "function", "d": "파일", "e": "step", "n": 2.0, "p": "y"}
    assert josa.fill(template, values) == (
        "k01_derivatives.py:37을 보세요. x가 function과 같고 파일로 step은 2초, 'y'를"
    )
    # a word that merely starts with a particle's syllable is left alone
    assert josa.fill("{a}이상 {a}의 {a}입니다", {"a": "x"}) == "x이상 x의 x입니다"


def test_a_word_that_takes_no_changing_particle_is_refused():
    with pytest.raises(ValueError, match="의"):
        josa.particle("x", "의")


# --- the catalogue, read without the rule -------------------------------------------------------

CHANGING = "을|를|이|가|은|는|과|와|으로|로|이나|나"
# A particle after a space that follows a value or code: `{file} 을`, "`katas` 를", "k01 이".
SPACE_BEFORE = re.compile(r"(?:\}|`|[A-Za-z0-9)\]]) (" + CHANGING + r")(?=[\s.,:;)!?]|$)")
# Code (backticks, or a name/number) written directly before a particle in the text itself.
CODE_THEN_PARTICLE = re.compile(r"(`[^`]+`|[A-Za-z0-9_.:/()\[\]²\x00]+)(" + CHANGING + r")(?=[\s.,:;)!?]|$)")


def _before_parenthesis(text: str, close: int) -> str:
    """The word before the "(" that the ")" at ``close`` closes: a parenthetical is not read,
    so a particle after it follows that word (반복문(...)을)."""
    depth = 0
    for i in range(close, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            return text[:i].rsplit(" ", 1)[-1]
    return ""


def particle_problems(text: str) -> list[str]:
    """What a particle rule forbids in one template: a fixed pair, a space before a particle after a
    value or code, a particle after written-out code in the wrong form."""
    problems = [f"fixed pair {m.group(0)}" for m in josa.FIXED_PAIR.finditer(text)]
    problems += [f"space before {m.group(1)!r}: {m.group(0)!r}" for m in SPACE_BEFORE.finditer(text)]
    # argparse's %-style values are filled by argparse, where no particle can be chosen
    problems += [f"particle after {m.group(0)!r}" for m in re.finditer(r"%(?:\(\w+\))?[sdrf](?=[\uac00-\ud7a3])", text)]
    # The text with each value as \x00: a particle after code that holds a value is the render's to choose.
    literal = "".join(lit + ("\x00" if name else "") for lit, name, _, _ in string.Formatter().parse(text))
    for match in CODE_THEN_PARTICLE.finditer(literal):
        code, written = match.group(1), match.group(2)
        if "\x00" in code or not re.search(r"[A-Za-z0-9`²)\]]", code[-1]):
            continue
        readings = [code]
        if code.endswith(")"):  # code read as it is (net(x)), or a parenthetical after a word
            readings.append(_before_parenthesis(literal, match.end(1) - 1))
        if "\x00" not in readings[-1] and all(josa.particle(r, written) != written for r in readings):
            problems.append(f"{code}{written}: {code} takes {josa.particle(code, written)}")
    return problems


def korean_texts():
    for language in L.LANGS:
        if not L.particles(language):
            continue
        data = catalogue(language)
        for section in ("messages", "phrases"):
            for key, text in data[section].items():
                yield f"{language}:{section}:{key}", text
        for kata, titles in L.test_titles(language).items():
            for name, title in titles.items():
                yield f"{language}:tests:{kata}.{name}", title
        for kata in load_catalog(ROOT):  # katas.toml's titles, tasks and hints
            yield f"{language}:katas.toml:{kata.id}.title", kata.title.get(language, "")
            yield f"{language}:katas.toml:{kata.id}.task", kata.task.get(language, "")
            for n, hint in enumerate(kata.hints.get(language, ())):
                yield f"{language}:katas.toml:{kata.id}.hints.{n + 1}", hint


@pytest.mark.parametrize(("where", "text"), list(korean_texts()), ids=lambda v: v if ":" in str(v) else "")
def test_no_fixed_pair_no_space_before_a_particle_and_particles_after_code_are_right(where, text):
    assert particle_problems(text) == []


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("{call}을(를) 호출했습니다.", "fixed pair"),
        ("{function}이(가) 없습니다.", "fixed pair"),
        ("{x}은(는) {y}과(와) {z}(으)로", "fixed pair"),
        ("{function} 과 비교하세요.", "space before"),
        ("`katas hint` 를 실행하세요.", "space before"),
        ("k01_derivatives.py:37 를 보세요.", "space before"),
        ("k01_derivatives.py:37를 보세요.", "takes 을"),
        ("`katas hint`을 실행하세요.", "takes 를"),
        ("{call}을 호출했습니다. `katas hint`를 실행하세요.", None),
        ("{n} 개, {x} 이상", None),
        ("인수 %s와 함께", "particle after"),
        ("옵션 %(option)s이 맞습니다", "particle after"),
    ],
)
def test_the_particle_check_catches_an_injected_violation(text, flagged):
    found = particle_problems(text)
    if flagged:
        assert any(flagged in p for p in found), found
    else:
        assert found == [], found


# Sample values and the particles a Korean writer puts after each, spelled out by hand (not by the
# rule): one value with a 받침, one without, one with ㄹ받침 (for 으로/로).
SAMPLE_VALUES = {"책": "batchim", "사과": "vowel", "길": "rieul"}
NUMBER_VALUES = (3, 2, 7)  # a number's particle is read from its last digit as shown (DIGIT_KIND)
BY_HAND = {
    "을": {"batchim": "을", "vowel": "를", "rieul": "을"},
    "이": {"batchim": "이", "vowel": "가", "rieul": "이"},
    "은": {"batchim": "은", "vowel": "는", "rieul": "은"},
    "과": {"batchim": "과", "vowel": "와", "rieul": "과"},
    "으로": {"batchim": "으로", "vowel": "로", "rieul": "로"},
    "이나": {"batchim": "이나", "vowel": "나", "rieul": "이나"},
}
for _copula in ("이라는", "이거나", "이지만", "이며", "이면"):
    BY_HAND[_copula] = {"batchim": _copula, "vowel": _copula[1:], "rieul": _copula}
BY_HAND.update(
    {
        "를": BY_HAND["을"],
        "가": BY_HAND["이"],
        "는": BY_HAND["은"],
        "와": BY_HAND["과"],
        "로": BY_HAND["으로"],
        "나": BY_HAND["이나"],
    }
)
BY_HAND.update({form[1:]: BY_HAND[form] for form in ("이라는", "이거나", "이지만", "이며", "이면")})
# What may follow a value directly (no space): a changing particle (a whole word), or a word that
# never changes after a value.
CHANGING_WORDS = sorted(BY_HAND, key=len, reverse=True)
UNCHANGING = (
    "의",
    "에서",
    "에게",
    "에",
    "도",
    "만",
    "까지",
    "부터",
    "보다",
    "처럼",
    "마다",
    "씩",
    "인데",
    "인",
    "입니다",
    "번째",
    "번",
    "개",
    "초",
    "명",
    "분째",
    "분",
    "점",
    "배",
    "단계",
    "글자",
    "님",
    "용",
    "절",
)
# The reading of a number's last digit, by hand: 영 일 이 삼 사 오 육 칠 팔 구.
DIGIT_KIND = dict(
    zip("0123456789", ["batchim", "rieul", "vowel", "batchim", "vowel", "vowel", "batchim", "rieul", "rieul", "vowel"])
)


def attached_word(after: str) -> str | None:
    for word in CHANGING_WORDS:
        if after.startswith(word) and not re.match("[\uac00-\ud7a3]", after[len(word) : len(word) + 1]):
            return word
    return next((word for word in UNCHANGING if after.startswith(word)), None)


def rendered_particles(language: str, key: str) -> list[tuple[str, str, str]]:
    """(field, what followed it in the template, what the render put there) for every field with a
    particle, rendered once per sample value."""
    text = catalogue(language)["messages"][key]
    fields = [(name, spec) for _, name, spec, _ in string.Formatter().parse(text) if name]
    found = []
    for sample_index in range(3):
        values = {}
        for name, spec in fields:
            pool = list(NUMBER_VALUES) if spec else list(SAMPLE_VALUES)
            values[name] = pool[sample_index]
        out = L.fill(text, language, **values)
        for literal_before, name, spec, conversion in _pieces(text):
            value = values[name]
            shown = format(value, spec) if not conversion else repr(value)
            kind = DIGIT_KIND[shown[-1]] if spec else SAMPLE_VALUES[value]
            found.append((name, literal_before, kind, shown, out))
    return found


def _pieces(text: str):
    """(the literal after a field, field, spec, conversion) for each field followed by Hangul."""
    parsed = list(string.Formatter().parse(text))
    for (_, name, spec, conversion), (after, _, _, _) in itertools.pairwise(parsed):
        if name and re.match("[\uac00-\ud7a3]", after):
            yield after, name, spec, conversion


def korean_messages():
    return [(language, key) for language in L.LANGS if L.particles(language) for key in catalogue(language)["messages"]]


@pytest.mark.parametrize(("language", "key"), korean_messages(), ids=lambda v: str(v))
def test_every_message_renders_with_the_right_particle_after_each_value(language, key):
    for name, after, kind, shown, out in rendered_particles(language, key):
        written = attached_word(after)
        assert written, f"{{{name}}}{after[:6]}: not a particle; put a space, or add the word to UNCHANGING"
        if written in BY_HAND:
            assert shown + BY_HAND[written][kind] in out, (
                f"{{{name}}}={shown}: expected {BY_HAND[written][kind]} in {out!r}"
            )


def test_the_render_check_would_see_a_particle_left_as_written(monkeypatch):
    # Without the rule (plain str.format) the same check fails: it does not trust the rule.
    monkeypatch.setattr(L, "particles", lambda language: False)
    with pytest.raises(AssertionError, match="expected"):
        test_every_message_renders_with_the_right_particle_after_each_value("ko", "called")
