"""Grading mode: learner code runs in a limited child, judging stays in the grader (issue 5).

Most checks grade k01 only (each run is a pytest process plus a child:
seconds); one end-to-end check grades every kata.
"""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from grading_helpers import K01, KATA_IDS, ROOT, TOTAL_POINTS, kata_source, pytest_grade, submission

from backprop_katas.grading import sandbox, wire
from backprop_katas.kit import warm
from backprop_katas.kit.failure import ProbeError
from backprop_katas.kit.plain import Unplain

pytestmark = pytest.mark.grading  # slow (pytest and child processes): -m 'not grading' skips

# --- the wire: plain data only -----------------------------------------------------------------


def test_wire_round_trips_plain_data_exactly():
    value = {
        "y": np.arange(6, dtype=np.float32).reshape(2, 3),
        "flags": np.array([True, False]),
        "history": [[0, 0.69], [1000, 0.25]],
        "pair": (1, "a", None, float("nan")),
        "scalar": np.float64(2.5),
        "odd": Unplain("Network", "Network(...)"),
        "error": ProbeError("stub", "NotImplementedError", "k01: todo", "sub/k01.py:3", ""),
    }
    back = wire.loads(wire.dumps(value))
    assert back["y"].dtype == np.float32 and np.array_equal(back["y"], value["y"])
    assert back["flags"].dtype == np.bool_
    assert back["pair"][:3] == (1, "a", None) and np.isnan(back["pair"][3])
    assert back["scalar"] == 2.5 and back["odd"] == value["odd"] and back["error"] == value["error"]


def test_wire_refuses_object_arrays_pickles_and_unknown_tags():
    with pytest.raises(wire.WireError):
        wire.dumps(np.array([object()], dtype=object))
    import base64
    import io
    import pickle

    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)  # what a forged frame would carry
    forged = f'{{"#": "array", "v": "{base64.b64encode(buffer.getvalue()).decode()}"}}'
    with pytest.raises(wire.WireError):
        wire.loads(forged.encode())
    with pytest.raises(wire.WireError):
        wire.loads(b'{"#": "pickle", "v": "%s"}' % base64.b64encode(pickle.dumps(1)))


def test_the_copy_holds_only_kata_files_never_through_a_symlink(tmp_path):
    sub = submission(tmp_path / "ann", files={"conftest.py": "", "torch.py": "", "sitecustomize.py": ""})
    (sub / "k02_parameters.py").unlink()
    (sub / "k02_parameters.py").symlink_to(ROOT / "solutions" / "k02_parameters.py")
    copy = sandbox.copy_submission(sub, ["k01_derivatives.py", "k02_parameters.py"], tmp_path / "copy")
    assert sorted(p.name for p in copy.path.iterdir()) == ["k01_derivatives.py"]
    assert copy.missing == ["k02_parameters.py"]
    assert {"conftest.py", "torch.py", "sitecustomize.py"} <= set(copy.ignored)


# --- grading through pytest --------------------------------------------------------------------


@pytest.mark.slow
def test_solutions_score_full_marks_and_stubs_score_zero_with_their_stub_message(tmp_path):
    solutions = pytest_grade(ROOT / "solutions", tmp_path / "s.json", "--junitxml", str(tmp_path / "j.xml"))
    assert solutions["score"] == solutions["max_score"] == 10
    assert all(t["status"] == "passed" for t in solutions["extra_data"]["checks"])
    assert solutions["extra_data"]["environment"]["torch"]
    properties = {p.get("name") for p in ET.parse(tmp_path / "j.xml").getroot().iter("property")}
    assert {"kata", "part", "status"} <= properties

    stubs = pytest_grade(ROOT / "katas", tmp_path / "k.json")
    assert stubs["score"] == 0 and stubs["max_score"] == 10
    checks = stubs["extra_data"]["checks"]
    assert all("NotImplementedError" in t["output"] and "k01_derivatives." in t["output"] for t in checks)


HONEST_BUG = "\n\ndef prime_function(x):\n    return x  # a learner's mistake: forgot the 2\n"
PATCHES = textwrap.dedent(
    """
    import numpy as _np
    import torch as _torch
    _torch.allclose = lambda *a, **k: True
    _torch.equal = lambda *a, **k: True
    _torch.Tensor.__eq__ = lambda self, other: _torch.ones_like(self, dtype=_torch.bool)
    _np.allclose = lambda *a, **k: True
    _np.array_equal = lambda *a, **k: True
    """
)


