"""The README's command stays fast: a self-check that starts a torch process carries `slow` (or an opt-in marker).

A test is `slow` when it starts a grading session, a cold `katas` or pytest command, a Jupyter
kernel or the warm server (each imports torch: seconds), or waits out a time limit. This reads
every test module: a test that calls one of the starters below, directly, through a helper of
its own module or through a fixture of its own module, must carry `slow` or an opt-in marker.
What it cannot see is marked by hand: a wait for a time limit, a pseudo-terminal, or an
in-process `cli.main([...])` whose check starts a child pytest.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import dotted

SUITE = Path(__file__).resolve().parent

# Calls that start a process importing torch, or a helper that does (grading_helpers, test helpers).
STARTERS = {
    "subprocess.run",
    "subprocess.Popen",
    "Popen",
    "runpytest_subprocess",
    "pytest_grade",
    "katas_cli",
    "graded_six",
    "warm_worker",
    "Worker",
    "served_check",
    "run_kata",
    "NotebookClient",
}
TIER_MARKERS = {"slow", "hostile", "gradescope", "cluster", "spellings", "docs"}
# Tests that start a process that imports no torch and ends in milliseconds.
NO_TORCH = {
    "test_core.py": {
        "test_kill_group_stops_the_child_and_what_it_started": "a `sleep` and its grandchild",
        "test_kill_group_takes_a_pid_and_a_group_that_is_gone_is_no_error": "a `sleep`",
        "test_kill_group_with_grace_asks_first_and_kills_a_child_that_ignores_it": "a shell that ignores SIGTERM",
        "test_kill_group_with_grace_lets_a_polite_child_end_on_sigterm": "a `sleep`",
    },
    "test_layers.py": {"test_the_katas_command_imports_no_torch_until_a_check_needs_it": "imports the CLI alone"},
}


def _marker_names(nodes: list[ast.expr]) -> set[str]:
    """`pytest.mark.slow`, `pytest.mark.parametrize(...)` → {"slow", "parametrize"}."""
    return {ast.unparse(n).split("(")[0].rsplit(".", 1)[-1] for n in nodes}


def unmarked_starters(source: str) -> list[str]:
    """Test functions in ``source`` that start a torch process and carry no tier marker."""
    tree = ast.parse(source)
    module_marks: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(dotted(t) == "pytestmark" for t in node.targets):
            value = node.value
            module_marks |= _marker_names(list(value.elts) if isinstance(value, (ast.List, ast.Tuple)) else [value])
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    starting: set[str] = set()
    grown = True
    while grown:  # helpers and fixtures of the module that start a process, to a fixed point
        grown = False
        for name, node in defs.items():
            if name in starting:
                continue
            called = {dotted(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
            called |= {c.rsplit(".", 1)[-1] for c in called}
            used = {a.arg for a in node.args.args} if isinstance(node, ast.FunctionDef) else set()
            if called & (STARTERS | starting) or used & starting:
                starting.add(name)
                grown = True
    return [
        name
        for name in sorted(starting)
        if name.startswith("test_")
        and isinstance(defs[name], ast.FunctionDef)
        and not (_marker_names(defs[name].decorator_list) | module_marks) & TIER_MARKERS
    ]


@pytest.mark.parametrize("path", sorted(SUITE.glob("test_*.py")), ids=lambda p: p.name)
def test_a_test_that_starts_a_torch_process_is_marked_slow(path):
    found = [n for n in unmarked_starters(path.read_text(encoding="utf-8")) if n not in NO_TORCH.get(path.name, {})]
    assert not found, (
        f"{path.name}: these tests start a process that imports torch (a grading session, a cold command, a "
        f"kernel, the warm server) and would slow the README's command: mark them @pytest.mark.slow\n"
        + "\n".join(found)
    )


def test_every_no_torch_exception_names_a_test_that_still_starts_a_process():
    for name, tests in NO_TORCH.items():
        starting = set(unmarked_starters((SUITE / name).read_text(encoding="utf-8")))
        assert set(tests) <= starting, f"{name}: stale exceptions {set(tests) - starting}"


HELPER = "def run(p):\n    return katas_cli('grade', str(p))\n"


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("def test_a(tmp_path):\n    katas_cli('list')\n", ["test_a"]),
        (HELPER + "def test_b(tmp_path):\n    run(tmp_path)\n", ["test_b"]),
        (
            "import pytest\n@pytest.fixture\ndef done(tmp_path):\n    return pytest_grade(tmp_path, tmp_path)\n"
            "def test_c(done):\n    assert done\n",
            ["test_c"],
        ),
        ("import subprocess\ndef test_d():\n    subprocess.run(['katas'])\n", ["test_d"]),
        ("import pytest\n@pytest.mark.slow\ndef test_e(tmp_path):\n    katas_cli('list')\n", []),
        (
            "import pytest\npytestmark = [pytest.mark.grading, pytest.mark.slow]\n"
            "def test_f(tmp_path):\n    katas_cli('list')\n",
            [],
        ),
        ("def test_g():\n    assert 1 + 1 == 2\n", []),
    ],
    ids=["direct", "through-a-helper", "through-a-fixture", "subprocess", "marked", "module-marked", "no-process"],
)
def test_the_tier_check_sees_an_unmarked_process_start(source, flagged):
    assert unmarked_starters(source) == flagged
