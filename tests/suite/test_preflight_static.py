"""The preflight's static reading of a hidden test, in this process: which probes it hands `run`.

An honest test may bind a kit probe to a name first (``probe = P.manual_gradients``, as the
hostile suite's hidden test does inside a try block); only a probe defined in the test file
(a ``def``, a ``lambda``, a name assigned anything else) is the instructor's mistake."""

from __future__ import annotations

import textwrap

import pytest
from grading_helpers import CATALOG, ROOT

from backprop_katas.grading.preflight import probe_problems

HEAD = "import numpy as np\nimport pytest\nfrom backprop_katas.kit.probes import k05_backprop as P\nKATA = 'k05_backprop'\n"


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        ("def test_a(run):\n    run(P.manual_gradients, 1)\n", False),
        ("probe = P.manual_gradients\ndef test_a(run):\n    run(probe, 1)\n", False),
        (
            "try:\n    probe = P.manual_gradients\nexcept ImportError:\n    probe = None\n"
            "def test_a(run):\n    run(probe, 1)\n",
            False,
        ),
        ("def probe(target):\n    return 1\ndef test_a(run):\n    run(probe, 1)\n", True),
        ("def test_a(run):\n    run(lambda target: 1, 1)\n", True),
        ("probe = print\ndef test_a(run):\n    run(probe, 1)\n", True),
    ],
    ids=["kit-probe", "bound-to-a-name", "bound-in-a-try", "own-def", "lambda", "assigned-anything-else"],
)
def test_a_kit_probe_under_another_name_passes_and_an_own_probe_is_refused(tmp_path, body, refused):
    path = tmp_path / "test_k05_hidden.py"
    path.write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    problems = probe_problems(path, CATALOG, ROOT)
    assert bool(problems) is refused, problems
