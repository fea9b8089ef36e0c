"""k01 · Derivatives: f(x) = x², f'(x) = 2x, the central difference, the sigmoid and σ'."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_katas.kit import call as C
from backprop_katas.kit import mistakes as M
from backprop_katas.kit import oracles as O
from backprop_katas.kit.inputs import DTYPES, SHAPES, grid, parts, seeded, tol_for
from backprop_katas.kit.judge import (
    as_sent,
    expect_array,
    expect_close,
    expect_not_aliased,
    expect_number,
    expect_untouched,
    fail,
)
from backprop_katas.kit.probes import k01_derivatives as P
from backprop_katas.kit.zoo import ONE
from backprop_katas.lang import msg

KATA = "k01_derivatives"

# The contract of every public function: what the tests below hold it to.
CONTRACTS = {
    "function": {
        "inputs": "x: a Python float, or a float32/float64 tensor of any shape (0-d included)",
        "values": "any finite x; the tests use [-5, 5]",
        "returns": "x² elementwise: a float for a float, a new tensor of x's shape and dtype for a tensor",
        "aliasing": "x unchanged by value and version counter; the result never shares x's memory",
        "side effects": "none: torch's random state, default dtype and grad mode as they were",
        "state": "computed afresh: a second call on the same x changed in place sees the change",
        "forbidden": "nothing",
    },
    "prime_function": {
        "inputs": "as function",
        "values": "any finite x",
        "returns": "2x, written by hand: a float for a float, a new tensor of x's shape and dtype",
        "aliasing": "as function",
        "side effects": "none",
        "forbidden": "autograd is pointless here: the derivative is a formula. Refused by the source check "
        "(requires_grad, backward, torch.autograd, torch.func, torch.ops.aten.*_backward, hooks)",
        "state": "computed afresh: a second call on the same x changed in place sees the change",
    },
    "numerical_derivative": {
        "inputs": "f: elementwise callable; x: a Python float or a float64 tensor of any shape; h > 0 (default 1e-5)",
        "values": "any finite x, h from 1e-5 to 0.1; error O(h²) (the central difference)",
        "returns": "(f(x + h) - f(x - h)) / 2h: a float for a float, a tensor of x's shape for a tensor",
        "aliasing": "x never written, not even and then restored (the version counter is compared); f gets new tensors",
        "side effects": "none (no torch.set_default_dtype for precision)",
        "forbidden": "nothing",
    },
    "sigmoid": {
        "inputs": "x: a float32 or float64 tensor of any shape",
        "values": "every finite x: ±100, ±1000 and float32's overflow edge -88.8 give finite values, and "
        "autograd through sigmoid gives a finite gradient (σ'(x), 0 in the far tails). Tails: absolute "
        "tolerance (1e-6 float32, 1e-8 float64) where σ underflows or rounds to 1",
        "returns": "a new tensor of x's shape and dtype",
        "aliasing": "x unchanged by value and version counter; the result does not share x's memory",
        "side effects": "none",
        "forbidden": "torch.sigmoid (write the formula), and every ready-made sigmoid: x.sigmoid(), "
        "torch.special.expit, F.sigmoid, nn.Sigmoid, softmax, silu, softplus, aten's sigmoid_backward. "
        "Refused by the source check",
        "state": "computed afresh: a second call on the same x changed in place sees the change",
    },
    "sigmoid_prime": {
        "inputs": "as sigmoid",
        "values": "every finite x gives a finite value; tails: absolute tolerance as for sigmoid (s(1 - s) "
        "rounds to 0 once σ(x) rounds to 1)",
        "returns": "σ(x)(1 - σ(x)), a new tensor of x's shape and dtype",
        "aliasing": "as sigmoid",
        "side effects": "none",
        "state": "computed afresh, as sigmoid",
        "forbidden": "torch.sigmoid and every ready-made sigmoid or σ' (as sigmoid); refused by the source check",
    },
}
CASES = grid()  # every shape of kit.inputs.SHAPES (0-d included) in float32 and float64
# The derivative's cases, largest first: the first failure a learner sees then holds many elements,
# enough to tell a pattern (a constant offset, a factor) that a single number cannot show.
LARGEST_FIRST = grid(SHAPES[::-1])


# --- judges -------------------------------------------------------------------------------


def expect_input_unchanged(result, sent, call, function):
    """x as the judge sent it (value, version counter, flags), and torch's global state as it was."""
    expect_untouched(call, function, {"x": as_sent(sent)}, {"x": result["x_after"]}, result["globals"])


