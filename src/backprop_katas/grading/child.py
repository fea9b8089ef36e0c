"""The child side of grading: a zygote that imports torch once, and one probe server per kata.

The grader starts a zygote (``python -I``, minimal environment): inside
bubblewrap, one per learner; without it, one per ``katas grade`` worker when
Landlock can scope signals (no kata server can reach it), else one per
learner. The zygote imports torch, numpy, pytest and the tool, then waits.
For each kata the grader sends it one end of a fresh socket pair; the zygote
forks a kata server that leads its own session, says hello (the kernel
attaches its pid and uid as the grader sees them, so the grader can put it
into the kata's cgroup), makes its own folder under the scratch folder with a
copy of the learner's kata files (working folder, HOME, TMPDIR and torch's
caches all point there), imports the kit's probe modules (``backprop_katas.probes.*``,
never a test file: no judge, expected value or test name enters the child), drops privileges,
lowers its limits and restricts itself with Landlock (``sandbox``), and only
then serves probe calls: ``{"module": "backprop_katas.probes.k05_backprop",
"probe": "manual_gradients", "args": [...], "timeout": seconds}`` in,
``{"ok": plain data}`` or ``{"error": ProbeError}`` out. Learner code is
imported lazily by the first probe, after all of that.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import shutil
import signal
import socket
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from ..runner import ProbeError
from . import sandbox, wire

TEXT_LIMIT = 4000  # characters of a learner's error message or traceback sent back
HELLO = b"!"  # a kata server's first byte: it carries the kernel's credentials (SO_PASSCRED)

BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from backprop_katas.grading.child import zygote; zygote(int(sys.argv[2]), sys.argv[3:])"
)


def zygote(control_fd: int, flags: list[str] | None = None) -> None:
    """Import the heavy libraries once, then fork a kata server per request."""
    privileges = "unchanged"
    if "sandboxed" in (flags or []):
        privileges = sandbox.become_nobody()  # inside bwrap: before anything else is read or run
    sandbox.set_parent_death_signal()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kata servers are reaped automatically
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)  # learner prints go nowhere; only the socket carries data
    # Preloaded for the kata servers: what a probe needs (judges, pytest and Hypothesis stay in the grader).
    import numpy  # noqa: F401
    import torch  # noqa: F401

    from .. import loader, oracles, plain, runner  # noqa: F401

    probe_modules()

    control = socket.socket(fileno=control_fd)
    control.send(json.dumps({"ready": True, "privileges": privileges}).encode())
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
                os.setsid()  # leader of a new session and process group
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                sandbox.set_parent_death_signal()
                sock = socket.socket(fileno=fds[0])
                sock.sendall(HELLO)
                serve(sock, json.loads(message))
            except BaseException:  # a kata server never returns into the zygote loop
                code = 1
            finally:
                os._exit(code)
        os.close(fds[0])
        control.send(json.dumps({"pid": pid}).encode())


def kata_folder(setup: dict[str, Any]) -> str:
    """A fresh folder of this kata server's own, holding a copy of the learner's kata files."""
    folder = os.path.join(setup["scratch"], setup["folder"])
    os.mkdir(folder, 0o700)  # fails if it exists: a restarted kata server never sees its predecessor's files
    source = Path(setup["source"])
    for name in setup["files"]:
        shutil.copyfile(source / name, os.path.join(folder, name), follow_symlinks=False)
    if setup["drop"] == "nobody" and os.geteuid() == 0:
        for path in [folder, *(os.path.join(folder, n) for n in setup["files"])]:
            os.chown(path, sandbox.NOBODY, sandbox.NOBODY)
    return folder


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

    copy = kata_folder(setup)
    os.chdir(copy)
    os.environ.update(sandbox.kata_environment(copy))  # the zygote's own HOME is not this kata's
    tempfile.tempdir = None
    modules = probe_modules()
    import torch

    # Warm up before Landlock: torch picks its CPU kernels (AVX2, ...) on first use by reading
    # /proc and /sys; picked later, under Landlock, it would fall back to other kernels whose
    # float32 results differ in the last bit from the grader's.
    torch.nn.Linear(2, 2)(torch.zeros(1, 2)).sum()
    privileges = "unchanged"
    if setup["drop"] == "nobody":
        privileges = sandbox.become_nobody()
    elif setup["drop"] == "capabilities":
        privileges = sandbox.drop_capabilities()
    without_cgroup = not setup["cgroup"]
    sandbox.apply_limits(sandbox.Limits(**setup["limits"]), address_space=without_cgroup, processes=without_cgroup)
    status: dict[str, Any] = {"abi": sandbox.landlock_abi(), "files": False, "tcp": False, "signals": False}
    if setup["landlock"]:
        read = [p for p in setup["read"] if os.path.exists(p)]
        status = sandbox.landlock(read=[*read, copy], write=[copy, os.devnull])
    target = Target(setup["label"], Path(copy))
    wire.send(sock, {"ready": {"landlock": status, "privileges": privileges}})

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
