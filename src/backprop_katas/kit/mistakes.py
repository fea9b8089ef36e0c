"""The mistakes a judge can name, keyed by cause: what a learner making exactly that mistake leaves behind.

Beside the oracles (what a right answer gives), these are the candidate models: each takes
what the oracle knows and returns the wrong answer one mistake makes. A judge that sees a
value equal to a model's names the cause (a ``cause_*`` key of the message catalogue):

- ``PATTERNS``: mistakes :func:`backprop_katas.kit.judge.diagnose` recognises from the numbers
  alone, for any function (twice, half, sign, a missing or extra 1/N, transposed, not summed);
- the kata models below: a test computes them and passes them as ``candidates={cause: value}``;
- the contract models: what a mistake leaves in the probe's snapshots, named by
  ``expect_untouched`` (its ``torch_state`` too), ``expect_plain`` and the ``nonfinite_cause``
  of ``expect_close`` / ``expect_gradients``.

``MISTAKES`` lists every cause with its model and the judge that names it; the self-check
(tests/suite/test_diagnosis.py) runs each model through that judge, and finds a mutant in
tests/suite/kata_mutants.py whose first failure names the cause.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_katas.kit import oracles as O

# --- patterns: a wrong answer recognised from the right one alone ------------------------------


def twice(expected: np.ndarray, batch: int | None = None) -> np.ndarray:
    return 2.0 * expected


def half(expected: np.ndarray, batch: int | None = None) -> np.ndarray:
    return 0.5 * expected


def flipped(expected: np.ndarray, batch: int | None = None) -> np.ndarray:
    return -1.0 * expected


def without_mean(expected: np.ndarray, batch: int | None = None) -> np.ndarray:
    """The gradient of the summed loss: N times the mean's."""
    return float(batch or 1) * expected


def mean_twice(expected: np.ndarray, batch: int | None = None) -> np.ndarray:
    return expected / float(batch or 1)


def transposed(expected: np.ndarray, batch: int | None = None) -> np.ndarray:
    return np.asarray(expected).T


def not_summed(expected: np.ndarray, batch: int | None = None) -> np.ndarray:
    """One gradient per example, (N, *shape), whose sum over the batch is the right one."""
    n = batch or 1
    return np.repeat(np.asarray(expected)[None] / n, n, axis=0)


# In the order diagnose tries them; the mean patterns only for batches of more than 2 (else they are 2x and x/2).
PATTERNS: dict[str, Callable[[np.ndarray, int | None], np.ndarray]] = {
    "cause_factor_2": twice,
    "cause_half": half,
    "cause_sign": flipped,
    "cause_missing_mean": without_mean,
    "cause_extra_mean": mean_twice,
}
BATCH_PATTERNS = ("cause_missing_mean", "cause_extra_mean")


def offset(expected: np.ndarray, by: float = 2.0) -> np.ndarray:
    """The right value plus the same constant everywhere (2 * x + 2 for 2 * x): a term too many."""
    return np.asarray(expected, dtype=np.float64) + by


def constant_offset(got: np.ndarray, expected: np.ndarray) -> float | None:
    """The constant ``got - expected`` when it is the same (and not 0) at two or more elements, else None.

    One element has some offset from any value, so it names nothing; nor does a difference that varies."""
    diff = np.asarray(got, dtype=np.float64) - np.asarray(expected, dtype=np.float64)
    if diff.size < 2 or not np.all(np.isfinite(diff)):
        return None
    c = float(np.mean(diff))
    scale = max(float(np.max(np.abs(expected))), 1.0)
    if abs(c) < 1e-6 * scale or not np.allclose(diff, c, rtol=1e-4, atol=1e-7 * scale):
        return None
    return c


# --- kata models: passed by a test as candidates={cause: model(...)} ---------------------------


def forward_difference(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float) -> np.ndarray:
    """(f(x + h) - f(x)) / h in float64: numerical_derivative written as a forward difference."""
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x)) / h


def grad_reset(once: np.ndarray, times: int = 1) -> np.ndarray:
    """``times`` backward() calls with .grad reset (or x rebuilt) in between: one call's gradient."""
    return np.asarray(once)


