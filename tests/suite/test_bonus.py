"""A bonus kata (katas.toml: ``bonus = true``): shown after the others with its own points, counted
in a grade only when the instructor says so (``graded = true`` in katas.toml, or ``--kata``)."""

from __future__ import annotations

import csv
import shutil

import pytest
from grading_helpers import ROOT, katas_cli, pytest_grade, submission

from backprop_katas.catalog import counted, kata_table, load_catalog, total_points
from backprop_katas.kinds import Status
from backprop_katas.tool.check import Outcome
from backprop_katas.tool.cli import summary

CATALOG = load_catalog(ROOT)
BONUS = [k for k in CATALOG if k.bonus]
CORE = [k for k in CATALOG if not k.bonus]


def test_the_bonus_kata_comes_after_the_others_and_the_total_stays_100():
    assert "k07_own_autograd" in [k.id for k in BONUS]
    assert CATALOG[-len(BONUS) :] == BONUS  # the learner's table shows them after the chapter's katas
    assert total_points(CATALOG) == sum(k.points for k in CORE) == 100


def test_a_grade_leaves_the_bonus_kata_out_unless_asked_for():
    k07 = next(k for k in CATALOG if k.id == "k07_own_autograd")
    assert counted(CATALOG) == CORE
    for asked in (["k07"], ["k07_own_autograd"], ["k01", "k07"]):
        assert counted(CATALOG, asked) == [k for k in CATALOG if k in CORE or k == k07], asked


def test_graded_true_in_katas_toml_counts_the_bonus_kata(tmp_path):
    text = (ROOT / "katas.toml").read_text(encoding="utf-8")
    (tmp_path / "katas.toml").write_text(text.replace("bonus = true", "bonus = true\ngraded = true"), encoding="utf-8")
    catalog = load_catalog(tmp_path)
    assert counted(catalog) == catalog
    assert total_points(catalog) == 100  # the learner's total is the six katas' still


def test_the_learners_header_counts_the_six_katas_and_the_bonus_row_keeps_its_own_points():
    outcomes = {k.id: Outcome(k.id, Status.DONE, score=k.points * 100, max_score=k.points * 100) for k in CATALOG}
    counts = summary(CATALOG, outcomes)
    assert (counts["done"], counts["total"], counts["max_points"]) == (len(CORE), len(CORE), 100)
    assert counts["points"] == 100


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_docs_kata_table_lists_every_kata_and_marks_the_bonus(lang):
    table = kata_table(CATALOG, lang).splitlines()
    assert len(table) == 2 + len(CATALOG)
    assert [row.split("|")[1].strip() for row in table[2:]] == [k.number for k in CATALOG]
    bonus_rows = [row for row in table[2:] if row.split("|")[1].strip() in {k.number for k in BONUS}]
    assert all(("bonus" if lang == "en" else "보너스") in row for row in bonus_rows)


@pytest.mark.slow
@pytest.mark.grading
def test_katas_grade_counts_k07_only_with_kata_k07(tmp_path):
    subs = tmp_path / "class"
    submission(subs / "ada", "solutions")
    default = tmp_path / "default"
    done = katas_cli(
        "grade",
        str(subs),
        "--out",
        str(default),
        "--kata",
        "k01",
        "-k",
        "function_squares",
        "--no-progress",
        "--workers",
        "1",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with open(default / "grades.csv", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert [c for c in header if c.startswith("k")] == [k.id for k in CORE]  # the gradebook's columns as before

    shutil.rmtree(default)
    asked = tmp_path / "asked"
    done = katas_cli("grade", str(subs), "--out", str(asked), "--kata", "k07", "--no-progress", "--workers", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    with open(asked / "grades.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert float(rows[0]["k07_own_autograd"]) == float(BONUS[0].points)


@pytest.mark.slow
@pytest.mark.grading
def test_pytest_grade_counts_k07_only_when_its_test_file_is_named(tmp_path):
    # `pytest --grade` on the tests folder collects k07's tests too; like `katas grade` and Gradescope, the
    # grade leaves the bonus out (and says how to count it) unless the command line names its test file.
    ada = submission(tmp_path / "ada", "solutions")
    pick = ("-k", "function_squares or a_node_used_twice")
    folder = pytest_grade(ada, tmp_path / "folder.json", "tests", *pick, tests=())
    assert {t["name"].split(" ")[0] for t in folder["tests"]} == {"k01_derivatives"}
    assert "Bonus kata k07_own_autograd: collected but not counted" in folder["_stdout"]
    assert "tests/test_k07_own_autograd.py" in folder["_stdout"]
    named = pytest_grade(ada, tmp_path / "named.json", *pick, tests=("k01_derivatives", "k07_own_autograd"))
    assert {t["name"].split(" ")[0] for t in named["tests"]} == {"k01_derivatives", "k07_own_autograd"}
    assert named["score"] == named["max_score"] > folder["score"] == folder["max_score"] > 0
