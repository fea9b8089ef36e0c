"""The cost of the return recorder: k06's chapter training (10001 steps) through the in-process
runner, with the recorder and with it turned off (the rest of the probe is the same).

Run from the project: python benchmarks/recorder_cost.py . 5
"""

import statistics
import sys
import time
from pathlib import Path

from backprop_katas.kit import runner as R
from backprop_katas.kit.loader import Target
from backprop_katas.kit.probes import k06_xor_training as P

root = Path(sys.argv[1]).resolve()
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
target = Target("solutions", root / "solutions")
run = R.InProcessRunner(target, None)
original = R.ReturnRecorder.recording


def timed() -> float:
    start = time.perf_counter()
    run.run(P.chapter, "train")
    return time.perf_counter() - start


timed()  # warm: imports, first compile
on, off = [], []
for _ in range(rounds):
    R.ReturnRecorder.recording = original
    on.append(timed())
    where = R.last_where()
    R.ReturnRecorder.recording = lambda self: __import__("contextlib").nullcontext(self)
    off.append(timed())
print(f"recorded: {where}")
print(f"with recorder    median {statistics.median(on):.3f} s  {[round(t, 3) for t in on]}")
print(f"without recorder median {statistics.median(off):.3f} s  {[round(t, 3) for t in off]}")
print(f"ratio {statistics.median(on) / statistics.median(off):.3f}")
