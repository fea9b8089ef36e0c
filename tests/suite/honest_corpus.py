"""Honest submissions the source check must never refuse (issue 23, item 4).

Each is a correct k01 (or k03) written in another style: the reference
solution with some function bodies replaced (``edits``, each ``old`` occurring
once) and lines added after the imports (``head``) or at the end (``tail``).
The self-check (test_shortcuts.py) asserts that none of them is refused by the
static check (0 false positives) and that each passes every test of its kata,
run in this process as the mutants are.
"""

from __future__ import annotations

from typing import NamedTuple

from shortcut_mutants import Shortcut, apply


class Honest(NamedTuple):
    kata: str
    id: str
    edits: tuple[tuple[str, str], ...] = ()
    head: str = ""
    tail: str = ""

    def source(self, reference: str) -> str:
        for old, new in self.edits:
            assert reference.count(old) == 1, f"{self.id}: {old!r} must occur once in solutions/{self.kata}.py"
            reference = reference.replace(old, new)
        return apply(reference, Shortcut(self.id, self.kata, "", head=self.head, tail=self.tail))


K01 = "k01_derivatives"
F = "    return x**2\n"
P = "    return 2 * x\n"
N = "    return (f(x + h) - f(x - h)) / (2 * h)\n"
S = (
    "    e = torch.exp(torch.where(x >= 0, -x, x))  # e^(-|x|), in (0, 1]\n"
    "    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))\n"
)
SP = "    s = sigmoid(x)\n    return s * (1 - s)\n"
CHAPTER = (
    "x0 = torch.FloatTensor([4])\ny0 = prime_function(x0)\n"
    'print("differentiation of x={} is {:.1f}".format(x0.item(), y0.item()))\n'
)


def k01(id: str, *edits: tuple[str, str], head: str = "", tail: str = "") -> Honest:
    return Honest(K01, id, edits, head, tail)


