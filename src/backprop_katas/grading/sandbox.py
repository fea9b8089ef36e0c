"""The isolation a kata's child runs under, in layers. docs/sandbox.md has the threat model.

Two modes (``--isolation``; ``auto`` takes ``bwrap`` when it is on PATH and works):

- ``bwrap``: each learner gets a fresh zygote inside bubblewrap, with fresh
  user (when not root), PID, network, mount, IPC, UTS and cgroup namespaces.
  It sees read-only only the Python install, site-packages, the
  ``backprop_katas`` package, the shared libraries, ``/etc/ld.so.cache``, CPU
  information and the learner's copy; a size-limited tmpfs is its only
  writable folder; there is no network and no process of the grader to
  signal. Everything it starts dies with it (bwrap is the namespace's init).
  As root, bwrap keeps only CAP_SETUID/CAP_SETGID and the bootstrap drops to
  ``nobody`` before anything else runs.
- ``fallback``: the zygote is a plain ``python -I`` process; each kata server
  drops to ``nobody`` (as root, when Python is readable by it; otherwise it
  drops every capability) and restricts itself with Landlock: files (read
  Python and its own folder, write only its own folder), TCP (ABI 4: no bind,
  no connect) and scoping (ABI 6: no signal to, and no abstract unix socket
  of, any process outside its own sandbox).

In both modes each kata server gets its own folder (answers cannot be kept in
files between katas) and each probe call a fresh process and folder of its own
(``child.call``: nothing is kept between calls), rlimits (data segment, file size, open files, no core
dumps) and, where the grader may create cgroups (root, or a delegated cgroup
v2 subtree), its own memory cgroup (shared and tmpfs pages are charged there,
unlike RLIMIT_DATA) and pids cgroup, killed as a whole when the kata ends, so
no ``setsid`` daemon outlives it. Without cgroups: RLIMIT_AS sized on top of
torch's own address space, RLIMIT_NPROC, and the process group.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import re
import resource
import secrets
import shutil
import signal
import site
import stat
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backprop_katas.cells import extract_submission  # handed-out notebooks: only %%kata cells, never executed
from backprop_katas.files import MAX_KATA_FILE_BYTES, Refused, folder_entries, read_regular
from backprop_katas.kinds import Isolation
from backprop_katas.names import shown_name
from backprop_katas.procs import kill_group as kill_group  # the grader's children stop the same way

MAX_FILE_BYTES = MAX_KATA_FILE_BYTES  # the bounded reader's cap (files.py)
SKIPPED_QUIETLY = {"__pycache__", ".DS_Store"}
PARENT_ENV = "KATAS_GRADE_PARENT"  # set by `katas grade`: its pytest processes die with it
ISOLATIONS = Isolation.choices()
NOBODY = 65534  # the unprivileged user a child runs as when the grader is root
SANDBOX_TMP = "/tmp"  # bwrap mode: the tmpfs inside the sandbox


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 1024  # per kata: cgroup memory (shared memory, tmpfs included), RLIMIT_DATA too
    kata_seconds: float = 300.0  # time a kata's child may spend on all its probes together
    file_mb: int = 16  # RLIMIT_FSIZE: largest file the child may write
    open_files: int = 256
    processes: int = 32  # per kata: pids cgroup (RLIMIT_NPROC without cgroups)
    disk_mb: int = 128  # bwrap: size of the learner's tmpfs; fallback: checked after each probe


@dataclass
class SubmissionCopy:
    path: Path  # the temporary folder the child sees
    copied: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # shipped, not graded (conftest.py, ...): names escaped
    extracted: dict[str, bytes] = field(default_factory=dict)  # kata files from notebooks' %%kata cells
    # such a file → its cell ("k01_derivatives.ipynb, cell 4") and the offset of its lines there
    cells: dict[str, tuple[str, int]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # every copied kata file's bytes, read once (bounded)
    refused: list[Refused] = field(default_factory=list)  # kata files there that will not be read

    def check(self) -> None:
        """Raise the first refusal: a kata file that is there but is no regular file under the cap
        (a named pipe, a link, a device, a folder, a huge file) means this submission is not graded."""
        if self.refused:
            raise self.refused[0]


def survey(submission: Path, kata_files: list[str]) -> SubmissionCopy:
    """Which files of ``submission`` would be graded (their bytes, read once through the bounded
    reader, files.read_regular), which are missing, which are ignored, which are refused.

    :class:`~backprop_katas.files.Refused` when ``submission`` itself is no folder (a link to
    one included) or holds more entries than a submission can."""
    entries = folder_entries(submission)
    notebooks = extract_submission(submission, kata_files)
    result = SubmissionCopy(submission, extracted=notebooks.files, ignored=list(notebooks.ignored))
    result.cells = {name: (notebooks.origin[name], notebooks.line_offset.get(name, 0)) for name in notebooks.files}
    wanted = set(kata_files)
    for name, info in entries.items():
        if name in SKIPPED_QUIETLY or Path(name).suffix == ".ipynb":
            continue
        shown = shown_name(name)  # names are data: any bytes, shown escaped (names.py)
        if name not in wanted:
            result.ignored.append(shown + ("/" if stat.S_ISDIR(info.st_mode) else ""))
            continue
        try:
            result.files[name] = read_regular(submission / name, MAX_FILE_BYTES)
        except Refused as exc:
            result.refused.append(exc)
            result.ignored.append(shown + " (not a regular file under 1 MB)")
        else:
            result.copied.append(name)
    for name in sorted(set(notebooks.files) - set(result.copied)):
        result.copied.append(name)
        result.files[name] = notebooks.files[name]
    result.missing = sorted(wanted - set(result.copied))
    return result


def copy_submission(submission: Path, kata_files: list[str], into: Path) -> SubmissionCopy:
    """Copy only the kata files (the bytes the survey read, never through a symlink) into ``into/<name>``."""
    result = survey(submission, kata_files)
    result.path = into / (submission.name or "submission")
    result.path.mkdir(parents=True)
    for name in result.copied:
        (result.path / name).write_bytes(result.files[name])
    return result


def child_environment(home: Path) -> dict[str, str]:
    """A minimal environment: no PYTHONPATH, no secrets the grader's shell may hold."""
    env = {
        "PATH": os.defpath,
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        # one thread per child: workers run side by side, and results stay reproducible
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    if "KATAS_LANG" in os.environ:
        env["KATAS_LANG"] = os.environ["KATAS_LANG"]
    return env


def kata_environment(folder: str) -> dict[str, str]:
    """What a kata server sets for itself: every cache torch may write goes into its own folder."""
    return {
        "HOME": folder,
        "TMPDIR": folder,
        "TORCHINDUCTOR_CACHE_DIR": os.path.join(folder, ".torchinductor"),
        "TRITON_CACHE_DIR": os.path.join(folder, ".triton"),
        "XDG_CACHE_HOME": os.path.join(folder, ".cache"),
        "MPLCONFIGDIR": os.path.join(folder, ".matplotlib"),
    }


def python_command(bootstrap: str) -> list[str]:
    """``python -I`` running ``bootstrap`` with the folder that holds backprop_katas on sys.path."""
    return [sys.executable, "-I", "-c", bootstrap, str(package_root().parent)]


def package_root() -> Path:
    return Path(__file__).resolve().parent.parent  # .../backprop_katas


# Files of /etc a Python process with torch needs (the dynamic loader's cache; time zone).
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime")


def python_dirs() -> list[str]:
    """Python, its standard library, site-packages and the tool's package (resolved, existing)."""
    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["platstdlib"],
        str(package_root()),
    }
    paths.update(site.getsitepackages())
    paths.update(p for p in sys.path if p and "site-packages" in p)
    paths.add(str(Path(sys.executable).resolve().parent))
    resolved = sorted({str(Path(p).resolve()) for p in paths if Path(p).exists()})
    return [p for p in resolved if not any(p != q and p.startswith(q + os.sep) for q in resolved)]