def judge_elementwise(result, sent, call, expected, dtype, tol):
    expect_input_unchanged(result, sent, call, call.function)
    expect_array(result["y"], call, "The result", expected.shape, dtype)
    expect_close(result["y"], expected, tol, call)
    expect_not_aliased(result["shared"], call, call.function)


@pytest.mark.part("function")
@pytest.mark.parametrize(("shape", "dtype"), CASES)
def test_function_squares_every_element(run, shape, dtype):
    x = seeded(1, shape, dtype)
    call = C.Call(f"{KATA}.function(x)", C.tensor("x", dtype, shape))
    result = run(P.elementwise, "function", x, dtype)
    judge_elementwise(result, x, call, x.astype(np.float64) ** 2, dtype, tol_for(dtype))


@pytest.mark.part("prime_function")
@pytest.mark.parametrize(("shape", "dtype"), LARGEST_FIRST)
def test_prime_function_matches_finite_differences(run, shape, dtype):
    x = seeded(2, shape, dtype)
    call = C.Call(f"{KATA}.prime_function(x)", C.tensor("x", dtype, shape))
    result = run(P.elementwise, "prime_function", x, dtype)
    judge_elementwise(result, x, call, O.central_difference(lambda v: v**2, x), dtype, tol_for(dtype))


@pytest.mark.part("prime_function")
def test_function_and_prime_function_take_python_floats(run):
    values = [float(v) for v in seeded(3, (6,), "float64")] + [0.0, 4.0]
    for name, expected in (("function", [v * v for v in values]), ("prime_function", [2 * v for v in values])):
        got = run(P.on_floats, name, values)
        for value, g, e in zip(values, got, expected):
            expect_close(g, e, O.AUTOGRAD64, f"{KATA}.{name}({value!r})")


def second_call(run, name):
    """A call, an in-place change of the caller's tensor, the same call again: both answers judged.

    An answer cached by the tensor's identity (id(x), a dict, lru_cache) gives the first answer again."""
    x, changed = seeded(10, (6,), "float64", -3, 3), seeded(11, (6,), "float64", -3, 3)
    out = run(P.elementwise_after_a_change, name, x, changed, "float64")
    call = C.Call(f"{KATA}.{name}(x); x.copy_(x2); {KATA}.{name}(x)", C.tensor("x", "float64", [6]))
    truth = {
        "function": lambda v: v**2,
        "prime_function": lambda v: 2 * v,
        "sigmoid": O.sigmoid,
        "sigmoid_prime": O.sigmoid_prime,
    }[name]
    expect_close(out["first"], truth(x), O.FD64, call)
    # FD64: any stale answer is off by |f(x2) - f(x)|, order 1 for these seeds
    expect_close(out["second"], truth(changed), O.FD64, call, msg("what_of_second_call", name="The result"))


@pytest.mark.parametrize("name", parts(["function", "prime_function"]))
def test_a_second_call_on_the_same_tensor_changed_in_place_sees_the_change(run, name):
    # Here, before the sigmoid tests: a learner whose sigmoid hangs loses the kata's time there,
    # and a test after it would cost function and prime_function too.
    second_call(run, name)


@pytest.mark.part("numerical_derivative")
@pytest.mark.parametrize("h", [0.1, 0.03, 0.01])
def test_numerical_derivative_is_a_central_difference(run, h):
    # For f(x) = x³ the central difference is exactly 3x² + h², the forward one 3x² + 3xh + h².
    x = seeded(4, (12,), "float64", -3, 3)
    call = C.Call(f"{KATA}.numerical_derivative(f, x, h={h})", C.code("f(x) = x**3"), C.tensor("x", "float64", [12]))
    result = run(P.numerical_derivative, "cube", x, h)
    expect_input_unchanged(result, x, call, "numerical_derivative")
    expected = ONE["cube"].prime(x) + h**2  # exactly: (x + h)³ - (x - h)³ = 6x²h + 2h³
    forward_difference = M.forward_difference(ONE["cube"].numpy, x, h)  # 3x² + 3xh + h²
    expect_close(
        result["y"],
        expected,
        O.FD64,
        call,
        dtype="float64",
        candidates={"cause_forward_difference": forward_difference},
    )


