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
caches all point there), imports the kit's probe modules (``backprop_katas.kit.probes.*``,
never a test file: no judge, expected value or test name enters the child), drops privileges,
lowers its limits and restricts itself with Landlock (``sandbox``), and only
then serves probe calls: ``{"module": "backprop_katas.kit.probes.k05_backprop",
"probe": "manual_gradients", "args": [...], "timeout": seconds}`` in,
``{"ok": plain data}`` or ``{"error": ProbeError}`` out. A setup that fails
says ``{"failed": why}`` instead of ``{"ready": ...}``.

The kata server never imports learner code. For each probe call it forks a
*call process* from its own learner-free state: a further Landlock layer
(write only a fresh folder ``.call-N`` inside the kata's folder, read the kata
files), then the probe imports the learner's kata file, runs, and the reply
goes back through the kata server, which then kills and reaps whatever the
call left (it is a child subreaper) and removes the call's folder. Nothing a
call keeps in memory or in files reaches the next call. The zygote, when the
grader asks, removes a finished kata's folder (bwrap: only it sees the tmpfs).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import shutil
import signal
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from backprop_katas.grading import sandbox, wire
from backprop_katas.kinds import ProbeErrorKind
from backprop_katas.kit.failure import ProbeError
from backprop_katas.kit.warm import probe_modules, warm_up
from backprop_katas.lang import say

TEXT_LIMIT = 4000  # characters of a learner's error message or traceback sent back
SCRATCH_IN_SANDBOX = sandbox.SANDBOX_TMP  # bwrap: where kata servers make their folders
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

    from backprop_katas.kit import loader, oracles, plain, runner  # noqa: F401

    probe_modules()
    warm_up()

    control = socket.socket(fileno=control_fd)
    control.send(json.dumps({"ready": True, "privileges": privileges}).encode())
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 20, 1)
        except OSError:
            os._exit(0)
        if not message:
            os._exit(0)
        if not fds:  # the grader asks for a finished kata's folder to be removed (its processes are dead)
            name = str(json.loads(message).get("remove", ""))
            if name and "/" not in name and name not in (".", ".."):
                sandbox.remove_tree(Path(SCRATCH_IN_SANDBOX) / name)
            control.send(json.dumps({"removed": True}).encode())
            continue
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


def refused_module(name: str) -> ProbeError:
    return ProbeError(
        ProbeErrorKind.RAISED,
        "ProbeOutsideKit",
        f"grader: refused to import {name!r}: probes for grading live in backprop_katas.kit.probes",
        "",
        "",
    )


