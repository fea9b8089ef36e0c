"""Submissions that take a shortcut the katas forbid: autograd through every door, and the tool's oracles.

Each is the reference solution with lines added after the imports (``head``)
and definitions appended (``tail``): a later ``def`` replaces the reference's
at run time, so the submission computes the right numbers, and only the
shortcut check can tell. ``kata`` is the file changed, ``tested`` the kata
whose tests must fail (they differ when a kata imports a sibling), ``function``
the by-hand function whose tests must fail (``"*"``: every test of the kata).
"""

from __future__ import annotations

import ast
from typing import NamedTuple


class Shortcut(NamedTuple):
    id: str
    kata: str
    function: str
    head: str = ""
    tail: str = ""
    expect: str = ""  # a fragment of the construct the check names
    tested: str = ""  # the kata whose tests must fail, when not ``kata``

    @property
    def tested_kata(self) -> str:
        return self.tested or self.kata


def apply(source: str, shortcut: Shortcut) -> str:
    """The solution's source with the shortcut's lines added after its imports and at its end."""
    if shortcut.head:
        imports = [n for n in ast.parse(source).body if isinstance(n, (ast.Import, ast.ImportFrom))]
        lines = source.splitlines(keepends=True)
        after = max(n.end_lineno or n.lineno for n in imports)
        source = "".join([*lines[:after], shortcut.head.strip("\n") + "\n", *lines[after:]])
    return source + ("\n\n" + shortcut.tail.strip("\n") + "\n" if shortcut.tail else "")


def _manual(grad: str) -> str:
    """manual_gradients by autograd, through the door ``grad``."""
    return f"""
def manual_gradients(net, x, t):
    with torch.enable_grad():
        names = [n for n, _ in net.named_parameters()]
        params = [p for _, p in net.named_parameters()]
        loss = torch.nn.functional.binary_cross_entropy(net(x).squeeze(), t)
        grads = {grad}(loss, params)
    return {{n: g.detach() for n, g in zip(names, grads)}}
"""


_FUNCTIONAL = """
def manual_gradients(net, x, t):
    params = {{n: p.detach() for n, p in net.named_parameters()}}

    def loss(p):
        y = torch.func.functional_call(net, p, (x,))
        return torch.nn.functional.binary_cross_entropy(y.squeeze(), t)

    return {call}
"""

_DUAL = """
def manual_gradients(net, x, t):
    params = {n: p.detach() for n, p in net.named_parameters()}
    grads = {}
    for name, p in params.items():
        g = torch.zeros(p.numel(), dtype=p.dtype)
        for i in range(p.numel()):
            tangent = torch.zeros(p.numel(), dtype=p.dtype)
            tangent[i] = 1
            with fa.dual_level():
                dual = dict(params)
                dual[name] = fa.make_dual(p, tangent.reshape(p.shape))
                y = torch.func.functional_call(net, dual, (x,))
                loss = torch.nn.functional.binary_cross_entropy(y.squeeze(), t)
                g[i] = fa.unpack_dual(loss).tangent
        grads[name] = g.reshape(p.shape)
    return grads
"""

_UNDO_GUARD = """
def manual_gradients(net, x, t):
    # Undo the in-child guard: put autograd back, and hooks that let a graph be recorded.
    torch.autograd.grad, torch.autograd.Variable._execution_engine = _REAL
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(lambda a: a, lambda a: a):
        names = [n for n, _ in net.named_parameters()]
        params = [p for _, p in net.named_parameters()]
        loss = torch.nn.functional.binary_cross_entropy(net(x).squeeze(), t)
        grads = torch.autograd.grad(loss, params)
    return {n: g.detach() for n, g in zip(names, grads)}
"""

_BACKWARD = """
def manual_gradients(net, x, t):
    with torch.enable_grad():
        net.zero_grad()
        torch.nn.functional.binary_cross_entropy(net(x).squeeze(), t).backward()
    grads = {n: p.grad.clone() for n, p in net.named_parameters()}
    net.zero_grad()
    return grads
"""

