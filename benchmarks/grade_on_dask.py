"""The Dask scheduler's cost per learner: ``katas grade`` on ``--dask-local 1``, ``--dask-local 2`` and ``--workers 2``.

    python benchmarks/grade_on_dask.py [--learners 24] [--kata k01]

Each mode grades a class of copies of solutions/ (cheap katas only) twice: SMALL
learners, then LEARNERS learners, each into a fresh gradebook. The difference of
the two wall times over the difference in learners is the time per learner in
steady state, without start-up (a LocalCluster's processes, torch imports); the
scheduler's overhead per learner is the Dask figure minus the local one at the
same parallelism. Needs the [cluster] extra.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL = 2
RESULT_CHARS = 35_000  # a full grade's results.json (all six katas) is about this long
MODES = {
    "local --workers 2": ["--workers", "2"],
    "--dask-local 1": ["--dask-local", "1"],
    "--dask-local 2": ["--dask-local", "2"],
}


def make_class(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        learner = folder / f"learner{i:03d}"
        learner.mkdir()
        for path in (ROOT / "solutions").glob("k*.py"):
            shutil.copy(path, learner / path.name)
    return folder


def wall(subs: Path, out: Path, katas: list[str], mode: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
    command = [
        sys.executable,
        "-c",
        "import sys; from backprop_katas.commands import main; sys.exit(main())",
        "grade",
        str(subs),
        "--out",
        str(out),
        "--no-progress",
        *katas,
        *mode,
    ]
    start = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(mode)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def echo(submission: object, rules: object, size: int) -> str:
    """A task that grades nothing: what the scheduler and the transfers cost on their own."""
    return "x" * size


def round_trip(learners: int) -> float:
    """Seconds per learner of a no-op task carrying a learner's payload (kata files in, results.json out)."""
    from distributed import Client, LocalCluster, as_completed

    from backprop_katas.catalog import load_catalog
    from backprop_katas.grading.cluster import rules_bundle, submission_bundle

    catalog = load_catalog(ROOT)
    files = submission_bundle(ROOT / "solutions", [k.filename for k in catalog])
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        rules = client.scatter(rules_bundle(ROOT, catalog, None), broadcast=True, hash=False)
        client.submit(echo, files, rules, 10, pure=False).result()  # warm: connections, imports
        start = time.monotonic()
        futures = [client.submit(echo, files, rules, RESULT_CHARS, pure=False) for _ in range(learners)]
        for future in as_completed(futures):
            future.result()
        return (time.monotonic() - start) / learners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=24)
    parser.add_argument("--kata", action="append", default=None, help="katas to grade (default: k01)")
    parser.add_argument("--round-trip-only", action="store_true", help="only the no-op task's cost")
    args = parser.parse_args()
    trip = round_trip(args.learners * 10)
    print(f"a no-op task with a learner's payload, 2 local Dask workers: {trip * 1000:.1f} ms per learner")
    if args.round_trip_only:
        return
    katas = [item for k in (args.kata or ["k01"]) for item in ("--kata", k)]
    results: dict[str, tuple[float, float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="katas-bench-") as tmp:
        small = make_class(Path(tmp) / "small", SMALL)
        large = make_class(Path(tmp) / "large", args.learners)
        for name, mode in MODES.items():
            t_small = wall(small, Path(tmp) / f"out-small-{len(results)}", katas, mode)
            t_large = wall(large, Path(tmp) / f"out-large-{len(results)}", katas, mode)
            per = (t_large - t_small) / (args.learners - SMALL)
            results[name] = (t_small, t_large, per)
            print(
                f"{name:20} {SMALL} learners {t_small:6.1f} s · {args.learners} learners {t_large:6.1f} s · "
                f"{per:5.2f} s per learner in steady state",
                flush=True,
            )
    local = results["local --workers 2"]
    one, two = results["--dask-local 1"], results["--dask-local 2"]
    print()
    print(
        f"wall time, {args.learners} learners: dask-local 2 / local 2 = {two[1] / local[1]:.2f}, "
        f"dask-local 1 / dask-local 2 = {one[1] / two[1]:.2f}"
    )
    print(
        f"per learner (steady): dask-local 2 / local 2 = {two[2] / local[2]:.2f}, "
        f"dask-local 1 / dask-local 2 = {one[2] / two[2]:.2f}"
    )
    print(
        f"scheduler overhead per learner (dask-local 2 - local 2, steady): {two[2] - local[2]:+.2f} s; "
        f"extra start-up of a 2-worker LocalCluster: {two[0] - local[0]:+.1f} s; cores here: {os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
