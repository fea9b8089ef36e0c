"""The stub generator and the catalog."""

from __future__ import annotations

import ast
import textwrap

import pytest
from helpers import ROOT

from backprop_katas.catalog import ProjectNotFound, find_root, load_catalog
from backprop_katas.generate import MarkerError, find_regions, make_stub

SOURCE = textwrap.dedent(
    '''
    import torch


    def keep():
        return 1


    class Thing:
        def method(self, x):
            r"""Return x doubled (두 배)."""
            # BEGIN SOLUTION
            return 2 * x
            # END SOLUTION


    def task(a, b=3):
        r"""Add a and b.

        More words.
        """
        total = 0
        # BEGIN SOLUTION
        total = a + b
        # END SOLUTION
        return total
    '''
)


def test_stub_replaces_each_region_with_a_todo_and_a_named_raise():
    stub = make_stub(SOURCE, "k09_demo")
    assert "2 * x" not in stub and "a + b" not in stub
    assert "raise NotImplementedError('k09_demo.Thing.method: Return x doubled (두 배).')" in stub
    assert "# TODO: Add a and b." in stub
    assert "raise NotImplementedError('k09_demo.task: Add a and b.')" in stub
    assert "def keep():\n    return 1" in stub  # code outside the markers stays
    assert "    total = 0\n" in stub and "    return total\n" in stub  # around the region too
    ast.parse(stub)  # still valid Python


def test_stub_of_a_stub_is_unchanged():
    stub = make_stub(SOURCE, "k09_demo")
    assert make_stub(stub, "k09_demo") == stub


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def f():\n    '''Doc.'''\n    # BEGIN SOLUTION\n    return 1\n", "never closed"),
        ("def f():\n    '''Doc.'''\n    return 1\n    # END SOLUTION\n", "without"),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "inside a function"),
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", "needs a docstring"),
        (
            "def f():\n    '''D.'''\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n",
            "inside another",
        ),
    ],
)
def test_bad_markers_are_reported(source, problem):
    with pytest.raises(MarkerError, match=problem):
        find_regions(source)


def test_catalog_has_every_kata_in_both_languages_with_two_hints():
    katas = load_catalog(ROOT)
    assert [k.number for k in katas] == [f"k{n:02d}" for n in range(1, len(katas) + 1)]  # k01, k02, ... in order
    assert [k.id for k in katas] == sorted(p.stem for p in (ROOT / "solutions").glob("k[0-9][0-9]_*.py"))
    for kata in katas:
        for lang in ("en", "ko"):
            assert kata.title[lang].strip() and kata.task[lang].strip()
            assert len(kata.hints[lang]) >= 2 and all(h.strip() for h in kata.hints[lang])
        assert len(kata.hints["en"]) == len(kata.hints["ko"])
    assert all(isinstance(k.points, int) and k.points > 0 for k in katas)


def test_catalog_refuses_a_kata_without_korean(tmp_path):
    text = (ROOT / "katas.toml").read_text(encoding="utf-8").replace('title.ko = "미분 계산하기"', "", 1)
    (tmp_path / "katas.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"k01_derivatives has no title\.ko"):
        load_catalog(tmp_path)


def test_outside_a_project_the_error_says_where_to_go(tmp_path):
    with pytest.raises(ProjectNotFound, match="Run this from the backprop-katas folder"):
        find_root(tmp_path)