def without_activation_derivative(
    params: Mapping[str, np.ndarray], x: np.ndarray, t: np.ndarray
) -> dict[str, np.ndarray]:
    """manual_gradients without σ' on the way back through the hidden layer: the hidden layer's gradients."""
    x = np.asarray(x, dtype=np.float64)
    _a1, y = O.xor_forward(params, x)
    delta2 = (y - np.asarray(t, dtype=np.float64).reshape(y.shape)) / y.size
    delta1 = delta2 @ params["linear_ho.weight"]  # missing: * a1 * (1 - a1)
    return {"linear_ih.weight": delta1.T @ x, "linear_ih.bias": delta1.sum(axis=0)}


def without_grad_output(x: np.ndarray) -> np.ndarray:
    """SigmoidFunction.backward returning σ'(x) alone, not grad_output · σ'(x)."""
    return O.sigmoid_prime(x)


def without_zero_grad(
    params: Mapping[str, np.ndarray], x: np.ndarray, t: np.ndarray, steps: int, lr: float, log_every: int
) -> np.ndarray:
    """The logged losses of the chapter's loop without zero_grad(): the gradients add up over the steps."""
    history, _ = O.xor_train(params, x, t, steps, lr, log_every, zero_grad=False)
    return np.array([loss for _, loss in history])


def divided_by_four(losses: np.ndarray, batch: int) -> np.ndarray:
    """The mean loss of N examples computed as a sum divided by the chapter's 4."""
    return np.asarray(losses, dtype=np.float64) * batch / 4


def without_biases(layer_sizes: list[int]) -> int:
    """mlp_parameter_count with the weights only: Σ n_in · n_out, no n_out biases per layer."""
    return sum(a * b for a, b in itertools.pairwise(layer_sizes))


def one_layer_short(layer_sizes: list[int]) -> int:
    """mlp_parameter_count that leaves the last layer out (range(len(sizes) - 2): off by one layer)."""
    pairs = list(itertools.pairwise(layer_sizes))[:-1]
    return sum(a * b + b for a, b in pairs)


def count_candidates(layer_sizes: list[int]) -> dict[str, int]:
    """The counts the layer-count mistakes give, keyed by cause (expect_equal's candidates)."""
    return {"cause_no_biases": without_biases(layer_sizes), "cause_layer_short": one_layer_short(layer_sizes)}


# --- contract models: what a mistake leaves in a probe's snapshots -----------------------------


