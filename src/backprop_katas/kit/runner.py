"""Probes: the half of a kata test that runs learner code.

A probe is a plain function ``probe(target, *args)`` defined at module level
in a test file. It receives a :class:`~backprop_katas.kit.loader.Target` and
plain-data arguments, calls the learner's code, and returns plain data
(:mod:`backprop_katas.kit.plain`). Anything it raises becomes a
:class:`ProbeError`: plain data too. The judge, the other half, lives in the
test and never sees a learner object.

Learner mode runs probes in-process (fast, full tracebacks) with a time
limit; grading mode runs the same probes in a child process.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from backprop_katas.kinds import ProbeErrorKind
from backprop_katas.kit.failure import ProbeError, Where
from backprop_katas.kit.loader import KataFileMissing, Target
from backprop_katas.kit.plain import to_plain
from backprop_katas.kit.state import torch_modes_restored
from backprop_katas.lang import msg, say
from backprop_katas.limits import DEFAULT_TIMEOUT


class ProbeTimeout(BaseException):
    """Raised inside a probe when its time is up (BaseException: a bare except cannot swallow it)."""


class AutogradForbidden(Exception):
    """Learner code called autograd where gradients must be computed by hand."""


class ProcessForbidden(Exception):
    """Learner code started (or tried to start) another process while a probe ran."""


class ProbeFailed(Exception):
    """A probe's learner code failed; ``error`` says how, in plain data."""

    def __init__(self, error: ProbeError) -> None:
        super().__init__(error.render())
        self.error = error


def _learner_frames(tb: TracebackType | None, folder: Path) -> list[traceback.FrameSummary]:
    frames = traceback.extract_tb(tb)
    return [f for f in frames if _inside(f.filename, folder)]


def _inside(filename: str, folder: Path) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False


def _short(path: str, folder: Path) -> str:
    p = Path(path).resolve()
    return f"{folder.name}/{p.relative_to(folder)}" if p.is_relative_to(folder) else path


def _where(frame: traceback.FrameSummary, folder: Path, how: str) -> Where:
    path = Path(frame.filename).resolve()
    return Where(path.relative_to(folder).as_posix(), frame.lineno or 0, frame.name, how, folder.name)


def error_from_exception(exc: BaseException, target: Target) -> ProbeError:
    """Turn an exception from learner code into a ProbeError naming the learner's file and line."""
    if isinstance(exc, ProbeTimeout):
        # The alarm raises in whatever frame runs: the learner's innermost frame is the line that was running.
        running = _learner_frames(exc.__traceback__, target.path)
        at = _where(running[-1], target.path, "running") if running else None
        where = (
            f"{_short(running[-1].filename, target.path)}:{running[-1].lineno} in {running[-1].name}" if running else ""
        )
        return ProbeError(ProbeErrorKind.TIMEOUT, "ProbeTimeout", str(exc.args[0]), where, "", at)
    if isinstance(exc, KataFileMissing):
        message = say("missing_file", file=exc.path.name, folder=str(target.path))
        return ProbeError(ProbeErrorKind.MISSING, "FileNotFoundError", message, "", "")
    folder = target.path
    if isinstance(exc, SyntaxError) and exc.filename and _inside(exc.filename, folder):
        where = f"{_short(exc.filename, folder)}:{exc.lineno}"
        text = "".join(traceback.format_exception_only(type(exc), exc))
        file = Path(exc.filename).resolve().relative_to(folder).as_posix()
        return ProbeError(
            ProbeErrorKind.LOAD,
            type(exc).__name__,
            exc.msg or "",
            where,
            text,
            Where(file, exc.lineno or 0, "<module>", "raised", folder.name),
        )
    frames = _learner_frames(exc.__traceback__, folder)
    where = ""
    at = None
    if frames:
        last = frames[-1]
        where = f"{_short(last.filename, folder)}:{last.lineno} in {last.name}"
        at = _where(last, folder, "raised")
    text = "".join(traceback.format_list(frames)) if frames else ""
    kind = ProbeErrorKind.RAISED
    if isinstance(exc, NotImplementedError):
        kind = ProbeErrorKind.STUB
    elif isinstance(exc, AutogradForbidden):
        kind = ProbeErrorKind.AUTOGRAD
    elif frames and frames[0].name == "<module>":
        kind = ProbeErrorKind.LOAD  # raised while the kata file was being imported
        where = f"{_short(frames[-1].filename, folder)}:{frames[-1].lineno}"
    return ProbeError(kind, type(exc).__name__, str(exc), where, text, at)


