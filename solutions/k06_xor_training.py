r"""k06 · Training XOR / XOR 학습 (chapter code 2-20).

A training step is: reset the gradients, forward, loss, backward, update.
Repeat it 10001 times with BCE loss and SGD (lr 0.5) and the network learns
XOR. Then do the same with your own gradients from k05, without autograd.

학습 한 단계는 기울기 초기화, 순방향 전파, 손실 계산, 역방향 전파, 매개변수 갱신입니다.
BCE 손실과 SGD(lr 0.5)로 10001 번 반복하면 네트워크가 XOR 을 배웁니다. 그다음 k05 에서
만든 기울기로, autograd 없이 똑같이 해 봅니다.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

from .k05_backprop import manual_gradients


def xor_data() -> tuple[torch.Tensor, torch.Tensor]:
    r"""Return (x, t): the four XOR inputs, float of shape (4, 2), and targets, float of shape (4,) (XOR 데이터).

    Rows in the chapter's order: [0, 0], [0, 1], [1, 0], [1, 1] → 0, 1, 1, 0.
    책과 같은 순서로: [0, 0], [0, 1], [1, 0], [1, 1] → 0, 1, 1, 0.
    """
    # BEGIN SOLUTION
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (4, 2)
    t = torch.tensor([0.0, 1.0, 1.0, 0.0])  # (4,)
    return x, t
    # END SOLUTION


def train(
    net: nn.Module,
    x: torch.Tensor,
    t: torch.Tensor,
    steps: int = 10001,
    lr: float = 0.5,
    log_every: int = 1000,
) -> list[tuple[int, float]]:
    r"""Train net in place with BCE loss and SGD; return [(step, loss), ...] (네트워크를 학습하세요).

    Every step: reset the gradients, y = net(x), loss = BCELoss(y.squeeze(), t),
    backward, optimizer step. Log (step, loss.item()) for every step divisible
    by log_every, with the loss computed at that step before the update.
    매 단계: 기울기 초기화, 순방향, 손실, 역방향, 갱신. log_every 로 나누어떨어지는 단계마다
    갱신 전에 계산한 손실로 (step, loss.item()) 을 기록하세요.
    """
    # BEGIN SOLUTION
    loss_function = nn.BCELoss()
    optimizer = optim.SGD(params=net.parameters(), lr=lr)
    history = []
    for step in range(steps):
        # Gradients accumulate across backward() calls: reset them first.
        net.zero_grad()
        y = net(x)  # (N, 1)
        loss = loss_function(y.squeeze(), t)
        loss.backward()
        optimizer.step()
        if step % log_every == 0:
            history.append((step, loss.item()))
    return history
    # END SOLUTION


def predict(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    r"""Return net(x) >= 0.5 as a flat BoolTensor of shape (N,) (0.5 이상이면 True).

    The output is a probability; 0.5 itself counts as True.
    출력은 확률이며, 정확히 0.5 도 True 입니다.
    """
    # BEGIN SOLUTION
    with torch.no_grad():
        return net(x).ge(0.5).view(-1)
    # END SOLUTION


def train_by_hand(
    net: nn.Module,
    x: torch.Tensor,
    t: torch.Tensor,
    steps: int = 10001,
    lr: float = 0.5,
    log_every: int = 1000,
) -> list[tuple[int, float]]:
    r"""train, but with k05's manual_gradients and plain SGD updates, no autograd (autograd 없이 학습).

    Every step: grads = manual_gradients(net, x, t), then p ← p - lr · grad for
    each named parameter (in place, under torch.no_grad()). Log like train.
    It follows the same trajectory as train.
    매 단계 grads = manual_gradients(net, x, t) 를 구하고, 각 매개변수를 p ← p - lr · grad 로
    (torch.no_grad() 안에서 제자리) 갱신하세요. 기록은 train 과 같습니다.
    """
    # BEGIN SOLUTION
    history = []
    for step in range(steps):
        grads = manual_gradients(net, x, t)
        with torch.no_grad():
            if step % log_every == 0:
                loss = F.binary_cross_entropy(net(x).squeeze(), t)
                history.append((step, loss.item()))
            for name, p in net.named_parameters():
                p -= lr * grads[name]
    return history
    # END SOLUTION
