"""Probes of k06 · Training XOR."""

from __future__ import annotations

from typing import Any

import torch

from .. import oracles as O
from ..loader import Target
from ..runner import forbid_autograd
from ..shortcuts import BY_HAND as ALL_BY_HAND

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
