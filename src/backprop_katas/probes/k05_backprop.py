"""Probes of k05 · Backpropagation by hand."""

from __future__ import annotations

from typing import Any

import torch

from .. import oracles as O
from ..loader import Target
from ..runner import forbid_autograd

KATA = "k05_backprop"
BY_HAND = ("manual_gradients",)


def manual_gradients(target: Target, params: dict[str, Any], x: Any, t: Any, dtype: str) -> dict[str, Any]:
    """manual_gradients on a Network holding ``params``: the gradients, and the parameters after the call."""
    net = O.network_from_params(params, dtype)
    xt = torch.tensor(x, dtype=getattr(torch, dtype))
    tt = torch.tensor(t, dtype=getattr(torch, dtype))
    with forbid_autograd(f"{KATA}.manual_gradients"):
        grads = target.module(KATA).manual_gradients(net, xt, tt)
    return {"grads": grads, "params_after": O.params_of(net)}


def sigmoid_function(target: Target, x: Any, grad_out: Any) -> dict[str, Any]:
    xt = torch.tensor(x, requires_grad=True)
    y = target.module(KATA).SigmoidFunction.apply(xt)
    if not isinstance(y, torch.Tensor) or y.grad_fn is None:
        return {"y": y, "grad": None}
    (grad,) = torch.autograd.grad(y, xt, torch.tensor(grad_out))
    return {"y": y, "grad": grad}


def gradcheck(target: Target, x: Any) -> dict[str, Any]:
    function = target.module(KATA).SigmoidFunction.apply
    try:
        return {"passed": bool(torch.autograd.gradcheck(function, (torch.tensor(x, requires_grad=True),))), "error": ""}
    except NotImplementedError:
        raise  # a stub: let the runner report it as one
    except RuntimeError as exc:  # GradcheckError is a RuntimeError, and so are shape errors in forward
        return {"passed": False, "error": str(exc)[:600]}
