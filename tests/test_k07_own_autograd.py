"""k07 · Your own autograd: a scalar Value and backward(), judged on graphs the tests build.

The oracles: a float64 evaluator of the same program with central differences over its leaves,
and torch's autograd on the same program; both independent of the learner's engine.
"""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest
import torch

from backprop_katas.kit import mistakes as M
from backprop_katas.kit import oracles as O
from backprop_katas.kit.judge import expect_close, expect_no_error
from backprop_katas.kit.probes import k07_own_autograd as P

KATA = "k07_own_autograd"

CONTRACTS = {
    "Value": {
        "inputs": "Value(x) for a Python number x; + - * / with a Value or a number on either side, ** a number",
        "values": "any finite floats; sigmoid finite for ±1000; graphs with shared nodes; a chain 5,000 deep",
        "returns": "data a float, grad 0.0 until backward(); every operation a new Value",
        "aliasing": "an operation never changes its inputs' data",
        "side effects": "backward() zeroes every grad of the graph, then sets the output's to 1.0 and accumulates "
        "(+=) in reverse topological order: calling it twice gives the same grads",
        "forbidden": "torch inside Value (by hand); recursion in backward (a deep chain overflows)",
    },
    "chapter_z": {
        "inputs": "x, y Python floats",
        "values": "the chapter's (1, 3) and seeded random pairs",
        "returns": "(z, dz/dx, dz/dy) as floats: (16.0, 8.0, 8.0) at (1, 3)",
        "aliasing": "none",
        "side effects": "none",
        "forbidden": "torch, autograd",
    },
    "xor_loss": {
        "inputs": "params of the XOR network as nested lists (any hidden size), x a list, t in [0, 1]",
        "values": "seeded random weights; t 0, 1 and in between",
        "returns": "(loss, grads) with grads shaped like params, floats",
        "aliasing": "params unchanged",
        "side effects": "none",
        "forbidden": "torch, autograd",
    },
}

# Central differences of a smooth float64 program: error O(h²) ≈ 1e-10 relative plus rounding
# eps/h ≈ 1e-11; the oracles' FD64 tolerance (kit.oracles) holds both.
H = 1e-6
UNARY = {"sigmoid": O.sigmoid, "exp": np.exp, "relu": lambda v: max(v, 0.0), "log": math.log}
BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}


def evaluate(program, leaves=None, lib=None):
    """The program in float64 (or on torch tensors, ``lib="torch"``): every node's value."""
    values = []
    it = iter(leaves) if leaves is not None else None
    for op, *args in program:
        if op == "leaf":
            values.append(next(it) if it is not None else float(args[0]))
        elif op in BINARY:
            values.append(BINARY[op](values[args[0]], values[args[1]]))
        elif op.endswith("c") and op[:-1] in BINARY:
            values.append(BINARY[op[:-1]](values[args[0]], args[1]))
        elif op.startswith("r") and op[1:] in BINARY:
            values.append(BINARY[op[1:]](args[0], values[args[1]]))
        elif op == "pow":
            values.append(values[args[0]] ** args[1])
        elif lib == "torch":
            values.append(getattr(torch, op)(values[args[0]]))
        else:
            values.append(UNARY[op](values[args[0]]))
    return values


def leaf_indices(program):
    return [i for i, (op, *_) in enumerate(program) if op == "leaf"]


def numerical_leaf_grads(program):
    """∂out/∂leaf by float64 central differences."""
    base = [float(program[i][1]) for i in leaf_indices(program)]
    grads = []
    for k in range(len(base)):
        up, down = list(base), list(base)
        up[k] += H
        down[k] -= H
        grads.append((evaluate(program, up)[-1] - evaluate(program, down)[-1]) / (2 * H))
    return np.array(grads)


def torch_leaf_grads(program):
    leaves = [
        torch.tensor(float(program[i][1]), dtype=torch.float64, requires_grad=True) for i in leaf_indices(program)
    ]
    out = evaluate(program, leaves, lib="torch")[-1]
    out.backward()
    return np.array([0.0 if leaf.grad is None else leaf.grad.item() for leaf in leaves])  # None: not on a path


