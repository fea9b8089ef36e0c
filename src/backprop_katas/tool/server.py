"""The warm server behind ``katas``: torch, pytest and the tool imported once, a fresh child per check.

Checking a kata used to start ``python -m pytest`` for it, and most of that
time went into importing torch. The server does those imports once per
project folder and then forks a fresh child for each kata check, as the
grading zygote does (``grading/child.py``). The child runs the very pytest
command line ``check.pytest_command`` builds, in-process, and writes the
same report; it is a fresh copy of a process that has never run a test or
learner code, so nothing a learner's module does reaches the next check.

- One server per project folder: a Unix socket in the user's runtime folder
  (``$XDG_RUNTIME_DIR/backprop-katas/`` or ``/tmp/backprop-katas-UID/``, a
  folder only its owner may enter; the socket is owner-only too), named by the
  project's ``.katas-cache`` path; the start lock and the log are in
  ``.katas-cache/server/``. The server serves only its own user (the kernel's
  credentials on each connection). ``katas`` starts it when none answers.
- It stops itself after ``KATAS_SERVER_IDLE`` seconds (default 600) with no
  client and no check; ``katas watch`` holds a connection, so the server
  lives as long as the watch does. It stops, too, when its socket or the
  project's cache folder is gone, and when the process named by
  ``KATAS_SERVER_OWNER`` (a Jupyter kernel that started it) has ended.
- It refuses a request from a different tool (the tool's files, Python, torch,
  pytest, numpy or Hypothesis changed, or what torch reads once: ``OMP_*``,
  ``TORCH_*``, ...): it retires and the client starts a new one.
- A check's child leads its own process group; the client's time limit
  kills that group as ``check.kill_group`` does (SIGTERM, then SIGKILL after
  two seconds), and so does a client that goes away. A child that crashes is
  only an exit code to the server.
- ``KATAS_SERVER=off`` (or ``katas ... --no-server``) keeps the old way: one
  child ``python -m pytest`` per kata. The server runs on Linux only.

This module imports only the standard library at the top: ``katas`` loads it
on every call, and a client must stay light.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from backprop_katas.files import digest
from backprop_katas.procs import kill_group, pytest_command, signal_group

SWITCH = "KATAS_SERVER"  # "off", "0", "no" or "false": no server, a child pytest per check as before
IDLE_ENV = "KATAS_SERVER_IDLE"  # seconds without a client or a check before the server stops itself
DEFAULT_IDLE = 600.0
OWNER_ENV = "KATAS_SERVER_OWNER"  # a pid: the server a kernel starts ends with that kernel
START_SECONDS = 60.0  # a cold server imports torch, pytest and the tool before it answers
KILL_GRACE = 2.0  # as check.kill_group: SIGTERM to the group, then SIGKILL
HEALTH_SECONDS = 2.0  # how often an idle server looks whether its socket is still there
MAX_SOCKET_PATH = 100  # bytes; AF_UNIX allows 107
OFF = ("0", "off", "no", "false")
READ_AT_IMPORT = ("OMP_", "MKL_", "TORCH_", "PYTORCH_")  # settings torch reads once, when the server imports it
VERSIONED = ("torch", "pytest", "numpy", "hypothesis")  # what the server imports: a new version needs a new server


class Unavailable(Exception):
    """No warm server for this check (switched off, not Linux, or it could not start): use a child pytest."""


# --- where the server lives, and who it is ------------------------------------------------


def enabled() -> bool:
    return sys.platform.startswith("linux") and os.environ.get(SWITCH, "").strip().lower() not in OFF


def idle_seconds() -> float:
    try:
        return max(1.0, float(os.environ.get(IDLE_ENV, DEFAULT_IDLE)))
    except ValueError:
        return DEFAULT_IDLE


def owner_pid() -> int | None:
    """The process whose end ends the server (``KATAS_SERVER_OWNER``), if one is named."""
    try:
        pid = int(os.environ.get(OWNER_ENV, ""))
    except ValueError:
        return None
    return pid if pid > 0 else None


def _ended(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's: not ours to judge
    return False


def server_dir(cache: Path) -> Path:
    """``.katas-cache/server``: the start lock and the server's log."""
    return cache / "server"