@pytest.mark.part("numerical_derivative")
def test_numerical_derivative_error_shrinks_like_h_squared(run):
    x = seeded(5, (10,), "float64", -2, 2)
    errors = []
    for h in (1e-2, 1e-3):
        y = run(P.numerical_derivative, "sin", x, h)["y"]
        call = C.Call(f"{KATA}.numerical_derivative(torch.sin, x, h={h})")
        expect_array(y, call, "The result", x.shape, "float64")
        errors.append(float(np.max(np.abs(y - ONE["sin"].prime(x)))))
    # Central: error ≈ h²/6·|cos'''| → ×100 smaller for h/10. Forward: only ×10.
    if not errors[1] < errors[0] / 50:
        fail(
            msg(
                "called",
                call=C.Call(
                    f"{KATA}.numerical_derivative(torch.sin, x, h)", msg("arg_for_each_h", values="1e-2, 1e-3")
                ),
            ),
            msg("error_not_quadratic", before=errors[0], after=errors[1]),
            msg("likely_cause", cause=msg("cause_forward_difference")),
        )


@pytest.mark.part("numerical_derivative")
def test_numerical_derivative_uses_h_1e_5_by_default(run):
    # At x = 0, the central difference of x³ is exactly h²: 1e-10 for the default h.
    x = np.zeros(3)
    result = run(P.numerical_derivative, "cube", x, None)
    call = C.Call(f"{KATA}.numerical_derivative(f, x)", C.code("f(x) = x**3"), C.code("x = 0"))
    # Relative only: the answer is h² itself, so FD64's absolute 1e-8 would pass a default of 1e-4 (1e-8).
    # Rejects h = 1e-4 (1e-8), 1e-6 (1e-12) and anything 0.0001 % off 1e-5; rounding here is ~1e-16 relative.
    expect_close(result["y"], np.full(3, 1e-10), O.Tol(1e-6, 0.0, "the default h, seen as h² exactly"), call)
    expect_input_unchanged(result, x, call, "numerical_derivative")  # 0 + h - 2h + h is 0 again: the version tells


@pytest.mark.part("numerical_derivative")
@pytest.mark.parametrize("fname", ["sin", "exp"])
def test_numerical_derivative_agrees_with_the_true_derivative(run, fname):
    x = seeded(6, (4, 5), "float64", -2, 2)
    truth = ONE[fname].prime(x)
    call = C.Call(f"{KATA}.numerical_derivative(torch.{fname}, x)", C.tensor("x", "float64", [4, 5]))
    result = run(P.numerical_derivative, fname, x, None)
    expect_input_unchanged(result, x, call, "numerical_derivative")
    # default h = 1e-5: truncation ~1e-10·|f'''|/6, rounding ~eps·|f|/h ≈ 1e-11·|f|
    # Rejects a forward difference (error h·|f''|/2 ≈ 1e-5) and h ≥ 1e-3 (≥ 1.7e-7·|f'''|); a default of 1e-4
    # (1.7e-9·|f'''|) passes here: test_numerical_derivative_uses_h_1e_5_by_default holds the default.
    expect_close(result["y"], truth, O.Tol(1e-8, 1e-9, "h = 1e-5 central difference"), call, dtype="float64")


@pytest.mark.part("numerical_derivative")
def test_numerical_derivative_takes_python_floats(run):
    values = [float(v) for v in seeded(9, (5,), "float64", -3, 3)] + [0.0]
    got = run(P.numerical_derivative_on_floats, values, 1e-3)
    for value, g in zip(values, got):
        call = C.Call(f"{KATA}.numerical_derivative(f, {value!r}, h=1e-3)", C.code("f(x) = x**3"))
        # (x + h)³ - (x - h)³ over 2h is 3x² + h² exactly; rounding ≈ eps·27/h ≈ 1e-11. FD64's rtol 1e-6 of
        # 3x² (up to 2.7e-5) would pass an h ignored on floats (3x² + 1e-10, 1e-6 off): 1e-9 rejects it.
        tol = O.Tol(1e-9, 1e-12, "3x² + h² in float64 arithmetic")
        expect_close(expect_number(g, call), float(ONE["cube"].prime(value)) + 1e-6, tol, call)


