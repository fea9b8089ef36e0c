"""Warm feedback against its floors (issue 12): a re-check after a save, a cold ``katas check``, k06.

    python benchmarks/warm_check.py [--rounds N] [--json FILE]

Every figure is the median of N rounds (wall seconds; CPU seconds where known):

- ``python -c "import torch"``: the floor a cold Python cannot beat.
- a cold ``katas check k01 --all --target solutions``: no warm server runs, so this command
  starts one (and the server's imports are part of its time). Target: within 1.5x the import.
  The same with ``--no-server`` (a child pytest per kata, as before the server) beside it.
- a warm re-check of k01..k05: what ``katas watch`` does after a save. The watch process is
  warm and holds the server; the kata is checked again, cache bypassed (all its tests, on the
  reference). Target: within 0.25x the import. CPU is the forked check's own.
- a warm ``katas check kNN --all`` as a new command (a repeated ``katas`` call), which adds the
  client's own Python start-up to the check.
- k06 re-checked warm beside the chapter's own code as one script (``benchmarks/chapter_script.py``,
  when present). Target: within 1.2x.

``main()`` prints the table and returns the figures (a dict), so another benchmark can call it.
On a loaded machine every figure grows; the ratios grow less, and the table says the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KATAS = Path(sys.executable).with_name("katas")
CHAPTER = ROOT / "benchmarks" / "chapter_script.py"
REFERENCE = "solutions"


def learner_env() -> dict[str, str]:
    """A learner's environment: bytecode cached (as a fresh install has it), the server allowed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KATAS_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["KATAS_LANG"] = "en"
    return env