def written_in_place(before: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's tensor written and written back (x += h; ...; x -= h): same values, a later version."""
    return {**before, "version": int(before.get("version") or 0) + 2}


def reseeded(state: Mapping[str, Any]) -> dict[str, Any]:
    """torch.manual_seed inside the function: another random generator state after it."""
    return {**state, "rng": f"not {state.get('rng')}"}


def grad_mode_left_off(state: Mapping[str, Any]) -> dict[str, Any]:
    return {**state, "grad_enabled": not state.get("grad_enabled", True)}


def default_dtype_changed(state: Mapping[str, Any]) -> dict[str, Any]:
    return {**state, "default_dtype": "float64" if state.get("default_dtype") != "float64" else "float32"}


def tensor_returned(value: Any) -> dict[str, Any]:
    """A 0-d tensor where a Python number belongs (a state.typed record)."""
    return {"value": value, "type": "torch.Tensor"}


def numpy_returned(value: Any) -> dict[str, Any]:
    return {"value": value, "type": "numpy.int64"}


def overflowing_sigmoid(x: np.ndarray) -> np.ndarray:
    """exp(x) / (1 + exp(x)): inf / inf = NaN for large x."""
    x = np.asarray(x)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(x) / (1 + np.exp(x))


def autograd_through_kink(x: np.ndarray) -> np.ndarray:
    """The gradient autograd finds through a sigmoid built on exp(-|x|) with torch.abs (or x.abs(),
    torch.minimum(x, -x)): right everywhere but at x = 0, where |x| has no derivative and torch takes 0."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x == 0, 0.0, O.sigmoid_prime(x))


def saturating_gradients(params: Mapping[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """∂L/∂y = (y - t)/(y(1 - y)) then times y(1 - y): 0/0 where y rounds to 0 or 1."""
    x = np.asarray(x, dtype=np.float64)
    a1, y = O.xor_forward(params, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        dy = (y - np.asarray(t, dtype=np.float64).reshape(y.shape)) / (y * (1 - y)) / y.size
        delta2 = dy * y * (1 - y)
    delta1 = (delta2 @ params["linear_ho.weight"]) * a1 * (1 - a1)
    return {
        "linear_ih.weight": delta1.T @ x,
        "linear_ih.bias": delta1.sum(axis=0),
        "linear_ho.weight": delta2.T @ a1,
        "linear_ho.bias": delta2.sum(axis=0),
    }


# --- k07: an autograd engine's mistakes ----------------------------------------------------


def grad_overwritten(contributions: Sequence[float]) -> float:
    """``child.grad = ...`` instead of ``+=``: a node used several times keeps its last contribution."""
    return float(contributions[-1])


def walked_per_use(contributions: Sequence[float], local: float) -> float:
    """Recursion without a topological order: a shared node passes its grad on after each user adds
    to it, so its input gets the running sums (users in the order given) times its local derivative."""
    total = passed = 0.0
    for contribution in contributions:
        total += contribution
        passed += total * local
    return passed


def backward_twice(expected: np.ndarray) -> np.ndarray:
    """A second backward() on a one-level graph without zeroing the grads first: twice the gradients."""
    return 2.0 * np.asarray(expected, dtype=np.float64)


def power_rule_exponent(x: np.ndarray, n: float) -> np.ndarray:
    """d/dx xⁿ written n · xⁿ (the exponent not lowered by one)."""
    return n * np.asarray(x, dtype=np.float64) ** n


def sigmoid_local_from_input(x: np.ndarray) -> np.ndarray:
    """σ's local derivative from the input x: x(1 - x) instead of s(1 - s) with s = σ(x)."""
    x = np.asarray(x, dtype=np.float64)
    return x * (1 - x)


def reflected_missing() -> dict[str, str]:
    """What a probe catches from ``2 * v`` without ``__rmul__``: the error's type and message."""
    return {"type": "TypeError", "message": "unsupported operand type(s) for *: 'int' and 'Value'"}


def stack_overflow() -> dict[str, str]:
    """What a probe catches from a recursive walk on a 5,000-deep chain."""
    return {"type": "RecursionError", "message": "maximum recursion depth exceeded"}


# --- every cause, its model and the judge that names it ----------------------------------------


@dataclass(frozen=True)
class Mistake:
    model: Callable[..., Any]
    judge: str  # the judge function that names the cause when it sees the model's output


MISTAKES: dict[str, Mistake] = {
    **{cause: Mistake(model, "diagnose") for cause, model in PATTERNS.items()},
    "cause_transposed": Mistake(transposed, "diagnose"),
    "cause_offset": Mistake(offset, "diagnose"),
    "cause_not_summed": Mistake(not_summed, "diagnose"),
    "cause_forward_difference": Mistake(forward_difference, "expect_close"),
    "cause_grad_reset": Mistake(grad_reset, "expect_close"),
    "cause_no_activation_derivative": Mistake(without_activation_derivative, "expect_gradients"),
    "cause_no_grad_output": Mistake(without_grad_output, "expect_close"),
    "cause_no_zero_grad": Mistake(without_zero_grad, "expect_close"),
    "cause_fixed_batch_size": Mistake(divided_by_four, "expect_close"),
    "cause_no_biases": Mistake(without_biases, "expect_equal"),
    "cause_layer_short": Mistake(one_layer_short, "expect_equal"),
    "cause_in_place": Mistake(written_in_place, "expect_untouched"),
    "cause_rng_side_effect": Mistake(reseeded, "expect_untouched"),
    "cause_grad_mode_side_effect": Mistake(grad_mode_left_off, "expect_untouched"),
    "cause_default_dtype_side_effect": Mistake(default_dtype_changed, "expect_untouched"),
    "cause_tensor_not_number": Mistake(tensor_returned, "expect_plain"),
    "cause_numpy_number": Mistake(numpy_returned, "expect_plain"),
    "cause_overflow": Mistake(overflowing_sigmoid, "expect_close"),
    "cause_kink_at_zero": Mistake(autograd_through_kink, "expect_close"),
    "cause_saturation": Mistake(saturating_gradients, "expect_gradients"),
    "cause_grad_overwritten": Mistake(grad_overwritten, "expect_close"),
    "cause_no_topological_order": Mistake(walked_per_use, "expect_close"),
    "cause_backward_not_reset": Mistake(backward_twice, "expect_close"),
    "cause_power_exponent": Mistake(power_rule_exponent, "expect_close"),
    "cause_sigmoid_from_input": Mistake(sigmoid_local_from_input, "expect_close"),
    "cause_missing_reflected": Mistake(reflected_missing, "expect_no_error"),
    "cause_recursion_overflow": Mistake(stack_overflow, "expect_no_error"),
}
