"""The maintainers' side of the test run, kept out of the shipped package: which tests a run
collects (the self-checks in tests/suite only for maintainers), the tiers' markers and the report
header that says what was left out. The kit's and grading's plugins (--target, --grade) are
pytest11 entry points of the installed package, so that pytest knows --target before it reads
the command line; this file adds pytester for the tool's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from backprop_katas.kit.plugin import TARGET_KEY

pytest_plugins = ["pytester"]

SUITE_DIR = Path("tests") / "suite"
MARKERS = {
    "grading": "a self-check of grading mode (starts pytest and child processes).",
    "slow": "a self-check that starts real processes (a grading session, a cold katas or pytest command, a "
    "Jupyter kernel, a warm server) or waits out a time limit; left out of `pytest --target solutions`, "
    "run with -m slow.",
    "hostile": "the hostile-submission suite (one `katas grade` batch per isolation mode; run with -m hostile).",
    "gradescope": "builds the Gradescope zip and runs setup.sh into a fresh venv (minutes; run with -m gradescope).",
    "spellings": "every spelling of a submission's path, each its own cold pytest or katas command "
    "(minutes; run with -m spellings).",
    "cluster": "grades on a real Dask scheduler and workers on 127.0.0.1 (minutes; needs the [cluster] extra; "
    "run with -m cluster).",
    "docs": "the documentation's shell blocks and the site build (minutes; run with -m docs).",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The self-checks (tests/suite) are for maintainers: collected with --target solutions,
    or when named on the command line; a learner's `pytest` runs the kata tests only."""
    suite = config.rootpath / SUITE_DIR
    if collection_path != suite or TARGET_KEY not in config.stash:
        return None
    if config.stash[TARGET_KEY].label == "solutions":
        return None
    named = [Path(a.split("::")[0]).resolve() for a in config.args]
    if any(p == suite or suite in p.parents for p in named):
        return None
    return True


def pytest_report_header(config: pytest.Config) -> list[str]:
    target = config.stash.get(TARGET_KEY, None)
    if target is None or target.label != "solutions" or "slow" in (config.getoption("markexpr") or ""):
        return []
    # tests/suite/conftest.py leaves them out; said here, where pytest-xdist's workers cannot
    return [
        "self-checks marked slow are left out (grading sessions, cold commands, kernels, servers): -m slow runs them"
    ]
