"""Inputs for kata tests: the shape/dtype grid and seeded random values (minitorch's strategies).

A kata test reads input → oracle → expect; this is the first third. Values are random
and seeded (a hard-coded answer cannot pass), negative ones included, drawn in float64
and rounded to the dtype under test, so the oracle sees exactly what the probe sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pytest

from backprop_katas.kit import oracles as O

DTYPES = ("float32", "float64")
SHAPES = [(), (1,), (9,), (3, 4), (2, 3, 5)]  # 0-d first: a scalar tensor is a shape too


def grid(shapes: Sequence[tuple[int, ...]] = SHAPES, dtypes: Sequence[str] = DTYPES) -> list[Any]:
    """``pytest.param(shape, dtype)`` for every pair, ids like ``float32-shape[3, 4]``: parametrize
    ``("shape", "dtype")`` with it."""
    return [pytest.param(s, d, id=f"{d}-shape{list(s)}") for s in shapes for d in dtypes]


def parts(names: Iterable[str]) -> list[Any]:
    """One ``pytest.param(name)`` per kata function, each marked as its own part (katas.toml weights):
    for a test parametrized over functions that are graded separately."""
    return [pytest.param(n, marks=pytest.mark.part(n), id=n) for n in names]


def seeded(
    seed: int, shape: tuple[int, ...], dtype: str = "float64", low: float = -5.0, high: float = 5.0
) -> np.ndarray:
    """Uniform values in [low, high) from ``seed``, rounded to ``dtype``."""
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def seeded_pair(
    seed: int, shape: tuple[int, ...], dtype: str = "float64", low: float = -4.0, high: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays (x, y) of one shape from one seeded generator, rounded to ``dtype``."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, shape).astype(dtype), rng.uniform(low, high, shape).astype(dtype)


def tol_for(dtype: str) -> O.Tol:
    """The tolerance of a value computed in ``dtype`` against a float64 oracle (see oracles.FD64, FLOAT32)."""
    return O.FD64 if dtype == "float64" else O.FLOAT32