class ReturnRecorder:
    """Records, while a probe runs, where the learner's outermost function returned its value.

    A ``sys.settrace`` hook that keeps a reference to each frame whose code lies in the target
    folder and has no learner frame above it (the function the probe called; not the helpers it
    calls, nor a ``forward`` torch calls back from inside it). It asks for no line or return
    events: a finished frame still knows its last line, which is the ``return`` that gave the
    value. ``budget`` calls after the first learner call the hook removes itself (a 10001-step
    training loop would otherwise pay for every call torch makes); the frames caught so far
    still tell. A kata file's module code is not a call: its errors have their own record. Under a
    debugger or coverage (a tracer already set) it records nothing rather than replace theirs."""

    def __init__(self, folder: Path, budget: int = 50_000) -> None:
        from backprop_katas.kit.oracles import HELPERS

        self.folder = folder
        self.prefix = str(folder) + os.sep
        self.budget = budget
        self.frames: list[FrameType] = []
        self.wrong: list[FrameType] = []  # helpers called inside learner code whose value was wrong, in return order
        self.helpers = HELPERS
        self._learner: dict[str, bool] = {}

    def _is_learner(self, filename: str) -> bool:
        known = self._learner.get(filename)
        if known is None:  # "<string>", "<frozen ...>": no file (a relative name would resolve against the cwd)
            learner = os.path.isabs(filename) and os.path.realpath(filename).startswith(self.prefix)
            known = self._learner[filename] = learner
        return known

    def _call(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if self.frames:  # the budget counts from the first learner call (importing a kata file may take long)
            self.budget -= 1
            if self.budget <= 0:
                sys.settrace(None)
        if event != "call" or not self._is_learner(frame.f_code.co_filename) or frame.f_code.co_name == "<module>":
            return None
        caller = frame.f_back
        while caller is not None:
            if self._is_learner(caller.f_code.co_filename):
                return self._helper(frame)
            caller = caller.f_back
        self.frames.append(frame)
        return None

    def _helper(self, frame: FrameType) -> Callable[..., Any] | None:
        """A learner helper called from learner code (kit.oracles.HELPERS): its expected value from the
        arguments it got, and a local trace that notes the frame if it returns something else."""
        code = frame.f_code
        oracle = self.helpers.get(os.path.basename(code.co_filename), {}).get(code.co_name)
        if oracle is None:
            return None
        try:
            expected = _quietly(oracle, [frame.f_locals[n] for n in code.co_varnames[: code.co_argcount]])
        except Exception:  # arguments the helper's oracle cannot take: no claim about this call
            return None

        def returned(inner: FrameType, event: str, arg: Any) -> Any:
            if event == "return" and not _same_value(arg, expected):
                self.wrong.append(inner)
            return returned

        frame.f_trace_lines = False
        return returned

    @property
    def last(self) -> Where | None:
        """The last outermost learner call, at the line it returned from (read once it has returned);
        the innermost helper whose value was wrong (the first to return one) when there is one."""
        if not self.frames:
            return None
        frame = self.wrong[0] if self.wrong else self.frames[-1]
        code = frame.f_code
        file = Path(os.path.realpath(code.co_filename)).relative_to(self.folder).as_posix()
        return Where(file, frame.f_lineno or code.co_firstlineno, code.co_name, "return", self.folder.name)

    @contextlib.contextmanager
    def recording(self) -> Iterator[ReturnRecorder]:
        if sys.gettrace() is not None:
            yield self
            return
        sys.settrace(self._call)
        try:
            yield self
        finally:
            sys.settrace(None)


def _quietly(oracle: Callable[..., Any], args: list[Any]) -> Any:
    """The oracle's value, computed without recording a graph on the learner's tensors."""
    import torch

    with torch.no_grad():
        value = oracle(*args)
    return value.clone() if isinstance(value, torch.Tensor) else value


def _same_value(got: Any, expected: Any) -> bool:
    """A helper's value against its oracle's: equal within float32 rounding (rtol 1e-5, atol 1e-6, as
    kit.oracles.FLOAT32); anything that cannot be compared counts as the same (no claim)."""
    import torch

    try:
        with torch.no_grad():
            a = torch.as_tensor(got, dtype=torch.float64)
            b = torch.as_tensor(expected, dtype=torch.float64)
            return a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True))
    except Exception:
        return True


