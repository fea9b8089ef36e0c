"""The grading pool: the run's options, and the worker processes that grade learner after learner.

Local grading (``.batch``) and the Dask route (``.cluster``) share these: the same options, the
same ``pytest --target=SUBMISSION --grade`` arguments for one learner, the same warm workers.
"""

from __future__ import annotations

import io
import json
import os
import queue
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backprop_katas.catalog import Kata, kata_paths
from backprop_katas.grading import sandbox
from backprop_katas.grading.sandbox import PARENT_ENV, Limits
from backprop_katas.grading.worker import BOOTSTRAP as WORKER_BOOTSTRAP
from backprop_katas.kinds import Isolation
from backprop_katas.lang import say

# Seconds a learner's session needs besides its katas: pytest and the test modules in a warm
# worker's child, the zygote and each kata server started (bwrap, cgroups), on a loaded machine.
STARTUP_SECONDS = 120.0


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
    isolation: str = Isolation.AUTO.value  # a choice of kinds.Isolation, resolved where the learner is graded
    scheduler: str | None = None  # a Dask scheduler's address: learners graded on that cluster (.cluster)
    dask_local: int | None = None  # a Dask LocalCluster of this many workers on this machine
    results_json: Path | None = None  # one submission: its results.json here too (Gradescope)
    single: bool = False  # ``submissions`` is one learner's folder, even with no kata file in it


@dataclass(frozen=True)
class LearnerBound:
    """The wall clock one learner's grading may take: what its katas may take together
    (``--kata-time-limit`` each, every probe call included) and the session's start."""

    katas: int
    kata_seconds: float
    startup: float = STARTUP_SECONDS

    @property
    def seconds(self) -> float:
        return self.startup + self.katas * self.kata_seconds


def learner_bound(options: Options, katas: list[Kata]) -> LearnerBound:
    return LearnerBound(max(1, len(katas)), options.kata_time_limit or Limits.kata_seconds, STARTUP_SECONDS)


class LearnerTimeout(RuntimeError):
    """A learner's grading outlived its bound: the worker was killed (a new one takes the next learner)."""

    def __init__(self, bound: LearnerBound) -> None:
        super().__init__(bound.seconds)
        self.bound = bound

    def __str__(self) -> str:
        b = self.bound
        return say(
            "grade_learner_timeout",
            seconds=f"{b.seconds:g}",
            katas=b.katas,
            kata_seconds=f"{b.kata_seconds:g}",
            startup=f"{b.startup:g}",
        )


def test_files(root: Path, katas: list[Kata]) -> list[Path]:
    return [path for path in (kata_paths(root, k).test for k in katas) if path.is_file()]


class Worker:
    """One worker process (``.worker``): grades learner after learner; started again if it dies."""

    def __init__(self, root: Path, scratch: Path | None = None) -> None:
        self.root = root
        self.scratch = scratch
        self.process: subprocess.Popen[bytes] | None = None
        self.stream: io.BufferedRWPair | None = None
        self.socket: socket.socket | None = None  # the stream's socket: the watchdog waits on it

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        env.pop("KATAS_TARGET", None)
        if self.scratch is not None:  # the run's temporary folders all in one place, removed at its end
            env["TMPDIR"] = str(self.scratch)
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER_BOOTSTRAP, str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            cwd=self.root,
            env=env,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        theirs.close()
        self.stream = ours.makefile("rwb")
        self.socket = ours

    def grade(
        self,
        args: list[str],
        log: Path,
        isolation: str = Isolation.AUTO.value,
        env: dict[str, str] | None = None,
        share: bool = True,
        bound: LearnerBound | None = None,
    ) -> int:
        """``pytest.main(args)`` in a child of the worker; its exit code.

        ``env`` is set in that child only; ``share=False``: its session starts its own zygote.
        ``bound``: the watchdog. When no answer comes within ``bound.seconds``, the worker's
        process group is killed (its child, zygote and kata servers die with it) and
        :class:`LearnerTimeout` is raised: that learner fails, the pool starts a new worker."""
        if self.stream is None or self.socket is None:
            raise RuntimeError("the grading worker is not running")
        try:
            request = {"args": args, "log": str(log), "isolation": isolation, "env": env or {}, "share_zygote": share}
            self.stream.write(json.dumps(request).encode() + b"\n")
            self.stream.flush()
            if bound is not None and not select.select([self.socket], [], [], bound.seconds)[0]:
                self.kill()
                raise LearnerTimeout(bound)
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
        for handle in (self.stream, self.socket):
            if handle is not None:
                try:
                    handle.close()
                except OSError:
                    pass
        self.stream = None
        self.socket = None

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

    def __init__(self, root: Path, count: int, scratch: Path | None = None) -> None:
        self.lock = threading.Lock()
        self.stopping = False
        self.all = [Worker(root, scratch) for _ in range(count)]
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

    Path options in one word (``--target=PATH``): given as two, pytest takes PATH for a test
    folder before it knows the option and reads the ini files it finds there.
    """
    args = [
        *map(str, test_files(root, katas)),
        f"--target={submission}",
        "--grade",
        f"--grade-json={report}",
        "-q",
        "--no-header",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(root),
    ]
    if options.hidden_tests is not None:
        args += [f"--hidden-tests={options.hidden_tests}"]
    if options.select:
        args += ["-k", options.select]
    if options.kata_time_limit:
        args += ["--kata-time-limit", str(options.kata_time_limit)]
    if options.memory_limit:
        args += ["--memory-limit", str(options.memory_limit)]
    args += ["--isolation", options.isolation]
    return args


def grade_learner(
    worker: Worker, root: Path, submission: Path, scratch: Path, options: Options, katas: list[Kata]
) -> dict[str, Any]:
    """One learner graded by ``worker`` under the per-learner watchdog (:func:`learner_bound`); its results.json."""
    report, log = scratch / "results.json", scratch / "pytest.log"
    args = pytest_args(root, submission, report, options, katas)
    code = worker.grade(args, log, options.isolation, bound=learner_bound(options, katas))
    if not report.is_file():
        text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        tail = text.strip().splitlines()[-5:]
        raise RuntimeError(f"pytest exited with {code} and no results.json: " + " | ".join(tail))
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return data
