"""The judging half of a kata test: compare plain data with an oracle, explain failures.

Every check fails through :func:`fail` with a failure kept as data
(:class:`~backprop_katas.kit.failure.Failure`): what was called, what came back, what was
expected, the worst element, the per-parameter tables, the likely causes as keys, and where
the learner's value was made (the probe's record). It is rendered for a learner only at the
edge: pytest's text, ``katas``, the notebook, grading feedback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np

from backprop_katas.kit.call import Call
from backprop_katas.kit.failure import CAUSES_ATTRIBUTE as CAUSES_ATTRIBUTE  # the grader reads it from here
from backprop_katas.kit.failure import TABLE_COLUMNS as TABLE_COLUMNS
from backprop_katas.kit.failure import Failure, call_data
from backprop_katas.kit.failure import JudgeFailed as JudgeFailed
from backprop_katas.kit.failure import render_table as render_table_data
from backprop_katas.kit.mistakes import BATCH_PATTERNS, PATTERNS, constant_offset, transposed
from backprop_katas.kit.oracles import Tol
from backprop_katas.kit.plain import Unplain
from backprop_katas.kit.runner import last_where
from backprop_katas.lang import Msg, current, msg

FLOAT_DTYPES = ("float32", "float64")

CallLike = Call | Msg | str  # a plain string is code, shown as it is in every language
Part = Msg | str


def fail(
    *parts: Part,
    causes: Sequence[Msg] = (),
    tables: Sequence[dict[str, Any]] = (),
    call: CallLike | None = None,
    got: Any = None,
    expected: Any = None,
    worst: dict[str, Any] | None = None,
) -> NoReturn:
    """Fail the test with a learner's message, kept as data (:class:`~backprop_katas.kit.failure.Failure`).

    ``parts`` are messages (``msg(...)``, rendered later in the language asked for; a ``str`` is
    shown as it is). A ``called`` part is the call, a ``likely_cause`` part is a cause (as are
    ``causes``); the rest are the findings, in order. ``tables`` (:func:`gradient_rows`) are data.
    The place to edit is the last probe call's record (:func:`backprop_katas.kit.runner.last_where`)."""
    lines: list[Msg | str] = []
    all_causes: list[Msg] = []
    for part in parts:
        if isinstance(part, Msg) and part.key == "called" and call is None:
            call = part.fields.get("call")  # type: ignore[assignment]
        elif isinstance(part, Msg) and part.key == "likely_cause" and isinstance(part.fields.get("cause"), Msg):
            all_causes.append(part.fields["cause"])  # type: ignore[arg-type]
        elif part:
            lines.append(part)
    all_causes += [c for c in causes if c not in all_causes]
    where = last_where()
    failure = Failure(
        kind="judge",
        call=call_data(call, where) if call is not None else None,
        lines=lines,
        got=_data(got),
        expected=_data(expected),
        worst=worst,
        tables=[{"name": t["name"], "columns": list(TABLE_COLUMNS), "rows": t["rows"]} for t in tables],
        causes=[(cause_key(c), _param(c), c) for c in all_causes],
        where=where,
    )
    raise JudgeFailed(failure)


def _param(cause: Msg) -> str | None:
    name = cause.fields.get("name")
    return str(name) if cause.key == "cause_for" and name is not None else None


