"""Every public function of every kata has a written contract next to its tests."""

from __future__ import annotations

import ast

import pytest
from helpers import ROOT

from backprop_katas.catalog import load_catalog

CATALOG = load_catalog(ROOT)


def contracts_of(kata_id):
    """The CONTRACTS dict literal at the top of tests/test_<kata_id>.py."""
    tree = ast.parse((ROOT / "tests" / f"test_{kata_id}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["CONTRACTS"]:
            return ast.literal_eval(node.value)
    return None


@pytest.mark.parametrize("kata", CATALOG, ids=[k.id for k in CATALOG])
def test_every_public_function_has_a_contract(kata):
    contracts = contracts_of(kata.id)
    assert contracts is not None, f"tests/test_{kata.id}.py has no CONTRACTS table"
    assert sorted(contracts) == sorted(kata.functions), "CONTRACTS must name exactly the kata's functions"
    for name, lines in contracts.items():
        assert lines and all(isinstance(v, str) and v.strip() for v in lines.values()), name
