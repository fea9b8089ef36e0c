"""``katas grade SUBMISSIONS_DIR``: grade a class, one sub-folder per learner.

Each learner is graded by its own ``pytest --grade`` process (so a class is
graded exactly as ``pytest --target PATH --grade`` grades one learner),
``--workers`` of them side by side. The main process alone writes the
gradebook, one committed row per learner as soon as that learner is done; a
learner whose kata files and the tests are unchanged since their row was
written is skipped (``--regrade`` forces it). CSV and Markdown exports are
written from the gradebook at the end of every run.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..catalog import Kata, load_catalog
from ..messages import say
from .gradebook import Gradebook, Row, content_hash, suite_hash
from .sandbox import PARENT_ENV

FAILURES_SHOWN = 3  # per kata, in a learner's Markdown feedback


@dataclass
class Options:
    submissions: Path
    out: Path
    workers: int = os.cpu_count() or 1
    regrade: bool = False
    katas: list[str] = field(default_factory=list)  # empty: every kata
    select: str | None = None  # pytest -k expression: grade only the matching tests
    hidden_tests: Path | None = None
    kata_time_limit: float | None = None
    memory_limit: int | None = None
    progress: bool = True


@dataclass
class Outcome:
    graded: int = 0
    kept: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def learners(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_files(root: Path, katas: list[Kata]) -> list[Path]:
    return [root / "tests" / k.test_filename for k in katas if (root / "tests" / k.test_filename).is_file()]


def rules_hash(root: Path, katas: list[Kata], hidden: Path | None) -> str:
    files = [*test_files(root, katas), root / "katas.toml", root / "conftest.py", root / "tests" / "conftest.py"]
    if hidden is not None:
        files += sorted(hidden.rglob("*.py"))
    return suite_hash(files, root)


class Running:
    """The pytest processes in flight, so Ctrl-C can stop them all."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.processes: set[subprocess.Popen[bytes]] = set()
        self.stopping = False

    def kill_all(self) -> None:
        with self.lock:
            self.stopping = True
            for process in self.processes:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


