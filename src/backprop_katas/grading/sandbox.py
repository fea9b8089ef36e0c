"""The limits a kata's child process runs under. Not a container: see README, "Grading".

- A fresh temporary copy of the submission holding only the kata file names
  (regular files, no symlinks, at most ``MAX_FILE_BYTES`` each); everything
  else the submission ships is listed, never copied.
- The child starts with ``python -I`` (no PYTHONPATH, no user site, no current
  folder on ``sys.path``), a minimal environment, its working folder and HOME
  in the copy, stdout and stderr discarded.
- Resource limits (``setrlimit``): data segment (the memory limit), file size,
  open files, no core dumps. Each kata's child leads its own process group, so
  a timeout kills everything it started.
- Where the kernel offers Landlock (Linux 5.13+, no root needed), the child
  may read only Python, site-packages, the ``backprop_katas`` package and its
  copy, and write only in its copy: it cannot read ``solutions/``, the tests'
  source or the grader's reports.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import shutil
import signal
import site
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from ..names import shown_name

MAX_FILE_BYTES = 1_000_000  # a kata file is a few kB; anything larger is not a kata file
SKIPPED_QUIETLY = {"__pycache__", ".DS_Store"}
PARENT_ENV = "KATAS_GRADE_PARENT"  # set by `katas grade`: its pytest processes die with it


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 1024  # RLIMIT_DATA: torch itself needs ~250 MB (measured: VmData after import)
    kata_seconds: float = 300.0  # time a kata's child may spend on all its probes together
    file_mb: int = 16  # RLIMIT_FSIZE: largest file the child may write
    open_files: int = 256


@dataclass
class SubmissionCopy:
    path: Path  # the temporary folder the child sees
    copied: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # shipped, not graded (conftest.py, ...): names escaped


def survey(submission: Path, kata_files: list[str]) -> SubmissionCopy:
    """Which files of ``submission`` would be graded, which are missing, which are ignored."""
    result = SubmissionCopy(submission)
    wanted = set(kata_files)
    for entry in sorted(submission.iterdir(), key=lambda p: p.name):
        if entry.name in SKIPPED_QUIETLY:
            continue
        shown = shown_name(entry.name)  # names are data: any bytes, shown escaped (names.py)
        if entry.name not in wanted:
            result.ignored.append(shown + ("/" if entry.is_dir() else ""))
        elif entry.is_symlink() or not entry.is_file() or entry.stat().st_size > MAX_FILE_BYTES:
            result.ignored.append(shown + " (not a regular file under 1 MB)")
        else:
            result.copied.append(entry.name)
    result.missing = sorted(wanted - set(result.copied))
    return result


def copy_submission(submission: Path, kata_files: list[str], into: Path) -> SubmissionCopy:
    """Copy only the kata files (by content, never through a symlink) into ``into/<name>``."""
    result = survey(submission, kata_files)
    result.path = into / (submission.name or "submission")
    result.path.mkdir(parents=True)
    for name in result.copied:
        fd = os.open(submission / name, os.O_RDONLY | os.O_NOFOLLOW)  # no symlink swapped in since survey
        with os.fdopen(fd, "rb") as source:
            (result.path / name).write_bytes(source.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES])
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


def python_command(bootstrap: str) -> list[str]:
    """``python -I`` running ``bootstrap`` with the folder that holds backprop_katas on sys.path."""
    return [sys.executable, "-I", "-c", bootstrap, str(package_root().parent)]


def package_root() -> Path:
    return Path(__file__).resolve().parent.parent  # .../backprop_katas


def readable_dirs() -> list[str]:
    """What the child may read under Landlock: Python, its libraries, the tool's package."""
    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["platstdlib"],
        str(package_root()),
        "/usr",
        "/lib",
        "/lib64",
        "/etc",
        "/proc/cpuinfo",
        "/sys/devices/system/cpu",
    }
    paths.update(site.getsitepackages())
    paths.update(p for p in sys.path if p and "site-packages" in p)
    paths.add(str(Path(sys.executable).resolve().parent))
    return sorted({str(Path(p).resolve()) for p in paths if Path(p).exists()})


# --- in the child, after fork, before any learner code ---------------------------------------


def set_parent_death_signal() -> None:
    """Linux: die with SIGKILL when the parent dies (a killed grader leaves no orphans)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def apply_limits(limits: Limits) -> None:
    def cap(which: int, value: int) -> None:
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    cap(resource.RLIMIT_DATA, limits.memory_mb * 1024 * 1024)
    cap(resource.RLIMIT_FSIZE, limits.file_mb * 1024 * 1024)
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_CORE, 0)


# Landlock, from linux/landlock.h.
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446  # the same number on x86_64 and arm64
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_ALL_V1 = (1 << 13) - 1  # execute ... make_sym
_FS_REFER, _FS_TRUNCATE = 1 << 13, 1 << 14


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock(read: list[str], write: list[str]) -> str:
    """Allow reading only under ``read`` and writing only under ``write``; say what happened."""
    if not sys.platform.startswith("linux"):
        return "unavailable (not Linux)"
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        abi = libc.syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
        if abi < 1:
            return f"unavailable ({os.strerror(ctypes.get_errno())})"
        handled = _FS_ALL_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
        attr = _RulesetAttr(handled)
        ruleset = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), 0)
        if ruleset < 0:
            return f"unavailable ({os.strerror(ctypes.get_errno())})"
        reading = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
        for paths, access in ((read, reading), (write, handled)):
            for path in paths:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                rights = access
                if not os.path.isdir(path):  # a file (/dev/null) takes file rights only
                    rights &= _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE
                try:
                    rule = _PathBeneathAttr(rights, fd)
                    if libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) < 0:
                        return f"failed on {path} ({os.strerror(ctypes.get_errno())})"
                finally:
                    os.close(fd)
        if libc.prctl(38, 1, 0, 0, 0) < 0:  # PR_SET_NO_NEW_PRIVS, required by restrict_self
            return f"failed ({os.strerror(ctypes.get_errno())})"
        if libc.syscall(_SYS_RESTRICT, ruleset, 0) < 0:
            return f"failed ({os.strerror(ctypes.get_errno())})"
        os.close(ruleset)
        return f"on (ABI {abi})"
    except (OSError, AttributeError) as exc:
        return f"unavailable ({exc})"


def kill_group(pgid: int) -> None:
    """SIGKILL a child's whole process group (it is the group's leader: pgid == pid)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def landlock_available() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        return int(libc.syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))) >= 1
    except (OSError, AttributeError):
        return False
