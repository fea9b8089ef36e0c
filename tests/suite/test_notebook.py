"""Jupyter and Colab: the handed-out notebooks run headless in a real kernel (nbclient +
ipykernel), the %%kata magic checks with the same judges, and notebook submissions grade
exactly like .py submissions."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

import pytest
from grading_helpers import K01, ROOT, kata_source, katas_cli, pytest_grade

from backprop_katas import cells as CELLS
from backprop_katas.catalog import load_catalog
from backprop_katas.generate import stub_message
from backprop_katas.kit.judge import JudgeFailed, expect_gradients
from backprop_katas.kit.oracles import FD64
from backprop_katas.lang import say, template
from backprop_katas.tool import notebook as NB
from backprop_katas.tool.check import Outcome

# The [notebook] extra (in [dev]); without it these tests are skipped, not failed.
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.notebook

KERNEL = "backprop-katas-test"
MISTAKE = ("return 2 * x", "return 4 * x")  # prime_function's factor-2 mistake


def en(key: str) -> re.Pattern[str]:
    """A message's English template as a pattern, any value in each field."""
    return re.compile(".+?".join(re.escape(part) for part in re.split(r"\{[^}]*\}", template(key, "en"))))


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A kernelspec for this venv's python, in a JUPYTER_PATH of its own: the kernel runs the
    backprop_katas under test, whatever kernels the machine has installed."""
    path = tmp_path_factory.mktemp("jupyter")
    spec = path / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    patch = pytest.MonkeyPatch()
    patch.setenv("JUPYTER_PATH", str(path))
    patch.setenv("KATAS_LANG", "en")
    patch.delenv("KATAS_TARGET", raising=False)
    yield KERNEL
    patch.undo()


@pytest.fixture(scope="module")
def handed_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("handed-out")
    NB.write_notebooks(ROOT, out, "en", install=None)  # the tests' kernel has the package already
    return out


def with_cell(notebook: Path, kata: str, body: str) -> object:
    """The notebook with its %%kata cell holding ``body`` (as a learner would paste it)."""
    nb = nbformat.read(str(notebook), as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and CELLS.kata_cell(c.source)]
    assert len(cells) == 1, "one %%kata cell per kata notebook"
    cells[0].source = f"%%kata {kata}\n{body}"
    return nb


def execute(nb: object, folder: Path, kernel: str) -> object:
    folder.mkdir(parents=True, exist_ok=True)
    nbclient.NotebookClient(
        nb, kernel_name=kernel, timeout=300, resources={"metadata": {"path": str(folder)}}
    ).execute()
    return nb


def outputs(nb: object, first_line: str) -> tuple[str, str]:
    """(text/plain, text/html) of every output of the cells starting with ``first_line``."""
    plain, rich = [], []
    for cell in nb.cells:  # type: ignore[attr-defined]
        if cell.cell_type == "code" and cell.source.splitlines()[0].strip() == first_line:
            for out in cell.outputs:
                assert out.output_type != "error", out
                plain.append(out.get("data", {}).get("text/plain", "") + out.get("text", ""))
                rich.append(out.get("data", {}).get("text/html", ""))
    return "\n".join(plain), "\n".join(rich)


@pytest.mark.slow
def test_reference_answers_pasted_into_the_cell_make_the_check_cells_report_done(handed_out, kernel, tmp_path):
    nb = execute(with_cell(handed_out / f"{K01}.ipynb", "k01", kata_source(K01)), tmp_path, kernel)
    for line in ("%%kata k01", "%kata k01"):
        plain, rich = outputs(nb, line)
        assert en("nb_done").search(plain) and en("nb_done").search(rich), plain
        assert not en("nb_failing").search(plain)
        assert "Next: k02 · Counting parameters: its %%kata cell is in k02_parameters.ipynb" in plain
    assert (tmp_path / "katas" / f"{K01}.py").read_text(encoding="utf-8") == kata_source(K01)
    assert (tmp_path / "katas.toml").is_file(), "the working folder became a kata project"


@pytest.mark.slow
def test_the_handed_out_stub_cell_reports_the_stubs_message(handed_out, kernel, tmp_path):
    nb = execute(nbformat.read(str(handed_out / f"{K01}.ipynb"), as_version=4), tmp_path, kernel)
    plain, rich = outputs(nb, "%%kata k01")
    first_stub = stub_message(kata_source(K01), K01)[0]
    assert first_stub in plain and "NotImplementedError" in plain
    assert "not started" in plain and "not started" in rich
    assert (tmp_path / "katas" / f"{K01}.py").read_text(encoding="utf-8") == kata_source(K01, "katas")


@pytest.mark.slow
def test_a_factor_2_mistake_names_the_cause_and_the_cells_line(handed_out, kernel, tmp_path):
    wrong = kata_source(K01).replace(*MISTAKE)
    assert wrong != kata_source(K01)
    nb = execute(with_cell(handed_out / f"{K01}.ipynb", "k01", wrong), tmp_path, kernel)
    plain, rich = outputs(nb, "%%kata k01")
    lines = wrong.splitlines()
    start = next(n for n, text in enumerate(lines, 1) if text.startswith("def prime_function"))
    # the line that returned the wrong value (the probe's record), not the def
    file_line = next(n for n, text in enumerate(lines, 1) if n > start and text.strip().startswith("return"))
    cause = template("cause_factor_2", "en")
    look = f"Look at line {file_line + 1} of the %%kata k01 cell"  # the %%kata line is the cell's line 1
    assert cause in plain and look in plain, plain
    assert cause in rich.replace("&#x27;", "'") and look in rich
    assert "prime function matches finite differences" in plain
    assert en("nb_failing").search(plain) and not en("nb_done").search(plain)


def test_the_html_shows_a_judges_gradient_table_from_data_not_from_its_sentences(tmp_path):
    import numpy as np

    expected = {"w": np.array([[0.5, -1.0], [2.0, 0.25]]), "b": np.array([0.1, -0.2])}
    got = {"w": 2 * expected["w"], "b": expected["b"]}
    with pytest.raises(JudgeFailed) as failed:
        expect_gradients(got, expected, FD64, "k05_backprop.manual_gradients(net, x, t)")
    data = failed.value.failure.to_data()
    assert [t["name"] for t in data["tables"]] == ["w"]
    where = {"file": "katas/k05_backprop.py", "line": 30, "function": "manual_gradients", "how": "return"}
    outcome = Outcome("k05_backprop", "failing", 3, 9, "tests/test_k05_backprop.py::test_x", failure=data, where=where)
    root = tmp_path / "project"
    NB.ensure_project(root)
    kata = next(k for k in load_catalog(root) if k.id == "k05_backprop")
    view = NB.render_outcome(root, kata, outcome, "en")
    table = re.search(r"<table.*?</table>", view.html, re.S)
    assert table and table.group(0).count("<tr>") == 1 + 3  # header + the three worst elements of w
    assert "4</td>" in table.group(0) and "2</td>" in table.group(0)  # yours 2·2 = 4 beside numerical 2
    assert "w: " + template("cause_factor_2", "en") in view.html.replace("&#x27;", "'")
    # the plain text keeps the whole message (rendered from the data, as pytest rendered it)
    assert view.text.startswith("✗") and str(failed.value).rstrip() in view.text


def test_the_chapter_notebook_holds_every_katas_stub_once_and_validates(handed_out):
    nb = nbformat.read(str(handed_out / "chapter.ipynb"), as_version=4)
    nbformat.validate(nb)
    cells = [CELLS.kata_cell(c.source) for c in nb.cells if c.cell_type == "code"]
    found = {name: body for name, body in (c for c in cells if c)}
    katas = load_catalog(ROOT)
    assert list(found) == [k.number for k in katas]
    for kata in katas:
        assert CELLS.cell_to_file(found[kata.number]) == kata_source(kata.id, "katas")
    assert any(c.source.strip() == "%kata plot" for c in nb.cells), "k06's demonstration cell"


def test_plot_reimports_the_learners_k06_each_time_and_explains_a_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("KATAS_LANG", "en")
    NB.ensure_project(tmp_path)
    k06 = tmp_path / "katas" / "k06_xor_training.py"
    views = NB.run_line_magic("plot", tmp_path)
    assert template("cli_plot_not_ready", "en").format(function="train()") in views[-1].text  # the stub
    for word in ("first", "second"):
        k06.write_text(
            kata_source("k06_xor_training") + f"\n\ndef train(*args, **kwargs):\n    raise KeyError('{word}')\n"
        )
        views = NB.run_line_magic("plot", tmp_path)
        assert word in views[-1].text and "KeyError" in views[-1].text, views[-1].text


@pytest.mark.slow
def test_katas_notebook_writes_every_kata_the_chapter_and_the_wheel_the_first_cell_installs(tmp_path):
    done = katas_cli("notebook", str(tmp_path / "ko"), "--lang", "ko")
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in (tmp_path / "ko").iterdir())
    wheels = [n for n in names if n.endswith(".whl")]
    assert len(wheels) == 1 and wheels[0].startswith("backprop_katas-"), names  # built from this checkout
    assert sorted(set(names) - set(wheels)) == sorted([*(f"{k.id}.ipynb" for k in load_catalog(ROOT)), "chapter.ipynb"])
    first = nbformat.read(str(tmp_path / "ko" / f"{K01}.ipynb"), as_version=4)
    assert (
        f"%pip install -q {wheels[0]}" in first.cells[1].source and "%load_ext backprop_katas" in first.cells[1].source
    )
    assert "OWNER" not in first.cells[1].source and "git+" not in first.cells[1].source
    assert template("nb_md_functions", "ko") in first.cells[2].source  # Korean Markdown
    done = katas_cli("notebook", str(tmp_path / "none"), "--install", "none")
    assert done.returncode == 0
    first = nbformat.read(str(tmp_path / "none" / f"{K01}.ipynb"), as_version=4)
    assert "%pip" not in first.cells[1].source
    assert not list((tmp_path / "none").glob("*.whl"))


def _stub_outcome(kata_id=K01, function="prime_function"):
    from backprop_katas.kinds import Status
    from backprop_katas.kit.failure import Failure, Where

    kata = next(k for k in load_catalog(ROOT) if k.id == kata_id)
    error = {
        "kind": "stub",
        "type": "NotImplementedError",
        "message": "Return the derivative",
        "where": f"katas/{kata.filename}:40 in {function}",
        "traceback": "",
    }
    failure = Failure(kind="probe", error=error, where=Where(kata.filename, 40, function, "raised", "katas"))
    return kata, Outcome(
        kata.id, Status.FAILING, 0, 9, test="tests/test_k01_derivatives.py::test_x", failure=failure.to_data()
    )


def test_a_stub_in_the_notebook_is_to_be_replaced_in_this_cell_and_the_html_shows_code_not_backticks(tmp_path):
    kata, outcome = _stub_outcome()
    view = NB.render_outcome(tmp_path, kata, outcome, "en")
    assert "in this %%kata k01 cell" in view.text and f"in katas/{kata.filename}" not in view.text, view.text
    assert "`" not in view.html and "<code>raise NotImplementedError(...)</code>" in view.html


def test_a_finished_katas_next_is_named_with_the_notebook_that_holds_its_cell(tmp_path):
    from backprop_katas.kinds import Status

    katas = load_catalog(ROOT)
    view = NB.render_outcome(tmp_path, katas[0], Outcome(katas[0].id, Status.DONE, 9, 9), "en", following=katas[1])
    assert f"{katas[1].id}.ipynb" in view.text and "chapter.ipynb" in view.text
    assert f"Next: the %%kata {katas[1].number} cell." not in view.text  # the k01 notebook has no k02 cell


WHEEL = "backprop_katas-0.1.0-py3-none-any.whl"


def _first_cell(tmp_path, monkeypatch, built, install):
    """The first code cell `katas notebook` writes when the wheel build gives ``built``."""
    monkeypatch.setattr(NB, "build_wheel", lambda root, out: built)
    written = NB.write_notebooks(ROOT, tmp_path, "en", install, wheel=True)
    nb = nbformat.read(str(next(p for p in written if p.name == f"{K01}.ipynb")), as_version=4)
    return nb.cells[1].source


def test_without_a_wheel_or_an_install_source_katas_notebook_refuses_and_says_what_to_pass(tmp_path, monkeypatch):
    with pytest.raises(NB.NotebookError) as refused:
        _first_cell(tmp_path, monkeypatch, None, None)
    assert "--install" in str(refused.value) and "git+https://github.com/YOU/" in str(refused.value)
    assert not list(tmp_path.glob("*.ipynb")), "nothing written"


@pytest.mark.parametrize("install", [None, "backprop-katas==0.1.0"])
def test_the_first_cell_installs_the_wheel_beside_it_else_the_install_source(tmp_path, monkeypatch, install):
    from IPython.core.inputtransformer2 import TransformerManager

    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"")
    source = _first_cell(tmp_path, monkeypatch, wheel, install)
    python = TransformerManager().transform_cell(source)
    compile(python, "first-cell", "exec")  # the magics inside the if are valid IPython
    assert f"if pathlib.Path({WHEEL!r}).is_file():" in source
    assert f"run_line_magic('pip', 'install -q {WHEEL}')" in python
    if install:
        assert f"run_line_magic('pip', 'install -q {install}')" in python
    else:  # no other source: a missing wheel is said in words
        assert "raise SystemExit" in source and "is not next to this notebook" in source


def test_the_install_source_alone_is_installed_when_no_wheel_could_be_built(tmp_path, monkeypatch):
    source = _first_cell(tmp_path, monkeypatch, None, "backprop-katas==0.1.0")
    assert "%pip install -q backprop-katas==0.1.0" in source and "pathlib" not in source


def test_katas_notebook_without_nbformat_says_writing_needs_it(tmp_path, monkeypatch, capsys):
    from backprop_katas.tool import cli

    monkeypatch.chdir(ROOT)
    for name in ("nbformat", "nbformat.v4"):
        monkeypatch.setitem(sys.modules, name, None)  # `import nbformat` raises ImportError
    assert cli.main(["notebook", str(tmp_path / "out"), "--lang", "en"]) == 2
    said = capsys.readouterr()
    assert "writing notebooks needs nbformat" in said.out + said.err
    assert "reading notebooks" not in said.out + said.err


# --- notebooks as submissions -------------------------------------------------------------------


def notebook_submission(folder: Path, handed_out: Path, body: str | None) -> Path:
    folder.mkdir(parents=True)
    nb = nbformat.read(str(handed_out / f"{K01}.ipynb"), as_version=4)
    if body is not None:
        nb = with_cell(handed_out / f"{K01}.ipynb", "k01", body)
    nbformat.write(nb, str(folder / f"{K01}.ipynb"))
    return folder


CLASS = {"alice-reference": kata_source(K01), "bob-stub": None, "carol-mistake": kata_source(K01).replace(*MISTAKE)}


@pytest.mark.grading
@pytest.mark.slow
def test_pytest_grade_reads_a_notebook_folder_and_lists_the_cells_it_ignored(handed_out, tmp_path):
    learner = notebook_submission(tmp_path / "alice", handed_out, kata_source(K01).replace(*MISTAKE))
    got = pytest_grade(learner, tmp_path / "results.json")
    assert 0 < got["score"] < 10
    assert f"{K01}.py" not in got["extra_data"]["missing_files"]
    assert any(i.startswith(f"{K01}.ipynb: cells ") for i in got["extra_data"]["ignored_files"])


def test_extraction_takes_only_kata_cells_lists_the_rest_and_survives_a_broken_notebook(handed_out, tmp_path):
    learner = notebook_submission(tmp_path / "alice", handed_out, kata_source(K01))
    (learner / "broken.ipynb").write_text("{ not a notebook", encoding="utf-8")
    files = [f"{k.id}.py" for k in load_catalog(ROOT)]
    found = CELLS.extract_submission(learner, files)
    assert found.files == {f"{K01}.py": kata_source(K01).encode()}
    assert any(i.startswith("broken.ipynb (") and "cannot be read" in i for i in found.ignored), found.ignored
    assert any(i.startswith(f"{K01}.ipynb: cells ") for i in found.ignored), found.ignored


def grades(subs: Path, out: Path) -> dict[str, tuple[float, str]]:
    done = katas_cli("grade", str(subs), "--out", str(out), "--kata", "k01", "--workers", "1", "--no-progress")
    assert (out / "gradebook.sqlite").is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return {r[0]: (r[1], r[2]) for r in db.execute("SELECT learner, score, content_hash FROM grades")}


@pytest.mark.grading
@pytest.mark.slow
def test_a_class_of_notebooks_grades_exactly_like_the_same_answers_as_py_files(handed_out, tmp_path):
    as_py, as_nb = tmp_path / "py", tmp_path / "nb"
    for name, body in CLASS.items():
        (as_py / name).mkdir(parents=True)
        (as_py / name / f"{K01}.py").write_text(body or kata_source(K01, "katas"), encoding="utf-8")
        notebook_submission(as_nb / name, handed_out, body)
    (as_nb / "dave-broken").mkdir()
    (as_nb / "dave-broken" / f"{K01}.ipynb").write_text('{"cells": [', encoding="utf-8")
    py, nb = grades(as_py, tmp_path / "py-out"), grades(as_nb, tmp_path / "nb-out")
    assert py["alice-reference"][0] == 10 and py["bob-stub"][0] == 0 and 0 < py["carol-mistake"][0] < 10
    assert {k: v for k, v in nb.items() if k != "dave-broken"} == py  # same scores, same graded bytes
    assert nb["dave-broken"][0] == 0
    feedback = (tmp_path / "nb-out" / "feedback" / "dave-broken.md").read_text(encoding="utf-8")
    assert "cannot be read as a notebook" in feedback


# --- the session's language sticks (issue 20, item 1) ----------------------------------------

K01_HEADLINE_TEST = "tests/test_k01_derivatives.py::test_autograd_through_sigmoid_is_finite_at_the_extremes[float32]"


class _Checker:
    """Checker's two calls, answering without a child process: every kata fails one test."""

    def __init__(self, root: Path, target: Path, katas: list) -> None:
        self.katas = katas

    def check(self, kata, run_stub: bool = False) -> Outcome:
        from backprop_katas.kinds import Status

        return Outcome(kata.id, Status.FAILING, 44, 55, K01_HEADLINE_TEST)

    def check_many(self, katas) -> dict[str, Outcome]:
        return {k.id: self.check(k) for k in katas}

    def cached(self, kata) -> Outcome | None:
        return None