def grade_one(root: Path, submission: Path, options: Options, katas: list[Kata], running: Running) -> dict[str, Any]:
    """Run ``pytest --grade`` on one submission; return its results.json."""
    with tempfile.TemporaryDirectory(prefix="katas-batch-") as scratch:
        report = Path(scratch) / "results.json"
        command = [
            sys.executable, "-m", "pytest", *map(str, test_files(root, katas)),
            "--target", str(submission), "--grade", "--grade-json", str(report),
            "-q", "--no-header", "-p", "no:cacheprovider", "--rootdir", str(root),
        ]  # fmt: skip
        if options.hidden_tests is not None:
            command += ["--hidden-tests", str(options.hidden_tests)]
        if options.select:
            command += ["-k", options.select]
        if options.kata_time_limit:
            command += ["--kata-time-limit", str(options.kata_time_limit)]
        if options.memory_limit:
            command += ["--memory-limit", str(options.memory_limit)]
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        env.pop("KATAS_TARGET", None)
        with running.lock:
            if running.stopping:
                raise KeyboardInterrupt
            process = subprocess.Popen(
                command, cwd=root, env=env, start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )  # fmt: skip
            running.processes.add(process)
        try:
            output, _ = process.communicate()
        finally:
            with running.lock:
                running.processes.discard(process)
        if not report.is_file():
            tail = output.decode(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(f"pytest exited with {process.returncode} and no results.json: " + " | ".join(tail))
        data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
        return data


@contextmanager
def progress_bar(total: int, enabled: bool) -> Iterator[Callable[[str], None]]:
    """``advance(learner)``; rich's bar when it is installed and wanted, a line per learner otherwise."""
    if enabled:
        try:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        except ImportError:
            pass
        else:
            columns = (
                TextColumn("grading"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
            )
            with Progress(*columns, transient=False) as bar:
                task = bar.add_task("", total=total)
                yield lambda learner: bar.update(task, advance=1, description=learner)
            return
    done = [0]

    def line(learner: str) -> None:
        done[0] += 1
        print(f"[{done[0]}/{total}] {learner}", flush=True)

    yield line


def grade_class(root: Path, options: Options) -> Outcome:
    start = time.monotonic()
    catalog = load_catalog(root)
    katas = [k for k in catalog if not options.katas or k.id in options.katas or k.number in options.katas]
    kata_files = [k.filename for k in catalog]
    rules = rules_hash(root, katas, options.hidden_tests) + (f"-k {options.select}" if options.select else "")
    book = Gradebook(options.out / "gradebook.sqlite")
    outcome = Outcome()
    todo: list[tuple[Path, str]] = []
    for folder in learners(options.submissions):
        digest = content_hash(folder, kata_files)
        row = book.get(folder.name)
        if row and not options.regrade and row.content_hash == digest and row.suite_hash == rules:
            outcome.kept += 1
        else:
            todo.append((folder, digest))
    running = Running()
    import torch

    with progress_bar(len(todo), options.progress) as advance, ThreadPoolExecutor(max(1, options.workers)) as pool:
        futures: dict[Future[dict[str, Any]], tuple[Path, str, float]] = {}
        try:
            for folder, digest in todo:
                future = pool.submit(grade_one, root, folder, options, katas, running)
                futures[future] = (folder, digest, time.monotonic())
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    folder, digest, began = futures[future]
                    try:
                        results = future.result()
                    except Exception as exc:
                        outcome.failed.append(folder.name)
                        print(say("grade_batch_error", learner=folder.name, detail=str(exc)[:500]), file=sys.stderr)
                        advance(folder.name)
                        continue
                    book.record(
                        Row(
                            learner=folder.name,
                            content_hash=digest,
                            suite_hash=rules,
                            torch_version=torch.__version__,
                            graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            seconds=round(time.monotonic() - began, 2),
                            score=float(results["score"]),
                            max_score=float(results["max_score"]),
                            katas=results.get("extra_data", {}).get("katas", {}),
                            results=results,
                        )
                    )
                    outcome.graded += 1
                    advance(folder.name)
        except KeyboardInterrupt:
            running.kill_all()
            for future in futures:
                future.cancel()
            raise
    export(book, options.out, catalog)
    book.close()
    outcome.seconds = time.monotonic() - start
    return outcome


# --- exports -----------------------------------------------------------------------------------


def export(book: Gradebook, out: Path, catalog: list[Kata]) -> None:
    rows = book.rows()
    ids = [k.id for k in catalog]
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learner", *ids, "total", "max_score", "graded_at", "content_hash"])
        for row in rows:
            cells = [_points(row.katas.get(kid, {}).get("score")) for kid in ids]
            writer.writerow(
                [row.learner, *cells, _points(row.score), _points(row.max_score), row.graded_at, row.content_hash]
            )
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    for row in rows:
        (feedback / f"{row.learner}.md").write_text(feedback_markdown(row), encoding="utf-8")


def _points(value: Any) -> str:
    return "" if value is None else f"{float(value):g}"


def feedback_markdown(row: Row) -> str:
    """One learner's feedback: the total, a table per kata, every failed test's (capped) output."""
    results = row.results
    lines = [
        f"# {say('feedback_title', learner=row.learner)}",
        "",
        say("grade_total", score=row.score, max=row.max_score),
        "",
    ]
    lines += ["| kata | points | tests passed |", "|---|---:|---:|"]
    for kata, s in row.katas.items():
        lines.append(f"| {kata} | {s['score']:g} / {s['max_score']:g} | {s['passed']} / {s['tests']} |")
    extra = results.get("extra_data", {})
    if extra.get("ignored_files"):
        lines += ["", say("grade_ignored", files=", ".join(extra["ignored_files"]))]
    if extra.get("missing_files"):
        lines += ["", say("grade_missing", files=", ".join(extra["missing_files"]))]
    failed = [t for t in results.get("tests", []) if t.get("status") != "passed"]
    lines += ["", f"## {say('feedback_failed')}" if failed else say("feedback_all_passed"), ""]
    shown: dict[str, int] = {}
    for test in failed:
        kata = test["name"].split(" ")[0]
        shown[kata] = shown.get(kata, 0) + 1
        if shown[kata] <= FAILURES_SHOWN:  # the first failures say what to fix; a hundred more add nothing
            lines += [f"### {test['name']}", "", "```text", test.get("output", "").replace("```", "'''"), "```", ""]
    for kata, count in shown.items():
        if count > FAILURES_SHOWN:
            lines.append(f"- {kata}: {say('feedback_more', n=count - FAILURES_SHOWN)}")
    lines += ["", f"<sub>torch {row.torch_version} · {row.graded_at} · {row.content_hash[:12]}</sub>", ""]
    return "\n".join(lines)
