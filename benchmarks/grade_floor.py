"""Grading against its floor: ``katas grade`` on a class, one ``pytest --grade`` per learner, and the floor.

    python benchmarks/grade_floor.py [--learners 40] [--workers N] [--isolation auto] [--sample K] [--json FILE]

The class: copies of solutions/ (the reference), of katas/ (the stubs), and of
solutions/ with one mutant of ``tests/suite/kata_mutants.py`` applied, taken in
turn from all six katas (k06 included). Every learner is graded on all six katas.

Three figures, each the wall time of the whole class on this machine:

- **per learner**: ``python -m pytest tests/... --target=SUB --grade`` once per learner,
  one after the other (what an instructor without ``katas grade`` runs);
- **katas grade**: ``katas grade CLASS`` (``--workers`` default: the number of cores);
- **floor**: the kata tests' own time inside pytest for each learner (setup, call
  and teardown of every test, summed), in learner mode (``pytest --target=SUB``,
  the learner's code in the test process), each learner in a fresh child forked
  from one warm process that imported torch, pytest and the tool once. This is
  what the learner's own code and the judges cost, with no process start and no
  sandbox; summed over the learners.

Each figure also comes as CPU time where the machine allows it: the commands run
in a cgroup of their own in the cgroup v1 ``cpuacct`` hierarchy (as root; the
grader moves kata servers between memory and pids cgroups only, never out of
it), the floor's learners are summed from their own rusage. On a shared machine
the CPU figures are the steadier ones; wall time is what the targets name.

Targets (issue 12): katas grade at least 4x faster than per learner, and within
1.5x of the floor. ``--sample K`` times the per-learner command on K learners
spread over the class and scales to the class (said so in the output): the full
figure takes one cold pytest and one zygote per learner. The scores of the
sampled per-learner runs are compared with katas grade's (they must agree).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KATAS_CLI = [sys.executable, "-c", "import sys; from backprop_katas.commands import main; sys.exit(main())"]
PER_LEARNER_TARGET = 4.0  # katas grade at least this many times faster than one pytest --grade per learner
FLOOR_TARGET = 1.5  # katas grade within this factor of the summed floor


def test_files() -> list[str]:
    """The test files of the katas a grade counts (a bonus kata only when katas.toml says graded), as
    `katas grade` runs them: naming a bonus kata's file would count it in the per-learner command only."""
    from backprop_katas.catalog import counted, kata_paths, load_catalog

    return [str(kata_paths(ROOT, k).test) for k in counted(load_catalog(ROOT))]


