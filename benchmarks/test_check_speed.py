"""How long checking one kata takes, beside the floor it cannot beat: starting Python with torch.

    pytest benchmarks/ --benchmark-only --benchmark-columns=min,median,max

Each round is a fresh process, as a learner's `katas` is. The groups put
`python -c "import torch"` beside each check, so the table reads as a ratio.
The cache is bypassed with --all except in the cached case.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KATAS = Path(sys.executable).with_name("katas")
ROUNDS = 5


def run(*argv: str) -> None:
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


CASES = {
    "python -c 'import torch'": (sys.executable, "-c", "import torch"),
    "katas check k01 (stub, first failure)": (str(KATAS), "check", "k01", "--all", "--lang", "en"),
    "katas check k01 (solutions, all 48 tests)": (
        str(KATAS),
        "check",
        "k01",
        "--all",
        "--target",
        "solutions",
        "--lang",
        "en",
    ),
    "pytest tests/test_k01_derivatives.py -x (no katas)": (
        sys.executable,
        "-m",
        "pytest",
        "tests/test_k01_derivatives.py",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
    ),
    "katas (cached, no child)": (str(KATAS), "--lang", "en"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_kata_against_importing_torch(benchmark, case):
    argv = CASES[case]
    benchmark.group = "checking one kata vs importing torch (s)"
    run(*argv)  # warm the OS file cache (and .katas-cache for the cached case)
    benchmark.pedantic(run, args=argv, rounds=ROUNDS, iterations=1)
