"""Isolation of grading (issue 8): what a hostile submission can reach, in both modes.

Each attack replaces ``k01_derivatives.function`` in an otherwise correct
submission and is graded with ``-k function_squares``: an attack that works
returns the right answer (and passes), one that is stopped reports what
stopped it (or dies). Every check runs in ``bwrap`` and in ``fallback`` mode.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from grading_helpers import K01, ROOT, TOTAL_POINTS, kata_source, katas_cli, pytest_grade, submission

from backprop_katas.grading import sandbox

pytestmark = pytest.mark.grading  # slow (pytest and child processes): -m 'not grading' skips

NO_BWRAP = "bwrap is not on PATH or cannot create namespaces here (apt-get install bubblewrap)"
MODES = [
    pytest.param("bwrap", marks=pytest.mark.skipif(not sandbox.bwrap_works(), reason=NO_BWRAP), id="bwrap"),
    pytest.param("fallback", id="fallback"),
]
SELECT = "function_squares"
NO_CGROUPS = pytest.mark.skipif(
    not sandbox.cgroups_available(), reason="no cgroup may be made here: processes are capped only by rlimits"
)


def attack(tmp_path: Path, mode: str, body: str, name: str = "hostile", **values: object) -> dict:
    """Grade a correct k01 whose ``function`` is ``body``; the results.json (with a private TMPDIR)."""
    code = textwrap.dedent(body)
    for key, value in values.items():
        code = code.replace(key, repr(value))
    sub = submission(tmp_path / name, files={f"{K01}.py": kata_source() + "\n\n" + code})
    private = tmp_path / f"tmp-{name}"
    private.mkdir()
    got = pytest_grade(sub, tmp_path / f"{name}.json", "--isolation", mode, "-k", SELECT, env={"TMPDIR": str(private)})
    got["_leftovers"] = sorted(p.name for p in private.iterdir())
    return got


def outputs(results: dict) -> list[str]:
    return [t["output"] for t in results["tests"]]


def processes_with(marker: str) -> list[int]:
    """Pids whose command line holds ``marker`` (a daemon a submission started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


REACH = """
import json as _json, os as _os, socket as _socket


def _try(action):
    try:
        action()
        return "open"
    except OSError as exc:
        return "blocked " + type(exc).__name__


def _read(path):
    with open(path, "rb") as handle:
        handle.read(1)


def _capabilities():
    try:
        return [line.split()[1] for line in open("/proc/self/status") if line.startswith("CapEff")][0]
    except OSError:
        return "unreadable"  # Landlock: /proc/self is not among the readable paths


def function(x):
    report = {
        "tcp": _try(lambda: _socket.create_connection(("127.0.0.1", _PORT_), timeout=2).close()),
        "shadow": _try(lambda: _read("/etc/shadow")),
        "secret": _try(lambda: _read(_SECRET_)),
        "other_learner": _try(lambda: _os.listdir(_OTHER_)),
        "signal_outsider": _try(lambda: _os.kill(_OUTSIDER_, 0)),
        "signal_parent": _try(lambda: _os.kill(_os.getppid(), 0)),
        "uid": _os.getuid(),
        "capabilities": _capabilities(),
    }
    raise RuntimeError("REPORT " + _json.dumps(report) + " END")
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.slow
def test_the_child_reaches_no_network_no_secret_file_no_other_learner_and_no_outside_process(tmp_path, mode):
    listener = socket.create_server(("127.0.0.1", 0))
    secret = tmp_path / "secret.txt"
    secret.write_text("instructor only")
    secret.chmod(0o600)
    other = submission(tmp_path / "other-learner")
    outsider = subprocess.Popen(["sleep", "120"])
    try:
        got = attack(
            tmp_path,
            mode,
            REACH,
            _PORT_=listener.getsockname()[1],
            _SECRET_=str(secret),
            _OTHER_=str(other),
            _OUTSIDER_=outsider.pid,
        )
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever connected
    finally:
        outsider.kill()
        outsider.wait()
        listener.close()
    match = re.search(r"REPORT (.*?) END", outputs(got)[0])
    assert match, outputs(got)[0]
    report = json.loads(match.group(1))
    for door in ("tcp", "shadow", "secret", "other_learner", "signal_outsider"):
        assert report[door].startswith("blocked"), (door, report)
    assert report["capabilities"] in ("0000000000000000", "unreadable"), report
    box = got["extra_data"]["sandbox"]
    assert box["isolation"] == mode
    assert report["signal_parent"].startswith("blocked")  # Landlock scoping: the zygote is outside
    if mode == "bwrap":
        assert box["uid"] != 0 and report["uid"] != 0  # as the grader sees it, and as the child does
    else:
        assert box["uid"] != 0 or "without capabilities" in box["privileges"]
    assert got["_leftovers"] == []


SHARED_HOG = """
def function(x):
    import mmap
    size = 2 * 1024**3  # 2 GiB of shared anonymous memory: RLIMIT_DATA does not count it
    block = mmap.mmap(-1, size, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
    for offset in range(0, size, 4096):
        block[offset] = 1
    return x * x
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.slow
def test_a_shared_memory_hog_is_stopped_under_a_1_gib_limit(tmp_path, mode):
    got = attack(tmp_path, mode, SHARED_HOG)
    assert got["extra_data"]["sandbox"]["limits"]["memory_mb"] == 1024
    assert got["tests"] and all(t["status"] == "failed" for t in got["tests"])
    assert any("ended before it answered" in o or "MemoryError" in o for o in outputs(got)), outputs(got)[0]
    assert got["_leftovers"] == []


FORK_LOOP = """
def function(x):
    import os
    count = 0
    try:
        for _ in range(200):
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", _MARK_])
            count += 1
    except OSError:
        pass
    raise RuntimeError(f"FORKS {count} END")
"""


@NO_CGROUPS
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.slow
def test_a_fork_loop_is_capped_and_its_processes_die_with_the_kata(tmp_path, mode):
    mark = "761.125"
    got = attack(tmp_path, mode, FORK_LOOP, _MARK_=mark)
    # Two layers: kata code may not start a process (runner.no_processes refuses os.fork while a probe
    # runs), and behind it the pids cgroup caps what a bypass could start. The refusal meets this loop first.
    counts = [int(m.group(1)) for o in outputs(got) if (m := re.search(r"FORKS (\d+) END", o))]
    refused = [o for o in outputs(got) if "ProcessForbidden" in o]
    assert refused or counts, outputs(got)[0]
    assert not counts or max(counts) < sandbox.Limits.processes
    assert processes_with(mark) == []


DISK_FLOOD = """
def function(x):
    block = b"x" * (8 << 20)  # 8 MB files: each under RLIMIT_FSIZE, together 1 GB
    written = 0
    try:
        for i in range(128):
            with open(f"flood{i}", "wb") as handle:
                handle.write(block)
            written += 8
    except OSError:
        pass
    raise RuntimeError(f"DISK {written} END")
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.slow
def test_a_disk_flood_is_capped(tmp_path, mode):
    got = attack(tmp_path, mode, DISK_FLOOD)
    limit = sandbox.Limits.disk_mb
    for output in outputs(got):
        match = re.search(r"DISK (\d+) END", output)
        assert (match and int(match.group(1)) <= limit) or f"more than {limit} MB" in output, output
    assert all(t["status"] == "failed" for t in got["tests"])
    assert got["_leftovers"] == []


DAEMON = """
def function(x):
    import os
    child = os.fork()
    if child == 0:
        os.setsid()  # out of the kata server's process group and session
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", _MARK_])
        os._exit(0)
    os.waitpid(child, 0)
    return x * x
"""


@NO_CGROUPS
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.slow
def test_a_setsid_double_forked_daemon_does_not_outlive_grading(tmp_path, mode):
    mark = "877.375"
    got = attack(tmp_path, mode, DAEMON, _MARK_=mark)
    # The first fork is refused (kata code may not start processes); whatever a bypass started would
    # still be killed with the kata. Either way no daemon outlives grading.
    assert got["tests"] and all(
        t["status"] == "passed" or "ProcessForbidden" in t.get("output", "") for t in got["tests"]
    ), outputs(got)[0]
    assert processes_with(mark) == []


STOPPER = """
import os as _os, signal as _signal


def _parent_of(pid):
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])


