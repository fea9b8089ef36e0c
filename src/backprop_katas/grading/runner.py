"""Grading mode's runner: the same ``run(probe, *args)`` as learner mode, in a child per kata.

The judge (the test) stays in the grader's process; only the probe (a function of
``backprop_katas.kit.probes``, named by module and name) runs in
the child, and only plain data comes back (``wire``). A kata's child has a
time budget for all its probes together; when a probe outlives its own
limit, or the child dies, the child's whole process group is killed. After
``MAX_RESTARTS`` such deaths, or when the kata's budget is spent, the kata is
closed: every later probe of it fails at once with the reason, and grading
goes on with the next kata.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backprop_katas.catalog import Kata
from backprop_katas.grading import sandbox, wire
from backprop_katas.grading.child import BOOTSTRAP, HELLO
from backprop_katas.kinds import Isolation, ProbeErrorKind
from backprop_katas.kit.failure import ProbeError, Where
from backprop_katas.kit.loader import Target
from backprop_katas.kit.probes import PACKAGE as PROBES_PACKAGE
from backprop_katas.kit.runner import Probe, ProbeFailed, note_where
from backprop_katas.lang import say

MAX_RESTARTS = 2
GRACE = 5.0  # seconds the grader waits beyond a probe's own limit before killing its child
SPAWN_SECONDS = 60.0  # starting a kata server: importing the probe modules, warming torch up
DISK_POLL = 0.2  # fallback (no tmpfs): how often a kata's folder is measured while it runs
FORK_SECONDS = 10.0  # a zygote answers a fork at once; a stopped one is replaced after this


class Zygote:
    """A ``python -I`` process that has imported torch and forks a fresh kata server on request.

    It never runs learner code and holds nothing of a submission. With ``Isolation.BWRAP``
    it runs inside bubblewrap (``binds`` are what it may read besides Python; ``cgroup`` is
    the learner's, entered before bwrap starts) and serves one learner. Without, its working
    folder and HOME are an empty private folder, and each kata server it forks gets its own
    folder, limits and Landlock ruleset (``child.serve``), so with Landlock's signal scoping
    one zygote can serve a ``katas grade`` worker's learners in turn: none can reach it. The
    same holds inside bubblewrap: a worker's bwrap zygote is started with one folder bound (its
    *inbox*, ``binds[0]``), each learner's copy is made there, and each kata server, restricted
    by Landlock to its own copy, cannot signal or read its way to the zygote or another copy.
    """

    def __init__(
        self,
        isolation: Isolation = Isolation.FALLBACK,
        binds: list[str] | None = None,
        cgroup: sandbox.Cgroup | None = None,
        disk_mb: int = sandbox.Limits.disk_mb,
    ) -> None:
        self.isolation = Isolation(isolation)
        self.binds = binds or []
        self.cgroup = cgroup
        self.disk_mb = disk_mb
        self.home: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.privileges = "not started"
        self.owner = os.getpid()  # the process that started it (and may wait for it)

    def alive(self) -> bool:
        if self.control is None or self.process is None:
            return False
        if os.getpid() != self.owner:  # a worker's forked child: waitpid would fail and call it dead
            state = sandbox.process_state(self.process.pid)
            return state not in ("", "Z", "X", "T", "t")
        return self.process.poll() is None and sandbox.process_state(self.process.pid) not in ("T", "t")

    def start(self) -> socket.socket:
        if self.alive():
            assert self.control is not None
            return self.control
        self.close()
        self.owner = os.getpid()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [*sandbox.python_command(BOOTSTRAP), str(theirs.fileno())]
        if self.isolation.namespaced:
            home = Path(sandbox.SANDBOX_TMP)
            binds = [*sandbox.python_dirs(), *self.binds]
            command = sandbox.bwrap_command(
                [*command, "sandboxed"], binds, self.disk_mb, sandbox.child_environment(home)
            )
            cwd: Path = Path("/")
        else:
            self.home = cwd = home = Path(tempfile.mkdtemp(prefix="katas-zygote-"))
        cgroup = self.cgroup
        self.process = subprocess.Popen(
            command,
            pass_fds=[theirs.fileno()],
            cwd=cwd,
            env=sandbox.child_environment(home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=None if cgroup is None else lambda: cgroup.add(os.getpid()),
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
        self.privileges = str(json.loads(ready).get("privileges"))
        return ours

    def fork(self, setup: dict[str, Any], sock: socket.socket) -> int:
        """Fork a kata server serving ``sock``; its pid as the zygote sees it."""
        for attempt in (1, 2):
            control = self.start()
            try:
                control.settimeout(FORK_SECONDS)
                socket.send_fds(control, [json.dumps(setup).encode()], [sock.fileno()])
                return int(json.loads(control.recv(1024))["pid"])
            except (OSError, ValueError, KeyError):
                self.close()  # stopped, killed, or a half-done exchange: start afresh
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def remove(self, folder: str) -> None:
        """bwrap: remove a finished kata's folder from the sandbox's tmpfs (only the zygote can reach it).

        The kata's processes are dead by now; its files would otherwise take the learner's disk
        from its next katas. A zygote that does not answer is replaced (its tmpfs goes with it)."""
        if not self.alive() or self.control is None:
            return
        try:
            self.control.settimeout(FORK_SECONDS)
            self.control.send(json.dumps({"remove": folder}).encode())
            if json.loads(self.control.recv(1024)).get("removed") is not True:
                raise ValueError("no removal")
        except (OSError, ValueError, AttributeError):
            self.close()

    def close(self) -> None:
        if self.process is not None:
            sandbox.kill_group(self.process.pid)  # bwrap: its namespace's init dies, and everything in it
            if os.getpid() == self.owner:
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
    isolation: Isolation = Isolation.FALLBACK  # resolved: never AUTO
    zygote: Zygote | None = None  # a `katas grade` worker's, offered for sharing (fallback mode only)


@dataclass
class KataChild:
    pid: int  # as the grader sees it (from the kernel's credentials on the hello byte)
    uid: int
    sock: socket.socket
    cgroup: sandbox.Cgroup | None
    folder: str  # as the grader sees it ("" in bwrap mode: inside the sandbox's tmpfs)
    name: str = ""  # the folder's name under the scratch folder (bwrap: removed by the zygote)


@dataclass
class KataState:
    used: float = 0.0  # seconds spent in this kata's children
    deaths: int = 0
    starts: int = 0
    over_disk: bool = False  # fallback: the disk watcher killed its server
    closed: ProbeError | None = None
    child: KataChild | None = None


def receive_hello(sock: socket.socket, deadline: float) -> tuple[int, int]:
    """The kata server's first byte, with the pid and uid the kernel attached (SO_PASSCRED)."""
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    data, ancillary, _flags, _address = sock.recvmsg(1, socket.CMSG_SPACE(12))
    if data != HELLO:
        raise EOFError("the kata server ended before it said hello")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid, uid, _gid = struct.unpack("iII", payload[:12])
            return pid, uid
    raise OSError("no credentials on the kata server's hello")


