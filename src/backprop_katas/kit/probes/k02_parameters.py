"""Probes of k02 · Counting parameters."""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn as nn

from backprop_katas.kit.loader import Target
from backprop_katas.kit.state import global_state, module_state, tensor_state, typed, watched_globals

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
    """A stack of nn.Linear layers from a plain spec: sizes (0 allowed: a zero-width layer), bias flags,
    frozen flags, ties."""
    with warnings.catch_warnings():  # torch warns that initialising a zero-element weight does nothing
        warnings.simplefilter("ignore", UserWarning)
        layers = [
            nn.Linear(n_in, n_out, bias=bias)
            for n_in, n_out, bias in zip(spec["sizes"], spec["sizes"][1:], spec["bias"])
        ]
    for index in spec["frozen"]:
        for p in layers[index].parameters():
            p.requires_grad_(False)
    for a, b in spec["ties"]:  # layer b reuses layer a's weight tensor (same shape)
        layers[b].weight = layers[a].weight
    return nn.Sequential(*layers)


def count(target: Target, fn_name: str, spec: dict[str, Any]) -> Any:
    return getattr(target.module(KATA), fn_name)(build_module(spec))


class Scaled(nn.Module):
    """A module holding a parameter of its own (not in a child) beside a child layer."""

    def __init__(self, features: int, n_in: int, n_out: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(features))
        self.inner = nn.Linear(n_in, n_out)


def build_kind(kind: str, sizes: list[int], frozen: bool) -> nn.Module:
    """A module of another kind than a stack of nn.Linear, from its name and sizes; ``frozen``: its first
    child gets requires_grad=False."""
    a, b, c = sizes
    module: nn.Module
    if kind == "conv2d":  # Conv2d(a, b, kernel c): weight (b, a, c, c), bias (b,)
        module = nn.Sequential(nn.Conv2d(a, b, c), nn.ReLU())
    elif kind == "conv1d-no-bias":  # weight (b, a, c)
        module = nn.Sequential(nn.Conv1d(a, b, c, bias=False))
    elif kind == "embedding-tied-to-decoder":  # Embedding(a, b) shares its (a, b) weight with Linear(b, a)
        embedding, decoder = nn.Embedding(a, b), nn.Linear(b, a)
        decoder.weight = embedding.weight
        module = nn.Sequential(embedding, decoder)
    elif kind == "lstm":  # LSTM(a, b): 4b·a + 4b·b weights and two 4b biases
        module = nn.Sequential(nn.LSTM(a, b))
    elif kind == "own-parameter":  # a parameter of c elements on the module itself, beside a child Linear(a, b)
        module = Scaled(c, a, b)
    elif kind == "one-layer-used-twice":  # the same Linear(a, a) at two places, with a LayerNorm(a) between
        layer = nn.Linear(a, a)
        module = nn.Sequential(layer, nn.LayerNorm(a), layer)
    elif kind == "no-parameters":
        module = nn.Sequential(nn.ReLU(), nn.Sigmoid(), nn.Dropout())
    else:
        raise ValueError(kind)
    if frozen:
        for p in next(iter(module.children())).parameters():
            p.requires_grad_(False)
    return module


def count_kind(target: Target, fn_name: str, kind: str, sizes: list[int], frozen: bool) -> Any:
    return getattr(target.module(KATA), fn_name)(build_kind(kind, sizes, frozen))


def mlp_count(target: Target, sizes: list[int]) -> Any:
    return target.module(KATA).mlp_parameter_count(list(sizes))


def count_network(target: Target, sizes: list[int]) -> Any:
    kata = target.module(KATA)
    return kata.count_parameters(kata.Network(*sizes))


def count_contract(target: Target, fn_name: str, spec: dict[str, Any], batchnorm: bool) -> dict[str, Any]:
    """A count on a module whose parameters carry .grad (and, if asked, a BatchNorm with buffers):
    the count with its exact type, the module's parameters before and after, torch's global state."""
    layers: list[nn.Module] = list(build_module(spec).children())
    if batchnorm:
        layers.append(nn.BatchNorm1d(spec["sizes"][-1]))  # running_mean, running_var: buffers, not parameters
    module = nn.Sequential(*layers)
    trainable = [p for p in module.parameters() if p.requires_grad]
    if trainable:
        loss = torch.stack([p.sum() for p in trainable]).sum()
        loss.backward()  # type: ignore[no-untyped-call]  # every trainable parameter now holds a .grad
    before = module_state(module)
    with watched_globals() as globals_:
        count = getattr(target.module(KATA), fn_name)(module)
    return {"count": typed(count), "before": before, "after": module_state(module), "globals": globals_}


def mlp_count_contract(target: Target, sizes: list[int], as_tuple: bool) -> dict[str, Any]:
    """mlp_parameter_count on a list or a tuple: the count with its exact type, and the sizes after the call."""
    layer_sizes = tuple(sizes) if as_tuple else list(sizes)
    count = target.module(KATA).mlp_parameter_count(layer_sizes)
    return {"count": typed(count), "sizes_after": list(layer_sizes)}


def network_contract(target: Target, sizes: list[int], seed: int, x: Any, dtype: str) -> dict[str, Any]:
    """Network(*sizes) under a seed: the random state right after, then net(x) in ``dtype``
    (net.double() for float64), x after the call and torch's global state around it."""
    torch.manual_seed(seed)
    net = target.module(KATA).Network(*sizes)
    rng_after_init = global_state()["rng"]
    if dtype == "float64":
        net = net.double()
    xt = torch.tensor(x, dtype=getattr(torch, dtype))
    with watched_globals() as globals_:
        y = net(xt)
    return {
        "rng_after_init": rng_after_init,
        "params": {name: p for name, p in net.named_parameters()},
        "y": y,
        "x_after": tensor_state(xt),
        "globals": globals_,
    }


def count_after_a_change(target: Target, fn_name: str) -> dict[str, Any]:
    """``fn_name(net)``, then the same net grown by a layer and its first weight frozen, then again."""
    f = getattr(target.module(KATA), fn_name)
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    first = typed(f(net))
    net.append(nn.Linear(1, 4))  # the same object: 8 more parameters
    net[0].weight.requires_grad_(False)  # and its 6 first weights frozen
    return {"first": first, "second": typed(f(net))}
