"""`katas grade --scheduler ADDRESS` on a real Dask cluster on the loopback address.

A real ``dask scheduler`` and real ``dask worker`` processes (``--no-nanny``: a
worker killed with SIGKILL stays dead, as a lost machine does), started per test
and killed, process group and all, when it ends. The grades must equal a local
``katas grade`` run of the same class, learner by learner and test by test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from grading_helpers import ROOT, kata_source, katas_cli, submission
from kata_mutants import MUTANTS

from backprop_katas.grading.cluster import MAX_DEPTH, Bundle, InvalidResult, install_hint, validate

CHEAP = ("--kata", "k01", "--kata", "k02")  # k03..k06 add time, not coverage of the cluster machinery
TIME_LIMIT = "20"  # seconds per kata: the hanging learner costs this once; a reference k01/k02 takes ~3 s
STARTUP_SECONDS = 120  # a worker imports torch and starts its grading process on a shared, busy machine
COMMAND = [sys.executable, "-c", "import sys; from backprop_katas.commands import main; sys.exit(main())"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
    env["KATAS_LANG"] = "en"
    return env


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the worker's grading process and its children too
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def _start(command: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, cwd=cwd, env=_env(), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@contextmanager
def dask_cluster(tmp: Path, workers: int = 2) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A scheduler and ``workers`` workers on 127.0.0.1; (address, worker processes)."""
    pytest.importorskip("distributed", reason='the [cluster] extra is not installed: pip install -e ".[cluster]"')
    dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or "dask"
    started: list[subprocess.Popen[bytes]] = []
    try:
        scheduler_file = tmp / "scheduler.json"
        command = [
            dask,
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
        ]
        started.append(_start(command, tmp))
        deadline = time.monotonic() + STARTUP_SECONDS
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text(encoding="utf-8"))["address"]
        for i in range(workers):
            command = [
                dask,
                "worker",
                address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--name",
                f"w{i}",
                "--death-timeout",
                "60",
            ]
            started.append(_start(command, tmp))
        _wait_for_workers(address, workers, deadline)
        yield address, started[1:]
    finally:
        for process in reversed(started):
            _kill(process)


def _wait_for_workers(address: str, count: int, deadline: float) -> None:
    from distributed import Client

    with Client(address, timeout="30s", set_as_default=False) as client:
        while len(client.scheduler_info(n_workers=-1)["workers"]) < count:
            assert time.monotonic() < deadline, "the Dask workers did not start"
            time.sleep(0.5)


