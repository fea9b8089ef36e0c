r"""k05 · Backpropagation by hand / 오차역전파 직접 계산하기 (the chapter's subject).

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

    L is the mean BCE loss of net(x).view(-1) against t. net has
    ``linear_ih`` and ``linear_ho`` (nn.Linear) with sigmoid after each; any
    sizes, one output. x has shape (N, I) for any N ≥ 1, t shape (N,) with
    values anywhere in [0, 1] (not only 0 and 1); float32 or float64. Return a
    dict keyed "linear_ih.weight", "linear_ih.bias", "linear_ho.weight",
    "linear_ho.bias", each of its parameter's shape and dtype, finite even when
    the outputs saturate (y rounds to 0 or 1): use ∂L/∂z₂ = (y - t)/M, never
    dL/dy = (y - t)/(y(1 - y)). Do not call backward() or torch.autograd;
    leave net (values, requires_grad, .grad), x, t and torch's grad mode as
    they were (``with torch.no_grad():``, not torch.set_grad_enabled(False)).

    L 은 net(x).view(-1) 와 t 의 평균 BCE 손실입니다. x 의 모양은 (N, I) (N ≥ 1), t 의 모양은
    (N,) 이고 값은 [0, 1] 어디든 될 수 있습니다 (0 과 1 만이 아님). 각 이름에 대해 그 매개변수와
    같은 모양·dtype 의 기울기를 담은 dict 를 돌려주세요. 출력이 포화되어도 (y 가 0 또는 1) 유한해야
    하므로 dL/dy = (y - t)/(y(1 - y)) 가 아니라 ∂L/∂z₂ = (y - t)/M 을 쓰세요. backward() 나
    torch.autograd 는 쓰지 말고, net (값, requires_grad, .grad), x, t, torch 의 grad 모드는
    그대로 두세요 (torch.set_grad_enabled(False) 가 아니라 ``with torch.no_grad():``).
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
        r"""Return σ(x) and save it with ctx.save_for_backward (σ(x)를 계산하고 저장하세요).

        Finite for every finite x in float32 and float64, like k01's sigmoid:
        exponentiate -|x| only. The result has x's shape and dtype.
        k01 의 sigmoid 처럼 float32 와 float64 의 모든 유한한 x 에서 유한해야 합니다. -|x| 만
        지수로 올리세요. 결과는 x 와 같은 모양·dtype 입니다.
        """
        # BEGIN SOLUTION
        e = torch.exp(torch.where(x >= 0, -x, x))  # e^(-|x|): never overflows
        y = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(y)
        return y
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        r"""Return grad_output · σ(x)(1 - σ(x)) from the saved σ(x) (저장한 σ(x)로 기울기를 돌려주세요).

        Finite wherever forward was: from the saved σ(x), not exp(-x)/(1 + exp(-x))².
        Read grad_output, never write it (not grad_output.mul_(...)): autograd owns it.
        forward 가 유한한 곳에서는 모두 유한해야 합니다. exp(-x)/(1 + exp(-x))² 가 아니라 저장한 σ(x) 로 계산하세요.
        grad_output 은 읽기만 하고 바꾸지 마세요 (grad_output.mul_(...) 금지): autograd 의 것입니다.
        """
        # BEGIN SOLUTION
        (y,) = ctx.saved_tensors
        return grad_output * y * (1 - y)
        # END SOLUTION
