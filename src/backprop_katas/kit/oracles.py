"""Independent oracles: what the judges compare learner results against.

Everything here is the tool's own code, written from the maths or built from
torch's own ``nn.Linear``, ``nn.BCELoss`` and ``optim.SGD``. Nothing is ever
taken from ``solutions/`` or from the learner's ``numerical_derivative``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Tol:
    rtol: float
    atol: float
    why: str


# The tolerances, each with its reason, written out once.
FD64 = Tol(
    rtol=1e-6,
    atol=1e-8,
    why="float64 central differences with h = 1e-6 on smooth functions: truncation error "
    "~h²·|f'''| ≈ 1e-12 plus rounding ~eps·|f|/h ≈ 1e-10, well inside 1e-6 relative",
)
AUTOGRAD64 = Tol(
    rtol=1e-9,
    atol=1e-12,
    why="the same float64 formula evaluated in another order differs by rounding only (~1e-15)",
)
FLOAT32 = Tol(
    rtol=1e-5,
    atol=1e-6,
    why="learner code in float32 against a float64 oracle: float32 eps is 1.2e-7 and the "
    "formulas are a few operations deep",
)
TRAJECTORY64 = Tol(
    rtol=1e-7,
    atol=1e-9,
    why="float64 training runs from the same weights: rounding differences (~1e-16 per step) "
    "stay far below 1e-9 over a few hundred SGD steps on this contracting problem",
)
TRAJECTORY32 = Tol(
    rtol=2e-4,
    atol=2e-5,
    why="float32 training runs from the same weights: rounding differences (~1e-7 per step) "
    "add up over the run; 2e-4 still separates a correct loop from any wrong one by orders",
)

FD_STEP = 1e-6  # h for the oracle's float64 central differences (see FD64)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) in float64 without overflow: exp only ever sees -|x| (accurate in both tails)."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(x: np.ndarray) -> np.ndarray:
    """σ'(x) = σ(x) σ(-x), accurate in both tails (σ(x)(1 - σ(x)) loses the right one)."""
    return sigmoid(x) * sigmoid(-np.asarray(x, dtype=np.float64))


def central_difference(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float = FD_STEP) -> np.ndarray:
    """Elementwise derivative of an elementwise ``f`` in float64."""
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(
    loss: Callable[[dict[str, np.ndarray]], float],
    params: Mapping[str, np.ndarray],
    h: float = FD_STEP,
) -> dict[str, np.ndarray]:
    """∂loss/∂p for every element of every parameter, by float64 central differences."""
    base = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    grads: dict[str, np.ndarray] = {}
    for name, value in base.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + h
            up = loss(base)
            value[index] = saved - h
            down = loss(base)
            value[index] = saved
            grad[index] = (up - down) / (2 * h)
        grads[name] = grad
    return grads


PARAM_NAMES = ("linear_ih.weight", "linear_ih.bias", "linear_ho.weight", "linear_ho.bias")