def socket_path(cache: Path) -> Path:
    """The project's socket, in the user's runtime folder: a socket inside the project would stop
    a plain copy of it (``shutil.copytree``, some ``cp``) and cannot live on every file system."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    base = Path(runtime) / "backprop-katas" if runtime and os.path.isdir(runtime) else None
    if base is None or len(os.fsencode(base)) > MAX_SOCKET_PATH - 40:
        base = Path(tempfile.gettempdir()) / f"backprop-katas-{os.getuid()}"
    name = digest(os.fsencode(cache.resolve()))[:32]
    return base / f"{name}.sock"


def private_dir(path: Path) -> Path:
    """A folder only this user may enter (made so if it is ours); another user's folder is refused."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not path.is_dir() or path.is_symlink() or info.st_uid != os.getuid():
        raise Unavailable(f"{path} is not a folder of this user's")
    if info.st_mode & 0o077:
        path.chmod(0o700)
    return path


def fingerprint(package: Path | None = None) -> str:
    """What the server's imports were made from: the tool's files, Python, and the versions of what it preloads."""
    if package is None:
        import backprop_katas

        package = Path(backprop_katas.__file__).parent
    parts = [sys.executable, sys.version, os.environ.get("PYTHONPATH", "")]
    parts += sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith(READ_AT_IMPORT))
    for name in VERSIONED:
        try:
            parts.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name}=-")
    for path in sorted(package.rglob("*.py")):
        with contextlib.suppress(OSError):
            info = path.stat()
            parts.append(f"{path.relative_to(package)}:{info.st_mtime_ns}:{info.st_size}")
    return digest("\n".join(parts).encode())


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end, as the kernel saw it when it connected."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


# --- the wire: one JSON object per line ---------------------------------------------------


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


class Lines:
    """Reads whole JSON lines from a socket, waiting at most until a deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def receive(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message; None when ``timeout`` passes first. EOFError when the other end closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, BlockingIOError):
                return None
            if not data:
                raise EOFError("the server closed the connection")
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError("not a message")
        return message


# --- the client ---------------------------------------------------------------------------

_broken: set[Path] = set()  # projects whose server could not start: this process stops trying
_broken_lock = threading.Lock()


@contextlib.contextmanager
def _start_lock(cache: Path) -> Iterator[None]:
    """One client at a time decides whether a server must start (across processes: flock)."""
    folder = private_dir(server_dir(cache))
    fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _dial(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(os.fspath(path))
    except OSError:
        sock.close()
        return None
    if peer_uid(sock) != os.getuid():  # never talk to a server another user runs
        sock.close()
        return None
    return sock


def connect(cache: Path, start: bool = True) -> socket.socket:
    """A connection to the project's server, started first when none answers and ``start``."""
    path = socket_path(cache)
    sock = _dial(path)
    if sock is not None or not start:
        if sock is None:
            raise Unavailable("no server is running")
        return sock
    with _broken_lock:
        if cache in _broken:
            raise Unavailable("the server could not start earlier in this run")
    with _start_lock(cache):
        sock = _dial(path)  # another client may have started one while this one waited
        if sock is None:
            try:
                _spawn(cache)
            except Unavailable:
                with _broken_lock:
                    _broken.add(cache)
                raise
            sock = _dial(path)
    if sock is None:
        raise Unavailable("the server started but does not answer")
    return sock


def _spawn(cache: Path) -> None:
    """Start a server and wait until its socket listens (before its heavy imports: quick)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("KATAS_TARGET", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "backprop_katas.tool.server", os.fspath(cache)],
        cwd=cache.parent,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=START_SECONDS)  # it forks the server and ends once the socket listens
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise Unavailable("the server did not start in time") from None
    if not out.startswith(b"ready"):
        raise Unavailable(out.decode(errors="replace").strip() or f"the server ended with code {proc.returncode}")


@dataclass
class Served:
    """A check the server ran: the child's exit code (negative: killed by that signal), or a timeout."""

    code: int | None
    timed_out: bool = False
    cpu: float | None = None  # the child's CPU seconds (user + system), as its parent measured them


