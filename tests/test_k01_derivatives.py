"""k01 · Derivatives: f(x) = x², f'(x) = 2x, the central difference, the sigmoid and σ'."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_katas import oracles as O
from backprop_katas.judge import expect_array, expect_close, fail
from backprop_katas.messages import msg, say
from backprop_katas.probes import k01_derivatives as P

KATA = "k01_derivatives"
SHAPES = [(), (1,), (9,), (3, 4), (2, 3, 5)]
DTYPES = ["float32", "float64"]
CASES = [pytest.param(s, d, id=f"{d}-shape{list(s)}") for s in SHAPES for d in DTYPES]


def random_values(seed: int, shape: tuple[int, ...], dtype: str, low: float = -5.0, high: float = 5.0) -> np.ndarray:
    """Seeded inputs, negative values included, already rounded to the tested dtype."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, shape).astype(dtype)


# --- judges -------------------------------------------------------------------------------


def expect_input_unchanged(result, sent, call, function):
    """The probe hands back x as it is after the call; the judge compares it with what it sent."""
    after = result["x_after"]
    if not (isinstance(after, np.ndarray) and after.shape == np.shape(sent) and np.array_equal(after, sent)):
        fail(say("called", call=call), say("mutated_input", function=function, name="x"))


def judge_elementwise(result, sent, call, expected, dtype, tol):
    expect_input_unchanged(result, sent, call, call.split("(")[0])
    expect_array(result["y"], call, "The result", expected.shape, dtype)
    expect_close(result["y"], expected, tol, call)


def tol_for(dtype):
    return O.FD64 if dtype == "float64" else O.FLOAT32


@pytest.mark.part("function")
@pytest.mark.parametrize(("shape", "dtype"), CASES)
def test_function_squares_every_element(run, shape, dtype):
    x = random_values(1, shape, dtype)
    call = f"{KATA}.function(x) with x a {dtype} tensor of shape {list(shape)}"
    result = run(P.elementwise, "function", x, dtype)
    judge_elementwise(result, x, call, x.astype(np.float64) ** 2, dtype, tol_for(dtype))


@pytest.mark.part("prime_function")
@pytest.mark.parametrize(("shape", "dtype"), CASES)
def test_prime_function_matches_finite_differences(run, shape, dtype):
    x = random_values(2, shape, dtype)
    call = f"{KATA}.prime_function(x) with x a {dtype} tensor of shape {list(shape)}"
    result = run(P.elementwise, "prime_function", x, dtype)
    judge_elementwise(result, x, call, O.central_difference(lambda v: v**2, x), dtype, tol_for(dtype))


@pytest.mark.part("prime_function")
def test_function_and_prime_function_take_python_floats(run):
    values = [float(v) for v in random_values(3, (6,), "float64")] + [0.0, 4.0]
    for name, expected in (("function", [v * v for v in values]), ("prime_function", [2 * v for v in values])):
        got = run(P.on_floats, name, values)
        for value, g, e in zip(values, got, expected):
            expect_close(g, e, O.AUTOGRAD64, f"{KATA}.{name}({value!r})")


@pytest.mark.part("numerical_derivative")
@pytest.mark.parametrize("h", [0.1, 0.03, 0.01])
def test_numerical_derivative_is_a_central_difference(run, h):
    # For f(x) = x³ the central difference is exactly 3x² + h², the forward one 3x² + 3xh + h².
    x = random_values(4, (12,), "float64", -3, 3)
    call = f"{KATA}.numerical_derivative(f, x, h={h}) with f(x) = x**3 and x a float64 tensor of shape [12]"
    result = run(P.numerical_derivative, "cube", x, h)
    expect_input_unchanged(result, x, call, "numerical_derivative")
    forward_difference = 3 * x**2 + 3 * x * h + h**2
    expect_close(
        result["y"], 3 * x**2 + h**2, O.FD64, call, dtype="float64",
        candidates={"cause_forward_difference": forward_difference},
    )  # fmt: skip


@pytest.mark.part("numerical_derivative")
def test_numerical_derivative_error_shrinks_like_h_squared(run):
    x = random_values(5, (10,), "float64", -2, 2)
    errors = []
    for h in (1e-2, 1e-3):
        y = run(P.numerical_derivative, "sin", x, h)["y"]
        call = f"{KATA}.numerical_derivative(torch.sin, x, h={h})"
        expect_array(y, call, "The result", x.shape, "float64")
        errors.append(float(np.max(np.abs(y - np.cos(x)))))
    # Central: error ≈ h²/6·|cos'''| → ×100 smaller for h/10. Forward: only ×10.
    if not errors[1] < errors[0] / 50:
        fail(
            say("called", call=f"{KATA}.numerical_derivative(torch.sin, x, h) for h = 1e-2 and 1e-3"),
            f"The worst error against cos(x) went from {errors[0]:.2e} to {errors[1]:.2e}: it should shrink "
            "about 100 times when h shrinks 10 times (error ~ h²).\n"
            f"cos(x) 와의 최대 오차가 {errors[0]:.2e} 에서 {errors[1]:.2e} 가 되었습니다. h 가 10 배 작아지면 오차는 "
            "약 100 배 줄어야 합니다 (오차 ~ h²).",
            say("likely_cause", cause=msg("cause_forward_difference")),
        )


@pytest.mark.part("numerical_derivative")
def test_numerical_derivative_uses_h_1e_5_by_default(run):
    # At x = 0, the central difference of x³ is exactly h²: 1e-10 for the default h.
    x = np.zeros(3)
    result = run(P.numerical_derivative, "cube", x, None)
    expect_close(result["y"], np.full(3, 1e-10), O.FD64, f"{KATA}.numerical_derivative(f, x) with f(x) = x**3, x = 0")


@pytest.mark.part("numerical_derivative")
@pytest.mark.parametrize("fname", ["sin", "exp"])
def test_numerical_derivative_agrees_with_the_true_derivative(run, fname):
    x = random_values(6, (4, 5), "float64", -2, 2)
    truth = np.cos(x) if fname == "sin" else np.exp(x)
    call = f"{KATA}.numerical_derivative(torch.{fname}, x) with x a float64 tensor of shape [4, 5]"
    result = run(P.numerical_derivative, fname, x, None)
    expect_input_unchanged(result, x, call, "numerical_derivative")
    # default h = 1e-5: truncation ~1e-10·|f'''|/6, rounding ~eps·|f|/h ≈ 1e-11·|f|
    expect_close(result["y"], truth, O.Tol(1e-8, 1e-9, "h = 1e-5 central difference"), call, dtype="float64")


@pytest.mark.part("sigmoid")
@pytest.mark.parametrize(("shape", "dtype"), CASES)
def test_sigmoid_matches_its_formula(run, shape, dtype):
    x = random_values(7, shape, dtype, -10, 10)
    call = f"{KATA}.sigmoid(x) with x a {dtype} tensor of shape {list(shape)}"
    result = run(P.elementwise, "sigmoid", x, dtype)
    judge_elementwise(result, x, call, O.sigmoid(x.astype(np.float64)), dtype, tol_for(dtype))


@pytest.mark.part("sigmoid_prime")
@pytest.mark.parametrize(("shape", "dtype"), CASES)
def test_sigmoid_prime_matches_finite_differences(run, shape, dtype):
    x = random_values(8, shape, dtype, -8, 8)
    call = f"{KATA}.sigmoid_prime(x) with x a {dtype} tensor of shape {list(shape)}"
    result = run(P.elementwise, "sigmoid_prime", x, dtype)
    judge_elementwise(result, x, call, O.central_difference(O.sigmoid, x), dtype, tol_for(dtype))