def xor_forward(params: Mapping[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The chapter's network in float64 numpy: returns (hidden activations (N, H), output (N, O))."""
    x = np.asarray(x, dtype=np.float64)
    a1 = sigmoid(x @ params["linear_ih.weight"].T + params["linear_ih.bias"])  # (N, H)
    y = sigmoid(a1 @ params["linear_ho.weight"].T + params["linear_ho.bias"])  # (N, O)
    return a1, y


def bce_mean(y: np.ndarray, t: np.ndarray) -> float:
    """Mean binary cross entropy, as nn.BCELoss computes it (log clamped at -100)."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    with np.errstate(divide="ignore"):
        log_y = np.maximum(np.log(y), -100.0)
        log_1y = np.maximum(np.log(1.0 - y), -100.0)
    return float(np.mean(-(t * log_y + (1.0 - t) * log_1y)))


def xor_loss(params: Mapping[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> float:
    return bce_mean(xor_forward(params, x)[1], t)


def xor_gradients(params: Mapping[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """∂(mean BCE)/∂p in closed form, float64: for saturated outputs, where finite differences
    of a clamped log and torch's BCELoss backward (which divides by y(1 - y)) both break down."""
    x = np.asarray(x, dtype=np.float64)
    a1, y = xor_forward(params, x)
    delta2 = (y - np.asarray(t, dtype=np.float64).reshape(y.shape)) / y.size  # (N, O)
    delta1 = (delta2 @ params["linear_ho.weight"]) * sigmoid_prime(
        x @ params["linear_ih.weight"].T + params["linear_ih.bias"]
    )
    return {
        "linear_ih.weight": delta1.T @ x,
        "linear_ih.bias": delta1.sum(axis=0),
        "linear_ho.weight": delta2.T @ a1,
        "linear_ho.bias": delta2.sum(axis=0),
    }


def xor_train(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    steps: int,
    lr: float,
    log_every: int,
    zero_grad: bool = True,
) -> tuple[list[tuple[int, float]], dict[str, np.ndarray]]:
    """The chapter's loop in float64 numpy with the closed-form gradients: (history, final params).

    The same trajectory as :func:`oracle_train` (torch's own layers, BCELoss and SGD) up to
    rounding, a float32 run of it included (tests/suite/test_oracles.py holds them together),
    at a twentieth of the cost: the chapter's 10001 steps take 0.2 s instead of 3 s. Each loss
    is the mean BCE before that step's update. ``zero_grad=False`` is the classic mistake: the
    gradients add up over the steps, as ``.grad`` does without ``zero_grad()``.
    Not for saturated outputs (see :func:`xor_gradients`: there torch's BCELoss backward differs).
    """
    p = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    w1, b1, w2, b2 = (p[name] for name in PARAM_NAMES)  # updated in place below
    held = {name: np.zeros_like(value) for name, value in p.items()}  # .grad, when nothing resets it
    history = []
    for step in range(steps):
        a1 = sigmoid(x @ w1.T + b1)  # (N, H)
        y = sigmoid(a1 @ w2.T + b2)  # (N, 1)
        if step % log_every == 0:
            history.append((step, bce_mean(y, t)))
        delta2 = (y - t.reshape(y.shape)) / y.size  # (N, 1)
        delta1 = (delta2 @ w2) * a1 * (1.0 - a1)  # (N, H)
        grads = {
            "linear_ih.weight": delta1.T @ x,
            "linear_ih.bias": delta1.sum(axis=0),
            "linear_ho.weight": delta2.T @ a1,
            "linear_ho.bias": delta2.sum(axis=0),
        }
        for name, value in p.items():
            held[name] = grads[name] if zero_grad else held[name] + grads[name]
            value -= lr * held[name]
    return history, p


def random_xor_params(
    rng: np.random.Generator, input_size: int, hidden_size: int, output_size: int = 1, scale: float = 1.0
) -> dict[str, np.ndarray]:
    return {
        "linear_ih.weight": rng.normal(0, scale, (hidden_size, input_size)),
        "linear_ih.bias": rng.normal(0, scale, (hidden_size,)),
        "linear_ho.weight": rng.normal(0, scale, (output_size, hidden_size)),
        "linear_ho.bias": rng.normal(0, scale, (output_size,)),
    }


# --- torch oracles: built from torch's own layers, never from a target --------------------


def oracle_network(input_size: int, hidden_size: int, output_size: int, dtype: str = "float32"):  # type: ignore[no-untyped-def]
    """A module shaped like the chapter's Network, from nn.Linear and nn.Sigmoid.

    Its layers are created in the chapter's order, so under the same seed it
    starts from the same weights as a correct learner ``Network``.
    """
    import torch
    import torch.nn as nn

    class OracleNetwork(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear_ih = nn.Linear(input_size, hidden_size)
            self.linear_ho = nn.Linear(hidden_size, output_size)
            self.activation_layer = nn.Sigmoid()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.activation_layer(self.linear_ho(self.activation_layer(self.linear_ih(x))))

    return OracleNetwork().to(getattr(torch, dtype))


def network_from_params(params: Mapping[str, np.ndarray], dtype: str = "float32"):  # type: ignore[no-untyped-def]
    """An oracle network holding exactly ``params``."""
    import torch

    hidden, inputs = np.shape(params["linear_ih.weight"])
    outputs = np.shape(params["linear_ho.weight"])[0]
    net = oracle_network(inputs, hidden, outputs, dtype)
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.as_tensor(np.asarray(params[name]), dtype=p.dtype))
    return net


def params_of(net) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    return {name: p.detach().cpu().numpy().copy() for name, p in net.named_parameters()}


def oracle_train(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    steps: int,
    lr: float,
    log_every: int,
    dtype: str = "float32",
    zero_grad: bool = True,
) -> tuple[list[tuple[int, float]], dict[str, np.ndarray]]:
    """The chapter's loop with torch's own nn.BCELoss and optim.SGD: (history, final params).

    ``zero_grad=False`` is the classic mistake, kept here so a judge can recognise it.
    """
    import torch
    import torch.nn as nn
    import torch.optim as optim

    net = network_from_params(params, dtype)
    xt = torch.as_tensor(np.asarray(x), dtype=getattr(torch, dtype))
    tt = torch.as_tensor(np.asarray(t), dtype=getattr(torch, dtype))
    loss_function = nn.BCELoss()
    optimizer = optim.SGD(net.parameters(), lr=lr)
    history = []
    for step in range(steps):
        if zero_grad:
            optimizer.zero_grad()
        loss = loss_function(net(xt).reshape(-1), tt)  # (N,) even for N = 1
        loss.backward()
        optimizer.step()
        if step % log_every == 0:
            history.append((step, loss.item()))
    return history, params_of(net)


def seeded_network_params(seed: int, discarded: int = 0) -> dict[str, np.ndarray]:
    """The weights ``Network(2, 2, 1)`` starts from after ``torch.manual_seed(seed)`` and
    ``discarded`` networks built before it (the chapter builds one in code 2-16, then trains a second)."""
    import torch

    torch.manual_seed(seed)
    for _ in range(discarded):
        oracle_network(2, 2, 1)
    return params_of(oracle_network(2, 2, 1))


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_T = np.array([0.0, 1.0, 1.0, 0.0])

# The chapter's printed table (code 2-20), seed 70: step → loss, four decimals.
CHAPTER_LOSSES = {
    0: 0.6927,
    1000: 0.2574,
    2000: 0.0210,
    3000: 0.0102,
    4000: 0.0067,
    5000: 0.0049,
    6000: 0.0039,
    7000: 0.0032,
    8000: 0.0028,
    9000: 0.0024,
    10000: 0.0021,
}


# --- the learner's helpers, by kata file: what each returns (elementwise, on tensors or numbers) --
# The return recorder (kit/runner.py) checks a helper called from inside another learner function
# against these, so that "Edit:" points at the innermost function whose value was wrong (a wrong
# z_prime, not the backward that multiplied it). Each takes the helper's arguments as they came.
HELPERS: dict[str, dict[str, Callable[..., Any]]] = {
    "k03_computation_graph.py": {
        "t_function": lambda x, y: x + y,
        "z_function": lambda t: t**2,
        "z_prime": lambda t: 2 * t,
        "t_prime": lambda: 1,
    },
}
