"""`katas grade` (a class into a SQLite gradebook) and `katas export` (the learner bundle)."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from grading_helpers import K01, ROOT, kata_source, katas_cli, pytest_grade, submission

from backprop_katas.grading import sandbox
from backprop_katas.grading.bundle import check_bundle, write_bundle

pytestmark = pytest.mark.grading  # slow (pytest and child processes): -m 'not grading' skips

SELECT = "function_squares or sigmoid_matches"  # 20 k01 tests: the batch machinery is under test here
BUG = "\n\ndef sigmoid(x):\n    return x  # wrong\n"
VARIANTS = {"full": ("solutions", {}), "stub": ("katas", {}), "half": ("solutions", {f"{K01}.py": ""})}


def make_class(folder, n):
    folder.mkdir()
    for i in range(n):
        variant = list(VARIANTS)[i % 3]
        source, files = VARIANTS[variant]
        files = {name: kata_source() + BUG for name in files}
        submission(folder / f"learner{i:02d}-{variant}", source, files)
    return folder


def rows(book):
    with sqlite3.connect(book) as db:
        return {r[0]: (r[1], r[2]) for r in db.execute("SELECT learner, score, content_hash FROM grades")}


def grade_args(subs, out, *extra):
    return ["grade", str(subs), "--out", str(out), "--kata", "k01", "-k", SELECT, "--no-progress", *extra]


@pytest.mark.slow
def test_sigkill_halfway_then_rerun_gives_every_learner_exactly_once_with_the_same_grades(tmp_path):
    # An uninterrupted run of one learner per variant gives the grades every copy must get.
    reference = rows_of_run(make_class(tmp_path / "ref", 3), tmp_path / "ref-out")
    expected = {v: reference[f"learner{i:02d}-{v}"][0] for i, v in enumerate(VARIANTS)}
    # SELECT runs the tests of two k01 parts (function 1, sigmoid 2): the full learner earns 3 / 3.
    assert expected["full"] == 3 and expected["stub"] == 0 and 0 < expected["half"] < 3

    subs = make_class(tmp_path / "class", 20)
    out = tmp_path / "out"
    env = {**os.environ, "KATAS_LANG": "en"}
    env.pop("KATAS_TARGET", None)
    command = [sys.executable, "-c", "import sys; from backprop_katas.commands import main; sys.exit(main())"]
    process = subprocess.Popen(
        [*command, *grade_args(subs, out, "--workers", "2")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    book = out / "gradebook.sqlite"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(rows_so_far(book)) < 8:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = rows(book)
    assert 8 <= len(partial) < 20

    done = katas_cli(*grade_args(subs, out, "--workers", "2"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{20 - len(partial)} graded, {len(partial)} unchanged" in done.stdout
    final = rows(book)
    assert len(final) == 20
    with sqlite3.connect(book) as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT learner) FROM grades").fetchone() == (20, 20)
    for learner, (score, _) in final.items():
        assert score == expected[learner.split("-")[1]], learner
    with open(out / "grades.csv", encoding="utf-8-sig") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 20 and all(r["k01_derivatives"] == r["total"] for r in table)
    assert len(list((out / "feedback").glob("*.md"))) == 20


def rows_so_far(book):
    """Rows while the grader is still writing: none before the file and its table exist."""
    try:
        return rows(book) if book.is_file() else {}
    except sqlite3.OperationalError:  # the file is there, its table not yet
        return {}


def rows_of_run(subs, out, *extra):
    done = katas_cli(*grade_args(subs, out, *extra))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return rows(out / "gradebook.sqlite")


@pytest.mark.slow
def test_unchanged_learners_are_kept_changed_ones_and_regrade_graded_again(tmp_path):
    subs = make_class(tmp_path / "class", 2)
    out = tmp_path / "out"
    first = rows_of_run(subs, out)
    (subs / "learner00-full" / "notes.txt").write_text("not a kata file: changes nothing")
    (subs / "learner01-stub" / f"{K01}.py").write_text(kata_source())
    done = katas_cli(*grade_args(subs, out))
    assert "1 graded, 1 unchanged" in done.stdout
    second = rows(out / "gradebook.sqlite")
    assert second["learner00-full"] == first["learner00-full"] and second["learner01-stub"][0] == 3
    assert "2 graded, 0 unchanged" in katas_cli(*grade_args(subs, out, "--regrade")).stdout
    feedback = (out / "feedback" / "learner00-full.md").read_text(encoding="utf-8")
    assert "Total: 3 / 3" in feedback and "notes.txt" in feedback


@pytest.mark.slow
def test_the_exported_bundle_has_no_solutions_and_its_tests_fail_with_stub_messages(tmp_path):
    dest = tmp_path / "bundle"
    written = write_bundle(ROOT, dest)
    names = {p.relative_to(dest).as_posix() for p in written}
    assert not any(n.startswith(("solutions/", "tests/suite/", ".git/")) for n in names)
    assert f"katas/{K01}.py" in names and f"tests/test_{K01}.py" in names
    assert "BEGIN SOLUTION" not in "".join(
        (dest / "katas").joinpath(p.name).read_text() for p in (dest / "katas").glob("*.py")
    )
    for kata in (dest / "katas").glob("k*.py"):  # `katas reset` restores from these
        assert (dest / ".stubs" / kata.name).read_text() == kata.read_text()
    assert check_bundle(dest) > 100
    mine = dest / "katas" / f"{K01}.py"
    pristine = mine.read_text()
    mine.write_text("def function(x):\n    return x\n")
    reset = subprocess.run(
        [sys.executable, "-m", "backprop_katas", "reset", K01, "--yes"], cwd=dest, capture_output=True, text=True
    )
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert mine.read_text() == pristine


K02 = "k02_parameters"
K02_BUG = "\n\ndef mlp_parameter_count(layer_sizes):\n    return sum(a * b + b for a, b in zip(layer_sizes, layer_sizes[1:])) + (max(layer_sizes) > 37)\n"
HOSTILE = (
    "\nimport torch as _torch, numpy as _np\n_torch.allclose = lambda *a, **k: True\n"
    "_torch.Tensor.__eq__ = lambda self, other: _torch.ones_like(self, dtype=_torch.bool)\n"
    "_np.allclose = lambda *a, **k: True\n\ndef prime_function(x):\n    return x\n"
)


def comparable(results):
    """A results.json without what differs between two runs of the same command (time, temp folders)."""
    tests = [{k: re.sub(r"katas-grade-\w+", "TMP", str(v)) for k, v in t.items()} for t in results["tests"]]
    extra = results["extra_data"]
    return results["score"], tests, extra["katas"], extra["ignored_files"], extra["missing_files"], results["output"]


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("bwrap", marks=pytest.mark.skipif(not sandbox.bwrap_works(), reason="bwrap is not usable here")),
        "fallback",
    ],
)
@pytest.mark.slow
def test_a_worker_grades_each_learner_exactly_as_a_fresh_pytest_grade_does(tmp_path, mode):
    # One worker grades these one after the other (hostile first), in one process with one zygote;
    # each must get the very results.json of its own `pytest --target PATH --grade`.
    subs = tmp_path / "class"
    subs.mkdir()
    submission(
        subs / "a-hostile", files={f"{K01}.py": kata_source() + HOSTILE, "conftest.py": "import os\nos._exit(3)\n"}
    )
    submission(subs / "b-k02-bug", files={f"{K02}.py": kata_source(K02) + K02_BUG})
    submission(subs / "c-stubs", "katas")
    submission(subs / "d-full")
    out = tmp_path / "out"
    done = katas_cli(
        "grade",
        str(subs),
        "--out",
        str(out),
        "--kata",
        "k01",
        "--kata",
        "k02",
        "--workers",
        "1",
        "--no-progress",
        "--isolation",
        mode,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        batch = {r[0]: json.loads(r[1]) for r in db.execute("SELECT learner, results FROM grades")}
    assert sorted(batch) == ["a-hostile", "b-k02-bug", "c-stubs", "d-full"]
    scores = {}
    for learner, results in batch.items():
        alone = pytest_grade(
            subs / learner, tmp_path / f"{learner}.json", "--isolation", mode, tests=(K01, K02), fresh=True
        )
        assert comparable(results) == comparable(alone), learner
        scores[learner] = results["score"]
    assert scores["d-full"] == 20 and scores["c-stubs"] == 0
    assert 10 < scores["b-k02-bug"] < 20 and 10 < scores["a-hostile"] < 20


ENV_PROBE = (
    "import os, tempfile\n\n\ndef test_env():\n"
    "    with open(os.environ['ENV_OUT'], 'w') as f:\n"
    "        f.write(os.environ.get('TMPDIR', '') + '|' + tempfile.gettempdir())\n"
)


@pytest.mark.slow
def test_a_workers_request_sets_its_environment_in_that_learners_child_only(tmp_path):
    # The self-checks' private TMPDIR (and KATAS_LANG) reach the session this way: a check that
    # looks for leftovers in its TMPDIR would pass on an empty folder if they did not.
    from grading_helpers import warm_worker

    (tmp_path / "test_env.py").write_text(ENV_PROBE, encoding="utf-8")
    private = tmp_path / "private"
    private.mkdir()
    args = [str(tmp_path / "test_env.py"), "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    worker = warm_worker()
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    assert worker.grade(args, tmp_path / "1.log", env={"TMPDIR": str(private), "ENV_OUT": str(first)}) == 0
    assert first.read_text(encoding="utf-8") == f"{private}|{private}"
    assert worker.grade(args, tmp_path / "2.log", env={"ENV_OUT": str(second)}) == 0
    assert str(private) not in second.read_text(encoding="utf-8")  # the worker itself kept its own


class _ZygoteThatWillNotStart:
    """A worker's shared zygote that cannot start (on a loaded machine: not within its 60 s)."""

    def __init__(self) -> None:
        self.closed = False

    def start(self) -> None:
        raise OSError("timed out")

    def close(self) -> None:
        self.closed = True


@pytest.mark.skipif(sandbox.landlock_abi() < 6, reason="a worker shares its zygote only with Landlock ABI 6+")
def test_a_shared_zygote_that_cannot_start_leaves_the_worker_grading(tmp_path):
    # It used to raise out of the worker's loop: every learner of that worker then "died".
    from backprop_katas.grading import worker

    (tmp_path / "test_ok.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    args = [str(tmp_path / "test_ok.py"), "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    broken = _ZygoteThatWillNotStart()
    request = {"args": args, "log": str(tmp_path / "log"), "isolation": "fallback"}
    assert worker.grade(request, {"fallback": broken}) == 0, (tmp_path / "log").read_text(encoding="utf-8")
    assert broken.closed
