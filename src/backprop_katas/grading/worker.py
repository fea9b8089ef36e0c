"""A ``katas grade`` worker: one process that grades learner after learner.

``katas grade`` starts ``--workers`` of them once per run. A worker imports
pytest and torch once, keeps one zygote (``runner.Zygote``) for all its
learners, and grades each learner by calling ``pytest.main`` in-process with
the very arguments of ``pytest --target PATH --grade`` for that learner. Only
the judge runs here (our code); the learner's code runs, as always, in kata
servers the zygote forks: a fresh one per kata and learner, from the learner's
own fresh temporary copy, with its own limits and Landlock ruleset.

Between learners the worker puts back what a pytest session can leave behind
in a process, so a learner is graded exactly as by a fresh ``pytest --grade``:
the test and conftest modules (a test file's module-level cache, such as the
XOR kata's chapter runs, is gone with its module), ``sys.path``,
``os.environ``, the working folder, torch's global random state and defaults,
and Hypothesis's pool of constants gathered from loaded modules (it would
otherwise include this worker's own module, which no ``pytest --grade``
process loads, and change the examples Hypothesis draws).

Protocol, one JSON line each way over the socket ``katas grade`` passes:
``{"args": [...], "log": FILE}`` in (pytest's output goes to FILE),
``{"exit": CODE}`` out. End of input: the worker closes its zygote and exits.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import pytest

from . import sandbox

BOOTSTRAP = "import sys; from backprop_katas.grading.worker import main; main(int(sys.argv[1]))"


class WorkerPlugin:
    """Hands the worker's zygote to the grading plugin (before the plugin configures)."""

    def __init__(self, zygote: Any) -> None:
        self.zygote = zygote

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        from .plugin import ZYGOTE_KEY

        config.stash[ZYGOTE_KEY] = self.zygote


def _under(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f + os.sep) for f in folders)


@dataclass
class Baseline:
    """The worker's state before any session; ``restore`` puts it back."""

    modules: set[str]
    path: list[str]
    environ: dict[str, str]
    cwd: str
    library: list[str]  # folders whose modules stay loaded: Python, site-packages, backprop_katas
    torch_state: dict[str, Any]
    hypothesis_state: dict[str, Any]

    @classmethod
    def take(cls) -> Baseline:
        import torch

        library = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(sandbox.package_root())}
        library.update(p for p in sys.path if p and "site-packages" in p)
        return cls(
            modules=set(sys.modules),
            path=list(sys.path),
            environ=dict(os.environ),
            cwd=os.getcwd(),
            library=sorted({os.path.realpath(p) for p in library}),
            torch_state={
                "rng": torch.get_rng_state(),
                "dtype": torch.get_default_dtype(),
                "grad": torch.is_grad_enabled(),
                "threads": torch.get_num_threads(),
            },
            hypothesis_state=_hypothesis_constants(),
        )

    def restore(self) -> None:
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if name in self.modules or not isinstance(file, str):
                continue
            if not _under(os.path.realpath(file), self.library):
                del sys.modules[name]  # a test file, a conftest, a hidden test: imported afresh next session
        sys.path[:] = self.path
        os.environ.clear()
        os.environ.update(self.environ)
        os.chdir(self.cwd)
        import torch

        torch.set_rng_state(self.torch_state["rng"])
        torch.set_default_dtype(self.torch_state["dtype"])
        torch.set_grad_enabled(self.torch_state["grad"])
        torch.set_num_threads(self.torch_state["threads"])
        _restore_hypothesis_constants(self.hypothesis_state)


def _hypothesis_constants() -> dict[str, Any]:
    """Hypothesis (6.13x+) draws constants found in the "local" modules loaded so far."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:
        return {}
    names = ("_local_constants", "_seen_modules", "_sys_modules_len")
    if not all(hasattr(providers, n) for n in names):
        return {}
    state = {n: copy.deepcopy(getattr(providers, n)) for n in names}
    state["_seen_modules"] = set(state["_seen_modules"]) | {id(sys.modules[__name__])}  # not in pytest --grade
    return state


def _restore_hypothesis_constants(state: dict[str, Any]) -> None:
    if not state:
        return
    from hypothesis.internal.conjecture import providers

    for name, value in state.items():
        setattr(providers, name, copy.deepcopy(value))
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if cache is not None and hasattr(cache, "cache"):
        cache.cache.clear()


def grade(request: dict[str, Any], zygote: Any, baseline: Baseline) -> int:
    """One learner: ``pytest.main(args)`` with its output in the request's log file."""
    baseline.restore()
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    saved = os.dup(1), os.dup(2)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log, 1)
    os.dup2(log, 2)
    try:
        return int(pytest.main(list(request["args"]), plugins=[WorkerPlugin(zygote)]))
    except Exception:  # a grader bug: the learner is reported as failed, the worker goes on
        traceback.print_exc()
        return -1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, log):
            os.close(fd)
        baseline.restore()


def main(fd: int) -> None:
    sandbox.set_parent_death_signal()  # dies with `katas grade`, even when that is killed with SIGKILL
    parent = os.environ.get(sandbox.PARENT_ENV)
    if parent and str(os.getppid()) != parent:
        os._exit(1)  # `katas grade` died before we could ask to die with it
    import torch  # noqa: F401 - imported once, for every learner

    from .runner import Zygote

    baseline = Baseline.take()
    zygote = Zygote()
    stream = socket.socket(fileno=fd).makefile("rwb")
    try:
        for line in stream:
            code = grade(json.loads(line), zygote, baseline)
            stream.write(json.dumps({"exit": code}).encode() + b"\n")
            stream.flush()
    finally:
        zygote.close()