def grade(subs: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    done = katas_cli(
        "grade", str(subs), "--out", str(out), *CHEAP, "--kata-time-limit", TIME_LIMIT, "--no-progress", *extra
    )
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    return done


def book(out: Path) -> dict[str, dict]:
    path = out / "gradebook.sqlite"
    if not path.is_file():
        return {}
    try:
        with sqlite3.connect(path) as db:
            found = db.execute("SELECT learner, results FROM grades").fetchall()
    except sqlite3.OperationalError:  # the file is there, its table not yet
        return {}
    return {learner: json.loads(results) for learner, results in found}


def grades(out: Path) -> dict[str, tuple[float, dict[str, float], dict[str, str]]]:
    """learner -> (total, kata -> points, test -> status): what must not depend on where grading ran."""
    return {
        learner: (
            r["score"],
            {k: v["score"] for k, v in r.get("extra_data", {}).get("katas", {}).items()},
            {t["name"]: t["status"] for t in r.get("tests", [])},
        )
        for learner, r in book(out).items()
    }


def mutant_files(kata: str, mutant_id: str) -> dict[str, str]:
    mutant = next(m for m in MUTANTS if m.kata == kata and m.id == mutant_id)
    source = kata_source(kata)
    assert mutant.old in source
    return {f"{kata}.py": source.replace(mutant.old, mutant.new, 1)}


HOSTILE_ALLCLOSE = "\nimport torch\ntorch.allclose = lambda *a, **k: True  # every comparison 'passes'\n\n\ndef sigmoid(x):\n    return x\n"
HANGS = "\n\ndef sigmoid(x):\n    while True:\n        pass\n"


def make_class(folder: Path) -> Path:
    """Twelve learners: what a real class sends (and two that try to cheat the grader or hang it)."""
    folder.mkdir()
    k01 = kata_source("k01_derivatives")
    for i in range(4):
        submission(folder / f"ref{i}")
    submission(folder / "stub0", "katas")
    submission(folder / "stub1", "katas")
    submission(folder / "mutant-sigmoid-sign", files=mutant_files("k01_derivatives", "sigmoid-sign"))
    submission(folder / "mutant-forgets-bias", files=mutant_files("k02_parameters", "forgets-bias"))
    submission(folder / "hostile-allclose", files={"k01_derivatives.py": k01 + HOSTILE_ALLCLOSE})
    submission(folder / "hangs", files={"k01_derivatives.py": k01 + HANGS})
    submission(folder / "syntax-error", files={"k02_parameters.py": "def oops(:\n"})
    half = submission(folder / "missing-k02")
    (half / "k02_parameters.py").unlink()
    return folder


# --- quick checks of what comes back (no cluster) ---------------------------------------------

GOOD = {
    "score": 5.0,
    "max_score": 10.0,
    "tests": [{"name": "t", "score": 0, "max_score": 1, "status": "failed"}],
    "extra_data": {"katas": {"k01": {"score": 5, "max_score": 10, "passed": 1, "tests": 2}}},
}


def _nested(levels: int) -> list:
    """A list nested ``levels`` deep: one more than the validator takes is a bomb."""
    value: list = [1]
    for _ in range(levels):
        value = [value]
    return value


def _with(path: tuple[str | int, ...], value: object) -> str:
    data = json.loads(json.dumps(GOOD))
    here = data
    for key in path[:-1]:
        here = here[key]
    here[path[-1]] = value
    return json.dumps(data)


def test_a_well_formed_results_json_passes_the_clients_check():
    assert validate(json.dumps(GOOD))["score"] == 5.0


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(GOOD, id="a-dict-not-json-text"),
        pytest.param(b"{}", id="bytes"),
        pytest.param("not json", id="not-json"),
        pytest.param(_with(("score",), 11.0), id="score-above-max"),
        pytest.param(_with(("score",), -1), id="negative-score"),
        pytest.param(_with(("score",), "10"), id="score-as-text"),
        pytest.param(_with(("score",), True), id="score-as-bool"),
        pytest.param(json.dumps(GOOD).replace("5.0", "NaN", 1), id="nan-score"),
        pytest.param(json.dumps(GOOD).replace("5.0", "Infinity", 1), id="infinite-score"),
        pytest.param(_with(("tests", 0, "score"), 2), id="test-score-above-its-max"),
        pytest.param(_with(("tests", 0, "name"), 3), id="test-name-not-text"),
        pytest.param(_with(("extra_data", "katas", "k01", "score"), 99), id="kata-score-above-its-max"),
        pytest.param(_with(("extra_data",), []), id="extra-data-not-an-object"),
        pytest.param(_with(("extra_data", "deep"), _nested(MAX_DEPTH + 1)), id="nested-too-deep"),
        pytest.param(_with(("extra_data", "many"), list(range(200_000))), id="too-many-values"),
        pytest.param(_with(("output",), "x" * (17 * 1024 * 1024)), id="too-long"),
    ],
)
def test_anything_but_a_plain_bounded_results_json_is_refused(answer):
    with pytest.raises(InvalidResult):
        validate(answer)


@pytest.mark.parametrize(
    "files",
    [
        pytest.param([(b"../escape.py", b"x")], id="dot-dot"),
        pytest.param([(b"/etc/passwd", b"x")], id="absolute"),
        pytest.param([(b"a/./b.py", b"x")], id="dot"),
    ],
)
def test_a_worker_refuses_file_names_that_leave_its_folder(files):
    with pytest.raises(ValueError, match="refusing"):
        Bundle.of(files).verified()


def test_a_worker_refuses_files_that_do_not_match_their_hash():
    bundle = Bundle.of([(b"k01_derivatives.py", b"print(1)\n")])
    tampered = Bundle(((b"k01_derivatives.py", b"print(2)\n"),), bundle.digest)
    assert bundle.verified() is bundle
    with pytest.raises(ValueError, match="hash"):
        tampered.verified()


@pytest.mark.slow
def test_without_dask_the_scheduler_option_says_how_to_install_it(tmp_path):
    fake = tmp_path / "site" / "distributed"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('not installed')\n", encoding="utf-8")
    subs = tmp_path / "class"
    submission(subs / "alice")
    done = katas_cli(
        "grade",
        str(subs),
        "--out",
        str(tmp_path / "out"),
        "--scheduler",
        "tcp://127.0.0.1:1",
        env={"PYTHONPATH": str(tmp_path / "site")},
    )
    assert done.returncode == 2
    assert install_hint("en") in done.stderr
    assert not (tmp_path / "out" / "gradebook.sqlite").exists()


