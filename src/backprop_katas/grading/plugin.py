"""Grading mode for pytest: ``pytest --target PATH --grade [--grade-json FILE] [--hidden-tests DIR]``.

Loaded from the root ``conftest.py`` next to the kata plugin; does nothing
without ``--grade``. With it, probes run in a child process per kata
(:mod:`.runner`), each kata's points (``katas.toml``) are split evenly over
its tests, and the results go to the terminal, to junitxml (as properties)
and, with ``--grade-json``, to a Gradescope ``results.json``.
"""

from __future__ import annotations

import itertools
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

from backprop_katas import __version__
from backprop_katas.catalog import Kata, counted, kata_paths
from backprop_katas.files import digest, write_json
from backprop_katas.grading import preflight, sandbox
from backprop_katas.grading.results import build, cap, kata_scores, one_line, relative_paths
from backprop_katas.grading.runner import GradingRunnerFactory, Settings, Zygote, kata_of_module
from backprop_katas.kinds import TestStatus
from backprop_katas.kit import shortcuts
from backprop_katas.kit.failure import Failure
from backprop_katas.kit.judge import CAUSES_ATTRIBUTE
from backprop_katas.kit.plugin import CATALOG_KEY, RUNNER_FACTORY_KEY, TARGET_KEY
from backprop_katas.lang import current, say
from backprop_katas.names import safe_text, shown_name
from backprop_katas.scoring import PART_MARKER, points, shown, total

OUTPUT_LIMIT = 3000  # characters of feedback per test: enough for a gradient table, not for a flood


@dataclass
class TestResult:
    nodeid: str
    id: str  # stable across runs and folders (results.checks_of): the node id from the test file on
    kata: str
    part: str
    name: str  # as the learner sees it (a hidden test's real name never appears)
    hidden: bool
    description: str
    skipped: bool = False  # reference_only outside --target solutions: not part of the grade
    status: TestStatus = TestStatus.FAILED  # PASSED or FAILED (a test that did not run scores 0)
    output: str = ""
    causes: list[str] = field(default_factory=list)
    failure: dict[str, Any] | None = None  # the judge's failure as data (kit/failure.py); never for a hidden test
    phases: dict[str, str] = field(default_factory=dict)

    def check(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kata": self.kata,
            "part": self.part,
            "status": TestStatus.SKIPPED if self.skipped else self.status,
            "hidden": self.hidden,
            "name": self.name,
            "output": "" if self.skipped else self.output,  # not part of the grade: nothing to say
            "causes": self.causes,
            "failure": None if self.skipped or self.hidden else self.failure,
        }


@dataclass
class Grading:
    factory: GradingRunnerFactory
    catalog: list[Kata]
    hidden_dir: Path | None
    json_path: Path | None
    started: float
    results: dict[str, TestResult] = field(default_factory=dict)
    written: bool = False
    caches: Path | None = None  # the grader's own torch caches (the oracle's SGD loads dynamo): removed at the end
    nothing_graded: bool = False
    left_out: list[str] = field(default_factory=list)  # bonus katas collected but not asked for: not graded


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
    group.addoption(
        "--grade-json",
        dest="katas_grade_json",
        default=None,
        metavar="FILE",
        help="with --grade: write Gradescope's results.json to FILE.",
    )
    group.addoption(
        "--hidden-tests",
        dest="katas_hidden_tests",
        default=None,
        metavar="DIR",
        help="with --grade: also run the instructor's test files in DIR (test_kNN_*.py); "
        "their names and inputs never appear in feedback.",
    )
    group.addoption(
        "--kata-time-limit",
        dest="katas_kata_time_limit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --grade: time one kata's child may spend on all its probes "
        f"(default {sandbox.Limits.kata_seconds:g}).",
    )
    group.addoption(
        "--memory-limit",
        dest="katas_memory_limit",
        type=int,
        default=None,
        metavar="MB",
        help=f"with --grade: data-segment limit of a kata's child (default {sandbox.Limits.memory_mb}).",
    )
    group.addoption(
        "--no-landlock",
        dest="katas_no_landlock",
        action="store_true",
        default=False,
        help="with --grade: do not restrict the child's file access with Landlock.",
    )
    group.addoption(
        "--isolation",
        dest="katas_isolation",
        default=None,
        choices=sandbox.ISOLATIONS,
        help="with --grade: bwrap (bubblewrap namespaces + cgroups), fallback (Landlock + "
        "rlimits), or auto: bwrap when it works here (default: ini katas_isolation, auto).",
    )
    parser.addini("katas_isolation", "default --isolation (auto, bwrap, fallback)", default="auto")
    parser.addini("katas_kata_time_limit", "default --kata-time-limit", default=str(sandbox.Limits.kata_seconds))
    parser.addini("katas_memory_limit", "default --memory-limit in MB", default=str(sandbox.Limits.memory_mb))


