"""What the tool's own tests share: the process language, one warm grading worker, and the suites that run only when asked."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grading_helpers
import pytest
from grading_helpers import KATA_IDS, ROOT, close_warm_worker

from backprop_katas import lang

ALL_KATAS = tuple(KATA_IDS)

# Slow by nature, left out of the README's command and run by .ci/run: each needs what no
# speed-up removes (a fresh virtual environment with torch installed into it; a Dask scheduler
# and workers started and killed on 127.0.0.1; a cold command per spelling of a path, since the
# command line itself is under test). The hostile suite has its own switch (test_hostile.py).
OPT_IN = {
    "gradescope": "builds the autograder zip and installs torch into a fresh venv (minutes)",
    "cluster": "starts a real Dask scheduler and workers on 127.0.0.1 (minutes)",
    "spellings": "32 cold pytest and katas commands, one per spelling of a submission's path (minutes)",
    "docs": "runs every shell block of the Learn, Notebooks and Teach pages in a scratch project, and builds the site (minutes)",
}


# The README's command is the fast tier: kata tests, the self-checks that run in this process
# (stubs fail, mutants are caught, shortcuts, diagnosis, language, layers) and the tool's unit
# tests. A test marked `slow` starts real processes (a grading session, a cold `katas` or pytest
# command, a Jupyter kernel, a warm server) or waits out a time limit: 1 to 60 s each, most of
# the suite's time. They are left out unless -m names them or the test's file or id is named
# on the command line; .ci/run runs them all (`pytest --target solutions -m slow`).
SLOW = "slow"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    asked = config.getoption("markexpr") or ""
    for item in items:
        for marker, why in OPT_IN.items():
            if item.get_closest_marker(marker) is not None and marker not in asked:
                item.add_marker(pytest.mark.skip(reason=f"runs only when asked (-m {marker}; .ci/run runs it): {why}"))
    if SLOW in asked:
        return
    # pytest counts them as deselected; the report header (kit/plugin.py) says how to run them.
    # A slow test whose file or id is named on the command line runs.
    named = [(Path(path).resolve(), test) for path, _, test in (arg.partition("::") for arg in config.args)]

    def asked_for(item: pytest.Item) -> bool:
        here, test = Path(item.path).resolve(), item.nodeid.split("::", 1)[1]
        return any(path == here and test.startswith(rest) for path, rest in named)

    left_out = [i for i in items if i.get_closest_marker(SLOW) is not None and not asked_for(i)]
    if left_out:
        gone = set(left_out)
        items[:] = [i for i in items if i not in gone]
        config.hook.pytest_deselected(items=left_out)


@pytest.fixture(scope="session", autouse=True)
def _warm_worker_closed_at_the_end() -> Iterator[None]:
    yield
    close_warm_worker()


@pytest.fixture(scope="session")
def graded_six(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], dict[str, Any]]:
    """``graded_six(source, mode)``: solutions/ or katas/ graded on all six katas under ``--isolation mode``.

    Graded once per session for each pair, with a private TMPDIR (its leftovers in ``_leftovers``):
    several checks read the same full grade of the reference."""
    done: dict[tuple[str, str], dict[str, Any]] = {}

    def grade(source: str, mode: str) -> dict[str, Any]:
        if (source, mode) not in done:
            folder: Path = tmp_path_factory.mktemp(f"six-{source}-{mode}")
            private = folder / "tmp"
            private.mkdir()
            got = grading_helpers.pytest_grade(
                ROOT / source,
                folder / "results.json",
                "--isolation",
                mode,
                tests=ALL_KATAS,
                env={"TMPDIR": str(private)},
            )
            got["_leftovers"] = sorted(p.name for p in private.iterdir())
            done[source, mode] = got
        return done[source, mode]

    return grade


@pytest.fixture(autouse=True)
def _process_language_from_the_environment(monkeypatch):
    """An in-process ``cli.main(["--lang", "ko", ...])`` sets the process's language; every test
    starts again from the environment, as a fresh process would."""
    monkeypatch.setattr(lang, "_current", None)


# The warm servers that `katas` starts in the tests' throw-away projects end soon after their last check.
os.environ.setdefault("KATAS_SERVER_IDLE", "30")
