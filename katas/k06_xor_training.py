r"""k06 · Training XOR / XOR 네트워크 학습하기 (chapter code 2-20).

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
    r"""Return (x, t): the four XOR inputs, float of shape (4, 2), and targets, float of shape (4,) (XOR 데이터를 돌려주세요).

    Rows in the chapter's order: [0, 0], [0, 1], [1, 0], [1, 1] → 0, 1, 1, 0.
    New tensors at every call: a caller may change them without changing the next call's.
    float32, torch's default dtype: what Network's layers take (float64 data makes net(x) raise).
    책과 같은 순서로: [0, 0], [0, 1], [1, 0], [1, 1] → 0, 1, 1, 0. 부를 때마다 새 텐서를 만드세요.
    호출한 쪽이 텐서를 바꿔도 다음 호출의 결과가 바뀌면 안 됩니다. dtype 은 torch 의 기본 dtype 인
    float32 입니다. Network 의 층이 받는 dtype 이며, float64 데이터를 넣으면 net(x) 가 오류를 냅니다.
    """
    # TODO: Return (x, t): the four XOR inputs, float of shape (4, 2), and targets, float of shape (4,) (XOR 데이터를 돌려주세요).
    raise NotImplementedError('k06_xor_training.xor_data: Return (x, t): the four XOR inputs, float of shape (4, 2), and targets, float of shape (4,) (XOR 데이터를 돌려주세요).')


def train(
    net: nn.Module,
    x: torch.Tensor,
    t: torch.Tensor,
    steps: int = 10001,
    lr: float = 0.5,
    log_every: int = 1000,
) -> list[tuple[int, float]]:
    r"""Train net in place with BCE loss and SGD; return [(step, loss), ...] (네트워크를 학습하세요).

    Every step: reset the gradients, y = net(x), loss = BCELoss(y.view(-1), t),
    backward, optimizer step. Log (step, loss.item()) for every step divisible
    by log_every, with the loss computed at that step before the update: plain
    Python (int, float) pairs, not tensors. x has shape (N, I) and t shape (N,)
    for any N ≥ 1 (y.squeeze() would also drop N when N = 1), float32 or
    float64; x and t are left unchanged. Do not seed or draw from torch's
    random generator here: the caller seeds. The parameters may arrive holding
    a .grad from an earlier backward: reset before each backward, not after.
    매 단계: 기울기 초기화, 순방향, 손실, 역방향, 갱신. log_every 로 나누어떨어지는 단계마다
    갱신 전에 계산한 손실로 (step, loss.item()) 을 기록하세요. 텐서가 아니라 파이썬 (int, float)
    쌍입니다. x 의 모양은 (N, I), t 는 (N,) 이며 N ≥ 1 이면 무엇이든 됩니다 (N = 1 이면
    y.squeeze() 는 N 까지 없앱니다). x 와 t 는 바꾸지 말고, 여기서 torch 의 난수 생성기로 시드를
    정하거나 난수를 뽑지 마세요. 시드는 호출하는 쪽이 정합니다.
    매개변수가 이전 backward 의 .grad 를 가진 채 올 수 있으니, 초기화는 backward 뒤가 아니라 앞에서 하세요.
    """
    # TODO: Train net in place with BCE loss and SGD; return [(step, loss), ...] (네트워크를 학습하세요).
    raise NotImplementedError('k06_xor_training.train: Train net in place with BCE loss and SGD; return [(step, loss), ...] (네트워크를 학습하세요).')


def predict(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    r"""Return net(x) >= 0.5 as a flat BoolTensor of shape (N,) (0.5 이상이면 참으로 예측하세요).

    The output is a probability; 0.5 itself counts as True. Shape (N,) also
    for N = 1 (view(-1), not squeeze()). net, x and torch's grad mode are left
    as they were. Predict afresh at every call: training changes net in place.
    출력은 확률이며, 정확히 0.5 도 True 입니다. N = 1 이어도 모양은 (N,) 입니다 (squeeze() 가
    아니라 view(-1)). net, x, torch 의 grad 모드는 그대로 두세요. 학습이 net 을 제자리에서
    바꾸므로 부를 때마다 새로 예측하세요.
    """
    # TODO: Return net(x) >= 0.5 as a flat BoolTensor of shape (N,) (0.5 이상이면 참으로 예측하세요).
    raise NotImplementedError('k06_xor_training.predict: Return net(x) >= 0.5 as a flat BoolTensor of shape (N,) (0.5 이상이면 참으로 예측하세요).')


def train_by_hand(
    net: nn.Module,
    x: torch.Tensor,
    t: torch.Tensor,
    steps: int = 10001,
    lr: float = 0.5,
    log_every: int = 1000,
) -> list[tuple[int, float]]:
    r"""train, but with k05's manual_gradients and plain SGD updates, no autograd (autograd 없이 학습하세요).

    Every step: grads = manual_gradients(net, x, t), then p ← p - lr · grad for
    each named parameter (in place, under torch.no_grad()). Log like train.
    It follows the same trajectory as train.
    매 단계 grads = manual_gradients(net, x, t) 를 구하고, 각 매개변수를 p ← p - lr · grad 로
    (torch.no_grad() 안에서 제자리) 갱신하세요. 기록은 train 과 같습니다.
    Log the mean loss over the N examples (divide by N, never by the chapter's 4).
    기록하는 손실은 N 개 예제의 평균입니다 (책의 4 가 아니라 N 으로 나누세요).
    """
    # TODO: train, but with k05's manual_gradients and plain SGD updates, no autograd (autograd 없이 학습하세요).
    raise NotImplementedError("k06_xor_training.train_by_hand: train, but with k05's manual_gradients and plain SGD updates, no autograd (autograd 없이 학습하세요).")
