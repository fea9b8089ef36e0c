"""k06 · Training XOR: the chapter's loop (BCE, SGD lr 0.5, 10001 steps, seed 70), by autograd and by hand."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from backprop_katas import oracles as O
from backprop_katas.judge import expect_array, expect_close, expect_equal, fail, kind_of
from backprop_katas.messages import msg, say
from backprop_katas.probes import k06_xor_training as P

KATA = "k06_xor_training"
TRAINERS = ["train", "train_by_hand"]
# Each trainer is a part of its own (katas.toml weights): one mark per test, on its parameter.
BY_TRAINER = [pytest.param(name, marks=pytest.mark.part(name)) for name in TRAINERS]
CHAPTER_STEPS = [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000]
XOR_PREDICTION = np.array([False, True, True, False])


# --- the judge's side -----------------------------------------------------------------------


@functools.cache
def oracle_chapter_run():
    torch.manual_seed(70)
    O.oracle_network(2, 2, 1)
    initial = O.params_of(O.oracle_network(2, 2, 1))
    return initial, *O.oracle_train(initial, O.XOR_X, O.XOR_T, 10001, 0.5, 1000, "float32")


_chapter_runs: dict[tuple[str, str], dict] = {}


def chapter_run(run, target, fn_name):
    """The learner's chapter run, once per target and trainer (10001 steps take seconds)."""
    key = (str(target.path), fn_name)
    if key not in _chapter_runs:
        _chapter_runs[key] = run(P.chapter, fn_name)
    return _chapter_runs[key]


def expect_history(got, expected, tol, call, candidates=None):
    """A list of (step, loss) pairs: the steps exactly, the losses within tol."""
    if not isinstance(got, list) or not all(isinstance(p, list) and len(p) == 2 for p in got):
        fail(say("called", call=call), say("wrong_type", got=kind_of(got), expected="a list of (step, loss) pairs"))
    expect_equal([p[0] for p in got], [p[0] for p in expected], call, "The logged steps")
    losses = np.array([float(np.asarray(p[1])) for p in got])
    expect_close(losses, np.array([p[1] for p in expected]), tol, call, "The logged losses", candidates=candidates)


def expect_params(got, expected, tol, call):
    for name, value in expected.items():
        expect_close(got[name], value, tol, call, msg("what_after_training", name=name))


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.part("xor_data")
def test_xor_data_is_the_chapters_four_examples(run):
    call = f"x, t = {KATA}.xor_data()"
    got = run(P.xor_data)
    if not isinstance(got, list) or len(got) != 2:
        fail(say("called", call=call), say("wrong_type", got=kind_of(got), expected="a pair (x, t)"))
    x, t = got
    expect_array(x, call, "x", (4, 2), None)
    expect_array(t, call, "t", (4,), None)
    for name, value in (("x", x), ("t", t)):
        if value.dtype.kind != "f":
            fail(
                say("called", call=call),
                say("wrong_dtype", what=name, got=value.dtype, expected="a float dtype (BCELoss needs floats)"),
            )
    expect_equal(x, O.XOR_X.astype(x.dtype), call, "x")
    expect_equal(t, O.XOR_T.astype(t.dtype), call, "t")


@pytest.mark.part("predict")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_predict_thresholds_the_output_at_one_half(run, seed, dtype):
    rng = np.random.default_rng(seed)
    params = O.random_xor_params(rng, 3, 4, scale=2.0)
    x = rng.normal(0, 1, (9, 3))
    call = f"{KATA}.predict(net, x) with a {dtype} Network(3, 4, 1) and x of shape (9, 3)"
    got = run(P.predict, params, x, dtype)
    expect_array(got, call, "The prediction", (9,), "bool")
    _, y = O.xor_forward(params, x.astype(dtype))
    expect_equal(got, y.reshape(-1) >= 0.5, call, "The prediction")


@pytest.mark.part("predict")
def test_predict_counts_exactly_one_half_as_true(run):
    zeros = {name: np.zeros_like(v) for name, v in O.random_xor_params(np.random.default_rng(0), 2, 2).items()}
    call = f"{KATA}.predict(net, x) with every weight and bias 0, so net(x) = σ(0) = 0.5 exactly"
    got = run(P.predict, zeros, O.XOR_X, "float32")
    expect_array(got, call, "The prediction", (4,), "bool")
    expect_equal(got, np.ones(4, dtype=bool), call, "The prediction")


