"""k07 · other honest engines pass as pasted, and an engine built on torch is refused.

The kata's tests must not hold the learner to the reference's layout (``children`` and
``local`` tuples): an engine written the micrograd way (a ``_backward`` closure per node, a
topological sort with a visited set; here with an explicit stack, since a 5,000-deep chain
must work) passes every k07 test as it is.
"""

from __future__ import annotations

import pytest
from helpers import copy_solutions, run_kata_tests

from backprop_katas.kit import shortcuts
from backprop_katas.kit.failure import JudgeFailed

KATA = "k07_own_autograd"

MICROGRAD_STYLE = r"""
import math


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other):
        out = Value(self.data**other, (self,), f"**{other}")

        def _backward():
            self.grad += other * self.data ** (other - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def sigmoid(self):
        x = self.data
        s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += out.data * (1 - out.data) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(0.0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        topo, visited, stack = [], set(), [(self, False)]
        while stack:
            v, expanded = stack.pop()
            if expanded:
                topo.append(v)
            elif v not in visited:
                visited.add(v)
                stack.append((v, True))
                stack.extend((child, False) for child in v._prev if child not in visited)
        for v in topo:
            v.grad = 0.0
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"


def chapter_z(x, y):
    x, y = Value(x), Value(y)
    z = (x + y) ** 2
    z.backward()
    return z.data, x.grad, y.grad


def xor_loss(params, x, t):
    p = {k: [[Value(w) for w in row] if isinstance(row, list) else Value(row) for row in v] for k, v in params.items()}
    h = [sum((w * xi for w, xi in zip(row, x)), b).sigmoid()
         for row, b in zip(p["linear_ih.weight"], p["linear_ih.bias"])]
    y = sum((w * hi for w, hi in zip(p["linear_ho.weight"][0], h)), p["linear_ho.bias"][0]).sigmoid()
    loss = -(t * y.log() + (1 - t) * (1 - y).log())
    loss.backward()
    grads = {k: [[w.grad for w in row] if isinstance(row, list) else row.grad for row in v] for k, v in p.items()}
    return loss.data, grads
"""

# What the micrograd-style engine's recursion would do on a deep chain, were its topological sort recursive:
# the kata asks for an iterative one, so that variant is the `recursive-topo` mutant (kata_mutants.py).


def test_a_micrograd_style_engine_passes_every_k07_test_as_pasted(tmp_path):
    folder = copy_solutions(tmp_path)
    (folder / f"{KATA}.py").write_text(MICROGRAD_STYLE, encoding="utf-8")
    outcome = run_kata_tests(KATA, folder)
    assert outcome.passed and not outcome.failed, "\n\n".join(outcome.failed.values())


TORCH_ENGINE = '''
import torch


class Value:
    """A Value that lets torch do the work: what WITHOUT_TORCH refuses."""

    def __init__(self, data):
        self.t = torch.tensor(float(data), dtype=torch.float64)
'''


@pytest.mark.parametrize("head", ["import torch\n", "from torch import autograd\n", "import torch.nn as nn\n"])
def test_an_engine_that_imports_torch_is_refused_and_the_reference_is_not(tmp_path, head):
    folder = copy_solutions(tmp_path)
    assert shortcuts.without_torch(KATA)
    shortcuts.expect_no_shortcut(folder, KATA, [])  # the reference imports math only
    path = folder / f"{KATA}.py"
    path.write_text(head + path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(JudgeFailed) as refused:
        shortcuts.expect_no_shortcut(folder, KATA, [])
    assert [line.key for line in refused.value.failure.lines] == ["shortcut_torch"]


def test_a_torch_engine_fails_the_k07_tests(tmp_path):
    folder = copy_solutions(tmp_path)
    (folder / f"{KATA}.py").write_text(TORCH_ENGINE, encoding="utf-8")
    outcome = run_kata_tests(KATA, folder, "-x")
    (text,) = outcome.failed.values()
    assert "written without torch" in text, text
