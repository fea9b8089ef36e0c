r"""k04 · Autograd / 자동 미분 (chapter code 2-19).

PyTorch records every operation on a tensor that ``requires_grad`` in a
graph; ``z.grad_fn`` is the node that made ``z`` (``PowBackward0`` for
``t ** 2``), and ``z.backward()`` walks the graph back, adding each gradient
into ``.grad`` of the leaves. Adding, not overwriting: gradients accumulate
until you zero them.

PyTorch 는 ``requires_grad`` 인 텐서에 대한 모든 연산을 그래프로 기록합니다. ``z.grad_fn`` 은
``z`` 를 만든 노드이고(``t ** 2`` 이면 ``PowBackward0``), ``z.backward()`` 는 그래프를 거꾸로
따라가며 잎 텐서의 ``.grad`` 에 기울기를 더합니다. 덮어쓰지 않고 더하므로, 0 으로 만들기
전까지 기울기는 누적됩니다.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def autograd_gradients(
    f: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Return (∂f/∂x, ∂f/∂y) using requires_grad_ and .backward() (autograd로 기울기를 구하세요).

    If f(x, y) is not a scalar, differentiate its sum. Leave the caller's
    tensors untouched: work on detached copies, so x and y come back with no
    requires_grad and no .grad. x and y may also arrive requiring grad and
    holding a .grad from earlier: detached copies keep both as they were, and
    keep that old .grad out of your result. Return plain gradients (a plain
    backward(), not create_graph=True): they must not require grad.
    f(x, y) 가 스칼라가 아니면 그 합을 미분하세요. 호출한 쪽의 텐서는 그대로 두세요:
    분리한 복사본으로 계산하면 x, y 에 requires_grad 도 .grad 도 남지 않습니다. x, y 가 이미
    requires_grad 이고 이전의 .grad 를 가진 채 올 수도 있습니다. 분리한 복사본을 쓰면 둘 다 그대로이고,
    그 옛 .grad 가 결과에 섞이지 않습니다. 그냥 backward() 로 (create_graph=True 가 아니라) 구한,
    기울기를 요구하지 않는 기울기를 돌려주세요.
    """
    # TODO: Return (∂f/∂x, ∂f/∂y) using requires_grad_ and .backward() (autograd로 기울기를 구하세요).
    raise NotImplementedError('k04_autograd.autograd_gradients: Return (∂f/∂x, ∂f/∂y) using requires_grad_ and .backward() (autograd로 기울기를 구하세요).')


def grad_fn_name(z: torch.Tensor) -> str | None:
    r"""Return the class name of the node that created z, e.g. "PowBackward0" (grad_fn의 클래스 이름을 돌려주세요).

    A leaf tensor (made by you, not by an operation) has no grad_fn: return None.
    연산이 아니라 직접 만든 잎 텐서에는 grad_fn 이 없으니 None 을 돌려주세요.
    """
    # TODO: Return the class name of the node that created z, e.g. "PowBackward0" (grad_fn의 클래스 이름을 돌려주세요).
    raise NotImplementedError('k04_autograd.grad_fn_name: Return the class name of the node that created z, e.g. "PowBackward0" (grad_fn의 클래스 이름을 돌려주세요).')


def requires_grad_flags(
    f: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    wrt: str,
) -> dict[str, bool]:
    r"""Mark the inputs named in wrt, compute z = f(x, y), report who requires grad (어느 텐서가 기울기를 필요로 하는지 돌려주세요).

    wrt is "x", "y", "xy" or "": the inputs to mark with requires_grad_().
    Return {"x": ..., "y": ..., "z": ...} with each tensor's requires_grad.
    z requires grad when at least one marked input flowed into it. Mark copies,
    not the caller's tensors.
    wrt 는 "x", "y", "xy", "" 중 하나로, requires_grad_() 를 붙일 입력입니다. 각 텐서의
    requires_grad 를 {"x": ..., "y": ..., "z": ...} 로 돌려주세요. 표시한 입력이 하나라도 z 로
    흘러 들어가면 z 도 기울기가 필요합니다. 호출한 쪽의 텐서가 아니라 복사본에 표시하세요.
    """
    # TODO: Mark the inputs named in wrt, compute z = f(x, y), report who requires grad (어느 텐서가 기울기를 필요로 하는지 돌려주세요).
    raise NotImplementedError('k04_autograd.requires_grad_flags: Mark the inputs named in wrt, compute z = f(x, y), report who requires grad (어느 텐서가 기울기를 필요로 하는지 돌려주세요).')


def accumulated_gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, times: int) -> torch.Tensor:
    r"""Call backward on f(x).sum() `times` times without zeroing; return the final x.grad (기울기를 초기화하지 않고 누적하세요).

    Each backward() adds its gradient into .grad, so the result is
    times · ∂f/∂x. This is why a training loop calls zero_grad() every step.
    Use a fresh graph for every call (compute f again: f is called exactly
    `times` times, times ≥ 1), and a copy of x, so the caller's x keeps its
    values, requires_grad=False and no .grad.
    backward() 는 .grad 에 기울기를 더하므로 결과는 times · ∂f/∂x 입니다. 학습 루프가 매 단계
    zero_grad() 를 부르는 이유입니다. 매번 f 를 다시 계산하고 (f 를 정확히 times 번, times ≥ 1),
    x 의 복사본을 쓰세요. 그러면 호출한 쪽의 x 는 값도, requires_grad=False 도 그대로이고 .grad 도 없습니다.
    """
    # TODO: Call backward on f(x).sum() `times` times without zeroing; return the final x.grad (기울기를 초기화하지 않고 누적하세요).
    raise NotImplementedError('k04_autograd.accumulated_gradient: Call backward on f(x).sum() `times` times without zeroing; return the final x.grad (기울기를 초기화하지 않고 누적하세요).')
