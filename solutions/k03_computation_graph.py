r"""k03 · The computation graph z = (x + y)² / 계산 그래프 (chapter codes 2-17, 2-18).

Forward: t = x + y, then z = t². Backward: the chain rule multiplies the local
derivatives along the path, dz/dx = dz/dt · dt/dx = 2t · 1. No autograd here:
you are the autograd.

Every function takes Python floats or float tensors of one shape (either
dtype) and returns new values of that shape and dtype. None of them may modify
its inputs: the chapter calls forward and then backward on the same tensors,
so write x + y, never x += y or x.add_(y).

순방향: t = x + y, z = t². 역방향: 연쇄 법칙으로 경로 위의 국소 도함수를 곱합니다.
dz/dx = dz/dt · dt/dx = 2t · 1. 여기서는 autograd 를 쓰지 않습니다. 여러분이 autograd 입니다.
모든 함수는 파이썬 실수나 같은 모양의 실수 텐서(어느 dtype 이든)를 받아, 같은 모양·dtype 의 새
값을 돌려줍니다. 입력은 절대 바꾸지 마세요. 책은 같은 텐서로 forward 와 backward 를 차례로
부르므로, x += y 나 x.add_(y) 가 아니라 x + y 로 쓰세요.
"""

from __future__ import annotations


def t_function(x, y):
    r"""Return t = x + y, a new tensor; x and y stay as they were (덧셈 노드를 계산하고 입력은 그대로 두세요)."""
    # BEGIN SOLUTION
    return x + y
    # END SOLUTION


def z_function(t):
    r"""Return z = t² (제곱 노드를 계산하세요)."""
    # BEGIN SOLUTION
    return t**2
    # END SOLUTION


def forward(x, y):
    r"""Return z = (x + y)² by composing t_function and z_function (순전파를 계산하세요)."""
    # BEGIN SOLUTION
    t = t_function(x, y)
    return z_function(t)
    # END SOLUTION


def z_prime(t):
    r"""Return the local derivative dz/dt = 2t (제곱 노드의 국소 도함수를 돌려주세요)."""
    # BEGIN SOLUTION
    return 2 * t
    # END SOLUTION


def t_prime():
    r"""Return the local derivative dt/dx = dt/dy = 1, a plain Python number (덧셈 노드의 국소 도함수를 파이썬 숫자로 돌려주세요)."""
    # BEGIN SOLUTION
    return 1
    # END SOLUTION


def backward(t):
    r"""Return dz/dx = dz/dt · dt/dx by the chain rule, given t (연쇄 법칙으로 dz/dx를 계산하세요).

    Multiply the local derivatives z_prime(t) and t_prime() along the path.
    경로를 따라 국소 도함수 z_prime(t) 와 t_prime() 을 곱하세요.
    """
    # BEGIN SOLUTION
    return z_prime(t) * t_prime()
    # END SOLUTION


def gradients(x, y):
    r"""Return (dz/dx, dz/dy) for z = (x + y)², by the chain rule, without autograd (두 기울기를 구하세요).

    Run the forward pass to get t, then send dz/dt back along both edges of
    the addition node. Each gradient has the shape of its input, and the two
    are separate tensors (not one tensor returned twice: changing dz/dx must
    not change dz/dy).
    순방향으로 t 를 구한 다음, dz/dt 를 덧셈 노드의 두 간선으로 되돌려 보내세요.
    기울기의 모양은 각 입력의 모양과 같고, 두 기울기는 서로 다른 텐서입니다 (한 텐서를 두 번
    돌려주면 dz/dx 를 바꿀 때 dz/dy 도 바뀝니다).
    """
    # BEGIN SOLUTION
    t = t_function(x, y)
    dz_dt = z_prime(t)
    # The addition node passes the upstream gradient unchanged to both inputs.
    return dz_dt * t_prime(), dz_dt * t_prime()
    # END SOLUTION
