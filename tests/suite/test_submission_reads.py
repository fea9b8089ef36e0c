"""One learner never stops the class, and nothing a learner writes runs in the instructor's tools (issue 23).

Every read of a submission goes through the bounded reader (``files.read_regular``,
``files.folder_entries``): a kata file that is a named pipe, a link to ``/dev/zero``, a
device, a folder or a huge sparse file is refused, never opened to block or read to the
end. A learner whose grading outlives its bound (the per-kata limits plus the start) is
stopped by the watchdog: that learner gets an error row, the class goes on. What a learner
names or raises reaches grades.csv as text (never a formula) and the Markdown as text
(never a link, an image, HTML or a heading).
"""

from __future__ import annotations

import csv
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from grading_helpers import CATALOG, K01, ROOT, katas_cli, outside_code, submission

from backprop_katas import cells, files
from backprop_katas.grading import batch, pool, sandbox
from backprop_katas.grading.feedback import code, feedback_markdown, fence, write_summary
from backprop_katas.grading.gradebook import Gradebook, Row, submission_hashes
from backprop_katas.grading.results import build
from backprop_katas.kit import shortcuts
from backprop_katas.names import shown_name, spreadsheet_cell
from backprop_katas.procs import signal_group

KATA_FILES = [k.filename for k in CATALOG]
K01_FILE = f"{K01}.py"
QUICK = 10  # seconds: a bounded read of a hostile file takes microseconds; an unbounded one never ends


def within(seconds: float, call, *args):
    """``call(*args)`` in a thread; its result or exception, or a failure when it has not returned
    in ``seconds`` (an unbounded read of a named pipe blocks forever; the thread is left behind)."""
    box: dict[str, object] = {}

    def run():
        try:
            box["value"] = call(*args)
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{getattr(call, '__name__', call)} did not return within {seconds} s: it blocked"
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("value")


# --- what a hostile learner ships in place of a kata file ---------------------------------------


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _directory(path: Path) -> None:
    path.mkdir()


def _sparse(path: Path) -> None:
    with open(path, "wb") as handle:
        handle.truncate(64 << 30)  # 64 GB that take no disk: read to the end, it would flood the grader


def _device(path: Path) -> None:
    try:
        os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero's numbers
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")


HOSTILE = {"fifo": _fifo, "dev-zero": _dev_zero, "directory": _directory, "sparse": _sparse, "device": _device}
KIND = {"fifo": "kind_fifo", "dev-zero": "kind_symlink", "directory": "kind_directory", "device": "kind_device"}


def hostile_learner(folder: Path, attack: str, name: str = K01_FILE) -> Path:
    submission(folder)
    (folder / name).unlink()
    HOSTILE[attack](folder / name)
    return folder


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_the_bounded_reader_refuses_what_is_no_regular_file_under_the_cap_without_blocking(tmp_path, attack):
    path = tmp_path / K01_FILE
    HOSTILE[attack](path)
    with pytest.raises(files.Refused) as refused:
        within(QUICK, files.read_regular, path)
    assert refused.value.kind == KIND.get(attack, "too_large")
    assert K01_FILE in str(refused.value)


def test_the_bounded_reader_reads_a_regular_file_whole_and_refuses_one_a_byte_over_the_cap(tmp_path):
    path = tmp_path / K01_FILE
    path.write_bytes(b"x" * 100)
    assert files.read_regular(path, limit=100) == b"x" * 100
    with pytest.raises(files.Refused, match="larger than"):
        files.read_regular(path, limit=99)


