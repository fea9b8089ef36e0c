r"""k05 · Backpropagation by hand / 오차역전파를 직접 (the chapter's subject).

For the XOR network y = σ(W₂ σ(W₁ x + b₁) + b₂) and the mean binary cross
entropy L = -(1/M) Σ [t log y + (1 - t) log(1 - y)], the chain rule gives,
layer by layer from the loss back to the input (M = number of outputs):

    δ₂ = ∂L/∂z₂ = (y - t) / M                 (N, O)  sigmoid and BCE together
    ∂L/∂W₂ = δ₂ᵀ a₁,   ∂L/∂b₂ = Σₙ δ₂          (O, H), (O,)
    δ₁ = (δ₂ W₂) ⊙ a₁ (1 - a₁)                (N, H)  back through W₂, then σ'
    ∂L/∂W₁ = δ₁ᵀ x,    ∂L/∂b₁ = Σₙ δ₁          (H, I), (H,)

XOR 네트워크와 평균 이진 교차 엔트로피에 연쇄 법칙을 적용하면, 손실에서 입력 쪽으로 층마다
위의 식을 얻습니다. 시그모이드의 도함수 a(1 - a) 와 배치에 대한 합 Σₙ 을 잊지 마세요.
"""

from __future__ import annotations

import torch
import torch.nn as nn


def manual_gradients(net: nn.Module, x: torch.Tensor, t: torch.Tensor) -> dict[str, torch.Tensor]:
    r"""Return ∂L/∂p for every p in net.named_parameters(), by hand, no autograd (손으로 기울기를 구하세요).

    L is the mean BCE loss of net(x).squeeze() against t. net has
    ``linear_ih`` and ``linear_ho`` (nn.Linear) with sigmoid after each; any
    sizes. Return a dict keyed "linear_ih.weight", "linear_ih.bias",
    "linear_ho.weight", "linear_ho.bias", each of its parameter's shape.
    Do not call backward() or torch.autograd.

    L 은 net(x).squeeze() 와 t 의 평균 BCE 손실입니다. 각 이름에 대해 그 매개변수와 같은 모양의
    기울기를 담은 dict 를 돌려주세요. backward() 나 torch.autograd 는 쓰지 마세요.
    """
    # BEGIN SOLUTION
    with torch.no_grad():
        w1, b1 = net.linear_ih.weight, net.linear_ih.bias  # (H, I), (H,)
        w2, b2 = net.linear_ho.weight, net.linear_ho.bias  # (O, H), (O,)
        a1 = torch.sigmoid(x @ w1.T + b1)  # (N, H)
        y = torch.sigmoid(a1 @ w2.T + b2)  # (N, O)
        # σ' cancels BCE's 1/(y(1 - y)), leaving (y - t); the mean divides by M.
        delta2 = (y - t.reshape(y.shape)) / y.numel()  # (N, O)
        delta1 = (delta2 @ w2) * a1 * (1 - a1)  # (N, H)
        return {
            "linear_ih.weight": delta1.T @ x,
            "linear_ih.bias": delta1.sum(dim=0),
            "linear_ho.weight": delta2.T @ a1,
            "linear_ho.bias": delta2.sum(dim=0),
        }
    # END SOLUTION


class SigmoidFunction(torch.autograd.Function):
    r"""Sigmoid as an autograd Function with a hand-written backward (역전파를 직접 쓴 시그모이드).

    Use it as ``SigmoidFunction.apply(x)``. forward saves what backward needs;
    backward receives ∂L/∂y and returns ∂L/∂x = ∂L/∂y · σ(x)(1 - σ(x)).
    ``SigmoidFunction.apply(x)`` 로 씁니다. forward 는 backward 에 필요한 것을 저장하고,
    backward 는 ∂L/∂y 를 받아 ∂L/∂x = ∂L/∂y · σ(x)(1 - σ(x)) 를 돌려줍니다.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        r"""Return σ(x) and save it with ctx.save_for_backward (σ(x) 를 계산하고 저장하세요)."""
        # BEGIN SOLUTION
        y = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(y)
        return y
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        r"""Return grad_output · σ(x)(1 - σ(x)) from the saved σ(x) (저장한 σ(x) 로 기울기를 돌려주세요)."""
        # BEGIN SOLUTION
        (y,) = ctx.saved_tensors
        return grad_output * y * (1 - y)
        # END SOLUTION
