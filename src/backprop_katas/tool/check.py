"""Check katas: one child pytest per kata, first failure only, with a time limit and a cache.

Each kata's tests run in a child ``python -m pytest tests/test_kNN_x.py -x``
in a process group of its own, so a kata that hangs is stopped (the whole
group is killed) and Ctrl-C leaves nothing behind. The child writes its
outcome as JSON (:mod:`backprop_katas.tool.report`); a result is cached under
``.katas-cache/`` keyed by the kata file, the files it imports, its test file,
the tool's version and the language.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backprop_katas import __version__
from backprop_katas.catalog import Kata, kata_paths
from backprop_katas.files import digest, write_json
from backprop_katas.generate import STUBS, make_stub
from backprop_katas.kinds import Status, TestStatus
from backprop_katas.messages import say
from backprop_katas.procs import QUIET_PLUGINS, kill_group
from backprop_katas.procs import pytest_command as python_pytest
from backprop_katas.scoring import Check, KataScore, score_kata

CACHE_DIR = ".katas-cache"
SCORING_VERSION = b"scoring-parts-1"  # cached outcomes from before the part rule are not reused
DEFAULT_TIME_LIMIT = 180.0  # seconds per kata: k06 trains the chapter's network several times
IMPORT_RE = re.compile(r"^\s*from\s+\.(k\d\d_\w+)\s+import", re.MULTILINE)
KEEP_PER_KATA = 8  # results kept per kata: undoing an edit (or `katas reset`) finds its old result
TERM_GRACE = 2.0  # seconds a stopped check gets to end after SIGTERM before SIGKILL


@dataclass
class Outcome:
    """What checking one kata found, as plain data (cached as JSON)."""

    kata: str
    status: Status
    passed: int = 0
    total: int = 0
    test: str = ""  # node id of the first failing test
    test_path: str = ""
    test_line: int | None = None
    message: str = ""  # the judge's message for the first failure (the learner's language)
    edit: str = ""  # "katas/k01_derivatives.py:24": where to look first
    duration: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)  # the judge's causes and tables, as data (report.py)
    score: int = 0  # hundredths of a point, by the grade's rule (scoring.py)
    max_score: int = 0
    cached: bool = field(default=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        known = {f for f in cls.__dataclass_fields__}
        outcome = cls(**{k: v for k, v in data.items() if k in known})
        outcome.status = Status(outcome.status)
        return outcome


def cache_dir(root: Path) -> Path:
    return root / CACHE_DIR


def read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


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


def cache_key(root: Path, folder: Path, kata: Kata, lang: str) -> str:
    files = [folder / kata.filename, *(folder / f"{d}.py" for d in dependencies(folder, kata.id))]
    paths = kata_paths(root, kata)
    files += [paths.test, paths.probe]  # the probes are half of the kata's tests
    parts = [__version__.encode(), SCORING_VERSION, lang.encode(), _folder_id(root, folder).encode()]
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


def edit_location(message: str, root: Path, folder: Path, kata: Kata) -> str:
    """Where the learner should look: the kata-file line a message names, else the first TODO."""
    rel = _relative(folder / kata.filename, root)
    names = [f"{folder.name}/{kata.filename}", kata.filename]
    for name in names:
        match = re.search(re.escape(name) + r":(\d+)", message)
        if match:
            return f"{rel}:{match.group(1)}"
    for dep in dependencies(folder, kata.id):  # the failure may sit in an imported kata
        match = re.search(re.escape(f"{folder.name}/{dep}.py") + r":(\d+)", message)
        if match:
            return f"{_relative(folder / f'{dep}.py', root)}:{match.group(1)}"
    called = re.search(re.escape(kata.id) + r"\.(\w+)", message)  # "Called k01_derivatives.prime_function(x) ..."
    line = definition_line(folder / kata.filename, called.group(1)) if called else None
    return f"{rel}:{line or first_todo_line(folder / kata.filename)}"


def definition_line(path: Path, name: str) -> int | None:
    """The line where ``name`` is defined (def or class) in a kata file, if it is."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    pattern = re.compile(rf"^\s*(def|class)\s+{re.escape(name)}\b")
    return next((n for n, text in enumerate(lines, start=1) if pattern.match(text)), None)


