r"""k02 · Counting parameters / 매개변수 개수 구하기 (chapter code 2-16).

Backpropagation computes one gradient per parameter, so first we need to know
what the parameters of the XOR network are and how many there are (9).

오차역전파는 매개변수마다 기울기를 하나씩 계산합니다. 그러니 먼저 XOR 네트워크의
매개변수가 무엇이고 몇 개인지(9 개) 알아야 합니다.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn


class Network(nn.Module):
    r"""The chapter's XOR network: y = σ(W₂ σ(W₁ x + b₁) + b₂) (XOR 네트워크).

    Submodules, created in this order: ``linear_ih`` (input → hidden,
    ``nn.Linear``), ``linear_ho`` (hidden → output, ``nn.Linear``) and
    ``activation_layer`` (``nn.Sigmoid``). The order matters: with
    ``torch.manual_seed(70)`` it decides the initial weights.

    하위 모듈을 이 순서로 만드세요: ``linear_ih`` (입력 → 은닉), ``linear_ho`` (은닉 → 출력),
    ``activation_layer`` (``nn.Sigmoid``). 순서가 초기 가중치를 정하므로 중요합니다.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        r"""Create linear_ih, linear_ho and activation_layer, in that order (층을 순서대로 만드세요)."""
        super().__init__()
        # TODO: Create linear_ih, linear_ho and activation_layer, in that order (층을 순서대로 만드세요).
        raise NotImplementedError('k02_parameters.Network.__init__: Create linear_ih, linear_ho and activation_layer, in that order (층을 순서대로 만드세요).')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""Return σ(linear_ho(σ(linear_ih(x)))) (순전파를 계산하세요).

        x has shape (N, input_size), N ≥ 1; the result has shape (N, output_size)
        and x's dtype (float32, or float64 after net.double()). x is not modified.
        x 의 모양은 (N, input_size) (N ≥ 1), 결과의 모양은 (N, output_size) 이고 dtype 은 x 와
        같습니다 (float32, 또는 net.double() 뒤에는 float64). x 는 바꾸지 않습니다.
        """
        # TODO: Return σ(linear_ho(σ(linear_ih(x)))) (순전파를 계산하세요).
        raise NotImplementedError('k02_parameters.Network.forward: Return σ(linear_ho(σ(linear_ih(x)))) (순전파를 계산하세요).')


def count_parameters(module: nn.Module) -> int:
    r"""Return the number of parameter elements of module (매개변수 원소의 개수를 세세요).

    Count elements, not tensors: a (2, 2) weight counts 4. A tensor shared by
    two layers (tied weights) counts once; buffers (BatchNorm's running mean)
    are not parameters. Return a plain Python int (not a tensor, not a
    numpy.int64), and leave the module as it was. Count afresh at every call:
    a module can grow or change between two calls (no cache keyed by it).
    텐서가 아니라 원소를 세세요: (2, 2) 가중치는 4 개입니다. 두 층이 공유하는 텐서는 한 번만 셉니다.
    버퍼(BatchNorm 의 running mean)는 매개변수가 아닙니다. 파이썬 int 를 돌려주고 (텐서나
    numpy.int64 가 아니라), 모듈은 그대로 두세요. 부를 때마다 새로 세세요: 두 호출 사이에 모듈이
    커지거나 바뀔 수 있습니다 (모듈을 키로 한 캐시 금지).
    """
    # TODO: Return the number of parameter elements of module (매개변수 원소의 개수를 세세요).
    raise NotImplementedError('k02_parameters.count_parameters: Return the number of parameter elements of module (매개변수 원소의 개수를 세세요).')


def count_trainable_parameters(module: nn.Module) -> int:
    r"""Return the number of parameter elements with requires_grad (학습되는 매개변수의 원소만 세세요).

    Frozen parameters (requires_grad=False) get no gradient and are not counted.
    A plain Python int; the flags are read, never set.
    고정된 매개변수(requires_grad=False)는 기울기를 받지 않으므로 세지 않습니다. 파이썬 int 를
    돌려주고, 플래그는 읽기만 하고 바꾸지 마세요.
    """
    # TODO: Return the number of parameter elements with requires_grad (학습되는 매개변수의 원소만 세세요).
    raise NotImplementedError('k02_parameters.count_trainable_parameters: Return the number of parameter elements with requires_grad (학습되는 매개변수의 원소만 세세요).')


def mlp_parameter_count(layer_sizes: Sequence[int]) -> int:
    r"""Return the parameter count of fully connected layers with biases (매개변수 개수를 닫힌 식으로 세세요).

    Layers of sizes n₀, n₁, …, n_L have Σ (n_{i-1} · n_i + n_i) parameters:
    a weight matrix and a bias vector per layer. [2, 2, 1] → 9; a single size
    (no layer) → 0. layer_sizes is a list or a tuple, left unchanged; the
    result is a plain Python int.
    크기가 n₀, n₁, …, n_L 인 층들의 매개변수는 Σ (n_{i-1} · n_i + n_i) 개입니다. [2, 2, 1] → 9,
    크기가 하나뿐이면 (층 없음) 0. layer_sizes 는 리스트나 튜플이며 바꾸지 않고, 결과는 파이썬 int 입니다.
    """
    # TODO: Return the parameter count of fully connected layers with biases (매개변수 개수를 닫힌 식으로 세세요).
    raise NotImplementedError('k02_parameters.mlp_parameter_count: Return the parameter count of fully connected layers with biases (매개변수 개수를 닫힌 식으로 세세요).')
