"""A failure is data until it is shown, and it points at the learner's exact line.

The judge's failure carries its call, values, worst element, tables, cause keys and the place
the probe recorded (kit/failure.py); `katas` caches that data and renders it per language, so a
language switch starts no child; the place is the learner's `return` (or the line running when
a limit hit) under `katas`, plain pytest and `--grade` alike.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, copy_solutions, run_kata_tests
from test_cli import katas, make_project

from backprop_katas.kit.failure import Failure, JudgeFailed, Where, render, render_parts
from backprop_katas.kit.judge import expect_close, expect_gradients
from backprop_katas.kit.oracles import FD64
from backprop_katas.lang import keys, template
from backprop_katas.tool.check import stack_where

K03 = "k03_computation_graph"
K03_FILE = f"katas/{K03}.py"
SOLUTION = (ROOT / "solutions" / f"{K03}.py").read_text(encoding="utf-8")
T_BODY = "    return x + y\n"  # t_function's one line in solutions/
assert SOLUTION.count(T_BODY) == 1


def mutant(new_body: str) -> str:
    return SOLUTION.replace(T_BODY, new_body)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


WRONG = mutant("    t = x + y\n    return t * 1.5\n")  # the value is made two lines below the def
WRONG_RETURN = line_of(WRONG, "return t * 1.5")
T_DEF = line_of(WRONG, "def t_function")
ENDLESS = mutant("    while True:\n        pass\n    return x + y\n")
LOOP = (line_of(ENDLESS, "while True:"), line_of(ENDLESS, "        pass"))


# --- the failure as data ---------------------------------------------------------------------


def test_a_value_mismatch_carries_call_values_worst_element_causes_as_data_and_renders_in_each_language():
    expected = np.array([1.0, -2.0, 3.0])
    with pytest.raises(JudgeFailed) as failed:
        expect_close(-expected, expected, FD64, "k03_computation_graph.t_function(x, y)")
    data = json.loads(json.dumps(failed.value.failure.to_data()))  # plain JSON, as the report writes it
    assert data["call"]["code"] == "k03_computation_graph.t_function(x, y)"
    assert data["got"]["values"] == [-1.0, 2.0, -3.0] and data["expected"]["values"] == [1.0, -2.0, 3.0]
    assert data["worst"]["index"] == [2] and data["worst"]["got"] == -3.0 and data["worst"]["expected"] == 3.0
    assert [c["key"] for c in data["causes"]] == ["cause_sign"]
    back = Failure.from_data(data)
    english, korean = render(back, "en"), render(back, "ko")
    assert "Called k03_computation_graph.t_function(x, y)." in english and "Likely cause" in english
    assert template("likely_cause", "ko").split("{")[0] in korean and "Likely cause" not in korean
    roles = [role for role, _ in render_parts(back, "ko")]
    assert roles == ["call", "finding", "cause"]


def test_a_gradient_table_is_data_whose_headers_are_message_keys_rendered_per_language():
    expected = {"w": np.array([[0.5, -1.0], [2.0, 0.25]])}
    with pytest.raises(JudgeFailed) as failed:
        expect_gradients({"w": 2 * expected["w"]}, expected, FD64, "k05_backprop.manual_gradients(net, x, t)")
    data = failed.value.failure.to_data()
    (table,) = data["tables"]
    assert table["columns"] == ["table_col_index", "table_col_yours", "table_col_numerical", "table_col_rel_error"]
    assert all(key in keys() for key in table["columns"]) and "title" not in table
    assert (
        data["causes"] == [{"key": "cause_factor_2", "param": "w", "message": data["causes"][0]["message"]}]
        and data["causes"][0]["message"]["key"] == "cause_for"
    )
    korean = render(Failure.from_data(data), "ko")
    assert template("table_col_yours", "ko") in korean and "yours" not in korean


# --- the probe's record ------------------------------------------------------------------------

LEARNER = """\
def helper(x):
    return x + 1


def chosen(x):
    if x > 100:
        return 0
    y = helper(x)
    return y * 2
