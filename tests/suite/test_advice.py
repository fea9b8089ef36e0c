"""Advice that works when followed: the forms the docstrings, hints and likely causes recommend,
written as a learner would write them, pass the kata's tests; the look-alike forms they warn
against fail with the cause that says why.

Each form replaces one function of a copy of solutions/ and runs that function's tests with
``-x``, as ``katas`` runs them.
"""

from __future__ import annotations

import pytest
from helpers import ROOT, copy_solutions, read_toml, run_kata_tests

from backprop_katas.lang import Msg, say

KATA = "k01_derivatives"
SIGMOID_BODY = (
    "    e = torch.exp(torch.where(x >= 0, -x, x))  # e^(-|x|), in (0, 1]\n"
    "    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))\n"
)
BRANCHES = "    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))\n"
ADVISED = "torch.exp(torch.where(x >= 0, -x, x))"  # the form every piece of advice below names

# form id → (the sigmoid body a learner writes, None if it must pass / the cause its failure names)
SIGMOID_FORMS = {
    "where-as-advised": (f"    e = {ADVISED}\n{BRANCHES}", None),
    "clamp-per-branch": (
        "    pos = 1 / (1 + torch.exp(-x.clamp(min=0)))\n"
        "    neg = torch.exp(x.clamp(max=0)) / (1 + torch.exp(x.clamp(max=0)))\n"
        "    return torch.where(x >= 0, pos, neg)\n",
        None,
    ),
    "torch-abs": (f"    e = torch.exp(-torch.abs(x))\n{BRANCHES}", "cause_kink_at_zero"),
    "abs-method": (f"    e = (-x.abs()).exp()\n{BRANCHES}", "cause_kink_at_zero"),
    "minimum": (f"    e = torch.exp(torch.minimum(x, -x))\n{BRANCHES}", "cause_kink_at_zero"),
    "naive": ("    return 1 / (1 + torch.exp(-x))\n", "cause_overflow"),
}


def _catalog_kata(kata_id):
    katas = read_toml(ROOT / "katas.toml")["kata"]
    return next(k for k in katas if k["id"] == kata_id)


def test_every_piece_of_sigmoid_advice_names_the_form_this_check_runs():
    # The docstring, the hint and the likely causes recommend exactly the form run below (and say
    # why not torch.abs); if one of them changes its advice, this check must change with it.
    solution = (ROOT / "solutions" / f"{KATA}.py").read_text(encoding="utf-8")
    assert "torch.where(x >= 0, -x, x)" in solution and "not -torch.abs(x)" in solution
    hint = _catalog_kata(KATA)["hints"]["en"][2]
    assert ADVISED in hint and "torch.abs" in hint
    for cause in ("cause_overflow", "cause_kink_at_zero"):
        text = say(cause, lang="en")
        assert ADVISED in text and "torch.abs" in text, cause


@pytest.mark.parametrize("form", sorted(SIGMOID_FORMS))
def test_a_sigmoid_written_as_advised_passes_and_a_look_alike_is_told_why(form, tmp_path, monkeypatch):
    monkeypatch.setenv("KATAS_LANG", "en")
    body, cause = SIGMOID_FORMS[form]
    folder = copy_solutions(tmp_path)
    path = folder / f"{KATA}.py"
    source = path.read_text(encoding="utf-8")
    assert source.count(SIGMOID_BODY) == 1
    path.write_text(source.replace(SIGMOID_BODY, body), encoding="utf-8")

    outcome = run_kata_tests(KATA, folder, "-x", "-k", "sigmoid and not sigmoid_prime")
    if cause is None:
        assert not outcome.failed, f"the advised form {form} fails:\n{next(iter(outcome.failed.values()))}"
        assert outcome.passed
        return
    assert outcome.failed, f"the form {form} passes every sigmoid test"
    (nodeid, text), *_ = outcome.failed.items()
    failure = outcome.failures[nodeid]
    assert failure.cause_keys == [cause], f"{nodeid} says:\n{text}"
    if cause == "cause_kink_at_zero":  # the message shows the input where the learner's |x| has no slope
        at = [m for m in failure.lines if isinstance(m, Msg) and m.key == "worst_input"]
        assert at and at[0].fields["value"] == "0", text
