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
    r"""Return f(x) = x², elementwise (원래 함수 f(x) = x²를 원소별로 계산하세요).

    Works on Python numbers and on tensors of any shape and float dtype; a
    tensor comes back as a new tensor of the same shape and dtype, and x is
    left as it was (x**2, not x **= 2).
    파이썬 숫자와 모든 모양·실수 dtype 의 텐서에서 동작해야 합니다. 텐서는 같은 모양·dtype 의
    새 텐서로 돌려주고, x 는 그대로 두세요 (x **= 2 가 아니라 x**2).
    """
    # TODO: Return f(x) = x², elementwise (원래 함수 f(x) = x²를 원소별로 계산하세요).
    raise NotImplementedError('k01_derivatives.function: Return f(x) = x², elementwise (원래 함수 f(x) = x²를 원소별로 계산하세요).')


def prime_function(x):
    r"""Return the derivative f'(x) = 2x, written by hand (도함수 f'(x) = 2x를 직접 쓰세요).

    Use calculus, not autograd: d/dx x² = 2x (the tests refuse autograd here:
    no requires_grad, backward, torch.autograd or torch.func).
    autograd 가 아니라 미분 공식을 쓰세요: d/dx x² = 2x (테스트는 여기서 autograd 를 거부합니다:
    requires_grad, backward, torch.autograd, torch.func 모두 안 됩니다).
    """
    # TODO: Return the derivative f'(x) = 2x, written by hand (도함수 f'(x) = 2x를 직접 쓰세요).
    raise NotImplementedError("k01_derivatives.prime_function: Return the derivative f'(x) = 2x, written by hand (도함수 f'(x) = 2x를 직접 쓰세요).")


def numerical_derivative(f: Callable, x, h: float = 1e-5):
    r"""Return the central difference (f(x + h) - f(x - h)) / 2h (중앙 차분을 계산하세요).

    The central difference has an error that shrinks like h², the forward
    difference (f(x + h) - f(x)) / h only like h. x is a Python float or a
    float tensor of any shape; work elementwise. Never modify x, not even for
    a moment (x += h ... x -= h): the tests watch the tensor's version counter.
    Leave torch's global settings alone (no torch.set_default_dtype).

    중앙 차분의 오차는 h² 처럼 줄어들고, 전방 차분 (f(x + h) - f(x)) / h 의 오차는 h 처럼만
    줄어듭니다. x 는 파이썬 실수이거나 모든 모양의 실수 텐서이며, 원소별로 계산합니다. x 는
    잠깐이라도 바꾸지 마세요 (x += h ... x -= h): 테스트가 텐서의 버전 카운터를 봅니다.
    torch 의 전역 설정도 건드리지 마세요 (torch.set_default_dtype 금지).
    """
    # TODO: Return the central difference (f(x + h) - f(x - h)) / 2h (중앙 차분을 계산하세요).
    raise NotImplementedError('k01_derivatives.numerical_derivative: Return the central difference (f(x + h) - f(x - h)) / 2h (중앙 차분을 계산하세요).')


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    r"""Return σ(x) = 1 / (1 + e^(-x)), elementwise (시그모이드를 원소별로 계산하세요).

    Write it with torch.exp; do not call torch.sigmoid, nor another ready-made
    sigmoid (x.sigmoid(), torch.special.expit, F.sigmoid, nn.Sigmoid, softmax
    of [x, 0]): the tests refuse them. Compute afresh at every call (no cache
    keyed by the tensor: a caller may change x in place). It must stay finite
    for every finite x in float32 and float64 (x = ±100, ±1000 included), and
    so must the gradient autograd computes through it. exp of a large positive
    number is inf (exp(89) in float32), and inf/inf or 0·inf is NaN: use a form
    that never exponentiates a positive number. With e = exp(-|x|),
    σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0 (torch.where picks).
    Write -|x| as torch.where(x >= 0, -x, x), not -torch.abs(x): |x| has no
    derivative at x = 0, autograd takes 0 there, and the gradient at 0 would be 0.
    Return a new tensor of x's shape and dtype; leave x unchanged.

    torch.exp 로 직접 쓰고, torch.sigmoid 도 다른 기성 시그모이드(x.sigmoid(), torch.special.expit,
    F.sigmoid, nn.Sigmoid, [x, 0] 의 softmax)도 부르지 마세요: 테스트가 거부합니다. 부를 때마다 새로
    계산하세요 (텐서를 키로 한 캐시 금지: 호출한 쪽이 x 를 제자리에서 바꿀 수 있습니다). float32 와 float64 의 모든 유한한
    x (x = ±100, ±1000 포함) 에서 값이 유한해야 하고, autograd 로 구한 기울기도 유한해야 합니다.
    큰 양수의 exp 는 inf 이고 (float32 에서 exp(89)), inf/inf 나 0·inf 는 NaN 입니다. 양수를
    지수로 올리지 않는 꼴을 쓰세요. e = exp(-|x|) 로 x ≥ 0 이면 σ(x) = 1/(1 + e), x < 0 이면
    e/(1 + e) 입니다 (torch.where 로 고르세요). -|x| 는 -torch.abs(x) 가 아니라
    torch.where(x >= 0, -x, x) 로 쓰세요. |x| 는 x = 0 에서 미분할 수 없어 autograd 가 기울기를 0 으로
    잡으므로, 0 에서의 기울기가 0 이 됩니다. x 와 같은 모양·dtype 의 새 텐서를 돌려주고, x 는
    그대로 두세요.
    """
    # TODO: Return σ(x) = 1 / (1 + e^(-x)), elementwise (시그모이드를 원소별로 계산하세요).
    raise NotImplementedError('k01_derivatives.sigmoid: Return σ(x) = 1 / (1 + e^(-x)), elementwise (시그모이드를 원소별로 계산하세요).')


def sigmoid_prime(x: torch.Tensor) -> torch.Tensor:
    r"""Return σ'(x) = σ(x)(1 - σ(x)), elementwise (시그모이드의 도함수를 계산하세요).

    This is the factor every sigmoid layer adds to the chain rule. Finite
    for every finite x, like sigmoid: build it from sigmoid, not from
    exp(-x) / (1 + exp(-x))², which is inf/inf for x = -100 in float32.
    시그모이드 층마다 연쇄 법칙에 곱해지는 인수입니다. sigmoid 처럼 모든 유한한 x 에서 유한해야
    하므로, exp(-x) / (1 + exp(-x))² (float32 의 x = -100 에서 inf/inf) 가 아니라 sigmoid 로
    만드세요.
    """
    # TODO: Return σ'(x) = σ(x)(1 - σ(x)), elementwise (시그모이드의 도함수를 계산하세요).
    raise NotImplementedError("k01_derivatives.sigmoid_prime: Return σ'(x) = σ(x)(1 - σ(x)), elementwise (시그모이드의 도함수를 계산하세요).")
