"""Probes of k01 · Derivatives."""

from __future__ import annotations

from typing import Any

import torch

from ..loader import Target

KATA = "k01_derivatives"

# Functions handed to numerical_derivative, by name (the judge knows their exact derivatives).
TEST_FUNCTIONS: dict[str, Any] = {"cube": lambda x: x**3, "sin": torch.sin, "exp": torch.exp}


def elementwise(target: Target, name: str, values: Any, dtype: str) -> dict[str, Any]:
    """``name(x)`` on a tensor made from ``values``; the result and x as it is after the call."""
    f = getattr(target.module(KATA), name)
    x = torch.tensor(values, dtype=getattr(torch, dtype))
    y = f(x)
    return {"y": y, "x_after": x}


def on_floats(target: Target, name: str, values: list[float]) -> list[Any]:
    f = getattr(target.module(KATA), name)
    return [f(float(v)) for v in values]


def numerical_derivative(target: Target, fname: str, values: Any, h: float | None) -> dict[str, Any]:
    kata = target.module(KATA)
    x = torch.tensor(values, dtype=torch.float64)
    if h is None:
        y = kata.numerical_derivative(TEST_FUNCTIONS[fname], x)
    else:
        y = kata.numerical_derivative(TEST_FUNCTIONS[fname], x, h=h)
    return {"y": y, "x_after": x}
