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
import json
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from backprop_katas.catalog import Kata, load_catalog
from backprop_katas.files import digest, write_json
from backprop_katas.grading import preflight
from backprop_katas.grading.gradebook import Gradebook, Row, content_hash, suite_hash
from backprop_katas.grading.pool import Options, Workers, pytest_args, test_files
from backprop_katas.grading.results import merge, one_line
from backprop_katas.kit import probes
from backprop_katas.lang import current, say
from backprop_katas.names import safe_text, shown_name


@dataclass
class Outcome:
    graded: int = 0
    kept: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    isolation: set[str] = field(default_factory=set)  # what the learners' results.json say was used
    total: int = 0
    interrupted: bool = False
    regraded_katas: list[str] = field(default_factory=list)  # a partial run: what was graded again
    kept_katas: list[str] = field(default_factory=list)  # ... and what was kept from earlier grades


def is_single_submission(folder: Path, catalog: list[Kata]) -> bool:
    """A folder holding kata files directly is one learner's submission, not a class."""
    return any((folder / k.filename).is_file() for k in catalog)


def learners(folder: Path, catalog: list[Kata] | None = None) -> list[Path]:
    if catalog is not None and is_single_submission(folder, catalog):
        return [folder]
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def rules_hash(root: Path, katas: list[Kata], hidden: Path | None) -> str:
    files = [*test_files(root, katas), root / "katas.toml", root / "conftest.py", root / "tests" / "conftest.py"]
    files += sorted(Path(probes.__file__).parent.glob("*.py"))  # the probes are half of every test
    if hidden is not None:
        files += sorted(hidden.rglob("*.py"))
    return suite_hash(files, root)


def grade_one(
    root: Path, submission: Path, options: Options, katas: list[Kata], workers: Workers, run_scratch: Path
) -> dict[str, Any]:
    """Grade one submission in a worker; return its results.json."""
    with tempfile.TemporaryDirectory(prefix="katas-batch-", dir=run_scratch) as scratch, workers.lend() as worker:
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


def _kata_hashes(row: Row | None) -> dict[str, tuple[str, str]]:
    """What each kata of a record was graded from: (content hash, rules hash)."""
    if row is None:
        return {}
    graded = row.results.get("extra_data", {}).get("graded_from", {})
    return {k: (v[0], v[1]) for k, v in graded.items() if isinstance(v, list) and len(v) == 2}


def _record(
    catalog: list[Kata],
    learner: str,
    old: Row | None,
    results: dict[str, Any],
    katas: list[Kata],
    digest: str,
    rules: dict[str, str],
    options: Options,
    seconds: float,
) -> Row:
    """The learner's record after this run: a partial regrade (--kata, -k) merged into the old one."""
    import torch

    regraded = [k.id for k in katas]
    partial = bool(options.select) or len(katas) < len(catalog)
    if old is not None and partial and "error" not in old.results:
        results = merge(catalog, old.results, results, regraded, whole_katas=not options.select)
    graded_from = {**_kata_hashes(old), **{kid: [digest, rules[kid]] for kid in regraded}}
    if not partial:
        graded_from = {kid: [digest, rules[kid]] for kid in regraded}
    results.setdefault("extra_data", {})["graded_from"] = graded_from
    results["extra_data"]["regraded"] = regraded if partial else []
    return Row(
        learner=learner,
        content_hash=digest,
        suite_hash=content_of(rules),
        torch_version=torch.__version__,
        graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        seconds=round(seconds, 2),
        score=float(results["score"]),
        max_score=float(results["max_score"]),
        katas=results.get("extra_data", {}).get("katas", {}),
        results=results,
    )


def content_of(rules: dict[str, str]) -> str:
    """One hash for the record's rules column (the per-kata hashes live in extra_data.graded_from)."""
    return digest(json.dumps(rules, sort_keys=True).encode())


def _error_row(learner: str, digest: str, detail: str) -> Row:
    """A learner who could not be graded: shown as such, graded again next run."""
    return Row(learner, "", "", "", datetime.now(timezone.utc).isoformat(timespec="seconds"), 0.0, 0.0, 0.0, {},
               {"error": detail, "score": 0, "max_score": 0, "tests": []})  # fmt: skip


