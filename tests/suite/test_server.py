"""The warm server (tool/server.py): the same outcomes as a child pytest, a fresh child per check,
the time limit, idling out, restarting for a new tool, and only its owner served.

Each test drives the real server in a copy of the project (``katas`` starts one per project);
a server start imports torch, so the tests share one project and server where they can.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import stat
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import ROOT, make_project
from kata_mutants import MUTANTS

from backprop_katas.catalog import Kata, load_catalog
from backprop_katas.tool import check, server

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm server runs on Linux only")

CATALOG = {k.id: k for k in load_catalog(ROOT)}
K01, K04, K05 = CATALOG["k01_derivatives"], CATALOG["k04_autograd"], CATALOG["k05_backprop"]
START = 120.0  # seconds a test waits for a server to start or end: torch's import on a loaded machine


def learner(project: Path, kata: Kata, extra: str = "", mutant: str = "") -> Path:
    """A learner folder beside katas/: the reference, with a mutant applied or code appended."""
    folder = project / "learner"
    if not folder.exists():
        shutil.copytree(project / "solutions", folder)
    text = (project / "solutions" / kata.filename).read_text(encoding="utf-8")
    if mutant:
        bug = next(m for m in MUTANTS if m.kata == kata.id and m.id == mutant)
        assert bug.old in text
        text = text.replace(bug.old, bug.new, 1)
    (folder / kata.filename).write_text(text + extra, encoding="utf-8")
    return folder


def alive(pid: int) -> bool:
    try:
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "zombie" not in state


def wait_until(condition, timeout: float = START) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


def stop(cache: Path) -> None:
    status = server.ask(cache, "status")
    server.ask(cache, "stop")
    if status is not None:
        wait_until(lambda: not alive(int(status["pid"])), 30)


def comparable(outcome: check.Outcome) -> dict[str, object]:
    data = dataclasses.asdict(outcome)
    del data["duration"]  # wall time: never the same twice
    return data


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    project = make_project(tmp_path_factory.mktemp("warm"))
    yield project
    stop(check.cache_dir(project))


@pytest.fixture(autouse=True)
def _server_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(server.SWITCH, raising=False)
    monkeypatch.setenv(server.IDLE_ENV, "60")


def served_check(project: Path, folder: Path, kata: Kata, limit: float = 180) -> check.Outcome:
    """One check that must go through the server (a fallback to a child pytest fails the test)."""
    before = server.ask(check.cache_dir(project), "status") or {"pid": None, "checks": 0}
    outcome = check.run_kata(project, folder, kata, limit, warm=True)
    after = server.ask(check.cache_dir(project), "status")
    assert after is not None, "no server answered after the check"
    assert after["checks"] == (before["checks"] if after["pid"] == before["pid"] else 0) + 1, "not served"
    return outcome


# --- the same outcome either way -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kata", "folder", "mutant", "lang"),
    [
        pytest.param(K01, "katas", "", "en", id="k01-stub"),
        pytest.param(K04, "solutions", "", "ko", id="k04-reference-korean"),
        pytest.param(K05, "learner", "transposed-weight", "en", id="k05-wrong-gradient-table"),
    ],
)
@pytest.mark.slow
def test_a_check_through_the_server_gives_the_same_outcome_as_a_child_pytest(project, kata, folder, mutant, lang):
    target = learner(project, kata, mutant=mutant) if folder == "learner" else project / folder
    warm = served_check(project, target, kata)
    cold = check.run_kata(project, target, kata, 180, warm=False)
    assert warm.total > 0
    assert comparable(warm) == comparable(cold)
    assert warm.message(lang) == cold.message(lang)  # the same failure data renders the same text


@pytest.mark.slow
def test_module_state_does_not_leak_between_two_checks(project, tmp_path, monkeypatch):
    record = tmp_path / "imports.txt"
    monkeypatch.setenv("KATAS_TEST_RECORD", str(record))
    # A learner module that counts its imports in a process-wide global and writes the count down.
    counting = (
        "\nimport os as _os, sys as _sys\n"
        "_sys.katas_imports = getattr(_sys, 'katas_imports', 0) + 1\n"
        "with open(_os.environ['KATAS_TEST_RECORD'], 'a') as _f:\n"
        "    _f.write(f'{_sys.katas_imports}\\n')\n"
    )
    folder = learner(project, K04, counting)
    first = served_check(project, folder, K04)
    counts_first = [int(n) for n in record.read_text().split()]
    record.write_text("")
    second = served_check(project, folder, K04)
    counts_second = [int(n) for n in record.read_text().split()]
    assert first.status == second.status == "done"
    assert counts_first and counts_second == counts_first  # the second check starts from a clean process


@pytest.mark.slow
def test_a_hang_is_stopped_at_the_limit_with_everything_it_started(project, tmp_path, monkeypatch):
    # Kata code may not start processes (runner.no_processes refuses it while a probe runs; the
    # hostile suite's daemons test what outlives a kata in grading): here the hang is the learner's
    # import itself, and the limit must stop the process that runs it.
    pid_file = tmp_path / "sleeper.pid"
    monkeypatch.setenv("KATAS_TEST_PID", str(pid_file))
    hang = (
        "\nimport os as _os, time as _time\n"
        "open(_os.environ['KATAS_TEST_PID'], 'w').write(str(_os.getpid()))\n"
        "while True:\n"
        "    _time.sleep(0.05)\n"
    )
    folder = learner(project, K01, hang)
    result: list[check.Outcome] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: result.append(served_check(project, folder, K01, limit=3)), daemon=True)
    worker.start()
    worker.join(90)  # far beyond the limit: a check that ignores it fails here, not by hanging the suite
    took = time.monotonic() - started
    assert result, f"the check did not end within {took:.0f} s"
    assert result[0].status == "timeout"
    assert "stopped after 3 s" in result[0].message("en")
    hung = int(pid_file.read_text())  # the process that ran the learner's import
    assert wait_until(lambda: not alive(hung), 10), "the hung process outlived the check"


@pytest.mark.slow
def test_the_server_survives_a_check_that_crashes(project):
    assert (
        served_check(project, learner(project, K01), K01).status == "done"
    )  # a server is running, whatever ran before
    before = server.ask(check.cache_dir(project), "status")
    folder = learner(project, K01, "\nimport os as _os\n_os.abort()\n")
    crashed = served_check(project, folder, K01)
    assert crashed.status == "failing"
    assert "exit code -6" in crashed.message("en")  # SIGABRT, as a child pytest would report it
    folder = learner(project, K01)
    assert served_check(project, folder, K01).status == "done"
    after = server.ask(check.cache_dir(project), "status")
    assert before is not None and after is not None and after["pid"] == before["pid"]


@pytest.mark.slow
def test_independent_katas_are_checked_side_by_side_in_a_fixed_order(project, tmp_path, monkeypatch):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: katas are checked one after another")
    times = tmp_path / "times"
    times.mkdir()
    monkeypatch.setenv("KATAS_TEST_TIMES", str(times))
    stamp = (
        "\nimport os as _os, time as _time\n"
        "if not _os.path.exists(_os.path.join(_os.environ['KATAS_TEST_TIMES'], __name__.rsplit('.', 1)[-1])):\n"
        "    _start = _time.time(); _time.sleep(2)\n"
        "    open(_os.path.join(_os.environ['KATAS_TEST_TIMES'], __name__.rsplit('.', 1)[-1]), 'w')"
        ".write(f'{_start} {_time.time()}')\n"
    )
    learner(project, K04, stamp)
    folder = learner(project, K05, stamp)
    checker = check.Checker(project, folder, [K04, K05], force=True)
    outcomes = checker.check_many([K05, K04])
    assert list(outcomes) == ["k05_backprop", "k04_autograd"]  # the order asked for, whichever ends first
    assert {o.status for o in outcomes.values()} == {"done"}
    (a_start, a_end), (b_start, b_end) = (
        map(float, (times / name).read_text().split()) for name in ("k04_autograd", "k05_backprop")
    )
    assert a_start < b_end and b_start < a_end, "the two katas ran one after the other"


# --- the server's life: idle, held, stale, owner-only ------------------------------------------


@pytest.mark.slow
def test_an_idle_server_stops_itself_but_not_while_a_watch_holds_it(tmp_path, monkeypatch):
    monkeypatch.setenv(server.IDLE_ENV, "2")
    cache = check.cache_dir(tmp_path)
    keeper = server.Keeper(cache)
    keeper.keep()
    try:
        status = server.ask(cache, "status")
        assert status is not None and keeper.sock is not None
        time.sleep(4)  # twice the idle time, held
        assert alive(int(status["pid"])), "the server stopped while a watch held it"
    finally:
        keeper.close()
    assert wait_until(lambda: not alive(int(status["pid"])), 30), "the idle server did not stop"
    assert not server.socket_path(cache).exists()


def test_the_fingerprint_follows_the_tool_files_and_the_libraries(tmp_path, monkeypatch):
    package = tmp_path / "backprop_katas"
    shutil.copytree(Path(server.__file__).parents[1], package, ignore=shutil.ignore_patterns("__pycache__"))
    first = server.fingerprint(package)
    assert server.fingerprint(package) == first
    tool_file = package / "tool" / "check.py"
    tool_file.write_text(tool_file.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = server.fingerprint(package)
    assert edited != first
    real = server.metadata.version
    monkeypatch.setattr(server.metadata, "version", lambda name: "9.9.9" if name == "torch" else real(name))
    assert server.fingerprint(package) not in (first, edited)


@pytest.mark.slow
def test_a_server_of_another_tool_is_replaced_by_a_new_one(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    cache = check.cache_dir(project)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    old = server.start(cache)
    try:
        # The server was made with another PYTHONPATH (part of what it imported): it must not serve this one.
        monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
        outcome = served_check(project, project / "solutions", K01)
        new = server.ask(cache, "status")
        assert outcome.status == "done"
        assert new is not None and new["pid"] != old["pid"] and new["checks"] == 1
        assert wait_until(lambda: not alive(int(old["pid"])), 30), "the stale server did not end"
    finally:
        stop(cache)


def test_the_socket_and_its_folder_are_the_owners_only(project):
    cache = check.cache_dir(project)
    server.start(cache)
    path = server.socket_path(cache)
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert path.stat().st_mode & 0o077 == 0
    assert path.parent.stat().st_mode & 0o077 == 0
    assert path.stat().st_uid == os.getuid()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_user_is_never_served_even_through_an_open_folder(project):
    cache = check.cache_dir(project)
    server.start(cache)
    path = server.socket_path(cache)
    folders = [p for p in (path.parent, *path.parent.parents) if p != Path("/")]
    modes = {p: p.stat().st_mode for p in folders}
    try:
        for p in folders:
            p.chmod(stat.S_IMODE(modes[p]) | 0o005)  # anyone may pass through: only the server's check is left
        path.chmod(0o666)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a child that becomes nobody and asks the server for its status
            os.close(read)
            answer = b"could not connect"
            try:
                os.setgid(65534)
                os.setuid(65534)
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(20)
                    sock.connect(os.fspath(path))
                    answer = b"connected"
                    sock.sendall(b'{"op": "status"}\n')
                    answer = sock.recv(4096) or b"closed"
            except (ConnectionResetError, BrokenPipeError):  # the server closed first
                answer = b"closed"
            except OSError as exc:
                answer += f": {exc}".encode()
            os.write(write, answer)
            os._exit(0)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        answer = os.read(read, 4096)
        os.close(read)
    finally:
        for p, mode in modes.items():
            p.chmod(stat.S_IMODE(mode))
        path.chmod(0o600)
    assert answer == b"closed", answer  # connected (the folder was open), then closed without a word
    assert os.waitstatus_to_exitcode(status) == 0


def test_switched_off_no_server_is_asked(project, monkeypatch):
    monkeypatch.setenv(server.SWITCH, "off")
    with pytest.raises(server.Unavailable):
        server.run_check(
            check.cache_dir(project), [sys.executable, "-m", "pytest"], project, {}, project / "x", 1, threading.Event()
        )


def test_a_check_killed_from_outside_is_not_left_running(project):
    """Ctrl-C (the `stopping` event): the client asks the server to kill the check and waits for it."""
    folder = learner(project, K01, "\nwhile True:\n    pass\n")
    cache = check.cache_dir(project)
    server.start(cache)
    stopping = threading.Event()
    result: list[server.Served] = []
    report = project / ".katas-cache" / "kill-report.json"
    command = check.pytest_command(project, K01, folder, report)
    log = project / ".katas-cache" / "kill-output.txt"
    env = {**os.environ, "KATAS_LANG": "en"}
    worker = threading.Thread(
        target=lambda: result.append(server.run_check(cache, command, project, env, log, 120, stopping)), daemon=True
    )
    worker.start()
    assert wait_until(lambda: (server.ask(cache, "status") or {}).get("running") == 1, 60)
    stopping.set()
    worker.join(30)
    assert result and not result[0].timed_out
    assert result[0].code == -signal.SIGTERM
    assert (server.ask(cache, "status") or {}).get("running") == 0


@pytest.mark.slow
def test_a_server_started_by_a_kernel_ends_when_the_kernel_ends(tmp_path, monkeypatch):
    # The notebook extension names its kernel as the server's owner (KATAS_SERVER_OWNER); the idle
    # limit (60 s here, 600 s by default) would otherwise keep the server for minutes after it.
    import subprocess

    kernel = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    monkeypatch.setenv(server.OWNER_ENV, str(kernel.pid))
    cache = check.cache_dir(make_project(tmp_path))
    try:
        pid = int(server.start(cache)["pid"])
        time.sleep(2 * server.HEALTH_SECONDS + 1)  # health checks pass while the owner runs
        assert alive(pid), "the server stopped while its kernel was running"
    finally:
        kernel.kill()
        kernel.wait()
    assert wait_until(lambda: not alive(pid), 3 * server.HEALTH_SECONDS + 5), "the server outlived its kernel"
    assert not server.socket_path(cache).exists()


def test_the_notebook_extension_names_its_kernel_as_the_servers_owner(monkeypatch):
    pytest.importorskip("IPython", reason="the [notebook] extra is not installed")
    from backprop_katas.tool import notebook as NB

    class FakeShell:
        def register_magics(self, magics):
            self.magics = magics

    monkeypatch.delenv(server.OWNER_ENV, raising=False)
    NB.load_ipython_extension(FakeShell())
    assert os.environ[server.OWNER_ENV] == str(os.getpid())
