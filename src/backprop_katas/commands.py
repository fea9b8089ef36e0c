"""The ``katas`` command: the learner's commands (``tool``) and the instructor's (``grading``) in one parser.

This is the one module above both wings: each wing registers its own subcommands, and
neither imports the other. ``python -m backprop_katas`` runs it too.
"""

from __future__ import annotations

import sys

from backprop_katas.grading.cli import register as grading_commands
from backprop_katas.tool import cli as learner


def build_parser():  # type: ignore[no-untyped-def]
    return learner.build_parser(grading_commands)


def main(argv: list[str] | None = None) -> int:
    return learner.main(argv, more=(grading_commands,))


if __name__ == "__main__":
    sys.exit(main())
