"""The instructors' subcommands: ``katas grade`` and ``katas export``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from backprop_katas.kinds import Isolation
from backprop_katas.lang import MODES, say, use


def cmd_grade(root: Path, args: argparse.Namespace) -> int:
    from backprop_katas.catalog import counted, load_catalog
    from backprop_katas.grading.batch import grade_class, is_single_submission, learners
    from backprop_katas.grading.pool import Options
    from backprop_katas.grading.preflight import PreflightError, ensure
    from backprop_katas.names import shown_name

    if args.lang:  # feedback, summary, CSV headers; the grading processes inherit it
        use(args.lang)
        os.environ["KATAS_LANG"] = args.lang
    hidden = Path(args.hidden_tests).resolve() if args.hidden_tests else None
    if args.check_only or args.submissions is None:
        if not args.check_only or hidden is None:  # the kata tests alone are held by the self-checks
            print(say("grade_needs_submissions" if not args.check_only else "preflight_needs_hidden"), file=sys.stderr)
            return 2
        try:  # the preflight alone: the hidden tests and katas.toml, no learner
            verdict = ensure(root, hidden)
        except PreflightError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(say("preflight_ok", seconds=verdict.seconds, cached=say("preflight_cached") if verdict.cached else ""))
        return 0
    submissions = Path(args.submissions).resolve()
    if not submissions.is_dir() or not learners(submissions, load_catalog(root)):
        print(say("grade_batch_none", folder=submissions), file=sys.stderr)
        return 2
    if args.scheduler or args.dask_local:
        from backprop_katas.grading.cluster import missing_dependency

        if (hint := missing_dependency()) is not None:
            print(hint, file=sys.stderr)
            return 2
    options = Options(
        submissions=submissions,
        out=Path(args.out).resolve(),
        workers=args.workers,
        regrade=args.regrade,
        katas=args.kata or [],
        select=args.select,
        hidden_tests=hidden,
        kata_time_limit=args.kata_time_limit,
        memory_limit=args.memory_limit,
        progress=not args.no_progress,
        isolation=args.isolation,
        scheduler=args.scheduler,
        dask_local=args.dask_local,
        results_json=Path(args.results_json).resolve() if args.results_json else None,
    )
    if options.results_json is None and is_single_submission(submissions, load_catalog(root)):
        options.results_json = options.out / "results.json"  # one learner: the results.json pytest --grade writes
    try:
        outcome = grade_class(root, options)
    except PreflightError as exc:  # the instructor's side is wrong: nothing was graded or written
        print(exc, file=sys.stderr)
        return 2
    except Exception as exc:
        if options.scheduler or options.dask_local:
            from backprop_katas.grading.cluster import ClusterUnavailable

            if isinstance(exc, ClusterUnavailable):  # no cluster to grade on: one sentence, no traceback
                print(exc, file=sys.stderr)
                return 2
        raise
    if outcome.interrupted:
        print(
            say("grade_batch_stopped", graded=outcome.graded, todo=outcome.total - outcome.kept, kept=outcome.kept),
            file=sys.stderr,
        )
        return 130
    book = options.out / "gradebook.sqlite"
    print(
        say(
            "grade_batch_done",
            graded=outcome.graded,
            kept=outcome.kept,
            failed=len(outcome.failed),
            seconds=outcome.seconds,
            book=shown_name(str(book)),
        )
    )
    if outcome.isolation:
        print(say("grade_batch_isolation", isolation=", ".join(sorted(outcome.isolation))))
    if outcome.kept_katas:
        print(
            say(
                "grade_batch_partial",
                regraded=", ".join(outcome.regraded_katas) + (f" (-k {options.select})" if options.select else ""),
                kept=", ".join(outcome.kept_katas),
            )
        )
    for learner, changed in outcome.changed.items():  # a kept score from files the learner has since changed
        for kata, when in changed.items():
            print(say("grade_changed_since_graded", learner=learner, kata=kata, when=when))
    from backprop_katas.grading.feedback import class_table

    shown = counted(load_catalog(root), options.katas)  # a bonus kata is a column only when it was asked for
    print("\n".join(["", *class_table(outcome.rows, shown)]))
    return 1 if outcome.failed else 0


def cmd_export(root: Path, args: argparse.Namespace) -> int:
    from backprop_katas.grading.bundle import BundleError, export

    dest = Path(args.dir).resolve()
    try:
        files, tests = export(root, dest, check=not args.no_check, with_solutions=args.with_solutions)
    except BundleError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(say("export_done", folder=dest, files=files))
    if not args.no_check:
        print(say("export_checked", tests=tests))
    return 0


def cmd_gradescope(root: Path, args: argparse.Namespace) -> int:
    import time

    from backprop_katas.grading.gradescope import GradescopeError, build_zip

    out = Path(args.zip).resolve()
    started = time.monotonic()
    try:
        names = build_zip(
            root,
            out,
            Path(args.hidden_tests).resolve() if args.hidden_tests else None,
            lang=args.lang or "en",
            self_test=args.self_test,
        )
    except GradescopeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(say("gradescope_done", zip=out, files=len(names), seconds=time.monotonic() - started))
    return 0


def register(sub: Any) -> None:
    """Add ``grade`` and ``export`` to the ``katas`` command's subparsers."""
    grade = sub.add_parser("grade", help=say("cli_help_grade"))
    grade.add_argument(
        "submissions",
        metavar="SUBMISSIONS_DIR",
        nargs="?",
        help="one sub-folder per learner, holding kata files; or one submission folder (kata files in it)",
    )
    grade.add_argument(
        "--check-only",
        action="store_true",
        help="run only the preflight (the hidden tests and katas.toml against the reference and the stubs); grade no one",
    )
    grade.add_argument(
        "--out", default="grades", help="folder for gradebook.sqlite, grades.csv, feedback/ (default: ./grades)"
    )
    grade.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="learners graded side by side (default: cores)"
    )
    grade.add_argument("--regrade", action="store_true", help="grade again even learners whose files did not change")
    grade.add_argument(
        "--kata",
        action="append",
        metavar="ID",
        help="grade only this kata (k01 or k01_derivatives); repeatable (default: every kata)",
    )
    grade.add_argument(
        "-k", dest="select", metavar="EXPR", help="grade only tests matching EXPR (as pytest -k; default: every test)"
    )
    grade.add_argument(
        "--hidden-tests", metavar="DIR", help="the instructor's hidden test files (test_kNN_*.py; default: none)"
    )
    grade.add_argument(
        "--kata-time-limit",
        type=float,
        metavar="SECONDS",
        help="time per kata and learner (default: sandbox.Limits, printed in the grade's header)",
    )
    grade.add_argument(
        "--memory-limit",
        type=int,
        metavar="MB",
        help="memory per kata process (default: sandbox.Limits, printed in the grade's header)",
    )
    grade.add_argument(
        "--isolation",
        choices=Isolation.choices(),
        default=Isolation.AUTO.value,
        help="bwrap: bubblewrap namespaces per learner; fallback: Landlock + rlimits; auto: bwrap when it works",
    )
    cluster = grade.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler", metavar="ADDRESS", help="grade on this Dask cluster (tcp://HOST:8786; default: on this machine)"
    )
    cluster.add_argument(
        "--dask-local", type=int, metavar="N", help="grade on a Dask cluster of N local workers (default: none)"
    )
    grade.add_argument("--no-progress", action="store_true", help="a line per learner instead of a progress bar")
    grade.add_argument(
        "--lang",
        choices=MODES,
        help="language of feedback, summary and CSV headers (default: as katas, from --lang, KATAS_LANG or the locale)",
    )
    grade.add_argument(
        "--results-json",
        metavar="FILE",
        help="one submission: write its Gradescope results.json to FILE (default: OUT/results.json)",
    )
    grade.set_defaults(func=cmd_grade)
    export = sub.add_parser("export", help=say("cli_help_export"))
    export.add_argument("dir", metavar="DIR", help="a new or empty folder")
    export.add_argument("--no-check", action="store_true", help="skip running the bundle's tests")
    export.add_argument(
        "--with-solutions",
        action="store_true",
        help="ship the reference solutions; `katas solution KATA` shows one once the kata passes",
    )
    export.set_defaults(func=cmd_export)
    gradescope = sub.add_parser("gradescope", help=say("cli_help_gradescope"))
    gradescope.add_argument("zip", metavar="OUT.zip")
    gradescope.add_argument(
        "--hidden-tests", metavar="DIR", help="your hidden test files, shipped in the zip (default: none)"
    )
    gradescope.add_argument("--lang", choices=MODES, help="language of the feedback (default: en)")
    gradescope.add_argument(
        "--self-test",
        choices=("fast", "fresh", "none"),
        default="fast",
        help="before writing the zip, run setup.sh and run_autograder on the reference (.py and notebooks), "
        "the stubs and a wrong answer, and compare with katas grade: fast reuses this environment's packages, "
        "fresh installs into a new venv (torch from a local wheel) (default: fast)",
    )
    gradescope.set_defaults(func=cmd_gradescope)
