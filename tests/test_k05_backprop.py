"""k05 · Backpropagation by hand: every gradient of the XOR network, and sigmoid's backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from backprop_katas.kit import call as C
from backprop_katas.kit import mistakes as M
from backprop_katas.kit import oracles as O
from backprop_katas.kit.inputs import tol_for
from backprop_katas.kit.judge import (
    JudgeFailed,
    as_sent,
    expect_close,
    expect_gradients,
    expect_untouched,
    fail,
)
from backprop_katas.kit.probes import k05_backprop as P
from backprop_katas.lang import msg

KATA = "k05_backprop"

# The contract of every public function: what the tests below hold it to.
CONTRACTS = {
    "manual_gradients": {
        "inputs": "net: the chapter's Network (linear_ih, linear_ho, sigmoids), any sizes, one output; "
        "x (N, I) for any N ≥ 1; t (N,) with values anywhere in [0, 1]; float32 or float64",
        "values": "random weights of scale 1, and weights that saturate the output (y rounds to 0 or 1): "
        "the gradients stay finite there; float64 against float64 finite differences (or the closed form "
        "where the outputs saturate), float32 within 1e-5 relative",
        "returns": "a dict of the four parameter names → tensors of each parameter's shape and dtype",
        "aliasing": "net (values, version counters, requires_grad, .grad), x and t unchanged",
        "side effects": "none: random state and default dtype as they were; grad mode too (with torch.no_grad(), "
        "not torch.set_grad_enabled(False)), though the autograd guard runs the call under no_grad, so here "
        "only predict's test (k06) can see that habit",
        "forbidden": "backward(), torch.autograd; a fixed divisor 4; formulas that only hold for t in {0, 1}",
    },
    "SigmoidFunction": {
        "inputs": "SigmoidFunction.apply(x), x a float32 or float64 tensor of any shape that requires grad",
        "values": "every finite x, ±100 and ±1000 included: y and ∂L/∂x finite (absolute tolerance in the tails)",
        "returns": "forward: σ(x) of x's shape and dtype; backward: grad_output · σ(x)(1 - σ(x))",
        "aliasing": "x unchanged; backward reads grad_output and never writes it (autograd owns it)",
        "side effects": "none",
        "forbidden": "torch.sigmoid's backward (write it); exp of a large positive number",
    },
}

# (input size, hidden size, batch size): the chapter's network first, then others.
SIZES = [(2, 2, 4), (2, 5, 7), (3, 1, 2), (4, 3, 16)]


def problem(seed, input_size, hidden_size, batch):
    rng = np.random.default_rng(seed)
    params = O.random_xor_params(rng, input_size, hidden_size)
    x = rng.normal(0, 1.5, (batch, input_size))
    t = rng.integers(0, 2, batch).astype(np.float64)
    return params, x, t


def without_sigmoid_derivative(params, x, t):
    """What a learner gets who forgets σ' on the way back through the hidden layer, per parameter."""
    return {
        name: {"cause_no_activation_derivative": value}
        for name, value in M.without_activation_derivative(params, x, t).items()
    }


# --- tests ----------------------------------------------------------------------------------


def judge_manual(out, params, call, expected, tol, dtype, batch, candidates=None, sent=None, nonfinite_cause=None):
    """The contract first (the network holds the weights the judge sent and is as it was, x and t untouched,
    no global side effects), then the gradients. ``sent`` is (x, t) as the judge made them."""
    function = f"{KATA}.manual_gradients"
    weights = {name: np.asarray(value, dtype=dtype) for name, value in params.items()}  # by value
    expect_untouched(call, function, {"net": weights}, {"net": out["params_after"]})
    before, after = {"net": out["net_before"]}, {"net": out["net_after"]}
    if sent is not None:
        before |= {name: as_sent(value, dtype) for name, value in zip("xt", sent)}
        after |= {name: out[f"{name}_after"] for name in "xt"}
    expect_untouched(call, function, before, after, out["globals"])
    # The docstring divides the loss by M, the number of outputs: the causes say M, as it does.
    expect_gradients(
        out["grads"],
        expected,
        tol,
        call,
        dtype=dtype,
        batch=batch,
        candidates=candidates,
        nonfinite_cause=nonfinite_cause,
        letter="M",
    )


