"""Plausible learner mistakes, each a one-place edit of a reference solution.

The self-check applies each edit to a copy of solutions/ and runs that kata's
tests against it: every mutant must be caught (at least one test fails), and
where ``expect`` is set the failure must say so. Mutants with a ``cause`` run
in test_diagnosis.py instead, which also checks that the first failure names
exactly that cause.
"""

from __future__ import annotations

from typing import NamedTuple


class Mutant(NamedTuple):
    kata: str
    id: str
    old: str
    new: str
    expect: str = ""  # a fragment the failure text must contain
    cause: str = ""  # a messages.py cause key: test_diagnosis checks the first failure names exactly it


AUTOGRAD_GRADIENTS = (
    "    xg = x.detach().clone().requires_grad_()\n"
    "    t = t_function(xg, y)\n"
    "    z_function(t).sum().backward()\n"
    "    dz_dt = xg.grad\n"
)

MUTANTS = [
    # k01 · derivatives
    Mutant(
        "k01_derivatives", "ignores-h", "(f(x + h) - f(x - h)) / (2 * h)", "(f(x + 1e-5) - f(x - 1e-5)) / (2 * 1e-5)"
    ),
    Mutant(
        "k01_derivatives",
        "modifies-x-in-place",
        "(f(x + h) - f(x - h)) / (2 * h)",
        "(f(x.add_(h)) - f(x.sub_(2 * h))) / (2 * h)",
        "in place",
    ),
    Mutant("k01_derivatives", "sigmoid-prime-uses-x", "    return s * (1 - s)\n", "    return s * (1 - x)\n"),
    Mutant("k01_derivatives", "sigmoid-sign", "1 / (1 + torch.exp(-x))", "1 / (1 + torch.exp(x))"),
    # k02 · parameters
    Mutant(
        "k02_parameters",
        "counts-tensors",
        "return sum(p.numel() for p in module.parameters())\n",
        "return len(list(module.parameters()))\n",
    ),
    Mutant(
        "k02_parameters",
        "counts-tied-twice",
        "return sum(p.numel() for p in module.parameters())\n",
        "return sum(p.numel() for _, p in module.named_parameters(remove_duplicate=False))\n",
    ),
    Mutant(
        "k02_parameters",
        "counts-frozen",
        "for p in module.parameters() if p.requires_grad)",
        "for p in module.parameters())",
    ),
    Mutant("k02_parameters", "forgets-bias", "n_in * n_out + n_out for", "n_in * n_out for"),
    Mutant(
        "k02_parameters",
        "no-output-sigmoid",
        "return self.activation_layer(z2)  # (N, output)",
        "return z2  # (N, output)",
    ),
    Mutant(
        "k02_parameters",
        "layers-in-other-order",
        "        self.linear_ih = nn.Linear(in_features=input_size, out_features=hidden_size)\n"
        "        self.linear_ho = nn.Linear(in_features=hidden_size, out_features=output_size)\n",
        "        self.linear_ho = nn.Linear(in_features=hidden_size, out_features=output_size)\n"
        "        self.linear_ih = nn.Linear(in_features=input_size, out_features=hidden_size)\n",
    ),
    # k03 · computation graph
    Mutant(
        "k03_computation_graph", "z-prime-forgets-2", "    return 2 * t\n", "    return t\n", "half the expected value"
    ),
    Mutant("k03_computation_graph", "t-prime-wrong", "    return 1\n", "    return 0.5\n"),
    Mutant(
        "k03_computation_graph",
        "backward-sign",
        "return z_prime(t) * t_prime()",
        "return -z_prime(t) * t_prime()",
        "sign is flipped",
    ),
    Mutant(
        "k03_computation_graph",
        "dz-dy-dropped",
        "return dz_dt * t_prime(), dz_dt * t_prime()",
        "return dz_dt * t_prime(), t_prime()",
    ),
    Mutant(
        "k03_computation_graph",
        "gradients-by-autograd",
        "    t = t_function(x, y)\n    dz_dt = z_prime(t)\n",
        AUTOGRAD_GRADIENTS,
        "must compute gradients by hand",
    ),
    # k04 · autograd
    Mutant(
        "k04_autograd",
        "marks-callers-x",
        "    xg = x.detach().clone().requires_grad_()\n    yg",
        "    xg = x.requires_grad_()\n    yg",
        "requires_grad=True",
    ),
    Mutant("k04_autograd", "grad-fn-repr", "else type(z.grad_fn).__name__", "else str(z.grad_fn)"),
    Mutant("k04_autograd", "marks-both", 'requires_grad_("x" in wrt)', "requires_grad_(True)"),
    # k05 · backprop by hand
    Mutant(
        "k05_backprop",
        "transposed-weight",
        '"linear_ih.weight": delta1.T @ x',
        '"linear_ih.weight": x.T @ delta1',
        "transpose",
    ),
    Mutant(
        "k05_backprop",
        "manual-by-autograd",
        "    with torch.no_grad():\n        w1, b1",
        "    net.zero_grad()\n    torch.nn.BCELoss()(net(x).squeeze(), t).backward()\n    with torch.no_grad():\n        w1, b1",
        "must compute gradients by hand",
    ),
    # k06 · training
    Mutant("k06_xor_training", "predict-greater-than-0", "net(x).ge(0.5)", "net(x).gt(0)"),
    Mutant("k06_xor_training", "predict-strictly-above-half", "net(x).ge(0.5)", "net(x).gt(0.5)"),
    Mutant(
        "k06_xor_training",
        "ignores-lr",
        "optim.SGD(params=net.parameters(), lr=lr)",
        "optim.SGD(params=net.parameters(), lr=0.5)",
    ),
    Mutant(
        "k06_xor_training",
        "logs-every-step",
        "        if step % log_every == 0:\n            history.append((step, loss.item()))",
        "        history.append((step, loss.item()))",
    ),
    Mutant("k06_xor_training", "by-hand-sign", "p -= lr * grads[name]", "p += lr * grads[name]"),
    Mutant(
        "k06_xor_training",
        "or-not-xor",
        "t = torch.tensor([0.0, 1.0, 1.0, 0.0])",
        "t = torch.tensor([0.0, 1.0, 1.0, 1.0])",
    ),
    Mutant(
        "k06_xor_training",
        "integer-targets",
        "t = torch.tensor([0.0, 1.0, 1.0, 0.0])",
        "t = torch.tensor([0, 1, 1, 0])",
        "float dtype",
    ),
]

