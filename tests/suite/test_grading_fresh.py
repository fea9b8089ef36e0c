"""No learner state survives between probe calls, and one kata's disk cannot starve another (issue 8).

Each probe call runs in a process forked from the kata server before any
learner code was imported, with a fresh writable folder removed after the
call: an answer that changes between calls (a counter at module level, or kept
in a file) scores what its honest, always-wrong code scores. A kata that fills
the disk leaves nothing behind for the learner's other katas, and a kata
server that cannot set up says why. Both modes, where a mode matters.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from grading_helpers import K01, ROOT, kata_source, pytest_grade, submission

from backprop_katas.catalog import load_catalog
from backprop_katas.grading import sandbox
from backprop_katas.grading.runner import GradingRunner, Settings
from backprop_katas.kit.loader import Target
from backprop_katas.kit.probes import k01_derivatives as K01_PROBES
from backprop_katas.kit.runner import ProbeFailed

pytestmark = pytest.mark.grading  # slow (pytest and child processes): -m 'not grading' skips

NO_BWRAP = "bwrap is not on PATH or cannot create namespaces here (apt-get install bubblewrap)"
MODES = [
    pytest.param("bwrap", marks=pytest.mark.skipif(not sandbox.bwrap_works(), reason=NO_BWRAP), id="bwrap"),
    pytest.param("fallback", id="fallback"),
]
K03, K05 = "k03_computation_graph", "k05_backprop"
SIGMOID_TESTS = "sigmoid_function"  # -k: the value tests (two backward calls first), then gradcheck, extremes

WRONG_BACKWARD = """

class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        if _wrong_now():
            return grad_output * y  # the honest bug: σ(x) instead of σ'(x)
        return grad_output * y * (1 - y)
"""
ALWAYS_WRONG = """

def _wrong_now():
    return True
"""
MODULE_COUNTER = """

_calls = [0]


def _wrong_now():
    _calls[0] += 1
    return _calls[0] <= 2  # the first two backward calls are the value tests; later ones are right
"""
FILE_COUNTER = """

import os as _os


def _wrong_now():
    cwd = _os.getcwd()
    # the most lasting place first: the kata's folder (cwd's parent), /tmp, then its own folders
    for folder in (_os.path.dirname(cwd), "/tmp", _os.environ.get("TMPDIR", ""), _os.environ.get("HOME", ""), cwd):
        path = _os.path.join(folder, "backward-calls.txt")
        try:
            count = int(open(path).read()) if _os.path.exists(path) else 0
            with open(path, "w") as f:
                f.write(str(count + 1))
        except (OSError, ValueError):
            continue
        return count + 1 <= 2
    return True
"""


def graded_k05(tmp_path: Path, mode: str, name: str, helper: str) -> dict[str, str]:
    """The status of each sigmoid test for a correct k05 whose SigmoidFunction asks ``_wrong_now()``."""
    source = kata_source(K05) + textwrap.dedent(helper) + textwrap.dedent(WRONG_BACKWARD)
    sub = submission(tmp_path / name, files={f"{K05}.py": source})
    got = pytest_grade(sub, tmp_path / f"{name}.json", "--isolation", mode, "-k", SIGMOID_TESTS, tests=(K05,))
    return {t["name"]: t["status"] for t in got["tests"]}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "counter", [pytest.param(MODULE_COUNTER, id="module-counter"), pytest.param(FILE_COUNTER, id="file-counter")]
)
@pytest.mark.slow
def test_a_backward_that_is_wrong_only_on_its_first_two_calls_scores_what_the_always_wrong_one_scores(
    tmp_path, mode, counter
):
    honest = graded_k05(tmp_path, mode, "honest", ALWAYS_WRONG)
    changing = graded_k05(tmp_path, mode, "changing", counter)
    assert honest and set(honest.values()) == {"failed"}, honest  # σ(x) for σ'(x) fails every sigmoid test
    assert changing == honest


DISK_FLOOD = """
_block = b"x" * (10 * 1024 * 1024)
for _i in range(150):  # 1.5 GB in 10 MB files: far above any learner's disk budget
    with open(f"flood-{_i}.bin", "wb") as _f:
        _f.write(_block)
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.slow
def test_a_disk_flood_at_k01s_import_leaves_the_same_learners_k03_and_k05_full_marks(tmp_path, mode):
    sub = submission(tmp_path / "flooder", files={f"{K01}.py": DISK_FLOOD})
    got = pytest_grade(sub, tmp_path / "flooder.json", "--isolation", mode, tests=(K01, K03, K05))
    by_kata: dict[str, list[dict]] = {}
    for test in got["tests"]:
        by_kata.setdefault(test["name"].split(" · ")[0], []).append(test)
    assert by_kata[K01] and all(t["status"] != "passed" for t in by_kata[K01])
    for kata in (K03, K05):
        failed = [(t["name"], t["output"][:500]) for t in by_kata[kata] if t["status"] != "passed"]
        assert by_kata[kata] and not failed, failed


@pytest.mark.slow
def test_a_kata_server_that_cannot_set_up_its_folder_says_why_in_the_feedback(tmp_path):
    runner = GradingRunner(
        Target("learner", submission(tmp_path / "learner")), 60.0, Settings(load_catalog(ROOT), isolation="fallback")
    )
    try:
        sandbox.remove_tree(runner.scratch)  # where kata servers make their folders: gone, as on a broken disk
        with pytest.raises(ProbeFailed) as failure:
            runner.run(K01_PROBES.on_floats, "function", [1.0])
        error = failure.value.error
        assert error.type == "KataStartFailed"
        assert "could not start the process for k01_derivatives" in error.message
        assert "FileNotFoundError" in error.message and "katas/k01_derivatives" in error.message
    finally:
        runner.close()