def _said(views) -> str:
    return "\n".join(v.text for v in views)


def test_lang_on_one_magic_line_sets_the_language_for_every_later_line(tmp_path, monkeypatch):
    monkeypatch.setenv("KATAS_LANG", "en")  # the kernel's environment says English
    monkeypatch.setattr(NB, "_kernel_lang", None)
    monkeypatch.setattr(NB, "Checker", _Checker)
    NB.ensure_project(tmp_path)
    failing_ko = template("nb_failing", "ko").split("{title}: ")[1].split(".")[0]  # 아직 통과하지 못했습니다
    first = _said(NB.run_line_magic("--lang ko", tmp_path))
    assert say("cli_status_failing", lang="ko") in first and "failing" not in first, first
    for checked in (
        _said(NB.run_cell_magic("k01", kata_source("k01_derivatives", "katas"), tmp_path)),
        _said(NB.run_line_magic("k01", tmp_path)),
    ):
        assert failing_ko in checked and "not yet" not in checked, checked
        assert say("cli_first_failure", lang="ko", passed=44, total=55, test="") in checked
        assert "아주 큰 입력에서도 유한합니다 [float32]" in checked, "the Korean title, not the pytest name"
    hint = _said(NB.run_line_magic("hint k01", tmp_path))
    assert "힌트 1/" in hint and "Hint" not in hint, hint
    # a line may name another language; that one then holds
    english = _said(NB.run_line_magic("k01 --lang en", tmp_path))
    assert "not yet, 44 of 55 checks pass" in english and "힌트" not in english
    assert "Hint 1/" in _said(NB.run_line_magic("hint k01", tmp_path))