def test_a_file_swapped_for_a_pipe_after_the_lstat_is_refused_on_the_open_descriptor(tmp_path, monkeypatch):
    # The race the lstat alone would lose: a regular file at lstat, a named pipe at open.
    path = tmp_path / K01_FILE
    path.write_text("def f(x):\n    return x\n", encoding="utf-8")
    real_lstat = os.lstat

    def lstat_then_swap(target, *args, **kwargs):
        info = real_lstat(target, *args, **kwargs)
        if Path(target) == path:
            path.unlink()
            os.mkfifo(path)
        return info

    monkeypatch.setattr(files.os, "lstat", lstat_then_swap)
    with pytest.raises(files.Refused) as refused:
        within(QUICK, files.read_regular, path)
    assert refused.value.kind == "kind_fifo"


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_a_kata_file_that_is_no_regular_file_makes_the_learner_an_error_never_a_hang(tmp_path, attack):
    learner = hostile_learner(tmp_path / "ann", attack)
    survey = within(QUICK, sandbox.survey, learner, KATA_FILES)
    assert K01_FILE not in survey.copied and [r.path.name for r in survey.refused] == [K01_FILE]
    with pytest.raises(files.Refused):
        within(QUICK, submission_hashes, learner, CATALOG)  # the batch's first read: an error row, not a grade
    # the source checks pin the kata files before any learner code runs: that read is bounded too
    within(QUICK, shortcuts.pin, learner, KATA_FILES)
    assert shortcuts.source_of(learner, K01_FILE) is None


