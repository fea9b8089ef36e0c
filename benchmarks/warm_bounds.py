"""What bounds a warm re-check: one kata checked in a child forked from a warm process, with each
per-call guard of the learner-mode runner switched off in turn.

    python benchmarks/warm_bounds.py [--kata k02] [--rounds 5]

The warm process does what the learner's warm server does (``tool/server.py``: its imports, its
warm-up steps, ``gc.freeze``); every round forks a child that runs ``pytest`` on the kata's tests
against solutions/, as a re-check after a save does. The median wall seconds of each variant:

- ``as shipped``: what ``katas watch`` pays (benchmarks/warm_check.py times the same through the server);
- ``collection only``: the session and the test module, no test run (``--co``);
- ``no return recorder``: without ``kit.runner.ReturnRecorder``, the ``sys.settrace`` hook that
  finds the line a learner's function returned from (the ``Edit: file:line`` of a failure);
- ``no per-call guards``: without the recorder, the time limit, the process audit hook, the
  restored torch modes and the shortcut check: the kata tests' own work and pytest's.

Switching a guard off is for measuring only; no check runs without them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

GUARDS = {
    "as shipped": (),
    "no return recorder": ("recorder",),
    "no per-call guards": ("recorder", "limit", "processes", "modes", "shortcuts"),
}


def switch_off(guards: tuple[str, ...]) -> None:
    from backprop_katas.kit import runner, shortcuts

    def nothing(*_args: object, **_kwargs: object) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    if "recorder" in guards:
        runner.ReturnRecorder.recording = lambda self: contextlib.nullcontext(self)  # type: ignore[method-assign]
    if "limit" in guards:
        runner.time_limit = nothing  # type: ignore[assignment]
    if "processes" in guards:
        runner.no_processes = nothing  # type: ignore[assignment]
    if "modes" in guards:
        runner.torch_modes_restored = nothing  # type: ignore[assignment]
    if "shortcuts" in guards:
        shortcuts.expect_no_shortcut = lambda *_a, **_k: None  # type: ignore[assignment]


def one_round(args: list[str], guards: tuple[str, ...]) -> float:
    """Wall seconds of one forked check, run as the warm server's child runs it (``server.run_pytest``);
    the child's own clock: the fork and the wait add under a millisecond."""
    from backprop_katas.tool import server

    request = {"log": os.devnull, "cwd": str(ROOT), "env": dict(os.environ), "args": args}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        switch_off(guards)
        start = time.perf_counter()
        server.run_pytest(request)
        os.write(write, f"{time.perf_counter() - start}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        seconds = float(answer.read() or "nan")
    os.waitpid(pid, 0)
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kata", default="k02", help="the kata re-checked (default k02)")
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args(argv)
    os.environ["KATAS_LANG"] = "both"  # as check.run_kata sends it; server.run_pytest moves to ROOT

    from backprop_katas.catalog import load_catalog
    from backprop_katas.tool import check, server

    kata = next(k for k in load_catalog(ROOT) if options.kata in (k.id, k.number))
    server.import_essentials()
    for step in server.warm_steps():
        step()
    with tempfile.TemporaryDirectory(prefix="katas-bounds-") as scratch:
        # the arguments `katas check` sends the warm server (check.run_kata adds only --probe-timeout)
        args = check.pytest_command(ROOT, kata, ROOT / "solutions", Path(scratch) / "report.json")[3:]
        variants = {"collection only": ([*args, "--co"], ())}
        variants.update({name: (args, guards) for name, guards in GUARDS.items()})
        medians = {}
        for name, (variant, guards) in variants.items():
            one_round(variant, guards)  # the first fork warms the OS file cache: left out
            medians[name] = statistics.median(one_round(variant, guards) for _ in range(options.rounds))
    shipped = medians["as shipped"]
    print(
        f"warm re-check of {kata.id} on solutions/, median of {options.rounds} forked rounds, load {os.getloadavg()[0]:.2f}"
    )
    for name, seconds in medians.items():
        print(f"  {name:<22}{seconds:7.3f} s  ({seconds / shipped:5.0%} of as shipped)")


if __name__ == "__main__":
    main()
