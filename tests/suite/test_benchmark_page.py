"""Issue 22's table of goals (benchmarks/ratios.py) and the Benchmarks page generated from a run's JSON
(benchmarks/docs_page.py): every figure beside its goal, a missed goal said, an unmeasured figure said."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str) -> ModuleType:
    """A script of benchmarks/ by its path (benchmarks/ is not a package, and stays off sys.path here)."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


ratios, docs_page = load("ratios"), load("docs_page")

MEASURED = {
    "all katas": {"wall": [9.0, 8.0, 10.0], "cpu": [12.0, 11.0, 13.0], "load": [0.5, 0.6, 0.7]},
    "chapter script": {"wall": [5.0, 5.0, 5.0], "cpu": [4.0, 4.0, 4.0], "load": [0.5, 0.5, 0.5]},
}
EXTERNAL = {
    "warm_check": {
        "load": 1.25,
        "json": {
            "import torch": {"wall": 1.0},
            "chapter script": {"wall": 5.0},
            "cold katas check k01 --no-server": {"wall": 1.4},
            "warm re-check k01 (as katas watch)": {"wall": 0.3},
            "warm re-check k02 (as katas watch)": {"wall": 0.2},
            "warm re-check k06 (as katas watch)": {"wall": 5.5},
        },
    },
    "grade_floor": {
        "json": {"learners": 40, "katas_grade_s": 100.0, "katas_grade_cpu_s": 180.0, "load_average_1min_at_end": 2.5}
    },
}


def test_every_figure_of_issue_22_is_computed_beside_its_goal():
    rows = {r["key"]: r for r in ratios.issue22(MEASURED, EXTERNAL)}
    assert list(rows) == list(ratios.ISSUE22)
    assert rows["full check"]["value"] == pytest.approx(9.0 / 5.0) and rows["full check"]["met"] is True
    assert rows["full check"]["load"] == 0.6
    assert rows["cold k01"]["value"] == pytest.approx(1.4) and rows["cold k01"]["met"] is True
    assert rows["warm k01"]["value"] == pytest.approx(0.3) and rows["warm k01"]["met"] is False
    assert rows["warm k02"]["met"] is True and rows["warm k02"]["load"] == 1.25
    assert rows["warm k06"]["value"] == pytest.approx(1.1) and rows["warm k06"]["met"] is True
    assert rows["class of 300"]["value"] == pytest.approx(750.0) and rows["class of 300"]["met"] is True
    assert "4.5 s CPU per learner" in rows["class of 300"]["how"]
    assert rows["ci"]["value"] is None and "--bench-ci" in rows["ci"]["how"]


def test_a_run_that_measured_nothing_says_so_for_every_figure():
    rows = ratios.issue22({}, {})
    assert all(r["value"] is None and r["met"] is None and "not measured" in r["how"] for r in rows)
    assert all("not measured" in line for line in ratios.render22(rows))


def test_the_terminal_lines_name_the_goal_the_verdict_and_the_load():
    lines = ratios.render22(ratios.issue22(MEASURED, EXTERNAL))
    assert len(lines) == len(ratios.ISSUE22)
    warm_k01 = next(line for line in lines if "warm re-check of k01" in line)
    assert "0.30×" in warm_k01 and "goal ≤ 0.25× — NOT met" in warm_k01 and "load 1.25" in warm_k01


def test_the_page_is_generated_from_the_json_with_machine_date_and_command():
    data = {
        "datetime": "2026-12-06T15:00:00",
        "machine_info": {"cpu": {"brand_raw": "Some CPU", "count": 2}, "system": "Linux", "python_version": "3.11.9"},
        "issue22": ratios.issue22(MEASURED, EXTERNAL),
    }
    text = docs_page.page(data)
    assert text.startswith("# Benchmarks\n")
    assert "2026-12-06T15:00:00" in text and "Some CPU, 2 logical cores" in text
    assert docs_page.COMMAND in text
    table = [line for line in text.splitlines() if line.startswith("| ") and "figure" not in line]
    assert len(table) == len(ratios.ISSUE22)
    assert "| 0.30× |" in text and "| not met |" in text and "750 s (12.5 min)" in text


def test_a_json_without_issue_22_is_refused():
    with pytest.raises(SystemExit, match="issue22"):
        docs_page.page({"datetime": "x"})