def readable_dirs() -> list[str]:
    """What a kata server may read under Landlock: Python, shared libraries, CPU facts; no /etc/shadow."""
    paths = [*python_dirs(), "/usr", "/lib", "/lib64", *ETC_FILES, "/proc/cpuinfo", "/sys/devices/system/cpu"]
    return sorted({str(Path(p).resolve()) for p in paths if Path(p).exists()})


def readable_by(uid: int, paths: list[str]) -> bool:
    """Can ``uid`` (not the owner) traverse to and read every path? (mode bits of every ancestor)"""
    for path in paths:
        current = Path(path).resolve()
        for folder in [*reversed(current.parents), current]:
            info = folder.stat()
            if info.st_uid == uid:
                continue
            need = stat.S_IXOTH | (stat.S_IROTH if folder == current else 0)
            if info.st_mode & need != need:
                return False
    return True


# --- choosing the mode ---------------------------------------------------------------------------


@functools.cache
def bwrap_works() -> bool:
    """bwrap (0.8.0+) is on PATH and can unshare every namespace here (probed once per process)."""
    binary = shutil.which("bwrap")
    if binary is None or not sys.platform.startswith("linux"):
        return False
    try:
        # the options grading uses: --size needs bubblewrap 0.8.0 or later
        probe = [binary, "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/", "/"]
        probe += ["--perms", "1777", "--size", str(1 << 20), "--tmpfs", "/tmp", "true"]
        done = subprocess.run(probe, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def resolve_isolation(choice: str) -> Isolation:
    """``--isolation``'s value as the mode grading runs in: ``auto`` takes bwrap where it works here."""
    if choice not in ISOLATIONS:
        raise ValueError(f"--isolation {choice}: choose one of {', '.join(ISOLATIONS)}")
    if choice == Isolation.AUTO:
        return Isolation.BWRAP if bwrap_works() else Isolation.FALLBACK
    if choice == Isolation.BWRAP and not bwrap_works():
        raise RuntimeError("--isolation bwrap: bwrap is not on PATH or cannot create namespaces here")
    return Isolation(choice)


def bwrap_command(command: list[str], binds: list[str], disk_mb: int, env: dict[str, str]) -> list[str]:
    """bwrap around ``command``: ``binds`` read-only at the same paths, a ``disk_mb`` tmpfs at /tmp."""
    binary = shutil.which("bwrap") or "bwrap"
    args = [binary, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() == 0:
        # No user namespace: one would map the sandbox's user to root outside. bwrap drops every
        # capability but these two; the bootstrap uses them to become nobody, then they are gone.
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user"]
    args += ["--die-with-parent", "--new-session", "--clearenv"]
    for key, value in sorted(env.items()):
        args += ["--setenv", key, value]
    # The tmpfs first: the learner's copy may lie under the grader's /tmp, and is bound over it.
    args += ["--perms", "1777", "--size", str(disk_mb * 1024 * 1024), "--tmpfs", SANDBOX_TMP]
    made: set[str] = {"/", SANDBOX_TMP}  # folders created in the sandbox's root
    bound: set[str] = set()  # paths bound (or linked) read-only, with everything under them
    for top in ("/usr", "/lib", "/lib64", "/bin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
            bound.add(top)
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
            bound.add(top)
    extra = [*binds, *(p for p in ETC_FILES if os.path.exists(p)), "/sys/devices/system/cpu"]
    for path in sorted({str(Path(p).resolve()) for p in extra}):
        if any(path == b or path.startswith(b + os.sep) for b in bound):
            continue
        for parent in reversed(Path(path).parents):  # bwrap would make them 0700: nobody could pass
            if str(parent) not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        args += ["--ro-bind", path, path]
        bound.add(path)
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--chdir", SANDBOX_TMP, "--", *command]
    return args


# --- cgroups ---------------------------------------------------------------------------------------

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_cgroup(controller: str) -> str:
    """This process's cgroup path in a v1 ``controller`` hierarchy ("" for v2's)."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return path
    except OSError:
        pass
    return "/"


class Cgroup:
    """A memory + pids (+ freezer) cgroup for one kata or one learner, v1 or v2; root only in practice."""

    def __init__(self, dirs: dict[str, Path], version: int, memory_mb: int | None, pids: int | None) -> None:
        self.dirs = dirs  # controller → folder ("unified" for v2)
        self.version = version
        self.memory_mb = memory_mb
        self.pids = pids
        self.children: list[Cgroup] = []

    @classmethod
    def create(cls, name: str, memory_mb: int | None, pids: int | None, parent: Cgroup | None = None) -> Cgroup | None:
        """A new cgroup (under ``parent``, or under the grader's own); None when none can be made."""
        made: dict[str, Path] = {}
        try:
            if parent is not None:
                dirs = {c: d / name for c, d in parent.dirs.items()}
                version = parent.version
            elif (CGROUP_ROOT / "memory").is_dir() and (CGROUP_ROOT / "pids").is_dir():
                version = 1
                dirs = {c: CGROUP_ROOT / c / _own_cgroup(c).lstrip("/") / name for c in ("memory", "pids", "freezer")}
                if not (CGROUP_ROOT / "freezer").is_dir():
                    del dirs["freezer"]
            elif "memory" in _read(CGROUP_ROOT / "cgroup.controllers").split():
                version = 2
                here = CGROUP_ROOT / _own_cgroup("").lstrip("/")
                # v2 allows no process in a cgroup whose controllers are handed down: work one level up
                base = here.parent if here != CGROUP_ROOT else here
                (base / "cgroup.subtree_control").write_text("+memory +pids")
                dirs = {"unified": base / name}
            else:
                return None
            if parent is None:
                _sweep_stale(dirs, version)
            for controller, folder in dirs.items():
                folder.mkdir()
                made[controller] = folder
            group = cls(made, version, memory_mb, pids)
            group._limit()
            if parent is not None:
                parent.children.append(group)
            return group
        except OSError:
            for folder in made.values():
                with contextlib.suppress(OSError):
                    folder.rmdir()
            return None

    def _limit(self) -> None:
        memory = None if self.memory_mb is None else str(self.memory_mb * 1024 * 1024)
        if self.version == 1:
            if memory is not None:
                (self.dirs["memory"] / "memory.limit_in_bytes").write_text(memory)
                with contextlib.suppress(OSError):  # no swap accounting on many kernels
                    (self.dirs["memory"] / "memory.memsw.limit_in_bytes").write_text(memory)
            if self.pids is not None:
                (self.dirs["pids"] / "pids.max").write_text(str(self.pids))
        else:
            folder = self.dirs["unified"]
            if memory is not None:
                (folder / "memory.max").write_text(memory)
                with contextlib.suppress(OSError):
                    (folder / "memory.swap.max").write_text("0")
            if self.pids is not None:
                (folder / "pids.max").write_text(str(self.pids))
            with contextlib.suppress(OSError):  # for its children (kata cgroups); it holds no process itself
                (folder / "cgroup.subtree_control").write_text("+memory +pids")

    def add(self, pid: int) -> None:
        for folder in self.dirs.values():
            (folder / "cgroup.procs").write_text(str(pid))

    def procs(self) -> set[int]:
        found: set[int] = set()
        for group in [self, *self.children]:
            for folder in group.dirs.values():
                found.update(int(p) for p in _read(folder / "cgroup.procs").split())
        return found

    def kill(self) -> None:
        """SIGKILL every process in the cgroup (and its children), frozen first so none can fork away."""
        for child in self.children:
            child.kill()
        if self.version == 2 and (self.dirs["unified"] / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                (self.dirs["unified"] / "cgroup.kill").write_text("1")
        freezer = self.dirs.get("freezer")
        if freezer is not None:
            with contextlib.suppress(OSError):
                (freezer / "freezer.state").write_text("FROZEN")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pids = self.procs()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            if freezer is not None:
                with contextlib.suppress(OSError):
                    (freezer / "freezer.state").write_text("THAWED")  # a frozen task dies only once thawed
            time.sleep(0.01)

    def remove(self) -> None:
        """Kill what is left, then remove the cgroup folders (the children first)."""
        self.kill()
        for child in self.children:
            child.remove()
        self.children.clear()
        for folder in self.dirs.values():
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)  # the last task is still exiting

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "memory_mb": self.memory_mb, "pids": self.pids}


def _sweep_stale(dirs: dict[str, Path], version: int) -> None:
    """Kill and remove cgroups left by a grader that was killed (``katas-…-PID-…`` whose PID is gone)."""
    for controller, folder in dirs.items():
        with contextlib.suppress(OSError):
            for entry in folder.parent.iterdir():
                match = re.fullmatch(r"katas-[a-z]+-(\d+)-[0-9a-f]+", entry.name)
                if match and entry.is_dir() and not Path(f"/proc/{match.group(1)}").exists():
                    stale = Cgroup({controller: entry}, version, None, None)
                    stale.children = [
                        Cgroup({controller: c}, version, None, None) for c in entry.iterdir() if c.is_dir()
                    ]
                    stale.remove()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


@functools.cache
def cgroups_available() -> bool:
    """Whether this process may make the memory and pids cgroups grading uses (probed once)."""
    group = Cgroup.create(new_cgroup_name("katas-probe"), None, None)
    if group is None:
        return False
    group.remove()
    return True


def new_cgroup_name(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{secrets.token_hex(4)}"


# --- in a child, after fork, before any learner code --------------------------------------------


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)  # libc: already loaded, no ldconfig or gcc run to find it


def set_parent_death_signal() -> None:
    """Linux: die with SIGKILL when the parent dies (a killed grader leaves no orphans)."""
    try:
        _libc().prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def no_new_privileges() -> None:
    with contextlib.suppress(OSError, AttributeError):
        _libc().prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: no setuid binary gives root back


def become_nobody() -> str:
    """As root: drop to uid/gid 65534 (every capability goes with it). Says what happened."""
    if os.geteuid() != 0:
        return f"uid {os.geteuid()} (not root)"
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    no_new_privileges()
    return f"uid {NOBODY} (dropped from root)"


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> str:
    """Stay uid 0 but hold no capability (no DAC override, no kill of other users' processes)."""
    no_new_privileges()
    libc = _libc()
    for cap in range(64):  # the bounding set: no exec can bring one back
        if libc.prctl(24, cap, 0, 0, 0) < 0:  # PR_CAPBSET_DROP
            break
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if libc.syscall(126 if os.uname().machine == "x86_64" else 91, ctypes.byref(header), data) < 0:  # capset
        return f"uid 0, capabilities kept ({os.strerror(ctypes.get_errno())})"
    return "uid 0 without capabilities (Python is not readable by nobody)"


def apply_limits(limits: Limits, address_space: bool, processes: bool) -> None:
    """rlimits: data segment, file size, open files, no core; without cgroups also address space and processes."""

    def cap(which: int, value: int) -> None:
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    mb = 1024 * 1024
    cap(resource.RLIMIT_DATA, limits.memory_mb * mb)
    cap(resource.RLIMIT_FSIZE, limits.file_mb * mb)
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_CORE, 0)
    if address_space:  # no memory cgroup: shared mappings are counted here, on top of torch's own ~0.6 GB
        cap(resource.RLIMIT_AS, virtual_size() + limits.memory_mb * mb)
    if processes:  # RLIMIT_NPROC counts every process of this uid, and is never enforced for root
        cap(resource.RLIMIT_NPROC, user_processes() + limits.processes)


def virtual_size() -> int:
    for line in _read(Path("/proc/self/status")).splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def user_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                count += entry.stat().st_uid == uid
    return count


def folder_bytes(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


# Landlock, from linux/landlock.h.
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446  # the same number on x86_64 and arm64
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_ALL_V1 = (1 << 13) - 1  # execute ... make_sym
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    if not sys.platform.startswith("linux"):
        return 0
    try:
        return max(0, int(_libc().syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))))
    except (OSError, AttributeError):
        return 0


def landlock(read: list[str], write: list[str]) -> dict[str, Any]:
    """Read only under ``read``, write only under ``write``, no TCP, no signal out; say what held."""
    abi = landlock_abi()
    status: dict[str, Any] = {"abi": abi, "files": False, "tcp": False, "signals": False}
    if abi < 1:
        status["error"] = "unavailable"
        return status
    try:
        libc = _libc()
        handled = _FS_ALL_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
        handled |= _FS_IOCTL_DEV if abi >= 5 else 0
        attr = _RulesetAttr(handled, _NET_BIND_TCP | _NET_CONNECT_TCP, _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL)
        size = 8 if abi < 4 else 16 if abi < 6 else 24  # the kernel reads the fields its ABI knows
        ruleset = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), 0)
        if ruleset < 0:
            status["error"] = os.strerror(ctypes.get_errno())
            return status
        reading = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
        for paths, access in ((read, reading), (write, handled)):
            for path in paths:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                rights = access
                if not os.path.isdir(path):  # a file (/dev/null) takes file rights only
                    rights &= _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
                try:
                    rule = _PathBeneathAttr(rights, fd)
                    if libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) < 0:
                        status["error"] = f"{path}: {os.strerror(ctypes.get_errno())}"
                        return status
                finally:
                    os.close(fd)
        no_new_privileges()
        if libc.syscall(_SYS_RESTRICT, ruleset, 0) < 0:
            status["error"] = os.strerror(ctypes.get_errno())
            return status
        os.close(ruleset)
        status.update(files=True, tcp=abi >= 4, signals=abi >= 6)
        return status
    except (OSError, AttributeError) as exc:
        status["error"] = str(exc)
        return status


