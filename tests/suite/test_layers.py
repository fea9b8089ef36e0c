"""The package's wings stay apart: the kit imports neither the learner's tool nor grading, and the tool
and grading, side by side above the kit, import neither each other; the shared core imports no wing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "backprop_katas"
WINGS = {"kit": ("tool", "grading"), "tool": ("grading",), "grading": ("tool",)}  # wing: the wings it may not import
FRONT_DOORS = {  # core modules that are doors into a wing: the one name each may take from it
    "__init__.py": {"backprop_katas.tool.notebook.load_ipython_extension"},  # %load_ext backprop_katas, lazily
    "__main__.py": {"backprop_katas.commands.main"},
    "commands.py": {"backprop_katas.tool.cli", "backprop_katas.grading.cli.register"},  # `katas`: both wings' commands
}
CORE = sorted(p for p in PACKAGE.glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every backprop_katas module a file imports, top level or inside a function."""
    return _imports_of(path.read_text(encoding="utf-8"), path)


def _imports_of(source: str, path: Path | None = None) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
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


@pytest.mark.parametrize("wing", sorted(WINGS))
def test_a_wing_imports_no_wing_it_must_not(wing: str) -> None:
    forbidden = tuple(f"backprop_katas.{other}." for other in WINGS[wing])
    bad = {
        str(path.relative_to(PACKAGE)): sorted(m for m in imported_modules(path) if m.startswith(forbidden))
        for path in sorted((PACKAGE / wing).rglob("*.py"))
    }
    bad = {path: names for path, names in bad.items() if names}
    assert not bad, f"{bad}: what two wings both need belongs in the kit or the shared core"


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_the_shared_core_imports_no_wing(path: Path) -> None:
    bad = sorted(m for m in imported_modules(path) if m.split(".")[1] in WINGS)
    bad = [m for m in bad if m not in FRONT_DOORS.get(path.name, set())]
    assert not bad, f"{path.name} imports {bad}: the shared modules serve all three wings and import none"


def test_a_wing_import_is_caught() -> None:
    # The check above reads imports from the source: a synthetic module proves it sees one,
    # top level and inside a function, so an empty result means no import rather than a blind reader.
    source = "from backprop_katas.tool.check import Checker\ndef f():\n    import backprop_katas.grading.batch\n"
    found = {name for name in _imports_of(source)}
    assert {"backprop_katas.tool.check.Checker", "backprop_katas.grading.batch"} <= found


def test_the_katas_command_imports_no_torch_until_a_check_needs_it():
    # A cold `katas check` hands the kata to a child (or the warm server) that imports torch;
    # torch in the command's own process was a second import, about 1 s on this machine.
    code = "import sys, backprop_katas.commands; print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", f"importing the katas command imports {done.stdout.strip()}"
