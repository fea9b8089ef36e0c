"""Issue 12's ratios: what is measured, against what, the figure before, the target; computed from medians.

Used by ``conftest.py`` (printed after ``pytest benchmarks/ --benchmark-only``, added to the
JSON as ``"issue12"``) and by ``test_speed_ratios.py`` (which measures the cases).
"""

from __future__ import annotations

import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KATAS = str(BIN / "katas")

# name → (the command as the README or the issue writes it, argv). Run from the project root,
# KATAS_LANG=en, KATAS_TARGET unset; --all bypasses the cache.
CASES: dict[str, tuple[str, list[str]]] = {
    "import torch": ('python -c "import torch"', [sys.executable, "-c", "import torch"]),
    "k01 check": ("katas check k01 --all --target solutions", [KATAS, "check", "k01", "--all", "--target", "solutions"]),
    "chapter script": ("the chapter's code as one script (benchmarks/chapter_script.py)",
                       [sys.executable, str(ROOT / "benchmarks" / "chapter_script.py")]),
    "all katas": ("katas --all --target solutions", [KATAS, "--all", "--target", "solutions"]),
    "k06 check": ("katas check k06 --all --target solutions", [KATAS, "check", "k06", "--all", "--target", "solutions"]),
    "suite": ("pytest --target solutions -n auto --dist worksteal (the README's test command)",
              [str(BIN / "pytest"), "--target", "solutions", "-n", "auto", "--dist", "worksteal", "-q", "-p",
               "no:cacheprovider"]),
}  # fmt: skip
ONE_ROUND = {"suite"}  # about a minute a round: timed once


@dataclass(frozen=True)
class Ratio:
    what: str
    case: str
    against: str
    before: str  # issue 12's figure
    target: float | None  # at most this many times the reference (None: no target for this figure)
    cpu: bool = False  # the CPU ratio too


RATIOS = [
    Ratio("a cold check of one kata", "k01 check", "import torch", "1.50× (1.90 s against 1.26 s)", 1.5),
    Ratio("a learner's full check", "all katas", "chapter script",
          "3.1× wall (2.4–4.5), 4.3× CPU (20.3 s, 20.9 s CPU against 6.7 s, 4.7 s CPU)", 2.0, cpu=True),
    Ratio("the chapter's kata, cold", "k06 check", "chapter script", "1.8×", None, cpu=True),
    Ratio("the README's test command", "suite", "chapter script", "44× (183–285 s against 4.2 s)", 16.0, cpu=True),
]  # fmt: skip
GRADING_BEFORE = "3.3× faster (39.8 s against 133 s; 20 learners, k01–k05, 1 worker)"


def _median(values: list[float] | None) -> float:
    return statistics.median(values) if values else math.nan


def _figure(measured: dict[str, Any], name: str) -> dict[str, float]:
    data = measured.get(name) or {}
    return {
        "wall_median_s": _median(data.get("wall")),
        "wall_min_s": min(data.get("wall") or [math.nan]),
        "cpu_median_s": _median(data.get("cpu")),
        "rounds": len(data.get("wall") or []),
    }


