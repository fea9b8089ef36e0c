"""k04 · Autograd: requires_grad, grad_fn, backward, and gradients that accumulate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from backprop_katas.kit import call as C
from backprop_katas.kit import mistakes as M
from backprop_katas.kit import oracles as O
from backprop_katas.kit.inputs import seeded_pair
from backprop_katas.kit.judge import (
    as_sent,
    expect_array,
    expect_close,
    expect_equal,
    expect_no_graph,
    expect_untouched,
    fail,
    kind_of,
)
from backprop_katas.kit.probes import k04_autograd as P
from backprop_katas.kit.zoo import ONE, TWO
from backprop_katas.lang import msg

KATA = "k04_autograd"

# The contract of every public function: what the tests below hold it to. Common to all: the caller's
# tensors come back as they were sent (value, version counter, requires_grad=False, no .grad): the
# work happens on detached copies; torch's random state, default dtype and grad mode are unchanged.
CONTRACTS = {
    "autograd_gradients": {
        "inputs": "f(x, y) → tensor, built from torch operations; x, y float64 tensors of one shape",
        "returns": "(∂Σf/∂x, ∂Σf/∂y), tensors of x's and y's shape and dtype (None for an input f ignores), "
        "that neither require grad nor have a grad_fn (no create_graph=True)",
        "caller's tensors": "may arrive requiring grad and holding a stale .grad: both come back as they were, "
        "and the stale .grad is not added to the result",
        "required": "autograd (requires_grad_ and backward): finite differences or formulas are refused",
        "forbidden": "marking or differentiating the caller's x and y",
    },
    "grad_fn_name": {
        "inputs": "z: any tensor, made by one operation or a leaf",
        "returns": "type(z.grad_fn).__name__ as a str, or None for a leaf (not the string 'NoneType')",
        "required": "z.grad_fn (reading repr(z) is refused)",
        "forbidden": "nothing",
    },
    "requires_grad_flags": {
        "inputs": "f, x, y as above; wrt one of 'x', 'y', 'xy', ''",
        "returns": "{'x': bool, 'y': bool, 'z': bool}: the flags of the marked copies and of z",
        "required": "requires_grad_ on copies and z's own flag (flags worked out from wrt are refused)",
        "forbidden": "requires_grad_ on the caller's tensors",
    },
    "accumulated_gradient": {
        "inputs": "f(x) → tensor; x a float64 tensor; times ≥ 1",
        "returns": "times · ∂Σf/∂x, the .grad of a copy of x after `times` backward() calls, without a graph "
        "(requires_grad False, no grad_fn)",
        "required": "backward() `times` times (finite differences times `times` are refused)",
        "calls": "f exactly `times` times: a fresh graph per backward(), not one retained graph, "
        "not one backward() multiplied by times",
        "forbidden": "resetting .grad between the calls",
    },
}


def inputs(seed, shape=(3, 4)):
    return seeded_pair(seed, shape, "float64", -2, 2)


# --- judges ---------------------------------------------------------------------------------


def expect_callers_untouched(out, sent, call, function):
    """The caller's tensors as the judge sent them (value, version counter, requires_grad, .grad), and
    torch's global state as it was."""
    before = {name: as_sent(value) for name, value in zip("xy", sent)}
    expect_untouched(call, function, before, dict(zip("xy", out["callers"])), out["globals"])


@pytest.mark.part("autograd_gradients")
@pytest.mark.parametrize("fname", ["square_of_sum", "product", "mixed", "x_only"])
def test_autograd_gradients_match_finite_differences(run, fname):
    x, y = inputs(1)
    f = TWO[fname].numpy
    call = C.Call(
        f"{KATA}.autograd_gradients(f, x, y)", C.code(f"f(x, y) = {fname}"), C.tensors("x, y", "float64", [3, 4])
    )
    out = run(P.autograd_gradients, fname, x, y)
    result = out["result"]
    if not isinstance(result, list) or len(result) != 2:
        fail(
            msg("called", call=call),
            msg("wrong_type", got=kind_of(result), expected=msg("expected_pair", names="df_dx, df_dy")),
        )
    # ∂(Σ f)/∂x elementwise: these f act elementwise, so central differences per element suffice.
    expected = (O.central_difference(lambda v: f(v, y), x), O.central_difference(lambda v: f(x, v), y))
    for label, got, exp in zip(("df_dx", "df_dy"), result, expected):
        if fname == "x_only" and label == "df_dy" and got is None:
            continue  # y does not reach f: autograd leaves its grad as None, which is right
        expect_array(got, call, label, x.shape, "float64")
        expect_close(got, exp, O.FD64, call, label)
    expect_callers_untouched(out, [x, y], call, f"{KATA}.autograd_gradients")


@pytest.mark.part("autograd_gradients")
def test_autograd_gradients_returns_gradients_without_a_graph(run):
    x, y = inputs(12)
    out = run(P.autograd_gradients, "mixed", x, y)
    call = C.Call(
        f"{KATA}.autograd_gradients(f, x, y)", C.code("f(x, y) = mixed"), C.tensors("x, y", "float64", [3, 4])
    )
    for label, state in zip(("df_dx", "df_dy"), out["graph"] or []):
        expect_no_graph(state, call, label)


