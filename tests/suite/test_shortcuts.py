"""Shortcuts the katas forbid: the source check decides, the in-process guard explains (issues 8 and 11).

Fast checks drive ``backprop_katas.kit.shortcuts`` and ``runner.forbid_autograd``
directly; the learner-mode checks run the kata tests in this process; one
grading check grades every shortcut submission in a single ``katas grade``.
"""

from __future__ import annotations

import ast
import json
import sqlite3
import sys

import numpy as np
import pytest
import torch
from grading_helpers import ROOT, katas_cli, submission
from helpers import copy_solutions, run_kata_tests
from honest_corpus import CORPUS, Honest
from shortcut_mutants import GRADCHECK_ATTACKS, SHORTCUTS, WRONG_SIGMOID, Shortcut, apply

from backprop_katas.catalog import load_catalog
from backprop_katas.kit import oracles as O
from backprop_katas.kit import shortcuts
from backprop_katas.kit.loader import Target
from backprop_katas.kit.runner import AutogradForbidden, forbid_autograd

IDS = [s.id for s in SHORTCUTS]

# The tests of a by-hand function (every word in the node id), and tests of the same kata that must still pass.
FAILING = {
    "manual_gradients": ["manual_gradients"],
    "SigmoidFunction.backward": ["sigmoid_function"],
    "train_by_hand": ["training_follows", "train_by_hand"],
    "backward": ["backward"],
    "gradients": ["gradients"],  # test_gradients_* and the contract tests run on gradients
    "prime_function": ["prime_function"],
    "sigmoid": ["sigmoid"],  # sigmoid_prime builds on sigmoid: its tests reach the shortcut too
    "sigmoid_prime": ["sigmoid_prime"],
    "autograd_gradients": ["autograd_gradients"],
    "grad_fn_name": ["grad_fn_name"],
    "requires_grad_flags": ["requires_grad_flags"],
    "accumulated_gradient": ["accumulated_gradient"],
    "*": [""],
}
CONTROL = {
    "manual_gradients": "sigmoid_function",
    "SigmoidFunction.backward": "manual_gradients_match_autograd",
    "train_by_hand": "predict_thresholds",
    "backward": "forward_nodes",
    "gradients": "forward_nodes",
    "prime_function": "sigmoid_matches",
    "sigmoid": "prime_function_matches",
    "sigmoid_prime": "sigmoid_matches",
    "autograd_gradients": "grad_fn_name",
    "grad_fn_name": "requires_grad_flags",
    "requires_grad_flags": "accumulated_gradient",
    "accumulated_gradient": "autograd_gradients",
    "*": "",
}
# These change torch while they run: no by-hand function of their file can be checked, all are refused.
PATCHING = {"guard-undone", "patched-gradcheck"}
SHORTCUT_MESSAGES = (
    "must compute gradients by hand",
    "must be written by hand",
    "the tool's own code",
    "dynamic import",
    "must be written from its formula",
    "is an exercise in autograd",
    "starts another process",
)


def with_shortcut(tmp_path, shortcut: Shortcut):
    folder = copy_solutions(tmp_path)
    path = folder / f"{shortcut.kata}.py"
    path.write_text(apply(path.read_text(encoding="utf-8"), shortcut), encoding="utf-8")
    return folder


def findings(folder, shortcut: Shortcut):
    kata, function = shortcut.tested_kata, shortcut.function
    if function == "*":
        return shortcuts.tool_findings(folder, kata)
    found = []
    if function in shortcuts.by_hand_rules(kata):
        found += shortcuts.by_hand_findings(folder, kata, function)
    if function in shortcuts.ready_made_rules(kata):
        found += shortcuts.ready_made_findings(folder, kata, function)
    return found


def must_use(shortcut: Shortcut) -> bool:
    return shortcut.function in shortcuts.must_use_rules(shortcut.tested_kata)


KATA_IDS = [k.id for k in load_catalog(ROOT)]


# --- the source check ----------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["solutions", "katas"])
def test_the_reference_and_the_stubs_take_no_shortcut(folder):
    for kata in KATA_IDS:
        functions = shortcuts.by_hand_rules(kata)
        for function in functions:
            assert shortcuts.by_hand_findings(ROOT / folder, kata, function) == [], (kata, function)
    for path in sorted((ROOT / folder).glob("k*.py")):
        assert shortcuts.tool_findings(ROOT / folder, path.stem) == [], path.name