def _data(value: Any) -> Any:
    """What came back or was expected, as JSON: small arrays as lists, large ones by shape and dtype."""
    if isinstance(value, np.ndarray):
        if value.size <= 16:
            return {"shape": list(value.shape), "dtype": str(value.dtype), "values": value.tolist()}
        return {"shape": list(value.shape), "dtype": str(value.dtype)}
    if isinstance(value, Unplain):
        return {"type": value.type, "repr": value.repr}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _data(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def cause_key(cause: Msg) -> str:
    """``cause_for`` wraps the cause of one parameter: the inner key is the cause."""
    inner = cause.fields.get("cause")
    return inner.key if cause.key == "cause_for" and isinstance(inner, Msg) else cause.key


def _fmt(value: Any) -> Part:
    if isinstance(value, np.ndarray):
        if value.size <= 8:
            return np.array2string(value, precision=6, separator=", ")
        return msg("kind_array", shape=tuple(value.shape))
    if isinstance(value, float):
        return f"{value:.8g}"
    if isinstance(value, Unplain):
        return msg("kind_value", type=value.type, value=value.repr)
    return repr(value)


def kind_of(value: Any) -> Part:
    if isinstance(value, np.ndarray):
        return msg("kind_tensor", dtype=str(value.dtype), shape=tuple(value.shape))
    if isinstance(value, Unplain):
        return msg("kind_of_type", type=value.type)
    if value is None:
        return "None"
    return msg("kind_value", type=type(value).__name__, value=_fmt(value))


def expect_array(value: Any, call: CallLike, what: Part, shape: Sequence[int] | None, dtype: str | None) -> np.ndarray:
    """Shape and dtype first: the value must be a tensor (array) of this shape and dtype."""
    if not isinstance(value, np.ndarray):
        expected = (
            msg("expected_tensor_of_shape", shape=tuple(shape))
            if shape is not None
            else msg("expected_tensor_any_shape")
        )
        fail(msg("called", call=call), msg("wrong_type", got=kind_of(value), expected=expected), got=value)
    if shape is not None and tuple(value.shape) != tuple(shape):
        fail(
            msg("called", call=call),
            msg("wrong_shape", what=what, got=tuple(value.shape), expected=tuple(shape)),
            got={"shape": list(value.shape)},
            expected={"shape": list(shape)},
        )
    if dtype is not None and str(value.dtype) != dtype:
        fail(
            msg("called", call=call),
            msg("wrong_dtype", what=what, got=value.dtype, expected=dtype),
            got={"dtype": str(value.dtype)},
            expected={"dtype": dtype},
        )
    return value


def expect_number(value: Any, call: CallLike) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, np.ndarray) and value.size == 1:
            return float(value.reshape(()))
        wrong = msg("wrong_type", got=kind_of(value), expected=msg("expected_number"))
        fail(msg("called", call=call), wrong, got=value)
    return float(value)


def expect_equal(
    got: Any, expected: Any, call: CallLike, what: Part, candidates: Mapping[str, Any] | None = None
) -> None:
    """``got`` equals ``expected``; ``candidates`` maps a cause key to what that mistake gives (named when equal)."""

    def same(a: Any, b: Any) -> bool:
        return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) else bool(a == b)

    if not same(got, expected):
        named = (candidates or {}).items()
        causes = [msg(key) for key, value in named if same(got, value) and not same(value, expected)]
        fail(
            msg("called", call=call),
            msg("not_equal", what=what, got=_fmt(got), expected=_fmt(expected)),
            causes=causes,
            got=got,
            expected=expected,
        )