def describe(program):
    return f"{KATA}: out = graph_of_{len(program)}_values(); out.backward()"


def judged_graph(run, program, times=1, causes=None):
    out = run(P.graph, program, times)
    expect_no_error(out["error"], describe(program), causes or {})
    return out


def leaf_grads(out, program):
    return np.array([out["grads"][i] for i in leaf_indices(program)], dtype=np.float64)


REFLECTED = {"TypeError": "cause_missing_reflected"}


# --- arithmetic: the forward values, numbers on either side ---------------------------------

FORWARD = [
    ("add", [["leaf", 1.5], ["leaf", -4.0], ["add", 0, 1]], -2.5),
    ("sub", [["leaf", 1.5], ["leaf", -4.0], ["sub", 0, 1]], 5.5),
    ("mul", [["leaf", 1.5], ["leaf", -4.0], ["mul", 0, 1]], -6.0),
    ("div", [["leaf", 1.5], ["leaf", -4.0], ["div", 0, 1]], -0.375),
    ("pow", [["leaf", 1.5], ["pow", 0, 3]], 3.375),
    ("v + 2", [["leaf", 1.5], ["addc", 0, 2.0]], 3.5),
    ("2 + v", [["leaf", 1.5], ["radd", 2.0, 0]], 3.5),
    ("2 * v", [["leaf", 1.5], ["rmul", 2.0, 0]], 3.0),
    ("1 - v", [["leaf", 1.5], ["rsub", 1.0, 0]], -0.5),
    ("3 / v", [["leaf", 1.5], ["rdiv", 3.0, 0]], 2.0),
    ("v / 3", [["leaf", 1.5], ["divc", 0, 3.0]], 0.5),
]


@pytest.mark.part("arithmetic")
@pytest.mark.parametrize(("program", "expected"), [pytest.param(p, e, id=i) for i, p, e in FORWARD])
def test_each_operation_computes_its_value_with_numbers_on_either_side(run, program, expected):
    out = judged_graph(run, program, times=0, causes=REFLECTED)
    expect_close(out["data"][-1], expected, O.FD64, describe(program), "out.data")
    expect_close(out["grads"][0], 0.0, O.FD64, describe(program), "Value(x).grad")


# --- the power rule first: division goes through it (a / b = a * b ** -1)


@pytest.mark.part("backward")
@pytest.mark.parametrize(("x", "n"), [(1.7, 3.0), (0.6, -2.0), (2.5, 0.5)], ids=["cube", "inverse-square", "sqrt"])
def test_the_power_rule_lowers_the_exponent(run, x, n):
    program = [["leaf", x], ["pow", 0, n]]
    out = judged_graph(run, program)
    expect_close(
        out["grads"][0],
        n * x ** (n - 1),
        O.FD64,
        describe(program),
        "dx",
        candidates={"cause_power_exponent": M.power_rule_exponent(x, n)},
    )


# --- local derivatives, one node at a time ----------------------------------------------------

LOCAL = [
    ("add", [["leaf", 0.7], ["leaf", -1.3], ["add", 0, 1]]),
    ("mul", [["leaf", 0.7], ["leaf", -1.3], ["mul", 0, 1]]),
    ("div", [["leaf", 0.7], ["leaf", -1.3], ["div", 0, 1]]),
    ("2 * v - 1", [["leaf", 0.7], ["rmul", 2.0, 0], ["subc", 1, 1.0]]),
    ("exp", [["leaf", 0.7], ["exp", 0]]),
    ("log", [["leaf", 0.7], ["log", 0]]),
    ("relu+", [["leaf", 0.7], ["relu", 0]]),
    ("relu-", [["leaf", -0.7], ["relu", 0]]),
]