"""


def test_the_recorder_keeps_the_outermost_learner_call_at_its_return_line_whatever_calls_it(tmp_path, monkeypatch):
    import importlib.util

    from backprop_katas.kit.runner import ReturnRecorder

    folder = tmp_path / "katas"
    folder.mkdir()
    (folder / "kdemo.py").write_text(LEARNER, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("kdemo", folder / "kdemo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.chdir(folder)  # as in a grading call: "<string>" must not resolve into the kata folder
    recorder = ReturnRecorder(folder.resolve())
    with recorder.recording():
        exec(compile("module.chosen(3)", "<string>", "exec"), {"module": module})
    assert recorder.last == Where(
        "kdemo.py", LEARNER.splitlines().index("    return y * 2") + 1, "chosen", "return", "katas"
    )


# --- where to edit: plain pytest --------------------------------------------------------------


def test_a_value_mismatch_under_plain_pytest_shows_the_learners_file_and_returning_line(tmp_path, monkeypatch):
    monkeypatch.setenv("KATAS_LANG", "en")
    folder = copy_solutions(tmp_path)
    (folder / f"{K03}.py").write_text(WRONG, encoding="utf-8")
    outcome = run_kata_tests(K03, folder, "-x", "-k", "forward_nodes and t_function")
    (nodeid, text), *_ = outcome.failed.items()
    assert f"{folder.name}/{K03}.py:{WRONG_RETURN}" in text and "t_function" in text, text
    where = outcome.failures[nodeid].where
    assert (where.file, where.line, where.function, where.how) == (f"{K03}.py", WRONG_RETURN, "t_function", "return")


@pytest.mark.slow
def test_an_endless_loop_under_plain_pytest_names_the_function_and_the_line_running(tmp_path, monkeypatch):
    monkeypatch.setenv("KATAS_LANG", "en")
    folder = copy_solutions(tmp_path)
    (folder / f"{K03}.py").write_text(ENDLESS, encoding="utf-8")
    outcome = run_kata_tests(K03, folder, "-x", "-k", "forward_nodes and t_function", "--probe-timeout", "1")
    (nodeid, text), *_ = outcome.failed.items()
    where = outcome.failures[nodeid].where
    assert where is not None and where.function == "t_function" and where.line in LOOP and where.how == "running"
    assert f"{folder.name}/{K03}.py:{where.line}" in text and "t_function" in text and "1 s" in text, text


# --- where to edit, and the cache: `katas` -----------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("data"))


@pytest.mark.slow
def test_katas_points_at_the_line_that_returned_the_value_not_at_the_def(project):
    (project / K03_FILE).write_text(WRONG, encoding="utf-8")
    out = katas(project, "check", "k03", "--lang", "en").stdout
    assert f"Edit: {K03_FILE}:{WRONG_RETURN}" in out, out
    assert f"{K03_FILE}:{T_DEF}" not in out


@pytest.mark.slow
def test_switching_language_re_renders_from_the_cache_without_starting_a_child(project):
    (project / K03_FILE).write_text(WRONG, encoding="utf-8")
    english = katas(project, "check", "k03", "--lang", "en").stdout  # cached, or run now
    assert "Called k03_computation_graph.t_function" in english
    marker = project / "child-started"
    # A child is `python -m pytest` in the project: this pytest.py would shadow pytest there and say so.
    (project / "pytest.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n")
    try:
        korean = katas(project, "check", "k03", "--lang", "ko").stdout
        again = katas(project, "check", "k03", "--lang", "en").stdout
    finally:
        (project / "pytest.py").unlink()
    assert not marker.exists(), "a language switch started a child pytest"
    assert f"{template('cli_edit', 'ko').split('{')[0]}{K03_FILE}:{WRONG_RETURN}" in korean, korean
    for english_only in ("Called", "The result", "not close enough", "Edit:"):
        assert english_only not in korean, korean
    assert again == english


@pytest.mark.slow
def test_after_a_run_inside_katas_the_cached_edit_path_keeps_its_katas_prefix(project):
    text = mutant("    t = x + y\n    return t * 2.5\n")  # not in the cache yet
    (project / K03_FILE).write_text(text, encoding="utf-8")
    inside = katas(project / "katas", "check", "k03", "--lang", "en").stdout
    line = line_of(text, "return t * 2.5")
    assert f"Edit: {K03_FILE}:{line}" in inside, inside
    cached = json.loads((project / ".katas-cache" / "results.json").read_text(encoding="utf-8"))
    entries = [e for folder in cached.values() for e in folder.get(K03, {}).values()]
    assert {"file": K03_FILE, "line": line, "function": "t_function", "how": "return", "folder": "", "cell": ""} in [
        e["where"] for e in entries
    ]
    assert f"Edit: {K03_FILE}:{line}" in katas(project, "check", "k03", "--lang", "en").stdout


@pytest.mark.slow
def test_an_endless_loop_in_t_function_points_at_its_line_under_katas_with_the_limit_used(project):
    # The kata's limit is hit first (the child's own per-call limit is never more): the child is asked
    # for its stack. 20 s: the child must have imported torch and reached the loop by then.
    (project / K03_FILE).write_text(ENDLESS, encoding="utf-8")
    out = katas(project, "check", "k03", "--lang", "en", "--timeout", "20").stdout
    found = re.search(rf"Edit: {re.escape(K03_FILE)}:(\d+)", out)
    assert found and int(found.group(1)) in LOOP, out
    assert f"t_function was running {K03_FILE}:{found.group(1)}" in out and "after 20 s" in out, out


@pytest.mark.slow
def test_a_call_that_runs_out_of_its_own_time_stops_the_childs_run_and_names_the_line(project, monkeypatch):
    from backprop_katas.catalog import load_catalog
    from backprop_katas.tool import check

    (project / K03_FILE).write_text(ENDLESS, encoding="utf-8")
    monkeypatch.setattr(check, "DEFAULT_TIMEOUT", 2.0)  # the per-call limit the child is given
    kata = next(k for k in load_catalog(project) if k.id == K03)
    outcome = check.run_kata(project, project / "katas", kata, 300.0)
    assert outcome.status == "failing" and outcome.passed == 0 and outcome.total > 10
    failure = Failure.from_data(outcome.failure)
    assert failure.error is not None and failure.error["kind"] == "timeout" and failure.error["message"] == "2.0"
    assert outcome.where is not None and outcome.where["line"] in LOOP and outcome.where["function"] == "t_function"
    assert outcome.duration < 60, "the run stopped at the first call that ran out of time"


def test_a_faulthandler_dump_gives_the_learners_innermost_frame(tmp_path):
    folder = tmp_path / "katas"
    folder.mkdir()
    dump = (
        "Current thread 0x00007f0000000000 (most recent call first):\n"
        '  File "/usr/lib/python3.11/site-packages/torch/_tensor.py", line 40 in wrapped\n'
        f'  File "{folder}/{K03}.py", line 25 in t_function\n'
        f'  File "{folder}/{K03}.py", line 33 in forward\n'
        '  File "/x/probes/k03_computation_graph.py", line 20 in call\n'
    )
    assert stack_where(dump, folder) == Where(f"{K03}.py", 25, "t_function", "running", "katas")
    assert stack_where("Current thread 0x1 (most recent call first):\n  <no Python frame>\n", folder) is None


# --- where to edit: --grade (the record crosses the wire) --------------------------------------


@pytest.mark.grading
@pytest.mark.slow
def test_under_grade_a_wrong_value_and_an_endless_loop_point_at_the_learners_lines(tmp_path):
    folder = copy_solutions(tmp_path)
    text = WRONG.replace("    return t**2\n", "    while True:\n        pass\n")
    (folder / f"{K03}.py").write_text(text, encoding="utf-8")
    loop = (line_of(text, "while True:"), line_of(text, "        pass"))
    tests = f"tests/test_{K03}.py::test_forward_nodes_compute_their_values"
    nodes = [f"{tests}[{name}-float32-shape[1]]" for name in ("t_function", "z_function")]
    env = {"KATAS_LANG": "en", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            f"--target={folder}",
            "--grade",
            "--probe-timeout=3",
            *nodes,
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert f"Look at {K03}.py:{line_of(text, 'return t * 1.5')}: t_function returned this value there" in done.stdout
    running = re.search(rf"z_function was running {K03}\.py:(\d+)", done.stdout)
    assert running and int(running.group(1)) in loop, done.stdout[-3000:]


def test_the_wire_carries_the_probes_record_and_refuses_a_malformed_one():
    from backprop_katas.grading import wire
    from backprop_katas.kit.failure import ProbeError

    where = Where(f"{K03}.py", 26, "t_function", "return", "copy")
    assert wire.loads(wire.dumps({"ok": 1.0, "at": where})) == {"ok": 1.0, "at": where}
    error = ProbeError("timeout", "ProbeTimeout", "3", "", "", Where(f"{K03}.py", 25, "t_function", "running"))
    assert wire.loads(wire.dumps({"error": error}))["error"] == error
    for bad in (
        ["/etc/passwd", 1, "f", "return", ""],
        [f"../{K03}.py", 1, "f", "return", ""],
        [f"{K03}.py", "1", "f", "return", ""],
        [f"{K03}.py", 1, "f", "anything", ""],
    ):
        with pytest.raises(wire.WireError):
            wire.loads(json.dumps({"#": "where", "v": bad}).encode())


# --- self-checks ---------------------------------------------------------------------------------

PACKAGE = ROOT / "src" / "backprop_katas"
REGEX_CALLS = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "split"}


def _catalogue_fragments() -> set[str]:
    """The fixed words of every catalogue sentence, in every language (what a parser would look for)."""
    fragments = set()
    for key in keys():
        for language in ("en", "ko"):
            for part in re.split(r"\{[^}]*\}", template(key, language)):
                fragments.update(p for p in re.split(r"[\\.:()\[\]]", part) if len(p.strip()) >= 8)
    return {f.strip() for f in fragments}


def test_no_module_parses_a_rendered_message():
    """No regex in src/ holds a catalogue sentence's words, and the known parsers are gone: the
    "Edit:" place, the cause colouring, the stub check of a bundle all read data now."""
    fragments = _catalogue_fragments()
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "re"):
                continue
            if node.func.attr not in REGEX_CALLS or not node.args:
                continue
            pattern = node.args[0]
            literal = " ".join(
                n.value for n in ast.walk(pattern) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            )
            offenders += [f"{path.name}: {f!r}" for f in fragments if f in literal]
        for known in ("def edit_location", "Likely cause|", '"NotImplementedError" not in', 'template("likely_cause"'):
            if known in source:
                offenders.append(f"{path.name}: {known}")
    assert not offenders, offenders


def test_edit_points_at_the_innermost_helper_whose_value_was_wrong(tmp_path, monkeypatch):
    # k03's gradients is judged first; a wrong z_prime inside it is the place to edit, not
    # gradients' (or backward's) return line.
    from helpers import copy_solutions, run_kata_tests
    from kata_mutants import MUTANTS

    monkeypatch.setenv("KATAS_LANG", "en")
    mutant = next(m for m in MUTANTS if m.id == "z-prime-forgets-2")
    folder = copy_solutions(tmp_path)
    path = folder / f"{mutant.kata}.py"
    source = path.read_text(encoding="utf-8").replace(mutant.old, mutant.new)
    path.write_text(source, encoding="utf-8")
    outcome = run_kata_tests(mutant.kata, folder, "-x")
    (nodeid, text), *_ = outcome.failed.items()
    where = outcome.failures[nodeid].where
    lines = source.splitlines()
    start = next(n for n, line in enumerate(lines, 1) if line.startswith("def z_prime"))
    wrong_return = next(n for n, line in enumerate(lines, 1) if n > start and line.strip() == "return t")
    assert "z_prime" not in nodeid, "the check meant is one of a function that calls z_prime"
    assert (where.function, where.line) == ("z_prime", wrong_return), text
