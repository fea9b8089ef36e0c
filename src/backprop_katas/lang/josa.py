"""Korean particles (조사) chosen by the last sound of the word before them.

A Korean catalogue writes a particle once, right after a placeholder, in either form
(``{file}을``, ``{function}이``, ``{path}으로``); :func:`fill` puts in the values and
corrects each such particle from the last sound of the value that precedes it:

==========  =================  =================
particle    after a 받침       after a vowel
==========  =================  =================
을 / 를     을                 를
이 / 가     이                 가
은 / 는     은                 는
과 / 와     과                 와
으로 / 로   으로 (ㄹ받침: 로)  로
이나 / 나   이나               나
이라는 ...  이라는, 이거나,    라는, 거나,
            이지만, 이며, 이면 지만, 며, 면
==========  =================  =================

The last sound of a value that is not Hangul is how a Korean reader says it: digits as
Sino-Korean numbers (``k01`` → …일, ``10`` → 십, ``0.5`` → …오), single letters by their
names (``x`` → 엑스, ``l`` → 엘), words by their usual loanword reading (``function`` → 펑션,
``step`` → 스텝, ``sigmoid`` → 시그모이드), all-capital abbreviations letter by letter
(``BCE`` → …이), a dotted or snake_case name by its last part (``k01_derivatives.py:37`` →
…칠). Closing brackets, quotes and backticks are not read (``net(x)`` ends in 엑스).

Nothing here is Korean-only in the language layer's eyes: a catalogue whose ``[language]``
table says ``particles = "korean"`` gets this treatment (see :mod:`backprop_katas.lang`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping

# The last sound of a syllable: None (no 받침), "ㄹ" or "other" is all a particle needs.
NONE, RIEUL, OTHER = "none", "rieul", "other"

# (form after a 받침, form after a vowel); 으로/로 also looks at ㄹ.
PAIRS: tuple[tuple[str, str], ...] = (
    ("으로", "로"),
    ("이나", "나"),
    ("을", "를"),
    ("이", "가"),
    ("은", "는"),
    ("과", "와"),
    # the copula's forms that drop 이 after a vowel: k01이라는 / x라는
    ("이라는", "라는"),
    ("이거나", "거나"),
    ("이지만", "지만"),
    ("이며", "며"),
    ("이면", "면"),
)
_FORMS = sorted({form for pair in PAIRS for form in pair}, key=len, reverse=True)
# A particle at the start of the text after a value, perhaps after closing code marks: `{kata}`로.
_PARTICLE_AT_START = re.compile(r"([`'\")\]]*)(" + "|".join(_FORMS) + r")(?![가-힣])")
# A particle written as a fixed pair, the way translated software does when it cannot choose.
FIXED_PAIR = re.compile(
    r"을\(를\)|를\(을\)|이\(가\)|가\(이\)|은\(는\)|는\(은\)|과\(와\)|와\(과\)|\(으\)로|이\(나\)|\(이\)나"
)

_DIGITS = {
    "0": OTHER,
    "1": RIEUL,
    "2": NONE,
    "3": OTHER,
    "4": NONE,
    "5": NONE,
    "6": OTHER,
    "7": RIEUL,
    "8": RIEUL,
    "9": NONE,
}
# 엘, 엠, 엔, 알 end in a 받침; every other letter's name (에이, 비, 엑스, 와이, ...) does not.
_LETTERS = {"l": RIEUL, "m": OTHER, "n": OTHER, "r": RIEUL}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉ᵀ", "01234567890123456789T")
# Words whose usual Korean reading the rules below would miss.
_WORDS = {
    "type": OTHER,  # 타입
    "dtype": OTHER,  # 디타입
    "bit": NONE,  # 비트
    "loop": NONE,  # 루프
    "help": NONE,  # 헬프
    "py": NONE,  # 파이
    "numpy": NONE,  # 넘파이
    "item": OTHER,  # 아이템
    "book": OTHER,  # 북
    "look": OTHER,  # 룩
    "nan": OTHER,  # 난
    "json": OTHER,  # 제이슨
    "toml": RIEUL,  # 토믈
    "html": RIEUL,  # 에이치티엠엘
    "xor": RIEUL,  # 엑스오알
    "sqrt": NONE,  # 스퀘어 루트
    "ok": NONE,  # 오케이
    "exit": NONE,  # 엑시트
    "check": NONE,  # 체크 (gradcheck: 그래드체크)
    "out": OTHER,  # 아웃
}
_GREEK = {"σ": NONE, "δ": NONE, "α": NONE, "β": NONE, "η": NONE, "θ": NONE, "λ": NONE, "μ": NONE, "ε": NONE,
          "π": NONE, "∂": NONE, "τ": NONE, "γ": NONE}  # fmt: skip  # 시그마, 델타, 알파, 베타, 에타, ...
_UNREAD = " \t\n`'\"’”()[]{}<>.,;:!?…_"
_VOWELS = set("aeiou")


def _hangul(char: str) -> str:
    final = (ord(char) - 0xAC00) % 28
    return NONE if final == 0 else RIEUL if final == 8 else OTHER


def _number(digits: str) -> str:
    """A number's last sound as a Korean reader says it: 10 → 십, 100 → 백, 1000 → 천, 10000 → 만."""
    whole = digits.lstrip("0")
    if not whole:
        return OTHER  # 영
    zeros = len(whole) - len(whole.rstrip("0"))
    if zeros == 0:
        return _DIGITS[whole[-1]]
    # 십 (ㅂ), 백 (ㄱ), 천 (ㄴ), 만 (ㄴ), 억 (ㄱ), 조 (no 받침), ... by the power of ten.
    if zeros >= 4 and zeros % 4 == 0:
        return NONE if zeros % 12 == 0 else OTHER
    return OTHER