def expect_no_error(error: Mapping[str, str] | None, call: CallLike, causes: Mapping[str, str] | None = None) -> None:
    """The probe caught an error the learner's code raised (``{"type", "message"}``, or None): fail,
    naming the cause ``causes`` gives for its type (a catalogue key)."""
    if error is None:
        return
    cause = (causes or {}).get(error["type"])
    likely = [msg("likely_cause", cause=msg(cause))] if cause else []
    fail(msg("called", call=call), msg("raised", type=error["type"]), error["message"], *likely)


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
    letter: str = "N",
) -> list[Msg]:
    """Name the likely causes of a wrong result, recognised from the numbers alone.

    ``candidates`` maps a cause key to what a learner making exactly that
    mistake would have returned (a model of :mod:`backprop_katas.kit.mistakes`); the
    patterns tried on every value are ``mistakes.PATTERNS``. ``letter`` is what the kata's
    docstring calls the count the mean divides by (k05: M, the number of outputs).
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
        for key, model in PATTERNS.items():
            if key in BATCH_PATTERNS and not (batch and batch > 2):
                continue  # for N ≤ 2 a missing or extra 1/N is the factor 2 or the half
            if matches(got, model(expected, batch)):
                causes.append(msg(key, n=batch, letter=letter) if key in BATCH_PATTERNS else msg(key))
    shift = constant_offset(got, expected) if not causes and got.shape == expected.shape else None
    if shift is not None:
        causes.append(msg("cause_offset", offset=f"{shift:+.6g}"))
    if got.ndim == 2 and matches(got, transposed(expected)) and not matches(got, expected):
        causes.append(msg("cause_transposed"))
    if batch and got.shape == (batch, *expected.shape) and matches(got.sum(axis=0), expected):
        causes.append(msg("cause_not_summed"))  # any split over the examples, mistakes.not_summed among them
    return causes


def expect_close(
    got: Any,
    expected: np.ndarray | float,
    tol: Tol,
    call: CallLike,
    what: Part = "The result",
    dtype: str | None = None,
    batch: int | None = None,
    candidates: Mapping[str, np.ndarray] | None = None,
    nonfinite_cause: str | None = None,
    inputs: tuple[str, np.ndarray] | None = None,
) -> None:
    """``got`` must be a tensor (or number) of ``expected``'s shape, within ``tol`` of it.

    ``nonfinite_cause`` names the likely cause (a messages key) when ``got`` holds NaN or
    infinity where every expected value is finite. ``inputs`` (a name and the elementwise input
    the values came from) makes the message say the input at the worst element: the learner's
    function may have no derivative there.
    """
    expected_arr = np.asarray(expected, dtype=np.float64)
    if isinstance(expected, np.ndarray):
        got_arr = expect_array(got, call, what, expected_arr.shape, dtype)
    else:
        got_arr = np.asarray(expect_number(got, call))
    got64 = got_arr.astype(np.float64)
    if not np.all(np.isfinite(got64)):
        cause = [msg("likely_cause", cause=msg(nonfinite_cause))] if nonfinite_cause else []
        fail(msg("called", call=call), msg("not_finite", what=what), *cause, got=got_arr)
    if np.allclose(got64, expected_arr, rtol=tol.rtol, atol=tol.atol):
        return
    index, rel = _worst(got64, expected_arr, tol)
    numbers: dict[str, Any] = {"got": f"{got64[index]:.8g}", "expected": f"{expected_arr[index]:.8g}", "rel": rel}
    numbers.update(rtol=tol.rtol, atol=tol.atol)
    if index:
        mismatch = msg("not_close", what=what, index=list(index), **numbers)
    else:
        mismatch = msg("not_close_scalar", what=what, **numbers)
    at: list[Part] = []
    if inputs is not None and np.shape(inputs[1]) == expected_arr.shape:
        at = [msg("worst_input", name=inputs[0], value=_fmt(float(np.asarray(inputs[1])[index])))]
    causes = diagnose(got64, expected_arr, batch, candidates)
    worst = {
        "index": list(index),
        "got": float(got64[index]),
        "expected": float(expected_arr[index]),
        "rel": rel,
        "rtol": tol.rtol,
        "atol": tol.atol,
    }
    fail(msg("called", call=call), mismatch, *at, causes=causes, got=got_arr, expected=expected_arr, worst=worst)


def gradient_rows(name: str, got: np.ndarray, expected: np.ndarray, rows: int = 3) -> dict[str, Any]:
    """One parameter's table as data: title, columns, rows (index, yours, numerical, rel. error), worst first."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    rel = relative_error(got, expected).reshape(-1)
    order = np.argsort(-rel, kind="stable")[:rows]
    body = []
    for flat in order:
        index = np.unravel_index(int(flat), expected.shape) if expected.ndim else ()
        label = str(tuple(int(i) for i in index)) if index else "()"
        body.append([label, float(got[index]), float(expected[index]), float(rel[flat])])
    return {"name": name, "columns": list(TABLE_COLUMNS), "rows": body}


