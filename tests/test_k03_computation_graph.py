"""k03 · The computation graph z = (x + y)²: forward through t = x + y, backward by the chain rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from backprop_katas.kit import call as C
from backprop_katas.kit import oracles as O
from backprop_katas.kit.inputs import DTYPES, grid, parts, seeded_pair, tol_for
from backprop_katas.kit.judge import (
    as_sent,
    expect_array,
    expect_close,
    expect_not_aliased,
    expect_number,
    expect_plain,
    expect_untouched,
    fail,
    kind_of,
)
from backprop_katas.kit.probes import k03_computation_graph as P
from backprop_katas.lang import msg

KATA = "k03_computation_graph"

# The contract of every public function: what the tests below hold it to. Common to all: inputs are
# Python floats or float32/float64 tensors of one shape (0-d included); values any finite number (the
# tests use [-4, 4]); a tensor result is new, of the inputs' shape and dtype; the inputs are left as
# they were, by value and by version counter (the chapter calls forward, then backward, on the same
# tensors); no result shares memory with an input or with another result; no global state changes.
CONTRACTS = {
    "t_function": {"returns": "t = x + y", "forbidden": "x += y, x.add_(y): an in-place write into x"},
    "z_function": {"returns": "z = t²", "forbidden": "t **= 2, t.pow_(2)"},
    "forward": {"returns": "z = (x + y)², through t_function and z_function", "forbidden": "in-place writes"},
    "z_prime": {"returns": "dz/dt = 2t", "forbidden": "autograd; t.mul_(2)"},
    "t_prime": {"returns": "1, a plain Python number (int or float)", "forbidden": "autograd"},
    "backward": {"returns": "dz/dx = z_prime(t) · t_prime()", "forbidden": "autograd; in-place writes into t"},
    "gradients": {
        "returns": "(dz/dx, dz/dy): two separate tensors (not one returned twice) of the inputs' shape",
        "forbidden": "autograd; in-place writes",
    },
}
CASES = grid([(1,), (6,), (3, 4), (2, 2, 3)])  # in float32 and float64


# --- tests ----------------------------------------------------------------------------------


# Each forward node on its own: a part per public function (katas.toml weights).
NODES = {
    "t_function": (2, lambda a: a[0] + a[1]),
    "z_function": (1, lambda a: a[0] ** 2),
    "forward": (2, lambda a: (a[0] + a[1]) ** 2),
}


@pytest.mark.parametrize(("shape", "dtype"), CASES)
@pytest.mark.parametrize("name", parts(NODES))
def test_forward_nodes_compute_their_values(run, name, shape, dtype):
    x, y = seeded_pair(1, shape, dtype)
    arity, formula = NODES[name]
    arrays = [x, y][:arity]
    expected = formula([v.astype(np.float64) for v in arrays])
    call = C.Call(f"{KATA}.{name}({', '.join('xy'[:arity])})", C.tensors(", ".join("xy"[:arity]), dtype, shape))
    got = run(P.call, name, arrays, dtype)
    expect_close(got, expected, tol_for(dtype), call, dtype=dtype)


@pytest.mark.part("chapter_example")
def test_the_chapters_example_forward_16_backward_8(run):
    z = run(P.call, "forward", [np.array([1.0]), np.array([3.0])], "float32")
    expect_close(z, np.array([16.0]), O.FLOAT32, f"{KATA}.forward(torch.Tensor([1]), torch.Tensor([3]))")
    dx = run(P.call, "backward", [np.array([4.0])], "float32")
    expect_close(dx, np.array([8.0]), O.FLOAT32, f"{KATA}.backward(torch.Tensor([4]))  # t = 1 + 3")


@pytest.mark.part("z_prime")
@pytest.mark.parametrize(("shape", "dtype"), CASES)
def test_z_prime_matches_finite_differences(run, shape, dtype):
    t, _ = seeded_pair(2, shape, dtype)
    got = run(P.call, "z_prime", [t], dtype)
    call = C.Call(f"{KATA}.z_prime(t)", C.tensor("t", dtype, shape))
    expect_close(got, O.central_difference(lambda v: v**2, t), tol_for(dtype), call, dtype=dtype)


@pytest.mark.part("t_prime")
def test_t_prime_is_one(run):
    got = expect_number(run(P.t_prime), f"{KATA}.t_prime()")
    expect_close(got, 1.0, O.AUTOGRAD64, f"{KATA}.t_prime()")


@pytest.mark.part("backward")
@pytest.mark.parametrize(("shape", "dtype"), CASES)
def test_backward_matches_finite_differences_of_z_in_x(run, shape, dtype):
    x, y = seeded_pair(3, shape, dtype)
    t = (x.astype(np.float64) + y).astype(dtype)
    got = run(P.call, "backward", [t], dtype)
    call = C.Call(f"{KATA}.backward(t)", C.tensor("t = x + y", dtype, shape))
    expected = O.central_difference(lambda v: (v + y.astype(np.float64)) ** 2, x)
    expect_close(got, expected, tol_for(dtype), call, dtype=dtype)


@pytest.mark.part("gradients")
@pytest.mark.parametrize(("shape", "dtype"), CASES)
def test_gradients_match_finite_differences(run, shape, dtype):
    x, y = seeded_pair(4, shape, dtype)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    call = C.Call(f"{KATA}.gradients(x, y)", C.tensors("x, y", dtype, shape))
    got = run(P.call, "gradients", [x, y], dtype)
    if not isinstance(got, list) or len(got) != 2:
        fail(
            msg("called", call=call),
            msg("wrong_type", got=kind_of(got), expected=msg("expected_pair", names="dz_dx, dz_dy")),
        )
    expected = (
        O.central_difference(lambda v: (v + y64) ** 2, x64),
        O.central_difference(lambda v: (x64 + v) ** 2, y64),
    )
    for label, g, e in zip(("dz_dx", "dz_dy"), got, expected):
        expect_array(g, call, label, shape, dtype)
        expect_close(g, e, tol_for(dtype), call, label, dtype=dtype)


@pytest.mark.part("gradients")
def test_gradients_match_autograd(run):
    x, y = seeded_pair(5, (5, 3), "float64")
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.tensor(y, requires_grad=True)
    ((xt + yt) ** 2).sum().backward()  # the oracle: torch's own autograd, in the judge's process
    got = run(P.call, "gradients", [x, y], "float64")
    call = C.Call(f"{KATA}.gradients(x, y)", C.tensors("x, y", "float64", [5, 3]))
    for label, g, e in zip(("dz_dx", "dz_dy"), got, (xt.grad.numpy(), yt.grad.numpy())):
        expect_close(g, e, O.AUTOGRAD64, call, label, dtype="float64")


@pytest.mark.part("gradients")
def test_gradients_take_python_floats(run):
    rng = np.random.default_rng(6)
    for x, y in [(1.0, 3.0), *rng.uniform(-3, 3, (3, 2)).tolist()]:
        got = run(P.on_floats, "gradients", [x, y])
        call = f"{KATA}.gradients({x!r}, {y!r})"
        if not isinstance(got, list) or len(got) != 2:
            fail(
                msg("called", call=call),
                msg("wrong_type", got=kind_of(got), expected=msg("expected_pair", names="dz_dx, dz_dy")),
            )
        for label, g in zip(("dz_dx", "dz_dy"), got):
            expect_close(expect_number(g, call), 2 * (x + y), O.AUTOGRAD64, call, label)


# --- the edges of the contracts --------------------------------------------------------------

ARITY = {"t_function": 2, "z_function": 1, "forward": 2, "z_prime": 1, "backward": 1, "gradients": 2}


def formula(name, arrays):
    a = [v.astype(np.float64) for v in arrays]
    return {
        "t_function": lambda: [a[0] + a[1]],
        "z_function": lambda: [a[0] ** 2],
        "forward": lambda: [(a[0] + a[1]) ** 2],
        "z_prime": lambda: [2 * a[0]],
        "backward": lambda: [2 * a[0]],
        "gradients": lambda: [2 * (a[0] + a[1])] * 2,
    }[name]()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", parts(ARITY))
def test_no_function_writes_into_its_inputs_or_returns_them(run, name, dtype):
    arrays = list(seeded_pair(7, (2, 3), dtype))[: ARITY[name]]
    names = "xy" if ARITY[name] == 2 else "t" if name in ("z_function", "z_prime", "backward") else "x"
    call = C.Call(f"{KATA}.{name}({', '.join(names)})", C.tensors(", ".join(names), dtype, [2, 3]))
    out = run(P.call_contract, name, arrays, dtype)
    sent = {label: as_sent(value) for label, value in zip(names, arrays)}
    expect_untouched(call, f"{KATA}.{name}", sent, dict(zip(names, out["inputs_after"])), out["globals"])
    results = out["result"] if name == "gradients" else [out["result"]]
    if not isinstance(results, list) or len(results) != len(formula(name, arrays)):
        fail(
            msg("called", call=call),
            msg("wrong_type", got=kind_of(results), expected=msg("expected_pair", names="dz_dx, dz_dy")),
        )
    for got, expected in zip(results, formula(name, arrays)):
        expect_close(got, expected, tol_for(dtype), call, dtype=dtype)
    expect_not_aliased(out["shared"], call, f"{KATA}.{name}")


@pytest.mark.parametrize("name", parts(ARITY))
def test_every_function_takes_python_floats(run, name):
    values = [2.5, -0.75][: ARITY[name]]
    call = f"{KATA}.{name}({', '.join(map(repr, values))})"
    got = run(P.on_floats, name, values)
    expected = formula(name, [np.asarray(v) for v in values])
    results = got if name == "gradients" else [got]
    if not isinstance(results, list) or len(results) != len(expected):
        fail(
            msg("called", call=call),
            msg("wrong_type", got=kind_of(got), expected=msg("expected_pair", names="dz_dx, dz_dy")),
        )
    for g, e in zip(results, expected):
        expect_close(expect_number(g, call), float(e), O.AUTOGRAD64, call)


@pytest.mark.part("t_prime")
def test_t_prime_is_a_plain_python_number(run):
    expect_plain(run(P.t_prime_typed), "number", f"{KATA}.t_prime()", "The result")
