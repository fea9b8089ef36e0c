"""The preflight (issue 19, item 1): an instructor's mistake in a hidden test stops every route.

Each mistake below is one hidden test file for k01. Every route must stop with exit ≠ 0, a
message naming the file and line, and nothing written: ``katas grade`` (no gradebook, no
CSV), ``katas grade --dask-local 2`` (the same, before any cluster starts), ``pytest --grade``
(no results.json) and Gradescope's ``run`` (a results.json without a score that says the
autograder is misconfigured, the reason on stdout only). Slow: cold commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from grading_helpers import K01, ROOT, submission, warm_worker

from backprop_katas.grading import preflight as PF

pytestmark = [pytest.mark.grading, pytest.mark.slow]

HEAD = """import numpy as np
import pytest

from backprop_katas.kit.judge import expect_array
from backprop_katas.kit.probes import k01_derivatives as P

KATA = "k01_derivatives"
"""
GOOD = '''

@pytest.mark.part("prime_function")
def test_prime_function_at_hidden_points(run):
    """prime_function is 2x at a few hidden points."""
    x = np.array([0.5, -1.25, 3.0])
    expect_array(run(P.elementwise, "prime_function", x.tolist(), "float64")["y"], 2 * x, 1e-12, "prime_function(x)")
'''


OLD_STYLE = (
    HEAD.replace("from backprop_katas.kit.probes import k01_derivatives as P\n", "")
    + """

def my_prime(target, values):
    return target.module(KATA).prime_function(__import__("torch").tensor(values)).tolist()


def test_prime_function_the_old_way(run):
    assert run(my_prime, [1.0, 2.0]) == [2.0, 4.0]
"""
)
TEST = "def test_prime_function_at_hidden_points"
JUDGE = (
    'expect_array(run(P.elementwise, "prime_function", x.tolist(), "float64")["y"], 2 * x, 1e-12, "prime_function(x)")'
)

# name: (the hidden test's source, the text of the line the message must point at)
PART = '@pytest.mark.part("prime_function")'
MISTAKES = {  # a test's problem points at its first line (its first decorator); a file's at its line
    "syntax_error": (HEAD + GOOD.replace(TEST + "(run):", TEST + "(run)"), TEST),
    "import_error": (
        HEAD.replace("import pytest", "import pytest\nimport no_such_module_k01") + GOOD,
        "no_such_module",
    ),
    "no_part": (HEAD + GOOD.replace(PART + "\n", ""), TEST),
    "unknown_part": (HEAD + GOOD.replace('part("prime_function")', 'part("prime")'), '@pytest.mark.part("prime")'),
    "probe_outside_kit": (OLD_STYLE, "assert run(my_prime"),
    "wrong_kata": (HEAD.replace('KATA = "k01_derivatives"', 'KATA = "k1_derivatives"') + GOOD, 'KATA = "k1_'),
    "passes_on_stubs": (HEAD + GOOD.replace(JUDGE, "assert 2 * x.sum() == 4.5"), PART),
    "fails_on_reference": (HEAD + GOOD.replace("2 * x, 1e-12", "3 * x, 1e-12"), PART),
}
NEEDS_REFERENCE = ("passes_on_stubs", "fails_on_reference")  # found only where solutions/ and katas/ are


def hidden_folder(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "test_k01_hidden.py").write_text(text, encoding="utf-8")
    return folder


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """A preflight cache of this test's own: the first run of each route really checks."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_example_hidden_tests_pass_the_preflight_and_the_second_run_is_cached(own_cache):
    first = PF.preflight(ROOT, ROOT / "examples" / "hidden_tests")
    assert first.problems == [] and not first.cached
    second = PF.preflight(ROOT, ROOT / "examples" / "hidden_tests")
    assert second.problems == [] and second.cached and second.seconds < 1.0, second
    print(f"preflight of examples/hidden_tests: first {first.seconds:.1f} s, cached {second.seconds * 1000:.0f} ms")