def _word(word: str) -> str:
    """A Latin word's last sound by its usual Korean loanword reading."""
    if len(word) == 1:
        return _LETTERS.get(word.lower(), NONE)
    if word.isupper():  # an abbreviation, said letter by letter: BCE, SGD, URL
        return _LETTERS.get(word[-1].lower(), NONE)
    low = word.lower()
    if low in _WORDS:
        return _WORDS[low]
    ending = next((w for w in _WORDS if len(w) >= 4 and low.endswith(w)), None)  # gradcheck, fooloop
    if ending is not None:
        return _WORDS[ending]
    last, before = low[-1], low[-2]
    if low.endswith("ng") or last in "mn":
        return OTHER  # 트레이닝, 썸, 펑션
    if last == "l" or low.endswith("le"):
        return RIEUL  # 모델, 테이블, 모듈, 파일
    if low.endswith(("me", "ne")):
        return OTHER  # 네임, 라인
    if low.endswith("ck"):
        return OTHER  # 백, 스택
    if last in "ptb" and before in _VOWELS and (len(low) < 3 or low[-3] not in _VOWELS):
        return OTHER  # 스텝, 넷, 셋, 탭: a short vowel before p, t, b closes the syllable
    return NONE  # 텐서, 백워드, 시그모이드, 리스트, 인덱스, 로그


def last_sound(text: str) -> str:
    """``"none"``, ``"rieul"`` (ㄹ받침) or ``"other"`` (another 받침) for the end of ``text``."""
    core = text.translate(_SUPERSCRIPTS).rstrip(_UNREAD)
    if not core:
        return NONE
    char = core[-1]
    if "가" <= char <= "힣":
        return _hangul(char)
    if char.isdigit():
        match = re.search(r"\d+$", core)
        digits = match.group(0) if match else char
        # A decimal part is read digit by digit (0.25 → 영점이오), a whole number as a number.
        if re.search(r"\d\.\d+$", core):
            return _DIGITS[digits[-1]]
        return _number(digits)
    if char.isascii() and char.isalpha():
        match = re.search(r"[A-Za-z]+$", core)
        word = match.group(0) if match else char
        # camelCase and CamelCase: the last capitalised part is the word said last.
        parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", word)
        return _word(parts[-1] if parts else word)
    return _GREEK.get(char, NONE)


def particle(text: str, written: str) -> str:
    """The form of ``written`` (one form of a pair, either one) that belongs after ``text``."""
    for batchim, vowel in PAIRS:
        if written in (batchim, vowel):
            sound = last_sound(text)
            if batchim == "으로":
                return batchim if sound == OTHER else vowel
            return vowel if sound == NONE else batchim
    raise ValueError(f"{written!r} is not a particle that changes with the word before it")


def attach(text: str, written: str) -> str:
    """``text`` followed by the right form of ``written``: ``attach("함수", "을") == "함수를"``."""
    return text + particle(text, written)


def leading_particle(literal: str) -> tuple[str, str] | None:
    """The closing marks and the changing particle ``literal`` starts with
    (``"을 호출했습니다"`` → ``("", "을")``, ``"`로 만드세요"`` → ``("`", "로")``), if any."""
    match = _PARTICLE_AT_START.match(literal)
    return (match.group(1), match.group(2)) if match else None


def fill(template: str, values: Mapping[str, object], convert: Callable[[object], object] = lambda v: v) -> str:
    """``template.format(**values)``, with each particle right after a placeholder chosen from the
    value put there: ``fill("{name}을 보세요", {"name": "x"}) == "x를 보세요"``."""
    formatter = string.Formatter()
    out: list[str] = []
    previous: str | None = None
    for literal, name, spec, conversion in formatter.parse(template):
        if previous is not None:
            found = leading_particle(literal)
            if found is not None:
                marks, written = found
                literal = marks + particle(previous + marks, written) + literal[len(marks) + len(written) :]
        out.append(literal)
        previous = None
        if name is None:
            continue
        value, _ = formatter.get_field(name, (), values)
        value = formatter.convert_field(convert(value), conversion) if conversion else convert(value)
        shown = formatter.format_field(value, formatter.vformat(spec or "", (), values))
        out.append(shown)
        previous = shown
    return "".join(out)