# Options whose value is a path: given as two words, pytest's first look at the command line
# (before any plugin's options are known) takes the value for a test folder and reads the
# ini files it finds there. See docs/teach.md, "Which spellings are safe".
PATH_OPTIONS = ("--target", "--hidden-tests", "--grade-json")


def _wants_grade(args: list[str]) -> bool:
    return "--grade" in args


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """The first moment a plugin can act: before any conftest.py is imported.

    pytest has already chosen its root folder and ini file by now (from the positional
    arguments), so a grading run whose choice involved the submission is refused here.
    """
    if not _wants_grade(args):
        return
    for option, value in itertools.pairwise(args):
        if option in PATH_OPTIONS and not value.startswith("-"):
            lines = [say("grade_two_words", option=option, value=value)]
            if option == "--target":
                lines.append(say("grade_safe_command", path=value))
            raise pytest.UsageError("\n".join(lines))
    spec = early_config.known_args_namespace.katas_target or os.environ.get("KATAS_TARGET") or ""
    inipath = early_config.inipath
    if spec and inipath is not None:
        target = Path(spec).expanduser()
        target = (target if target.is_absolute() else early_config.invocation_params.dir / target).resolve()
        if inipath.resolve().is_relative_to(target):
            raise pytest.UsageError(say("grade_config_in_target", file=inipath, target=target))
    if not (early_config.rootpath / "katas.toml").is_file():
        raise pytest.UsageError(say("grade_no_project", rootdir=early_config.rootpath))


