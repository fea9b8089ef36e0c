"""Plain data: the only things that cross from a probe (learner code) to a judge.

Numbers, strings, booleans, None, lists, dicts with string keys and numpy
arrays of numbers or booleans. A tensor becomes a numpy array of the same
dtype and shape; anything else becomes an :class:`Unplain` record (its type
name and a short repr) so the judge can say "you returned a Network, not a
tensor" without ever touching the object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

try:  # torch is always present in the project, but plain data must not need it
    import torch
except ImportError:  # pragma: no cover
    torch = None  # type: ignore[assignment]

REPR_LIMIT = 200


@dataclass(frozen=True)
class Unplain:
    """A value that is not plain data: only its type name and a short repr cross."""

    type: str
    repr: str


def tensor_to_numpy(value: Any) -> np.ndarray:
    tensor = value.detach().cpu()
    if tensor.dtype == torch.bfloat16 or tensor.dtype == torch.float16:
        tensor = tensor.float()
    return np.array(tensor.numpy(), copy=True)


def to_plain(value: Any, depth: int = 0) -> Any:
    """Convert a probe's result to plain data (copies: later mutation cannot reach it)."""
    if depth > 20:
        return Unplain("deeply nested", "nesting deeper than 20 levels")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if torch is not None and isinstance(value, torch.Tensor):
        return tensor_to_numpy(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return np.array(value, copy=True)
        return Unplain(f"ndarray[{value.dtype}]", repr(value)[:REPR_LIMIT])
    if isinstance(value, (list, tuple)):
        return [to_plain(v, depth + 1) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: to_plain(v, depth + 1) for k, v in value.items()}
    try:
        text = repr(value)[:REPR_LIMIT]
    except Exception as exc:  # a learner's __repr__ may raise
        text = f"<repr failed: {type(exc).__name__}>"
    return Unplain(type(value).__name__, text)