@pytest.mark.part("sigmoid")
@pytest.mark.parametrize(("shape", "dtype"), CASES)
def test_sigmoid_matches_its_formula(run, shape, dtype):
    x = seeded(7, shape, dtype, -10, 10)
    call = C.Call(f"{KATA}.sigmoid(x)", C.tensor("x", dtype, shape))
    result = run(P.elementwise, "sigmoid", x, dtype)
    judge_elementwise(result, x, call, O.sigmoid(x.astype(np.float64)), dtype, tol_for(dtype))


@pytest.mark.part("sigmoid_prime")
@pytest.mark.parametrize(("shape", "dtype"), CASES)
def test_sigmoid_prime_matches_finite_differences(run, shape, dtype):
    x = seeded(8, shape, dtype, -8, 8)
    call = C.Call(f"{KATA}.sigmoid_prime(x)", C.tensor("x", dtype, shape))
    result = run(P.elementwise, "sigmoid_prime", x, dtype)
    judge_elementwise(result, x, call, O.central_difference(O.sigmoid, x), dtype, tol_for(dtype))


# --- the edges of the contracts --------------------------------------------------------------

# Extremes: float32 overflows exp beyond 88.72 (the -88.8 below), float64 beyond 709.78 (±710, ±745.5).
EXTREMES = [-1000.0, -745.5, -710.0, -100.0, -88.8, -88.7, -30.0, -1.0, 0.0, 1.0, 30.0, 88.8, 100.0, 710.0, 1000.0]
# In the far tails σ underflows to 0 or rounds to 1, and σ(1 - σ) rounds to 0: the absolute part of
# the dtype's usual tolerance (1e-6 float32, 1e-8 float64, tol_for) is what a finite-precision answer can meet.


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", parts(["sigmoid", "sigmoid_prime"]))
def test_sigmoid_and_its_derivative_stay_finite_at_the_extremes(run, name, dtype):
    x = np.array(EXTREMES, dtype=dtype)
    call = C.Call(f"{KATA}.{name}(x)", C.values("x", EXTREMES, dtype))
    result = run(P.elementwise, name, x, dtype)
    expected = O.sigmoid(x) if name == "sigmoid" else O.sigmoid_prime(x)
    expect_array(result["y"], call, "The result", x.shape, dtype)
    expect_close(result["y"], expected, tol_for(dtype), call, nonfinite_cause="cause_overflow")
    expect_input_unchanged(result, x, call, name)


@pytest.mark.part("sigmoid")
@pytest.mark.parametrize("dtype", DTYPES)
def test_autograd_through_sigmoid_is_finite_at_the_extremes(run, dtype):
    # exp(-x) = inf for x = -100 in float32 makes 1/(1 + exp(-x)) right, but its gradient 0·inf = NaN.
    x = np.array(EXTREMES, dtype=dtype)
    call = C.Call(f"y = {KATA}.sigmoid(x); torch.autograd.grad(y.sum(), x)", C.values("x", EXTREMES, dtype))
    out = run(P.autograd_through, "sigmoid", x, dtype)
    expect_close(out["y"], O.sigmoid(x), tol_for(dtype), call, "y", dtype=dtype, nonfinite_cause="cause_overflow")
    if out["grad"] is None:
        fail(msg("called", call=call), msg("wrong_type", got=msg("kind_no_grad_fn"), expected=msg("expected_from_x")))
    # exp(-torch.abs(x)) is finite everywhere, but autograd's slope of |x| at 0 is 0: the gradient there is 0.
    kink = {"cause_kink_at_zero": M.autograd_through_kink(x)}
    expect_close(
        out["grad"],
        O.sigmoid_prime(x),
        tol_for(dtype),
        call,
        "∂σ/∂x by autograd",
        dtype=dtype,
        nonfinite_cause="cause_overflow",
        candidates=kink,
        inputs=("x", x),
    )


@pytest.mark.parametrize("name", parts(["sigmoid", "sigmoid_prime"]))
def test_a_second_call_of_a_sigmoid_sees_the_tensor_changed_in_place(run, name):
    second_call(run, name)