def report(measured: dict[str, dict[str, Any]], external: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Everything the run measured, as data: the figures, the ratios, the gradient oracle, the helpers' scripts."""
    figures = {name: {"command": CASES[name][0], **_figure(measured, name)} for name in CASES if name in measured}
    ratios = []
    for r in RATIOS:
        a, b = _figure(measured, r.case), _figure(measured, r.against)
        entry: dict[str, Any] = {"what": r.what, "command": CASES[r.case][0], "against": CASES[r.against][0],
                                 "before": r.before, "target_at_most": r.target}  # fmt: skip
        if a["rounds"] and b["rounds"]:
            entry.update(
                wall_s=a["wall_median_s"], against_wall_s=b["wall_median_s"],
                ratio_wall=a["wall_median_s"] / b["wall_median_s"], ratio_of_minima=a["wall_min_s"] / b["wall_min_s"],
                cpu_s=a["cpu_median_s"], against_cpu_s=b["cpu_median_s"],
                ratio_cpu=a["cpu_median_s"] / b["cpu_median_s"],
            )  # fmt: skip
        ratios.append(entry)
    return {"figures": figures, "ratios": ratios, "gradient_oracle": measured.get("gradient oracle", {}),
            "external": external}  # fmt: skip


def _verdict(ratio: float, target: float | None, larger_is_better: bool = False) -> str:
    if target is None or math.isnan(ratio):
        return ""
    met = ratio >= target if larger_is_better else ratio <= target
    return f"; target {'≥' if larger_is_better else '≤'} {target:g}× — {'met' if met else 'NOT met'}"


def render(data: dict[str, Any]) -> list[str]:
    """The report as lines for the terminal."""
    lines = []
    for r in data["ratios"]:
        if "ratio_wall" not in r:
            lines.append(f"{r['command']}: not measured")
            continue
        cpu = f", {r['ratio_cpu']:.2f}× CPU ({r['cpu_s']:.2f} s against {r['against_cpu_s']:.2f} s)"
        lines.append(
            f"{r['command']}: {r['wall_s']:.2f} s wall against {r['against']} {r['against_wall_s']:.2f} s → "
            f"{r['ratio_wall']:.2f}× wall (ratio of the fastest rounds {r['ratio_of_minima']:.2f}×){cpu}"
            f"{_verdict(r['ratio_wall'], r['target_at_most'])}; issue 12 before: {r['before']}"
        )
    oracle = data.get("gradient_oracle") or {}
    for function, t in (oracle.get("times") or {}).items():
        if not {"judge", "gradcheck"} <= set(t):  # one side left out (-k) or timing off (--benchmark-disable)
            lines.append(f"gradient judge on {function}: not measured on both sides")
            continue
        lines.append(
            f"gradient judge on {function}: {t['judge'] * 1000:.1f} ms against torch.autograd.gradcheck "
            f"{t['gradcheck'] * 1000:.1f} ms on the same inputs → {t['judge'] / t['gradcheck']:.2f}×"
            f"{_verdict(t['judge'] / t['gradcheck'], 1.0)}"
        )
    if oracle.get("summary"):
        s = oracle["summary"]
        superset = not s["gradcheck catches, the kata tests miss"]
        lines.append(
            f"mutants of k03 and k05 ({s['mutants']}): gradcheck catches {s['caught by gradcheck']}, the judge "
            f"(values and contracts) {s['caught by the judge (values and contracts)']}, the kata tests (judge or "
            f"source check) {s['caught by the kata tests (judge or source check)']}; the kata tests catch a superset of "
            f"gradcheck's: {'yes' if superset else 'NO: ' + ', '.join(s['gradcheck catches, the kata tests miss'])}"
        )
        if s["gradcheck catches, the judge misses"]:
            lines.append("  gradcheck catches, the judge's values miss (the source check catches them): "
                         + ", ".join(s["gradcheck catches, the judge misses"]))  # fmt: skip
        lines.append(f"  gradcheck on the saturated-output case's reference: {oracle.get('saturated_reference')}")
    if oracle.get("table"):
        lines += ["", "which mutants each catches:", *oracle["table"].splitlines(), ""]
    for name, figures in data["external"].items():
        lines += _external(name, figures)
    return lines


def _external(name: str, figures: dict[str, Any]) -> list[str]:
    if figures.get("missing"):
        return [f"{name}: {figures['missing']}"]
    lines = []
    if name == "grade_floor" and "speedup_vs_per_learner" in figures.get("json", {}):
        f = figures["json"]
        sampled = (f" (per learner timed on {f['per_learner_sampled']} of {f['learners']} and scaled)"
                   if f.get("per_learner_sampled", f["learners"]) < f["learners"] else "")  # fmt: skip
        lines.append(
            f"katas grade, {f['learners']} learners: {f['katas_grade_s']:.1f} s against one `pytest --target=SUB "
            f"--grade` per learner {f['per_learner_pytest_grade_s']:.1f} s{sampled} → {f['speedup_vs_per_learner']:.2f}× "
            f"faster{_verdict(f['speedup_vs_per_learner'], 4.0, larger_is_better=True)}; issue 12 before: {GRADING_BEFORE}"
        )
        lines.append(
            f"katas grade against the floor (the kata tests' in-pytest time, summed) {f['floor_s']:.1f} s → "
            f"{f['katas_grade_over_floor']:.2f}×{_verdict(f['katas_grade_over_floor'], 1.5)}"
        )
        if "katas_grade_cpu_s" in f:
            lines.append(
                f"  CPU: katas grade {f['katas_grade_cpu_s']:.1f} s, per learner {f['per_learner_pytest_grade_cpu_s']:.1f} s "
                f"({f['speedup_vs_per_learner_cpu']:.2f}× faster by CPU), the floor {f['floor_cpu_s']:.1f} s "
                f"(katas grade {f['katas_grade_over_floor_cpu']:.2f}× it)"
            )
    if name == "warm_check":
        for what, f in figures.get("json", {}).items():
            if isinstance(f, dict) and f.get("ratio") is not None:
                cpu = f", {f['cpu']:.2f} s CPU" if f.get("cpu") is not None else ""
                lines.append(
                    f"{what}: {f['wall']:.2f} s wall{cpu} against {f['against']} "
                    f"{figures['json'][f['against']]['wall']:.2f} s → {f['ratio']:.2f}×{_verdict(f['ratio'], f.get('target'))}"
                )
    lines.append(f"{name} (benchmarks/{name}.py) printed:")
    lines += ["  " + line for line in figures.get("stdout", "").splitlines()]
    return lines
