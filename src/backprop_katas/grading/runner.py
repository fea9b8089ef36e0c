"""Grading mode's runner: the same ``run(probe, *args)`` as learner mode, in a child per kata.

The judge (the test) stays in the grader's process; only the probe (a function of
``backprop_katas.probes``, named by module and name) runs in
the child, and only plain data comes back (``wire``). A kata's child has a
time budget for all its probes together; when a probe outlives its own
limit, or the child dies, the child's whole process group is killed. After
``MAX_RESTARTS`` such deaths, or when the kata's budget is spent, the kata is
closed: every later probe of it fails at once with the reason, and grading
goes on with the next kata.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import Kata
from ..loader import Target
from ..messages import say
from ..probes import PACKAGE as PROBES_PACKAGE
from ..runner import Probe, ProbeError, ProbeFailed
from . import sandbox, wire
from .child import BOOTSTRAP

MAX_RESTARTS = 2
GRACE = 5.0  # seconds the grader waits beyond a probe's own limit before killing its child
SPAWN_SECONDS = 60.0  # starting a kata server: importing the probe modules, warming torch up


class Zygote:
    """A ``python -I`` process that has imported torch and forks a fresh kata server on request.

    It never runs learner code and holds nothing of a submission: its working folder and
    HOME are an empty private folder; each kata server it forks gets its submission's copy,
    its limits and its own Landlock ruleset (``child.serve``). So one zygote can serve
    several submissions in turn (a ``katas grade`` worker keeps one for all its learners).
    """

    def __init__(self) -> None:
        self.home: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None

    def _start(self) -> socket.socket:
        if self.control is not None and self.process is not None and self.process.poll() is None:
            return self.control
        self.close()
        self.home = Path(tempfile.mkdtemp(prefix="katas-zygote-"))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [*sandbox.python_command(BOOTSTRAP), str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            cwd=self.home,
            env=sandbox.child_environment(self.home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        self.control = ours
        ours.settimeout(SPAWN_SECONDS)
        try:
            ready = ours.recv(1024)
        except OSError:
            self.close()
            raise
        if not ready:
            self.close()
            raise RuntimeError("grading: the child Python could not start (is backprop_katas importable?)")
        return ours

    def fork(self, setup: dict[str, Any], sock: socket.socket) -> int:
        """Fork a kata server serving ``sock``; its pid (the leader of its own process group)."""
        control = self._start()
        try:
            socket.send_fds(control, [json.dumps(setup).encode()], [sock.fileno()])
            return int(json.loads(control.recv(1024))["pid"])
        except (OSError, ValueError, KeyError):
            self.close()  # a half-done exchange would mismatch the next one: start afresh next time
            raise

    def close(self) -> None:
        if self.process is not None:
            sandbox.kill_group(self.process.pid)
            self.process.wait()
            self.process = None
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.home is not None:
            sandbox.remove_tree(self.home)
            self.home = None


@dataclass
class Settings:
    catalog: list[Kata]
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    landlock: bool = True
    zygote: Zygote | None = None  # shared (a `katas grade` worker's); None: each runner starts its own


@dataclass
class KataChild:
    pid: int
    sock: socket.socket
    landlock: str


@dataclass
class KataState:
    used: float = 0.0  # seconds spent in this kata's children
    deaths: int = 0
    closed: ProbeError | None = None
    child: KataChild | None = None


class ProbeOutsideKit(RuntimeError):
    """A test handed grading mode a probe that is not a module-level function of ``backprop_katas.probes``."""


def kata_of_module(catalog: list[Kata], path: Path, module_kata: object) -> str | None:
    """The kata a test or probe module belongs to: ``KATA = "k05_backprop"`` in it, or its file name."""
    ids = {k.id for k in catalog}
    if isinstance(module_kata, str) and module_kata in ids:
        return module_kata
    match = re.match(r"(?:test_)?(k\d\d)", path.name)
    if match:
        return next((k.id for k in catalog if k.number == match.group(1)), None)
    return None


class GradingRunner:
    """One submission: a temporary copy, a fresh child per kata (started on first use) forked by a zygote."""

    mode = "grading"

    def __init__(self, target: Target, timeout: float | None, settings: Settings) -> None:
        self.target = target
        self.timeout = timeout
        self.settings = settings
        self.kata_files = [k.filename for k in settings.catalog]
        self.workdir = Path(tempfile.mkdtemp(prefix="katas-grade-"))
        self.copy = sandbox.copy_submission(target.path, self.kata_files, self.workdir)
        self.katas: dict[str, KataState] = {}
        self.landlock_status = "not started"
        self.owns_zygote = settings.zygote is None  # `katas grade` workers share one across learners
        self.zygote = settings.zygote or Zygote()

    # --- the zygote --------------------------------------------------------------------------

    def _spawn(self, kata: str, state: KataState) -> KataChild:
        ours, theirs = socket.socketpair()
        setup = {
            "copy": str(self.copy.path),
            "label": self.target.label,
            "limits": vars(self.settings.limits),
            "landlock": self.settings.landlock,
            "read": sandbox.readable_dirs(),
        }
        try:
            pid = self.zygote.fork(setup, theirs)
        finally:
            theirs.close()
        start = time.monotonic()
        try:
            ready = wire.receive(ours, start + SPAWN_SECONDS)
        except (EOFError, TimeoutError, OSError, wire.WireError):
            sandbox.kill_group(pid)
            raise
        finally:
            state.used += time.monotonic() - start
        self.landlock_status = str(ready.get("ready"))
        return KataChild(pid, ours, self.landlock_status)

    # --- probes ----------------------------------------------------------------------------

    def kata_for(self, probe: Probe) -> tuple[str, str]:
        """The probe's kata and module name; only a module-level function of ``backprop_katas.probes`` is served."""
        name = getattr(probe, "__module__", None) or ""
        module = sys.modules.get(name) if name.startswith(PROBES_PACKAGE + ".") else None
        qualname = getattr(probe, "__qualname__", "")
        if module is None or getattr(module, qualname, None) is not probe:
            raise ProbeOutsideKit(
                f"grading: the probe {name}.{qualname} is not a module-level function of {PROBES_PACKAGE}. "
                f"Probes for grading live in {PROBES_PACKAGE}.kNN_name (see CONTRIBUTING, 'Adding a kata'); "
                "a hidden test imports one and passes its inputs as arguments: "
                "run(P.some_probe, *inputs). Only that module and the inputs reach the learner's process."
            )
        path = Path(getattr(module, "__file__", "") or "")
        kata = kata_of_module(self.settings.catalog, path, getattr(module, "KATA", None))
        if kata is None:
            raise ProbeOutsideKit(f"grading: {name} belongs to no kata (name it kNN_name.py or set KATA)")
        return kata, name

    def run(self, probe: Probe, *args: Any) -> Any:
        kata, module = self.kata_for(probe)
        state = self.katas.setdefault(kata, KataState())
        if state.closed is not None:
            raise ProbeFailed(state.closed)
        if kata + ".py" in self.copy.missing:
            message = say("missing_file", file=kata + ".py", folder=self.target.label)
            state.closed = ProbeError("missing", "FileNotFoundError", message, "", "")
            raise ProbeFailed(state.closed)
        budget = self.settings.limits.kata_seconds - state.used
        if budget <= 0:
            raise ProbeFailed(self._close(kata, state, self._budget_error(kata)))
        limit = self.timeout if self.timeout else budget
        request = {"module": module, "probe": probe.__qualname__, "args": list(args), "timeout": limit}
        payload = wire.dumps(request)  # a grader bug (args that are not plain data) fails here, loudly
        del payload
        start = time.monotonic()
        try:
            if state.child is None:
                state.child = self._spawn(kata, state)
                start = time.monotonic()
            wire.send(state.child.sock, request)
            reply = wire.receive(state.child.sock, start + min(limit + GRACE, budget))
        except TimeoutError:
            state.used += time.monotonic() - start
            self._stop(state)
            if state.used >= self.settings.limits.kata_seconds:
                raise ProbeFailed(self._close(kata, state, self._budget_error(kata))) from None
            raise ProbeFailed(
                self._died(kata, state, ProbeError("timeout", "ProbeTimeout", str(limit), "", ""))
            ) from None
        except (EOFError, OSError, wire.WireError) as exc:
            state.used += time.monotonic() - start
            self._stop(state)
            reason = say("grade_child_died", kata=kata, detail=str(exc)[:300])
            raise ProbeFailed(
                self._died(kata, state, ProbeError("raised", "KataProcessEnded", reason, "", ""))
            ) from None
        state.used += time.monotonic() - start
        if not isinstance(reply, dict) or not ({"ok", "error"} & set(reply)):
            self._stop(state)
            reason = say("grade_child_died", kata=kata, detail="malformed reply")
            raise ProbeFailed(self._died(kata, state, ProbeError("raised", "KataProcessEnded", reason, "", "")))
        if "error" in reply:
            error = reply["error"]
            if not isinstance(error, ProbeError):
                error = ProbeError(
                    "raised", "KataProcessEnded", say("grade_child_died", kata=kata, detail="bad error"), "", ""
                )
            raise ProbeFailed(error)
        return reply["ok"]

    def _budget_error(self, kata: str) -> ProbeError:
        seconds = self.settings.limits.kata_seconds
        return ProbeError("raised", "KataTimeLimit", say("grade_kata_time", kata=kata, seconds=seconds), "", "")

    def _died(self, kata: str, state: KataState, error: ProbeError) -> ProbeError:
        state.deaths += 1
        if state.deaths > MAX_RESTARTS:
            closing = ProbeError(
                error.kind, error.type, error.message + "\n" + say("grade_kata_closed", kata=kata), "", ""
            )
            self._close(kata, state, closing if error.kind != "timeout" else error)
        return error

    def _close(self, kata: str, state: KataState, error: ProbeError) -> ProbeError:
        self._stop(state)
        state.closed = error
        return error

    def _stop(self, state: KataState | None) -> None:
        if state is None or state.child is None:
            return
        sandbox.kill_group(state.child.pid)
        try:
            os.kill(state.child.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        state.child.sock.close()
        state.child = None

    def close(self) -> None:
        """Kill every child (and the zygote, unless it is shared), remove the temporary copy."""
        for state in self.katas.values():
            self._stop(state)
        if self.owns_zygote:
            self.zygote.close()
        sandbox.remove_tree(self.workdir)


class GradingRunnerFactory:
    """What the grading plugin puts under ``RUNNER_FACTORY_KEY``: ``factory(target, timeout)``."""

    mode = "grading"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runners: list[GradingRunner] = []

    def __call__(self, target: Target, timeout: float | None) -> GradingRunner:
        runner = GradingRunner(target, timeout, self.settings)
        self.runners.append(runner)
        return runner

    def close(self) -> None:
        for runner in self.runners:
            runner.close()