def run_check(
    cache: Path,
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    log: Path,
    time_limit: float,
    stopping: threading.Event,
    at_limit: Callable[[int], None] | None = None,
) -> Served:
    """Run ``command`` (``python -m pytest ...``) in a fresh child of the warm server.

    The time limit counts from the moment the child exists (a cold server's imports are not
    the kata's); at the limit, or when ``stopping`` is set, the child's group is killed
    (at the limit, ``at_limit(pid)`` runs first: the check asks the child for its stack).
    Raises Unavailable when no server can take the check; nothing has run then.
    """
    if not enabled():
        raise Unavailable("switched off")
    if command[:3] != pytest_command():
        raise Unavailable("not a pytest command of this Python")
    request = {
        "op": "check",
        "fingerprint": fingerprint(),
        "args": command[3:],
        "cwd": os.fspath(cwd),
        "env": env,
        "log": os.fspath(log),
    }
    for _attempt in range(3):  # a server that retires (stale) or ends between connect and reply: start anew
        try:
            sock = connect(cache)
        except OSError as exc:
            raise Unavailable(str(exc)) from None
        lines = Lines(sock)
        try:
            send(sock, request)
            reply = lines.receive(START_SECONDS)
        except (OSError, EOFError, ValueError):
            sock.close()
            continue
        if reply is not None and "pid" in reply:
            with sock:
                return _follow(sock, lines, int(reply["pid"]), time_limit, stopping, at_limit)
        sock.close()
        if reply is None or not reply.get("stale"):
            raise Unavailable(str((reply or {}).get("error", "the server did not answer")))
    raise Unavailable("the server kept going away")


def _follow(
    sock: socket.socket,
    lines: Lines,
    pid: int,
    time_limit: float,
    stopping: threading.Event,
    at_limit: Callable[[int], None] | None,
) -> Served:
    deadline = time.monotonic() + time_limit
    timed_out = False
    while True:
        if stopping.is_set() or (not timed_out and time.monotonic() >= deadline):
            timed_out = not stopping.is_set()
            if timed_out and at_limit is not None:
                at_limit(pid)
            return _kill(sock, lines, pid, timed_out)
        try:
            message = lines.receive(min(0.1, max(0.0, deadline - time.monotonic())))
        except KeyboardInterrupt:
            _kill(sock, lines, pid, timed_out=False)  # Ctrl-C: the check is gone before `katas` says so
            raise
        except (OSError, EOFError, ValueError):
            _kill_group_blind(pid)  # the server died: its child must not outlive the check
            raise Unavailable("the server went away during the check") from None
        if message is not None and "exit" in message:
            return Served(int(message["exit"]), cpu=message.get("cpu"))


def _kill(sock: socket.socket, lines: Lines, pid: int, timed_out: bool) -> Served:
    """Kill the check's group as ``check.kill_group`` does: SIGTERM, then SIGKILL if it lingers.

    The client signals the group itself (same user; the server may be busy warming up); the
    server, the child's parent, reaps it and reports the exit."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, 10.0)):
        try:
            message = lines.receive(0)
            if message is not None and "exit" in message:
                return Served(int(message["exit"]), timed_out)
            signal_group(pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                message = lines.receive(max(0.0, deadline - time.monotonic()))
                if message is not None and "exit" in message:
                    return Served(int(message["exit"]), timed_out)
        except (OSError, EOFError, ValueError):
            _kill_group_blind(pid)
            break
    return Served(None, timed_out)


def _kill_group_blind(pgid: int) -> None:
    """Kill a group this process cannot wait for (its parent, the server, is gone)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not signal_group(pgid, sig):
            return
        if sig == signal.SIGTERM:
            time.sleep(0.2)


def ask(cache: Path, op: str) -> dict[str, Any] | None:
    """``status`` or ``stop`` the running server; None when none answers."""
    try:
        sock = connect(cache, start=False)
    except (Unavailable, OSError):
        return None
    with sock:
        lines = Lines(sock)
        try:
            send(sock, {"op": op})
            reply = lines.receive(10.0)
            if op == "stop":
                with contextlib.suppress(OSError, EOFError, ValueError):
                    while lines.receive(KILL_GRACE + 8) is not None:  # the server closes when it is gone
                        pass
            return reply
        except (OSError, EOFError, ValueError):
            return None