def test_a_learner_folder_that_is_a_symlink_or_holds_too_many_entries_is_refused(tmp_path):
    real = submission(tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(files.Refused, match="not a folder") as refused:
        submission_hashes(link, CATALOG)
    assert refused.value.kind == "kind_symlink" and refused.value.folder
    crowded = submission(tmp_path / "crowded")
    for i in range(files.MAX_FOLDER_ENTRIES):
        (crowded / f"junk{i:05d}.txt").touch()
    with pytest.raises(files.Refused, match="more than"):
        submission_hashes(crowded, CATALOG)


@pytest.mark.parametrize("attack", ["fifo", "dev-zero", "sparse"])
def test_a_notebook_that_is_no_regular_file_is_listed_as_ignored_without_blocking(tmp_path, attack):
    learner = submission(tmp_path / "ann")
    HOSTILE[attack](learner / "chapter.ipynb")
    extracted = within(QUICK, cells.extract_submission, learner, KATA_FILES)
    assert not extracted.files
    assert [i for i in extracted.ignored if i.startswith("chapter.ipynb")], extracted.ignored


def test_a_copy_holds_the_bytes_the_survey_read_and_the_hash_is_what_it_was(tmp_path):
    learner = submission(tmp_path / "ann")
    copy = sandbox.copy_submission(learner, KATA_FILES, tmp_path / "copy")
    for name in KATA_FILES:
        assert (copy.path / name).read_bytes() == (learner / name).read_bytes()
    # the digest of the kata files by name, as before the bounded reader: no learner is regraded for it
    expected = files.files_digest((n, (learner / n).read_bytes()) for n in sorted(KATA_FILES))
    assert submission_hashes(learner, CATALOG)[0] == expected


# --- the watchdog ---------------------------------------------------------------------------------

HANGS = "import time\n\n\ndef test_hangs():\n    time.sleep(3600)\n"


@pytest.mark.slow
def test_the_watchdog_kills_a_worker_whose_learner_outlives_the_bound_and_a_new_worker_grades_on(tmp_path):
    (tmp_path / "test_hangs.py").write_text(HANGS, encoding="utf-8")
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    common = ["-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    workers = pool.Workers(ROOT, 1)
    try:
        bound = pool.LearnerBound(katas=1, kata_seconds=2.0, startup=3.0)
        with workers.lend() as worker:
            group = worker.process.pid
            began = time.monotonic()
            with pytest.raises(pool.LearnerTimeout, match="longer than 5 s"):
                worker.grade([str(tmp_path / "test_hangs.py"), *common], tmp_path / "log", bound=bound)
            assert time.monotonic() - began < 5 + QUICK
            assert worker.process is None
            # SIGKILL is sent to the whole group; its members take a moment to die and be reaped
            gone = time.monotonic() + 5
            while signal_group(group, 0) and time.monotonic() < gone:
                time.sleep(0.05)
            assert not signal_group(group, 0), "the worker's process group outlived the watchdog"
        with workers.lend() as worker:  # the pool starts a new worker for the next learner (its imports take a while)
            roomy = pool.LearnerBound(katas=1, kata_seconds=2.0, startup=120.0)
            assert worker.grade([str(tmp_path / "test_ok.py"), *common], tmp_path / "log2", bound=roomy) == 0
    finally:
        workers.close()


def test_the_bound_is_derived_from_the_per_kata_limits(monkeypatch):
    options = pool.Options(Path("."), Path("."), kata_time_limit=30.0)
    bound = pool.learner_bound(options, CATALOG[:2])
    assert (bound.katas, bound.kata_seconds, bound.seconds) == (2, 30.0, pool.STARTUP_SECONDS + 60.0)
    assert (
        pool.learner_bound(pool.Options(Path("."), Path(".")), CATALOG[:1]).kata_seconds == sandbox.Limits.kata_seconds
    )
    monkeypatch.setattr(pool, "STARTUP_SECONDS", 7.0)
    assert pool.learner_bound(options, CATALOG[:1]).seconds == 37.0


SELECT = "function_squares or sigmoid_matches"  # two k01 parts (1 + 2 points): the batch is under test


@pytest.mark.slow
def test_a_class_with_a_fifo_and_a_dev_zero_learner_finishes_with_five_full_marks_and_two_error_rows(tmp_path):
    subs = tmp_path / "class"
    subs.mkdir()
    for i in range(5):
        submission(subs / f"clean{i}")
    hostile_learner(subs / "fifo", "fifo")
    hostile_learner(subs / "zero", "dev-zero")
    out = tmp_path / "out"
    bound = pool.learner_bound(pool.Options(subs, out), CATALOG[:1]).seconds
    began = time.monotonic()
    done = katas_cli(
        "grade",
        str(subs),
        "--out",
        str(out),
        "--kata",
        "k01",
        "-k",
        SELECT,
        "--no-progress",
        "--workers",
        "2",
        timeout=bound * 3,
    )
    seconds = time.monotonic() - began
    with open(out / "grades.csv", newline="", encoding="utf-8-sig") as handle:
        header, *rows = list(csv.reader(handle))
    table = {r[0]: dict(zip(header, r)) for r in rows}  # by column name: grades.csv gains columns
    assert sorted(table) == ["clean0", "clean1", "clean2", "clean3", "clean4", "fifo", "zero"], done.stderr
    full = [n for n, r in table.items() if r["error"] == "" and r["k01_derivatives"] == r["total"] == "3.00"]
    errors = {n: r["error"] for n, r in table.items() if r["error"]}
    assert sorted(full) == [f"clean{i}" for i in range(5)], (table, done.stderr[-3000:])
    assert sorted(errors) == ["fifo", "zero"]
    assert "named pipe" in errors["fifo"] and "symbolic link" in errors["zero"], errors
    assert (out / "summary.md").is_file() and done.returncode == 1, done.stderr[-3000:]  # 1: some learner failed
    assert seconds < 2 * bound, f"the class took {seconds:.0f} s; one learner's bound is {bound:.0f} s"


HANGS_FOR_SLOWPOKE = """import time

import pytest

from backprop_katas.kit import oracles as O
from backprop_katas.kit.judge import expect_close
from backprop_katas.kit.probes import k01_derivatives as P

KATA = "k01_derivatives"


@pytest.mark.part("sigmoid")
def test_sigmoid_matches_unless_the_grader_hangs(request, run):
    '''sigmoid(0) = 0.5 (a real check: the preflight refuses a hidden test that passes on the stubs).'''
    # An attack nobody foresaw, played by the grader itself: this learner's session never ends.
    if "slowpoke" in str(request.config.getoption("katas_target")):
        time.sleep(3600)
    got = run(P.elementwise, "sigmoid", [0.0], "float64")["y"]
    expect_close(got, [0.5], O.AUTOGRAD64, "sigmoid(0.0)")
"""


@pytest.mark.slow
def test_a_learner_whose_grading_never_ends_gets_an_error_row_and_the_class_goes_on(tmp_path, monkeypatch):
    subs = tmp_path / "class"
    subs.mkdir()
    for name in ("ann", "bob", "slowpoke"):
        submission(subs / name)
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_k01_hangs_hidden.py").write_text(HANGS_FOR_SLOWPOKE, encoding="utf-8")
    monkeypatch.setattr(pool, "STARTUP_SECONDS", 40.0)  # a worker's imports and a session's start fit in it
    options = pool.Options(
        subs,
        tmp_path / "out",
        workers=2,
        katas=["k01"],
        select=SELECT,
        hidden_tests=hidden,
        kata_time_limit=20.0,
        progress=False,
    )
    bound = pool.learner_bound(options, CATALOG[:1]).seconds
    outcome = batch.grade_class(ROOT, options)
    assert outcome.failed == ["slowpoke"] and outcome.graded == 2
    assert outcome.seconds < 2 * bound, f"the class took {outcome.seconds:.0f} s; one learner's bound is {bound:.0f} s"
    book = Gradebook(options.out / "gradebook.sqlite")
    rows = {r.learner: r for r in book.rows()}
    book.close()
    assert "longer than 60 s" in rows["slowpoke"].results["error"]
    assert rows["ann"].score == rows["ann"].max_score == rows["bob"].score > 0


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["fifo", "dev-zero"])
def test_pytest_grade_on_a_hostile_learner_refuses_it_and_never_hangs(tmp_path, attack):
    learner = hostile_learner(tmp_path / "ann", attack)
    env = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
    env["KATAS_LANG"] = "en"
    command = [
        sys.executable,
        "-m",
        "pytest",
        f"tests/test_{K01}.py",
        f"--target={learner}",
        "--grade",
        f"--grade-json={tmp_path / 'r.json'}",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"{K01_FILE} is a" in done.stderr and "not graded" in done.stderr
    assert not (tmp_path / "r.json").exists()


# --- nothing a learner writes runs in the instructor's tools ----------------------------------------

FORMULA_NAME = "=2+5+cmd|' -C calc'!A0"
HOSTILE_TEXT = (
    "```\n# pwned\n![x](http://evil.example/x.png) <script>alert(1)</script> "
    "[link](javascript:alert(1)) www.evil.example <img src=x onerror=alert(1)>\n````\n## more"
)
MARKUP = ("http://evil", "<script", "javascript:", "www.evil", "<img", "![", "](")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FORMULA_NAME, "'" + FORMULA_NAME),
        ("+1", "'+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("＝1+1", "'＝1+1"),  # full-width, as a Korean or Japanese input method types it
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠SUM(A1)", "'＠SUM(A1)"),
        ("﹦1", "'﹦1"),
        ("\u3000=1", "'\u3000=1"),  # an ideographic space first
        ("김민준", "김민준"),
        ("ann-1", "ann-1"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_starts_with_an_apostrophe(text, expected):
    assert spreadsheet_cell(text) == expected


def _row(learner: str, error: str | None = None, ignored: tuple[str, ...] = ()) -> Row:
    if error is not None:
        results = {"error": error, "score": 0, "max_score": 0, "tests": []}
        return Row(learner, "", "", "", "2026-12-06T00:00:00+00:00", 0.0, 0.0, 0.0, {}, results)
    check = {
        "id": "t",
        "kata": K01,
        "part": "function",
        "status": "failed",
        "hidden": False,
        "name": "x",
        "output": HOSTILE_TEXT,
        "causes": [],
        "failure": None,
    }
    results = build(CATALOG[:1], [check], [], {"ignored_files": list(ignored)}, 1.0)
    katas = results["extra_data"]["katas"]
    return Row(learner, "ab" * 32, "cd", "2.13.0", "2026-12-06T00:00:00+00:00", 1.0, 0.0, 10.0, katas, results)


def test_grades_csv_holds_learner_names_and_errors_as_text_never_formulas(tmp_path):
    book = Gradebook(tmp_path / "gradebook.sqlite")
    book.record(_row(FORMULA_NAME, error='=HYPERLINK("http://evil","x")'))
    book.record(_row("@learner", error="\t-2+3"))
    book.record(_row("＝full"))
    batch.export(book, tmp_path, CATALOG)
    book.close()
    raw = (tmp_path / "grades.csv").read_text(encoding="utf-8-sig")
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    cells_ = [cell for row in rows[1:] for cell in (row[0], row[-1]) if cell]
    assert cells_ and all(c.startswith("'") for c in cells_), cells_
    assert {rows[i][0] for i in range(1, 4)} == {"'" + FORMULA_NAME, "'@learner", "'＝full"}
    assert all(line.startswith('"') for line in raw.splitlines()), "every cell is quoted as text"


def test_outside_code_sees_markup_that_escapes_a_fence_or_a_span():
    assert "evil" in outside_code("```text\n```\n![x](http://evil)\n```")  # closed early: the image is out
    assert "evil" not in outside_code("````text\n```\n![x](http://evil)\n````")
    assert "evil" in outside_code("`a`` [x](http://evil)")  # a span closes only on a run of its length
    assert "evil" not in outside_code("`` a`b [x](http://evil) ``")


def test_feedback_and_summary_render_a_learners_names_and_messages_as_text(tmp_path):
    names = [FORMULA_NAME, "www.evil.example", shown_name(b"`a`\n# b ``"), "<script>alert(1)</script>"]
    ignored = (shown_name(b"``k\n![x](http://evil)``.py"), "[link](javascript:alert(1))")
    for name in names:
        for row in (_row(name, error=HOSTILE_TEXT), _row(name, ignored=ignored)):
            text = feedback_markdown(row)
            outside = outside_code(text)
            assert not [m for m in MARKUP if m in outside], outside
            assert not re.search(r"pwned|calc|alert|^#+ (more|b)", outside, re.M), outside
            if "error" in row.results:
                assert HOSTILE_TEXT in text, "the message is shown verbatim inside its fence"
    write_summary([_row(n, error=HOSTILE_TEXT) for n in names], CATALOG, tmp_path)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    outside = outside_code(summary.replace("![](summary.png)", ""))  # our own image
    assert not [m for m in MARKUP if m in outside] and "<script" not in outside, outside
    assert "![](summary.png)" in summary  # our own image stays


@pytest.mark.parametrize("text", ["plain", "`", "a``b", "```", "` x `", "ends`", HOSTILE_TEXT])
def test_code_spans_and_fences_hold_any_text(text):
    assert outside_code(code(text)) == ""
    assert outside_code(fence(text)) == ""
    assert text in fence(text)


def test_gradescope_reads_the_results_as_plain_text():
    data = build(CATALOG[:1], [], [], {}, 0.0)
    assert (data["output_format"], data["test_output_format"], data["test_name_format"]) == ("text",) * 3
    json.dumps(data)


def test_finding_the_submission_in_a_gradescope_upload_follows_no_link(tmp_path):
    from backprop_katas.grading.gradescope import find_submission

    upload = tmp_path / "upload"
    submission(upload / "homework")
    (upload / "everything").symlink_to("/")  # walked, it would list the whole machine
    (upload / "answers").symlink_to(ROOT / "solutions")  # followed, it holds every kata file (and sorts first)
    assert within(QUICK, find_submission, upload, KATA_FILES) == upload / "homework"
    (upload / "homework" / K01_FILE).unlink()
    (upload / "homework" / K01_FILE).symlink_to(ROOT / "solutions" / K01_FILE)
    inner = submission(upload / "zipped" / "hw")
    assert find_submission(upload, KATA_FILES) == inner  # only regular kata files count
