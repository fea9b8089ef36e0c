"""A `%%kata k01` check in a live Jupyter kernel, beside `katas check k01` and `python -c "import torch"`.

    python benchmarks/notebook_check_time.py [ROUNDS]

Interleaved rounds in one temporary kata project (made by the first `%%kata` cell).
Every round writes k01 with a new comment line, so neither check can use the cache:
both run the child pytest (all 48 tests of the reference answer). The kernel is
started once, as a learner's is; the time of a cell is from the execute request
to its reply. Needs the [notebook] extra.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
KATAS = Path(sys.executable).with_name("katas")
ANSWER = (ROOT / "solutions" / "k01_derivatives.py").read_text(encoding="utf-8")


def main(rounds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="katas-bench-"))
    spec = work / "jupyter" / "kernels" / "bench"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "bench", "language": "python"}))
    project = work / "notebook"
    project.mkdir()
    os.environ.update({"JUPYTER_PATH": str(work / "jupyter"), "KATAS_LANG": "en"})
    manager, client = start_new_kernel(kernel_name="bench", cwd=str(project))
    times: dict[str, list[float]] = {"%%kata k01": [], "katas check k01": [], 'python -c "import torch"': []}
    try:
        quiet = {"timeout": 300, "output_hook": lambda msg: None}
        client.execute_interactive("%load_ext backprop_katas", **quiet)
        client.execute_interactive(f"%%kata k01\n{ANSWER}", **quiet)  # makes the project: not timed
        for n in range(rounds):
            start = time.perf_counter()
            reply = client.execute_interactive(f"%%kata k01\n{ANSWER}# round {n} (cell)\n", **quiet)
            times["%%kata k01"].append(time.perf_counter() - start)
            assert reply["content"]["status"] == "ok", reply
            (project / "katas" / "k01_derivatives.py").write_text(ANSWER + f"# round {n} (cli)\n", encoding="utf-8")
            start = time.perf_counter()
            done = subprocess.run([str(KATAS), "check", "k01", "--lang", "en"], cwd=project, capture_output=True)
            times["katas check k01"].append(time.perf_counter() - start)
            assert done.returncode == 0, done.stdout[-2000:]
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import torch"], check=True)
            times['python -c "import torch"'].append(time.perf_counter() - start)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    print(f"{rounds} interleaved rounds, seconds (min / median / max):")
    for name, values in times.items():
        print(f"  {name:<28} {min(values):6.2f} {statistics.median(values):6.2f} {max(values):6.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