def _cap(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + " [...]"


def serve(sock: socket.socket, setup: dict[str, Any]) -> None:
    """Set the kata up (its folder, limits, Landlock), then fork a fresh call process per probe call.

    The kata server itself never imports learner code: each call's process does, from the
    state the server had before any learner code ran, so nothing a call leaves in memory or in
    its folder reaches the next call. A setup that fails says why on the wire.
    """
    try:
        copy, modules, status, privileges = _set_up(setup)
    except BaseException as exc:  # no learner code has run: this is the grader's machine failing
        wire.send(sock, {"failed": _cap(f"{type(exc).__name__}: {exc}")})
        with contextlib.suppress(OSError):
            sock.recv(1)  # stay until the grader has read why (it closes the socket)
        return
    wire.send(sock, {"ready": {"landlock": status, "privileges": privileges}})
    gc.freeze()  # a call's garbage collections then leave the server's objects (and their pages) alone: a cheaper fork
    calls = 0
    prepared: Prepared | bytes | None = None
    while True:
        try:
            request = wire.receive(sock)
        except (EOFError, OSError, wire.WireError):
            return
        calls += 1
        if prepared is None:
            prepared = prepare(sock, setup, copy, modules, calls)
        sock.sendall(call(prepared, request, setup))
        # The next call's process is forked now, while the grader judges this reply: forking a process
        # that holds torch takes milliseconds, off the path from a request to its reply. Never before the
        # first request: until the grader sends one it may not yet have put this server in its kata's
        # cgroup, and a process forked before that would escape the cgroup's limits.
        prepared = prepare(sock, setup, copy, modules, calls + 1)


def _set_up(setup: dict[str, Any]) -> tuple[str, dict[str, ModuleType], dict[str, Any], str]:
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
    sandbox.become_subreaper()  # whatever a call starts (setsid, double fork) comes back here to be killed
    status: dict[str, Any] = {"abi": sandbox.landlock_abi(), "files": False, "tcp": False, "signals": False}
    if setup["landlock"]:
        # The server may also read /proc (its own children); each call's layer takes that away again.
        status = sandbox.landlock(read=[*_readable(setup), "/proc", copy], write=[copy, os.devnull])
    return copy, modules, status, privileges


def _readable(setup: dict[str, Any]) -> list[str]:
    return [p for p in setup["read"] if os.path.exists(p)]


@dataclass
class Prepared:
    """A call process forked from the kata server's learner-free state, waiting for its request."""

    pid: int
    sock: socket.socket
    folder: str


def prepare(
    sock: socket.socket, setup: dict[str, Any], copy: str, modules: dict[str, ModuleType], n: int
) -> Prepared | bytes:
    """Fork the process for call ``n`` with its fresh folder; it waits for its request. An error's frame if it cannot."""
    folder = os.path.join(copy, f".call-{n}")
    try:
        os.mkdir(folder, 0o700)
    except OSError as exc:
        return _error_frame("KataProcessEnded", say("grade_call_failed", kata=setup["kata"], detail=str(exc)))
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            sandbox.set_parent_death_signal()
            sock.close()
            ours.close()
            request = wire.receive(theirs)  # nothing of the learner's has run in this process yet
            _run_call(theirs, request, setup, copy, folder, modules)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    theirs.close()
    return Prepared(pid, ours, folder)


def call(prepared: Prepared | bytes, request: Any, setup: dict[str, Any]) -> bytes:
    """One probe call in its prepared process and folder; the reply's frame, or an error's."""
    if isinstance(prepared, bytes):
        return prepared
    ours, pid, folder = prepared.sock, prepared.pid, prepared.folder
    try:
        wire.send(ours, request)
        data, status = _collect(ours, pid)
    except OSError:  # the prepared process is gone (killed while it waited): no reply
        data, status = b"", None
    finally:
        ours.close()
        sandbox.kill_children()  # the call's orphans (setsid daemons) were reparented here
        try:
            os.rmdir(folder)  # most calls write nothing
        except OSError:
            sandbox.remove_tree(Path(folder))
    if len(data) >= wire.HEADER.size:
        (size,) = wire.HEADER.unpack(data[: wire.HEADER.size])
        if size <= wire.MAX_FRAME and len(data) >= wire.HEADER.size + size:
            return data[: wire.HEADER.size + size]
    detail = f"exit status {os.waitstatus_to_exitcode(status)}" if status is not None else "no reply"
    return _error_frame("KataProcessEnded", say("grade_child_died", kata=setup["kata"], detail=detail))


def _error_frame(kind: str, message: str) -> bytes:
    payload = wire.dumps({"error": ProbeError(ProbeErrorKind.RAISED, kind, _cap(message), "", "")})
    return wire.HEADER.pack(len(payload)) + payload


def _collect(ours: socket.socket, pid: int) -> tuple[bytes, int | None]:
    """Read what the call process sends until it exits (its orphans may hold the socket open)."""
    chunks: list[bytes] = []
    size = 0
    pidfd = os.pidfd_open(pid)
    status: int | None = None
    try:
        poller = select.poll()
        poller.register(ours, select.POLLIN)
        poller.register(pidfd, select.POLLIN)
        reading = True
        while True:
            ready = {fd for fd, _ in poller.poll()}
            if ours.fileno() in ready and reading:
                chunk = ours.recv(1 << 20)
                if not chunk or size > wire.MAX_FRAME + wire.HEADER.size:
                    reading = False  # end of data, or more than any reply may be: wait for the exit
                    poller.unregister(ours)
                    if chunk:
                        os.kill(pid, signal.SIGKILL)
                else:
                    chunks.append(chunk)
                    size += len(chunk)
            if pidfd in ready:
                _, status = os.waitpid(pid, 0)
                break
        sandbox.kill_children()  # nothing else writes now
        ours.setblocking(False)
        while size <= wire.MAX_FRAME + wire.HEADER.size:
            try:
                chunk = ours.recv(1 << 20)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(pidfd)
    return b"".join(chunks), status


def _run_call(
    out: socket.socket, request: Any, setup: dict[str, Any], copy: str, folder: str, modules: dict[str, ModuleType]
) -> None:
    from backprop_katas.kit.loader import Target
    from backprop_katas.kit.plain import to_plain
    from backprop_katas.kit.runner import ReturnRecorder, error_from_exception, no_processes, time_limit

    sandbox.set_parent_death_signal()
    os.chdir(folder)
    os.environ.update(sandbox.kata_environment(folder))
    tempfile.tempdir = None
    if setup["landlock"]:  # a further layer: write only this call's folder, read the kata files, no /proc
        sandbox.landlock(read=[*_readable(setup), copy], write=[folder, os.devnull])
    target = Target(setup["label"], Path(copy))
    name, qualname, args, timeout = request["module"], request["probe"], request["args"], request["timeout"]
    if name not in modules:
        reply: dict[str, Any] = {"error": refused_module(str(name))}
    else:
        recorder = ReturnRecorder(target.path)
        try:
            probe = getattr(modules[name], qualname)  # a module-level function: no dotted path
            with time_limit(timeout), recorder.recording(), no_processes():
                result = probe(target, *args)
            # the line where learner code returned the value: the grader's "where to edit"
            reply = {"ok": to_plain(result), "at": recorder.last}
        except BaseException as exc:  # learner code may raise anything, even SystemExit
            error = error_from_exception(exc, target)
            reply = {
                "error": ProbeError(
                    error.kind,
                    _cap(error.type),
                    _cap(error.message),
                    _cap(error.where),
                    _cap(error.traceback),
                    error.at,
                )
            }
    try:
        wire.send(out, reply)
    except wire.WireError as exc:
        wire.send(out, {"error": ProbeError(ProbeErrorKind.RAISED, "ResultTooLarge", str(exc), "", "")})