def timed_process(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one command (CPU of its own process tree, as far as it waits for it)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=learner_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def katas(*args: str) -> list[str]:
    return [str(KATAS), *args] if KATAS.is_file() else [sys.executable, "-m", "backprop_katas", *args]


def stop_server() -> None:
    subprocess.run(katas("server", "stop"), cwd=ROOT, env=learner_env(), capture_output=True, check=False)


def median(rounds: list[tuple[float, float | None]]) -> dict[str, float | None]:
    cpus = [c for _, c in rounds if c is not None]
    return {
        "wall": statistics.median(w for w, _ in rounds),
        "cpu": statistics.median(cpus) if cpus else None,
        "rounds": len(rounds),
    }


def warm_rechecks(kata_ids: list[str], rounds: int) -> dict[str, dict[str, float | None]]:
    """In this process, as `katas watch` after a save: the server held, one kata checked again."""
    os.environ.clear()
    os.environ.update(learner_env())
    import tempfile
    import threading

    from backprop_katas.catalog import load_catalog
    from backprop_katas.tool import check, server

    catalog = {k.id.split("_")[0]: k for k in load_catalog(ROOT)}
    cache = check.cache_dir(ROOT)
    keeper = server.Keeper(cache)
    keeper.keep()
    results = {}
    try:
        for kata_id in kata_ids:
            kata = catalog[kata_id]
            measured: list[tuple[float, float | None]] = []
            for _ in range(rounds + 1):  # the first round also warms the OS file cache: left out
                with tempfile.TemporaryDirectory(dir=cache) as tmp:
                    report = Path(tmp) / "report.json"
                    command = check.pytest_command(ROOT, kata, ROOT / REFERENCE, report)
                    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
                    start = time.perf_counter()  # what check.run_kata does, with the child's CPU kept
                    served = server.run_check(cache, command, ROOT, env, Path(tmp) / "out.txt", 600, threading.Event())
                    outcome = check.outcome_from_report(json.loads(report.read_text()), ROOT, ROOT / REFERENCE, kata)
                    measured.append((time.perf_counter() - start, served.cpu))
                if outcome.status != "done":
                    raise SystemExit(f"{kata_id} on {REFERENCE}: {outcome.status}\n{outcome.message}")
            results[kata_id] = median(measured[1:])
    finally:
        keeper.close()
    return results


def measure(rounds: int = 3, kata_ids: list[str] | None = None) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    figures["import torch"] = median([timed_process([sys.executable, "-c", "import torch"]) for _ in range(rounds)])
    check_k01 = katas("check", "k01", "--all", "--target", REFERENCE)
    cold: list[tuple[float, float | None]] = []
    for _ in range(rounds):
        stop_server()
        wall, _cpu = timed_process(check_k01)
        cold.append((wall, None))  # the server it started is not this process's child: its CPU is not counted
    figures["cold katas check k01 (starts the server)"] = median(cold)
    stop_server()
    figures["cold katas check k01 --no-server"] = median(
        [timed_process([*check_k01, "--no-server"]) for _ in range(rounds)]
    )
    subprocess.run(katas("server", "start"), cwd=ROOT, env=learner_env(), capture_output=True, check=False)
    timed_process(check_k01)
    figures["repeated katas check k01 (warm server, new command)"] = median(
        [(timed_process(check_k01)[0], None) for _ in range(rounds)]
    )
    for kata_id, figure in warm_rechecks(kata_ids or ["k01", "k02", "k03", "k04", "k05", "k06"], rounds).items():
        figures[f"warm re-check {kata_id} (as katas watch)"] = figure
    if CHAPTER.is_file() and "k06" in (kata_ids or ["k06"]):
        figures["chapter script"] = median([timed_process([sys.executable, str(CHAPTER)]) for _ in range(rounds)])
    return figures


TARGETS = {  # figure → (compared with, at most this ratio)
    "cold katas check k01 (starts the server)": ("import torch", 1.5),
    "cold katas check k01 --no-server": ("import torch", None),
    "repeated katas check k01 (warm server, new command)": ("import torch", None),
    **{f"warm re-check k0{n} (as katas watch)": ("import torch", 0.25) for n in range(1, 6)},
    "warm re-check k06 (as katas watch)": ("chapter script", 1.2),
}


def report(figures: dict[str, Any]) -> list[str]:
    load = os.getloadavg()[0]
    lines = [
        f"{platform.node()}: {platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, Python "
        f"{platform.python_version()}; load average {load:.2f} while measuring"
        + (" (a loaded machine: every figure is slower, the ratios less so)" if load > 1.5 else ""),
        f"{'what':<54}{'wall s':>8}{'CPU s':>8}  {'against':<16}{'ratio':>7}{'CPU':>7}  target (on wall)",
    ]
    for name, figure in figures.items():
        against, target = TARGETS.get(name, ("", None))
        ratio = None
        if against in figures:
            ratio = figure["wall"] / figures[against]["wall"]
            figure["ratio"], figure["against"], figure["target"] = ratio, against, target
        cpu = f"{figure['cpu']:.2f}" if figure.get("cpu") is not None else "-"
        cpu_ratio = None
        if ratio is not None and figure.get("cpu") and figures[against].get("cpu"):
            cpu_ratio = figure["cpu"] / figures[against]["cpu"]  # steadier than wall time on a loaded machine
            figure["cpu_ratio"] = cpu_ratio
        verdict = "" if target is None or ratio is None else ("ok" if ratio <= target else "missed")
        lines.append(
            f"{name:<54}{figure['wall']:>8.2f}{cpu:>8}  {against:<16}"
            + (f"{ratio:>6.2f}x" if ratio is not None else f"{'':>7}")
            + (f"{cpu_ratio:>6.2f}x" if cpu_ratio is not None else f"{'':>7}")
            + (f"  <= {target}x {verdict}" if target is not None else "")
        )
    return lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--katas", default="k01,k02,k03,k04,k05,k06", help="the katas re-checked warm (k06: minutes)")
    args = parser.parse_args(argv)
    figures = measure(args.rounds, args.katas.split(","))
    print("\n".join(report(figures)))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return figures


if __name__ == "__main__":
    main()
