"""The chapter's own code (section 2.2.6, codes 2-15 to 2-20) as one script: the floor the katas are measured against.

    python benchmarks/chapter_script.py

What a reader of the chapter runs, cell after cell, in one process: the derivative of
x², the XOR network and its parameter count (seed 70), the graph z = (x + y)² forward,
backward by hand and by autograd, then 10001 steps of SGD (lr 0.5) on the XOR data
with BCE loss, printing the loss every 1000 steps and the predictions. The printed
table is the chapter's (0.6927, 0.2574, 0.0210, ..., 0.0021). Written for these
benchmarks from the chapter's maths, not copied; the chapter's first cell also imports
matplotlib, which it never uses, so it is left out (it would only make the floor slower).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.optim as optim

# 2-15 · a derivative written out: d(x²)/dx = 2x
x0 = torch.tensor([4.0])
print(f"differentiation of x={x0.item()} is {(2 * x0).item():.1f}")

# 2-16 · the XOR network; the seed is set once, before the first network is built
torch.manual_seed(70)


class Network(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.linear_ih = nn.Linear(input_size, hidden_size)
        self.linear_ho = nn.Linear(hidden_size, output_size)
        self.activation_layer = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation_layer(self.linear_ho(self.activation_layer(self.linear_ih(x))))


first = Network(2, 2, 1)  # the chapter counts this one's parameters, then builds another to train
print(sum(p.numel() for p in first.parameters()))

# 2-17, 2-18 · z = (x + y)², forward, then backward by the chain rule: dz/dx = 2t · 1
x, y = torch.tensor([1.0]), torch.tensor([3.0])
t = x + y
print(t**2)
print(2 * t * 1)

# 2-19 · the same derivative from autograd
xg = torch.tensor([1.0]).requires_grad_()
z = (xg + y) ** 2
print(f"requires grad: x={xg.requires_grad} y={y.requires_grad}, z={z.requires_grad}")
print(f"gradient function of z: {z.grad_fn}")
z.backward()
print(f"dx = {xg.grad}")

# 2-20 · training on XOR
inputs = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
targets = torch.tensor([0.0, 1.0, 1.0, 0.0])
net = Network(2, 2, 1)
loss_function = nn.BCELoss()
optimizer = optim.SGD(net.parameters(), lr=0.5)
for step in range(10001):
    net.zero_grad()
    loss = loss_function(net(inputs).squeeze(), targets)
    loss.backward()
    optimizer.step()
    if step % 1000 == 0:
        print(f"{step}:\t {loss.item():.4f}")
print(net(inputs).ge(0.5).view(-1))
