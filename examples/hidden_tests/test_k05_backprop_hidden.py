"""An example hidden test for k05 · Backpropagation by hand (README: "Hidden tests").

Try it on the reference first, then on the stubs (every test must be able to fail):

    pytest tests/test_k05_backprop.py --target=solutions --grade --hidden-tests=examples/hidden_tests
    pytest tests/test_k05_backprop.py --target=katas --grade --hidden-tests=examples/hidden_tests

The rules a hidden test follows:

- ``KATA = "k05_backprop"`` (or a file named ``test_k05_*.py``) says which kata it grades.
- ``@pytest.mark.part("manual_gradients")`` names one of the kata's parts in katas.toml: the
  part's share is earned only when its visible AND hidden tests all pass. A hidden test with
  no part, or a part the kata does not weight, stops grading with an error naming the test.
- Only a probe of the kit (``backprop_katas.kit.probes.kNN_*``) and the inputs the test passes
  reach the learner's process; a probe defined here fails with ``ProbeOutsideKit``.
- The judge (the comparison, the expected values) stays in this file, in the grader.
- It reads input → oracle → expect, with the kit kata tests use: seeded inputs
  (``backprop_katas.kit.inputs``), an oracle (``kit.oracles``), the candidate mistakes keyed
  by cause (``kit.mistakes``) so the failure can name one, the call as data (``kit.call``,
  shown in the learner's language) and the judges of ``kit.judge``.
- Learners see "k05_backprop · hidden test N" and the first line of the docstring, never the
  test's name, inputs or expected values; a part with a hidden test is shown on Gradescope
  once grades are published (``after_published``).
"""

import numpy as np
import pytest

from backprop_katas.kit import call as C
from backprop_katas.kit import mistakes as M
from backprop_katas.kit import oracles as O
from backprop_katas.kit.judge import as_sent, expect_gradients, expect_untouched
from backprop_katas.kit.probes import k05_backprop as P

KATA = "k05_backprop"


@pytest.mark.part("manual_gradients")
def test_manual_gradients_on_a_wide_hidden_layer(run):
    """manual_gradients is right for a wider network (5 inputs, 7 hidden units, batch 6)."""
    # input: seeded, so a hard-coded answer cannot pass
    rng = np.random.default_rng(20261127)
    params = O.random_xor_params(rng, 5, 7)
    x = rng.normal(size=(6, 5))
    t = rng.integers(0, 2, 6).astype(np.float64)
    # oracle: float64 central differences of the loss, and the one mistake the failure should name
    expected = O.numerical_gradient(lambda p: O.xor_loss(p, x, t), params)
    candidates = {name: {"cause_no_activation_derivative": value}
                  for name, value in M.without_activation_derivative(params, x, t).items()}  # fmt: skip
    # expect: the caller's network, x and t as they were, then the gradients
    out = run(P.manual_gradients, params, x, t, "float64")
    call = C.Call(f"{KATA}.manual_gradients(net, x, t)", C.network("net", (5, 7, 1), "float64"), C.batch("x, t", 6))
    before = {"net": out["net_before"], "x": as_sent(x), "t": as_sent(t)}
    after = {"net": out["net_after"], "x": out["x_after"], "t": out["t_after"]}
    expect_untouched(call, f"{KATA}.manual_gradients", before, after, out["globals"])
    expect_gradients(out["grads"], expected, O.FD64, call, dtype="float64", batch=6, candidates=candidates)
