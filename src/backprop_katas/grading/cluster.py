"""``katas grade DIR --scheduler ADDRESS`` / ``--dask-local N``: learners as tasks on a Dask cluster.

The client (``katas grade``) stays the gradebook's single writer; ``batch.grade_class``
asks ``Remote.submit`` for a ``concurrent.futures.Future`` per learner instead of
handing the learner to a local worker, and commits each result as it arrives.

What travels: the grading rules (the selected kata tests, ``katas.toml``, the
conftests, ``pyproject.toml``'s pytest settings, hidden tests) once per run, and
each learner's kata files, both as bytes with their sha256. A Dask worker checks
both hashes, writes the rules once into a private folder, the learner's files
into a private temporary folder, grades it exactly as the local ``katas grade``
does (a warm ``.worker`` process per Dask worker thread forks a child running
``pytest --target=... --grade``, same sandbox, same isolation), removes the
folder and returns results.json as JSON text. The client parses that text and
checks it against a schema (types, keys, finite numbers, score <= max_score,
sizes) before anything is written; a result that fails the check is an error for
that learner.

A Dask worker that dies mid-learner: the scheduler runs its learners on another
worker. A learner whose grading raises is tried once more (``retries=1``); a
second failure is that learner's error and the batch goes on.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backprop_katas.catalog import Kata
from backprop_katas.files import digest as content_digest
from backprop_katas.files import files_digest
from backprop_katas.grading import sandbox
from backprop_katas.lang import current, say, use

if TYPE_CHECKING:
    from backprop_katas.grading.pool import Options


def install_hint(lang: str | None = None) -> str:
    return say("cluster_install_hint", lang=lang)


RETRIES = 1  # a learner whose grading raises is graded once more, elsewhere if the scheduler wants
MAX_RESULT_CHARS = 16 * 1024 * 1024  # a class-sized results.json is far below; a flood is an error
# results → extra_data → checks → a check → its failure (kit.failure) → lines/causes → a message →
# its fields → a nested message → …: a judged failure reaches depth 10-12; 24 leaves room, a bomb is refused.
MAX_DEPTH = 24
MAX_ITEMS = 100_000  # values in one results.json (tests x fields, with room)
SCORE_SLACK = 1e-6  # per-test points are rounded to six decimals: sums may exceed the maximum by that


class ClusterUnavailable(RuntimeError):
    """dask/distributed missing, or the scheduler cannot be reached."""


# --- what travels ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    """Files as (relative name as bytes, content) with the sha256 of both."""

    files: tuple[tuple[bytes, bytes], ...]
    digest: str

    @staticmethod
    def of(files: list[tuple[bytes, bytes]]) -> Bundle:
        ordered = tuple(sorted(files))
        return Bundle(ordered, files_digest(ordered))

    def verified(self) -> Bundle:
        if files_digest(self.files) != self.digest:
            raise ValueError("the files received do not match their hash")
        for name, _ in self.files:
            parts = name.split(b"/")
            if not name or name.startswith(b"/") or any(p in (b"", b".", b"..") for p in parts) or b"\0" in name:
                raise ValueError(f"refusing the file name {name!r}")
        return self

    def write(self, folder: Path) -> None:
        for name, data in self.files:
            path = Path(os.fsdecode(folder)) / os.fsdecode(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def rules_bundle(root: Path, katas: list[Kata], hidden: Path | None) -> Bundle:
    """The grading rules a worker needs, as they are on the client."""
    from backprop_katas.grading.pool import test_files

    names = [p.relative_to(root) for p in test_files(root, katas)]
    names += [Path(n) for n in ("katas.toml", "conftest.py", "tests/conftest.py", "pyproject.toml")]
    files = [(os.fsencode(n), (root / n).read_bytes()) for n in names if (root / n).is_file()]
    if hidden is not None:
        for path in sorted(hidden.rglob("*.py")):
            files.append((b"hidden/" + os.fsencode(path.relative_to(hidden)), path.read_bytes()))
    return Bundle.of(files)


def submission_bundle(folder: Path, kata_files: list[str]) -> Bundle:
    """The learner's kata files, read as the local grader copies them."""
    survey = sandbox.survey(folder, kata_files)  # the bounded reads (files.read_regular), notebooks' cells too
    survey.check()
    return Bundle.of([(os.fsencode(name), survey.files[name]) for name in survey.copied])