def _relative(path: Path, root: Path) -> str:
    for base in (Path.cwd(), root):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


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
        f"--target={folder}", "-q", "--no-header", "--tb=short",
        "-p", "backprop_katas.tool.report", "--katas-report", str(report),
        *QUIET_PLUGINS,
    )  # fmt: skip


def run_kata(root: Path, folder: Path, kata: Kata, lang: str, time_limit: float) -> Outcome:
    """Run one kata's tests in a child pytest; first failure only, in test order."""
    cache = cache_dir(root)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="run-", dir=cache) as tmp:
        report = Path(tmp) / "report.json"
        log = Path(tmp) / "output.txt"
        env = {**os.environ, "KATAS_LANG": lang, "PYTHONIOENCODING": "utf-8"}
        env.pop("KATAS_TARGET", None)  # --target on the command line decides
        with log.open("wb") as out:
            proc = subprocess.Popen(
                pytest_command(root, kata, folder, report),
                cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as a whole
            )  # fmt: skip
            CHILDREN.add(proc)
            try:
                proc.wait(timeout=time_limit)
            except subprocess.TimeoutExpired:
                kill_group(proc, grace=TERM_GRACE)
                return Outcome(
                    kata.id, Status.TIMEOUT, message=say("cli_timeout", kata=kata.id, seconds=time_limit),
                    edit=edit_location("", root, folder, kata), duration=time_limit,
                )  # fmt: skip
            finally:
                kill_group(proc, grace=TERM_GRACE)  # on Ctrl-C too: no stray process
                CHILDREN.discard(proc)
        if CHILDREN.stopping.is_set():
            raise Interrupted(kata.id)
        data = read_json(report, None)
        output = log.read_text(encoding="utf-8", errors="replace")
    if data is None:
        tail = "\n".join(output.strip().splitlines()[-15:])
        message = say("cli_no_report", code=proc.returncode) + ("\n" + tail if tail else "")
        return Outcome(kata.id, Status.FAILING, message=message, edit=edit_location(output, root, folder, kata))
    return outcome_from_report(data, root, folder, kata)


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
        message = errors[0]["message"]
        return Outcome(kata.id, Status.FAILING, 0, total, errors[0]["nodeid"], message=message,
                       edit=edit_location(message, root, folder, kata), duration=duration)  # fmt: skip
    failed = next((t for t in tests if t["outcome"] in (TestStatus.FAILED, TestStatus.ERROR)), None)
    if failed is None:
        status = Status.DONE if total > 0 else Status.FAILING
        message = "" if total > 0 else say("cli_no_tests", file=_relative(kata_paths(root, kata).test, root))
        return Outcome(kata.id, status, passed, total, message=message, duration=duration)
    message = failed["message"]
    return Outcome(
        kata.id, Status.FAILING, passed, total, failed["nodeid"], failed.get("path", ""), failed.get("line"),
        message, edit_location(message, root, folder, kata), duration, failed.get("details") or {},
    )  # fmt: skip


# --- the cache, and checking many katas ------------------------------------------------------


class Checker:
    """Checks katas of one target folder, re-running only what changed since the last run."""

    def __init__(self, root: Path, folder: Path, katas: list[Kata], lang: str,
                 time_limit: float = DEFAULT_TIME_LIMIT, force: bool = False) -> None:  # fmt: skip
        self.root = root
        self.folder = folder
        self.katas = katas
        self.lang = lang
        self.time_limit = time_limit
        self.force = force
        self.results_file = cache_dir(root) / "results.json"
        self._lock = threading.Lock()

    def cached(self, kata: Kata) -> Outcome | None:
        entries = read_json(self.results_file, {}).get(_folder_id(self.root, self.folder), {}).get(kata.id, {})
        entry = entries.get(cache_key(self.root, self.folder, kata, self.lang)) if isinstance(entries, dict) else None
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
            return Outcome(
                kata.id,
                Status.MISSING,
                message=say("cli_missing_kata", file=_relative(path, self.root), kata=kata.number),
            )
        untouched = is_untouched_stub(self.root, self.folder, kata)
        if untouched and not run_stub:
            return Outcome(kata.id, Status.NOT_STARTED, edit=edit_location("", self.root, self.folder, kata))
        key = cache_key(self.root, self.folder, kata, self.lang)
        outcome = None if self.force else self.cached(kata)
        if outcome is None:
            outcome = run_kata(self.root, self.folder, kata, self.lang, self.time_limit)
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