CORPUS = [
    # the chapter's own code, and the tool named as data: docstrings, comments, strings, prints, f-strings
    k01("the-chapters-code-at-import", tail=CHAPTER),
    k01(
        "the-chapters-docstrings",
        (P, '    """\\ub3c4\\ud568\\uc218"""\n    return 2*x\n'),
        (F, '    """\\uc6d0\\ub798 \\ud568\\uc218"""\n    return x**2\n'),
    ),
    k01("tool-named-in-a-print", tail='print("k01 checked with backprop_katas")\n'),
    k01("tool-named-in-a-string-expression", (P, '    "the tests come from backprop_katas"\n    return 2 * x\n')),
    k01("tool-named-in-a-module-constant", head='TOOL = "backprop_katas"\nORACLES = "backprop_katas.kit.oracles"\n'),
    k01("tool-named-in-an-f-string", tail='_name = "backprop"\nprint(f"{_name}_katas k01 loaded")\n'),
    k01("tool-named-in-a-comment", head="# from backprop_katas.kit import oracles  -- not used: I wrote it myself\n"),
    k01("tool-named-in-a-bytes-literal", head='_NOTE = b"backprop_katas"\n'),
    k01(
        "tool-named-in-a-docstring-of-a-helper",
        (P, "    return _twice(x)\n"),
        tail='def _twice(v):\n    """Not backprop_katas.kit.oracles: by hand; not torch.autograd.grad either."""\n'
        "    return v + v\n",
    ),
    k01(
        "autograd-named-in-strings-and-comments",
        (
            P,
            "    # not torch.autograd.grad, not x.backward(), not requires_grad\n"
            '    note = "torch.autograd.grad(y, x) would also give 2x"\n    del note\n    return 2 * x\n',
        ),
    ),
    k01(
        "sigmoid-named-in-a-comment-and-a-string",
        (
            S,
            "    # torch.sigmoid(x) would do it; the kata wants the formula\n"
            '    label = "torch.sigmoid"\n    del label\n' + S,
        ),
    ),
    # helpers and variables named like the tools
    k01("a-helper-named-grad", (P, "    return grad(x)\n"), tail="def grad(v):\n    return 2 * v\n"),
    k01("a-helper-named-autograd", (P, "    return autograd(x)\n"), tail="def autograd(v):\n    return v * 2\n"),
    k01("a-helper-named-backward", (P, "    return backward(x)\n"), tail="def backward(v):\n    return 2 * v\n"),
    k01("a-local-named-grad", (P, "    grad = 2 * x\n    return grad\n")),
    k01(
        "locals-named-backward-and-autograd",
        (P, "    autograd = 2\n    backward = autograd * x\n    return backward\n"),
    ),
    k01(
        "a-helper-named-sigmoid_backward",
        (SP, "    return sigmoid_backward(sigmoid(x))\n"),
        tail="def sigmoid_backward(s):\n    return s * (1 - s)\n",
    ),
    k01(
        "a-parameter-named-grad",
        (P, "    return _scale(x, grad=2)\n"),
        tail="def _scale(v, grad):\n    return grad * v\n",
    ),
    # other spellings of the same maths
    k01("x-plus-x", (P, "    return x + x\n")),
    k01("x-times-x", (F, "    return x * x\n")),
    k01("power-rule-in-general", (P, "    n = 2\n    return n * x ** (n - 1)\n")),
    k01(
        "type-hints",
        ("def prime_function(x):", "def prime_function(x: float | torch.Tensor) -> float | torch.Tensor:"),
        ("def function(x):", "def function(x: float | torch.Tensor) -> float | torch.Tensor:"),
    ),
    k01("a-lambda-at-module-level", (P, "    return _double(x)\n"), head="_double = lambda v: 2 * v  # noqa: E731\n"),
    k01("a-closure", (P, "    def twice(v):\n        return v * 2\n\n    return twice(x)\n")),
    k01(
        "a-closure-factory",
        (P, "    return _derivative_of_power(2)(x)\n"),
        tail="def _derivative_of_power(n):\n    def d(v):\n        return n * v ** (n - 1)\n\n    return d\n",
    ),
    k01("a-walrus-in-the-function", (P, "    if (two := 2) > 0:\n        return two * x\n    return x\n")),
    k01(
        "a-match-statement",
        (
            F,
            "    match x:\n        case float() | int():\n            return x * x\n        case _:\n            return x**2\n",
        ),
    ),
    k01(
        "a-dataclass",
        (P, "    return Power(2).derivative(x)\n"),
        head="from dataclasses import dataclass\n",
        tail="@dataclass(frozen=True)\nclass Power:\n    n: int\n\n    def derivative(self, x):\n"
        "        return self.n * x ** (self.n - 1)\n",
    ),
    k01(
        "a-class-with-staticmethods",
        (P, "    return Square.prime(x)\n"),
        tail="class Square:\n    @staticmethod\n    def value(x):\n        return x * x\n\n"
        "    @staticmethod\n    def prime(x):\n        return 2 * x\n",
    ),
    k01(
        "micrograd-style-dual-numbers",
        (P, "    return (Dual(x, 1.0) * Dual(x, 1.0)).eps\n"),
        tail='class Dual:\n    """a + b·ε with ε² = 0: the derivative rides along (forward mode, by hand)."""\n\n'
        "    def __init__(self, real, eps):\n        self.real, self.eps = real, eps\n\n"
        "    def __mul__(self, other):\n"
        "        return Dual(self.real * other.real, self.real * other.eps + self.eps * other.real)\n",
    ),
    k01(
        "micrograd-style-value-with-a-chain-rule",
        (P, "    v = Value(x)\n    out = v.square()\n    return out.local * v.seed\n"),
        tail="class Value:\n    def __init__(self, data, seed=1.0):\n        self.data, self.seed = data, seed\n\n"
        "    def square(self):\n        out = Value(self.data * self.data)\n        out.local = 2 * self.data\n"
        "        return out\n",
    ),
    k01("a-dict-of-rules", (P, '    return RULES["x**2"](x)\n'), head='RULES = {"x**2": lambda v: 2 * v}\n'),
    k01(
        "functools-partial",
        (P, "    return _mul(2)(x)\n"),
        head="import functools\nimport operator\n",
        tail="def _mul(k):\n    return functools.partial(operator.mul, k)\n",
    ),
    k01("a-generator-and-sum", (P, "    return sum(x for _ in range(2))\n")),
    # numpy-heavy
    k01("numpy-constants", (P, "    return float(np.float64(2.0)) * x\n"), head="import numpy as np\n"),
    k01(
        "numpy-for-python-floats",
        (
            N,
            "    if isinstance(x, float):\n        up, down = f(x + h), f(x - h)\n"
            "        return float(np.subtract(up, down) / np.multiply(2, h))\n" + N,
        ),
        head="import numpy as np\n",
    ),
    k01(
        "numpy-step-from-finfo",
        (
            "def numerical_derivative(f: Callable, x, h: float = 1e-5):",
            "def numerical_derivative(f: Callable, x, h: float = float(np.float64(1e-5))):",
        ),
        head="import numpy as np\n",
    ),
    k01(
        "math-module-for-floats",
        (F, "    if isinstance(x, float):\n        return math.pow(x, 2)\n    return x**2\n"),
        head="import math\n",
    ),
    # the numerical derivative in other words
    k01(
        "numerical-derivative-named-steps",
        (
            N,
            "    forward_point = x + h\n    backward_point = x - h\n"
            "    return (f(forward_point) - f(backward_point)) / (2 * h)\n",
        ),
    ),
    k01("numerical-derivative-half-steps", (N, "    return (f(x + h) - f(x - h)) / h / 2\n")),
    k01(
        "numerical-derivative-via-a-helper",
        (N, "    return _central(f, x, h)\n"),
        tail="def _central(f, x, h):\n    return (f(x + h) - f(x - h)) / (2 * h)\n",
    ),
    # the sigmoid in other stable forms
    k01("sigmoid-by-tanh", (S, "    return 0.5 * (1 + torch.tanh(x / 2))\n")),
    k01(
        "sigmoid-with-named-masks",
        (
            S,
            "    positive = x >= 0\n    e = torch.exp(torch.where(positive, -x, x))\n"
            "    return torch.where(positive, 1 / (1 + e), e / (1 + e))\n",
        ),
    ),
    k01("sigmoid-clamped-exponent", (S, "    return 1 / (1 + torch.exp(-torch.clamp(x, min=-30.0)))\n")),
    k01("sigmoid-by-logaddexp", (S, "    return torch.exp(-torch.logaddexp(torch.zeros_like(x), -x))\n")),
    k01(
        "sigmoid-reciprocal-spelling",
        (
            S,
            "    e = torch.exp(torch.where(x >= 0, -x, x))\n"
            "    return torch.where(x >= 0, torch.reciprocal(1 + e), e * torch.reciprocal(1 + e))\n",
        ),
    ),
    k01(
        "sigmoid-with-a-helper-named-sigmoid-like",
        (S, "    return _logistic(x)\n"),
        tail="def _logistic(x):\n    e = torch.exp(torch.where(x >= 0, -x, x))\n"
        "    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
    ),
    k01("sigmoid-prime-one-minus-first", (SP, "    s = sigmoid(x)\n    return (1 - s) * s\n")),
    k01(
        "sigmoid-prime-by-the-tanh-identity",
        (SP, "    c = torch.cosh(torch.clamp(x, -80.0, 80.0) / 2)\n    return 0.25 / (c * c)\n"),
    ),
    k01("sigmoid-prime-as-s-minus-s-squared", (SP, "    s = sigmoid(x)\n    return s - s * s\n")),
    k01(
        "module-level-print-and-main-guard",
        tail='if __name__ == "__main__":\n    print(prime_function(4.0), sigmoid(torch.zeros(2)))\n',
    ),
    k01(
        "everything-at-once",
        (P, "    grad = _rules()['x**2'](x)\n    return grad\n"),
        head='import numpy as np\n\nDOC = "checked by backprop_katas, not imported"\n',
        tail='def _rules():\n    """torch.autograd.grad would do this; torch.sigmoid too; neither is used."""\n'
        "    return {'x**2': lambda v: float(np.int64(2)) * v}\n",
    ),
]

# k03: by-hand functions whose helpers and locals are named like autograd.
K03 = "k03_computation_graph"
CORPUS += [
    Honest(
        K03,
        "k03-helper-named-grad",
        (("    return 2 * t\n", "    return grad(t)\n"),),
        tail="def grad(t):\n    return 2 * t\n",
    ),
    Honest(
        K03,
        "k03-tool-and-autograd-named-in-text",
        (("    return 2 * t\n", '    """not t.backward(): by hand; see backprop_katas"""\n    return 2 * t\n'),),
        tail='print("backprop_katas k03: torch.autograd.grad not used")\n',
    ),
]
