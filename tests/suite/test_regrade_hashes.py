"""What a kept grade was graded from (issue 19, items 3 and 5): per kata, the files and the rules.

A kata's score is kept only while its own file and its own rules are unchanged: another kata's
file or another kata's hidden test changes nothing, and a kept kata whose file changed is
reported (`batch.changed_since_graded`), never paired silently with the new files.
"""

from __future__ import annotations

import shutil

import pytest
from grading_helpers import CATALOG, K01, ROOT, submission

from backprop_katas.grading.batch import Row, changed_since_graded, rules_hash
from backprop_katas.grading.gradebook import submission_hashes

EXAMPLE = ROOT / "examples" / "hidden_tests" / "test_k05_backprop_hidden.py"


def rules(hidden):
    return {k.id: rules_hash(ROOT, [k], hidden) for k in CATALOG}


def test_a_new_hidden_test_changes_the_rules_of_its_own_kata_only(tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    before = rules(hidden)
    shutil.copy(EXAMPLE, hidden / "test_k05_more.py")  # named by its file: k05
    after = rules(hidden)
    assert [k for k in before if before[k] != after[k]] == ["k05_backprop"]
    # Named by KATA = "..." inside a file whose name says nothing
    (hidden / "test_extra.py").write_text('KATA = "k02_parameters"\n\ndef test_x():\n    pass\n', encoding="utf-8")
    again = rules(hidden)
    assert [k for k in after if after[k] != again[k]] == ["k02_parameters"]
    # A file of no kata (a helper, a conftest) may change any kata's tests: every kata's rules change.
    (hidden / "conftest.py").write_text("X = 1\n", encoding="utf-8")
    last = rules(hidden)
    assert all(again[k] != last[k] for k in again)


def test_a_probe_module_belongs_to_its_kata_only(tmp_path, monkeypatch):
    from backprop_katas.grading import batch

    probes = tmp_path / "probes"
    shutil.copytree(
        ROOT / "src" / "backprop_katas" / "kit" / "probes", probes, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(batch, "probe_folder", lambda: probes)
    before = rules(None)
    with open(probes / "k03_computation_graph.py", "a", encoding="utf-8") as handle:
        handle.write("\n# changed\n")
    after = rules(None)
    assert [k for k in before if before[k] != after[k]] == ["k03_computation_graph"]


def test_each_kata_is_hashed_from_its_own_file(tmp_path):
    learner = submission(tmp_path / "bob")
    before = submission_hashes(learner, CATALOG)[1]
    assert set(before) == {k.id for k in CATALOG}
    (learner / "k06_xor_training.py").write_text("# fixed\n", encoding="utf-8")
    (learner / "notes.txt").write_text("not a kata file", encoding="utf-8")
    after = submission_hashes(learner, CATALOG)[1]
    assert [k for k in before if before[k] != after[k]] == ["k06_xor_training"]
    (learner / f"{K01}.py").unlink()
    assert submission_hashes(learner, CATALOG)[1][K01] != before[K01]  # a missing file is a change too


def _row(graded_from):
    results = {"score": 0, "max_score": 0, "tests": [], "extra_data": {"graded_from": graded_from}}
    return Row("bob", "h", "r", "2.13", "2026-12-06T10:00:00+00:00", 1.0, 0, 0, {}, results)


def test_a_kept_kata_whose_file_changed_is_named_with_when_it_was_graded():
    now = {"k01_derivatives": "a1", "k06_xor_training": "f2"}
    row = _row(
        {
            "k01_derivatives": ["a1", "r1", "2026-12-06T10:00:00+00:00"],
            "k06_xor_training": ["f1", "r6", "2026-12-05T09:00:00+00:00"],
        }
    )
    assert changed_since_graded(row, now, graded=["k01_derivatives"]) == {
        "k06_xor_training": "2026-12-05T09:00:00+00:00"
    }
    assert changed_since_graded(row, now, graded=["k01_derivatives", "k06_xor_training"]) == {}
    unchanged = {"k01_derivatives": "a1", "k06_xor_training": "f1"}
    assert changed_since_graded(row, unchanged, graded=["k01_derivatives"]) == {}
    old_format = _row({"k06_xor_training": ["whole-submission-hash", "r6"]})  # a gradebook from before 19
    assert changed_since_graded(old_format, now, graded=[]) == {"k06_xor_training": "2026-12-06T10:00:00+00:00"}


def test_a_notebook_katas_hash_follows_its_cell(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    learner = tmp_path / "nb"
    learner.mkdir()
    body = (ROOT / "solutions" / f"{K01}.py").read_text(encoding="utf-8")

    def write(cells):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells]
        nbformat.write(notebook, str(learner / f"{K01}.ipynb"))
        return submission_hashes(learner, CATALOG)[1][K01]

    first = write([f"%%kata k01\n{body}"])
    assert write(["import torch", f"%%kata k01\n{body}"]) != first  # cell 2 now: the feedback names another cell
    assert write([f"%%kata k01\n{body}"]) == first


def _check(test_id, part):
    return {"id": test_id, "kata": K01, "part": part, "status": "passed", "hidden": False, "name": test_id}


def test_a_k_run_on_a_changed_file_keeps_the_kata_graded_from_the_old_file_and_marked():
    from backprop_katas.grading.batch import _record
    from backprop_katas.grading.pool import Options
    from backprop_katas.grading.results import build

    parts = list(CATALOG[0].weights)
    old_results = build(CATALOG, [_check(f"t{i}", p) for i, p in enumerate(parts)], [], {}, 1.0)
    old_results["extra_data"]["graded_from"] = {K01: ["old-file", "rules", "2026-12-05T09:00:00+00:00"]}
    old = Row("bob", "h", "r", "2.13", "2026-12-05T09:00:00+00:00", 1.0, 10.0, 10.0, {}, old_results)
    rerun = build(CATALOG, [_check("t0", parts[0])], [], {}, 1.0)  # -k ran one test on the new file
    now = {k.id: "new-file" for k in CATALOG}
    rules = {K01: "rules|-k t0"}
    options = Options(submissions=ROOT, out=ROOT, select="t0", katas=["k01"])
    row = _record(CATALOG, "bob", old, rerun, [CATALOG[0]], "digest", now, rules, options, 1.0)
    extra = row.results["extra_data"]
    assert extra["graded_from"][K01] == ["old-file", "rules", "2026-12-05T09:00:00+00:00"]  # not the new file
    assert extra["changed_since_graded"] == {K01: "2026-12-05T09:00:00+00:00"}
    whole = _record(
        CATALOG,
        "bob",
        old,
        rerun,
        [CATALOG[0]],
        "digest",
        now,
        {K01: "rules"},
        Options(submissions=ROOT, out=ROOT, katas=["k01"]),
        1.0,
    )
    assert whole.results["extra_data"]["graded_from"][K01][0] == "new-file"  # --kata alone: every k01 test ran
    assert whole.results["extra_data"]["changed_since_graded"] == {}
