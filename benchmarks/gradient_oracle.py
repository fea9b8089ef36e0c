"""The tool's gradient judge against ``torch.autograd.gradcheck``: time, and which mutants each catches.

    python benchmarks/gradient_oracle.py          # the table of mutants, and one timing of each side
    pytest benchmarks/ --benchmark-only           # the same, timed by pytest-benchmark (see conftest.py)

For each by-hand gradient function (k03's ``z_prime``, ``t_prime``, ``backward``,
``gradients``; k05's ``manual_gradients`` and ``SigmoidFunction.backward``):

- **judge**: the kata tests that hold the function to float64 central differences
  (``kit/oracles.py``) and to its contract (``kit/judge.py``: values, shapes, the
  caller's inputs, aliasing), called as pytest calls them, on their own seeded
  float64 inputs;
- **gradcheck**: ``torch.autograd.gradcheck`` (its defaults: eps 1e-6, atol 1e-5,
  rtol 1e-3) on the same function and the same inputs. A by-hand gradient becomes
  an ``autograd.Function`` whose forward is the true function (t², (x + y)², the
  mean BCE of the network) and whose backward calls the learner's function, the
  way one would put a hand-written gradient under gradcheck; ``SigmoidFunction``
  is one already.

A mutant is caught by the judge when one of its kata tests fails. The probes run
in a fresh child, as under ``--grade``, so a submission that ends its process
(``os._exit(0)``) fails the judge's test for want of data; gradcheck's verdict
lives in the learner's process, so there it ends the check with exit status 0
and no verdict. The kata test also reads the file first (``kit/shortcuts.py``,
"source check"): shown in its own column.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import select
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch

from backprop_katas.kit import oracles as O
from backprop_katas.kit import shortcuts
from backprop_katas.kit.loader import Target
from backprop_katas.kit.runner import InProcessRunner, ProbeFailed
from backprop_katas.kit.shortcuts import by_hand_rules

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
K03, K05 = "k03_computation_graph", "k05_backprop"
CHILD_SECONDS = 120.0  # one mutant's checks on one side; the reference takes well under a second


def _load_tests(name: str) -> ModuleType:
    """A kata test file as a module of its own (its inputs and test functions are the judge)."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", ROOT / "tests" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


T3 = _load_tests("test_k03_computation_graph")
T5 = _load_tests("test_k05_backprop")

Run = Callable[..., Any]


@dataclass(frozen=True)
class Case:
    """One input set of one function: the kata tests on it (judge) and gradcheck on it."""

    function: str  # "k05_backprop.manual_gradients"
    label: str
    judge: Callable[[Run], None]
    gradcheck: Callable[[Target], bool] | None  # None: gradcheck cannot judge this input (see ``why``)
    why: str = ""


# --- gradcheck on the same functions ---------------------------------------------------------


def _t64(array: Any, grad: bool = True) -> torch.Tensor:
    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=grad)


def gradcheck(fn: Callable[..., Any], inputs: Sequence[torch.Tensor]) -> bool:
    """torch.autograd.gradcheck with its defaults, looked up when called (as a test would)."""
    return bool(torch.autograd.gradcheck(fn, tuple(inputs)))


