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
        raise TargetNotFound(
            f"--target {spec!r}: {path} is not a folder. Use 'katas', 'solutions' or the "
            "path of a folder holding the kata files (k01_derivatives.py, ...).\n"
            f"--target {spec!r}: {path} 는 폴더가 아닙니다. 'katas', 'solutions' 또는 kata 파일"
            "(k01_derivatives.py, ...)이 든 폴더의 경로를 쓰세요."
        )
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
        super().__init__(
            f"{path} does not exist: the target folder has no {path.name}.\n"
            f"{path} 가 없습니다: 대상 폴더에 {path.name} 파일이 없습니다."
        )
        self.path = path
