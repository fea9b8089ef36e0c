"""Load a target folder (katas/, solutions/ or a learner's submission) as a package.

Any folder holding the kata file names loads as a package of its own, under
a private name, so katas can import each other relatively
(``from .k05_backprop import manual_gradients``) and two targets never
share modules.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from backprop_katas.files import digest
from backprop_katas.lang import say

NAMED_TARGETS = ("katas", "solutions")


class TargetNotFound(Exception):
    """The --target folder does not exist."""


def resolve_target(spec: str, root: Path) -> tuple[str, Path]:
    """Turn ``katas``, ``solutions`` or a path into (label, absolute folder)."""
    if spec in NAMED_TARGETS:
        path = root / spec
    else:
        path = Path(spec).expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
    path = path.resolve()
    if not path.is_dir():
        raise TargetNotFound(say("target_not_folder", spec=repr(spec), path=str(path)))
    return (spec if spec in NAMED_TARGETS else str(path)), path


@dataclass
class Target:
    """One folder of kata files, imported lazily as a private package."""

    label: str
    path: Path
    package: str = field(init=False)

    def __post_init__(self) -> None:
        name = digest(os.fsencode(self.path))[:12]  # any bytes: names are data
        self.package = f"_katas_target_{name}"

    def file(self, kata_id: str) -> Path:
        return self.path / f"{kata_id}.py"

    def _ensure_package(self) -> None:
        if self.package in sys.modules:
            return
        spec = importlib.util.spec_from_loader(self.package, loader=None, is_package=True)
        assert spec is not None and spec.submodule_search_locations is not None
        spec.submodule_search_locations.append(str(self.path))
        module = importlib.util.module_from_spec(spec)
        sys.modules[self.package] = module

    def module(self, kata_id: str) -> ModuleType:
        """Import ``kata_id`` from the folder; errors (syntax, import) propagate as they are."""
        if not self.file(kata_id).is_file():
            raise KataFileMissing(self.file(kata_id))
        self._ensure_package()
        return importlib.import_module(f"{self.package}.{kata_id}")


class KataFileMissing(FileNotFoundError):
    def __init__(self, path: Path) -> None:
        super().__init__(say("target_file_missing", path=str(path), name=path.name))
        self.path = path
