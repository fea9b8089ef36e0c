"""The judging half of a kata test: compare plain data with an oracle, explain failures.

Every check fails through :func:`fail` with a message written for a learner:
what was called, what came back, what was expected, the worst element and,
when the numbers show a known pattern, the likely cause.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
import pytest

from .messages import Msg, msg, say
from .oracles import Tol
from .plain import Unplain

FLOAT_DTYPES = ("float32", "float64")


CAUSES_ATTRIBUTE = "katas_causes"  # on the failure exception: the likely causes' message keys


def fail(*parts: str, causes: Sequence[Msg] = ()) -> NoReturn:
    """Fail the test with a learner's message (no Python traceback of the judge).

    ``causes`` (the likely causes named in the message) travel with the failure as message
    keys, so the grader can count them without reading rendered sentences.
    """
    try:
        pytest.fail("\n".join(p for p in parts if p), pytrace=False)
    except pytest.fail.Exception as failure:
        setattr(failure, CAUSES_ATTRIBUTE, [cause_key(c) for c in causes])
        raise


def cause_key(cause: Msg) -> str:
    """``cause_for`` wraps the cause of one parameter: the inner key is the cause."""
    inner = cause.fields.get("cause")
    return inner.key if cause.key == "cause_for" and isinstance(inner, Msg) else cause.key


def _fmt(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= 8:
            return np.array2string(value, precision=6, separator=", ")
        return f"array of shape {tuple(value.shape)}"
    if isinstance(value, float):
        return f"{value:.8g}"
    if isinstance(value, Unplain):
        return f"a {value.type} ({value.repr})"
    return repr(value)


def kind_of(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a tensor of dtype {value.dtype} and shape {tuple(value.shape)}"
    if isinstance(value, Unplain):
        return f"a {value.type}"
    if value is None:
        return "None"
    return f"a {type(value).__name__} ({_fmt(value)})"


def expect_array(value: Any, call: str, what: str, shape: Sequence[int] | None, dtype: str | None) -> np.ndarray:
    """Shape and dtype first: the value must be a tensor (array) of this shape and dtype."""
    if not isinstance(value, np.ndarray):
        expected = f"a tensor of shape {tuple(shape) if shape is not None else '(any)'}"
        fail(say("called", call=call), say("wrong_type", got=kind_of(value), expected=expected))
    if shape is not None and tuple(value.shape) != tuple(shape):
        fail(say("called", call=call), say("wrong_shape", what=what, got=tuple(value.shape), expected=tuple(shape)))
    if dtype is not None and str(value.dtype) != dtype:
        fail(say("called", call=call), say("wrong_dtype", what=what, got=value.dtype, expected=dtype))
    return value


def expect_number(value: Any, call: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, np.ndarray) and value.size == 1:
            return float(value.reshape(()))
        fail(say("called", call=call), say("wrong_type", got=kind_of(value), expected="a number"))
    return float(value)


def expect_equal(got: Any, expected: Any, call: str, what: str) -> None:
    same = np.array_equal(got, expected) if isinstance(got, np.ndarray) else got == expected
    if not same:
        fail(say("called", call=call), say("not_equal", what=what, got=_fmt(got), expected=_fmt(expected)))


def relative_error(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return np.abs(got - expected) / np.maximum(np.abs(expected), 1e-12)


def _worst(got: np.ndarray, expected: np.ndarray, tol: Tol) -> tuple[tuple[int, ...], float]:
    excess = np.abs(got - expected) - (tol.atol + tol.rtol * np.abs(expected))
    index = np.unravel_index(int(np.argmax(excess)), expected.shape) if expected.ndim else ()
    rel = float(relative_error(np.asarray(got[index]), np.asarray(expected[index])))
    return tuple(int(i) for i in index), rel


def diagnose(
    got: np.ndarray,
    expected: np.ndarray,
    batch: int | None = None,
    candidates: Mapping[str, np.ndarray] | None = None,
) -> list[Msg]:
    """Name the likely causes of a wrong result, recognised from the numbers alone.

    ``candidates`` maps a cause key to what a learner making exactly that
    mistake would have returned (computed by the oracle).
    """
    causes: list[Msg] = []
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)

    def matches(a: np.ndarray, b: np.ndarray) -> bool:
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-4, atol=1e-7))

    # A named candidate is the exact result of one mistake: when it matches, it is the
    # explanation, and a generic ratio that happens to agree (a reset between two
    # backward() calls halves the gradient) would only mislead.
    named = [
        msg(key)
        for key, candidate in (candidates or {}).items()
        if matches(got, np.asarray(candidate, dtype=np.float64)) and not matches(got, expected)
    ]
    if named:
        return named
    if got.shape == expected.shape and np.any(np.abs(expected) > 1e-6):
        ratios = {
            "cause_factor_2": 2.0,
            "cause_half": 0.5,
            "cause_sign": -1.0,
        }
        if batch and batch > 2:
            ratios["cause_missing_mean"] = float(batch)
            ratios["cause_extra_mean"] = 1.0 / batch
        for key, ratio in ratios.items():
            if matches(got, ratio * expected):
                causes.append(msg(key, n=batch))
    if got.ndim == 2 and matches(got, expected.T) and not matches(got, expected):
        causes.append(msg("cause_transposed"))
    if batch and got.shape == (batch, *expected.shape) and matches(got.sum(axis=0), expected):
        causes.append(msg("cause_not_summed"))
    return causes


def expect_close(
    got: Any,
    expected: np.ndarray | float,
    tol: Tol,
    call: str,
    what: str = "The result",
    dtype: str | None = None,
    batch: int | None = None,
    candidates: Mapping[str, np.ndarray] | None = None,
) -> None:
    """``got`` must be a tensor (or number) of ``expected``'s shape, within ``tol`` of it."""
    expected_arr = np.asarray(expected, dtype=np.float64)
    if isinstance(expected, np.ndarray):
        got_arr = expect_array(got, call, what, expected_arr.shape, dtype)
    else:
        got_arr = np.asarray(expect_number(got, call))
    got64 = got_arr.astype(np.float64)
    if not np.all(np.isfinite(got64)):
        fail(say("called", call=call), say("not_finite", what=what))
    if np.allclose(got64, expected_arr, rtol=tol.rtol, atol=tol.atol):
        return
    index, rel = _worst(got64, expected_arr, tol)
    numbers = {"got": f"{got64[index]:.8g}", "expected": f"{expected_arr[index]:.8g}", "rel": rel}
    numbers.update(rtol=tol.rtol, atol=tol.atol)
    if index:
        mismatch = say("not_close", what=what, index=list(index), **numbers)
    else:
        mismatch = say("not_close_scalar", what=what, **numbers)
    lines = [say("called", call=call), mismatch]
    causes = diagnose(got64, expected_arr, batch, candidates)
    lines += [say("likely_cause", cause=c) for c in causes]
    fail(*lines, causes=causes)


