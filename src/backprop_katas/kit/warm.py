"""What a process that forks probe calls or checks does once, before any fork: import every
probe module, and set up what torch and numpy set up lazily on first use.

Grading's zygote and the learner's warm server both run these, so a forked call or check
finds them done: every probe call is a fresh process, and what a call did lazily it would
do again in every call.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from types import ModuleType


def probe_modules() -> dict[str, ModuleType]:
    """Every module of ``backprop_katas.kit.probes``, imported: the only code of a test that enters the child."""
    from backprop_katas.kit import probes

    found = pkgutil.iter_modules(probes.__path__, probes.PACKAGE + ".")
    return {info.name: importlib.import_module(info.name) for info in found}


def warm_up() -> None:
    """What torch and numpy import or set up lazily on first use, done once here, before any fork.

    Every probe call is a fresh process forked from a kata server: what a call does lazily it
    does again in every call (the first ``torch.autograd.grad`` imports sympy, 0.3-0.8 s)."""
    import numpy
    import torch

    from backprop_katas.kit.runner import AUTOGRAD_DOORS

    for module, _name, _what in AUTOGRAD_DOORS:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    numpy.random.default_rng(0).normal(0, 1, 3)
    for dtype in (torch.float32, torch.float64):
        x = torch.linspace(-1, 1, 6, dtype=dtype).reshape(2, 3).requires_grad_()
        y = torch.sigmoid(x) * torch.tanh(x) + torch.exp(-x.abs()) - torch.log1p(x.abs())
        (grad,) = torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True)
        torch.autograd.backward(grad.sum() + y.sum())
    torch.nn.functional.binary_cross_entropy(torch.full((2,), 0.5), torch.ones(2))
