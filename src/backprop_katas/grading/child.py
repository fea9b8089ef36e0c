"""The child side of grading: a zygote that imports torch once, and one probe server per kata.

The grader starts a zygote (``python -I``, minimal environment, an empty
private folder as its working folder and HOME): one per submission, or one
per ``katas grade`` worker for all its learners. The zygote imports torch,
numpy, pytest and the tool, then waits. For each kata the grader sends it one
end of a fresh socket pair; the zygote forks a kata server that leads its own
process group, moves into that submission's fresh copy (working folder, HOME,
TMPDIR), imports the kit's probe modules (``backprop_katas.probes.*``, never a
test file: no judge, expected value or test name enters the child), lowers
its limits (``sandbox``), and only then serves probe calls:
``{"module": "backprop_katas.probes.k05_backprop", "probe": "manual_gradients",
"args": [...], "timeout": seconds}`` in, ``{"ok": plain data}`` or
``{"error": ProbeError}`` out. A module outside ``backprop_katas.probes`` is
refused. Learner code is imported lazily by the first probe, after the limits
are in place.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import signal
import socket
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from ..runner import ProbeError
from . import sandbox, wire

TEXT_LIMIT = 4000  # characters of a learner's error message or traceback sent back

BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from backprop_katas.grading.child import zygote; zygote(int(sys.argv[2]))"
)


def zygote(control_fd: int) -> None:
    """Import the heavy libraries once, then fork a kata server per request."""
    sandbox.set_parent_death_signal()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kata servers are reaped automatically
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)  # learner prints go nowhere; only the socket carries data
    import hypothesis  # noqa: F401 - preloaded for the kata servers
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import torch  # noqa: F401

    from .. import judge, oracles, runner  # noqa: F401

    control = socket.socket(fileno=control_fd)
    control.send(b'{"ready": true}')
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 20, 1)
        except OSError:
            os._exit(0)
        if not message or not fds:
            os._exit(0)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                control.close()
                os.setsid()  # leader of a new process group: the grader kills the whole group
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                sandbox.set_parent_death_signal()
                serve(socket.socket(fileno=fds[0]), json.loads(message))
            except BaseException:  # a kata server never returns into the zygote loop
                code = 1
            finally:
                os._exit(code)
        os.close(fds[0])
        control.send(json.dumps({"pid": pid}).encode())


def probe_modules() -> dict[str, ModuleType]:
    """Every module of ``backprop_katas.probes``, imported: the only code of a test that enters the child."""
    from .. import probes

    found = pkgutil.iter_modules(probes.__path__, probes.PACKAGE + ".")
    return {info.name: importlib.import_module(info.name) for info in found}


def refused_module(name: str) -> ProbeError:
    return ProbeError(
        "raised",
        "ProbeOutsideKit",
        f"grader: refused to import {name!r}: probes for grading live in backprop_katas.probes",
        "",
        "",
    )


def _cap(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + " [...]"


def serve(sock: socket.socket, setup: dict[str, Any]) -> None:
    from ..loader import Target
    from ..plain import to_plain
    from ..runner import error_from_exception, time_limit

    copy = setup["copy"]
    os.chdir(copy)
    os.environ["HOME"] = os.environ["TMPDIR"] = copy  # the zygote's own HOME is not this submission's
    tempfile.tempdir = None
    modules = probe_modules()
    import torch

    # Warm up before Landlock: torch picks its CPU kernels (AVX2, ...) on first use by reading
    # /proc and /sys; picked later, under Landlock, it would fall back to other kernels whose
    # float32 results differ in the last bit from the grader's.
    torch.nn.Linear(2, 2)(torch.zeros(1, 2)).sum()
    sandbox.apply_limits(sandbox.Limits(**setup["limits"]))
    status = "off"
    if setup["landlock"]:
        status = sandbox.landlock(read=[*setup["read"], copy], write=[copy, os.devnull])
    target = Target(setup["label"], Path(copy))
    wire.send(sock, {"ready": status})

    while True:
        try:
            request = wire.receive(sock)
        except (EOFError, OSError):
            return
        name, qualname, args, timeout = request["module"], request["probe"], request["args"], request["timeout"]
        if name not in modules:
            reply: dict[str, Any] = {"error": refused_module(str(name))}
        else:
            try:
                probe = getattr(modules[name], qualname)  # a module-level function: no dotted path
                with time_limit(timeout):
                    result = probe(target, *args)
                    reply = {"ok": to_plain(result)}
            except BaseException as exc:  # learner code may raise anything, even SystemExit
                error = error_from_exception(exc, target)
                reply = {
                    "error": ProbeError(
                        error.kind, _cap(error.type), _cap(error.message), _cap(error.where), _cap(error.traceback)
                    )
                }
        try:
            wire.send(sock, reply)
        except wire.WireError as exc:
            wire.send(sock, {"error": ProbeError("raised", "ResultTooLarge", str(exc), "", "")})
