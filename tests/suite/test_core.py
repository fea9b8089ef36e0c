"""The shared core pieces every wing uses: kinds, one process-group killer, one pytest command,
one atomic JSON writer, one content digest, and the kata conventions of the catalog."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import ROOT

from backprop_katas.catalog import kata_of_test, kata_paths, load_catalog, span, total_points
from backprop_katas.files import digest, files_digest, write_json
from backprop_katas.grading import wire
from backprop_katas.kinds import ProbeErrorKind, Status, TestStatus
from backprop_katas.kit.failure import ProbeError
from backprop_katas.procs import kill_group, pytest_command

CATALOG = load_catalog(ROOT)


# --- kinds -------------------------------------------------------------------------------------


@pytest.mark.parametrize("member", [*ProbeErrorKind, *Status, *TestStatus], ids=str)
def test_a_kind_prints_travels_and_compares_as_its_plain_value(member):
    assert f"{member}" == str(member) == member.value
    assert f"[{member:>12}]" == f"[{member.value:>12}]"
    assert json.loads(json.dumps({"kind": member})) == {"kind": member.value}
    assert member == member.value and {member.value: 1}[member] == 1


def test_a_probe_error_from_plain_strings_carries_the_enum_and_refuses_an_unknown_kind():
    error = ProbeError("stub", "NotImplementedError", "k01_derivatives.function: write it", "", "")
    assert error.kind is ProbeErrorKind.STUB
    with pytest.raises(ValueError):
        ProbeError("exploded", "X", "", "", "")


def test_a_probe_error_crosses_the_grading_wire_with_its_kind():
    sent = ProbeError(ProbeErrorKind.TIMEOUT, "ProbeTimeout", "60.0", "", "")
    got = wire.decode(json.loads(wire.dumps(sent)))
    assert got == sent and got.kind is ProbeErrorKind.TIMEOUT


def test_an_unknown_probe_error_kind_on_the_wire_is_refused():
    with pytest.raises(wire.WireError):
        wire.decode({"#": "error", "v": ["exploded", "X", "", "", ""]})


# --- one atomic JSON writer ------------------------------------------------------------------


def test_write_json_writes_the_whole_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "deep" / "results.json"
    write_json(path, {"name": "학습자", "score": 1.5}, indent=2)
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "학습자", "score": 1.5}
    assert '\n  "name": "학습자"' in path.read_text(encoding="utf-8")  # indented for people, Hangul kept
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]


def test_write_json_keeps_the_old_file_when_the_data_cannot_be_written(tmp_path):
    path = tmp_path / "cache.json"
    write_json(path, {"old": True})
    with pytest.raises(TypeError):
        write_json(path, {"new": object()})
    assert json.loads(path.read_text(encoding="utf-8")) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]


def test_write_json_keeps_a_name_that_is_not_utf8_as_a_json_escape(tmp_path):
    name = os.fsdecode(b"caf\xe9")  # a learner's folder name from a Latin-1 file system
    write_json(tmp_path / "r.json", {"learner": name})
    text = (tmp_path / "r.json").read_bytes().decode("utf-8")  # valid UTF-8 throughout
    assert "\\udce9" in text and json.loads(text) == {"learner": name}


# --- one content digest ------------------------------------------------------------------------


def test_digest_is_sha256_of_length_prefixed_parts():
    expected = hashlib.sha256(b"\x02" + b"\0" * 7 + b"ab" + b"\x01" + b"\0" * 7 + b"c").hexdigest()
    assert digest(b"ab", b"c") == expected


def test_digest_tells_where_one_part_ends():
    assert digest(b"ab", b"c") != digest(b"a", b"bc") != digest(b"abc")


def test_files_digest_depends_on_names_contents_and_order():
    files = [("a.py", b"x = 1\n"), ("b.py", b"y = 2\n")]
    assert files_digest(files) == files_digest([(b"a.py", b"x = 1\n"), (b"b.py", b"y = 2\n")])
    assert files_digest(files) != files_digest(files[::-1])
    assert files_digest(files) != files_digest([("a.py", b"x = 1\n"), ("c.py", b"y = 2\n")])
    assert files_digest(files) != files_digest([("a.py", b"x = 1\n"), ("b.py", b"y = 3\n")])


# --- one process-group killer, one pytest command ----------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _group(script: str) -> tuple[subprocess.Popen[bytes], int]:
    """A child leading its own group, and the pid of a grandchild it started (in the same group)."""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True)
    assert proc.stdout is not None
    grandchild = int(proc.stdout.readline())
    return proc, grandchild


SLEEPER = (
    "import subprocess, sys, time\n"
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print(p.pid, flush=True)\n"
    "time.sleep(60)\n"
)
STUBBORN = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + SLEEPER


def _wait_gone(pid: int, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_kill_group_stops_the_child_and_what_it_started():
    proc, grandchild = _group(SLEEPER)
    kill_group(proc)
    assert proc.returncode == -signal.SIGKILL
    assert _wait_gone(grandchild), "the grandchild outlived its group"


def test_kill_group_with_grace_asks_first_and_kills_a_child_that_ignores_it():
    proc, grandchild = _group(STUBBORN)
    started = time.monotonic()
    kill_group(proc, grace=0.5)
    assert proc.returncode == -signal.SIGKILL and time.monotonic() - started >= 0.5
    assert _wait_gone(grandchild)


def test_kill_group_with_grace_lets_a_polite_child_end_on_sigterm():
    proc, grandchild = _group(SLEEPER)
    kill_group(proc, grace=5)
    assert proc.returncode == -signal.SIGTERM
    assert _wait_gone(grandchild)


def test_kill_group_takes_a_pid_and_a_group_that_is_gone_is_no_error():
    proc, grandchild = _group(SLEEPER)
    kill_group(proc.pid)
    proc.wait(timeout=5)
    assert proc.returncode == -signal.SIGKILL and _wait_gone(grandchild)
    kill_group(proc.pid)
    kill_group(proc)


def test_pytest_command_runs_pytest_in_this_interpreter():
    assert pytest_command("-q", "tests") == [sys.executable, "-m", "pytest", "-q", "tests"]
    assert pytest_command("-q", python="/opt/py")[:3] == ["/opt/py", "-m", "pytest"]


# --- the kata conventions ----------------------------------------------------------------------


def test_kata_paths_name_every_file_of_a_kata():
    paths = kata_paths(ROOT, "k05_backprop")
    assert paths.solution == ROOT / "solutions" / "k05_backprop.py"
    assert paths.stub == ROOT / "katas" / "k05_backprop.py"
    assert paths.test == ROOT / "tests" / "test_k05_backprop.py"
    assert paths.probe.parts[-4:] == ("backprop_katas", "kit", "probes", "k05_backprop.py")
    assert paths.probe_module == "backprop_katas.kit.probes.k05_backprop"
    assert kata_paths(ROOT, CATALOG[4]) == paths
    assert kata_paths(ROOT, "k05_backprop", ROOT / "src" / "backprop_katas").probe.is_file()


@pytest.mark.parametrize(
    "name, kata",
    [
        ("tests/test_k05_backprop.py", "k05_backprop"),
        ("test_k05_backprop.py", "k05_backprop"),
        ("tests/test_k05_backprop.py::test_sigmoid_backward[float64]", "k05_backprop"),
        ("tests.test_k03_computation_graph", "k03_computation_graph"),
        ("tests/suite/test_cli.py", None),
        ("tests/test_k09_nothing.py", None),
        ("k05_backprop.py", None),
    ],
    ids=["path", "file-name", "node-id", "junit-class", "suite-test", "not-in-catalog", "not-a-test"],
)
def test_a_test_file_maps_back_to_its_kata(name, kata):
    assert kata_of_test(name, CATALOG) == kata


def test_every_kata_test_file_maps_back_to_its_kata():
    for kata in CATALOG:
        assert kata_of_test(kata_paths(ROOT, kata).test, CATALOG) == kata.id


def test_the_count_and_the_points_come_from_the_catalog():
    assert total_points(CATALOG) == sum(k.points for k in CATALOG if not k.bonus) > 0  # a bonus kata has its own
    assert span(CATALOG) == f"{CATALOG[0].number}–{CATALOG[-1].number}"
    assert span(CATALOG[:2]) == "k01–k02" and span([]) == ""


# --- hints keyed to functions: the failing function's hints first ------------------------------


@pytest.mark.parametrize(
    ("kata_id", "failing", "first_words"),
    [
        ("k02_parameters", "k02_parameters.mlp_parameter_count", "A layer from n_in to n_out"),
        ("k05_backprop", "k05_backprop.SigmoidFunction.backward", "Going back through a sigmoid"),
        ("k02_parameters", "k02_parameters.Network", "Create the layers in __init__"),
        ("k02_parameters", "", "Create the layers in __init__"),  # no function known: the catalogue's order
    ],
)
def test_the_hints_of_the_failing_function_come_first(kata_id, failing, first_words):
    from backprop_katas.catalog import load_catalog

    kata = next(k for k in load_catalog(ROOT) if k.id == kata_id)
    order = kata.hint_order(failing)
    assert sorted(order) == list(range(len(kata.hints["en"])))
    assert kata.hints["en"][order[0]].startswith(first_words)
