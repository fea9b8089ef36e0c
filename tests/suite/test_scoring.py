"""The scoring rule (scoring.py): weights per part, all-or-nothing parts, exact hundredths."""

from __future__ import annotations

import pytest
from helpers import ROOT, TESTS

from backprop_katas.catalog import load_catalog
from backprop_katas.scoring import Check, part_problems, score_kata, shown, split

CATALOG = load_catalog(ROOT)
K01 = next(k for k in CATALOG if k.id == "k01_derivatives")


class _Items:
    def __init__(self) -> None:
        self.items: list[pytest.Item] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = list(session.items)


def collected_parts() -> list[tuple[str, str, list[str], bool]]:
    collector = _Items()
    files = [str(TESTS / k.test_filename) for k in CATALOG]
    args = [*files, "--collect-only", "-q", "--target=solutions", "--rootdir", str(ROOT), "-p", "no:cacheprovider"]
    assert pytest.main(args, plugins=[collector]) == 0
    rows = []
    for item in collector.items:
        kata = item.path.stem.removeprefix("test_")
        parts = [str(m.args[0]) for m in item.iter_markers("part")]
        rows.append((kata, item.nodeid, parts, item.get_closest_marker("reference_only") is None))
    return rows


def test_every_kata_test_names_one_part_and_the_parts_are_exactly_the_weighted_ones():
    rows = collected_parts()
    assert {kata for kata, *_ in rows} == {k.id for k in CATALOG}
    assert part_problems({k.id: k.weights for k in CATALOG}, rows) == []


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([("k", "t1", [], True), ("k", "t2", ["a"], True)], "t1: 0 part markers"),
        ([("k", "t1", ["a", "a"], True), ("k", "t2", ["a"], True)], "t1: 2 part markers"),
        ([("k", "t1", ["a"], True), ("k", "t2", ["b"], True)], "does not weight"),
        ([("k", "t1", ["a"], True)], "'c' has a weight but no test"),
        ([("k", "t1", ["a"], True), ("k", "t2", ["c"], False)], "only reference_only"),
    ],
    ids=["no-marker", "two-markers", "unweighted-part", "part-without-test", "reference-only-part"],
)
def test_the_part_self_check_fails_on_each_kind_of_mismatch(rows, problem):
    problems = part_problems({"k": {"a": 1, "c": 1}}, rows)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("total", [1000, 1500, 2500, 1, 7, 99])
@pytest.mark.parametrize("weights", [[1, 3, 3, 2, 1], [1, 1, 1, 1, 1, 1, 1], [18, 7], [1, 1, 1]], ids=str)
def test_split_adds_up_exactly_and_never_strays_more_than_a_hundredth(total, weights):
    named = [(f"p{i}", float(w)) for i, w in enumerate(weights)]
    shares = split(total, named)
    assert sum(shares.values()) == total
    for name, weight in named:
        assert abs(shares[name] - total * weight / sum(weights)) < 1


def _k01(passing: dict[str, bool]) -> int:
    checks = [Check(f"{part}-{i}", part, ok) for part, ok in passing.items() for i in range(3)]
    return score_kata(K01.id, K01.points, K01.weights, K01.scoring, checks).earned


def test_a_part_is_earned_only_when_all_its_tests_pass():
    every = {part: True for part in K01.weights}
    assert _k01(every) == 1000
    # The case: prime_function wrong (weight 3 of 10) earns 7.00, not 7.7083.
    assert _k01({**every, "prime_function": False}) == 700
    checks = [Check(f"{p}-{i}", p, True) for p in K01.weights for i in range(3)]
    checks[3] = Check(checks[3].id, checks[3].part, False)  # one test of the second part fails
    assert score_kata(K01.id, 10, K01.weights, "all", checks).earned == 700
    assert score_kata(K01.id, 10, K01.weights, "proportional", checks).earned == 900


def test_a_part_with_no_selected_test_is_left_out_of_the_maximum():
    checks = [Check(f"{p}", p, True) for p in K01.weights if p != "sigmoid"]  # -k left sigmoid's tests out
    score = score_kata(K01.id, 10, K01.weights, "all", checks)
    assert (score.earned, score.possible) == (800, 800) and score.parts["sigmoid"].possible == 0
    failing = [*checks, Check("s", "sigmoid", False)]
    assert score_kata(K01.id, 10, K01.weights, "all", failing).possible == 1000


def test_scores_show_two_decimals_and_the_thirds_add_up():
    shares = split(1000, [("a", 1.0), ("b", 1.0), ("c", 1.0)])
    assert [shown(v) for v in shares.values()] == ["3.34", "3.33", "3.33"]