@pytest.mark.slow
def test_patching_allclose_and_eq_changes_nothing_but_the_childs_own_copy(tmp_path):
    honest = submission(tmp_path / "honest", files={f"{K01}.py": kata_source() + HONEST_BUG})
    hostile = submission(tmp_path / "hostile", files={f"{K01}.py": kata_source() + HONEST_BUG + PATCHES})
    deserved = pytest_grade(honest, tmp_path / "honest.json")
    got = pytest_grade(hostile, tmp_path / "hostile.json")
    assert 0 < deserved["score"] < deserved["max_score"]
    # Patching torch at import changes nothing the judge sees; it does make the sigmoids' ready-made
    # rule unverifiable, so the source check refuses those parts: never more than the honest score.
    assert got["score"] <= deserved["score"]
    kept = [
        (t["part"], t["status"]) for t in got["extra_data"]["checks"] if t["part"] not in ("sigmoid", "sigmoid_prime")
    ]
    assert kept == [
        (t["part"], t["status"])
        for t in deserved["extra_data"]["checks"]
        if t["part"] not in ("sigmoid", "sigmoid_prime")
    ]


FORGER = textwrap.dedent(
    """
    import json, os
    fake = {"score": 100, "max_score": 100, "tests": []}
    for path in ["results.json", "../results.json", os.path.expanduser("~/results.json")]:
        try:
            open(path, "w").write(json.dumps(fake))
        except OSError:
            pass
    pid = os.getppid()  # walk up to the grader and overwrite the report it was told to write
    while pid > 1:
        try:
            args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
            if b"--grade-json" in args:
                open(args[args.index(b"--grade-json") + 1], "w").write(json.dumps(fake))
            pid = int(open(f"/proc/{pid}/stat").read().split(")")[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    os._exit(0)
    """
)


@pytest.mark.parametrize("landlock", ["landlock", "no-landlock"])
@pytest.mark.slow
def test_a_forged_results_json_and_exit_0_score_zero(tmp_path, landlock):
    # Without Landlock the forger does overwrite the report while it runs; the grader writes
    # the real one after every child is dead, so the forgery never survives.
    forger = submission(
        tmp_path / "forger", "katas", files={f"{K01}.py": kata_source("k01_derivatives", "katas") + FORGER}
    )
    extra = () if landlock == "landlock" else ("--no-landlock",)
    got = pytest_grade(forger, tmp_path / "results.json", *extra, fresh=True)  # it reads the command line
    assert got["score"] == 0 and got["max_score"] == 10
    assert "ended before it answered" in got["extra_data"]["checks"][0]["output"]


CONFTEST = textwrap.dedent(
    """
    import pytest

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(item, call):
        report = yield
        report.outcome = "passed"
        return report
    """
)


@pytest.mark.slow
def test_a_shipped_conftest_sitecustomize_and_torch_py_are_ignored_and_listed(tmp_path):
    shipped = {
        "conftest.py": CONFTEST,
        "sitecustomize.py": "import torch\ntorch.allclose = lambda *a, **k: True\n",
        "torch.py": "raise SystemExit('fake torch')\n",
        "pytest.ini": "[pytest]\naddopts = -p no:backprop_katas\n",
    }
    stubs = submission(tmp_path / "stubs", "katas", files=shipped)
    got = pytest_grade(stubs, tmp_path / "r.json")
    assert got["score"] == 0
    assert set(shipped) <= set(got["extra_data"]["ignored_files"])
    full = submission(tmp_path / "full", "solutions", files=shipped)
    assert pytest_grade(full, tmp_path / "f.json")["score"] == 10