class KataStartFailed(RuntimeError):
    """The kata server could not set itself up (its folder, say, on a full disk); it said why."""


class ProbeOutsideKit(RuntimeError):
    """A test handed grading mode a probe that is not a module-level function of ``backprop_katas.kit.probes``."""


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
        self.isolation = Isolation(settings.isolation)
        self.kata_files = [k.filename for k in settings.catalog]
        self.cgroup = sandbox.Cgroup.create(sandbox.new_cgroup_name("katas-learner"), None, None)
        shared = settings.zygote
        if (
            shared is None
            or shared.isolation != self.isolation
            or shared.disk_mb != settings.limits.disk_mb  # bwrap: the tmpfs's size is the zygote's
            or not self.can_share_zygote(settings)
            # bwrap: the sandbox outlives this learner, so every process of theirs must be in a
            # cgroup that is killed with their katas (alone, bwrap's init would kill them at the end)
            or (self.isolation.namespaced and self.cgroup is None)
        ):
            shared = None
        # bwrap: a shared zygote sees only the folder it was started with; this learner's copy goes there.
        inbox = shared.binds[0] if shared is not None and self.isolation.namespaced and shared.binds else None
        self.workdir = Path(tempfile.mkdtemp(prefix="katas-grade-", dir=inbox))
        self.workdir.chmod(0o711)  # nobody may pass through to its own kata folder, never list
        self.copy = sandbox.copy_submission(target.path, self.kata_files, self.workdir / "source")
        self.katas: dict[str, KataState] = {}
        self.status: dict[str, Any] = {"isolation": self.isolation}
        self.scratch = self.workdir / "katas"
        self.scratch.mkdir(mode=0o711)
        if shared is not None:
            self.zygote = shared
            self.owns_zygote = False
        elif self.isolation.namespaced:
            zygote_group = None
            if self.cgroup is not None:  # v2: no process may sit in a cgroup that has children
                zygote_group = sandbox.Cgroup.create("zygote", None, None, parent=self.cgroup)
            self.zygote = Zygote(self.isolation, [str(self.copy.path)], zygote_group, settings.limits.disk_mb)
            self.owns_zygote = True
        else:
            self.zygote = Zygote(self.isolation)
            self.owns_zygote = True
        self.watching = threading.Event()
        self.watcher: threading.Thread | None = None
        if not self.isolation.namespaced:  # no tmpfs to fill: measure the kata folders while they run
            self.watcher = threading.Thread(target=self._watch_disk, name="katas-disk", daemon=True)
            self.watcher.start()
        self.status["zygote"] = "shared by the worker's learners" if not self.owns_zygote else "this learner's own"

    @staticmethod
    def can_share_zygote(settings: Settings) -> bool:
        """Only when Landlock scopes signals (ABI 6+): no kata server can then signal or trace the zygote.

        Both modes: in bwrap, the kata servers of a worker's learners share the zygote's namespaces in
        turn (one learner's processes are all killed before the next learner's first starts)."""
        return settings.landlock and sandbox.landlock_abi() >= 6

    def _drop(self) -> str:
        if self.isolation.namespaced or os.geteuid() != 0:
            return "none"  # bwrap: the zygote became nobody before it started
        return "nobody" if sandbox.readable_by(sandbox.NOBODY, sandbox.python_dirs()) else "capabilities"

    def _watch_disk(self) -> None:
        while not self.watching.wait(DISK_POLL):
            for state in list(self.katas.values()):
                child = state.child
                if child is None or not child.folder:
                    continue
                if sandbox.folder_bytes(Path(child.folder)) > self._disk_bytes():
                    state.over_disk = True
                    if child.cgroup is not None:
                        child.cgroup.kill()
                    sandbox.kill_group(child.pid)

    # --- the zygote --------------------------------------------------------------------------

    def _spawn(self, kata: str, state: KataState) -> KataChild:
        ours, theirs = socket.socketpair()
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        state.starts += 1
        folder = kata if state.starts == 1 else f"{kata}.{state.starts}"
        in_sandbox = self.isolation.namespaced
        setup = {
            "source": str(self.copy.path),
            "files": self.copy.copied,
            "scratch": sandbox.SANDBOX_TMP if in_sandbox else str(self.scratch),
            "folder": folder,
            "kata": kata,
            "label": self.target.label,
            "limits": vars(self.settings.limits),
            "landlock": self.settings.landlock,
            "read": sandbox.readable_dirs(),
            "drop": self._drop(),
            "cgroup": self.cgroup is not None,
        }
        start = time.monotonic()
        group = None
        pid = 0
        try:
            try:
                self.zygote.fork(setup, theirs)
            finally:
                theirs.close()
            pid, uid = receive_hello(ours, start + SPAWN_SECONDS)
            # A server that failed to set up waits until the grader has read why: adding it cannot race its exit.
            if self.cgroup is not None:
                group = sandbox.Cgroup.create(
                    folder, self.settings.limits.memory_mb, self.settings.limits.processes, parent=self.cgroup
                )
                if group is not None:
                    group.add(pid)  # before the first probe: every byte and process of learner code is counted
            ours.settimeout(None)
            child = KataChild(pid, uid, ours, group, str(self.scratch / folder) if not in_sandbox else "", folder)
            ready = wire.receive(ours, start + SPAWN_SECONDS)
            if isinstance(ready, dict) and "failed" in ready:
                raise KataStartFailed(str(ready["failed"]))
        except (EOFError, TimeoutError, OSError, wire.WireError, KataStartFailed):
            if group is not None:
                group.remove()
            if pid:
                sandbox.kill_group(pid)
            ours.close()
            self._remove_folder(folder)
            raise
        finally:
            state.used += time.monotonic() - start
        info = ready.get("ready") if isinstance(ready, dict) else None
        if isinstance(info, dict):
            self.status.update(
                landlock=info.get("landlock"),
                privileges=info.get("privileges") if not in_sandbox else self.zygote.privileges,
                uid=uid,
                memory=(
                    {"cgroup": group.version, "mb": group.memory_mb}
                    if group is not None
                    else {"rlimit": "RLIMIT_AS + RLIMIT_DATA", "mb": self.settings.limits.memory_mb}
                ),
                processes=(
                    {"cgroup": group.version, "max": group.pids}
                    if group is not None
                    else {"rlimit": "RLIMIT_NPROC", "max": self.settings.limits.processes}
                ),
                disk=(
                    {"tmpfs_mb": self.settings.limits.disk_mb}
                    if in_sandbox
                    else {"watched_mb": self.settings.limits.disk_mb, "every_s": DISK_POLL}
                ),
            )
        return child

    # --- probes ----------------------------------------------------------------------------

    def kata_for(self, probe: Probe) -> tuple[str, str]:
        """The probe's kata and module name; only a module-level function of ``backprop_katas.kit.probes`` is served."""
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
        note_where(None)
        kata, module = self.kata_for(probe)
        state = self.katas.setdefault(kata, KataState())
        if state.closed is not None:
            raise ProbeFailed(state.closed)
        if kata + ".py" in self.copy.missing:
            message = say("missing_file", file=kata + ".py", folder=self.target.label)
            state.closed = ProbeError(ProbeErrorKind.MISSING, "FileNotFoundError", message, "", "")
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
        except KataStartFailed as exc:
            state.used += time.monotonic() - start
            reason = say("grade_kata_start_failed", kata=kata, detail=str(exc)[:300])
            raise ProbeFailed(
                self._died(kata, state, ProbeError(ProbeErrorKind.RAISED, "KataStartFailed", reason, "", ""))
            ) from None
        except TimeoutError:
            state.used += time.monotonic() - start
            self._stop(state)
            if state.used >= self.settings.limits.kata_seconds:
                raise ProbeFailed(self._close(kata, state, self._budget_error(kata))) from None
            raise ProbeFailed(
                self._died(kata, state, ProbeError(ProbeErrorKind.TIMEOUT, "ProbeTimeout", str(limit), "", ""))
            ) from None
        except (EOFError, OSError, wire.WireError) as exc:
            state.used += time.monotonic() - start
            self._stop(state)
            if state.over_disk:
                raise ProbeFailed(self._close(kata, state, self._disk_error(kata))) from None
            reason = say("grade_child_died", kata=kata, detail=str(exc)[:300])
            raise ProbeFailed(
                self._died(kata, state, ProbeError(ProbeErrorKind.RAISED, "KataProcessEnded", reason, "", ""))
            ) from None
        state.used += time.monotonic() - start
        child = state.child
        if child is not None and child.folder and sandbox.folder_bytes(Path(child.folder)) > self._disk_bytes():
            raise ProbeFailed(self._close(kata, state, self._disk_error(kata)))
        if not isinstance(reply, dict) or not ({"ok", "error"} & set(reply)):
            self._stop(state)
            reason = say("grade_child_died", kata=kata, detail="malformed reply")
            died = ProbeError(ProbeErrorKind.RAISED, "KataProcessEnded", reason, "", "")
            raise ProbeFailed(self._died(kata, state, died))
        if "error" in reply:
            error = reply["error"]
            if not isinstance(error, ProbeError):
                error = ProbeError(
                    ProbeErrorKind.RAISED,
                    "KataProcessEnded",
                    say("grade_child_died", kata=kata, detail="bad error"),
                    "",
                    "",
                )
            raise ProbeFailed(_in_submission(error, self.copy.cells))
        at = reply.get("at")
        note_where(learner_where(at, self.copy.cells) if isinstance(at, Where) else None)
        return reply["ok"]

    def _disk_bytes(self) -> int:
        return self.settings.limits.disk_mb * 1024 * 1024

    def _disk_error(self, kata: str) -> ProbeError:
        message = say("grade_disk_limit", kata=kata, mb=self.settings.limits.disk_mb)
        return ProbeError(ProbeErrorKind.RAISED, "KataDiskLimit", message, "", "")

    def _budget_error(self, kata: str) -> ProbeError:
        seconds = self.settings.limits.kata_seconds
        message = say("grade_kata_time", kata=kata, seconds=seconds)
        return ProbeError(ProbeErrorKind.RAISED, "KataTimeLimit", message, "", "")

    def _died(self, kata: str, state: KataState, error: ProbeError) -> ProbeError:
        state.deaths += 1
        if state.deaths > MAX_RESTARTS:
            closing = ProbeError(
                error.kind, error.type, error.message + "\n" + say("grade_kata_closed", kata=kata), "", ""
            )
            self._close(kata, state, closing if error.kind != ProbeErrorKind.TIMEOUT else error)
        return error

    def _close(self, kata: str, state: KataState, error: ProbeError) -> ProbeError:
        self._stop(state)
        state.closed = error
        return error

    def _remove_folder(self, name: str) -> None:
        if self.isolation.namespaced:
            self.zygote.remove(name)
        else:
            sandbox.remove_tree(self.scratch / name)

    def _stop(self, state: KataState | None, closing: bool = False) -> None:
        """Kill the kata's server and everything it started (its cgroup; else its process group),
        then remove its folder: a finished kata's files never take the disk of the learner's next katas."""
        if state is None or state.child is None:
            return
        child = state.child
        if child.cgroup is not None:
            child.cgroup.remove()
            if self.cgroup is not None and child.cgroup in self.cgroup.children:
                self.cgroup.children.remove(child.cgroup)
        sandbox.kill_group(child.pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child.pid, 9)
        child.sock.close()
        if not (closing and self.isolation.namespaced and self.owns_zygote):  # else the tmpfs goes with the zygote
            self._remove_folder(child.name)
        state.child = None

    def close(self) -> None:
        """Kill every child (and the zygote, unless it is shared), remove cgroups and the temporary copy."""
        self.watching.set()
        if self.watcher is not None:
            self.watcher.join()
        for state in self.katas.values():
            self._stop(state, closing=True)
        if self.owns_zygote:
            self.zygote.close()
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
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