@pytest.mark.parametrize("shortcut", SHORTCUTS, ids=IDS)
def test_the_source_check_names_each_door(tmp_path, shortcut):
    folder = with_shortcut(tmp_path, shortcut)
    if must_use(shortcut):  # the positive rule: the right numbers without autograd are refused
        assert shortcuts.autograd_used(folder, shortcut.tested_kata, shortcut.function) == []
        assert shortcuts.autograd_used(ROOT / "solutions", shortcut.tested_kata, shortcut.function)
        return
    found = findings(folder, shortcut)
    assert any(shortcut.expect in f.construct for f in found), found
    assert all(f.line > 0 and f.file.endswith(".py") for f in found)


HONEST = {
    "no_grad-and-set_grad_enabled-False": "import torch\n\ndef backward(t):\n"
    "    with torch.no_grad(), torch.set_grad_enabled(False):\n        return 2 * t.detach()\n",
    "an-autograd-Function-used-forward-only": "import torch\n\nclass S(torch.autograd.Function):\n"
    "    @staticmethod\n    def forward(ctx, x):\n        return 2 * x\n\ndef backward(t):\n    return S.apply(t)\n",
    "a-clean-helper-and-a-variable-named-grad": "def _twice(v):\n    return 2 * v\n\n"
    "def backward(t):\n    grad = _twice(t)\n    return grad\n",
    "writing-p.grad-is-bookkeeping": "def backward(t):\n    t.grad = None\n    return 2 * t\n",
    "an-except-name-a-local-import-and-__name__": "def backward(t):\n    import math\n    try:\n"
    "        return 2 * t * math.cos(0)\n    except ValueError as e:\n        raise e from None if __name__ else e\n",
}


@pytest.mark.parametrize("source", list(HONEST.values()), ids=list(HONEST))
def test_honest_by_hand_code_is_not_refused(tmp_path, source):
    (tmp_path / "k03_computation_graph.py").write_text(source, encoding="utf-8")
    assert shortcuts.by_hand_findings(tmp_path, "k03_computation_graph", "backward") == []


REFUSED = {
    "set_grad_enabled-True": (
        "import torch\n\ndef backward(t):\n    with torch.set_grad_enabled(True):\n        return 2 * t\n",
        "set_grad_enabled",
    ),
    "methodcaller": (
        "import operator\n\ndef backward(t):\n    return operator.methodcaller('backward')(t)\n",
        "methodcaller",
    ),
    "getattribute": ("def backward(t):\n    return t.__getattribute__('back' + 'ward')()\n", "__getattribute__"),
    "star-import": ("from torch.autograd import *\n\ndef backward(t):\n    return grad(t, t)\n", "torch.autograd.grad"),
    "default-argument": (
        "import torch\n\ndef backward(t, g=torch.autograd.grad):\n    return g(t, t)\n",
        "torch.autograd.grad",
    ),
    "decorator": ("import torch\n\n@torch.enable_grad()\ndef backward(t):\n    return 2 * t\n", "enable_grad"),
    "rebound-after-the-def": (
        "import torch\n\ndef backward(t):\n    return 2 * t\n\ndef _b(t):\n"
        "    return torch.autograd.grad(t, t)\n\nbackward = _b\n",
        "torch.autograd.grad",
    ),
    "a-library-patched-at-import": (
        "import torch\ntorch.Tensor.__mul__ = lambda a, b: a\n\ndef backward(t):\n    return 2 * t\n",
        "torch.Tensor.__mul__",
    ),
    "a-library-patched-when-another-function-runs": (
        "import torch\n\ndef other():\n    torch.sigmoid = None\n\ndef backward(t):\n    return 2 * t\n",
        "torch.sigmoid",
    ),
    "a-library-patched-by-setattr": (
        "import torch\n\ndef other():\n    setattr(torch, 'sigmoid', None)\n\ndef backward(t):\n    return 2 * t\n",
        "setattr(torch",
    ),
    "a-walrus-at-import": (
        "import torch\n(_g := torch.autograd.grad)\n\ndef backward(t):\n    return _g(t, t)\n",
        "_g, a name defined nowhere",
    ),
    "a-global-set-by-another-function": (
        "import torch\n_g = None\n\ndef _setup():\n    global _g\n"
        "    _g = torch.autograd.grad\n\n_setup()\n\ndef backward(t):\n"
        "    return _g(t, t)\n",
        "torch.autograd.grad",
    ),
    "a-sibling-star-import": (
        "from .k05_backprop import *\n\ndef backward(t):\n    return helper(t)\n",
        "torch.autograd.grad",
    ),
}