SPY = textwrap.dedent(
    """
    def function(x):
        try:
            text = open({path!r}).read()
        except OSError as exc:
            raise RuntimeError("blocked: " + type(exc).__name__)
        raise RuntimeError("read the solutions: " + str(len(text)))
    """
)


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("bwrap", marks=pytest.mark.skipif(not sandbox.bwrap_works(), reason="bwrap is not usable here")),
        "fallback",
    ],
)
@pytest.mark.slow
def test_the_child_cannot_read_solutions_and_stays_within_its_limits(tmp_path, mode):
    if not sandbox.landlock_available():
        pytest.skip("Landlock is not available on this kernel")
    hog = "\n\ndef sigmoid(x):\n    import torch\n    return torch.ones(2**31)  # 8 GB\n"
    spin = "\n\ndef sigmoid_prime(x):\n    import signal\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n        pass\n"
    spy = SPY.format(path=str(ROOT / "solutions" / f"{K01}.py"))
    sub = submission(tmp_path / "spy", files={f"{K01}.py": kata_source() + spy + hog + spin})
    got = pytest_grade(sub, tmp_path / "r.json", "--probe-timeout", "2", "--kata-time-limit", "20", "--isolation", mode)
    outputs = {t["name"]: t["output"] for t in got["extra_data"]["checks"]}
    spied = [o for n, o in outputs.items() if "test_function_" in n]
    blocked = "blocked: FileNotFoundError" if mode == "bwrap" else "blocked: PermissionError"  # bwrap: not there
    assert spied and all(blocked in o for o in spied), spied[:1]
    hogged = [o for n, o in outputs.items() if "test_sigmoid_matches" in n]
    assert hogged and all("RuntimeError" in o or "MemoryError" in o for o in hogged), hogged[:1]
    spun = [o for n, o in outputs.items() if "test_sigmoid_prime" in n]
    assert spun and all(re.search("Stopped after|grading time|stopped too often", o) for o in spun), spun[:1]
    passed = [n for n, o in outputs.items() if "numerical_derivative" in n]
    assert passed and all(t["status"] == "passed" for t in got["extra_data"]["checks"] if t["name"] in passed)
    assert got["extra_data"]["sandbox"]["landlock"]["files"] is True


HIDDEN = textwrap.dedent(
    '''
    import numpy as np
    import pytest

    from backprop_katas.kit.probes import k01_derivatives as P

    KATA = "k01_derivatives"
    SECRET = 123.456789


    @pytest.mark.part("prime_function")
    def test_secret_instructor_case(run):
        """prime_function is exact at a large input."""
        got = run(P.elementwise, "prime_function", np.array([SECRET]), "float64")["y"]
        assert np.allclose(got, [2 * SECRET]), f"prime_function({SECRET}) gave {got}"
    '''
)
OWN_PROBE = textwrap.dedent(
    '''
    import pytest

    KATA = "k01_derivatives"
    SECRET = 123.456789


    def probe_secret(target):
        return target.module(KATA).prime_function(SECRET)


    PROBES = {"secret": probe_secret}  # handed over indirectly: the preflight's reading of run(...) misses it


    @pytest.mark.part("prime_function")
    def test_an_instructor_case_with_its_own_probe(run):
        """A hidden test that defines its own probe."""
        assert run(PROBES["secret"]) == 2 * SECRET
    '''
)


