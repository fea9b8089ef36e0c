r"""k07 · Your own autograd / 나만의 자동 미분 (past the chapter, a bonus kata).

k03 computed one graph by hand and k04–k06 handed the rest to PyTorch. Here you build the
engine: a scalar ``Value`` that remembers how it was made (its inputs and the rule for its
local derivative) and ``backward()``, which runs backpropagation over any graph: the output's
grad is 1, and one walk in reverse topological order adds each node's grad, times each local
derivative, into the grads of its inputs. A node used twice gets two contributions (+=).

k03 은 그래프 하나를 손으로 계산했고, k04–k06 은 나머지를 PyTorch 에 맡겼습니다. 여기서는 그
엔진을 직접 만듭니다. 스칼라 ``Value`` 는 자신이 어떻게 만들어졌는지(입력과 국소 도함수 규칙)를
기억하고, ``backward()`` 는 어떤 그래프에서든 오차역전파를 합니다. 출력의 grad 는 1 이고, 위상
정렬의 역순으로 한 번 훑으며 각 노드의 grad 에 국소 도함수를 곱해 입력의 grad 에 더합니다.
두 번 쓰인 노드는 기여를 두 번 받습니다(+=).
"""

from __future__ import annotations

import math


class Value:
    r"""A float that records the graph that made it, and backpropagates through it (스칼라 자동 미분).

    ``data`` is a Python float, ``grad`` starts at 0.0 and holds ∂out/∂self after
    ``out.backward()``. ``+ - * /`` and ``**`` with a number exponent work with a Value or a
    plain number on either side (``2 * v``, ``1 - v``, ``v / 3``); ``sigmoid()``, ``exp()``,
    ``relu()`` and ``log()`` are the nodes the XOR network needs. No torch inside: every local
    derivative is written by hand.

    ``data`` 는 파이썬 float, ``grad`` 는 0.0 에서 시작해 ``out.backward()`` 뒤에 ∂out/∂self 를
    담습니다. ``+ - * /`` 와 숫자 지수의 ``**`` 는 양쪽 어디에 Value 나 숫자가 와도 동작해야
    합니다(``2 * v``, ``1 - v``, ``v / 3``). torch 는 쓰지 말고 국소 도함수를 모두 직접 쓰세요.
    """

    def __init__(self, data: float, children: tuple[Value, ...] = (), local: tuple[float, ...] = ()) -> None:
        r"""Hold data as a float, grad 0.0, the inputs and their local derivatives (값과 만든 재료를 기억하세요).

        ``children`` are the Values this one was computed from and ``local`` the partial
        derivative of this node with respect to each of them, in the same order.
        ``children`` 은 이 값을 만든 Value 들이고, ``local`` 은 각각에 대한 이 노드의 편미분입니다.
        """
        # BEGIN SOLUTION
        self.data = float(data)
        self.grad = 0.0
        self.children = tuple(children)
        self.local = tuple(local)
        # END SOLUTION

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other: Value | float) -> Value:
        r"""Return self + other as a new Value; other may be a number (덧셈 노드: 국소 도함수 1, 1)."""
        # BEGIN SOLUTION
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))
        # END SOLUTION

    def __mul__(self, other: Value | float) -> Value:
        r"""Return self * other as a new Value; other may be a number (곱셈 노드: 국소 도함수는 서로의 값)."""
        # BEGIN SOLUTION
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))
        # END SOLUTION

    def __pow__(self, exponent: float) -> Value:
        r"""Return self ** exponent for a number exponent (거듭제곱 노드: n · x^(n - 1))."""
        # BEGIN SOLUTION
        n = float(exponent)
        return Value(self.data**n, (self,), (n * self.data ** (n - 1),))
        # END SOLUTION

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def __truediv__(self, other: Value | float) -> Value:
        return self * other**-1.0

    def __radd__(self, other: float) -> Value:
        r"""Return other + self for a number other: ``1 + v`` (숫자가 왼쪽에 올 때의 덧셈)."""
        # BEGIN SOLUTION
        return self + other
        # END SOLUTION

    def __rmul__(self, other: float) -> Value:
        r"""Return other * self for a number other: ``2 * v`` (숫자가 왼쪽에 올 때의 곱셈)."""
        # BEGIN SOLUTION
        return self * other
        # END SOLUTION

    def __rsub__(self, other: float) -> Value:
        return Value(other) - self

    def __rtruediv__(self, other: float) -> Value:
        return Value(other) / self

    def exp(self) -> Value:
        r"""Return e^self as a new Value (지수 노드: 국소 도함수는 e^x 자신)."""
        # BEGIN SOLUTION
        e = math.exp(self.data)
        return Value(e, (self,), (e,))
        # END SOLUTION

    def log(self) -> Value:
        r"""Return ln(self) for self > 0 as a new Value (로그 노드: 국소 도함수 1/x)."""
        # BEGIN SOLUTION
        return Value(math.log(self.data), (self,), (1.0 / self.data,))
        # END SOLUTION

    def sigmoid(self) -> Value:
        r"""Return σ(self) as a new Value, its local derivative σ(1 - σ) from the output (시그모이드 노드).

        Finite for every finite data (exponentiate -|x| only, as in k01).
        k01 처럼 -|x| 만 지수로 올려 모든 유한한 입력에서 유한하게 만드세요.
        """
        # BEGIN SOLUTION
        e = math.exp(-abs(self.data))
        s = 1.0 / (1.0 + e) if self.data >= 0 else e / (1.0 + e)
        return Value(s, (self,), (s * (1.0 - s),))  # from the output s, not from the input
        # END SOLUTION

    def relu(self) -> Value:
        r"""Return max(self, 0) as a new Value; its derivative is 1 above 0 and 0 at or below (ReLU 노드)."""
        # BEGIN SOLUTION
        return Value(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))
        # END SOLUTION

    def backward(self) -> None:
        r"""Backpropagate from this Value: every node's grad becomes ∂self/∂node (역전파를 하세요).

        First set the grad of every node of the graph to 0.0 (so that calling backward twice gives
        the same grads, not twice them), then self.grad = 1.0, then walk the graph once in reverse
        topological order: a node passes its grad on only after every node that uses it has added
        to it, and each input gets += grad · local. Iterative, no recursion: a chain 5,000 nodes
        deep must work.

        먼저 그래프의 모든 노드의 grad 를 0.0 으로 두고(두 번 불러도 기울기가 두 배가 되지 않도록),
        self.grad = 1.0 으로 한 뒤, 위상 정렬의 역순으로 그래프를 한 번 훑으세요. 한 노드는 그것을
        쓰는 모든 노드가 더하고 난 뒤에야 자기 grad 를 넘기고, 각 입력은 += grad · local 을 받습니다.
        재귀 없이 반복문으로: 5,000 노드 깊이의 사슬도 동작해야 합니다.
        """
        # BEGIN SOLUTION
        order: list[Value] = []  # post-order: every node after all of its inputs
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
        # END SOLUTION


