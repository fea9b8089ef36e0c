"""The ``katas`` command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from .catalog import ProjectNotFound, find_root, load_catalog
from .generate import drift, generated


def cmd_generate(root: Path, args: argparse.Namespace) -> int:
    """Write katas/ from solutions/ (maintainers); --check only reports drift."""
    ids = [k.id for k in load_catalog(root)]
    katas_dir = root / "katas"
    stale = drift(root / "solutions", katas_dir, ids)
    if args.check:
        for name in stale:
            print(f"katas/{name} differs from what `katas generate` makes from solutions/{name}")
        return 1 if stale else 0
    stubs = generated(root / "solutions", ids)
    katas_dir.mkdir(exist_ok=True)
    for name in stale:
        path = katas_dir / name
        if path.exists() and not args.force:
            print(f"katas/{name} has changes; not overwritten (use --force, or `katas reset`)")
            continue
        path.write_text(stubs[name], encoding="utf-8")
        print(f"wrote katas/{name}")
    return 0


def cmd_test(root: Path, args: argparse.Namespace) -> int:
    """Run the kata tests (pytest) against a target."""
    command = [sys.executable, "-m", "pytest", "--target", args.target, *args.pytest_args]
    return subprocess.call(command, cwd=root, env=os.environ.copy())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="katas", description="backprop-katas: learn backpropagation by making tests pass.")
    sub = parser.add_subparsers(dest="command")
    gen = sub.add_parser("generate", help="write the learner stubs in katas/ from solutions/ (maintainers)")
    gen.add_argument("--check", action="store_true", help="only report kata files that differ from the generator's output")
    gen.add_argument("--force", action="store_true", help="overwrite kata files that have changes")
    gen.set_defaults(func=cmd_generate)
    test = sub.add_parser("test", help="run the kata tests with pytest")
    test.add_argument("--target", default="katas", help="katas (default), solutions or a folder")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="more pytest arguments")
    test.set_defaults(func=cmd_test)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        args = build_parser().parse_args(["test", *(argv or [])])
    try:
        root = find_root()
    except ProjectNotFound as exc:
        print(exc, file=sys.stderr)
        return 2
    return int(args.func(root, args))


if __name__ == "__main__":
    sys.exit(main())