def function(x):
    zygote = _os.getppid()
    for pid in (_parent_of(zygote), zygote):  # whoever started the zygote (the grader), then the zygote
        try:
            _os.kill(pid, _SIGNAL_)
        except OSError:
            pass
    return x * x
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.slow
def test_a_clean_learner_after_one_who_stops_or_kills_its_zygote_and_grader_gets_full_marks(tmp_path, mode):
    subs = tmp_path / "class"
    subs.mkdir()
    for name, sig in (("a-stopper", "SIGSTOP"), ("c-killer", "SIGKILL")):
        code = STOPPER.replace("_SIGNAL_", f"_signal.{sig}")
        submission(subs / name, files={f"{K01}.py": kata_source() + "\n\n" + code})
    submission(subs / "b-clean")
    submission(subs / "d-clean")
    out = tmp_path / "out"
    start = time.monotonic()
    done = katas_cli(
        "grade",
        str(subs),
        "--out",
        str(out),
        "--kata",
        "k01",
        "-k",
        SELECT,
        "--workers",
        "1",
        "--no-progress",
        "--isolation",
        mode,
    )
    seconds = time.monotonic() - start
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"Isolation used: {mode}" in done.stdout
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        scores = {r[0]: (r[1], r[2]) for r in db.execute("SELECT learner, score, max_score FROM grades")}
    assert sorted(scores) == ["a-stopper", "b-clean", "c-killer", "d-clean"]
    for clean in ("b-clean", "d-clean"):
        score, maximum = scores[clean]
        assert score == maximum > 0, (clean, scores)
    assert seconds < 240


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.slow
def test_honest_code_gets_the_same_results_in_both_modes_and_leaves_no_temporary_file(graded_six, mode):
    got = graded_six("solutions", mode)  # all six katas, a private TMPDIR
    assert got["score"] == got["max_score"] == TOTAL_POINTS, [
        t["name"] for t in got["tests"] if t["status"] != "passed"
    ]
    assert f"isolation: {mode}" in got["_stdout"]
    assert got["_leftovers"] == []  # no katas-grade-*, katas-zygote-*, torchinductor_*


@pytest.mark.slow
def test_auto_isolation_falls_back_without_bwrap_and_an_explicit_bwrap_then_refuses(tmp_path):
    no_bwrap = {"PATH": str(tmp_path)}  # an empty folder: no bwrap on PATH
    got = pytest_grade(
        ROOT / "solutions", tmp_path / "a.json", "-k", "function_squares and float64", env=no_bwrap, fresh=True
    )
    assert got["extra_data"]["sandbox"]["isolation"] == "fallback"
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            f"tests/test_{K01}.py",
            f"--target={ROOT / 'solutions'}",
            "--grade",
            "--isolation",
            "bwrap",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env={**os.environ, **no_bwrap},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode != 0 and "--isolation bwrap" in refused.stderr