def tool_fingerprint() -> str:
    """The tool's own source and torch's version: a worker grading with other code grades differently."""
    import torch

    package = Path(__file__).resolve().parent.parent
    files = sorted(package.rglob("*.py"))
    tool = files_digest((str(p.relative_to(package)), p.read_bytes()) for p in files)
    return content_digest(torch.__version__.encode(), tool.encode())


# --- on the Dask worker ------------------------------------------------------------------------


class Warm:
    """A Dask worker's grading state: warm ``.worker`` processes and the rules written so far."""

    def __init__(self, threads: int) -> None:
        from backprop_katas.grading.pool import Workers

        self.home = Path(tempfile.mkdtemp(prefix="katas-dask-"))
        self.fingerprint = tool_fingerprint()
        self.lock = threading.Lock()
        self.rules: dict[str, Path] = {}
        self.threads = max(1, threads)
        self.language = current()
        # Started here, on the worker's event-loop thread: they die with the worker process.
        self.workers = Workers(self.home, self.threads, self.home)

    def speak(self, language: str) -> None:
        """Feedback in the client's language (``--lang``): grading processes read it from their environment."""
        with self.lock:
            if language == self.language:
                return
            from backprop_katas.grading.pool import Workers

            self.workers.close()
            use(language)
            os.environ["KATAS_LANG"] = self.language = language  # for the grading processes it starts
            self.workers = Workers(self.home, self.threads, self.home)

    def rules_folder(self, rules: Bundle) -> Path:
        with self.lock:
            if rules.digest not in self.rules:
                rules.verified()
                folder = self.home / f"rules-{rules.digest[:16]}"
                partial = Path(tempfile.mkdtemp(prefix="rules-", dir=self.home))
                rules.write(partial)
                partial.rename(folder)
                self.rules[rules.digest] = folder
            return self.rules[rules.digest]

    def close(self) -> None:
        self.workers.close()
        shutil.rmtree(self.home, ignore_errors=True)


_WARM: Warm | None = None


try:
    from distributed import WorkerPlugin as _PluginBase
except ImportError:  # the [cluster] extra is not installed: only --scheduler/--dask-local need it
    _PluginBase = object  # type: ignore[assignment,misc]


class KatasPlugin(_PluginBase):
    """A Dask ``WorkerPlugin``: warm grading state on each worker, started once, closed with it."""

    name = "backprop-katas"

    def setup(self, worker: Any) -> None:
        global _WARM
        if _WARM is None:
            _WARM = Warm(int(getattr(worker.state, "nthreads", 1)))

    def teardown(self, worker: Any) -> None:
        global _WARM
        if _WARM is not None:
            _WARM.close()
            _WARM = None


def grade_remote(
    submission: Bundle, rules: Bundle, options: Options, katas: list[Kata], fingerprint: str, language: str
) -> str:
    """A Dask task: grade one learner's files; results.json as JSON text (with the worker's address)."""
    from distributed import get_worker

    from backprop_katas.grading.pool import grade_learner

    global _WARM
    if _WARM is None:  # the plugin was not run here (a worker that joined late): warm up now
        _WARM = Warm(1)
    warm = _WARM
    if warm.fingerprint != fingerprint:
        raise RuntimeError(
            "this worker has another backprop-katas or torch than the client: install the same versions on both"
        )
    submission.verified()
    warm.speak(language)
    root = warm.rules_folder(rules)
    worker_options = replace(options, hidden_tests=root / "hidden" if options.hidden_tests is not None else None)
    with tempfile.TemporaryDirectory(prefix="katas-learner-", dir=warm.home) as scratch:
        folder = Path(scratch) / "submission"
        folder.mkdir()
        submission.write(folder)
        with warm.workers.lend() as grader:  # under the per-learner watchdog, as locally
            data = grade_learner(grader, root, folder, Path(scratch), worker_options, katas)
    data.setdefault("extra_data", {})["dask_worker"] = get_worker().address
    return json.dumps(data, ensure_ascii=False)


# --- on the client: the schema check -----------------------------------------------------------


class InvalidResult(ValueError):
    """What a worker sent back is not a results.json this grader would write."""


def _reject_constant(name: str) -> Any:
    raise InvalidResult(f"non-finite number {name}")


