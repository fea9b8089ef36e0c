"""Maintainer self-checks: every stub fails, every mutant is caught, nothing drifts."""

from __future__ import annotations

import ast
import itertools

import pytest
from helpers import ROOT, copy_solutions, dotted, run_kata_tests
from kata_mutants import MUTANTS

from backprop_katas.catalog import CATALOG_FILE, kata_paths, load_catalog
from backprop_katas.generate import drift, stub_message
from backprop_katas.scaffold import MARKER, MUTANTS_FILE

CATALOG = load_catalog(ROOT)
PACKAGE = ROOT / "src" / "backprop_katas"
PROBES = PACKAGE / "kit" / "probes"
KATA_IDS = [k.id for k in CATALOG]


def public_api(path):
    """name → argument names, for every public top-level function and class method."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    api = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            api[node.name] = [a.arg for a in node.args.args]
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            api[node.name] = [ast.unparse(b) for b in node.bases]
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    api[f"{node.name}.{item.name}"] = [a.arg for a in item.args.args]
    return api


def test_every_kata_has_a_solution_a_stub_and_a_test():
    for kid in KATA_IDS:
        for folder in ("solutions", "katas"):
            assert (ROOT / folder / f"{kid}.py").is_file(), f"{folder}/{kid}.py is missing"
        assert (ROOT / "tests" / f"test_{kid}.py").is_file(), f"tests/test_{kid}.py is missing"
        assert (PROBES / f"{kid}.py").is_file(), f"src/backprop_katas/kit/probes/{kid}.py is missing"
    extra = {p.stem for p in (ROOT / "solutions").glob("k*.py")} - set(KATA_IDS)
    assert not extra, f"solutions without a katas.toml entry: {sorted(extra)}"


@pytest.mark.parametrize("kata_id", KATA_IDS)
def test_stub_exposes_exactly_the_solutions_api(kata_id):
    solution = public_api(ROOT / "solutions" / f"{kata_id}.py")
    stub = public_api(ROOT / "katas" / f"{kata_id}.py")
    assert stub == solution
    listed = next(k for k in CATALOG if k.id == kata_id).functions
    assert set(listed) <= set(solution), f"katas.toml lists names the solution lacks: {set(listed) - set(solution)}"


@pytest.mark.parametrize("kata_id", KATA_IDS)
def test_probe_modules_hold_probes_only_and_tests_take_their_probes_from_there(kata_id):
    # In grading only the probe module and the inputs enter the learner's process: no judge,
    # expected value or test name may live there, and no test may define a probe of its own.
    tree = ast.parse((PROBES / f"{kata_id}.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"judge", "messages"}, f"a probe module imports {imported}: judges stay in the test"
    kata = [n for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "KATA"]
    assert kata and ast.literal_eval(kata[0].value) == kata_id
    test = ast.parse((ROOT / "tests" / f"test_{kata_id}.py").read_text(encoding="utf-8"))
    own = [n.name for n in test.body if isinstance(n, ast.FunctionDef) and n.name.startswith("probe")]
    assert not own, f"tests/test_{kata_id}.py defines probes {own}: move them to backprop_katas.kit.probes.{kata_id}"


def test_katas_folder_is_what_the_generator_makes():
    stale = drift(ROOT / "solutions", ROOT / "katas", KATA_IDS)
    assert not stale, f"run `katas generate --force` (maintainers): {stale} drifted from solutions/"


@pytest.mark.parametrize("kata_id", KATA_IDS)
def test_every_test_fails_on_the_stub_with_the_stubs_message(kata_id):
    outcome = run_kata_tests(kata_id, ROOT / "katas")
    assert outcome.failed, "no test ran"
    assert not outcome.passed, f"tests that pass on the untouched stub: {outcome.passed}"
    messages = stub_message((ROOT / "solutions" / f"{kata_id}.py").read_text(encoding="utf-8"), kata_id)
    for nodeid, text in outcome.failed.items():
        assert "NotImplementedError" in text and any(m in text for m in messages), f"{nodeid}:\n{text}"
    for nodeid in outcome.skipped:  # only the reference-only table may skip, and it says why
        assert "printed_table" in nodeid, nodeid


CATCH_ONLY = [m for m in MUTANTS if not m.cause]  # the cause mutants run in test_diagnosis.py


@pytest.mark.parametrize("mutant", CATCH_ONLY, ids=[f"{m.kata[:3]}-{m.id}" for m in CATCH_ONLY])
def test_mutant_is_caught(tmp_path, mutant):
    folder = copy_solutions(tmp_path)
    path = folder / f"{mutant.kata}.py"
    source = path.read_text(encoding="utf-8")
    assert source.count(mutant.old) == 1, f"the mutant's text must occur once in solutions/{mutant.kata}.py"
    path.write_text(source.replace(mutant.old, mutant.new), encoding="utf-8")
    outcome = run_kata_tests(mutant.kata, folder, "-x")
    assert outcome.failed, f"mutant {mutant.id} survived: no test of {mutant.kata} failed"
    if mutant.expect:
        text = "\n".join(outcome.failed.values())
        assert mutant.expect in text, f"the failure does not say {mutant.expect!r}:\n{text}"
    (nodeid, text), *_ = outcome.failed.items()
    assert says_what_differs(outcome.failures.get(nodeid)), f"{nodeid} names no cause and not what differs:\n{text}"


# A finding that says what differs by itself: the learner's value against the expected one, or
# what the call did that it must not (the contract findings), or the shortcut it took.
DIFFERS = {
    "not_close",
    "not_close_scalar",
    "not_equal",
    "not_plain",
    "wrong_type",
    "wrong_shape",
    "wrong_dtype",
    "not_finite",
    "mutated_input",
    "input_left_grad",
    "input_version",
    "input_flag_changed",
    "side_effect",
    "aliased_result",
    "calls_counted",
    "shortcut_autograd",
    "shortcut_dynamic",
    "shortcut_tool",
    "shortcut_reach",
    "shortcut_ready",
    "shortcut_must_use",
    "shortcut_process",
    "shortcut_torch",
    "process_forbidden",
    "result_keeps_graph",
}


def says_what_differs(failure) -> bool:
    """The first failure of a mistake names a likely cause, or states plainly what differs (a
    DIFFERS finding with the two sides), or is the learner's own error (a traceback, a shortcut)."""
    if failure is None:
        return False
    if failure.cause_keys or failure.kind == "probe":
        return True
    return any(getattr(line, "key", "") in DIFFERS for line in failure.lines) or bool(failure.tables)


