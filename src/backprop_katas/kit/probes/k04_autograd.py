"""Probes of k04 · Autograd."""

from __future__ import annotations

from typing import Any

import torch

from backprop_katas.kit.loader import Target
from backprop_katas.kit.shortcuts import calls_by_hand
from backprop_katas.kit.state import graph_state, tensor_state, watched_globals
from backprop_katas.kit.zoo import ONE, TWO

KATA = "k04_autograd"
MUST_USE_AUTOGRAD = (
    "autograd_gradients",
    "grad_fn_name",
    "requires_grad_flags",
    "accumulated_gradient",
)  # a kata about autograd

# Tensors made by one operation (or none); the judge asks torch itself for the node's name.
RECIPES: dict[str, Any] = {
    "leaf": lambda x, y: x,
    "pow": lambda x, y: x**2,
    "add": lambda x, y: x + y,
    "mul": lambda x, y: x * y,
    "sum": lambda x, y: (x * y).sum(),
    "exp": lambda x, y: torch.exp(x),
    "detached": lambda x, y: (x**2).detach(),
}


def caller_state(*tensors: torch.Tensor) -> list[dict[str, Any]]:
    """The caller's tensors after the call: value, version counter, requires_grad, .grad."""
    return [tensor_state(t) for t in tensors]


@calls_by_hand("autograd_gradients")  # a source rule: it must reach autograd (shortcuts.MUST_USE_AUTOGRAD)
def autograd_gradients(target: Target, fname: str, x: Any, y: Any) -> dict[str, Any]:
    xt, yt = torch.tensor(x), torch.tensor(y)
    with watched_globals() as globals_:
        result = target.module(KATA).autograd_gradients(TWO[fname].torch, xt, yt)
    return {"result": result, "graph": graph_state(result), "callers": caller_state(xt, yt), "globals": globals_}


@calls_by_hand("autograd_gradients")
def autograd_gradients_of_marked_tensors(target: Target, fname: str, x: Any, y: Any, stale: float) -> dict[str, Any]:
    """autograd_gradients on a caller's x and y that already require grad and hold a stale .grad."""
    xt, yt = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    xt.grad, yt.grad = torch.full_like(xt, stale), torch.full_like(yt, stale)
    with watched_globals() as globals_:
        result = target.module(KATA).autograd_gradients(TWO[fname].torch, xt, yt)
    return {"result": result, "graph": graph_state(result), "callers": caller_state(xt, yt), "globals": globals_}


@calls_by_hand("grad_fn_name")  # a source rule: it must reach autograd (shortcuts.MUST_USE_AUTOGRAD)
def grad_fn_name(target: Target, recipe: str, x: Any, y: Any) -> Any:
    xt, yt = torch.tensor(x, requires_grad=True), torch.tensor(y)
    return target.module(KATA).grad_fn_name(RECIPES[recipe](xt, yt))


@calls_by_hand("requires_grad_flags")  # a source rule: it must reach autograd (shortcuts.MUST_USE_AUTOGRAD)
def requires_grad_flags(target: Target, fname: str, x: Any, y: Any, wrt: str) -> dict[str, Any]:
    xt, yt = torch.tensor(x), torch.tensor(y)
    with watched_globals() as globals_:
        flags = target.module(KATA).requires_grad_flags(TWO[fname].torch, xt, yt, wrt)
    return {"flags": flags, "callers": caller_state(xt, yt), "globals": globals_}


@calls_by_hand("accumulated_gradient")  # a source rule: it must reach autograd (shortcuts.MUST_USE_AUTOGRAD)
def accumulated_gradient(target: Target, fname: str, x: Any, times: int) -> dict[str, Any]:
    """accumulated_gradient with f counted: how often the learner's code evaluated f."""
    xt = torch.tensor(x)
    calls = [0]

    def f(v: torch.Tensor) -> torch.Tensor:
        calls[0] += 1
        return ONE[fname].torch(v)

    with watched_globals() as globals_:
        grad = target.module(KATA).accumulated_gradient(f, xt, times)
    return {
        "grad": grad,
        "graph": graph_state(grad),
        "callers": caller_state(xt),
        "calls": calls[0],
        "globals": globals_,
    }