def process_state(pid: int) -> str:
    """The state letter of ``pid`` (R, S, T, Z, ...) from /proc; "" when it does not exist."""
    text = _read(Path(f"/proc/{pid}/stat"))
    return text.rsplit(")", 1)[1].split()[0] if ")" in text else ""


def remove_tree(path: Path) -> None:
    """Remove a folder a learner wrote in, even one whose subfolders it made unreadable (chmod 0)."""
    stack = [str(path)]
    while stack:  # a loop, not recursion: a learner may nest folders thousands deep
        folder = stack.pop()
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700, follow_symlinks=False)
            with os.scandir(folder) as entries:
                stack.extend(e.path for e in entries if e.is_dir(follow_symlinks=False))
    shutil.rmtree(path, ignore_errors=True)


def become_subreaper() -> None:
    """Orphans of this process's descendants (a setsid daemon, a double fork) become its children."""
    with contextlib.suppress(OSError, AttributeError):
        _libc().prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _children() -> set[int]:
    found: set[int] = set()
    try:
        for task in os.listdir("/proc/self/task"):
            found.update(int(p) for p in _read(Path(f"/proc/self/task/{task}/children")).split())
    except OSError:
        pass
    return found


def kill_children() -> None:
    """SIGKILL and reap every child of this (subreaper) process until none is left; orphans come back in turn."""
    while children := _children():  # zombies too: they are children until reaped
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def landlock_available() -> bool:
    return landlock_abi() >= 1