def test_the_what_differs_check_refuses_a_failure_that_names_neither():
    from backprop_katas.kit.failure import Failure
    from backprop_katas.lang import msg

    assert not says_what_differs(Failure(lines=[msg("error_not_quadratic", before=1.0, after=0.5)]))
    assert not says_what_differs(None)
    assert says_what_differs(Failure(lines=[msg("not_equal", what="The count", got=1, expected=2)]))


def test_at_least_three_mutants_per_kata():
    for kid in KATA_IDS:
        found = sum(m.kata == kid for m in MUTANTS)
        assert found >= 3, f"{kid} has {found} mutants in {MUTANTS_FILE}; it needs three or more plausible mistakes"


def _todo_lines(path, kata_id, whole_file=True):
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for n, line in enumerate(lines, start=1)
        if MARKER in line and (whole_file or kata_id in line)
    ]


def _catalog_block(kata_id):
    """The [[kata]] table of ``kata_id`` in katas.toml, with the line number it starts on."""
    text = (ROOT / CATALOG_FILE).read_text(encoding="utf-8")
    starts = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip() == "[[kata]]"]
    lines = text.splitlines()
    for start, end in zip(starts, [*starts[1:], len(lines) + 1]):
        block = lines[start - 1 : end - 1]
        if f'id = "{kata_id}"' in block:
            return start, block
    return 0, []


def _toml_table(lines: list[str], header: str) -> list[tuple[int, str]]:
    """The numbered lines of one ``[table]`` of a TOML file, up to the next table."""
    if header not in lines:
        return []
    start = lines.index(header) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    return [(i + 1, lines[i]) for i in range(start, end)]


@pytest.mark.parametrize("kata_id", KATA_IDS)
def test_no_todo_of_katas_new_is_left(kata_id):
    """A kata from `katas new` is not done until the author has filled in every TODO it wrote."""
    paths = kata_paths(ROOT, kata_id, PACKAGE)
    left = [line for path in (paths.solution, paths.test, paths.probe) for line in _todo_lines(path, kata_id)]
    start, block = _catalog_block(kata_id)
    left += [f"{CATALOG_FILE}:{start + i}: {line.strip()}" for i, line in enumerate(block) if MARKER in line]
    left += _todo_lines(ROOT / MUTANTS_FILE, kata_id, whole_file=False)
    for language in sorted((PACKAGE / "lang").glob("*.toml")):  # the tests' titles, one block per kata
        lines = language.read_text(encoding="utf-8").splitlines()
        block = _toml_table(lines, f"[tests.{kata_id}]")
        left += [f"{language.name}:{n}: {line.strip()}" for n, line in block if MARKER in line]
    assert not left, f"{kata_id}: fill in what `katas new` left ({len(left)} x {MARKER}):\n" + "\n".join(left)