def gradient_table(name: str, got: np.ndarray, expected: np.ndarray, rows: int = 3) -> str:
    """A small table for one parameter: yours, numerical, relative error; worst elements first."""
    return render_table(gradient_rows(name, got, expected, rows))


def render_table(table: dict[str, Any], language: str | None = None) -> str:
    """A :func:`gradient_rows` table as text, in ``language`` (default: this process's)."""
    return render_table_data(table, language or current())


def expect_gradients(
    got: Any,
    expected: Mapping[str, np.ndarray],
    tol: Tol,
    call: CallLike,
    dtype: str | None = None,
    batch: int | None = None,
    candidates: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    nonfinite_cause: str | None = None,
    letter: str = "N",
) -> None:
    """A dict of gradients, one per parameter name: names, then shapes, then values with a table.

    ``nonfinite_cause`` names the likely cause (a catalogue key) when a gradient holds NaN or infinity.
    A cause seen in several parameters is named once, with those parameters (``letter``: see
    :func:`diagnose`)."""
    if isinstance(got, list) and len(got) == len(expected) and not isinstance(expected, list):
        got = dict(zip(expected, got))  # a tuple in parameter order is as good as a dict
    if not isinstance(got, dict):
        fail(
            msg("called", call=call),
            msg("wrong_type", got=kind_of(got), expected=msg("expected_dict_keys", keys=sorted(expected))),
        )
    if sorted(got) != sorted(expected):
        fail(
            msg("called", call=call),
            msg("not_equal", what="The dict's keys", got=sorted(got), expected=sorted(expected)),
        )
    bad: list[Part] = []
    tables: list[dict[str, Any]] = []
    causes: list[Msg] = []
    for name, exp in expected.items():
        g = got[name]
        if isinstance(g, np.ndarray) and batch and g.shape == (batch, *exp.shape):
            causes += [msg("cause_for", name=name, cause=c) for c in diagnose(g, exp, batch, letter=letter)]
            bad.append(msg("wrong_shape", what=name, got=tuple(g.shape), expected=tuple(exp.shape)))
            continue
        if isinstance(g, np.ndarray) and g.ndim == 2 and g.shape == exp.T.shape and g.shape != exp.shape:
            causes += [msg("cause_for", name=name, cause=c) for c in diagnose(g, exp, batch, letter=letter)]
            bad.append(msg("wrong_shape", what=name, got=tuple(g.shape), expected=tuple(exp.shape)))
            continue
        arr = expect_array(g, call, name, exp.shape, dtype).astype(np.float64)
        if not np.all(np.isfinite(arr)):
            bad.append(msg("not_finite", what=name))
            if nonfinite_cause and all(c.key != nonfinite_cause for c in causes):
                causes.append(msg(nonfinite_cause))
            continue
        if not np.allclose(arr, exp, rtol=tol.rtol, atol=tol.atol):
            tables.append(gradient_rows(name, arr, exp))
            named = diagnose(arr, exp, batch, (candidates or {}).get(name), letter=letter)
            causes += [msg("cause_for", name=name, cause=c) for c in named]
    if bad or tables:
        fail(msg("called", call=call), *bad, causes=_once_each(causes), tables=tables)


def _once_each(causes: Sequence[Msg]) -> list[Msg]:
    """One ``cause_for`` per cause, naming every parameter it was seen in (W1, b1: ...), in order."""
    names: dict[Msg, list[str]] = {}
    for cause in causes:
        inner = cause.fields.get("cause") if cause.key == "cause_for" else None
        key: Msg = inner if isinstance(inner, Msg) else cause
        names.setdefault(key, [])
        if inner is not None:
            names[key].append(str(cause.fields["name"]))
    return [msg("cause_for", name=", ".join(n), cause=c) if n else c for c, n in names.items()]


