"""Checking k06 (training XOR) beside the chapter's own code run as one script.

    python benchmarks/k06_check_time.py [ROUNDS]

Interleaved rounds, each a fresh process: the chapter's code 2-15 to 2-20 as one
script (its 10001-step training included), `katas check k06 --all --target solutions`
(all k06 tests on the reference, cache bypassed) and
`pytest --target solutions tests/test_k06_xor_training.py -q`. Prints wall and CPU
seconds (children included) and each check's ratio to the script; issue 12 asks for
a learner's full check within 2x of it.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KATAS = Path(sys.executable).with_name("katas")

# The chapter's code (section 2.2.6, codes 2-15 to 2-20) without the notebook's matplotlib import.
CHAPTER = r"""
import torch
import torch.nn as nn
import torch.optim as optim


def function(x):
    return x**2


def prime_function(x):
    return 2*x


x0 = torch.FloatTensor([4])
print("differentiation of x={} is {:.1f}".format(x0.item(), prime_function(x0).item()))
torch.manual_seed(70)


class Network(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(Network, self).__init__()
        self.linear_ih = nn.Linear(in_features=input_size, out_features=hidden_size)
        self.linear_ho = nn.Linear(in_features=hidden_size, out_features=output_size)
        self.activation_layer = nn.Sigmoid()

    def forward(self, x):
        return self.activation_layer(self.linear_ho(self.activation_layer(self.linear_ih(x))))


net = Network(input_size=2, hidden_size=2, output_size=1)
print(sum(p.view(-1).size(0) for p in net.parameters()))


def z_function(t):
    return t**2


def t_function(x, y):
    return x + y


def forward(x, y):
    return z_function(t_function(x, y))


def z_prime(t):
    return 2*t


def t_prime():
    return 1


def backward(t):
    return z_prime(t) * t_prime()


x, y = torch.Tensor([1]), torch.Tensor([3])
print(forward(x, y), backward(t_function(x, y)))
x = torch.Tensor([1]).requires_grad_()
z = forward(x, y)
z.backward()
print(x.requires_grad, y.requires_grad, z.requires_grad, z.grad_fn, x.grad)

x = torch.Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
t = torch.Tensor([0, 1, 1, 0])
net = Network(input_size=2, hidden_size=2, output_size=1)
loss_function = nn.BCELoss()
optimizer = optim.SGD(params=net.parameters(), lr=0.5)
for step in range(10001):
    net.zero_grad()
    y = net(x)
    loss = loss_function(y.squeeze(), t)
    loss.backward()
    optimizer.step()
    if step % 1000 == 0:
        print("{}:\t {:.4f}".format(step, loss.item()))
print(net(x).ge(0.5).view(-1))
"""


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one command, CPU of its children included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, env={**os.environ, "KATAS_LANG": "en"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stdout.decode()[-3000:]}{done.stderr.decode()[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as work:
        script = Path(work) / "chapter_2_2_6.py"
        script.write_text(CHAPTER, encoding="utf-8")
        commands = {
            "the chapter's script": [sys.executable, str(script)],
            "katas check k06 --all": [str(KATAS), "check", "k06", "--all", "--target", "solutions"],
            "pytest tests/test_k06 -q": [
                sys.executable,
                "-m",
                "pytest",
                "--target",
                "solutions",
                "tests/test_k06_xor_training.py",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, argv in commands.items():
                times[name].append(timed(argv))
    base_wall = statistics.median(w for w, _ in times["the chapter's script"])
    base_cpu = statistics.median(c for _, c in times["the chapter's script"])
    print(f"{rounds} interleaved rounds, medians (wall s, CPU s, ratio to the chapter's script):")
    for name, values in times.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(f"  {name:<26} wall {wall:6.2f} ({wall / base_wall:4.2f}x)   CPU {cpu:6.2f} ({cpu / base_cpu:4.2f}x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
