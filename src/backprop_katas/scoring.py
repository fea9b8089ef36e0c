"""The scoring rule, one function for the learner's table (`katas`) and the grade (`--grade`).

Every kata test carries one ``@pytest.mark.part("NAME")``: the public function (or named
group of checks) it checks. ``katas.toml`` gives each kata a ``weights`` table over exactly
its parts; the kata's points are split over the parts by weight, and a part's share is
earned only when every one of its tests passed (``scoring = "all"``, the default). With
``scoring = "proportional"`` a part's share is split over its tests instead, and each
passing test earns its piece.

All arithmetic is in integer hundredths of a point, split by largest remainder, so what a
gradebook shows (two decimals) adds up exactly: the parts to the kata, the katas to the
total. Skipped tests (``reference_only`` outside ``--target solutions``) do not count. A
selected test that did not run (a stop, a time limit) fails; a part none of whose tests
was selected (``-k``) is left out of the kata's maximum for that run (``katas grade``
merges such a run into the learner's full record).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

SCORING_RULES = ("all", "proportional")
PART_MARKER = "part"


def split(total: int, weights: Sequence[tuple[str, float]]) -> dict[str, int]:
    """Split ``total`` hundredths over the weighted names by largest remainder.

    The shares add up to ``total`` exactly; a tie for a left-over hundredth goes to the
    name listed first (the order of katas.toml, or of the tests), so the split is stable.
    """
    names = [n for n, _ in weights]
    weight_sum = sum(w for _, w in weights)
    if not names or weight_sum <= 0:
        return dict.fromkeys(names, 0)
    exact = [(total * w) / weight_sum for _, w in weights]
    shares = [int(x) for x in exact]
    left = total - sum(shares)
    order = sorted(range(len(names)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return dict(zip(names, shares))


@dataclass(frozen=True)
class Check:
    """One test's outcome, as the rule needs it."""

    id: str  # stable across runs: the test's node id without its folder (a hash for hidden tests)
    part: str
    passed: bool


@dataclass
class PartScore:
    name: str
    earned: int  # hundredths
    possible: int
    passed: int = 0
    tests: int = 0


@dataclass
class KataScore:
    kata: str
    earned: int  # hundredths
    possible: int
    parts: dict[str, PartScore] = field(default_factory=dict)

    @property
    def passed(self) -> int:
        return sum(p.passed for p in self.parts.values())

    @property
    def tests(self) -> int:
        return sum(p.tests for p in self.parts.values())

    @property
    def done(self) -> bool:
        return self.possible > 0 and self.earned == self.possible

    def as_json(self) -> dict[str, object]:
        return {
            "score": points(self.earned),
            "max_score": points(self.possible),
            "passed": self.passed,
            "tests": self.tests,
            "parts": {
                p.name: {
                    "score": points(p.earned),
                    "max_score": points(p.possible),
                    "passed": p.passed,
                    "tests": p.tests,
                }
                for p in self.parts.values()
            },
        }


def points(hundredths: int) -> float:
    """Hundredths as the float a gradebook shows (two decimals, exact in decimal)."""
    return round(hundredths / 100, 2)


def shown(hundredths: int) -> str:
    return f"{hundredths / 100:.2f}"


def score_kata(kata: str, points_: int, weights: Mapping[str, float], rule: str, checks: Iterable[Check]) -> KataScore:
    """The rule itself: ``checks`` are the kata's tests that ran (skipped ones left out)."""
    by_part: dict[str, list[Check]] = {name: [] for name in weights}
    for check in checks:
        by_part.setdefault(check.part, []).append(check)  # an unknown part earns nothing (self-checks forbid it)
    shares = split(points_ * 100, list(weights.items()))
    result = KataScore(kata, 0, 0)
    for name, share in shares.items():
        tests = by_part.get(name, [])
        if not tests:  # no test of the part was selected (-k): not part of this grade's maximum
            result.parts[name] = PartScore(name, 0, 0)
            continue
        passed = sum(c.passed for c in tests)
        if rule == "proportional":
            pieces = split(share, [(c.id, 1.0) for c in tests])
            earned = sum(pieces[c.id] for c in tests if c.passed)
        else:
            earned = share if passed == len(tests) else 0
        result.parts[name] = PartScore(name, earned, share, passed, len(tests))
        result.earned += earned
        result.possible += share
    return result


def total(scores: Iterable[KataScore]) -> tuple[int, int]:
    """Earned and possible hundredths over katas."""
    earned = possible = 0
    for score in scores:
        earned += score.earned
        possible += score.possible
    return earned, possible


def part_problems(
    weights: Mapping[str, Mapping[str, float]], tests: Iterable[tuple[str, str, list[str], bool]]
) -> list[str]:
    """What the self-check reports: ``tests`` are (kata, node id, its part markers, runs for learners).

    A kata test needs exactly one part; a kata's parts and its weights must be the same
    names; every part needs a test that runs for a learner (not only ``reference_only``).
    """
    problems: list[str] = []
    seen: dict[str, set[str]] = {kata: set() for kata in weights}
    learner_seen: dict[str, set[str]] = {kata: set() for kata in weights}
    for kata, nodeid, parts, for_learners in tests:
        if len(parts) != 1:
            problems.append(f"{nodeid}: {len(parts)} part markers, needs exactly one")
            continue
        seen.setdefault(kata, set()).add(parts[0])
        if for_learners:
            learner_seen.setdefault(kata, set()).add(parts[0])
    for kata, kata_weights in weights.items():
        for part in sorted(seen.get(kata, set()) - set(kata_weights)):
            problems.append(f"{kata}: tests mark the part {part!r}, which katas.toml does not weight")
        for part in kata_weights:
            if part not in seen.get(kata, set()):
                problems.append(f"{kata}: the part {part!r} has a weight but no test")
            elif part not in learner_seen.get(kata, set()):
                problems.append(f"{kata}: the part {part!r} has only reference_only tests (a learner cannot earn it)")
    return problems