@pytest.mark.slow
def test_hidden_tests_count_but_never_show_their_names_or_inputs(tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_k01_extra.py").write_text(HIDDEN, encoding="utf-8")
    leaky = "\n\ndef prime_function(x):\n    raise ValueError('the input was ' + repr(x.tolist()))\n"
    sub = submission(tmp_path / "leaky", files={f"{K01}.py": kata_source() + leaky})
    got = pytest_grade(sub, tmp_path / "r.json", f"--hidden-tests={hidden}")
    hidden_tests = [t for t in got["extra_data"]["checks"] if t["hidden"]]
    assert len(hidden_tests) == 1 and hidden_tests[0]["status"] == "failed"
    assert "\n" not in hidden_tests[0]["name"]
    everything = got["tests"] + got["extra_data"]["checks"]
    text = "\n".join(t["name"] + t["output"] for t in everything) + got["output"]
    assert "123.45" not in text and "secret_instructor_case" not in text
    assert "prime_function is exact at a large input" in hidden_tests[0]["output"]
    good = pytest_grade(ROOT / "solutions", tmp_path / "s.json", f"--hidden-tests={hidden}")
    assert good["score"] == good["max_score"] == 10 and len(good["tests"]) == len(got["tests"])


@pytest.mark.slow
def test_a_probe_outside_the_kit_fails_its_test_for_the_author_and_never_enters_the_child(tmp_path):
    # Only backprop_katas.kit.probes.* and the inputs reach learner code: a hidden test's own probe
    # would carry its module (names, inputs, expected values) into the child. The preflight stops
    # `run(probe_defined_here, ...)` before grading (test_preflight.py); this one is handed over
    # through a dict, which the preflight does not follow, so the runner's own refusal is tested.
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_k01_own.py").write_text(OWN_PROBE, encoding="utf-8")
    got = pytest_grade(ROOT / "solutions", tmp_path / "r.json", f"--hidden-tests={hidden}", "-k", "own_probe")
    assert [t["status"] for t in got["extra_data"]["checks"]] == ["failed"]
    assert "ProbeOutsideKit" in got["_stdout"] and "probes for grading live in" in got["_stdout"].lower()


def test_the_child_imports_only_the_kits_probe_modules_and_refuses_any_other():
    from backprop_katas.catalog import load_catalog
    from backprop_katas.grading import child

    modules = warm.probe_modules()
    assert sorted(modules) == sorted(f"backprop_katas.kit.probes.{k.id}" for k in load_catalog(ROOT))
    for module in modules.values():
        assert not [name for name in vars(module) if name.startswith(("test_", "expect", "judge"))], module
    refusal = child.refused_module("tests.test_k01_derivatives")
    assert refusal.type == "ProbeOutsideKit" and "backprop_katas.kit.probes" in refusal.message


@pytest.mark.slow
def test_output_is_capped_for_the_learner(tmp_path):
    shout = "\n\ndef function(x):\n    raise ValueError('x' * 100_000)\n"
    sub = submission(tmp_path / "shout", files={f"{K01}.py": kata_source() + shout})
    got = pytest_grade(sub, tmp_path / "r.json", "-k", "function_squares")
    assert got["tests"] and all(len(t["output"]) < 6000 for t in got["tests"] + got["extra_data"]["checks"])


@pytest.mark.slow
def test_all_six_katas_end_to_end(graded_six):
    mode = sandbox.resolve_isolation("auto")  # what a grade without --isolation uses here
    got = graded_six("solutions", mode)  # the same grade test_grading_isolation's honest-code check reads
    assert got["score"] == got["max_score"] == TOTAL_POINTS, [
        t["name"] for t in got["tests"] if t["status"] != "passed"
    ]
    stubs = graded_six("katas", mode)
    assert stubs["score"] == 0
    katas = stubs["extra_data"]["katas"]
    assert sorted(katas) == list(KATA_IDS) and all(k["passed"] == 0 for k in katas.values())
    graded = [t for t in stubs["extra_data"]["checks"] if t["status"] != "skipped"]  # reference_only: not graded
    assert graded and all("NotImplementedError" in t["output"] for t in graded)


@pytest.mark.slow
def test_the_grade_option_family_needs_grade(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--grade-json", str(tmp_path / "x.json"), "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "--grade" in done.stderr
    assert not Path(tmp_path / "x.json").exists()


@pytest.mark.slow
def test_a_process_the_source_check_cannot_see_is_refused_in_the_child(tmp_path):
    # getattr with a computed name is allowed outside by-hand functions, so only the child's
    # run-time door (runner.no_processes) stands between this call and a shell.
    hidden = (
        "\n\nimport os\n\n_real_function = function\n\n\ndef function(x):\n"
        '    getattr(os, "sys" + "tem")("true")\n    return _real_function(x)\n'
    )
    sub = submission(tmp_path / "spawner", files={f"{K01}.py": kata_source() + hidden})
    got = pytest_grade(sub, tmp_path / "r.json", "-k", "function_squares or sigmoid_matches")
    checks = [c for c in got["extra_data"]["checks"] if c["status"] != "skipped"]
    squares = [c for c in checks if "function_squares" in c["name"]]
    assert squares and all(c["status"] != "passed" and "may not start processes" in c["output"] for c in squares)
    assert [c for c in checks if "sigmoid_matches" in c["name"]] and all(
        c["status"] == "passed" for c in checks if "sigmoid_matches" in c["name"]
    )