@pytest.mark.part("manual_gradients")
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(("input_size", "hidden_size", "batch"), SIZES, ids=lambda v: str(v))
def test_manual_gradients_match_finite_differences(run, input_size, hidden_size, batch, seed):
    params, x, t = problem(seed, input_size, hidden_size, batch)
    expected = O.numerical_gradient(lambda p: O.xor_loss(p, x, t), params)
    call = C.Call(
        f"{KATA}.manual_gradients(net, x, t)",
        C.network("net", (input_size, hidden_size, 1), "float64"),
        C.batch("x, t", batch),
    )
    out = run(P.manual_gradients, params, x, t, "float64")
    judge_manual(out, params, call, expected, O.FD64, "float64", batch, without_sigmoid_derivative(params, x, t))


@pytest.mark.part("manual_gradients")
@pytest.mark.parametrize(("input_size", "hidden_size", "batch"), SIZES[:2], ids=lambda v: str(v))
def test_manual_gradients_match_autograd(run, input_size, hidden_size, batch):
    params, x, t = problem(3, input_size, hidden_size, batch)
    net = O.network_from_params(params, "float64")  # the oracle: torch's layers, BCELoss and autograd
    loss = torch.nn.BCELoss()(net(torch.tensor(x)).squeeze(), torch.tensor(t))
    loss.backward()
    expected = {name: p.grad.numpy() for name, p in net.named_parameters()}
    out = run(P.manual_gradients, params, x, t, "float64")
    call = C.Call(
        f"{KATA}.manual_gradients(net, x, t)",
        C.network("net", (input_size, hidden_size, 1), "float64"),
        C.batch("x, t", batch),
    )
    judge_manual(out, params, call, expected, O.AUTOGRAD64, "float64", batch, without_sigmoid_derivative(params, x, t))


@pytest.mark.part("manual_gradients")
def test_manual_gradients_on_the_chapters_xor_data_in_float32(run):
    torch.manual_seed(70)
    params = {k: v.astype(np.float64) for k, v in O.params_of(O.oracle_network(2, 2, 1)).items()}
    x, t = O.XOR_X, O.XOR_T
    expected = O.numerical_gradient(lambda p: O.xor_loss(p, x, t), params)
    out = run(P.manual_gradients, params, x, t, "float32")
    call = C.Call(f"{KATA}.manual_gradients(net, x, t)", C.chapter_network("net", 70, "float32"), C.xor_data())
    judge_manual(out, params, call, expected, O.FLOAT32, "float32", 4, without_sigmoid_derivative(params, x, t))


@pytest.mark.part("SigmoidFunction")
@pytest.mark.parametrize("shape", [(5,), (3, 4)], ids=lambda s: f"shape{list(s)}")
def test_sigmoid_function_forward_and_backward(run, shape):
    rng = np.random.default_rng(4)
    x = rng.uniform(-6, 6, shape)
    grad_out = rng.normal(0, 1, shape)
    out = run(P.sigmoid_function, x, grad_out)
    call = C.Call(
        f"y = {KATA}.SigmoidFunction.apply(x); torch.autograd.grad(y, x, g)", C.tensors("x, g", "float64", shape)
    )
    expect_close(out["y"], O.sigmoid(x), O.FD64, call, "y", dtype="float64")
    if out["grad"] is None:
        fail(
            msg("called", call=call),
            msg("no_grad_fn"),
        )
    local = O.central_difference(O.sigmoid, x)  # σ'(x), independent of the learner
    expect_close(
        out["grad"],
        grad_out * local,
        O.FD64,
        call,
        "∂L/∂x",
        dtype="float64",
        candidates={"cause_no_grad_output": M.without_grad_output(x)},
    )


def numerical_jacobian(f, x, h=O.FD_STEP):
    """J[i, j] = ∂f(x)_i / ∂x_j by the tool's own float64 central differences, one input element at a time."""
    flat = x.reshape(-1)
    columns = []
    for j in range(flat.size):
        step = np.zeros_like(flat)
        step[j] = h
        columns.append(((f((flat + step).reshape(x.shape)) - f((flat - step).reshape(x.shape))) / (2 * h)).reshape(-1))
    return np.stack(columns, axis=1)