def chapter_z(x: float, y: float) -> tuple[float, float, float]:
    r"""Return z = (x + y)², dz/dx and dz/dy, computed with Value (책의 z = (x + y)² 를 Value 로).

    At x = 1, y = 3 that is (16.0, 8.0, 8.0), as in k03. Plain floats back.
    x = 1, y = 3 이면 k03 처럼 (16.0, 8.0, 8.0) 입니다. 파이썬 float 로 돌려주세요.
    """
    # BEGIN SOLUTION
    vx, vy = Value(x), Value(y)
    z = (vx + vy) ** 2
    z.backward()
    return z.data, vx.grad, vy.grad
    # END SOLUTION


def xor_loss(params: dict[str, list], x: list[float], t: float) -> tuple[float, dict[str, list]]:
    r"""Return the BCE loss of the XOR network on one example, and ∂loss/∂p for every p, with Value.

    params holds "linear_ih.weight" (H×I nested lists), "linear_ih.bias" (H), "linear_ho.weight"
    (1×H) and "linear_ho.bias" (1), as floats; y = σ(W₂ σ(W₁ x + b₁) + b₂), loss =
    -(t ln y + (1 - t) ln(1 - y)). Return (loss, grads) with grads shaped like params, as floats.

    params 의 네 이름(중첩 리스트의 float)으로 XOR 네트워크의 한 예제에 대한 BCE 손실을 Value 로
    계산하고, 손실과 params 와 같은 모양의 기울기 dict 를 float 로 돌려주세요.
    """
    # BEGIN SOLUTION
    w1 = [[Value(w) for w in row] for row in params["linear_ih.weight"]]
    b1 = [Value(b) for b in params["linear_ih.bias"]]
    w2 = [[Value(w) for w in row] for row in params["linear_ho.weight"]]
    b2 = [Value(b) for b in params["linear_ho.bias"]]
    hidden = [sum((w * xi for w, xi in zip(row, x)), b).sigmoid() for row, b in zip(w1, b1)]
    y = sum((w * a for w, a in zip(w2[0], hidden)), b2[0]).sigmoid()
    loss = -(t * y.log() + (1 - t) * (1 - y).log())
    loss.backward()
    grads = {
        "linear_ih.weight": [[w.grad for w in row] for row in w1],
        "linear_ih.bias": [b.grad for b in b1],
        "linear_ho.weight": [[w.grad for w in row] for row in w2],
        "linear_ho.bias": [b.grad for b in b2],
    }
    return loss.data, grads
    # END SOLUTION
