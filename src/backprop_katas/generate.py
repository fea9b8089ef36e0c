"""Make learner stubs from the reference solutions.

Between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` a solution file holds the
code a learner must write. The stub keeps everything else (imports,
signatures, docstrings) and puts in place of each region a TODO line and
``raise NotImplementedError("<kata>.<function>: <task>")``, the task being
the first line of the enclosing function's docstring.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from backprop_katas.catalog import kata_of_test

STUBS = ".stubs"  # a learner bundle's pristine stubs (it has no solutions/ to generate them from)
BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"


class MarkerError(ValueError):
    pass


@dataclass(frozen=True)
class Region:
    begin: int  # 1-based line of BEGIN
    end: int  # 1-based line of END
    qualname: str
    task: str


def _functions(tree: ast.AST) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((prefix + child.name, child))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def find_regions(source: str, filename: str = "<solution>") -> list[Region]:
    """Every solution region with its enclosing function and task; markers are checked."""
    tree = ast.parse(source, filename)
    functions = _functions(tree)
    lines = source.splitlines()
    regions: list[Region] = []
    begin: int | None = None
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text == BEGIN:
            if begin is not None:
                raise MarkerError(f"{filename}:{number}: {BEGIN} inside another region")
            begin = number
        elif text == END:
            if begin is None:
                raise MarkerError(f"{filename}:{number}: {END} without {BEGIN}")
            enclosing = [(qual, fn) for qual, fn in functions if fn.lineno < begin <= (fn.end_lineno or 0)]
            if not enclosing:
                raise MarkerError(f"{filename}:{begin}: a solution region must sit inside a function")
            qual, fn = max(enclosing, key=lambda item: item[1].lineno)
            doc = ast.get_docstring(fn)
            if not doc:
                raise MarkerError(f"{filename}:{fn.lineno}: {qual} needs a docstring (its first line is the task)")
            regions.append(Region(begin, number, qual, doc.strip().splitlines()[0]))
            begin = None
    if begin is not None:
        raise MarkerError(f"{filename}:{begin}: {BEGIN} is never closed")
    return regions


def make_stub(source: str, kata_id: str, filename: str = "<solution>") -> str:
    """The learner's stub for one solution file."""
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    cursor = 0
    for region in find_regions(source, filename):
        out.extend(lines[cursor : region.begin - 1])
        marker = lines[region.begin - 1]
        indent = marker[: len(marker) - len(marker.lstrip())]
        message = f"{kata_id}.{region.qualname}: {region.task}"
        out.append(f"{indent}# TODO: {region.task}\n")
        out.append(f"{indent}raise NotImplementedError({message!r})\n")
        cursor = region.end
    out.extend(lines[cursor:])
    return "".join(out)


def stub_message(source: str, kata_id: str) -> list[str]:
    """The NotImplementedError messages a kata's stub raises, in file order."""
    return [f"{kata_id}.{r.qualname}: {r.task}" for r in find_regions(source)]


def generated(solutions: Path, kata_ids: list[str]) -> dict[str, str]:
    """file name → stub text, for every kata."""
    result = {}
    for kid in kata_ids:
        path = solutions / f"{kid}.py"
        result[path.name] = make_stub(path.read_text(encoding="utf-8"), kid, str(path))
    return result


def drift(solutions: Path, katas: Path, kata_ids: list[str]) -> list[str]:
    """Names of kata files that differ from what the generator makes (or are missing)."""
    stale = []
    for name, text in generated(solutions, kata_ids).items():
        target = katas / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


PYTEST_INI = """\
# Written by backprop-katas (the %%kata magic): this folder is a kata project, so
# `katas`, `pytest` and the notebook all check the same files in katas/.
[pytest]
minversion = 7.4
testpaths = tests
addopts = -ra --strict-markers --strict-config
xfail_strict = true
filterwarnings = error::pytest.PytestUnraisableExceptionWarning
"""


def project_layout(checkout: Path) -> dict[str, str]:
    """relative path → text: what a kata project needs besides the installed package
    (katas.toml, the kata tests, the stubs in katas/ and .stubs/, a pytest.ini). Never a solution.

    The wheel carries this (setup.py writes it as backprop_katas/_project); a notebook's
    working folder becomes a project from it. Stubs come from solutions/ when the checkout
    has them, else from .stubs/ (a learner bundle) or katas/ (an sdist: stubs, never solutions)."""
    files = {"katas.toml": (checkout / "katas.toml").read_text(encoding="utf-8"), "pytest.ini": PYTEST_INI}
    tests = sorted((checkout / "tests").glob("test_k[0-9][0-9]_*.py"))
    for path in [checkout / "tests" / "conftest.py", *tests]:
        files[f"tests/{path.name}"] = path.read_text(encoding="utf-8")
    ids = [kid for kid in (kata_of_test(path) for path in tests) if kid]
    if (checkout / "solutions").is_dir():
        stubs = generated(checkout / "solutions", ids)
    else:  # a learner bundle keeps pristine stubs in .stubs/; an sdist has only katas/
        pristine = checkout / STUBS if (checkout / STUBS).is_dir() else checkout / "katas"
        stubs = {f"{kid}.py": (pristine / f"{kid}.py").read_text(encoding="utf-8") for kid in ids}
    for name, text in stubs.items():
        files[f"katas/{name}"] = text
        files[f"{STUBS}/{name}"] = text
    return files