@pytest.hookimpl(trylast=True)  # after the kata plugin has read the target and the catalog
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "hidden: an instructor's hidden test (from --hidden-tests; graded only).")
    config.addinivalue_line(
        "markers",
        "part(name): the public function (or named group of checks) a kata test checks; "
        "katas.toml weights the kata's parts (scoring.py).",
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
    try:  # a kata file that is no regular file under the cap (a named pipe, a link to /dev/zero): not graded
        sandbox.survey(target.path, [k.filename for k in catalog]).check()
    except OSError as exc:
        raise pytest.UsageError(safe_text(str(exc))) from None
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
        try:  # the instructor's side before any learner code runs; cached, so `katas grade` pays once
            preflight.ensure(config.rootpath, hidden_dir, catalog)
        except preflight.PreflightError as exc:
            raise pytest.UsageError(str(exc)) from None
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
    lines = [
        say(
            "grade_header",
            memory=grading.factory.settings.limits.memory_mb,
            seconds=grading.factory.settings.limits.kata_seconds,
        )
    ]
    lines.append(isolation_line(grading))
    if survey.ignored:
        lines.append(say("grade_ignored", files=", ".join(survey.ignored)))
    if grading.hidden_dir is not None:
        lines.append(f"hidden tests: {grading.hidden_dir}")
    return lines


def isolation_line(grading: Grading) -> str:
    settings = grading.factory.settings
    if settings.isolation.namespaced:
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


def _named_katas(config: pytest.Config, catalog: list[Kata]) -> list[str]:
    """The katas whose test file the command line names (``pytest tests/test_k07_own_autograd.py --grade``):
    naming a bonus kata's file is asking for it, as ``katas grade --kata k07`` is; a folder names none."""
    named = []
    for arg in config.invocation_params.args:
        if arg.startswith("-"):
            continue
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path.is_file() and (kata := kata_of_module(catalog, path, None)) is not None:
            named.append(kata)
    return named


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
    asked = _named_katas(config, grading.catalog)
    counted_ids = {k.id for k in counted(grading.catalog, asked)}
    for item in items:
        module = getattr(item, "module", None)
        kata = kata_of_module(grading.catalog, item.path, getattr(module, "KATA", None))
        if kata is None:
            dropped.append(item)  # the tool's own self-checks: not part of a grade
            continue
        if kata not in counted_ids:  # a bonus kata nobody asked for: as `katas grade` and Gradescope leave it
            dropped.append(item)
            if kata not in grading.left_out:
                grading.left_out.append(kata)
            continue
        kept.append(item)
        if _is_hidden(grading, item.path):
            item.add_marker(pytest.mark.hidden)
            item.add_marker(pytest.mark.kata(kata))
        per_kata.setdefault(kata, []).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    katas = {k.id: k for k in grading.catalog}
    for kata_id, kata_items in per_kata.items():
        entry = katas[kata_id]
        hidden_number = 0
        for item in kata_items:
            hidden = item.get_closest_marker("hidden") is not None
            marker = item.get_closest_marker(PART_MARKER)
            part = str(marker.args[0]) if marker is not None and marker.args else ""
            if part not in entry.weights:
                grading.nothing_graded = True  # no results.json: a 0 would be published as a grade
                raise pytest.UsageError(
                    say("grade_bad_part", test=item.nodeid, part=part or "-", parts=", ".join(entry.weights) or "-")
                )
            name = item.name
            test_id = item.nodeid.split("/")[-1]
            if hidden:
                hidden_number += 1
                name = one_line("grade_hidden_name", kata=kata_id, n=hidden_number)
                test_id = "hidden-" + digest(test_id.encode())[:16]
            doc = (getattr(getattr(item, "function", None), "__doc__", None) or "").strip()
            grading.results[item.nodeid] = TestResult(
                item.nodeid,
                test_id,
                kata_id,
                part,
                name,
                hidden,
                doc.splitlines()[0] if doc else "",
                skipped=item.get_closest_marker("skip") is not None,
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    grading = item.config.stash.get(GRADING_KEY, None)
    result = grading.results.get(item.nodeid) if grading is not None else None
    if result is None:
        return report
    result.phases[report.when] = report.outcome
    if report.failed:  # what learner code raised or printed reaches the terminal escaped (names.safe_text)
        report.longrepr = safe_text(report.longreprtext)
    if report.failed and not result.output:
        result.output = _feedback(item.config, result, report.longreprtext)
        excinfo = call.excinfo
        causes = getattr(excinfo.value, CAUSES_ATTRIBUTE, None) if excinfo is not None else None
        failure = getattr(excinfo.value, "failure", None) if excinfo is not None else None
        if isinstance(failure, Failure) and not result.hidden:
            result.failure = _stored(item.config, failure)
        if causes and not result.hidden:
            result.causes = [str(c) for c in causes]
            report.user_properties.append(("causes", " ".join(result.causes)))
    if report.skipped and report.when != "teardown":
        result.output = result.output or say("grade_skipped")
    if report.when == "teardown":
        passed = result.phases.get("call") == TestStatus.PASSED and TestStatus.FAILED not in result.phases.values()
        result.status = TestStatus.PASSED if passed else TestStatus.FAILED
        report.user_properties += [
            ("kata", result.kata),
            ("part", result.part),
            ("status", str(TestStatus.SKIPPED if result.skipped else result.status)),
            ("visibility", "after_published" if result.hidden else "visible"),
        ]
    return report


def _folders(config: pytest.Config) -> list[str]:
    """The submission and the grader's copies of it: paths a learner must not see."""
    grading = config.stash[GRADING_KEY]
    folders = [str(config.stash[TARGET_KEY].path)]
    for runner in getattr(grading.factory, "runners", []):
        copy = getattr(runner, "copy", None)
        folders += [str(getattr(copy, "path", "")), str(getattr(runner, "workdir", ""))]
    return folders


def _feedback(config: pytest.Config, result: TestResult, text: str) -> str:
    if result.hidden:  # the hidden test's inputs, and anything learner code printed about them, stay out
        return say("grade_hidden_failed", kata=result.kata, about=result.description or "-")
    return cap(relative_paths(text.removeprefix("Failed: "), _folders(config)), OUTPUT_LIMIT)


def _stored(config: pytest.Config, failure: Failure) -> dict[str, Any]:
    """A failure's data as results.json keeps it: the text learner code or the runner put into it
    (an error's message and traceback, a path) relative to the submission, as the feedback is."""
    data = failure.to_data()
    folders = _folders(config)
    if isinstance(data.get("error"), dict):
        data["error"] = {k: relative_paths(v, folders) if isinstance(v, str) else v for k, v in data["error"].items()}
    data["text"] = relative_paths(data.get("text", ""), folders)
    return data


def checks(grading: Grading) -> list[dict[str, Any]]:
    """Every selected test (-k's deselected ones never get here); one that never ran (-x, a stop) failed."""
    found = []
    for result in grading.results.values():
        check = result.check()
        if not result.phases and not result.skipped:
            check["output"] = say("grade_skipped")
        found.append(check)
    return found


def results_json(config: pytest.Config, grading: Grading) -> dict[str, Any]:
    """Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/)."""
    import numpy
    import torch

    target = config.stash[TARGET_KEY]
    survey = sandbox.survey(target.path, [k.filename for k in grading.catalog])
    ignored = survey.ignored  # escaped by survey: names are data
    notes = []
    if ignored:
        notes.append(say("grade_ignored", files=", ".join(ignored)))
    if survey.missing:
        notes.append(say("grade_missing", files=", ".join(survey.missing)))
    extra = {
        "environment": {
            "backprop_katas": __version__,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": numpy.__version__,
            "platform": platform.platform(),
        },
        "target": shown_name(os.fsencode(target.label)),
        "lang": current(),
        "ignored_files": ignored,
        "missing_files": survey.missing,
        "sandbox": sandbox_summary(grading),
    }
    return build(grading.catalog, checks(grading), notes, extra, time.time() - grading.started)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    grading = session.config.stash.get(GRADING_KEY, None)
    if grading is None:
        return
    grading.factory.close()  # every child is dead before the report is written: none can overwrite it
    if not any(c["status"] != TestStatus.SKIPPED for c in checks(grading)):
        grading.nothing_graded = True  # a results.json of 0 / 0 would read as a grade
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return
    if grading.json_path is not None and not grading.written:
        write_json(grading.json_path, results_json(session.config, grading), indent=2)
        grading.written = True


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    grading = config.stash.get(GRADING_KEY, None)
    if grading is None:
        return
    terminalreporter.section("grade")
    if grading.nothing_graded:
        terminalreporter.write_line(say("grade_nothing_graded"), red=True)
        return
    scores = kata_scores(grading.catalog, checks(grading))
    for kata, s in scores.items():
        terminalreporter.write_line(
            f"{kata:<24} {shown(s.earned):>6} / {shown(s.possible):<6} ({s.passed}/{s.tests} tests)"
        )
    earned, possible = total(scores.values())
    terminalreporter.write_line(say("grade_total", score=points(earned), max=points(possible)))
    terminalreporter.write_line(isolation_line(grading))
    if grading.left_out:
        files = [
            str(kata_paths(config.rootpath, k).test.relative_to(config.rootpath))
            for k in grading.catalog
            if k.id in grading.left_out
        ]
        terminalreporter.write_line(
            say("grade_bonus_left_out", katas=", ".join(grading.left_out), files=" ".join(files))
        )
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