def start(cache: Path) -> dict[str, Any]:
    """Start the project's server if none (of this tool) runs: ``katas server start``. Its status."""
    if not enabled():
        raise Unavailable("switched off")
    keeper = Keeper(cache)
    keeper.keep()
    if keeper.sock is None:
        raise Unavailable("it did not answer")
    keeper.close()
    status = ask(cache, "status")
    if status is None:
        raise Unavailable("it did not answer")
    return status


class Keeper:
    """``katas watch``: a connection that keeps the project's server warm while the watch runs."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self.sock: socket.socket | None = None

    def keep(self) -> None:
        """Hold the server (start it when none runs); again after it retired or stopped."""
        if not enabled():
            return
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.setblocking(False)
                try:
                    if self.sock.recv(1) != b"":
                        return  # still connected (the server sends nothing after "held")
                except BlockingIOError:
                    return
            self.close()
        for _attempt in range(3):  # a stale server retires when asked: the next attempt starts a new one
            try:
                sock = connect(self.cache)
            except (Unavailable, OSError):
                return
            try:
                send(sock, {"op": "hold", "fingerprint": fingerprint()})
                reply = Lines(sock).receive(START_SECONDS)
            except (OSError, EOFError, ValueError):
                reply = None
            if reply is not None and reply.get("held"):
                self.sock = sock
                return
            sock.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


# --- the server ---------------------------------------------------------------------------


@dataclass
class Client:
    sock: socket.socket
    buffer: bytes = b""
    child: int = 0  # the pid of this client's running check, if any
    held: bool = False


class Server:
    """One select loop: connections, a wake-up pipe for SIGCHLD, and timers (idle, kill escalation)."""

    def __init__(self, listener: socket.socket, path: Path, home: Path, idle: float, fingerprint: str) -> None:
        self.listener = listener
        self.path = path
        self.home = home  # the project's .katas-cache/server: gone with the project
        self.inode = path.stat().st_ino
        self.idle = idle
        self.fingerprint = fingerprint
        self.started = time.time()
        self.checks = 0
        self.clients: dict[int, Client] = {}  # by file descriptor
        self.children: dict[int, Client] = {}  # pid -> whose check it is
        self.killing: dict[int, float] = {}  # pid -> when SIGKILL follows the SIGTERM
        self.last_active = time.monotonic()
        self.retiring = False
        self.terminated = False
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.owner = owner_pid()  # a kernel that started the server: it ends with it

    # - the loop -

    def serve(self, steps: list[Callable[[], object]]) -> None:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGTERM, self._terminated)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, "listener")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.last_active = last_health = time.monotonic()  # the warm-up is not idle time
        while True:
            now = time.monotonic()
            timeout = min(
                [HEALTH_SECONDS, self.idle - (now - self.last_active), *(w - now for w in self.killing.values())]
            )
            warming = bool(steps) and not self.children  # a running check (a cold one) gets the CPU to itself
            events = self.selector.select(0 if warming else max(0.01, timeout))
            if not events and warming:
                steps.pop(0)()  # warm up further while nobody waits
            for key, _ in events:
                if key.data == "listener":
                    self._accept()
                elif key.data == "wake":
                    with contextlib.suppress(BlockingIOError):
                        os.read(self.wake_r, 4096)
                else:
                    self._readable(key.data)
            self._reap()
            now = time.monotonic()
            for pid, when in list(self.killing.items()):
                if now >= when:
                    _signal_group(pid, signal.SIGKILL)
                    del self.killing[pid]
            health = now - last_health >= HEALTH_SECONDS
            if self.terminated or (health and (not self._socket_is_ours() or self._owner_ended())):
                self.retire()  # stopped, the project (or its cache) removed, another server took over, or its kernel ended
            if now - last_health >= HEALTH_SECONDS:
                last_health = now
            if self.clients or self.children:
                self.last_active = now
            elif self.retiring or now - self.last_active >= self.idle:
                return

    def _terminated(self, signum: int, frame: object) -> None:
        self.terminated = True  # acted on in the loop: a handler must not change the selector under it

    def _owner_ended(self) -> bool:
        return self.owner is not None and _ended(self.owner)

    def _socket_is_ours(self) -> bool:
        try:
            return self.path.stat().st_ino == self.inode and self.home.is_dir()
        except OSError:
            return False

    def retire(self) -> None:
        """Stop taking clients; end once the running checks are done (or killed)."""
        if self.retiring:
            return
        self.retiring = True
        if self._socket_is_ours():
            with contextlib.suppress(OSError):
                self.path.unlink()
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(self.listener)
        self.listener.close()
        for client in list(self.clients.values()):
            if not client.child:
                self._drop(client)

    # - connections -

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except OSError:
            return
        if peer_uid(sock) != os.getuid():  # the folder is private already; the kernel's word decides
            sock.close()
            return
        sock.setblocking(False)
        client = Client(sock)
        self.clients[sock.fileno()] = client
        self.selector.register(sock, selectors.EVENT_READ, client)

    def _readable(self, client: Client) -> None:
        try:
            data = client.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return
        client.buffer += data
        while b"\n" in client.buffer:
            line, _, client.buffer = client.buffer.partition(b"\n")
            try:
                request = json.loads(line)
                self._handle(client, request if isinstance(request, dict) else {})
            except (ValueError, OSError):
                self._drop(client)
            if client.sock.fileno() < 0:  # dropped while handling
                return

    def _reply(self, client: Client, message: dict[str, Any]) -> None:
        try:
            client.sock.setblocking(True)
            client.sock.settimeout(5.0)
            send(client.sock, message)
            client.sock.setblocking(False)
        except OSError:
            self._drop(client)

    def _drop(self, client: Client) -> None:
        """A client went away: its check, if one runs, is killed (the client can no longer wait for it)."""
        if client.child:
            self._kill(client.child)
        fd = client.sock.fileno()
        if fd >= 0:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(client.sock)
            self.clients.pop(fd, None)
        client.sock.close()

    def _handle(self, client: Client, request: dict[str, Any]) -> None:
        op = request.get("op")
        if op in ("check", "hold") and request.get("fingerprint") != self.fingerprint:
            self.retire()  # first: once the client reads "stale", the socket is free for a new server
            self._reply(client, {"stale": True})  # a different tool asks: a new server must import it
            self._drop(client)
        elif op == "check" and not client.child and not self.retiring:
            self._start_check(client, request)
        elif op == "hold":
            client.held = True
            self._reply(client, {"held": True})
        elif op == "status":
            self._reply(client, self.status())
        elif op == "stop":
            self._reply(client, {"stopping": os.getpid()})
            for pid in list(self.children):
                self._kill(pid)
            self.retire()
        else:
            self._reply(client, {"error": f"cannot {op!r} now"})

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "uid": os.getuid(),
            "socket": os.fspath(self.path),
            "started": self.started,
            "idle_seconds": self.idle,
            "checks": self.checks,
            "running": len(self.children),
            "clients": len(self.clients) - 1,
            "held": sum(c.held for c in self.clients.values()),
        }

    # - checks -

    def _start_check(self, client: Client, request: dict[str, Any]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._child(request)
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # as the child does: whichever runs first, the group exists before the reply
        self.checks += 1
        client.child = pid
        self.children[pid] = client
        self._reply(client, {"pid": pid})

    def _child(self, request: dict[str, Any]) -> NoReturn:
        code = 70
        try:
            os.setpgid(0, 0)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as in a fresh Python
            server_fds = [self.listener.fileno(), self.selector.fileno(), self.wake_r, self.wake_w, *self.clients]
            for fd in server_fds:
                with contextlib.suppress(OSError):
                    os.close(fd)  # a check holds no end of the server's sockets: the server's exit is seen
            code = run_pytest(request)
        except BaseException:
            with contextlib.suppress(BaseException):
                traceback.print_exc()
        finally:
            with contextlib.suppress(BaseException):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def _kill(self, pid: int) -> None:
        if pid in self.children and pid not in self.killing:
            _signal_group(pid, signal.SIGTERM)
            self.killing[pid] = time.monotonic() + KILL_GRACE

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            client = self.children.pop(pid, None)
            if pid in self.killing:
                del self.killing[pid]
                _signal_group(pid, signal.SIGKILL)  # what the check started and left behind goes too
            if client is None:
                continue
            client.child = 0
            code = os.waitstatus_to_exitcode(status)
            if client.sock.fileno() >= 0:
                self._reply(client, {"exit": code, "cpu": usage.ru_utime + usage.ru_stime})


def _signal_group(pgid: int, sig: int) -> None:
    signal_group(pgid, sig)


def run_pytest(request: dict[str, Any]) -> int:
    """In a fresh child: what ``python -m pytest ARGS`` does, from a warm start; the exit code."""
    out = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    cwd = str(request["cwd"])
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in dict(request["env"]).items()})
    sys.path[0] = cwd  # `python -m pytest` puts the working folder first
    sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))  # as a fresh Python reads it
    sys.argv = [sys.executable, *request["args"]]

    import numpy
    import pytest
    from _pytest.assertion.rewrite import AssertionRewritingHook

    numpy.random.seed()  # a fresh process draws numpy's global seed from the system, so does a check
    # The server imported the plugins' packages on purpose (that is what makes it warm); pytest
    # would warn that it can no longer rewrite their asserts. A fresh process rewrites none of
    # the tool's asserts that matter: the judges fail tests explicitly.
    AssertionRewritingHook._warn_already_imported = lambda self, name: None  # type: ignore[method-assign]
    return int(pytest.main([str(a) for a in request["args"]]))


def import_essentials() -> None:
    """What a check's child imports first anyway: the server answers once these are in."""
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import torch  # noqa: F401

    from backprop_katas.kit import judge, loader, oracles, plain, plugin, runner, shortcuts, state  # noqa: F401
    from backprop_katas.tool import report  # noqa: F401


