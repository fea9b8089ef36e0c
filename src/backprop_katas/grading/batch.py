"""``katas grade SUBMISSIONS_DIR``: grade a class, one sub-folder per learner.

``--workers`` worker processes (``.worker``), started once per run, grade
learner after learner side by side: each forks a child per learner that runs
``pytest.main`` with the arguments of ``pytest --target PATH --grade`` for
that learner (so a class is graded exactly as that command grades one
learner), so pytest and torch are imported once per worker, not per learner.
The main process alone writes the
gradebook, one committed row per learner as soon as that learner is done; a
learner whose kata files and the tests are unchanged since their row was
written is skipped (``--regrade`` forces it). CSV and Markdown exports are
written from the gradebook at the end of every run.
"""

from __future__ import annotations

import csv
import io
import json
import os
import queue
import socket
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

from .. import probes
from ..catalog import Kata, load_catalog
from ..messages import say
from . import sandbox
from .gradebook import Gradebook, Row, content_hash, suite_hash
from .sandbox import PARENT_ENV
from .worker import BOOTSTRAP as WORKER_BOOTSTRAP

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
    isolation: str = "auto"  # sandbox.ISOLATIONS
    scheduler: str | None = None  # a Dask scheduler's address: learners graded on that cluster (.cluster)
    dask_local: int | None = None  # a Dask LocalCluster of this many workers on this machine


@dataclass
class Outcome:
    graded: int = 0
    kept: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    isolation: set[str] = field(default_factory=set)  # what the learners' results.json say was used


def learners(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_files(root: Path, katas: list[Kata]) -> list[Path]:
    return [root / "tests" / k.test_filename for k in katas if (root / "tests" / k.test_filename).is_file()]


def rules_hash(root: Path, katas: list[Kata], hidden: Path | None) -> str:
    files = [*test_files(root, katas), root / "katas.toml", root / "conftest.py", root / "tests" / "conftest.py"]
    files += sorted(Path(probes.__file__).parent.glob("*.py"))  # the probes are half of every test
    if hidden is not None:
        files += sorted(hidden.rglob("*.py"))
    return suite_hash(files, root)


class Worker:
    """One worker process (``.worker``): grades learner after learner; started again if it dies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.process: subprocess.Popen[bytes] | None = None
        self.stream: io.BufferedRWPair | None = None

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        env.pop("KATAS_TARGET", None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER_BOOTSTRAP, str(theirs.fileno())],
            pass_fds=[theirs.fileno()], cwd=self.root, env=env, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        theirs.close()
        self.stream = ours.makefile("rwb")
        ours.close()  # the file object keeps the socket open

    def grade(self, args: list[str], log: Path, isolation: str = "auto") -> int:
        """``pytest.main(args)`` in a child of the worker; its exit code."""
        if self.stream is None:
            raise RuntimeError("the grading worker is not running")
        try:
            request = {"args": args, "log": str(log), "isolation": isolation}
            self.stream.write(json.dumps(request).encode() + b"\n")
            self.stream.flush()
            line = self.stream.readline()
        except OSError:
            line = b""
        if not line:
            self.kill()
            raise RuntimeError("the grading worker died")
        return int(json.loads(line)["exit"])

    def kill(self) -> None:
        if self.process is not None:
            sandbox.kill_group(self.process.pid)  # its zygote and kata servers die with it
            self.process.wait()
            self.process = None
        self._close_stream()

    def _close_stream(self) -> None:
        if self.stream is not None:
            try:
                self.stream.close()
            except OSError:
                pass
            self.stream = None

    def close(self) -> None:
        """End of input: the worker closes its zygote and exits; killed if it does not."""
        self._close_stream()
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


class Workers:
    """The run's worker processes: one is lent to each learner in turn; Ctrl-C kills them all."""

    def __init__(self, root: Path, count: int) -> None:
        self.lock = threading.Lock()
        self.stopping = False
        self.all = [Worker(root) for _ in range(count)]
        self.free: queue.Queue[Worker] = queue.Queue()
        for worker in self.all:
            worker.start()  # from the main thread: they start side by side, and die with this process
            self.free.put(worker)

    @contextmanager
    def lend(self) -> Iterator[Worker]:
        worker = self.free.get()
        try:
            with self.lock:
                if self.stopping:
                    raise KeyboardInterrupt
                if worker.process is None or worker.process.poll() is not None:
                    worker.kill()
                    worker.start()  # it died (a grader bug): the next learner gets a new one
            yield worker
        finally:
            self.free.put(worker)

    def kill_all(self) -> None:
        with self.lock:
            self.stopping = True
            for worker in self.all:
                process = worker.process
                if process is not None:
                    sandbox.kill_group(process.pid)

    def close(self) -> None:
        for worker in self.all:
            worker.close()


def pytest_args(root: Path, submission: Path, report: Path, options: Options, katas: list[Kata]) -> list[str]:
    """The arguments of ``pytest --target=SUBMISSION --grade`` for one learner.

    ``--target=PATH`` in one word: given as two, pytest would take PATH for a test folder
    before it knows the option and import the submission's ``conftest.py`` into the grader.
    """
    args = [
        *map(str, test_files(root, katas)),
        f"--target={submission}", "--grade", "--grade-json", str(report),
        "-q", "--no-header", "-p", "no:cacheprovider", "--rootdir", str(root),
    ]  # fmt: skip
    if options.hidden_tests is not None:
        args += ["--hidden-tests", str(options.hidden_tests)]
    if options.select:
        args += ["-k", options.select]
    if options.kata_time_limit:
        args += ["--kata-time-limit", str(options.kata_time_limit)]
    if options.memory_limit:
        args += ["--memory-limit", str(options.memory_limit)]
    args += ["--isolation", options.isolation]
    return args


def grade_one(root: Path, submission: Path, options: Options, katas: list[Kata], workers: Workers) -> dict[str, Any]:
    """Grade one submission in a worker; return its results.json."""
    with tempfile.TemporaryDirectory(prefix="katas-batch-") as scratch, workers.lend() as worker:
        report, log = Path(scratch) / "results.json", Path(scratch) / "pytest.log"
        code = worker.grade(pytest_args(root, submission, report, options, katas), log, options.isolation)
        if not report.is_file():
            text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
            tail = text.strip().splitlines()[-5:]
            raise RuntimeError(f"pytest exited with {code} and no results.json: " + " | ".join(tail))
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
    import torch

    from .cluster import session

    count = max(1, min(options.workers, len(todo)))
    remote_wanted = bool(options.scheduler or options.dask_local) and bool(todo)
    workers = Workers(root, count if todo and not remote_wanted else 0)
    with progress_bar(len(todo), options.progress) as advance, ThreadPoolExecutor(count) as pool, session(
        root, options, katas, kata_files, enabled=remote_wanted
    ) as remote:
        futures: dict[Future[dict[str, Any]], tuple[Path, str, float]] = {}
        try:
            for folder, digest in todo:
                if remote is not None:
                    future = remote.submit(folder)
                else:
                    future = pool.submit(grade_one, root, folder, options, katas, workers)
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
                    outcome.isolation.add(str(results.get("extra_data", {}).get("sandbox", {}).get("isolation")))
                    advance(folder.name if remote is None else f"{folder.name} · {remote.status()}")
        except KeyboardInterrupt:
            workers.kill_all()
            for future in futures:
                future.cancel()
            raise
        finally:
            workers.close()
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
