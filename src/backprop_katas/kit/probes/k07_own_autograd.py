"""Probes of k07 · Your own autograd: expression graphs built from the learner's Value.

A graph travels as a program, plain data the test makes: one operation per node, each naming
earlier nodes by index (so a node can be used many times), the last node the output:

    ["leaf", 1.5]             a Value(1.5)
    ["add" | "sub" | "mul" | "div", i, j]    node i op node j
    ["addc" | "subc" | "mulc" | "divc", i, c]  node i op the number c  (v + 2)
    ["radd" | "rsub" | "rmul" | "rdiv", c, i]  the number c op node i  (2 * v)
    ["pow", i, n]             node i ** the number n
    ["sigmoid" | "exp" | "relu" | "log", i]

What comes back is each node's data and grad after ``backward()`` on the output (called
``times`` times), or the error the learner's code raised (its type and message).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from backprop_katas.kit.loader import Target
from backprop_katas.kit.runner import forbid_autograd

KATA = "k07_own_autograd"
# Value is the autograd here: the kata file may not import torch at all (kit/shortcuts.py reads
# WITHOUT_TORCH), and every call runs with autograd refused (forbid_autograd) for a readable message.
BY_HAND: tuple[str, ...] = ()
WITHOUT_TORCH = True

BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
}
# What a program may ask for, so that a learner's error is caught as data (not a probe's bug).
CAUGHT = (TypeError, AttributeError, RecursionError, ZeroDivisionError, ValueError, OverflowError)


def build(value: Callable[[float], Any], program: list[list[Any]]) -> list[Any]:
    """The program's nodes, made with the learner's Value."""
    nodes: list[Any] = []
    for op, *args in program:
        if op == "leaf":
            nodes.append(value(float(args[0])))
        elif op in BINARY:
            nodes.append(BINARY[op](nodes[args[0]], nodes[args[1]]))
        elif op.endswith("c") and op[:-1] in BINARY:
            nodes.append(BINARY[op[:-1]](nodes[args[0]], float(args[1])))
        elif op.startswith("r") and op[1:] in BINARY:
            nodes.append(BINARY[op[1:]](float(args[0]), nodes[args[1]]))
        elif op == "pow":
            nodes.append(nodes[args[0]] ** float(args[1]))
        else:
            nodes.append(getattr(nodes[args[0]], op)())
    return nodes


def _plain(number: Any) -> Any:
    return float(number) if isinstance(number, (int, float)) else repr(number)


def graph(target: Target, program: list[list[Any]], times: int = 1) -> dict[str, Any]:
    """Build ``program`` with the learner's Value, call ``backward()`` on its last node ``times`` times
    (0: only the forward pass), and return every node's data and grad, or the error raised."""
    module = target.module(KATA)
    try:
        with forbid_autograd(f"{KATA}.Value"):
            nodes = build(module.Value, program)
            for _ in range(times):
                nodes[-1].backward()
    except CAUGHT as exc:
        return {"error": {"type": type(exc).__name__, "message": str(exc)[:200]}, "data": None, "grads": None}
    return {
        "error": None,
        "data": [_plain(getattr(n, "data", None)) for n in nodes],
        "grads": [_plain(getattr(n, "grad", None)) for n in nodes],
    }


def chapter_z(target: Target, x: float, y: float) -> Any:
    """``chapter_z(x, y)``: what came back."""
    with forbid_autograd(f"{KATA}.chapter_z"):
        return target.module(KATA).chapter_z(float(x), float(y))


def xor_loss(target: Target, params: dict[str, Any], x: list[float], t: float) -> Any:
    """``xor_loss(params, x, t)`` on plain lists: what came back."""
    with forbid_autograd(f"{KATA}.xor_loss"):
        return target.module(KATA).xor_loss(params, [float(v) for v in x], float(t))