@pytest.mark.part("autograd_gradients")
def test_autograd_gradients_of_tensors_that_arrive_marked_with_a_stale_grad(run):
    # The caller's x and y require grad and hold .grad = 7: work on detached copies, so the result is the
    # gradient alone (not 7 + it, not None from a non-leaf clone) and the caller's .grad stays 7.
    x, y = inputs(13)
    out = run(P.autograd_gradients_of_marked_tensors, "product", x, y, 7.0)
    call = C.Call(
        f"{KATA}.autograd_gradients(f, x, y)",
        C.code("f(x, y) = x * y"),
        C.tensors("x, y", "float64", [3, 4]),
        C.code("x.requires_grad = y.requires_grad = True"),
        C.code("x.grad = y.grad = 7"),
    )
    for label, got, expected in zip(("df_dx", "df_dy"), out["result"], (y, x)):
        expect_array(got, call, label, x.shape, "float64")
        expect_close(got, expected, O.FD64, call, label)  # x·y: exactly y and x; a stale 7 is 7 off
    before = {n: {**as_sent(v), "requires_grad": True, "grad": np.full_like(v, 7.0)} for n, v in zip("xy", (x, y))}
    expect_untouched(call, f"{KATA}.autograd_gradients", before, dict(zip("xy", out["callers"])), out["globals"])


@pytest.mark.part("autograd_gradients")
def test_autograd_gradients_reproduce_the_chapters_dx_8(run):
    out = run(P.autograd_gradients, "square_of_sum", np.array([1.0]), np.array([3.0]))
    expect_close(
        out["result"][0],
        np.array([8.0]),
        O.FD64,
        C.Call(f"{KATA}.autograd_gradients(f, [1.], [3.])", C.code("f = (x + y)**2")),
        "df_dx",
    )


@pytest.mark.part("grad_fn_name")
@pytest.mark.parametrize("recipe", list(P.RECIPES))
def test_grad_fn_name_names_the_node_that_made_the_tensor(run, recipe):
    x, y = inputs(2)
    got = run(P.grad_fn_name, recipe, x, y)
    z = P.RECIPES[recipe](torch.tensor(x, requires_grad=True), torch.tensor(y))
    expected = None if z.grad_fn is None else type(z.grad_fn).__name__
    call = C.Call(f"{KATA}.grad_fn_name(z)", msg("arg_made_by", name="z", recipe=repr(recipe)))
    expect_equal(got, expected, call, "The name")


@pytest.mark.part("requires_grad_flags")
@pytest.mark.parametrize("wrt", ["x", "y", "xy", ""], ids=lambda w: f"wrt={w or 'none'}")
@pytest.mark.parametrize("fname", ["square_of_sum", "x_only", "y_only"])
def test_requires_grad_flags_follow_the_graph(run, fname, wrt):
    x, y = inputs(3)
    out = run(P.requires_grad_flags, fname, x, y, wrt)
    xt = torch.tensor(x).requires_grad_("x" in wrt)
    yt = torch.tensor(y).requires_grad_("y" in wrt)
    z = TWO[fname].torch(xt, yt)
    expected = {"x": xt.requires_grad, "y": yt.requires_grad, "z": z.requires_grad}
    call = C.Call(f"{KATA}.requires_grad_flags(f, x, y, wrt={wrt!r})", C.code(f"f(x, y) = {fname}"))
    expect_equal(out["flags"], expected, call, "The flags")
    expect_callers_untouched(out, [x, y], call, f"{KATA}.requires_grad_flags")


@pytest.mark.part("accumulated_gradient")
@pytest.mark.parametrize("times", [1, 2, 3, 5])
@pytest.mark.parametrize("fname", ["square", "sin", "cube_plus_x"])
def test_accumulated_gradient_adds_up_over_backward_calls(run, fname, times):
    x, _ = inputs(4 + times, (6,))
    once = O.central_difference(ONE[fname].numpy, x)
    out = run(P.accumulated_gradient, fname, x, times)
    call = C.Call(f"{KATA}.accumulated_gradient(f, x, times={times})", C.code(f"f(x) = {fname}"))
    reset = M.grad_reset(once, times)
    expect_close(
        out["grad"], times * once, O.FD64, call, "x.grad", dtype="float64", candidates={"cause_grad_reset": reset}
    )
    expect_callers_untouched(out, [x], call, f"{KATA}.accumulated_gradient")
    expect_no_graph(out["graph"], call, "x.grad")


# --- the edges of the contracts --------------------------------------------------------------


@pytest.mark.part("accumulated_gradient")
@pytest.mark.parametrize("times", [1, 4])
def test_accumulated_gradient_builds_a_fresh_graph_for_every_backward(run, times):
    x, _ = inputs(11, (5,))
    out = run(P.accumulated_gradient, "sin", x, times)
    call = C.Call(
        f"{KATA}.accumulated_gradient(f, x, times={times})",
        C.code("f(x) = sin(x)"),
        msg("arg_counting_calls", name="f"),
    )
    expect_close(out["grad"], times * ONE["sin"].prime(x), O.FD64, call, "x.grad", dtype="float64")
    if out["calls"] != times:
        fail(
            msg("called", call=call),
            msg("calls_counted", function=f"{KATA}.accumulated_gradient", callee="f", got=out["calls"], expected=times),
        )
