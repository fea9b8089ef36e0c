"""Grading mode for pytest: ``pytest --target PATH --grade [--grade-json FILE] [--hidden-tests DIR]``.

Loaded from the root ``conftest.py`` next to the kata plugin; does nothing
without ``--grade``. With it, probes run in a child process per kata
(:mod:`.runner`), each kata's points (``katas.toml``) are split evenly over
its tests, and the results go to the terminal, to junitxml (as properties)
and, with ``--grade-json``, to a Gradescope ``results.json``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .. import __version__, shortcuts
from ..catalog import Kata
from ..messages import say
from ..pytest_plugin import CATALOG_KEY, RUNNER_FACTORY_KEY, TARGET_KEY
from . import sandbox
from .runner import GradingRunnerFactory, Settings, Zygote, kata_of_module

OUTPUT_LIMIT = 3000  # characters of feedback per test: enough for a gradient table, not for a flood
SUMMARY_LIMIT = 20000


@dataclass
class TestResult:
    nodeid: str
    kata: str
    name: str  # as the learner sees it (a hidden test's real name never appears)
    max_score: float
    hidden: bool
    description: str
    status: str = "failed"  # passed | failed (a test that did not run scores 0)
    output: str = ""
    phases: dict[str, str] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return self.max_score if self.status == "passed" else 0.0


@dataclass
class Grading:
    factory: GradingRunnerFactory
    catalog: list[Kata]
    hidden_dir: Path | None
    json_path: Path | None
    started: float
    results: dict[str, TestResult] = field(default_factory=dict)
    submission: sandbox.SubmissionCopy | None = None
    written: bool = False
    caches: Path | None = None  # the grader's own torch caches (the oracle's SGD loads dynamo): removed at the end


GRADING_KEY = pytest.StashKey[Grading]()
# Set by a `katas grade` worker (``worker.WorkerPlugin``) before this plugin configures: the
# zygote it keeps for its learners, used only where none can reach it (runner.GradingRunner).
ZYGOTE_KEY = pytest.StashKey[Zygote]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop-katas-grading", "backprop-katas: grading (instructors)")
    group.addoption(
        "--grade",
        dest="katas_grade",
        action="store_true",
        default=False,
        help="grading mode: run the learner's code in a limited child process per kata, "
        "score the tests with the points in katas.toml.",
    )
    group.addoption("--grade-json", dest="katas_grade_json", default=None, metavar="FILE",
                    help="with --grade: write Gradescope's results.json to FILE.")  # fmt: skip
    group.addoption("--hidden-tests", dest="katas_hidden_tests", default=None, metavar="DIR",
                    help="with --grade: also run the instructor's test files in DIR (test_kNN_*.py); "
                    "their names and inputs never appear in feedback.")  # fmt: skip
    group.addoption("--kata-time-limit", dest="katas_kata_time_limit", type=float, default=None, metavar="SECONDS",
                    help="with --grade: time one kata's child may spend on all its probes "
                    f"(default {sandbox.Limits.kata_seconds:g}).")  # fmt: skip
    group.addoption("--memory-limit", dest="katas_memory_limit", type=int, default=None, metavar="MB",
                    help=f"with --grade: data-segment limit of a kata's child (default {sandbox.Limits.memory_mb}).")  # fmt: skip
    group.addoption("--no-landlock", dest="katas_no_landlock", action="store_true", default=False,
                    help="with --grade: do not restrict the child's file access with Landlock.")  # fmt: skip
    group.addoption("--isolation", dest="katas_isolation", default=None, choices=sandbox.ISOLATIONS,
                    help="with --grade: bwrap (bubblewrap namespaces + cgroups), fallback (Landlock + "
                    "rlimits), or auto: bwrap when it works here (default: ini katas_isolation, auto).")  # fmt: skip
    parser.addini("katas_isolation", "default --isolation (auto, bwrap, fallback)", default="auto")
    parser.addini("katas_kata_time_limit", "default --kata-time-limit", default=str(sandbox.Limits.kata_seconds))
    parser.addini("katas_memory_limit", "default --memory-limit in MB", default=str(sandbox.Limits.memory_mb))


@pytest.hookimpl(trylast=True)  # after the kata plugin has read the target and the catalog
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "hidden: an instructor's hidden test (from --hidden-tests; graded only).")
    config.addinivalue_line(
        "markers", "grading: a self-check of grading mode (slow: starts pytest and child processes)."
    )
    config.addinivalue_line(
        "markers", "hostile: the hostile-submission suite (one `katas grade` batch per isolation mode; run with -m hostile)."
    )
    config.addinivalue_line(
        "markers",
        "cluster: grades on a real Dask scheduler and workers on 127.0.0.1 (slow; needs the [cluster] extra).",
    )
    if not config.getoption("katas_grade"):
        for option in ("katas_grade_json", "katas_hidden_tests"):
            if config.getoption(option):
                raise pytest.UsageError(say("grade_needs_grade", option="--" + option[6:].replace("_", "-")))
        return
    parent = os.environ.get(sandbox.PARENT_ENV)
    if parent:  # started by `katas grade`: die with it, even when it is killed with SIGKILL
        sandbox.set_parent_death_signal()
        if str(os.getppid()) != parent:
            os._exit(1)
    target = config.stash[TARGET_KEY]
    for plugin in config.pluginmanager.get_plugins():
        file = getattr(plugin, "__file__", None)
        if isinstance(file, str) and Path(file).resolve().is_relative_to(target.path):
            # `--target PATH` (two words): pytest reads PATH as a test folder before it knows the
            # option, and imports PATH/conftest.py into this process. `--target=PATH` does not.
            raise pytest.UsageError(
                f"--grade: pytest imported {file} from the submission into the grader; "
                f"write --target={target.path} (one word) so that it never does."
            )
    catalog = config.stash[CATALOG_KEY]
    # The source checks read the kata files as they are now, before any learner code runs.
    shortcuts.pin(target.path, [k.filename for k in catalog])
    seconds = config.getoption("katas_kata_time_limit") or float(config.getini("katas_kata_time_limit"))
    memory = config.getoption("katas_memory_limit") or int(config.getini("katas_memory_limit"))
    try:
        isolation = sandbox.resolve_isolation(config.getoption("katas_isolation") or config.getini("katas_isolation"))
    except (ValueError, RuntimeError) as exc:
        raise pytest.UsageError(str(exc)) from None
    settings = Settings(
        catalog=catalog,
        limits=sandbox.Limits(memory_mb=memory, kata_seconds=seconds),
        landlock=not config.getoption("katas_no_landlock"),
        isolation=isolation,
        zygote=config.stash.get(ZYGOTE_KEY, None),
    )
    factory = GradingRunnerFactory(settings)
    config.stash[RUNNER_FACTORY_KEY] = factory  # type: ignore[misc]  # the key is typed with a string
    hidden = config.getoption("katas_hidden_tests")
    hidden_dir = Path(hidden).resolve() if hidden else None
    if hidden_dir is not None:
        if not hidden_dir.is_dir():
            raise pytest.UsageError(f"--hidden-tests {hidden}: not a folder")
        config.args.append(str(hidden_dir))
    json_path = config.getoption("katas_grade_json")
    grading = Grading(factory, catalog, hidden_dir, Path(json_path).resolve() if json_path else None, time.time())
    if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:  # else torch leaves torchinductor_<user>/ in the temp folder
        grading.caches = Path(tempfile.mkdtemp(prefix="katas-grader-caches-"))
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(grading.caches / "torchinductor")
        os.environ.setdefault("TRITON_CACHE_DIR", str(grading.caches / "triton"))
    config.stash[GRADING_KEY] = grading


def pytest_report_header(config: pytest.Config) -> list[str]:
    grading = config.stash.get(GRADING_KEY, None)
    if grading is None:
        return []
    target = config.stash[TARGET_KEY]
    survey = sandbox.survey(target.path, [k.filename for k in grading.catalog])
    lines = [say("grade_header", memory=grading.factory.settings.limits.memory_mb,
                 seconds=grading.factory.settings.limits.kata_seconds)]  # fmt: skip
    lines.append(isolation_line(grading))
    if survey.ignored:
        lines.append(say("grade_ignored", files=", ".join(survey.ignored)))
    if grading.hidden_dir is not None:
        lines.append(f"hidden tests: {grading.hidden_dir}")
    return lines


def isolation_line(grading: Grading) -> str:
    settings = grading.factory.settings
    if settings.isolation == "bwrap":
        detail = "bubblewrap: PID/network/mount/IPC namespaces, nobody, tmpfs, cgroups where possible"
        if os.geteuid() != 0:
            detail = detail.replace("nobody", "user namespace")
    else:
        abi = sandbox.landlock_abi() if settings.landlock else 0
        detail = f"Landlock ABI {abi} + rlimits, cgroups where possible" if abi else "rlimits only, no Landlock"
    return say("grade_isolation", isolation=settings.isolation, detail=detail)


def sandbox_summary(grading: Grading) -> dict[str, Any]:
    """What each layer did, for results.json: the mode, then per learner what the last kata server reported."""
    statuses = [r.status for r in grading.factory.runners]
    merged: dict[str, Any] = {"isolation": grading.factory.settings.isolation}
    for status in statuses:
        for key, value in status.items():
            merged.setdefault(key, value)
    return {**merged, "limits": vars(grading.factory.settings.limits)}


def _is_hidden(grading: Grading, path: Path) -> bool:
    return grading.hidden_dir is not None and grading.hidden_dir in path.resolve().parents


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    grading = config.stash.get(GRADING_KEY, None)
    if grading is None:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    per_kata: dict[str, list[pytest.Item]] = {}
    for item in items:
        module = getattr(item, "module", None)
        kata = kata_of_module(grading.catalog, item.path, getattr(module, "KATA", None))
        if kata is None:
            dropped.append(item)  # the tool's own self-checks: not part of a grade
            continue
        kept.append(item)
        if _is_hidden(grading, item.path):
            item.add_marker(pytest.mark.hidden)
            item.add_marker(pytest.mark.kata(kata))
        if item.get_closest_marker("skip") is None:
            per_kata.setdefault(kata, []).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    points = {k.id: k.points for k in grading.catalog}
    for kata, kata_items in per_kata.items():
        share = points[kata] / len(kata_items)
        hidden_number = 0
        for item in kata_items:
            hidden = item.get_closest_marker("hidden") is not None
            name = f"{kata} · {item.name}"
            if hidden:
                hidden_number += 1
                name = say("grade_hidden_name", kata=kata, n=hidden_number)
            doc = (getattr(getattr(item, "function", None), "__doc__", None) or "").strip()
            grading.results[item.nodeid] = TestResult(
                item.nodeid, kata, name, share, hidden, doc.splitlines()[0] if doc else ""
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    grading = item.config.stash.get(GRADING_KEY, None)
    result = grading.results.get(item.nodeid) if grading is not None else None
    if result is None:
        return report
    result.phases[report.when] = report.outcome
    if report.failed and not result.output:
        result.output = _feedback(result, report.longreprtext)
    if report.skipped and report.when != "teardown":
        result.output = result.output or say("grade_skipped")
    if report.when == "teardown":
        passed = result.phases.get("call") == "passed" and "failed" not in result.phases.values()
        result.status = "passed" if passed else "failed"
        report.user_properties += [
            ("kata", result.kata),
            ("score", round(result.score, 4)),
            ("max_score", round(result.max_score, 4)),
            ("visibility", "after_published" if result.hidden else "visible"),
        ]
    return report


def _feedback(result: TestResult, text: str) -> str:
    if result.hidden:  # the hidden test's inputs, and anything learner code printed about them, stay out
        return say("grade_hidden_failed", kata=result.kata, about=result.description or "-")
    return cap(text.removeprefix("Failed: "), OUTPUT_LIMIT)


def cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + "\n" + say("grade_output_cut", n=len(text) - limit)


def kata_scores(grading: Grading) -> dict[str, dict[str, Any]]:
    scores: dict[str, dict[str, Any]] = {}
    for kata in grading.catalog:
        tests = [r for r in grading.results.values() if r.kata == kata.id]
        if not tests:
            continue
        score = sum(r.score for r in tests)
        scores[kata.id] = {
            "score": round(score, 4),
            "max_score": round(sum(r.max_score for r in tests), 4),
            "passed": sum(r.status == "passed" for r in tests),
            "tests": len(tests),
        }
    return scores


def results_json(config: pytest.Config, grading: Grading) -> dict[str, Any]:
    """Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/)."""
    import numpy
    import torch

    target = config.stash[TARGET_KEY]
    survey = sandbox.survey(target.path, [k.filename for k in grading.catalog])
    katas = kata_scores(grading)
    tests = [
        {
            "name": r.name,
            "score": round(r.score, 6),
            "max_score": round(r.max_score, 6),
            "status": r.status,
            "output": r.output,
            "visibility": "after_published" if r.hidden else "visible",
        }
        for r in grading.results.values()
        if r.phases  # a test that never started (deselected by -k, -x stopped) is not reported
    ]
    ran = [r for r in grading.results.values() if r.phases]
    score, max_score = round(sum(r.score for r in ran), 4), round(sum(r.max_score for r in ran), 4)
    summary = [say("grade_total", score=score, max=max_score)]
    summary += [f"  {kata}: {s['score']:g} / {s['max_score']:g}" for kata, s in katas.items()]
    if survey.ignored:
        summary.append(say("grade_ignored", files=", ".join(survey.ignored)))
    if survey.missing:
        summary.append(say("grade_missing", files=", ".join(survey.missing)))
    return {
        "score": score,
        "max_score": max_score,
        "execution_time": round(time.time() - grading.started, 2),
        "output": cap("\n".join(summary), SUMMARY_LIMIT),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "environment": {
                "backprop_katas": __version__,
                "python": platform.python_version(),
                "torch": torch.__version__,
                "numpy": numpy.__version__,
                "platform": platform.platform(),
            },
            "target": target.label,
            "katas": katas,
            "ignored_files": survey.ignored,
            "missing_files": survey.missing,
            "sandbox": sandbox_summary(grading),
        },
    }


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    grading = session.config.stash.get(GRADING_KEY, None)
    if grading is None:
        return
    grading.factory.close()  # every child is dead before the report is written: none can overwrite it
    if grading.json_path is not None and not grading.written:
        data = results_json(session.config, grading)
        grading.json_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = grading.json_path.with_name(grading.json_path.name + ".tmp")
        temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        temporary.replace(grading.json_path)
        grading.written = True


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    grading = config.stash.get(GRADING_KEY, None)
    if grading is None:
        return
    terminalreporter.section("grade")
    total = maximum = 0.0
    for kata, s in kata_scores(grading).items():
        terminalreporter.write_line(
            f"{kata:<24} {s['score']:>7.2f} / {s['max_score']:<6g} ({s['passed']}/{s['tests']} tests)"
        )
        total += s["score"]
        maximum += s["max_score"]
    terminalreporter.write_line(say("grade_total", score=round(total, 2), max=round(maximum, 2)))
    terminalreporter.write_line(isolation_line(grading))
    if grading.json_path is not None:
        terminalreporter.write_line(f"results.json: {grading.json_path}")


def pytest_unconfigure(config: pytest.Config) -> None:
    grading = config.stash.get(GRADING_KEY, None)
    if grading is not None:
        grading.factory.close()
        if grading.caches is not None:
            sandbox.remove_tree(grading.caches)
            for key in ("TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR"):
                if os.environ.get(key, "").startswith(str(grading.caches)):
                    del os.environ[key]
    sys.stdout.flush()
