"""A ``katas grade`` worker: one process that grades learner after learner.

``katas grade`` starts ``--workers`` of them once per run. A worker imports
pytest, torch and the tool once; for each learner it forks a child that runs
``pytest.main`` with the very arguments of ``pytest --target PATH --grade``
for that learner and exits. The worker waits and reports the child's exit
code; a child killed by a signal is an error for that learner only. Nothing a
session leaves behind (test and conftest modules, ``sys.path``, the
environment, the working folder, torch's and Hypothesis's state) survives the
child, so each learner is graded exactly as by a fresh ``pytest --grade``.

Only the judge runs in the worker's children (our code); the learner's code
runs, as always, in kata servers forked by a zygote (``runner.Zygote``). With
Landlock's signal scoping (ABI 6+), no kata server can reach the zygote, so the
worker keeps one per isolation mode for all its learners and hands it to each
child (bwrap: started with the worker's inbox folder bound, where each
learner's copy is made, and only where cgroups kill each learner's processes);
without scoping each learner's session starts its own.

Protocol, one JSON line each way over the socket ``katas grade`` passes:
``{"args": [...], "log": FILE, "isolation": MODE, "env": {...}, "share_zygote": true}``
in (pytest's output goes to FILE; ``env``, optional, is set in the learner's child
only; ``"share_zygote": false`` makes the session start its own zygote, exactly as a
fresh ``pytest --grade``), ``{"exit": CODE}`` out. End of input: the worker closes
its zygotes and exits.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import pytest

from backprop_katas.grading import sandbox
from backprop_katas.kinds import Isolation

BOOTSTRAP = "import sys; from backprop_katas.grading.worker import main; main(int(sys.argv[1]))"
NORMAL_EXITS = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)


class WorkerPlugin:
    """Hands the worker's zygote to the grading plugin (before the plugin configures)."""

    def __init__(self, zygote: Any) -> None:
        self.zygote = zygote

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        from backprop_katas.grading.plugin import ZYGOTE_KEY

        config.stash[ZYGOTE_KEY] = self.zygote


def shared_zygote_mode(isolation: str) -> Isolation | None:
    """The isolation in which this worker's learners may share its zygote, if they may
    (see ``runner.GradingRunner.can_share_zygote``)."""
    try:
        mode = sandbox.resolve_isolation(isolation)
    except (ValueError, RuntimeError):
        return None  # the child's pytest reports the usage error
    return mode if sandbox.landlock_abi() >= 6 else None


def _session(args: list[str], log: int, zygote: Any, env: dict[str, str]) -> int:
    """In the forked child: one ``pytest --grade`` session, output to ``log``."""
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    if env:
        import tempfile

        os.environ.update(env)
        tempfile.tempdir = None  # TMPDIR may be among them: read it again
    os.environ[sandbox.PARENT_ENV] = str(os.getppid())  # the plugin checks it dies with its parent: us
    # A fresh `pytest --grade` never imports this module; Hypothesis draws constants from the
    # modules it finds loaded, so it must not find this one.
    sys.modules.pop(__name__, None)
    try:
        return int(pytest.main(args, plugins=[WorkerPlugin(zygote)]))
    except BaseException:  # a grader bug: this learner fails, the worker goes on
        traceback.print_exc()
        return int(pytest.ExitCode.INTERNAL_ERROR)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def grade(request: dict[str, Any], zygotes: dict[Isolation, Any]) -> int:
    """One learner in a forked child; its exit code (minus the signal number if a signal killed it)."""
    mode = shared_zygote_mode(str(request.get("isolation", "auto")))
    if mode is not None and mode.namespaced and not sandbox.cgroups_available():
        mode = None  # the session would not take it (runner.GradingRunner): no sandbox started for nothing
    shared = zygotes.get(mode) if mode is not None and request.get("share_zygote", True) is not False else None
    if shared is not None:
        try:
            shared.start()  # started here, so that it outlives the child and serves the next learner
        except (OSError, RuntimeError):  # slow to start (a loaded machine) or broken: this learner starts its own
            shared.close()
            shared = None
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = int(pytest.ExitCode.INTERNAL_ERROR)
        try:
            sandbox.set_parent_death_signal()
            env = {str(k): str(v) for k, v in dict(request.get("env") or {}).items()}
            code = _session(list(request["args"]), log, shared, env)
        finally:
            os._exit(code)
    os.close(log)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code not in NORMAL_EXITS and shared is not None:
        shared.close()  # the child may have died mid-exchange with it: the next learner gets a fresh one
    if code < 0:
        with open(request["log"], "a", encoding="utf-8") as handle:
            handle.write(f"\nthe grading process for this learner was killed by {signal.Signals(-code).name}\n")
    return code


def main(fd: int) -> None:
    sandbox.set_parent_death_signal()  # dies with `katas grade`, even when that is killed with SIGKILL
    parent = os.environ.get(sandbox.PARENT_ENV)
    if parent and str(os.getppid()) != parent:
        os._exit(1)  # `katas grade` died before we could ask to die with it
    # Imported once, for every learner: the libraries and the tool's own modules (test files
    # and conftests are imported by each learner's session, in its child).
    import hypothesis  # noqa: F401
    import numpy  # noqa: F401
    import torch  # noqa: F401

    from backprop_katas.grading import plugin  # noqa: F401
    from backprop_katas.grading.runner import Zygote
    from backprop_katas.kit import judge, oracles  # noqa: F401

    # bwrap: the zygote sees one folder of the host, the inbox; each learner's copy is made in it.
    inbox = Path(tempfile.mkdtemp(prefix="katas-inbox-"))
    inbox.chmod(0o711)  # the sandbox's nobody passes through to a copy, never lists
    # one zygote per mode, started on first use; a namespaced one binds the inbox
    zygotes: dict[Isolation, Any] = {
        mode: Zygote(mode, [str(inbox)] if mode.namespaced else []) for mode in Isolation if mode is not Isolation.AUTO
    }
    stream = socket.socket(fileno=fd).makefile("rwb")
    try:
        for line in stream:
            code = grade(json.loads(line), zygotes)
            stream.write(json.dumps({"exit": code}).encode() + b"\n")
            stream.flush()
    finally:
        for zygote in zygotes.values():
            zygote.close()
        sandbox.remove_tree(inbox)