# A kata file named in the child's text: ``k04_autograd/k04_autograd.py:34`` (the kata's scratch
# folder in front) or a traceback's ``File "/tmp/k04_autograd/k04_autograd.py", line 34``.
_PLACE = re.compile(r"(?<![\w.])(?:[^\s\"':]*/)?(k\d\d_\w+\.py):(\d+)")
_TRACE_FILE = re.compile(r'File "(?:[^"]*/)?(k\d\d_\w+\.py)", line (\d+)')


def learner_where(at: Where, cells: dict[str, tuple[str, int]]) -> Where:
    """Where, as the learner handed the file in: the file alone, or a notebook's cell and its line."""
    cell = cells.get(at.file)
    if cell is None:
        return dataclasses.replace(at, folder="")
    return dataclasses.replace(at, folder="", cell=cell[0], line=at.line + cell[1])


def learner_text(text: str, cells: dict[str, tuple[str, int]]) -> str:
    """The places in the child's text (``where``, a traceback) in the learner's coordinates."""

    def place(found: re.Match[str]) -> str:
        file, line = found[1], int(found[2])
        cell = cells.get(file)
        return f"{cell[0]}, line {line + cell[1]}" if cell else f"{file}:{line}"

    def traced(found: re.Match[str]) -> str:
        file, line = found[1], int(found[2])
        cell = cells.get(file)
        if cell is None:
            return f'File "{file}", line {line}'
        notebook, _, which = cell[0].partition(", ")
        return f'File "{notebook}", {which}, line {line + cell[1]}'

    return _PLACE.sub(place, _TRACE_FILE.sub(traced, text))


def _in_submission(error: ProbeError, cells: dict[str, tuple[str, int]]) -> ProbeError:
    """The child's record names its copy of the kata files: shown, it is the learner's own file (or cell)."""
    return dataclasses.replace(
        error,
        where=learner_text(error.where, cells),
        traceback=learner_text(error.traceback, cells),
        at=learner_where(error.at, cells) if error.at is not None else None,
    )
