"""Probes of k03 · The computation graph."""

from __future__ import annotations

from typing import Any

import torch

from backprop_katas.kit.loader import Target
from backprop_katas.kit.runner import by_hand
from backprop_katas.kit.shortcuts import calls_by_hand
from backprop_katas.kit.state import shared_memory, tensor_state, typed, watched_globals

KATA = "k03_computation_graph"
# The functions that must compute gradients by hand, without autograd ("Class.method" for a
# method): the source check (kit/shortcuts.py) and runner.by_hand read it here.
BY_HAND = ("z_prime", "t_prime", "backward", "gradients")


def call(target: Target, name: str, arrays: list[Any], dtype: str) -> Any:
    """Kata function ``name`` on tensors made from ``arrays`` (autograd refused for the by-hand ones)."""
    fn = getattr(target.module(KATA), name)
    tensors = [torch.tensor(a, dtype=getattr(torch, dtype)) for a in arrays]
    with by_hand(KATA, name):
        return fn(*tensors)


def on_floats(target: Target, name: str, values: list[float]) -> Any:
    fn = getattr(target.module(KATA), name)
    with by_hand(KATA, name):
        return fn(*[float(v) for v in values])


@calls_by_hand("t_prime")
def t_prime(target: Target) -> Any:
    with by_hand(KATA, "t_prime"):
        return target.module(KATA).t_prime()


def call_contract(target: Target, name: str, arrays: list[Any], dtype: str) -> dict[str, Any]:
    """Like :func:`call`, and what the call left behind: the inputs after it, returned tensors that share
    memory with an input or with each other, torch's global state around it."""
    fn = getattr(target.module(KATA), name)
    tensors = [torch.tensor(a, dtype=getattr(torch, dtype)) for a in arrays]
    with watched_globals() as globals_, by_hand(KATA, name):
        result = fn(*tensors)
    names = "xy" if len(tensors) == 2 else "t" if name in ("z_function", "z_prime", "backward") else "x"
    return {
        "result": result,
        "inputs_after": [tensor_state(t) for t in tensors],
        "shared": shared_memory(result, **dict(zip(names, tensors))),
        "globals": globals_,
    }


@calls_by_hand("t_prime")
def t_prime_typed(target: Target) -> dict[str, Any]:
    """t_prime() with its exact type's name."""
    with by_hand(KATA, "t_prime"):
        return typed(target.module(KATA).t_prime())
