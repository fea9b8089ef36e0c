"""Check katas: one child pytest per kata, first failure only, with a time limit and a cache.

Each kata's tests run in a child ``python -m pytest tests/test_kNN_x.py -x``
in a process group of its own, so a kata that hangs is stopped (the whole
group is killed) and Ctrl-C leaves nothing behind; when the project's warm
server runs (or can start, :mod:`backprop_katas.tool.server`), it forks that
child with torch and pytest already imported. The child writes its
outcome as JSON (:mod:`backprop_katas.tool.report`); a result is cached under
``.katas-cache/`` keyed by the kata file, the files it imports, its test file
and the tool's version. The first failure is cached as data
(:mod:`backprop_katas.kit.failure`) and rendered when shown, so the language is
not part of the key: ``katas --lang ko`` after ``--lang en`` starts no child.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backprop_katas import __version__
from backprop_katas.catalog import Kata, kata_paths
from backprop_katas.files import cache_dir, digest, read_json, write_json
from backprop_katas.generate import STUBS, make_stub
from backprop_katas.kinds import Status, TestStatus
from backprop_katas.kit.failure import Failure, Where, render
from backprop_katas.lang import Msg
from backprop_katas.limits import DEFAULT_TIME_LIMIT, DEFAULT_TIMEOUT
from backprop_katas.procs import QUIET_PLUGINS, kill_group
from backprop_katas.procs import pytest_command as python_pytest
from backprop_katas.scoring import Check, KataScore, score_kata
from backprop_katas.tool import server

SCORING_VERSION = b"scoring-parts-1;failure-data-1"  # cached outcomes of another shape are not reused
STACK_SECONDS = 2.0  # how long a child stopped at the limit gets to dump its stack
STACK_FRAME_RE = re.compile(r'^\s*File "(?P<file>.+)", line (?P<line>\d+) in (?P<function>\S+)', re.MULTILINE)
IMPORT_RE = re.compile(r"^\s*from\s+\.(k\d\d_\w+)\s+import", re.MULTILINE)
KEEP_PER_KATA = 8  # results kept per kata: undoing an edit (or `katas reset`) finds its old result
TERM_GRACE = 2.0  # seconds a stopped check gets to end after SIGTERM before SIGKILL


@dataclass
class Outcome:
    """What checking one kata found, as plain data (cached as JSON, in no language)."""

    kata: str
    status: Status
    passed: int = 0
    total: int = 0
    test: str = ""  # node id of the first failing test
    test_path: str = ""
    test_line: int | None = None
    failure: dict[str, Any] | None = None  # the first failure as data (kit/failure.py), rendered when shown
    where: dict[str, Any] | None = None  # where to look first: Where data, its file relative to the project
    duration: float = 0.0
    score: int = 0  # hundredths of a point, by the grade's rule (scoring.py)
    max_score: int = 0
    cached: bool = field(default=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        known = {f for f in cls.__dataclass_fields__}
        outcome = cls(**{k: v for k, v in data.items() if k in known})
        outcome.status = Status(outcome.status)
        return outcome

    @property
    def edit(self) -> str:
        """``katas/k01_derivatives.py:24``: where to look first ("" when nowhere)."""
        where = Where.from_data(self.where)
        return where.shown() if where else ""

    def message(self, language: str | None = None, *, where: bool = False) -> str:
        """The first failure in ``language`` (default: this process's), "" when there is none."""
        return render(Failure.from_data(self.failure), language, where=where) if self.failure else ""

    @property
    def causes(self) -> list[str]:
        """The first failure's likely causes, as message keys."""
        return [c["key"] for c in (self.failure or {}).get("causes") or []]

    @property
    def function(self) -> str:
        """The function the first failure called (``k02_parameters.mlp_parameter_count``), "" if none."""
        call = (self.failure or {}).get("call") or {}
        return str(call.get("function") or "") if isinstance(call, dict) else ""


def tool_failure(key: str, text: str = "", **fields: object) -> dict[str, Any]:
    """A failure ``katas`` itself reports (no report, no tests, a time limit), as data."""
    return Failure(kind="tool", lines=[Msg(key, **fields), *([text] if text else [])]).to_data()


# --- files, stubs and the cache key ------------------------------------------------------


def dependencies(folder: Path, kata_id: str) -> list[str]:
    """Kata ids that ``kata_id`` imports relatively (``from .k05_backprop import ...``), transitively."""
    seen: list[str] = []
    todo = [kata_id]
    while todo:
        current = todo.pop()
        try:
            text = (folder / f"{current}.py").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for dep in IMPORT_RE.findall(text):
            if dep != kata_id and dep not in seen:
                seen.append(dep)
                todo.append(dep)
    return sorted(seen)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"<missing>"


def cache_key(root: Path, folder: Path, kata: Kata) -> str:
    files = [folder / kata.filename, *(folder / f"{d}.py" for d in dependencies(folder, kata.id))]
    paths = kata_paths(root, kata)
    files += [paths.test, paths.probe]  # the probes are half of the kata's tests
    parts = [__version__.encode(), SCORING_VERSION, _folder_id(root, folder).encode()]
    parts.append(repr((kata.points, sorted(kata.weights.items()), kata.scoring)).encode())
    parts += [str(p.name).encode() + b"\0" + _read(p) for p in files]
    return digest(*parts)


def _folder_id(root: Path, folder: Path) -> str:
    """The folder relative to the project when inside it: a moved project keeps its cache."""
    try:
        return str(folder.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(folder.resolve())


def stub_text(root: Path, kata: Kata) -> str | None:
    """What `katas generate` makes for this kata; in a learner bundle (no solutions/), its
    pristine copy in .stubs/; None when neither is there."""
    solution = kata_paths(root, kata).solution
    try:
        if not solution.is_file():
            return (root / STUBS / kata.filename).read_text(encoding="utf-8")
        return make_stub(solution.read_text(encoding="utf-8"), kata.id, str(solution))
    except (OSError, SyntaxError, ValueError):
        return None


def is_untouched_stub(root: Path, folder: Path, kata: Kata) -> bool:
    stub = stub_text(root, kata)
    try:
        return stub is not None and (folder / kata.filename).read_text(encoding="utf-8") == stub
    except (OSError, UnicodeDecodeError):
        return False


def first_todo_line(path: Path) -> int:
    """The line of the first ``raise NotImplementedError`` (or TODO) in a kata file, else 1."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return 1
    for marker in ("raise NotImplementedError", "# TODO"):
        for number, line in enumerate(lines, start=1):
            if marker in line:
                return number
    return 1


def edit_where(failure: dict[str, Any] | None, root: Path, folder: Path, kata: Kata) -> dict[str, Any]:
    """Where the learner should look, from the failure's data: the line the probe recorded (the
    learner's ``return``, the line that raised, the line running at the time limit); else the
    called function's ``def``; else the kata file's first TODO. Its path is relative to the project."""
    data = Failure.from_data(failure) if failure else Failure()
    if data.where is not None and data.where.file:
        path = _relative(folder / data.where.file, root)
        return Where(path, data.where.line, data.where.function, data.where.how).to_data()
    rel = _relative(folder / kata.filename, root)
    function = str((data.call or {}).get("function", ""))
    module, _, name = function.rpartition(".")
    line = definition_line(folder / kata.filename, name) if module == kata.id and name else None
    if line is not None:
        return Where(rel, line, name, "def").to_data()
    return Where(rel, first_todo_line(folder / kata.filename), "", "todo").to_data()


def stack_where(dump: str, folder: Path) -> Where | None:
    """The learner's innermost frame in a faulthandler dump (most recent call first), if any."""
    base = folder.resolve()
    for match in STACK_FRAME_RE.finditer(dump):
        path = Path(match["file"]).resolve()
        if path.is_relative_to(base):
            return Where(
                path.relative_to(base).as_posix(), int(match["line"]), match["function"], "running", folder.name
            )
    return None


def definition_line(path: Path, name: str) -> int | None:
    """The line where ``name`` is defined (def or class) in a kata file, if it is."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    pattern = re.compile(rf"^\s*(def|class)\s+{re.escape(name)}\b")
    return next((n for n, text in enumerate(lines, start=1) if pattern.match(text)), None)


def _relative(path: Path, root: Path) -> str:
    """Relative to the project, wherever ``katas`` runs from (a cached path must not depend on it)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


# --- running one kata's tests in a child ---------------------------------------------------


class Children:
    """The child process groups alive right now, so Ctrl-C can stop every one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()
        self.stopping = threading.Event()

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def kill_all(self) -> None:
        self.stopping.set()
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            kill_group(proc, grace=TERM_GRACE)


CHILDREN = Children()


class Interrupted(Exception):
    """The run was stopped from outside (Ctrl-C): its outcome means nothing and is not cached."""


def pytest_command(root: Path, kata: Kata, folder: Path, report: Path) -> list[str]:
    return python_pytest(
        str(kata_paths(root, kata).test.relative_to(root)),
        # Every test runs (no -x): a kata's score needs each part's outcome, as the grade does.
        f"--target={folder}",
        "-q",
        "--no-header",
        "--tb=short",
        "-p",
        "backprop_katas.tool.report",
        "--katas-report",
        str(report),
        *QUIET_PLUGINS,
    )


STARTS = [0]  # checks started by this process, in a child or through the warm server (a self-check counts them)


def run_kata(root: Path, folder: Path, kata: Kata, time_limit: float, warm: bool = True) -> Outcome:
    """Run one kata's tests in a child pytest (forked by the warm server when ``warm``); the first
    failure in test order is the one kept.

    Each call into kata code gets at most :data:`~backprop_katas.limits.DEFAULT_TIMEOUT` s
    (and never more than ``time_limit``); one that runs out stops the child's run. At
    ``time_limit`` the child is asked for its stack (SIGUSR1, faulthandler), then stopped."""
    cache = cache_dir(root)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="run-", dir=cache) as tmp:
        report = Path(tmp) / "report.json"
        log = Path(tmp) / "output.txt"
        # The child's failures come back as data; what little it renders itself (pytest's own errors)
        # is in both languages, so the cached outcome holds no choice of language.
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", "KATAS_LANG": "both"}
        env.pop("KATAS_TARGET", None)  # --target on the command line decides
        command = [*pytest_command(root, kata, folder, report), f"--probe-timeout={min(DEFAULT_TIMEOUT, time_limit):g}"]
        running: list[Where | None] = []

        def at_limit(pid: int) -> None:
            running.append(_stack_of(pid, Path(f"{report}.stack"), folder))

        STARTS[0] += 1
        try:
            if not warm:
                raise server.Unavailable("not asked for")
            served = server.run_check(cache, command, root, env, log, time_limit, CHILDREN.stopping, at_limit)
        except server.Unavailable:
            served = _run_child(root, command, env, log, time_limit, at_limit)
        if served.timed_out:
            failure = tool_failure("cli_timeout", kata=kata.id, seconds=time_limit)
            if running and running[0] is not None:
                failure["where"] = running[0].to_data()
            return Outcome(
                kata.id,
                Status.TIMEOUT,
                failure=failure,
                where=edit_where(failure, root, folder, kata),
                duration=time_limit,
            )
        if CHILDREN.stopping.is_set():
            raise Interrupted(kata.id)
        data = read_json(report, None)
        output = log.read_text(encoding="utf-8", errors="replace")
    if data is None:
        tail = "\n".join(output.strip().splitlines()[-15:])
        failure = tool_failure("cli_no_report", tail, code=served.code)
        return Outcome(kata.id, Status.FAILING, failure=failure, where=edit_where(None, root, folder, kata))
    return outcome_from_report(data, root, folder, kata)


def _run_child(
    root: Path, command: list[str], env: dict[str, str], log: Path, time_limit: float, at_limit: Callable[[int], None]
) -> server.Served:
    """The cold way: ``python -m pytest`` in a process group of its own, killed as a whole at the limit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as a whole
        )
        CHILDREN.add(proc)
        try:
            proc.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            at_limit(proc.pid)
            kill_group(proc, grace=TERM_GRACE)
            return server.Served(proc.returncode, timed_out=True)
        finally:
            kill_group(proc, grace=TERM_GRACE)  # on Ctrl-C too: no stray process
            CHILDREN.discard(proc)
    return server.Served(proc.returncode)


def _stack_of(pid: int, path: Path, folder: Path) -> Where | None:
    """Ask a child at its time limit which line it is running (report.py dumps its stack on SIGUSR1)."""
    if not hasattr(signal, "SIGUSR1"):
        return None
    try:
        os.kill(pid, signal.SIGUSR1)
    except (ProcessLookupError, PermissionError):
        return None
    deadline = time.monotonic() + STACK_SECONDS
    size = -1
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            now = path.stat().st_size
        except OSError:
            now = 0
        if now and now == size:  # written, and no longer growing
            break
        size = now
    try:
        return stack_where(path.read_text(encoding="utf-8", errors="replace"), folder)
    except OSError:
        return None


def kata_score(data: dict[str, Any], kata: Kata) -> KataScore:
    """The kata's points from a report, by the rule the grade uses (skipped tests do not count)."""
    checks = [
        Check(t["nodeid"], t.get("part", ""), t["outcome"] == TestStatus.PASSED)
        for t in data.get("tests", [])
        if t["outcome"] != TestStatus.SKIPPED
    ]
    if data.get("errors"):
        checks = []  # the test file did not even load: nothing earned
    return score_kata(kata.id, kata.points, kata.weights, kata.scoring, checks)


def outcome_from_report(data: dict[str, Any], root: Path, folder: Path, kata: Kata) -> Outcome:
    outcome = _outcome_from_report(data, root, folder, kata)
    score = kata_score(data, kata)
    outcome.score, outcome.max_score = score.earned, score.possible
    return outcome


def _outcome_from_report(data: dict[str, Any], root: Path, folder: Path, kata: Kata) -> Outcome:
    tests = data.get("tests", [])
    passed = sum(1 for t in tests if t["outcome"] in (TestStatus.PASSED, TestStatus.SKIPPED))
    total = int(data.get("collected", 0))
    duration = float(data.get("duration", 0.0))
    errors = data.get("errors", [])
    if errors:
        broken = Failure(kind="text", text=errors[0]["message"]).to_data()
        return Outcome(
            kata.id,
            Status.FAILING,
            0,
            total,
            errors[0]["nodeid"],
            failure=broken,
            where=edit_where(None, root, folder, kata),
            duration=duration,
        )
    failed = next((t for t in tests if t["outcome"] in (TestStatus.FAILED, TestStatus.ERROR)), None)
    if failed is None:
        status = Status.DONE if total > 0 else Status.FAILING
        none = None if total > 0 else tool_failure("cli_no_tests", file=_relative(kata_paths(root, kata).test, root))
        return Outcome(kata.id, status, passed, total, failure=none, duration=duration)
    failure: dict[str, Any] = failed.get("failure") or Failure(kind="text", text=failed.get("message", "")).to_data()
    return Outcome(
        kata.id,
        Status.FAILING,
        passed,
        total,
        failed["nodeid"],
        failed.get("path", ""),
        failed.get("line"),
        failure,
        edit_where(failure, root, folder, kata),
        duration,
    )


# --- the cache, and checking many katas ------------------------------------------------------


class Checker:
    """Checks katas of one target folder, re-running only what changed since the last run."""

    def __init__(
        self,
        root: Path,
        folder: Path,
        katas: list[Kata],
        time_limit: float = DEFAULT_TIME_LIMIT,
        force: bool = False,
        warm: bool = True,
    ) -> None:
        self.root = root
        self.folder = folder
        self.katas = katas
        self.time_limit = time_limit
        self.force = force
        self.warm = warm  # through the warm server (server.py) when one can run
        self.results_file = cache_dir(root) / "results.json"
        self._lock = threading.Lock()

    def cached(self, kata: Kata) -> Outcome | None:
        entries = read_json(self.results_file, {}).get(_folder_id(self.root, self.folder), {}).get(kata.id, {})
        entry = entries.get(cache_key(self.root, self.folder, kata)) if isinstance(entries, dict) else None
        if not entry:
            return None
        outcome = Outcome.from_json(entry)
        outcome.cached = True
        return outcome

    def _store(self, kata: Kata, key: str, outcome: Outcome) -> None:
        with self._lock:
            results = read_json(self.results_file, {})
            entries = results.setdefault(_folder_id(self.root, self.folder), {}).setdefault(kata.id, {})
            entries.pop(key, None)
            entries[key] = asdict(outcome)  # the newest last
            for old in list(entries)[:-KEEP_PER_KATA]:
                del entries[old]
            write_json(self.results_file, results)

    def check(self, kata: Kata, run_stub: bool = True) -> Outcome:
        """One kata's outcome: from the cache when nothing changed, else from a fresh run."""
        path = self.folder / kata.filename
        if not path.is_file():
            failure = tool_failure("cli_missing_kata", file=_relative(path, self.root), kata=kata.number)
            return Outcome(kata.id, Status.MISSING, failure=failure)
        untouched = is_untouched_stub(self.root, self.folder, kata)
        if untouched and not run_stub:
            return Outcome(kata.id, Status.NOT_STARTED, where=edit_where(None, self.root, self.folder, kata))
        key = cache_key(self.root, self.folder, kata)
        outcome = None if self.force else self.cached(kata)
        if outcome is None:
            outcome = run_kata(self.root, self.folder, kata, self.time_limit, self.warm)
            if outcome.status != Status.TIMEOUT:
                self._store(kata, key, outcome)
        if untouched and outcome.status == Status.FAILING:
            outcome.status = Status.NOT_STARTED
        return outcome

    def check_many(self, katas: Iterable[Kata], run_stubs: bool = False) -> dict[str, Outcome]:
        """Check several katas, in parallel children (one per CPU); Ctrl-C stops them all."""
        katas = list(katas)
        workers = max(1, min(len(katas), os.cpu_count() or 1))
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            futures = {k.id: pool.submit(self.check, k, run_stubs) for k in katas}
            return {kid: f.result() for kid, f in futures.items()}
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            CHILDREN.kill_all()
            raise
        finally:
            pool.shutdown(wait=True)  # quick: every child is finished or killed by now

    def status(self) -> tuple[dict[str, Outcome], Kata | None]:
        """Every kata's outcome, and the first unfinished one (checked even if untouched)."""
        outcomes = self.check_many(self.katas)
        focus = next((k for k in self.katas if outcomes[k.id].status != Status.DONE), None)
        if focus is not None and outcomes[focus.id].status == Status.NOT_STARTED:
            outcomes[focus.id] = self.check(focus, run_stub=True)  # its first failing check, for real
        return outcomes, focus