# --- one piece of code each: killing a process group, a pytest command, atomic JSON, a digest ---


def _atomic_json_writers(tree: ast.AST) -> list[str]:
    """Functions that both dump JSON and move a file into place (the write-then-rename idiom)."""
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
        dumps = any(dotted(c.func) in ("json.dump", "json.dumps") for c in calls)
        moves = any(
            dotted(c.func) in ("os.replace", "os.rename")
            or (isinstance(c.func, ast.Attribute) and c.func.attr in ("replace", "rename") and len(c.args) == 1)
            for c in calls
        )
        if dumps and moves:
            found.append(f"{fn.name}():{fn.lineno}")
    return found


def _shared_code_copies(path):
    """What in ``path`` repeats code that has one home: procs.py (killpg, -m pytest), files.py (hashlib, atomic JSON)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and dotted(node) == "os.killpg":
            found.append(f"os.killpg at line {node.lineno} (use backprop_katas.procs.kill_group)")
        if (isinstance(node, ast.Import) and any(a.name == "hashlib" for a in node.names)) or (
            isinstance(node, ast.ImportFrom) and node.module == "hashlib"
        ):
            found.append(f"import hashlib at line {node.lineno} (use backprop_katas.files.digest)")
        if isinstance(node, (ast.List, ast.Tuple)):
            words = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
            if any(a == "-m" and b == "pytest" for a, b in itertools.pairwise(words)):
                found.append(f"a '-m pytest' command at line {node.lineno} (use backprop_katas.procs.pytest_command)")
    found += [
        f"{w} writes JSON and renames it (use backprop_katas.files.write_json)" for w in _atomic_json_writers(tree)
    ]
    return found


HOMES = {"procs.py", "files.py"}


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_shared_process_and_file_code_has_one_home(path):
    found = [] if path.name in HOMES and path.parent == PACKAGE else _shared_code_copies(path)
    assert not found, f"{path.relative_to(ROOT)} repeats shared code:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "import os, signal\ndef stop(pid):\n    os.killpg(pid, signal.SIGKILL)\n",
        "import hashlib\nkey = hashlib.sha256(b'x').hexdigest()\n",
        "import sys\ncmd = [sys.executable, '-m', 'pytest', 'tests']\n",
        "import json, os\ndef save(p, d):\n    p.with_suffix('.tmp').write_text(json.dumps(d))\n"
        "    os.replace(p.with_suffix('.tmp'), p)\n",
        "import json\ndef save(p, d):\n    t = p.with_suffix('.tmp')\n    t.write_text(json.dumps(d))\n    t.replace(p)\n",
    ],
    ids=["killpg", "hashlib", "pytest-command", "json-os-replace", "json-path-replace"],
)
def test_the_one_home_check_sees_a_second_copy(tmp_path, source):
    path = tmp_path / "copy.py"
    path.write_text(source, encoding="utf-8")
    assert _shared_code_copies(path)


# Standard-library modules newer than the oldest Python pyproject.toml admits (3.10), each with the
# package that stands in for it there. tox's py310 environment is the only other place a bare import
# would show, and CI runs it last; this check finds it in the fast tier.
NEWER_THAN_310 = {"tomllib": "tomli"}
PYTHON_FILES = [
    ROOT / "conftest.py",
    *sorted(p for top in ("src", "tests", "benchmarks", "solutions", "katas") for p in (ROOT / top).rglob("*.py")),
]


def _bare_newer_imports(source):
    """Imports of a module in NEWER_THAN_310 by a file that never imports its stand-in."""
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
    return sorted(m for m, stand_in in NEWER_THAN_310.items() if m in imported and stand_in not in imported)


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_imports_on_the_oldest_python(path):
    bare = _bare_newer_imports(path.read_text(encoding="utf-8"))
    assert not bare, (
        f"{path.relative_to(ROOT)} imports {bare} with no fallback, which Python 3.10 does not have: "
        f"import it as tests/suite/helpers.py's read_toml or catalog.py do ({NEWER_THAN_310})"
    )


@pytest.mark.parametrize(
    ("source", "bare"),
    [
        ("import tomllib\n", ["tomllib"]),
        ("from tomllib import loads\n", ["tomllib"]),
        ("import tomllib\nimport tomli as tomllib\n", []),
    ],
    ids=["bare", "from", "with-fallback"],
)
def test_the_oldest_python_check_sees_a_bare_import(source, bare):
    assert _bare_newer_imports(source) == bare
