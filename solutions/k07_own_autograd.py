r"""k07 · TODO(katas new): the title / the title in Korean (chapter code TODO(katas new)).

TODO(katas new): what the learner builds and why it matters for backpropagation, in English,
then in Korean.
"""

from __future__ import annotations

import torch


def todo_function(x: torch.Tensor) -> torch.Tensor:
    r"""TODO(katas new): the task in one line (the stub's NotImplementedError shows it).

    TODO(katas new): what x is and what comes back, in English with Korean beside. Rename
    todo_function here, in katas.toml (functions, weights), in the probe and in the test.
    """
    # BEGIN SOLUTION
    raise NotImplementedError("TODO(katas new): the reference solution of k07_own_autograd")
    # END SOLUTION
