"""The diagnosis names the right cause: one mutant per cause, and no cause for a right answer.

Each mutant makes exactly one mistake in a copy of solutions/. Its kata's
tests run with ``-x``, as ``katas`` runs them, so the claim is about what a
learner actually sees: the *first* failure names this cause, and no other.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import copy_solutions, run_kata_tests
from kata_mutants import MUTANTS as ALL_MUTANTS

from backprop_katas.kit import oracles as O
from backprop_katas.kit.judge import diagnose
from backprop_katas.lang import keys, template

CAUSES = sorted(k for k in keys() if k.startswith("cause_") and k != "cause_for")

MUTANTS = {m.cause: m for m in ALL_MUTANTS if m.cause}


def cause_pattern(key: str) -> re.Pattern[str]:
    """The English sentence of a cause, with its fields ({n}) matching anything."""
    parts = re.split(r"\{[^}]*\}", template(key, "en"))
    return re.compile(".+?".join(re.escape(p) for p in parts))


def named_causes(text: str) -> set[str]:
    return {key for key in CAUSES if cause_pattern(key).search(text)}


def test_every_cause_has_a_mutant():
    assert sorted(MUTANTS) == CAUSES


@pytest.mark.parametrize("cause", CAUSES)
def test_the_first_failure_of_a_mutant_names_exactly_its_cause(cause, tmp_path, monkeypatch):
    monkeypatch.setenv("KATAS_LANG", "en")
    kata, old, new = MUTANTS[cause].kata, MUTANTS[cause].old, MUTANTS[cause].new
    folder = copy_solutions(tmp_path)
    path = folder / f"{kata}.py"
    source = path.read_text(encoding="utf-8")
    assert source.count(old) == 1, f"the mutant's anchor is not unique in solutions/{kata}.py: {old!r}"
    path.write_text(source.replace(old, new), encoding="utf-8")

    outcome = run_kata_tests(kata, folder, "-x")
    assert outcome.failed, f"the {cause} mutant of {kata} passes every test"
    (nodeid, text), *_ = outcome.failed.items()
    assert named_causes(text) == {cause}, f"{nodeid} says:\n{text}"


def test_diagnose_is_silent_on_right_answers_of_every_shape():
    # With the kata tests passing on solutions/ (the main run), this is the other half of
    # "no cause for a correct solution": the numbers of a right answer match no pattern.
    rng = np.random.default_rng(0)
    for shape in [(), (5,), (3, 4), (4, 3), (6, 1)]:
        expected = rng.normal(size=shape)
        candidates = {"cause_no_activation_derivative": 3 * expected + 1}
        assert diagnose(expected.copy(), expected, batch=6, candidates=candidates) == []
    params = O.random_xor_params(rng, 2, 3)
    grads = O.numerical_gradient(lambda p: O.xor_loss(p, O.XOR_X, O.XOR_T), params)
    for grad in grads.values():
        assert diagnose(grad, grad, batch=4) == []


@pytest.mark.parametrize(
    ("cause", "make"),
    [
        ("cause_factor_2", lambda g: 2 * g),
        ("cause_half", lambda g: g / 2),
        ("cause_sign", lambda g: -g),
        ("cause_missing_mean", lambda g: 8 * g),
        ("cause_extra_mean", lambda g: g / 8),
        ("cause_transposed", lambda g: g.T),
    ],
)
def test_diagnose_recognises_each_pattern_from_the_numbers_alone(cause, make):
    expected = np.random.default_rng(1).normal(size=(3, 5))
    causes = diagnose(make(expected), expected, batch=8)
    assert named_causes("\n".join(c.render("en") for c in causes)) == {cause}


def test_a_matching_candidate_outranks_a_ratio_that_happens_to_agree():
    expected = np.arange(1.0, 6.0)
    causes = diagnose(expected / 2, expected, candidates={"cause_grad_reset": expected / 2})
    assert named_causes("\n".join(c.render("en") for c in causes)) == {"cause_grad_reset"}
