"""`katas --lang ko` shows no English outside code names: on every kata's stub and on one mistake
per kata, the learner's screen (``show_focus``, what `katas check` prints) is rendered in Korean
from the failure's data, in this process, and read word by word.

The rule (``english_words``): a word of Latin letters in Korean output is English prose unless it is
- inside backticks or quotes (code, or a message of torch the text quotes);
- part of a code token: a space-separated token with a character prose does not have
  (``_ . ( ) [ ] = / : * + - < > ~ ^ ' "`` or a digit), as in ``k01_derivatives.py:37``,
  ``net(x)``, ``torch.float32``;
- an abbreviation, all capitals (BCE, SGD, XOR, NaN is code, MB);
- a name the code of the katas uses: an identifier, attribute, argument or keyword of
  ``solutions/``, ``tests/test_k*.py`` or the probes (``sigmoid``, ``backward``, ``dtype``, ``torch``);
- a proper noun of the tools the learner runs (``PROPER``: Python, PyTorch, Enter, Ctrl, ...), or
  a name of torch's the messages quote (``TORCH_WORDS``: rtol, atol, gradcheck).
A sentence's own punctuation at a token's ends (``.,:;!?``) does not make it code.
Anything else is a word the catalogue forgot to translate.
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from helpers import ROOT, copy_solutions, run_kata_tests
from kata_mutants import MUTANTS

from backprop_katas.catalog import load_catalog
from backprop_katas.kinds import Status
from backprop_katas.lang import pick, pick_each
from backprop_katas.tool import cli
from backprop_katas.tool.check import Outcome, edit_where
from backprop_katas.tool.console import Console

KATAS = load_catalog(ROOT)
PROPER = {
    "Python",
    "PyTorch",
    "Enter",
    "Ctrl",
    "Linux",
    "Jupyter",
    "Colab",
    "Debian",
    "Ubuntu",
    "macOS",
    "Apple",
    "Gothic",
    "Neo",
    "Dask",
    "Gradescope",
    "backprop",
    "katas",
    "pytest",
    "True",
    "False",
    "None",
}
# torch's and numpy's names the messages quote without calling them in the katas' code
TORCH_WORDS = {"rtol", "atol", "gradcheck"}
CODE_CHARS = set("_.()[]=/:*+-<>~^'\"{}0123456789,;|@#%!?")


def _code_names() -> set[str]:
    names: set[str] = set()
    files = [
        *(ROOT / "solutions").glob("k*.py"),
        *(ROOT / "tests").glob("test_k*.py"),
        *(ROOT / "src" / "backprop_katas" / "kit" / "probes").glob("k*.py"),
    ]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.keyword) and node.arg:
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.update(node.name.split("."))
    return names


CODE_NAMES = _code_names()


def english_words(text: str) -> list[str]:
    """The Latin-letter words of ``text`` that are English prose by the rule above."""
    text = re.sub(r"`[^`\n]*`", " ", text)  # code in backticks
    text = re.sub(r"\"[^\"\n]*\"|'[^'\n]*'", " ", text)  # quoted code or a quoted message of torch
    found = []
    for token in text.split():
        token = token.strip(".,:;!?·")  # a sentence's own punctuation is not code
        if CODE_CHARS & set(token):
            continue
        for word in re.findall(r"[A-Za-z]+", token):
            camel = re.search(r"[a-z][A-Z]", word)  # a class name: NotImplementedError, SigmoidFunction
            if len(word) < 2 or word.isupper() or camel or word in CODE_NAMES or word in PROPER or word in TORCH_WORDS:
                continue
            found.append(word)
    return found


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("✗ k01 · Derivatives: not yet, 44 of 55 checks pass.", ["Derivatives", "not", "yet", "of", "checks", "pass"]),
        ("코드에서 NotImplementedError 오류가 발생했습니다", []),
        ("처음 실패한 검사: test_autograd_through_sigmoid_is_finite_at_the_extremes[float32]", []),
        ("`sigmoid`를 거친 autograd 기울기가 유한합니다", []),
        ("k01_derivatives.py:37을 보세요. backward는 grad_output을 곱해야 합니다.", []),
        ("짐작되는 원인: the sign went astray", ["the", "sign", "went", "astray"]),
        ('gradcheck였다면 "Jacobian mismatch for output 0"이라고 했을 것입니다.', []),
        ("BCE 손실, Enter를 누르세요", []),
    ],
)
def test_the_english_word_rule_flags_prose_and_passes_code(text, flagged):
    assert english_words(text) == flagged


class _Screen:
    """What show_focus needs of a session: the language, the project, a console to read back."""

    def __init__(self, root: Path, lang: str) -> None:
        self.root, self.lang, self.out = root, lang, io.StringIO()
        self.console = Console(self.out, colour=False)

    def title(self, kata):
        return pick(kata.title, self.lang)

    def hints(self, kata, failing=""):
        every = pick_each(kata.hints, self.lang)
        return [every[i] for i in kata.hint_order(failing)]


def first_failure_screen(kata_id: str, folder: Path, tmp_path: Path, lang: str = "ko") -> str:
    """What `katas --lang LANG check KATA` prints for the kata's first failing check on ``folder``."""
    kata = next(k for k in KATAS if k.id == kata_id)
    result = run_kata_tests(kata_id, folder, "-x")
    assert result.failed, f"{kata_id} passes on {folder}"
    nodeid = next(iter(result.failed))
    failure = result.failures.get(nodeid)
    data = failure.to_data() if hasattr(failure, "to_data") else failure
    total = len(result.passed) + len(result.failed)
    outcome = Outcome(
        kata_id,
        Status.FAILING,
        len(result.passed),
        total,
        nodeid,
        failure=data,
        where=edit_where(data, tmp_path, folder, kata),
    )
    screen = _Screen(tmp_path, lang)
    cli.show_focus(screen, kata, outcome)  # type: ignore[arg-type]  # the two methods and three fields it reads
    return screen.out.getvalue()


def _one_mistake(kata_id: str):
    """The kata's first mistake whose cause the diagnosis names (else its first mistake)."""
    mine = [m for m in MUTANTS if m.kata == kata_id]
    return next((m for m in mine if m.cause), mine[0])


@pytest.mark.parametrize("kata_id", [k.id for k in KATAS])
def test_korean_output_on_the_stub_has_no_english_outside_code(kata_id, tmp_path):
    said = first_failure_screen(kata_id, ROOT / "katas", tmp_path)
    assert "처음 실패한 검사" in said, said
    assert english_words(said) == [], said


@pytest.mark.parametrize("kata_id", [k.id for k in KATAS])
def test_korean_output_on_a_mistake_has_no_english_outside_code(kata_id, tmp_path):
    mutant = _one_mistake(kata_id)
    folder = copy_solutions(tmp_path)
    path = folder / f"{kata_id}.py"
    path.write_text(path.read_text(encoding="utf-8").replace(mutant.old, mutant.new), encoding="utf-8")
    said = first_failure_screen(kata_id, folder, tmp_path)
    assert "처음 실패한 검사" in said, said
    assert english_words(said) == [], f"{mutant.id}:\n{said}"


def test_the_same_screen_in_english_is_flagged(tmp_path):
    # The check reads real output: the English screen of the same stub fails it.
    said = first_failure_screen("k01_derivatives", ROOT / "katas", tmp_path, lang="en")
    assert len(english_words(said)) > 5, said
