"""Build hook: the wheel carries what a notebook's working folder needs to become a kata
project (katas.toml, the kata tests, the stubs; never solutions/), as backprop_katas/_project.
Everything else about the build is in pyproject.toml."""

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithProject(build_py):
    def run(self) -> None:
        super().run()
        sys.path.insert(0, str(HERE / "src"))
        try:
            from backprop_katas.generate import project_layout
        finally:
            sys.path.pop(0)
        dest = Path(self.build_lib) / "backprop_katas" / "_project"
        for relative, text in project_layout(HERE).items():
            path = dest / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


setup(cmdclass={"build_py": BuildPyWithProject})
