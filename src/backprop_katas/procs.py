"""Child processes: the one way to stop a process group and the one pytest command line.

The learner's loop (tool/check.py), the warm server and grading (grading/sandbox.py,
batch.py, runner.py) all stop their children through :func:`kill_group`, and every
child pytest is started from :func:`pytest_command`; a self-check
(tests/suite/test_self_checks.py) keeps ``os.killpg`` and ``-m pytest`` out of
every other module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import Any

# Plugins a child pytest of the tool never needs; blocking an absent one is harmless.
QUIET_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:benchmark", "-p", "no:randomly")


def signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to process group ``pgid``; False when the group is gone (or not ours)."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def kill_group(leader: subprocess.Popen[Any] | int, grace: float = 0.0) -> None:
    """Stop a child and everything in its process group (the child leads it: pgid == pid).

    ``leader`` is the child's Popen or its pid. With a Popen and ``grace`` > 0 the group gets
    SIGTERM first and SIGKILL only if the child lingers ``grace`` seconds; otherwise SIGKILL at
    once. A Popen is reaped; a group that is gone already is not an error.
    """
    proc = leader if isinstance(leader, subprocess.Popen) else None
    pgid = leader.pid if isinstance(leader, subprocess.Popen) else leader
    if proc is not None and proc.poll() is not None:
        return
    if proc is not None and grace > 0 and signal_group(pgid, signal.SIGTERM):
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
            return
    signal_group(pgid, signal.SIGKILL)
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def pytest_command(*args: str, python: str | None = None) -> list[str]:
    """``python -m pytest ARGS``: a child pytest in this interpreter (or ``python``)."""
    return [python or sys.executable, "-m", "pytest", *args]