def validate(text: Any) -> dict[str, Any]:
    """Parse and check a worker's answer; raise ``InvalidResult`` on anything unexpected."""
    if not isinstance(text, str):
        raise InvalidResult(f"expected JSON text, got {type(text).__name__}")
    if len(text) > MAX_RESULT_CHARS:
        raise InvalidResult(f"{len(text)} characters, more than {MAX_RESULT_CHARS}")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidResult(f"not JSON: {exc}") from None
    count = [0]
    _check_plain(data, 0, count)
    if not isinstance(data, dict):
        raise InvalidResult("not an object")
    _check_score(data, "results")
    tests = data.get("tests", [])
    if not isinstance(tests, list):
        raise InvalidResult("tests is not a list")
    for test in tests:
        if not isinstance(test, dict) or not isinstance(test.get("name"), str):
            raise InvalidResult("a test without a name")
        if "score" in test or "max_score" in test:
            _check_score(test, f"test {test['name']!r}")
        if not isinstance(test.get("status", ""), str) or not isinstance(test.get("output", ""), str):
            raise InvalidResult(f"test {test['name']!r}: status and output must be text")
    extra = data.get("extra_data", {})
    if not isinstance(extra, dict):
        raise InvalidResult("extra_data is not an object")
    katas = extra.get("katas", {})
    if not isinstance(katas, dict):
        raise InvalidResult("extra_data.katas is not an object")
    for kata, summary in katas.items():
        if not isinstance(summary, dict):
            raise InvalidResult(f"kata {kata!r}: not an object")
        _check_score(summary, f"kata {kata!r}")
    if not isinstance(extra.get("dask_worker", ""), str):
        raise InvalidResult("dask_worker is not text")
    return data


def _check_plain(value: Any, depth: int, count: list[int]) -> None:
    count[0] += 1
    if count[0] > MAX_ITEMS:
        raise InvalidResult(f"more than {MAX_ITEMS} values")
    if depth > MAX_DEPTH:
        raise InvalidResult(f"nested deeper than {MAX_DEPTH}")
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidResult("a non-finite number")
        return
    if isinstance(value, list):
        for item in value:
            _check_plain(item, depth + 1, count)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidResult("a key that is not text")
            _check_plain(item, depth + 1, count)
        return
    raise InvalidResult(f"a value of type {type(value).__name__}")


def _check_score(data: dict[str, Any], where: str) -> None:
    score, top = data.get("score"), data.get("max_score")
    for name, value in (("score", score), ("max_score", top)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidResult(f"{where}: {name} is not a number")
    assert isinstance(score, (int, float)) and isinstance(top, (int, float))
    if top < 0 or score < 0 or score > top + SCORE_SLACK * max(1.0, top):
        raise InvalidResult(f"{where}: score {score} outside 0..{top}")


# --- on the client: the session ----------------------------------------------------------------


@dataclass
class Tally:
    """Who graded whom, for the progress line and the summary."""

    started: float = field(default_factory=time.monotonic)
    learners: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, worker: str, learner: str) -> None:
        with self.lock:
            self.learners.setdefault(worker, []).append(learner)

    def status(self) -> str:
        minutes = max(time.monotonic() - self.started, 1e-9) / 60
        with self.lock:
            return " · ".join(
                f"{_short(w)} {len(n)} ({len(n) / minutes:.1f}/min)" for w, n in sorted(self.learners.items())
            )

    def summary(self) -> list[str]:
        with self.lock:
            return [
                say("cluster_worker_summary", worker=w, n=len(n), names=", ".join(n))
                for w, n in sorted(self.learners.items())
            ]


def _short(address: str) -> str:
    return address.split("://", 1)[-1]