@pytest.mark.part("SigmoidFunction")
@pytest.mark.parametrize("shape", [(6,), (2, 3)], ids=lambda s: f"shape{list(s)}")
def test_sigmoid_function_passes_gradcheck(run, shape):
    # What torch.autograd.gradcheck checks, decided here from data: backward's vector-Jacobian
    # products for grad_output = each basis vector (so the whole Jacobian, row by row) and one
    # random vector, against the grader's own finite differences of σ. No verdict comes from
    # the learner's process (a patched gradcheck there changes nothing).
    rng = np.random.default_rng(5)
    x = rng.uniform(-4, 4, shape)
    n = x.size
    grad_outputs = [*np.eye(n).reshape(n, *shape), rng.normal(0, 1, shape)]
    out = run(P.sigmoid_function_vjps, x, grad_outputs)
    call = C.Call(f"y = {KATA}.SigmoidFunction.apply(x)", C.tensor("x", "float64", shape))
    expect_close(out["y"], O.sigmoid(x), O.FD64, call, "y", dtype="float64")
    if out["vjps"] is None:
        fail(
            msg("called", call=call),
            msg("no_grad_fn"),
        )
    jacobian = numerical_jacobian(O.sigmoid, x)  # ∂y_i/∂x_j: diagonal for an elementwise function
    for k, (g, got) in enumerate(zip(grad_outputs, out["vjps"])):
        which = msg("arg_basis", name="grad_output", k=k) if k < n else msg("arg_random", name="grad_output")
        backward_call = C.Call(f"{KATA}.SigmoidFunction.backward(ctx, grad_output)", which, after=call)
        expected = (g.reshape(-1) @ jacobian).reshape(shape)  # the vector-Jacobian product gᵀJ
        try:
            expect_close(got, expected, O.FD64, backward_call, "∂L/∂x", dtype="float64")
        except JudgeFailed as failed:  # the same failure, with what gradcheck would have said
            failed.failure.lines.append(msg("gradcheck_explained"))
            raise JudgeFailed(failed.failure) from None


# --- the edges of the contracts --------------------------------------------------------------


def soft_problem(seed, input_size, hidden_size, batch, scale=1.0):
    """Random weights, inputs and targets anywhere in [0, 1] (BCE takes probabilities, not only labels)."""
    rng = np.random.default_rng(seed)
    params = O.random_xor_params(rng, input_size, hidden_size, scale=scale)
    return params, rng.normal(0, 1.5, (batch, input_size)), rng.uniform(0, 1, batch)


@pytest.mark.part("manual_gradients")
@pytest.mark.parametrize(("input_size", "hidden_size", "batch"), [(2, 2, 1), (3, 4, 1), (2, 3, 5), (5, 2, 9)], ids=str)
def test_manual_gradients_for_any_batch_and_soft_targets(run, input_size, hidden_size, batch):
    params, x, t = soft_problem(batch + input_size, input_size, hidden_size, batch)
    expected = O.numerical_gradient(lambda p: O.xor_loss(p, x, t), params)
    call = C.Call(
        f"{KATA}.manual_gradients(net, x, t)",
        C.network("net", (input_size, hidden_size, 1), "float64"),
        C.batch("x, t", batch),
        C.targets("t", np.round(t, 3).tolist()),
    )
    out = run(P.manual_gradients, params, x, t, "float64")
    judge_manual(out, params, call, expected, O.FD64, "float64", batch, sent=(x, t))


def saturating_problem(dtype):
    """Output weights of scale 40: some outputs round to exactly 0 or 1 in ``dtype`` (checked here)."""
    params, x, t = soft_problem(21, 3, 4, 8)
    params["linear_ho.weight"] = params["linear_ho.weight"] * 40
    t = np.round(t)
    z2 = O.xor_forward(params, x)[0] @ params["linear_ho.weight"].T + params["linear_ho.bias"]
    y = 1 / (1 + np.exp(-z2.astype(dtype)))
    assert np.any((y == 1) | (y == 0)), "the judge's saturating data must saturate"
    return params, x, t


