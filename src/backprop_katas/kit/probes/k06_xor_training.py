"""Probes of k06 · Training XOR."""

from __future__ import annotations

from typing import Any

import torch

from backprop_katas.kit import oracles as O
from backprop_katas.kit.loader import Target
from backprop_katas.kit.runner import by_hand
from backprop_katas.kit.state import module_state, shared_memory, tensor_state, watched_globals

KATA = "k06_xor_training"
# The functions that must compute gradients by hand, without autograd ("Class.method" for a
# method): the source check (kit/shortcuts.py) and runner.by_hand read it here.
BY_HAND = ("train_by_hand",)


def xor_data(target: Target) -> list[Any]:
    return list(target.module(KATA).xor_data())


def predict(target: Target, params: dict[str, Any], x: Any, dtype: str) -> Any:
    net = O.network_from_params(params, dtype)
    return target.module(KATA).predict(net, torch.tensor(x, dtype=getattr(torch, dtype)))


def train(
    target: Target,
    fn_name: str,
    params: dict[str, Any],
    x: Any,
    t: Any,
    steps: int | None,
    lr: float | None,
    log_every: int | None,
    dtype: str,
) -> dict[str, Any]:
    """``fn_name(net, x, t, steps=, lr=, log_every=)`` on a Network holding ``params`` (a None
    argument is left out: the trainer's default, the chapter's call with all three None), under
    autograd's refusal for the by-hand trainer: the log, the weights after, x and t after the call
    and torch's global state around it. One run gives everything a judge needs of it."""
    net = O.network_from_params(params, dtype)
    kind = getattr(torch, dtype)
    xt, tt = torch.tensor(x, dtype=kind), torch.tensor(t, dtype=kind)
    given = {k: v for k, v in (("steps", steps), ("lr", lr), ("log_every", log_every)) if v is not None}
    with watched_globals() as globals_, by_hand(KATA, fn_name):
        history = getattr(target.module(KATA), fn_name)(net, xt, tt, **given)
    return {
        "history": history,
        "params": O.params_of(net),
        "x_after": tensor_state(xt),
        "t_after": tensor_state(tt),
        "globals": globals_,
    }


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


def predict_after_a_change(target: Target, params: dict[str, Any], x: Any, dtype: str) -> dict[str, Any]:
    """predict(net, x), then the same net's output layer negated in place, then predict(net, x) again."""
    net = O.network_from_params(params, dtype)
    xt = torch.tensor(x, dtype=getattr(torch, dtype))
    kata = target.module(KATA)
    first = kata.predict(net, xt)
    first = first.clone() if isinstance(first, torch.Tensor) else first
    with torch.no_grad():
        net.linear_ho.weight.neg_()
        net.linear_ho.bias.neg_()
    return {"first": first, "second": kata.predict(net, xt)}


def train_from_stale_grads(
    target: Target, params: dict[str, Any], x: Any, t: Any, steps: int, lr: float, log_every: int, stale: float
) -> dict[str, Any]:
    """train(net, x, t, ...) on a network whose parameters arrive holding a stale .grad of ``stale``."""
    net = O.network_from_params(params, "float64")
    for p in net.parameters():
        p.grad = torch.full_like(p, stale)
    xt, tt = torch.tensor(x, dtype=torch.float64), torch.tensor(t, dtype=torch.float64)
    history = target.module(KATA).train(net, xt, tt, steps=steps, lr=lr, log_every=log_every)
    return {"history": history, "params": O.params_of(net)}