@pytest.mark.part("activations")
@pytest.mark.parametrize("program", [pytest.param(p, id=i) for i, p in LOCAL])
def test_each_node_passes_back_its_local_derivative(run, program):
    out = judged_graph(run, program, causes=REFLECTED)
    expected = numerical_leaf_grads(program)
    expect_close(leaf_grads(out, program), expected, O.FD64, describe(program), "leaf.grad")


@pytest.mark.part("activations")
@pytest.mark.parametrize("x", [-2.0, 0.4, 3.0, 1000.0, -1000.0])
def test_sigmoid_takes_its_local_derivative_from_its_output(run, x):
    program = [["leaf", x], ["sigmoid", 0]]
    out = judged_graph(run, program)
    s = float(O.sigmoid(np.float64(x)))
    expect_close(out["data"][-1], s, O.FD64, describe(program), "σ(x)")
    expect_close(
        out["grads"][0],
        s * (1 - s),
        O.FD64,
        describe(program),
        "dσ/dx",
        candidates={"cause_sigmoid_from_input": M.sigmoid_local_from_input(x)},
    )


# --- backward: accumulation, order, a second call, depth -------------------------------------


@pytest.mark.part("backward")
@pytest.mark.parametrize("x", [3.0, -0.8])
def test_a_node_used_twice_gets_both_contributions(run, x):
    program = [["leaf", x], ["mul", 0, 0]]  # z = x * x: dz/dx = x + x
    out = judged_graph(run, program)
    expect_close(
        out["grads"][0],
        2 * x,
        O.FD64,
        describe(program),
        "x.grad",
        candidates={"cause_grad_overwritten": M.grad_overwritten([x, x])},
    )


@pytest.mark.part("backward")
@pytest.mark.parametrize("x", [0.3, -1.1])
def test_a_diamond_graph_passes_each_grad_on_after_all_users_added_to_it(run, x):
    # x → a = exp(x) → b = 2a, c = 3a → d = b + c: dd/dx = (2 + 3) e^x
    program = [["leaf", x], ["exp", 0], ["rmul", 2.0, 1], ["rmul", 3.0, 1], ["add", 2, 3]]
    out = judged_graph(run, program, causes=REFLECTED)
    local = math.exp(x)
    expect_close(
        out["grads"][0],
        5.0 * local,
        O.FD64,
        describe(program),
        "dd/dx",
        candidates={"cause_no_topological_order": M.walked_per_use([2.0, 3.0], local)},
    )


@pytest.mark.part("backward")
def test_backward_twice_gives_the_same_grads_as_once(run):
    program = [["leaf", 1.25], ["leaf", -0.5], ["mul", 0, 1]]
    out = judged_graph(run, program, times=2)
    expected = np.array([-0.5, 1.25])
    expect_close(
        leaf_grads(out, program),
        expected,
        O.FD64,
        describe(program) + "; out.backward()",
        "leaf.grad",
        candidates={"cause_backward_not_reset": M.backward_twice(expected)},
    )


DEPTH = 5000


@pytest.mark.part("backward")
def test_backward_works_on_a_chain_five_thousand_nodes_deep(run):
    program = [["leaf", 0.5], *[["mulc", i, 1.0001] for i in range(DEPTH)]]
    out = judged_graph(run, program, causes={"RecursionError": "cause_recursion_overflow"})
    expect_close(out["grads"][0], 1.0001**DEPTH, O.FD64, describe(program), "dout/dx")


# --- random graphs with shared nodes, against central differences and torch --------------------