@pytest.mark.parametrize(("source", "construct"), list(REFUSED.values()), ids=list(REFUSED))
def test_disguised_autograd_and_unresolvable_look_ups_are_refused(tmp_path, source, construct):
    (tmp_path / "k03_computation_graph.py").write_text(source, encoding="utf-8")
    (tmp_path / "k05_backprop.py").write_text(
        "import torch\n\ndef helper(t):\n    return torch.autograd.grad(t, t)\n", encoding="utf-8"
    )
    found = shortcuts.by_hand_findings(tmp_path, "k03_computation_graph", "backward")
    assert any(construct in f.construct for f in found), found


def test_the_message_names_file_line_construct_and_the_path_to_it(tmp_path):
    helper = next(s for s in SHORTCUTS if s.id == "helper")
    text = shortcuts.check_by_hand(with_shortcut(tmp_path, helper), "k05_backprop", "manual_gradients")
    assert text is not None
    assert "k05_backprop.manual_gradients must compute gradients by hand" in text
    assert "k05_backprop.py:" in text and "torch.autograd.grad" in text and "manual_gradients → _helper" in text


def test_the_checks_read_the_text_pinned_before_learner_code_ran(tmp_path):
    folder = copy_solutions(tmp_path)
    shortcuts.pin(folder, ["k05_backprop.py"])
    path = folder / "k05_backprop.py"
    path.write_text(apply(path.read_text(encoding="utf-8"), SHORTCUTS[0]), encoding="utf-8")
    assert shortcuts.by_hand_findings(folder, "k05_backprop", "manual_gradients") == []
    shortcuts.pin(folder, [])  # unpinned: the file as it is now
    assert shortcuts.by_hand_findings(folder, "k05_backprop", "manual_gradients")


# --- the in-process guard: a readable message at the door --------------------------------------


_grad_bound_at_import = torch.autograd.grad


def _functional_loss(x):
    return (x.sin() ** 2).sum()


DOORS = {
    "Tensor.backward": lambda x: _functional_loss(x.requires_grad_()).backward(),
    "autograd.grad": lambda x: torch.autograd.grad(_functional_loss(x.requires_grad_()), x),
    "grad-bound-at-import": lambda x: _grad_bound_at_import(_functional_loss(x.requires_grad_()), x),
    "enable_grad-and-a-graph": lambda x: torch.enable_grad().__enter__() or _functional_loss(x.requires_grad_()),
    "functional.jacobian": lambda x: torch.autograd.functional.jacobian(torch.sin, x),
    "forward_ad": lambda x: torch.autograd.forward_ad.dual_level().__enter__(),
    "func.grad": lambda x: torch.func.grad(_functional_loss)(x),
    "func.vjp": lambda x: torch.func.vjp(torch.sin, x),
    "func.jacrev": lambda x: torch.func.jacrev(torch.sin)(x),
    "func.jacfwd": lambda x: torch.func.jacfwd(torch.sin)(x),
    "func.jvp": lambda x: torch.func.jvp(torch.sin, (x,), (x,)),
    "func.hessian": lambda x: torch.func.hessian(_functional_loss)(x),
}


