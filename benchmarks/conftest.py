"""The benchmarks' options, and the ratios of issue 12 printed at the end of the run and added to the JSON.

    pytest benchmarks/ --benchmark-only --benchmark-json=benchmarks/results.json [--bench-long] [--bench-rounds N]

Each benchmark records what it measured (whole-process wall seconds and, from
``resource.getrusage(RUSAGE_CHILDREN)``, CPU seconds per round) through the
``record`` fixture; the ratios are computed from the medians, each printed with
the figure it was compared against. Outside ``tests/`` (the README's test
command collects ``testpaths = ["tests"]`` only), so no benchmark runs there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

MEASURED = pytest.StashKey[dict[str, dict[str, Any]]]()
EXTERNAL = pytest.StashKey[dict[str, dict[str, Any]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop-katas benchmarks")
    group.addoption("--bench-rounds", type=int, default=3, help="rounds of each whole-process command (default 3)")
    group.addoption(
        "--bench-ci",
        action="store_true",
        help="also time `bash .ci/run` on a fresh clone of this tree (about half an hour)",
    )
    group.addoption(
        "--bench-long", action="store_true", help="grade every learner one by one instead of a sample (grade_floor.py)"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[MEASURED] = {}
    config.stash[EXTERNAL] = {}


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``record(name, wall=[...], cpu=[...], **extra)``: one measured case, by its name in ``ratios.CASES``."""

    def save(name: str, **figures: Any) -> None:
        request.config.stash[MEASURED][name] = figures

    return save


@pytest.fixture
def measured(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """What this run has measured so far, by case name (for a benchmark that fills its entry in steps)."""
    return request.config.stash[MEASURED]


@pytest.fixture
def record_external(request: pytest.FixtureRequest) -> Callable[[str, dict[str, Any]], None]:
    def save(name: str, figures: dict[str, Any]) -> None:
        request.config.stash[EXTERNAL][name] = figures

    return save


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: Any, output_json: dict[str, Any]) -> None:
    # benchmarks/ is on sys.path (rootdir-relative test modules, no __init__.py)
    from ratios import issue22, report

    output_json["issue12"] = report(config.stash[MEASURED], config.stash[EXTERNAL])
    output_json["issue22"] = issue22(config.stash[MEASURED], config.stash[EXTERNAL])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not config.stash.get(MEASURED, None) and not config.stash.get(EXTERNAL, None):
        return
    from ratios import issue22, render, render22, report

    terminalreporter.section("issue 12: ratios, each with the figure it was compared against")
    for line in render(report(config.stash[MEASURED], config.stash[EXTERNAL])):
        terminalreporter.write_line(line)
    terminalreporter.section("issue 22: each figure beside its goal (load: the 1-minute load average)")
    for line in render22(issue22(config.stash[MEASURED], config.stash[EXTERNAL])):
        terminalreporter.write_line(line)