# One mutant per likely cause the diagnosis can name (see judge.diagnose and messages.py).
MUTANTS += [
    Mutant("k01_derivatives", "prime-times-4", "    return 2 * x\n", "    return 4 * x\n", cause="cause_factor_2"),
    Mutant("k01_derivatives", "prime-forgets-factor-2", "    return 2 * x\n", "    return x\n", cause="cause_half"),
    Mutant(
        "k01_derivatives",
        "forward-difference",
        "(f(x + h) - f(x - h)) / (2 * h)",
        "(f(x + h) - f(x)) / h",
        cause="cause_forward_difference",
    ),
    Mutant(
        "k04_autograd",
        "resets-between-backwards",
        "    for _ in range(times):\n",
        "    for _ in range(times):\n        xg.grad = None\n",
        cause="cause_grad_reset",
    ),
    Mutant(
        "k05_backprop",
        "sign-flipped",
        "delta2 = (y - t.reshape(y.shape))",
        "delta2 = (t.reshape(y.shape) - y)",
        cause="cause_sign",
    ),
    Mutant(
        "k05_backprop",
        "no-mean",
        "delta2 = (y - t.reshape(y.shape)) / y.numel()",
        "delta2 = y - t.reshape(y.shape)",
        cause="cause_missing_mean",
    ),
    Mutant(
        "k05_backprop", "mean-twice", "/ y.numel()  # (N, O)", "/ y.numel() ** 2  # (N, O)", cause="cause_extra_mean"
    ),
    Mutant(
        "k05_backprop",
        "transposed-output-weight",
        '"linear_ho.weight": delta2.T @ a1',
        '"linear_ho.weight": a1.T @ delta2',
        cause="cause_transposed",
    ),
    Mutant(
        "k05_backprop",
        "bias-not-summed",
        '"linear_ih.bias": delta1.sum(dim=0)',
        '"linear_ih.bias": delta1',
        cause="cause_not_summed",
    ),
    Mutant(
        "k05_backprop",
        "no-sigmoid-derivative",
        "(delta2 @ w2) * a1 * (1 - a1)",
        "(delta2 @ w2)",
        cause="cause_no_activation_derivative",
    ),
    Mutant(
        "k05_backprop",
        "backward-ignores-grad-output",
        "return grad_output * y * (1 - y)",
        "return y * (1 - y)",
        cause="cause_no_grad_output",
    ),
    Mutant("k06_xor_training", "no-zero-grad", "        net.zero_grad()\n", "", cause="cause_no_zero_grad"),
]
