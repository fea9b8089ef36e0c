"""The oracles agree with each other: the closed-form trainer follows torch's own trainer, and the
function zoo's derivatives are the derivatives of its functions.

k06 judges the chapter's 10001-step runs with ``oracles.xor_train`` (float64 numpy, closed-form
gradients, 0.2 s) rather than ``oracles.oracle_train`` (torch's nn.Linear, BCELoss and SGD, 3 s);
this check holds the two together where the kata tests use them, mistakes included.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from backprop_katas.kit import oracles as O
from backprop_katas.kit.zoo import ONE, TWO


def assert_same_run(got, expected, tol):
    (history, params), (expected_history, expected_params) = got, expected
    assert [s for s, _ in history] == [s for s, _ in expected_history]
    np.testing.assert_allclose([v for _, v in history], [v for _, v in expected_history], tol.rtol, tol.atol)
    for name, value in expected_params.items():
        np.testing.assert_allclose(params[name], value, tol.rtol, tol.atol, err_msg=name)


@pytest.mark.parametrize(("seed", "discarded"), [(70, 1), (7, 0)], ids=["the-chapters-seed-70", "seed-7"])
def test_closed_form_trainer_follows_torchs_on_the_chapters_call_in_float32(seed, discarded):
    initial = O.seeded_network_params(seed, discarded)
    torch_run = O.oracle_train(initial, O.XOR_X, O.XOR_T, 10001, 0.5, 1000, "float32")
    assert_same_run(O.xor_train(initial, O.XOR_X, O.XOR_T, 10001, 0.5, 1000), torch_run, O.TRAJECTORY32)
    if seed == 70:  # and it reproduces the chapter's printed table
        assert {s: round(v, 4) for s, v in torch_run[0]} == O.CHAPTER_LOSSES


@pytest.mark.parametrize("zero_grad", [True, False], ids=["right", "without-zero_grad"])
@pytest.mark.parametrize(("batch", "inputs"), [(4, 2), (1, 3), (7, 2)], ids=str)
def test_closed_form_trainer_follows_torchs_in_float64(batch, inputs, zero_grad):
    rng = np.random.default_rng(batch + inputs)
    params = O.random_xor_params(rng, inputs, 3)
    x, t = rng.normal(0, 1, (batch, inputs)), rng.uniform(0, 1, batch)
    expected = O.oracle_train(params, x, t, 300, 0.7, 7, "float64", zero_grad=zero_grad)
    assert_same_run(O.xor_train(params, x, t, 300, 0.7, 7, zero_grad=zero_grad), expected, O.TRAJECTORY64)


@pytest.mark.parametrize("name", sorted(ONE))
def test_the_zoos_derivatives_match_central_differences(name):
    x = np.random.default_rng(3).uniform(-2, 2, 20)
    fn = ONE[name]
    np.testing.assert_allclose(fn.prime(x), O.central_difference(fn.numpy, x), O.FD64.rtol, O.FD64.atol)
    np.testing.assert_allclose(fn.torch(torch.tensor(x)).numpy(), fn.numpy(x), O.AUTOGRAD64.rtol, O.AUTOGRAD64.atol)


@pytest.mark.parametrize("name", sorted(TWO))
def test_the_zoos_partial_derivatives_match_central_differences(name):
    x, y = np.random.default_rng(4).uniform(-2, 2, (2, 20))
    fn = TWO[name]
    np.testing.assert_allclose(fn.dx(x, y), O.central_difference(lambda v: fn.numpy(v, y), x), 1e-6, 1e-8)
    np.testing.assert_allclose(fn.dy(x, y), O.central_difference(lambda v: fn.numpy(x, v), y), 1e-6, 1e-8)
    got = fn.torch(torch.tensor(x), torch.tensor(y)).numpy()
    np.testing.assert_allclose(got, fn.numpy(x, y), O.AUTOGRAD64.rtol, O.AUTOGRAD64.atol)
