"""Probes of k02 · Counting parameters."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from ..loader import Target

KATA = "k02_parameters"


def network(target: Target, sizes: list[int], seed: int, x: Any) -> dict[str, Any]:
    """``Network(*sizes)`` built under ``torch.manual_seed(seed)``: its classes, children, parameters and net(x)."""
    torch.manual_seed(seed)
    net = target.module(KATA).Network(*sizes)
    kinds = [f"{c.__module__}.{c.__qualname__}" for c in type(net).__mro__]
    if not isinstance(net, nn.Module):
        return {"kinds": kinds}
    with torch.no_grad():
        y = net(torch.tensor(x, dtype=torch.float32))
    return {
        "kinds": kinds,
        "children": [[name, type(m).__name__] for name, m in net.named_children()],
        "params": {name: p for name, p in net.named_parameters()},
        "y": y,
    }


def build_module(spec: dict[str, Any]) -> nn.Module:
    """A stack of nn.Linear layers from a plain spec: sizes, bias flags, frozen flags, ties."""
    layers = [
        nn.Linear(n_in, n_out, bias=bias) for n_in, n_out, bias in zip(spec["sizes"], spec["sizes"][1:], spec["bias"])
    ]
    for index in spec["frozen"]:
        for p in layers[index].parameters():
            p.requires_grad_(False)
    for a, b in spec["ties"]:  # layer b reuses layer a's weight tensor (same shape)
        layers[b].weight = layers[a].weight
    return nn.Sequential(*layers)


def count(target: Target, fn_name: str, spec: dict[str, Any]) -> Any:
    return getattr(target.module(KATA), fn_name)(build_module(spec))


def mlp_count(target: Target, sizes: list[int]) -> Any:
    return target.module(KATA).mlp_parameter_count(list(sizes))


def count_network(target: Target, sizes: list[int]) -> Any:
    kata = target.module(KATA)
    return kata.count_parameters(kata.Network(*sizes))
