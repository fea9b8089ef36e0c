"""A small pytest plugin: ``--katas-report FILE`` writes the run's outcome as JSON.

``katas`` runs each kata's tests in a child pytest and reads this file back,
so it never parses pytest's terminal output. Load it with
``-p backprop_katas.tool.report``. The judge fails tests with
``pytest.fail(msg, pytrace=False)``, so a failure's ``longreprtext`` already is
the learner's message.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from backprop_katas.files import write_json
from backprop_katas.kinds import TestStatus


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


class ReportWriter:
    """Collects one record per test (in run order) and writes them when the session ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.time()
        self.data: dict[str, Any] = {"tests": [], "errors": [], "collected": 0}
        self.details: dict[str, dict[str, Any]] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report = yield
        # A judge's failure (judge.JudgeFailed) carries its causes and tables as data as well.
        details = getattr(call.excinfo.value, "details", None) if call.excinfo else None
        if isinstance(details, dict):
            self.details[item.nodeid] = details
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.data["errors"].append({"nodeid": report.nodeid, "message": report.longreprtext})

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.data["collected"] = len(session.items)
        self.parts: dict[str, str] = {}
        for item in session.items:  # the scoring rule's part of each test (scoring.py)
            marker = item.get_closest_marker("part")
            self.parts[item.nodeid] = str(marker.args[0]) if marker is not None and marker.args else ""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # One record per test: its call phase, or the setup/teardown phase that failed or skipped.
        if report.when != "call" and report.passed:
            return
        outcome = TestStatus.ERROR if report.when != "call" and report.failed else TestStatus(report.outcome)
        skip_reason = ""
        if report.skipped and isinstance(report.longrepr, tuple):
            skip_reason = str(report.longrepr[2])
        path, lineno, _ = report.location
        self.data["tests"].append(
            {
                "nodeid": report.nodeid,
                "part": getattr(self, "parts", {}).get(report.nodeid, ""),
                "outcome": outcome,
                "when": report.when,
                "message": report.longreprtext if report.failed else "",
                "skip_reason": skip_reason,
                "duration": report.duration,
                "path": path,
                "line": lineno + 1 if lineno is not None else None,
                "details": self.details.pop(report.nodeid, {}) if report.failed else {},
            }
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.data["exitstatus"] = int(exitstatus)
        self.data["duration"] = time.time() - self.started
        write_json(self.path, self.data)  # a reader never sees half a report
