"""The function zoo: functions with known derivatives, handed to learner code by name.

A probe gets a name (plain data) and hands the learner the torch function; the judge
takes the numpy twin and its derivative from the same entry, so what was called and
what it is checked against cannot drift apart (minitorch's ``testing.py`` does this
for its operators).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True)
class Fn:
    """f(x): the torch function a probe passes, its numpy twin and its derivative (elementwise)."""

    torch: Callable[[Any], Any]
    numpy: Callable[[np.ndarray], np.ndarray]
    prime: Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Fn2:
    """f(x, y): the torch function, its numpy twin and the partial derivatives ∂f/∂x, ∂f/∂y (elementwise)."""

    torch: Callable[[Any, Any], Any]
    numpy: Callable[[np.ndarray, np.ndarray], np.ndarray]
    dx: Callable[[np.ndarray, np.ndarray], np.ndarray]
    dy: Callable[[np.ndarray, np.ndarray], np.ndarray]


ONE: dict[str, Fn] = {
    "square": Fn(lambda x: x**2, lambda x: x**2, lambda x: 2 * x),
    "cube": Fn(lambda x: x**3, lambda x: x**3, lambda x: 3 * x**2),
    "cube_plus_x": Fn(lambda x: x**3 + x, lambda x: x**3 + x, lambda x: 3 * x**2 + 1),
    "sin": Fn(torch.sin, np.sin, np.cos),
    "exp": Fn(torch.exp, np.exp, np.exp),
}
TWO: dict[str, Fn2] = {
    "square_of_sum": Fn2(
        lambda x, y: (x + y) ** 2, lambda x, y: (x + y) ** 2, lambda x, y: 2 * (x + y), lambda x, y: 2 * (x + y)
    ),
    "product": Fn2(lambda x, y: x * y, lambda x, y: x * y, lambda x, y: y, lambda x, y: x),
    "mixed": Fn2(
        lambda x, y: torch.sin(x) * y**2 + x,
        lambda x, y: np.sin(x) * y**2 + x,
        lambda x, y: np.cos(x) * y**2 + 1,
        lambda x, y: 2 * np.sin(x) * y,
    ),
    "x_only": Fn2(lambda x, y: torch.exp(x), lambda x, y: np.exp(x), lambda x, y: np.exp(x), lambda x, y: 0 * y),
    "y_only": Fn2(lambda x, y: 3 * y, lambda x, y: 3 * y, lambda x, y: 0 * x, lambda x, y: 3 + 0 * y),
}