@pytest.mark.part("predict")
def test_predict_after_the_chapters_training_gives_xor(run):
    _, _, final = oracle_chapter_run()
    call = f"{KATA}.predict(net, x) with the chapter's network after 10001 steps, on the XOR inputs"
    got = run(P.predict, final, O.XOR_X, "float32")
    expect_array(got, call, "The prediction", (4,), "bool")
    expect_equal(got, XOR_PREDICTION, call, "The prediction")


@pytest.mark.parametrize(("seed", "lr", "log_every"), [(1, 0.5, 1), (2, 0.1, 7), (3, 1.0, 50)])
@pytest.mark.parametrize("fn_name", BY_TRAINER)
def test_training_follows_the_oracle_trainer(run, fn_name, seed, lr, log_every):
    rng = np.random.default_rng(seed)
    params = O.random_xor_params(rng, 2, 3)
    steps = 300
    call = (f"{KATA}.{fn_name}(net, x, t, steps={steps}, lr={lr}, log_every={log_every}) with a float64 "
            f"Network(2, 3, 1) and the XOR data")  # fmt: skip
    out = run(P.train, fn_name, params, O.XOR_X, O.XOR_T, steps, lr, log_every, "float64")
    expected_history, expected_params = O.oracle_train(params, O.XOR_X, O.XOR_T, steps, lr, log_every, "float64")
    wrong_history, _ = O.oracle_train(params, O.XOR_X, O.XOR_T, steps, lr, log_every, "float64", zero_grad=False)
    candidates = {"cause_no_zero_grad": np.array([p[1] for p in wrong_history])} if fn_name == "train" else None
    expect_history(out["history"], expected_history, O.TRAJECTORY64, call, candidates)
    expect_params(out["params"], expected_params, O.TRAJECTORY64, call)


@pytest.mark.parametrize("fn_name", BY_TRAINER)
def test_chapter_training_reaches_the_chapters_losses(run, target, fn_name):
    out = chapter_run(run, target, fn_name)
    _initial, oracle_history, oracle_final = oracle_chapter_run()
    call = f"torch.manual_seed(70); ...; {KATA}.{fn_name}(net, x, t) (default steps, lr, log_every) with the chapter's Network(2, 2, 1) and XOR data"
    history = out["history"]
    expect_history(history, oracle_history, O.TRAJECTORY32, call)
    claimed = dict((int(s), float(np.asarray(v))) for s, v in history)
    for step, limit in ((2000, 0.025), (10000, 0.003)):
        if not claimed[step] <= limit:
            fail(
                say("called", call=call),
                say(
                    "not_equal",
                    what=msg("what_loss_at_step", step=step),
                    got=f"{claimed[step]:.4f}",
                    expected=f"≤ {limit}",
                ),
            )
    # Verify, don't trust: the judge evaluates the returned weights with its own forward pass.
    expect_params(out["params"], oracle_final, O.TRAJECTORY32, call)
    final = {k: np.asarray(v, dtype=np.float64) for k, v in out["params"].items()}
    loss = O.xor_loss(final, O.XOR_X, O.XOR_T)
    if not loss <= 0.003:
        fail(
            say("called", call=call),
            say("not_equal", what="The loss of the trained weights", got=f"{loss:.4f}", expected="≤ 0.003"),
        )
    expect_equal(
        O.xor_forward(final, O.XOR_X)[1].reshape(-1) >= 0.5, XOR_PREDICTION, call, "The trained network's predictions"
    )


@pytest.mark.reference_only
@pytest.mark.parametrize("fn_name", BY_TRAINER)
def test_reference_reproduces_the_chapters_printed_table(run, target, fn_name):
    out = chapter_run(run, target, fn_name)
    printed = {int(step): round(float(np.asarray(loss)), 4) for step, loss in out["history"]}
    expect_equal(
        printed, O.CHAPTER_LOSSES, f"solutions/{KATA}.{fn_name} in the chapter's setup", "The loss table (4 decimals)"
    )
