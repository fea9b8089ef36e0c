"""The preflight: the instructor's side checked before any learner is graded (issue 19).

Every route runs it first (``katas grade``, the Dask route, ``pytest --grade``, Gradescope's
``run_autograder``; ``katas grade --check-only`` runs it alone); a problem stops the run before
anything is written, with the file and line. Checked:

- every hidden test file compiles and collects (a syntax error, a missing import);
- every test (hidden and visible) belongs to a kata (``KATA`` names one, or the file name
  ``test_kNN_*.py``) and carries ``@pytest.mark.part(NAME)`` with NAME one of the kata's
  weights in katas.toml, and every weight has a test;
- a hidden test hands ``run``/``run_once`` only probes of ``backprop_katas.kit.probes``
  (a probe defined in the test file is refused in grading: ``runner.ProbeOutsideKit``), and
  only those of its own kata;
- where the project has ``solutions/`` and ``katas/`` (the instructor's checkout): every hidden
  test passes on the reference and fails on the stubs (a test that cannot fail is a bug too).

The hidden tests run on the reference and the stubs in two plain pytest sessions, forked from
one process that imported torch once (this module is their plugin: ``-p
backprop_katas.grading.preflight``), not in grading mode: they are the
instructor's code on the instructor's answers. A verdict is cached by the content of everything
it read (hidden tests, kata tests, conftest files, katas.toml, the probes, the reference and the
stubs, the tool's version and these checks) in the user cache (``$XDG_CACHE_HOME`` or ``~/.cache``,
``backprop-katas/preflight/``), so it costs once per change, not once per learner.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from backprop_katas import __version__
from backprop_katas.catalog import Kata, kata_paths, load_catalog
from backprop_katas.files import files_digest, read_json, write_json
from backprop_katas.lang import say

PROBES_PACKAGE = "backprop_katas.kit.probes"
RECORD_ENV = "KATAS_PREFLIGHT_RECORD"  # where this module, as a plugin, writes what it saw
FIXTURES = ("run", "run_once")  # the fixtures that hand a probe to the runner


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


class PreflightError(Exception):
    """The instructor's side is wrong: nothing may be graded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(say("preflight_failed", n=len(problems), problems="\n".join(f"  {p}" for p in problems)))


@dataclass
class Verdict:
    problems: list[Problem]
    seconds: float
    cached: bool


# --- the checks on what a session collected ------------------------------------------------------


def shown(path: Path | str, root: Path) -> str:
    path = Path(path)
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def item_record(item: Any, catalog: list[Kata], hidden: bool) -> dict[str, Any]:
    """What the checks need of one collected test (a pytest Item): its file, line, kata and part."""
    from backprop_katas.grading.runner import kata_of_module
    from backprop_katas.scoring import PART_MARKER

    module = getattr(item, "module", None)
    module_kata = getattr(module, "KATA", None)
    marker = item.get_closest_marker(PART_MARKER)
    function = getattr(item, "function", None)
    code = getattr(function, "__code__", None)
    return {
        "nodeid": item.nodeid,
        "file": str(item.path),
        "line": code.co_firstlineno if code is not None else (item.location[1] or 0) + 1,
        "module_kata": module_kata if isinstance(module_kata, str) or module_kata is None else repr(module_kata),
        "kata": kata_of_module(catalog, Path(item.path), module_kata),
        "part": str(marker.args[0]) if marker is not None and marker.args else "",
        "hidden": hidden,
    }


def check_items(catalog: list[Kata], items: list[dict[str, Any]], root: Path) -> list[Problem]:
    """Kata, part and weights of every collected test (records from ``item_record``)."""
    problems: list[Problem] = []
    katas = {k.id: k for k in catalog}
    ids = ", ".join(katas)
    parts_seen: dict[str, set[str]] = {}
    for item in items:
        where = shown(item["file"], root)
        module_kata = item["module_kata"]
        if module_kata is not None and module_kata not in katas:
            line = _line_of(Path(item["file"]), r"^KATA\s*[:=]") or item["line"]
            problem = Problem(where, line, say("preflight_bad_kata", kata=module_kata, katas=ids))
            if problem not in problems:
                problems.append(problem)
            continue
        if item["kata"] is None:
            problems.append(Problem(where, item["line"], say("preflight_no_kata", katas=ids)))
            continue
        entry = katas[item["kata"]]
        parts_seen.setdefault(entry.id, set()).add(item["part"])
        if item["part"] not in entry.weights:
            problems.append(
                Problem(
                    where,
                    item["line"],
                    say(
                        "grade_bad_part",
                        test=item["nodeid"].split("::")[-1],
                        part=item["part"] or "-",
                        parts=", ".join(entry.weights) or "-",
                    ),
                )
            )
    for kata_id, seen in parts_seen.items():
        missing = [p for p in katas[kata_id].weights if p not in seen]
        if missing:
            problems.append(
                Problem(
                    "katas.toml",
                    _toml_line(root, kata_id),
                    say("preflight_weight_untested", kata=kata_id, parts=", ".join(missing)),
                )
            )
    return problems


