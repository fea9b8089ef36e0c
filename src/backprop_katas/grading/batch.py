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

import ast
import csv
import dataclasses
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

from backprop_katas.catalog import Kata, counted, load_catalog
from backprop_katas.files import Refused, digest, write_json
from backprop_katas.grading import preflight
from backprop_katas.grading.gradebook import Gradebook, Row, submission_hashes, suite_hash
from backprop_katas.grading.pool import Options, Workers, grade_learner, test_files
from backprop_katas.grading.results import merge, one_line
from backprop_katas.kit import probes
from backprop_katas.lang import current, say
from backprop_katas.names import safe_text, shown_name, spreadsheet_cell


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
    changed: dict[str, dict[str, str]] = field(default_factory=dict)  # learner → kept katas changed since graded
    rows: list[Row] = field(default_factory=list)  # the gradebook after the run (the terminal's table)


def is_single_submission(folder: Path, catalog: list[Kata]) -> bool:
    """A folder holding kata files directly is one learner's submission, not a class."""
    return any((folder / k.filename).is_file() for k in catalog)


def learners(folder: Path, catalog: list[Kata] | None = None) -> list[Path]:
    if catalog is not None and is_single_submission(folder, catalog):
        return [folder]
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def probe_folder() -> Path:
    return Path(probes.__file__).parent


def _kata_of_file(path: Path, catalog: list[Kata]) -> str | None:
    """The kata a test or probe file belongs to, read without importing it: ``KATA = "kNN_name"``
    at its top level, or its file name (``test_k05_*.py``, ``k05_backprop.py``); None for a helper."""
    from backprop_katas.grading.runner import kata_of_module

    declared = None
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        tree = None  # it fails to collect: whichever kata it names by file, else every kata's rules
    for node in tree.body if tree is not None else []:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "KATA" for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                declared = node.value.value
    return kata_of_module(catalog, path, declared)


def rules_hash(root: Path, katas: list[Kata], hidden: Path | None) -> str:
    """The hash of what grades ``katas``: their tests, probes and hidden tests, and what all tests share.

    A probe module or hidden test of another kata is left out, so that adding one k05 hidden test
    regrades k05 only; a file that belongs to no kata (a helper, a conftest) is in every kata's."""
    catalog = load_catalog(root)
    ids = {k.id for k in katas}
    files = [*test_files(root, katas), root / "katas.toml", root / "conftest.py", root / "tests" / "conftest.py"]
    shared = sorted(probe_folder().glob("*.py"))  # the probes are half of every test
    if hidden is not None:
        shared += sorted(hidden.rglob("*.py"))
    files += [p for p in shared if _kata_of_file(p, catalog) in (None, *ids)]
    return suite_hash(files, root)


def grade_one(
    root: Path, submission: Path, options: Options, katas: list[Kata], workers: Workers, run_scratch: Path
) -> dict[str, Any]:
    """Grade one submission in a worker, under the per-learner watchdog (pool.grade_learner); its results.json."""
    with tempfile.TemporaryDirectory(prefix="katas-batch-", dir=run_scratch) as scratch, workers.lend() as worker:
        return grade_learner(worker, root, submission, Path(scratch), options, katas)


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
    """What each kata of a record was graded from: (its file's hash, its rules' hash)."""
    if row is None:
        return {}
    graded = row.results.get("extra_data", {}).get("graded_from", {})
    return {k: (v[0], v[1]) for k, v in graded.items() if isinstance(v, list) and len(v) >= 2}


def changed_since_graded(row: Row | None, now: dict[str, str], graded: list[str]) -> dict[str, str]:
    """Kept katas (not in ``graded``) whose file is no longer the one their score came from:
    kata id → when that score was graded (UTC, ISO 8601)."""
    if row is None or "error" in row.results:
        return {}
    found = row.results.get("extra_data", {}).get("graded_from", {})
    changed: dict[str, str] = {}
    for kata, source in found.items():
        if kata in graded or not isinstance(source, list) or len(source) < 2 or kata not in now:
            continue
        if source[0] != now[kata]:
            changed[kata] = str(source[2]) if len(source) > 2 else row.graded_at
    return changed