def grade_class(root: Path, options: Options) -> Outcome:
    start = time.monotonic()
    catalog = load_catalog(root)
    # The instructor's side first: a problem raises PreflightError before anything is written.
    preflight.ensure(root, options.hidden_tests, catalog)
    katas = [k for k in catalog if not options.katas or k.id in options.katas or k.number in options.katas]
    kata_files = [k.filename for k in catalog]
    # Per kata: a kata is kept only when it was graded from these files by these rules.
    suffix = f"|lang={current()}" + (f"|-k {options.select}" if options.select else "")
    rules = {k.id: rules_hash(root, [k], options.hidden_tests) + suffix for k in katas}
    book = Gradebook(options.out / "gradebook.sqlite")
    outcome = Outcome()
    todo: list[tuple[Path, str, str]] = []
    folders = [options.submissions] if options.single else learners(options.submissions, catalog)
    for folder in folders:
        name = shown_name(folder)
        try:
            digest = content_hash(folder, kata_files)
        except OSError as exc:  # unreadable folder: an error row, the class goes on
            outcome.failed.append(name)
            book.record(_error_row(name, "", f"{type(exc).__name__}: {exc}"))
            continue
        row = book.get(name)
        done = _kata_hashes(row)
        if (
            row
            and not options.regrade
            and "error" not in row.results
            and all(done.get(k.id) == (digest, rules[k.id]) for k in katas)
        ):
            outcome.kept += 1
        else:
            todo.append((folder, name, digest))
    outcome.total = len(folders)
    count = max(1, min(options.workers, len(todo)))
    remote_wanted = bool(options.scheduler or options.dask_local) and bool(todo)
    stop = Interrupt()
    scratch = Path(tempfile.mkdtemp(prefix="katas-run-"))  # every temporary folder of this run, workers' too
    workers: Workers | None = None
    futures: dict[Future[dict[str, Any]], tuple[Path, str, str, float]] = {}
    # Not a `with`: on Ctrl-C the pool must drop its queued learners at once, not grade them first.
    pool = ThreadPoolExecutor(count)
    try:
        stop.install()  # SIGTERM stops as Ctrl-C does; a second signal during clean-up is ignored
        workers = Workers(root, count if todo and not remote_wanted else 0, scratch)
        cluster: AbstractContextManager[Any] = nullcontext(None)
        if remote_wanted:  # dask is imported only when asked for
            from backprop_katas.grading.cluster import session

            cluster = session(root, options, katas, kata_files)
        with progress_bar(len(todo), options.progress) as advance, cluster as remote:
            for folder, name, digest in todo:
                if remote is not None:  # a Dask cluster (.cluster): the same results, graded elsewhere
                    future = remote.submit(folder, name)
                else:
                    future = pool.submit(grade_one, root, folder, options, katas, workers, scratch)
                futures[future] = (folder, name, digest, time.monotonic())
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    folder, name, digest, began = futures[future]
                    try:
                        results = future.result()
                    except Exception as exc:
                        outcome.failed.append(name)
                        detail = safe_text(str(exc)[:500])
                        print(say("grade_batch_error", learner=name, detail=detail), file=sys.stderr)
                        book.record(_error_row(name, digest, detail))
                        advance(name)
                        continue
                    old = book.get(name)
                    row = _record(catalog, name, old, results, katas, digest, rules, options,
                                  time.monotonic() - began)  # fmt: skip
                    book.record(row)
                    outcome.graded += 1
                    outcome.regraded_katas = row.results["extra_data"]["regraded"]
                    merged = set(row.results["extra_data"].get("merged_from", []))
                    outcome.kept_katas = sorted(set(outcome.kept_katas) | merged)
                    outcome.isolation.add(str(results.get("extra_data", {}).get("sandbox", {}).get("isolation")))
                    advance(name if remote is None else f"{name} · {remote.status()}")
    except KeyboardInterrupt:
        stop.stopping = True
        outcome.interrupted = True
        pool.shutdown(wait=False, cancel_futures=True)  # learners not started stay ungraded
        if workers is not None:
            workers.kill_all()  # their learners' rows were never committed: graded again next run
    finally:
        stop.stopping = True
        pool.shutdown(wait=True)  # the running ones end at once: their workers are dead
        if workers is not None:
            workers.close()
        shutil.rmtree(scratch, ignore_errors=True)
    export(book, options.out, catalog)
    if options.results_json is not None and len(folders) == 1:
        row = book.get(shown_name(folders[0]))
        if row is not None and "error" not in row.results:
            write_json(options.results_json, row.results, indent=2)
    book.close()
    stop.restore()  # the exports above are written whole: a signal meanwhile was ignored
    outcome.seconds = time.monotonic() - start
    return outcome


class Interrupt:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt once; while the run cleans up, they are ignored."""

    def __init__(self) -> None:
        self.stopping = False
        self.previous: dict[int, Any] = {}

    def handle(self, signum: int, frame: Any) -> None:
        if not self.stopping:
            self.stopping = True
            raise KeyboardInterrupt

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.signal(signum, self.handle)

    def restore(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous.clear()


# --- exports -----------------------------------------------------------------------------------


def export(book: Gradebook, out: Path, catalog: list[Kata]) -> None:
    from backprop_katas.grading.feedback import write_feedback, write_summary

    rows = book.rows()
    ids = [k.id for k in catalog]
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        header = [one_line("csv_learner"), *ids, one_line("csv_total"), one_line("csv_max_score"),
                  one_line("csv_graded_at"), one_line("csv_content_hash"), one_line("csv_error")]  # fmt: skip
        writer.writerow(header)
        for row in rows:
            cells = [_points(row.katas.get(kid, {}).get("score")) for kid in ids]
            error = row.results.get("error", "")
            writer.writerow(
                [row.learner, *cells, _points(row.score), _points(row.max_score), row.graded_at,
                 row.content_hash, safe_text(error).replace("\n", " ")]
            )  # fmt: skip
    write_feedback(rows, out / "feedback")
    write_summary(rows, catalog, out)


def _points(value: Any) -> str:
    return "" if value is None else f"{float(value):.2f}"
