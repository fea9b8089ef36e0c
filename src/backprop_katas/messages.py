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
    "shortcut_autograd": {
        "en": "{function} must compute gradients by hand, but {where} uses {construct}: that is autograd. Use the chain rule with tensors only: no backward(), no torch.autograd, no torch.func, no requires_grad.",
        "ko": "{function} 은(는) 기울기를 손으로 계산해야 하는데 {where} 에서 {construct} 을(를) 씁니다. 이것은 autograd 입니다. 텐서와 연쇄 법칙만 쓰세요: backward(), torch.autograd, torch.func, requires_grad 모두 안 됩니다.",
    },
    "shortcut_dynamic": {
        "en": "{function} must be written by hand, and {where} uses {construct}, which the checker cannot follow (a name computed at run time, or a library changed at import). Write the names out (torch.sigmoid, not getattr(torch, name)) so that the check can see the code is autograd-free.",
        "ko": "{function} 은(는) 손으로 작성해야 하는데 {where} 의 {construct} 은(는) 검사기가 따라갈 수 없습니다 (실행 중에 계산되는 이름, 또는 import 때 바뀐 라이브러리). 이름을 그대로 쓰세요 (getattr(torch, name) 대신 torch.sigmoid). 그래야 autograd 를 쓰지 않았음을 확인할 수 있습니다.",
    },
    "gradcheck_explained": {
        "en": 'This is the check torch.autograd.gradcheck(SigmoidFunction.apply, (x,)) makes: row by row, the Jacobian your backward gives (grad_output = e_k) must match finite differences. gradcheck would say "Jacobian mismatch for output 0 with respect to input 0". backward must return grad_output · σ(x)(1 - σ(x)), a tensor of x\'s shape and dtype.',
        "ko": '이것은 torch.autograd.gradcheck(SigmoidFunction.apply, (x,)) 가 하는 검사입니다. 여러분의 backward 가 주는 야코비 행렬(grad_output = e_k)이 한 행씩 유한 차분과 맞아야 합니다. gradcheck 라면 "Jacobian mismatch for output 0 with respect to input 0" 이라고 했을 것입니다. backward 는 x 와 같은 모양과 dtype 의 텐서 grad_output · σ(x)(1 - σ(x)) 를 돌려줘야 합니다.',
    },
    "shortcut_via": {
        "en": "(reached through {via})",
        "ko": "({via} 를 거쳐 도달)",
    },
    "shortcut_tool": {
        "en": "{where}: {construct} uses the tool's own code (backprop_katas: its oracles answer the tests). A kata file must not import it; write the code yourself.",
        "ko": "{where}: {construct} 은(는) 도구 자체의 코드(backprop_katas, 그 오라클이 테스트의 답입니다)를 씁니다. kata 파일은 이것을 import 하면 안 됩니다. 코드를 직접 작성하세요.",
    },
    "shortcut_reach": {
        "en": "{where}: {construct} is dynamic import or introspection, which kata files may not use: it can reach code (the tool's oracles included) that the checks cannot see. Import what you need by name (import torch).",
        "ko": "{where}: {construct} 은(는) 동적 import 나 내부 들여다보기로, kata 파일에서 쓸 수 없습니다. 검사가 볼 수 없는 코드(도구의 오라클 포함)에 닿을 수 있기 때문입니다. 필요한 것은 이름으로 import 하세요 (import torch).",
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
        "en": "{what} does not match: the worst element is {index}, yours {got}, expected {expected} (relative error {rel:.2e}; allowed: rtol {rtol:g}, atol {atol:g}).",
        "ko": "{what} 값이 다릅니다. 가장 큰 차이는 {index} 번째 원소로, 여러분의 값 {got}, 기대값 {expected} (상대 오차 {rel:.2e}; 허용: rtol {rtol:g}, atol {atol:g}).",
    },
    "not_close_scalar": {
        "en": "{what} does not match: yours {got}, expected {expected} (relative error {rel:.2e}; allowed: rtol {rtol:g}, atol {atol:g}).",
        "ko": "{what} 값이 다릅니다. 여러분의 값 {got}, 기대값 {expected} (상대 오차 {rel:.2e}; 허용: rtol {rtol:g}, atol {atol:g}).",
    },
    "what_after_training": {
        "en": "After training, {name}",
        "ko": "학습 후의 {name}",
    },
    "what_initial": {
        "en": "The initial {name}",
        "ko": "초기 {name}",
    },
    "what_loss_at_step": {
        "en": "The loss at step {step}",
        "ko": "{step} 단계의 손실",
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
    "input_version": {
        "en": "{function} wrote into its input {name} in place: the tensor's version counter went from {before} to {after}, even if the values came back the same.",
        "ko": "{function} 이(가) 입력 {name} 에 제자리 쓰기를 했습니다. 값이 다시 같아졌더라도 텐서의 버전 카운터가 {before} 에서 {after} 로 바뀌었습니다.",
    },
    "input_flag_changed": {
        "en": "{function} changed {what} of the caller's tensor {name}: it was {before} before the call and is {after} after. Leave the caller's tensors as they were.",
        "ko": "{function} 이(가) 호출한 쪽의 텐서 {name} 의 {what} 을(를) 바꿨습니다. 호출 전에는 {before}, 호출 후에는 {after} 입니다. 호출한 쪽의 텐서는 그대로 두세요.",
    },
    "side_effect": {
        "en": "{function} changed {what}: it was {before} before the call and is {after} after. A function must leave global state as it found it.",
        "ko": "{function} 이(가) {what} 을(를) 바꿨습니다. 호출 전에는 {before}, 호출 후에는 {after} 입니다. 함수는 전역 상태를 찾은 그대로 두어야 합니다.",
    },
    "aliased_result": {
        "en": "{function} returned {what}, which shares memory with {other}: changing one would change the other. Return a new tensor.",
        "ko": "{function} 이(가) 돌려준 {what} 이(가) {other} 와(과) 메모리를 공유합니다. 하나를 바꾸면 다른 하나도 바뀝니다. 새 텐서를 돌려주세요.",
    },
    "not_plain": {
        "en": "{what} is a {got}, but the test expected a plain Python {expected}.",
        "ko": "{what} 이(가) {got} 인데, 테스트는 파이썬 기본 {expected} 을(를) 기대했습니다.",
    },
    "calls_counted": {
        "en": "{function} called {callee} {got} times, but the contract asks for {expected} (one fresh graph per backward()).",
        "ko": "{function} 이(가) {callee} 을(를) {got} 번 불렀지만, 계약은 {expected} 번입니다 (backward() 마다 새 그래프).",
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
    "cause_overflow": {
        "en": "your sigmoid overflows for large |x|: exp of a large positive number is inf, and inf/inf is NaN. Use the form that never exponentiates a positive number: with e = exp(-|x|), σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0.",
        "ko": "|x| 가 클 때 시그모이드가 넘칩니다(overflow). 큰 양수의 exp 는 inf 이고 inf/inf 는 NaN 입니다. 양수를 지수로 올리지 않는 꼴을 쓰세요: e = exp(-|x|) 로 x ≥ 0 이면 σ(x) = 1/(1 + e), x < 0 이면 e/(1 + e).",
    },
    "cause_saturation": {
        "en": "the output saturates (y rounds to 0 or 1) and dL/dy = (y - t)/(y(1 - y)) divides by 0 there. Multiply by σ'(z) = y(1 - y) on paper first: ∂L/∂z₂ = (y - t)/M, with no division.",
        "ko": "출력이 포화되어(y 가 0 또는 1 로 반올림) dL/dy = (y - t)/(y(1 - y)) 가 0 으로 나눕니다. 종이 위에서 먼저 σ'(z) = y(1 - y) 를 곱하세요: ∂L/∂z₂ = (y - t)/M, 나눗셈이 없습니다.",
    },
    "cause_in_place": {
        "en": "an in-place operation on the caller's tensor (x += y, x.add_(y), x[...] = v, x.pow_(2)): write x = x + y, or work on x.clone().",
        "ko": "호출한 쪽의 텐서에 대한 제자리 연산입니다 (x += y, x.add_(y), x[...] = v, x.pow_(2)). x = x + y 처럼 쓰거나 x.clone() 으로 계산하세요.",
    },
    "cause_tensor_not_number": {
        "en": "a tensor where a plain Python number belongs: take loss.item() (or int(...)). A loss tensor kept in a log also keeps its whole graph alive.",
        "ko": "파이썬 숫자가 들어갈 자리에 텐서가 있습니다. loss.item() (또는 int(...)) 을 쓰세요. 기록에 남긴 손실 텐서는 계산 그래프 전체를 붙잡아 둡니다.",
    },
    "cause_numpy_number": {
        "en": "a numpy number where a plain Python int belongs: sum the p.numel() values with Python's sum, or wrap the result in int(...).",
        "ko": "파이썬 int 가 들어갈 자리에 numpy 숫자가 있습니다. p.numel() 값을 파이썬 sum 으로 더하거나 결과를 int(...) 로 감싸세요.",
    },
    "cause_fixed_batch_size": {
        "en": "yours is the expected value times N/4: a division by the chapter's 4 instead of by the number of examples N. Take the mean (loss.mean(), or divide by t.numel()).",
        "ko": "기대값에 N/4 를 곱한 값입니다. 예제 수 N 대신 책의 4 로 나눴습니다. 평균을 쓰세요 (loss.mean() 또는 t.numel() 로 나누기).",
    },
    "cause_rng_side_effect": {
        "en": "the function draws from or re-seeds torch's random generator (torch.manual_seed inside it?): seed in the caller, once, and leave the generator alone here.",
        "ko": "함수 안에서 torch 의 난수 생성기를 쓰거나 시드를 다시 정했습니다 (안에서 torch.manual_seed?). 시드는 호출하는 쪽에서 한 번만 정하고, 여기서는 생성기를 건드리지 마세요.",
    },
    "cause_grad_mode_side_effect": {
        "en": "torch.set_grad_enabled(False) (or a no_grad() entered without with) switches autograd off for everyone after the call: use `with torch.no_grad():`, which restores the mode.",
        "ko": "torch.set_grad_enabled(False) (또는 with 없이 들어간 no_grad()) 는 호출 뒤에도 모든 곳에서 autograd 를 꺼 둡니다. 모드를 되돌려 주는 `with torch.no_grad():` 를 쓰세요.",
    },
    "cause_default_dtype_side_effect": {
        "en": "torch.set_default_dtype inside the function changes every tensor created afterwards, everywhere: convert your own tensors instead (x.double(), dtype=x.dtype).",
        "ko": "함수 안의 torch.set_default_dtype 는 이후 모든 곳에서 만들어지는 텐서를 바꿉니다. 대신 여러분의 텐서를 변환하세요 (x.double(), dtype=x.dtype).",
    },
    # --- katas CLI ---------------------------------------------------------------------
    "cli_header": {
        "en": "backprop-katas: {done}/{total} katas done, {points}/{max_points} points",
        "ko": "backprop-katas: 카타 {total} 개 중 {done} 개 완료, {max_points} 점 중 {points} 점",
    },
    "cli_col_kata": {"en": "kata", "ko": "카타"},
    "cli_col_status": {"en": "status", "ko": "상태"},
    "cli_col_points": {"en": "points", "ko": "점수"},
    "cli_status_done": {"en": "done", "ko": "완료"},
    "cli_status_failing": {"en": "failing", "ko": "실패"},
    "cli_status_not_started": {"en": "not started", "ko": "시작 전"},
    "cli_status_timeout": {"en": "too slow", "ko": "시간 초과"},
    "cli_status_missing": {"en": "file missing", "ko": "파일 없음"},
    "cli_next": {
        "en": "Next: {number} · {title} (chapter code {chapter})",
        "ko": "다음: {number} · {title} (책의 코드 {chapter})",
    },
    "cli_task": {"en": "Task: {task}", "ko": "할 일: {task}"},
    "cli_edit": {"en": "Edit: {where}", "ko": "고칠 곳: {where}"},
    "cli_first_failure": {
        "en": "First failing check ({passed} of {total} passed): {test}",
        "ko": "처음 실패한 검사 ({total} 개 중 {passed} 개 통과): {test}",
    },
    "cli_test_at": {"en": "the test: {where}", "ko": "테스트 코드: {where}"},
    "cli_hint": {"en": "Hint {n}/{total}: {hint}", "ko": "힌트 {n}/{total}: {hint}"},
    "cli_more_hint": {"en": "Another hint: `katas hint {kata}`", "ko": "다음 힌트: `katas hint {kata}`"},
    "cli_more_watch": {"en": "check on every save: `katas watch`", "ko": "저장할 때마다 검사: `katas watch`"},
    "cli_more_again": {"en": "check again: `katas`", "ko": "다시 검사: `katas`"},
    "cli_kata_passes": {
        "en": "{kata} passes: all {total} checks. The reference solution: `katas solution {kata}`.",
        "ko": "{kata} 통과: 검사 {total} 개 모두 성공. 참고 답안: `katas solution {kata}`.",
    },
    "cli_all_done": {
        "en": "All {total} katas pass. Well done! See your network learn XOR: `katas plot xor`.",
        "ko": "카타 {total} 개를 모두 통과했습니다. 잘했습니다! 네트워크가 XOR 을 배우는 모습: `katas plot xor`.",
    },
    "cli_timeout": {
        "en": "{kata} was stopped after {seconds:g} s: its tests did not finish. Look for a loop that never ends, or allow more time with --timeout SECONDS.",
        "ko": "{kata} 를 {seconds:g} 초 뒤에 멈췄습니다. 테스트가 끝나지 않았습니다. 끝나지 않는 반복문을 찾아보거나 --timeout 초 로 시간을 늘리세요.",
    },
    "cli_no_report": {
        "en": "The tests stopped before the end (exit code {code}). Their last output:",
        "ko": "테스트가 끝까지 실행되지 않았습니다 (종료 코드 {code}). 마지막 출력:",
    },
    "cli_no_tests": {"en": "No test ran from {file}.", "ko": "{file} 에서 실행된 테스트가 없습니다."},
    "cli_missing_kata": {
        "en": "{file} does not exist. `katas reset {kata}` writes a fresh one.",
        "ko": "{file} 이(가) 없습니다. `katas reset {kata}` 로 새로 만들 수 있습니다.",
    },
    "cli_no_katas_folder": {
        "en": "There is no katas/ folder in {root}: it holds the files you edit. Restore it with `git checkout -- katas` or `katas generate`.",
        "ko": "{root} 에 katas/ 폴더가 없습니다. 여러분이 고칠 파일이 들어 있는 폴더입니다. `git checkout -- katas` 또는 `katas generate` 로 되살리세요.",
    },
    "cli_unknown_kata": {
        "en": "There is no kata called {name}.",
        "ko": "{name} 라는 카타는 없습니다.",
    },
    "cli_did_you_mean": {"en": "Did you mean {suggestion}?", "ko": "{suggestion} 을(를) 찾으시나요?"},
    "cli_did_you_mean_function": {
        "en": "Did you mean {suggestion}? It has {function}.",
        "ko": "{suggestion} 을(를) 찾으시나요? 그 카타에 {function} 이(가) 있습니다.",
    },
    "cli_known_katas": {
        "en": "There are {count} katas, {span}: {names}",
        "ko": "카타는 {span} 의 {count} 개입니다: {names}",
    },
    "cli_hints_header": {"en": "{number} · {title}: hints", "ko": "{number} · {title}: 힌트"},
    "cli_hint_last": {
        "en": "That was the last hint. Once the kata passes, `katas solution {kata}` shows the reference.",
        "ko": "마지막 힌트였습니다. 카타를 통과하면 `katas solution {kata}` 로 참고 답안을 볼 수 있습니다.",
    },
    "cli_hint_next": {
        "en": "{left} more: run `katas hint {kata}` again.",
        "ko": "힌트가 {left} 개 더 있습니다: `katas hint {kata}` 를 다시 실행하세요.",
    },
    "cli_reset_ask": {
        "en": "Replace {file} with a fresh stub? Your version will be kept as {backup}. [y/N] ",
        "ko": "{file} 을(를) 새 빈 파일로 바꿀까요? 지금 버전은 {backup} 에 보관됩니다. [y/N] ",
    },
    "cli_reset_created": {
        "en": "{file} is a fresh stub again (there was no file to back up).",
        "ko": "{file} 을(를) 새 빈 파일로 만들었습니다 (백업할 파일이 없었습니다).",
    },
    "cli_reset_done": {
        "en": "{file} is a fresh stub again; your old version is in {backup}.",
        "ko": "{file} 을(를) 새 빈 파일로 되돌렸습니다. 이전 버전은 {backup} 에 있습니다.",
    },
    "cli_reset_cancelled": {"en": "Nothing changed.", "ko": "아무것도 바꾸지 않았습니다."},
    "cli_reset_already": {
        "en": "{file} is already the untouched stub; nothing to reset.",
        "ko": "{file} 은(는) 이미 손대지 않은 빈 파일입니다. 되돌릴 것이 없습니다.",
    },
    "cli_reset_no_solution": {
        "en": "Cannot make a stub: {file} is missing or broken.",
        "ko": "빈 파일을 만들 수 없습니다: {file} 이(가) 없거나 깨졌습니다.",
    },
    "cli_solution_locked": {
        "en": "{kata} does not pass yet ({status}). Its solution opens once it does; until then: `katas hint {kata}`.",
        "ko": "{kata} 를 아직 통과하지 못했습니다 ({status}). 통과하면 답안을 볼 수 있습니다. 그때까지는 `katas hint {kata}`.",
    },
    "cli_solution_header": {
        "en": "The reference solution, {file}: compare it with yours.",
        "ko": "참고 답안 {file}: 여러분의 코드와 비교해 보세요.",
    },
    "cli_watch_start": {
        "en": "Watching {folder}: saving a kata file checks it again. Enter: check now · q then Enter, or Ctrl-C: quit.",
        "ko": "{folder} 를 지켜봅니다. 카타 파일을 저장하면 다시 검사합니다. Enter: 지금 검사 · q 후 Enter 또는 Ctrl-C: 종료.",
    },
    "cli_watch_manual": {
        "en": "Manual mode: save your file, then press Enter to check. q then Enter, or Ctrl-C: quit.",
        "ko": "수동 모드: 파일을 저장한 뒤 Enter 를 누르면 검사합니다. q 후 Enter 또는 Ctrl-C: 종료.",
    },
    "cli_watch_checking": {"en": "Checking {kata} ...", "ko": "{kata} 검사 중 ..."},
    "cli_watch_passed": {"en": "{kata} passes! On to the next kata.", "ko": "{kata} 통과! 다음 카타로 넘어갑니다."},
    "cli_watch_bye": {"en": "Stopped watching.", "ko": "지켜보기를 멈췄습니다."},
    "cli_interrupted": {
        "en": "Stopped (Ctrl-C); no check is left running.",
        "ko": "멈췄습니다 (Ctrl-C). 실행 중인 검사는 남아 있지 않습니다.",
    },
    "cli_plot_written": {"en": "Wrote the plot: {path}", "ko": "그래프를 저장했습니다: {path}"},
    "cli_plot_not_ready": {
        "en": "`katas plot xor` trains the network with your own k06 {function}, which is not written yet. Finish k06 first: `katas check k06`.",
        "ko": "`katas plot xor` 는 여러분이 작성한 k06 {function} 로 네트워크를 학습하는데, 아직 작성하지 않았습니다. 먼저 k06 을 끝내세요: `katas check k06`.",
    },
    "cli_plot_failed": {
        "en": "Your code failed while training the network for the plot:",
        "ko": "그래프를 위해 네트워크를 학습하는 중에 여러분의 코드가 실패했습니다:",
    },
    "cli_plot_unknown": {
        "en": "Unknown plot {name}: the plots are {names}.",
        "ko": "{name} 라는 그래프는 없습니다. 가능한 그래프: {names}.",
    },
    "cli_plot_own_network": {
        "en": "Network: your k02 Network (seed {seed}).",
        "ko": "네트워크: 여러분의 k02 Network (시드 {seed}).",
    },
    "cli_plot_oracle_network": {
        "en": "Network: the tool's own copy of the chapter's network (seed {seed}), because your k02 Network is not ready.",
        "ko": "네트워크: 여러분의 k02 Network 가 아직 준비되지 않아, 도구가 만든 같은 구조의 네트워크 (시드 {seed}) 를 썼습니다.",
    },
    "cli_plot_no_font": {
        "en": "(No Korean font found for matplotlib: the labels inside the image are in English.)",
        "ko": "(matplotlib 에서 쓸 한글 글꼴이 없어 그림 안의 글자는 영어로 썼습니다.)",
    },
    "plot_loss_title": {"en": "Training loss (BCE)", "ko": "학습 손실 (BCE)"},
    "plot_step": {"en": "step", "ko": "단계"},
    "plot_loss": {"en": "loss", "ko": "손실"},
    "plot_yours": {"en": "your train()", "ko": "여러분의 train()"},
    "plot_oracle": {"en": "oracle (torch nn.BCELoss + optim.SGD)", "ko": "기준 (torch nn.BCELoss + optim.SGD)"},
    "plot_boundary_title": {
        "en": "Decision boundary: net(x) >= 0.5 after training",
        "ko": "결정 경계: 학습 후 net(x) >= 0.5",
    },
    "plot_target": {"en": "XOR target {t}", "ko": "XOR 정답 {t}"},
    "cli_help_description": {
        "en": "backprop-katas: learn backpropagation by making tests pass. Run `katas` to see where you are.",
        "ko": "backprop-katas: 테스트를 통과시키며 오차역전파를 배웁니다. `katas` 를 실행하면 지금 할 일을 알려 줍니다.",
    },
    "cli_help_lang": {
        "en": "language of the messages: en or ko (default: from the locale, LANG)",
        "ko": "메시지 언어: en 또는 ko (기본값: 로케일 LANG 에서)",
    },
    "cli_help_all": {
        "en": "check every kata again, ignoring the cache",
        "ko": "캐시를 무시하고 모든 카타를 다시 검사",
    },
    "cli_help_timeout": {
        "en": "stop a kata's tests after this many seconds (default {seconds:g})",
        "ko": "카타의 테스트를 이 시간(초)이 지나면 멈춤 (기본값 {seconds:g})",
    },
    "cli_help_target": {
        "en": "folder of kata files to check: katas (default), solutions or a path",
        "ko": "검사할 카타 파일 폴더: katas (기본값), solutions 또는 경로",
    },
    "cli_help_check": {"en": "check one kata (default: the current one)", "ko": "카타 하나 검사 (기본값: 지금 카타)"},
    "cli_help_kata": {
        "en": "a kata: k05, k05_backprop or backprop",
        "ko": "카타 이름: k05, k05_backprop 또는 backprop",
    },
    "cli_help_hint": {
        "en": "show the next hint for a kata (default: the current one)",
        "ko": "카타의 다음 힌트 보기 (기본: 지금 할 카타)",
    },
    "cli_help_default": {"en": "(default: {value})", "ko": "(기본값: {value})"},
    "cli_help_version": {"en": "show the version and exit", "ko": "버전을 보여 주고 끝내기"},
    "cli_help_hint_all": {"en": "show every hint", "ko": "모든 힌트 보기"},
    "cli_help_watch": {
        "en": "check the current kata every time you save, and move on when it passes",
        "ko": "저장할 때마다 지금 카타를 검사하고, 통과하면 다음으로 넘어감",
    },
    "cli_help_manual": {
        "en": "do not watch files: press Enter to check",
        "ko": "파일을 지켜보지 않고 Enter 를 누를 때 검사",
    },
    "cli_help_reset": {
        "en": "restore a kata file to its stub (your version is backed up)",
        "ko": "카타 파일을 처음 상태로 되돌림 (지금 버전은 백업)",
    },
    "cli_help_yes": {"en": "do not ask", "ko": "묻지 않음"},
    "cli_help_solution": {
        "en": "show the reference solution of a kata you have passed",
        "ko": "통과한 카타의 참고 답안 보기",
    },
    "cli_help_list": {"en": "list the katas and their status", "ko": "카타 목록과 상태 보기"},
    "cli_help_json": {"en": "as JSON, for editors and scripts", "ko": "편집기와 스크립트를 위한 JSON 으로"},
    "cli_help_plot": {
        "en": "draw a plot of your network: `katas plot xor`",
        "ko": "네트워크 그래프 그리기: `katas plot xor`",
    },
    "cli_help_out": {"en": "where to write the PNG", "ko": "PNG 를 저장할 경로"},
    # --- grading ---
    "grade_needs_grade": {
        "en": "{option} works only in grading mode: add --grade.",
        "ko": "{option} 은(는) 채점 모드에서만 동작합니다. --grade 를 붙이세요.",
    },
    "grade_header": {
        "en": "grading mode: each kata runs in its own child process (memory {memory} MB, {seconds:g} s per kata)",
        "ko": "채점 모드: 카타마다 별도의 자식 프로세스에서 실행합니다 (메모리 {memory} MB, 카타당 {seconds:g} 초)",
    },
    "grade_ignored": {
        "en": "Not graded (only the kata files are copied): {files}",
        "ko": "채점하지 않은 파일 (카타 파일만 복사합니다): {files}",
    },
    "grade_missing": {
        "en": "Missing kata files (their tests score 0): {files}",
        "ko": "없는 카타 파일 (해당 테스트는 0 점): {files}",
    },
    "grade_child_died": {
        "en": "The process running {kata} ended before it answered ({detail}). Look for sys.exit(), os._exit() or a crash in your code.",
        "ko": "{kata} 를 실행하던 프로세스가 답하기 전에 끝났습니다 ({detail}). 코드에서 sys.exit(), os._exit() 또는 비정상 종료를 찾아보세요.",
    },
    "grade_call_failed": {
        "en": "A probe call of {kata} could not start ({detail}); grading goes on with its next test.",
        "ko": "{kata} 의 프로브 호출을 시작할 수 없었습니다 ({detail}). 채점은 다음 테스트로 이어집니다.",
    },
    "grade_kata_start_failed": {
        "en": "The grader could not start the process for {kata} ({detail}). This is not your code's fault unless another kata of yours filled the disk; tell your instructor.",
        "ko": "채점기가 {kata} 를 실행할 프로세스를 시작하지 못했습니다 ({detail}). 다른 kata 가 디스크를 채운 경우가 아니라면 여러분 코드의 문제가 아닙니다. 강사에게 알려 주세요.",
    },
    "grade_kata_time": {
        "en": "{kata} used up its {seconds:g} s of grading time; its remaining tests score 0. Look for a loop that never ends.",
        "ko": "{kata} 가 채점 시간 {seconds:g} 초를 모두 썼습니다. 남은 테스트는 0 점입니다. 끝나지 않는 반복문을 찾아보세요.",
    },
    "grade_disk_limit": {
        "en": "{kata} wrote more than {mb} MB of files; its remaining tests score 0. Look for a loop that writes files.",
        "ko": "{kata} 가 파일을 {mb} MB 넘게 썼습니다. 남은 테스트는 0 점입니다. 파일을 계속 쓰는 반복문을 찾아보세요.",
    },
    "grade_isolation": {
        "en": "isolation: {isolation} ({detail})",
        "ko": "격리 방식: {isolation} ({detail})",
    },
    "grade_batch_isolation": {
        "en": "Isolation used: {isolation}",
        "ko": "사용한 격리 방식: {isolation}",
    },
    "grade_kata_closed": {
        "en": "{kata} stopped too often; its remaining tests score 0.",
        "ko": "{kata} 가 너무 자주 멈췄습니다. 남은 테스트는 0 점입니다.",
    },
    "grade_hidden_name": {
        "en": "{kata} · hidden test {n}",
        "ko": "{kata} · 숨은 테스트 {n}",
    },
    "grade_hidden_failed": {
        "en": "A hidden test of {kata} failed. What it checks: {about}",
        "ko": "{kata} 의 숨은 테스트가 실패했습니다. 검사 내용: {about}",
    },
    "grade_skipped": {
        "en": "This test did not run, so it scores 0.",
        "ko": "이 테스트는 실행되지 않아 0 점입니다.",
    },
    "grade_output_cut": {
        "en": "[... {n} more characters cut]",
        "ko": "[... {n} 글자 생략]",
    },
    "grade_total": {
        "en": "Total: {score:g} / {max:g} points",
        "ko": "총점: {score:g} / {max:g} 점",
    },
    "grade_batch_none": {
        "en": "{folder} holds no submission folders (one sub-folder per learner).",
        "ko": "{folder} 에 제출 폴더가 없습니다 (학습자마다 하위 폴더 하나).",
    },
    "grade_batch_done": {
        "en": "{graded} graded, {kept} unchanged (kept), {failed} could not be graded, in {seconds:.1f} s. Gradebook: {book}",
        "ko": "{graded} 개 채점, {kept} 개는 바뀌지 않아 유지, {failed} 개 채점 실패, {seconds:.1f} 초. 성적부: {book}",
    },
    "grade_batch_error": {
        "en": "{learner}: grading failed: {detail}",
        "ko": "{learner}: 채점 실패: {detail}",
    },
    "feedback_title": {
        "en": "Feedback for {learner}",
        "ko": "{learner} 님을 위한 피드백",
    },
    "feedback_failed": {
        "en": "Tests that failed",
        "ko": "실패한 테스트",
    },
    "feedback_all_passed": {
        "en": "Every test passed. Well done!",
        "ko": "모든 테스트를 통과했습니다. 잘했습니다!",
    },
    "feedback_more": {
        "en": "{n} more failed tests (fix the ones above first)",
        "ko": "실패한 테스트 {n} 개 더 (위의 것부터 고치세요)",
    },
    # --- grades an instructor hands back (issue 9) ---
    "grade_two_words": {
        "en": "--grade: write {option}={value} as one word. Given as two words, pytest takes {value} for a test folder before it knows {option}, and reads the pytest.ini, tox.ini, setup.cfg or pyproject.toml it finds there (it may already have imported a plugin named in it). Nothing was graded.",
        "ko": "--grade: {option}={value} 처럼 한 단어로 쓰세요. 두 단어로 쓰면 pytest 는 {option} 을 알기 전에 {value} 를 테스트 폴더로 여기고, 거기 있는 pytest.ini, tox.ini, setup.cfg, pyproject.toml 을 읽습니다 (그 안에 적힌 플러그인을 이미 불러왔을 수도 있습니다). 아무것도 채점하지 않았습니다.",
    },
    "grade_safe_command": {
        "en": "Safe for one submission, whatever it ships: katas grade {path} --out DIR (writes DIR/results.json).",
        "ko": "무엇이 들어 있든 제출물 하나를 안전하게 채점하려면: katas grade {path} --out DIR (DIR/results.json 을 씁니다).",
    },
    "grade_bad_part": {
        "en": "--grade: the test {test} names the part {part!r}, but its kata's weights in katas.toml have the parts: {parts}. Every kata test (hidden tests too) carries @pytest.mark.part(NAME) with one of them.",
        "ko": "--grade: 테스트 {test} 는 부분 {part!r} 을 적었지만, katas.toml 의 그 카타 가중치에 있는 부분은 {parts} 입니다. 모든 카타 테스트(숨은 테스트 포함)는 그중 하나로 @pytest.mark.part(NAME) 를 답니다.",
    },
    "grade_part_not_run": {
        "en": "No test of this part ran, so it scores 0.",
        "ko": "이 부분의 테스트가 하나도 실행되지 않아 0 점입니다.",
    },
    "grade_more_failed": {
        "en": "{n} more tests of this part failed: {names}",
        "ko": "이 부분의 테스트 {n} 개가 더 실패했습니다: {names}",
    },
    "grade_batch_stopped": {
        "en": "Stopped: {graded} of {todo} learners graded and saved ({kept} kept from earlier runs); run the same command to go on.",
        "ko": "중단됨: 학습자 {todo} 명 중 {graded} 명을 채점해 저장했습니다 (이전 실행에서 유지 {kept} 명). 같은 명령을 다시 실행하면 이어서 채점합니다.",
    },
    "grade_batch_partial": {
        "en": "Regraded {regraded}; kept {kept} from each learner's earlier record (CSV, feedback and totals include both).",
        "ko": "{regraded} 를 다시 채점했고, {kept} 는 학습자마다 이전 기록을 유지했습니다 (CSV, 피드백, 총점에 둘 다 들어 있습니다).",
    },
    "feedback_error": {
        "en": "This submission could not be graded; your instructor has been told. What happened:",
        "ko": "이 제출물은 채점할 수 없었습니다. 강사에게 알렸습니다. 일어난 일:",
    },
    "feedback_col_kata": {"en": "kata", "ko": "카타"},
    "feedback_col_points": {"en": "points", "ko": "점수"},
    "feedback_col_tests": {"en": "tests passed", "ko": "통과한 테스트"},
    "summary_title": {"en": "Class summary", "ko": "반 전체 요약"},
    "summary_learners": {
        "en": "{n} learners graded, {errors} could not be graded.",
        "ko": "학습자 {n} 명 채점, {errors} 명 채점 불가.",
    },
    "summary_col_mean": {"en": "mean", "ko": "평균"},
    "summary_col_done": {"en": "learners done", "ko": "완료한 학습자"},
    "summary_col_causes": {"en": "most common likely causes", "ko": "가장 흔한 짐작 원인"},
    "summary_plot_mean": {"en": "mean score (share of the kata's points)", "ko": "평균 점수 (카타 만점 대비)"},
    "summary_plot_done": {"en": "learners done (every point)", "ko": "완료한 학습자 (만점)"},
    "summary_errors": {"en": "Could not be graded: {names}", "ko": "채점할 수 없었던 제출물: {names}"},
    "csv_learner": {"en": "learner", "ko": "학습자"},
    "csv_total": {"en": "total", "ko": "총점"},
    "csv_max_score": {"en": "max_score", "ko": "만점"},
    "csv_graded_at": {"en": "graded_at", "ko": "채점_시각"},
    "csv_content_hash": {"en": "content_hash", "ko": "내용_해시"},
    "csv_error": {"en": "error", "ko": "오류"},
    "grade_config_in_target": {
        "en": "--grade: pytest read its settings from {file}, inside the submission {target}. Run from the backprop-katas project folder (the one with katas.toml). Nothing was graded.",
        "ko": "--grade: pytest 가 제출물 {target} 안의 {file} 에서 설정을 읽었습니다. backprop-katas 프로젝트 폴더(katas.toml 이 있는 폴더)에서 실행하세요. 아무것도 채점하지 않았습니다.",
    },
    "grade_no_project": {
        "en": "--grade: pytest's root folder {rootdir} holds no katas.toml. Run from the backprop-katas project folder, or name its tests (pytest PROJECT/tests --target=PATH --grade). Nothing was graded.",
        "ko": "--grade: pytest 의 루트 폴더 {rootdir} 에 katas.toml 이 없습니다. backprop-katas 프로젝트 폴더에서 실행하거나 그 테스트 경로를 적으세요 (pytest PROJECT/tests --target=PATH --grade). 아무것도 채점하지 않았습니다.",
    },
    "grade_nothing_graded": {
        "en": "--grade: no kata test was graded, so no results.json was written (a grade of 0 / 0 would mean nothing).",
        "ko": "--grade: 채점한 카타 테스트가 없어 results.json 을 쓰지 않았습니다 (0 / 0 점은 아무 뜻이 없습니다).",
    },
    "export_done": {
        "en": "Wrote the learner bundle to {folder} ({files} files, no solutions/, no self-checks).",
        "ko": "학습자용 묶음을 {folder} 에 썼습니다 (파일 {files} 개, solutions/ 와 자체 검사 제외).",
    },
    "export_checked": {
        "en": "Checked the bundle: {tests} tests ran, every kata fails with its stub message.",
        "ko": "묶음을 검사했습니다: 테스트 {tests} 개가 실행되었고, 모든 카타가 스텁 메시지로 실패합니다.",
    },
    "export_check_failed": {
        "en": "The bundle does not work as handed out: {detail}",
        "ko": "묶음이 배포할 수 있는 상태가 아닙니다: {detail}",
    },
    # --- Jupyter and Colab (notebook.py) ---------------------------------------------------
    "nb_done": {
        "en": "{kata} · {title}: done, all {total} checks pass.",
        "ko": "{kata} · {title}: 완료, 검사 {total} 개를 모두 통과했습니다.",
    },
    "nb_failing": {
        "en": "{kata} · {title}: not yet, {passed} of {total} checks pass.",
        "ko": "{kata} · {title}: 아직입니다. 검사 {total} 개 중 {passed} 개를 통과했습니다.",
    },
    "nb_other": {"en": "{kata} · {title}: {status}.", "ko": "{kata} · {title}: {status}."},
    "nb_saved": {
        "en": "This cell was saved as {file}; `katas`, `pytest` and grading check that file.",
        "ko": "이 셀을 {file} 로 저장했습니다. `katas`, `pytest`, 채점 모두 이 파일을 검사합니다.",
    },
    "nb_backup": {
        "en": "The file's previous text is kept in {file}.",
        "ko": "파일의 이전 내용은 {file} 에 보관했습니다.",
    },
    "nb_look_cell": {
        "en": "Look at line {line} of the %%kata {kata} cell (counting the %%kata line as 1; {file}:{file_line}):",
        "ko": "%%kata {kata} 셀의 {line} 번째 줄을 보세요 (%%kata 줄이 1 번째; {file}:{file_line}):",
    },
    "nb_look_elsewhere": {"en": "Look at {where}.", "ko": "{where} 을(를) 보세요."},
    "nb_more_hints": {
        "en": "Another hint: run %kata hint {kata} in a cell.",
        "ko": "힌트를 더 보려면 셀에서 %kata hint {kata} 를 실행하세요.",
    },
    "nb_hint_last": {"en": "That was the last hint.", "ko": "마지막 힌트였습니다."},
    "nb_next": {
        "en": "Next: the %%kata {kata} cell.",
        "ko": "다음: %%kata {kata} 셀.",
    },
    "nb_bad_lang": {
        "en": "--lang {lang}: choose one of {langs}.",
        "ko": "--lang {lang}: {langs} 중 하나를 고르세요.",
    },
    "nb_project_created": {
        "en": "Made {folder} a kata project (katas/, tests/, katas.toml): the notebook, `katas` and `pytest` share katas/.",
        "ko": "{folder} 를 카타 프로젝트로 만들었습니다 (katas/, tests/, katas.toml). 노트북, `katas`, `pytest` 가 katas/ 를 함께 씁니다.",
    },
    "nb_no_project_data": {
        "en": "This backprop-katas install has no kata data ({folder} is missing). Install it from a wheel or the repository, not as a bare copy of src/.",
        "ko": "이 backprop-katas 설치에는 카타 자료가 없습니다 ({folder} 없음). src/ 만 복사하지 말고 휠이나 저장소에서 설치하세요.",
    },
    "nb_usage": {
        "en": "Usage: %%kata k01 (a cell: save it as the kata file and check it) · %kata (progress) · %kata k01 (check again) · %kata hint k01 (one more hint) · %kata plot (the XOR figure from your train) · add --lang en or --lang ko.",
        "ko": "사용법: %%kata k01 (셀: 카타 파일로 저장하고 검사) · %kata (진행 상황) · %kata k01 (다시 검사) · %kata hint k01 (힌트 하나 더) · %kata plot (여러분의 train 으로 그린 XOR 그림) · --lang en 또는 --lang ko 를 붙일 수 있습니다.",
    },
    "nb_empty_cell": {
        "en": "This %%kata {kata} cell is empty: nothing was saved. Paste the kata's code back (or `katas reset {kata}`).",
        "ko": "이 %%kata {kata} 셀이 비어 있어 아무것도 저장하지 않았습니다. 카타 코드를 다시 넣으세요 (또는 `katas reset {kata}`).",
    },
    "nb_cell_too_large": {
        "en": "The %%kata cell for {kata} is larger than {limit} kB: that is not a kata file.",
        "ko": "{kata} 의 %%kata 셀이 {limit} kB 보다 큽니다. 카타 파일이 아닙니다.",
    },
    "nb_no_stub": {
        "en": "No stub for {kata}: neither solutions/ nor .stubs/ has it.",
        "ko": "{kata} 의 빈 틀이 없습니다: solutions/ 에도 .stubs/ 에도 없습니다.",
    },
    "nb_install_comment": {
        "en": "Install backprop-katas and load the %kata magics (a fresh Colab runtime needs this once).",
        "ko": "backprop-katas 를 설치하고 %kata 매직을 불러옵니다 (새 Colab 런타임에서 한 번).",
    },
    "nb_md_install": {
        "en": "**Run this cell first.** It installs backprop-katas and loads the `%kata` magics, then shows your progress. Colab already has PyTorch; elsewhere install a CPU build first (about 200 MB, no GPU needed): `%pip install torch --index-url https://download.pytorch.org/whl/cpu`. Your code is saved in `katas/` next to this notebook.",
        "ko": "**이 셀을 먼저 실행하세요.** backprop-katas 를 설치하고 `%kata` 매직을 불러온 뒤 진행 상황을 보여 줍니다. Colab 에는 PyTorch 가 이미 있습니다. 다른 곳에서는 CPU 판을 먼저 설치하세요 (약 200 MB, GPU 불필요): `%pip install torch --index-url https://download.pytorch.org/whl/cpu`. 코드는 이 노트북 옆의 `katas/` 에 저장됩니다.",
    },
    "nb_md_task": {
        "en": "**Task** (chapter {chapter}): {task}",
        "ko": "**할 일** (교재 {chapter}): {task}",
    },
    "nb_md_functions": {"en": "**What to write:**", "ko": "**작성할 것:**"},
    "nb_md_write": {
        "en": "Replace each `raise NotImplementedError(...)` in the cell below with your code and run the cell (Shift+Enter). It saves the cell as `{file}` and checks it: the first failing check, the line of this cell to look at, the likely cause. Keep the first line `%%kata {kata}`.",
        "ko": "아래 셀의 `raise NotImplementedError(...)` 를 여러분의 코드로 바꾸고 셀을 실행하세요 (Shift+Enter). 셀을 `{file}` 로 저장하고 검사해서, 처음 실패한 검사, 이 셀에서 볼 줄, 짐작되는 원인을 보여 줍니다. 첫 줄 `%%kata {kata}` 는 그대로 두세요.",
    },
    "nb_md_check": {
        "en": "Check the saved file again (without saving the cell):",
        "ko": "저장된 파일을 다시 검사합니다 (셀을 저장하지 않고):",
    },
    "nb_md_hint": {
        "en": "Stuck? One more hint each time you run this:",
        "ko": "막혔나요? 실행할 때마다 힌트가 하나씩 더 나옵니다:",
    },
    "nb_md_demo": {
        "en": "The chapter's figure from your own `train`: your loss curve beside the reference trainer's, and the decision boundary net(x) ≥ 0.5 over the unit square (about 10 s).",
        "ko": "여러분의 `train` 으로 그린 교재의 그림: 기준 학습기와 나란히 놓은 손실 곡선, 단위 정사각형 위의 결정 경계 net(x) ≥ 0.5 (약 10 초).",
    },
    "nb_md_chapter_title": {
        "en": "# Backpropagation katas (section 2.2.6)\n\n{count} katas, from one derivative to training the XOR network. Run the first code cell, then work through the `%%kata` cells in order.",
        "ko": "# 오차역전파 카타 (2.2.6 절)\n\n미분 하나에서 XOR 네트워크 학습까지 {count} 개의 카타입니다. 첫 코드 셀을 실행한 뒤 `%%kata` 셀을 차례로 푸세요.",
    },
    "nb_md_progress": {"en": "Your progress over all katas:", "ko": "모든 카타의 진행 상황:"},
    "nb_written": {
        "en": "wrote {count} notebooks in {folder}",
        "ko": "{folder} 에 노트북 {count} 개를 썼습니다",
    },
    "nb_install_placeholder": {
        "en": "The install cell uses the placeholder {spec}: pass --install with your wheel's URL or your repository (e.g. --install 'backprop-katas @ git+https://github.com/you/backprop-katas').",
        "ko": "설치 셀이 자리표시자 {spec} 을(를) 씁니다. --install 에 휠 URL 이나 저장소를 주세요 (예: --install 'backprop-katas @ git+https://github.com/you/backprop-katas').",
    },
    "nb_needs_nbformat": {
        "en": "reading notebooks needs nbformat: pip install 'backprop-katas[notebook]'",
        "ko": "노트북을 읽으려면 nbformat 이 필요합니다: pip install 'backprop-katas[notebook]'",
    },
    "nb_not_regular": {"en": "not a regular file", "ko": "일반 파일이 아닙니다"},
    "nb_too_large": {"en": "larger than {limit} MB", "ko": "{limit} MB 보다 큽니다"},
    "nb_unreadable": {
        "en": "not graded: cannot be read as a notebook: {error}",
        "ko": "채점하지 않음: 노트북으로 읽을 수 없습니다: {error}",
    },
    "nb_duplicate": {
        "en": "not graded: {file} was already taken from {first}",
        "ko": "채점하지 않음: {file} 은(는) 이미 {first} 에서 가져왔습니다",
    },
    "nb_cells_ignored": {
        "en": "{notebook}: cells {cells} (not %%kata cells)",
        "ko": "{notebook}: 셀 {cells} (%%kata 셀이 아님)",
    },
    "cli_help_notebook": {
        "en": "write the notebooks to hand out: one .ipynb per kata and chapter.ipynb (Jupyter, Colab)",
        "ko": "나눠 줄 노트북을 씁니다: 카타마다 .ipynb 하나와 chapter.ipynb (Jupyter, Colab)",
    },
    "cli_help_notebook_out": {"en": "folder for the notebooks", "ko": "노트북을 쓸 폴더"},
    "cli_help_install": {
        "en": "what the first cell pip-installs (a wheel URL or 'backprop-katas @ git+URL'); 'none': no install line",
        "ko": "첫 셀이 pip 로 설치할 것 (휠 URL 또는 'backprop-katas @ git+URL'); 'none': 설치 줄 없음",
    },
    "export_katas_changed": {
        "en": "katas/ is not what `katas generate` makes from solutions/, so the bundle would ship it: {files}. Run `katas generate --force` (or `katas reset KATA`) first. Nothing was written.",
        "ko": "katas/ 가 `katas generate` 가 solutions/ 에서 만드는 것과 다르므로 묶음에 그대로 들어갑니다: {files}. 먼저 `katas generate --force` (또는 `katas reset KATA`) 를 실행하세요. 아무것도 쓰지 않았습니다.",
    },
    "cli_solution_not_shipped": {
        "en": "This copy has no reference solutions (solutions/{file} is not here). Your instructor can ship them with `katas export --with-solutions`; they open once your kata passes.",
        "ko": "이 사본에는 모범 답안이 없습니다 (solutions/{file} 이 없음). 강사가 `katas export --with-solutions` 로 함께 배포할 수 있으며, 카타를 통과하면 열립니다.",
    },
    "gradescope_done": {
        "en": "Wrote {zip} ({files} files) in {seconds:.1f} s. Upload it as the autograder of a Gradescope programming assignment.",
        "ko": "{zip} 를 썼습니다 (파일 {files} 개, {seconds:.1f} 초). Gradescope 프로그래밍 과제의 autograder 로 올리세요.",
    },
    "gradescope_wheel_failed": {
        "en": "Could not build the tool's wheel from this checkout: {detail}",
        "ko": "이 체크아웃에서 도구의 휠을 만들 수 없었습니다: {detail}",
    },
    "gradescope_no_hidden": {
        "en": "--hidden-tests {folder}: not a folder.",
        "ko": "--hidden-tests {folder}: 폴더가 아닙니다.",
    },
    "gradescope_not_graded": {
        "en": "The submission could not be graded ({detail}). Please tell your instructor.",
        "ko": "제출물을 채점할 수 없었습니다 ({detail}). 강사에게 알려 주세요.",
    },
    "export_not_empty": {
        "en": "{folder} exists and is not empty; choose a new folder.",
        "ko": "{folder} 가 이미 있고 비어 있지 않습니다. 새 폴더를 고르세요.",
    },
}


def lang() -> str:
    value = os.environ.get("KATAS_LANG", "both").strip().lower()
    return value if value in ("en", "ko", "both") else "both"


# Short noun phrases the judges name values with ("what" in the sentences above).
PHRASES: dict[str, str] = {
    "The result": "결과",
    "The prediction": "예측",
    "The count": "개수",
    "The parameter names": "매개변수 이름",
    "The parameter shapes": "매개변수 모양",
    "The submodules [name, type], in creation order": "하위 모듈 [이름, 종류] (만든 순서)",
    "The name": "이름",
    "The flags": "플래그",
    "The dict's keys": "dict 의 키",
    "The logged steps": "기록된 단계",
    "The logged losses": "기록된 손실",
    "The loss table (4 decimals)": "손실 표 (소수 넷째 자리)",
    "The loss of the trained weights": "학습된 가중치의 손실",
    "The trained network's predictions": "학습된 네트워크의 예측",
    "The defaults": "기본값",
    "net(x)": "net(x)",
}


class Msg:
    """A sentence not yet rendered: usable as a field of another, rendered per language.

    A plain string field that is a known phrase (PHRASES) is rendered in the language too.
    """

    def __init__(self, key: str, **fields: object) -> None:
        if key not in MESSAGES:
            raise KeyError(f"no message {key!r}")
        self.key = key
        self.fields = fields

    def render(self, language: str) -> str:
        values = {k: _field(v, language) for k, v in self.fields.items()}
        return MESSAGES[self.key][language].format(**values)

    def __str__(self) -> str:
        mode = lang()
        if mode == "both":
            return self.render("en") + "\n" + self.render("ko")
        return self.render(mode)


def _field(value: object, language: str) -> object:
    if isinstance(value, Msg):
        return value.render(language)
    if language == "ko" and isinstance(value, str):
        return PHRASES.get(value, value)
    return value


def msg(key: str, **fields: object) -> Msg:
    return Msg(key, **fields)


def say(key: str, **fields: object) -> str:
    """One sentence in the chosen language(s); ``both`` puts Korean on the line below."""
    return str(Msg(key, **fields))


def fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