# --- a real cluster ----------------------------------------------------------------------------


@pytest.mark.grading
@pytest.mark.cluster
def test_a_class_graded_on_two_dask_workers_gets_exactly_the_local_grades(tmp_path):
    pytest.importorskip("distributed")
    subs = make_class(tmp_path / "class")
    grade(subs, tmp_path / "local", "--workers", "2")
    local = grades(tmp_path / "local")
    assert len(local) == 12
    assert local["ref0"][0] == 20 and local["stub0"][0] == 0
    assert 0 < local["mutant-sigmoid-sign"][1]["k01_derivatives"] < 10
    assert local["hostile-allclose"][1]["k01_derivatives"] < 10
    assert local["hangs"][1]["k01_derivatives"] < 10 and local["hangs"][1]["k02_parameters"] == 10

    with dask_cluster(tmp_path) as (address, _):
        done = grade(subs, tmp_path / "cluster", "--scheduler", address)
    remote = grades(tmp_path / "cluster")
    assert remote == local
    rows = book(tmp_path / "cluster")
    workers = {r["extra_data"]["dask_worker"] for r in rows.values()}
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    for worker in workers:
        assert worker in done.stdout  # the summary says which worker graded whom
    assert all(
        r["extra_data"]["sandbox"]["isolation"]
        == book(tmp_path / "local")["ref0"]["extra_data"]["sandbox"]["isolation"]
        for r in rows.values()
    )


def _learners(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        submission(folder / f"learner{i:02d}", "solutions" if i % 2 == 0 else "katas")
    return folder


def _expected(name: str) -> float:
    return 10.0 if int(name[-2:]) % 2 == 0 else 0.0


def _wait_rows(out: Path, count: int, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 300
    while len(book(out)) < count:
        assert time.monotonic() < deadline, "grading made no progress"
        assert process is None or process.poll() is None, "katas grade ended early"
        time.sleep(0.2)


@pytest.mark.grading
@pytest.mark.cluster
def test_a_worker_killed_midway_loses_no_learner_and_grades_none_twice(tmp_path):
    pytest.importorskip("distributed")
    subs = _learners(tmp_path / "class", 8)
    out = tmp_path / "out"
    with dask_cluster(tmp_path) as (address, workers):
        command = [
            *COMMAND,
            "grade",
            str(subs),
            "--out",
            str(out),
            "--kata",
            "k01",
            "--no-progress",
            "--scheduler",
            address,
        ]
        client = subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            _wait_rows(out, 2, client)
            workers[0].send_signal(signal.SIGKILL)  # the worker process itself: no nanny brings it back
            at_kill = len(book(out))
            output, _ = client.communicate(timeout=600)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
    text = output.decode(errors="replace")
    assert client.returncode == 0, text[-3000:]
    assert at_kill < 8  # killed while learners were still to grade
    assert "8 graded, 0 unchanged (kept), 0 could not be graded" in text
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT learner) FROM grades").fetchone() == (8, 8)
    assert {name: r["score"] for name, r in book(out).items()} == {
        f"learner{i:02d}": _expected(f"{i:02d}") for i in range(8)
    }


@pytest.mark.grading
@pytest.mark.cluster
def test_the_client_killed_midway_then_rerun_grades_every_learner_once_with_the_same_grade(tmp_path):
    pytest.importorskip("distributed")
    subs = _learners(tmp_path / "class", 8)
    out = tmp_path / "out"
    with dask_cluster(tmp_path) as (address, _):
        command = [
            *COMMAND,
            "grade",
            str(subs),
            "--out",
            str(out),
            "--kata",
            "k01",
            "--no-progress",
            "--scheduler",
            address,
        ]
        client = subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_rows(out, 3, client)
        finally:
            client.send_signal(signal.SIGKILL)
            client.wait()
        partial = book(out)
        assert 3 <= len(partial) < 8
        done = katas_cli(
            "grade", str(subs), "--out", str(out), "--kata", "k01", "--no-progress", "--scheduler", address
        )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"{8 - len(partial)} graded, {len(partial)} unchanged" in done.stdout
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT learner) FROM grades").fetchone() == (8, 8)
    final = book(out)
    assert {name: r["score"] for name, r in final.items()} == {
        f"learner{i:02d}": _expected(f"{i:02d}") for i in range(8)
    }
    for name, row in partial.items():
        assert final[name]["extra_data"]["dask_worker"] == row["extra_data"]["dask_worker"]  # kept, not regraded


