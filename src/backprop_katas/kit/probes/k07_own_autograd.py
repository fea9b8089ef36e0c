"""Probes of k07 · TODO(katas new): the title."""

from __future__ import annotations

from typing import Any

import torch

from backprop_katas.kit.loader import Target
from backprop_katas.kit.state import tensor_state

KATA = "k07_own_autograd"
# The functions that must compute gradients by hand, without autograd ("Class.method" for a
# method): the source check (kit/shortcuts.py) and runner.by_hand read it here. TODO(katas new): keep
# it empty when autograd is allowed; else name them and call them `with by_hand(KATA, name):`.
BY_HAND: tuple[str, ...] = ()


def todo_function(target: Target, values: Any, dtype: str) -> dict[str, Any]:
    """``todo_function(x)`` on a tensor made from ``values``: what came back, and x after the call.

    TODO(katas new): one probe per way the tests call the learner's code; plain data back, never a verdict.
    """
    x = torch.tensor(values, dtype=getattr(torch, dtype))
    y = target.module(KATA).todo_function(x)
    return {"y": y, "x_after": tensor_state(x)}
