"""What `katas grade` hands back (issue 9): partial regrades merge, interruptions say what
they kept, feedback a learner can act on, a class summary, and names that are data."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from grading_helpers import K01, ROOT, kata_source, submission

pytestmark = pytest.mark.grading

KATAS = [sys.executable, "-c", "import sys; from backprop_katas.commands import main; sys.exit(main())"]
WRONG_PRIME = "\n\ndef prime_function(x):\n    return x  # forgot the 2\n"
WRONG_SIGMOID = "\n\ndef sigmoid(x):\n    return x  # wrong\n"


def katas(*args: str, env: dict[str, str] | None = None, lang: str = "en") -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
    full.update({"KATAS_LANG": lang, **(env or {})})
    return subprocess.run([*KATAS, *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=900)


def csv_rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    return {r[0]: dict(zip(header, r)) for r in rows[1:]}


def alice_results(out):
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return json.loads(db.execute("SELECT results FROM grades WHERE learner = 'alice'").fetchone()[0])


def alice_checks(out):
    return alice_results(out)["extra_data"]["checks"]


@pytest.mark.slow
def test_a_partial_regrade_keeps_the_rest_of_each_learners_record(tmp_path):
    subs = tmp_path / "class"
    submission(subs / "alice")
    submission(subs / "bob", files={f"{K01}.py": kata_source() + WRONG_PRIME})
    out = tmp_path / "out"
    first = katas("grade", str(subs), "--out", str(out), "--kata", "k01", "--kata", "k02", "--no-progress")
    assert first.returncode == 0, first.stderr[-2000:]
    rows = csv_rows(out)
    assert [rows["bob"][c] for c in ("k01_derivatives", "k02_parameters", "total")] == ["7.00", "10.00", "17.00"]
    k01_checks = len([c for c in alice_checks(out) if c["kata"] == K01])  # every k01 test, from the full grade
    assert k01_checks > 0

    (subs / "bob" / f"{K01}.py").write_text(kata_source(), encoding="utf-8")  # bob fixes k01
    again = katas("grade", str(subs), "--out", str(out), "--kata", "k01", "--no-progress")
    assert again.returncode == 0, again.stderr[-2000:]
    rows = csv_rows(out)
    for learner in ("alice", "bob"):  # the old bug: k02 and the total were lost (`bob,10,,,,,,10,10`)
        assert [rows[learner][c] for c in ("k01_derivatives", "k02_parameters", "total", "max_score")] == [
            "10.00",
            "10.00",
            "20.00",
            "20.00",
        ]
    assert "1 graded, 1 unchanged" in again.stdout
    assert "Regraded k01_derivatives; kept k02_parameters" in again.stdout
    feedback = (out / "feedback" / "bob.md").read_text(encoding="utf-8")
    assert "Total: 20 / 20" in feedback and "k02_parameters" in feedback

    # -k replaces only the tests that ran again: alice's sigmoid breaks, the rest of k01 is kept.
    (subs / "alice" / f"{K01}.py").write_text(kata_source() + WRONG_SIGMOID, encoding="utf-8")
    select = katas("grade", str(subs), "--out", str(out), "--kata", "k01", "-k", "sigmoid_matches", "--no-progress")
    assert select.returncode == 0, select.stderr[-2000:]
    rows = csv_rows(out)
    assert [rows["alice"][c] for c in ("k01_derivatives", "k02_parameters", "total")] == ["8.00", "10.00", "18.00"]
    assert [rows["bob"][c] for c in ("k01_derivatives", "total")] == ["10.00", "20.00"]
    results = alice_results(out)
    checks = results["extra_data"]["checks"]
    assert {c["kata"] for c in checks} == {"k01_derivatives", "k02_parameters"}
    assert len([c for c in checks if c["kata"] == K01]) == k01_checks  # every k01 test once: kept and rerun ones
    assert sum(t["score"] for t in results["tests"]) == results["score"] == 18.0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.slow
def test_interrupted_grading_says_what_it_kept_and_leaves_no_temporary_folder(signum, tmp_path):
    subs = tmp_path / "class"
    for i in range(8):
        submission(subs / f"learner{i}", "solutions" if i % 2 else "katas")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
    env.update({"KATAS_LANG": "en", "TMPDIR": str(scratch)})
    args = ["grade", str(subs), "--out", str(out), "--kata", "k01", "--workers", "1", "--no-progress"]
    process = subprocess.Popen(
        [*KATAS, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    book = out / "gradebook.sqlite"
    deadline = time.monotonic() + 300
    graded = 0
    while time.monotonic() < deadline and graded < 1:
        time.sleep(0.5)
        if book.is_file():
            with sqlite3.connect(book) as db, contextlib.suppress(sqlite3.OperationalError):  # table not made yet
                graded = db.execute("SELECT COUNT(*) FROM grades").fetchone()[0]
    process.send_signal(signum)
    _stdout, stderr = process.communicate(timeout=120)
    assert graded < 8 and process.returncode == 130, stderr[-2000:]
    assert "Stopped:" in stderr and "learners graded and saved" in stderr and "run the same command" in stderr
    assert list(scratch.iterdir()) == []  # no katas-run-, katas-grade-, katas-zygote- folder left
    done = katas("grade", *args[1:])
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(book) as db:
        assert db.execute("SELECT COUNT(*) FROM grades").fetchone()[0] == 8


@pytest.mark.slow
def test_feedback_names_the_learners_file_gives_one_cause_per_part_and_follows_the_language(tmp_path):
    subs = tmp_path / "class"
    broken = kata_source().replace("def sigmoid(", "def sigmoid(:", 1)
    line = broken[: broken.index("def sigmoid(:")].count("\n") + 1
    submission(subs / "dave", files={f"{K01}.py": broken})
    submission(subs / "carol", files={f"{K01}.py": kata_source() + WRONG_PRIME})
    (submission(subs / "erin") / f"{K01}.py").unlink()
    out = tmp_path / "out"
    done = katas("grade", str(subs), "--out", str(out), "--kata", "k01", "--no-progress")
    assert done.returncode == 0, done.stderr[-2000:]
    dave = (out / "feedback" / "dave.md").read_text(encoding="utf-8")
    carol = (out / "feedback" / "carol.md").read_text(encoding="utf-8")
    erin = (out / "feedback" / "erin.md").read_text(encoding="utf-8")
    assert f"{K01}.py:{line}" in dave or f'{K01}.py", line {line}' in dave, dave[:3000]
    for text in (dave, carol, erin):
        assert "/tmp/" not in text and str(tmp_path) not in text
    assert carol.count("Likely cause") == 1, carol  # the old feedback said it once per failing test
    assert "missing" in erin
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "half the expected value" in summary and "(×1)" in summary
    assert (out / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    korean = katas("grade", str(subs), "--out", str(out), "--kata", "k01", "--no-progress", "--lang", "ko")
    assert korean.returncode == 0, korean.stderr[-2000:]
    assert (out / "grades.csv").read_text(encoding="utf-8-sig").startswith('"학습자",')
    assert "짐작되는 원인" in (out / "feedback" / "carol.md").read_text(encoding="utf-8")
    both = katas("grade", str(subs), "--out", str(out), "--kata", "k01", "--no-progress", "--lang", "both")
    assert both.returncode == 0
    assert (out / "grades.csv").read_text(encoding="utf-8-sig").startswith('"learner / 학습자",')


NAMES = {
    "korean-windows": "김민수".encode("cp949"),  # not UTF-8: what a zip from a Korean Windows machine gives
    "escape": b"eve\x1b[31mred",
    "newline": b"new\nline",
    "utf8": "박지민".encode(),
}


@pytest.mark.slow
def test_names_are_data_any_bytes_are_graded_stored_and_shown_escaped(tmp_path):
    subs = tmp_path / "class"
    subs.mkdir()
    for raw in NAMES.values():
        folder = Path(os.fsdecode(bytes(subs) + b"/" + raw))
        submission(folder)
    extra = Path(os.fsdecode(bytes(subs) + b"/" + "박지민".encode()))
    (extra / os.fsdecode(b"notes-\xb1\xe8.txt")).write_text("x", encoding="utf-8")
    (extra / "bell\x07\x1b[2J.py").write_text("x", encoding="utf-8")
    out = tmp_path / "out"
    done = katas("grade", str(subs), "--out", str(out), "--kata", "k01", "-k", "function_squares", "--no-progress")
    assert done.returncode == 0, done.stderr[-3000:]
    for stream in (done.stdout, done.stderr):
        assert "\x1b" not in stream and "\x07" not in stream
    rows = csv_rows(out)
    shown = {"\\xb1\\xe8\\xb9μ\\xf6", "eve\\x1b[31mred", "new\\x0aline", "박지민"}
    assert set(rows) == shown
    assert all(rows[n]["total"] == "1.00" for n in shown)  # function_squares: the whole `function` part
    assert {p.name for p in (out / "feedback").iterdir()} == {f"{n}.md" for n in shown}
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        results = json.loads(db.execute("SELECT results FROM grades WHERE learner = '박지민'").fetchone()[0])
    assert "notes-\\xb1\\xe8.txt" in results["extra_data"]["ignored_files"]
    assert "bell\\x07\\x1b[2J.py" in results["extra_data"]["ignored_files"]
    single = katas(
        "grade",
        os.fsdecode(bytes(subs) + b"/" + NAMES["korean-windows"]),
        "--out",
        str(tmp_path / "one"),
        "--kata",
        "k01",
        "-k",
        "function_squares",
        "--no-progress",
        "--results-json",
        str(tmp_path / "r.json"),
    )
    assert single.returncode == 0, single.stderr[-2000:]
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["score"] == 1.0 and "\\xb1" in data["extra_data"]["target"]


def project_copy(folder: Path) -> Path:
    """A throw-away copy of the project (its katas/ and tests may be edited by the test)."""
    import shutil

    ignore = shutil.ignore_patterns("__pycache__", ".katas-cache", "*.egg-info", ".pytest_cache", ".hypothesis")
    for name in ("katas", "solutions", "tests", "src"):
        shutil.copytree(ROOT / name, folder / name, ignore=ignore)
    for name in ("katas.toml", "pyproject.toml", "conftest.py", ".gitignore"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, folder / name)
    return folder


def in_folder(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KATAS_TARGET", "PYTHONPATH")}
    env["KATAS_LANG"] = "en"
    return subprocess.run([*KATAS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_export_refuses_an_edited_katas_folder_and_a_failed_check_leaves_nothing(tmp_path):
    project = project_copy(tmp_path / "project")
    dest = tmp_path / "bundle"
    edited = project / "katas" / "k06_xor_training.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# my finished k06\n", encoding="utf-8")
    refused = in_folder(project, "export", str(dest))
    assert refused.returncode == 1 and "katas/k06_xor_training.py" in refused.stderr, refused.stderr
    assert not dest.exists()
    edited.write_text((ROOT / "katas" / "k06_xor_training.py").read_text(encoding="utf-8"), encoding="utf-8")

    test_file = project / "tests" / f"test_{K01}.py"  # a test a stub passes: the bundle's check fails
    test_file.write_text(
        test_file.read_text(encoding="utf-8") + '\n\n@pytest.mark.part("function")\ndef test_nothing():\n    pass\n',
        encoding="utf-8",
    )
    failed = in_folder(project, "export", str(dest))
    assert failed.returncode == 1 and "did not fail with a stub message" in failed.stderr, failed.stderr[-2000:]
    assert not dest.exists() and [p.name for p in tmp_path.iterdir() if "building" in p.name] == []


@pytest.mark.slow
def test_the_bundle_has_a_learners_readme_and_tox_ini_and_says_when_it_has_no_solutions(tmp_path):
    dest = tmp_path / "bundle"
    done = katas("export", str(dest), "--no-check")
    assert done.returncode == 0, done.stderr[-2000:]
    readme = (dest / "README.md").read_text(encoding="utf-8")
    assert "--index-url https://download.pytorch.org/whl/cpu" in readme and "katas watch" in readme
    assert "--target solutions" not in readme and "Grading" not in readme and "instructors" not in readme.lower()
    assert "--target={env:KATAS_TARGET:katas}" in (dest / "tox.ini").read_text(encoding="utf-8")
    answer = in_folder(dest, "solution", "k01")
    assert answer.returncode == 1 and "Traceback" not in answer.stdout + answer.stderr
    assert "katas export --with-solutions" in answer.stdout
    shipped = tmp_path / "with"
    assert katas("export", str(shipped), "--no-check", "--with-solutions").returncode == 0
    locked = in_folder(shipped, "solution", "k01")
    assert locked.returncode == 1 and "BEGIN SOLUTION" not in locked.stdout
    (shipped / "katas" / f"{K01}.py").write_text(kata_source(), encoding="utf-8")
    opened = in_folder(shipped, "solution", "k01")
    assert opened.returncode == 0 and "def prime_function" in opened.stdout, (
        opened.stdout[-2000:] + opened.stderr[-2000:]
    )


def test_a_learner_who_cannot_be_graded_shows_as_an_error_in_the_csv_feedback_and_summary(tmp_path, monkeypatch):
    from backprop_katas.catalog import load_catalog
    from backprop_katas.grading.batch import _error_row, export
    from backprop_katas.grading.gradebook import Gradebook

    monkeypatch.setenv("KATAS_LANG", "en")
    book = Gradebook(tmp_path / "gradebook.sqlite")
    book.record(_error_row("odd\\x1bname", "", "pytest exited with 3 and no results.json: \x1b[2J boom\nsecond line"))
    export(book, tmp_path, load_catalog(ROOT))
    book.close()
    rows = csv_rows(tmp_path)
    assert (
        rows["odd\\x1bname"]["error"].startswith("pytest exited with 3") and "\x1b" not in rows["odd\\x1bname"]["error"]
    )
    assert "could not be graded" in (tmp_path / "feedback" / "odd\\x1bname.md").read_text(encoding="utf-8")
    assert (
        "could not be graded: `odd\\x1bname`" in (tmp_path / "summary.md").read_text(encoding="utf-8").lower()
    )  # as code


HIDDEN_K01 = '''"""A hidden k01 test (issue 19): prime_function at points the visible tests do not use."""

import pytest

from backprop_katas.kit import oracles as O
from backprop_katas.kit.judge import expect_close
from backprop_katas.kit.probes import k01_derivatives as P

KATA = "k01_derivatives"


@pytest.mark.part("prime_function")
def test_prime_function_at_a_few_more_points(run):
    """prime_function(x) = 2x at a few more points."""
    values = [-3.5, 0.25, 7.0]
    for value, got in zip(values, run(P.on_floats, "prime_function", values)):
        expect_close(got, 2 * value, O.AUTOGRAD64, f"prime_function({value!r})")
'''
K02_BUG = "\n\ndef mlp_parameter_count(layer_sizes):\n    return 0  # forgot everything\n"


def graded_from(out: Path, learner: str) -> dict[str, list[str]]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        results = json.loads(db.execute("SELECT results FROM grades WHERE learner = ?", (learner,)).fetchone()[0])
    return results["extra_data"]["graded_from"]


@pytest.mark.slow
def test_a_hidden_test_regrades_its_kata_only_and_a_kept_kata_whose_file_changed_is_named(tmp_path):
    subs, out, hidden = tmp_path / "class", tmp_path / "out", tmp_path / "hidden"
    hidden.mkdir()
    submission(subs / "alice")
    submission(subs / "bob", files={"k02_parameters.py": kata_source("k02_parameters") + K02_BUG})
    both = [
        "grade",
        str(subs),
        "--out",
        str(out),
        "--kata",
        "k01",
        "--kata",
        "k02",
        "--no-progress",
        "--hidden-tests",
        str(hidden),
    ]
    first = katas(*both)
    assert first.returncode == 0, first.stderr[-2000:]
    bob_k02 = csv_rows(out)["bob"]["k02_parameters"]
    assert bob_k02 != "10.00"
    k02_before = graded_from(out, "alice")["k02_parameters"]

    # Item 5: one new k01 hidden test regrades k01 of every learner, and nothing else.
    (hidden / "test_k01_more.py").write_text(HIDDEN_K01, encoding="utf-8")
    again = katas(*both)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "2 graded, 0 unchanged" in again.stdout
    assert "Regraded k01_derivatives; kept k02_parameters" in again.stdout, again.stdout
    assert graded_from(out, "alice")["k02_parameters"] == k02_before  # not graded again
    assert any(c.get("hidden") for c in alice_checks(out))

    # Item 3: bob fixes k02; a run of k01 alone keeps bob's k02 score, says so and marks the row.
    (subs / "bob" / "k02_parameters.py").write_text(kata_source("k02_parameters"), encoding="utf-8")
    partial = katas(
        "grade", str(subs), "--out", str(out), "--kata", "k01", "--no-progress", "--hidden-tests", str(hidden)
    )
    assert partial.returncode == 0, partial.stderr[-2000:]
    when = graded_from(out, "bob")["k02_parameters"][2]
    assert f"bob: k02_parameters changed since it was graded on {when}" in partial.stdout, partial.stdout
    assert "Run without --kata and -k to regrade it" in partial.stdout
    rows = csv_rows(out)
    assert (
        rows["bob"]["k02_parameters"] == bob_k02 and rows["bob"]["changed_since_graded"] == f"k02_parameters ({when})"
    )
    assert rows["alice"]["changed_since_graded"] == ""
    # The terminal ends with every learner's total.
    table = partial.stdout.strip().splitlines()[-4:]
    assert table[0].split() == ["learner", "k01", "k02", "k03", "k04", "k05", "k06", "total"], table
    assert table[1].split()[0] == "alice" and table[1].split()[-3:] == ["20", "/", "20"], table
    assert table[-1].startswith("Class mean: "), table

    # A run that takes k02 in grades bob's new file, and the mark goes.
    last = katas(*both)
    assert last.returncode == 0, last.stderr[-2000:]
    assert "1 graded, 1 unchanged" in last.stdout and "changed since" not in last.stdout
    rows = csv_rows(out)
    assert rows["bob"]["k02_parameters"] == "10.00" and rows["bob"]["changed_since_graded"] == ""