@pytest.mark.part("manual_gradients")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_manual_gradients_stay_finite_when_the_outputs_saturate(run, dtype):
    # Where y rounds to 1, finite differences of BCE's clamped log and torch's own BCELoss backward both
    # break down; the closed form (y - t)/M in float64 is the oracle. Tolerance: the dtype's usual one.
    params, x, t = saturating_problem(dtype)
    expected = O.xor_gradients(params, x, t)
    call = C.Call(f"{KATA}.manual_gradients(net, x, t)", C.network("net", (3, 4, 1), dtype), msg("arg_saturating"))
    out = run(P.manual_gradients, params, x, t, dtype)
    judge_manual(out, params, call, expected, tol_for(dtype), dtype, 8, sent=(x, t), nonfinite_cause="cause_saturation")


@pytest.mark.part("manual_gradients")
@pytest.mark.parametrize("seed", [0, 5])
def test_manual_gradients_on_the_chapters_data_with_other_weights(run, seed):
    # The chapter's exact call, manual_gradients(net, x, t) on the XOR data, from weights it never printed.
    torch.manual_seed(seed)
    params = {k: v.astype(np.float64) for k, v in O.params_of(O.oracle_network(2, 2, 1)).items()}
    x, t = O.XOR_X, O.XOR_T
    expected = O.numerical_gradient(lambda p: O.xor_loss(p, x, t), params)
    out = run(P.manual_gradients, params, x, t, "float32")
    call = C.Call(
        f"{KATA}.manual_gradients(net, x, t)", C.seeded_network("net", (2, 2, 1), seed, "float32"), C.xor_data()
    )
    judge_manual(out, params, call, expected, O.FLOAT32, "float32", 4, sent=(x, t))


SIGMOID_EXTREMES = [-1000.0, -710.0, -100.0, -88.8, -20.0, 0.0, 20.0, 88.8, 100.0, 710.0, 1000.0]


@pytest.mark.part("SigmoidFunction")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_function_stays_finite_at_the_extremes(run, dtype):
    x = np.array(SIGMOID_EXTREMES, dtype=dtype)
    grad_out = np.linspace(-2, 2, x.size).astype(dtype)
    out = run(P.sigmoid_function, x, grad_out)
    call = C.Call(
        f"y = {KATA}.SigmoidFunction.apply(x); torch.autograd.grad(y, x, g)", C.values("x", SIGMOID_EXTREMES, dtype)
    )
    # σ underflows or rounds to 1 in the tails: the dtype's absolute tolerance applies there.
    tol = O.FLOAT32 if dtype == "float32" else O.FD64
    expect_close(out["y"], O.sigmoid(x), tol, call, "y", dtype=dtype, nonfinite_cause="cause_overflow")
    if out["grad"] is None:
        fail(
            msg("called", call=call),
            msg("wrong_type", got=msg("kind_no_grad_fn"), expected=msg("expected_from_x")),
        )
    expect_close(
        out["grad"], grad_out * O.sigmoid_prime(x), tol, call, "∂L/∂x", dtype=dtype, nonfinite_cause="cause_overflow"
    )


@pytest.mark.part("SigmoidFunction")
def test_sigmoid_function_backward_leaves_grad_output_alone(run):
    # grad_output.mul_(σ') gives the right gradient and changes the caller's g: the version counter tells.
    rng = np.random.default_rng(14)
    x, g = rng.uniform(-4, 4, (6,)), rng.normal(0, 1, (6,))
    out = run(P.sigmoid_function_grad_output_after, x, g)
    call = C.Call(
        f"y = {KATA}.SigmoidFunction.apply(x); torch.autograd.grad(y, x, g)", C.tensors("x, g", "float64", [6])
    )
    if out["grad"] is None:
        fail(msg("called", call=call), msg("no_grad_fn"))
    expect_close(out["grad"], g * O.sigmoid_prime(x), O.FD64, call, "∂L/∂x", dtype="float64")
    expect_untouched(call, f"{KATA}.SigmoidFunction.backward", {"g": as_sent(g)}, {"g": out["g_after"]})
