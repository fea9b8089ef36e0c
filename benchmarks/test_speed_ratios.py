"""Issue 12's figures side by side in one run: whole processes, wall and CPU, and the helpers' scripts.

    pytest benchmarks/ --benchmark-only --benchmark-json=benchmarks/results.json [--bench-long]

Every round starts the command as a fresh process from the project root (KATAS_LANG=en,
KATAS_TARGET unset) and waits for it: the wall time is the whole process's, the CPU time
is what ``resource.getrusage(RUSAGE_CHILDREN)`` gained (the process and every descendant
it waited for). The ratios are printed at the end (conftest.py, ratios.py).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from ratios import CASES, KATAS, ONE_ROUND, ROOT

SHORT = {"import torch", "k01 check"}  # a warm-up round first (the OS file cache); the others are long enough


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET" and not k.startswith("PYTEST_")}
    env["KATAS_LANG"] = "en"
    return env


def stop_warm_server() -> float:
    """Stop the project's warm ``katas`` server, if this tree has one (tool/server.py) and it runs; the CPU
    seconds it used, its reaped check children included. A cold check starts with none running, and the
    server is not our child: getrusage cannot see its CPU, /proc can."""
    try:
        from backprop_katas.tool import server
    except ImportError:
        return 0.0
    from backprop_katas.tool.check import cache_dir

    cache = cache_dir(ROOT)
    status = server.ask(cache, "status") or {}
    pid = status.get("pid")
    if not isinstance(pid, int):
        return 0.0
    seconds = process_cpu(pid)
    server.ask(cache, "stop")
    return seconds


def process_cpu(pid: int) -> float:
    """utime + stime + cutime + cstime of a running process, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # fields 14-17 of stat(5)


def run_process(
    argv: list[str], walls: list[float], cpus: list[float], loads: list[float] | None = None, cwd: Path = ROOT
) -> None:
    """One round: the whole process, waited for; its wall and CPU seconds appended (a warm server's too), and
    the 1-minute load average at its end (other users of the machine slow every figure)."""
    katas = argv[0] == KATAS
    if katas:
        stop_warm_server()  # cold: no server left by the round before
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    walls.append(time.perf_counter() - start)
    if loads is not None:
        loads.append(round(os.getloadavg()[0], 2))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = stop_warm_server() if katas else 0.0
    cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime + server)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited with {done.returncode}:\n{done.stderr.decode()[-2000:]}")


@pytest.mark.parametrize("name", list(CASES))
def test_whole_process(benchmark: Any, record: Any, request: pytest.FixtureRequest, name: str) -> None:
    walls: list[float] = []
    cpus: list[float] = []
    loads: list[float] = []
    benchmark.group = "issue 12: whole processes, wall seconds"
    benchmark.name = CASES[name][0]
    rounds = 1 if name in ONE_ROUND else request.config.getoption("--bench-rounds")
    if name in SHORT:
        run_process(CASES[name][1], [], [])
    benchmark.pedantic(run_process, args=(CASES[name][1], walls, cpus, loads), rounds=rounds, iterations=1)
    benchmark.extra_info.update(cpu_seconds=cpus, wall_seconds=walls, load=loads)
    record(name, wall=walls, cpu=cpus, load=loads)


def test_ci_run_on_a_fresh_clone(benchmark: Any, record: Any, request: pytest.FixtureRequest) -> None:
    """Issue 22's last figure: `bash .ci/run` in a fresh clone of this tree's last commit (about half an hour)."""
    if not request.config.getoption("--bench-ci"):
        pytest.skip("give --bench-ci to time `bash .ci/run` on a fresh clone (about half an hour)")
    walls: list[float] = []
    cpus: list[float] = []
    loads: list[float] = []
    benchmark.group = "issue 22: CI on a fresh clone, wall seconds"
    benchmark.name = "bash .ci/run (fresh git clone)"
    with tempfile.TemporaryDirectory(prefix="katas-ci-") as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        benchmark.pedantic(run_process, args=(["bash", ".ci/run"], walls, cpus, loads, clone), rounds=1, iterations=1)
    benchmark.extra_info.update(cpu_seconds=cpus, wall_seconds=walls, load=loads)
    record("ci run", wall=walls, cpu=cpus, load=loads)


# --- the other helpers' scripts: picked up when they exist ---------------------------------------

# EXTERNAL_SCRIPTS: benchmarks/NAME.py, run as `python benchmarks/NAME.py [ARGS] --json FILE`; what it prints
# and the JSON it writes go into the report. A script that is not there yet is reported as missing.
EXTERNAL_SCRIPTS: dict[str, dict[str, list[str]]] = {
    # warm re-checks (i12-warm): a re-check after a save against `python -c "import torch"` and the chapter's script
    "warm_check": {"default": [], "long": []},
    # grading (i12-suite): katas grade against one pytest --grade per learner, and against the floor
    "grade_floor": {"default": ["--learners", "40", "--sample", "4"], "long": ["--learners", "40"]},
}


def run_external(name: str, args: list[str]) -> dict[str, Any]:
    script = ROOT / "benchmarks" / f"{name}.py"
    if not script.is_file():
        return {"missing": f"benchmarks/{name}.py is not in this tree yet: no figures"}
    with tempfile.TemporaryDirectory(prefix="katas-bench-") as scratch:
        out = Path(scratch) / "figures.json"
        done = subprocess.run(
            [sys.executable, str(script), *args, "--json", str(out)],
            cwd=ROOT,
            env=environment(),
            capture_output=True,
            text=True,
        )
        if done.returncode == 2 and "--json" in done.stderr:  # a script without --json: its output only
            done = subprocess.run(
                [sys.executable, str(script), *args], cwd=ROOT, env=environment(), capture_output=True, text=True
            )
        figures = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr[-2000:], "json": figures}


@pytest.mark.parametrize("name", list(EXTERNAL_SCRIPTS))
def test_external_script(benchmark: Any, record_external: Any, request: pytest.FixtureRequest, name: str) -> None:
    args = EXTERNAL_SCRIPTS[name]["long" if request.config.getoption("--bench-long") else "default"]
    if not (ROOT / "benchmarks" / f"{name}.py").is_file():
        record_external(name, {"missing": f"benchmarks/{name}.py is not in this tree yet: no figures"})
        pytest.skip(f"benchmarks/{name}.py is not in this tree yet")
    result: dict[str, Any] = {}
    benchmark.group = "issue 12: the helpers' scripts, wall seconds"
    benchmark.name = f"python benchmarks/{name}.py {' '.join(args)}".strip()
    start_load = os.getloadavg()[0]
    benchmark.pedantic(lambda: result.update(run_external(name, args)), rounds=1, iterations=1)
    result["load"] = round((start_load + os.getloadavg()[0]) / 2, 2)  # the 1-minute load, at its start and end
    benchmark.extra_info.update(result.get("json") or {})
    record_external(name, result)
    assert result["returncode"] == 0, f"benchmarks/{name}.py failed:\n{result['stdout'][-2000:]}{result['stderr']}"
