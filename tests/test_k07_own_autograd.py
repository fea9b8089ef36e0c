"""k07 · TODO(katas new): the title, and what its tests hold the learner's code to."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_katas.kit.probes import k07_own_autograd as P

KATA = "k07_own_autograd"

# The contract of every public function: what the tests below hold it to.
CONTRACTS = {
    "todo_function": {
        "inputs": "TODO(katas new)",
        "values": "TODO(katas new): extremes included",
        "returns": "TODO(katas new): exact types and shapes",
        "aliasing": "TODO(katas new)",
        "side effects": "TODO(katas new)",
        "forbidden": "TODO(katas new)",
    },
}


@pytest.mark.part("todo_function")
def test_todo_function_matches_its_oracle(run):
    x = np.random.default_rng(0).uniform(-5.0, 5.0, (3, 4))  # seeded random inputs
    got = run(P.todo_function, x.tolist(), "float64")
    pytest.fail(f"TODO(katas new): judge {got!r} against an oracle from backprop_katas.kit.oracles (expect ...)")