# --- contracts: what a call may not leave behind ---------------------------------------------


def _same(a: Any, b: Any) -> bool:
    """Plain snapshots equal: arrays by shape, dtype and value (NaN equal to NaN), others by type and value."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and bool(a == b)


def as_sent(value: Any, dtype: str | None = None, requires_grad: bool = False) -> dict[str, Any]:
    """The state of a tensor a probe made from ``value`` just before the call: the judge's "before".

    ``torch.tensor(value, dtype=...)`` starts at version 0, with no .grad.
    """
    array = np.asarray(value, dtype=dtype)
    return {"value": array, "dtype": str(array.dtype), "version": 0, "requires_grad": requires_grad, "grad": None}


def expect_untouched(
    call: CallLike,
    function: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    torch_state: Mapping[str, Any] | None = None,
) -> None:
    """Everything the caller handed over is as it was after the call, and torch's global state too.

    ``before`` and ``after`` map each thing handed over ("x", "net", ...) to its state:

    - a tensor: :func:`backprop_katas.kit.state.tensor_state` after the call, against
      :func:`as_sent` before it (value, shape and dtype, version counter, requires_grad, .grad;
      the version counter catches an in-place write whose values came back: x += h; ...; x -= h);
    - a module: :func:`backprop_katas.kit.state.module_state` before and after (the same for every
      parameter, and no parameter added or lost);
    - a plain value (an array, a list, a number): the same value.

    ``torch_state`` is the probe's :func:`backprop_katas.kit.state.watched_globals` record
    (``{"before": ..., "after": ...}``): the random generator, default dtype and grad mode unchanged.
    """
    for name, state in before.items():
        _expect_same_state(state, after.get(name), call, function, name)
    if torch_state is not None:
        _expect_no_side_effects(torch_state["before"], torch_state["after"], call, function)


def _expect_same_state(before: Any, after: Any, call: CallLike, function: str, name: str) -> None:
    called = msg("called", call=call)
    if isinstance(before, dict) and "value" not in before:  # a module: its parameters by name
        after = after if isinstance(after, dict) else {}
        if sorted(before) != sorted(after):
            fail(
                called,
                msg("not_equal", what=msg("what_names_after", what=name), got=sorted(after), expected=sorted(before)),
            )
        for parameter in before:
            _expect_same_state(before[parameter], after[parameter], call, function, f"{name}.{parameter}")
        return
    if not isinstance(before, dict):  # a plain value: compared by value only
        before, after = {"value": before}, {"value": after.get("value") if isinstance(after, dict) else after}
    after = after if isinstance(after, dict) else {"value": after}
    in_place = [msg("cause_in_place")]
    because = msg("likely_cause", cause=in_place[0])
    if not _same(before["value"], after.get("value")) or before.get("dtype") != after.get("dtype"):
        fail(called, msg("mutated_input", function=function, name=name), because, causes=in_place)
    if before.get("version") != after.get("version"):
        fail(
            called,
            msg("input_version", function=function, name=name, before=before["version"], after=after.get("version")),
            because,
            causes=in_place,
        )
    if before.get("requires_grad") != after.get("requires_grad"):
        if after.get("requires_grad"):
            fail(called, msg("input_left_grad", function=function, what="requires_grad=True", name=name))
        fail(
            called,
            msg(
                "input_flag_changed",
                function=function,
                what="requires_grad",
                name=name,
                before=before["requires_grad"],
                after=after.get("requires_grad"),
            ),
        )
    if not _same(before.get("grad"), after.get("grad")):
        if before.get("grad") is None:
            fail(called, msg("input_left_grad", function=function, what=".grad", name=name))
        fail(
            called,
            msg(
                "input_flag_changed",
                function=function,
                what=".grad",
                name=name,
                before=_fmt(before.get("grad")),
                after=_fmt(after.get("grad")),
            ),
        )


GLOBAL_STATE = {
    "rng": ("state_rng", "cause_rng_side_effect"),
    "default_dtype": ("state_default_dtype", "cause_default_dtype_side_effect"),
    "grad_enabled": ("state_grad_enabled", "cause_grad_mode_side_effect"),
}


def _expect_no_side_effects(before: Mapping[str, Any], after: Mapping[str, Any], call: CallLike, function: str) -> None:
    """torch's global state (:func:`backprop_katas.kit.state.global_state`) is the same after the call."""
    for key, (what, cause) in GLOBAL_STATE.items():
        if before.get(key) != after.get(key):
            fail(
                msg("called", call=call),
                msg("side_effect", function=function, what=msg(what), before=before.get(key), after=after.get(key)),
                msg("likely_cause", cause=msg(cause)),
                causes=[msg(cause)],
            )