_SIGMOID_BY_AUTOGRAD = """
class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sigmoid(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            xg = x.detach().requires_grad_()
            (g,) = torch.autograd.grad(torch.sigmoid(xg), xg, grad_output)
        return g
"""

_ORACLE_TRAIN = """
def train(net, x, t, steps=10001, lr=0.5, log_every=1000):
    params = oracles.params_of(net)
    dtype = str(x.dtype).removeprefix("torch.")
    history, final = oracles.oracle_train(params, x.numpy(), t.numpy(), steps, lr, log_every, dtype)
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.tensor(final[name]))
    return [(int(s), float(v)) for s, v in history]
"""

SHORTCUTS = [
    # k05 · manual_gradients: every door into reverse mode, forward mode and torch.func
    Shortcut("backward", "k05_backprop", "manual_gradients", tail=_BACKWARD, expect=".backward"),
    Shortcut(
        "autograd-grad",
        "k05_backprop",
        "manual_gradients",
        tail=_manual("torch.autograd.grad"),
        expect="torch.autograd.grad",
    ),
    Shortcut(
        "alias-at-import",
        "k05_backprop",
        "manual_gradients",
        head="_g = torch.autograd.grad",
        tail=_manual("_g"),
        expect="torch.autograd.grad",
    ),
    Shortcut(
        "from-import",
        "k05_backprop",
        "manual_gradients",
        head="from torch.autograd import grad as _grad",
        tail=_manual("_grad"),
        expect="torch.autograd.grad",
    ),
    Shortcut(
        "module-alias",
        "k05_backprop",
        "manual_gradients",
        head="from torch import autograd as _ag",
        tail=_manual("_ag.grad"),
        expect="torch.autograd.grad",
    ),
    Shortcut(
        "import-as",
        "k05_backprop",
        "manual_gradients",
        head="import torch.autograd as _A",
        tail=_manual("_A.grad"),
        expect="torch.autograd.grad",
    ),
    Shortcut(
        "getattr-computed",
        "k05_backprop",
        "manual_gradients",
        tail=_manual('getattr(torch, "auto" + "grad").grad'),
        expect="getattr",
    ),
    Shortcut(
        "getattr-written-out",
        "k05_backprop",
        "manual_gradients",
        tail=_manual('getattr(torch.autograd, "grad")'),
        expect="torch.autograd.grad",
    ),
    Shortcut(
        "globals",
        "k05_backprop",
        "manual_gradients",
        tail=_manual('globals()["torch"].autograd.grad'),
        expect="globals",
    ),
    Shortcut(
        "helper",
        "k05_backprop",
        "manual_gradients",
        tail="def _helper(loss, params):\n    return torch.autograd.grad(loss, params)\n" + _manual("_helper"),
        expect="torch.autograd.grad",
    ),
    Shortcut(
        "forward-ad-dual",
        "k05_backprop",
        "manual_gradients",
        head="import torch.autograd.forward_ad as fa",
        tail=_DUAL,
        expect="forward_ad",
    ),
    Shortcut(
        "func-jacrev",
        "k05_backprop",
        "manual_gradients",
        head="from torch.func import jacrev",
        tail=_FUNCTIONAL.format(call="jacrev(loss)(params)"),
        expect="torch.func.jacrev",
    ),
    Shortcut(
        "func-jacfwd",
        "k05_backprop",
        "manual_gradients",
        head="from torch.func import jacfwd as _jf",
        tail=_FUNCTIONAL.format(call="_jf(loss)(params)"),
        expect="torch.func.jacfwd",
    ),
    Shortcut(
        "func-vjp",
        "k05_backprop",
        "manual_gradients",
        tail=_FUNCTIONAL.format(call="torch.func.vjp(loss, params)[1](torch.ones((), dtype=x.dtype))[0]"),
        expect="torch.func.vjp",
    ),
    Shortcut(
        "func-grad",
        "k05_backprop",
        "manual_gradients",
        tail=_FUNCTIONAL.format(call="torch.func.grad(loss)(params)"),
        expect="torch.func.grad",
    ),
    Shortcut(
        "functional-jacobian",
        "k05_backprop",
        "manual_gradients",
        tail=_FUNCTIONAL.format(
            call="dict(zip(params, torch.autograd.functional.jacobian("
            "lambda *ps: loss(dict(zip(params, ps))), tuple(params.values()))))"
        ),
        expect="torch.autograd.functional",
    ),
    Shortcut(
        "guard-undone",
        "k05_backprop",
        "manual_gradients",
        head="_REAL = (torch.autograd.grad, torch.autograd.Variable._execution_engine)",
        tail=_UNDO_GUARD,
        expect="torch.autograd",
    ),
    Shortcut(
        "sigmoid-backward-by-autograd",
        "k05_backprop",
        "SigmoidFunction.backward",
        tail=_SIGMOID_BY_AUTOGRAD,
        expect="torch.autograd.grad",
    ),
    # k05 reached from k06: train_by_hand imports manual_gradients from the sibling file
    Shortcut(
        "sibling-manual-gradients",
        "k05_backprop",
        "train_by_hand",
        tail=_manual("torch.autograd.grad"),
        expect="torch.autograd.grad",
        tested="k06_xor_training",
    ),
    # k06 · train_by_hand through the autograd trainer of the same file
    Shortcut(
        "calls-train",
        "k06_xor_training",
        "train_by_hand",
        tail="def train_by_hand(net, x, t, steps=10001, lr=0.5, log_every=1000):\n"
        "    return train(net, x, t, steps=steps, lr=lr, log_every=log_every)\n",
        expect=".backward",
    ),
    # k03 · the chain rule by autograd
    Shortcut(
        "backward-by-func-grad",
        "k03_computation_graph",
        "backward",
        tail="def backward(t):\n    return torch.func.grad(lambda v: (v**2).sum())(torch.as_tensor(t))\n",
        head="import torch",
        expect="torch.func.grad",
    ),
    Shortcut(
        "gradients-by-requires-grad",
        "k03_computation_graph",
        "gradients",
        head="import torch",
        tail="def gradients(x, y):\n"
        "    with torch.enable_grad():\n"
        "        xg = torch.as_tensor(x).detach().clone().requires_grad_()\n"
        "        yg = torch.as_tensor(y).detach().clone().requires_grad_()\n"
        "        z_function(t_function(xg, yg)).sum().backward()\n"
        "    return xg.grad, yg.grad\n",
        expect="requires_grad_",
    ),
    # every kata: the tool's own oracles answer for the learner
    Shortcut(
        "oracle-trainer",
        "k06_xor_training",
        "*",
        head="from backprop_katas import oracles",
        tail=_ORACLE_TRAIN,
        expect="backprop_katas",
    ),
    Shortcut(
        "oracle-trainer-dynamic",
        "k06_xor_training",
        "*",
        head='oracles = __import__("backprop" + "_katas.oracles", fromlist=["x"])',
        tail=_ORACLE_TRAIN,
        expect="__import__",
    ),
    Shortcut(
        "oracle-via-sys-modules",
        "k06_xor_training",
        "*",
        head='import sys\noracles = sys.modules["backprop" + "_katas.oracles"]',
        tail=_ORACLE_TRAIN,
        expect="sys.modules",
    ),
]