@pytest.mark.parametrize("door", list(DOORS.values()), ids=list(DOORS))
def test_the_guard_refuses_every_autograd_door_and_autograd_works_again_after(door):
    with pytest.raises(AutogradForbidden, match=r"k05\.demo must compute gradients by hand"):
        with torch.enable_grad(), forbid_autograd("k05.demo"):
            door(torch.linspace(-1, 1, 4, dtype=torch.float64))
    torch.set_grad_enabled(True)
    x = torch.linspace(-1, 1, 4, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(_functional_loss(x), x)
    assert torch.allclose(g, 2 * x.sin() * x.cos()) and torch.func.jacrev(torch.sin)(x).shape == (4, 4)


def test_the_guard_can_be_undone_from_inside_but_the_source_check_still_refuses(tmp_path):
    # Learner code runs in the guarded process: it can put autograd back. The grade does not
    # depend on the guard: the source check, in the judge's process, refuses the file.
    undo = next(s for s in SHORTCUTS if s.id == "guard-undone")
    folder = with_shortcut(tmp_path, undo)
    from backprop_katas.kit.probes import k05_backprop as P

    rng = np.random.default_rng(1)
    params = O.random_xor_params(rng, 2, 3)
    x, t = rng.normal(0, 1, (5, 2)), rng.integers(0, 2, 5).astype(np.float64)
    target = Target(str(folder), folder)
    target.module("k05_backprop")  # imported before the guard: it keeps the real autograd at import
    out = P.manual_gradients(target, params, x, t, "float64")
    expected = O.numerical_gradient(lambda p: O.xor_loss(p, x, t), params)
    assert all(np.allclose(out["grads"][n].detach().numpy(), expected[n], atol=1e-7) for n in expected)
    assert shortcuts.check_by_hand(folder, "k05_backprop", "manual_gradients")


# --- learner mode: the by-hand tests fail with the shortcut message, the others still pass -------


@pytest.mark.parametrize("shortcut", SHORTCUTS, ids=IDS)
def test_a_shortcut_fails_its_by_hand_tests_in_learner_mode(tmp_path, shortcut):
    folder = with_shortcut(tmp_path, shortcut)
    words = FAILING[shortcut.function]
    control = "" if shortcut.id in PATCHING else CONTROL[shortcut.function]
    select = " and ".join(w for w in words if w) or "not chapter and not printed_table"
    outcome = run_kata_tests(shortcut.tested_kata, folder, "-k", f"({select}) or {control}" if control else select)
    failing = [n for n in [*outcome.passed, *outcome.failed] if all(w in n for w in words)]
    assert failing and all(n in outcome.failed for n in failing), outcome.passed
    for nodeid in failing:
        text = outcome.failed[nodeid]
        assert any(m in text for m in SHORTCUT_MESSAGES) and shortcut.expect in text, f"{nodeid}:\n{text}"
    if control:
        assert [n for n in outcome.passed if control in n], "the kata's other tests must still pass"


def test_a_wrong_backward_fails_the_gradcheck_test_from_data_and_says_what_gradcheck_would(tmp_path):
    wrong = Shortcut(
        "wrong-backward", "k05_backprop", "gradcheck", tail=WRONG_SIGMOID.format(in_forward="pass", in_backward="pass")
    )
    folder = with_shortcut(tmp_path, wrong)
    assert shortcuts.check_by_hand(folder, "k05_backprop", "SigmoidFunction.backward") is None  # not a shortcut
    outcome = run_kata_tests("k05_backprop", folder, "-k", "gradcheck")
    assert len(outcome.failed) == 2 and not outcome.passed
    assert all("Jacobian" in text for text in outcome.failed.values())


# --- grading: one batch of every shortcut, a clean learner first and last ----------------------


# The process shortcuts whose code really starts one when manual_gradients runs (the others only could).
STARTS_A_PROCESS = {"process-subprocess", "process-os-system", "process-fork-imported-by-name"}


def failing_groups(shortcut: Shortcut) -> list[tuple[str, list[str]]]:
    """(kata, words in the test name) of every test a shortcut must fail, in grading (all katas graded)."""
    if shortcut.id == "forged-reply":
        return [("k05_backprop", ["sigmoid_function"])]  # its backward is wrong: both sigmoid tests, from data
    if shortcut.id in PATCHING:
        return [
            ("k05_backprop", ["sigmoid_function"]),
            ("k05_backprop", FAILING["manual_gradients"]),
            ("k06_xor_training", FAILING["train_by_hand"]),
        ]
    groups = [(shortcut.tested_kata, FAILING[shortcut.function])]
    if shortcut.id in STARTS_A_PROCESS:  # k06's train_by_hand runs k05's manual_gradients: refused at run time
        groups += [("k06_xor_training", FAILING["train_by_hand"])]
    if shortcut.kata == "k05_backprop" and shortcut.function in ("manual_gradients", "train_by_hand"):
        # k06's train_by_hand imports k05's manual_gradients: a shortcut there fails both
        groups += [("k05_backprop", FAILING["manual_gradients"]), ("k06_xor_training", FAILING["train_by_hand"])]
    return groups


@pytest.mark.grading
@pytest.mark.slow
def test_grading_scores_each_shortcut_zero_for_its_function_and_full_marks_elsewhere(tmp_path):
    subs = tmp_path / "class"
    attacks = [*SHORTCUTS, *GRADCHECK_ATTACKS]
    submission(subs / "a-clean")
    for shortcut in attacks:
        source = (ROOT / "solutions" / f"{shortcut.kata}.py").read_text(encoding="utf-8")
        submission(subs / f"m-{shortcut.id}", files={f"{shortcut.kata}.py": apply(source, shortcut)})
    submission(subs / "z-clean")
    select = "not chapter and not printed_table and not predict_after"  # the 10001-step runs: not under test here
    done = katas_cli(
        "grade",
        str(subs),
        "--out",
        str(tmp_path / "out"),
        "--kata",
        "k01",
        "--kata",
        "k03",
        "--kata",
        "k04",
        "--kata",
        "k05",
        "--kata",
        "k06",
        "-k",
        select,
        "--no-progress",
        "--workers",
        "2",
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        results = {r[0]: json.loads(r[1]) for r in db.execute("SELECT learner, results FROM grades")}
    assert len(results) == len(attacks) + 2
    for clean in ("a-clean", "z-clean"):
        assert results[clean]["score"] == results[clean]["max_score"] > 0, clean
    for shortcut in attacks:
        # Per test (results.json's "tests" are per part since the part rule): "kata · test name".
        tests = [
            {**c, "name": f"{c['kata']} · {c['name']}", "score": 1.0 if c["status"] == "passed" else 0.0}
            for c in results[f"m-{shortcut.id}"]["extra_data"]["checks"]
            if c["status"] != "skipped"
        ]
        groups = failing_groups(shortcut)
        hit = [t for t in tests if any(t["name"].startswith(k) and all(w in t["name"] for w in ws) for k, ws in groups)]
        rest = [t for t in tests if t not in hit]
        assert hit and all(t["score"] == 0 for t in hit), (shortcut.id, [t["name"] for t in hit if t["score"]])
        gradcheck = [t for t in hit if "gradcheck" in t["name"]]
        assert shortcut.function != "gradcheck" or len(gradcheck) == 2, shortcut.id
        if shortcut.function not in ("gradcheck", "*"):
            assert all(any(m in t["output"] for m in SHORTCUT_MESSAGES) for t in hit), shortcut.id
        assert all(t["status"] == "passed" for t in rest), (shortcut.id, [t["name"] for t in rest if t["score"] == 0])


@pytest.mark.parametrize(
    ("code", "construct"),
    [
        ("torch.autograd.grad(x.sum(), y)", "torch.autograd.grad"),  # written out: named once
        ("ag.grad(x.sum(), y)", "ag.grad (torch.autograd.grad)"),  # an alias: the name it stands for beside it
    ],
)
def test_a_forbidden_call_is_named_once_and_its_alias_with_what_it_stands_for(tmp_path, code, construct):
    folder = copy_solutions(tmp_path)
    path = folder / "k03_computation_graph.py"
    imports = "from __future__ import annotations\n"
    source = path.read_text(encoding="utf-8").replace(
        imports, f"{imports}\nimport torch\nimport torch.autograd as ag\n", 1
    )
    old = "    t = t_function(x, y)\n    dz_dt = z_prime(t)\n"
    assert source.count(old) == 1
    path.write_text(source.replace(old, f"    {code}\n{old}"), encoding="utf-8")
    found = [f.construct for f in shortcuts.by_hand_findings(folder, "k03_computation_graph", "gradients")]
    assert construct in found, found


# --- honest code is never refused (issue 23, item 4) ---------------------------------------------

HONEST_IDS = [h.id for h in CORPUS]


def with_honest(tmp_path, honest: Honest):
    folder = copy_solutions(tmp_path)
    path = folder / f"{honest.kata}.py"
    path.write_text(honest.source(path.read_text(encoding="utf-8")), encoding="utf-8")
    return folder


def every_rule(kata: str) -> list[str]:
    """Every function of ``kata`` with a source rule: by hand, no ready-made version, must use autograd."""
    ruled = [*shortcuts.by_hand_rules(kata), *shortcuts.ready_made_rules(kata)]
    return list(dict.fromkeys([*ruled, *shortcuts.must_use_rules(kata)]))


def changed_functions(honest: Honest) -> list[str]:
    """The public functions whose code the variant changes (the others run the reference's code)."""
    reference = (ROOT / "solutions" / f"{honest.kata}.py").read_text(encoding="utf-8")

    def defs(text: str) -> dict[str, str]:
        return {n.name: ast.unparse(n) for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)}

    before, after = defs(reference), defs(honest.source(reference))
    return [name for name in before if not name.startswith("_") and before[name] != after.get(name)]


def test_the_honest_corpus_has_fifty_variants_in_more_than_one_kata():
    assert len(CORPUS) >= 50 and len({h.kata for h in CORPUS}) >= 2
    assert len(set(HONEST_IDS)) == len(HONEST_IDS)


@pytest.mark.parametrize("honest", CORPUS, ids=HONEST_IDS)
def test_the_source_check_refuses_no_honest_variant(tmp_path, honest):
    folder = with_honest(tmp_path, honest)
    found = list(shortcuts.tool_findings(folder, honest.kata))
    for function in shortcuts.by_hand_rules(honest.kata):
        found += shortcuts.by_hand_findings(folder, honest.kata, function)
    for function in shortcuts.ready_made_rules(honest.kata):
        found += shortcuts.ready_made_findings(folder, honest.kata, function)
    assert found == [], found
    shortcuts.expect_no_shortcut(folder, honest.kata, every_rule(honest.kata))  # the judge itself: no failure


@pytest.mark.slow  # about 0.4 s of CPU per variant; the fast tier keeps the static check above
@pytest.mark.parametrize("honest", CORPUS, ids=HONEST_IDS)
def test_each_honest_variant_passes_the_tests_of_what_it_changed(tmp_path, honest):
    # The functions it leaves alone run the reference's code; the slow check below runs every test.
    changed = changed_functions(honest)
    select = " or ".join(changed) if changed else "function_squares or forward_nodes"
    outcome = run_kata_tests(honest.kata, with_honest(tmp_path, honest), "-k", select)
    assert outcome.passed and not outcome.failed, "\n".join(outcome.failed.values())


@pytest.mark.slow
def test_every_honest_variant_passes_every_test_of_its_kata(tmp_path):
    failed = {}
    for honest in CORPUS:
        outcome = run_kata_tests(honest.kata, with_honest(tmp_path / honest.id, honest))
        if outcome.failed or not outcome.passed:
            failed[honest.id] = list(outcome.failed)
    assert not failed, failed


# --- no processes: the run-time door (the source check above is the static one) ------------------


@pytest.mark.parametrize(
    "start",
    [
        lambda: __import__("subprocess").run(["true"], check=False),
        lambda: __import__("os").system("true"),
        lambda: __import__("os").fork(),
        lambda: __import__("os").posix_spawn("/bin/true", ["true"], {}),
        lambda: __import__("os").execv("/bin/true", ["true"]),
    ],
    ids=["subprocess.run", "os.system", "os.fork", "os.posix_spawn", "os.execv"],
)
def test_a_probe_cannot_start_a_process_and_the_refusal_ends_with_the_block(start):
    from backprop_katas.kit.runner import ProcessForbidden, no_processes

    with pytest.raises(ProcessForbidden, match="may not start processes"):
        with no_processes():
            start()
    sys.audit("subprocess.Popen", "true", ["true"], None, None)  # outside the block: the hook lets it pass


def test_a_probe_run_in_learner_mode_refuses_a_process_with_the_learners_message(tmp_path):
    process = next(s for s in SHORTCUTS if s.id == "process-os-system")
    folder = with_shortcut(tmp_path, process)
    from backprop_katas.kit.probes import k05_backprop as P
    from backprop_katas.kit.runner import InProcessRunner, ProbeFailed

    rng = np.random.default_rng(2)
    params = O.random_xor_params(rng, 2, 3)
    x, t = rng.normal(0, 1, (4, 2)), rng.integers(0, 2, 4).astype(np.float64)
    with pytest.raises(ProbeFailed, match=r"os\.system") as failed:  # the probe itself: no source check first
        InProcessRunner(Target(str(folder), folder)).run(P.manual_gradients, params, x, t, "float64")
    assert "may not start processes" in failed.value.error.message