@pytest.mark.parametrize("name", list(MISTAKES))
def test_an_instructor_mistake_stops_every_route_and_nothing_is_written(name, tmp_path, own_cache, capsys, monkeypatch):
    from backprop_katas.commands import main as katas
    from backprop_katas.grading import gradescope

    text, needle = MISTAKES[name]
    hidden = hidden_folder(tmp_path / "hidden", text)
    where = f"test_k01_hidden.py:{line_of(text, needle)}"
    learner = submission(tmp_path / "class" / "alice")
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("KATAS_LANG", "en")
    monkeypatch.delenv("KATAS_TARGET", raising=False)

    verdict = PF.preflight(ROOT, hidden)  # the first run checks; every route below reads its verdict
    assert not verdict.cached and any(where in str(p) for p in verdict.problems), (where, verdict.problems)

    # `katas grade`, and the Dask route (stopped before any cluster starts)
    for route, extra in (("grade", []), ("dask", ["--dask-local", "2"])):
        out = tmp_path / f"out-{route}"
        code = katas(
            [
                "grade",
                str(tmp_path / "class"),
                "--out",
                str(out),
                "--hidden-tests",
                str(hidden),
                "--kata",
                "k01",
                "--no-progress",
                *extra,
            ]
        )
        err = capsys.readouterr().err
        assert code != 0 and where in err, (route, code, err[-3000:])
        assert not out.exists(), (route, sorted(out.rglob("*")))

    # `pytest --target=LEARNER --grade --hidden-tests=DIR --grade-json=FILE`, in the warm grading worker
    report, log = tmp_path / "results.json", tmp_path / "pytest.log"
    args = [
        f"tests/test_{K01}.py",
        f"--target={learner}",
        "--grade",
        f"--grade-json={report}",
        f"--hidden-tests={hidden}",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
    ]
    code = warm_worker().grade(args, log, env={"KATAS_LANG": "en", "XDG_CACHE_HOME": str(own_cache)}, share=False)
    output = log.read_text(encoding="utf-8", errors="replace")
    assert code != 0 and where in output, (code, output[-3000:])
    assert not report.exists()

    # `katas gradescope`: built from the checkout, so the full preflight runs first
    zip_path = tmp_path / "autograder.zip"
    code = katas(["gradescope", str(zip_path), "--hidden-tests", str(hidden), "--self-test", "none"])
    err = capsys.readouterr().err
    assert code != 0 and where in err, err[-3000:]
    assert not zip_path.exists() and not zip_path.with_name(zip_path.name + ".tmp").exists()
    if name in NEEDS_REFERENCE:
        return  # the zip holds no solutions/: these two are found where it is built
    # the zip's run_autograder: no score, a learner-facing "misconfigured", the reason for instructors only
    source = gradescope_source(tmp_path / "autograder" / "source", hidden)
    results = tmp_path / "autograder" / "results" / "results.json"
    code = gradescope.main(["run", "--root", str(source), "--submission", str(learner), "--results", str(results)])
    stdout = capsys.readouterr().out
    assert code != 0 and where in stdout, stdout[-3000:]
    data = json.loads(results.read_text(encoding="utf-8"))
    assert "score" not in data and not data.get("tests"), data
    assert "misconfigured" in data["output"] and "test_k01_hidden" not in data["output"]
    assert data["stdout_visibility"] == "hidden"


def gradescope_source(source: Path, hidden: Path) -> Path:
    """The zip's source folder as Gradescope unpacks it (no solutions/, no katas/): the rules only."""
    import shutil

    from backprop_katas.catalog import load_catalog

    (source / "tests").mkdir(parents=True)
    for name in ("katas.toml", "pyproject.toml", "conftest.py"):
        shutil.copy(ROOT / name, source / name)
    shutil.copy(ROOT / "tests" / "conftest.py", source / "tests" / "conftest.py")
    for kata in load_catalog(ROOT):
        shutil.copy(ROOT / "tests" / kata.test_filename, source / "tests" / kata.test_filename)
    shutil.copytree(hidden, source / "hidden_tests")
    return source
