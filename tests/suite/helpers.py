"""Running kata tests inside a self-check, in this process (torch is imported once); reading source."""

from __future__ import annotations

import ast
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as the package uses it (a dependency there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as the package reads it: tomllib from Python 3.11, tomli (a dependency) on 3.10."""
    return tomllib.loads(path.read_text(encoding="utf-8"))


@dataclass
class Outcome:
    passed: list[str]
    failed: dict[str, str]  # nodeid → the failure text a learner sees
    skipped: list[str]
    failures: dict[str, Any] = field(default_factory=dict)  # nodeid → the failure as data (kit/failure.py)


class _Reports:
    def __init__(self) -> None:
        self.reports: list[pytest.TestReport] = []
        self.failures: dict[str, Any] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        failure = getattr(call.excinfo.value, "failure", None) if call.excinfo else None
        if failure is not None:
            self.failures.setdefault(item.nodeid, failure)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.append(report)


def run_kata_tests(kata_id: str, target: Path | str, *extra: str) -> Outcome:
    """Run tests/test_<kata_id>.py against ``target`` in this process and collect every outcome.

    pytest.main rather than pytester.inline_run: pytester restores sys.modules afterwards,
    and torch cannot import some of its submodules twice in one process.
    """
    collector = _Reports()
    args = [str(TESTS / f"test_{kata_id}.py"), "--target", str(target), "--rootdir", str(ROOT)]
    # no:unraisableexception: its two gc.collect() per session walk this whole process (torch, every
    # module of the suite) and cost about 0.2 s a run; a learner's unraisable exception is no finding here
    quiet = ["-p", "no:cacheprovider", "-p", "no:unraisableexception"]
    pytest.main([*args, "-q", *quiet, *extra], plugins=[collector])
    outcome = Outcome(passed=[], failed={}, skipped=[], failures=collector.failures)
    for r in collector.reports:
        if r.failed:
            outcome.failed[r.nodeid] = r.longreprtext
        elif r.skipped:
            outcome.skipped.append(r.nodeid)
        elif r.passed and r.when == "call":
            outcome.passed.append(r.nodeid)
    return outcome


def copy_solutions(tmp_path: Path) -> Path:
    folder = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def make_project(parent: Path) -> Path:
    """A fresh learner checkout: catalog, stubs, solutions, kata tests."""
    project = parent / "project"
    project.mkdir()
    for name in ("katas.toml", "conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, project / name)
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("katas", "solutions"):
        shutil.copytree(ROOT / folder, project / folder, ignore=ignore)
    (project / "tests").mkdir()
    for test in [ROOT / "tests" / "conftest.py", *sorted((ROOT / "tests").glob("test_k*.py"))]:
        shutil.copy(test, project / "tests" / test.name)
    return project


def dotted(node: ast.AST) -> str:
    """``os.killpg`` for a name or an attribute chain in a source tree; "" for anything else."""
    return ast.unparse(node) if isinstance(node, (ast.Name, ast.Attribute)) else ""