def make_class(folder: Path, n: int) -> list[tuple[str, Path]]:
    """N learner folders: the reference, the stubs, then mutants of every kata in turn."""
    sys.path.insert(0, str(ROOT / "tests" / "suite"))
    from kata_mutants import MUTANTS

    by_kata: dict[str, list[Any]] = {}
    for mutant in MUTANTS:
        by_kata.setdefault(mutant.kata, []).append(mutant)
    ordered = [m for group in zip(*by_kata.values()) for m in group]  # k01, k02, ..., k06, k01, ...
    ordered += [m for m in MUTANTS if m not in ordered]
    folder.mkdir(parents=True)
    learners: list[tuple[str, Path]] = []
    mutants = iter(ordered * (n // len(ordered) + 1))
    for i in range(n):
        kind = "reference" if i % 10 == 0 else "stubs" if i % 10 == 5 else "mutant"
        source = ROOT / ("katas" if kind == "stubs" else "solutions")
        name = f"{i:03d}-{kind}"
        mutant = next(mutants) if kind == "mutant" else None
        if mutant is not None:
            name += f"-{mutant.kata[:3]}-{mutant.id}"
        learner = folder / name
        learner.mkdir()
        for path in sorted(source.glob("k0*.py")):
            shutil.copy(path, learner / path.name)
        if mutant is not None:
            file = learner / f"{mutant.kata}.py"
            text = file.read_text(encoding="utf-8")
            assert mutant.old in text, mutant.id
            file.write_text(text.replace(mutant.old, mutant.new, 1), encoding="utf-8")
        learners.append((name, learner))
    return learners


class CpuMeter:
    """CPU seconds of a process tree: a fresh cgroup in the v1 cpuacct hierarchy; None where there is none."""

    ROOT = Path("/sys/fs/cgroup/cpuacct")

    def __init__(self, name: str) -> None:
        self.path: Path | None = self.ROOT / f"grade-floor-{os.getpid()}-{name}"
        try:
            self.path.mkdir()
        except OSError:
            self.path = None

    def enter(self) -> None:
        """In the measured child, before it runs anything (preexec_fn)."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float | None:
        if self.path is None:
            return None
        value = int((self.path / "cpuacct.usage").read_text()) / 1e9
        try:
            self.path.rmdir()
        except OSError:
            pass  # a process still in it: left for the system to clean up
        return value


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
    env["KATAS_LANG"] = "en"
    return env


def floor(learners: list[tuple[str, Path]]) -> tuple[float, float, float]:
    """(summed in-pytest time of every learner's kata tests, their CPU time, the measurement's wall time)."""
    code = r"""
import json, os, sys, time
import hypothesis, numpy, pytest, torch  # noqa: F401  (warm: imported once)
from backprop_katas.kit import judge, oracles, plugin  # noqa: F401

class Sum:
    def __init__(self):
        self.seconds = 0.0
    def pytest_runtest_logreport(self, report):
        self.seconds += report.duration

tests, root = json.loads(sys.argv[1]), sys.argv[2]
total = cpu = 0.0
for line in sys.stdin:
    target = line.strip()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a fresh child per learner: nothing of one learner's session reaches the next
        os.close(read)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        counter = Sum()
        pytest.main([*tests, f"--target={target}", "-q", "--no-header", "-p", "no:cacheprovider",
                     "--rootdir", root], plugins=[counter])
        os.write(write, json.dumps(counter.seconds).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 4096):
        data += chunk
    os.close(read)
    _, _, usage = os.wait4(pid, 0)
    total += json.loads(data or b"0")
    cpu += usage.ru_utime + usage.ru_stime
print(json.dumps([total, cpu]))
"""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(test_files()), str(ROOT)],
        input="".join(f"{path}\n" for _, path in learners),
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, cpu = json.loads(done.stdout.strip().splitlines()[-1])
    return float(seconds), float(cpu), time.monotonic() - start


def per_learner(
    learners: list[tuple[str, Path]], out: Path, isolation: str
) -> tuple[float, float | None, dict[str, float]]:
    """Wall and CPU time of one ``pytest --target=SUB --grade`` per learner, one after the other; their scores."""
    scores: dict[str, float] = {}
    meter = CpuMeter("per-learner")
    start = time.monotonic()
    for name, path in learners:
        report = out / f"{name}.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                *test_files(),
                f"--target={path}",
                "--grade",
                f"--grade-json={report}",
                "-q",
                "--no-header",
                "-p",
                "no:cacheprovider",
                "--rootdir",
                str(ROOT),
                "--isolation",
                isolation,
            ],
            cwd=ROOT,
            env=environment(),
            capture_output=True,
            check=False,
            preexec_fn=meter.enter,
        )
        scores[name] = float(json.loads(report.read_text(encoding="utf-8"))["score"]) if report.is_file() else -1.0
    return time.monotonic() - start, meter.seconds(), scores


def katas_grade(
    folder: Path, out: Path, workers: int | None, isolation: str
) -> tuple[float, float | None, dict[str, float]]:
    args = ["grade", str(folder), "--out", str(out), "--no-progress", "--isolation", isolation]
    if workers:
        args += ["--workers", str(workers)]
    meter = CpuMeter("katas-grade")
    start = time.monotonic()
    done = subprocess.run(
        [*KATAS_CLI, *args], cwd=ROOT, env=environment(), capture_output=True, text=True, preexec_fn=meter.enter
    )
    seconds = time.monotonic() - start
    cpu = meter.seconds()
    if done.returncode != 0:
        raise SystemExit(f"katas grade failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        scores = {learner: float(score) for learner, score in db.execute("SELECT learner, score FROM grades")}
    return seconds, cpu, scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=40, help="class size (default 40)")
    parser.add_argument("--workers", type=int, help="katas grade --workers (default: its own, the number of cores)")
    parser.add_argument("--isolation", default="auto", choices=("auto", "bwrap", "fallback"))
    parser.add_argument("--sample", type=int, help="time the per-learner command on this many learners and scale")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON here too")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="grade-floor-") as scratch:
        base = Path(scratch)
        learners = make_class(base / "class", args.learners)
        grade_seconds, grade_cpu, grade_scores = katas_grade(base / "class", base / "out", args.workers, args.isolation)
        floor_seconds, floor_cpu, floor_wall = floor(learners)
        sampled = learners
        if args.sample and args.sample < len(learners):
            step = len(learners) / args.sample
            sampled = [learners[int(i * step)] for i in range(args.sample)]
        (base / "alone").mkdir()
        alone_seconds, alone_cpu, alone_scores = per_learner(sampled, base / "alone", args.isolation)
        scale = len(learners) / len(sampled)
        alone_total = alone_seconds * scale
        alone_cpu_total = alone_cpu * scale if alone_cpu is not None else None
        disagree = [n for n, s in alone_scores.items() if grade_scores.get(n) != s]

    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a is not None and b else None

    figures = {
        "learners": len(learners),
        "cores": cores,
        "load_average_1min_at_end": round(load, 2),
        "isolation": args.isolation,
        "katas_grade_s": round(grade_seconds, 2),
        "katas_grade_cpu_s": grade_cpu and round(grade_cpu, 2),
        "per_learner_pytest_grade_s": round(alone_total, 2),
        "per_learner_pytest_grade_cpu_s": alone_cpu_total and round(alone_cpu_total, 2),
        "per_learner_sampled": len(sampled),
        "floor_s": round(floor_seconds, 2),
        "floor_cpu_s": round(floor_cpu, 2),
        "floor_measurement_wall_s": round(floor_wall, 2),
        "speedup_vs_per_learner": ratio(alone_total, grade_seconds),
        "speedup_vs_per_learner_cpu": ratio(alone_cpu_total, grade_cpu),
        "katas_grade_over_floor": ratio(grade_seconds, floor_seconds),
        "katas_grade_over_floor_cpu": ratio(grade_cpu, floor_cpu),
        "scores_disagree": disagree,
    }
    estimate = f" (estimated from {len(sampled)} of {len(learners)} learners)" if len(sampled) < len(learners) else ""

    def cpu(value: float | None) -> str:
        return f"{value:8.1f} s CPU" if value is not None else "   (no cpuacct cgroup: CPU not measured)"

    print(
        f"class: {len(learners)} learners (reference, stubs, mutants of all six katas), isolation {args.isolation}, "
        f"{cores} cores, load average {load:.1f}"
    )
    print(f"one `pytest --target=SUB --grade` per learner: {alone_total:8.1f} s wall {cpu(alone_cpu_total)}{estimate}")
    print(f"katas grade (one batch):                     {grade_seconds:8.1f} s wall {cpu(grade_cpu)}")
    print(
        f"floor (kata tests' in-pytest time, summed):  {floor_seconds:8.1f} s wall {cpu(floor_cpu)}"
        f"  (measured in {floor_wall:.1f} s)"
    )
    print(
        f"katas grade is {alone_total / grade_seconds:.2f}x faster than per learner (target >= {PER_LEARNER_TARGET}x); "
        f"CPU: {figures['speedup_vs_per_learner_cpu']}x"
    )
    print(
        f"katas grade is {grade_seconds / floor_seconds:.2f}x the floor (target <= {FLOOR_TARGET}x); "
        f"CPU: {figures['katas_grade_over_floor_cpu']}x"
    )
    print("scores: per learner and katas grade agree" if not disagree else f"scores DISAGREE for {disagree}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 1 if disagree else 0


if __name__ == "__main__":
    raise SystemExit(main())
