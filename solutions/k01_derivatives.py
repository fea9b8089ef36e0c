r"""k01 · Derivatives / 미분 계산하기 (chapter code 2-15).

A derivative says how fast a function changes. Backpropagation is nothing
more than many small derivatives multiplied together, so we start with one.

도함수는 함수가 얼마나 빠르게 변하는지를 알려 줍니다. 오차역전파는 작은 도함수들을
곱해 나가는 것일 뿐이므로, 도함수 하나에서 시작합니다.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def function(x):
    r"""Return f(x) = x², elementwise (원래 함수 f(x) = x² 를 원소별로 계산하세요).

    Works on Python numbers and on tensors of any shape and float dtype.
    파이썬 숫자와 모든 모양·실수 dtype 의 텐서에서 동작해야 합니다.
    """
    # BEGIN SOLUTION
    return x**2
    # END SOLUTION


def prime_function(x):
    r"""Return the derivative f'(x) = 2x, written by hand (도함수 f'(x) = 2x 를 직접 쓰세요).

    Use calculus, not autograd: d/dx x² = 2x.
    autograd 가 아니라 미분 공식을 쓰세요: d/dx x² = 2x.
    """
    # BEGIN SOLUTION
    return 2 * x
    # END SOLUTION


def numerical_derivative(f: Callable, x, h: float = 1e-5):
    r"""Return the central difference (f(x + h) - f(x - h)) / 2h (중앙 차분을 계산하세요).

    The central difference has an error that shrinks like h², the forward
    difference (f(x + h) - f(x)) / h only like h. Work elementwise on tensors
    and never modify x.

    중앙 차분의 오차는 h² 처럼 줄어들고, 전방 차분 (f(x + h) - f(x)) / h 의 오차는 h 처럼만
    줄어듭니다. 텐서에서는 원소별로 계산하고, x 를 절대 바꾸지 마세요.
    """
    # BEGIN SOLUTION
    # x + h makes a new tensor, so the caller's x is never touched.
    return (f(x + h) - f(x - h)) / (2 * h)
    # END SOLUTION


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    r"""Return σ(x) = 1 / (1 + e^(-x)), elementwise (시그모이드를 원소별로 계산하세요).

    Write it with torch.exp; do not call torch.sigmoid.
    torch.exp 로 직접 쓰고, torch.sigmoid 는 부르지 마세요.
    """
    # BEGIN SOLUTION
    return 1 / (1 + torch.exp(-x))
    # END SOLUTION


def sigmoid_prime(x: torch.Tensor) -> torch.Tensor:
    r"""Return σ'(x) = σ(x)(1 - σ(x)), elementwise (시그모이드의 도함수를 계산하세요).

    This is the factor every sigmoid layer adds to the chain rule.
    시그모이드 층마다 연쇄 법칙에 곱해지는 인수입니다.
    """
    # BEGIN SOLUTION
    s = sigmoid(x)
    return s * (1 - s)
    # END SOLUTION
