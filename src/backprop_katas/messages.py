"""Every learner-facing sentence, in English and Korean.

``say(key, **fields)`` renders one sentence in the language chosen by
``KATAS_LANG`` (``en``, ``ko`` or ``both``; default ``both``: English first,
Korean beside it). A self-check fails when a key lacks a language or the
two languages disagree on the fields they use.
"""

from __future__ import annotations

import os
import string

MESSAGES: dict[str, dict[str, str]] = {
    # --- errors raised by learner code -------------------------------------------------
    "raised": {
        "en": "Your code raised {type}:",
        "ko": "코드에서 {type} 오류가 발생했습니다:",
    },
    "stub": {
        "en": "This part is not written yet: replace the `raise NotImplementedError(...)` in {file} with your code.",
        "ko": "아직 작성하지 않은 부분입니다. {file} 의 `raise NotImplementedError(...)` 를 여러분의 코드로 바꾸세요.",
    },
    "load_failed": {
        "en": "Could not import {file}: {type}: {message}",
        "ko": "{file} 을(를) 불러올 수 없습니다: {type}: {message}",
    },
    "load_fix": {
        "en": "Fix this line and run again; nothing else can be checked until the file imports.",
        "ko": "이 줄을 고친 뒤 다시 실행하세요. 파일을 불러올 수 있어야 나머지를 검사할 수 있습니다.",
    },
    "missing_file": {
        "en": "{file} is missing from the target folder {folder}.",
        "ko": "대상 폴더 {folder} 에 {file} 이(가) 없습니다.",
    },
    "timeout": {
        "en": "Stopped after {seconds:g} s: the code did not finish. Look for a loop that never ends (a while loop whose condition never changes, or a huge step count).",
        "ko": "{seconds:g} 초가 지나 멈췄습니다. 코드가 끝나지 않았습니다. 끝나지 않는 반복문(조건이 바뀌지 않는 while 문, 너무 큰 단계 수)을 찾아보세요.",
    },
    "autograd_used": {
        "en": "{function} must compute gradients by hand, but it called {call}. Use the chain rule with tensors only: no backward(), no torch.autograd.",
        "ko": "{function} 은(는) 기울기를 손으로 계산해야 하는데 {call} 을(를) 불렀습니다. 텐서와 연쇄 법칙만 쓰세요: backward() 도 torch.autograd 도 안 됩니다.",
    },
    # --- judging -------------------------------------------------------------------------
    "called": {
        "en": "Called {call}.",
        "ko": "{call} 을(를) 호출했습니다.",
    },
    "wrong_type": {
        "en": "It returned {got}, but the test expected {expected}.",
        "ko": "{got} 을(를) 돌려주었지만, 테스트는 {expected} 을(를) 기대했습니다.",
    },
    "wrong_shape": {
        "en": "{what} has shape {got}, but the test expected shape {expected}.",
        "ko": "{what} 의 모양이 {got} 인데, 테스트는 {expected} 모양을 기대했습니다.",
    },
    "wrong_dtype": {
        "en": "{what} has dtype {got}, but the test expected {expected}.",
        "ko": "{what} 의 dtype 이 {got} 인데, 테스트는 {expected} 을(를) 기대했습니다.",
    },
    "not_finite": {
        "en": "{what} contains NaN or infinity. Look for a division by zero or a log of 0.",
        "ko": "{what} 에 NaN 이나 무한대가 들어 있습니다. 0 으로 나누기나 log(0) 을 찾아보세요.",
    },
    "not_close": {
        "en": "{what} is off: the worst element is {index}, yours {got}, expected {expected} (relative error {rel:.2e}; allowed: rtol {rtol:g}, atol {atol:g}).",
        "ko": "{what} 값이 다릅니다. 가장 큰 차이는 {index} 번째 원소로, 여러분의 값 {got}, 기대값 {expected} (상대 오차 {rel:.2e}; 허용: rtol {rtol:g}, atol {atol:g}).",
    },
    "not_equal": {
        "en": "{what} is {got}, but the test expected {expected}.",
        "ko": "{what} 이(가) {got} 인데, 테스트는 {expected} 을(를) 기대했습니다.",
    },
    "cause_for": {
        "en": "{name}: {cause}",
        "ko": "{name}: {cause}",
    },
    "likely_cause": {
        "en": "Likely cause: {cause}",
        "ko": "짐작되는 원인: {cause}",
    },
    "table_header": {
        "en": "{name}: yours vs float64 numerical (worst elements first)",
        "ko": "{name}: 여러분의 값과 float64 수치 미분값 비교 (차이가 큰 원소부터)",
    },
    "mutated_input": {
        "en": "{function} changed its input {name} in place. Compute a new tensor instead (x + h, not x += h).",
        "ko": "{function} 이(가) 입력 {name} 을(를) 제자리에서 바꿨습니다. 새 텐서를 만드세요 (x += h 가 아니라 x + h).",
    },
    "input_left_grad": {
        "en": "{function} left {what} on the caller's tensor {name}. Work on a copy: x.detach().clone().requires_grad_().",
        "ko": "{function} 이(가) 호출한 쪽의 텐서 {name} 에 {what} 을(를) 남겼습니다. 복사본으로 계산하세요: x.detach().clone().requires_grad_().",
    },
    # --- likely causes, recognised from the numbers ------------------------------------
    "cause_factor_2": {
        "en": "yours is twice the expected value (a factor 2 too many).",
        "ko": "기대값의 두 배입니다 (2 를 한 번 더 곱했습니다).",
    },
    "cause_half": {
        "en": "yours is half the expected value (a forgotten factor 2, as in d/dx x² = 2x).",
        "ko": "기대값의 절반입니다 (d/dx x² = 2x 의 2 를 빠뜨렸습니다).",
    },
    "cause_sign": {
        "en": "the sign is flipped (e.g. t - y instead of y - t, or + lr instead of - lr).",
        "ko": "부호가 반대입니다 (예: y - t 대신 t - y, - lr 대신 + lr).",
    },
    "cause_missing_mean": {
        "en": "yours is {n} times too large: the 1/N of the mean loss is missing.",
        "ko": "{n} 배 큽니다: 평균 손실의 1/N 이 빠졌습니다.",
    },
    "cause_extra_mean": {
        "en": "yours is {n} times too small: divided by N once too often (the batch sum is already the gradient of the mean).",
        "ko": "{n} 배 작습니다: N 으로 한 번 더 나눴습니다.",
    },
    "cause_transposed": {
        "en": "yours is the transpose of the expected gradient: a weight of nn.Linear has shape (out_features, in_features), so ∂L/∂W = δᵀ a.",
        "ko": "기대한 기울기의 전치입니다. nn.Linear 의 가중치 모양은 (out_features, in_features) 이므로 ∂L/∂W = δᵀ a 입니다.",
    },
    "cause_not_summed": {
        "en": "yours has one entry per example: sum over the batch (dim 0) to get the gradient of the parameter.",
        "ko": "예제마다 값이 하나씩 있습니다. 매개변수의 기울기를 얻으려면 배치(0 번 차원)에 대해 더하세요.",
    },
    "cause_no_activation_derivative": {
        "en": "the sigmoid's derivative a(1 - a) is missing on the way back through the hidden layer.",
        "ko": "은닉층을 거꾸로 지날 때 시그모이드의 도함수 a(1 - a) 를 빠뜨렸습니다.",
    },
    "cause_no_grad_output": {
        "en": "backward must multiply by grad_output (the gradient arriving from above).",
        "ko": "backward 는 grad_output (위에서 내려온 기울기) 을 곱해야 합니다.",
    },
    "cause_forward_difference": {
        "en": "this looks like a forward difference (f(x + h) - f(x)) / h; use the central difference.",
        "ko": "전방 차분 (f(x + h) - f(x)) / h 로 보입니다. 중앙 차분을 쓰세요.",
    },
    "cause_grad_reset": {
        "en": "yours is the gradient of a single backward(): the gradient was reset (or x rebuilt) between the calls. backward() adds into .grad; here, let it add up.",
        "ko": "backward() 한 번의 기울기와 같습니다. 호출 사이에 기울기를 초기화했거나 x 를 새로 만들었습니다. backward() 는 .grad 에 더하므로, 여기서는 누적되게 두세요.",
    },
    "cause_no_zero_grad": {
        "en": "the gradients are not reset every step: call net.zero_grad() (or optimizer.zero_grad()) before backward().",
        "ko": "기울기를 매 단계 초기화하지 않았습니다. backward() 전에 net.zero_grad() (또는 optimizer.zero_grad()) 를 부르세요.",
    },
}


def lang() -> str:
    value = os.environ.get("KATAS_LANG", "both").strip().lower()
    return value if value in ("en", "ko", "both") else "both"


class Msg:
    """A sentence not yet rendered: usable as a field of another, rendered per language."""

    def __init__(self, key: str, **fields: object) -> None:
        if key not in MESSAGES:
            raise KeyError(f"no message {key!r}")
        self.key = key
        self.fields = fields

    def render(self, language: str) -> str:
        values = {k: v.render(language) if isinstance(v, Msg) else v for k, v in self.fields.items()}
        return MESSAGES[self.key][language].format(**values)

    def __str__(self) -> str:
        mode = lang()
        if mode == "both":
            return self.render("en") + "\n" + self.render("ko")
        return self.render(mode)


def msg(key: str, **fields: object) -> Msg:
    return Msg(key, **fields)


def say(key: str, **fields: object) -> str:
    """One sentence in the chosen language(s); ``both`` puts Korean on the line below."""
    return str(Msg(key, **fields))


def fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
