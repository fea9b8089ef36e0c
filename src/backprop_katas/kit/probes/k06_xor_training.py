"""Probes of k06 · Training XOR."""

from __future__ import annotations

from typing import Any

import torch

from backprop_katas.kit import oracles as O
from backprop_katas.kit.loader import Target
from backprop_katas.kit.runner import forbid_autograd
from backprop_katas.kit.shortcuts import BY_HAND as ALL_BY_HAND
from backprop_katas.kit.state import module_state, shared_memory, tensor_state, watched_globals

KATA = "k06_xor_training"
BY_HAND = ALL_BY_HAND[KATA]


def xor_data(target: Target) -> list[Any]:
    return list(target.module(KATA).xor_data())


def predict(target: Target, params: dict[str, Any], x: Any, dtype: str) -> Any:
    net = O.network_from_params(params, dtype)
    return target.module(KATA).predict(net, torch.tensor(x, dtype=getattr(torch, dtype)))


def _call_trainer(target: Target, fn_name: str, net: Any, x: torch.Tensor, t: torch.Tensor, **kwargs: Any) -> Any:
    trainer = getattr(target.module(KATA), fn_name)
    if fn_name in BY_HAND:
        with forbid_autograd(f"{KATA}.{fn_name}"):
            return trainer(net, x, t, **kwargs)
    return trainer(net, x, t, **kwargs)


def train(
    target: Target,
    fn_name: str,
    params: dict[str, Any],
    x: Any,
    t: Any,
    steps: int,
    lr: float,
    log_every: int,
    dtype: str,
) -> dict[str, Any]:
    """``fn_name(net, x, t, steps=, lr=, log_every=)`` on a Network holding ``params``: the log and the weights after."""
    net = O.network_from_params(params, dtype)
    kind = getattr(torch, dtype)
    history = _call_trainer(target, fn_name, net, torch.tensor(x, dtype=kind), torch.tensor(t, dtype=kind),
                            steps=steps, lr=lr, log_every=log_every)  # fmt: skip
    return {"history": history, "params": O.params_of(net)}


def chapter(target: Target, fn_name: str) -> dict[str, Any]:
    """The chapter's setup: seed 70, one Network built and discarded (code 2-16), then the trained one.

    The trainer is called with its defaults, which must be the chapter's: 10001 steps, lr 0.5, log every 1000.
    """
    torch.manual_seed(70)
    O.oracle_network(2, 2, 1)
    net = O.oracle_network(2, 2, 1)
    x = torch.tensor(O.XOR_X, dtype=torch.float32)
    t = torch.tensor(O.XOR_T, dtype=torch.float32)
    history = _call_trainer(target, fn_name, net, x, t)
    return {"history": history, "params": O.params_of(net)}


def xor_data_twice(target: Target) -> dict[str, Any]:
    """xor_data() twice, the first pair changed in place in between (a caller may do that)."""
    kata = target.module(KATA)
    first = list(kata.xor_data())
    for tensor in first:
        if isinstance(tensor, torch.Tensor):
            tensor.add_(7)
    second = list(kata.xor_data())
    return {
        "second": second,
        "shared": shared_memory(second, x_of_the_first_call=first[0], t_of_the_first_call=first[1]),
    }


def predict_contract(target: Target, params: dict[str, Any], x: Any, dtype: str) -> dict[str, Any]:
    """predict(net, x) and what it left behind: the network, x, torch's global state."""
    net = O.network_from_params(params, dtype)
    xt = torch.tensor(x, dtype=getattr(torch, dtype))
    net_before = module_state(net)
    with watched_globals() as globals_:
        prediction = target.module(KATA).predict(net, xt)
    return {
        "prediction": prediction,
        "net_before": net_before,
        "net_after": module_state(net),
        "x_after": tensor_state(xt),
        "globals": globals_,
    }


def train_contract(
    target: Target,
    fn_name: str,
    params: dict[str, Any],
    x: Any,
    t: Any,
    steps: int,
    lr: float,
    log_every: int,
    dtype: str,
) -> dict[str, Any]:
    """Like :func:`train`, and what the trainer left behind: x and t after it, torch's global state."""
    net = O.network_from_params(params, dtype)
    kind = getattr(torch, dtype)
    xt, tt = torch.tensor(x, dtype=kind), torch.tensor(t, dtype=kind)
    with watched_globals() as globals_:
        history = _call_trainer(target, fn_name, net, xt, tt, steps=steps, lr=lr, log_every=log_every)
    return {
        "history": history,
        "params": O.params_of(net),
        "x_after": tensor_state(xt),
        "t_after": tensor_state(tt),
        "globals": globals_,
    }


def chapter_from_seed(target: Target, fn_name: str, seed: int) -> dict[str, Any]:
    """The chapter's exact call, ``fn_name(net, x, t)`` with its defaults on the XOR data, from a Network
    built under another seed: the log and the weights after."""
    torch.manual_seed(seed)
    net = O.oracle_network(2, 2, 1)
    x = torch.tensor(O.XOR_X, dtype=torch.float32)
    t = torch.tensor(O.XOR_T, dtype=torch.float32)
    history = _call_trainer(target, fn_name, net, x, t)
    return {"history": history, "params": O.params_of(net)}
