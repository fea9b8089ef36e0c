"""Probes of k05 · Backpropagation by hand."""

from __future__ import annotations

from typing import Any

import torch

from backprop_katas.kit import oracles as O
from backprop_katas.kit.loader import Target
from backprop_katas.kit.runner import by_hand
from backprop_katas.kit.shortcuts import calls_by_hand
from backprop_katas.kit.state import module_state, tensor_state, watched_globals

KATA = "k05_backprop"
# The functions that must compute gradients by hand, without autograd ("Class.method" for a
# method): the source check (kit/shortcuts.py) and runner.by_hand read it here.
BY_HAND = ("manual_gradients", "SigmoidFunction.backward")


@calls_by_hand("manual_gradients")
def manual_gradients(target: Target, params: dict[str, Any], x: Any, t: Any, dtype: str) -> dict[str, Any]:
    """manual_gradients on a Network holding ``params``: the gradients, and the parameters after the call."""
    net = O.network_from_params(params, dtype)
    xt = torch.tensor(x, dtype=getattr(torch, dtype))
    tt = torch.tensor(t, dtype=getattr(torch, dtype))
    net_before = module_state(net)  # copying the weights in bumped their version counters
    with watched_globals() as globals_, by_hand(KATA, "manual_gradients"):
        grads = target.module(KATA).manual_gradients(net, xt, tt)
    return {
        "grads": grads,
        "params_after": O.params_of(net),
        "net_before": net_before,
        "net_after": module_state(net),
        "x_after": tensor_state(xt),
        "t_after": tensor_state(tt),
        "globals": globals_,
    }


@calls_by_hand("SigmoidFunction.backward")
def sigmoid_function(target: Target, x: Any, grad_out: Any) -> dict[str, Any]:
    """y = SigmoidFunction.apply(x), and ∂L/∂x = torch.autograd.grad(y, x, grad_out): the learner's backward in use."""
    xt = torch.tensor(x, requires_grad=True)
    y = target.module(KATA).SigmoidFunction.apply(xt)
    if not isinstance(y, torch.Tensor) or y.grad_fn is None:
        return {"y": y, "grad": None}
    (grad,) = torch.autograd.grad(y, xt, torch.tensor(grad_out))
    return {"y": y, "grad": grad}


@calls_by_hand("SigmoidFunction.backward")
def sigmoid_function_vjps(target: Target, x: Any, grad_outputs: list[Any]) -> dict[str, Any]:
    """y = SigmoidFunction.apply(x) in float64, and what SigmoidFunction.backward returns for each grad_output.

    backward is called as autograd calls it, with the node autograd recorded as its ctx, and
    its raw return value comes back: the judge checks its type, shape and dtype, and compares
    the vector-Jacobian products with its own finite differences (what gradcheck does).
    """
    function = target.module(KATA).SigmoidFunction
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = function.apply(xt)
    if not isinstance(y, torch.Tensor) or y.grad_fn is None:
        return {"y": y, "vjps": None}
    vjps = [function.backward(y.grad_fn, torch.tensor(g, dtype=torch.float64)) for g in grad_outputs]
    return {"y": y, "vjps": vjps}


@calls_by_hand("SigmoidFunction.backward")
def sigmoid_function_grad_output_after(target: Target, x: Any, grad_out: Any) -> dict[str, Any]:
    """torch.autograd.grad(y, x, g) through SigmoidFunction, and g as the caller has it after."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    g = torch.tensor(grad_out, dtype=torch.float64)
    y = target.module(KATA).SigmoidFunction.apply(xt)
    if not isinstance(y, torch.Tensor) or y.grad_fn is None:
        return {"grad": None, "g_after": tensor_state(g)}
    (grad,) = torch.autograd.grad(y, xt, g)
    return {"grad": grad, "g_after": tensor_state(g)}
