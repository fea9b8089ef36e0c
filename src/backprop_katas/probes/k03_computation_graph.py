"""Probes of k03 · The computation graph."""

from __future__ import annotations

from typing import Any

import torch

from ..loader import Target
from ..runner import forbid_autograd
from ..shortcuts import BY_HAND as ALL_BY_HAND
from ..shortcuts import calls_by_hand

KATA = "k03_computation_graph"
BY_HAND = ALL_BY_HAND[KATA]  # the functions that must not use autograd


def call(target: Target, name: str, arrays: list[Any], dtype: str) -> Any:
    """Kata function ``name`` on tensors made from ``arrays`` (autograd refused for the by-hand ones)."""
    fn = getattr(target.module(KATA), name)
    tensors = [torch.tensor(a, dtype=getattr(torch, dtype)) for a in arrays]
    if name in BY_HAND:
        with forbid_autograd(f"{KATA}.{name}"):
            return fn(*tensors)
    return fn(*tensors)


def on_floats(target: Target, name: str, values: list[float]) -> Any:
    fn = getattr(target.module(KATA), name)
    if name in BY_HAND:
        with forbid_autograd(f"{KATA}.{name}"):
            return fn(*[float(v) for v in values])
    return fn(*[float(v) for v in values])


@calls_by_hand("t_prime")
def t_prime(target: Target) -> Any:
    with forbid_autograd(f"{KATA}.t_prime"):
        return target.module(KATA).t_prime()