class _Finished:
    """What ``Remote`` reads of a Dask future."""

    def __init__(self, value: object, status: str = "finished") -> None:
        self.value, self.status = value, status

    def result(self) -> object:
        return self.value

    def exception(self) -> BaseException:
        return RuntimeError("grading worker died")


def _remote_with(remote_future: _Finished):
    import threading
    from concurrent.futures import Future

    from backprop_katas.grading.cluster import Remote, Tally

    remote = Remote.__new__(Remote)
    remote.lock, remote.tally = threading.Lock(), Tally()
    local: Future = Future()
    remote.pending = {remote_future: (local, "alice", ["notes.txt"])}
    remote._settle(remote_future)
    return remote, local


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(_Finished(_with(("score",), 11.0)), id="score-above-max"),
        pytest.param(_Finished({"score": 1, "max_score": 1}), id="an-object-not-text"),
        pytest.param(_Finished(None, status="error"), id="failed-twice"),
    ],
)
def test_a_refused_or_failed_answer_is_that_learners_error_and_nothing_else(answer):
    remote, local = _remote_with(answer)
    assert isinstance(local.exception(timeout=0), Exception)
    assert remote.tally.learners == {} and remote.pending == {}


def test_an_accepted_answer_keeps_the_clients_list_of_ignored_files_and_counts_its_worker():
    answer = json.loads(json.dumps(GOOD))
    answer["extra_data"].update(dask_worker="tcp://127.0.0.1:9", ignored_files=["forged"])
    remote, local = _remote_with(_Finished(json.dumps(answer)))
    data = local.result(timeout=0)
    assert data["extra_data"]["ignored_files"] == ["notes.txt"]
    assert remote.tally.learners == {"tcp://127.0.0.1:9": ["alice"]}


@pytest.mark.grading
@pytest.mark.cluster
def test_an_unreachable_scheduler_is_one_sentence_and_no_traceback(tmp_path):
    pytest.importorskip("distributed")
    subs = tmp_path / "class"
    submission(subs / "alice")
    done = katas_cli(
        "grade",
        str(subs),
        "--out",
        str(tmp_path / "out"),
        "--kata",
        "k01",
        "--scheduler",
        "tcp://127.0.0.1:1",
        timeout=120,
    )
    assert done.returncode == 2
    assert "Cannot reach the Dask scheduler at tcp://127.0.0.1:1" in done.stderr
    assert "Traceback" not in done.stderr


def _listening(process: subprocess.Popen[str]) -> set[tuple[str, int, str]]:
    """Every socket the process tree listens on now: (address, port, pid's name); TCP listening or UDP bound."""
    import psutil

    found: set[tuple[str, int, str]] = set()
    try:
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return found
    for member in tree:
        try:
            connections = member.net_connections(kind="inet")
            name = member.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        for c in connections:
            if c.status == psutil.CONN_LISTEN or (c.type == socket.SOCK_DGRAM and c.laddr):
                found.add((c.laddr.ip, c.laddr.port, f"{name}[{member.pid}]"))
    return found


@pytest.mark.grading
@pytest.mark.cluster
def test_dask_local_listens_on_the_loopback_address_only(tmp_path):
    """Dask's messages are pickles: whoever reaches a scheduler or worker port runs code as the grader."""
    pytest.importorskip("distributed")
    pytest.importorskip("psutil")
    subs = _learners(tmp_path / "class", 4)
    command = [
        *COMMAND,
        "grade",
        str(subs),
        "--out",
        str(tmp_path / "out"),
        "--kata",
        "k01",
        "-k",
        "function_squares",
        "--no-progress",
        "--dask-local",
        "2",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: set[tuple[str, int, str]] = set()
    try:
        deadline = time.monotonic() + 600
        while process.poll() is None and time.monotonic() < deadline:
            seen |= _listening(process)
            time.sleep(0.2)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            _kill(process)  # type: ignore[arg-type]
    assert process.returncode == 0, output[-3000:]
    assert "4 graded" in output
    assert len({port for _, port, _ in seen}) >= 3, seen  # the scheduler and two workers at least: the check saw them
    beyond = sorted(s for s in seen if s[0] not in ("127.0.0.1", "::1"))
    assert not beyond, f"listening beyond loopback: {beyond}"