def _record(
    catalog: list[Kata],
    learner: str,
    old: Row | None,
    results: dict[str, Any],
    katas: list[Kata],
    digest: str,
    now: dict[str, str],
    rules: dict[str, str],
    options: Options,
    seconds: float,
) -> Row:
    """The learner's record after this run: a partial regrade (--kata, -k) merged into the old one."""
    import torch

    graded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    regraded = [k.id for k in katas]
    partial = bool(options.select) or len(katas) < len(catalog)
    earlier = old.results if old is not None and partial and "error" not in old.results else None
    merged = earlier is not None
    if earlier is not None:
        results = merge(catalog, earlier, results, regraded, whole_katas=not options.select)
    previous = earlier.get("extra_data", {}).get("graded_from", {}) if earlier is not None else {}
    changed = changed_since_graded(old, now, regraded) if merged else {}
    fresh = {kid: [now[kid], rules[kid], graded_at] for kid in regraded}
    for kid in regraded if merged and options.select else []:
        before = previous.get(kid)
        if isinstance(before, list) and len(before) >= 2 and before[0] != now[kid]:
            # -k ran some of this kata's tests on the new file and kept the others' old results:
            # the kata stays "graded from the old file", marked, until a run without -k.
            fresh[kid] = before
            changed[kid] = str(before[2]) if len(before) > 2 else old.graded_at if old is not None else graded_at
    extra = results.setdefault("extra_data", {})
    extra["graded_from"] = {**previous, **fresh}
    extra["regraded"] = regraded if partial else []
    extra["changed_since_graded"] = changed
    return Row(
        learner=learner,
        content_hash=digest,
        suite_hash=content_of(rules),
        torch_version=torch.__version__,
        graded_at=graded_at,
        seconds=round(seconds, 2),
        score=float(results["score"]),
        max_score=float(results["max_score"]),
        katas=results.get("extra_data", {}).get("katas", {}),
        results=results,
    )


def _in_order(catalog: list[Kata], ids: set[str]) -> list[str]:
    return [k.id for k in catalog if k.id in ids]


def content_of(rules: dict[str, str]) -> str:
    """One hash for the record's rules column (the per-kata hashes live in extra_data.graded_from)."""
    return digest(json.dumps(rules, sort_keys=True).encode())


def _error_row(learner: str, digest: str, detail: str) -> Row:
    """A learner who could not be graded: shown as such, graded again next run."""
    return Row(
        learner,
        "",
        "",
        "",
        datetime.now(timezone.utc).isoformat(timespec="seconds"),
        0.0,
        0.0,
        0.0,
        {},
        {"error": detail, "score": 0, "max_score": 0, "tests": []},
    )