def _line_of(path: Path, pattern: str) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    return next((n for n, line in enumerate(lines, 1) if re.search(pattern, line)), 0)


def _toml_line(root: Path, kata_id: str) -> int:
    try:
        lines = (root / "katas.toml").read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    return next((n for n, line in enumerate(lines, 1) if f'"{kata_id}"' in line), 0)


def probe_problems(path: Path, catalog: list[Kata], root: Path) -> list[Problem]:
    """A probe handed to ``run``/``run_once`` that is not a probe module's function of the kit.

    Read from the source: a name defined in the test file (``def``, ``lambda``, an assignment)
    handed as the probe is refused; so is a probe module of another kata than the file's."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError, OSError):
        return []  # reported by the compile check
    probe_modules: dict[str, str] = {}  # local name -> kit.probes.kNN_name
    probe_functions: dict[str, str] = {}  # local name -> the kit probe module it came from
    defined: set[str] = set()
    module_kata: str | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                local = alias.asname or alias.name
                if node.module == PROBES_PACKAGE:
                    probe_modules[local] = f"{PROBES_PACKAGE}.{alias.name}"
                elif node.module.startswith(PROBES_PACKAGE + "."):
                    probe_functions[local] = node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PROBES_PACKAGE + ".") and alias.asname:
                    probe_modules[alias.asname] = alias.name
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    defined.add(target.id)
                    if (
                        target.id == "KATA"
                        and isinstance(node.value, ast.Constant)
                        and isinstance(node.value.value, str)
                    ):
                        module_kata = node.value.value
    for node in ast.walk(tree):  # after every import is known: `probe = P.manual_gradients` is a kit probe
        if not isinstance(node, ast.Assign):
            continue
        value = node.value
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id in probe_modules:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    defined.discard(target.id)
                    probe_functions[target.id] = probe_modules[value.value.id]
    from backprop_katas.grading.runner import kata_of_module

    kata = kata_of_module(catalog, path, module_kata)
    problems: list[Problem] = []
    where = shown(path, root)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FIXTURES):
            continue
        if not node.args:
            continue
        probe = node.args[0]
        module: str | None = None
        if isinstance(probe, ast.Attribute) and isinstance(probe.value, ast.Name) and probe.value.id in probe_modules:
            module = probe_modules[probe.value.id]
        elif isinstance(probe, ast.Name) and probe.id in probe_functions:
            module = probe_functions[probe.id]
        elif isinstance(probe, ast.Lambda) or (isinstance(probe, ast.Name) and probe.id in defined):
            name = "lambda" if isinstance(probe, ast.Lambda) else probe.id
            problems.append(Problem(where, node.lineno, say("preflight_probe_outside_kit", probe=name)))
            continue
        if module is not None and kata is not None and module.rsplit(".", 1)[-1] != kata:
            problems.append(Problem(where, node.lineno, say("preflight_probe_other_kata", probe=module, kata=kata)))
    return problems


def compile_problems(path: Path, root: Path) -> list[Problem]:
    try:
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        return [Problem(shown(path, root), exc.lineno or 0, f"SyntaxError: {exc.msg}")]
    except (ValueError, OSError) as exc:
        return [Problem(shown(path, root), 0, f"{type(exc).__name__}: {exc}")]
    return []


def collect_error(reported: str, text: str, root: Path, candidates: list[Path]) -> Problem:
    """A file pytest could not import: the last line of the file in the traceback, and the error."""
    named = [str(p) for p in candidates if str(p) in text or shown(p, root) in text]
    path = named[0] if named else reported
    # pytest writes the path as it was named, or relative to the rootdir: its file name ends both
    lines = [int(n) for n in re.findall(re.escape(Path(path).name) + r"\"?(?:, line |:)(\d+)", text)]
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return Problem(shown(path, root), lines[-1] if lines else 0, errors[-1] if errors else text.strip()[-300:])


# --- the plugin: what a preflight session collected and how its hidden tests ended ---------------

_record: dict[str, Any] = {"items": [], "errors": [], "outcomes": {}}


def _hidden_dir() -> Path | None:
    value = os.environ.get(RECORD_ENV + "_HIDDEN")
    return Path(value).resolve() if value else None


def pytest_collectreport(report: Any) -> None:
    if report.failed and os.environ.get(RECORD_ENV):
        _record["errors"].append({"file": str(report.fspath), "text": report.longreprtext})


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    if not os.environ.get(RECORD_ENV):
        return
    catalog = load_catalog(config.rootpath)
    hidden = _hidden_dir()
    keep: list[Any] = []
    drop: list[Any] = []
    for item in items:
        is_hidden = hidden is not None and hidden in Path(item.path).resolve().parents
        _record["items"].append(item_record(item, catalog, is_hidden))
        (keep if is_hidden else drop).append(item)
    if drop:  # the kata tests are collected for their parts, never run here
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_runtest_logreport(report: Any) -> None:
    if not os.environ.get(RECORD_ENV):
        return
    outcomes = _record["outcomes"]
    if report.when == "call" or report.outcome != "passed":
        previous = outcomes.get(report.nodeid, "passed")
        outcomes[report.nodeid] = report.outcome if previous == "passed" else previous


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    path = os.environ.get(RECORD_ENV)
    if path:
        write_json(Path(path), _record)


# --- the preflight -------------------------------------------------------------------------------


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "backprop-katas" / "preflight"


def _inputs(root: Path, catalog: list[Kata], hidden: Path) -> list[Path]:
    from backprop_katas.kit import probes

    files = [kata_paths(root, k).test for k in catalog]
    files += [root / "katas.toml", root / "conftest.py", root / "tests" / "conftest.py"]
    files += sorted(Path(probes.__file__).parent.glob("*.py"))
    files.append(Path(__file__))  # these checks themselves: a new check is a new verdict
    files += sorted(p for p in hidden.rglob("*.py") if "__pycache__" not in p.parts)
    for folder in ("solutions", "katas"):
        files += sorted((root / folder).glob("k*.py"))
    return [f for f in files if f.is_file()]


def cache_key(root: Path, catalog: list[Kata], hidden: Path) -> str:
    named = [
        (shown(f, root) if f.is_relative_to(root) else f.name, f.read_bytes()) for f in _inputs(root, catalog, hidden)
    ]
    return files_digest([("version", __version__.encode()), ("hidden", str(hidden).encode()), *named])


def _sessions(root: Path, hidden: Path, sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Plain pytest sessions with this module as their plugin, forked from one process that
    imported pytest and torch once (``main --sessions``); what each recorded."""
    env = {k: v for k, v in os.environ.items() if k != "KATAS_TARGET"}
    spec = json.dumps({"root": str(root), "hidden": str(hidden), "sessions": sessions})
    command = [sys.executable, "-m", "backprop_katas.grading.preflight", "--sessions", spec]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=1800, check=False)
    found = []
    for session in sessions:
        data: dict[str, Any] = read_json(Path(session["record"]), None) or {"items": [], "errors": [], "outcomes": {}}
        log = Path(session["record"] + ".log")
        text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        data["output"] = text[-3000:] + done.stderr[-3000:]
        found.append(data)
    return found


