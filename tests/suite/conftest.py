"""What the tool's own tests share: one warm grading worker, and the suites that run only when asked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grading_helpers
import pytest
from grading_helpers import ROOT, close_warm_worker

ALL_KATAS = tuple(p.stem.removeprefix("test_") for p in sorted((ROOT / "tests").glob("test_k0*.py")))

# Slow by nature, left out of the README's command and run by .ci/run: each needs what no
# speed-up removes (a fresh virtual environment with torch installed into it; a Dask scheduler
# and workers started and killed on 127.0.0.1; a cold command per spelling of a path, since the
# command line itself is under test). The hostile suite has its own switch (test_hostile.py).
OPT_IN = {
    "gradescope": "builds the autograder zip and installs torch into a fresh venv (minutes)",
    "cluster": "starts a real Dask scheduler and workers on 127.0.0.1 (minutes)",
    "spellings": "32 cold pytest and katas commands, one per spelling of a submission's path (minutes)",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    asked = config.getoption("markexpr") or ""
    for item in items:
        for marker, why in OPT_IN.items():
            if item.get_closest_marker(marker) is not None and marker not in asked:
                item.add_marker(pytest.mark.skip(reason=f"runs only when asked (-m {marker}; .ci/run runs it): {why}"))


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
            got = grading_helpers.pytest_grade(ROOT / source, folder / "results.json", "--isolation", mode,
                                               tests=ALL_KATAS, env={"TMPDIR": str(private)})  # fmt: skip
            got["_leftovers"] = sorted(p.name for p in private.iterdir())
            done[source, mode] = got
        return done[source, mode]

    return grade
