"""The tool's closed sets of words, typed: what went wrong in a probe, how a kata stands, how a test ended.

Each is a ``str`` enum, so the values travel unchanged through JSON (the cache, the wire to a
grading child, results.json) and compare equal to the plain strings read back; code names
the members, never the strings.
"""

from __future__ import annotations

from enum import Enum


class Kind(str, Enum):
    """A str enum that prints as its value (``f"{Status.DONE}"`` is ``done`` on every Python)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class ProbeErrorKind(Kind):
    """How learner code failed inside a probe (kit/runner.py's ProbeError)."""

    RAISED = "raised"  # an exception from the learner's code
    STUB = "stub"  # the stub's NotImplementedError: not written yet
    LOAD = "load"  # the kata file did not import (a syntax error, a failing module-level line)
    MISSING = "missing"  # no kata file
    TIMEOUT = "timeout"  # the probe's time limit
    AUTOGRAD = "autograd"  # autograd where the gradient is to be computed by hand


class Status(Kind):
    """Where a learner stands on one kata (tool/check.py's Outcome)."""

    DONE = "done"
    FAILING = "failing"
    NOT_STARTED = "not_started"  # the untouched stub
    TIMEOUT = "timeout"  # the kata's tests ran past the time limit
    MISSING = "missing"  # the kata file is gone


class TestStatus(Kind):
    """How one test ended: the pytest report a check writes, and grading's checks."""

    __test__ = False  # a class named Test* that pytest must not collect

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"  # failed in setup or teardown


class Isolation(Kind):
    """How a learner's kata processes are isolated in grading (``--isolation``; grading/sandbox.py).

    ``AUTO`` is a choice, never a mode: ``sandbox.resolve_isolation`` turns it into one that works
    here. The runner, the worker, the pytest plugin and the CLI read a mode's properties below,
    never its name, so a new mode is a member here plus its zygote in sandbox.py."""

    AUTO = "auto"
    BWRAP = "bwrap"  # bubblewrap: user, PID, network, mount, IPC namespaces and a tmpfs of the learner's own
    FALLBACK = "fallback"  # Landlock and resource limits in the grader's own namespaces

    @classmethod
    def choices(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)

    @property
    def namespaced(self) -> bool:
        """The zygote runs in namespaces of its own, with a tmpfs that holds every kata's folder: the
        tmpfs caps the disk, the sandbox's init ends what is left, privileges were dropped at its start."""
        return self is Isolation.BWRAP
