"""Probes of k01 · Derivatives."""

from __future__ import annotations

from typing import Any

import torch

from backprop_katas.kit.loader import Target
from backprop_katas.kit.runner import by_hand
from backprop_katas.kit.state import shared_memory, tensor_state, watched_globals
from backprop_katas.kit.zoo import ONE

KATA = "k01_derivatives"
BY_HAND = ("prime_function",)  # no autograd: the derivative is written out
READY_MADE = {"sigmoid": "sigmoid", "sigmoid_prime": "sigmoid"}  # no torch.sigmoid and kin (shortcuts.READY_FAMILIES)


def elementwise(target: Target, name: str, values: Any, dtype: str) -> dict[str, Any]:
    """``name(x)`` on a tensor made from ``values``; the result and x as it is after the call."""
    f = getattr(target.module(KATA), name)
    x = torch.tensor(values, dtype=getattr(torch, dtype))
    with watched_globals() as globals_, by_hand(KATA, name):
        y = f(x)
    return {"y": y, "x_after": tensor_state(x), "shared": shared_memory(y, x=x), "globals": globals_}


def elementwise_after_a_change(target: Target, name: str, values: Any, changed: Any, dtype: str) -> dict[str, Any]:
    """``name(x)``, then x changed in place to ``changed`` (the same object), then ``name(x)`` again."""
    f = getattr(target.module(KATA), name)
    x = torch.tensor(values, dtype=getattr(torch, dtype))
    with by_hand(KATA, name):
        first = f(x)
        first = first.clone() if isinstance(first, torch.Tensor) else first
        with torch.no_grad():
            x.copy_(torch.tensor(changed, dtype=x.dtype))
        second = f(x)
    return {"first": first, "second": second}


def on_floats(target: Target, name: str, values: list[float]) -> list[Any]:
    f = getattr(target.module(KATA), name)
    with by_hand(KATA, name):
        return [f(float(v)) for v in values]


def numerical_derivative(target: Target, fname: str, values: Any, h: float | None) -> dict[str, Any]:
    kata = target.module(KATA)
    x = torch.tensor(values, dtype=torch.float64)
    with watched_globals() as globals_:
        if h is None:
            y = kata.numerical_derivative(ONE[fname].torch, x)
        else:
            y = kata.numerical_derivative(ONE[fname].torch, x, h=h)
    return {"y": y, "x_after": tensor_state(x), "shared": shared_memory(y, x=x), "globals": globals_}


def numerical_derivative_on_floats(target: Target, values: list[float], h: float) -> list[Any]:
    """numerical_derivative(f, x, h) of f(x) = x³ at Python floats x; the results as they come."""
    kata = target.module(KATA)
    return [kata.numerical_derivative(ONE["cube"].torch, float(v), h=h) for v in values]


def autograd_through(target: Target, name: str, values: Any, dtype: str) -> dict[str, Any]:
    """``name(x)`` on a tensor that requires grad, and the gradient autograd finds through it."""
    x = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    y = getattr(target.module(KATA), name)(x)
    if not isinstance(y, torch.Tensor) or y.grad_fn is None:
        return {"y": y, "grad": None}
    (grad,) = torch.autograd.grad(y.sum(), x)
    return {"y": y, "grad": grad}
