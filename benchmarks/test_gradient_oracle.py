"""The gradient judge against torch.autograd.gradcheck, timed side by side; the mutants each catches.

See gradient_oracle.py for what each side does. Times are per function, every input
set of its kata tests on the reference solutions, in this process (learner mode).
"""

from __future__ import annotations

from typing import Any

import gradient_oracle as G
import pytest
import torch

from backprop_katas.kit.loader import Target

torch.set_num_threads(1)  # small tensors; and the mutant table forks children that must not inherit a busy pool
CASES = G.cases()
REFERENCE = Target("solutions", G.SOLUTIONS)


def _oracle(measured: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return measured.setdefault("gradient oracle", {"times": {}})


@pytest.mark.parametrize("side", ["judge", "gradcheck"])
@pytest.mark.parametrize("function", G.FUNCTIONS, ids=lambda f: f.split("_", 1)[0] + "." + f.split(".", 1)[1])
def test_gradient_check(
    benchmark: Any, request: pytest.FixtureRequest, measured: Any, function: str, side: str
) -> None:
    mine = [c for c in CASES if c.function == function]
    work = G.judge_all if side == "judge" else G.gradcheck_all
    benchmark.group = f"gradient oracle: {function}"
    result = benchmark.pedantic(
        work,
        args=(mine, REFERENCE),
        rounds=request.config.getoption("--bench-rounds") * 3,
        iterations=1,
        warmup_rounds=1,
    )
    assert result is None
    times = _oracle(measured)["times"].setdefault(function, {})
    if benchmark.stats is not None:  # None under --benchmark-disable: the work ran once, untimed
        times[side] = benchmark.stats.stats.median


def test_which_mutants_each_catches(benchmark: Any, measured: Any) -> None:
    rows: list[dict[str, str]] = []
    benchmark.group = "gradient oracle: the mutant table (once)"
    benchmark.pedantic(lambda: rows.extend(G.mutant_table(CASES)), rounds=1, iterations=1)
    oracle = _oracle(measured)
    oracle.update(
        rows=rows, summary=G.summary(rows), table=G.render_rows(rows), saturated_reference=G.saturated_reference()
    )
    missed = oracle["summary"]["gradcheck catches, the kata tests miss"]
    assert not missed, f"gradcheck catches mutants the kata tests miss: {missed}"
