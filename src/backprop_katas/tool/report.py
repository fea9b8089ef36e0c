"""A small pytest plugin: ``--katas-report FILE`` writes the run's outcome as JSON.

``katas`` runs each kata's tests in a child pytest and reads this file back,
so it never parses pytest's terminal output. Load it with
``-p backprop_katas.tool.report``. A test the judge (or a probe) failed carries
its failure as data (:mod:`backprop_katas.kit.failure`): the record's
``failure`` is that data, unrendered, so ``katas`` caches it once and renders it
in whatever language is asked for later. Any other failure is kept as pytest's
text (``{"kind": "text", ...}``).

A call into kata code that runs out of time stops the run (every later call
would wait as long): the tests not run are recorded as failed, ``not_run``.
For a limit the parent enforces (``katas --timeout``), SIGUSR1 makes the child
dump its stack (faulthandler) to ``FILE.stack``, so the parent can say which
line was running.
"""

from __future__ import annotations

import faulthandler
import gc
import signal
import time
from collections.abc import Generator
from pathlib import Path
from typing import IO, Any

import pytest

from backprop_katas.files import write_json
from backprop_katas.kinds import TestStatus
from backprop_katas.kit.failure import SCHEMA, Failure


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop-katas")
    group.addoption(
        "--katas-report",
        dest="katas_report",
        default=None,
        metavar="FILE",
        help="write every test's outcome and failure message as JSON to FILE (used by `katas`).",
    )


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("katas_report", None)
    if path:
        config.pluginmanager.register(ReportWriter(Path(path)), "katas-report-writer")
        # A cold check's process is short-lived and everything imported so far (torch, pytest, the
        # kit) lives to its end: frozen, it is left out of every garbage collection, pytest's two full
        # ones at the session's end included (about 0.6 s of a cold `katas check k01 --no-server`).
        # A check forked by the warm server finds the server's objects frozen already; freezing
        # again there was measured slower (benchmarks/warm_bounds.py), so it is not done.
        if not gc.get_freeze_count():
            gc.freeze()


class ReportWriter:
    """Collects one record per test (in run order) and writes them when the session ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.time()
        self.data: dict[str, Any] = {"tests": [], "errors": [], "collected": 0, "schema": SCHEMA}
        self.failures: dict[str, dict[str, Any]] = {}
        self.items: list[pytest.Item] = []
        self.parts: dict[str, str] = {}
        self.stack: IO[str] | None = None
        if hasattr(signal, "SIGUSR1"):
            self.stack = open(f"{path}.stack", "w", encoding="utf-8")
            faulthandler.register(signal.SIGUSR1, file=self.stack, all_threads=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report = yield
        failure = getattr(call.excinfo.value, "failure", None) if call.excinfo else None
        if isinstance(failure, Failure):
            self.failures[item.nodeid] = failure.to_data()
            if failure.kind == "probe" and (failure.error or {}).get("kind") == "timeout":
                item.session.shouldstop = "a call into kata code ran out of time"
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.data["errors"].append({"nodeid": report.nodeid, "message": report.longreprtext})

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.data["collected"] = len(session.items)
        self.items = list(session.items)
        for item in session.items:  # the scoring rule's part of each test (scoring.py)
            marker = item.get_closest_marker("part")
            self.parts[item.nodeid] = str(marker.args[0]) if marker is not None and marker.args else ""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # One record per test: its call phase, or the setup/teardown phase that failed or skipped.
        if report.when != "call" and report.passed:
            return
        outcome = TestStatus.ERROR if report.when != "call" and report.failed else TestStatus(report.outcome)
        failure = self.failures.pop(report.nodeid, None) if report.failed else None
        if report.failed and failure is None:
            failure = Failure(kind="text", text=report.longreprtext).to_data()
        skip_reason = ""
        if report.skipped and isinstance(report.longrepr, tuple):
            skip_reason = str(report.longrepr[2])
        path, lineno, _ = report.location
        self.data["tests"].append(
            {
                "nodeid": report.nodeid,
                "part": self.parts.get(report.nodeid, ""),
                "outcome": outcome,
                "when": report.when,
                "message": report.longreprtext if report.failed else "",
                "skip_reason": skip_reason,
                "duration": report.duration,
                "path": path,
                "line": lineno + 1 if lineno is not None else None,
                "failure": failure,
            }
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        recorded = {t["nodeid"] for t in self.data["tests"]}
        for item in self.items:  # stopped early: what never ran earned nothing
            if item.nodeid not in recorded:
                self.data["tests"].append(
                    {
                        "nodeid": item.nodeid,
                        "part": self.parts.get(item.nodeid, ""),
                        "outcome": "failed",
                        "when": "not_run",
                        "message": "",
                        "skip_reason": "",
                        "duration": 0.0,
                        "path": item.location[0],
                        "line": (item.location[1] or 0) + 1,
                        "failure": None,
                    }
                )
        if self.stack is not None:
            faulthandler.unregister(signal.SIGUSR1)
            self.stack.close()
        self.data["exitstatus"] = int(exitstatus)
        self.data["duration"] = time.time() - self.started
        write_json(self.path, self.data)  # a reader never sees half a report
