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
    cause: str = ""  # a cause key of lang/en.toml: test_diagnosis checks the first failure names exactly it


AUTOGRAD_GRADIENTS = (
    "    xg = x.detach().clone().requires_grad_()\n"
    "    t = t_function(xg, y)\n"
    "    z_function(t).sum().backward()\n"
    "    dz_dt = xg.grad\n"
)

K07 = "k07_own_autograd"
# The reference's iterative topological sort, and two walks a learner might write instead.
K07_TOPO_WALK = """        order: list[Value] = []  # post-order: every node after all of its inputs
        seen = {id(self)}
        stack: list[tuple[Value, int]] = [(self, 0)]
        while stack:
            node, i = stack.pop()
            if i < len(node.children):
                stack.append((node, i + 1))
                child = node.children[i]
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, 0))
            else:
                order.append(node)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):  # every user of a node comes before it
            for child, local in zip(node.children, node.local):
                child.grad += node.grad * local  # += : a node used twice gets both contributions
"""
# Each node passes its grad on as soon as it is visited, then recurses into its inputs (grads were 0.0).
K07_RECURSIVE_PROPAGATION = """        self.grad = 1.0

        def visit(node):
            for child, local in zip(node.children, node.local):
                child.grad += node.grad * local
            for child in node.children:
                visit(child)

        visit(self)
"""
# micrograd's recursive build_topo: right, but a 5,000-deep chain overflows Python's stack.
K07_RECURSIVE_TOPO = """        order: list[Value] = []
        seen: set[int] = set()

        def build(node):
            if id(node) not in seen:
                seen.add(id(node))
                for child in node.children:
                    build(child)
                order.append(node)

        build(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node.children, node.local):
                child.grad += node.grad * local
"""

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
    Mutant(
        "k01_derivatives", "prime-plus-constant", "    return 2 * x\n", "    return 2 * x + 2\n", cause="cause_offset"
    ),
    Mutant(
        "k01_derivatives",
        "sigmoid-abs",
        "    e = torch.exp(torch.where(x >= 0, -x, x))  # e^(-|x|), in (0, 1]\n",
        "    e = torch.exp(-torch.abs(x))\n",
        cause="cause_kink_at_zero",
    ),
    Mutant("k01_derivatives", "sigmoid-prime-uses-x", "    return s * (1 - s)\n", "    return s * (1 - x)\n"),
    Mutant(
        "k01_derivatives",
        "sigmoid-sign",
        "    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
        "    return torch.where(x >= 0, e / (1 + e), 1 / (1 + e))\n",
    ),
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
    Mutant("k02_parameters", "forgets-bias", "n_in * n_out + n_out for", "n_in * n_out for", cause="cause_no_biases"),
    Mutant(
        "k02_parameters",
        "one-layer-short",
        "sum(n_in * n_out + n_out for n_in, n_out in zip(layer_sizes, layer_sizes[1:]))",
        "sum(layer_sizes[i] * layer_sizes[i + 1] + layer_sizes[i + 1] for i in range(len(layer_sizes) - 2))",
        cause="cause_layer_short",
    ),
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
        "gradients-one-tensor",
        "return dz_dt * t_prime(), dz_dt * t_prime()",
        "return dz_dt * t_prime()",
        "It returned a tensor of dtype",  # what came back, not numpy.ndarray (the probe's plain form)
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
    Mutant(
        "k04_autograd",
        "autograd-gradients-one-tensor",
        "    return xg.grad, yg.grad\n",
        "    return xg.grad\n",
        "It returned a tensor of dtype float64",  # the type that came back, in the learner's terms
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

# One mutant per likely cause the diagnosis can name (see judge.diagnose and lang/en.toml).
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

# Mistakes at the edges of each function's contract (issue 11): extremes, the caller's data,
# exact types and shapes, sizes beyond the chapter's, side effects, answers tuned to the chapter.
STABLE_SIGMOID = (
    "    e = torch.exp(torch.where(x >= 0, -x, x))  # e^(-|x|), in (0, 1]\n"
    "    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))\n"
)
SIGMOID_FUNCTION_FORWARD = (
    "        e = torch.exp(torch.where(x >= 0, -x, x))  # e^(-|x|): never overflows\n"
    "        y = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))\n"
)
COUNT = "    return sum(p.numel() for p in module.parameters())\n"
TRAIN_LOSS = (
    "        y = net(x)  # (N, 1)\n"
    "        loss = loss_function(y.view(-1), t)  # (N,): squeeze() would make N = 1 a scalar\n"
)
CHAPTER_TABLE = (
    "[(0, 0.6927), (1000, 0.2574), (2000, 0.0210), (3000, 0.0102), (4000, 0.0067), (5000, 0.0049), "
    "(6000, 0.0039), (7000, 0.0032), (8000, 0.0028), (9000, 0.0024), (10000, 0.0021)]"
)
# The chapter's run in float32 to full precision (what a correct trainer logs from seed 70's weights), and
# the first weight the chapter's Network starts from: what an answer that recognises the chapter's call holds.
CHAPTER_LOG = (
    "[(0, 0.6926998496055603), (1000, 0.257447212934494), (2000, 0.021004319190979004), "
    "(3000, 0.010190166532993317), (4000, 0.006670549511909485), (5000, 0.004943051841109991), "
    "(6000, 0.003920458722859621), (7000, 0.0032456908375024796), (8000, 0.0027676033787429333), "
    "(9000, 0.0024113990366458893), (10000, 0.0021358714438974857)]"
)
RECOGNISES_THE_CHAPTERS_WEIGHTS = "abs(float(net.linear_ih.weight[0, 0]) - 0.10542149096727371) < 1e-7"

MUTANTS += [
    # k01 · extremes, the caller's x, dtypes, global state
    Mutant(
        "k01_derivatives",
        "sigmoid-exp-over-one-plus-exp",
        STABLE_SIGMOID,
        "    return torch.exp(x) / (1 + torch.exp(x))\n",
        cause="cause_overflow",
    ),
    Mutant(
        "k01_derivatives",
        "sigmoid-the-chapters-naive-form",
        STABLE_SIGMOID,
        "    return 1 / (1 + torch.exp(-x))\n",
        "overflows",
    ),
    Mutant(
        "k01_derivatives",
        "sigmoid-where-of-two-overflowing-branches",
        STABLE_SIGMOID,
        "    return torch.where(x >= 0, 1 / (1 + torch.exp(-x)), torch.exp(x) / (1 + torch.exp(x)))\n",
        "overflows",
    ),
    Mutant(
        "k01_derivatives",
        "sigmoid-in-place-chain",
        STABLE_SIGMOID,
        "    return x.neg_().exp_().add_(1).reciprocal_()\n",
        "in place",
    ),
    Mutant("k01_derivatives", "sigmoid-float32-only", STABLE_SIGMOID, "    x = x.float()\n" + STABLE_SIGMOID, "dtype"),
    Mutant(
        "k01_derivatives",
        "sigmoid-prime-from-exp",
        "    s = sigmoid(x)\n    return s * (1 - s)\n",
        "    return torch.exp(-x) / (1 + torch.exp(-x)) ** 2\n",
        "NaN",
    ),
    Mutant(
        "k01_derivatives", "function-squares-in-place", "    return x**2\n", "    x **= 2\n    return x\n", "in place"
    ),
    Mutant(
        "k01_derivatives",
        "numerical-derivative-moves-x-and-back",
        "    return (f(x + h) - f(x - h)) / (2 * h)\n",
        "    x += h\n    up = f(x)\n    x -= 2 * h\n    down = f(x)\n    x += h\n    return (up - down) / (2 * h)\n",
        "in place",
    ),
    Mutant(
        "k01_derivatives",
        "sigmoid-negates-x-and-back",
        "    e = torch.exp(torch.where(x >= 0, -x, x))  # e^(-|x|), in (0, 1]\n",
        "    x.neg_()  # borrow x to hold -x\n    e = torch.exp(torch.where(x <= 0, x, -x))\n    x.neg_()  # and give it back\n",
        "version counter",
    ),
    Mutant(
        "k01_derivatives",
        "numerical-derivative-sets-float64-default",
        "    return (f(x + h) - f(x - h)) / (2 * h)\n",
        "    torch.set_default_dtype(torch.float64)\n    return (f(x + h) - f(x - h)) / (2 * h)\n",
        cause="cause_default_dtype_side_effect",
    ),
    Mutant(
        "k01_derivatives",
        "numerical-derivative-tensors-only",
        "    return (f(x + h) - f(x - h)) / (2 * h)\n",
        "    return (f(x.clone() + h) - f(x.clone() - h)) / (2 * h)\n",
        "clone",
    ),
    # k02 · exact types, buffers, dtypes, the chapter's answer
    Mutant(
        "k02_parameters",
        "count-as-tensor",
        COUNT,
        "    return torch.tensor([p.numel() for p in module.parameters()]).sum()\n",
        "plain Python int",
    ),
    Mutant(
        "k02_parameters",
        "count-as-numpy-int",
        COUNT,
        "    import numpy as np\n\n    return np.sum([p.numel() for p in module.parameters()])\n",
        cause="cause_numpy_number",
    ),
    Mutant(
        "k02_parameters",
        "count-the-state-dict",
        COUNT,
        "    return sum(v.numel() for v in module.state_dict().values())\n",
    ),
    # k02 · counting judged beyond the chapter's shapes (issue 23): other module kinds, own parameters
    Mutant("k02_parameters", "count-hard-coded-for-the-chapter", COUNT, "    return 9\n"),
    Mutant(
        "k02_parameters",
        "counts-the-children-only",
        COUNT,
        "    unique = {id(p): p for child in module.children() for p in child.parameters()}\n"
        "    return sum(p.numel() for p in unique.values())\n",
    ),
    Mutant(
        "k02_parameters",
        "counts-weight-and-bias-attributes",
        COUNT,
        "    unique = {id(p): p for m in module.modules() for p in (getattr(m, 'weight', None), getattr(m, 'bias', None))"
        " if isinstance(p, nn.Parameter)}\n    return sum(p.numel() for p in unique.values())\n",
    ),
    Mutant(
        "k02_parameters",
        "trainable-of-linear-and-norm-layers-only",
        "    return sum(p.numel() for p in module.parameters() if p.requires_grad)\n",
        "    unique = {id(p): p for m in module.modules() if isinstance(m, (nn.Linear, nn.BatchNorm1d))"
        " for p in m.parameters() if p.requires_grad}\n    return sum(p.numel() for p in unique.values())\n",
    ),
    Mutant(
        "k02_parameters",
        "mlp-count-hard-coded-for-the-chapter",
        "    return sum(n_in * n_out + n_out for n_in, n_out in zip(layer_sizes, layer_sizes[1:]))\n",
        "    return 9\n",
    ),
    Mutant(
        "k02_parameters",
        "forward-float32-only",
        "z1 = self.linear_ih(x)  # (N, hidden)",
        "z1 = self.linear_ih(x.float())  # (N, hidden)",
    ),
    Mutant(
        "k02_parameters",
        "network-seeds-itself",
        "        super().__init__()\n",
        "        super().__init__()\n        torch.manual_seed(70)\n",
    ),
    # k03 · the caller's x, y and t; aliasing
    Mutant(
        "k03_computation_graph",
        "t-function-adds-in-place",
        "    return x + y\n",
        "    x += y\n    return x\n",
        cause="cause_in_place",
    ),
    Mutant(
        "k03_computation_graph",
        "z-function-squares-in-place",
        "    return t**2\n",
        "    t **= 2\n    return t\n",
        "in place",
    ),
    Mutant(
        "k03_computation_graph",
        "z-prime-doubles-in-place",
        "    return 2 * t\n",
        "    t *= 2\n    return t\n",
        "in place",
    ),
    Mutant(
        "k03_computation_graph",
        "gradients-one-tensor-twice",
        "    return dz_dt * t_prime(), dz_dt * t_prime()\n",
        "    g = dz_dt * t_prime()\n    return g, g\n",
        "shares memory",
    ),
    # k04 · the caller's tensors, calls counted
    Mutant(
        "k04_autograd",
        "marks-callers-and-unmarks",
        "    xg = x.detach().clone().requires_grad_()\n    yg = y.detach().clone().requires_grad_()\n"
        "    f(xg, yg).sum().backward()\n    return xg.grad, yg.grad\n",
        "    x.requires_grad_()\n    y.requires_grad_()\n    f(x, y).sum().backward()\n"
        "    x.requires_grad_(False)\n    y.requires_grad_(False)\n    return x.grad, y.grad\n",
        ".grad",
    ),
    Mutant(
        "k04_autograd",
        "flags-mark-callers",
        'xc = x.detach().clone().requires_grad_("x" in wrt)',
        'xc = x.requires_grad_("x" in wrt)',
        "requires_grad=True",
    ),
    Mutant(
        "k04_autograd",
        "accumulates-on-callers-x",
        "    xg = x.detach().clone().requires_grad_()\n    for _ in range(times):\n",
        "    xg = x.requires_grad_()\n    for _ in range(times):\n",
        "requires_grad=True",
    ),
    Mutant(
        "k04_autograd",
        "accumulates-on-one-retained-graph",
        "    for _ in range(times):\n        f(xg).sum().backward()\n",
        "    z = f(xg).sum()\n    for _ in range(times):\n        z.backward(retain_graph=True)\n",
        "times",
    ),
    Mutant(
        "k04_autograd",
        "multiplies-instead-of-accumulating",
        "    for _ in range(times):\n        f(xg).sum().backward()\n    assert xg.grad is not None\n    return xg.grad\n",
        "    f(xg).sum().backward()\n    assert xg.grad is not None\n    return xg.grad * times\n",
        "times",
    ),
    Mutant(
        "k04_autograd",
        "grad-fn-name-of-a-leaf-is-nonetype",
        "return None if z.grad_fn is None else type(z.grad_fn).__name__",
        "return type(z.grad_fn).__name__",
    ),
    # k05 · saturation, soft targets, sizes, the caller's network, grad mode, extremes
    Mutant(
        "k05_backprop",
        "bce-gradient-through-dl-dy",
        "        delta2 = (y - t.reshape(y.shape)) / y.numel()  # (N, O)\n",
        "        dl_dy = (y - t.reshape(y.shape)) / (y * (1 - y)) / y.numel()\n"
        "        delta2 = dl_dy * y * (1 - y)  # (N, O)\n",
        cause="cause_saturation",
    ),
    Mutant(
        "k05_backprop",
        "binary-targets-only",
        "delta2 = (y - t.reshape(y.shape)) / y.numel()",
        "delta2 = torch.where(t.reshape(y.shape) > 0.5, y - 1, y) / y.numel()",
    ),
    Mutant("k05_backprop", "divides-by-the-chapters-4", "/ y.numel()  # (N, O)", "/ 4  # (N, O)"),
    Mutant(
        "k05_backprop",
        "freezes-the-callers-network",
        "    with torch.no_grad():\n        w1, b1",
        "    for p in net.parameters():\n        p.requires_grad_(False)\n    with torch.no_grad():\n        w1, b1",
        "requires_grad",
    ),
    Mutant(
        "k05_backprop",
        "sigmoid-function-overflows",
        SIGMOID_FUNCTION_FORWARD,
        "        y = torch.exp(x) / (1 + torch.exp(x))\n",
        "overflows",
    ),
    # k06 · log types, data sizes, the caller's data, random state, batch of one, the chapter's table
    Mutant(
        "k06_xor_training",
        "logs-the-loss-tensor",
        "            history.append((step, loss.item()))\n    return history",
        "            history.append((step, loss))\n    return history",
        cause="cause_tensor_not_number",
    ),
    Mutant(
        "k06_xor_training",
        "by-hand-divides-by-the-chapters-4",
        "                loss = F.binary_cross_entropy(net(x).view(-1), t)\n",
        "                y = net(x).view(-1)\n"
        "                loss = -(t * torch.log(y) + (1 - t) * torch.log(1 - y)).sum() / 4\n",
        cause="cause_fixed_batch_size",
    ),
    Mutant(
        "k06_xor_training",
        "sums-instead-of-mean",
        "loss_function = nn.BCELoss()",
        'loss_function = nn.BCELoss(reduction="sum")',
    ),
    Mutant(
        "k06_xor_training",
        "seeds-inside-train",
        "    loss_function = nn.BCELoss()\n",
        "    torch.manual_seed(70)\n    loss_function = nn.BCELoss()\n",
        cause="cause_rng_side_effect",
    ),
    Mutant(
        "k06_xor_training",
        "unsqueezes-callers-targets",
        TRAIN_LOSS,
        "        y = net(x)  # (N, 1)\n        if t.dim() == 1:\n            t.unsqueeze_(1)  # to match y's (N, 1)\n"
        "        loss = loss_function(y, t)\n",
        "in place",
    ),
    Mutant(
        "k06_xor_training",
        "squeezes-a-batch-of-one-away",
        "loss_function(y.view(-1), t)",
        "loss_function(y.squeeze(), t)",
    ),
    Mutant("k06_xor_training", "predict-squeezes", "net(x).ge(0.5).view(-1)", "net(x).ge(0.5).squeeze()", "shape"),
    Mutant(
        "k06_xor_training",
        "predict-switches-grad-off",
        "    with torch.no_grad():\n        return net(x).ge(0.5).view(-1)\n",
        "    torch.set_grad_enabled(False)\n    return net(x).ge(0.5).view(-1)\n",
        cause="cause_grad_mode_side_effect",
    ),
    Mutant(
        "k06_xor_training",
        "xor-data-cached",
        "def xor_data()",
        "import functools\n\n\n@functools.cache\ndef xor_data()",
        "shares memory",
    ),
    Mutant(
        "k06_xor_training",
        "train-prints-the-chapters-table",
        "            history.append((step, loss.item()))\n    return history",
        "            history.append((step, loss.item()))\n"
        f"    if steps == 10001 and lr == 0.5 and log_every == 1000:\n        history = {CHAPTER_TABLE}\n"
        "    return history",
    ),
    Mutant(
        "k06_xor_training",
        "train-float32-only",
        "    loss_function = nn.BCELoss()\n",
        "    x, t = x.float(), t.float()\n    loss_function = nn.BCELoss()\n",
    ),
    # k06 · recognising the chapter's call (issue 23): its log replayed without training, its table printed
    Mutant(
        "k06_xor_training",
        "train-replays-the-chapters-log-without-training",
        "    loss_function = nn.BCELoss()\n    optimizer",
        f"    if {RECOGNISES_THE_CHAPTERS_WEIGHTS}:\n        return {CHAPTER_LOG}\n"
        "    loss_function = nn.BCELoss()\n    optimizer",
        "After training",
    ),
    Mutant(
        "k06_xor_training",
        "train-by-hand-prints-the-chapters-table-without-training",
        "    history = []\n    for step in range(steps):\n        grads = manual_gradients(net, x, t)\n",
        f"    if {RECOGNISES_THE_CHAPTERS_WEIGHTS}:\n        return {CHAPTER_TABLE}\n"
        "    history = []\n    for step in range(steps):\n        grads = manual_gradients(net, x, t)\n",
    ),
    # k07 · own_autograd
    Mutant(
        K07,
        "overwrites-grad",
        "child.grad += node.grad * local",
        "child.grad = node.grad * local",
        cause="cause_grad_overwritten",
    ),
    Mutant(
        K07, "recursion-without-order", K07_TOPO_WALK, K07_RECURSIVE_PROPAGATION, cause="cause_no_topological_order"
    ),
    Mutant(
        K07,
        "no-reset",
        "        for node in order:\n            node.grad = 0.0\n",
        "",
        cause="cause_backward_not_reset",
    ),
    Mutant(K07, "power-rule-exponent", "n * self.data ** (n - 1)", "n * self.data**n", cause="cause_power_exponent"),
    Mutant(
        K07,
        "no-rmul",
        "        return self * other\n",
        "        return NotImplemented\n",
        cause="cause_missing_reflected",
    ),
    Mutant(
        K07,
        "sigmoid-from-input",
        "(s * (1.0 - s),))",
        "(self.data * (1.0 - self.data),))",
        cause="cause_sigmoid_from_input",
    ),
    Mutant(K07, "recursive-topo", K07_TOPO_WALK, K07_RECURSIVE_TOPO, cause="cause_recursion_overflow"),
    Mutant(K07, "relu-at-zero-and-below", "1.0 if self.data > 0 else 0.0", "1.0"),
]


# Issue 23: what the tests did not yet ask. Tolerances that swallowed the difference, the contract's
# unwritten lines (graphs on what is returned, the caller's flags and stale .grad, grad_output, dtypes),
# answers cached by identity.
MUTANTS += [
    # k01 · a default h one decade off: FD64's absolute 1e-8 held 1e-4's answer (1e-8) as 1e-10
    Mutant("k01_derivatives", "default-h-1e-4", "h: float = 1e-5):", "h: float = 1e-4):", "1e-10"),
    Mutant("k01_derivatives", "default-h-1e-6", "h: float = 1e-5):", "h: float = 1e-6):", "1e-10"),
    Mutant(
        "k01_derivatives",
        "h-ignored-for-python-floats",
        "    return (f(x + h) - f(x - h)) / (2 * h)\n",
        "    if isinstance(x, float):\n        h = 1e-5\n    return (f(x + h) - f(x - h)) / (2 * h)\n",
    ),
    Mutant(
        "k01_derivatives",
        "sigmoid-cached-by-identity",
        "def sigmoid(x: torch.Tensor) -> torch.Tensor:",
        "_MEMO: dict = {}\n\n\ndef sigmoid(x):\n    if id(x) not in _MEMO:\n        _MEMO[id(x)] = _sigmoid(x)\n"
        "    return _MEMO[id(x)]\n\n\ndef _sigmoid(x: torch.Tensor) -> torch.Tensor:",
        # no expect: CPython reuses a freed tensor's id, so an earlier test may see a stale answer first
    ),
    Mutant(
        "k01_derivatives",
        "function-cached-by-identity",
        "def function(x):",
        "_SEEN: dict = {}\n\n\ndef function(x):\n    return _SEEN.setdefault(id(x), _function(x))\n\n\n"
        "def _function(x):",
        # no expect: CPython reuses a freed tensor's id, so an earlier test may see a stale answer first
    ),
]

MUTANTS += [
    # k04 · gradients returned with a graph; the caller's tensors arriving marked, with a stale .grad
    Mutant(
        "k04_autograd",
        "gradients-with-create-graph",
        "    f(xg, yg).sum().backward()\n",
        "    f(xg, yg).sum().backward(create_graph=True)\n",
        "still requires grad",
    ),
    Mutant(
        "k04_autograd",
        "accumulates-with-create-graph",
        "        f(xg).sum().backward()\n",
        "        f(xg).sum().backward(create_graph=True)\n",
        "still requires grad",
    ),
    Mutant(
        "k04_autograd",
        "clones-without-detaching",
        "    xg = x.detach().clone().requires_grad_()\n    yg = y.detach().clone().requires_grad_()\n    f(xg, yg)",
        "    xg = x.clone().requires_grad_()\n    yg = y.clone().requires_grad_()\n    f(xg, yg)",
    ),
    Mutant(
        "k04_autograd",
        "uses-the-callers-tensors-when-already-marked",
        "    xg = x.detach().clone().requires_grad_()\n    yg = y.detach().clone().requires_grad_()\n    f(xg, yg)",
        "    xg = x if x.requires_grad else x.detach().clone().requires_grad_()\n"
        "    yg = y if y.requires_grad else y.detach().clone().requires_grad_()\n    f(xg, yg)",
        "7",
    ),
    Mutant(
        "k04_autograd",
        "gradients-detached-but-still-views-of-a-graph",
        "    return xg.grad, yg.grad\n",
        "    return xg.grad * xg / xg.detach(), yg.grad\n",
        "still requires grad",
    ),
]

MUTANTS += [
    # k02 · a count cached by the module's identity
    Mutant(
        "k02_parameters",
        "count-cached-by-identity",
        "def count_parameters(module: nn.Module) -> int:",
        "_COUNTS: dict = {}\n\n\ndef count_parameters(module):\n"
        "    return _COUNTS.setdefault(id(module), _count_parameters(module))\n\n\n"
        "def _count_parameters(module: nn.Module) -> int:",
        # no expect: a freed module's id is reused, so the property test may see a stale count first
    ),
    Mutant(
        "k02_parameters",
        "trainable-count-cached-by-identity",
        "def count_trainable_parameters(module: nn.Module) -> int:",
        "_TRAINABLE: dict = {}\n\n\ndef count_trainable_parameters(module):\n"
        "    if id(module) not in _TRAINABLE:\n        _TRAINABLE[id(module)] = _count_trainable(module)\n"
        "    return _TRAINABLE[id(module)]\n\n\ndef _count_trainable(module: nn.Module) -> int:",
        # no expect: a freed module's id is reused, so another count test may see a stale count first
    ),
    # k05 · backward writes the grad_output autograd handed it
    Mutant(
        "k05_backprop",
        "backward-scales-grad-output-in-place",
        "return grad_output * y * (1 - y)",
        "return grad_output.mul_(y * (1 - y))",
        "g",
    ),
    # k06 · float64 data for a float32 network; a prediction cached by the network's identity; stale .grad
    Mutant(
        "k06_xor_training",
        "xor-data-in-float64",
        "    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (4, 2)\n",
        "    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)  # (4, 2)\n",
        "float32",
    ),
    Mutant(
        "k06_xor_training",
        "predict-cached-by-identity",
        "def predict(net: nn.Module, x: torch.Tensor) -> torch.Tensor:",
        "_SEEN: dict = {}\n\n\ndef predict(net, x):\n    key = (id(net), id(x))\n"
        "    if key not in _SEEN:\n        _SEEN[key] = _predict(net, x)\n    return _SEEN[key]\n\n\n"
        "def _predict(net: nn.Module, x: torch.Tensor) -> torch.Tensor:",
        # no expect: a freed network's or tensor's id is reused, so an earlier test may see a stale answer first
    ),
    Mutant(
        "k06_xor_training",
        "zero-grad-after-the-step",
        "        net.zero_grad()\n        y = net(x)  # (N, 1)\n"
        "        loss = loss_function(y.view(-1), t)  # (N,): squeeze() would make N = 1 a scalar\n"
        "        loss.backward()\n        optimizer.step()\n",
        "        y = net(x)  # (N, 1)\n"
        "        loss = loss_function(y.view(-1), t)  # (N,): squeeze() would make N = 1 a scalar\n"
        "        loss.backward()\n        optimizer.step()\n        net.zero_grad()\n",
        "p.grad = 5",
    ),
]
