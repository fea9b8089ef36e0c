"""The diagnosis names the right cause: one mutant per cause, and no cause for a right answer.

Each mutant makes exactly one mistake in a copy of solutions/. Its kata's
tests run with ``-x``, as ``katas`` runs them, so the claim is about what a
learner actually sees: the *first* failure names this cause, and no other.
The causes are read as the keys the failure carries (its data), never out of
its sentences.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import copy_solutions, run_kata_tests
from kata_mutants import MUTANTS as ALL_MUTANTS

from backprop_katas.kit import mistakes as M
from backprop_katas.kit import oracles as O
from backprop_katas.kit.judge import (
    CAUSES_ATTRIBUTE,
    JudgeFailed,
    as_sent,
    cause_key,
    diagnose,
    expect_close,
    expect_equal,
    expect_gradients,
    expect_no_error,
    expect_plain,
    expect_untouched,
)
from backprop_katas.kit.zoo import ONE
from backprop_katas.lang import keys

CAUSES = sorted(k for k in keys() if k.startswith("cause_") and k != "cause_for")

MUTANTS = {m.cause: m for m in ALL_MUTANTS if m.cause}


def test_every_cause_has_a_mutant():
    assert sorted(MUTANTS) == CAUSES


@pytest.mark.parametrize("cause", CAUSES)
def test_the_first_failure_of_a_mutant_names_exactly_its_cause(cause, tmp_path, monkeypatch):
    monkeypatch.setenv("KATAS_LANG", "en")
    kata, old, new = MUTANTS[cause].kata, MUTANTS[cause].old, MUTANTS[cause].new
    folder = copy_solutions(tmp_path)
    path = folder / f"{kata}.py"
    source = path.read_text(encoding="utf-8")
    assert source.count(old) == 1, f"the mutant's anchor is not unique in solutions/{kata}.py: {old!r}"
    path.write_text(source.replace(old, new), encoding="utf-8")

    outcome = run_kata_tests(kata, folder, "-x")
    assert outcome.failed, f"the {cause} mutant of {kata} passes every test"
    (nodeid, text), *_ = outcome.failed.items()
    failure = outcome.failures.get(nodeid)
    assert failure is not None, f"{nodeid} failed without the judge's data:\n{text}"
    assert failure.cause_keys == [cause], f"{nodeid} says (each cause once, with the parameters it affects):\n{text}"
    if MUTANTS[cause].kata == "k05_backprop" and cause in M.BATCH_PATTERNS:
        assert "1/M" in text or "by M" in text, f"k05's docstring divides by M; the cause must say M:\n{text}"


def test_diagnose_is_silent_on_right_answers_of_every_shape():
    # With the kata tests passing on solutions/ (the main run), this is the other half of
    # "no cause for a correct solution": the numbers of a right answer match no pattern.
    rng = np.random.default_rng(0)
    for shape in [(), (5,), (3, 4), (4, 3), (6, 1)]:
        expected = rng.normal(size=shape)
        candidates = {"cause_no_activation_derivative": 3 * expected + 1}
        assert diagnose(expected.copy(), expected, batch=6, candidates=candidates) == []
    params = O.random_xor_params(rng, 2, 3)
    grads = O.numerical_gradient(lambda p: O.xor_loss(p, O.XOR_X, O.XOR_T), params)
    for grad in grads.values():
        assert diagnose(grad, grad, batch=4) == []


@pytest.mark.parametrize(
    ("cause", "make"),
    [
        ("cause_factor_2", lambda g: 2 * g),
        ("cause_half", lambda g: g / 2),
        ("cause_sign", lambda g: -g),
        ("cause_missing_mean", lambda g: 8 * g),
        ("cause_extra_mean", lambda g: g / 8),
        ("cause_transposed", lambda g: g.T),
        ("cause_offset", lambda g: g + 2),
        ("cause_offset", lambda g: g - 0.5),
    ],
)
def test_diagnose_recognises_each_pattern_from_the_numbers_alone(cause, make):
    expected = np.random.default_rng(1).normal(size=(3, 5))
    causes = diagnose(make(expected), expected, batch=8)
    assert {cause_key(c) for c in causes} == {cause}


def test_a_single_number_or_a_varying_difference_is_no_offset():
    # One value is some constant away from any other; a difference that varies is no constant term.
    assert diagnose(np.array([3.0]), np.array([1.0])) == []
    expected = np.arange(1.0, 6.0)
    assert diagnose(expected + np.linspace(0.5, 1.5, 5), expected) == []


def test_a_matching_candidate_outranks_a_ratio_that_happens_to_agree():
    expected = np.arange(1.0, 6.0)
    causes = diagnose(expected / 2, expected, candidates={"cause_grad_reset": expected / 2})
    assert {cause_key(c) for c in causes} == {"cause_grad_reset"}


# --- every cause: a candidate model, the judge that names it, a mutant that triggers it ----------

RNG = np.random.default_rng(2)
G = RNG.normal(size=(3, 5))  # a right gradient
X = RNG.uniform(-3, 3, 7)
PARAMS = O.random_xor_params(RNG, 2, 3)
DATA_X, DATA_T = RNG.normal(0, 1.5, (6, 2)), RNG.integers(0, 2, 6).astype(np.float64)
RUN = (PARAMS, DATA_X, DATA_T, 40, 0.5, 4)  # a short training run: params, x, t, steps, lr, log_every
LOSSES = np.array([loss for _, loss in O.xor_train(*RUN)[0]])
GLOBALS = {"rng": "0123456789abcdef", "default_dtype": "float32", "grad_enabled": True}
SATURATED = {**PARAMS, "linear_ho.bias": np.array([60.0])}  # σ(60) rounds to 1 in float64


def named(cause, model_output, right, tol=O.FD64, **judge):
    """What expect_close says of a model's output when the test passes it as the cause's candidate."""
    return expect_close, (model_output, right, tol, "f(x)"), {"candidates": {cause: model_output}, **judge}


RIGHT_GRADS = O.xor_gradients(PARAMS, DATA_X, DATA_T)
HIDDEN = M.without_activation_derivative(PARAMS, DATA_X, DATA_T)
HIDDEN_WRONG = {**RIGHT_GRADS, **HIDDEN}
HIDDEN_CANDIDATES = {name: {"cause_no_activation_derivative": value} for name, value in HIDDEN.items()}
SATURATED_WRONG = M.saturating_gradients(SATURATED, DATA_X, DATA_T)
SATURATED_RIGHT = O.xor_gradients(SATURATED, DATA_X, DATA_T)
SIZES = [3, 5, 4, 2]  # a network's layer sizes: three layers
EXTREMES = np.array([-100.0, 0.0, 100.0], dtype=np.float32)  # exp(100) overflows float32

# cause → (the judge that names it, its arguments): what each mistake's model leaves, judged.
DEMOS = {
    **{c: (diagnose, (M.PATTERNS[c](G, 8), G, 8), {}) for c in M.PATTERNS},
    "cause_transposed": (diagnose, (M.transposed(G), G, 8), {}),
    "cause_not_summed": (diagnose, (M.not_summed(G, 8), G, 8), {}),
    "cause_offset": (diagnose, (M.offset(G), G, 8), {}),
    "cause_forward_difference": named(
        "cause_forward_difference", M.forward_difference(ONE["cube"].numpy, X, 0.1), ONE["cube"].prime(X) + 0.01
    ),
    "cause_grad_reset": named("cause_grad_reset", M.grad_reset(ONE["sin"].prime(X), 3), 3 * ONE["sin"].prime(X)),
    "cause_kink_at_zero": named(
        "cause_kink_at_zero", M.autograd_through_kink(EXTREMES), O.sigmoid_prime(EXTREMES), inputs=("x", EXTREMES)
    ),
    "cause_no_grad_output": named("cause_no_grad_output", M.without_grad_output(X), -2.5 * O.sigmoid_prime(X)),
    "cause_no_zero_grad": named("cause_no_zero_grad", M.without_zero_grad(*RUN), LOSSES, O.TRAJECTORY64),
    "cause_fixed_batch_size": named("cause_fixed_batch_size", M.divided_by_four(LOSSES, 6), LOSSES, O.TRAJECTORY64),
    "cause_no_activation_derivative": (
        expect_gradients,
        (HIDDEN_WRONG, RIGHT_GRADS, O.FD64, "g(net, x, t)"),
        {"batch": 6, "candidates": HIDDEN_CANDIDATES},
    ),
    "cause_saturation": (
        expect_gradients,
        (SATURATED_WRONG, SATURATED_RIGHT, O.FD64, "g(net, x, t)"),
        {"nonfinite_cause": "cause_saturation"},
    ),
    "cause_overflow": (
        expect_close,
        (M.overflowing_sigmoid(EXTREMES), O.sigmoid(EXTREMES), O.FD64, "sigmoid(x)"),
        {"nonfinite_cause": "cause_overflow"},
    ),
    "cause_in_place": (expect_untouched, ("f(x)", "f", {"x": as_sent(X)}, {"x": M.written_in_place(as_sent(X))}), {}),
    **{
        cause: (expect_untouched, ("f(x)", "f", {}, {}, {"before": GLOBALS, "after": model(GLOBALS)}), {})
        for cause, model in (
            ("cause_rng_side_effect", M.reseeded),
            ("cause_grad_mode_side_effect", M.grad_mode_left_off),
            ("cause_default_dtype_side_effect", M.default_dtype_changed),
        )
    },
    **{
        cause: (
            expect_equal,
            (model(SIZES), M.without_biases(SIZES) + sum(SIZES[1:]), "count(sizes)", "The count"),
            {"candidates": M.count_candidates(SIZES)},
        )
        for cause, model in (("cause_no_biases", M.without_biases), ("cause_layer_short", M.one_layer_short))
    },
    "cause_tensor_not_number": (expect_plain, (M.tensor_returned(0.5), "float", "f(x)", "The loss"), {}),
    "cause_numpy_number": (expect_plain, (M.numpy_returned(9), "int", "count(m)", "The count"), {}),
    "cause_grad_overwritten": named("cause_grad_overwritten", M.grad_overwritten([3.0, 3.0]), 6.0),
    "cause_no_topological_order": named(
        "cause_no_topological_order", M.walked_per_use([2.0, 3.0], 1.5), M.walked_per_use([5.0], 1.5)
    ),
    "cause_backward_not_reset": named("cause_backward_not_reset", M.backward_twice(G[0]), G[0]),
    "cause_power_exponent": named("cause_power_exponent", M.power_rule_exponent(X, 3.0), 3.0 * X**2),
    "cause_sigmoid_from_input": named("cause_sigmoid_from_input", M.sigmoid_local_from_input(X), O.sigmoid_prime(X)),
    **{
        cause: (expect_no_error, (model(), "v.backward()", {model()["type"]: cause}), {})
        for cause, model in (
            ("cause_missing_reflected", M.reflected_missing),
            ("cause_recursion_overflow", M.stack_overflow),
        )
    },
}


def causes_named(judge, args, kwargs):
    """The cause keys a judge names, as data (never read back from a sentence)."""
    if judge is diagnose:
        return [cause_key(c) for c in judge(*args, **kwargs)]
    with pytest.raises(JudgeFailed) as failed:
        judge(*args, **kwargs)
    return getattr(failed.value, CAUSES_ATTRIBUTE)


def test_every_cause_has_a_candidate_model_and_a_mutant():
    assert sorted(M.MISTAKES) == CAUSES, "kit/mistakes.py MISTAKES and the catalogue's causes differ"
    assert sorted(DEMOS) == CAUSES
    assert sorted(MUTANTS) == CAUSES, "every cause needs a mutant (tests/suite/kata_mutants.py, cause=...)"


@pytest.mark.parametrize("cause", CAUSES)
def test_each_causes_model_is_named_by_its_judge(cause):
    judge, args, kwargs = DEMOS[cause]
    assert judge.__name__ == M.MISTAKES[cause].judge
    assert M.MISTAKES[cause].model.__module__ == M.__name__
    if judge is diagnose:  # a pattern is a mistake: it differs from the right answer
        assert np.shape(args[0]) != np.shape(args[1]) or not np.allclose(args[0], args[1])
    assert set(causes_named(judge, args, kwargs)) == {cause}  # once per parameter it is seen in
