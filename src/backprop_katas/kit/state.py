"""What a call leaves behind, as plain data: the probe's half of "no side effects".

A probe takes snapshots of the caller's tensors, of a network and of torch's
global state before and after the learner's call and returns them; the judge
compares them (:func:`backprop_katas.kit.judge.expect_untouched`, global state
as its ``torch_state``). Nothing here decides: a snapshot is values, version
counters and flags, never a verdict.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from backprop_katas.files import digest
from backprop_katas.kit.plain import tensor_to_numpy


def tensor_state(tensor: Any) -> dict[str, Any]:
    """A tensor's value, version counter, requires_grad flag and .grad (a non-tensor: its value)."""
    import torch

    if not isinstance(tensor, torch.Tensor):
        return {"value": tensor}
    grad = tensor.grad
    return {
        "value": tensor_to_numpy(tensor),
        "dtype": str(tensor.dtype).removeprefix("torch."),
        "version": int(tensor._version),
        "requires_grad": bool(tensor.requires_grad),
        "grad": None if grad is None else tensor_to_numpy(grad),
    }


def graph_state(value: Any) -> Any:
    """Whether a returned tensor still carries autograd's graph: ``{"requires_grad", "grad_fn"}`` (the
    node's class name or None); a list or tuple of them for a sequence; None for anything else."""
    import torch

    if isinstance(value, (list, tuple)):
        return [graph_state(v) for v in value]
    if not isinstance(value, torch.Tensor):
        return None
    node = value.grad_fn
    return {"requires_grad": bool(value.requires_grad), "grad_fn": None if node is None else type(node).__name__}


def module_state(module: Any) -> dict[str, dict[str, Any]]:
    """:func:`tensor_state` of every named parameter of a module."""
    return {name: tensor_state(p) for name, p in module.named_parameters()}


def global_state() -> dict[str, Any]:
    """torch's process-wide state a function could change: random generator, default dtype, grad mode."""
    import torch

    rng = torch.get_rng_state().numpy().tobytes()
    return {
        "rng": digest(rng)[:16],
        "default_dtype": str(torch.get_default_dtype()).removeprefix("torch."),
        "grad_enabled": bool(torch.is_grad_enabled()),
    }


@contextlib.contextmanager
def torch_modes_restored() -> Iterator[None]:
    """Put grad mode and default dtype back after the block, whatever learner code did inside it."""
    import torch

    grad_enabled, default_dtype = torch.is_grad_enabled(), torch.get_default_dtype()
    try:
        yield
    finally:
        torch.set_grad_enabled(grad_enabled)
        torch.set_default_dtype(default_dtype)


@contextlib.contextmanager
def watched_globals() -> Iterator[dict[str, Any]]:
    """Record :func:`global_state` before and after the block as ``{"before": ..., "after": ...}``.

    Afterwards grad mode and default dtype are put back, so a learner's
    ``torch.set_grad_enabled(False)`` is reported once, not felt by every later test.
    """
    record = {"before": global_state()}
    with torch_modes_restored():
        try:
            yield record
        finally:
            record["after"] = global_state()


def shared_memory(result: Any, **inputs: Any) -> list[list[str]]:
    """Pairs [what, other] of returned tensors that share memory with an input or with each other.

    ``result`` is a tensor or a tuple/list of tensors; the names are "result",
    "result[0]", ... and the keyword names of ``inputs``.
    """
    import torch

    def storage(t: Any) -> int | None:
        if not isinstance(t, torch.Tensor) or t.numel() == 0:
            return None
        return int(t.untyped_storage().data_ptr())

    outputs = (
        {f"result[{i}]": r for i, r in enumerate(result)} if isinstance(result, (tuple, list)) else {"result": result}
    )
    pairs: list[list[str]] = []
    seen = list(inputs.items())
    for name, value in outputs.items():
        ptr = storage(value)
        if ptr is not None:
            pairs += [[name, other] for other, o in seen if storage(o) == ptr]
        seen.append((name, value))
    return pairs


def typed(value: Any) -> dict[str, Any]:
    """A value with its exact type's name: plain data turns numpy and torch numbers into floats and arrays."""
    kind = type(value)
    module = kind.__module__.split(".")[0]
    return {"value": value, "type": kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"}