def _fork_sessions(spec: dict[str, Any]) -> int:
    """``--sessions``: import once, then one forked child per pytest session, side by side."""
    import numpy  # noqa: F401  # imported once, before the forks
    import pytest
    import torch  # noqa: F401

    children = []
    for session in spec["sessions"]:
        pid = os.fork()
        if pid == 0:  # pragma: no cover  # the child: one pytest session, its output in a log
            code = 1
            try:
                log = os.open(session["record"] + ".log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.environ.update({RECORD_ENV: session["record"], RECORD_ENV + "_HIDDEN": spec["hidden"]})
                args = [
                    *session["files"],
                    f"--target={session['target']}",
                    "-q",
                    "--no-header",
                    "-p",
                    "no:cacheprovider",
                    "-p",
                    "backprop_katas.grading.preflight",
                    "--rootdir",
                    spec["root"],
                ]
                if session["collect_only"]:
                    args.append("--collect-only")
                code = int(pytest.main(args))
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    return 0


def run_checks(root: Path, hidden: Path, catalog: list[Kata]) -> list[Problem]:
    """Every check, uncached."""
    hidden_files = sorted(p for p in hidden.rglob("test_*.py") if "__pycache__" not in p.parts)
    problems: list[Problem] = []
    for path in hidden_files:
        problems += compile_problems(path, root)
    if problems:
        return problems
    for path in hidden_files:
        problems += probe_problems(path, catalog, root)
    files = [*[p for p in (kata_paths(root, k).test for k in catalog) if p.is_file()], *hidden_files]
    reference, stubs = root / "solutions", root / "katas"
    both = reference.is_dir() and stubs.is_dir()
    names = [str(f) for f in files]
    with tempfile.TemporaryDirectory(prefix="katas-preflight-") as scratch:
        folder = Path(scratch)
        if both:
            ref, stub = _sessions(
                root,
                hidden,
                [
                    {
                        "files": names,
                        "target": str(reference),
                        "record": str(folder / "ref.json"),
                        "collect_only": False,
                    },
                    {
                        "files": [str(f) for f in hidden_files],
                        "target": str(stubs),
                        "record": str(folder / "stub.json"),
                        "collect_only": False,
                    },  # the hidden tests only: the kata tests' parts are read once, above
                ],
            )
        else:
            empty = folder / "no-submission"
            empty.mkdir()
            target = stubs if stubs.is_dir() else empty
            (ref,) = _sessions(
                root,
                hidden,
                [{"files": names, "target": str(target), "record": str(folder / "ref.json"), "collect_only": True}],
            )
            stub = None
    for error in ref["errors"]:
        problems.append(collect_error(error["file"], error["text"], root, hidden_files))
    if not ref["items"] and not ref["errors"]:
        problems.append(Problem(shown(hidden, root), 0, say("preflight_session_failed", output=ref["output"][-1500:])))
    problems += check_items(catalog, ref["items"], root)
    if problems or stub is None:
        return problems
    for item in ref["items"]:
        if not item["hidden"]:
            continue
        where, nodeid = shown(item["file"], root), item["nodeid"]
        name = nodeid.split("::")[-1]
        if ref["outcomes"].get(nodeid) != "passed":
            problems.append(Problem(where, item["line"], say("preflight_fails_on_reference", test=name)))
        if stub["outcomes"].get(nodeid) == "passed":
            problems.append(Problem(where, item["line"], say("preflight_passes_on_stubs", test=name)))
    return problems


def preflight(root: Path, hidden: Path | None, catalog: list[Kata] | None = None) -> Verdict:
    """The preflight's verdict, from the cache when nothing it reads changed."""
    import time

    started = time.monotonic()
    if hidden is None:
        return Verdict([], 0.0, True)  # the kata tests alone: the self-checks hold them
    catalog = catalog if catalog is not None else load_catalog(root)
    hidden = hidden.resolve()
    if not hidden.is_dir():
        return Verdict([Problem(str(hidden), 0, say("preflight_no_folder"))], time.monotonic() - started, False)
    key = cache_key(root, catalog, hidden)
    path = cache_folder() / f"{key}.json"
    cached = read_json(path, None)
    if isinstance(cached, dict) and isinstance(cached.get("problems"), list):
        problems = [Problem(**p) for p in cached["problems"]]
        return Verdict(problems, time.monotonic() - started, True)
    problems = sorted(run_checks(root, hidden, catalog), key=lambda p: (p.file, p.line))
    try:
        write_json(path, {"problems": [asdict(p) for p in problems]})
    except OSError:
        pass  # no cache: the next run checks again
    return Verdict(problems, time.monotonic() - started, False)


def ensure(root: Path, hidden: Path | None, catalog: list[Kata] | None = None) -> Verdict:
    """The preflight, raising ``PreflightError`` on any problem."""
    verdict = preflight(root, hidden, catalog)
    if verdict.problems:
        raise PreflightError(verdict.problems)
    return verdict


def main(argv: list[str] | None = None) -> int:
    """``python -m backprop_katas.grading.preflight ROOT HIDDEN``: the preflight alone (setup.sh runs it)."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--sessions":
        return _fork_sessions(json.loads(args[1]))
    root = Path(args[0]).resolve()
    hidden = Path(args[1]) if len(args) > 1 else None
    try:
        verdict = ensure(root, hidden)
    except PreflightError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps({"ok": True, "seconds": round(verdict.seconds, 2), "cached": verdict.cached}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