# --- issue 23: every prohibition a docstring states, positive and negative; no processes ------------
_PRIME_FLOATS = "    if not isinstance(x, torch.Tensor):\n        return 2 * x\n"


def _prime(body: str) -> str:
    """prime_function through a ready-made derivative: right on floats and tensors alike."""
    return "def prime_function(x):\n" + _PRIME_FLOATS + body


def _sigmoid(body: str) -> str:
    return "def sigmoid(x):\n" + body


def _wrapped(function: str, line: str, args: str) -> str:
    """``function`` as the reference computes it, after ``line`` has run (a process start, say)."""
    return (
        f"_reference_{function} = {function}\n\n\ndef {function}({args}):\n    {line}\n"
        f"    return _reference_{function}({args})\n"
    )


_FD = """
def _central(g, v, h=1e-6):
    flat, out = v.reshape(-1), torch.zeros(v.numel(), dtype=v.dtype)
    for i in range(v.numel()):
        up, down = flat.clone(), flat.clone()
        up[i] += h
        down[i] -= h
        out[i] = (g(up.reshape(v.shape)).sum() - g(down.reshape(v.shape)).sum()) / (2 * h)
    return out.reshape(v.shape)
"""

SHORTCUTS += [
    # k01 · prime_function: "use calculus, not autograd" (by hand), through doors the check did not know
    Shortcut(
        "prime-by-autograd-grad",
        "k01_derivatives",
        "prime_function",
        tail=_prime(
            "    xg = x.detach().clone().requires_grad_()\n    with torch.enable_grad():\n"
            "        (g,) = torch.autograd.grad((xg**2).sum(), xg)\n    return g\n"
        ),
        expect="torch.autograd.grad",
    ),
    Shortcut(
        "prime-by-func-grad-and-vmap",
        "k01_derivatives",
        "prime_function",
        tail=_prime(
            "    g = torch.func.vmap(torch.func.grad(lambda v: v**2))(x.reshape(-1))\n    return g.reshape(x.shape)\n"
        ),
        expect="torch.func.grad",
    ),
    Shortcut(
        "prime-by-functional-vjp",
        "k01_derivatives",
        "prime_function",
        tail=_prime("    return torch.autograd.functional.vjp(lambda v: v**2, x, torch.ones_like(x))[1]\n"),
        expect="torch.autograd.functional",
    ),
    Shortcut(
        "prime-by-aten-backward-op",
        "k01_derivatives",
        "prime_function",
        tail=_prime("    return torch.ops.aten.mse_loss_backward(torch.ones_like(x), x, torch.zeros_like(x), 0)\n"),
        expect="mse_loss_backward",
    ),
    Shortcut(
        "prime-by-aten-through-an-alias",
        "k01_derivatives",
        "prime_function",
        head="aten = torch.ops.aten",
        tail=_prime("    return aten.mse_loss_backward(torch.ones_like(x), x, torch.zeros_like(x), 0)\n"),
        expect="mse_loss_backward",
    ),
    Shortcut(
        "prime-by-a-backward-hook",
        "k01_derivatives",
        "prime_function",
        tail=_prime(
            "    seen = []\n    xg = x.detach().clone().requires_grad_()\n"
            "    xg.register_hook(lambda g: seen.append(g) or g)\n"
            "    with torch.enable_grad():\n        (xg**2).sum().backward()\n    return seen[0]\n"
        ),
        expect="register_hook",
    ),
    Shortcut(
        "prime-by-getattr-computed",
        "k01_derivatives",
        "prime_function",
        tail=_prime(
            '    g = getattr(torch, "auto" + "grad").grad\n    xg = x.detach().clone()\n'
            "    xg.requires_grad = True\n    with torch.enable_grad():\n"
            "        return g((xg**2).sum(), xg)[0]\n"
        ),
        expect="getattr",
    ),
    # k01 · sigmoid and sigmoid_prime: "do not call torch.sigmoid", through every spelling of it
    Shortcut(
        "sigmoid-torch-sigmoid",
        "k01_derivatives",
        "sigmoid",
        tail=_sigmoid("    return torch.sigmoid(x)\n"),
        expect="torch.sigmoid",
    ),
    Shortcut(
        "sigmoid-tensor-method",
        "k01_derivatives",
        "sigmoid",
        tail=_sigmoid("    return x.sigmoid()\n"),
        expect=".sigmoid",
    ),
    Shortcut(
        "sigmoid-special-expit",
        "k01_derivatives",
        "sigmoid",
        tail=_sigmoid("    return torch.special.expit(x)\n"),
        expect="torch.special.expit",
    ),
    Shortcut(
        "sigmoid-functional-alias",
        "k01_derivatives",
        "sigmoid",
        head="from torch.nn import functional as Fn",
        tail=_sigmoid("    return Fn.sigmoid(x)\n"),
        expect="torch.nn.functional.sigmoid",
    ),
    Shortcut(
        "sigmoid-from-import-renamed",
        "k01_derivatives",
        "sigmoid",
        head="from torch import sigmoid as logistic",
        tail=_sigmoid("    return logistic(x)\n"),
        expect="torch.sigmoid",
    ),
    Shortcut(
        "sigmoid-nn-module",
        "k01_derivatives",
        "sigmoid",
        tail=_sigmoid("    return torch.nn.Sigmoid()(x)\n"),
        expect="torch.nn.Sigmoid",
    ),
    Shortcut(
        "sigmoid-by-softmax",
        "k01_derivatives",
        "sigmoid",
        tail=_sigmoid("    return torch.softmax(torch.stack([x, torch.zeros_like(x)]), dim=0)[0]\n"),
        expect="torch.softmax",
    ),
    Shortcut(
        "sigmoid-by-getattr-computed",
        "k01_derivatives",
        "sigmoid",
        tail=_sigmoid('    return getattr(torch, "sig" + "moid")(x)\n'),
        expect="getattr",
    ),
    Shortcut(
        "sigmoid-prime-by-aten-sigmoid-backward",
        "k01_derivatives",
        "sigmoid_prime",
        tail="def sigmoid_prime(x):\n    s = sigmoid(x)\n"
        "    return torch.ops.aten.sigmoid_backward(torch.ones_like(s), s)\n",
        expect="sigmoid_backward",
    ),
    Shortcut(
        "sigmoid-prime-from-torch-sigmoid",
        "k01_derivatives",
        "sigmoid_prime",
        tail="def sigmoid_prime(x):\n    s = torch.sigmoid(x)\n    return s * (1 - s)\n",
        expect="torch.sigmoid",
    ),
    # k05 · ready-made backward ops (torch.ops.aten.*_backward) as the hand-written backward
    Shortcut(
        "sigmoid-backward-by-aten",
        "k05_backprop",
        "SigmoidFunction.backward",
        tail=_SIGMOID_BY_AUTOGRAD.replace(
            "        with torch.enable_grad():\n            xg = x.detach().requires_grad_()\n"
            "            (g,) = torch.autograd.grad(torch.sigmoid(xg), xg, grad_output)\n        return g\n",
            "        return torch.ops.aten.sigmoid_backward(grad_output, torch.sigmoid(x))\n",
        ),
        expect="sigmoid_backward",
    ),
    # k04 · a kata about autograd: each function must use it (the right numbers another way are refused)
    Shortcut(
        "autograd-gradients-by-finite-differences",
        "k04_autograd",
        "autograd_gradients",
        tail=_FD + "\n\ndef autograd_gradients(f, x, y):\n"
        "    return _central(lambda v: f(v, y), x), _central(lambda v: f(x, v), y)\n",
    ),
    Shortcut(
        "grad-fn-name-read-from-the-repr",
        "k04_autograd",
        "grad_fn_name",
        head="import re",
        tail="def grad_fn_name(z):\n    found = re.search(r'grad_fn=<(\\w+)>', repr(z))\n"
        "    return found.group(1) if found else None\n",
    ),
    Shortcut(
        "requires-grad-flags-worked-out-by-hand",
        "k04_autograd",
        "requires_grad_flags",
        tail='def requires_grad_flags(f, x, y, wrt):\n    return {"x": "x" in wrt, "y": "y" in wrt, "z": bool(wrt)}\n',
    ),
    Shortcut(
        "accumulated-gradient-by-finite-differences",
        "k04_autograd",
        "accumulated_gradient",
        tail=_FD + "\n\ndef accumulated_gradient(f, x, times):\n"
        "    for _ in range(times - 1):\n        f(x)\n    return times * _central(f, x)\n",
    ),
    # every kata · no processes: a process would run outside every in-process check
    Shortcut(
        "process-subprocess",
        "k05_backprop",
        "*",
        head="import subprocess",
        tail=_wrapped("manual_gradients", 'subprocess.run(["true"], check=False)', "net, x, t"),
        expect="subprocess",
    ),
    Shortcut(
        "process-os-system",
        "k05_backprop",
        "*",
        head="import os",
        tail=_wrapped("manual_gradients", 'os.system("true")', "net, x, t"),
        expect="os.system",
    ),
    Shortcut(
        "process-fork-imported-by-name",
        "k05_backprop",
        "*",
        head="from os import fork, _exit",
        tail=_wrapped("manual_gradients", "fork() or _exit(0)", "net, x, t"),
        expect="fork",
    ),
    Shortcut(
        "process-exec-through-an-alias",
        "k05_backprop",
        "*",
        head="import os as _o",
        tail=_wrapped("manual_gradients", '_o.execv("/bin/true", ["true"]) if x.numel() < 0 else None', "net, x, t"),
        expect="os.execv",
    ),
    Shortcut(
        "process-multiprocessing",
        "k05_backprop",
        "*",
        head="import multiprocessing as _mp",
        tail=_wrapped("manual_gradients", '_mp.get_context("fork")', "net, x, t"),
        expect="multiprocessing",
    ),
    Shortcut(
        "process-pty-spawn",
        "k05_backprop",
        "*",
        head="import pty",
        tail=_wrapped("manual_gradients", 'pty.spawn("true") if x.numel() < 0 else None', "net, x, t"),
        expect="pty",
    ),
    Shortcut(
        "process-torch-multiprocessing",
        "k05_backprop",
        "*",
        head="import torch.multiprocessing as tmp",
        tail=_wrapped("manual_gradients", 'tmp.get_context("spawn")', "net, x, t"),
        expect="torch.multiprocessing",
    ),
    # every kata · the tool's oracles through modules that import a name given as a string
    Shortcut(
        "oracle-via-pydoc-locate",
        "k06_xor_training",
        "*",
        head='import pydoc\noracles = pydoc.locate("backprop" + "_katas.kit.oracles")',
        tail=_ORACLE_TRAIN,
        expect="pydoc",
    ),
    Shortcut(
        "oracle-via-pickle",
        "k06_xor_training",
        "*",
        head='import pickle\noracles = pickle.loads(b"cbackprop_katas.kit\\noracles\\n.")',
        tail=_ORACLE_TRAIN,
        expect="pickle",
    ),
    Shortcut(
        "oracle-via-torch-utils",
        "k06_xor_training",
        "*",
        head='oracles = torch._utils._import_dotted_name("backprop" + "_katas.kit.oracles")',
        tail=_ORACLE_TRAIN,
        expect="torch._utils",
    ),
]


# Wrong backwards that attack the gradcheck test itself: both must score 0 for it.
WRONG_SIGMOID = """
class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        {in_forward}
        y = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        {in_backward}
        return grad_output * y  # wrong: σ' is y(1 - y)
"""
_FORGE = """import json, os, socket, stat, struct
        reply = json.dumps({"#": "dict", "v": {"ok": {"#": "dict", "v": {"passed": True, "error": ""}}}}).encode()
        for fd in range(3, 256):
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.write(fd, struct.pack("!Q", len(reply)) + reply)
            except OSError:
                pass
        os._exit(0)"""
# Patched when forward runs: the source check refuses the file's by-hand functions (a library changed
# at run time), and the gradcheck test fails from data whatever gradcheck says in the child.
_PATCH = "torch.autograd.gradcheck = lambda *a, **k: True"
GRADCHECK_ATTACKS = [
    Shortcut(
        "patched-gradcheck",
        "k05_backprop",
        "gradcheck",
        tail=WRONG_SIGMOID.format(in_forward=_PATCH, in_backward="pass"),
    ),
    Shortcut(
        "forged-reply", "k05_backprop", "gradcheck", tail=WRONG_SIGMOID.format(in_forward="pass", in_backward=_FORGE)
    ),
]
