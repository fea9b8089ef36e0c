"""The package's three wings stay apart: the kit imports neither the learner's tool nor grading."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "backprop_katas"
WINGS = {"kit": ("tool", "grading"), "tool": (), "grading": ()}
CORE = sorted(p for p in PACKAGE.glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every backprop_katas module a file imports, top level or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import; the package uses absolute imports"
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("backprop_katas.")}


@pytest.mark.parametrize("path", sorted((PACKAGE / "kit").rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_kit_imports_nothing_from_the_tool_or_grading(path: Path) -> None:
    bad = sorted(m for m in imported_modules(path) if m.startswith(("backprop_katas.tool", "backprop_katas.grading")))
    assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}: kata tests and hidden tests import the kit alone"


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_the_shared_core_imports_no_wing(path: Path) -> None:
    bad = sorted(m for m in imported_modules(path) if m.split(".")[1] in WINGS)
    # the IPython entry point (%load_ext backprop_katas) is the one door into the tool, imported lazily
    if path.name == "__init__.py":
        bad = [m for m in bad if m != "backprop_katas.tool.notebook.load_ipython_extension"]
    if path.name == "__main__.py":
        bad = [m for m in bad if m != "backprop_katas.tool.cli.main"]
    assert not bad, f"{path.name} imports {bad}: the shared modules serve all three wings and import none"


def test_the_katas_command_imports_no_torch_until_a_check_needs_it():
    # A cold `katas check` hands the kata to a child (or the warm server) that imports torch;
    # torch in the command's own process was a second import, about 1 s on this machine.
    code = "import sys, backprop_katas.tool.cli; print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", f"importing the katas command imports {done.stdout.strip()}"
