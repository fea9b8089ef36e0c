"""k05 · Backpropagation by hand: every gradient of the XOR network, and sigmoid's backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from backprop_katas import oracles as O
from backprop_katas.judge import expect_close, expect_gradients, fail
from backprop_katas.messages import say
from backprop_katas.probes import k05_backprop as P

KATA = "k05_backprop"

# (input size, hidden size, batch size): the chapter's network first, then others.
SIZES = [(2, 2, 4), (2, 5, 7), (3, 1, 2), (4, 3, 16)]


def problem(seed, input_size, hidden_size, batch):
    rng = np.random.default_rng(seed)
    params = O.random_xor_params(rng, input_size, hidden_size)
    x = rng.normal(0, 1.5, (batch, input_size))
    t = rng.integers(0, 2, batch).astype(np.float64)
    return params, x, t


def without_sigmoid_derivative(params, x, t):
    """What a learner gets who forgets σ' on the way back through the hidden layer."""
    _a1, y = O.xor_forward(params, x)
    delta2 = (y - t.reshape(y.shape)) / y.size
    delta1 = delta2 @ params["linear_ho.weight"]  # missing: * a1 * (1 - a1)
    return {"linear_ih.weight": {"cause_no_activation_derivative": delta1.T @ x},
            "linear_ih.bias": {"cause_no_activation_derivative": delta1.sum(axis=0)}}  # fmt: skip


# --- tests ----------------------------------------------------------------------------------


def judge_manual(out, params, call, expected, tol, dtype, batch, candidates=None):
    after = out["params_after"]  # the network's parameters after the call, compared here with what was sent
    changed = [name for name in params
               if not np.array_equal(np.asarray(after.get(name)), np.asarray(params[name], dtype=dtype))]  # fmt: skip
    if changed:
        fail(
            say("called", call=call),
            f"manual_gradients changed the network's parameters {changed}: it must only compute gradients.\nmanual_gradients 가 네트워크의 매개변수 {changed} 를 바꿨습니다. 기울기만 계산해야 합니다.",
        )
    expect_gradients(out["grads"], expected, tol, call, dtype=dtype, batch=batch, candidates=candidates)


@pytest.mark.part("manual_gradients")
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(("input_size", "hidden_size", "batch"), SIZES, ids=lambda v: str(v))
def test_manual_gradients_match_finite_differences(run, input_size, hidden_size, batch, seed):
    params, x, t = problem(seed, input_size, hidden_size, batch)
    expected = O.numerical_gradient(lambda p: O.xor_loss(p, x, t), params)
    call = (f"{KATA}.manual_gradients(net, x, t) with Network({input_size}, {hidden_size}, 1) in float64, "
            f"a batch of {batch}")  # fmt: skip
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
    call = f"{KATA}.manual_gradients(net, x, t) with Network({input_size}, {hidden_size}, 1) in float64, a batch of {batch}"
    judge_manual(out, params, call, expected, O.AUTOGRAD64, "float64", batch, without_sigmoid_derivative(params, x, t))


@pytest.mark.part("manual_gradients")
def test_manual_gradients_on_the_chapters_xor_data_in_float32(run):
    torch.manual_seed(70)
    params = {k: v.astype(np.float64) for k, v in O.params_of(O.oracle_network(2, 2, 1)).items()}
    x, t = O.XOR_X, O.XOR_T
    expected = O.numerical_gradient(lambda p: O.xor_loss(p, x, t), params)
    out = run(P.manual_gradients, params, x, t, "float32")
    call = f"{KATA}.manual_gradients(net, x, t) with the chapter's Network(2, 2, 1) (seed 70) and XOR data, float32"
    judge_manual(out, params, call, expected, O.FLOAT32, "float32", 4, without_sigmoid_derivative(params, x, t))


@pytest.mark.part("SigmoidFunction")
@pytest.mark.parametrize("shape", [(5,), (3, 4)], ids=lambda s: f"shape{list(s)}")
def test_sigmoid_function_forward_and_backward(run, shape):
    rng = np.random.default_rng(4)
    x = rng.uniform(-6, 6, shape)
    grad_out = rng.normal(0, 1, shape)
    out = run(P.sigmoid_function, x, grad_out)
    call = f"y = {KATA}.SigmoidFunction.apply(x); torch.autograd.grad(y, x, g) with float64 x, g of shape {list(shape)}"
    expect_close(out["y"], O.sigmoid(x), O.FD64, call, "y", dtype="float64")
    if out["grad"] is None:
        fail(
            say("called", call=call),
            "y has no grad_fn: forward must return a tensor computed from x.\ny 에 grad_fn 이 없습니다. forward 는 x 로 계산한 텐서를 돌려줘야 합니다.",
        )
    local = O.central_difference(O.sigmoid, x)  # σ'(x), independent of the learner
    expect_close(out["grad"], grad_out * local, O.FD64, call, "∂L/∂x", dtype="float64",
                 candidates={"cause_no_grad_output": local})  # fmt: skip


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
    call = f"y = {KATA}.SigmoidFunction.apply(x) with float64 x of shape {list(shape)}"
    expect_close(out["y"], O.sigmoid(x), O.FD64, call, "y", dtype="float64")
    if out["vjps"] is None:
        fail(
            say("called", call=call),
            "y has no grad_fn: forward must return a tensor computed from x.\ny 에 grad_fn 이 없습니다. forward 는 x 로 계산한 텐서를 돌려줘야 합니다.",
        )
    jacobian = numerical_jacobian(O.sigmoid, x)  # ∂y_i/∂x_j: diagonal for an elementwise function
    for k, (g, got) in enumerate(zip(grad_outputs, out["vjps"])):
        which = f"grad_output = e_{k}" if k < n else "a random grad_output"
        backward_call = f"{KATA}.SigmoidFunction.backward(ctx, grad_output) after {call}, with {which}"
        expected = (g.reshape(-1) @ jacobian).reshape(shape)  # the vector-Jacobian product gᵀJ
        try:
            expect_close(got, expected, O.FD64, backward_call, "∂L/∂x", dtype="float64")
        except pytest.fail.Exception as failure:
            fail(str(failure), say("gradcheck_explained"))