def expect_not_aliased(pairs: Sequence[Sequence[str]], call: CallLike, function: str) -> None:
    """No returned tensor shares memory with an input or with another returned tensor."""
    if pairs:
        what, other = pairs[0]
        fail(msg("called", call=call), msg("aliased_result", function=function, what=what, other=other))


PLAIN_TYPES = {"int": "int", "float": "float", "number": ("int", "float"), "str": "str", "bool": "bool"}


def expect_no_graph(state: Any, call: CallLike, what: Part) -> None:
    """A returned tensor (:func:`backprop_katas.kit.state.graph_state`) carries no autograd graph: it does
    not require grad and has no grad_fn, so the caller's next backward() cannot run into it."""
    if isinstance(state, dict) and (state["requires_grad"] or state["grad_fn"] is not None):
        fail(msg("called", call=call), msg("result_keeps_graph", what=what, grad_fn=state["grad_fn"] or "None"))


def expect_plain(typed: Any, expected: str, call: CallLike, what: Part) -> Any:
    """A :func:`backprop_katas.kit.state.typed` value is exactly a Python ``expected`` ("int", "float",
    "number" (int or float, not bool), "str" or "bool"); returns the value."""
    if not isinstance(typed, dict) or "type" not in typed:
        fail(
            msg("called", call=call),
            msg("wrong_type", got=kind_of(typed), expected=msg("expected_plain", type=expected)),
        )
    allowed = PLAIN_TYPES[expected]
    if typed["type"] in ((allowed,) if isinstance(allowed, str) else allowed):
        return typed["value"]
    causes: list[Msg] = []
    if typed["type"].startswith("torch."):
        causes.append(msg("cause_tensor_not_number"))
    elif typed["type"].startswith("numpy."):
        causes.append(msg("cause_numpy_number"))
    fail(
        msg("called", call=call),
        msg("not_plain", what=what, got=typed["type"], expected=expected),
        *[msg("likely_cause", cause=c) for c in causes],
        causes=causes,
    )


def expect_plain_number(value: Any, expected: str, call: CallLike, what: Part) -> Any:
    """Plain data that must have been a Python ``expected`` ("int" or "float"): a tensor arrives as an
    array, a bool is not an int. (numpy scalars arrive as Python numbers: use :func:`expect_plain`
    with a typed value where they must be refused too.)"""
    kinds = {"int": (int,), "float": (float,)}[expected]
    if isinstance(value, kinds) and not isinstance(value, bool):
        return value
    named = [msg("cause_tensor_not_number")] if isinstance(value, np.ndarray) else []
    got = (
        msg("kind_tensor_bare", dtype=str(value.dtype), shape=tuple(value.shape))
        if isinstance(value, np.ndarray)
        else (value.type if isinstance(value, Unplain) else type(value).__name__)
    )
    fail(
        msg("called", call=call),
        msg("not_plain", what=what, got=got, expected=expected),
        *[msg("likely_cause", cause=c) for c in named],
        causes=named,
    )
