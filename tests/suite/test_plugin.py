"""The pytest plugin and the in-process runner, driven through pytester on a tiny kata project."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

DEMO_TEST = """
def probe_double(target, value):
    return target.module("k01_demo").double(value)

def test_double_doubles(run):
    assert run(probe_double, 21) == 42
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest('pytest_plugins = ["backprop_katas.kit.plugin"]')
    pytester.makeini("[pytest]\nkatas_target = katas\nkatas_probe_timeout = 2\n")
    for folder, body in (
        ("katas", "raise NotImplementedError('k01_demo.double: return 2 * value')"),
        ("solutions", "return 2 * value"),
    ):
        (pytester.path / folder).mkdir()
        (pytester.path / folder / "k01_demo.py").write_text(f"def double(value):\n    {body}\n")
    pytester.makepyfile(test_k01_demo=DEMO_TEST)
    return pytester


def test_default_target_is_katas_and_the_header_names_it(project):
    result = project.runpytest()
    result.stdout.fnmatch_lines(["backprop-katas *: target katas (*katas), learner mode, torch *"])
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Your code raised NotImplementedError:*",
            "*k01_demo.double: return 2 * value*",
            "*at katas/k01_demo.py:2 in double*",
        ]
    )


def test_target_solutions_passes(project):
    project.runpytest("--target", "solutions").assert_outcomes(passed=1)


def test_katas_target_environment_variable_is_honoured(project, monkeypatch):
    monkeypatch.setenv("KATAS_TARGET", "solutions")
    result = project.runpytest()
    result.stdout.fnmatch_lines(["*target solutions*"])
    result.assert_outcomes(passed=1)


def test_option_wins_over_the_environment(project, monkeypatch):
    monkeypatch.setenv("KATAS_TARGET", "solutions")
    project.runpytest("--target", "katas").assert_outcomes(failed=1)


def test_a_submission_folder_loads_as_a_package_with_relative_imports(project):
    sub = project.path / "alice"
    sub.mkdir()
    (sub / "k00_helper.py").write_text("FACTOR = 2\n")
    (sub / "k01_demo.py").write_text(
        "from .k00_helper import FACTOR\n\ndef double(value):\n    return FACTOR * value\n"
    )
    result = project.runpytest("--target", str(sub))
    result.stdout.fnmatch_lines([f"*target {sub} *"])
    result.assert_outcomes(passed=1)


def test_a_missing_target_folder_is_a_usage_error(project):
    result = project.runpytest("--target", "nowhere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--target 'nowhere'*is not a folder*"])


def test_a_syntax_error_names_the_learners_file_and_line(project):
    (project.path / "katas" / "k01_demo.py").write_text("def double(value):\n    return 2 *\n")
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*Could not import katas/k01_demo.py:2: SyntaxError*", "*Fix this line and run again*"]
    )


@pytest.mark.slow
def test_a_hanging_kata_is_stopped_with_a_message(project):
    (project.path / "katas" / "k01_demo.py").write_text("def double(value):\n    while True:\n        pass\n")
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Stopped after 2 s: the code did not finish*"])


def test_a_missing_kata_file_is_named(project):
    (project.path / "katas" / "k01_demo.py").unlink()
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*k01_demo.py is missing from the target folder*"])


def test_learner_code_calling_sys_exit_is_a_failure_not_an_exit(project):
    (project.path / "katas" / "k01_demo.py").write_text("import sys\n\ndef double(value):\n    sys.exit(0)\n")
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Your code raised SystemExit*"])


def test_markers_are_registered(project):
    result = project.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.kata(id):*", "@pytest.mark.reference_only:*"])


def test_self_checks_are_collected_only_for_maintainers(pytester, monkeypatch):
    # tests/suite holds maintainer checks: `pytest` (learner) skips the folder, --target solutions runs it.
    # The rule lives in the repository's conftest.py, not in the shipped plugin.
    rules = (Path(__file__).resolve().parents[2] / "conftest.py").read_text(encoding="utf-8")
    pytester.makeconftest(
        rules.replace('pytest_plugins = ["pytester"]', 'pytest_plugins = ["backprop_katas.kit.plugin"]')
    )
    pytester.makeini("[pytest]\nkatas_target = katas\n")
    for folder in ("katas", "solutions"):
        (pytester.path / folder).mkdir()
    suite = pytester.path / "tests" / "suite"
    suite.mkdir(parents=True)
    (suite / "test_self.py").write_text("def test_maintainer_check():\n    pass\n")
    pytester.runpytest("tests").assert_outcomes()
    pytester.runpytest("tests", "--target", "solutions").assert_outcomes(passed=1)
    pytester.runpytest("tests/suite").assert_outcomes(passed=1)


def test_autograd_is_refused_inside_forbid_autograd(project):
    project.makepyfile(
        test_k02_hand=textwrap.dedent(
            """
            import torch
            from backprop_katas.kit.runner import forbid_autograd

            def probe(target):
                x = torch.ones(2, requires_grad=True)
                with forbid_autograd("k02.by_hand"):
                    (x * x).sum().backward()

            def test_by_hand(run):
                run(probe)
            """
        )
    )
    result = project.runpytest("test_k02_hand.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*k02.by_hand must compute gradients by hand, but it called Tensor.backward()*"])


@pytest.mark.slow
def test_target_path_never_imports_the_submissions_conftest(project, tmp_path_factory):
    # pytest must know --target before it reads its arguments (entry point, not conftest.py):
    # otherwise `--target PATH` makes PATH look like a test folder and PATH/conftest.py runs here.
    sub = tmp_path_factory.mktemp("mallory")
    (sub / "k01_demo.py").write_text("def double(value):\n    return 2 * value\n")
    (sub / "conftest.py").write_text("raise SystemExit('the submission conftest ran in the grader')\n")
    result = project.runpytest_subprocess("--target", str(sub))
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_the_plugin_stays_out_of_other_projects(pytester):
    pytester.makepyfile(test_other="def test_other():\n    assert True\n")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    assert "backprop-katas 0.1.0: target" not in result.stdout.str()
