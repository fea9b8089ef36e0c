"""The pytest plugin: which code the kata tests run against, and how.

Registered as a ``pytest11`` entry point, so ``--target`` is known before
pytest reads its command line: ``pytest --target PATH`` must never make pytest
take PATH for a test folder and import a submission's ``conftest.py``.
``--target katas|solutions|PATH`` (or ``KATAS_TARGET``, or the ``katas_target``
ini value) picks the folder of kata files under test; the report header names
it. Outside a backprop-katas project (no katas.toml, no target asked for) the
plugin does nothing.
"""

from __future__ import annotations

import copy
import os
import pickle
import sys
from collections.abc import Callable
from typing import Any

import pytest

from backprop_katas import __version__
from backprop_katas.catalog import Kata, kata_for_test_file, load_catalog
from backprop_katas.kit import shortcuts
from backprop_katas.kit.failure import Failure, JudgeFailed, ProbeError
from backprop_katas.kit.loader import Target, TargetNotFound, resolve_target
from backprop_katas.kit.runner import InProcessRunner, ProbeFailed, note_where
from backprop_katas.lang import say
from backprop_katas.limits import DEFAULT_TIMEOUT

TARGET_KEY = pytest.StashKey[Target]()
# Another plugin (grading mode) may put a different runner class here in its
# pytest_configure: same interface, ``Runner(target, timeout).run(probe, *args)``.
RUNNER_FACTORY_KEY = pytest.StashKey[Callable[[Target, "float | None"], Any]]()
CATALOG_KEY = pytest.StashKey[list[Kata]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop-katas", "backprop-katas: which kata files to test")
    group.addoption(
        "--target",
        dest="katas_target",
        default=None,
        metavar="katas|solutions|PATH",
        help="folder of kata files under test: 'katas' (default, your work), 'solutions' "
        "(the reference) or the path of a learner's submission. Env: KATAS_TARGET.",
    )
    group.addoption(
        "--probe-timeout",
        dest="katas_probe_timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"stop a call into kata code after this many seconds (default {DEFAULT_TIMEOUT:g}; 0: no limit).",
    )
    parser.addini(
        "katas_target", "default --target when neither the option nor KATAS_TARGET is set (else: katas)", default=""
    )
    parser.addini("katas_probe_timeout", "default --probe-timeout in seconds", default=str(DEFAULT_TIMEOUT))


def target_spec(config: pytest.Config) -> str:
    return str(
        config.getoption("katas_target") or os.environ.get("KATAS_TARGET") or config.getini("katas_target") or "katas"
    )


def is_katas_session(config: pytest.Config) -> bool:
    """A backprop-katas project, or a run that asks for a target: else the plugin stays out of the way."""
    asked = config.getoption("katas_target") or os.environ.get("KATAS_TARGET") or config.getini("katas_target")
    return bool(asked) or (config.rootpath / "katas.toml").is_file()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kata(id): the kata a test belongs to (set from the test file's name).")
    config.addinivalue_line(
        "markers", "part(name): the public function or check group this kata test checks (grading weights)"
    )
    config.addinivalue_line(
        "markers",
        "reference_only: pins the reference solutions to the chapter's printed figures; "
        "runs only with --target solutions.",
    )
    config.addinivalue_line(
        "markers",
        "notebook: runs handed-out notebooks in a real Jupyter kernel (nbclient + ipykernel, the [notebook] "
        "extra); a few seconds each; -m 'not notebook' skips them.",
    )
    root = config.rootpath
    if not is_katas_session(config):
        return
    try:
        label, path = resolve_target(target_spec(config), root)
    except TargetNotFound as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[TARGET_KEY] = Target(label, path)
    config.stash[CATALOG_KEY] = load_catalog(root) if (root / "katas.toml").is_file() else []


def pytest_report_header(config: pytest.Config) -> list[str]:
    target = config.stash.get(TARGET_KEY, None)
    if target is None:
        return []
    import torch

    mode = getattr(config.stash.get(RUNNER_FACTORY_KEY, InProcessRunner), "mode", "learner")
    lines = [
        f"backprop-katas {__version__}: target {target.label} ({target.path}), {mode} mode, torch {torch.__version__}"
    ]
    return lines


def pytest_runtest_setup(item: pytest.Item) -> None:
    note_where(None)  # a test's "where to edit" comes from its own probe calls


def probe_failure(error: ProbeError) -> Failure:
    """Learner code failed inside a probe: the error as data, the place from its traceback."""
    data = {
        "kind": error.kind,
        "type": error.type,
        "message": error.message,
        "where": error.where,
        "traceback": error.traceback,
    }
    return Failure(kind="probe", error=data, where=error.at)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if TARGET_KEY not in config.stash:
        return
    target = config.stash[TARGET_KEY]
    catalog = config.stash[CATALOG_KEY]
    skip_ref = pytest.mark.skip(
        reason="reference_only: pins solutions/ to the chapter's table; run with --target solutions"
    )
    for item in items:
        kata = kata_for_test_file(catalog, item.path.name)
        if kata is not None:
            item.add_marker(pytest.mark.kata(kata.id))
        if item.get_closest_marker("reference_only") and target.label != "solutions":
            item.add_marker(skip_ref)


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    """The folder of kata files under test."""
    if TARGET_KEY not in pytestconfig.stash:
        pytest.fail(say("plugin_no_project"), pytrace=False)
    return pytestconfig.stash[TARGET_KEY]


@pytest.fixture(scope="session")
def runner(pytestconfig: pytest.Config, target: Target) -> Any:
    timeout = pytestconfig.getoption("katas_probe_timeout")
    if timeout is None:
        timeout = float(pytestconfig.getini("katas_probe_timeout"))
    factory = pytestconfig.stash.get(RUNNER_FACTORY_KEY, InProcessRunner)
    return factory(target, timeout or None)


@pytest.fixture(scope="session")
def run(runner: InProcessRunner, target: Target) -> Callable[..., Any]:
    """``run(probe, *args)``: run a probe on the target; learner errors fail the test with a plain message.

    Before the probe runs, the kata file is checked as text for the shortcuts its kata forbids
    (:mod:`.shortcuts`): the tool's own code in any kata, autograd in the by-hand functions
    this probe reaches. In grading this check, in the grader, decides; the probe's own guard
    in the child only gives an earlier message."""

    def call(probe: Callable[..., Any], *args: Any) -> Any:
        kata = getattr(sys.modules.get(getattr(probe, "__module__", "") or ""), "KATA", None)
        ruled = isinstance(kata, str) and target.file(kata).is_file()
        functions = shortcuts.by_hand_called(kata, probe, args) if isinstance(kata, str) and ruled else []
        if isinstance(kata, str) and ruled:
            shortcuts.expect_no_shortcut(target.path, kata, functions)
        try:
            result = runner.run(probe, *args)
        except ProbeFailed as failed:
            raise JudgeFailed(probe_failure(failed.error)) from None
        if isinstance(kata, str) and ruled:  # a kata about autograd: the right numbers without it are refused
            shortcuts.expect_autograd_used(target.path, kata, functions)
        return result

    return call


@pytest.fixture(scope="session")
def run_once(run: Callable[..., Any]) -> Callable[..., Any]:
    """``run_once(probe, *args)``: :func:`run`, each distinct call made once per session (a session
    has one target): its result, or its failure, is shared by every test that makes the same call.
    For a long call several tests judge, as k06's 10001-step training: losses, weights and
    predictions come from one run (and a learner's trainer that hangs costs the time limit once)."""
    done: dict[bytes, tuple[bool, Any]] = {}

    def call(probe: Callable[..., Any], *args: Any) -> Any:
        key = pickle.dumps((probe.__module__, probe.__qualname__, args))
        if key not in done:
            try:
                done[key] = (True, run(probe, *args))
            except pytest.fail.Exception as failed:
                done[key] = (False, failed)
        ok, value = done[key]
        if not ok:
            raise value
        return copy.deepcopy(value)  # a judge may change what it was given; the next one gets it as it came

    return call
