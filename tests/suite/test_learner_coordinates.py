"""Feedback in the learner's own coordinates (issue 19, item 4): the file as handed in
(``k01_derivatives.py:105``, never the grader's per-kata scratch folder in front), and for a
notebook learner the notebook, the cell and the cell's line — in the terminal, in results.json
(what Gradescope shows) and in the Markdown feedback, which are all rendered from the same data.
"""

from __future__ import annotations

import json
import re

import pytest
from grading_helpers import K01, kata_source, pytest_grade, submission

from backprop_katas.grading.runner import learner_text, learner_where
from backprop_katas.kinds import ProbeErrorKind
from backprop_katas.kit.failure import Failure, ProbeError, Where, render

CELLS = {f"{K01}.py": (f"{K01}.ipynb, cell 4", 2)}  # the file's line 1 is the cell's line 3
RAISES = "\n\ndef sigmoid(x):\n    raise ValueError('oops')\n"


def test_the_scratch_folder_and_absolute_paths_go_and_a_notebooks_file_becomes_its_cell():
    child = 'at k04_autograd/k04_autograd.py:34 in autograd_gradients\n  File "/tmp/k04_autograd/k04_autograd.py", line 34, in autograd_gradients'
    assert learner_text(child, CELLS) == (
        'at k04_autograd.py:34 in autograd_gradients\n  File "k04_autograd.py", line 34, in autograd_gradients'
    )
    nb = f'at {K01}/{K01}.py:10 in sigmoid\n  File "/tmp/x/{K01}/{K01}.py", line 10, in sigmoid'
    assert learner_text(nb, CELLS) == (
        f'at {K01}.ipynb, cell 4, line 12 in sigmoid\n  File "{K01}.ipynb", cell 4, line 12, in sigmoid'
    )


def test_a_place_as_data_names_the_cell_and_the_cells_line():
    at = Where(f"{K01}.py", 10, "sigmoid", "raised", K01)
    assert learner_where(at, {}).shown() == f"{K01}.py:10"
    moved = learner_where(at, CELLS)
    assert moved.shown() == f"{K01}.ipynb, cell 4, line 12"
    assert Where.from_data(json.loads(json.dumps(moved.to_data()))) == moved  # results.json keeps it
    stub = ProbeError(ProbeErrorKind.STUB, "NotImplementedError", "todo", "", "", moved)
    assert f"{K01}.ipynb, cell 4" in stub.render("en") and f"{K01}.py" not in stub.render("en")
    judged = render(Failure(kind="judge", where=moved), "en")
    assert f"{K01}.ipynb, cell 4, line 12" in judged


def raised_line(source: str) -> int:
    return source.splitlines().index("    raise ValueError('oops')") + 1


@pytest.mark.grading
@pytest.mark.slow
def test_a_py_learner_and_a_notebook_learner_are_shown_their_own_file_and_cell(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    body = kata_source(K01) + RAISES
    line = raised_line(body)
    py = submission(tmp_path / "py", files={f"{K01}.py": body})
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# k01"),
        nbformat.v4.new_code_cell("import torch"),
        nbformat.v4.new_code_cell(f"\n%%kata k01\n{body}"),
    ]
    learner = tmp_path / "nb"
    learner.mkdir()
    nbformat.write(notebook, str(learner / f"{K01}.ipynb"))

    got = pytest_grade(py, tmp_path / "py.json", "-k", "sigmoid_matches")
    shown = json.dumps(got["tests"]) + got["_stdout"]
    assert f"{K01}.py:{line} in sigmoid" in shown and f'File "{K01}.py", line {line}' in shown, shown[-3000:]
    assert f"{K01}/{K01}.py" not in shown and 'File "/tmp/' not in shown, shown[-3000:]

    got = pytest_grade(learner, tmp_path / "nb.json", "-k", "sigmoid_matches")
    shown = json.dumps(got["tests"], ensure_ascii=False) + got["_stdout"]
    cell_line = line + 2  # a blank line, then the %%kata line, above the file's first line
    assert f"{K01}.ipynb, cell 3, line {cell_line} in sigmoid" in shown, shown[-3000:]
    assert f'File "{K01}.ipynb", cell 3, line {cell_line}, in sigmoid' in shown, shown[-3000:]
    places = re.findall(rf"(?<!test_){K01}\.py\S*", shown)  # the kata file, not the test file's name
    assert not places, places
    where = next(c["failure"]["where"] for c in got["extra_data"]["checks"] if c.get("failure"))
    assert where["cell"] == f"{K01}.ipynb, cell 3" and where["line"] == cell_line