def grade_class(root: Path, options: Options) -> Outcome:
    start = time.monotonic()
    everything = load_catalog(root)
    # The instructor's side first: a problem raises PreflightError before anything is written.
    preflight.ensure(root, options.hidden_tests, everything)
    # A bonus kata (katas.toml: bonus = true) is graded and counted only when asked for, so a grade
    # without it keeps the gradebook's columns and its total.
    catalog = counted(everything, options.katas)
    katas = [k for k in catalog if not options.katas or k.id in options.katas or k.number in options.katas]
    kata_files = [k.filename for k in catalog]
    # Per kata: a kata is kept only when it was graded from these files by these rules.
    suffix = f"|lang={current()}" + (f"|-k {options.select}" if options.select else "")
    rules = {k.id: rules_hash(root, [k], options.hidden_tests) + suffix for k in katas}
    book = Gradebook(options.out / "gradebook.sqlite")
    outcome = Outcome()
    todo: list[tuple[Path, str, str, dict[str, str], list[Kata]]] = []
    folders = [options.submissions] if options.single else learners(options.submissions, catalog)
    for folder in folders:
        name = shown_name(folder)
        try:
            digest, now = submission_hashes(folder, catalog)  # one bounded read of the learner's files
        except (
            OSError
        ) as exc:  # unreadable folder, a kata file refused (files.Refused): an error row, the class goes on
            outcome.failed.append(name)
            detail = safe_text(str(exc) if isinstance(exc, Refused) else f"{type(exc).__name__}: {exc}")
            print(say("grade_batch_error", learner=name, detail=detail), file=sys.stderr)
            book.record(_error_row(name, "", detail))
            continue
        row = book.get(name)
        done = _kata_hashes(row)
        whole = row is None or options.regrade or "error" in row.results
        # Only the katas whose file or rules changed: one new k05 hidden test regrades k05 alone.
        due = [k for k in katas if whole or done.get(k.id) != (now[k.id], rules[k.id])]
        if due:
            todo.append((folder, name, digest, now, due))
            continue
        outcome.kept += 1
        assert row is not None
        changed = changed_since_graded(row, now, [k.id for k in katas])
        if changed:
            outcome.changed[name] = changed
        if changed != row.results.get("extra_data", {}).get("changed_since_graded", {}):
            results = {
                **row.results,
                "extra_data": {**row.results.get("extra_data", {}), "changed_since_graded": changed},
            }
            book.record(dataclasses.replace(row, content_hash=digest, results=results))
    outcome.total = len(folders)
    count = max(1, min(options.workers, len(todo)))
    remote_wanted = bool(options.scheduler or options.dask_local) and bool(todo)
    stop = Interrupt()
    scratch = Path(tempfile.mkdtemp(prefix="katas-run-"))  # every temporary folder of this run, workers' too
    workers: Workers | None = None
    futures: dict[Future[dict[str, Any]], tuple[Path, str, str, dict[str, str], list[Kata], float]] = {}
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
            for folder, name, digest, now, due in todo:
                if remote is not None:  # a Dask cluster (.cluster): the same results, graded elsewhere
                    future = remote.submit(folder, name, due)
                else:
                    future = pool.submit(grade_one, root, folder, options, due, workers, scratch)
                futures[future] = (folder, name, digest, now, due, time.monotonic())
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    folder, name, digest, now, due, began = futures[future]
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
                    row = _record(
                        catalog, name, old, results, due, digest, now, rules, options, time.monotonic() - began
                    )
                    book.record(row)
                    outcome.graded += 1
                    extra = row.results["extra_data"]
                    outcome.regraded_katas = _in_order(catalog, {*outcome.regraded_katas, *extra["regraded"]})
                    outcome.kept_katas = _in_order(catalog, {*outcome.kept_katas, *extra.get("merged_from", [])})
                    if extra["changed_since_graded"]:
                        outcome.changed[name] = extra["changed_since_graded"]
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
    outcome.rows = export(book, options.out, catalog)
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


def export(book: Gradebook, out: Path, catalog: list[Kata]) -> list[Row]:
    """grades.csv, the feedback and the class summary from the gradebook; its rows.

    grades.csv starts with a UTF-8 byte-order mark: without one, Excel reads a CSV in the
    machine's code page (cp949 on a Korean Windows) and garbles every Hangul name and header."""
    from backprop_katas.grading.feedback import write_feedback, write_summary

    rows = book.rows()
    ids = [k.id for k in catalog]
    with open(out / "grades.csv", "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)  # every cell text; a learner's never a formula
        header = [
            one_line("csv_learner"),
            *ids,
            one_line("csv_total"),
            one_line("csv_max_score"),
            one_line("csv_graded_at"),
            one_line("csv_content_hash"),
            one_line("csv_error"),
            one_line("csv_changed"),
        ]
        writer.writerow(header)
        for row in rows:
            cells = [_points(row.katas.get(kid, {}).get("score")) for kid in ids]
            error = row.results.get("error", "")
            changed = row.results.get("extra_data", {}).get("changed_since_graded", {})
            writer.writerow(
                [
                    spreadsheet_cell(row.learner),
                    *cells,
                    _points(row.score),
                    _points(row.max_score),
                    row.graded_at,
                    row.content_hash,
                    spreadsheet_cell(safe_text(error).replace("\n", " ")),
                    "; ".join(f"{kata} ({when})" for kata, when in changed.items()),
                ]
            )
    write_feedback(rows, out / "feedback")
    write_summary(rows, catalog, out)
    return rows


def _points(value: Any) -> str:
    return "" if value is None else f"{float(value):.2f}"