def gradient_table(name: str, got: np.ndarray, expected: np.ndarray, rows: int = 3) -> str:
    """A small table for one parameter: yours, numerical, relative error; worst elements first."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    rel = relative_error(got, expected).reshape(-1)
    order = np.argsort(-rel, kind="stable")[:rows]
    lines = [say("table_header", name=name), f"    {'index':<10}{'yours':>16}{'numerical':>16}{'rel. error':>13}"]
    for flat in order:
        index = np.unravel_index(int(flat), expected.shape) if expected.ndim else ()
        label = str(tuple(int(i) for i in index)) if index else "()"
        lines.append(f"    {label:<10}{got[index]:>16.8g}{expected[index]:>16.8g}{rel[flat]:>13.2e}")
    return "\n".join(lines)


def expect_gradients(
    got: Any,
    expected: Mapping[str, np.ndarray],
    tol: Tol,
    call: str,
    dtype: str | None = None,
    batch: int | None = None,
    candidates: Mapping[str, Mapping[str, np.ndarray]] | None = None,
) -> None:
    """A dict of gradients, one per parameter name: names, then shapes, then values with a table."""
    if isinstance(got, list) and len(got) == len(expected) and not isinstance(expected, list):
        got = dict(zip(expected, got))  # a tuple in parameter order is as good as a dict
    if not isinstance(got, dict):
        fail(
            say("called", call=call),
            say("wrong_type", got=kind_of(got), expected=f"a dict with keys {sorted(expected)}"),
        )
    if sorted(got) != sorted(expected):
        fail(
            say("called", call=call),
            say("not_equal", what="The dict's keys", got=sorted(got), expected=sorted(expected)),
        )
    bad: list[str] = []
    causes: list[Msg] = []
    for name, exp in expected.items():
        g = got[name]
        if isinstance(g, np.ndarray) and batch and g.shape == (batch, *exp.shape):
            causes += [msg("cause_for", name=name, cause=c) for c in diagnose(g, exp, batch)]
            bad.append(say("wrong_shape", what=name, got=tuple(g.shape), expected=tuple(exp.shape)))
            continue
        if isinstance(g, np.ndarray) and g.ndim == 2 and g.shape == exp.T.shape and g.shape != exp.shape:
            causes += [msg("cause_for", name=name, cause=c) for c in diagnose(g, exp, batch)]
            bad.append(say("wrong_shape", what=name, got=tuple(g.shape), expected=tuple(exp.shape)))
            continue
        arr = expect_array(g, call, name, exp.shape, dtype).astype(np.float64)
        if not np.all(np.isfinite(arr)):
            bad.append(say("not_finite", what=name))
            continue
        if not np.allclose(arr, exp, rtol=tol.rtol, atol=tol.atol):
            bad.append(gradient_table(name, arr, exp))
            causes += [
                msg("cause_for", name=name, cause=c) for c in diagnose(arr, exp, batch, (candidates or {}).get(name))
            ]
    if bad:
        fail(say("called", call=call), *bad, *[say("likely_cause", cause=c) for c in causes], causes=causes)