def _square_with(derivative: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    """z = t² whose backward multiplies the incoming gradient by ``derivative(t)`` (learner code)."""

    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, t: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(t)
            return t**2

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
            (t,) = ctx.saved_tensors
            return grad * derivative(t)

    return Square.apply  # type: ignore[no-any-return]


def square_node(module: ModuleType) -> Callable[[torch.Tensor], torch.Tensor]:
    """z = t² with the learner's ``z_prime`` as its backward."""
    return _square_with(lambda t: module.z_prime(t))


def chain_node(module: ModuleType, y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """z = (x + y)² in x, y fixed, with the learner's ``backward(t)`` as its backward."""

    class Chain(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
            t = x + y
            ctx.save_for_backward(t)
            return t**2

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
            (t,) = ctx.saved_tensors
            return grad * module.backward(t)

    return Chain.apply  # type: ignore[no-any-return]


def graph_node(module: ModuleType, name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """z = (x + y)² with the learner's ``gradients(x, y)`` as its backward; ``name="t_prime"``: t = x + y
    with ``t_prime()`` on both edges."""

    class Graph(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(x, y)
            return x + y if name == "t_prime" else (x + y) ** 2

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x, y = ctx.saved_tensors
            if name == "t_prime":
                return grad * module.t_prime(), grad * module.t_prime()
            dx, dy = module.gradients(x, y)
            return grad * dx, grad * dy

    return Graph.apply  # type: ignore[no-any-return]


def bce_node(module: ModuleType, x: np.ndarray, t: np.ndarray) -> Callable[..., torch.Tensor]:
    """The mean BCE of the chapter's network as a function of its four parameters, with the learner's
    ``manual_gradients(net, x, t)`` as its backward."""
    xt, tt = _t64(x, grad=False), _t64(t, grad=False)

    class Loss(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, *params: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(*params)
            w1, b1, w2, b2 = params
            y = torch.sigmoid(torch.sigmoid(xt @ w1.T + b1) @ w2.T + b2)
            return torch.nn.functional.binary_cross_entropy(y.view(-1), tt)

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, ...]:
            values = {n: p.detach().numpy() for n, p in zip(O.PARAM_NAMES, ctx.saved_tensors)}
            net = O.network_from_params(values, "float64")
            grads = module.manual_gradients(net, xt, tt)
            return tuple(grad * grads[n] for n in O.PARAM_NAMES)

    return Loss.apply  # type: ignore[no-any-return]


def _params(params: dict[str, np.ndarray]) -> list[torch.Tensor]:
    return [_t64(params[n]) for n in O.PARAM_NAMES]


# --- the cases: the kata tests' own inputs (float64) ----------------------------------------------


# k03's shapes and seeded pairs as its tests draw them (rng.uniform(-4, 4) twice from default_rng(seed)): the
# test functions are called with these, and gradcheck gets the same arrays.
K03_SHAPES = [(1,), (6,), (3, 4), (2, 2, 3)]


def pair(seed: int, shape: tuple[int, ...], dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-4, 4, shape).astype(dtype), rng.uniform(-4, 4, shape).astype(dtype)


def cases() -> list[Case]:
    found: list[Case] = []
    for shape in K03_SHAPES:
        s = f"shape {list(shape)}"
        t, _ = pair(2, shape, "float64")
        found.append(
            Case(
                f"{K03}.z_prime",
                s,
                lambda run, shape=shape: T3.test_z_prime_matches_finite_differences(run, shape, "float64"),
                lambda target, t=t: gradcheck(square_node(target.module(K03)), [_t64(t)]),
            )
        )
        x, y = pair(3, shape, "float64")
        found.append(
            Case(
                f"{K03}.backward",
                s,
                lambda run, shape=shape: T3.test_backward_matches_finite_differences_of_z_in_x(run, shape, "float64"),
                lambda target, x=x, y=y: gradcheck(chain_node(target.module(K03), _t64(y, False)), [_t64(x)]),
            )
        )
        x, y = pair(4, shape, "float64")
        found.append(
            Case(
                f"{K03}.gradients",
                s,
                lambda run, shape=shape: T3.test_gradients_match_finite_differences(run, shape, "float64"),
                lambda target, x=x, y=y: gradcheck(graph_node(target.module(K03), "gradients"), [_t64(x), _t64(y)]),
            )
        )
    x, y = pair(4, (3, 4), "float64")
    found.append(
        Case(
            f"{K03}.t_prime",
            "t_prime() (gradcheck: shape [3, 4])",
            lambda run: (T3.test_t_prime_is_one(run), T3.test_t_prime_is_a_plain_python_number(run))[0],
            lambda target: gradcheck(graph_node(target.module(K03), "t_prime"), [_t64(x), _t64(y)]),
        )
    )
    # The contract test: the caller's tensors untouched, no result aliased, on shape [2, 3].
    x, y = pair(7, (2, 3), "float64")
    contract: dict[str, Callable[[Target], bool]] = {
        "z_prime": lambda target: gradcheck(square_node(target.module(K03)), [_t64(x)]),
        "backward": lambda target: gradcheck(square_node_of_backward(target.module(K03)), [_t64(x)]),
        "gradients": lambda target: gradcheck(graph_node(target.module(K03), "gradients"), [_t64(x), _t64(y)]),
    }
    for name, check in contract.items():
        found.append(
            Case(
                f"{K03}.{name}",
                "contract, shape [2, 3]",
                lambda run, name=name: T3.test_no_function_writes_into_its_inputs_or_returns_them(run, name, "float64"),
                check,
            )
        )

    for input_size, hidden_size, batch in T5.SIZES:
        for seed in (1, 2):
            params, xs, ts = T5.problem(seed, input_size, hidden_size, batch)
            found.append(
                Case(
                    f"{K05}.manual_gradients",
                    f"Network({input_size}, {hidden_size}, 1), batch {batch}, seed {seed}",
                    lambda run, a=(input_size, hidden_size, batch, seed): (
                        T5.test_manual_gradients_match_finite_differences(run, *a)
                    ),
                    lambda target, p=params, xs=xs, ts=ts: gradcheck(bce_node(target.module(K05), xs, ts), _params(p)),
                )
            )
    for input_size, hidden_size, batch in [(2, 2, 1), (3, 4, 1), (2, 3, 5), (5, 2, 9)]:
        params, xs, ts = T5.soft_problem(batch + input_size, input_size, hidden_size, batch)
        found.append(
            Case(
                f"{K05}.manual_gradients",
                f"Network({input_size}, {hidden_size}, 1), batch {batch}, soft targets",
                lambda run, a=(input_size, hidden_size, batch): T5.test_manual_gradients_for_any_batch_and_soft_targets(
                    run, *a
                ),
                lambda target, p=params, xs=xs, ts=ts: gradcheck(bce_node(target.module(K05), xs, ts), _params(p)),
            )
        )
    found.append(
        Case(
            f"{K05}.manual_gradients",
            "saturated outputs (closed-form oracle)",
            lambda run: T5.test_manual_gradients_stay_finite_when_the_outputs_saturate(run, "float64"),
            None,
            "finite differences of BCE's clamped log are wrong where y rounds to 0 or 1: "
            "gradcheck rejects the reference solution here (see saturated_reference)",
        )
    )
    sigmoid_inputs = (
        [
            (
                "forward and backward",
                shape,
                np.random.default_rng(4).uniform(-6, 6, shape),
                lambda run, shape=shape: T5.test_sigmoid_function_forward_and_backward(run, shape),
            )
            for shape in [(5,), (3, 4)]
        ]
        + [
            (
                "vector-Jacobian products",
                shape,
                np.random.default_rng(5).uniform(-4, 4, shape),
                lambda run, shape=shape: T5.test_sigmoid_function_passes_gradcheck(run, shape),
            )
            for shape in [(6,), (2, 3)]
        ]
        + [
            (
                "extremes ±1000",
                (len(T5.SIGMOID_EXTREMES),),
                np.array(T5.SIGMOID_EXTREMES),
                lambda run: T5.test_sigmoid_function_stays_finite_at_the_extremes(run, "float64"),
            )
        ]
    )
    for what, shape, xs, judge in sigmoid_inputs:
        found.append(
            Case(
                f"{K05}.SigmoidFunction.backward",
                f"{what}, shape {list(shape)}",
                judge,
                lambda target, xs=xs: gradcheck(target.module(K05).SigmoidFunction.apply, [_t64(xs)]),
            )
        )
    return found


def square_node_of_backward(module: ModuleType) -> Callable[[torch.Tensor], torch.Tensor]:
    """z = t² with the learner's ``backward(t)`` (dz/dx = dz/dt here, since dt/dx = 1) as its backward."""
    return _square_with(lambda t: module.backward(t))


# The by-hand functions of the katas this benchmark covers, from their one home (each probe
# module's BY_HAND); test_gradient_oracle.py fails on one without cases.
ORACLE_KATAS = (K03, K05)
FUNCTIONS = [f"{kata}.{name}" for kata in ORACLE_KATAS for name in by_hand_rules(kata)]


# --- running one side ------------------------------------------------------------------------------


def learner_run(target: Target) -> Run:
    """The kata tests' ``run`` fixture without its source check (that is a column of its own)."""
    runner = InProcessRunner(target)

    def run(probe: Callable[..., Any], *args: Any) -> Any:
        try:
            return runner.run(probe, *args)
        except ProbeFailed as failed:
            pytest.fail(failed.error.render(), pytrace=False)

    return run


def judge_all(selected: Sequence[Case], target: Target, run: Run | None = None) -> None:
    """Every selected case's kata tests; the first failure propagates."""
    run = run or learner_run(target)
    for case in selected:
        case.judge(run)


def gradcheck_all(selected: Sequence[Case], target: Target) -> None:
    for case in selected:
        if case.gradcheck is not None and not case.gradcheck(target):
            raise AssertionError(f"gradcheck returned False on {case.function}, {case.label}")


def saturated_reference() -> str:
    """What gradcheck says about the reference manual_gradients on the saturated test's inputs."""
    params, xs, ts = T5.saturating_problem("float64")
    module = Target("solutions", SOLUTIONS).module(K05)
    try:
        gradcheck(bce_node(module, xs, ts), _params(params))
    except Exception as failure:  # gradcheck raises GradcheckError on a mismatch
        return f"rejected ({str(failure).splitlines()[0].rstrip(',')[:120]})"
    return "passed"


# --- mutants: which side catches what -------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    id: str
    source: str  # "kata_mutants" or "shortcut_mutants"
    kata: str
    files: dict[str, str]  # kata id → the mutated file's text


def mutants() -> list[Mutant]:
    sys.path.insert(0, str(ROOT / "tests" / "suite"))
    try:
        import kata_mutants
        import shortcut_mutants
    finally:
        sys.path.remove(str(ROOT / "tests" / "suite"))
    found: list[Mutant] = []
    for m in kata_mutants.MUTANTS:
        if m.kata in ORACLE_KATAS:
            text = (SOLUTIONS / f"{m.kata}.py").read_text(encoding="utf-8")
            assert m.old in text, m.id
            found.append(Mutant(m.id, "kata_mutants", m.kata, {m.kata: text.replace(m.old, m.new)}))
    for s in [*shortcut_mutants.SHORTCUTS, *shortcut_mutants.GRADCHECK_ATTACKS]:
        if s.kata in ORACLE_KATAS:
            text = (SOLUTIONS / f"{s.kata}.py").read_text(encoding="utf-8")
            found.append(Mutant(s.id, "shortcut_mutants", s.kata, {s.kata: shortcut_mutants.apply(text, s)}))
    return found


@contextmanager
def submission(files: dict[str, str]) -> Iterator[Path]:
    """A copy of solutions/ with some files replaced."""
    folder = Path(tempfile.mkdtemp(prefix="katas-oracle-"))
    try:
        for path in SOLUTIONS.glob("k*.py"):
            shutil.copy(path, folder / path.name)
        for kata, text in files.items():
            (folder / f"{kata}.py").write_text(text, encoding="utf-8")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def in_child(work: Callable[[], Any], seconds: float = CHILD_SECONDS) -> tuple[str, Any]:
    """``work()`` in a forked child: ("ok", value), ("error", text), or ("exit", status) when the child
    ended without an answer (``os._exit``, a signal, the time limit)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer once, then leave without running the parent's clean-ups
        os.close(read)
        try:
            answer: tuple[str, Any] = ("ok", work())
        except BaseException as exc:  # a learner's error, or a failed check: both are answers
            answer = ("error", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200])
        with os.fdopen(write, "wb") as pipe:
            pickle.dump(answer, pipe)
        os._exit(0)
    os.close(write)
    data = b""
    deadline = time.monotonic() + seconds
    with os.fdopen(read, "rb") as pipe:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(pipe.fileno(), 1 << 16)
            if not chunk:
                break
            data += chunk
    if not data:
        os.kill(pid, signal.SIGKILL)  # still unreaped, so the pid is still this child's
    _, status = os.waitpid(pid, 0)
    if data:
        return pickle.loads(data)  # type: ignore[no-any-return]
    return "exit", os.waitstatus_to_exitcode(status)


class ForkedProbes:
    """The kata tests' ``run`` as under ``--grade``: each probe call in a fresh forked child, the judge here."""

    def __init__(self, target: Target) -> None:
        self.runner = InProcessRunner(target)

    def __call__(self, probe: Callable[..., Any], *args: Any) -> Any:
        kind, value = in_child(lambda: self.runner.run(probe, *args))
        if kind == "ok":
            return value
        if kind == "error":
            pytest.fail(value, pytrace=False)
        pytest.fail(f"the probe's process ended without an answer (exit status {value})", pytrace=False)


def verdicts(mutant: Mutant, selected: Sequence[Case]) -> dict[str, str]:
    """One mutant's row: "caught: why" or "missed" for each side, and the source check's verdict."""
    mine = [c for c in selected if c.function.startswith(mutant.kata)]
    with submission(mutant.files) as folder:
        target = Target(str(folder), folder)

        def judge() -> str:
            run = ForkedProbes(target)
            failures = []
            for function in dict.fromkeys(c.function for c in mine):  # the first failing case of each function
                for case in (c for c in mine if c.function == function):
                    try:
                        case.judge(run)
                    except BaseException:  # pytest.fail's Failed is a BaseException
                        failures.append(f"{function.split('.', 1)[1]} ({case.label})")
                        break
            return "caught: " + "; ".join(failures) if failures else "missed"

        def by_gradcheck() -> str:
            failures = []
            for function in dict.fromkeys(c.function for c in mine):
                for case in (c for c in mine if c.function == function and c.gradcheck is not None):
                    assert case.gradcheck is not None
                    try:
                        verdict = "False" if not case.gradcheck(target) else ""
                    except BaseException as exc:
                        verdict = type(exc).__name__
                    if verdict:
                        failures.append(f"{function.split('.', 1)[1]} ({case.label}): {verdict}")
                        break
            return "caught: " + "; ".join(failures) if failures else "missed"

        row = {}
        for side, work in (("judge", judge), ("gradcheck", by_gradcheck)):
            kind, value = in_child(work)
            row[side] = (
                value
                if kind == "ok"
                else (f"no verdict: the process exited with status {value}" if kind == "exit" else f"caught: {value}")
            )
        findings = [
            shortcuts.check_by_hand(folder, mutant.kata, f.split(".", 1)[1])
            for f in FUNCTIONS
            if f.startswith(mutant.kata)
        ]
        findings.append(shortcuts.check_kata_file(folder, mutant.kata))
        row["source check"] = "refused" if any(findings) else "—"
    return row


def caught(cell: str) -> bool:
    return cell.startswith("caught")


def mutant_table(selected: Sequence[Case] | None = None) -> list[dict[str, str]]:
    selected = list(selected or cases())
    rows = []
    for mutant in mutants():
        row = {"mutant": mutant.id, "from": mutant.source, "kata": mutant.kata, **verdicts(mutant, selected)}
        row["kata test"] = "caught" if caught(row["judge"]) or row["source check"] == "refused" else "missed"
        rows.append(row)
    return rows


def summary(rows: Sequence[dict[str, str]]) -> dict[str, Any]:
    by_gradcheck = {r["mutant"] for r in rows if caught(r["gradcheck"])}
    by_judge = {r["mutant"] for r in rows if caught(r["judge"])}
    by_test = {r["mutant"] for r in rows if r["kata test"] == "caught"}
    return {
        "mutants": len(rows),
        "caught by gradcheck": len(by_gradcheck),
        "caught by the judge (values and contracts)": len(by_judge),
        "caught by the kata tests (judge or source check)": len(by_test),
        "gradcheck catches, the judge misses": sorted(by_gradcheck - by_judge),
        "gradcheck catches, the kata tests miss": sorted(by_gradcheck - by_test),
        "the judge catches, gradcheck misses": sorted(by_judge - by_gradcheck),
    }


def render_rows(rows: Sequence[dict[str, str]]) -> str:
    """The table as Markdown."""
    lines = [
        "| mutant | kata | judge (float64 central differences, contracts) | gradcheck | source check |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        kata = r["kata"].split("_")[0]
        lines.append(
            f"| `{r['mutant']}` ({r['from']}) | {kata} | {r['judge']} | {r['gradcheck']} | {r['source check']} |"
        )
    return "\n".join(lines)


def time_sides(selected: Sequence[Case], rounds: int = 5) -> dict[str, dict[str, float]]:
    """Median seconds of each side per function on the reference solutions (learner mode, in this process)."""
    target = Target("solutions", SOLUTIONS)
    times: dict[str, dict[str, float]] = {}
    for function in FUNCTIONS:
        mine = [c for c in selected if c.function == function]
        judged = []
        checked = []
        for _ in range(rounds):
            start = time.perf_counter()
            judge_all(mine, target)
            judged.append(time.perf_counter() - start)
            start = time.perf_counter()
            gradcheck_all(mine, target)
            checked.append(time.perf_counter() - start)
        times[function] = {"judge": float(np.median(judged)), "gradcheck": float(np.median(checked))}
    return times


def main() -> None:
    torch.set_num_threads(1)  # small tensors; and forked children must not inherit a busy thread pool
    selected = cases()
    for function, t in time_sides(selected).items():
        print(
            f"{function:40} judge {t['judge'] * 1000:8.1f} ms   gradcheck {t['gradcheck'] * 1000:8.1f} ms   "
            f"judge/gradcheck {t['judge'] / t['gradcheck']:.2f}"
        )
    print("gradcheck on the saturated case's reference:", saturated_reference())
    rows = mutant_table(selected)
    print(render_rows(rows))
    print(json.dumps(summary(rows), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