def random_program(seed, size=14):
    """A random graph: leaves, then operations on random earlier nodes (so nodes are shared), all smooth
    and well-conditioned (log and division of positive values only)."""
    rng = np.random.default_rng(seed)
    program = [["leaf", float(rng.uniform(-1.5, 1.5))] for _ in range(3)]
    positive = []  # nodes known to be positive: sigmoid, exp outputs
    for _ in range(size):
        i, j = (int(v) for v in rng.integers(0, len(program), 2))
        kind = rng.choice(["add", "mul", "sub", "sigmoid", "exp", "pow", "radd", "rmul", "log", "div"])
        if kind in ("add", "mul", "sub"):
            program.append([str(kind), i, j])
        elif kind in ("radd", "rmul"):
            program.append([str(kind), float(rng.uniform(-2, 2)), i])
        elif kind == "pow":
            program.append(["pow", i, 2.0])
        elif kind == "sigmoid":
            program.append(["sigmoid", i])
            positive.append(len(program) - 1)
        elif kind in ("log", "div", "exp") and positive:
            p = positive[int(rng.integers(0, len(positive)))]
            program.append(["log", p] if kind == "log" else ["div", i, p] if kind == "div" else ["exp", p])
            if kind == "exp":
                positive.append(len(program) - 1)
        else:
            program.append(["sigmoid", i])
            positive.append(len(program) - 1)
    program.append(["add", len(program) - 1, len(program) - 2])
    program.append(["mul", len(program) - 1, 0])  # the first leaf used again at the end
    return program


SEEDS = range(8)


@pytest.mark.part("backward")
@pytest.mark.parametrize("seed", SEEDS)
def test_random_graphs_with_shared_nodes_match_central_differences(run, seed):
    program = random_program(seed)
    out = judged_graph(run, program, causes=REFLECTED)
    expect_close(out["data"][-1], evaluate(program)[-1], O.FD64, describe(program), "out.data")
    expect_close(leaf_grads(out, program), numerical_leaf_grads(program), O.FD64, describe(program), "leaf.grad")


@pytest.mark.part("backward")
@pytest.mark.parametrize("seed", SEEDS)
def test_random_graphs_with_shared_nodes_match_torch_autograd(run, seed):
    program = random_program(seed)
    out = judged_graph(run, program, causes=REFLECTED)
    expect_close(leaf_grads(out, program), torch_leaf_grads(program), O.AUTOGRAD64, describe(program), "leaf.grad")


# --- the chapter's examples on Values ---------------------------------------------------------


@pytest.mark.part("chapter_example")
@pytest.mark.parametrize(("x", "y"), [(1.0, 3.0), (-0.4, 2.2), (0.0, 0.0)])
def test_chapter_z_gives_z_and_both_gradients(run, x, y):
    got = run(P.chapter_z, x, y)
    call = f"{KATA}.chapter_z({x}, {y})"
    expect_close(
        np.asarray(got, dtype=np.float64),
        np.array([(x + y) ** 2, 2 * (x + y), 2 * (x + y)]),
        O.FD64,
        call,
        "(z, dz/dx, dz/dy)",
    )


def xor_problem(seed, hidden):
    rng = np.random.default_rng(seed)
    params = O.random_xor_params(rng, 2, hidden)
    return {k: v.tolist() for k, v in params.items()}, rng.normal(0, 1.5, 2).tolist()


@pytest.mark.part("chapter_example")
@pytest.mark.parametrize(("seed", "hidden", "t"), [(1, 2, 1.0), (2, 3, 0.0), (3, 5, 0.3)])
def test_xor_loss_on_values_matches_torch(run, seed, hidden, t):
    params, x = xor_problem(seed, hidden)
    net = O.network_from_params({k: np.asarray(v) for k, v in params.items()}, "float64")
    loss = torch.nn.BCELoss()(
        net(torch.tensor([x], dtype=torch.float64)).view(-1), torch.tensor([t], dtype=torch.float64)
    )
    loss.backward()
    call = f"{KATA}.xor_loss(params (2, {hidden}, 1), x, {t})"
    got_loss, got_grads = run(P.xor_loss, params, x, t)
    expect_close(got_loss, loss.item(), O.AUTOGRAD64, call, "loss")
    for name, p in net.named_parameters():
        expect_close(np.asarray(got_grads[name], dtype=np.float64), p.grad.numpy(), O.AUTOGRAD64, call, f"{name}.grad")
