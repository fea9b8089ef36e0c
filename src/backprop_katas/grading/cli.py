"""The instructors' subcommands: ``katas grade`` and ``katas export``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..messages import say


def cmd_grade(root: Path, args: argparse.Namespace) -> int:
    from .batch import Options, grade_class, learners

    submissions = Path(args.submissions).resolve()
    if not submissions.is_dir() or not learners(submissions):
        print(say("grade_batch_none", folder=submissions), file=sys.stderr)
        return 2
    if args.scheduler or args.dask_local:
        from .cluster import missing_dependency

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
        hidden_tests=Path(args.hidden_tests).resolve() if args.hidden_tests else None,
        kata_time_limit=args.kata_time_limit,
        memory_limit=args.memory_limit,
        progress=not args.no_progress,
        isolation=args.isolation,
        scheduler=args.scheduler,
        dask_local=args.dask_local,
    )
    try:
        outcome = grade_class(root, options)
    except KeyboardInterrupt:
        return 130
    book = options.out / "gradebook.sqlite"
    print(say("grade_batch_done", graded=outcome.graded, kept=outcome.kept, failed=len(outcome.failed),
              seconds=outcome.seconds, book=book))  # fmt: skip
    if outcome.isolation:
        print(say("grade_batch_isolation", isolation=", ".join(sorted(outcome.isolation))))
    return 1 if outcome.failed else 0


def cmd_export(root: Path, args: argparse.Namespace) -> int:
    from .bundle import BundleError, check_bundle, write_bundle

    dest = Path(args.dir).resolve()
    try:
        written = write_bundle(root, dest)
        print(say("export_done", folder=dest, files=len(written)))
        if not args.no_check:
            print(say("export_checked", tests=check_bundle(dest)))
    except BundleError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def register(sub: Any) -> None:
    """Add ``grade`` and ``export`` to the ``katas`` command's subparsers."""
    grade = sub.add_parser("grade", help="grade a folder of submissions (one sub-folder per learner) into a gradebook")
    grade.add_argument("submissions", metavar="SUBMISSIONS_DIR", help="one sub-folder per learner, holding kata files")
    grade.add_argument(
        "--out", default="grades", help="folder for gradebook.sqlite, grades.csv, feedback/ (default: ./grades)"
    )
    grade.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="learners graded side by side (default: cores)"
    )
    grade.add_argument("--regrade", action="store_true", help="grade again even learners whose files did not change")
    grade.add_argument(
        "--kata", action="append", metavar="ID", help="grade only this kata (k01 or k01_derivatives); repeatable"
    )
    grade.add_argument("-k", dest="select", metavar="EXPR", help="grade only tests matching EXPR (as pytest -k)")
    grade.add_argument("--hidden-tests", metavar="DIR", help="the instructor's hidden test files (test_kNN_*.py)")
    grade.add_argument("--kata-time-limit", type=float, metavar="SECONDS", help="time per kata and learner")
    grade.add_argument("--memory-limit", type=int, metavar="MB", help="memory per kata process")
    grade.add_argument(
        "--isolation",
        choices=("auto", "bwrap", "fallback"),
        default="auto",
        help="bwrap: bubblewrap namespaces per learner; fallback: Landlock + rlimits; auto: bwrap when it works",
    )
    cluster = grade.add_mutually_exclusive_group()
    cluster.add_argument("--scheduler", metavar="ADDRESS", help="grade on this Dask cluster (tcp://HOST:8786)")
    cluster.add_argument("--dask-local", type=int, metavar="N", help="grade on a Dask cluster of N local workers")
    grade.add_argument("--no-progress", action="store_true", help="a line per learner instead of a progress bar")
    grade.set_defaults(func=cmd_grade)
    export = sub.add_parser("export", help="write the learner bundle (no solutions/, no self-checks) and check it")
    export.add_argument("dir", metavar="DIR", help="a new or empty folder")
    export.add_argument("--no-check", action="store_true", help="skip running the bundle's tests")
    export.set_defaults(func=cmd_export)