_LAST_CALL: list[Where | None] = [None]  # the last probe call's record, in this (the judge's) process


def last_where() -> Where | None:
    """Where the last probe call's value was made (the judge's "where to edit" for a wrong value)."""
    return _LAST_CALL[0]


def note_where(where: Where | None) -> None:
    _LAST_CALL[0] = where


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ProbeTimeout in the main thread after ``seconds`` (no limit elsewhere)."""
    usable = seconds and seconds > 0 and threading.current_thread() is threading.main_thread()
    if not usable or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise ProbeTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))  # type: ignore[arg-type]
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# Every public door into autograd, as (module, attribute, what the learner called).
AUTOGRAD_DOORS = (
    ("torch.Tensor", "backward", "Tensor.backward()"),
    ("torch.Tensor", "requires_grad_", "Tensor.requires_grad_()"),
    ("torch.autograd", "backward", "torch.autograd.backward()"),
    ("torch.autograd", "grad", "torch.autograd.grad()"),
    *(
        ("torch.autograd.functional", n, f"torch.autograd.functional.{n}()")
        for n in ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp")
    ),
    *(
        ("torch.autograd.forward_ad", n, f"torch.autograd.forward_ad.{n}")
        for n in ("dual_level", "make_dual", "unpack_dual", "enter_dual_level")
    ),
    *(
        ("torch.func", n, f"torch.func.{n}()")
        for n in ("grad", "grad_and_value", "vjp", "jvp", "jacfwd", "jacrev", "hessian", "linearize")
    ),
    *(
        ("functorch", n, f"functorch.{n}()")
        for n in ("grad", "grad_and_value", "vjp", "jvp", "jacfwd", "jacrev", "hessian")
    ),
    # What those doors call at run time: a name bound at import (g = torch.autograd.grad) still ends here.
    ("torch.autograd.variable.Variable", "_execution_engine", "the autograd engine"),
    ("torch.autograd.graph", "disable_saved_tensors_hooks", "torch.func's reverse mode (grad, vjp, jacrev, hessian)"),
    ("torch._functorch.eager_transforms", "grad_increment_nesting", "torch.func's reverse mode (grad, vjp, jacrev)"),
    ("torch._functorch.eager_transforms", "jvp_increment_nesting", "torch.func's forward mode (jvp, jacfwd)"),
    ("torch._functorch.predispatch", "_make_dual", "forward-mode AD (make_dual)"),
    ("torch._functorch.predispatch", "_enter_dual_level", "forward-mode AD (dual_level)"),
    ("torch", "_make_dual", "forward-mode AD (torch._make_dual)"),
)


@functools.cache
def _autograd_doors() -> tuple[tuple[object, str, str], ...]:
    """(owner, attribute, call) for each of :data:`AUTOGRAD_DOORS` whose owner exists in this torch,
    looked up once per process (an import lookup per door per call cost about 0.6 ms of every
    by-hand probe call)."""
    import importlib

    found: list[tuple[object, str, str]] = []
    for owner_name, attribute, call in AUTOGRAD_DOORS:
        module_name, _, class_name = owner_name.rpartition(".")
        try:
            owner: object = importlib.import_module(owner_name)
        except ImportError:
            try:
                owner = getattr(importlib.import_module(module_name), class_name)
            except (ImportError, AttributeError):
                continue  # functorch is not installed everywhere
        found.append((owner, attribute, call))
    return tuple(found)


class _RefusedEngine:
    def __init__(self, refuse: Callable[..., Any]) -> None:
        self.run_backward = refuse
        self.queue_callback = refuse


@contextlib.contextmanager
def forbid_autograd(function: str) -> Iterator[None]:
    """Refuse autograd inside the block with a learner-facing error naming the door.

    Three layers, for a readable message at the moment of use (the grade is decided by the
    grader's source check, :mod:`backprop_katas.kit.shortcuts`, which learner code cannot reach):
    every public door is replaced (``backward``, ``torch.autograd.*``, ``forward_ad``,
    ``torch.func``, ``functorch``); the engine and forward-mode entry points those doors call
    are replaced too, so a name bound at import (``g = torch.autograd.grad``) fails when it
    runs; and the block runs under ``torch.no_grad()`` with saved-tensor hooks that refuse,
    so code that turns grad mode back on and records a graph is stopped when it records.
    Learner code can still undo all of this from inside (it runs in the same process).
    """
    import torch

    def refuse(call: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            raise AutogradForbidden(say("autograd_used", function=function, call=call))

        return refused

    def pack(tensor: torch.Tensor) -> Any:
        raise AutogradForbidden(say("autograd_used", function=function, call=msg("autograd_enable_grad")))

    saved: list[tuple[object, str, object]] = []
    for owner, attribute, call in _autograd_doors():
        if not hasattr(owner, attribute):
            continue
        saved.append((owner, attribute, getattr(owner, attribute)))
        replacement = _RefusedEngine(refuse(call)) if attribute == "_execution_engine" else refuse(call)
        setattr(owner, attribute, replacement)
    try:
        with torch.no_grad(), torch.autograd.graph.saved_tensors_hooks(pack, pack):
            yield
    finally:
        for owner, attribute, value in reversed(saved):
            setattr(owner, attribute, value)


# Audit events of starting a process (sys.audit): refused while a probe runs learner code.
PROCESS_EVENTS = frozenset(
    {"os.system", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.startfile", "subprocess.Popen"}
)
_refusing_processes = [0]  # depth of no_processes() blocks; a list so the hook reads the current value


@functools.cache
def _install_process_hook() -> None:
    """One audit hook per process (hooks cannot be removed): it refuses process starts inside no_processes()."""

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if _refusing_processes[0] and event in PROCESS_EVENTS:
            raise ProcessForbidden(say("process_forbidden", event=event))

    sys.addaudithook(hook)


@contextlib.contextmanager
def no_processes() -> Iterator[None]:
    """Refuse every process start (subprocess, os.system, os.fork, os.exec*, spawn) inside the block:
    a process kata code starts would run outside the in-process checks. The source check refuses
    such code too (shortcuts.PROCESS_*); this is the door it cannot see."""
    _install_process_hook()
    _refusing_processes[0] += 1
    try:
        yield
    finally:
        _refusing_processes[0] -= 1


def by_hand(kata: str, name: str) -> contextlib.AbstractContextManager[None]:
    """How a probe calls kata function ``name``: with autograd off (:func:`forbid_autograd`) when
    it must be written by hand (:func:`backprop_katas.kit.shortcuts.by_hand_rules`), plainly otherwise.

        with by_hand(KATA, name):
            result = getattr(target.module(KATA), name)(*tensors)
    """
    from backprop_katas.kit.shortcuts import by_hand_rules

    if name in by_hand_rules(kata):
        return forbid_autograd(f"{kata}.{name}")
    return contextlib.nullcontext()


Probe = Callable[..., Any]


class InProcessRunner:
    """Learner mode: run probes in this process, with a time limit per call."""

    mode = "learner"

    def __init__(self, target: Target, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        self.target = target
        self.timeout = timeout

    def run(self, probe: Probe, *args: Any) -> Any:
        """Run ``probe(target, *args)``; return its plain result or raise ProbeFailed."""
        note_where(None)
        recorder = ReturnRecorder(self.target.path)
        try:
            # Learner code runs in the judge's process here: a grad mode or default dtype it
            # leaves changed must not reach the oracles or the next test.
            with time_limit(self.timeout), torch_modes_restored(), recorder.recording(), no_processes():
                result = probe(self.target, *args)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            raise ProbeFailed(error_from_exception(exc, self.target)) from None
        note_where(recorder.last)
        return to_plain(result)