def _import_all(names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def _pytest_plugins() -> None:
    from _pytest.config import builtin_plugins

    # pytest's own plugins and what they load on use, then the installed ones, as pytest loads them.
    extra = ["_pytest._argcomplete", "faulthandler", "pdb", "readline", "packaging.version", "zoneinfo"]
    _import_all([*(f"_pytest.{p}" for p in sorted(builtin_plugins)), *extra])
    _import_all([entry.module for entry in metadata.entry_points(group="pytest11")])


def _freeze() -> None:
    import gc

    gc.collect()
    gc.freeze()  # a check's garbage collections leave the server's objects (and their pages) alone


def warm_steps() -> list[Callable[[], object]]:
    """The rest of the warm-up, one step at a time between requests (a cold first check does not wait)."""
    from backprop_katas.kit import warm

    return [
        _pytest_plugins,
        lambda: _import_all(["hypothesis", "hypothesis.strategies", "hypothesis.extra.numpy"]),  # the kata tests'
        warm.probe_modules,  # every probe module (a check imports one)
        warm.warm_up,  # what torch sets up lazily: the grading zygote's warm-up too
        _freeze,
    ]


def warm_up() -> None:
    """Everything at once (for a process that forks checks without serving, e.g. a benchmark)."""
    import_essentials()
    for step in warm_steps():
        step()


def _bind(path: Path) -> socket.socket:
    private_dir(path.parent)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a stale socket: the client that started this server found nobody answering
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o077)
    try:
        listener.bind(os.fspath(path))
    finally:
        os.umask(old)
    path.chmod(0o600)
    listener.listen(64)
    return listener


def main(argv: list[str]) -> int:
    """``python -m backprop_katas.tool.server CACHE``: bind, say "ready", and go on as a daemon."""
    cache = Path(argv[0]).resolve()
    path = socket_path(cache)
    try:
        private_dir(server_dir(cache))
        listener = _bind(path)
    except (OSError, Unavailable) as exc:
        print(f"failed: {exc}", flush=True)
        return 1
    identity = fingerprint()
    log_path = server_dir(cache) / "server.log"
    pid = os.fork()
    if pid:
        print(f"ready {pid}", flush=True)
        os._exit(0)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for fd, target in ((0, devnull), (1, devnull), (2, log)):
        os.dup2(target, fd)
    os.close(devnull)
    os.close(log)
    server = Server(listener, path, server_dir(cache), idle_seconds(), identity)
    try:
        import_essentials()
        server.serve(warm_steps())
    finally:
        server.retire()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