class Remote:
    """One run's connection to a Dask cluster: ``submit`` a learner, get a ``concurrent.futures.Future``."""

    def __init__(self, client: Any, root: Path, options: Options, katas: list[Kata], kata_files: list[str]) -> None:
        self.client = client
        self.options = options
        self.katas = katas
        self.kata_files = kata_files
        self.fingerprint = tool_fingerprint()
        self.tally = Tally()
        self.rules = client.scatter(rules_bundle(root, katas, options.hidden_tests), broadcast=True, hash=False)
        self.run = uuid.uuid4().hex[:8]
        self.pending: dict[Any, tuple[Future[dict[str, Any]], str, list[str]]] = {}
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        import distributed

        completed: Any = distributed.as_completed
        self.done: Any = completed([], with_results=False, loop=client.loop)
        self.closing = False
        self.bridge = threading.Thread(target=self._bridge, name="katas-dask-results", daemon=True)
        self.count = 0

    def submit(self, folder: Path, name: str | None = None, katas: list[Kata] | None = None) -> Future[dict[str, Any]]:
        """Grade ``folder`` on the cluster: ``katas`` (of the session's; default: all of them)."""
        learner = name if name is not None else folder.name
        local: Future[dict[str, Any]] = Future()
        try:
            files = submission_bundle(folder, self.kata_files)
            ignored = sandbox.survey(folder, self.kata_files).ignored
        except OSError as exc:
            local.set_exception(exc)
            return local
        self.count += 1
        remote = self.client.submit(
            grade_remote,
            files,
            self.rules,
            self.options,
            katas or self.katas,
            self.fingerprint,
            current(),
            key=f"katas-grade-{self.run}-{self.count}",
            retries=RETRIES,
            pure=False,
        )
        with self.lock:
            self.pending[remote] = (local, learner, ignored)
        self.done.add(remote)  # after the entry: the bridge finds it when the result comes
        self.arrived.set()
        if not self.bridge.is_alive():
            self.bridge.start()
        return local

    def _bridge(self) -> None:
        """Results as they complete (``as_completed``), checked, handed to the batch loop's futures."""
        while not self.closing:
            if self.done.is_empty():
                self.arrived.wait(0.2)
                self.arrived.clear()
                continue
            for remote in self.done.next_batch(block=True):
                self._settle(remote)

    def _settle(self, remote: Any) -> None:
        with self.lock:
            entry = self.pending.pop(remote, None)
        if entry is None:
            return
        local, learner, ignored = entry
        if local.done():
            return
        try:
            if remote.status != "finished":
                exc = remote.exception()
                raise RuntimeError(f"graded on the cluster, failed twice: {type(exc).__name__}: {exc}")
            data = validate(remote.result())
        except Exception as exc:
            local.set_exception(exc)
            return
        extra = data.setdefault("extra_data", {})
        extra["ignored_files"] = ignored  # what the client saw in the folder; only kata files travelled
        self.tally.add(str(extra.get("dask_worker", "?")), learner)
        local.set_result(data)

    def status(self) -> str:
        return self.tally.status()

    def close(self) -> None:
        self.closing = True
        self.arrived.set()
        with self.lock:
            left = list(self.pending)
            self.pending.clear()
        if left:
            self.client.cancel(left)
        if self.bridge.is_alive():
            self.bridge.join(timeout=10)


@contextmanager
def session(
    root: Path, options: Options, katas: list[Kata], kata_files: list[str], enabled: bool = True
) -> Iterator[Remote | None]:
    """A ``Remote`` when the run asked for a cluster (``--scheduler``/``--dask-local``), else None."""
    scheduler = getattr(options, "scheduler", None)
    local_workers = getattr(options, "dask_local", None)
    if not enabled or (not scheduler and not local_workers):
        yield None
        return
    try:
        import dask
        import distributed
    except ImportError:
        raise ClusterUnavailable(install_hint()) from None
    Client: Any = distributed.Client
    LocalCluster: Any = distributed.LocalCluster
    cluster: Any = None
    client: Any = None
    remote: Remote | None = None
    try:
        # For --dask-local (an external scheduler and its workers keep their own settings): a task is
        # tried on at most 3 workers that die under it (one lost worker is not the learner's fault,
        # three in a row probably are), and no statistical profiler (it samples every thread every
        # 10 ms: CPU the grading wants).
        settings = {"distributed.scheduler.allowed-failures": 2, "distributed.worker.profile.enabled": False}
        with dask.config.set(settings):
            if scheduler:
                try:
                    client = Client(scheduler, timeout="20s", set_as_default=False)
                except OSError as exc:
                    raise ClusterUnavailable(say("cluster_unreachable", scheduler=scheduler, error=exc)) from None
            else:
                cluster = LocalCluster(
                    n_workers=int(local_workers or 1),
                    processes=True,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=None,
                    worker_dashboard_address=None,
                )
                client = Client(cluster, set_as_default=False)
            client.register_plugin(KatasPlugin(), name=KatasPlugin.name)
            remote = Remote(client, root, options, katas, kata_files)
            yield remote
            for line in remote.tally.summary():
                print(line, flush=True)
    finally:
        if remote is not None:
            remote.close()
        if client is not None:
            client.close(timeout=10)
        if cluster is not None:
            cluster.close(timeout=10)


def missing_dependency() -> str | None:
    """install_hint() when dask or distributed is not installed."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        return install_hint()
    return None


def main_worker_check() -> None:  # pragma: no cover - a diagnostic for instructors
    """``python -m backprop_katas.grading.cluster``: this machine's fingerprint, to compare with workers'."""
    print(tool_fingerprint(), file=sys.stdout)


if __name__ == "__main__":  # pragma: no cover
    main_worker_check()
